//! The rules that catch what a small model writes when it has nothing to say:
//! loops (a repeated six-word n-gram), numbering runs ("1.1.1.1"),
//! Given/When/Then parts that repeat each other, a statement that only
//! repeats its title or a criterion, acronyms and organisations that no
//! source names, and requirements that cite no source and state no
//! assumption.

use bacopilot_content::{repetition, text};

use super::{Hit, Rule};
use crate::srs::{Requirement, Srs};

/// What the document may name: the sentences its requirements quote, the
/// brief and documents the caller passes, the clarifications, and the
/// product's own words (the outline's titles, requirement ids, "SRS").
pub(super) struct Known {
    words: std::collections::HashSet<String>,
    /// Whether there is anything to check names against.
    any_source: bool,
}

/// Words every SRS may use though no source does.
const PRODUCT: &[&str] = &[
    "srs", "iso", "iec", "ieee", "ears", "the", "system", "given", "when", "then", "if", "while",
    "where", "moscow", "id",
];

impl Known {
    pub(super) fn new(srs: &Srs, sources: &[&str]) -> Known {
        let quotes = srs
            .requirements()
            .flat_map(|(_, r)| r.sources.iter().map(|s| s.quote.as_str()));
        let asked = srs
            .clarifications
            .iter()
            .flat_map(|c| std::iter::once(c.question.as_str()).chain(c.answer.as_deref()));
        let texts: Vec<&str> = sources.iter().copied().chain(quotes).chain(asked).collect();
        let any_source = texts.iter().any(|t| !t.trim().is_empty());
        let own = srs
            .sections
            .iter()
            .map(|s| s.title.as_str())
            .chain(srs.requirements().map(|(_, r)| r.id.as_str()))
            .chain(std::iter::once(srs.title.as_str()));
        let words = texts
            .into_iter()
            .chain(own)
            .flat_map(text::word_keys)
            .chain(PRODUCT.iter().map(|w| w.to_string()))
            .collect();
        Known { words, any_source }
    }

    fn knows(&self, word: &str) -> bool {
        self.words.contains(&word.to_lowercase())
    }
}

/// Loops and numbering runs in `chars`; spans are char offsets + `offset`.
pub(super) fn loops(chars: &[char], offset: usize, what: &str) -> Vec<Hit> {
    let s: String = chars.iter().collect();
    let at = |byte: usize| offset + s[..byte].chars().count();
    let mut hits = Vec::new();
    if let Some(r) = repetition::repeated_ngram(&s, repetition::LOOP_NGRAM) {
        let end = at(s.len());
        hits.push(Hit::new(
            Rule::RepeatedNgram,
            (at(r.second), end),
            format!(
                "The {what} repeats itself (\"{}\"): it is a loop, not content.",
                r.gram
            ),
        ));
    } else if repetition::numbering_run(&s) {
        hits.push(Hit::new(
            Rule::NumberingRun,
            (offset, at(s.len())),
            format!("The {what} is a run of numbers or of one word, not content."),
        ));
    }
    hits
}

