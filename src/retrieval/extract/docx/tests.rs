//! DOCX reading against real and hostile documents.

use super::super::{extract as extract_any, fixtures, Kind};
use super::*;
use std::time::{Duration, Instant};

fn sections(bytes: &[u8]) -> Vec<Section> {
    let doc = extract_any(bytes, &Limits::default()).unwrap();
    assert_eq!(doc.kind, Kind::Docx);
    doc.sections
}

#[test]
fn headings_open_sections_under_their_heading_path() {
    let bytes = fixtures::docx(&[
        ("Title", "Procurement Handbook"),
        ("", "Read this first."),
        ("Heading1", "Chapter 2"),
        ("Heading2", "Approvals"),
        ("", "Invoices over 10k need two approvals."),
        ("Heading1", "Chapter 3"),
        ("", "Audit & <logging> rules."),
    ]);
    let s = sections(&bytes);
    let got = super::super::outline::headings_and_texts(&s);
    assert_eq!(
        got,
        [
            (Some("Procurement Handbook"), "Read this first."),
            (
                Some("Procurement Handbook > Chapter 2 > Approvals"),
                "Invoices over 10k need two approvals."
            ),
            (
                Some("Procurement Handbook > Chapter 3"),
                "Audit & <logging> rules."
            ),
        ]
    );
}

#[test]
fn paragraphs_are_separated_and_tabs_and_breaks_are_kept_as_whitespace() {
    let bytes = fixtures::docx(&[("", "one\ttwo"), ("", "three\nfour")]);
    assert_eq!(sections(&bytes)[0].text, "one two\n\nthree\nfour");
}

#[test]
fn tables_become_rows_of_cells_joined_by_bars() {
    let cell = |t: &str| format!("<w:tc>{}</w:tc>", fixtures::docx_paragraph("", t));
    let row = |a: &str, b: &str| format!("<w:tr>{}{}</w:tr>", cell(a), cell(b));
    let body = format!(
        "{}<w:tbl><w:tblPr/>{}{}</w:tbl>{}",
        fixtures::docx_paragraph("", "Before."),
        row("Role", "Limit"),
        row("Manager", "10k"),
        fixtures::docx_paragraph("", "After.")
    );
    assert_eq!(
        sections(&fixtures::docx_with_body(&body))[0].text,
        "Before.\n\nRole | Limit\nManager | 10k\n\nAfter."
    );
}

#[test]
fn character_references_and_fallback_copies_are_handled() {
    let body = r#"<w:p><w:r><w:t>caf&#233; &amp; co</w:t></w:r>
        <mc:AlternateContent><mc:Choice><w:r><w:t> once</w:t></w:r></mc:Choice>
        <mc:Fallback><w:r><w:t> twice</w:t></w:r></mc:Fallback></mc:AlternateContent></w:p>"#;
    assert_eq!(
        sections(&fixtures::docx_with_body(body))[0].text,
        "café & co once"
    );
}

fn run(properties: &str, text: &str) -> String {
    format!(r#"<w:r><w:rPr>{properties}</w:rPr><w:t xml:space="preserve">{text}</w:t></w:r>"#)
}

#[test]
fn hidden_tiny_and_white_runs_are_dropped() {
    let body = format!(
        "<w:p>{}{}{}{}{}{}</w:p>",
        run("<w:b/>", "Visible."),
        run("<w:vanish/>", " Vanished."),
        run(r#"<w:sz w:val="1"/>"#, " Half a point."),
        run(r#"<w:color w:val="FFFFFF"/>"#, " White on the page."),
        run(r#"<w:vanish w:val="0"/>"#, " Not vanished."),
        run(
            r#"<w:i/><w:rPrChange w:id="1"><w:rPr><w:vanish/></w:rPr></w:rPrChange>"#,
            " Hidden before a tracked change."
        ),
    );
    assert_eq!(
        sections(&fixtures::docx_with_body(&body))[0].text,
        "Visible. Not vanished. Hidden before a tracked change."
    );
}

#[test]
fn white_runs_on_a_shading_or_in_a_table_are_kept() {
    let white = r#"<w:color w:val="ffffff"/>"#;
    let shaded = format!(r#"{white}<w:shd w:val="clear" w:fill="1F3864"/>"#);
    let cell = format!("<w:tc><w:p>{}</w:p></w:tc>", run(white, "Header"));
    let body = format!(
        "<w:p>{}</w:p><w:tbl><w:tr>{cell}</w:tr></w:tbl>",
        run(&shaded, "White on navy."),
    );
    assert_eq!(
        sections(&fixtures::docx_with_body(&body))[0].text,
        "White on navy.\n\nHeader"
    );
}

#[test]
fn text_past_the_limit_is_refused_while_it_is_read() {
    let limits = Limits {
        max_text_bytes: 100,
        ..Limits::default()
    };
    let body = fixtures::docx_paragraph("", &"words ".repeat(100));
    let err = extract_any(&fixtures::docx_with_body(&body), &limits);
    assert!(matches!(err, Err(ExtractError::TooLarge(_))), "{err:?}");
}

#[test]
fn malformed_xml_is_corrupt() {
    let bytes = fixtures::docx_with_body("<w:p><w:r><w:t>x</w:r></w:t></w:p>");
    let err = extract_any(&bytes, &Limits::default());
    assert!(
        matches!(&err, Err(ExtractError::Corrupt(m)) if m.contains("XML")),
        "{err:?}"
    );
}

#[test]
fn a_zip_bomb_is_refused_from_its_declared_size_without_inflating() {
    let bomb = fixtures::zip_bomb();
    let started = Instant::now();
    let err = extract_any(&bomb, &Limits::default());
    assert!(
        matches!(&err, Err(ExtractError::TooLarge(m)) if m.contains("310 MiB")),
        "{err:?}"
    );
    // Inflating 310 MiB takes far longer than reading a central directory.
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_bomb_that_lies_about_its_size_is_stopped_at_the_limit() {
    let limits = Limits {
        max_unpacked_bytes: 1 << 20,
        ..Limits::default()
    };
    let err = extract_any(&fixtures::lying_zip_bomb(), &limits);
    assert!(
        matches!(&err, Err(ExtractError::TooLarge(m)) if m.contains("more than the 1000 bytes")),
        "{err:?}"
    );
}

#[test]
fn too_many_entries_is_too_large() {
    let limits = Limits {
        max_zip_entries: 2,
        ..Limits::default()
    };
    let err = extract_any(&fixtures::docx(&[("", "x")]), &limits);
    assert!(
        matches!(&err, Err(ExtractError::TooLarge(m)) if m.contains("3 files")),
        "{err:?}"
    );
}

#[test]
fn heading_styles_map_to_levels_and_others_do_not() {
    assert_eq!(heading_level("Title"), Some(0));
    assert_eq!(heading_level("Heading1"), Some(1));
    assert_eq!(heading_level("Heading9"), Some(9));
    assert_eq!(heading_level("Heading10"), None);
    assert_eq!(heading_level("Normal"), None);
    assert_eq!(heading_level("HeadingChar"), None);
}
