//! Reading the props the renderers use, each by name and in a fixed order
//! (never by iterating the map), with whitelists for anything that ends up
//! in markup as more than text and stand-ins for what the model left out.

use serde_json::Value;

use crate::wireframe::model::Component;

/// Heading size 1–3 (`level` as a number or a numeric string), default 2.
pub(super) fn heading_level(c: &Component) -> u8 {
    let raw = match c.props.get("level") {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    raw.map_or(2, |n| n.clamp(1, 3) as u8)
}

/// Alert severity from the whitelist; anything else is `info`.
pub(super) fn alert_level(c: &Component) -> &'static str {
    match c.prop_str("level") {
        Some("warning") => "warning",
        Some("error") => "error",
        _ => "info",
    }
}

/// Grid columns 1–6; without the prop, as many as there are children, up to 3.
pub(super) fn grid_columns(c: &Component) -> usize {
    let raw = match c.props.get("columns") {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    raw.map_or(c.children.len().clamp(1, 3), |n| n.clamp(1, 6) as usize)
}

/// The input's `type`, from the whitelist the model is told about.
pub(super) fn input_type(c: &Component) -> &'static str {
    match c.prop_str("input_type") {
        Some("email") => "email",
        Some("password") => "password",
        Some("number") => "number",
        Some("date") => "date",
        Some("time") => "time",
        _ => "text",
    }
}

/// Buttons are primary unless the model says `secondary`: a lone button
/// ("Sign in") is nearly always the main action.
pub(super) fn is_primary(c: &Component) -> bool {
    c.prop_str("variant") != Some("secondary")
}

fn is_required(c: &Component) -> bool {
    c.props.get("required").and_then(Value::as_bool) == Some(true)
}

/// A field's visible label: its text with a `*` when required.
pub(super) fn field_label(c: &Component) -> String {
    if is_required(c) {
        format!("{} *", c.label)
    } else {
        c.label.clone()
    }
}

/// A table's header and body. Without `rows` the body is `sample` rows that
/// the renderers draw as scribbles; without `columns`, three generic ones.
pub(super) struct Table {
    pub(super) columns: Vec<String>,
    pub(super) sortable: Vec<bool>,
    pub(super) rows: Vec<Vec<String>>,
    pub(super) sample: bool,
}

const SAMPLE_ROWS: usize = 3;

pub(super) fn table(c: &Component) -> Table {
    let mut columns: Vec<String> = c
        .prop_strings("columns")
        .into_iter()
        .map(String::from)
        .collect();
    if columns.is_empty() {
        columns = (1..=3).map(|i| format!("Column {i}")).collect();
    }
    let sortable_by = c.prop_strings("sortable_by");
    let sortable = columns
        .iter()
        .map(|col| sortable_by.contains(&col.as_str()))
        .collect();
    let rows: Vec<Vec<String>> = c
        .props
        .get("rows")
        .and_then(Value::as_array)
        .map(|rows| {
            rows.iter()
                .filter_map(Value::as_array)
                .map(|row| {
                    (0..columns.len())
                        .map(|i| row.get(i).map(cell_text).unwrap_or_default())
                        .collect()
                })
                .collect()
        })
        .unwrap_or_default();
    let sample = rows.is_empty();
    let rows = if sample {
        vec![vec![String::new(); columns.len()]; SAMPLE_ROWS]
    } else {
        rows
    };
    Table {
        columns,
        sortable,
        rows,
        sample,
    }
}

/// A cell as text: strings as they are, numbers and booleans printed, and
/// nothing for nested values (never a dump of JSON).
fn cell_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => String::new(),
    }
}

/// Bar heights of the chart sketch, in percent: fixed, so output is stable.
pub(super) const CHART_BARS: [u32; 6] = [40, 65, 50, 80, 55, 90];

/// Stand-ins for lists the model left empty.
pub(super) const NAV: [&str; 3] = ["Link", "Link", "Link"];
pub(super) const CRUMBS: [&str; 2] = ["Home", "Page"];
pub(super) const TABS: [&str; 2] = ["Tab 1", "Tab 2"];

/// A list-like prop (`items`, `options`), or the label alone when the model
/// gave none, or `fallback` when it gave neither, so the sketch is never an
/// empty box.
pub(super) fn items<'c>(c: &'c Component, prop: &str, fallback: &[&'static str]) -> Vec<&'c str> {
    let items = c.prop_strings(prop);
    if !items.is_empty() {
        items
    } else if !c.label.is_empty() {
        vec![c.label.as_str()]
    } else {
        fallback.to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wireframe::model::Kind;
    use crate::wireframe::render::sample;

    #[test]
    fn tables_without_rows_get_sample_rows_and_ragged_rows_are_evened() {
        let w = sample();
        let dash = &w.screens[1];
        let t = dash
            .all_components()
            .into_iter()
            .find(|c| c.kind == Kind::Table)
            .unwrap();
        let data = table(t);
        assert!(!data.sample);
        assert!(data.rows.iter().all(|r| r.len() == data.columns.len()));
        assert!(data.sortable.iter().any(|&s| s));

        let mut bare = t.clone();
        bare.props.clear();
        let data = table(&bare);
        assert!(data.sample);
        assert_eq!((data.columns.len(), data.rows.len()), (3, SAMPLE_ROWS));
    }
}
