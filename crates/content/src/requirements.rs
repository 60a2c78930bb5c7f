//! Requirements read out of a stakeholder's own sentences: which sentences
//! state a rule (a modal verb, a limit, a time window, a permission, an
//! integration, a quantity), what its parts are (condition, actor, action,
//! limits), which part of an SRS outline it belongs to, and a deterministic
//! "The system shall …" form that keeps every number, name and key term of
//! the source. A model may rephrase that form only if [`check_rephrasing`]
//! finds nothing lost and nothing invented.

use std::ops::Range;

use crate::{facts, text};

mod area;
mod clauses;
mod wording;
mod words;

pub use area::classify;
pub use clauses::limits;
use clauses::{after_determiner, split_condition, split_subject};
use wording::lower_first;
pub use wording::{captures, check_rephrasing, criterion, key_terms, statement, title};
use words::*;

/// What a rule does to its actor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// "Members may borrow …": the system lets the actor do it.
    Permission,
    /// "Only librarians may waive …": the system lets no one else do it.
    Restriction,
    /// "Members cannot borrow …": the system stops the actor.
    Prohibition,
    /// "Members must return …": the actor has to do it.
    Obligation,
    /// "The system must send …", "Loans last 14 days.": the system itself
    /// acts or keeps a state true.
    System,
}

/// The part of the outline a requirement belongs to (ISO/IEC/IEEE 29148 §9.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Area {
    Interface,
    Functional,
    Performance,
    Security,
    Reliability,
    Maintainability,
    Portability,
    Data,
}

/// A requirement-bearing sentence and its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The sentence verbatim (without a list marker): a substring of the text.
    pub sentence: String,
    /// Its byte range in the text.
    pub range: Range<usize>,
    /// The Markdown heading the sentence sits under, if any.
    pub heading: Option<String>,
    pub kind: Kind,
    /// "must", "may not", … as written in lower case, if there is one.
    pub modal: Option<String>,
    /// A leading or trailing "if/when/while/after …" clause, without its word.
    pub condition: Option<(String, String)>,
    /// Who or what the rule is about ("each member", "every claim above 5000 euros").
    pub actor: String,
    /// What follows the modal ("borrow at most 2 laptops at a time").
    pub action: String,
    /// Limits and time windows ("at most 2 laptops", "within five working days", "by 18:00").
    pub limits: Vec<String>,
    /// The numbers the sentence states, normalised.
    pub numbers: Vec<String>,
    pub area: Area,
    /// "should", "may" and "can" are wishes or options, not obligations.
    pub priority: Priority,
    /// The sentence's first word is a name ("Tom Becker approves …"), not a
    /// common word capitalised because it starts the sentence ("Payment
    /// terms are …"), so a statement that quotes it mid-sentence keeps it.
    pub name_first: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    Must,
    Should,
}

/// "X is/are signed …": a passive in the present states how things are
/// done, unless the sentence reports what someone said or what happened.
fn present_passive(keys: &[String]) -> bool {
    if keys
        .iter()
        .any(|k| NARRATIVE.contains(&k.as_str()) || PAST.contains(&k.as_str()))
    {
        return false;
    }
    keys.windows(2).any(|w| {
        matches!(w[0].as_str(), "is" | "are")
            && ((w[1].len() > 4 && w[1].ends_with("ed")) || PARTICIPLES.contains(&w[1].as_str()))
    })
}

/// The requirement-bearing sentences of `text`, in order.
pub fn candidates(text: &str) -> Vec<Candidate> {
    let mut heading: Option<String> = None;
    let mut out = Vec::new();
    let names = facts::names(text);
    for range in text::sentences(text)
        .into_iter()
        .flat_map(|r| lines(text, r))
    {
        let raw = &text[range.clone()];
        if let Some(h) = raw.strip_prefix('#') {
            heading = Some(h.trim_start_matches('#').trim().to_string());
            continue;
        }
        let lead = marker_len(raw) + scope_len(&raw[marker_len(raw)..]);
        let sentence = raw[lead..].trim_end();
        let start = range.start + lead;
        if let Some(mut c) = candidate(sentence, start..start + sentence.len(), heading.clone()) {
            c.name_first = name_first(sentence, &names);
            out.push(c);
        }
    }
    out
}

/// A sentence split further where a line ends without a stop and the next
/// starts with a capital or a digit: list items whose markers extraction
/// dropped ("Two items per member\nReturned by 18:00"), not wrapped prose
/// (a line ending on a function word, as PDF text wraps "up to\n30 days").
fn lines(text: &str, r: Range<usize>) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = r.start;
    for (i, _) in text[r.clone()].match_indices('\n') {
        let at = r.start + i;
        let next = text[at + 1..r.end].trim_start();
        let before = text[start..at].trim();
        // A line that ends on "to", "of", "the"… wraps: its sentence goes on.
        let wraps = before
            .rsplit(char::is_whitespace)
            .next()
            .is_some_and(text::is_stopword);
        if next.starts_with(|c: char| c.is_uppercase() || c.is_ascii_digit())
            && before.split_whitespace().count() >= 3
            && !wraps
        {
            out.push(start..at);
            start = at + 1;
        }
    }
    out.push(start..r.end);
    out.into_iter()
        .map(|x| {
            let s = &text[x.clone()];
            let lead = s.len() - s.trim_start().len();
            x.start + lead..x.start + s.trim_end().len()
        })
        .filter(|x| x.start < x.end)
        .collect()
}

