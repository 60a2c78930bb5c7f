//! What the model reads and writes for wireframes. It writes a compact tree
//! (`type`, `label`, `items`, `rows`, …) under a JSON schema three levels
//! deep — regions, blocks, leaves — which [`into_screens`] turns into the
//! component tree with per-type props. A one-shot example in the prompt
//! shows a small model the shape it is filling.

use std::collections::HashSet;

use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::model::{Component, Kind, Layout, Screen};

#[derive(Debug, Deserialize)]
pub struct GenApp {
    pub screens: Vec<GenScreen>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct GenScreen {
    pub id: String,
    pub title: String,
    pub layout: Layout,
    pub components: Vec<GenNode>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct GenNode {
    #[serde(rename = "type")]
    pub kind: Kind,
    pub label: String,
    pub input_type: Option<String>,
    pub items: Option<Vec<String>>,
    pub rows: Option<Vec<Vec<String>>>,
    pub link_to: Option<String>,
    pub requirement_ids: Option<Vec<String>>,
    pub children: Option<Vec<GenNode>>,
}

pub const INPUT_TYPES: [&str; 5] = ["text", "email", "password", "number", "date"];
const LAYOUTS: [&str; 4] = ["stack", "centered", "sidebar-left", "sidebar-right"];

fn line(max: usize) -> Value {
    json!({"type": "string", "pattern": format!("^[^\"\\\\\\n\\t<>]{{1,{max}}}$")})
}

/// The kinds allowed at each level: regions at the top, then blocks
/// (containers other than regions, and leaves), then leaves. Without the
/// split a small model nests `main` in `main` until the item limit.
#[derive(Clone, Copy)]
enum Level {
    Region,
    Block,
    Leaf,
}

fn kinds(level: Level) -> Vec<&'static str> {
    let region = |k: &Kind| matches!(k, Kind::Header | Kind::Sidebar | Kind::Main | Kind::Footer);
    Kind::ALL
        .iter()
        .filter(|k| match level {
            Level::Region => region(k),
            Level::Block => !region(k),
            Level::Leaf => !k.is_container(),
        })
        .map(|k| k.as_str())
        .collect()
}

/// A node's schema; `children` is the `$ref` of the level below, if any.
fn node(level: Level, children: Option<&str>, requirement_ids: &[String]) -> Value {
    let mut properties = json!({
        "type": {"enum": kinds(level)},
        "label": line(40),
        "input_type": {"enum": INPUT_TYPES},
        "items": {"type": "array", "items": line(30), "minItems": 1, "maxItems": 6},
        "rows": {"type": "array", "items": {"type": "array", "items": line(30), "minItems": 1, "maxItems": 6}, "minItems": 1, "maxItems": 3},
        "link_to": {"type": "string", "pattern": "^[a-z][a-z0-9-]{1,30}$"},
    });
    if !requirement_ids.is_empty() {
        properties["requirement_ids"] = json!({"type": "array", "items": {"enum": requirement_ids}, "minItems": 1, "maxItems": 3});
    }
    if let Some(r) = children {
        properties["children"] =
            json!({"type": "array", "items": {"$ref": r}, "minItems": 1, "maxItems": 6});
    }
    json!({"type": "object", "properties": properties, "required": ["type", "label"], "additionalProperties": false})
}

/// Definitions shared by the tree and change schemas.
fn defs(requirement_ids: &[String]) -> Value {
    json!({
        "leaf": node(Level::Leaf, None, requirement_ids),
        "block": node(Level::Block, Some("#/$defs/leaf"), requirement_ids),
        "region": node(Level::Region, Some("#/$defs/block"), requirement_ids),
        "screen": {
            "type": "object",
            "properties": {
                "id": {"type": "string", "pattern": "^[a-z][a-z0-9-]{1,30}$"},
                "title": line(60),
                "layout": {"enum": LAYOUTS},
                "components": {"type": "array", "items": {"$ref": "#/$defs/region"}, "minItems": 1, "maxItems": 4}
            },
            "required": ["id", "title", "layout", "components"],
            "additionalProperties": false
        }
    })
}

/// The schema of a generated wireframe: one to `max_screens` screens.
pub fn tree_schema(max_screens: usize, requirement_ids: &[String]) -> Value {
    json!({
        "$defs": defs(requirement_ids),
        "type": "object",
        "properties": {
            "screens": {"type": "array", "items": {"$ref": "#/$defs/screen"}, "minItems": 1, "maxItems": max_screens.max(1)}
        },
        "required": ["screens"],
        "additionalProperties": false
    })
}

const EXAMPLE: &str = r#"{"screens": [{"id": "contact", "title": "Contact us", "layout": "centered", "components": [{"type": "header", "label": "Acme", "children": [{"type": "navigation", "label": "Menu", "items": ["Home", "Help"]}]}, {"type": "main", "label": "Contact", "children": [{"type": "heading", "label": "Contact us"}, {"type": "form", "label": "Message", "children": [{"type": "input", "label": "Email", "input_type": "email"}, {"type": "textarea", "label": "Message"}, {"type": "button", "label": "Send", "link_to": "thanks"}]}]}]}, {"id": "thanks", "title": "Thank you", "layout": "centered", "components": [{"type": "main", "label": "Done", "children": [{"type": "alert", "label": "Your message was sent"}]}]}]}"#;

const ROLE: &str = "You are BA Copilot, a business analyst sketching low-fidelity wireframes. \
You describe screens as a JSON tree of components; you never write HTML.";

/// System and user prompts for a new wireframe.
pub fn tree_messages(description: &str, requirements: &[(String, String)]) -> (String, String) {
    let mut system = format!(
        "{ROLE} Each screen has regions (header, sidebar, main, footer) holding components. \
         Component types: search is a search box, input a text, email, password, number or date field, \
         select a drop-down, table rows of records, list a list of items, card a box of related components. \
         Use a form with inputs and a button for data entry, a table for lists of records, \
         and link_to to name the screen a button or link leads to.\n\nExample for \"a contact form\":\n{EXAMPLE}"
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

/// Turns the model's tree into screens: props by type, unique screen ids,
/// links only to screens that exist.
pub fn into_screens(app: GenApp) -> Vec<Screen> {
    let mut seen = HashSet::new();
    let mut screens: Vec<Screen> = app
        .screens
        .into_iter()
        .map(|s| {
            let mut id = s.id.clone();
            let mut n = 2;
            while !seen.insert(id.clone()) {
                id = format!("{}-{n}", s.id);
                n += 1;
            }
            Screen {
                id,
                title: s.title.trim().to_string(),
                layout: s.layout,
                components: s.components.into_iter().map(|c| component(c, 0)).collect(),
            }
        })
        .collect();
    let ids: HashSet<String> = screens.iter().map(|s| s.id.clone()).collect();
    for s in &mut screens {
        for c in &mut s.components {
            drop_dangling_links(c, &ids);
        }
    }
    screens
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

/// One generated node as a component; `depth` 0 is a region.
pub fn component(n: GenNode, depth: usize) -> Component {
    let mut props = Map::new();
    let items = n.items.unwrap_or_default();
    match n.kind {
        Kind::Select | Kind::Radio => {
            props.insert("options".into(), strings(items));
        }
        Kind::Table => {
            let rows = n.rows.unwrap_or_default();
            props.insert("columns".into(), strings(items));
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
    let children: Vec<Component> = n
        .children
        .unwrap_or_default()
        .into_iter()
        .filter(|_| n.kind.is_container())
        .map(|c| component(c, depth + 1))
        .collect();
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

    #[test]
    fn the_tree_schema_compiles_and_the_example_is_an_instance_of_it() {
        let c = Constrainer::bytes();
        for ids in [vec![], vec!["FR-001".to_string()]] {
            c.compile(&ConstraintSpec::JsonSchema(tree_schema(3, &ids)))
                .unwrap();
        }
        let app: GenApp = serde_json::from_str(EXAMPLE).unwrap();
        let screens = into_screens(app);
        assert_eq!(screens.len(), 2);
        let form = screens[0]
            .all_components()
            .into_iter()
            .find(|c| c.kind == Kind::Form)
            .unwrap();
        assert_eq!(form.children.len(), 3);
        assert_eq!(form.children[0].prop_str("input_type"), Some("email"));
        assert_eq!(form.children[2].link_to.as_deref(), Some("thanks"));
    }

    #[test]
    fn duplicate_screen_ids_are_renamed_and_dangling_links_dropped() {
        let node = |link: &str| GenNode {
            kind: Kind::Button,
            label: "Go".into(),
            input_type: None,
            items: None,
            rows: None,
            link_to: Some(link.into()),
            requirement_ids: None,
            children: None,
        };
        let screen = |id: &str, link: &str| GenScreen {
            id: id.into(),
            title: "T".into(),
            layout: Layout::Stack,
            components: vec![node(link)],
        };
        let screens = into_screens(GenApp {
            screens: vec![screen("home", "home-2"), screen("home", "nowhere")],
        });
        assert_eq!(screens[1].id, "home-2");
        assert_eq!(screens[0].components[0].link_to.as_deref(), Some("home-2"));
        assert_eq!(screens[1].components[0].link_to, None);
    }

    #[test]
    fn tables_get_columns_and_rows_and_selects_get_options() {
        let mut n: GenNode = serde_json::from_value(json!({"type": "table", "label": "Claims", "items": ["Date", "Amount"], "rows": [["1 May", "40"]]})).unwrap();
        let c = component(n.clone(), 2);
        assert_eq!(c.prop_strings("columns"), ["Date", "Amount"]);
        assert_eq!(c.props["rows"], json!([["1 May", "40"]]));
        n.kind = Kind::Select;
        assert_eq!(component(n, 2).prop_strings("options"), ["Date", "Amount"]);
    }
}
