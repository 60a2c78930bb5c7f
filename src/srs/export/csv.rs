//! The traceability matrix as CSV: one row per (requirement, source) pair,
//! with the wireframe screens that cite the requirement.
//!
//! Analysts open this in a spreadsheet, so a cell that a spreadsheet would
//! read as a formula is defused (OWASP "CSV injection").

use std::borrow::Cow;
use std::collections::BTreeMap;

use super::{section_heading, shorten_quote, ExportError};
use crate::srs::model::Srs;

pub(super) const HEADER: [&str; 9] = [
    "requirement_id",
    "title",
    "section",
    "priority",
    "verification",
    "document_id",
    "chunk_id",
    "quote",
    "wireframe_screens",
];

pub(super) fn render(
    srs: &Srs,
    screens: &BTreeMap<String, Vec<String>>,
) -> Result<Vec<u8>, ExportError> {
    // CRLF as RFC 4180 asks; every field quoted only when it needs to be.
    let mut w = ::csv::WriterBuilder::new()
        .terminator(::csv::Terminator::CRLF)
        .from_writer(Vec::new());
    w.write_record(HEADER)?;
    for (section, req) in srs.requirements() {
        let section = section_heading(&section.key, &section.title);
        let cited_by = screens
            .get(&req.id)
            .map(|names| names.join("; "))
            .unwrap_or_default();
        let sources: Vec<[String; 3]> = if req.sources.is_empty() {
            vec![Default::default()]
        } else {
            req.sources
                .iter()
                .map(|s| {
                    [
                        s.document_id.clone(),
                        s.chunk_id.clone(),
                        shorten_quote(&s.quote),
                    ]
                })
                .collect()
        };
        for [document_id, chunk_id, quote] in &sources {
            let row = [
                req.id.as_str(),
                req.title.as_str(),
                section.as_str(),
                // The lowercase wire names, so the matrix can be re-imported.
                req.priority.as_str(),
                req.verification.as_str(),
                document_id.as_str(),
                chunk_id.as_str(),
                quote.as_str(),
                cited_by.as_str(),
            ];
            w.write_record(row.map(defuse).iter().map(|c| c.as_bytes()))?;
        }
    }
    w.into_inner().map_err(|e| ExportError::Io(e.into_error()))
}

/// Prefixes `'` to a cell a spreadsheet would evaluate as a formula.
fn defuse(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::srs::export::fixture::{sample, screens, FORMULA_QUOTE};

    fn rows(bytes: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
        let mut r = ::csv::Reader::from_reader(bytes);
        let header = r.headers().unwrap().iter().map(String::from).collect();
        let rows = r
            .records()
            .map(|rec| rec.unwrap().iter().map(String::from).collect())
            .collect();
        (header, rows)
    }

    #[test]
    fn there_is_one_row_per_requirement_and_source() {
        let srs = sample();
        let (header, rows) = rows(&render(&srs, &screens()).unwrap());
        assert_eq!(header, HEADER);
        let expected: usize = srs
            .requirements()
            .map(|(_, r)| r.sources.len().max(1))
            .sum();
        assert_eq!(rows.len(), expected);
        assert_eq!(rows.len(), 4);

        let ids: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
        assert_eq!(ids, ["FR-001", "FR-001", "FR-002", "NFR-PERF-001"]);
        assert_eq!(rows[0][2], "3.2 Functional requirements");
        assert_eq!(rows[0][3], "must");
        assert_eq!(rows[0][4], "test");
        assert_eq!(rows[0][5], "doc-brief");
        assert_eq!(rows[0][6], "doc-brief#4");
        assert!(rows[0][7].ends_with('…'), "long quotes are shortened");
        assert_eq!(rows[0][8], "'=Export dialog; Invoice list");
    }

    #[test]
    fn a_requirement_without_sources_gets_empty_source_cells() {
        let (_, rows) = rows(&render(&sample(), &screens()).unwrap());
        let row = &rows[2];
        assert_eq!(row[0], "FR-002");
        assert_eq!(row[1], "Show <b>names</b> & \"labels\"");
        assert_eq!(&row[5..], ["", "", "", ""]);
    }

    #[test]
    fn cells_a_spreadsheet_would_evaluate_are_defused() {
        let (_, rows) = rows(&render(&sample(), &BTreeMap::new()).unwrap());
        assert_eq!(rows[1][7], format!("'{FORMULA_QUOTE}"));
        assert_eq!(rows[3][7], "'+5 % tolerance | café ✓");
        assert_eq!(rows[1][8], "");
        for row in &rows {
            for cell in row {
                assert!(
                    !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                    "{cell}"
                );
            }
        }
        assert_eq!(defuse("-1"), "'-1");
        assert_eq!(defuse("\tx"), "'\tx");
        assert_eq!(defuse("a=b"), "a=b");
    }
}
