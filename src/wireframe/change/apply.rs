//! The edits applied to a copy of the tree; the original is never touched.

use serde_json::Value;

use super::{targets, Changes, Op, Place};
use crate::wireframe::model::{Component, Screen};
use crate::wireframe::prompt;

pub(super) fn at<'a>(screens: &'a mut [Screen], place: &Place) -> Option<&'a mut Component> {
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
