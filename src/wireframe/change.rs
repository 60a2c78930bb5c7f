//! Change requests ("add a search box to the header", "make the table
//! sortable by date"). The model does not rewrite the tree: it picks edit
//! operations whose targets are an enum of the components that exist, and
//! [`apply`] makes the new tree. A small model cannot lose the rest of the
//! wireframe that way, and the new version differs exactly by the edits.

use serde::Deserialize;
use serde_json::{json, Value};

use super::model::{Component, Screen};
use super::prompt::{self, GenNode, GenScreen};

/// Where a component is: screen index, then child indexes from the top.
#[derive(Debug, Clone, PartialEq)]
pub struct Place {
    pub screen: usize,
    pub path: Vec<usize>,
}

/// Every component with a readable name (`dashboard > main > table "Claims"`),
/// unique within the tree, in document order.
pub fn targets(screens: &[Screen]) -> Vec<(String, Place, bool)> {
    let mut out: Vec<(String, Place, bool)> = Vec::new();
    fn walk(
        out: &mut Vec<(String, Place, bool)>,
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
                c.kind.is_container(),
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

/// The schema of a change: one to three operations on existing targets.
pub fn schema(screens: &[Screen], requirement_ids: &[String]) -> Value {
    let all = targets(screens);
    let names: Vec<&str> = all.iter().map(|(n, _, _)| n.as_str()).collect();
    let containers: Vec<&str> = all
        .iter()
        .filter(|(_, _, c)| *c)
        .map(|(n, _, _)| n.as_str())
        .collect();
    let mut tree = prompt::tree_schema(1, requirement_ids);
    let defs = tree["$defs"].take();
    let mut ops = vec![
        json!({"type": "object", "properties": {"op": {"const": "update"}, "target": {"enum": names},
            "label": {"type": "string", "pattern": "^[^\"\\\\\\n\\t<>]{1,40}$"},
            "items": {"type": "array", "items": {"type": "string", "pattern": "^[^\"\\\\\\n\\t<>]{1,30}$"}, "minItems": 1, "maxItems": 6},
            "sortable_by": {"type": "array", "items": {"type": "string", "pattern": "^[^\"\\\\\\n\\t<>]{1,30}$"}, "minItems": 1, "maxItems": 3},
            "input_type": {"enum": prompt::INPUT_TYPES},
            "link_to": {"type": "string", "pattern": "^[a-z][a-z0-9-]{1,30}$"}},
            "required": ["op", "target"], "additionalProperties": false}),
        json!({"type": "object", "properties": {"op": {"const": "remove"}, "target": {"enum": names}},
            "required": ["op", "target"], "additionalProperties": false}),
        json!({"type": "object", "properties": {"op": {"const": "add_screen"}, "screen": {"$ref": "#/$defs/screen"}},
            "required": ["op", "screen"], "additionalProperties": false}),
    ];
    if !containers.is_empty() {
        ops.insert(0, json!({"type": "object", "properties": {"op": {"const": "add"}, "target": {"enum": containers},
            "component": {"$ref": "#/$defs/block"}}, "required": ["op", "target", "component"], "additionalProperties": false}));
    }
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
    if !new_screens.is_empty() {
        let mut all: Vec<GenScreen> = Vec::new();
        for s in &out {
            all.push(GenScreen {
                id: s.id.clone(),
                title: s.title.clone(),
                layout: s.layout,
                components: Vec::new(),
            });
        }
        all.extend(new_screens);
        let renamed = prompt::into_screens(prompt::GenApp { screens: all });
        out.extend(renamed.into_iter().skip(out.len()));
    }
    Ok((out, done))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inference::constraint::{Constrainer, ConstraintSpec};
    use crate::wireframe::model::Kind;

    fn screens() -> Vec<Screen> {
        let app: prompt::GenApp = serde_json::from_value(json!({"screens": [{"id": "home", "title": "Home", "layout": "stack", "components": [
            {"type": "header", "label": "Top", "children": [{"type": "navigation", "label": "Menu", "items": ["A"]}]},
            {"type": "main", "label": "Orders", "children": [{"type": "table", "label": "Orders", "items": ["Date", "Total"]}]},
            {"type": "footer", "label": "Links"}
        ]}]}))
        .unwrap();
        prompt::into_screens(app)
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
            .compile(&ConstraintSpec::JsonSchema(schema(&screens(), &[])))
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
