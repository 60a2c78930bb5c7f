//! The word lists the reading of rule sentences rests on.

use super::{Kind, Priority};

/// Modal phrases, longest first so "may not" wins over "may".
#[rustfmt::skip]
pub(super) const MODALS: &[(&str, Kind, Priority)] = &[
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
pub(super) const LIMITS: &[&str] = &[
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
pub(super) const CLAUSE: &[&str] = &[
    "must", "shall", "should", "may", "can", "cannot", "will", "is", "are", "be", "and", "or",
    "to", "that", "which", "who",
];

/// Words that mark an integration with another system.
pub(super) const INTEGRATIONS: &[&str] = &[
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
pub(super) const RULE_WORDS: &[&str] = &[
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
pub(super) const NARRATIVE: &[&str] = &[
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
pub(super) const PARTICIPLES: &[&str] = &[
    "kept", "sent", "paid", "held", "made", "given", "taken", "shown", "done", "written", "built",
    "set", "put", "read", "run", "chosen", "frozen", "hidden", "sold", "told", "met",
];

/// Days and months: a number or "every" before one is a time window.
pub(super) const TIME_WORDS: &[&str] = &[
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
pub(super) const UNITS: &[&str] = &[
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
pub(super) const SYSTEM_WORDS: &[&str] = &[
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
pub(super) const CONDITIONS: &[&str] = &[
    "if", "when", "while", "where", "once", "after", "before", "unless", "until", "whenever",
];

/// Parts of a product that act like the system ("the catalogue page").
pub(super) const THINGS: &[&str] = &[
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

/// A verb the fact sentences of stakeholder documents use, or a word that
/// looks like a finite verb.
#[rustfmt::skip]
pub(super) const VERBS: &[&str] = &[
    "is", "are", "was", "were", "be", "has", "have", "last", "lasts", "get", "gets", "pay",
    "pays", "run", "runs", "take", "takes", "close", "closes", "open", "opens", "expire",
    "expires", "cost", "costs", "allow", "allows", "require", "requires", "need", "needs",
    "keep", "keeps", "go", "goes", "receive", "receives", "send", "sends", "apply", "applies",
    "show", "shows", "display", "displays", "verify", "verifies", "register", "registers",
    "approve", "approves", "notify", "notifies", "collect", "collects", "assign", "assigns",
    "calculate", "calculates", "generate", "generates", "contain", "contains", "include",
    "includes", "appear", "appears", "submit", "submits", "replace", "replaces", "create",
    "creates", "update", "updates", "delete", "deletes", "handle", "handles", "manage",
    "manages", "confirm", "confirms", "upload", "uploads", "validate", "validates", "reject",
    "rejects", "accept", "accepts", "cancel", "cancels", "deliver", "delivers", "inspect",
    "inspects", "publish", "publishes", "remind", "reminds", "sign", "signs",
];

/// Words that open a subject which is no actor of a rule: the document
/// speaking of itself ("These rules apply …") or of people in general.
pub(super) const NOT_ACTORS: &[&str] = &[
    "this",
    "these",
    "those",
    "that",
    "it",
    "they",
    "we",
    "our",
    "there",
    "he",
    "she",
    "i",
    "you",
    "attendees",
];

/// Words that put a sentence in the past: minutes, not rules.
pub(super) const PAST: &[&str] = &["was", "were", "did", "had", "didn't", "wasn't", "weren't"];

/// People and teams a rule names by role, not by name.
pub(super) const ROLES: &[&str] = &[
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

/// Words of a requirement that carry no fact of the source: the frame of
/// "The system shall …" and of the criteria.
pub(super) const FRAME: &[&str] = &[
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
