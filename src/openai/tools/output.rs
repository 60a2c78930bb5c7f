//! Reading tool calls back out of the generated text: whole, for an answer
//! sent at once ([`parse_calls`]), or as it arrives, for a stream
//! ([`CallStream`]). The grammar fixes the layout, so this reads exactly
//! `<tool_call>{"name": "NAME", "arguments": ARGS}</tool_call>`, one call or
//! several separated by newlines. Output that does not start with
//! `<tool_call>` is plain text; a call cut short (`max_tokens`, a stop
//! sequence) leaves the whole answer as text.
//!
//! `arguments` is the generated JSON text as it came, so a streamed call and
//! an answer sent at once carry the same string.

use serde_json::Value;

use super::{ARGUMENTS_START, CALL_CLOSE, CALL_SEPARATOR, NAME_START};
use crate::inference::chat_template::{TOOL_CALL_END, TOOL_CALL_START};

/// A complete call.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub name: String,
    /// A JSON object, as text.
    pub arguments: String,
}

/// The calls of a finished answer, or `None` when it is not one or more
/// complete calls.
pub fn parse_calls(text: &str) -> Option<Vec<Call>> {
    let Scan::Calls {
        calls,
        complete: true,
    } = scan(text)
    else {
        return None;
    };
    calls
        .into_iter()
        .map(|c| {
            serde_json::from_str::<Value>(c.arguments)
                .ok()
                .filter(Value::is_object)?;
            Some(Call {
                name: c.name.to_string(),
                arguments: c.arguments.to_string(),
            })
        })
        .collect()
}

/// A call as far as it has been generated: its name is complete, its
/// arguments perhaps not.
#[derive(Debug, PartialEq)]
struct PartialCall<'a> {
    name: &'a str,
    arguments: &'a str,
}

#[derive(Debug, PartialEq)]
enum Scan<'a> {
    /// A proper prefix of `<tool_call>`: too short to tell.
    Undecided,
    Text,
    /// `complete` when the text ends right after a call's `</tool_call>`.
    Calls {
        calls: Vec<PartialCall<'a>>,
        complete: bool,
    },
}

fn scan(text: &str) -> Scan<'_> {
    if text.len() < TOOL_CALL_START.len() && TOOL_CALL_START.starts_with(text) {
        return Scan::Undecided;
    }
    if !text.starts_with(TOOL_CALL_START) {
        return Scan::Text;
    }
    let mut calls = Vec::new();
    let complete = scan_calls(text, &mut calls);
    Scan::Calls { calls, complete }
}

/// Reads calls from `rest` into `calls`; true when `rest` ends right after one.
fn scan_calls<'a>(mut rest: &'a str, calls: &mut Vec<PartialCall<'a>>) -> bool {
    loop {
        if !calls.is_empty() {
            if rest.is_empty() {
                return true;
            }
            let Some(r) = rest.strip_prefix(CALL_SEPARATOR) else {
                return false;
            };
            rest = r;
        }
        let Some(r) = rest
            .strip_prefix(TOOL_CALL_START)
            .and_then(|r| r.strip_prefix(NAME_START))
        else {
            return false;
        };
        // Names are `[a-zA-Z0-9_-]`: the first quote ends one.
        let Some(end) = r.find('"') else {
            return false;
        };
        let name = &r[..end];
        let Some(r) = r[end..].strip_prefix(ARGUMENTS_START) else {
            calls.push(PartialCall {
                name,
                arguments: "",
            });
            return false;
        };
        let Some(len) = object_len(r) else {
            calls.push(PartialCall { name, arguments: r });
            return false;
        };
        calls.push(PartialCall {
            name,
            arguments: &r[..len],
        });
        let Some(r) = r[len..]
            .strip_prefix(CALL_CLOSE)
            .and_then(|r| r.strip_prefix(TOOL_CALL_END))
        else {
            return false;
        };
        rest = r;
    }
}

