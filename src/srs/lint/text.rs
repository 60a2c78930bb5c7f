//! Characters and words: tokens, case folding, trimming, list markers and
//! requirement ids at the start of a pasted line.

pub(super) struct Token {
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) text: String,
}

/// Runs of letters and digits; "sign-in" is two tokens, "it's" gives "it".
pub(super) fn tokens(lower: &[char]) -> Vec<Token> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < lower.len() {
        if !lower[i].is_alphanumeric() {
            i += 1;
            continue;
        }
        let start = i;
        while i < lower.len() && lower[i].is_alphanumeric() {
            i += 1;
        }
        out.push(Token {
            start,
            end: i,
            text: lower[start..i].iter().collect(),
        });
    }
    out
}

/// One char per char, so offsets into the result are offsets into the input.
pub(super) fn lowercase(chars: &[char]) -> Vec<char> {
    chars
        .iter()
        .map(|c| c.to_lowercase().next().unwrap_or(*c))
        .collect()
}

/// The non-whitespace extent of `chars`; `(0, 0)` when it is blank.
pub(super) fn trimmed(chars: &[char]) -> (usize, usize) {
    match chars.iter().position(|c| !c.is_whitespace()) {
        Some(s) => (
            s,
            chars.iter().rposition(|c| !c.is_whitespace()).unwrap_or(s) + 1,
        ),
        None => (0, 0),
    }
}

/// Where the statement starts in a trimmed line, past a list marker and an id.
pub(super) fn strip_marker(line: &[char]) -> usize {
    let ws_at = |i: usize| line.get(i).is_none_or(|c| c.is_whitespace());
    let skip_ws = |i: usize| {
        i + line[i.min(line.len())..]
            .iter()
            .take_while(|c| c.is_whitespace())
            .count()
    };
    let digits = line.iter().take_while(|c| c.is_ascii_digit()).count();
    let mut i = if matches!(line.first(), Some('-' | '*' | '+' | '•')) && ws_at(1) {
        skip_ws(1)
    } else if digits > 0 && matches!(line.get(digits), Some('.' | ')')) && ws_at(digits + 1) {
        skip_ws(digits + 1)
    } else {
        0
    };
    let token_end = i + line[i..].iter().take_while(|c| !c.is_whitespace()).count();
    let token = &line[i..token_end];
    if let Some((&':', id)) = token.split_last() {
        if is_id(id) {
            i = skip_ws(token_end);
        }
    } else if is_id(token) {
        let sep = skip_ws(token_end);
        if matches!(line.get(sep), Some('-' | '–' | '—' | ':')) && ws_at(sep + 1) {
            i = skip_ws(sep + 1);
        }
    }
    i
}

/// "FR-001", "NFR-PERF-002", "R7": starts with a letter, has an upper-case
/// letter and a digit, and holds only letters, digits, '-', '_' and '.'.
pub(super) fn is_id(t: &[char]) -> bool {
    t.first().is_some_and(|c| c.is_ascii_alphabetic())
        && t.iter().any(|c| c.is_ascii_uppercase())
        && t.iter().any(|c| c.is_ascii_digit())
        && t.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}
