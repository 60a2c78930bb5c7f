//! Repetition control, as llama.cpp's server names and computes it: a repeat
//! penalty over a window, DRY ("Don't Repeat Yourself", first written for
//! koboldcpp, in llama.cpp since PR 9702) and a ban on repeating an n-gram of
//! generated tokens. Small models loop ("the S. The S. The S."); these make
//! the next token of a loop less likely, or impossible.

use std::collections::{HashMap, HashSet};

/// How far back a penalty looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// The last n tokens; 0 turns the penalty off.
    Last(usize),
    /// Every token it can see.
    All,
}

impl Window {
    /// llama.cpp's encoding: -1 is the whole context, 0 is off.
    pub fn from_llama(n: i64) -> Self {
        if n < 0 {
            Self::All
        } else {
            Self::Last(n as usize)
        }
    }

    fn tail<'a>(&self, tokens: &'a [u32]) -> &'a [u32] {
        match *self {
            Self::All => tokens,
            Self::Last(n) => &tokens[tokens.len().saturating_sub(n)..],
        }
    }
}

/// llama.cpp's default sequence breakers: a new line, a colon, a quote and an
/// asterisk end what DRY counts as one repeated sequence, so names and
/// markup that recur by nature ("Name:", "**") are not punished.
pub const DEFAULT_BREAKERS: [&str; 4] = ["\n", ":", "\"", "*"];

#[derive(Debug, Clone, PartialEq)]
pub struct Repetition {
    /// Divides a positive logit and multiplies a negative one of every token
    /// seen in `repeat_last_n`; 1.0 is off.
    pub repeat_penalty: f32,
    pub repeat_last_n: Window,
    /// DRY's strength; 0 is off.
    pub dry_multiplier: f32,
    /// How fast DRY's penalty grows with the length of the repeat.
    pub dry_base: f32,
    /// Repeats up to this many tokens go unpunished.
    pub dry_allowed_length: usize,
    pub dry_penalty_last_n: Window,
    /// Text that ends a repeated sequence; the engine turns each into the
    /// tokens whose text contains it (see [`breaker_ids`]).
    pub dry_sequence_breakers: Vec<String>,
    /// A token that would say an n-gram of this many generated tokens a
    /// second time is forbidden, unless nothing else is allowed; 0 is off.
    /// N-grams that contain a sequence breaker do not count, so JSON's
    /// punctuation (`", "`, `": "`) may recur while a string's words may not.
    pub no_repeat_ngram: usize,
    /// Whether the repeat penalty and DRY windows reach into the prompt, as
    /// llama.cpp's server does. The product's features turn this off: their
    /// prompts hold the user's sources, which an answer should be free to quote.
    pub include_prompt: bool,
}

impl Default for Repetition {
    /// Everything off; the other values are llama.cpp's server defaults, so
    /// turning one knob on behaves as it does there.
    fn default() -> Self {
        Self {
            repeat_penalty: 1.0,
            repeat_last_n: Window::Last(64),
            dry_multiplier: 0.0,
            dry_base: 1.75,
            dry_allowed_length: 2,
            dry_penalty_last_n: Window::All,
            dry_sequence_breakers: DEFAULT_BREAKERS.iter().map(|s| s.to_string()).collect(),
            no_repeat_ngram: 0,
            include_prompt: true,
        }
    }
}

impl Repetition {
    /// Whether any of the controls that need sequence breakers is on.
    pub fn needs_breakers(&self) -> bool {
        self.dry_on() || self.no_repeat_ngram > 0
    }

    fn dry_on(&self) -> bool {
        self.dry_multiplier != 0.0
            && self.dry_base >= 1.0
            && self.dry_penalty_last_n != Window::Last(0)
    }

    /// Whether any control looks at more than the generated tokens.
    pub fn reads_prompt(&self) -> bool {
        self.include_prompt
            && ((self.repeat_penalty != 1.0 && self.repeat_last_n != Window::Last(0))
                || self.dry_on())
    }
}

/// The tokens whose text contains one of `breakers`; `token_bytes` gives a
/// token's text as it appears in output.
pub fn breaker_ids(
    vocab_size: usize,
    token_bytes: impl Fn(u32) -> Vec<u8>,
    breakers: &[String],
) -> HashSet<u32> {
    let breakers: Vec<&[u8]> = breakers
        .iter()
        .map(|b| b.as_bytes())
        .filter(|b| !b.is_empty())
        .collect();
    (0..vocab_size as u32)
        .filter(|&id| {
            let bytes = token_bytes(id);
            breakers
                .iter()
                .any(|b| bytes.windows(b.len()).any(|w| w == *b))
        })
        .collect()
}

