//! Generated tokens to streamable text: whole characters only, stop
//! sequences found across token boundaries and never sent.

/// Turns the decoded text of all generated tokens into deltas that are safe to
/// send: whole UTF-8 characters only, with any tail that could begin a stop
/// sequence held back until it is known not to.
pub struct TextTracker {
    stop: Vec<String>,
    emitted: usize,
    latest: String,
    pub stopped: bool,
}

impl TextTracker {
    pub fn new(stop: Vec<String>) -> Self {
        Self {
            stop,
            emitted: 0,
            latest: String::new(),
            stopped: false,
        }
    }

    /// Takes the full decoded text so far; returns the new safe delta and whether
    /// a stop sequence was reached (the text before it is in the delta).
    pub fn advance(&mut self, decoded: &str) -> (String, bool) {
        // A trailing U+FFFD is an incomplete multi-byte character: wait for more bytes.
        if decoded.ends_with('\u{FFFD}') {
            return (String::new(), false);
        }
        self.latest = decoded.to_string();
        // A stop sequence may straddle what was held back, never what was emitted.
        let search_from = self.emitted;
        let found = self
            .stop
            .iter()
            .filter_map(|s| {
                decoded[search_from..]
                    .find(s.as_str())
                    .map(|i| search_from + i)
            })
            .min();
        if let Some(end) = found {
            let delta = decoded[self.emitted..end].to_string();
            self.emitted = end;
            self.stopped = true;
            return (delta, true);
        }
        let held = self
            .stop
            .iter()
            .map(|s| longest_suffix_prefix(&decoded[self.emitted..], s))
            .max()
            .unwrap_or(0);
        let safe = decoded.len() - held;
        let delta = decoded[self.emitted..safe].to_string();
        self.emitted = safe;
        (delta, false)
    }

    /// Whatever was held back, once generation has ended without a stop sequence.
    pub fn flush(&mut self) -> String {
        let mut rest = self
            .latest
            .get(self.emitted..)
            .unwrap_or_default()
            .to_string();
        if rest.ends_with('\u{FFFD}') {
            rest.pop();
        }
        self.emitted = self.latest.len();
        rest
    }
}

/// Length in bytes of the longest suffix of `text` that is a proper prefix of `stop`.
fn longest_suffix_prefix(text: &str, stop: &str) -> usize {
    (1..stop.len().min(text.len() + 1))
        .rev()
        .find(|&n| {
            stop.is_char_boundary(n)
                && text.is_char_boundary(text.len() - n)
                && text.ends_with(&stop[..n])
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(stop: &[&str], steps: &[&str]) -> (String, bool) {
        let stop: Vec<String> = stop.iter().map(|s| s.to_string()).collect();
        let mut t = TextTracker::new(stop);
        let mut out = String::new();
        for s in steps {
            let (d, stopped) = t.advance(s);
            out.push_str(&d);
            if stopped {
                return (out, true);
            }
        }
        out.push_str(&t.flush());
        (out, false)
    }

    #[test]
    fn a_stop_sequence_split_across_tokens_is_found_and_not_emitted() {
        assert_eq!(
            run(
                &["END"],
                &["Hello E", "Hello EN", "Hello END", "Hello END more"]
            ),
            ("Hello ".into(), true)
        );
    }

    #[test]
    fn a_held_back_prefix_is_released_when_it_turns_out_not_to_stop() {
        assert_eq!(run(&["END"], &["a E", "a EX"]), ("a EX".into(), false));
    }

    #[test]
    fn an_incomplete_character_is_not_emitted() {
        let mut t = TextTracker::new(vec![]);
        assert_eq!(t.advance("caf\u{FFFD}").0, "");
        assert_eq!(t.advance("café").0, "café");
    }

    #[test]
    fn without_stop_sequences_text_streams_as_it_comes() {
        let mut t = TextTracker::new(vec![]);
        assert_eq!(t.advance("ab").0, "ab");
        assert_eq!(t.advance("abc").0, "c");
    }
}
