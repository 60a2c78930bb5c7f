//! Requirements read out of a stakeholder's own sentences: which sentences
//! state a rule (a modal verb, a limit, a time window, a permission, an
//! integration, a quantity), what its parts are (condition, actor, action,
//! limits), which part of an SRS outline it belongs to, and a deterministic
//! "The system shall …" form that keeps every number, name and key term of
//! the source. A model may rephrase that form only if [`check_rephrasing`]
//! finds nothing lost and nothing invented.

use std::collections::HashSet;
use std::ops::Range;

use crate::{facts, text};

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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    Must,
    Should,
}

/// Modal phrases, longest first so "may not" wins over "may".
#[rustfmt::skip]
const MODALS: &[(&str, Kind, Priority)] = &[
    ("is not allowed to", Kind::Prohibition, Priority::Must),
    ("are not allowed to", Kind::Prohibition, Priority::Must),
    ("is not permitted to", Kind::Prohibition, Priority::Must),
    ("are not permitted to", Kind::Prohibition, Priority::Must),
    ("is allowed to", Kind::Permission, Priority::Must),
    ("are allowed to", Kind::Permission, Priority::Must),
    ("is required to", Kind::Obligation, Priority::Must),
    ("are required to", Kind::Obligation, Priority::Must),
    ("must not", Kind::Prohibition, Priority::Must),
    ("shall not", Kind::Prohibition, Priority::Must),
    ("should not", Kind::Prohibition, Priority::Should),
    ("may not", Kind::Prohibition, Priority::Must),
    ("can not", Kind::Prohibition, Priority::Must),
    ("will not", Kind::Prohibition, Priority::Must),
    ("need to", Kind::Obligation, Priority::Must),
    ("needs to", Kind::Obligation, Priority::Must),
    ("has to", Kind::Obligation, Priority::Must),
    ("have to", Kind::Obligation, Priority::Must),
    ("cannot", Kind::Prohibition, Priority::Must),
    ("can't", Kind::Prohibition, Priority::Must),
    ("won't", Kind::Prohibition, Priority::Must),
    ("must", Kind::Obligation, Priority::Must),
    ("shall", Kind::Obligation, Priority::Must),
    ("should", Kind::Obligation, Priority::Should),
    ("will", Kind::Obligation, Priority::Must),
    ("may", Kind::Permission, Priority::Must),
    ("can", Kind::Permission, Priority::Must),
];

/// Words that open a limit or a time window; the phrase runs to the next
/// comma or clause word.
const LIMITS: &[&str] = &[
    "at most",
    "up to",
    "no more than",
    "not more than",
    "more than",
    "less than",
    "fewer than",
    "a maximum of",
    "maximum of",
    "a minimum of",
    "minimum of",
    "at least",
    "within",
    "by",
    "before",
    "after",
    "no later than",
    "for",
    "per",
    "every",
    "on",
    "above",
    "below",
    "over",
    "under",
];

/// Words that end a limit phrase: the next clause's verb.
const CLAUSE: &[&str] = &[
    "must", "shall", "should", "may", "can", "cannot", "will", "is", "are", "be", "and", "or",
    "to", "that", "which", "who",
];

/// Words that mark an integration with another system.
const INTEGRATIONS: &[&str] = &[
    "export",
    "exports",
    "exported",
    "import",
    "imports",
    "imported",
    "send to",
    "sent to",
    "sends to",
    "sync",
    "syncs",
    "synchronise",
    "synchronize",
    "integrate",
    "integrates",
    "integration",
    "interface",
    "api",
    "csv",
    "feed",
    "upload",
    "uploaded",
];

/// Words that state a rule without a modal verb.
const RULE_WORDS: &[&str] = &[
    "need",
    "needs",
    "require",
    "requires",
    "required",
    "mandatory",
    "always",
    "never",
    "forbidden",
    "prohibited",
    "allowed",
    "permitted",
];

/// Verbs that report what someone said: a sentence with one is minutes, not a rule.
const NARRATIVE: &[&str] = &[
    "said",
    "explained",
    "discussed",
    "mentioned",
    "asked",
    "noted",
    "reported",
    "complained",
    "suggested",
    "presented",
    "thinks",
    "believes",
    "felt",
];

