//! What changed between two versions of a wireframe: screens added and
//! removed, and within each screen the components added, removed or changed.
//! Components are matched by type and label in document order, since a
//! change request may move everything after an insertion.

use serde::Serialize;
use utoipa::ToSchema;

use super::model::{Component, Wireframe};

#[derive(Debug, Serialize, ToSchema)]
pub struct Diff {
    pub from: i64,
    pub to: i64,
    pub screens_added: Vec<String>,
    pub screens_removed: Vec<String>,
    pub components: Vec<ComponentChange>,
}

#[derive(Debug, PartialEq, Serialize, ToSchema)]
pub struct ComponentChange {
    pub screen: String,
    /// `added`, `removed` or `changed`.
    pub change: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub label: String,
    /// For `changed`: the fields that differ (`props`, `requirement_ids`, `link_to`).
    pub fields: Vec<String>,
}

pub fn diff(a: &Wireframe, b: &Wireframe) -> Diff {
    let mut out = Diff {
        from: a.version,
        to: b.version,
        screens_added: b
            .screens
            .iter()
            .filter(|s| !a.screens.iter().any(|t| t.id == s.id))
            .map(|s| s.id.clone())
            .collect(),
        screens_removed: a
            .screens
            .iter()
            .filter(|s| !b.screens.iter().any(|t| t.id == s.id))
            .map(|s| s.id.clone())
            .collect(),
        components: Vec::new(),
    };
    for old in &a.screens {
        let Some(new) = b.screens.iter().find(|s| s.id == old.id) else {
            continue;
        };
        let before = old.all_components();
        let mut after: Vec<Option<&Component>> =
            new.all_components().into_iter().map(Some).collect();
        let change = |kind: &str, c: &Component, fields: Vec<String>| ComponentChange {
            screen: old.id.clone(),
            change: kind.into(),
            kind: c.kind.as_str().into(),
            label: c.label.clone(),
            fields,
        };
        for c in before {
            let matched = after
                .iter_mut()
                .find(|n| n.is_some_and(|n| n.kind == c.kind && n.label == c.label));
            match matched.and_then(Option::take) {
                None => out.components.push(change("removed", c, Vec::new())),
                Some(n) => {
                    let mut fields = Vec::new();
                    if n.props != c.props {
                        fields.push("props".to_string());
                    }
                    if n.requirement_ids != c.requirement_ids {
                        fields.push("requirement_ids".to_string());
                    }
                    if n.link_to != c.link_to {
                        fields.push("link_to".to_string());
                    }
                    if !fields.is_empty() {
                        out.components.push(change("changed", c, fields));
                    }
                }
            }
        }
        for n in after.into_iter().flatten() {
            out.components.push(change("added", n, Vec::new()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wireframe::change::{apply, Changes};
    use crate::wireframe::prompt::{into_screens, GenApp};
    use serde_json::json;

    #[test]
    fn an_added_search_box_and_a_sortable_table_are_all_the_diff_shows() {
        let app: GenApp = serde_json::from_value(json!({"screens": [{"id": "home", "title": "Orders", "purpose": "table", "layout": "stack",
            "header": {"title": "Top", "navigation": ["Home"]},
            "main": [{"type": "table", "label": "Orders", "columns": ["Date", "Total"], "rows": [["1 May", "40"]]}]}]}))
        .unwrap();
        let screens = into_screens(app, &[]);
        let changes: Changes = serde_json::from_value(json!({"changes": [
            {"op": "add", "target": "home > header \"Top\"", "component": {"type": "search", "label": "Search"}},
            {"op": "update", "target": "home > main \"Orders\" > table \"Orders\"", "sortable_by": ["Date"]}
        ]}))
        .unwrap();
        let (after, _) = apply(&screens, changes).unwrap();
        let w = |version, screens| Wireframe {
            id: "w".into(),
            project_id: "p".into(),
            title: "t".into(),
            version,
            screens,
        };
        let d = diff(&w(1, screens), &w(2, after));
        assert_eq!(d.components.len(), 2, "{:?}", d.components);
        assert_eq!(
            (
                d.components[0].change.as_str(),
                d.components[0].kind.as_str()
            ),
            ("changed", "table")
        );
        assert_eq!(d.components[0].fields, ["props"]);
        assert_eq!(
            (
                d.components[1].change.as_str(),
                d.components[1].kind.as_str()
            ),
            ("added", "search")
        );
        assert!(d.screens_added.is_empty() && d.screens_removed.is_empty());
    }
}
