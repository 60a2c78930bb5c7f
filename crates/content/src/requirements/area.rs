//! Which part of the outline a rule belongs to, by its words.

use super::{text, Area, Kind};

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