/// Past participles that do not end in "-ed".
const PARTICIPLES: &[&str] = &[
    "kept", "sent", "paid", "held", "made", "given", "taken", "shown", "done", "written", "built",
    "set", "put", "read", "run", "chosen", "frozen", "hidden", "sold", "told", "met",
];

/// "X is/are signed …": a passive in the present states how things are
/// done, unless the sentence reports what someone said.
fn present_passive(keys: &[String]) -> bool {
    if keys.iter().any(|k| NARRATIVE.contains(&k.as_str())) {
        return false;
    }
    keys.windows(2).any(|w| {
        matches!(w[0].as_str(), "is" | "are")
            && ((w[1].len() > 4 && w[1].ends_with("ed")) || PARTICIPLES.contains(&w[1].as_str()))
    })
}

/// Days and months: a number or "every" before one is a time window.
const TIME_WORDS: &[&str] = &[
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "weekday",
    "weekend",
    "morning",
    "evening",
    "night",
    "midnight",
    "noon",
    "quarter",
];

/// Units that make a number a quantity or a time window.
const UNITS: &[&str] = &[
    "second",
    "seconds",
    "minute",
    "minutes",
    "hour",
    "hours",
    "day",
    "days",
    "week",
    "weeks",
    "month",
    "months",
    "year",
    "years",
    "working",
    "business",
    "times",
    "items",
    "users",
    "percent",
    "%",
    "euros",
    "eur",
    "dollars",
    "usd",
    "gbp",
    "mb",
    "gb",
    "kb",
    "characters",
    "pages",
    "attempts",
    "members",
    "people",
];

/// The subjects that are the product itself.
const SYSTEM_WORDS: &[&str] = &[
    "system",
    "app",
    "application",
    "platform",
    "portal",
    "tool",
    "software",
    "service",
    "website",
    "site",
    "solution",
    "product",
];

/// Words that open a leading or trailing condition.
const CONDITIONS: &[&str] = &[
    "if", "when", "while", "where", "once", "after", "before", "unless", "until", "whenever",
];

/// The requirement-bearing sentences of `text`, in order.
pub fn candidates(text: &str) -> Vec<Candidate> {
    let mut heading: Option<String> = None;
    let mut out = Vec::new();
    for range in text::sentences(text)
        .into_iter()
        .flat_map(|r| lines(text, r))
    {
        let raw = &text[range.clone()];
        if let Some(h) = raw.strip_prefix('#') {
            heading = Some(h.trim_start_matches('#').trim().to_string());
            continue;
        }
        let lead = marker_len(raw);
        let sentence = raw[lead..].trim_end();
        let start = range.start + lead;
        if let Some(c) = candidate(sentence, start..start + sentence.len(), heading.clone()) {
            out.push(c);
        }
    }
    out
}

/// A sentence split further where a line ends without a stop and the next
/// starts with a capital or a digit: list items whose markers extraction
/// dropped ("Two items per member\nReturned by 18:00"), not wrapped prose.
fn lines(text: &str, r: Range<usize>) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = r.start;
    for (i, _) in text[r.clone()].match_indices('\n') {
        let at = r.start + i;
        let next = text[at + 1..r.end].trim_start();
        if next.starts_with(|c: char| c.is_uppercase() || c.is_ascii_digit())
            && text[start..at].trim().split_whitespace().count() >= 3
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
    if modal.is_none() && !limit && !integration && !quantity && !only && !rule_word && !window {
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
    })
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

/// Parts of a product that act like the system ("the catalogue page").
const THINGS: &[&str] = &[
    "page",
    "screen",
    "report",
    "search",
    "form",
    "list",
    "dashboard",
    "notification",
    "notifications",
    "email",
    "e-mail",
    "reminder",
    "reminders",
    "file",
    "files",
    "api",
    "database",
    "server",
    "interface",
    "export",
    "module",
];

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

/// A verb the fact sentences of stakeholder documents use, or a word that
/// looks like a finite verb.
#[rustfmt::skip]
const VERBS: &[&str] = &[
    "is", "are", "was", "were", "be", "has", "have", "last", "lasts", "get", "gets", "pay",
    "pays", "run", "runs", "take", "takes", "close", "closes", "open", "opens", "expire",
    "expires", "cost", "costs", "allow", "allows", "require", "requires", "need", "needs",
    "keep", "keeps", "go", "goes", "receive", "receives", "send", "sends", "apply", "applies",
];

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

