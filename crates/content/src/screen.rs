//! A screen description, as an analyst writes it, read into the screen's
//! parts: its title, fields (with a guess at their kind), tables and lists
//! with their columns, actions and links. Every label is made of the
//! description's own words, title-cased; the only other words a screen may
//! show are the generic UI words of [`GENERIC`].
//!
//! The reading is a small cue grammar over items: a sentence is cut into
//! items at commas, semicolons, colons and the joining words ("and", "or",
//! "where", "with"…); an item that holds a cue ("enters", "a table of",
//! "buttons to", "can", "link to", "<x> field") starts a run of that kind,
//! and the bare noun phrases after it ("…, date of birth, phone number")
//! continue the run. So "enters the name, date of birth and phone number"
//! gives three fields, and "can approve or reject an invoice" two actions.

mod cues;
mod parts;
mod words;

use cues::*;
pub use parts::{Field, FieldKind, Screen, Table};
use words::*;
pub use words::{fold, label_of, vocabulary, words_from_nowhere, GENERIC_LABELS};

use crate::text::sentence_texts;

/// Generic UI words a screen may show though the description does not say
/// them (lower case; labels are title-cased from these).
pub const GENERIC: &[&str] = &[
    "save", "cancel", "search", "submit", "back", "next", "previous", "edit", "delete", "filter",
    "add", "new", "remove", "close", "open", "view", "details", "detail", "home", "menu", "help",
    "settings", "sign", "in", "out", "log", "reset", "clear", "confirm", "ok", "yes", "no",
    "export", "print", "refresh", "upload", "download", "sort", "apply", "done", "continue",
    "update", "create", "select", "all", "more",
];

/// What a run of items is.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Run {
    Field(Option<FieldKind>),
    Columns,
    /// Verb phrases after a modal or "buttons to": each item is classified
    /// by its own verb, an unknown one being an action.
    Verbs,
    Actions,
    Links,
}

/// One word of a sentence, with whether a separator comes before it.
#[derive(Debug, Clone)]
struct Tok {
    text: String,
    key: String,
}

/// Reads a description of one or more screens. A sentence that opens with
/// a new screen ("A second screen …", "Then a confirmation page …") starts
/// the next one.
pub fn parse_screens(description: &str) -> Vec<Screen> {
    let mut out: Vec<Screen> = Vec::new();
    let mut current: Option<Reader> = None;
    for sentence in sentence_texts(description) {
        let toks = tokens(sentence);
        let opens = screen_title(&items(&toks).first().cloned().unwrap_or_default()).is_some();
        if opens || current.is_none() {
            if let Some(r) = current.take() {
                out.push(r.finish(description));
            }
            current = Some(Reader::default());
        }
        current.as_mut().unwrap().sentence(&toks);
    }
    if let Some(r) = current {
        out.push(r.finish(description));
    }
    if out.is_empty() {
        out.push(Reader::default().finish(description));
    }
    out
}

/// Reads a description as one screen.
pub fn parse(description: &str) -> Screen {
    let mut r = Reader::default();
    for sentence in sentence_texts(description) {
        r.sentence(&tokens(sentence));
    }
    r.finish(description)
}

/// Where a sentence's reading stands between items.
#[derive(Default)]
struct State {
    /// What a bare noun phrase continues.
    run: Option<Run>,
    /// A modal or "buttons to" was read: items may be verb phrases.
    verbs: bool,
    /// Bare noun phrases seen before any cue, kept in case a later item
    /// names their kind ("name, email and phone fields").
    pending: Vec<Vec<Tok>>,
}

#[derive(Default)]
struct Reader {
    screen: Screen,
}

impl Reader {
    fn sentence(&mut self, toks: &[Tok]) {
        let mut st = State::default();
        for (n, item) in items(toks).into_iter().enumerate() {
            if n == 0 && self.screen.title.is_empty() {
                if let Some((title, rest)) = screen_title(&item) {
                    self.screen.title = title;
                    if !rest.is_empty() {
                        self.item(&rest, &mut st);
                    }
                    continue;
                }
            }
            self.item(&item, &mut st);
        }
    }

