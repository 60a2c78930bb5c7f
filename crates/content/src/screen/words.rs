//! Words in and out: a sentence cut into tokens and items, a phrase made a
//! label, and which words of a text the description never said.

use super::cues::{
    find_cue, ARTICLES, JOINERS, KIND_NOUNS, SCREEN_NOUNS, SEEING, SHOWING, TITLE_NOUNS,
};
use super::{parse_screens, FieldKind, Tok, GENERIC};
use crate::text::{sentence_texts, words};

/// The sentence's words, keeping the separators as `,` tokens.
pub(super) fn tokens(sentence: &str) -> Vec<Tok> {
    let mut out = Vec::new();
    let mut last = 0;
    for w in words(sentence) {
        let gap = &sentence[last..w.start];
        if gap.contains([',', ';', ':', '(', ')']) || gap.contains(" - ") || gap.contains('—') {
            out.push(Tok {
                text: ",".into(),
                key: ",".into(),
            });
        }
        // A possessive is one word with its noun's kind of text ("patient's").
        out.push(Tok {
            text: w.text.to_string(),
            key: w.key(),
        });
        last = w.end();
    }
    drop_asides(out)
}

/// Phrases that say how or where a part is shown, not what it is: "on or
/// off", "with toggles", "at the top".
const ASIDES: &[&[&str]] = &[
    &["on", "or", "off"],
    &["on", "and", "off"],
    &["off", "or", "on"],
    &["with", "toggles"],
    &["with", "a", "toggle"],
    &["using", "toggles"],
    &["with", "switches"],
    &["at", "the", "top"],
    &["at", "the", "bottom"],
    &["on", "the", "left"],
    &["on", "the", "right"],
    &["on", "top"],
];

fn drop_asides(toks: Vec<Tok>) -> Vec<Tok> {
    let mut out: Vec<Tok> = Vec::with_capacity(toks.len());
    let mut i = 0;
    'next: while i < toks.len() {
        for aside in ASIDES {
            let n = aside.len();
            if toks.len() >= i + n && toks[i..i + n].iter().zip(*aside).all(|(t, w)| t.key == *w) {
                i += n;
                continue 'next;
            }
        }
        out.push(toks[i].clone());
        i += 1;
    }
    out
}

/// Cuts a sentence's tokens into items at separators and joining words.
pub(super) fn items(toks: &[Tok]) -> Vec<Vec<Tok>> {
    let mut out = vec![Vec::new()];
    for t in toks {
        let cut = t.key == "," || JOINERS.contains(&t.key.as_str());
        if cut {
            if !out.last().unwrap().is_empty() {
                out.push(Vec::new());
            }
        } else {
            out.last_mut().unwrap().push(t.clone());
        }
    }
    out.retain(|i| !i.is_empty());
    out
}

/// "A booking screen …", "An employee directory with …": the title and the
/// words after the screen noun (after "with", "showing", "for …" dropped).
pub(super) fn screen_title(item: &[Tok]) -> Option<(String, Vec<Tok>)> {
    let first = item.first()?.key.as_str();
    let starts = matches!(
        first,
        "a" | "an" | "the" | "one" | "then" | "next" | "second" | "another" | "screen" | "page"
    );
    if !starts {
        return None;
    }
    let head = item.iter().position(|t| {
        SCREEN_NOUNS.contains(&t.key.as_str()) || TITLE_NOUNS.contains(&t.key.as_str())
    })?;
    // A cue before the head means this is no title ("a table of …").
    let keys: Vec<&str> = item[..head].iter().map(|t| t.key.as_str()).collect();
    if find_cue(&keys).is_some() || keys.iter().any(|k| SHOWING.contains(k)) {
        return None;
    }
    let keep_head = TITLE_NOUNS.contains(&item[head].key.as_str());
    let words: Vec<Tok> = item[..head + usize::from(keep_head)]
        .iter()
        .filter(|t| {
            !matches!(
                t.key.as_str(),
                "then" | "next" | "second" | "another" | "one" | "new"
            )
        })
        .cloned()
        .collect();
    let mut title = label(&words);
    if title.is_empty() {
        title = label(&item[head..head + 1]);
    }
    let mut rest: Vec<Tok> = item[head + 1..].to_vec();
    // "for librarians", "for members": who the screen is for.
    if rest.first().is_some_and(|t| t.key == "for") {
        let cut = rest.iter().position(|t| SHOWING.contains(&t.key.as_str()));
        rest = match cut {
            Some(c) => rest[c..].to_vec(),
            None => Vec::new(),
        };
    }
    // "… screen that shows …", "… page which lists …".
    if rest
        .first()
        .is_some_and(|t| matches!(t.key.as_str(), "that" | "which"))
    {
        rest.remove(0);
    }
    Some((title, rest))
}

