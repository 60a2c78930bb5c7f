//! Personal data kept from external AI providers: before a prompt leaves,
//! e-mail addresses, phone numbers, IBANs, card numbers and IP addresses
//! become placeholders such as `[EMAIL_1]`, and the provider's answer, whole
//! or streamed, gets the original values back.
//!
//! The scanners are hand-written rather than patterns: the crate has no
//! dependencies, and the checksums (mod-97, Luhn) and the rules that keep
//! requirement numbers ("FR-012"), dates, versions and amounts intact read
//! more plainly as code. A false positive is not harmless: it hides a
//! requirement number or an amount from the model.
//!
//! Over 500 lines: five scanners share the boundary and overlap rules and
//! the placeholder map; apart, the one definition of "personal data" would
//! be spread over files.

use std::cmp::Reverse;
use std::collections::HashMap;

/// What kind of value a span is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Email,
    Phone,
    Iban,
    Card,
    Ip,
    /// A configured pattern, found by the caller.
    Custom,
}

impl Kind {
    /// The word in this kind's placeholders.
    fn label(self) -> &'static str {
        match self {
            Kind::Email => "EMAIL",
            Kind::Phone => "PHONE",
            Kind::Iban => "IBAN",
            Kind::Card => "CARD",
            Kind::Ip => "IP",
            Kind::Custom => "REDACTED",
        }
    }
}

/// A value to redact, as byte offsets into its text (on char boundaries).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
    pub kind: Kind,
}

/// A scanner: given the text from a possible start, the byte length of its
/// kind of value there.
type Scan = fn(&str) -> Option<usize>;

/// Where two scanners match at one start the first wins, so a card number or
/// an IBAN is never also read as a phone number.
const SCANNERS: &[(Kind, Scan)] = &[
    (Kind::Email, email),
    (Kind::Iban, iban),
    (Kind::Card, card),
    (Kind::Ip, ipv4),
    (Kind::Ip, ipv6),
    (Kind::Phone, phone),
];

/// The e-mail addresses, phone numbers, IBANs, card numbers and IPv4 and IPv6
/// addresses in `text`, sorted by start and not overlapping: the text is read
/// left to right and a value, once found, is skipped whole.
pub fn find(text: &str) -> Vec<Span> {
    let mut spans = Vec::new();
    let mut i = 0;
    while let Some(c) = text[i..].chars().next() {
        let found = if starts_clean(text, i) {
            SCANNERS
                .iter()
                .find_map(|&(kind, scan)| scan(&text[i..]).map(|len| (kind, len)))
        } else {
            None
        };
        match found {
            Some((kind, len)) => {
                spans.push(Span {
                    start: i,
                    end: i + len,
                    kind,
                });
                i += len;
            }
            None => i += c.len_utf8(),
        }
    }
    spans
}

/// Whether a value may start at byte `i`: not inside a word or a number, and
/// not after the hyphen of an identifier, so "FR-012", "2026-12-06" and
/// "1.2.3" are never read from their middle.
fn starts_clean(text: &str, i: usize) -> bool {
    let mut before = text[..i].chars().rev();
    let Some(p) = before.next() else {
        return true;
    };
    let q = before.next();
    let after_digit = q.is_some_and(|q| q.is_ascii_digit());
    let after_word = q.is_some_and(char::is_alphanumeric);
    !(p.is_alphanumeric()
        || p == '_'
        || matches!(p, '.' | ',' | '-' | '/' | ':') && after_digit
        || matches!(p, '-' | '/') && after_word)
}

/// Whether a value may end at byte `end` of `s`: not followed by more of a
/// word, nor by more of a number ("….50", ",000", "-06"). A port or a prefix
/// length after an address (":8080", "/24") is allowed.
fn ends_clean(s: &str, end: usize) -> bool {
    let mut after = s[end..].chars();
    let Some(n) = after.next() else {
        return true;
    };
    let then_digit = after.next().is_some_and(|m| m.is_ascii_digit());
    !(n.is_alphanumeric() || n == '_' || matches!(n, '.' | ',' | '-') && then_digit)
}

/// Byte length of the leading chars of `s` that satisfy `f`, looking at no
/// more than `max` chars: the cap keeps the work at each start bounded in a
/// long token.
fn run(s: &str, max: usize, f: impl Fn(char) -> bool) -> usize {
    s.chars()
        .take(max)
        .take_while(|&c| f(c))
        .map(char::len_utf8)
        .sum()
}