/// Bytes of a leading "A room booking tool for a 300-person office: " — a
/// label without a verb before a colon — when a clause of four words or
/// more follows: the clause is the statement, the label its scope.
fn scope_len(s: &str) -> usize {
    let Some(colon) = s.find(": ") else {
        return 0;
    };
    let label = text::word_keys(&s[..colon]);
    let rest = &s[colon + 2..];
    if label.is_empty() || has_verb(&label) || text::words(rest).len() < 4 {
        return 0;
    }
    colon + 2 + (rest.len() - rest.trim_start().len())
}

/// Whether the first word of `sentence` is a name: an acronym or a
/// capitalised word ("ServiceDesk"), a word written with a capital inside
/// a sentence somewhere in the text (`names`), or the first of two
/// capitalised words ("Tom Becker").
fn name_first(sentence: &str, names: &[String]) -> bool {
    let words = text::words(sentence);
    let Some(first) = words.first() else {
        return false;
    };
    let capitals = first.text.chars().filter(|c| c.is_uppercase()).count();
    let next_capital = words
        .get(1)
        .is_some_and(|w| w.text.starts_with(char::is_uppercase));
    capitals >= 2 || next_capital || names.iter().any(|n| n == first.text)
}

/// Bytes of a leading list marker, quote mark or table bar, with the space after it.
fn marker_len(s: &str) -> usize {
    let t = s.trim_start_matches(['-', '*', '+', '>', '|', '•']);
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    let t = if digits > 0 && matches!(t.as_bytes().get(digits), Some(b'.' | b')')) {
        &t[digits + 1..]
    } else {
        t
    };
    let t = t.trim_start_matches(['*', '_']).trim_start();
    s.len() - t.len()
}

/// Whether `sentence` states a rule, and its parts if it does.
fn candidate(sentence: &str, range: Range<usize>, heading: Option<String>) -> Option<Candidate> {
    let keys = text::word_keys(sentence);
    if keys.len() < 4 || sentence.ends_with('?') || sentence.ends_with(':') {
        return None;
    }
    let numbers = facts::numbers(sentence);
    let modal = find_modal(&keys);
    let lower = format!(" {} ", keys.join(" "));
    let has = |p: &str| lower.contains(&format!(" {p} "));
    let limit = LIMITS
        .iter()
        .any(|l| has(l) && !matches!(*l, "by" | "for" | "each" | "every" | "before" | "after"));
    let integration = INTEGRATIONS.iter().any(|w| has(w));
    // A number is a quantity when a unit follows it or a limit phrase holds it.
    let unit_after = keys
        .windows(2)
        .any(|w| facts::normalise_number(&w[0]).is_some() && UNITS.contains(&w[1].as_str()));
    let quantity = !numbers.is_empty()
        && (unit_after || keys.iter().any(|k| k.contains(':')) || !limits(sentence).is_empty());
    let only = keys.iter().any(|k| k == "only");
    let rule_word = keys.iter().any(|k| RULE_WORDS.contains(&k.as_str())) || present_passive(&keys);
    let window = !limits(sentence).is_empty();
    let practice = modal.is_none() && states_practice(sentence);
    if modal.is_none()
        && !limit
        && !integration
        && !quantity
        && !only
        && !rule_word
        && !window
        && !practice
    {
        return None;
    }
    // Without a modal, a rule needs a verb; "Date: 12 March" is not one.
    if modal.is_none() && !has_verb(&keys) {
        return None;
    }
    let body = sentence.trim_end_matches(['.', ';', ':', '!']).trim();
    let (condition, main) = split_condition(body);
    let mut kind = Kind::System;
    let mut priority = Priority::Must;
    let mut modal_text = None;
    let mut actor;
    let action;
    let words = text::words(main);
    let main_keys: Vec<String> = words.iter().map(text::Word::key).collect();
    if let Some((i, n, k, p)) = find_modal(&main_keys) {
        let before = main[..words[i].start].trim();
        let after = if i + n < words.len() {
            main[words[i + n].start..].trim()
        } else {
            ""
        };
        // "Chloe will prepare a prototype": an action item of the minutes.
        let named = text::words(before).len() == 1
            && before.starts_with(char::is_uppercase)
            && lower_first(before) == before;
        if main_keys[i] == "will" && named {
            return None;
        }
        modal_text = Some(main_keys[i..i + n].join(" "));
        priority = p;
        actor = before.to_string();
        action = after.to_string();
        kind = k;
        let actor_keys = text::word_keys(before);
        if actor_keys.first().is_some_and(|w| w == "only") {
            kind = Kind::Restriction;
            actor = before[before.find(char::is_whitespace).unwrap_or(before.len())..]
                .trim()
                .to_string();
        } else if actor_keys.is_empty() || is_system(&actor_keys) || is_thing(&actor_keys) {
            // "The system must …" and a bare imperative act as the system.
            if kind != Kind::Prohibition {
                kind = Kind::System;
            }
        } else if text::word_keys(after).first().is_some_and(|w| w == "only") {
            kind = Kind::Restriction;
        }
    } else {
        // No modal: the sentence states a fact the system keeps true.
        let (a, rest) = split_subject(main);
        actor = a.to_string();
        action = rest.to_string();
    }
    let limits = limits(sentence);
    let area = classify(sentence, kind);
    let cond = condition.map(|(w, c)| (w.to_lowercase(), c.to_string()));
    Some(Candidate {
        sentence: sentence.to_string(),
        range,
        heading,
        kind,
        modal: modal_text,
        condition: cond,
        actor,
        action,
        limits,
        numbers,
        area,
        priority,
        name_first: false,
    })
}