pub(super) fn strip_seeing(toks: &[Tok]) -> &[Tok] {
    let start = toks
        .iter()
        .position(|t| {
            !SEEING.contains(&t.key.as_str())
                && !is_filler(&t.key)
                && !matches!(t.key.as_str(), "shows" | "show" | "lists" | "displays")
        })
        .unwrap_or(toks.len());
    &toks[start..]
}

/// A table cue's words: the table's name, then what follows "with",
/// "showing"… (the columns).
pub(super) fn split_showing(rest: &[Tok]) -> (&[Tok], &[Tok]) {
    match rest
        .iter()
        .position(|t| SHOWING.contains(&t.key.as_str()) || t.key == "columns")
    {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, &[]),
    }
}

/// Drops a leading "columns" ("with columns A, B"), or returns `None`.
pub(super) fn strip_columns_word(toks: &[Tok]) -> Option<&[Tok]> {
    let i = toks.iter().position(|t| !is_filler(&t.key))?;
    matches!(toks[i].key.as_str(), "columns" | "column")
        .then(|| &toks[i + 1..])
        .map(|t| {
            if t.first()
                .is_some_and(|t| matches!(t.key.as_str(), "for" | "of"))
            {
                &t[1..]
            } else {
                t
            }
        })
}

/// "a course from a drop-down": the phrase without the list it is picked
/// from, and whether there was one.
pub(super) fn strip_from_list(phrase: &[Tok]) -> (&[Tok], bool) {
    let i = phrase
        .iter()
        .position(|t| matches!(t.key.as_str(), "from" | "using" | "via"));
    match i {
        Some(i)
            if phrase[i..].iter().any(|t| {
                matches!(
                    t.key.as_str(),
                    "drop-down" | "dropdown" | "list" | "menu" | "picker"
                )
            }) =>
        {
            (&phrase[..i], true)
        }
        _ => (phrase, false),
    }
}

pub(super) fn is_filler(key: &str) -> bool {
    ARTICLES.contains(&key)
}

/// A phrase as a label: leading fillers, inner articles and pronouns and a
/// trailing kind noun dropped, each word title-cased (acronyms and words
/// the description capitalises keep their case).
pub fn label_of(phrase: &str) -> String {
    label(&tokens(phrase))
}

pub(super) fn label(phrase: &[Tok]) -> String {
    let mut toks: Vec<&Tok> = phrase
        .iter()
        .filter(|t| t.key != "," && !is_filler(&t.key))
        .collect();
    while toks.first().is_some_and(|t| {
        matches!(
            t.key.as_str(),
            "to" | "for" | "by" | "on" | "with" | "of" | "in"
        )
    }) {
        toks.remove(0);
    }
    while toks.last().is_some_and(|t| {
        KIND_NOUNS.iter().any(|(w, _)| *w == t.key)
            || matches!(
                t.key.as_str(),
                "to" | "for" | "by" | "of" | "in" | "on" | "as" | "with" | "too"
            )
    }) {
        toks.pop();
    }
    let n = toks.len();
    toks.iter()
        .take(6)
        .enumerate()
        .map(|(i, t)| title_word(&t.text, i == 0 || i + 1 == n))
        .collect::<Vec<_>>()
        .join(" ")
}

pub(super) fn title_word(word: &str, edge: bool) -> String {
    const SMALL: &[&str] = &[
        "of", "for", "by", "to", "and", "or", "as", "in", "on", "at", "from", "so",
    ];
    let lower = word.to_lowercase();
    if !edge && SMALL.contains(&lower.as_str()) {
        return lower;
    }
    if word.chars().skip(1).any(char::is_uppercase) {
        return word.to_string();
    }
    word.split('-')
        .map(|part| {
            let mut c = part.chars();
            match c.next() {
                Some(f) => f.to_uppercase().chain(c).collect(),
                None => String::new(),
            }
        })
        .collect::<Vec<String>>()
        .join("-")
}

/// "Home Page" → "Home": a link names the screen, not the word screen.
pub(super) fn strip_screen_noun(label: &str) -> String {
    let mut words: Vec<&str> = label.split(' ').collect();
    if words.len() > 1
        && words
            .last()
            .is_some_and(|w| SCREEN_NOUNS.contains(&w.to_lowercase().as_str()))
    {
        words.pop();
    }
    words.join(" ")
}

