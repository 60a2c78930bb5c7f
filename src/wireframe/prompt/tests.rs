//! The schema, the prompts and the conversion on real-looking screens.

use serde_json::{json, Value};

use super::schema::{blocks, leaves};
use super::*;
use crate::inference::constraint::{Constrainer, ConstraintSpec};
use crate::wireframe::model::{Layout, Screen};

/// A screen form as the model writes it (the prompt's worked example until
/// it was found copied into unrelated wireframes; now test data only).
const EXAMPLE: &str = r#"{"screens": [{"id": "new-claim", "title": "New expense claim", "purpose": "form", "layout": "centered", "header": {"title": "Expenses", "navigation": ["Claims", "Help"]}, "main": [{"type": "form", "label": "Claim", "fields": [{"type": "input", "label": "Date", "input_type": "date"}, {"type": "input", "label": "Amount", "input_type": "number"}, {"type": "select", "label": "Category", "options": ["Travel", "Meals"]}], "buttons": [{"type": "button", "label": "Submit", "link_to": "submitted"}]}]}, {"id": "submitted", "title": "Claim submitted", "purpose": "message", "layout": "centered", "header": {"title": "Expenses"}, "main": [{"type": "alert", "label": "Your claim was submitted"}]}]}"#;

fn screens(v: Value) -> Vec<Screen> {
    into_screens(serde_json::from_value(v).unwrap(), &[])
}

