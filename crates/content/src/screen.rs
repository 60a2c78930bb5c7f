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

use crate::text::{sentence_texts, words};

/// Generic UI words a screen may show though the description does not say
/// them (lower case; labels are title-cased from these).
pub const GENERIC: &[&str] = &[
    "save", "cancel", "search", "submit", "back", "next", "previous", "edit", "delete", "filter",
    "add", "new", "remove", "close", "open", "view", "details", "detail", "home", "menu", "help",
    "settings", "sign", "in", "out", "log", "reset", "clear", "confirm", "ok", "yes", "no",
    "export", "print", "refresh", "upload", "download", "sort", "apply", "done", "continue",
    "update", "create", "select", "all", "more",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Text,
    Date,
    Time,
    Number,
    Email,
    Password,
    Select,
    Checkbox,
    Textarea,
    /// A search box.
    Search,
}

impl FieldKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FieldKind::Text => "text",
            FieldKind::Date => "date",
            FieldKind::Time => "time",
            FieldKind::Number => "number",
            FieldKind::Email => "email",
            FieldKind::Password => "password",
            FieldKind::Select => "select",
            FieldKind::Checkbox => "checkbox",
            FieldKind::Textarea => "textarea",
            FieldKind::Search => "search",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub label: String,
    pub kind: FieldKind,
}

/// A table, or a list when the description says "list" and names no columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub label: String,
    pub columns: Vec<String>,
    pub list: bool,
}

/// What a description says one screen holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Screen {
    pub title: String,
    pub fields: Vec<Field>,
    pub tables: Vec<Table>,
    /// Buttons, from the description's verbs ("Cancel Booking", "Approve").
    pub actions: Vec<String>,
    /// Where the screen leads ("Home", "Leave Policy").
    pub links: Vec<String>,
}

impl Screen {
    /// Whether the description named any part at all.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
            && self.tables.is_empty()
            && self.actions.is_empty()
            && self.links.is_empty()
    }

    /// Every label of the screen, title first.
    pub fn labels(&self) -> Vec<String> {
        let mut out = vec![self.title.clone()];
        out.extend(self.fields.iter().map(|f| f.label.clone()));
        for t in &self.tables {
            out.push(t.label.clone());
            out.extend(t.columns.iter().cloned());
        }
        out.extend(self.actions.iter().cloned());
        out.extend(self.links.iter().cloned());
        out
    }
}

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

