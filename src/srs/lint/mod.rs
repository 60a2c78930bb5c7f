//! Rule-based requirement linter: vague terms, escape clauses, TBDs, "and/or",
//! pronouns, missing or repeated "shall", over-long, duplicated and
//! contradictory statements, and, for documents, missing acceptance criteria
//! and rationale, and the junk a small model writes ([`junk`]: loops,
//! numbering runs, criteria that repeat themselves, invented names,
//! requirements from nowhere), in requirements and section texts alike. No
//! model is involved, so the verdict is instant and the same on every run.
//!
//! The rules follow the "requirements language criteria" of ISO/IEC/IEEE 29148
//! (avoid subjective and vague terms, loopholes, unresolved TBDs, pronouns) and
//! the INCOSE Guide to Writing Requirements (one "shall" per requirement).
//! Spans are character offsets, as [`Span`] documents.

use crate::srs::{LintReport, Requirement, Severity, Srs};

mod junk;
mod pairs;
mod report;
mod rules;
#[cfg(test)]
mod tests;
mod text;

use pairs::check_pairs;
use report::report;
use rules::{check_fields, check_statement};
use text::{strip_marker, trimmed};

/// Lints every requirement and every section text of the document: a
/// finding about a requirement carries its id and its span indexes the
/// statement; one about a section's text carries the section's key and
/// indexes that text. `sources` are the texts the document was written from
/// (its brief, its documents), beside the sentences its requirements quote:
/// a name none of them uses is reported as invented.
pub fn lint_document(srs: &Srs, sources: &[&str]) -> LintReport {
    let known = junk::Known::new(srs, sources);
    let texts: Vec<(&Requirement, Vec<char>)> = srs
        .requirements()
        .map(|(_, r)| (r, r.statement.chars().collect()))
        .collect();
    let mut statements: Vec<Statement> = texts
        .iter()
        .map(|(r, chars)| Statement {
            chars,
            offset: 0,
            extent: trimmed(chars),
            label: r.id.clone(),
            requirement_id: Some(r.id.clone()),
            section: None,
        })
        .collect();
    let mut hits = lint_statements(&statements);
    for (i, (r, chars)) in texts.iter().enumerate() {
        hits.extend(check_fields(r).into_iter().map(|h| (i, h)));
        let own = junk::loops(chars, 0, "statement")
            .into_iter()
            .chain(junk::invented_names(chars, 0, &known))
            .chain(junk::requirement_hits(r, &known));
        hits.extend(own.map(|h| (i, h)));
    }
    // Section texts count like statements, so a document of junk prose
    // scores like one of junk requirements.
    let prose: Vec<(&str, Vec<char>)> = srs
        .sections
        .iter()
        .filter(|s| !s.text.trim().is_empty())
        .map(|s| (s.key.as_str(), s.text.chars().collect()))
        .collect();
    for (key, chars) in &prose {
        let i = statements.len();
        statements.push(Statement {
            chars,
            offset: 0,
            extent: trimmed(chars),
            label: format!("section {key}"),
            requirement_id: None,
            section: Some(key.to_string()),
        });
        let own = junk::loops(chars, 0, &format!("text of section {key}"))
            .into_iter()
            .chain(junk::invented_names(chars, 0, &known));
        hits.extend(own.map(|h| (i, h)));
    }
    report(&statements, hits)
}

/// Lints pasted text: each non-empty line, after stripping a leading list
/// marker ("-", "*", "+", "•", "1.", "1)") and then a requirement id
/// ("FR-001:", "NFR-PERF-002 -"), is one statement; spans index the WHOLE
/// pasted text.
pub fn lint_text(text: &str) -> LintReport {
    let chars: Vec<char> = text.chars().collect();
    let mut statements = Vec::new();
    let mut line_start = 0;
    for (n, line) in chars.split(|&c| c == '\n').enumerate() {
        let (s, e) = trimmed(line);
        if s < e {
            let body = (s + strip_marker(&line[s..e])).min(e);
            let (start, end) = (line_start + body, line_start + e);
            statements.push(Statement {
                chars: &chars[start..end],
                offset: start,
                // A line holding only a marker or an id points at that marker.
                extent: if start == end {
                    (line_start + s, end)
                } else {
                    (start, end)
                },
                label: format!("line {}", n + 1),
                requirement_id: None,
                section: None,
            });
        }
        line_start += line.len() + 1;
    }
    report(&statements, lint_statements(&statements))
}

/// One statement under check.
pub(super) struct Statement<'a> {
    pub(super) chars: &'a [char],
    /// Offset of `chars[0]` in the text the spans index.
    pub(super) offset: usize,
    /// The span of findings about the statement as a whole.
    pub(super) extent: (usize, usize),
    /// How other findings name it: a requirement id or "line N".
    pub(super) label: String,
    pub(super) requirement_id: Option<String>,
    /// The section whose text this is, when it is not a statement.
    pub(super) section: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Rule {
    VagueTerm,
    AndOr,
    EscapeClause,
    MultipleShall,
    NoShall,
    Pronoun,
    Tbd,
    MissingAcceptanceCriteria,
    MissingRationale,
    Duplicate,
    NearDuplicate,
    Conflict,
    TooLong,
    EmptyStatement,
    RepeatedNgram,
    NumberingRun,
    CriterionRepeats,
    StatementRepeated,
    InventedName,
    Unsourced,
}

impl Rule {
    /// Stable ids: clients key on them, so never rename one.
    pub(super) fn id(self) -> &'static str {
        match self {
            Rule::VagueTerm => "vague-term",
            Rule::AndOr => "and-or",
            Rule::EscapeClause => "escape-clause",
            Rule::MultipleShall => "multiple-shall",
            Rule::NoShall => "no-shall",
            Rule::Pronoun => "pronoun-without-referent",
            Rule::Tbd => "tbd",
            Rule::MissingAcceptanceCriteria => "missing-acceptance-criteria",
            Rule::MissingRationale => "missing-rationale",
            Rule::Duplicate => "duplicate",
            Rule::NearDuplicate => "near-duplicate",
            Rule::Conflict => "conflict",
            Rule::TooLong => "too-long",
            Rule::EmptyStatement => "empty-statement",
            Rule::RepeatedNgram => "repeated-ngram",
            Rule::NumberingRun => "numbering-run",
            Rule::CriterionRepeats => "criterion-repeats",
            Rule::StatementRepeated => "statement-repeated",
            Rule::InventedName => "invented-name",
            Rule::Unsourced => "unsourced",
        }
    }

    pub(super) fn severity(self) -> Severity {
        match self {
            Rule::MultipleShall
            | Rule::Tbd
            | Rule::MissingAcceptanceCriteria
            | Rule::Duplicate
            | Rule::EmptyStatement
            | Rule::RepeatedNgram
            | Rule::NumberingRun
            | Rule::CriterionRepeats
            | Rule::InventedName => Severity::Error,
            Rule::MissingRationale | Rule::TooLong => Severity::Info,
            _ => Severity::Warning,
        }
    }
}

pub(super) struct Hit {
    pub(super) rule: Rule,
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) message: String,
}

impl Hit {
    pub(super) fn new(rule: Rule, (start, end): (usize, usize), message: String) -> Hit {
        Hit {
            rule,
            start,
            end,
            message,
        }
    }
}

fn lint_statements(statements: &[Statement]) -> Vec<(usize, Hit)> {
    let mut hits: Vec<(usize, Hit)> = Vec::new();
    for (i, st) in statements.iter().enumerate() {
        hits.extend(check_statement(st).into_iter().map(|h| (i, h)));
    }
    hits.extend(check_pairs(statements));
    hits
}
