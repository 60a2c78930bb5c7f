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

use std::collections::BTreeSet;

use crate::srs::{Finding, LintReport, Requirement, Severity, Span, Srs};

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
struct Statement<'a> {
    chars: &'a [char],
    /// Offset of `chars[0]` in the text the spans index.
    offset: usize,
    /// The span of findings about the statement as a whole.
    extent: (usize, usize),
    /// How other findings name it: a requirement id or "line N".
    label: String,
    requirement_id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
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
    fn id(self) -> &'static str {
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

    fn severity(self) -> Severity {
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

struct Hit {
    rule: Rule,
    start: usize,
    end: usize,
    message: String,
}

impl Hit {
    fn new(rule: Rule, (start, end): (usize, usize), message: String) -> Hit {
        Hit {
            rule,
            start,
            end,
            message,
        }
    }
}

/// Unverifiable adjectives, adverbs and open-ended lists.
#[rustfmt::skip]
const VAGUE: &[&str] = &[
    "fast", "faster", "quick", "quickly", "rapid", "rapidly", "user-friendly", "user friendly",
    "easy", "easily", "easy to use", "easy-to-use", "simple", "robust", "flexible", "efficient",
    "efficiently", "adequate", "adequately", "appropriate", "appropriately", "reasonable",
    "reasonably", "sufficient", "sufficiently", "intuitive", "seamless", "seamlessly",
    "state-of-the-art", "state of the art", "etc", "etc.", "and so on",
    "including but not limited to", "approximately", "normally", "usually", "typically",
    "minimal", "maximize", "maximise", "minimize", "minimise", "optimal", "optimize",
    "optimise", "several", "some", "many", "various", "numerous", "improved", "better", "best",
    "best effort", "best-effort", "high performance", "high-performance", "scalable", "timely",
    "in a timely manner", "significant", "significantly",
];

/// Loopholes: phrases that let the implementer decide whether to comply.
#[rustfmt::skip]
const ESCAPE: &[&str] = &[
    "if possible", "where possible", "when possible", "as far as possible",
    "as much as possible", "if practical", "where practical", "if practicable",
    "where applicable", "if applicable", "as applicable", "if necessary", "where necessary",
    "when necessary", "as necessary", "if needed", "as needed", "when needed", "as required",
    "as appropriate", "if appropriate", "where appropriate", "to the extent",
    "unless otherwise",
];

#[rustfmt::skip]
const TBD: &[&str] = &[
    "tbd", "tbc", "tba", "todo", "fixme", "xxx", "to be determined", "to be decided",
    "to be confirmed", "to be defined", "???",
];

const AND_OR: &[&str] = &["and/or"];

const PHRASE_RULES: [(Rule, &[&str]); 4] = [
    (Rule::VagueTerm, VAGUE),
    (Rule::EscapeClause, ESCAPE),
    (Rule::Tbd, TBD),
    (Rule::AndOr, AND_OR),
];

/// Pronouns that always need an antecedent outside the statement.
const PRONOUNS: &[&str] = &["it", "its", "they", "them", "their", "theirs"];
const DEMONSTRATIVES: &[&str] = &["this", "that", "these", "those"];
/// Words after which a demonstrative stands alone ("this shall", "those are").
const VERBS: &[&str] = &[
    "shall", "must", "should", "will", "would", "may", "might", "can", "could", "is", "are", "was",
    "were", "be", "has", "have", "had", "does", "do",
];

/// A statement this long usually holds more than one requirement; 60 words is
/// about three lines of a printed SRS.
const MAX_WORDS: usize = 60;

fn lint_statements(statements: &[Statement]) -> Vec<(usize, Hit)> {
    let mut hits: Vec<(usize, Hit)> = Vec::new();
    for (i, st) in statements.iter().enumerate() {
        hits.extend(check_statement(st).into_iter().map(|h| (i, h)));
    }
    hits.extend(check_pairs(statements));
    hits
}

fn check_statement(st: &Statement) -> Vec<Hit> {
    let whole = |rule, message| Hit::new(rule, st.extent, message);
    if st.chars.iter().all(|c| c.is_whitespace()) {
        let msg = "Empty statement: write the requirement or remove the entry.";
        return vec![whole(Rule::EmptyStatement, msg.into())];
    }
    let lower = lowercase(st.chars);
    let original = |a: usize, b: usize| st.chars[a..b].iter().collect::<String>();
    let at =
        |rule, a: usize, b: usize, message| Hit::new(rule, (st.offset + a, st.offset + b), message);
    let mut hits = Vec::new();
    for (rule, a, b) in phrase_hits(&lower) {
        let message = phrase_message(rule, &original(a, b));
        hits.push(at(rule, a, b, message));
    }
    let words = tokens(&lower);
    let shalls: Vec<&Token> = words.iter().filter(|w| w.text == "shall").collect();
    match shalls.as_slice() {
        [] => hits.push(whole(
            Rule::NoShall,
            "No \"shall\": state the obligation as \"… shall …\" (EARS).".into(),
        )),
        [_] => {}
        [_, second, ..] => hits.push(at(
            Rule::MultipleShall,
            second.start,
            second.end,
            format!(
                "{} \"shall\"s in one statement: split it into one requirement per obligation.",
                shalls.len()
            ),
        )),
    }
    for (k, w) in words.iter().enumerate() {
        if is_standalone_pronoun(st.chars, &words, k) {
            let message = format!(
                "\"{}\" has no referent within the requirement: name the thing it stands for.",
                original(w.start, w.end)
            );
            hits.push(at(Rule::Pronoun, w.start, w.end, message));
        }
    }
    let count = st
        .chars
        .split(|c| c.is_whitespace())
        .filter(|w| w.iter().any(|c| c.is_alphanumeric()))
        .count();
    if count > MAX_WORDS {
        hits.push(whole(
            Rule::TooLong,
            format!("{count} words (over {MAX_WORDS}): split it into simpler requirements."),
        ));
    }
    hits
}

/// Phrase matches, the longest at each position and without overlap, so
/// "as appropriate" is one escape clause, not also a vague "appropriate".
fn phrase_hits(lower: &[char]) -> Vec<(Rule, usize, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < lower.len() {
        let best = PHRASE_RULES
            .iter()
            .flat_map(|&(rule, pats)| pats.iter().map(move |p| (rule, *p)))
            .filter_map(|(rule, p)| match_phrase(lower, i, p).map(|end| (rule, end)))
            // "as required by GDPR" cites a source; it is not a loophole.
            .filter(|&(rule, end)| rule != Rule::EscapeClause || next_word(lower, end) != "by")
            .max_by_key(|&(_, end)| end);
        match best {
            Some((rule, end)) => {
                out.push((rule, i, end));
                i = end;
            }
            None => i += 1,
        }
    }
    out
}

fn phrase_message(rule: Rule, t: &str) -> String {
    match rule {
        Rule::VagueTerm => {
            format!("\"{t}\" is vague and unverifiable: use a measurable value or a precise term.")
        }
        Rule::EscapeClause => {
            format!(
                "\"{t}\" is an escape clause: it lets the implementer decide whether to comply."
            )
        }
        Rule::Tbd => format!("\"{t}\" marks unfinished content: resolve it before review."),
        _ => format!("\"{t}\" is ambiguous: write \"and\", \"or\", or spell out both cases."),
    }
}

/// End of `pat` matched at `at`, whole-word where the pattern starts or ends
/// with a letter or digit; a space in the pattern matches any whitespace run.
fn match_phrase(lower: &[char], at: usize, pat: &str) -> Option<usize> {
    let first = pat.chars().next()?;
    if first.is_alphanumeric() && at > 0 && lower[at - 1].is_alphanumeric() {
        return None;
    }
    let mut i = at;
    for pc in pat.chars() {
        if pc == ' ' {
            let from = i;
            while lower.get(i).is_some_and(|c| c.is_whitespace()) {
                i += 1;
            }
            if i == from {
                return None;
            }
        } else if lower.get(i) == Some(&pc) {
            i += 1;
        } else {
            return None;
        }
    }
    let last = pat.chars().last()?;
    if last.is_alphanumeric() && lower.get(i).is_some_and(|c| c.is_alphanumeric()) {
        return None;
    }
    if last == '?' {
        // "?????" is one placeholder, not one per three marks.
        while lower.get(i) == Some(&'?') {
            i += 1;
        }
    }
    Some(i)
}

fn next_word(lower: &[char], from: usize) -> String {
    let rest = &lower[from.min(lower.len())..];
    let skip = rest.iter().take_while(|c| c.is_whitespace()).count();
    rest[skip..]
        .iter()
        .take_while(|c| c.is_alphanumeric())
        .collect()
}

/// `it`, `its`, `they`, `them`, `their`, `theirs` anywhere (but not the
/// acronym "IT"); `this`, `these`, `those` when followed by a verb, by
/// punctuation or by nothing ("this shall", not "this report"); and `that`
/// only as the first word, since elsewhere it is mostly a relative pronoun
/// ("a report that is emailed") whose referent sits right before it.
fn is_standalone_pronoun(chars: &[char], words: &[Token], k: usize) -> bool {
    let w = &words[k];
    if PRONOUNS.contains(&w.text.as_str()) {
        return chars[w.start..w.end] != ['I', 'T'];
    }
    if !DEMONSTRATIVES.contains(&w.text.as_str()) || (w.text == "that" && k > 0) {
        return false;
    }
    match words.get(k + 1) {
        Some(next) if chars[w.end..next.start].iter().all(|c| c.is_whitespace()) => {
            VERBS.contains(&next.text.as_str())
        }
        _ => true,
    }
}

/// Requirement-level fields: acceptance criteria and rationale.
fn check_fields(r: &Requirement) -> Vec<Hit> {
    let hit = |rule, message| Hit::new(rule, (0, 0), message);
    let mut hits = Vec::new();
    if r.acceptance_criteria.is_empty() {
        let msg = format!(
            "{} has no acceptance criterion: add at least one Given/When/Then.",
            r.id
        );
        hits.push(hit(Rule::MissingAcceptanceCriteria, msg));
    }
    for (n, c) in r.acceptance_criteria.iter().enumerate() {
        let empty: Vec<&str> = [("given", &c.given), ("when", &c.when), ("then", &c.then)]
            .into_iter()
            .filter(|(_, v)| v.trim().is_empty())
            .map(|(name, _)| name)
            .collect();
        if !empty.is_empty() {
            let msg = format!(
                "Acceptance criterion {} has an empty \"{}\".",
                n + 1,
                empty.join("\", \"")
            );
            hits.push(hit(Rule::MissingAcceptanceCriteria, msg));
        }
    }
    if r.rationale.trim().is_empty() {
        hits.push(hit(
            Rule::MissingRationale,
            format!("{} has no rationale: say why it is needed.", r.id),
        ));
    }
    hits
}

/// What the pairwise rules compare: the normalised text, its words, and
/// whether it forbids rather than requires.
struct Key {
    text: String,
    words: BTreeSet<String>,
    negated: bool,
}

fn key(chars: &[char]) -> Key {
    let lower = lowercase(chars);
    let joined: String = lower
        .iter()
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let text = joined
        .trim_end_matches(|c: char| !c.is_alphanumeric())
        .to_string();
    let toks = tokens(&lower);
    let negated = toks.iter().enumerate().any(|(k, t)| {
        t.text == "never"
            || t.text == "cannot"
            || (t.text == "not"
                && k > 0
                && ["shall", "must", "should", "will"].contains(&toks[k - 1].text.as_str()))
    });
    Key {
        text,
        words: toks.into_iter().map(|t| t.text).collect(),
        negated,
    }
}

/// Duplicates (same after normalising), else the first near-duplicate
/// (Jaccard similarity of word sets ≥ 0.8), each reported on the later
/// statement only, so a pair yields one finding.
fn check_pairs(statements: &[Statement]) -> Vec<(usize, Hit)> {
    let keys: Vec<Option<Key>> = statements
        .iter()
        .map(|s| (!s.chars.iter().all(|c| c.is_whitespace())).then(|| key(s.chars)))
        .collect();
    let mut hits = Vec::new();
    for (j, kj) in keys.iter().enumerate() {
        let Some(kj) = kj else { continue };
        let earlier = || {
            keys[..j]
                .iter()
                .enumerate()
                .filter_map(|(i, k)| k.as_ref().map(|k| (i, k)))
        };
        let hit = |rule, message| (j, Hit::new(rule, statements[j].extent, message));
        if let Some((i, _)) = earlier().find(|(_, ki)| ki.text == kj.text) {
            hits.push(hit(
                Rule::Duplicate,
                format!("Duplicates {}.", statements[i].label),
            ));
        } else if let Some((i, ki)) = earlier().find(|(_, ki)| similar(&ki.words, &kj.words)) {
            let other = &statements[i].label;
            hits.push(if ki.negated != kj.negated {
                hit(
                    Rule::Conflict,
                    format!(
                        "May contradict {other}: they share most words but only one is negated."
                    ),
                )
            } else {
                hit(
                    Rule::NearDuplicate,
                    format!(
                        "Near-duplicate of {other}: merge them or make the difference explicit."
                    ),
                )
            });
        }
    }
    hits
}

fn similar(a: &BTreeSet<String>, b: &BTreeSet<String>) -> bool {
    let inter = a.intersection(b).count();
    let union = a.len() + b.len() - inter;
    // Jaccard ≥ 0.8 in integers.
    union > 0 && inter * 5 >= union * 4
}

/// Findings in requirement order, then span start, then rule id, and the
/// score: each finding costs its severity's weight (error 15, warning 5,
/// info 1), the total is averaged over statements so that an error on every
/// statement scores 0, i.e.
/// `score = round(100 * (1 - min(1, penalty / (15 * max(statements, 1)))))`,
/// capped at 99 when there is any finding so that 100 always means clean.
fn report(statements: &[Statement], mut hits: Vec<(usize, Hit)>) -> LintReport {
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
            span: Span {
                start: h.start,
                end: h.end,
            },
            message: h.message,
        })
        .collect();
    LintReport { score, findings }
}

