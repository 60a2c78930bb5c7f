//! DOCX: the `word/document.xml` part of the zip, read within the unpacking
//! limits. Paragraph styles Title and Heading1..9 open sections; tables
//! become one line per row with cells joined by " | ".

use std::io::{Cursor, Read};

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::outline::Outline;
use super::{ExtractError, Limits, Section};

const DOCUMENT_PART: &str = "word/document.xml";

pub(super) fn extract(bytes: &[u8], limits: &Limits) -> Result<Vec<Section>, ExtractError> {
    let xml = read_document_part(bytes, limits)?;
    parse(&xml)
}

/// The main document part, refusing archives whose declared sizes or entry
/// count exceed the limits, and stopping a lying entry as soon as it passes
/// the limit while it inflates.
fn read_document_part(bytes: &[u8], limits: &Limits) -> Result<Vec<u8>, ExtractError> {
    let corrupt = |e: zip::result::ZipError| {
        ExtractError::Corrupt(format!("the DOCX archive could not be read ({e})"))
    };
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(corrupt)?;
    if archive.len() > limits.max_zip_entries {
        return Err(ExtractError::TooLarge(format!(
            "the archive holds {} files; at most {} are accepted",
            archive.len(),
            limits.max_zip_entries
        )));
    }
    let mut declared = 0u64;
    for i in 0..archive.len() {
        declared = declared.saturating_add(archive.by_index_data(i).map_err(corrupt)?.size());
    }
    if declared > limits.max_unpacked_bytes {
        return Err(too_large(limits, Some(declared)));
    }
    let entry = archive.by_name(DOCUMENT_PART).map_err(corrupt)?;
    let declared = entry.size();
    // Capacity from the header is a hint only: it may lie, and is bounded.
    let mut xml = Vec::with_capacity(declared.min(16 << 20) as usize);
    let read = entry
        .take(limits.max_unpacked_bytes.saturating_add(1))
        .read_to_end(&mut xml);
    if let Err(e) = read {
        // The zip reader stops an entry that inflates past its declared size;
        // an archive that lies about its size is treated as a bomb.
        if xml.len() as u64 >= declared {
            return Err(ExtractError::TooLarge(format!(
                "{DOCUMENT_PART} unpacks to more than the {declared} bytes its header declares"
            )));
        }
        return Err(ExtractError::Corrupt(format!(
            "{DOCUMENT_PART} could not be unpacked ({e})"
        )));
    }
    if xml.len() as u64 > limits.max_unpacked_bytes {
        return Err(too_large(limits, None));
    }
    Ok(xml)
}

fn too_large(limits: &Limits, declared: Option<u64>) -> ExtractError {
    let limit_mib = limits.max_unpacked_bytes >> 20;
    ExtractError::TooLarge(match declared {
        Some(bytes) => format!(
            "the archive unpacks to {} MiB; the limit is {limit_mib} MiB",
            bytes >> 20
        ),
        None => format!("the document unpacks to more than {limit_mib} MiB"),
    })
}

/// Text being gathered for one `w:p`; paragraphs nest inside text boxes.
#[derive(Default)]
struct Paragraph {
    text: String,
    heading: Option<u8>,
}

/// Cells of the current row of one (possibly nested) table.
#[derive(Default)]
struct Table {
    row: Vec<String>,
    cell: String,
}

#[derive(Default)]
struct Walker {
    outline: Outline,
    paragraphs: Vec<Paragraph>,
    tables: Vec<Table>,
    in_text: bool,
    in_run: usize,
    /// Depth inside `mc:Fallback`, which repeats its `mc:Choice` sibling.
    skipping: usize,
}

