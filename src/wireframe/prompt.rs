//! What the model reads and writes for wireframes. It does not write the
//! component tree itself: it fills a screen form — a purpose, a header, an
//! optional sidebar menu, the main content, a footer — whose blocks each
//! have a schema of their own (a form has fields and buttons, a table
//! columns and rows). The purpose picks the block the main content starts
//! with, so "a login screen" becomes a form with fields and a button rather
//! than whatever a small model drifts into. [`into_screens`] turns the
//! filled form into the component tree with per-type props.

use std::collections::HashSet;

use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::model::{Component, Kind, Layout, Screen};

#[derive(Debug, Deserialize)]
pub struct GenApp {
    pub screens: Vec<GenScreen>,
}

/// What a screen is for; each purpose starts the main content with its
/// [`Purpose::lead`] block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    Form,
    Table,
    List,
    Dashboard,
    Detail,
    Search,
    Message,
}

impl Purpose {
    pub const ALL: [Purpose; 7] = [
        Purpose::Form,
        Purpose::Table,
        Purpose::List,
        Purpose::Dashboard,
        Purpose::Detail,
        Purpose::Search,
        Purpose::Message,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Form => "form",
            Purpose::Table => "table",
            Purpose::List => "list",
            Purpose::Dashboard => "dashboard",
            Purpose::Detail => "detail",
            Purpose::Search => "search",
            Purpose::Message => "message",
        }
    }

    /// The block the main content starts with.
    pub fn lead(self) -> Kind {
        match self {
            Purpose::Form => Kind::Form,
            Purpose::Table => Kind::Table,
            Purpose::List => Kind::List,
            Purpose::Dashboard => Kind::Chart,
            Purpose::Detail => Kind::Card,
            Purpose::Search => Kind::Search,
            Purpose::Message => Kind::Alert,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct GenHeader {
    pub title: String,
    pub navigation: Option<Vec<String>>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct GenScreen {
    pub id: String,
    pub title: String,
    pub purpose: Purpose,
    pub layout: Layout,
    pub header: Option<GenHeader>,
    /// The sidebar's menu items.
    pub sidebar: Option<Vec<String>>,
    pub main: Vec<GenNode>,
    pub footer: Option<String>,
}

/// One block as the model writes it; which fields it has depends on its
/// type ([`block`]).
#[derive(Debug, Clone, Deserialize)]
pub struct GenNode {
    #[serde(rename = "type")]
    pub kind: Kind,
    pub label: String,
    pub input_type: Option<String>,
    pub items: Option<Vec<String>>,
    pub options: Option<Vec<String>>,
    pub columns: Option<Vec<String>>,
    pub rows: Option<Vec<Vec<String>>>,
    pub fields: Option<Vec<GenNode>>,
    pub buttons: Option<Vec<GenNode>>,
    pub children: Option<Vec<GenNode>>,
    pub link_to: Option<String>,
    pub requirement_ids: Option<Vec<String>>,
}

pub const INPUT_TYPES: [&str; 5] = ["text", "email", "password", "number", "date"];
const LAYOUTS: [&str; 4] = ["stack", "centered", "sidebar-left", "sidebar-right"];

pub fn line(max: usize) -> Value {
    json!({"type": "string", "pattern": format!("^[^\"\\\\\\n\\t<>]{{1,{max}}}$")})
}

fn lines(min: usize, max: usize) -> Value {
    json!({"type": "array", "items": line(30), "minItems": min, "maxItems": max})
}

fn screen_id() -> Value {
    json!({"type": "string", "pattern": "^[a-z][a-z0-9-]{1,30}$"})
}

/// The `$ref` of a kind's block schema.
fn block_ref(kind: Kind) -> Value {
    json!({"$ref": format!("#/$defs/{}", kind.as_str())})
}

/// One of the kinds given, as `$ref`s to their block schemas.
pub fn any_of(kinds: &[Kind]) -> Value {
    json!({"anyOf": kinds.iter().map(|k| block_ref(*k)).collect::<Vec<_>>()})
}

/// Form fields.
pub const FIELDS: [Kind; 5] = [
    Kind::Input,
    Kind::Select,
    Kind::Checkbox,
    Kind::Radio,
    Kind::Textarea,
];

fn is_region(k: Kind) -> bool {
    matches!(k, Kind::Header | Kind::Sidebar | Kind::Main | Kind::Footer)
}

/// What a card, grid cell or modal holds: any leaf but a menu.
fn leaves() -> Vec<Kind> {
    Kind::ALL
        .into_iter()
        .filter(|k| !k.is_container() && *k != Kind::Navigation)
        .collect()
}

/// What the main content is made of: fields belong in forms, menus in the
/// header or sidebar, and a modal is not sketched on its own.
fn blocks() -> Vec<Kind> {
    Kind::ALL
        .into_iter()
        .filter(|k| !is_region(*k) && !FIELDS.contains(k))
        .filter(|k| !matches!(k, Kind::Navigation | Kind::Modal))
        .collect()
}

/// Every kind but the regions: what a change request may add.
pub fn addable() -> Vec<Kind> {
    Kind::ALL.into_iter().filter(|k| !is_region(*k)).collect()
}

/// Where `phrase` stands in `text` as whole words (a plural `s` after it
/// counts: "lists", not "listing"), as byte offsets.
pub fn find_words(text: &str, phrase: &str) -> Vec<usize> {
    text.match_indices(phrase)
        .map(|(i, _)| i)
        .filter(|&i| {
            let before = text[..i].chars().next_back();
            let rest = &text[i + phrase.len()..];
            let after = rest.strip_prefix('s').unwrap_or(rest).chars().next();
            !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
        })
        .collect()
}

/// The schema of one kind of block: `type` and `label`, then what that kind
/// needs.
fn block(kind: Kind, requirement_ids: &[String]) -> Value {
    let mut properties = Map::new();
    properties.insert("type".into(), json!({"const": kind.as_str()}));
    properties.insert("label".into(), line(40));
    let mut required = vec!["type", "label"];
    let mut need = |name: &'static str, schema: Value| {
        properties.insert(name.into(), schema);
        required.push(name);
    };
    match kind {
        Kind::Form => {
            need(
                "fields",
                json!({"type": "array", "items": any_of(&FIELDS), "minItems": 1, "maxItems": 8}),
            );
            need(
                "buttons",
                json!({"type": "array", "items": block_ref(Kind::Button), "minItems": 1, "maxItems": 3}),
            );
        }
        Kind::Table => {
            need("columns", lines(2, 6));
            need(
                "rows",
                json!({"type": "array", "items": lines(1, 6), "minItems": 1, "maxItems": 3}),
            );
        }
        Kind::Navigation | Kind::Breadcrumbs | Kind::List | Kind::Tabs => {
            need("items", lines(1, 6))
        }
        Kind::Select | Kind::Radio => need("options", lines(2, 6)),
        Kind::Input => need("input_type", json!({"enum": INPUT_TYPES})),
        Kind::Card | Kind::Grid | Kind::Modal => need(
            "children",
            json!({"type": "array", "items": any_of(&leaves()), "minItems": 1, "maxItems": 6}),
        ),
        _ => {}
    }
    if !requirement_ids.is_empty() {
        properties.insert(
            "requirement_ids".into(),
            json!({"type": "array", "items": {"enum": requirement_ids}, "minItems": 1, "maxItems": 3}),
        );
    }
    if matches!(kind, Kind::Button | Kind::Card | Kind::List | Kind::Table) {
        properties.insert("link_to".into(), screen_id());
    }
    json!({"type": "object", "properties": properties, "required": required, "additionalProperties": false})
}

/// One schema per purpose: the same screen form, with the main content
/// starting with the purpose's lead block.
fn screen(purpose: Purpose) -> Value {
    json!({
        "type": "object",
        "properties": {
            "id": screen_id(),
            "title": line(60),
            "purpose": {"const": purpose.as_str()},
            "layout": {"enum": LAYOUTS},
            "header": {"$ref": "#/$defs/header"},
            "sidebar": lines(1, 8),
            "main": {
                "type": "array",
                "prefixItems": [block_ref(purpose.lead())],
                "items": any_of(&blocks()),
                "minItems": 1,
                "maxItems": 5
            },
            "footer": line(60)
        },
        "required": ["id", "title", "purpose", "layout", "header", "main"],
        "additionalProperties": false
    })
}

/// Definitions shared by the tree and change schemas: one per block kind,
/// the header, and `screen`.
fn defs(requirement_ids: &[String]) -> Value {
    let mut defs = Map::new();
    for kind in addable() {
        defs.insert(kind.as_str().into(), block(kind, requirement_ids));
    }
    defs.insert(
        "header".into(),
        json!({"type": "object", "properties": {"title": line(40), "navigation": lines(1, 6)}, "required": ["title"], "additionalProperties": false}),
    );
    defs.insert(
        "screen".into(),
        json!({"anyOf": Purpose::ALL.iter().map(|p| screen(*p)).collect::<Vec<_>>()}),
    );
    Value::Object(defs)
}

/// The schema of a generated wireframe: one to `max_screens` screens, the
/// first of them for `first` if given.
pub fn tree_schema(
    max_screens: usize,
    requirement_ids: &[String],
    first: Option<Purpose>,
) -> Value {
    let mut screens = json!({"type": "array", "items": {"$ref": "#/$defs/screen"}, "minItems": 1, "maxItems": max_screens.max(1)});
    if let Some(p) = first {
        screens["prefixItems"] = json!([screen(p)]);
    }
    json!({
        "$defs": defs(requirement_ids),
        "type": "object",
        "properties": {"screens": screens},
        "required": ["screens"],
        "additionalProperties": false
    })
}

/// Words that say what the first screen described is for.
const CUES: [(&str, Purpose); 16] = [
    ("login", Purpose::Form),
    ("log in", Purpose::Form),
    ("sign in", Purpose::Form),
    ("sign-in", Purpose::Form),
    ("sign up", Purpose::Form),
    ("sign-up", Purpose::Form),
    ("register", Purpose::Form),
    ("registration", Purpose::Form),
    ("form", Purpose::Form),
    ("field", Purpose::Form),
    ("dashboard", Purpose::Dashboard),
    ("table", Purpose::Table),
    ("search results", Purpose::Search),
    ("list of", Purpose::List),
    ("confirmation", Purpose::Message),
    ("profile", Purpose::Detail),
];

/// The purpose of the first screen, from the earliest cue in the
/// description's own words (whole words; plurals count); `None` leaves the
/// model free.
pub fn first_purpose(description: &str) -> Option<Purpose> {
    let text = description.to_lowercase();
    CUES.iter()
        .filter_map(|(cue, purpose)| Some((*find_words(&text, cue).first()?, *purpose)))
        .min_by_key(|(i, _)| *i)
        .map(|(_, p)| p)
}

const EXAMPLE: &str = r#"{"screens": [{"id": "new-claim", "title": "New expense claim", "purpose": "form", "layout": "centered", "header": {"title": "Expenses", "navigation": ["Claims", "Help"]}, "main": [{"type": "form", "label": "Claim", "fields": [{"type": "input", "label": "Date", "input_type": "date"}, {"type": "input", "label": "Amount", "input_type": "number"}, {"type": "select", "label": "Category", "options": ["Travel", "Meals"]}], "buttons": [{"type": "button", "label": "Submit", "link_to": "submitted"}]}]}, {"id": "submitted", "title": "Claim submitted", "purpose": "message", "layout": "centered", "header": {"title": "Expenses"}, "main": [{"type": "alert", "label": "Your claim was submitted"}]}]}"#;

const ROLE: &str = "You are BA Copilot, a business analyst sketching low-fidelity wireframes. \
You describe screens as JSON; you never write HTML.";

/// System and user prompts for a new wireframe.
pub fn tree_messages(description: &str, requirements: &[(String, String)]) -> (String, String) {
    let mut system = format!(
        "{ROLE} Each screen has a purpose, a header, an optional sidebar menu, the main content and an optional footer. \
         Purposes: form (sign-in, sign-up, data entry: main starts with a form of fields and buttons), \
         table (records: starts with a table), list (starts with a list), dashboard (starts with a chart), \
         detail (one record: starts with a card), search (starts with a search box), \
         message (a confirmation or error: starts with an alert). \
         Field types: input (text, email, password, number or date), select, checkbox, radio, textarea. \
         link_to names the screen a button leads to.\n\nExample for \"a form to submit an expense claim\":\n{EXAMPLE}"
    );
    if !requirements.is_empty() {
        system
            .push_str("\n\nRequirements the screens must satisfy (tag components with their ids):");
        for (id, statement) in requirements {
            system.push_str(&format!("\n{id}: {statement}"));
        }
    }
    let user = format!("Sketch the screens for: {}", description.trim());
    (system, user)
}

/// `id`, or `id-2`, `id-3`… if taken; records the one returned.
fn unique(taken: &mut HashSet<String>, id: &str) -> String {
    let mut out = id.to_string();
    let mut n = 2;
    while !taken.insert(out.clone()) {
        out = format!("{id}-{n}");
        n += 1;
    }
    out
}

/// Turns the model's screens into the tree: regions from the screen form,
/// props by type, screen ids unique beside `existing`, links only to screens
/// that exist (in `existing` or among the new ones).
pub fn into_screens(app: GenApp, existing: &[Screen]) -> Vec<Screen> {
    let mut taken: HashSet<String> = existing.iter().map(|s| s.id.clone()).collect();
    let mut screens: Vec<Screen> = app
        .screens
        .into_iter()
        .map(|s| {
            let id = unique(&mut taken, &s.id);
            screen_from(s, id)
        })
        .collect();
    for s in &mut screens {
        for c in &mut s.components {
            drop_dangling_links(c, &taken);
        }
    }
    screens
}

fn region(kind: Kind, label: &str, children: Vec<Component>) -> Component {
    Component {
        kind,
        label: label.trim().to_string(),
        props: Map::new(),
        children,
        requirement_ids: Vec::new(),
        link_to: None,
    }
}

fn menu(items: Vec<String>) -> Component {
    let mut props = Map::new();
    props.insert("items".into(), strings(items));
    Component {
        props,
        ..region(Kind::Navigation, "Menu", Vec::new())
    }
}

fn screen_from(s: GenScreen, id: String) -> Screen {
    let mut components = Vec::new();
    if let Some(h) = s.header {
        let nav = h.navigation.filter(|n| !n.is_empty()).map(menu);
        components.push(region(Kind::Header, &h.title, nav.into_iter().collect()));
    }
    let sidebar = s.sidebar.filter(|items| !items.is_empty());
    let layout = match (s.layout, sidebar.is_some()) {
        (Layout::SidebarLeft | Layout::SidebarRight, true) => s.layout,
        (_, true) => Layout::SidebarLeft,
        (Layout::SidebarLeft | Layout::SidebarRight, false) => Layout::Stack,
        (l, false) => l,
    };
    if let Some(items) = sidebar {
        components.push(region(Kind::Sidebar, "Menu", vec![menu(items)]));
    }
    let main = distinct(s.main.into_iter().map(|n| component(n, 1)).collect());
    components.push(region(Kind::Main, &s.title, main));
    if let Some(f) = s.footer {
        components.push(region(Kind::Footer, &f, Vec::new()));
    }
    Screen {
        id,
        title: s.title.trim().to_string(),
        layout,
        components,
    }
}

/// `list` without the leaves that repeat an earlier sibling's type and
/// label: a small model decoding greedily can loop ("Sign in", "Sign in",
/// …), and no screen means the same field twice.
fn distinct(list: Vec<Component>) -> Vec<Component> {
    let mut out: Vec<Component> = Vec::with_capacity(list.len());
    for c in list {
        let repeat = !c.kind.is_container()
            && out
                .iter()
                .any(|d| d.kind == c.kind && d.label.eq_ignore_ascii_case(&c.label));
        if !repeat {
            out.push(c);
        }
    }
    out
}

fn drop_dangling_links(c: &mut Component, ids: &HashSet<String>) {
    if c.link_to.as_ref().is_some_and(|l| !ids.contains(l)) {
        c.link_to = None;
    }
    for child in &mut c.children {
        drop_dangling_links(child, ids);
    }
}

fn strings(v: Vec<String>) -> Value {
    Value::from(
        v.into_iter()
            .map(|s| s.trim().to_string())
            .collect::<Vec<_>>(),
    )
}

/// One generated block as a component; `depth` 0 is a region.
pub fn component(n: GenNode, depth: usize) -> Component {
    let mut props = Map::new();
    let items = n.items.unwrap_or_default();
    match n.kind {
        Kind::Select | Kind::Radio => {
            props.insert("options".into(), strings(n.options.unwrap_or(items)));
        }
        Kind::Table => {
            let rows = n.rows.unwrap_or_default();
            props.insert("columns".into(), strings(n.columns.unwrap_or(items)));
            props.insert(
                "rows".into(),
                Value::from(rows.into_iter().map(strings).collect::<Vec<_>>()),
            );
        }
        Kind::Input => {
            let t = n.input_type.filter(|t| INPUT_TYPES.contains(&t.as_str()));
            props.insert(
                "input_type".into(),
                Value::from(t.unwrap_or_else(|| "text".into())),
            );
        }
        Kind::Heading => {
            props.insert("level".into(), Value::from(if depth <= 1 { 1 } else { 2 }));
        }
        _ if !items.is_empty() => {
            props.insert("items".into(), strings(items));
        }
        _ => {}
    }
    let children: Vec<Component> = distinct(
        [n.fields, n.children, n.buttons]
            .into_iter()
            .flatten()
            .flatten()
            .filter(|_| n.kind.is_container())
            .map(|c| component(c, depth + 1))
            .collect(),
    );
    if n.kind == Kind::Grid {
        props.insert("columns".into(), Value::from(children.len().clamp(1, 6)));
    }
    Component {
        kind: n.kind,
        label: n.label.trim().to_string(),
        props,
        children,
        requirement_ids: n.requirement_ids.unwrap_or_default(),
        link_to: n.link_to,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inference::constraint::{Constrainer, ConstraintSpec};

    fn screens(v: Value) -> Vec<Screen> {
        into_screens(serde_json::from_value(v).unwrap(), &[])
    }

    #[test]
    fn the_tree_schema_compiles_and_the_example_is_an_instance_of_it() {
        let c = Constrainer::bytes();
        for ids in [vec![], vec!["FR-001".to_string()]] {
            for first in [None, Some(Purpose::Form)] {
                c.compile(&ConstraintSpec::JsonSchema(tree_schema(3, &ids, first)))
                    .unwrap();
            }
        }
        let app: GenApp = serde_json::from_str(EXAMPLE).unwrap();
        let screens = into_screens(app, &[]);
        assert_eq!(screens.len(), 2);
        let kinds: Vec<Kind> = screens[0].components.iter().map(|c| c.kind).collect();
        assert_eq!(kinds, [Kind::Header, Kind::Main]);
        assert_eq!(
            screens[0].components[0].children[0].prop_strings("items"),
            ["Claims", "Help"]
        );
        let form = &screens[0].components[1].children[0];
        assert_eq!(form.kind, Kind::Form);
        assert_eq!(form.children.len(), 4, "three fields, then the button");
        assert_eq!(form.children[0].prop_str("input_type"), Some("date"));
        assert_eq!(
            form.children[2].prop_strings("options"),
            ["Travel", "Meals"]
        );
        assert_eq!(form.children[3].kind, Kind::Button);
        assert_eq!(form.children[3].link_to.as_deref(), Some("submitted"));
    }

    #[test]
    fn each_purpose_leads_its_main_content_with_its_block() {
        let schema = tree_schema(1, &[], None);
        let variants = schema["$defs"]["screen"]["anyOf"].as_array().unwrap();
        assert_eq!(variants.len(), Purpose::ALL.len());
        for (v, p) in variants.iter().zip(Purpose::ALL) {
            assert_eq!(v["properties"]["purpose"]["const"], p.as_str());
            let lead = &v["properties"]["main"]["prefixItems"][0]["$ref"];
            assert_eq!(lead, &format!("#/$defs/{}", p.lead().as_str()));
            assert!(schema["$defs"][p.lead().as_str()].is_object());
        }
        let main = blocks();
        assert_eq!(main.len(), 15);
        assert!(!main
            .iter()
            .any(|k| FIELDS.contains(k) || *k == Kind::Navigation));
        assert!(!leaves().iter().any(|k| k.is_container()));
        let form = &schema["$defs"]["form"];
        assert_eq!(
            form["required"],
            json!(["type", "label", "fields", "buttons"])
        );
        assert_eq!(form["properties"]["buttons"]["minItems"], 1);
    }

    #[test]
    fn the_descriptions_earliest_cue_picks_the_first_screens_purpose() {
        let cases = [
            ("A login screen with an email field", Some(Purpose::Form)),
            (
                "A dashboard with a header, and a table of recent claims",
                Some(Purpose::Dashboard),
            ),
            (
                "Tables of orders, then a sign-up form",
                Some(Purpose::Table),
            ),
            ("A blogging platform", None),
            ("The platform's logins", Some(Purpose::Form)),
            ("Formulas and tablets", None),
        ];
        for (description, purpose) in cases {
            assert_eq!(first_purpose(description), purpose, "{description}");
        }
        let s = tree_schema(2, &[], Some(Purpose::Form));
        assert_eq!(
            s["properties"]["screens"]["prefixItems"][0]["properties"]["purpose"]["const"],
            "form"
        );
    }

    #[test]
    fn duplicate_screen_ids_are_renamed_and_dangling_links_dropped() {
        let screen = |id: &str, link: &str| json!({"id": id, "title": "T", "purpose": "message", "layout": "stack", "main": [{"type": "button", "label": "Go", "link_to": link}]});
        let existing = screens(json!({"screens": [screen("old", "old")]}));
        let app = serde_json::from_value(json!({"screens": [screen("home", "home-2"), screen("home", "nowhere"), screen("old", "old")]})).unwrap();
        let s = into_screens(app, &existing);
        let ids: Vec<&str> = s.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["home", "home-2", "old-2"]);
        let link = |i: usize| s[i].components[0].children[0].link_to.clone();
        assert_eq!(link(0).as_deref(), Some("home-2"));
        assert_eq!(link(1), None);
        assert_eq!(
            link(2).as_deref(),
            Some("old"),
            "a link to an existing screen stays"
        );
    }

    #[test]
    fn repeated_leaves_are_dropped_but_distinct_ones_and_containers_kept() {
        let s = screens(
            json!({"screens": [{"id": "a", "title": "A", "purpose": "form", "layout": "stack", "main": [
                {"type": "form", "label": "Sign in", "fields": [
                    {"type": "input", "label": "Email", "input_type": "email"},
                    {"type": "textarea", "label": "Sign-in"}, {"type": "textarea", "label": "sign-in"},
                    {"type": "input", "label": "Password", "input_type": "password"}],
                 "buttons": [{"type": "button", "label": "Sign in"}, {"type": "button", "label": "Sign in"}]},
                {"type": "card", "label": "x", "children": [{"type": "text", "label": "t"}]},
                {"type": "card", "label": "x", "children": [{"type": "text", "label": "t"}]}
            ]}]}),
        );
        let main = &s[0].components[0];
        let labels: Vec<&str> = main.children[0]
            .children
            .iter()
            .map(|c| c.label.as_str())
            .collect();
        assert_eq!(labels, ["Email", "Sign-in", "Password", "Sign in"]);
        assert_eq!(main.children.len(), 3, "containers are kept");
    }

    #[test]
    fn the_layout_follows_whether_there_is_a_sidebar() {
        let s = screens(json!({"screens": [
            {"id": "a", "title": "A", "purpose": "list", "layout": "centered", "sidebar": ["Inbox", "Sent"], "main": [{"type": "list", "label": "Mail", "items": ["Hi"]}]},
            {"id": "b", "title": "B", "purpose": "list", "layout": "sidebar-right", "main": [{"type": "list", "label": "Mail", "items": ["Hi"]}], "footer": "(c) Acme"}
        ]}));
        assert_eq!(s[0].layout, Layout::SidebarLeft);
        assert_eq!(s[0].components[0].kind, Kind::Sidebar);
        assert_eq!(s[1].layout, Layout::Stack);
        assert_eq!(s[1].components.last().unwrap().kind, Kind::Footer);
    }

    #[test]
    fn tables_get_columns_and_rows_and_selects_get_options() {
        let n: GenNode = serde_json::from_value(json!({"type": "table", "label": "Claims", "columns": ["Date", "Amount"], "rows": [["1 May", "40"]]})).unwrap();
        let c = component(n, 2);
        assert_eq!(c.prop_strings("columns"), ["Date", "Amount"]);
        assert_eq!(c.props["rows"], json!([["1 May", "40"]]));
        let n: GenNode = serde_json::from_value(
            json!({"type": "select", "label": "Team", "options": ["Red", "Blue"]}),
        )
        .unwrap();
        assert_eq!(component(n, 2).prop_strings("options"), ["Red", "Blue"]);
    }
}
