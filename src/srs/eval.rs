//! The SRS evaluation: stakeholder documents with the rules an SRS must
//! capture (`benches/eval/srs.json`), and the measures of one generated
//! document against them, as the benchmark and the tests report them.

use bacopilot_content::{facts, repetition, requirements};
use serde::Deserialize;

use super::derive::PRODUCT_WORDS;
use super::Srs;

/// One document of the evaluation set.
#[derive(Debug, Clone, Deserialize)]
pub struct Case {
    /// "dev" (looked at while building) or "held-out" (reported apart).
    pub split: String,
    pub name: String,
    pub brief: String,
    /// Markdown.
    pub document: String,
    pub rules: Vec<Rule>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Rule {
    pub text: String,
    /// Words (or phrases) a requirement must contain, compared by stem.
    pub key_terms: Vec<String>,
    /// Numbers it must state, as written ("two" and "2" are the same).
    pub numbers: Vec<String>,
}

/// The evaluation set shipped with the sources.
pub fn cases() -> Vec<Case> {
    serde_json::from_str(include_str!("../../benches/eval/srs.json"))
        .expect("benches/eval/srs.json is a list of cases")
}

/// What one generated document scored.
#[derive(Debug, Clone, Default)]
pub struct Measure {
    pub rules: usize,
    /// Rules whose key terms and numbers are all in one requirement.
    pub captured: usize,
    pub missed: Vec<String>,
    /// Statements, titles, criteria parts and section texts that loop.
    pub degenerate: Vec<String>,
    /// Criteria with two equal parts.
    pub repeated_criteria: usize,
    /// Acronyms and names of statements and section texts that neither the
    /// brief nor the document has.
    pub invented: Vec<String>,
    pub lint_score: u32,
    pub requirements: usize,
    /// Statements that capture none of the case's rules: a brief's scope,
    /// a rule the list lacks, or noise.
    pub unmatched: Vec<String>,
}

/// Measures `srs`, generated from `case`.
pub fn measure(srs: &Srs, case: &Case) -> Measure {
    let statements: Vec<&str> = srs
        .requirements()
        .map(|(_, r)| r.statement.as_str())
        .collect();
    let missed: Vec<String> = case
        .rules
        .iter()
        .filter(|rule| {
            !statements
                .iter()
                .any(|s| requirements::captures(s, &rule.key_terms, &rule.numbers))
        })
        .map(|rule| rule.text.clone())
        .collect();
    let unmatched: Vec<String> = statements
        .iter()
        .filter(|s| {
            !case
                .rules
                .iter()
                .any(|rule| requirements::captures(s, &rule.key_terms, &rule.numbers))
        })
        .map(|s| s.to_string())
        .collect();
    let sources = [case.brief.as_str(), case.document.as_str()];
    let mut m = Measure {
        unmatched,
        rules: case.rules.len(),
        captured: case.rules.len() - missed.len(),
        missed,
        lint_score: super::lint::lint_document(srs, &sources).score,
        requirements: statements.len(),
        ..Measure::default()
    };
    let titles: String = srs
        .sections
        .iter()
        .map(|s| s.title.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let mut allowed: Vec<&str> = PRODUCT_WORDS.to_vec();
    allowed.extend(titles.split_whitespace());
    // The verification section lists requirement ids.
    allowed.extend(srs.requirements().map(|(_, r)| r.id.as_str()));
    let mut check = |text: &str| {
        if repetition::is_degenerate(text) {
            m.degenerate.push(text.chars().take(80).collect());
        }
        m.invented
            .extend(facts::unsupported_names(text, &sources, &allowed));
    };
    for s in &srs.sections {
        check(&s.text);
        for r in &s.requirements {
            check(&r.statement);
            check(&r.title);
            for c in &r.acceptance_criteria {
                for part in [&c.given, &c.when, &c.then] {
                    check(part);
                }
            }
        }
    }
    m.repeated_criteria = srs
        .requirements()
        .flat_map(|(_, r)| &r.acceptance_criteria)
        .filter(|c| c.given == c.when || c.when == c.then || c.given == c.then)
        .count();
    m.invented.sort();
    m.invented.dedup();
    m
}