#[test]
fn the_tree_schema_compiles_and_the_example_is_an_instance_of_it() {
    let c = Constrainer::bytes();
    for ids in [vec![], vec!["FR-001".to_string()]] {
        for first in [None, Some(Purpose::Form)] {
            c.compile(&ConstraintSpec::JsonSchema(tree_schema(
                3,
                &ids,
                first,
                &[],
            )))
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
    let schema = tree_schema(1, &[], None, &[]);
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
    let s = tree_schema(2, &[], Some(Purpose::Form), &[]);
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

const BOOKING: &str = "A booking screen where a member picks a room, a date and a time slot, sees a table of their upcoming bookings with room, date and status columns, and can cancel a booking or go back to the home page.";

/// Every text a screen shows: titles, labels, items, columns, options, cells.
fn texts(screens: &[Screen]) -> Vec<String> {
    let mut out = Vec::new();
    for s in screens {
        out.push(s.title.clone());
        for c in s.all_components() {
            out.push(c.label.clone());
            for key in ["items", "columns", "options"] {
                out.extend(c.prop_strings(key).into_iter().map(String::from));
            }
        }
    }
    out
}

#[test]
fn a_described_screen_holds_its_parts_in_place_with_no_word_from_nowhere() {
    let described = bacopilot_content::screen::parse_screens(BOOKING);
    let gaps: Gaps = serde_json::from_value(
        json!({"screens": [{"layout": "stack", "requirement_ids": ["FR-001"]}]}),
    )
    .unwrap();
    let s = described_screens(&described, Some(&gaps));
    assert_eq!(s.len(), 1);
    assert_eq!(
        (s[0].id.as_str(), s[0].title.as_str()),
        ("booking", "Booking")
    );
    let kinds: Vec<Kind> = s[0].components.iter().map(|c| c.kind).collect();
    assert_eq!(kinds, [Kind::Header, Kind::Main]);
    assert_eq!(
        s[0].components[0].children[0].prop_strings("items"),
        ["Home"]
    );
    let main = &s[0].components[1];
    let (form, table) = (&main.children[0], &main.children[1]);
    assert_eq!(form.kind, Kind::Form);
    assert_eq!(
        form.requirement_ids,
        ["FR-001"],
        "the first block carries the requirements"
    );
    let fields: Vec<(Kind, &str, Option<&str>)> = form
        .children
        .iter()
        .map(|c| (c.kind, c.label.as_str(), c.prop_str("input_type")))
        .collect();
    assert_eq!(
        fields,
        [
            (Kind::Select, "Room", None),
            (Kind::Input, "Date", Some("date")),
            (Kind::Select, "Time Slot", None),
            (Kind::Button, "Cancel Booking", None)
        ]
    );
    assert_eq!(table.kind, Kind::Table);
    assert_eq!(table.label, "Upcoming Bookings");
    assert_eq!(table.prop_strings("columns"), ["Room", "Date", "Status"]);
    assert_eq!(table.props["rows"], json!([]), "no invented sample rows");
    for t in texts(&s) {
        if t != "x" && t != "Menu" {
            let nowhere = bacopilot_content::screen::words_from_nowhere(&t, BOOKING);
            assert!(nowhere.is_empty(), "{t}: {nowhere:?}");
        }
    }
}

#[test]
fn without_the_models_answer_the_parts_stand_alone_and_a_filter_leaves_buttons_below_the_table() {
    let d = "An invoice approval screen showing a table of pending invoices with supplier and amount columns. The approver can filter by supplier, approve or reject an invoice.";
    let s = described_screens(&bacopilot_content::screen::parse_screens(d), None);
    assert_eq!(s[0].layout, Layout::Stack);
    let main = &s[0].components[1];
    let kinds: Vec<Kind> = main.children.iter().map(|c| c.kind).collect();
    assert_eq!(kinds, [Kind::Form, Kind::Table, Kind::Button, Kind::Button]);
    assert_eq!(main.children[0].children[0].label, "Filter By Supplier");
    assert_eq!(main.children[3].prop_str("variant"), Some("secondary"));
    let login = described_screens(
        &bacopilot_content::screen::parse_screens(
            "A login screen with an email field, a password field and a sign-in button.",
        ),
        None,
    );
    assert_eq!(login[0].layout, Layout::Centered, "a short form is centred");
}

#[test]
fn a_sidebar_layout_moves_the_links_into_a_side_menu_and_links_reach_described_screens() {
    let d = "A search page with a search box and a list of books showing title and author, and a link to the book details. A book details page with buttons to reserve the book or go back to the search.";
    let described = bacopilot_content::screen::parse_screens(d);
    let gaps: Gaps = serde_json::from_value(
        json!({"screens": [{"layout": "sidebar-left"}, {"layout": "sidebar-left"}]}),
    )
    .unwrap();
    let s = described_screens(&described, Some(&gaps));
    assert_eq!(s.len(), 2);
    assert_eq!(s[0].layout, Layout::SidebarLeft);
    assert_eq!(s[0].components[1].kind, Kind::Sidebar);
    let menu = &s[0].components[1].children[0];
    assert_eq!(menu.prop_strings("items"), ["Book Details"]);
    assert_eq!(menu.link_to.as_deref(), Some(s[1].id.as_str()));
    assert_eq!(s[1].layout, Layout::SidebarLeft);
    let back = &s[1].components[1].children[0];
    assert_eq!(back.prop_strings("items"), ["Search"]);
    assert_eq!(back.link_to.as_deref(), Some(s[0].id.as_str()));
}

#[test]
fn the_gaps_offer_the_layouts_a_screens_shape_allows_and_none_when_there_is_no_choice() {
    let parse = bacopilot_content::screen::parse_screens;
    let c = Constrainer::bytes();
    let layouts = |d: &str, ids: &[String]| {
        let schema = gaps_schema(&parse(d), ids);
        c.compile(&ConstraintSpec::JsonSchema(schema.clone()))
            .unwrap();
        schema["properties"]["screens"]["prefixItems"][0]["properties"]["layout"]["enum"].clone()
    };
    assert_eq!(layouts(BOOKING, &[]), json!(["stack", "sidebar-left"]));
    let login = "A login screen with an email field, a password field and a sign-in button.";
    assert_eq!(layouts(login, &[]), json!(["centered", "stack"]));
    assert!(has_gaps(&parse(login), &[]));
    let table = "A report page showing a table of orders with date and total columns.";
    assert!(
        !has_gaps(&parse(table), &[]),
        "one layout fits: nothing to ask"
    );
    let ids = vec!["FR-001".to_string()];
    assert!(has_gaps(&parse(table), &ids), "requirements to tag");
    assert_eq!(layouts(table, &ids), json!(["stack"]));
}

#[test]
fn a_vocabulary_makes_every_label_an_enum_and_the_prompt_has_no_example() {
    let words = vec!["Blogging Platform".to_string(), "Save".to_string()];
    let schema = tree_schema(1, &[], None, &words);
    assert_eq!(schema["$defs"]["label"]["enum"], json!(words));
    assert_eq!(
        schema["$defs"]["button"]["properties"]["label"]["$ref"],
        "#/$defs/label"
    );
    assert_eq!(
        schema["$defs"]["table"]["properties"]["columns"]["items"]["$ref"],
        "#/$defs/label"
    );
    Constrainer::bytes()
        .compile(&ConstraintSpec::JsonSchema(schema))
        .unwrap();
    let (system, _) = tree_messages("A blogging platform", &[]);
    for leaked in ["Expenses", "Claims", "Meals", "Travel"] {
        assert!(!system.contains(leaked), "{leaked} in {system}");
    }
}
