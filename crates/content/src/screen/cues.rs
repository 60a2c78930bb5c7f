//! The cue words: which words start a field, a table, a button or a link,
//! and the earliest cue in an item.

use super::{FieldKind, Run};

pub(super) const ARTICLES: &[&str] = &[
    "a", "an", "the", "their", "his", "her", "its", "our", "your", "my", "each", "every", "some",
    "any", "it", "them", "this", "that", "these", "those", "also", "then", "both",
];
pub(super) const JOINERS: &[&str] = &["and", "or", "where", "while", "whereas", "plus", "nor"];
pub(super) const FIELD_VERBS: &[&str] = &[
    "enter",
    "enters",
    "entering",
    "type",
    "types",
    "pick",
    "picks",
    "select",
    "selects",
    "choose",
    "chooses",
    "input",
    "inputs",
    "scan",
    "scans",
    "provide",
    "provides",
    "specify",
    "specifies",
    "fill",
    "fills",
    "key",
    "keys",
    "uploads",
    "attaches",
    "sets",
];
/// The people a description says use the screen ("the agent filters …").
pub(super) const PEOPLE: &[&str] = &[
    "user",
    "users",
    "agent",
    "agents",
    "employee",
    "employees",
    "teacher",
    "manager",
    "customer",
    "clerk",
    "admin",
    "administrator",
    "member",
    "student",
    "staff",
    "reviewer",
    "approver",
    "operator",
    "nurse",
    "doctor",
    "driver",
    "buyer",
    "seller",
    "librarian",
    "analyst",
    "he",
    "she",
    "they",
    "someone",
    "applicant",
    "patient",
    "visitor",
    "guest",
    "receptionist",
];
/// Verbs that switch settings on and off: their objects are checkboxes.
pub(super) const SWITCH_VERBS: &[&str] =
    &["switch", "switches", "toggle", "toggles", "turn", "turns"];
