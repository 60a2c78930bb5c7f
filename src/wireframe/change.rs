//! Change requests ("add a search box to the header", "make the table
//! sortable by date"). The model does not rewrite the tree: it picks edit
//! operations whose targets are an enum of the components that exist, and
//! [`apply`] makes the new tree. A small model cannot lose the rest of the
//! wireframe that way, and the new version differs exactly by the edits.

use serde::Deserialize;
use serde_json::{json, Value};

use super::model::{Component, Kind, Screen};
use super::prompt::{self, GenNode, GenScreen};

/// Where a component is: screen index, then child indexes from the top.
#[derive(Debug, Clone, PartialEq)]
pub struct Place {
    pub screen: usize,
    pub path: Vec<usize>,
}

/// Every component with a readable name (`dashboard > main > table "Claims"`),
/// unique within the tree, in document order.
pub fn targets(screens: &[Screen]) -> Vec<(String, Place, Kind)> {
    let mut out: Vec<(String, Place, Kind)> = Vec::new();
    fn walk(
        out: &mut Vec<(String, Place, Kind)>,
        prefix: &str,
        screen: usize,
        path: &mut Vec<usize>,
        list: &[Component],
    ) {
        for (i, c) in list.iter().enumerate() {
            path.push(i);
            let label = c.label.chars().take(30).collect::<String>();
            let mut name = format!(
                "{prefix} > {} \"{}\"",
                c.kind.as_str(),
                label.replace('"', "'")
            );
            let mut n = 2;
            while out.iter().any(|(o, _, _)| *o == name) {
                name = format!(
                    "{prefix} > {} \"{}\" #{n}",
                    c.kind.as_str(),
                    label.replace('"', "'")
                );
                n += 1;
            }
            out.push((
                name.clone(),
                Place {
                    screen,
                    path: path.clone(),
                },
                c.kind,
            ));
            walk(out, &name, screen, path, &c.children);
            path.pop();
        }
    }
    for (i, s) in screens.iter().enumerate() {
        walk(&mut out, &s.id, i, &mut Vec::new(), &s.components);
    }
    out
}

#[derive(Debug, Deserialize)]
pub struct Changes {
    pub changes: Vec<Op>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    /// Adds `component` as the last child of the container `target`.
    Add {
        target: String,
        component: GenNode,
    },
    Remove {
        target: String,
    },
    /// Changes the fields given.
    Update {
        target: String,
        label: Option<String>,
        items: Option<Vec<String>>,
        sortable_by: Option<Vec<String>>,
        input_type: Option<String>,
        link_to: Option<String>,
    },
    AddScreen {
        screen: GenScreen,
    },
}

/// Words for each kind of component, longest first within a kind; a
/// request's words pick the kinds it is about.
const NOUNS: [(&str, Kind); 38] = [
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
fn names(
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
    let mut tree = prompt::tree_schema(1, requirement_ids, None);
    let defs = tree["$defs"].take();
    let line = prompt::line;
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
            "label": line(40),
            "items": {"type": "array", "items": line(30), "minItems": 1, "maxItems": 6},
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

const EXAMPLES: &str = r#"Examples:
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

fn at<'a>(screens: &'a mut [Screen], place: &Place) -> Option<&'a mut Component> {
    let (first, rest) = place.path.split_first()?;
    let mut c = screens.get_mut(place.screen)?.components.get_mut(*first)?;
    for &i in rest {
        c = c.children.get_mut(i)?;
    }
    Some(c)
}