/// Acronyms and organisation-like names (two or more capitalised words in a
/// row, not at a sentence's start) that none of the sources names.
pub(super) fn invented_names(chars: &[char], offset: usize, known: &Known) -> Vec<Hit> {
    if !known.any_source {
        return Vec::new();
    }
    let s: String = chars.iter().collect();
    let at = |byte: usize| offset + s[..byte].chars().count();
    let mut hits = Vec::new();
    for range in text::sentences(&s) {
        let sentence = &s[range.clone()];
        let words = text::words(sentence);
        let mut i = 0;
        while i < words.len() {
            let w = &words[i];
            let acronym = is_acronym(w.text);
            let capital = i > 0
                && w.text.starts_with(char::is_uppercase)
                && !text::is_stopword(w.text)
                && !sentence[..w.start]
                    .trim_end()
                    .ends_with([':', '-', '*', '(', '"', '|', '.']);
            if acronym && !known.knows(w.text.trim_end_matches('s')) && !known.knows(w.text) {
                let start = range.start + w.start;
                hits.push(Hit::new(
                    Rule::InventedName,
                    (at(start), at(start + w.text.len())),
                    format!(
                        "\"{}\" appears in no source: an acronym the sources do not use.",
                        w.text
                    ),
                ));
                i += 1;
                continue;
            }
            if !capital {
                i += 1;
                continue;
            }
            // A run of capitalised words, "of" and "the" allowed inside it.
            let mut j = i + 1;
            // Words joined by spaces only: "(IOLW)" after a name is not part of it.
            let joined = |k: usize| {
                sentence[words[k - 1].end()..words[k].start]
                    .trim()
                    .is_empty()
            };
            loop {
                // Connectors ("of the") only inside a run, before a capital.
                let mut k = j;
                while k < words.len()
                    && joined(k)
                    && matches!(words[k].text, "of" | "the" | "for" | "and")
                {
                    k += 1;
                }
                if k < words.len() && joined(k) && words[k].text.starts_with(char::is_uppercase) {
                    j = k + 1;
                } else {
                    break;
                }
            }
            let run = &words[i..j];
            let capitals: Vec<_> = run
                .iter()
                .filter(|w| w.text.starts_with(char::is_uppercase))
                .collect();
            if capitals.len() >= 2 && capitals.iter().any(|w| !known.knows(w.text)) {
                let (a, b) = (
                    range.start + run[0].start,
                    range.start + run[run.len() - 1].end(),
                );
                hits.push(Hit::new(
                    Rule::InventedName,
                    (at(a), at(b)),
                    format!(
                        "\"{}\" appears in no source: a name the sources do not use.",
                        &s[a..b]
                    ),
                ));
            }
            i = j;
        }
    }
    hits
}

fn is_acronym(w: &str) -> bool {
    let core = w.trim_end_matches(['s', '\'', '’']);
    core.chars().count() >= 2
        && core.starts_with(|c: char| c.is_ascii_uppercase())
        && core
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// Word keys compared for "the same sentence": lower case, punctuation gone.
fn same(a: &str, b: &str) -> bool {
    let (a, b) = (text::word_keys(a), text::word_keys(b));
    !a.is_empty() && a == b
}

/// Criteria whose parts repeat each other, a statement that only repeats its
/// title or a criterion, loops in the title and criteria, and a requirement
/// with neither a source nor an assumption.
pub(super) fn requirement_hits(r: &Requirement, known: &Known) -> Vec<Hit> {
    let whole = (0, r.statement.chars().count());
    let mut hits = Vec::new();
    for (n, c) in r.acceptance_criteria.iter().enumerate() {
        let parts = [("Given", &c.given), ("When", &c.when), ("Then", &c.then)];
        let mut said = false;
        for x in 0..3 {
            for y in x + 1..3 {
                if !said && same(parts[x].1, parts[y].1) {
                    said = true;
                    hits.push(Hit::new(
                        Rule::CriterionRepeats,
                        (0, 0),
                        format!(
                            "Acceptance criterion {}: \"{}\" and \"{}\" say the same thing, so it tests nothing.",
                            n + 1,
                            parts[x].0,
                            parts[y].0
                        ),
                    ));
                }
            }
        }
        for (name, part) in parts {
            let chars: Vec<char> = part.chars().collect();
            for mut h in loops(&chars, 0, &format!("\"{name}\" of criterion {}", n + 1)) {
                (h.start, h.end) = (0, 0);
                hits.push(h);
            }
        }
        if same(&r.statement, &c.given)
            || same(&r.statement, &c.when)
            || same(&r.statement, &c.then)
        {
            hits.push(Hit::new(
                Rule::StatementRepeated,
                whole,
                format!("Acceptance criterion {} only repeats the statement.", n + 1),
            ));
        }
    }
    if same(&r.statement, &r.title) {
        hits.push(Hit::new(
            Rule::StatementRepeated,
            whole,
            "The title only repeats the statement: name what the requirement is about.".into(),
        ));
    }
    let title: Vec<char> = r.title.chars().collect();
    for mut h in loops(&title, 0, "title")
        .into_iter()
        .chain(invented_names(&title, 0, known))
    {
        (h.start, h.end) = (0, 0);
        h.message = format!("Title: {}", h.message);
        hits.push(h);
    }
    if r.sources.is_empty() && r.assumption.as_deref().is_none_or(|a| a.trim().is_empty()) {
        hits.push(Hit::new(
            Rule::Unsourced,
            whole,
            format!(
                "{} cites no source and states no assumption: say where it comes from.",
                r.id
            ),
        ));
    }
    hits
}
