//! What a question asks for: the thing it is about (the head noun of its
//! "which …"/"what is the …" phrase), whether it wants a name ("which
//! provider"), and what it counts ("how many orders"). A sentence that does
//! not mention the thing, name one or count it cannot answer, however close
//! its words are: "What is the budget for the portal?" is not answered by a
//! sentence about the portal that states no budget.

use crate::quotes::stem;
use crate::{facts, text};

/// What [`asks`] read out of a question.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Asks {
    /// Stem of the thing asked about ("budget", "fee"), when the question
    /// names one that is not a mere kind of answer ("system", "format").
    pub head: Option<String>,
    /// Stems of more things a yes-or-no question is about ("fee",
    /// "department"): each must be mentioned too.
    pub heads: Vec<String>,
    /// The answer is a name or an acronym ("which provider", "what format").
    pub name: bool,
    /// The kind of thing named ("provider"), when [`Asks::name`].
    pub kind: Option<String>,
    /// Stem of what "how many" counts ("orders"), unless it counts times.
    pub counted: Option<String>,
}

/// Words that close the "which …" phrase: the question's verb.
#[rustfmt::skip]
const VERBS: &[&str] = &[
    "is", "are", "was", "were", "be", "does", "do", "did", "can", "could", "will", "would",
    "should", "must", "may", "might", "has", "have", "need", "needs", "get", "gets", "go", "goes",
    "use", "uses", "take", "takes", "happens", "happen", "applies", "apply",
];

/// Words that close a noun phrase.
#[rustfmt::skip]
const PREPOSITIONS: &[&str] = &[
    "of", "for", "in", "on", "at", "to", "from", "with", "by", "per", "after", "before", "when",
    "if", "that", "who", "which", "than", "as",
];

/// Nouns and adjectives that say what kind of answer is wanted, not what it
/// is about: the documents need not use them ("what restriction applies" is
/// answered by "interns cannot …").
#[rustfmt::skip]
const KINDS: &[&str] = &[
    "system", "tool", "format", "type", "kind", "way", "restriction", "rule", "day", "time",
    "date", "person", "people", "team", "role", "method", "process", "step", "thing", "part",
    "option", "status", "name", "number", "amount", "value", "information", "detail", "week",
    "month", "year", "hour", "minute", "maximum", "minimum", "shortest", "longest", "largest",
    "smallest", "highest", "lowest", "earliest", "latest", "first", "last", "next", "standard",
    "normal", "usual", "current", "new", "main", "exact", "typical", "default", "different",
    "following", "best", "right", "correct", "limit", "requirement", "condition", "case",
    "equipment", "another", "currently", "still", "ever", "already", "item", "device", "thing",
    "benefit", "support", "turnaround", "duration", "frequency", "deadline", "timeframe",
    "timeline", "delay", "period", "length", "interval",
];

/// Words that open a question answered yes or no.
#[rustfmt::skip]
const YES_NO: &[&str] = &[
    "can", "could", "is", "are", "was", "were", "do", "does", "did", "may", "must", "should",
    "will", "has", "have",
];

/// Heads whose answer is a name or an acronym ("which bank": a bank's name).
#[rustfmt::skip]
const NAMED: &[&str] = &[
    "provider", "vendor", "agency", "bank", "carrier", "courier", "insurer", "partner", "firm",
    "company", "system", "tool", "software", "platform", "application", "app", "product",
    "protocol", "format", "encoding", "language", "database", "service", "supplier",
];