struct Token {
    start: usize,
    end: usize,
    text: String,
}

/// Runs of letters and digits; "sign-in" is two tokens, "it's" gives "it".
fn tokens(lower: &[char]) -> Vec<Token> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < lower.len() {
        if !lower[i].is_alphanumeric() {
            i += 1;
            continue;
        }
        let start = i;
        while i < lower.len() && lower[i].is_alphanumeric() {
            i += 1;
        }
        out.push(Token {
            start,
            end: i,
            text: lower[start..i].iter().collect(),
        });
    }
    out
}

/// One char per char, so offsets into the result are offsets into the input.
fn lowercase(chars: &[char]) -> Vec<char> {
    chars
        .iter()
        .map(|c| c.to_lowercase().next().unwrap_or(*c))
        .collect()
}

/// The non-whitespace extent of `chars`; `(0, 0)` when it is blank.
fn trimmed(chars: &[char]) -> (usize, usize) {
    match chars.iter().position(|c| !c.is_whitespace()) {
        Some(s) => (
            s,
            chars.iter().rposition(|c| !c.is_whitespace()).unwrap_or(s) + 1,
        ),
        None => (0, 0),
    }
}

/// Where the statement starts in a trimmed line, past a list marker and an id.
fn strip_marker(line: &[char]) -> usize {
    let ws_at = |i: usize| line.get(i).is_none_or(|c| c.is_whitespace());
    let skip_ws = |i: usize| {
        i + line[i.min(line.len())..]
            .iter()
            .take_while(|c| c.is_whitespace())
            .count()
    };
    let digits = line.iter().take_while(|c| c.is_ascii_digit()).count();
    let mut i = if matches!(line.first(), Some('-' | '*' | '+' | '•')) && ws_at(1) {
        skip_ws(1)
    } else if digits > 0 && matches!(line.get(digits), Some('.' | ')')) && ws_at(digits + 1) {
        skip_ws(digits + 1)
    } else {
        0
    };
    let token_end = i + line[i..].iter().take_while(|c| !c.is_whitespace()).count();
    let token = &line[i..token_end];
    if let Some((&':', id)) = token.split_last() {
        if is_id(id) {
            i = skip_ws(token_end);
        }
    } else if is_id(token) {
        let sep = skip_ws(token_end);
        if matches!(line.get(sep), Some('-' | '–' | '—' | ':')) && ws_at(sep + 1) {
            i = skip_ws(sep + 1);
        }
    }
    i
}

