//! A small typesetter for the PDF: word-wrapped paragraphs of mixed regular
//! and bold text, flowed onto A4 pages with page breaks and numbered footers.
//!
//! Each line is its own `BT … ET` text object positioned absolutely, so text
//! extractors see one line per object, in reading order.

use std::mem;

use lopdf::content::Operation;
use lopdf::Object;

use super::winansi::{encode, width, Font};

/// A4 in points.
pub(super) const PAGE_W: f32 = 595.0;
pub(super) const PAGE_H: f32 = 842.0;
/// About 2 cm.
const MARGIN: f32 = 56.0;
/// The lowest baseline of body text; the footer sits below it.
const BOTTOM: f32 = 64.0;
const FOOTER_Y: f32 = 32.0;
const FOOTER_SIZE: f32 = 8.0;
pub(super) const TEXT_W: f32 = PAGE_W - 2.0 * MARGIN;
/// Lines are filled to this share of the width: viewers that substitute a
/// metric-compatible font for Helvetica may still round differently.
const FILL: f32 = 0.97;

/// How a paragraph is set: size and leading in points, left indent, space
/// before it, and a fill colour (RGB, 0–1).
#[derive(Debug, Clone, Copy)]
pub(super) struct Style {
    pub size: f32,
    pub leading: f32,
    pub indent: f32,
    pub before: f32,
    pub color: (f32, f32, f32),
}

type Segment = (Font, Vec<u8>);

/// A word in WinAnsi bytes; `space` when whitespace came before it.
struct Word {
    font: Font,
    bytes: Vec<u8>,
    space: bool,
}

pub(super) struct Layout {
    pages: Vec<Vec<Operation>>,
    ops: Vec<Operation>,
    /// The baseline of the last line set on the current page.
    y: f32,
}

impl Layout {
    pub fn new() -> Layout {
        Layout {
            pages: Vec::new(),
            ops: Vec::new(),
            y: PAGE_H - MARGIN,
        }
    }

    /// Starts a new page unless `height` points still fit on this one; used
    /// to keep a heading with the lines that follow it.
    pub fn keep(&mut self, height: f32) {
        if self.y - height < BOTTOM && !self.at_top() {
            self.new_page();
        }
    }

    /// Sets `spans` (font, text) as one word-wrapped paragraph.
    pub fn paragraph(&mut self, style: Style, spans: &[(Font, &str)]) {
        if !self.at_top() {
            self.y -= style.before;
        }
        let max = (TEXT_W - style.indent) * FILL;
        for line in wrap(&words(spans), style.size, max) {
            self.y -= style.leading;
            if self.y < BOTTOM {
                self.new_page();
                self.y -= style.leading;
            }
            let (r, g, b) = style.color;
            self.ops.push(op("rg", vec![r.into(), g.into(), b.into()]));
            text_line(
                &mut self.ops,
                MARGIN + style.indent,
                self.y,
                style.size,
                line,
            );
        }
    }

    /// A thin grey rule across the text width, just below the last line.
    pub fn rule(&mut self) {
        let y = self.y - 6.0;
        self.ops.extend([
            op("G", vec![0.6.into()]),
            op("w", vec![0.5.into()]),
            op("m", vec![MARGIN.into(), y.into()]),
            op("l", vec![(PAGE_W - MARGIN).into(), y.into()]),
            op("S", vec![]),
        ]);
        self.y -= 6.0;
    }

    /// The pages' content, each with its footer: `left` and "Page n of N".
    pub fn finish(mut self, left: &str) -> Vec<Vec<Operation>> {
        self.pages.push(mem::take(&mut self.ops));
        let total = self.pages.len();
        let mut left = encode(&left.replace('\n', " "));
        // Leave room for the page number on the right.
        let room = TEXT_W - 80.0;
        if width(Font::Regular, &left, FOOTER_SIZE) > room {
            while width(Font::Regular, &left, FOOTER_SIZE) > room - 8.0 {
                left.pop();
            }
            left.push(0x85); // an ellipsis
        }
        for (i, page) in self.pages.iter_mut().enumerate() {
            let number = format!("Page {} of {total}", i + 1).into_bytes();
            let x = PAGE_W - MARGIN - width(Font::Regular, &number, FOOTER_SIZE);
            page.push(op("rg", vec![0.4.into(), 0.4.into(), 0.4.into()]));
            let segment = |b: &Vec<u8>| vec![(Font::Regular, b.clone())];
            text_line(page, MARGIN, FOOTER_Y, FOOTER_SIZE, segment(&left));
            text_line(page, x.round(), FOOTER_Y, FOOTER_SIZE, segment(&number));
        }
        self.pages
    }

    fn at_top(&self) -> bool {
        self.y >= PAGE_H - MARGIN
    }

    fn new_page(&mut self) {
        self.pages.push(mem::take(&mut self.ops));
        self.y = PAGE_H - MARGIN;
    }
}

fn op(operator: &str, operands: Vec<Object>) -> Operation {
    Operation::new(operator, operands)
}

/// One line as a text object; a font switch inside it continues where the
/// previous run ended, so only the line start is positioned.
fn text_line(ops: &mut Vec<Operation>, x: f32, y: f32, size: f32, line: Vec<Segment>) {
    if line.is_empty() {
        return;
    }
    ops.push(op("BT", vec![]));
    ops.push(op("Td", vec![x.into(), y.into()]));
    for (font, bytes) in line {
        let name = match font {
            Font::Regular => "F1",
            Font::Bold => "F2",
        };
        ops.push(op("Tf", vec![Object::Name(name.into()), size.into()]));
        ops.push(op("Tj", vec![Object::string_literal(bytes)]));
    }
    ops.push(op("ET", vec![]));
}