/// The length of the JSON object `text` starts with, once it is complete.
fn object_len(text: &str) -> Option<usize> {
    if !text.starts_with('{') {
        return None;
    }
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for (i, b) in text.bytes().enumerate() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

/// What a stream may send of an answer that may be tool calls.
#[derive(Debug, Clone, PartialEq)]
pub enum Piece {
    Text(String),
    /// Call `index` has its name: its id, type and name can go out.
    CallStart {
        index: usize,
        name: String,
    },
    /// More of call `index`'s arguments text.
    Arguments {
        index: usize,
        text: String,
    },
}

/// Turns deltas into [`Piece`]s: text is held back while it could still be
/// the start of `<tool_call>`; a call's name goes out once complete, its
/// arguments as they are generated.
#[derive(Debug, Default)]
pub struct CallStream {
    text: String,
    /// The answer is plain text: deltas pass straight through.
    plain: bool,
    /// Bytes of arguments sent, per call started.
    sent: Vec<usize>,
}

impl CallStream {
    pub fn push(&mut self, delta: &str) -> Vec<Piece> {
        if self.plain {
            return vec![Piece::Text(delta.to_string())];
        }
        self.text.push_str(delta);
        let calls = match scan(&self.text) {
            Scan::Undecided => return Vec::new(),
            Scan::Text => {
                self.plain = true;
                return vec![Piece::Text(std::mem::take(&mut self.text))];
            }
            Scan::Calls { calls, .. } => calls,
        };
        let mut pieces = Vec::new();
        for (index, call) in calls.iter().enumerate() {
            if index == self.sent.len() {
                self.sent.push(0);
                pieces.push(Piece::CallStart {
                    index,
                    name: call.name.to_string(),
                });
            }
            let sent = &mut self.sent[index];
            if call.arguments.len() > *sent {
                pieces.push(Piece::Arguments {
                    index,
                    text: call.arguments[*sent..].to_string(),
                });
                *sent = call.arguments.len();
            }
        }
        pieces
    }

    /// At the end of generation: what was still held back, and whether the
    /// answer was complete tool calls.
    pub fn finish(&mut self) -> (Vec<Piece>, bool) {
        if self.plain {
            return (Vec::new(), false);
        }
        match scan(&self.text) {
            Scan::Calls { .. } => (Vec::new(), parse_calls(&self.text).is_some()),
            Scan::Undecided | Scan::Text if self.text.is_empty() => (Vec::new(), false),
            Scan::Undecided | Scan::Text => {
                (vec![Piece::Text(std::mem::take(&mut self.text))], false)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PARIS: &str = r#"<tool_call>{"name": "get_weather", "arguments": {"city": "Paris", "note": "a}\"{"}}</tool_call>"#;
    const NOW: &str = r#"<tool_call>{"name": "now", "arguments": {}}</tool_call>"#;

    fn call(name: &str, arguments: &str) -> Call {
        Call {
            name: name.into(),
            arguments: arguments.into(),
        }
    }

    #[test]
    fn complete_calls_are_read_with_their_arguments_text_as_generated() {
        assert_eq!(
            parse_calls(&format!("{PARIS}\n{NOW}")),
            Some(vec![
                call("get_weather", r#"{"city": "Paris", "note": "a}\"{"}"#),
                call("now", "{}"),
            ])
        );
    }

    #[test]
    fn text_and_calls_cut_short_are_not_calls() {
        for text in [
            "It is sunny.",
            "",
            "<tool_ca",
            " <tool_call>",
            &PARIS[..PARIS.len() - 3],
            &format!("{PARIS}\n"),
            &format!("{PARIS}\n<tool_call>{{\"name\": \"now\""),
            r#"<tool_call>{"name": "f", "arguments": {"a": }}</tool_call>"#,
        ] {
            assert_eq!(parse_calls(text), None, "{text:?}");
        }
    }

    /// Streams `text` in pieces of `size` bytes (on character boundaries).
    fn stream(text: &str, size: usize) -> (Vec<Piece>, bool) {
        let mut s = CallStream::default();
        let mut pieces = Vec::new();
        let mut rest = text;
        while !rest.is_empty() {
            let mut n = size.min(rest.len());
            while !rest.is_char_boundary(n) {
                n += 1;
            }
            pieces.extend(s.push(&rest[..n]));
            rest = &rest[n..];
        }
        let (last, complete) = s.finish();
        pieces.extend(last);
        (pieces, complete)
    }

    #[test]
    fn streamed_calls_send_each_name_once_and_arguments_that_add_up() {
        let text = format!("{PARIS}\n{NOW}");
        for size in [1, 3, 7, 200] {
            let (pieces, complete) = stream(&text, size);
            assert!(complete, "size {size}");
            let starts: Vec<&Piece> = pieces
                .iter()
                .filter(|p| matches!(p, Piece::CallStart { .. }))
                .collect();
            assert_eq!(
                starts,
                [
                    &Piece::CallStart {
                        index: 0,
                        name: "get_weather".into()
                    },
                    &Piece::CallStart {
                        index: 1,
                        name: "now".into()
                    },
                ]
            );
            for (index, expected) in [
                (0, parse_calls(&text).unwrap()[0].arguments.clone()),
                (1, "{}".into()),
            ] {
                let arguments: String = pieces
                    .iter()
                    .filter_map(|p| match p {
                        Piece::Arguments { index: i, text } if *i == index => Some(text.as_str()),
                        _ => None,
                    })
                    .collect();
                assert_eq!(arguments, expected, "size {size}");
            }
            assert!(!pieces.iter().any(|p| matches!(p, Piece::Text(_))));
        }
    }

    #[test]
    fn streamed_text_is_held_only_while_it_could_open_a_call() {
        let mut s = CallStream::default();
        assert_eq!(s.push("<to"), []);
        assert_eq!(s.push("day"), [Piece::Text("<today".into())]);
        assert_eq!(s.push(" is"), [Piece::Text(" is".into())]);
        assert_eq!(s.finish(), (vec![], false));

        let (pieces, complete) = stream("Sunny, 18 °C", 1);
        let text: String = pieces
            .iter()
            .map(|p| match p {
                Piece::Text(t) => t.as_str(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!((text.as_str(), complete), ("Sunny, 18 °C", false));
    }

    #[test]
    fn a_held_back_prefix_is_sent_as_text_when_generation_ends() {
        assert_eq!(
            stream("<tool", 2),
            (vec![Piece::Text("<tool".into())], false)
        );
        assert_eq!(stream("", 1), (vec![], false));
    }

    #[test]
    fn a_streamed_call_cut_short_is_not_complete() {
        let (pieces, complete) = stream(&PARIS[..40], 5);
        assert!(!complete);
        assert_eq!(
            pieces[0],
            Piece::CallStart {
                index: 0,
                name: "get_weather".into()
            }
        );
    }
}
