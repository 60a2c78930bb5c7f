//! The SVGs parse as XML, use only importer-friendly elements, lay screens
//! out as described, and stay inert with hostile text.

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::super::fixture::{hostile, node, sample};
use super::super::inert::assert_inert;
use super::super::svgs;
use super::XMLNS;
use crate::wireframe::model::Kind;

/// The elements an importer sees, with the SVG root.
const SVG_TAGS: &[&str] = &["svg", "g", "rect", "line", "text", "path", "circle"];

/// One element as parsed back: name, attributes, and (for `text`) content.
struct El {
    name: String,
    attrs: Vec<(String, String)>,
    text: String,
}

impl El {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn num(&self, name: &str) -> i32 {
        self.attr(name).unwrap().parse().unwrap()
    }
}

/// Parses `svg` with quick-xml, failing the test on any XML error, and
/// returns its elements in document order with text and references decoded.
fn parse(svg: &str) -> Vec<El> {
    let mut reader = Reader::from_str(svg);
    let mut out: Vec<El> = Vec::new();
    let mut open: Vec<usize> = Vec::new();
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) => {
                out.push(element(&e));
                open.push(out.len() - 1);
            }
            Event::Empty(e) => out.push(element(&e)),
            Event::End(_) => {
                open.pop();
            }
            Event::Text(t) => {
                if let Some(&i) = open.last() {
                    out[i].text.push_str(&t.decode().unwrap());
                }
            }
            Event::GeneralRef(r) => {
                let c = match r.resolve_char_ref().expect("valid reference") {
                    Some(c) => c.to_string(),
                    None => quick_xml::escape::resolve_xml_entity(&r.decode().unwrap())
                        .expect("known entity")
                        .to_string(),
                };
                if let Some(&i) = open.last() {
                    out[i].text.push_str(&c);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert!(open.is_empty(), "unclosed elements");
    out
}

fn element(e: &BytesStart) -> El {
    let attrs = e
        .attributes()
        .map(|a| {
            let a = a.expect("well-formed attribute");
            let value = a.unescape_value().expect("attribute decodes").into_owned();
            (String::from_utf8(a.key.as_ref().to_vec()).unwrap(), value)
        })
        .collect();
    El {
        name: String::from_utf8(e.name().as_ref().to_vec()).unwrap(),
        attrs,
        text: String::new(),
    }
}

fn text_el<'a>(els: &'a [El], text: &str) -> &'a El {
    els.iter()
        .find(|e| e.name == "text" && e.text == text)
        .unwrap_or_else(|| panic!("no text {text:?}"))
}

#[test]
fn every_screen_parses_as_svg_with_its_title_size_and_only_plain_elements() {
    let w = sample();
    for ((id, svg), screen) in svgs(&w).iter().zip(&w.screens) {
        assert_eq!(id, &screen.id);
        let els = parse(svg);
        let root = &els[0];
        assert_eq!(root.name, "svg");
        assert_eq!(root.attr("xmlns"), Some(XMLNS));
        let (w, h) = (root.num("width"), root.num("height"));
        assert_eq!(root.attr("viewBox"), Some(format!("0 0 {w} {h}").as_str()));
        assert!(els.iter().all(|e| SVG_TAGS.contains(&e.name.as_str())));
        text_el(&els, &screen.title);
        assert_inert(svg, SVG_TAGS, Some(XMLNS));
        // Everything drawn lies inside the canvas.
        for e in els.iter().filter(|e| e.name == "rect") {
            assert!(e.num("y") + e.num("height") <= h, "rect below the canvas");
        }
    }
}

#[test]
fn the_header_sits_on_top_the_sidebar_on_the_left_and_the_footer_below() {
    let svg = &svgs(&sample())[1].1;
    let els = parse(svg);
    let brand = text_el(&els, "Acme Claims");
    let filters = text_el(&els, "Filters");
    let heading = text_el(&els, "All claims");
    let footer = text_el(&els, "Sign out");
    assert!(brand.num("y") < filters.num("y") && brand.num("y") < heading.num("y"));
    assert!(filters.num("x") < heading.num("x"));
    assert!(footer.num("y") > heading.num("y"));
    // Requirement tags and link notes are drawn too.
    text_el(&els, "FR-011");
    text_el(&els, "→ Sign in");
}

#[test]
fn the_centered_layout_draws_a_narrow_column_in_the_middle() {
    let els = parse(&svgs(&sample())[0].1);
    let heading = text_el(&els, "Welcome back");
    let x = heading.num("x");
    assert!(x > 200 && x < 400, "x = {x}");
}

#[test]
fn long_text_is_cut_to_fit_its_box() {
    let mut w = sample();
    let mut button = node(Kind::Button, &"very long label ".repeat(40), &[]);
    button.props.insert("variant".into(), "secondary".into());
    w.screens[0].components.push(button);
    let els = parse(&svgs(&w)[0].1);
    let cut = els
        .iter()
        .find(|e| e.name == "text" && e.text.starts_with("very long"))
        .unwrap();
    assert!(cut.text.ends_with('…'));
    assert!(cut.text.chars().count() * 7 <= 400);
}

#[test]
fn hostile_text_stays_text_and_the_xml_stays_well_formed() {
    let w = hostile();
    for (_, svg) in svgs(&w) {
        assert_inert(&svg, SVG_TAGS, Some(XMLNS));
        let els = parse(&svg);
        assert_eq!(els[0].name, "svg");
        assert!(els.iter().all(|e| SVG_TAGS.contains(&e.name.as_str())));
        assert!(els
            .iter()
            .all(|e| !e.attrs.iter().any(|(n, _)| n.contains("href"))));
        // The title's opening survives, decoded back to the very characters.
        assert!(els
            .iter()
            .any(|e| e.text.starts_with("<script>alert(1)</script> \"><img")));
    }
}
