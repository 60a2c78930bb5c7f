//! Rule-based requirement linter: vague terms, escape clauses, TBDs, "and/or",
//! pronouns, missing or repeated "shall", over-long, duplicated and
//! contradictory statements, and, for documents, missing acceptance criteria
//! and rationale. No model is involved, so the verdict is instant and the same
//! on every run.
//!
//! The rules follow the "requirements language criteria" of ISO/IEC/IEEE 29148
//! (avoid subjective and vague terms, loopholes, unresolved TBDs, pronouns) and
//! the INCOSE Guide to Writing Requirements (one "shall" per requirement).
//! Spans are character offsets, as [`Span`] documents.

use crate::srs::{LintReport, Requirement, Severity, Srs};

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

/// Lints every requirement of the document: findings carry the requirement
/// id and their spans index the requirement's statement.
pub fn lint_document(srs: &Srs) -> LintReport {
    let texts: Vec<(&Requirement, Vec<char>)> = srs
        .requirements()
        .map(|(_, r)| (r, r.statement.chars().collect()))
        .collect();
    let statements: Vec<Statement> = texts
        .iter()
        .map(|(r, chars)| Statement {
            chars,
            offset: 0,
            extent: trimmed(chars),
            label: r.id.clone(),
            requirement_id: Some(r.id.clone()),
        })
        .collect();
    let mut hits = lint_statements(&statements);
    for (i, (r, _)) in texts.iter().enumerate() {
        hits.extend(check_fields(r).into_iter().map(|h| (i, h)));
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
        }
    }

    pub(super) fn severity(self) -> Severity {
        match self {
            Rule::MultipleShall
            | Rule::Tbd
            | Rule::MissingAcceptanceCriteria
            | Rule::Duplicate
            | Rule::EmptyStatement => Severity::Error,
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