/// `local@domain.tld`: letters of any script, digits and `._%+-` before the
/// `@` (at most 64 bytes, RFC 5321), dot-separated labels after it, the last
/// one of two or more letters. A full stop after the address is not part of it.
fn email(s: &str) -> Option<usize> {
    if !s.starts_with(char::is_alphanumeric) {
        return None;
    }
    let at = run(s, 65, |c| c.is_alphanumeric() || "._%+-".contains(c));
    let domain = s[at..].strip_prefix('@')?;
    let name = &domain[..run(domain, 254, |c| c.is_alphanumeric() || c == '.' || c == '-')];
    let name = name.trim_end_matches(['.', '-']);
    let labels: Vec<&str> = name.split('.').collect();
    let tld = labels[labels.len() - 1];
    let end = at + 1 + name.len();
    let valid = at <= 64
        && labels.len() >= 2
        && labels.iter().all(|l| !l.is_empty() && !l.starts_with('-'))
        && tld.chars().count() >= 2
        && tld.chars().all(char::is_alphabetic);
    (valid && ends_clean(s, end)).then_some(end)
}

/// An IBAN (ISO 13616): country code, two check digits and 11–30 capital
/// letters or digits, whole or in groups of four split by single spaces. The
/// mod-97 check keeps codes that merely look like one out; a word after a
/// grouped IBAN ("… 32 THEN") is dropped by trying shorter groupings.
fn iban(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    if b.len() < 15
        || !b[..2].iter().all(u8::is_ascii_uppercase)
        || !b[2..4].iter().all(u8::is_ascii_digit)
    {
        return None;
    }
    let upper_alnum = |c: char| c.is_ascii_uppercase() || c.is_ascii_digit();
    let whole = run(s, 35, upper_alnum);
    let mut ends = vec![whole];
    if whole == 4 {
        let mut i = 4;
        // 34 characters and the spaces between their groups.
        while i < 42 && s[i..].starts_with(' ') {
            let n = run(&s[i + 1..], 5, upper_alnum);
            if n == 0 || n > 4 {
                break;
            }
            i += 1 + n;
            ends.push(i);
            if n < 4 {
                break;
            }
        }
    }
    ends.into_iter().rev().find(|&end| {
        let compact: Vec<u8> = b[..end].iter().copied().filter(|&c| c != b' ').collect();
        (15..=34).contains(&compact.len()) && mod97(&compact) && ends_clean(s, end)
    })
}

/// The ISO 13616 check: with the first four characters moved to the end and
/// letters read as 10–35, the number is 1 modulo 97.
fn mod97(iban: &[u8]) -> bool {
    let (head, tail) = iban.split_at(4);
    let rest = tail.iter().chain(head).fold(0u32, |r, &c| {
        if c.is_ascii_digit() {
            (r * 10 + u32::from(c - b'0')) % 97
        } else {
            (r * 100 + u32::from(c - b'A') + 10) % 97
        }
    });
    rest == 1
}

/// A payment card number: 13–19 digits, whole or in groups of three to six
/// split by single spaces or dashes, starting with 2–6 (the networks' ranges:
/// Mastercard, Amex, Diners, JCB, Visa, Maestro, Discover, UnionPay, which
/// also leaves out millisecond timestamps) and passing the Luhn check.
fn card(s: &str) -> Option<usize> {
    if !matches!(s.as_bytes().first(), Some(b'2'..=b'6')) {
        return None;
    }
    let digit = |c: char| c.is_ascii_digit();
    let first = run(s, 20, digit);
    let mut ends = vec![first];
    let sep = s[first..]
        .chars()
        .next()
        .filter(|&c| (c == ' ' || c == '-') && (3..=6).contains(&first));
    if let Some(sep) = sep {
        let (mut i, mut digits) = (first, first);
        while digits <= 19 && s[i..].starts_with(sep) {
            let n = run(&s[i + 1..], 7, digit);
            if !(3..=6).contains(&n) {
                break;
            }
            i += 1 + n;
            digits += n;
            ends.push(i);
        }
    }
    ends.into_iter().rev().find(|&end| {
        let digits: Vec<u32> = s[..end].chars().filter_map(|c| c.to_digit(10)).collect();
        (13..=19).contains(&digits.len()) && luhn(&digits) && ends_clean(s, end)
    })
}

/// The Luhn check: doubling every second digit from the right, the digit sum
/// is a multiple of 10.
fn luhn(digits: &[u32]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| match (i % 2, d * 2) {
            (1, twice) if twice > 9 => twice - 9,
            (1, twice) => twice,
            _ => d,
        })
        .sum();
    sum.is_multiple_of(10)
}