/// A leading "If …," clause or a trailing ", when …"/" if …" clause.
fn split_condition(body: &str) -> (Option<(&str, &str)>, &str) {
    let first = body.split_whitespace().next().unwrap_or("");
    if CONDITIONS.contains(&first.to_lowercase().as_str()) {
        if let Some(comma) = body.find(',') {
            let clause = body[first.len()..comma].trim();
            let rest = body[comma + 1..].trim();
            if !clause.is_empty() && text::words(rest).len() >= 3 {
                return (Some((first, clause)), rest);
            }
        }
    }
    for w in ["if", "when", "unless", "while", "whenever"] {
        let pat = format!(" {w} ");
        if let Some(at) = body.to_lowercase().find(&pat) {
            let head = body[..at].trim_end_matches(',').trim();
            let clause = body[at + pat.len()..].trim();
            if text::words(head).len() >= 3 && text::words(clause).len() >= 2 {
                return (Some((&body[at + 1..at + 1 + w.len()], clause)), head);
            }
        }
    }
    (None, body)
}

/// The subject of a sentence without a modal: the words before its first verb.
fn split_subject(main: &str) -> (&str, &str) {
    let words = text::words(main);
    let keys: Vec<String> = words.iter().map(text::Word::key).collect();
    // A known verb first; a word that merely looks like one ("records") only
    // when the sentence has no known verb.
    let known = keys
        .iter()
        .skip(1)
        .position(|k| VERBS.contains(&k.as_str()));
    let guess = || {
        keys.iter()
            .enumerate()
            .skip(1)
            .find(|(i, k)| has_verb(std::slice::from_ref(k)) && !after_determiner(&keys, *i))
            .map(|(i, _)| i - 1)
    };
    match known.or_else(guess) {
        Some(i) => (
            main[..words[i + 1].start].trim(),
            main[words[i + 1].start..].trim(),
        ),
        None => ("", main),
    }
}

/// "the claims" is a noun phrase: a plural right after a determiner is not the verb.
fn after_determiner(keys: &[String], i: usize) -> bool {
    matches!(
        keys[i - 1].as_str(),
        "the" | "a" | "an" | "all" | "each" | "every" | "any"
    )
}

/// Limit and time-window phrases: from a limit word to the next comma, clause
/// word or limit word, when the phrase holds a number or a time word.
pub fn limits(sentence: &str) -> Vec<String> {
    let words = text::words(sentence);
    let keys: Vec<String> = words.iter().map(text::Word::key).collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < keys.len() {
        let hit = LIMITS.iter().find_map(|l| {
            let parts: Vec<&str> = l.split(' ').collect();
            (keys.len() >= i + parts.len()
                && keys[i..i + parts.len()]
                    .iter()
                    .zip(&parts)
                    .all(|(a, b)| a == b))
            .then_some(parts.len())
        });
        let Some(n) = hit else {
            i += 1;
            continue;
        };
        let mut j = i + n;
        while j < keys.len() && j < i + n + 5 {
            let gap = &sentence[words[j - 1].end()..words[j].start];
            if gap.contains([',', ';', '(', ')'])
                || CONDITIONS.contains(&keys[j].as_str())
                || (j > i + n && LIMITS.contains(&keys[j].as_str()))
                || CLAUSE.contains(&keys[j].as_str())
            {
                break;
            }
            j += 1;
        }
        let phrase = &keys[i..j];
        // "at most", "within" bound whatever they hold; "for", "by", "per"
        // only bound a time or a counted unit ("for 3 years", "by 18:00"),
        // not "for a 200-person firm".
        let strong = !matches!(
            keys[i].as_str(),
            "for" | "by" | "per" | "before" | "after" | "every" | "on"
        );
        let unit = |k: &String| UNITS.contains(&k.as_str()) || TIME_WORDS.contains(&k.as_str());
        let counted = phrase
            .windows(2)
            .any(|w| facts::normalise_number(&w[0]).is_some() && unit(&w[1]))
            || phrase.iter().any(|k| k.contains(':'))
            || (matches!(keys[i].as_str(), "per" | "every" | "on") && phrase.iter().any(unit));
        let number = phrase.iter().any(|k| facts::normalise_number(k).is_some());
        let timed = counted || (strong && (number || phrase.iter().any(unit)));
        if j > i + n && timed {
            out.push(sentence[words[i].start..words[j - 1].end()].to_string());
            i = j;
        } else {
            i += n;
        }
    }
    out
}

