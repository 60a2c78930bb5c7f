//! Server-sent events read from an upstream's byte stream: `event:` and
//! `data:` lines up to a blank line make one event.

use axum::body::Bytes;
use futures::{Stream, StreamExt};

/// One event: its name (`message` when unnamed) and its data lines joined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    pub name: String,
    pub data: String,
}

/// Splits a stream of byte chunks into events; a transport error ends the
/// stream with that error.
pub fn events<S>(body: S) -> impl Stream<Item = Result<SseEvent, String>> + Send
where
    S: Stream<Item = Result<Bytes, reqwest::Error>> + Send + Unpin + 'static,
{
    futures::stream::unfold(
        (body, Parser::default(), false),
        |(mut body, mut parser, ended)| async move {
            if ended {
                return None;
            }
            loop {
                if let Some(event) = parser.next_event() {
                    return Some((Ok(event), (body, parser, false)));
                }
                match body.next().await {
                    Some(Ok(bytes)) => parser.push(&bytes),
                    Some(Err(e)) => {
                        let message = format!("the stream broke: {}", super::plain(&e));
                        return Some((Err(message), (body, parser, true)));
                    }
                    None => {
                        // A last event without its blank line still counts.
                        parser.push(b"\n\n");
                        return parser
                            .next_event()
                            .map(|event| (Ok(event), (body, parser, true)));
                    }
                }
            }
        },
    )
}

#[derive(Default)]
struct Parser {
    buffer: Vec<u8>,
    name: String,
    data: Vec<String>,
}

impl Parser {
    fn push(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    /// The next whole event in the buffer, consuming its lines.
    fn next_event(&mut self) -> Option<SseEvent> {
        while let Some(end) = self.buffer.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.buffer.drain(..=end).collect();
            let line = String::from_utf8_lossy(&line);
            let line = line.trim_end_matches(['\n', '\r']);
            if line.is_empty() {
                if self.data.is_empty() {
                    self.name.clear();
                    continue;
                }
                let name = std::mem::take(&mut self.name);
                return Some(SseEvent {
                    name: if name.is_empty() {
                        "message".into()
                    } else {
                        name
                    },
                    data: std::mem::take(&mut self.data).join("\n"),
                });
            }
            let (field, value) = line.split_once(':').unwrap_or((line, ""));
            let value = value.strip_prefix(' ').unwrap_or(value);
            match field {
                "event" => self.name = value.to_string(),
                "data" => self.data.push(value.to_string()),
                _ => {} // comments (`: keep-alive`), ids and retry hints
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_split_across_chunks_and_comments_are_read() {
        let mut p = Parser::default();
        p.push(b": ping\n\nevent: message_start\nda");
        assert_eq!(p.next_event(), None);
        p.push(b"ta: {\"a\":1}\r\n\r\ndata: [DONE]\n\n");
        assert_eq!(
            p.next_event(),
            Some(SseEvent {
                name: "message_start".into(),
                data: "{\"a\":1}".into()
            })
        );
        assert_eq!(p.next_event().unwrap().data, "[DONE]");
        assert_eq!(p.next_event(), None);
    }
}
