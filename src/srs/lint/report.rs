//! Findings sorted and scored into the report clients see.

use super::{Hit, Statement};
use crate::srs::{Finding, LintReport, Severity, Span};

/// Findings in requirement order, then span start, then rule id, and the
/// score: each finding costs its severity's weight (error 15, warning 5,
/// info 1), the total is averaged over statements so that an error on every
/// statement scores 0, i.e.
/// `score = round(100 * (1 - min(1, penalty / (15 * max(statements, 1)))))`,
/// capped at 99 when there is any finding so that 100 always means clean.
pub(super) fn report(statements: &[Statement], mut hits: Vec<(usize, Hit)>) -> LintReport {
    hits.sort_by(|(i, a), (j, b)| {
        (i, a.start, a.rule.id(), a.end).cmp(&(j, b.start, b.rule.id(), b.end))
    });
    let penalty: u64 = hits
        .iter()
        .map(|(_, h)| match h.rule.severity() {
            Severity::Error => 15,
            Severity::Warning => 5,
            Severity::Info => 1,
        })
        .sum();
    let cap = 15 * statements.len().max(1) as u64;
    let score = match penalty {
        0 => 100,
        p if p >= cap => 0,
        // Rounded integer division keeps the score free of float rounding.
        p => ((200 * (cap - p) + cap) / (2 * cap)).min(99) as u32,
    };
    let findings = hits
        .into_iter()
        .map(|(i, h)| Finding {
            rule: h.rule.id().into(),
            severity: h.rule.severity(),
            requirement_id: statements[i].requirement_id.clone(),
            section: statements[i].section.clone(),
            span: Span {
                start: h.start,
                end: h.end,
            },
            message: h.message,
        })
        .collect();
    LintReport { score, findings }
}