/// Splits spans into words at spaces, keeping newlines as `None` (a forced
/// line break). Spans join without a space unless their text has one.
fn words(spans: &[(Font, &str)]) -> Vec<Option<Word>> {
    let mut out = Vec::new();
    let mut space = false;
    for &(font, text) in spans {
        let mut word = Vec::new();
        for b in encode(text) {
            match b {
                b' ' | b'\n' => {
                    if !word.is_empty() {
                        let bytes = mem::take(&mut word);
                        out.push(Some(Word { font, bytes, space }));
                    }
                    space = b == b' ';
                    if b == b'\n' {
                        out.push(None);
                    }
                }
                _ => word.push(b),
            }
        }
        if !word.is_empty() {
            out.push(Some(Word {
                font,
                bytes: word,
                space,
            }));
            space = false;
        }
    }
    out
}

/// Greedy line filling to `max` points; a word wider than a whole line is
/// cut wherever it must be.
fn wrap(words: &[Option<Word>], size: f32, max: f32) -> Vec<Vec<Segment>> {
    let space_w = width(Font::Regular, b" ", size);
    let mut lines = Vec::new();
    let mut line: Vec<Segment> = Vec::new();
    let mut used = 0.0;
    for word in words {
        let Some(word) = word else {
            lines.push(mem::take(&mut line));
            used = 0.0;
            continue;
        };
        let gap = if word.space && !line.is_empty() {
            space_w
        } else {
            0.0
        };
        let w = width(word.font, &word.bytes, size);
        if used + gap + w <= max {
            append(&mut line, word.font, gap > 0.0, &word.bytes);
            used += gap + w;
            continue;
        }
        if !line.is_empty() {
            lines.push(mem::take(&mut line));
        }
        let mut rest = word.bytes.as_slice();
        while rest.len() > 1 && width(word.font, rest, size) > max {
            let mut n = rest.len() - 1;
            while n > 1 && width(word.font, &rest[..n], size) > max {
                n -= 1;
            }
            lines.push(vec![(word.font, rest[..n].to_vec())]);
            rest = &rest[n..];
        }
        // `words` never yields an empty word, so `rest` holds at least a byte.
        append(&mut line, word.font, false, rest);
        used = width(word.font, rest, size);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

fn append(line: &mut Vec<Segment>, font: Font, space: bool, bytes: &[u8]) {
    match line.last_mut() {
        Some((f, run)) if *f == font => {
            if space {
                run.push(b' ');
            }
            run.extend_from_slice(bytes);
        }
        _ => {
            let mut run = Vec::with_capacity(bytes.len() + 1);
            if space {
                run.push(b' ');
            }
            run.extend_from_slice(bytes);
            line.push((font, run));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line_width(line: &[Segment], size: f32) -> f32 {
        line.iter().map(|(f, b)| width(*f, b, size)).sum()
    }

    #[test]
    fn wrapped_lines_never_exceed_the_width() {
        let text = "The system shall export the selected invoices as a PDF file. ".repeat(20);
        let spans = [(Font::Bold, "Statement: "), (Font::Regular, text.as_str())];
        let lines = wrap(&words(&spans), 10.0, 200.0);
        assert!(lines.len() > 10);
        for line in &lines {
            assert!(line_width(line, 10.0) <= 200.0, "{line:?}");
        }
        assert_eq!(lines[0][0], (Font::Bold, b"Statement:".to_vec()));
        assert_eq!(lines[0][1].0, Font::Regular);
        assert!(lines[0][1].1.starts_with(b" The system"));
    }

    #[test]
    fn a_word_longer_than_a_line_is_cut_and_newlines_break() {
        let long = "W".repeat(100);
        let lines = wrap(&words(&[(Font::Regular, &long)]), 10.0, 100.0);
        assert!(lines.len() > 5);
        let total: usize = lines.iter().map(|l| l[0].1.len()).sum();
        assert_eq!(total, 100);
        assert!(lines.iter().all(|l| line_width(l, 10.0) <= 100.0));

        let lines = wrap(&words(&[(Font::Regular, "a\nb c")]), 10.0, 100.0);
        assert_eq!(
            lines,
            [
                vec![(Font::Regular, b"a".to_vec())],
                vec![(Font::Regular, b"b c".to_vec())]
            ]
        );
    }

    #[test]
    fn long_documents_flow_onto_numbered_pages() {
        let style = Style {
            size: 10.0,
            leading: 14.0,
            indent: 0.0,
            before: 4.0,
            color: (0.0, 0.0, 0.0),
        };
        let mut layout = Layout::new();
        for _ in 0..120 {
            layout.paragraph(style, &[(Font::Regular, "One line of text.")]);
        }
        let pages = layout.finish("Project");
        assert!(pages.len() >= 3);
        let last = pages.last().unwrap();
        let tj: Vec<&Object> = last
            .iter()
            .filter(|o| o.operator == "Tj")
            .map(|o| &o.operands[0])
            .collect();
        let expected = format!("Page {} of {}", pages.len(), pages.len());
        assert!(tj
            .iter()
            .any(|o| o.as_str().unwrap() == expected.as_bytes()));
    }
}
