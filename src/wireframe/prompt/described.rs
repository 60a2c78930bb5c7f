//! Screens built from the description's own words. The parts a description
//! names (fields, tables and their columns, buttons, links; read by
//! `bacopilot_content::screen`) are placed in the tree here, without the
//! model; the model fills only what the words leave open: a screen's layout
//! where its shape allows more than one, and which requirements the screen
//! satisfies. Its choices are enums, so it can add no word of its own.
//! (It was also offered a sentence of the description to show as a hint;
//! the small model picked sentences like "There is a link back to the
//! patient search.", so hints were dropped.)

use std::collections::HashSet;

use bacopilot_content::screen::{self as parts, FieldKind};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::convert::{menu, region, strings, unique};
use crate::wireframe::model::{Component, Kind, Layout, Screen};

/// What the model chooses for the described screens, in their order.
#[derive(Debug, Deserialize)]
pub struct Gaps {
    pub screens: Vec<Gap>,
}

#[derive(Debug, Deserialize)]
pub struct Gap {
    pub layout: Layout,
    pub requirement_ids: Option<Vec<String>>,
}

/// The layouts that suit a screen's shape, the default first: a short form
/// may be centred or stacked, a screen with a table is stacked, and one
/// with links may show them in a side menu.
fn layouts(s: &parts::Screen) -> Vec<Layout> {
    let mut out = vec![default_layout(s)];
    if out[0] == Layout::Centered {
        out.push(Layout::Stack);
    }
    if !s.links.is_empty() {
        out.push(Layout::SidebarLeft);
    }
    out
}

fn layout_name(l: Layout) -> &'static str {
    match l {
        Layout::Stack => "stack",
        Layout::Centered => "centered",
        Layout::SidebarLeft => "sidebar-left",
        Layout::SidebarRight => "sidebar-right",
    }
}

/// Whether the model has anything to choose for `screens`: a layout among
/// several, or requirements to tag.
pub fn has_gaps(screens: &[parts::Screen], requirement_ids: &[String]) -> bool {
    !requirement_ids.is_empty() || screens.iter().any(|s| layouts(s).len() > 1)
}

/// The schema of the gaps for `screens`: one choice object per screen.
pub fn gaps_schema(screens: &[parts::Screen], requirement_ids: &[String]) -> Value {
    let items: Vec<Value> = screens
        .iter()
        .map(|s| {
            let layouts: Vec<&str> = layouts(s).into_iter().map(layout_name).collect();
            let mut properties = Map::new();
            properties.insert("layout".into(), json!({"enum": layouts}));
            if !requirement_ids.is_empty() {
                properties.insert(
                    "requirement_ids".into(),
                    json!({"type": "array", "items": {"enum": requirement_ids}, "minItems": 1, "maxItems": 3}),
                );
            }
            json!({"type": "object", "properties": properties, "required": ["layout"], "additionalProperties": false})
        })
        .collect();
    json!({
        "type": "object",
        "properties": {"screens": {"type": "array", "prefixItems": items, "items": false,
            "minItems": screens.len(), "maxItems": screens.len()}},
        "required": ["screens"],
        "additionalProperties": false
    })
}

/// System and user prompts for the gaps.
pub fn gaps_messages(
    screens: &[parts::Screen],
    description: &str,
    requirements: &[(String, String)],
) -> (String, String) {
    let mut system = format!(
        "{} The screens' fields, tables, buttons and links are already taken from the description. \
         For each screen choose its layout (centered for a short form, stack for tables and long screens, \
         sidebar-left to show its links in a side menu) and the requirements it satisfies.",
        super::text::ROLE
    );
    if !requirements.is_empty() {
        system.push_str("\n\nRequirements:");
        for (id, statement) in requirements {
            system.push_str(&format!("\n{id}: {statement}"));
        }
    }
    let mut user = format!("Description: {}\n", description.trim());
    for (i, s) in screens.iter().enumerate() {
        user.push_str(&format!(
            "\nScreen {}: {}; {} field(s), {} table(s), {} button(s), {} link(s).",
            i + 1,
            s.title,
            s.fields.len(),
            s.tables.len(),
            s.actions.len(),
            s.links.len()
        ));
    }
    (system, user)
}

/// A layout for a screen the model was not asked about (or did not answer
/// for): a short form is centred, anything else stacked.
fn default_layout(s: &parts::Screen) -> Layout {
    if s.tables.is_empty() && s.fields.len() <= 4 && !s.fields.is_empty() {
        Layout::Centered
    } else {
        Layout::Stack
    }
}

fn leaf(kind: Kind, label: &str, props: Map<String, Value>) -> Component {
    Component {
        props,
        ..region(kind, label, Vec::new())
    }
}

