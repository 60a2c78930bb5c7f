//! Test trees shared by the renderer tests: a realistic two-screen flow
//! using every component kind, and the same flow with every string replaced
//! by hostile text.

use serde_json::{json, Map, Value};

use crate::wireframe::model::{Component, Kind, Layout, Screen, Wireframe};

/// A component with no props, children or link.
pub(crate) fn node(kind: Kind, label: &str, reqs: &[&str]) -> Component {
    Component {
        kind,
        label: label.to_string(),
        props: Map::new(),
        children: Vec::new(),
        requirement_ids: reqs.iter().map(|r| r.to_string()).collect(),
        link_to: None,
    }
}

fn with(mut c: Component, props: Value, children: Vec<Component>) -> Component {
    if let Value::Object(map) = props {
        c.props = map;
    }
    c.children = children;
    c
}

fn linked(mut c: Component, to: &str) -> Component {
    c.link_to = Some(to.to_string());
    c
}

/// A sign-in screen leading to a claims dashboard; every [`Kind`] appears.
pub(crate) fn sample() -> Wireframe {
    use Kind::*;
    let login = Screen {
        id: "login".into(),
        title: "Sign in".into(),
        layout: Layout::Centered,
        components: vec![
            with(
                node(Heading, "Welcome back", &["FR-001"]),
                json!({"level": 1}),
                vec![],
            ),
            with(
                node(Form, "Sign in", &["FR-001"]),
                json!({}),
                vec![
                    with(
                        node(Input, "Email", &["FR-001"]),
                        json!({"input_type": "email", "placeholder": "name@example.com", "required": true}),
                        vec![],
                    ),
                    with(
                        node(Input, "Password", &["FR-002"]),
                        json!({"input_type": "password", "required": true}),
                        vec![],
                    ),
                    node(Checkbox, "Remember me", &[]),
                    linked(
                        with(
                            node(Button, "Sign in", &["FR-001"]),
                            json!({"variant": "primary"}),
                            vec![],
                        ),
                        "dashboard",
                    ),
                    node(
                        Text,
                        "Forgot your password? Ask your administrator.",
                        &["FR-003"],
                    ),
                ],
            ),
        ],
    };
    let table = with(
        node(Table, "Open claims", &["FR-010", "FR-011"]),
        json!({
            "columns": ["Claim", "Customer", "Status", "Amount"],
            "rows": [
                ["C-1042", "Ada Lovelace", "In review", "1,200.00"],
                ["C-1043", "Alan Turing", "Open", 350],
                ["C-1044", "Grace Hopper"]
            ],
            "sortable_by": ["Claim", "Amount"]
        }),
        vec![],
    );
    let modal = with(
        node(Modal, "New claim", &["FR-020"]),
        json!({}),
        vec![
            with(
                node(Textarea, "Description", &["FR-020"]),
                json!({"placeholder": "What happened?"}),
                vec![],
            ),
            with(
                node(Select, "Type", &["FR-021"]),
                json!({"options": ["Auto", "Home", "Travel"]}),
                vec![],
            ),
            node(Checkbox, "Urgent", &[]),
            with(
                node(Radio, "Contact by", &[]),
                json!({"options": ["Phone", "Email"]}),
                vec![],
            ),
            with(
                node(Button, "Create", &["FR-020"]),
                json!({"variant": "primary"}),
                vec![],
            ),
            linked(
                with(
                    node(Button, "Cancel", &[]),
                    json!({"variant": "secondary"}),
                    vec![],
                ),
                "dashboard",
            ),
        ],
    );
    let main = with(
        node(Main, "", &[]),
        json!({}),
        vec![
            with(
                node(Breadcrumbs, "", &[]),
                json!({"items": ["Home", "Claims"]}),
                vec![],
            ),
            with(
                node(Heading, "All claims", &["FR-010"]),
                json!({"level": 2}),
                vec![],
            ),
            with(
                node(Search, "Search claims", &["FR-012"]),
                json!({"placeholder": "Claim number or customer"}),
                vec![],
            ),
            with(
                node(Alert, "3 claims are overdue", &["FR-013"]),
                json!({"level": "warning"}),
                vec![],
            ),
            table,
            node(Pagination, "", &["FR-010"]),
            with(
                node(Grid, "", &[]),
                json!({"columns": 2}),
                vec![
                    node(Chart, "Claims per week", &["FR-014"]),
                    with(
                        node(Card, "Top adjuster", &["FR-015"]),
                        json!({}),
                        vec![
                            node(Image, "Adjuster photo", &[]),
                            node(Text, "Marie Curie closed 42 claims this month.", &[]),
                            linked(node(Button, "Back to sign in", &[]), "login"),
                        ],
                    ),
                ],
            ),
            with(
                node(Tabs, "", &["FR-016"]),
                json!({"items": ["Details", "History"]}),
                vec![node(Text, "Claim details appear here.", &[])],
            ),
            modal,
        ],
    );
    let dashboard = Screen {
        id: "dashboard".into(),
        title: "Claims dashboard".into(),
        layout: Layout::SidebarLeft,
        components: vec![
            with(
                node(Header, "Acme Claims", &[]),
                json!({}),
                vec![with(
                    node(Navigation, "", &["FR-030"]),
                    json!({"items": ["Dashboard", "Claims", "Reports", "Settings"]}),
                    vec![],
                )],
            ),
            with(
                node(Sidebar, "Filters", &["FR-031"]),
                json!({}),
                vec![with(
                    node(List, "Status", &[]),
                    json!({"items": ["Open", "In review", "Closed"]}),
                    vec![],
                )],
            ),
            main,
            with(
                node(Footer, "© 2025 Acme Insurance", &[]),
                json!({}),
                vec![linked(node(Text, "Sign out", &["FR-032"]), "login")],
            ),
        ],
    };
    Wireframe {
        id: "wf-1".into(),
        project_id: "proj-1".into(),
        title: "Claims portal".into(),
        version: 3,
        screens: vec![login, dashboard],
    }
}