/// llama.cpp's repeat penalty: each distinct token of the window, once.
pub fn repeat_penalty(logits: &mut [f32], context: &[u32], r: &Repetition) {
    if r.repeat_penalty == 1.0 {
        return;
    }
    let seen: HashSet<u32> = r.repeat_last_n.tail(context).iter().copied().collect();
    for t in seen {
        if let Some(l) = logits.get_mut(t as usize) {
            if *l > 0.0 {
                *l /= r.repeat_penalty;
            } else {
                *l *= r.repeat_penalty;
            }
        }
    }
}

/// The float range ends near e^88.72; the exponent is clamped below it.
const FLOAT_MAX_LN: f32 = 88.722_84;

/// DRY. A token that would extend a sequence already said earlier in the
/// window, longer than `dry_allowed_length`, loses
/// `multiplier * base^(length - allowed_length)` from its logit. A match
/// never reaches back past the latest sequence breaker, and a breaker token
/// itself is never penalised.
pub fn dry(logits: &mut [f32], context: &[u32], r: &Repetition, breakers: &HashSet<u32>) {
    if !r.dry_on() {
        return;
    }
    let window = r.dry_penalty_last_n.tail(context);
    let n = window.len();
    let allowed = r.dry_allowed_length;
    if n <= allowed {
        return;
    }
    // The current repeat starts after the latest breaker.
    let limit = window
        .iter()
        .rev()
        .position(|t| breakers.contains(t))
        .unwrap_or(n);
    if limit < allowed {
        return;
    }
    // Read backwards, the window's suffixes become prefixes: z[k] is how many
    // tokens before position n-1-k equal the tokens at the end.
    let reversed: Vec<u32> = window.iter().rev().copied().collect();
    let z = z_array(&reversed);
    let mut longest: HashMap<u32, usize> = HashMap::new();
    for k in 1..n {
        let len = z[k].min(limit);
        if len >= allowed {
            // The token that followed that earlier occurrence.
            let next = reversed[k - 1];
            let e = longest.entry(next).or_default();
            *e = (*e).max(len);
        }
    }
    let max_exponent = if r.dry_base > 1.000_001 {
        (FLOAT_MAX_LN / r.dry_base.ln()) as usize
    } else {
        usize::MAX
    };
    for (token, len) in longest {
        if breakers.contains(&token) {
            continue;
        }
        if let Some(l) = logits.get_mut(token as usize) {
            let exponent = (len - allowed).min(max_exponent) as i32;
            *l -= r.dry_multiplier * r.dry_base.powi(exponent);
        }
    }
}

/// The Z-array of `s`: `z[i]` is the length of the longest common prefix of
/// `s` and `s[i..]` (`z[0]` is left 0). Linear time (Gusfield, "Algorithms on
/// Strings, Trees and Sequences", 1997, section 1.4).
fn z_array(s: &[u32]) -> Vec<usize> {
    let n = s.len();
    let mut z = vec![0; n];
    // [left, right) is the rightmost window known to match a prefix.
    let (mut left, mut right) = (0, 0);
    for i in 1..n {
        if i < right {
            z[i] = (right - i).min(z[i - left]);
        }
        while i + z[i] < n && s[z[i]] == s[i + z[i]] {
            z[i] += 1;
        }
        if i + z[i] > right {
            left = i;
            right = i + z[i];
        }
    }
    z
}