    fn item(&mut self, item: &[Tok], st: &mut State) {
        let State {
            run,
            verbs,
            pending,
        } = st;
        let keys: Vec<&str> = item.iter().map(|t| t.key.as_str()).collect();
        // A leading "with"/"showing" continues a table as its columns.
        if let Some(first) = keys.first() {
            if SHOWING.contains(first) {
                let rest = &item[1..];
                // "A support dashboard listing open tickets": a list of them.
                if matches!(*first, "listing" | "lists")
                    && !matches!(run, Some(Run::Columns))
                    && !self.open_table()
                    && find_cue(&keys[1..]).is_none()
                {
                    let l = label(rest);
                    if !l.is_empty() {
                        self.screen.tables.push(Table {
                            label: l,
                            columns: Vec::new(),
                            list: true,
                        });
                        *run = None;
                        return;
                    }
                }
                if let Some(rest) = strip_columns_word(rest) {
                    *run = Some(Run::Columns);
                    self.put(Run::Columns, rest);
                    return;
                }
                if matches!(run, Some(Run::Columns)) || self.open_table() {
                    *run = Some(Run::Columns);
                    self.put(Run::Columns, rest);
                    return;
                }
                return self.item(rest, st);
            }
        }
        // After "can" or "buttons to", an item that opens with an action
        // verb is a button (or a link), whatever run came before it.
        if *verbs {
            if let Some(len) = nav_verb(&keys) {
                *run = Some(Run::Verbs);
                return self.link(label(&item[len..]));
            }
            if keys.first().is_some_and(|k| ACTION_VERBS.contains(k)) {
                *run = Some(Run::Verbs);
                return self.action(label(item));
            }
        }
        if let Some((i, len, cue)) = find_cue(&keys) {
            let rest = &item[i + len..];
            match cue {
                Cue::Table { list, postfix } => {
                    let (label_part, cols) = if postfix {
                        (strip_seeing(&item[..i]), &item[i + len..])
                    } else {
                        split_showing(rest)
                    };
                    let label = label(label_part);
                    self.screen.tables.push(Table {
                        label: if label.is_empty() {
                            if list {
                                "List".into()
                            } else {
                                "Results".into()
                            }
                        } else {
                            label
                        },
                        columns: Vec::new(),
                        list,
                    });
                    *run = Some(Run::Columns);
                    let cols = match cols.first() {
                        Some(t) if SHOWING.contains(&t.key.as_str()) => &cols[1..],
                        _ => cols,
                    };
                    let cols = strip_columns_word(cols).unwrap_or(cols);
                    self.put(Run::Columns, cols);
                }
                Cue::Run(r) => {
                    *run = Some(r);
                    if r == Run::Verbs {
                        *verbs = true;
                        return self.item(rest, st);
                    }
                    self.put(r, rest);
                }
                Cue::Filter => {
                    let l = label(rest);
                    if !l.is_empty() {
                        self.field(format!("Filter By {l}"), FieldKind::Select);
                    }
                    *run = Some(Run::Field(Some(FieldKind::Select)));
                }
                Cue::Search => {
                    let l = label(rest);
                    let l = if l.is_empty() {
                        "Search".into()
                    } else {
                        format!("Search By {l}")
                    };
                    self.field(l, FieldKind::Search);
                    *run = None;
                }
                Cue::SearchBox => {
                    self.field("Search".into(), FieldKind::Search);
                    *run = None;
                }
                Cue::Modal => {
                    *run = Some(Run::Verbs);
                    *verbs = true;
                    if !rest.is_empty() {
                        self.item(rest, st);
                    }
                }
                Cue::Suffix(r) => {
                    let phrase = &item[..i];
                    for p in pending.drain(..) {
                        self.put(r, &p);
                    }
                    self.put(r, phrase);
                    *run = Some(r);
                    if r == Run::Columns {
                        *run = None;
                    }
                }
            }
            return;
        }
        // "then saves the claim", "the agent saves the claim": a button,
        // its verb in the base form. A verb opens the item after a cue
        // (so "Returns desk page" is no button), or follows a person.
        let lead = keys
            .iter()
            .take_while(|k| is_filler(k) || PEOPLE.contains(k))
            .count();
        let person = keys[..lead].iter().any(|k| PEOPLE.contains(k));
        let verb_here = person || run.is_some();
        if let Some(base) = keys
            .get(lead)
            .filter(|_| verb_here)
            .and_then(|k| action_base(k))
        {
            *run = Some(Run::Verbs);
            *verbs = true;
            let rest = label(&item[lead + 1..]);
            let verb = title_word(base, true);
            return self.action(if rest.is_empty() {
                verb
            } else {
                format!("{verb} {rest}")
            });
        }
        // "sees the student's name and class": what the screen shows.
        if verb_here
            && keys.get(lead).is_some_and(|k| SEEING.contains(k))
            && *run != Some(Run::Verbs)
        {
            *run = Some(Run::Field(Some(FieldKind::Text)));
            return self.put(Run::Field(Some(FieldKind::Text)), &item[lead + 1..]);
        }
        match *run {
            Some(Run::Verbs) => {
                if keys.first().is_some_and(|k| SEEING.contains(k)) {
                    // "view the timetable" is a button; "see it" is nothing.
                    let l = label(item);
                    if label(&item[1..]).is_empty() {
                        return;
                    }
                    self.action(l);
                } else {
                    self.put(Run::Actions, item);
                }
            }
            Some(r) => self.put(r, item),
            None => pending.push(item.to_vec()),
        }
    }