/// The outline area of a rule, by its words.
pub fn classify(sentence: &str, kind: Kind) -> Area {
    let lower = format!(" {} ", text::word_keys(sentence).join(" "));
    let any = |ws: &[&str]| ws.iter().any(|w| lower.contains(&format!(" {w}")));
    if any(&[
        "export",
        "import",
        "sync",
        "synchroni",
        "integrat",
        "interface",
        "api ",
        "csv",
        "xml",
        "json",
        "webhook",
        "feed",
        "accounting system",
        "payroll",
        "sent to",
        "send to",
        "sends to",
    ]) {
        return Area::Interface;
    }
    if kind == Kind::Restriction
        || any(&[
            "password",
            "sign in",
            "sign-in",
            "log in",
            "login",
            "authenticat",
            "authoris",
            "authoriz",
            "permission",
            "access",
            "role",
            "encrypt",
            "audit",
            "privacy",
            "personal data",
            "gdpr",
            "two-factor",
            "locked",
            "lock ",
        ])
    {
        return Area::Security;
    }
    if any(&[
        "respond",
        "response time",
        "seconds",
        "second ",
        "millisecond",
        "ms ",
        "concurrent",
        "throughput",
        "load ",
    ]) {
        return Area::Performance;
    }
    if any(&[
        "uptime", "availab", "backup", "back up", "restore", "recover", "outage", "downtime",
    ]) {
        return Area::Reliability;
    }
    if any(&[
        "retain",
        "retention",
        "kept for",
        "keep ",
        "stored",
        "store ",
        "archiv",
        "delete",
        "history",
        "records ",
        "anonymi",
    ]) {
        return Area::Data;
    }
    if any(&[
        "browser", "mobile", "phone", "android", "ios", "tablet", "offline", "windows", "linux",
    ]) {
        return Area::Portability;
    }
    if any(&["configur", "setting"]) {
        return Area::Maintainability;
    }
    Area::Functional
}

/// People and teams a rule names by role, not by name.
const ROLES: &[&str] = &[
    "member",
    "employee",
    "manager",
    "finance",
    "staff",
    "user",
    "customer",
    "admin",
    "administrator",
    "librarian",
    "trainer",
    "approver",
    "owner",
    "team",
    "sender",
    "student",
];

/// The first word lower-cased where it is a common word ("Members" →
/// "members", "Each" → "each"); a name ("Chloe") or an acronym ("IT") stays.
fn lower_first(s: &str) -> String {
    let mut words = s.splitn(2, ' ');
    let first = words.next().unwrap_or("");
    let rest = words.next();
    let upper = first.chars().filter(|c| c.is_uppercase()).count();
    let key = first.to_lowercase();
    let common = text::is_stopword(&key)
        || key == "every"
        || ROLES.iter().any(|r| key.starts_with(r))
        || (key.ends_with('s') && !key.ends_with("ss"))
        || !first.starts_with(char::is_uppercase);
    let first = if upper >= 2 || !common {
        first.to_string()
    } else {
        let mut c = first.chars();
        c.next()
            .map(|f| f.to_lowercase().chain(c).collect())
            .unwrap_or_default()
    };
    match rest {
        Some(r) => format!("{first} {r}"),
        None => first,
    }
}

/// Whether a noun phrase names more than one thing ("members", not "each member").
fn plural(phrase: &str) -> bool {
    let keys = text::word_keys(phrase);
    if keys.first().is_some_and(|k| {
        matches!(
            k.as_str(),
            "each" | "every" | "a" | "an" | "any" | "one" | "no"
        )
    }) {
        return false;
    }
    const PREPS: &[&str] = &[
        "of", "with", "for", "in", "on", "from", "by", "above", "below", "over", "under", "that",
        "who", "which", "at",
    ];
    let head = keys
        .iter()
        .take_while(|k| !PREPS.contains(&k.as_str()))
        .last();
    head.is_some_and(|h| {
        h.ends_with('s') && !h.ends_with("ss") && !h.ends_with("us") && !h.ends_with("is")
    }) || keys.first().is_some_and(|k| k == "all" || k == "both")
}

