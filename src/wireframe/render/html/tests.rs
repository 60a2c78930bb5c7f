//! The page is inert with any tree, places regions by layout, links only
//! to screens that exist, and shows requirements.

use super::super::fixture::{evil, hostile, sample};
use super::super::inert::{assert_inert, tags};
use super::super::{html, screen_html};

/// Every tag the HTML renderer may emit.
const HTML_TAGS: &[&str] = &[
    "html",
    "head",
    "meta",
    "title",
    "style",
    "body",
    "header",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "p",
    "nav",
    "ol",
    "ul",
    "li",
    "a",
    "section",
    "div",
    "span",
    "strong",
    "aside",
    "footer",
    "label",
    "input",
    "select",
    "option",
    "textarea",
    "button",
    "fieldset",
    "legend",
    "table",
    "caption",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "figure",
    "figcaption",
    "svg",
    "line",
    "rect",
    "polyline",
];

#[test]
fn the_sample_page_is_inert_and_has_every_screen_as_an_anchor() {
    let page = html(&sample());
    assert_inert(&page, HTML_TAGS, None);
    assert!(page.contains("id=\"screen-login\""));
    assert!(page.contains("id=\"screen-dashboard\""));
    assert_eq!(page.matches("<meta http-equiv").count(), 1);
    assert!(
        page.contains("content=\"default-src 'none'; style-src 'unsafe-inline'; img-src 'none'\"")
    );
}

#[test]
fn linked_components_point_at_their_screen_and_missing_targets_stay_text() {
    let mut w = sample();
    w.screens[0].components.push({
        let mut c = super::super::fixture::node(crate::wireframe::model::Kind::Button, "Help", &[]);
        c.link_to = Some("help".into());
        c
    });
    let page = html(&w);
    assert!(
        page.contains("<a class=\"wf-button wf-primary\" href=\"#screen-dashboard\">Sign in</a>")
    );
    assert!(!page.contains("#screen-help"));
    assert!(page.contains(">Help</button>"));
}

#[test]
fn components_carry_their_requirements_as_tags_and_an_attribute() {
    let page = html(&sample());
    assert!(page.contains("data-requirements=\"FR-010 FR-011\""));
    assert!(page.contains("<span class=\"wf-req\">FR-011</span>"));
}

#[test]
fn controls_are_disabled_and_nothing_can_be_submitted() {
    let page = html(&sample());
    let found = tags(&page);
    assert!(found.iter().all(|t| t.name != "form"));
    for t in found
        .iter()
        .filter(|t| matches!(t.name.as_str(), "input" | "select" | "textarea" | "button"))
    {
        assert!(
            t.attrs.iter().any(|(n, _)| n == "disabled"),
            "<{}> not disabled",
            t.name
        );
    }
}

#[test]
fn sidebar_layouts_place_regions_and_stack_on_narrow_screens() {
    let page = html(&sample());
    let dash = &page[page.find("id=\"screen-dashboard\"").unwrap()..];
    let (top, side, body, bottom) = (
        dash.find("wf-top").unwrap(),
        dash.find("wf-side").unwrap(),
        dash.find("wf-body").unwrap(),
        dash.find("wf-bottom").unwrap(),
    );
    assert!(top < side && side < body && body < bottom);
    assert!(page.contains("wf-layout-sidebar-left"));
    assert!(page.contains("@media (max-width:40rem)"));
    assert!(page.contains("name=\"viewport\""));
}

#[test]
fn one_screen_renders_alone_and_an_unknown_id_is_none() {
    let w = sample();
    let login = screen_html(&w, "login").unwrap();
    assert!(login.contains("id=\"screen-login\""));
    assert!(!login.contains("id=\"screen-dashboard\""));
    assert!(login.contains("<style>"));
    assert!(screen_html(&w, "nope").is_none());
}

#[test]
fn hostile_text_everywhere_is_shown_escaped_and_never_becomes_markup() {
    let w = hostile();
    let page = html(&w);
    assert_inert(&page, HTML_TAGS, None);
    assert_eq!(page.matches("<meta http-equiv").count(), 1);
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(page.contains("javascript&#58;alert(1)"));
    assert!(page.contains("Ünïcødé ✓ 𝔥𝔦"));
    // The one link that resolves uses the sanitised anchor of screen 0.
    assert!(page.contains(&format!(
        "href=\"#screen-{}\"",
        super::super::text::esc(&super::super::slug(&format!("{}0", evil())))
    )));
    for s in &w.screens {
        let one = screen_html(&w, &s.id).unwrap();
        assert_inert(&one, HTML_TAGS, None);
    }
}