/// Applies `changes` to a copy of `screens`; returns the new tree and a
/// description of each edit. Targets were fixed when the schema was made,
/// so every place is looked up before anything moves.
pub fn apply(screens: &[Screen], changes: Changes) -> Result<(Vec<Screen>, Vec<String>), String> {
    let places = targets(screens);
    let find = |t: &str| {
        places
            .iter()
            .find(|(n, _, _)| n == t)
            .map(|(_, p, _)| p.clone())
            .ok_or_else(|| format!("no component `{t}`"))
    };
    let mut out = screens.to_vec();
    let mut removals = Vec::new();
    let mut done = Vec::new();
    let mut new_screens = Vec::new();
    for op in changes.changes {
        match op {
            Op::Add { target, component } => {
                let place = find(&target)?;
                let c = at(&mut out, &place).ok_or("target vanished")?;
                let depth = place.path.len();
                let new = prompt::component(component, depth);
                done.push(format!(
                    "added {} \"{}\" to {target}",
                    new.kind.as_str(),
                    new.label
                ));
                c.children.push(new);
            }
            Op::Remove { target } => {
                removals.push(find(&target)?);
                done.push(format!("removed {target}"));
            }
            Op::Update {
                target,
                label,
                items,
                sortable_by,
                input_type,
                link_to,
            } => {
                let place = find(&target)?;
                let c = at(&mut out, &place).ok_or("target vanished")?;
                if let Some(l) = label {
                    c.label = l.trim().to_string();
                }
                if let Some(items) = items {
                    let key = match c.kind.as_str() {
                        "select" | "radio" => "options",
                        "table" => "columns",
                        _ => "items",
                    };
                    c.props.insert(key.into(), Value::from(items));
                }
                if let Some(cols) = sortable_by {
                    c.props.insert("sortable_by".into(), Value::from(cols));
                }
                if let Some(t) = input_type.filter(|t| prompt::INPUT_TYPES.contains(&t.as_str())) {
                    c.props.insert("input_type".into(), Value::from(t));
                }
                if link_to.is_some() {
                    c.link_to = link_to;
                }
                done.push(format!("updated {target}"));
            }
            Op::AddScreen { screen } => {
                done.push(format!("added screen \"{}\"", screen.title));
                new_screens.push(screen);
            }
        }
    }
    // Deepest and last first, so earlier indexes stay valid.
    removals.sort_by(|a, b| (b.screen, &b.path).cmp(&(a.screen, &a.path)));
    removals.dedup();
    for place in removals {
        let (last, parent) = place.path.split_last().expect("paths are not empty");
        let list = if parent.is_empty() {
            &mut out[place.screen].components
        } else {
            match at(
                &mut out,
                &Place {
                    screen: place.screen,
                    path: parent.to_vec(),
                },
            ) {
                Some(p) => &mut p.children,
                None => continue, // inside something already removed
            }
        };
        if *last < list.len() {
            list.remove(*last);
        }
    }
    let added = prompt::into_screens(
        prompt::GenApp {
            screens: new_screens,
        },
        &out,
    );
    out.extend(added);
    Ok((out, done))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inference::constraint::{Constrainer, ConstraintSpec};

    fn screens() -> Vec<Screen> {
        let app: prompt::GenApp = serde_json::from_value(json!({"screens": [{"id": "home", "title": "Orders", "purpose": "table", "layout": "stack",
            "header": {"title": "Top", "navigation": ["A"]},
            "main": [{"type": "table", "label": "Orders", "columns": ["Date", "Total"], "rows": [["1 May", "40"]]}],
            "footer": "Links"}]}))
        .unwrap();
        prompt::into_screens(app, &[])
    }

    #[test]
    fn targets_name_every_component_by_its_path() {
        let names: Vec<String> = targets(&screens()).into_iter().map(|(n, _, _)| n).collect();
        assert!(
            names.contains(&"home > main \"Orders\" > table \"Orders\"".to_string()),
            "{names:?}"
        );
        assert_eq!(names.len(), 5);
        Constrainer::bytes()
            .compile(&ConstraintSpec::JsonSchema(schema(&screens(), &[], "")))
            .unwrap();
    }

    #[test]
    fn a_request_names_its_kinds_and_operations_in_its_own_words() {
        let i = intent("Add a search box to the header");
        assert_eq!(i.kinds, [Kind::Search, Kind::Header]);
        assert_eq!(i.ops, ["add"]);
        let i = intent("Make the orders table sortable by date");
        assert_eq!((i.kinds, i.ops), (vec![Kind::Table], vec!["update"]));
        let i = intent("Delete the listing banners");
        assert_eq!((i.kinds, i.ops), (vec![Kind::Alert], vec!["remove"]));
        let i = intent("Add a confirmation page");
        assert_eq!(i.ops, ["add_screen"]);
        assert_eq!(intent("hmm"), Intent::default());
    }

    #[test]
    fn the_schema_narrows_to_what_the_request_is_about() {
        let s = schema(&screens(), &[], "Add a search box to the header");
        let ops = s["properties"]["changes"]["items"]["anyOf"]
            .as_array()
            .unwrap();
        assert_eq!(ops.len(), 1);
        assert_eq!(
            ops[0]["properties"]["target"]["enum"],
            json!(["home > header \"Top\""])
        );
        assert_eq!(
            ops[0]["properties"]["component"],
            json!({"anyOf": [{"$ref": "#/$defs/search"}]})
        );
        let s = schema(&screens(), &[], "Make the table sortable by date");
        let ops = s["properties"]["changes"]["items"]["anyOf"]
            .as_array()
            .unwrap();
        assert_eq!(ops.len(), 1);
        let update = &ops[0]["properties"];
        assert_eq!(
            update["target"]["enum"],
            json!(["home > main \"Orders\" > table \"Orders\""])
        );
        assert_eq!(
            update["sortable_by"]["items"],
            json!({"enum": ["Date", "Total"]})
        );
        assert_eq!(ops[0]["required"], json!(["op", "target", "sortable_by"]));
        // Nothing it names exists: every target and every operation stays.
        let s = schema(&screens(), &[], "Tidy up the chart");
        assert_eq!(
            s["properties"]["changes"]["items"]["anyOf"]
                .as_array()
                .unwrap()
                .len(),
            4
        );
        Constrainer::bytes()
            .compile(&ConstraintSpec::JsonSchema(s))
            .unwrap();
    }

    #[test]
    fn the_documented_examples_apply_as_described() {
        let changes: Changes = serde_json::from_str(
            r#"{"changes": [{"op": "add", "target": "home > header \"Top\"", "component": {"type": "search", "label": "Search"}},
                {"op": "update", "target": "home > main \"Orders\" > table \"Orders\"", "sortable_by": ["Date"]},
                {"op": "remove", "target": "home > footer \"Links\""}]}"#,
        )
        .unwrap();
        let (after, done) = apply(&screens(), changes).unwrap();
        assert_eq!(done.len(), 3);
        let header = &after[0].components[0];
        assert_eq!(header.children.last().unwrap().kind, Kind::Search);
        assert_eq!(header.children.len(), 2, "the menu stays");
        let table = &after[0].components[1].children[0];
        assert_eq!(table.prop_strings("sortable_by"), ["Date"]);
        assert_eq!(after[0].components.len(), 2, "footer not removed");
    }

    #[test]
    fn an_unknown_target_is_an_error_and_changes_nothing() {
        let changes: Changes =
            serde_json::from_str(r#"{"changes": [{"op": "remove", "target": "home > nowhere"}]}"#)
                .unwrap();
        assert!(apply(&screens(), changes).is_err());
    }
}