/// A field's kind from its label's words, then from the verb's hint.
pub(super) fn guess_kind(label: &str, hint: Option<FieldKind>) -> FieldKind {
    let keys: Vec<String> = label.split([' ', '-']).map(str::to_lowercase).collect();
    let has = |list: &[&str]| keys.iter().any(|k| list.contains(&k.as_str()));
    let last = keys.last().map(String::as_str).unwrap_or("");
    if has(&["email", "e-mail"]) {
        FieldKind::Email
    } else if has(&["password", "pin", "passcode"]) {
        FieldKind::Password
    } else if has(&["date", "birthday", "dob", "deadline"]) {
        FieldKind::Date
    } else if matches!(last, "time") {
        FieldKind::Time
    } else if has(&[
        "amount",
        "quantity",
        "qty",
        "headcount",
        "count",
        "age",
        "price",
        "cost",
        "budget",
        "total",
        "hours",
        "salary",
        "weight",
        "percentage",
        "rate",
    ]) && !has(&["type", "category", "name"])
    {
        FieldKind::Number
    } else if has(&[
        "comment",
        "comments",
        "notes",
        "note",
        "reason",
        "description",
        "message",
        "remarks",
        "feedback",
        "summary",
        "explanation",
        "justification",
    ]) {
        FieldKind::Textarea
    } else if has(&[
        "consent",
        "agree",
        "agreement",
        "terms",
        "subscribe",
        "urgent",
    ]) {
        FieldKind::Checkbox
    } else if let Some(h) = hint {
        h
    } else {
        FieldKind::Text
    }
}

/// The words of `text` found neither in `description` nor in [`GENERIC`]
/// (lower case, a plural or possessive folded to its stem), each once.
pub fn words_from_nowhere(text: &str, description: &str) -> Vec<String> {
    let known: Vec<String> = words(description).iter().map(|w| fold(&w.key())).collect();
    let mut out: Vec<String> = Vec::new();
    for w in words(text) {
        let k = fold(&w.key());
        let known = known.contains(&k) || is_generic(&k) || known_parts(&k, &known);
        if !known && !out.contains(&k) {
            out.push(k);
        }
    }
    out
}

/// "sign-in" is known when "sign" and "in" are.
pub(super) fn known_parts(word: &str, known: &[String]) -> bool {
    word.contains('-')
        && word
            .split('-')
            .all(|p| known.iter().any(|k| k == p) || is_generic(p))
}

/// Whether a folded word is one of [`GENERIC`].
pub(super) fn is_generic(folded: &str) -> bool {
    GENERIC.iter().any(|g| fold(g) == folded)
}

/// A word's comparison stem: lower case, without a possessive or a plural s.
pub fn fold(word: &str) -> String {
    let w = word.to_lowercase();
    let w = w
        .strip_suffix("'s")
        .or_else(|| w.strip_suffix("’s"))
        .unwrap_or(&w);
    if w.len() > 3 && w.ends_with('s') && !w.ends_with("ss") {
        w[..w.len() - 1].to_string()
    } else {
        w.to_string()
    }
}

/// Labels a model may choose from for `description`: its parsed labels,
/// its content phrases of one to three words (title-cased), and the generic
/// words; at most `max`, the parsed ones first.
pub fn vocabulary(description: &str, max: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let push = |l: String, out: &mut Vec<String>| {
        if !l.is_empty() && out.len() < max && !out.iter().any(|o| o.eq_ignore_ascii_case(&l)) {
            out.push(l);
        }
    };
    for s in parse_screens(description) {
        for l in s.labels() {
            push(l, &mut out);
        }
    }
    for g in GENERIC_LABELS {
        push(g.to_string(), &mut out);
    }
    for sentence in sentence_texts(description) {
        for item in items(&tokens(sentence)) {
            let content: Vec<Tok> = item
                .into_iter()
                .filter(|t| !crate::text::is_stopword(&t.key))
                .collect();
            for n in 1..=3 {
                for w in content.windows(n) {
                    push(label(w), &mut out);
                }
            }
        }
    }
    out
}

/// Labels made of [`GENERIC`] words that screens often show.
pub const GENERIC_LABELS: &[&str] = &[
    "Save", "Cancel", "Search", "Submit", "Back", "Next", "Previous", "Edit", "Delete", "Filter",
    "Add", "New", "Remove", "Close", "View", "Details", "Home", "Menu", "Help", "Settings",
    "Sign In", "Sign Out", "Log In", "Log Out", "Reset", "Clear", "Confirm", "OK", "Yes", "No",
    "Export", "Print", "Refresh", "Upload", "Download", "Sort", "Apply", "Done", "Continue",
    "Update", "Create", "Select", "All", "More",
];
