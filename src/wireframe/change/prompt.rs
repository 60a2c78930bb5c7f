//! What the model reads for a change request and the schema it decodes
//! under, narrowed to the kinds and operations the request's words name.

use serde_json::{json, Value};

use super::{targets, Place};
use crate::wireframe::model::{Kind, Screen};
use crate::wireframe::prompt;

/// Words for each kind of component, longest first within a kind; a
/// request's words pick the kinds it is about.
pub(super) const NOUNS: [(&str, Kind); 38] = [
    ("search box", Kind::Search),
    ("search bar", Kind::Search),
    ("search field", Kind::Search),
    ("search", Kind::Search),
    ("filter box", Kind::Search),
    ("drop-down", Kind::Select),
    ("dropdown", Kind::Select),
    ("select", Kind::Select),
    ("check box", Kind::Checkbox),
    ("checkbox", Kind::Checkbox),
    ("radio", Kind::Radio),
    ("text area", Kind::Textarea),
    ("textarea", Kind::Textarea),
    ("comment box", Kind::Textarea),
    ("text box", Kind::Input),
    ("field", Kind::Input),
    ("input", Kind::Input),
    ("button", Kind::Button),
    ("table", Kind::Table),
    ("chart", Kind::Chart),
    ("graph", Kind::Chart),
    ("image", Kind::Image),
    ("logo", Kind::Image),
    ("picture", Kind::Image),
    ("list", Kind::List),
    ("tabs", Kind::Tabs),
    ("pagination", Kind::Pagination),
    ("breadcrumb", Kind::Breadcrumbs),
    ("alert", Kind::Alert),
    ("banner", Kind::Alert),
    ("heading", Kind::Heading),
    ("form", Kind::Form),
    ("card", Kind::Card),
    ("menu", Kind::Navigation),
    ("navigation", Kind::Navigation),
    ("header", Kind::Header),
    ("sidebar", Kind::Sidebar),
    ("footer", Kind::Footer),
];

/// What a change request is about, read from its words: the kinds it
/// names and the operations its verbs ask for. Either is empty when the
/// request does not say, and then every choice stays open.
#[derive(Debug, Default, PartialEq)]
pub struct Intent {
    pub kinds: Vec<Kind>,
    pub ops: Vec<&'static str>,
    /// Asks for sorting: an update must then say `sortable_by`.
    pub sort: bool,
}

pub fn intent(request: &str) -> Intent {
    let mut text = request.to_lowercase();
    let mut kinds = Vec::new();
    for (noun, kind) in NOUNS {
        // A phrase found is blanked so "search field" is not also a field.
        let found = prompt::find_words(&text, noun);
        for &i in &found {
            text.replace_range(i..i + noun.len(), &" ".repeat(noun.len()));
        }
        if !found.is_empty() && !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    let words: Vec<&str> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let has = |list: &[&str]| words.iter().any(|w| list.contains(w));
    let mut ops = Vec::new();
    if has(&["add", "insert", "include", "put", "place"]) {
        ops.push(if has(&["screen", "page", "step"]) {
            "add_screen"
        } else {
            "add"
        });
    }
    if has(&["remove", "delete", "drop", "hide"]) {
        ops.push("remove");
    }
    let sort = has(&["sort", "sortable", "sorted"]);
    if sort
        || has(&[
            "make", "rename", "change", "set", "label", "call", "turn", "link",
        ])
    {
        ops.push("update");
    }
    Intent { kinds, ops, sort }
}

/// The names of the targets whose kind passes `keep` and is one the request
/// names; of all that pass `keep` if none is.
pub(super) fn names(
    all: &[(String, Place, Kind)],
    named: &[Kind],
    keep: impl Fn(Kind) -> bool,
) -> Vec<String> {
    let of = |only_named: bool| -> Vec<String> {
        all.iter()
            .filter(|(_, _, k)| keep(*k) && (!only_named || named.contains(k)))
            .map(|(n, _, _)| n.clone())
            .collect()
    };
    Some(of(true))
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| of(false))
}

