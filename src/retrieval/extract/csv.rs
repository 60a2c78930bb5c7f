//! Delimited tables. The first row is the header; each data row becomes a
//! line `header: value; header: value` so a question naming a column and a
//! value finds the row.

use super::{ExtractError, Limits, Section};

/// Rows per section: small enough that a section is one or two chunks.
const ROWS_PER_SECTION: usize = 40;

/// Rows read when deciding whether text is a table at all.
const SNIFF_ROWS: usize = 20;

const DELIMITERS: [u8; 3] = [b',', b';', b'\t'];

/// Longest column name kept, in characters. Each name is repeated on every
/// row, so a long one multiplies the text: a 1 MB header cell over 50 rows
/// would be 50 MB. Real column names are a few words.
const MAX_HEADER_CHARS: usize = 80;

/// The delimiter if the start of `text` is a table: at least two rows, every
/// row with the same number (two or more) of fields, and not prose.
pub(super) fn delimiter(text: &str) -> Option<u8> {
    let (window, whole) = sniff_window(text);
    let mut best: Option<(usize, u8)> = None;
    for delimiter in DELIMITERS {
        let Some(rows) = parse_rows(window, delimiter) else {
            continue;
        };
        // A window that stops mid-file may have cut its last row short.
        let rows = if whole {
            &rows[..]
        } else {
            &rows[..rows.len().saturating_sub(1)]
        };
        let Some(width) = rows.first().map(Vec::len) else {
            continue;
        };
        if rows.len() < 2 || width < 2 || rows.iter().any(|r| r.len() != width) || is_prose(rows) {
            continue;
        }
        if best.is_none_or(|(w, _)| width > w) {
            best = Some((width, delimiter));
        }
    }
    best.map(|(_, d)| d)
}

pub(super) fn extract(text: &str, limits: &Limits) -> Result<Vec<Section>, ExtractError> {
    let delimiter = delimiter(text).unwrap_or(b',');
    // Rows after the sniffed window may be ragged; tolerate them.
    let mut reader = ::csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(false)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let header: Vec<String> = match records.next() {
        Some(Ok(r)) => r.iter().map(column_name).collect(),
        Some(Err(e)) => {
            return Err(ExtractError::Corrupt(format!(
                "the CSV could not be parsed ({e})"
            )))
        }
        None => return Ok(Vec::new()),
    };
    let mut sections = Vec::new();
    let mut lines: Vec<String> = Vec::new();
    let mut first_row = 1;
    let mut row = 0;
    let mut taken = 0u64;
    for record in records {
        let record = record
            .map_err(|e| ExtractError::Corrupt(format!("the CSV could not be parsed ({e})")))?;
        let line = render_row(&header, &record);
        if line.is_empty() {
            continue;
        }
        taken += line.len() as u64 + 1;
        if taken > limits.max_text_bytes {
            return Err(limits.text_too_large());
        }
        row += 1;
        lines.push(line);
        if lines.len() == ROWS_PER_SECTION {
            sections.push(section(&mut lines, first_row, row));
            first_row = row + 1;
        }
    }
    if !lines.is_empty() {
        sections.push(section(&mut lines, first_row, row));
    }
    Ok(sections)
}

fn section(lines: &mut Vec<String>, first: usize, last: usize) -> Section {
    Section {
        text: std::mem::take(lines).join("\n"),
        page: None,
        heading: Some(format!("rows {first}–{last}")),
    }
}

/// A header cell as a column name: trimmed, and cut at [`MAX_HEADER_CHARS`].
fn column_name(cell: &str) -> String {
    let cell = cell.trim();
    match cell.char_indices().nth(MAX_HEADER_CHARS) {
        Some((end, _)) => format!("{}…", cell[..end].trim_end()),
        None => cell.to_string(),
    }
}

/// `header: value; header: value`, skipping empty cells; a cell beyond the
/// header (or under an empty header) is named by its column number.
fn render_row(header: &[String], record: &::csv::StringRecord) -> String {
    let mut parts = Vec::new();
    for (i, value) in record.iter().enumerate() {
        let value = value.split_whitespace().collect::<Vec<_>>().join(" ");
        if value.is_empty() {
            continue;
        }
        match header.get(i).filter(|h| !h.is_empty()) {
            Some(name) => parts.push(format!("{name}: {value}")),
            None => parts.push(format!("column {}: {value}", i + 1)),
        }
    }
    parts.join("; ")
}

/// The text up to its `SNIFF_ROWS`th non-empty line, and whether that is all of it.
fn sniff_window(text: &str) -> (&str, bool) {
    let mut seen = 0;
    let mut end = 0;
    for line in text.split_inclusive('\n') {
        end += line.len();
        if !line.trim().is_empty() {
            seen += 1;
            if seen == SNIFF_ROWS {
                break;
            }
        }
    }
    (&text[..end], end == text.len())
}

