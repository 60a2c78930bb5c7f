//! The schema, the prompts and the conversion on real-looking screens.

use serde_json::{json, Value};

use super::schema::{blocks, leaves};
use super::text::EXAMPLE;
use super::*;
use crate::inference::constraint::{Constrainer, ConstraintSpec};
use crate::wireframe::model::{Layout, Screen};

fn screens(v: Value) -> Vec<Screen> {
    into_screens(serde_json::from_value(v).unwrap(), &[])
}

#[test]
fn the_tree_schema_compiles_and_the_example_is_an_instance_of_it() {
    let c = Constrainer::bytes();
    for ids in [vec![], vec!["FR-001".to_string()]] {
        for first in [None, Some(Purpose::Form)] {
            c.compile(&ConstraintSpec::JsonSchema(tree_schema(3, &ids, first)))
                .unwrap();
        }
    }
    let app: GenApp = serde_json::from_str(EXAMPLE).unwrap();
    let screens = into_screens(app, &[]);
    assert_eq!(screens.len(), 2);
    let kinds: Vec<Kind> = screens[0].components.iter().map(|c| c.kind).collect();
    assert_eq!(kinds, [Kind::Header, Kind::Main]);
    assert_eq!(
        screens[0].components[0].children[0].prop_strings("items"),
        ["Claims", "Help"]
    );
    let form = &screens[0].components[1].children[0];
    assert_eq!(form.kind, Kind::Form);
    assert_eq!(form.children.len(), 4, "three fields, then the button");
    assert_eq!(form.children[0].prop_str("input_type"), Some("date"));
    assert_eq!(
        form.children[2].prop_strings("options"),
        ["Travel", "Meals"]
    );
    assert_eq!(form.children[3].kind, Kind::Button);
    assert_eq!(form.children[3].link_to.as_deref(), Some("submitted"));
}

#[test]
fn each_purpose_leads_its_main_content_with_its_block() {
    let schema = tree_schema(1, &[], None);
    let variants = schema["$defs"]["screen"]["anyOf"].as_array().unwrap();
    assert_eq!(variants.len(), Purpose::ALL.len());
    for (v, p) in variants.iter().zip(Purpose::ALL) {
        assert_eq!(v["properties"]["purpose"]["const"], p.as_str());
        let lead = &v["properties"]["main"]["prefixItems"][0]["$ref"];
        assert_eq!(lead, &format!("#/$defs/{}", p.lead().as_str()));
        assert!(schema["$defs"][p.lead().as_str()].is_object());
    }
    let main = blocks();
    assert_eq!(main.len(), 15);
    assert!(!main
        .iter()
        .any(|k| FIELDS.contains(k) || *k == Kind::Navigation));
    assert!(!leaves().iter().any(|k| k.is_container()));
    let form = &schema["$defs"]["form"];
    assert_eq!(
        form["required"],
        json!(["type", "label", "fields", "buttons"])
    );
    assert_eq!(form["properties"]["buttons"]["minItems"], 1);
}

#[test]
fn the_descriptions_earliest_cue_picks_the_first_screens_purpose() {
    let cases = [
        ("A login screen with an email field", Some(Purpose::Form)),
        (
            "A dashboard with a header, and a table of recent claims",
            Some(Purpose::Dashboard),
        ),
        (
            "Tables of orders, then a sign-up form",
            Some(Purpose::Table),
        ),
        ("A blogging platform", None),
        ("The platform's logins", Some(Purpose::Form)),
        ("Formulas and tablets", None),
    ];
    for (description, purpose) in cases {
        assert_eq!(first_purpose(description), purpose, "{description}");
    }
    let s = tree_schema(2, &[], Some(Purpose::Form));
    assert_eq!(
        s["properties"]["screens"]["prefixItems"][0]["properties"]["purpose"]["const"],
        "form"
    );
}

#[test]
fn duplicate_screen_ids_are_renamed_and_dangling_links_dropped() {
    let screen = |id: &str, link: &str| json!({"id": id, "title": "T", "purpose": "message", "layout": "stack", "main": [{"type": "button", "label": "Go", "link_to": link}]});
    let existing = screens(json!({"screens": [screen("old", "old")]}));
    let app = serde_json::from_value(json!({"screens": [screen("home", "home-2"), screen("home", "nowhere"), screen("old", "old")]})).unwrap();
    let s = into_screens(app, &existing);
    let ids: Vec<&str> = s.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["home", "home-2", "old-2"]);
    let link = |i: usize| s[i].components[0].children[0].link_to.clone();
    assert_eq!(link(0).as_deref(), Some("home-2"));
    assert_eq!(link(1), None);
    assert_eq!(
        link(2).as_deref(),
        Some("old"),
        "a link to an existing screen stays"
    );
}

#[test]
fn repeated_leaves_are_dropped_but_distinct_ones_and_containers_kept() {
    let s = screens(
        json!({"screens": [{"id": "a", "title": "A", "purpose": "form", "layout": "stack", "main": [
            {"type": "form", "label": "Sign in", "fields": [
                {"type": "input", "label": "Email", "input_type": "email"},
                {"type": "textarea", "label": "Sign-in"}, {"type": "textarea", "label": "sign-in"},
                {"type": "input", "label": "Password", "input_type": "password"}],
             "buttons": [{"type": "button", "label": "Sign in"}, {"type": "button", "label": "Sign in"}]},
            {"type": "card", "label": "x", "children": [{"type": "text", "label": "t"}]},
            {"type": "card", "label": "x", "children": [{"type": "text", "label": "t"}]}
        ]}]}),
    );
    let main = &s[0].components[0];
    let labels: Vec<&str> = main.children[0]
        .children
        .iter()
        .map(|c| c.label.as_str())
        .collect();
    assert_eq!(labels, ["Email", "Sign-in", "Password", "Sign in"]);
    assert_eq!(main.children.len(), 3, "containers are kept");
}

#[test]
fn the_layout_follows_whether_there_is_a_sidebar() {
    let s = screens(json!({"screens": [
        {"id": "a", "title": "A", "purpose": "list", "layout": "centered", "sidebar": ["Inbox", "Sent"], "main": [{"type": "list", "label": "Mail", "items": ["Hi"]}]},
        {"id": "b", "title": "B", "purpose": "list", "layout": "sidebar-right", "main": [{"type": "list", "label": "Mail", "items": ["Hi"]}], "footer": "(c) Acme"}
    ]}));
    assert_eq!(s[0].layout, Layout::SidebarLeft);
    assert_eq!(s[0].components[0].kind, Kind::Sidebar);
    assert_eq!(s[1].layout, Layout::Stack);
    assert_eq!(s[1].components.last().unwrap().kind, Kind::Footer);
}

#[test]
fn tables_get_columns_and_rows_and_selects_get_options() {
    let n: GenNode = serde_json::from_value(json!({"type": "table", "label": "Claims", "columns": ["Date", "Amount"], "rows": [["1 May", "40"]]})).unwrap();
    let c = component(n, 2);
    assert_eq!(c.prop_strings("columns"), ["Date", "Amount"]);
    assert_eq!(c.props["rows"], json!([["1 May", "40"]]));
    let n: GenNode = serde_json::from_value(
        json!({"type": "select", "label": "Team", "options": ["Red", "Blue"]}),
    )
    .unwrap();
    assert_eq!(component(n, 2).prop_strings("options"), ["Red", "Blue"]);
}