/// Reads what `question` asks for.
pub fn asks(question: &str) -> Asks {
    let keys = text::word_keys(question);
    let mut out = Asks::default();
    if let Some(i) = keys
        .windows(2)
        .position(|w| w[0] == "how" && w[1] == "many")
    {
        out.counted = keys
            .get(i + 2)
            .filter(|k| !matches!(k.as_str(), "times" | "time"))
            .map(|k| stem(k));
        return out;
    }
    // "Who approves … when the line manager is on holiday?": the case the
    // question puts must be one the documents speak of.
    if let Some(at) = keys
        .iter()
        .skip(1)
        .position(|k| matches!(k.as_str(), "when" | "if" | "while"))
    {
        out.head = head_of(&keys[at + 2..]);
        if out.head.is_some() {
            return out;
        }
    }
    // "Is a fee charged for each new access?": a yes or no about things
    // the documents must all speak of.
    if keys.first().is_some_and(|k| YES_NO.contains(&k.as_str())) {
        out.heads = keys[1..]
            .iter()
            .filter_map(|k| head_of(std::slice::from_ref(k)))
            .collect();
        return out;
    }
    let Some(q) = keys
        .iter()
        .take(3)
        .position(|k| matches!(k.as_str(), "which" | "what" | "whose"))
    else {
        return out;
    };
    let mut j = q + 1;
    match keys.get(j).map(String::as_str) {
        Some("is" | "are" | "was" | "were") => j += 1,
        // "What does X contain?": the answer is the object, the phrase its subject.
        Some(k) if VERBS.contains(&k) => return out,
        None => return out,
        Some(_) => {}
    }
    while keys
        .get(j)
        .is_some_and(|k| matches!(k.as_str(), "the" | "a" | "an"))
    {
        j += 1;
    }
    let phrase: Vec<&str> = keys[j.min(keys.len())..]
        .iter()
        .take_while(|k| !VERBS.contains(&k.as_str()) && !PREPOSITIONS.contains(&k.as_str()))
        .map(String::as_str)
        .filter(|k| !text::is_stopword(k))
        .collect();
    let Some(last) = phrase.last() else {
        return out;
    };
    // Singular only: "which companies" asks for a kind of company, "which
    // company" for one by name.
    out.name = NAMED.contains(last);
    out.kind = out.name.then(|| last.to_string());
    // The documents call a provider by its name, not "the provider".
    let about = if out.name {
        &phrase[..phrase.len() - 1]
    } else {
        &phrase[..]
    };
    out.head = about
        .iter()
        .rev()
        .map(|k| singular(k))
        .find(|k| !KINDS.contains(&k.as_str()) && !k.ends_with("ed"))
        .map(|k| stem(&k));
    out
}

/// Stem of the last word of `keys` that names a thing: no stop word, no
/// kind of answer, no participle ("returned", "asking").
fn head_of(keys: &[String]) -> Option<String> {
    keys.iter()
        .enumerate()
        .rev()
        // "larger than": a comparison, not a thing.
        .filter(|(i, k)| !(k.ends_with("er") && keys.get(i + 1).is_some_and(|n| n == "than")))
        .map(|(_, k)| k)
        .filter(|k| !text::is_stopword(k) && !VERBS.contains(&k.as_str()))
        .map(|k| singular(k))
        .find(|k| {
            !KINDS.contains(&k.as_str())
                && !k.ends_with("ed")
                && !k.ends_with("ing")
                && k.chars().count() > 2
        })
        .map(|k| stem(&k))
}

fn singular(word: &str) -> String {
    match word.strip_suffix('s') {
        Some(head) if !word.ends_with("ss") && head.len() >= 3 => head.to_string(),
        _ => word.to_string(),
    }
}

/// Every stem a sentence must be able to speak of: [`Asks::head`] and
/// [`Asks::heads`].
impl Asks {
    pub fn about(&self) -> impl Iterator<Item = &str> {
        self.head.iter().chain(&self.heads).map(String::as_str)
    }
}

/// Words that name the same thing in documents and questions: a question's
/// "fee" is the document's "costs 2 euros".
#[rustfmt::skip]
const SAME: &[&[&str]] = &[
    &["fee", "cost", "price", "charge", "fine", "tariff"],
    &["staff", "employee", "personnel", "worker"],
    &["customer", "client"],
];

/// Whether any of `texts` has a word with the stem `head`, or with the stem
/// of a word naming the same thing ([`SAME`]).
pub fn mentioned(texts: &[&str], head: &str) -> bool {
    let group: Vec<String> = SAME
        .iter()
        .find(|g| g.iter().any(|w| stem(w) == head))
        .map(|g| g.iter().map(|w| stem(w)).collect())
        .unwrap_or_else(|| vec![head.to_string()]);
    texts
        .iter()
        .any(|t| text::word_keys(t).iter().any(|k| group.contains(&stem(k))))
}

/// Whether `sentence` names something: an acronym or a capitalised word
/// inside it.
///
/// With `kind` ("provider"), a name followed by a word for another kind of
/// thing ("the HR system") names that thing, not one of `kind`.
pub fn names_something(sentence: &str, kind: Option<&str>) -> bool {
    let names = facts::names(sentence);
    let words = text::words(sentence);
    words.iter().enumerate().any(|(i, w)| {
        let bare = w.text.trim_end_matches(['\'', '’', 's']);
        let named = names.iter().any(|n| n == w.text || n == bare);
        let other_kind = words.get(i + 1).is_some_and(|next| {
            let k = next.key();
            NAMED.contains(&k.as_str()) && kind.is_some_and(|kind| kind != k)
        });
        named && !other_kind
    })
}

