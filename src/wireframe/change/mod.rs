//! Change requests ("add a search box to the header", "make the table
//! sortable by date"). The model does not rewrite the tree: it picks edit
//! operations whose targets are an enum of the components that exist, and
//! [`apply`] makes the new tree. A small model cannot lose the rest of the
//! wireframe that way, and the new version differs exactly by the edits.

use serde::Deserialize;

use super::model::{Component, Kind, Screen};
use super::prompt::{GenNode, GenScreen};

mod apply;
mod prompt;
#[cfg(test)]
mod tests;

pub use apply::apply;
pub use prompt::{intent, messages, schema, Intent};

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