/// The schema of a change: one to three operations on existing targets,
/// narrowed to what the request is about ([`intent`]) where the wireframe
/// has such components.
pub fn schema(screens: &[Screen], requirement_ids: &[String], request: &str) -> Value {
    let about = intent(request);
    let all = targets(screens);
    let every = names(&all, &about.kinds, |_| true);
    let containers = names(&all, &about.kinds, Kind::is_container);
    let addable: Vec<Kind> = {
        let named: Vec<Kind> = prompt::addable()
            .into_iter()
            .filter(|k| about.kinds.contains(k))
            .collect();
        if named.is_empty() {
            prompt::addable()
        } else {
            named
        }
    };
    let mut tree = prompt::tree_schema(1, requirement_ids, None, &words(screens, request));
    let defs = tree["$defs"].take();
    let line = prompt::line;
    let label = prompt::label;
    // A table sorts by its own columns.
    let (columns, sorting) = {
        let mut names: Vec<&str> = screens
            .iter()
            .flat_map(Screen::all_components)
            .filter(|c| c.kind == Kind::Table)
            .flat_map(|c| c.prop_strings("columns"))
            .collect();
        names.sort();
        names.dedup();
        if names.is_empty() {
            (line(30), false)
        } else {
            (json!({"enum": names}), about.sort)
        }
    };
    let update_needs = if sorting {
        json!(["op", "target", "sortable_by"])
    } else {
        json!(["op", "target"])
    };
    let mut ops = vec![
        (
            "update",
            json!({"type": "object", "properties": {"op": {"const": "update"}, "target": {"enum": every},
            "label": label(),
            "items": {"type": "array", "items": label(), "minItems": 1, "maxItems": 6},
            "sortable_by": {"type": "array", "items": columns, "minItems": 1, "maxItems": 3},
            "input_type": {"enum": prompt::INPUT_TYPES},
            "link_to": {"type": "string", "pattern": "^[a-z][a-z0-9-]{1,30}$"}},
            "required": update_needs, "additionalProperties": false}),
        ),
        (
            "remove",
            json!({"type": "object", "properties": {"op": {"const": "remove"}, "target": {"enum": every}},
            "required": ["op", "target"], "additionalProperties": false}),
        ),
        (
            "add_screen",
            json!({"type": "object", "properties": {"op": {"const": "add_screen"}, "screen": {"$ref": "#/$defs/screen"}},
            "required": ["op", "screen"], "additionalProperties": false}),
        ),
    ];
    if !containers.is_empty() {
        ops.insert(0, ("add", json!({"type": "object", "properties": {"op": {"const": "add"}, "target": {"enum": containers},
            "component": prompt::any_of(&addable)}, "required": ["op", "target", "component"], "additionalProperties": false})));
    }
    let wanted: Vec<Value> = ops
        .iter()
        .filter(|(name, _)| about.ops.contains(name))
        .map(|(_, s)| s.clone())
        .collect();
    let ops: Vec<Value> = if wanted.is_empty() {
        ops.into_iter().map(|(_, s)| s).collect()
    } else {
        wanted
    };
    json!({
        "$defs": defs,
        "type": "object",
        "properties": {"changes": {"type": "array", "items": {"anyOf": ops}, "minItems": 1, "maxItems": 3}},
        "required": ["changes"],
        "additionalProperties": false
    })
}

/// The texts a change may write: the request's own words and phrases, the
/// generic UI words, and every text the wireframe already shows.
pub(super) fn words(screens: &[Screen], request: &str) -> Vec<String> {
    let mut out = bacopilot_content::screen::vocabulary(request, 200);
    for c in screens.iter().flat_map(Screen::all_components) {
        let texts = std::iter::once(c.label.as_str())
            .chain(c.prop_strings("items"))
            .chain(c.prop_strings("columns"))
            .chain(c.prop_strings("options"));
        for t in texts {
            let t = t.trim();
            if !t.is_empty() && t.chars().count() <= 60 && !out.iter().any(|o| o == t) {
                out.push(t.to_string());
            }
        }
    }
    out
}

pub(super) const EXAMPLES: &str = r#"Examples:
"Add a logout button to the header" -> {"changes": [{"op": "add", "target": "home > header \"Top\"", "component": {"type": "button", "label": "Log out"}}]}
"Add a filter box to the sidebar" -> {"changes": [{"op": "add", "target": "home > sidebar \"Filters\"", "component": {"type": "search", "label": "Filter"}}]}
"Make the orders table sortable by date" -> {"changes": [{"op": "update", "target": "home > main \"Orders\" > table \"Orders\"", "sortable_by": ["Date"]}]}
"Remove the footer" -> {"changes": [{"op": "remove", "target": "home > footer \"Links\""}]}"#;

/// System and user prompts for a change request.
pub fn messages(screens: &[Screen], request: &str) -> (String, String) {
    let mut system = String::from(
        "You are BA Copilot, editing a low-fidelity wireframe. Answer a change request with the edit operations \
         that make it: add a component to a container, update a component's label, items, sortable_by, input_type \
         or link_to, remove a component, or add a screen. Targets are named by their path. \
         Component types: search is a search box, input a text field, select a drop-down, button a button.\n",
    );
    system.push_str(EXAMPLES);
    system.push_str("\n\nThe wireframe's components:");
    for (name, _, _) in targets(screens) {
        system.push_str(&format!("\n{name}"));
    }
    (system, format!("Change request: {}", request.trim()))
}
