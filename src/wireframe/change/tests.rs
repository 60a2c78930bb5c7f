//! Change requests applied to a small wireframe.

use serde_json::json;

use super::*;
use crate::inference::constraint::{Constrainer, ConstraintSpec};
use crate::wireframe::prompt;

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