/// "be" → "is"/"are"; a verb in the base form → its third person.
fn conjugate(action: &str, plural_subject: bool) -> String {
    let (verb, rest) = action.split_once(' ').unwrap_or((action, ""));
    let v = verb.to_lowercase();
    let conj = if plural_subject {
        if v == "be" {
            "are".to_string()
        } else {
            verb.to_string()
        }
    } else {
        match v.as_str() {
            "be" => "is".into(),
            "have" => "has".into(),
            "do" => "does".into(),
            "go" => "goes".into(),
            _ if v.ends_with('y')
                && !v.ends_with("ay")
                && !v.ends_with("ey")
                && !v.ends_with("oy") =>
            {
                format!("{}ies", &verb[..verb.len() - 1])
            }
            _ if v.ends_with('s')
                || v.ends_with("sh")
                || v.ends_with("ch")
                || v.ends_with('x')
                || v.ends_with('z') =>
            {
                format!("{verb}es")
            }
            _ => format!("{verb}s"),
        }
    };
    if rest.is_empty() {
        conj
    } else {
        format!("{conj} {rest}")
    }
}

/// The rule as "The system shall …", EARS-shaped where the source opens with
/// "If", "When", "While" or "Where"; every word of the source's actor, action
/// and condition is kept.
pub fn statement(c: &Candidate) -> String {
    let actor = lower_first(&c.actor);
    let passive = is_passive(&c.action);
    let core = match c.kind {
        _ if c.modal.is_none() => {
            let clause = lower_first(c.sentence_main());
            format!("shall ensure that {clause}")
        }
        Kind::System if c.acts_as_system() => format!("shall {}", c.action),
        Kind::System => format!(
            "shall ensure that {actor} {}",
            conjugate(&c.action, plural(&c.actor))
        ),
        Kind::Prohibition if c.acts_as_system() => format!("shall not {}", c.action),
        Kind::Prohibition if is_thing(&text::word_keys(&c.actor)) => format!(
            "shall ensure that {actor} {} not {}",
            if plural(&c.actor) { "do" } else { "does" },
            c.action
        ),
        _ if passive => {
            let modal = c.modal.as_deref().unwrap_or("must");
            let verb = match (c.kind, modal) {
                (Kind::Prohibition, _) => "cannot".to_string(),
                (Kind::Permission | Kind::Restriction, _) => "can".to_string(),
                _ => String::new(),
            };
            if verb.is_empty() {
                format!("shall ensure that {actor} {}", passive_clause(c))
            } else {
                format!("shall ensure that {actor} {verb} {}", c.action)
            }
        }
        Kind::Permission => format!("shall allow {actor} to {}", c.action),
        Kind::Restriction => format!("shall allow only {actor} to {}", strip_only(&c.action)),
        Kind::Prohibition => format!("shall not allow {actor} to {}", c.action),
        Kind::Obligation => format!("shall require {actor} to {}", c.action),
    };
    let core = core.trim_end_matches(['.', ',', ';']).to_string();
    match &c.condition {
        Some((w, cond)) if (w == "when" || w == "while" || w == "where") && ears_fits(cond) => {
            format!("{} {cond}, the system {core}.", capital(w))
        }
        Some((w, cond)) if w == "if" && ears_fits(cond) => {
            format!("If {cond}, then the system {core}.")
        }
        Some((w, cond)) => format!("The system {core} {w} {cond}."),
        None => format!("The system {core}."),
    }
}

fn strip_only(action: &str) -> &str {
    action.strip_prefix("only ").unwrap_or(action)
}

/// A passive action in the present: "also be approved by X" → "are also
/// approved by X" (the adverb after the verb).
fn passive_clause(c: &Candidate) -> String {
    let keys = text::word_keys(&c.action);
    let adverb = keys
        .first()
        .filter(|w| matches!(w.as_str(), "also" | "only" | "always"));
    let (adv, rest) = match adverb {
        Some(a) => (format!(" {a}"), c.action[a.len()..].trim_start()),
        None => (String::new(), c.action.as_str()),
    };
    let conj = conjugate(rest, plural(&c.actor));
    match conj.split_once(' ') {
        Some((be, tail)) => format!("{be}{adv} {tail}"),
        None => format!("{conj}{adv}"),
    }
}