fn parse_rows(window: &str, delimiter: u8) -> Option<Vec<Vec<String>>> {
    let mut reader = ::csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(false)
        .from_reader(window.as_bytes());
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.ok()?;
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        rows.push(record.iter().map(str::to_string).collect());
    }
    Some(rows)
}

/// Lines of prose can split into equal numbers of fields by chance. Prose
/// gives itself away: every line ends a sentence, or every field after a
/// comma starts with a space and the clauses run to several words.
fn is_prose(rows: &[Vec<String>]) -> bool {
    let sentences = rows.iter().all(|r| {
        r.last()
            .is_some_and(|f| f.trim_end().ends_with(['.', '!', '?']))
    });
    let continuations: Vec<&String> = rows.iter().flat_map(|r| r.iter().skip(1)).collect();
    let spaced = continuations.iter().all(|f| f.starts_with(' '));
    let fields = rows.iter().map(Vec::len).sum::<usize>();
    let words = rows
        .iter()
        .flatten()
        .map(|f| f.split_whitespace().count())
        .sum::<usize>();
    sentences || (spaced && words > 2 * fields)
}

#[cfg(test)]
mod tests {
    use super::super::{extract as extract_any, fixtures, Kind, Limits};
    use super::*;

    #[test]
    fn rows_are_rendered_as_column_colon_value_pairs() {
        let text = fixtures::csv(&[
            &["id", "requirement", "owner"],
            &["R1", "Invoices over 10k need approval", "Finance"],
            &["R2", "Audit log, kept 7 years", ""],
        ]);
        let doc = extract_any(text.as_bytes(), &Limits::default()).unwrap();
        assert_eq!(doc.kind, Kind::Csv);
        assert_eq!(
            doc.sections[0].text,
            "id: R1; requirement: Invoices over 10k need approval; owner: Finance\n\
             id: R2; requirement: Audit log, kept 7 years"
        );
        assert_eq!(doc.sections[0].heading.as_deref(), Some("rows 1–2"));
    }

    #[test]
    fn rows_are_grouped_forty_to_a_section() {
        let mut text = String::from("n;square\n");
        for n in 1..=85 {
            text.push_str(&format!("{n};{}\n", n * n));
        }
        let sections = extract(&text, &Limits::default()).unwrap();
        let headings: Vec<_> = sections
            .iter()
            .map(|s| s.heading.clone().unwrap())
            .collect();
        assert_eq!(headings, ["rows 1–40", "rows 41–80", "rows 81–85"]);
        assert!(sections[2].text.starts_with("n: 81; square: 6561"));
    }

    #[test]
    fn ragged_rows_after_the_sniffed_window_are_kept() {
        let mut text = String::from("a,b\n");
        for i in 0..30 {
            text.push_str(&format!("{i},x\n"));
        }
        text.push_str("late,y,extra\nshort\n");
        assert_eq!(delimiter(&text), Some(b','));
        let all = extract(&text, &Limits::default())
            .unwrap()
            .into_iter()
            .map(|s| s.text)
            .collect::<Vec<_>>()
            .join("\n");
        assert!(all.contains("a: late; b: y; column 3: extra"), "{all}");
        assert!(all.ends_with("a: short"), "{all}");
    }

    #[test]
    fn a_long_header_cell_is_cut_before_it_is_repeated_on_every_row() {
        let mut text = format!("id,{}\n", "n".repeat(1 << 20));
        for i in 0..50 {
            text.push_str(&format!("{i},x\n"));
        }
        let sections = extract(&text, &Limits::default()).unwrap();
        let total: usize = sections.iter().map(|s| s.text.len()).sum();
        assert!(total < 50 * 200, "{total} bytes of text");
        let first = sections[0].text.lines().next().unwrap();
        assert_eq!(
            first,
            format!("id: 0; {}…: x", "n".repeat(MAX_HEADER_CHARS))
        );
    }

    #[test]
    fn rows_past_the_text_limit_refuse_the_table_while_it_is_read() {
        let limits = Limits {
            max_text_bytes: 1000,
            ..Limits::default()
        };
        let mut text = String::from("id,value\n");
        for i in 0..1000 {
            text.push_str(&format!("{i},some value\n"));
        }
        let err = extract(&text, &limits);
        assert!(matches!(err, Err(ExtractError::TooLarge(_))), "{err:?}");
    }

    #[test]
    fn the_widest_consistent_delimiter_wins() {
        assert_eq!(delimiter("a;b;c\n1,5;2;3\n4;5,5;6\n"), Some(b';'));
        assert_eq!(delimiter("a,b\n1,2\n"), Some(b','));
    }
}
