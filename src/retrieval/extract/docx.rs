//! DOCX: the `word/document.xml` part of the zip, read within the unpacking
//! limits. Paragraph styles Title and Heading1..9 open sections; tables
//! become one line per row with cells joined by " | ". Text a reader of the
//! document never sees is dropped: hidden runs (`w:vanish`), runs of half a
//! point or less, and white runs on the white page.

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::archive;
use super::outline::Outline;
use super::{ExtractError, Limits, Section};

const DOCUMENT_PART: &str = "word/document.xml";

pub(super) fn extract(bytes: &[u8], limits: &Limits) -> Result<Vec<Section>, ExtractError> {
    let xml = archive::read_part(bytes, DOCUMENT_PART, limits)?;
    parse(&xml, limits)
}

/// Text being gathered for one `w:p`; paragraphs nest inside text boxes.
#[derive(Default)]
struct Paragraph {
    text: String,
    heading: Option<u8>,
    /// The paragraph has a shading of its own, which white text shows on.
    shaded: bool,
}

/// What the properties (`w:rPr`) of one open run say about its visibility.
#[derive(Default)]
struct Run {
    vanish: bool,
    /// `w:sz` of 1 or 0 half-points.
    tiny: bool,
    white: bool,
    /// A shading or highlight of its own, which white text shows on.
    shaded: bool,
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
    runs: Vec<Run>,
    /// Inside the properties of the innermost run, or of a paragraph.
    in_run_properties: bool,
    in_paragraph_properties: bool,
    /// Depth inside `w:rPrChange`/`w:pPrChange`: formatting before a tracked
    /// change, which no longer applies.
    in_old_properties: usize,
    /// Depth inside text boxes, whose shapes may be filled with any colour.
    in_text_box: usize,
    /// The page has a background colour that is not white.
    dark_page: bool,
    /// Text gathered so far, hidden text aside.
    taken: u64,
    /// Depth inside `mc:Fallback`, which repeats its `mc:Choice` sibling.
    skipping: usize,
}

fn parse(xml: &[u8], limits: &Limits) -> Result<Vec<Section>, ExtractError> {
    let malformed = |e: &dyn std::fmt::Display| {
        ExtractError::Corrupt(format!("{DOCUMENT_PART} is not well-formed XML ({e})"))
    };
    let mut reader = Reader::from_reader(xml);
    let mut w = Walker {
        outline: Outline::new(limits),
        ..Walker::default()
    };
    loop {
        if w.taken > limits.max_text_bytes {
            return Err(limits.text_too_large());
        }
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
    w.outline.finish(limits)
}

impl Walker {
    fn open(&mut self, e: &BytesStart) {
        let name = e.local_name();
        if self.in_old_properties > 0 {
            if matches!(name.as_ref(), b"rPrChange" | b"pPrChange") {
                self.in_old_properties += 1;
            }
            return;
        }
        if self.in_run_properties {
            self.run_property(e);
            return;
        }
        match name.as_ref() {
            b"p" => self.paragraphs.push(Paragraph::default()),
            b"r" => self.runs.push(Run::default()),
            b"rPr" if !self.runs.is_empty() && !self.in_paragraph_properties => {
                self.in_run_properties = true
            }
            b"pPr" => self.in_paragraph_properties = true,
            b"pPrChange" => self.in_old_properties = 1,
            b"shd" if self.in_paragraph_properties && shading_shows(e) => {
                if let Some(p) = self.paragraphs.last_mut() {
                    p.shaded = true;
                }
            }
            b"txbxContent" => self.in_text_box += 1,
            b"background" => {
                self.dark_page = attribute(e, b"color").is_some_and(|c| !is_white_or_auto(&c))
            }
            b"t" => self.in_text = true,
            b"tab" if !self.runs.is_empty() => self.push("\t"),
            b"br" | b"cr" if !self.runs.is_empty() => self.push("\n"),
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
            b"rPrChange" | b"pPrChange" => {
                self.in_old_properties = self.in_old_properties.saturating_sub(1)
            }
            _ if self.in_old_properties > 0 => {}
            b"rPr" => self.in_run_properties = false,
            b"pPr" => self.in_paragraph_properties = false,
            b"txbxContent" => self.in_text_box = self.in_text_box.saturating_sub(1),
            b"r" => {
                self.runs.pop();
            }
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

    /// Reads one child of a run's `w:rPr`.
    fn run_property(&mut self, e: &BytesStart) {
        let Some(run) = self.runs.last_mut() else {
            return;
        };
        match e.local_name().as_ref() {
            b"rPrChange" => self.in_old_properties = 1,
            b"vanish" => run.vanish = is_on(e),
            b"sz" => {
                run.tiny = attribute(e, b"val")
                    .is_some_and(|v| v.parse::<u32>().is_ok_and(|half_points| half_points <= 1))
            }
            b"color" => {
                run.white = attribute(e, b"val").is_some_and(|v| v.eq_ignore_ascii_case("FFFFFF"))
            }
            b"shd" => run.shaded = shading_shows(e),
            b"highlight" => {
                run.shaded = attribute(e, b"val").is_some_and(|v| v != "none" && v != "white")
            }
            _ => {}
        }
    }

    /// Whether text pushed now is seen. White text counts as unseen only on
    /// the white page: tables and text boxes are often filled by their
    /// style, which this reader does not follow, so white text there stays.
    fn is_hidden(&self) -> bool {
        if self.runs.iter().any(|r| r.vanish || r.tiny) {
            return true;
        }
        let white = self.runs.last().is_some_and(|r| r.white && !r.shaded);
        let shaded_paragraph = self.paragraphs.last().is_some_and(|p| p.shaded);
        white
            && !shaded_paragraph
            && self.tables.is_empty()
            && self.in_text_box == 0
            && !self.dark_page
    }

    fn push(&mut self, s: &str) {
        if self.is_hidden() {
            return;
        }
        if let Some(p) = self.paragraphs.last_mut() {
            self.taken += s.len() as u64;
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
    attribute(e, b"val")
}

fn attribute(e: &BytesStart, name: &[u8]) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == name)
        .map(|a| String::from_utf8_lossy(&a.value).into_owned())
}

/// An on/off property: on unless its `w:val` says otherwise (ECMA-376 §17.17.4).
fn is_on(e: &BytesStart) -> bool {
    attribute(e, b"val").is_none_or(|v| !matches!(v.as_str(), "0" | "false" | "off"))
}

/// A `w:shd` whose fill is a colour other than white.
fn shading_shows(e: &BytesStart) -> bool {
    attribute(e, b"fill").is_some_and(|f| !is_white_or_auto(&f))
}

fn is_white_or_auto(colour: &str) -> bool {
    colour.eq_ignore_ascii_case("FFFFFF") || colour.eq_ignore_ascii_case("auto")
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
mod tests;