fn is_passive(action: &str) -> bool {
    let keys = text::word_keys(action);
    let skip = keys
        .first()
        .is_some_and(|w| matches!(w.as_str(), "also" | "only" | "always"));
    keys.get(usize::from(skip)).is_some_and(|w| w == "be")
}

/// An EARS trigger must be short and have no comma (the statement pattern's rule).
fn ears_fits(cond: &str) -> bool {
    (3..=80).contains(&cond.chars().count()) && !cond.contains([',', '"', '\\'])
}

fn capital(w: &str) -> String {
    let mut c = w.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

impl Candidate {
    /// The sentence without its condition and final stop.
    fn sentence_main(&self) -> &str {
        let body = self.sentence.trim_end_matches(['.', ';', ':', '!']).trim();
        split_condition(body).1
    }

    /// Whether the rule's actor is the system itself (or no one).
    fn acts_as_system(&self) -> bool {
        let keys = text::word_keys(&self.actor);
        keys.is_empty() || is_system(&keys)
    }

    /// The actor, or what the rule is about when it names none.
    fn subject(&self) -> String {
        if self.acts_as_system() {
            "the system".into()
        } else {
            lower_first(&self.actor)
        }
    }
}

/// A short title: the feature area and the rule's first words, never the
/// whole statement ("Approvals: approved by the chief financial officer").
pub fn title(c: &Candidate) -> String {
    let source = if c.action.is_empty() {
        c.sentence_main()
    } else {
        &c.action
    };
    let words = text::words(source);
    let mut end = words.len().min(7);
    while end > 1
        && (text::is_stopword(words[end - 1].text)
            || LIMITS.contains(&words[end - 1].key().as_str()))
    {
        end -= 1;
    }
    let head = match words.get(end.saturating_sub(1)) {
        Some(w) => &source[words[0].start..w.end()],
        None => source,
    };
    let head = head.strip_prefix("be ").unwrap_or(head);
    let who = c.subject();
    let title = if who.is_empty() || who == "the system" {
        capital(head)
    } else {
        format!("{}: {head}", capital(&who))
    };
    title.chars().take(80).collect()
}

/// One Given/When/Then from the rule's parts: the condition or the actor,
/// the action, and the outcome with its limit. The three always differ.
pub fn criterion(c: &Candidate) -> (String, String, String) {
    let subject = c.subject();
    let given = match &c.condition {
        Some((_, cond)) => cond.clone(),
        None if subject == "the system" => "the system is in use".into(),
        None => subject.clone(),
    };
    let limit = c.limits.first();
    let (when, then) = match c.kind {
        _ if c.modal.is_none() => (
            match limit {
                Some(l) => format!("the rule \"{l}\" is checked"),
                None => "the rule is checked".into(),
            },
            format!("the system shows that {}", lower_first(c.sentence_main())),
        ),
        Kind::Permission => (
            format!("{subject} {} to {}", tries(&subject), c.action),
            match limit {
                Some(l) => format!("the system accepts the request within the limit {l}"),
                None => "the system accepts the request".into(),
            },
        ),
        Kind::Restriction => (
            format!(
                "a user who is not one of {subject} tries to {}",
                strip_only(&c.action)
            ),
            "the system refuses the request".into(),
        ),
        Kind::Prohibition if subject == "the system" => (
            "the action is requested".into(),
            format!("the system does not {}", c.action),
        ),
        Kind::Prohibition => (
            format!("{subject} {} to {}", tries(&subject), c.action),
            "the system refuses the request and says why".into(),
        ),
        Kind::Obligation if is_passive(&c.action) => (
            match limit {
                Some(l) => format!("the time or limit \"{l}\" is reached"),
                None => "the rule is checked".into(),
            },
            format!("{subject} {}", passive_clause(c)),
        ),
        Kind::Obligation => (
            format!(
                "{subject} {} not {}",
                if plural(&c.actor) { "do" } else { "does" },
                c.action
            ),
            "the system flags the obligation as not met".into(),
        ),
        Kind::System => (
            match limit {
                Some(l) => format!("the time or limit \"{l}\" applies"),
                None => "the situation the rule describes occurs".into(),
            },
            format!(
                "{subject} {}",
                conjugate(&c.action, plural(&c.actor) && !c.acts_as_system())
            ),
        ),
    };
    // A condition that says what the action says still needs its own part.
    let given = if same(&given, &when) || same(&given, &then) {
        format!("{subject} uses the system")
    } else {
        given
    };
    (given, when, then)
}

fn tries(subject: &str) -> &'static str {
    if plural(subject) {
        "try"
    } else {
        "tries"
    }
}