const ARTICLES: &[&str] = &[
    "a", "an", "the", "their", "his", "her", "its", "our", "your", "my", "each", "every", "some",
    "any", "it", "them", "this", "that", "these", "those", "also", "then", "both",
];
const JOINERS: &[&str] = &["and", "or", "where", "while", "whereas", "plus", "nor"];
const FIELD_VERBS: &[&str] = &[
    "enter", "enters", "entering", "type", "types", "pick", "picks", "select", "selects",
    "choose", "chooses", "input", "inputs", "scan", "scans", "provide", "provides", "specify",
    "specifies", "fill", "fills", "key", "keys",
];
const CHOOSING: &[&str] = &[
    "pick", "picks", "select", "selects", "choose", "chooses",
];
const TICK_VERBS: &[&str] = &["tick", "ticks"];
/// Verbs a button's label starts with, in the base form "can …" takes.
const ACTION_VERBS: &[&str] = &[
    "accept", "activate", "add", "allocate", "apply", "approve", "archive", "assign", "attach",
    "book", "cancel", "clear", "close", "complete", "confirm", "copy", "create", "deactivate",
    "decline", "delete", "disable", "discard", "dispatch", "download", "duplicate", "edit",
    "enable", "enrol", "enroll", "escalate", "export", "forward", "generate", "hold", "import",
    "invite", "issue", "lock", "log", "mark", "notify", "open", "pay", "post", "print",
    "publish", "reassign", "receive", "refresh", "refund", "register", "reject", "release",
    "remove", "renew", "reopen", "reply", "request", "reschedule", "reserve", "reset", "resume",
    "return", "save", "schedule", "send", "share", "ship", "sign", "sort", "start", "stop",
    "submit", "transfer", "unlock", "update", "upload", "verify", "void", "withdraw",
];
const CLICK_VERBS: &[&str] = &["click", "clicks", "press", "presses", "tap", "taps", "hit", "hits"];
const MODALS: &[&str] = &["can", "may", "could", "lets", "allows"];
const OPENS: &[&str] = &["open", "opens"];
const SHOWING: &[&str] = &[
    "with", "showing", "shows", "show", "including", "includes", "listing", "lists", "containing",
    "contains", "displaying", "displays",
];
/// Verbs an item in a verb run may start with that are not actions: they
/// only introduce what follows ("see a table of …").
const SEEING: &[&str] = &["see", "sees", "view", "views", "review", "reviews", "read", "reads", "check"];
/// Nouns that name a component's kind at the end of a phrase ("an email
/// field", "a consent checkbox", "a sign-in button").
const KIND_NOUNS: &[(&str, Run)] = &[
    ("field", Run::Field(None)),
    ("fields", Run::Field(None)),
    ("input", Run::Field(None)),
    ("box", Run::Field(None)),
    ("checkbox", Run::Field(Some(FieldKind::Checkbox))),
    ("checkboxes", Run::Field(Some(FieldKind::Checkbox))),
    ("drop-down", Run::Field(Some(FieldKind::Select))),
    ("dropdown", Run::Field(Some(FieldKind::Select))),
    ("picker", Run::Field(Some(FieldKind::Select))),
    ("button", Run::Actions),
    ("buttons", Run::Actions),
    ("link", Run::Links),
    ("links", Run::Links),
    ("column", Run::Columns),
    ("columns", Run::Columns),
];
/// Words of a screen title's head noun that the title drops.
const SCREEN_NOUNS: &[&str] = &["screen", "page", "view", "window", "dialog", "dialogue"];
const TITLE_NOUNS: &[&str] = &[
    "form", "dashboard", "directory", "wizard", "portal", "overview", "report", "console",
    "calendar", "inbox", "catalogue", "catalog",
];

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
        let State { run, verbs, pending } = st;
        let keys: Vec<&str> = item.iter().map(|t| t.key.as_str()).collect();
        // A leading "with"/"showing" continues a table as its columns.
        if let Some(first) = keys.first() {
            if SHOWING.contains(first) {
                let rest = &item[1..];
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
                            if list { "List".into() } else { "Results".into() }
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
                    let l = if l.is_empty() { "Search".into() } else { format!("Search By {l}") };
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
        self.screen.tables.last().is_some_and(|t| t.columns.is_empty())
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
        if !self.screen.fields.iter().any(|f| f.label.eq_ignore_ascii_case(&field.label)) {
            self.screen.fields.push(field);
        }
    }

    fn action(&mut self, label: String) {
        if !label.is_empty() && !self.screen.actions.iter().any(|a| a.eq_ignore_ascii_case(&label)) {
            self.screen.actions.push(label);
        }
    }

    fn link(&mut self, label: String) {
        let label = strip_screen_noun(&label);
        if !label.is_empty() && !self.screen.links.iter().any(|a| a.eq_ignore_ascii_case(&label)) {
            self.screen.links.push(label);
        }
    }

    fn finish(mut self, description: &str) -> Screen {
        if self.screen.title.is_empty() {
            // The first content words of the description.
            let toks = tokens(sentence_texts(description).first().copied().unwrap_or(""));
            let start = toks.iter().position(|t| !is_filler(&t.key)).unwrap_or(toks.len());
            let end = toks[start..]
                .iter()
                .position(|t| is_filler(&t.key) || JOINERS.contains(&t.key.as_str()))
                .map_or(toks.len(), |p| start + p);
            self.screen.title = label(&toks[start..end.min(start + 4)]);
        }
        self.screen
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Cue {
    Table { list: bool, postfix: bool },
    Run(Run),
    Filter,
    Search,
    SearchBox,
    Modal,
    /// The item's last word names its kind; the words before are the label.
    Suffix(Run),
}

/// The earliest cue in an item: its word index, its length in words, and
/// what it starts.
fn find_cue(keys: &[&str]) -> Option<(usize, usize, Cue)> {
    let at = |i: usize, w: &str| keys.get(i).is_some_and(|k| *k == w);
    for i in 0..keys.len() {
        let k = keys[i];
        let next = keys.get(i + 1).copied().unwrap_or("");
        if matches!(k, "table" | "tables" | "list" | "lists" | "grid")
            && matches!(next, "of" | "with" | "showing" | "that")
        {
            let skip = if next == "of" { 2 } else { 1 };
            return Some((i, skip, Cue::Table { list: k.starts_with("list"), postfix: false }));
        }
        if k == "in" && at(i + 1, "a") && matches!(keys.get(i + 2).copied(), Some("table" | "list" | "grid")) {
            let list = at(i + 2, "list");
            return Some((i, 3, Cue::Table { list, postfix: true }));
        }
        if matches!(k, "filter" | "filters") && matches!(next, "by" | "on" | "for") {
            return Some((i, 2, Cue::Filter));
        }
        if matches!(k, "search" | "searches" | "searching") && matches!(next, "by" | "for" | "on") {
            return Some((i, 2, Cue::Search));
        }
        if k == "search" && matches!(next, "box" | "bar" | "field") {
            return Some((i, 2, Cue::SearchBox));
        }
        if matches!(k, "field" | "fields" | "inputs") && matches!(next, "for" | "to") {
            return Some((i, 2, Cue::Run(Run::Field(None))));
        }
        if matches!(k, "box" | "area") && next == "for" {
            let kind = if i > 0 && matches!(keys[i - 1], "comment" | "text" | "notes" | "message") {
                Some(FieldKind::Textarea)
            } else {
                None
            };
            return Some((i, 2, Cue::Run(Run::Field(kind))));
        }
        if matches!(k, "checkbox" | "checkboxes") && matches!(next, "for" | "to") {
            return Some((i, 2, Cue::Run(Run::Field(Some(FieldKind::Checkbox)))));
        }
        if matches!(k, "drop-down" | "dropdown") && matches!(next, "for" | "of") {
            return Some((i, 2, Cue::Run(Run::Field(Some(FieldKind::Select)))));
        }
        if matches!(k, "column" | "columns") && matches!(next, "for" | "of") {
            return Some((i, 2, Cue::Run(Run::Columns)));
        }
        if matches!(k, "button" | "buttons" | "option" | "options") && matches!(next, "to" | "for") {
            return Some((i, 2, Cue::Run(Run::Verbs)));
        }
        if matches!(k, "link" | "links") {
            let len = 1 + keys[i + 1..]
                .iter()
                .take_while(|w| matches!(**w, "back" | "to"))
                .count();
            return Some((i, len, Cue::Run(Run::Links)));
        }
        if let Some(len) = nav_verb(&keys[i..]) {
            return Some((i, len, Cue::Run(Run::Links)));
        }
        if OPENS.contains(&k) && i > 0 {
            return Some((i, 1, Cue::Run(Run::Links)));
        }
        // A field verb needs an object: "document types" ends its item.
        if FIELD_VERBS.contains(&k) && i + 1 < keys.len() {
            // "fill in", "key in": the particle is part of the verb.
            let len = if matches!(next, "in" | "out") && matches!(k, "fill" | "fills" | "key" | "keys") { 2 } else { 1 };
            let kind = CHOOSING.contains(&k).then_some(FieldKind::Select);
            return Some((i, len, Cue::Run(Run::Field(kind))));
        }
        if TICK_VERBS.contains(&k) {
            return Some((i, 1, Cue::Run(Run::Field(Some(FieldKind::Checkbox)))));
        }
        if CLICK_VERBS.contains(&k) {
            let len = if next == "on" { 2 } else { 1 };
            return Some((i, len, Cue::Run(Run::Actions)));
        }
        if MODALS.contains(&k) || (k == "able" && at(i + 1, "to")) {
            let len = if k == "able" { 2 } else { 1 };
            // "allows the user to": skip up to the "to".
            let len = if matches!(k, "lets" | "allows") {
                keys[i..].iter().position(|w| *w == "to").map_or(1, |p| p + 1)
            } else {
                len
            };
            return Some((i, len, Cue::Modal));
        }
    }
    // The last word names the kind: "an email field", "a sign-in button".
    if keys.len() >= 2 {
        let last = keys[keys.len() - 1];
        if let Some((_, run)) = KIND_NOUNS.iter().find(|(w, _)| *w == last) {
            let kind = if last == "box" && keys[keys.len() - 2] == "search" {
                return Some((keys.len() - 2, 2, Cue::SearchBox));
            } else {
                *run
            };
            return Some((keys.len() - 1, 1, Cue::Suffix(kind)));
        }
    }
    None
}

/// The length of a navigation verb at the start of `keys` ("go back to",
/// "return to", "navigate to").
fn nav_verb(keys: &[&str]) -> Option<usize> {
    let first = *keys.first()?;
    if !matches!(first, "go" | "goes" | "return" | "returns" | "navigate" | "navigates" | "jump" | "jumps") {
        return None;
    }
    let len = 1 + keys[1..].iter().take_while(|w| matches!(**w, "back" | "to")).count();
    (keys[1..len].contains(&"to")).then_some(len)
}

/// The sentence's words, keeping the separators as `,` tokens.
fn tokens(sentence: &str) -> Vec<Tok> {
    let mut out = Vec::new();
    let mut last = 0;
    for w in words(sentence) {
        let gap = &sentence[last..w.start];
        if gap.contains([',', ';', ':', '(', ')']) || gap.contains(" - ") || gap.contains('—') {
            out.push(Tok { text: ",".into(), key: ",".into() });
        }
        // A possessive is one word with its noun's kind of text ("patient's").
        out.push(Tok { text: w.text.to_string(), key: w.key() });
        last = w.end();
    }
    out
}

/// Cuts a sentence's tokens into items at separators and joining words.
fn items(toks: &[Tok]) -> Vec<Vec<Tok>> {
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
fn screen_title(item: &[Tok]) -> Option<(String, Vec<Tok>)> {
    let first = item.first()?.key.as_str();
    let starts = matches!(first, "a" | "an" | "the" | "one" | "then" | "next" | "second" | "another" | "screen" | "page");
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
        .filter(|t| !matches!(t.key.as_str(), "then" | "next" | "second" | "another" | "one" | "new"))
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
    if rest.first().is_some_and(|t| matches!(t.key.as_str(), "that" | "which")) {
        rest.remove(0);
    }
    Some((title, rest))
}

fn strip_seeing(toks: &[Tok]) -> &[Tok] {
    let start = toks
        .iter()
        .position(|t| !SEEING.contains(&t.key.as_str()) && !is_filler(&t.key) && !matches!(t.key.as_str(), "shows" | "show" | "lists" | "displays"))
        .unwrap_or(toks.len());
    &toks[start..]
}

/// A table cue's words: the table's name, then what follows "with",
/// "showing"… (the columns).
fn split_showing(rest: &[Tok]) -> (&[Tok], &[Tok]) {
    match rest.iter().position(|t| SHOWING.contains(&t.key.as_str()) || t.key == "columns") {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, &[]),
    }
}

/// Drops a leading "columns" ("with columns A, B"), or returns `None`.
fn strip_columns_word(toks: &[Tok]) -> Option<&[Tok]> {
    let i = toks.iter().position(|t| !is_filler(&t.key))?;
    matches!(toks[i].key.as_str(), "columns" | "column")
        .then(|| &toks[i + 1..])
        .map(|t| if t.first().is_some_and(|t| matches!(t.key.as_str(), "for" | "of")) { &t[1..] } else { t })
}

/// "a course from a drop-down": the phrase without the list it is picked
/// from, and whether there was one.
fn strip_from_list(phrase: &[Tok]) -> (&[Tok], bool) {
    let i = phrase.iter().position(|t| matches!(t.key.as_str(), "from" | "using" | "via"));
    match i {
        Some(i)
            if phrase[i..].iter().any(|t| {
                matches!(t.key.as_str(), "drop-down" | "dropdown" | "list" | "menu" | "picker")
            }) =>
        {
            (&phrase[..i], true)
        }
        _ => (phrase, false),
    }
}

fn is_filler(key: &str) -> bool {
    ARTICLES.contains(&key)
}

/// A phrase as a label: leading fillers, inner articles and pronouns and a
/// trailing kind noun dropped, each word title-cased (acronyms and words
/// the description capitalises keep their case).
pub fn label_of(phrase: &str) -> String {
    label(&tokens(phrase))
}

fn label(phrase: &[Tok]) -> String {
    let mut toks: Vec<&Tok> = phrase
        .iter()
        .filter(|t| t.key != "," && !is_filler(&t.key))
        .collect();
    while toks.first().is_some_and(|t| matches!(t.key.as_str(), "to" | "for" | "by" | "on" | "with" | "of" | "in")) {
        toks.remove(0);
    }
    while toks.last().is_some_and(|t| {
        KIND_NOUNS.iter().any(|(w, _)| *w == t.key)
            || matches!(t.key.as_str(), "to" | "for" | "by" | "of" | "in" | "on" | "as" | "with" | "too")
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

fn title_word(word: &str, edge: bool) -> String {
    const SMALL: &[&str] = &["of", "for", "by", "to", "and", "or", "as", "in", "on", "at", "from", "so"];
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
fn strip_screen_noun(label: &str) -> String {
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
fn guess_kind(label: &str, hint: Option<FieldKind>) -> FieldKind {
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
        "amount", "quantity", "qty", "headcount", "count", "age", "price", "cost", "budget",
        "total", "hours", "salary", "weight", "percentage", "rate",
    ]) && !has(&["type", "category", "name"])
    {
        FieldKind::Number
    } else if has(&[
        "comment", "comments", "notes", "note", "reason", "description", "message", "remarks",
        "feedback", "summary", "explanation", "justification",
    ]) {
        FieldKind::Textarea
    } else if has(&["consent", "agree", "agreement", "terms", "subscribe", "urgent"]) {
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
fn known_parts(word: &str, known: &[String]) -> bool {
    word.contains('-')
        && word
            .split('-')
            .all(|p| known.iter().any(|k| k == p) || is_generic(p))
}

/// Whether a folded word is one of [`GENERIC`].
fn is_generic(folded: &str) -> bool {
    GENERIC.iter().any(|g| fold(g) == folded)
}

/// A word's comparison stem: lower case, without a possessive or a plural s.
pub fn fold(word: &str) -> String {
    let w = word.to_lowercase();
    let w = w.strip_suffix("'s").or_else(|| w.strip_suffix("’s")).unwrap_or(&w);
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
            let content: Vec<Tok> = item.into_iter().filter(|t| !crate::text::is_stopword(&t.key)).collect();
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

#[cfg(test)]
#[path = "screen_tests.rs"]
mod tests;