/// Whether `sentence` counts the thing with stem `counted`: a number at
/// most two words before it ("100 orders", "2 power tools").
pub fn counts(sentence: &str, counted: &str) -> bool {
    let keys = text::word_keys(sentence);
    keys.iter().enumerate().any(|(i, k)| {
        stem(k) == counted
            && keys[i.saturating_sub(3)..i]
                .iter()
                .any(|n| facts::normalise_number(n).is_some())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_head_of_a_which_or_what_phrase_is_what_the_question_is_about() {
        assert_eq!(
            asks("What is the budget for the returns portal?").head,
            Some(stem("budget"))
        );
        assert_eq!(
            asks("Which credit reference agency does the KYC team use?").head,
            Some(stem("reference"))
        );
        assert_eq!(
            asks("What is the annual membership fee?").head,
            Some(stem("fee"))
        );
        assert_eq!(
            asks("Which payment methods does the library accept?").head,
            Some(stem("payment"))
        );
    }

    #[test]
    fn kinds_of_answer_and_object_questions_have_no_head() {
        for q in [
            "What restriction applies to interns?",
            "In which system is the new account created?",
            "What does an order line contain?",
            "What happens to damaged items at inspection?",
            "What is the turnaround for an urgent request?",
            "Who approves invoices?",
        ] {
            assert_eq!(asks(q).head, None, "{q}");
        }
        assert_eq!(
            asks("What is the shortest password allowed?").head,
            Some(stem("password"))
        );
    }

    #[test]
    fn names_are_wanted_for_a_provider_or_a_format_but_not_for_a_kind_of_thing() {
        let provider = asks("Which payroll provider does the company use?");
        assert!(provider.name);
        assert_eq!(provider.head, Some(stem("payroll")));
        assert_eq!(asks("Which protocol is used to send the files?").head, None);
        assert!(asks("In what format are return labels sent?").name);
        assert!(asks("Which tool is used to grant privileged access?").name);
        assert!(!asks("Which companies are turned away?").name);
        assert!(!asks("Which employees are not eligible for remote work?").name);
        assert!(names_something(
            "Labels are sent as PDF files.",
            Some("format")
        ));
        assert!(!names_something(
            "The HR system sends a file to the payroll provider.",
            Some("provider")
        ));
        assert!(names_something(
            "Payroll is run by Payflow, our payroll provider.",
            Some("provider")
        ));
        assert!(names_something(
            "Access is granted through the CyberArk vault.",
            Some("tool")
        ));
        assert!(!names_something(
            "The payroll provider confirms receipt within 2 hours.",
            Some("provider")
        ));
    }

    #[test]
    fn how_many_counts_a_thing_unless_it_counts_times() {
        let a = asks("How many invoices does the finance team process per month?");
        assert_eq!(a.counted, Some(stem("invoices")));
        assert!(asks("How many times is the transfer retried?")
            .counted
            .is_none());
        assert!(counts(
            "One request carries at most 100 orders.",
            &stem("orders")
        ));
        assert!(counts(
            "Members may borrow 2 power tools at a time.",
            &stem("tools")
        ));
        assert!(!counts(
            "Invoices are registered within 2 days.",
            &stem("invoices")
        ));
    }

    #[test]
    fn yes_no_questions_and_conditions_are_about_the_things_they_name() {
        assert_eq!(
            asks("Can employees work remotely from another country?").heads,
            [
                stem("employee"),
                stem("work"),
                stem("remotely"),
                stem("country")
            ]
        );
        assert_eq!(
            asks("Can items from the clearance sale be returned?").heads,
            [stem("clearance"), stem("sale")]
        );
        assert_eq!(
            asks("Who approves a request when the line manager is on holiday?").head,
            Some(stem("holiday"))
        );
        assert_eq!(asks("Who approves invoices?").head, None);
        assert_eq!(
            asks("What happens when the price difference is larger than accepted?").head,
            Some(stem("difference"))
        );
    }

    #[test]
    fn a_head_is_mentioned_in_any_inflection() {
        assert!(mentioned(
            &["The membership fees are paid yearly."],
            &stem("fee")
        ));
        assert!(!mentioned(&["The portal replaces email."], &stem("budget")));
        // A fee is what something costs.
        assert!(mentioned(
            &["A late return costs 2 euros per day, up to a maximum of 20 euros."],
            &stem("fee")
        ));
        assert!(!mentioned(
            &["Accounts are opened within 3 days."],
            &stem("fee")
        ));
    }
}
