//! The filled screen form turned into the component tree: regions, props
//! by type, unique screen ids, links only to screens that exist.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::schema::INPUT_TYPES;
use super::{GenApp, GenNode, GenScreen};
use crate::wireframe::model::{Component, Kind, Layout, Screen};

/// `id`, or `id-2`, `id-3`… if taken; records the one returned.
pub(super) fn unique(taken: &mut HashSet<String>, id: &str) -> String {
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

pub(super) fn region(kind: Kind, label: &str, children: Vec<Component>) -> Component {
    Component {
        kind,
        label: label.trim().to_string(),
        props: Map::new(),
        children,
        requirement_ids: Vec::new(),
        link_to: None,
    }
}

pub(super) fn menu(items: Vec<String>) -> Component {
    let mut props = Map::new();
    props.insert("items".into(), strings(items));
    Component {
        props,
        ..region(Kind::Navigation, "Menu", Vec::new())
    }
}

pub(super) fn screen_from(s: GenScreen, id: String) -> Screen {
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
pub(super) fn distinct(list: Vec<Component>) -> Vec<Component> {
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

pub(super) fn drop_dangling_links(c: &mut Component, ids: &HashSet<String>) {
    if c.link_to.as_ref().is_some_and(|l| !ids.contains(l)) {
        c.link_to = None;
    }
    for child in &mut c.children {
        drop_dangling_links(child, ids);
    }
}

pub(super) fn strings(v: Vec<String>) -> Value {
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
