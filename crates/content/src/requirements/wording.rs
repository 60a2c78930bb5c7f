//! How a rule is written back: the "The system shall …" statement, a
//! title, a Given/When/Then, and the check a rephrasing must pass.

use std::collections::HashSet;

use super::words::*;
use super::*;

/// The first word lower-cased where it is a common word ("Members" →
/// "members", "Each" → "each"); a name ("Chloe") or an acronym ("IT") stays.
pub(super) fn lower_first(s: &str) -> String {
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
pub(super) fn plural(phrase: &str) -> bool {
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
    // The head noun ends before a preposition or a comparison ("groups
    // larger than 10 people": "groups").
    let end = (0..keys.len())
        .find(|&i| {
            PREPS.contains(&keys[i].as_str()) || keys.get(i + 1).is_some_and(|n| n == "than")
        })
        .unwrap_or(keys.len());
    let head = keys[..end].last();
    head.is_some_and(|h| {
        h.ends_with('s') && !h.ends_with("ss") && !h.ends_with("us") && !h.ends_with("is")
    }) || keys.first().is_some_and(|k| k == "all" || k == "both")
}

/// "be" → "is"/"are"; a verb in the base form → its third person.
pub(super) fn conjugate(action: &str, plural_subject: bool) -> String {
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
    let actor = c.lower_start(&c.actor);
    let passive = is_passive(&c.action);
    let core = match c.kind {
        _ if c.modal.is_none() => {
            let clause = c.lower_start(c.sentence_main());
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
            self.lower_start(&self.actor)
        }
    }

    /// `s` with its first word in lower case where it is the sentence's
    /// first word and no name ("Payment terms" → "payment terms"), or where
    /// [`lower_first`] finds it a common word.
    fn lower_start(&self, s: &str) -> String {
        let starts_sentence = self.sentence.starts_with(s.split(' ').next().unwrap_or(""));
        let first = s.split(' ').next().unwrap_or("");
        let one_capital = first.chars().filter(|c| c.is_uppercase()).count() == 1
            && first.starts_with(char::is_uppercase);
        if starts_sentence && one_capital && !self.name_first {
            let mut chars = s.chars();
            chars
                .next()
                .map(|f| f.to_lowercase().chain(chars).collect())
                .unwrap_or_default()
        } else {
            lower_first(s)
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
            format!("the system shows that {}", c.lower_start(c.sentence_main())),
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
    // A requirement is one sentence: a second one is the model's own addition
    // ("The document must include a section that …").
    if text::sentences(rephrased).len() > 1 {
        return Err("it is more than one sentence".into());
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

/// Whether `requirement` captures `rule`: every key term and every number
/// of the rule occurs in it. A term's word matches a word with the same
/// stem, or one it begins ("dvd" matches "DVDs", "approv" "approved").
/// The evaluation's measure of a rule kept.
pub fn captures(requirement: &str, key_terms: &[String], numbers: &[String]) -> bool {
    let keys = text::word_keys(requirement);
    let words: HashSet<String> = keys.iter().map(|w| stem(w)).collect();
    let has = |w: &str| words.contains(&stem(w)) || keys.iter().any(|k| k.starts_with(w));
    let have: HashSet<String> = facts::numbers(requirement).into_iter().collect();
    key_terms
        .iter()
        .all(|t| text::word_keys(t).iter().all(|w| has(w)))
        && numbers
            .iter()
            .all(|n| facts::normalise_number(n).is_some_and(|n| have.contains(&n)))
}
