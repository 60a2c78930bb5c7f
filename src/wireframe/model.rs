//! The wireframe tree: an app of screens, each a layout of components. The
//! model writes this tree (never HTML); the renderers turn it into HTML and SVG.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// One wireframe at one version (`GET /api/v1/wireframes/{wid}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Wireframe {
    pub id: String,
    pub project_id: String,
    pub title: String,
    pub version: i64,
    pub screens: Vec<Screen>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Screen {
    /// Short slug, unique in the wireframe (`login`, `claim-list`); the
    /// target of components' `link_to`.
    pub id: String,
    pub title: String,
    pub layout: Layout,
    pub components: Vec<Component>,
}

/// How a screen's top-level components are arranged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Layout {
    /// One column, top to bottom.
    Stack,
    /// A narrow centred column (sign-in, dialogs).
    Centered,
    /// `sidebar` components on the left, the rest beside them.
    SidebarLeft,
    /// `sidebar` components on the right.
    SidebarRight,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Component {
    #[serde(rename = "type")]
    pub kind: Kind,
    #[serde(default)]
    pub label: String,
    /// Per type: `items` (navigation, breadcrumbs, list, tabs: strings),
    /// `options` (select, radio: strings), `input_type` (input: text, email,
    /// password, number, date, time), `columns` and `rows` (table: strings and rows
    /// of strings), `sortable_by` (table: column names), `columns` (grid:
    /// 1–6), `level` (heading: 1–3; alert: info, warning, error),
    /// `placeholder`, `required` (bool), `variant` (button: primary, secondary).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub props: Map<String, Value>,
    #[serde(default)]
    #[schema(no_recursion)]
    pub children: Vec<Component>,
    /// SRS requirements this component satisfies (`FR-001`).
    #[serde(default)]
    pub requirement_ids: Vec<String>,
    /// Id of the screen this component leads to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_to: Option<String>,
}

/// Every kind of component. Containers hold `children`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    // Regions and containers.
    Header,
    Sidebar,
    Main,
    Footer,
    Grid,
    Card,
    Form,
    Tabs,
    Modal,
    // Leaves.
    Navigation,
    Heading,
    Text,
    Input,
    Select,
    Checkbox,
    Radio,
    Textarea,
    Button,
    Table,
    List,
    Image,
    Chart,
    Search,
    Pagination,
    Breadcrumbs,
    Alert,
}

impl Kind {
    pub const ALL: [Kind; 26] = [
        Kind::Header,
        Kind::Sidebar,
        Kind::Main,
        Kind::Footer,
        Kind::Grid,
        Kind::Card,
        Kind::Form,
        Kind::Tabs,
        Kind::Modal,
        Kind::Navigation,
        Kind::Heading,
        Kind::Text,
        Kind::Input,
        Kind::Select,
        Kind::Checkbox,
        Kind::Radio,
        Kind::Textarea,
        Kind::Button,
        Kind::Table,
        Kind::List,
        Kind::Image,
        Kind::Chart,
        Kind::Search,
        Kind::Pagination,
        Kind::Breadcrumbs,
        Kind::Alert,
    ];

    /// Whether the kind holds `children`.
    pub fn is_container(self) -> bool {
        matches!(
            self,
            Kind::Header
                | Kind::Sidebar
                | Kind::Main
                | Kind::Footer
                | Kind::Grid
                | Kind::Card
                | Kind::Form
                | Kind::Tabs
                | Kind::Modal
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Header => "header",
            Kind::Sidebar => "sidebar",
            Kind::Main => "main",
            Kind::Footer => "footer",
            Kind::Grid => "grid",
            Kind::Card => "card",
            Kind::Form => "form",
            Kind::Tabs => "tabs",
            Kind::Modal => "modal",
            Kind::Navigation => "navigation",
            Kind::Heading => "heading",
            Kind::Text => "text",
            Kind::Input => "input",
            Kind::Select => "select",
            Kind::Checkbox => "checkbox",
            Kind::Radio => "radio",
            Kind::Textarea => "textarea",
            Kind::Button => "button",
            Kind::Table => "table",
            Kind::List => "list",
            Kind::Image => "image",
            Kind::Chart => "chart",
            Kind::Search => "search",
            Kind::Pagination => "pagination",
            Kind::Breadcrumbs => "breadcrumbs",
            Kind::Alert => "alert",
        }
    }
}

impl Component {
    /// A string prop, if present and a string.
    pub fn prop_str(&self, name: &str) -> Option<&str> {
        self.props.get(name).and_then(Value::as_str)
    }

    /// A list-of-strings prop (non-strings are skipped).
    pub fn prop_strings(&self, name: &str) -> Vec<&str> {
        self.props
            .get(name)
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    }

    /// Every component of this subtree, depth first, this one included.
    pub fn walk(&self) -> Vec<&Component> {
        let mut out = vec![self];
        for c in &self.children {
            out.extend(c.walk());
        }
        out
    }
}

impl Screen {
    /// Every component of the screen, depth first.
    pub fn all_components(&self) -> Vec<&Component> {
        self.components.iter().flat_map(Component::walk).collect()
    }
}