/// "A buyer registers a new supplier with its VAT number": an actor doing
/// something, in the present, states how the process works — a rule without
/// a modal verb. Not a sentence in the past, one that reports what someone
/// said, or one whose subject is the document itself ("These rules apply").
fn states_practice(sentence: &str) -> bool {
    let keys = text::word_keys(sentence);
    // "reported by a driver" describes a thing; "Tom reported that" is minutes.
    let narrative = keys
        .iter()
        .enumerate()
        .any(|(i, k)| NARRATIVE.contains(&k.as_str()) && keys.get(i + 1).is_none_or(|n| n != "by"));
    if keys.len() < 5
        || narrative
        || keys.iter().any(|k| PAST.contains(&k.as_str()))
        || NOT_ACTORS.contains(&keys[0].as_str())
    {
        return false;
    }
    let verb = keys.iter().enumerate().skip(1).find(|(i, k)| {
        VERBS.contains(&k.as_str())
            && !matches!(
                k.as_str(),
                "is" | "are" | "was" | "were" | "be" | "has" | "have"
            )
            && !after_determiner(&keys, *i)
    });
    verb.is_some_and(|(i, _)| i <= 8)
}

/// The first modal phrase: (word index, words in it, kind, priority).
fn find_modal(keys: &[String]) -> Option<(usize, usize, Kind, Priority)> {
    let first = first_modal(keys, 0)?;
    // "An order that cannot be delivered must be returned": the modal of a
    // relative clause is not the rule's, when another follows.
    let relative = first.0 > 0 && matches!(keys[first.0 - 1].as_str(), "that" | "who" | "which");
    if relative {
        if let Some(next) = first_modal(keys, first.0 + first.1) {
            return Some(next);
        }
    }
    Some(first)
}

fn first_modal(keys: &[String], from: usize) -> Option<(usize, usize, Kind, Priority)> {
    for i in from..keys.len() {
        for &(m, kind, p) in MODALS {
            let parts: Vec<&str> = m.split(' ').collect();
            if keys.len() >= i + parts.len()
                && keys[i..i + parts.len()]
                    .iter()
                    .zip(&parts)
                    .all(|(a, b)| a == b)
            {
                // "3 May" and "May 3" are a date, not a permission.
                let number = |j: usize| {
                    keys.get(j)
                        .is_some_and(|k| k.starts_with(|c: char| c.is_ascii_digit()))
                };
                if m == "may" && ((i > 0 && number(i - 1)) || number(i + 1)) {
                    continue;
                }
                return Some((i, parts.len(), kind, p));
            }
        }
    }
    None
}

fn is_thing(actor_keys: &[String]) -> bool {
    const PREPS: &[&str] = &[
        "of", "with", "for", "in", "on", "from", "by", "that", "which",
    ];
    actor_keys
        .iter()
        .take_while(|k| !PREPS.contains(&k.as_str()))
        .last()
        .is_some_and(|h| THINGS.contains(&h.as_str()))
}

fn is_system(actor_keys: &[String]) -> bool {
    let content: Vec<&String> = actor_keys
        .iter()
        .filter(|k| !text::is_stopword(k))
        .collect();
    !content.is_empty()
        && content.len() <= 2
        && content.iter().any(|k| SYSTEM_WORDS.contains(&k.as_str()))
}

fn has_verb(keys: &[String]) -> bool {
    keys.iter().any(|k| {
        VERBS.contains(&k.as_str())
            || (k.len() > 4 && k.ends_with("ed") && !k.ends_with("eed"))
            || (k.len() > 3
                && k.ends_with('s')
                && !k.ends_with("ss")
                && !k.ends_with("us")
                && !k.ends_with("is"))
    })
}

#[cfg(test)]
mod tests;