/// Forbids each token that would end a second occurrence of an n-gram of
/// `generated` tokens, unless that would leave nothing to sample. Runs after
/// the constraint's mask, so it only ever narrows what the grammar allows.
pub fn ban_repeated_ngrams(
    logits: &mut [f32],
    generated: &[u32],
    n: usize,
    breakers: &HashSet<u32>,
) {
    if n == 0 || generated.len() < n {
        return;
    }
    let prefix = &generated[generated.len() - (n - 1)..];
    if prefix.iter().any(|t| breakers.contains(t)) {
        return;
    }
    let mut banned: Vec<(usize, f32)> = Vec::new();
    for gram in generated.windows(n) {
        let (head, last) = (&gram[..n - 1], gram[n - 1] as usize);
        if head == prefix && !breakers.contains(&gram[n - 1]) {
            if let Some(l) = logits.get_mut(last) {
                if l.is_finite() {
                    banned.push((last, *l));
                    *l = f32::NEG_INFINITY;
                }
            }
        }
    }
    if !banned.is_empty() && logits.iter().all(|l| !l.is_finite()) {
        for (t, l) in banned {
            logits[t] = l;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none() -> HashSet<u32> {
        HashSet::new()
    }

    #[test]
    fn the_z_array_counts_prefix_matches() {
        assert_eq!(z_array(&[1, 1, 2, 1, 1, 2, 1]), vec![0, 1, 0, 4, 1, 0, 1]);
        assert_eq!(z_array(&[5, 5, 5, 5]), vec![0, 3, 2, 1]);
    }

    #[test]
    fn repeat_penalty_divides_positive_and_multiplies_negative_logits() {
        let r = Repetition {
            repeat_penalty: 2.0,
            ..Default::default()
        };
        let mut logits = [4.0, -1.0, 3.0];
        repeat_penalty(&mut logits, &[0, 1, 0], &r);
        assert_eq!(logits, [2.0, -2.0, 3.0]);
    }

    #[test]
    fn repeat_penalty_only_sees_its_window() {
        let r = Repetition {
            repeat_penalty: 2.0,
            repeat_last_n: Window::Last(1),
            ..Default::default()
        };
        let mut logits = [4.0, 4.0];
        repeat_penalty(&mut logits, &[0, 1], &r);
        assert_eq!(logits, [4.0, 2.0]);
    }

    fn dry_params() -> Repetition {
        Repetition {
            dry_multiplier: 1.0,
            dry_base: 2.0,
            dry_allowed_length: 2,
            ..Default::default()
        }
    }

    #[test]
    fn dry_penalises_the_token_that_would_extend_a_repeat_by_its_length() {
        // 1 2 3 4 9 ... 1 2 3: emitting 4 would repeat "1 2 3 4".
        let context = [1, 2, 3, 4, 9, 1, 2, 3];
        let mut logits = [0.0; 10];
        dry(&mut logits, &context, &dry_params(), &none());
        // A match of 3 tokens, allowed 2: 1.0 * 2^(3-2).
        assert_eq!(logits[4], -2.0);
        // "3" is followed by 4 only; the others are untouched.
        assert!(logits.iter().enumerate().all(|(i, &l)| i == 4 || l == 0.0));
    }

    #[test]
    fn dry_lets_repeats_up_to_the_allowed_length_pass() {
        let mut logits = [0.0; 10];
        // "2 3" said again is two tokens: below the allowed length of 3.
        let r = Repetition {
            dry_allowed_length: 3,
            ..dry_params()
        };
        dry(&mut logits, &[2, 3, 4, 9, 2, 3], &r, &none());
        assert_eq!(logits, [0.0; 10]);
    }

    #[test]
    fn a_sequence_breaker_stops_a_dry_match() {
        let context = [1, 2, 3, 4, 9, 1, 2, 3];
        let mut logits = [0.0; 10];
        // 2 is a breaker: the current repeat is "3" alone.
        let breakers: HashSet<u32> = [2].into();
        dry(&mut logits, &context, &dry_params(), &breakers);
        assert_eq!(logits, [0.0; 10]);
    }

    #[test]
    fn dry_off_changes_nothing() {
        let mut logits = [0.0; 10];
        let r = Repetition::default();
        dry(&mut logits, &[1, 2, 3, 4, 1, 2, 3], &r, &none());
        assert_eq!(logits, [0.0; 10]);
    }

    #[test]
    fn breakers_are_the_tokens_whose_text_contains_them() {
        let texts = ["ab", ":", "x:y", "\n\n", "plain"];
        let ids = breaker_ids(
            texts.len(),
            |id| texts[id as usize].as_bytes().to_vec(),
            &[":".into(), "\n".into()],
        );
        assert_eq!(ids, [1, 2, 3].into());
    }

    #[test]
    fn a_repeated_ngram_cannot_be_completed() {
        // "1 2 3" was said; after "1 2" again, 3 is forbidden.
        let mut logits = [0.0, 0.0, 0.0, 5.0];
        ban_repeated_ngrams(&mut logits, &[1, 2, 3, 0, 1, 2], 3, &none());
        assert_eq!(logits[3], f32::NEG_INFINITY);
        assert_eq!(&logits[..3], &[0.0, 0.0, 0.0]);
    }

    #[test]
    fn the_ngram_ban_yields_when_nothing_else_is_allowed() {
        // A constraint allows only token 3.
        let mut logits = [f32::NEG_INFINITY, f32::NEG_INFINITY, f32::NEG_INFINITY, 5.0];
        ban_repeated_ngrams(&mut logits, &[1, 2, 3, 0, 1, 2], 3, &none());
        assert_eq!(logits[3], 5.0);
    }

    #[test]
    fn ngrams_through_a_breaker_may_repeat() {
        let mut logits = [0.0, 0.0, 0.0, 5.0];
        let breakers: HashSet<u32> = [2].into();
        ban_repeated_ngrams(&mut logits, &[1, 2, 3, 0, 1, 2], 3, &breakers);
        assert_eq!(logits[3], 5.0);
    }
}