/// A dotted-quad IPv4 address, each part 0–255 without leading zeros. A
/// version has three parts ("1.2.3") or a fifth ("1.2.3.4.5"), so it is not one.
fn ipv4(s: &str) -> Option<usize> {
    let mut i = 0;
    for part in 0..4 {
        if part > 0 {
            if !s[i..].starts_with('.') {
                return None;
            }
            i += 1;
        }
        let n = run(&s[i..], 4, |c| c.is_ascii_digit());
        let digits = &s[i..i + n];
        if n == 0 || n > 3 || n > 1 && digits.starts_with('0') || digits.parse::<u16>().ok()? > 255
        {
            return None;
        }
        i += n;
    }
    ends_clean(s, i).then_some(i)
}

/// An IPv6 address: eight groups of one to four hex digits split by colons,
/// or fewer with one `::` standing for the zeros left out. Times ("12:30:45")
/// and MAC addresses have too few groups and no `::`; at least one decimal
/// digit is required so that a path in code ("a::b") is not one either.
fn ipv6(s: &str) -> Option<usize> {
    let hex = |c: char| c.is_ascii_hexdigit();
    let mut compressed = s.starts_with("::");
    let mut i = if compressed { 2 } else { 0 };
    let mut groups = 0;
    // A ninth group is read only to reject the run as too long.
    while groups <= 8 {
        let n = run(&s[i..], 5, hex);
        if n == 0 || n > 4 {
            break;
        }
        i += n;
        groups += 1;
        if !compressed && s[i..].starts_with("::") {
            compressed = true;
            i += 2;
        } else if s[i..].starts_with(':') && s[i + 1..].starts_with(hex) {
            i += 1;
        } else {
            break;
        }
    }
    let whole = if compressed {
        (1..=7).contains(&groups)
    } else {
        groups == 8
    };
    let has_digit = s[..i].contains(|c: char| c.is_ascii_digit());
    (whole && has_digit && ends_clean(s, i)).then_some(i)
}

/// A phone number: "+" and 8–15 digits (E.164's longest) split by spaces,
/// dashes, dots or parentheses, or a national number of 9–12 digits written
/// the way phone numbers are ("020 7946 0958", "(555) 010-9999",
/// "555-010-9999"). The longest reading that ends cleanly wins.
fn phone(s: &str) -> Option<usize> {
    let international = s.starts_with('+');
    let mut i = usize::from(international);
    // Digit groups, each marked if it sat in parentheses, and the
    // separators found between two groups outside parentheses.
    let mut groups: Vec<(&str, bool)> = Vec::new();
    let mut seps: Vec<u8> = Vec::new();
    let mut gap = None;
    let mut best = None;
    loop {
        let paren = s[i..].starts_with('(');
        let from = i + usize::from(paren);
        let n = run(&s[from..], 16, |c| c.is_ascii_digit());
        if n == 0 || paren && !s[from + n..].starts_with(')') {
            break;
        }
        if let (Some(sep), Some((_, false)), false) = (gap, groups.last(), paren) {
            seps.push(sep);
        }
        groups.push((&s[from..from + n], paren));
        i = from + n + usize::from(paren);
        if groups.iter().map(|(g, _)| g.len()).sum::<usize>() > 15 {
            break;
        }
        if phone_shape(international, &groups, &seps) && ends_clean(s, i) {
            best = Some(i);
        }
        gap = s[i..]
            .bytes()
            .next()
            .filter(|b| matches!(b, b' ' | b'-' | b'.'));
        let next = i + usize::from(gap.is_some());
        if !s[next..].starts_with(|c: char| c.is_ascii_digit() || c == '(') {
            break;
        }
        i = next;
    }
    best
}

/// Whether digit groups read as a whole phone number. A national number
/// needs the look of one, because plain digit groups are more often other
/// things: no group of one digit, parentheses only round the area code, one
/// kind of separator, and a trunk 0 when only spaces split it (otherwise
/// "10 20 30 40 50" would be a number); dates, references that start with a
/// year and amounts with thousands separators are left out by their shapes.
fn phone_shape(international: bool, groups: &[(&str, bool)], seps: &[u8]) -> bool {
    let digits: usize = groups.iter().map(|(g, _)| g.len()).sum();
    if international {
        return (8..=15).contains(&digits);
    }
    let (first, first_paren) = groups[0];
    let later = &groups[1..];
    let spaces_only = !first_paren && seps.iter().all(|&b| b == b' ');
    (9..=12).contains(&digits)
        && !later.is_empty()
        && groups.iter().all(|(g, _)| g.len() >= 2)
        && !later.iter().any(|&(_, paren)| paren)
        && seps.windows(2).all(|w| w[0] == w[1])
        && (first.starts_with('0') || !spaces_only)
        // "2026-12-06-0001", "2024-000123": a date or a yearly reference.
        && !(first.len() == 4 && (first.starts_with("19") || first.starts_with("20")))
        // "12 500 000", "1.250.000.000": an amount.
        && !(first.len() <= 3 && later.iter().all(|(g, _)| g.len() == 3))
}

