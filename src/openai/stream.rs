//! Engine events as an OpenAI server-sent-event stream or as one collected answer.
//!
//! Dropping the stream (the client went away) drops the event receiver, which
//! the engine notices before its next token and stops.

use std::collections::VecDeque;
use std::convert::Infallible;

use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures::Stream;
use serde_json::Value;
use tokio::sync::mpsc::UnboundedReceiver;

use crate::http::AppError;

use crate::inference::engine::{Completion, Event};

/// Builds the JSON chunks of one endpoint's stream.
pub trait ChunkFormat: Send + 'static {
    /// Sent before any text (chat sends the assistant role here).
    fn opening(&self) -> Option<Value>;
    fn delta(&self, text: &str) -> Value;
    fn finish(&self, done: &Completion) -> Value;
    /// The trailing usage chunk, when the client asked for it.
    fn usage(&self, done: &Completion) -> Option<Value>;

    /// The chunks for newly generated text: one [`Self::delta`], unless the
    /// format holds text back to see what it is (chat with tools).
    fn on_text(&mut self, text: &str) -> Vec<Value> {
        vec![self.delta(text)]
    }

    /// The chunks that end the answer, before usage: [`Self::finish`], after
    /// whatever was held back.
    fn on_done(&mut self, done: &Completion) -> Vec<Value> {
        vec![self.finish(done)]
    }
}

struct State<F> {
    rx: UnboundedReceiver<Event>,
    format: F,
    pending: VecDeque<SseEvent>,
    finished: bool,
}

pub fn sse<F: ChunkFormat>(
    rx: UnboundedReceiver<Event>,
    format: F,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let mut pending = VecDeque::new();
    if let Some(first) = format.opening() {
        pending.push_back(data(&first));
    }
    let state = State {
        rx,
        format,
        pending,
        finished: false,
    };
    let stream = futures::stream::unfold(state, |mut s| async move {
        loop {
            if let Some(ev) = s.pending.pop_front() {
                return Some((Ok(ev), s));
            }
            if s.finished {
                return None;
            }
            match s.rx.recv().await {
                Some(Event::Delta(text)) => {
                    let chunks = s.format.on_text(&text);
                    s.pending.extend(chunks.iter().map(data));
                }
                Some(Event::Done(done)) => {
                    let chunks = s.format.on_done(&done);
                    s.pending.extend(chunks.iter().map(data));
                    if let Some(u) = s.format.usage(&done) {
                        s.pending.push_back(data(&u));
                    }
                    s.pending.push_back(SseEvent::default().data("[DONE]"));
                    s.finished = true;
                }
                Some(Event::Error(message)) => {
                    s.pending
                        .push_back(data(&AppError::Internal(message).body()));
                    s.pending.push_back(SseEvent::default().data("[DONE]"));
                    s.finished = true;
                }
                None => {
                    s.pending
                        .push_back(data(&AppError::Internal("engine stopped".into()).body()));
                    s.finished = true;
                }
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

fn data(v: &Value) -> SseEvent {
    SseEvent::default().data(v.to_string())
}

pub fn usage_json(done: &Completion) -> Value {
    serde_json::json!({
        "prompt_tokens": done.prompt_tokens,
        "completion_tokens": done.completion_tokens,
        "total_tokens": done.prompt_tokens + done.completion_tokens,
        "prompt_tokens_details": {"cached_tokens": done.cached_tokens},
    })
}