/// Strings that would run, load or break out if any renderer trusted them.
pub(crate) const HOSTILE: &[&str] = &[
    "<script>alert(1)</script>",
    "\"><img src=x onerror=alert(1)>",
    "javascript:alert(1)",
    "' onmouseover='x",
    "</style><script>",
    "https://evil.example/x.png",
    "http://evil.example",
    "//evil.example",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "{{7*7}}",
    "]]><!-- --><?xml?>",
    "\u{0}\u{1}\u{8}\u{b}\u{c}\u{1b}\u{7f}\u{85}\u{fffe}\u{ffff}\r",
    "<iframe src=//evil.example></iframe><object><embed>",
    "<svg onload=alert(1)><foreignObject>",
    "<a href=\"javascript:alert(1)\">x</a>",
    "<meta http-equiv=\"refresh\" content=\"0;url=https://evil.example\"><base href=//evil.example>",
    "<link rel=stylesheet href=https://evil.example/x.css>",
    "url(https://evil.example/x) @import 'x'; expression(alert(1))",
    "&amp;&#x3C;script&#x3E;",
    "Ünïcødé ✓ 𝔥𝔦",
];

pub(crate) fn evil() -> String {
    HOSTILE.join(" ")
}

/// [`sample`] with every string hostile: titles, ids, labels, every string
/// prop (options, items, columns, cells, levels, types), requirement ids and
/// links, one of which resolves to a (hostile) screen and one does not.
pub(crate) fn hostile() -> Wireframe {
    let mut w = sample();
    w.id = evil();
    w.project_id = evil();
    w.title = evil();
    let screen_id = |i: usize| format!("{}{i}", evil());
    for (i, s) in w.screens.iter_mut().enumerate() {
        s.id = screen_id(i);
        s.title = evil();
        for c in &mut s.components {
            poison(c, &screen_id(0));
        }
    }
    let mut missing = node(Kind::Button, &evil(), &[&evil()]);
    missing.link_to = Some(format!("{}missing", evil()));
    w.screens[0].components.push(missing);
    w
}

fn poison(c: &mut Component, link: &str) {
    c.label = evil();
    for v in c.props.values_mut() {
        poison_value(v);
    }
    c.requirement_ids = vec![evil(), evil()];
    if c.link_to.is_some() {
        c.link_to = Some(link.to_string());
    }
    for child in &mut c.children {
        poison(child, link);
    }
}

fn poison_value(v: &mut Value) {
    match v {
        Value::String(s) => *s = evil(),
        Value::Array(items) => items.iter_mut().for_each(poison_value),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_uses_every_component_kind() {
        let w = sample();
        let used: Vec<Kind> = w
            .screens
            .iter()
            .flat_map(|s| s.all_components())
            .map(|c| c.kind)
            .collect();
        for kind in Kind::ALL {
            assert!(used.contains(&kind), "{kind:?} missing from the sample");
        }
    }
}