fn parse(xml: &[u8]) -> Result<Vec<Section>, ExtractError> {
    let malformed = |e: &dyn std::fmt::Display| {
        ExtractError::Corrupt(format!("{DOCUMENT_PART} is not well-formed XML ({e})"))
    };
    let mut reader = Reader::from_reader(xml);
    let mut w = Walker::default();
    loop {
        let event = reader.read_event().map_err(|e| malformed(&e))?;
        if w.skipping > 0 {
            match &event {
                Event::Start(e) if e.local_name().as_ref() == b"Fallback" => w.skipping += 1,
                Event::End(e) if e.local_name().as_ref() == b"Fallback" => w.skipping -= 1,
                Event::Eof => break,
                _ => {}
            }
            continue;
        }
        match event {
            Event::Start(e) if e.local_name().as_ref() == b"Fallback" => w.skipping = 1,
            Event::Start(e) => w.open(&e),
            Event::Empty(e) => {
                w.open(&e);
                w.close(e.local_name().as_ref());
            }
            Event::End(e) => w.close(e.local_name().as_ref()),
            Event::Text(t) if w.in_text => w.push(&t.decode().map_err(|e| malformed(&e))?),
            Event::CData(t) if w.in_text => w.push(&t.decode().map_err(|e| malformed(&e))?),
            Event::GeneralRef(r) if w.in_text => {
                let name = r.decode().map_err(|e| malformed(&e))?;
                let resolved = match r.resolve_char_ref().map_err(|e| malformed(&e))? {
                    Some(c) => c.to_string(),
                    None => quick_xml::escape::resolve_predefined_entity(&name)
                        .ok_or_else(|| malformed(&format!("unknown entity &{name};")))?
                        .to_string(),
                };
                w.push(&resolved);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(w.outline.finish())
}

impl Walker {
    fn open(&mut self, e: &BytesStart) {
        match e.local_name().as_ref() {
            b"p" => self.paragraphs.push(Paragraph::default()),
            b"r" => self.in_run += 1,
            b"t" => self.in_text = true,
            b"tab" if self.in_run > 0 => self.push("\t"),
            b"br" | b"cr" if self.in_run > 0 => self.push("\n"),
            b"pStyle" => {
                let level = style_value(e).and_then(|v| heading_level(&v));
                if let Some(p) = self.paragraphs.last_mut() {
                    p.heading = level;
                }
            }
            b"tbl" => {
                if self.tables.is_empty() {
                    self.outline.paragraph_break();
                }
                self.tables.push(Table::default());
            }
            _ => {}
        }
    }

    fn close(&mut self, name: &[u8]) {
        match name {
            b"p" => {
                if let Some(p) = self.paragraphs.pop() {
                    self.end_paragraph(p);
                }
            }
            b"r" => self.in_run = self.in_run.saturating_sub(1),
            b"t" => self.in_text = false,
            b"tc" => {
                if let Some(t) = self.tables.last_mut() {
                    let cell = std::mem::take(&mut t.cell);
                    t.row
                        .push(cell.split_whitespace().collect::<Vec<_>>().join(" "));
                }
            }
            b"tr" => {
                if let Some(t) = self.tables.last_mut() {
                    let line = std::mem::take(&mut t.row).join(" | ");
                    self.emit_line(&line, self.tables.len() - 1, false);
                }
            }
            b"tbl" => {
                self.tables.pop();
                if self.tables.is_empty() {
                    self.outline.paragraph_break();
                }
            }
            _ => {}
        }
    }

    fn push(&mut self, s: &str) {
        if let Some(p) = self.paragraphs.last_mut() {
            p.text.push_str(s);
        }
    }

    fn end_paragraph(&mut self, p: Paragraph) {
        match (p.heading, self.tables.is_empty()) {
            (Some(level), true) => self.outline.heading(level, &p.text),
            _ => self.emit_line(&p.text, self.tables.len(), true),
        }
    }

    /// A finished line goes into the cell of the table `depth` levels down
    /// (a paragraph in a cell, a nested table's row), or the body at depth 0
    /// as a paragraph or, for a table row, a line.
    fn emit_line(&mut self, line: &str, depth: usize, paragraph: bool) {
        if depth == 0 {
            self.outline.text(line);
            if paragraph {
                self.outline.paragraph_break();
            } else {
                self.outline.line_break();
            }
        } else if let Some(t) = self.tables.get_mut(depth - 1) {
            if !t.cell.is_empty() {
                t.cell.push(' ');
            }
            t.cell.push_str(line);
        }
    }
}

fn style_value(e: &BytesStart) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == b"val")
        .map(|a| String::from_utf8_lossy(&a.value).into_owned())
}

/// Title sits above Heading1, so "Title > Chapter" paths come out right.
/// Word's built-in style ids are English whatever the UI language.
fn heading_level(style: &str) -> Option<u8> {
    if style.eq_ignore_ascii_case("Title") {
        return Some(0);
    }
    let digits = style
        .strip_prefix("Heading")
        .or_else(|| style.strip_prefix("heading"))?;
    match digits.parse::<u8>() {
        Ok(n @ 1..=9) => Some(n),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
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
}