/// "FR-001", "NFR-PERF-002", "R7": starts with a letter, has an upper-case
/// letter and a digit, and holds only letters, digits, '-', '_' and '.'.
fn is_id(t: &[char]) -> bool {
    t.first().is_some_and(|c| c.is_ascii_alphabetic())
        && t.iter().any(|c| c.is_ascii_uppercase())
        && t.iter().any(|c| c.is_ascii_digit())
        && t.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::srs::{Criterion, Priority, Section, Verification};

    /// The characters a span covers in the text it indexes.
    fn slice(text: &str, span: Span) -> String {
        text.chars()
            .skip(span.start)
            .take(span.end - span.start)
            .collect()
    }

    fn with_rule<'a>(report: &'a LintReport, rule: &str) -> Vec<&'a Finding> {
        report.findings.iter().filter(|f| f.rule == rule).collect()
    }

    const GOOD: &[&str] = &[
        "The system shall lock an account after 5 failed sign-in attempts within 10 minutes.",
        "When a user submits the registration form, the system shall send a confirmation email within 60 seconds.",
        "While the appliance is offline, the system shall queue outgoing notifications for delivery within 24 hours of reconnection.",
        "If a payment authorisation is declined, then the system shall display the decline reason returned by the payment gateway.",
        "Where the organisation enables single sign-on, the system shall authenticate users through the configured SAML 2.0 identity provider.",
        "The system shall export each SRS document as a PDF file of no more than 20 MB.",
        "The system shall retain audit log entries for 7 years after creation.",
        "When an administrator deactivates an account, the system shall revoke every active session of that account within 5 seconds.",
        "The system shall answer 95 percent of search queries within 2 seconds under a load of 200 concurrent users.",
        "The system shall not store payment card numbers in plain text.",
        "This report shall list every overdue invoice with the customer name and the amount due.",
    ];

    #[test]
    fn bad_statements_each_trigger_their_rule_with_the_right_span() {
        let long = format!(
            "The system shall {}.",
            vec!["record the event"; 20].join(" and ")
        );
        let cases: &[(&str, &str, &str)] = &[
            (
                "The system shall provide a user-friendly dashboard.",
                "vague-term",
                "user-friendly",
            ),
            (
                "The system shall respond FAST to search queries.",
                "vague-term",
                "FAST",
            ),
            (
                "The system shall support 10 users, 20 roles, etc.",
                "vague-term",
                "etc.",
            ),
            (
                "The system shall be easy to use.",
                "vague-term",
                "easy to use",
            ),
            (
                "The system shall email and/or text the account owner.",
                "and-or",
                "and/or",
            ),
            (
                "The system shall encrypt backups if possible.",
                "escape-clause",
                "if possible",
            ),
            (
                "The system shall alert staff as appropriate.",
                "escape-clause",
                "as appropriate",
            ),
            (
                "The system shall validate the form and shall save a draft.",
                "multiple-shall",
                "shall",
            ),
            (
                "Users can export reports to CSV.",
                "no-shall",
                "Users can export reports to CSV.",
            ),
            (
                "It shall restart after a crash.",
                "pronoun-without-referent",
                "It",
            ),
            (
                "The system shall log the error and retry it.",
                "pronoun-without-referent",
                "it",
            ),
            (
                "The system shall keep their settings.",
                "pronoun-without-referent",
                "their",
            ),
            ("This shall be logged.", "pronoun-without-referent", "This"),
            (
                "The system shall support TBD concurrent users.",
                "tbd",
                "TBD",
            ),
            ("The system shall keep logs for ???? days.", "tbd", "????"),
            (
                "The retention period shall be to be determined.",
                "tbd",
                "to be determined",
            ),
            (long.as_str(), "too-long", long.as_str()),
            ("- ", "empty-statement", "-"),
            ("FR-007:", "empty-statement", "FR-007:"),
        ];
        for &(text, rule, span_text) in cases {
            let report = lint_text(text);
            let hits = with_rule(&report, rule);
            assert_eq!(hits.len(), 1, "{rule} on {text:?}: {:?}", report.findings);
            assert_eq!(slice(text, hits[0].span), span_text, "{rule} on {text:?}");
            assert!(report.score < 100, "{text:?}");
        }
    }

    #[test]
    fn the_second_shall_is_the_span_of_multiple_shall() {
        let text = "The system shall validate the form and shall save a draft.";
        let report = lint_text(text);
        let span = with_rule(&report, "multiple-shall")[0].span;
        assert_eq!(span.start, text.find("and shall").unwrap() + 4);
        assert_eq!(
            with_rule(&report, "multiple-shall")[0].severity,
            Severity::Error
        );
    }

    #[test]
    fn an_escape_clause_is_not_also_reported_as_a_vague_term() {
        let report = lint_text("The system shall alert staff as appropriate and if possible.");
        assert_eq!(with_rule(&report, "escape-clause").len(), 2);
        assert!(
            with_rule(&report, "vague-term").is_empty(),
            "{:?}",
            report.findings
        );
    }

    #[test]
    fn a_cited_requirement_and_a_demonstrative_before_a_noun_are_not_flagged() {
        let report = lint_text(
            "The system shall erase personal data as required by GDPR.\n\
             The system shall archive each invoice that is paid.\n\
             The IT team shall receive these alerts by email.",
        );
        assert!(report.findings.is_empty(), "{:?}", report.findings);
    }

    #[test]
    fn identical_statements_are_reported_once_on_the_later_one() {
        let text = "The system shall export invoices as PDF.\n\n  the system shall  EXPORT invoices as pdf\n";
        let report = lint_text(text);
        let dups = with_rule(&report, "duplicate");
        assert_eq!(dups.len(), 1, "{:?}", report.findings);
        assert!(dups[0].message.contains("line 1"), "{}", dups[0].message);
        assert_eq!(
            slice(text, dups[0].span),
            "the system shall  EXPORT invoices as pdf"
        );
    }

    #[test]
    fn similar_statements_are_near_duplicates_unless_one_is_negated() {
        let near = lint_text(
            "The system shall send a receipt email after each completed order.\n\
             The system shall send a receipt email after every completed order.",
        );
        assert_eq!(
            with_rule(&near, "near-duplicate").len(),
            1,
            "{:?}",
            near.findings
        );
        assert!(with_rule(&near, "conflict").is_empty());
        let conflict = lint_text(
            "The system shall store uploaded documents in the project workspace.\n\
             The system shall not store uploaded documents in the project workspace.",
        );
        let found = with_rule(&conflict, "conflict");
        assert_eq!(found.len(), 1, "{:?}", conflict.findings);
        assert!(found[0].message.contains("line 1"));
        assert!(with_rule(&conflict, "near-duplicate").is_empty());
    }

    #[test]
    fn good_requirements_have_no_findings_and_score_100() {
        let markers = ["", "- ", "1. ", "FR-003: ", "* NFR-PERF-002 - ", "12) "];
        let text: String = GOOD
            .iter()
            .enumerate()
            .map(|(i, s)| format!("{}{s}\n", markers[i % markers.len()]))
            .collect();
        let report = lint_text(&text);
        assert!(report.findings.is_empty(), "{:#?}", report.findings);
        assert_eq!(report.score, 100);
        assert_eq!(lint_text("").score, 100);
    }

    #[test]
    fn spans_in_pasted_text_are_char_offsets_into_the_whole_text() {
        let text =
            "Überblick: Zahlungen für Kunden — Anforderungen\n\n- The system shall be fast.\n";
        let report = lint_text(text);
        let vague = with_rule(&report, "vague-term");
        assert_eq!(vague.len(), 1);
        assert_eq!(slice(text, vague[0].span), "fast");
        assert_ne!(
            vague[0].span.start,
            text.find("fast").unwrap(),
            "byte offset used"
        );
        assert!(vague[0].requirement_id.is_none());
    }

    fn requirement(id: &str, statement: &str) -> Requirement {
        Requirement {
            id: id.into(),
            title: id.into(),
            statement: statement.into(),
            rationale: "Agreed with the security officer in workshop 2.".into(),
            priority: Priority::Must,
            acceptance_criteria: vec![Criterion {
                given: "a registered user".into(),
                when: "the user acts".into(),
                then: "the system responds as stated".into(),
            }],
            verification: Verification::Test,
            status: "draft".into(),
            sources: vec![],
        }
    }

    fn document(requirements: Vec<Requirement>) -> Srs {
        Srs {
            id: "srs-1".into(),
            project_id: "p-1".into(),
            title: "Payments".into(),
            version: 1,
            sections: vec![Section {
                key: "3.2".into(),
                title: "Functional requirements".into(),
                text: String::new(),
                requirements,
            }],
            clarifications: vec![],
            lint: LintReport::default(),
        }
    }

    #[test]
    fn a_well_formed_document_scores_100() {
        let reqs = GOOD
            .iter()
            .enumerate()
            .map(|(i, s)| requirement(&format!("FR-{:03}", i + 1), s))
            .collect();
        let report = lint_document(&document(reqs));
        assert!(report.findings.is_empty(), "{:#?}", report.findings);
        assert_eq!(report.score, 100);
    }

    #[test]
    fn document_findings_name_the_requirement_and_index_its_statement() {
        let mut bare = requirement("FR-002", "Für Kunden the system shall respond fast.");
        bare.acceptance_criteria.clear();
        bare.rationale = " ".into();
        let mut half = requirement("FR-003", "  ");
        half.acceptance_criteria[0].then = String::new();
        let good = requirement("FR-001", GOOD[0]);
        let dup = requirement("FR-004", &GOOD[0].to_uppercase());
        let report = lint_document(&document(vec![good, bare.clone(), half, dup]));
        let ids = |rule| -> Vec<_> {
            let hits = with_rule(&report, rule);
            hits.iter()
                .map(|f| f.requirement_id.clone().unwrap())
                .collect()
        };
        assert_eq!(ids("missing-acceptance-criteria"), ["FR-002", "FR-003"]);
        assert_eq!(ids("missing-rationale"), ["FR-002"]);
        assert_eq!(ids("empty-statement"), ["FR-003"]);
        assert_eq!(ids("duplicate"), ["FR-004"]);
        assert!(with_rule(&report, "duplicate")[0]
            .message
            .contains("FR-001"));
        let vague = with_rule(&report, "vague-term")[0];
        assert_eq!(slice(&bare.statement, vague.span), "fast");
        let missing = with_rule(&report, "missing-acceptance-criteria");
        assert!(
            missing[1].message.contains("\"then\""),
            "{}",
            missing[1].message
        );
        assert_eq!(missing[0].span, Span { start: 0, end: 0 });
        // Requirement order first, then span start within a requirement.
        let order: Vec<_> = report
            .findings
            .iter()
            .map(|f| f.requirement_id.clone())
            .collect();
        let mut sorted = order.clone();
        sorted.sort();
        assert_eq!(order, sorted);
    }

    #[test]
    fn more_problems_give_a_lower_score_that_never_drops_below_zero() {
        // Three clean statements and one under test, so scores share a scale.
        let score =
            |last: &str| lint_text(&format!("{}\n{}\n{}\n{last}", GOOD[0], GOOD[1], GOOD[2])).score;
        let clean = score(GOOD[3]);
        let one = score("The system shall respond fast.");
        let three = score("The system shall respond fast and/or quickly.");
        let worse = score("It shall be fast and shall be TBD, if possible.");
        assert_eq!(clean, 100);
        assert!(
            clean > one && one > three && three > worse,
            "{one} {three} {worse}"
        );
        assert!(worse > 0);
        let hopeless = lint_text("It is fast, robust, TBD, TODO, etc. and/or ??? shall shall");
        assert_eq!(hopeless.score, 0);
    }

    #[test]
    fn findings_are_deterministic_and_ordered_by_position() {
        let text = "It shall be TBD and fast.\nThe system shall do some things, etc.\nIt shall be TBD and fast.";
        let report = lint_text(text);
        assert_eq!(report, lint_text(text));
        let starts: Vec<usize> = report.findings.iter().map(|f| f.span.start).collect();
        let mut sorted = starts.clone();
        sorted.sort();
        assert_eq!(starts, sorted);
    }

    #[test]
    fn every_phrase_is_lowercase_and_belongs_to_one_rule() {
        let all: Vec<&str> = PHRASE_RULES
            .iter()
            .flat_map(|(_, p)| p.iter().copied())
            .collect();
        let unique: BTreeSet<&str> = all.iter().copied().collect();
        assert_eq!(all.len(), unique.len());
        assert!(all.iter().all(|p| p.to_lowercase() == *p));
    }
}