    fn open_table(&self) -> bool {
        self.screen
            .tables
            .last()
            .is_some_and(|t| t.columns.is_empty())
    }

    /// Puts a phrase where its run says.
    fn put(&mut self, run: Run, phrase: &[Tok]) {
        match run {
            Run::Field(kind) => {
                let (phrase, from_list) = strip_from_list(phrase);
                let l = label(phrase);
                if l.is_empty() {
                    return;
                }
                let kind = match kind {
                    Some(FieldKind::Select) => guess_kind(&l, Some(FieldKind::Select)),
                    Some(k) => k,
                    None if from_list => FieldKind::Select,
                    None => guess_kind(&l, None),
                };
                self.field(l, kind);
            }
            Run::Columns => {
                let l = label(phrase);
                if l.is_empty() {
                    return;
                }
                match self.screen.tables.last_mut() {
                    Some(t) => {
                        if !t.columns.iter().any(|c| c.eq_ignore_ascii_case(&l)) {
                            t.columns.push(l);
                        }
                        t.list = false;
                    }
                    None => self.screen.tables.push(Table {
                        label: "List".into(),
                        columns: vec![l],
                        list: false,
                    }),
                }
            }
            Run::Verbs | Run::Actions => {
                let keys: Vec<&str> = phrase.iter().map(|t| t.key.as_str()).collect();
                if let Some(len) = nav_verb(&keys) {
                    return self.link(label(&phrase[len..]));
                }
                self.action(label(phrase));
            }
            Run::Links => {
                let keys: Vec<&str> = phrase.iter().map(|t| t.key.as_str()).collect();
                let skip = nav_verb(&keys).unwrap_or(0);
                let skip = skip
                    + phrase[skip..]
                        .iter()
                        .take_while(|t| matches!(t.key.as_str(), "back" | "to"))
                        .count();
                self.link(label(&phrase[skip..]));
            }
        }
    }

    fn field(&mut self, label: String, kind: FieldKind) {
        let field = Field { label, kind };
        if !self
            .screen
            .fields
            .iter()
            .any(|f| f.label.eq_ignore_ascii_case(&field.label))
        {
            self.screen.fields.push(field);
        }
    }

    fn action(&mut self, label: String) {
        if !label.is_empty()
            && !self
                .screen
                .actions
                .iter()
                .any(|a| a.eq_ignore_ascii_case(&label))
        {
            self.screen.actions.push(label);
        }
    }

    fn link(&mut self, label: String) {
        let label = strip_screen_noun(&label);
        if !label.is_empty()
            && !self
                .screen
                .links
                .iter()
                .any(|a| a.eq_ignore_ascii_case(&label))
        {
            self.screen.links.push(label);
        }
    }

    fn finish(mut self, description: &str) -> Screen {
        if self.screen.title.is_empty() {
            // The first content words of the description.
            let toks = tokens(sentence_texts(description).first().copied().unwrap_or(""));
            let start = toks
                .iter()
                .position(|t| !is_filler(&t.key))
                .unwrap_or(toks.len());
            let end = toks[start..]
                .iter()
                .position(|t| is_filler(&t.key) || JOINERS.contains(&t.key.as_str()))
                .map_or(toks.len(), |p| start + p);
            self.screen.title = strip_screen_noun(&label(&toks[start..end.min(start + 4)]));
        }
        self.screen
    }
}

#[cfg(test)]
mod tests;