/// One request's redaction. The same value gets the same placeholder in
/// every text of the request (system prompt, each message), so the model can
/// refer to it consistently and its answer restores to one value.
///
/// Not `Debug`: it holds the very data it exists to keep out of logs.
#[derive(Default)]
pub struct Redaction {
    /// The placeholder of each value replaced so far.
    placeholders: HashMap<String, String>,
    /// The value of each placeholder, for restoring.
    values: HashMap<String, String>,
    /// Distinct values so far per kind: the last placeholder number used.
    numbered: HashMap<Kind, usize>,
    count: usize,
}

impl Redaction {
    pub fn new() -> Self {
        Self::default()
    }

    /// `text` with every span of [`find`] and of `extra` (found by the
    /// caller, such as configured patterns; on char boundaries of `text`)
    /// replaced by a placeholder: `[EMAIL_1]`, `[PHONE_2]`, `[IBAN_1]`,
    /// `[CARD_1]`, `[IP_1]`, `[REDACTED_1]`, numbered per kind from 1. Of
    /// overlapping spans the earlier start wins, then the longer.
    pub fn redact(&mut self, text: &str, extra: &[Span]) -> String {
        let mut spans = find(text);
        spans.extend_from_slice(extra);
        spans.sort_by_key(|s| (s.start, Reverse(s.end)));
        let mut out = String::with_capacity(text.len());
        let mut done = 0;
        for span in spans {
            if span.start < done || span.start >= span.end {
                continue;
            }
            out.push_str(&text[done..span.start]);
            out.push_str(self.placeholder(&text[span.start..span.end], span.kind));
            self.count += 1;
            done = span.end;
        }
        out.push_str(&text[done..]);
        out
    }

    /// The placeholder of `value`, made on first sight.
    fn placeholder(&mut self, value: &str, kind: Kind) -> &str {
        let Self {
            placeholders,
            values,
            numbered,
            ..
        } = self;
        placeholders.entry(value.to_string()).or_insert_with(|| {
            let n = numbered.entry(kind).or_default();
            *n += 1;
            let placeholder = format!("[{}_{n}]", kind.label());
            values.insert(placeholder.clone(), value.to_string());
            placeholder
        })
    }

    /// How many values were replaced: occurrences, over all texts so far.
    pub fn count(&self) -> usize {
        self.count
    }

    /// `text` with the original values put back. A placeholder this
    /// redaction did not make (`[EMAIL_9]`) is left as it is.
    pub fn restore(&self, text: &str) -> String {
        let mut restorer = self.restorer();
        let mut out = restorer.push(text);
        out.push_str(&restorer.finish());
        out
    }

    /// A restorer for an answer that arrives in deltas. It owns a copy of the
    /// placeholders, so a streaming task can keep it across `.await`s.
    pub fn restorer(&self) -> Restorer {
        Restorer {
            values: self.values.clone(),
            held: String::new(),
        }
    }
}

/// Puts original values back into an answer that arrives in deltas. A
/// placeholder can be cut anywhere ("[EMA" + "IL_1] is"), so text that could
/// still become one of ours is held until a later delta decides it; all
/// other text is released at once, so the stream never stalls on a "[".
///
/// Not `Debug`, for the same reason as [`Redaction`].
pub struct Restorer {
    values: HashMap<String, String>,
    held: String,
}

impl Restorer {
    /// Feeds one delta; returns the text that is safe to emit now.
    pub fn push(&mut self, delta: &str) -> String {
        let text = std::mem::take(&mut self.held) + delta;
        let mut out = String::with_capacity(text.len());
        let mut i = 0;
        while let Some(open) = text[i..].find('[') {
            let at = i + open;
            out.push_str(&text[i..at]);
            let tail = &text[at..];
            // Placeholders all end in "]", so none is a prefix of another.
            if let Some((placeholder, value)) = self
                .values
                .iter()
                .find(|(p, _)| tail.starts_with(p.as_str()))
            {
                out.push_str(value);
                i = at + placeholder.len();
            } else if self.values.keys().any(|p| p.starts_with(tail)) {
                self.held = tail.to_string();
                return out;
            } else {
                out.push('[');
                i = at + 1;
            }
        }
        out.push_str(&text[i..]);
        out
    }

    /// Whatever is still held at the end of the stream: the start of a
    /// placeholder that never completed, as it was written.
    pub fn finish(&mut self) -> String {
        std::mem::take(&mut self.held)
    }
}

#[cfg(test)]
mod tests;