fn field(f: &parts::Field) -> Component {
    let mut props = Map::new();
    let kind = match f.kind {
        FieldKind::Search => Kind::Search,
        FieldKind::Select => {
            props.insert("options".into(), json!([]));
            Kind::Select
        }
        FieldKind::Checkbox => Kind::Checkbox,
        FieldKind::Textarea => Kind::Textarea,
        k => {
            props.insert("input_type".into(), Value::from(k.as_str()));
            Kind::Input
        }
    };
    leaf(kind, &f.label, props)
}

fn table(t: &parts::Table) -> Component {
    let mut props = Map::new();
    if t.list && t.columns.is_empty() {
        props.insert("items".into(), json!([]));
        return leaf(Kind::List, &t.label, props);
    }
    props.insert("columns".into(), strings(t.columns.clone()));
    // No sample rows: their values would be words from nowhere. The
    // renderers draw blank rows.
    props.insert("rows".into(), json!([]));
    leaf(Kind::Table, &t.label, props)
}

fn button(label: &str, primary: bool) -> Component {
    let mut props = Map::new();
    if !primary {
        props.insert("variant".into(), Value::from("secondary"));
    }
    leaf(Kind::Button, label, props)
}

/// A screen id from its title: lower case words joined by `-`.
fn slug(title: &str) -> String {
    let s: String = title
        .to_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    let s: String = s.chars().take(30).collect();
    match s.chars().next() {
        Some(c) if c.is_ascii_lowercase() && s.len() >= 2 => s.trim_end_matches('-').to_string(),
        _ => format!("screen-{s}").trim_end_matches('-').to_string(),
    }
}

/// The described screens as the tree: header (title, links as its menu),
/// then in the main region the search boxes, a form of the
/// fields, the tables, and the buttons (in the form when it holds fields to
/// fill, after the tables when it only filters them).
pub fn described_screens(described: &[parts::Screen], gaps: Option<&Gaps>) -> Vec<Screen> {
    let mut taken = HashSet::new();
    let ids: Vec<String> = described
        .iter()
        .map(|s| unique(&mut taken, &slug(&s.title)))
        .collect();
    let target = |label: &str| -> Option<String> {
        described
            .iter()
            .zip(&ids)
            .find(|(s, _)| s.title.eq_ignore_ascii_case(label))
            .map(|(_, id)| id.clone())
    };
    described
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let gap = gaps.and_then(|g| g.screens.get(i));
            let layout = gap
                .map(|g| g.layout)
                .filter(|l| layouts(s).contains(l))
                .unwrap_or_else(|| default_layout(s));
            let sidebar = matches!(layout, Layout::SidebarLeft | Layout::SidebarRight);
            let mut components = Vec::new();
            let nav = (!s.links.is_empty()).then(|| {
                let mut m = menu(s.links.clone());
                if let [only] = s.links.as_slice() {
                    m.link_to = target(only);
                }
                m
            });
            let (header_nav, side_nav) = if sidebar { (None, nav) } else { (nav, None) };
            components.push(region(
                Kind::Header,
                &s.title,
                header_nav.into_iter().collect(),
            ));
            if let Some(m) = side_nav {
                components.push(region(Kind::Sidebar, "Menu", vec![m]));
            }
            let mut main = Vec::new();
            main.extend(
                s.fields
                    .iter()
                    .filter(|f| f.kind == FieldKind::Search)
                    .map(field),
            );
            let entries: Vec<Component> = s
                .fields
                .iter()
                .filter(|f| f.kind != FieldKind::Search)
                .map(field)
                .collect();
            // A form that only filters the table below it does not own the
            // screen's buttons.
            let fills = s
                .fields
                .iter()
                .any(|f| f.kind != FieldKind::Search && !f.label.starts_with("Filter By"));
            let buttons: Vec<Component> = s
                .actions
                .iter()
                .enumerate()
                .map(|(n, a)| {
                    let mut b = button(a, n == 0);
                    b.link_to = target(a);
                    b
                })
                .collect();
            let (form_buttons, after_buttons) = if fills {
                (buttons, Vec::new())
            } else {
                (Vec::new(), buttons)
            };
            if !entries.is_empty() {
                let mut children = entries;
                children.extend(form_buttons);
                // Unlabelled: the title already heads the screen, its header
                // and its main region.
                main.push(region(Kind::Form, "", children));
            }
            main.extend(s.tables.iter().map(table));
            main.extend(after_buttons);
            if let Some(ids) = gap.and_then(|g| g.requirement_ids.clone()) {
                if let Some(first) = main.first_mut() {
                    first.requirement_ids = ids;
                }
            }
            components.push(region(Kind::Main, &s.title, main));
            Screen {
                id: ids[i].clone(),
                title: s.title.clone(),
                layout,
                components,
            }
        })
        .collect()
}
