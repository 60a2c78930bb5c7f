//! The rules applied to one statement (vague terms, escape clauses, TBDs,
//! "and/or", pronouns, "shall" count, length) and to a requirement's fields.

use super::text::{lowercase, tokens, Token};
use super::{Hit, Rule, Statement};
use crate::srs::Requirement;

/// Unverifiable adjectives, adverbs and open-ended lists.
#[rustfmt::skip]
pub(super) const VAGUE: &[&str] = &[
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
pub(super) const ESCAPE: &[&str] = &[
    "if possible", "where possible", "when possible", "as far as possible",
    "as much as possible", "if practical", "where practical", "if practicable",
    "where applicable", "if applicable", "as applicable", "if necessary", "where necessary",
    "when necessary", "as necessary", "if needed", "as needed", "when needed", "as required",
    "as appropriate", "if appropriate", "where appropriate", "to the extent",
    "unless otherwise",
];

#[rustfmt::skip]
pub(super) const TBD: &[&str] = &[
    "tbd", "tbc", "tba", "todo", "fixme", "xxx", "to be determined", "to be decided",
    "to be confirmed", "to be defined", "???",
];

pub(super) const AND_OR: &[&str] = &["and/or"];

pub(super) const PHRASE_RULES: [(Rule, &[&str]); 4] = [
    (Rule::VagueTerm, VAGUE),
    (Rule::EscapeClause, ESCAPE),
    (Rule::Tbd, TBD),
    (Rule::AndOr, AND_OR),
];

/// Pronouns that always need an antecedent outside the statement.
pub(super) const PRONOUNS: &[&str] = &["it", "its", "they", "them", "their", "theirs"];
pub(super) const DEMONSTRATIVES: &[&str] = &["this", "that", "these", "those"];
/// Words after which a demonstrative stands alone ("this shall", "those are").
pub(super) const VERBS: &[&str] = &[
    "shall", "must", "should", "will", "would", "may", "might", "can", "could", "is", "are", "was",
    "were", "be", "has", "have", "had", "does", "do",
];

/// A statement this long usually holds more than one requirement; 60 words is
/// about three lines of a printed SRS.
pub(super) const MAX_WORDS: usize = 60;

pub(super) fn check_statement(st: &Statement) -> Vec<Hit> {
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
pub(super) fn phrase_hits(lower: &[char]) -> Vec<(Rule, usize, usize)> {
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

pub(super) fn phrase_message(rule: Rule, t: &str) -> String {
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
pub(super) fn match_phrase(lower: &[char], at: usize, pat: &str) -> Option<usize> {
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

pub(super) fn next_word(lower: &[char], from: usize) -> String {
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
pub(super) fn is_standalone_pronoun(chars: &[char], words: &[Token], k: usize) -> bool {
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
pub(super) fn check_fields(r: &Requirement) -> Vec<Hit> {
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