fn same(a: &str, b: &str) -> bool {
    text::word_keys(a) == text::word_keys(b)
}

/// Words of a requirement that carry no fact of the source: the frame of
/// "The system shall …" and of the criteria.
const FRAME: &[&str] = &[
    "system",
    "shall",
    "ensure",
    "ensures",
    "allow",
    "allows",
    "allowed",
    "require",
    "requires",
    "required",
    "enable",
    "enables",
    "able",
    "prevent",
    "prevents",
    "users",
    "user",
    "support",
    "supports",
    "provide",
    "provides",
    "must",
    "that",
    "not",
    "only",
    "cannot",
    "can't",
    "need",
    "needs",
    "permitted",
    "won't",
];

/// The key terms of a sentence: its content words that are not numbers
/// and not the modal frame, in order, without repeats.
pub fn key_terms(sentence: &str) -> Vec<String> {
    let mut seen = HashSet::new();
    text::content_words(sentence)
        .into_iter()
        .filter(|w| {
            facts::normalise_number(w).is_none()
                && !FRAME.contains(&w.as_str())
                && w.chars().count() > 2
        })
        .filter(|w| seen.insert(w.clone()))
        .collect()
}

/// A word's comparison stem: its first five letters, so "approve",
/// "approved" and "approval" meet.
fn stem(w: &str) -> String {
    w.chars().take(5).collect()
}

/// Why `rephrased` may not replace the statement built from `source`: a number,
/// name or key term of the source it lost, or a number or name it added.
/// `Ok` when it keeps them all and adds none.
pub fn check_rephrasing(source: &str, rephrased: &str) -> Result<(), String> {
    if crate::repetition::is_degenerate(rephrased) {
        return Err("it repeats itself".into());
    }
    let have: HashSet<String> = facts::numbers(rephrased).into_iter().collect();
    if let Some(n) = facts::numbers(source)
        .into_iter()
        .find(|n| !have.contains(n))
    {
        return Err(format!("it loses the number {n}"));
    }
    if let Some(n) = facts::unsupported_numbers(rephrased, &[source]).first() {
        return Err(format!("it adds the number {n}"));
    }
    let allowed = [
        "The", "System", "If", "When", "While", "Where", "Given", "Then",
    ];
    if let Some(n) = facts::unsupported_names(rephrased, &[source], &allowed).first() {
        return Err(format!("it adds the name {n}"));
    }
    let words: HashSet<String> = text::word_keys(rephrased).iter().map(|w| stem(w)).collect();
    let names: Vec<String> = facts::names(source);
    if let Some(n) = names
        .iter()
        .find(|n| !words.contains(&stem(&n.to_lowercase())))
    {
        return Err(format!("it loses the name {n}"));
    }
    if let Some(t) = key_terms(source).iter().find(|t| !words.contains(&stem(t))) {
        return Err(format!("it loses the term \"{t}\""));
    }
    Ok(())
}

/// Whether `requirement` captures `rule`: every key term (by stem) and every
/// number of the rule occurs in it. The evaluation's measure of a rule kept.
pub fn captures(requirement: &str, key_terms: &[String], numbers: &[String]) -> bool {
    let words: HashSet<String> = text::word_keys(requirement)
        .iter()
        .map(|w| stem(w))
        .collect();
    let have: HashSet<String> = facts::numbers(requirement).into_iter().collect();
    key_terms
        .iter()
        .all(|t| text::word_keys(t).iter().all(|w| words.contains(&stem(w))))
        && numbers
            .iter()
            .all(|n| facts::normalise_number(n).is_some_and(|n| have.contains(&n)))
}

#[cfg(test)]
mod tests;