pub(super) const CHOOSING: &[&str] = &["pick", "picks", "select", "selects", "choose", "chooses"];
pub(super) const TICK_VERBS: &[&str] = &["tick", "ticks"];
/// Verbs a button's label starts with, in the base form "can …" takes.
pub(super) const ACTION_VERBS: &[&str] = &[
    "accept",
    "activate",
    "add",
    "allocate",
    "apply",
    "approve",
    "archive",
    "assign",
    "attach",
    "book",
    "cancel",
    "clear",
    "close",
    "complete",
    "confirm",
    "copy",
    "create",
    "deactivate",
    "decline",
    "delete",
    "disable",
    "discard",
    "dispatch",
    "download",
    "duplicate",
    "edit",
    "enable",
    "enrol",
    "enroll",
    "escalate",
    "export",
    "forward",
    "generate",
    "hold",
    "import",
    "invite",
    "issue",
    "lock",
    "log",
    "mark",
    "notify",
    "open",
    "pay",
    "post",
    "print",
    "publish",
    "reassign",
    "receive",
    "refresh",
    "refund",
    "register",
    "reject",
    "release",
    "remove",
    "renew",
    "reopen",
    "reply",
    "request",
    "reschedule",
    "reserve",
    "reset",
    "resume",
    "return",
    "save",
    "schedule",
    "send",
    "share",
    "ship",
    "sign",
    "sort",
    "start",
    "stop",
    "submit",
    "transfer",
    "unlock",
    "update",
    "upload",
    "verify",
    "void",
    "withdraw",
];
pub(super) const CLICK_VERBS: &[&str] = &[
    "click", "clicks", "press", "presses", "tap", "taps", "hit", "hits",
];
pub(super) const MODALS: &[&str] = &["can", "may", "could", "lets", "allows"];
pub(super) const OPENS: &[&str] = &["open", "opens"];
pub(super) const SHOWING: &[&str] = &[
    "with",
    "showing",
    "shows",
    "show",
    "including",
    "includes",
    "listing",
    "lists",
    "containing",
    "contains",
    "displaying",
    "displays",
];
/// Verbs an item in a verb run may start with that are not actions: they
/// only introduce what follows ("see a table of …").
pub(super) const SEEING: &[&str] = &[
    "see", "sees", "view", "views", "review", "reviews", "read", "reads", "check",
];
/// Nouns that name a component's kind at the end of a phrase ("an email
/// field", "a consent checkbox", "a sign-in button").
pub(super) const KIND_NOUNS: &[(&str, Run)] = &[
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
pub(super) const SCREEN_NOUNS: &[&str] =
    &["screen", "page", "view", "window", "dialog", "dialogue"];
pub(super) const TITLE_NOUNS: &[&str] = &[
    "form",
    "dashboard",
    "directory",
    "wizard",
    "portal",
    "overview",
    "report",
    "console",
    "calendar",
    "inbox",
    "catalogue",
    "catalog",
];

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Cue {
    Table {
        list: bool,
        postfix: bool,
    },
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
pub(super) fn find_cue(keys: &[&str]) -> Option<(usize, usize, Cue)> {
    let at = |i: usize, w: &str| keys.get(i).is_some_and(|k| *k == w);
    for i in 0..keys.len() {
        let k = keys[i];
        let next = keys.get(i + 1).copied().unwrap_or("");
        if matches!(k, "table" | "tables" | "list" | "lists" | "grid")
            && matches!(next, "of" | "with" | "showing" | "that")
        {
            let skip = if next == "of" { 2 } else { 1 };
            return Some((
                i,
                skip,
                Cue::Table {
                    list: k.starts_with("list"),
                    postfix: false,
                },
            ));
        }
        if k == "in"
            && at(i + 1, "a")
            && matches!(keys.get(i + 2).copied(), Some("table" | "list" | "grid"))
        {
            let list = at(i + 2, "list");
            return Some((
                i,
                3,
                Cue::Table {
                    list,
                    postfix: true,
                },
            ));
        }
        if matches!(k, "filter" | "filters") && matches!(next, "by" | "on" | "for") {
            return Some((i, 2, Cue::Filter));
        }
        // "filters the list by …": the words between name what is filtered.
        if matches!(k, "filter" | "filters") {
            if let Some(p) = keys[i + 1..].iter().take(4).position(|w| *w == "by") {
                return Some((i, p + 2, Cue::Filter));
            }
        }
        // "each row shows the subject": the row's parts are the columns.
        if matches!(k, "row" | "rows" | "entry" | "entries") && SHOWING.contains(&next) {
            return Some((i, 2, Cue::Run(Run::Columns)));
        }
        // "tabs for grades, attendance and notes": tabs lead to their views.
        if matches!(k, "tab" | "tabs") && matches!(next, "for" | "of" | "called" | "named") {
            return Some((i, 2, Cue::Run(Run::Links)));
        }
        if SWITCH_VERBS.contains(&k) && !matches!(next, "between" | "to" | "from" | "") {
            let len = if matches!(next, "on" | "off") { 2 } else { 1 };
            return Some((i, len, Cue::Run(Run::Field(Some(FieldKind::Checkbox)))));
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
        if matches!(k, "button" | "buttons" | "option" | "options") && matches!(next, "to" | "for")
        {
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
            let len =
                if matches!(next, "in" | "out") && matches!(k, "fill" | "fills" | "key" | "keys") {
                    2
                } else {
                    1
                };
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
                keys[i..]
                    .iter()
                    .position(|w| *w == "to")
                    .map_or(1, |p| p + 1)
            } else {
                len
            };
            return Some((i, len, Cue::Modal));
        }
    }
    // A heading word before a colon: "Fields: name, email", "Actions: …".
    if let [only] = keys {
        let run = match *only {
            "fields" | "inputs" => Run::Field(None),
            "columns" => Run::Columns,
            "buttons" | "actions" => Run::Verbs,
            "links" | "navigation" | "tabs" => Run::Links,
            _ => return None,
        };
        return Some((0, 1, Cue::Run(run)));
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
pub(super) fn nav_verb(keys: &[&str]) -> Option<usize> {
    let first = *keys.first()?;
    if !matches!(
        first,
        "go" | "goes" | "return" | "returns" | "navigate" | "navigates" | "jump" | "jumps"
    ) {
        return None;
    }
    let len = 1 + keys[1..]
        .iter()
        .take_while(|w| matches!(**w, "back" | "to"))
        .count();
    (keys[1..len].contains(&"to")).then_some(len)
}

/// The base form of a third-person verb that starts a button's label
/// ("saves" → "save", "dispatches" → "dispatch", "verifies" → "verify"),
/// if it is one of [`ACTION_VERBS`].
pub(super) fn action_base(word: &str) -> Option<&'static str> {
    let forms = [
        word.strip_suffix("ies").map(|s| format!("{s}y")),
        word.strip_suffix("es").map(str::to_string),
        word.strip_suffix('s').map(str::to_string),
    ];
    forms
        .into_iter()
        .flatten()
        .find_map(|f| ACTION_VERBS.iter().find(|v| **v == f).copied())
}
