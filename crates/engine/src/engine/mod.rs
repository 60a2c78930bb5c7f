//! The generation loop. Each chat model owns one engine thread that runs its
//! forward passes; HTTP handlers send it a [`GenerateRequest`] carrying a reply
//! channel and read [`Event`]s back. Nothing here runs on the async runtime.
//!
//! Continuous batching: every step is one forward pass over all running
//! sequences (one token each) plus a chunk of at most `prefill_chunk` prompt
//! tokens of the sequences still reading their prompts, so a long prompt
//! never stalls running streams for more than one chunk. New requests join
//! between steps; finished ones leave. A request whose reply channel is
//! closed (the client went away) leaves before its next token.

mod backend;
mod scheduler;
mod sequence;
mod text;

use std::time::Instant;

use tokio::sync::{mpsc, OwnedSemaphorePermit};

use super::constraint::Constraint;
use super::sampler::SamplingParams;
pub use backend::Backend;
pub use scheduler::{EngineLoop, Limits};
pub use text::TextTracker;

/// What a caller asks for; the prompt is already tokenized.
pub struct Generation {
    pub prompt: Vec<u32>,
    pub max_tokens: usize,
    pub stop: Vec<String>,
    /// Keep generating past end-of-sequence tokens (benchmarks).
    pub ignore_eos: bool,
    pub sampling: SamplingParams,
    /// Compiled with [`super::chat_model::ChatModel::compile_constraint`]; `None` generates freely.
    pub constraint: Option<Constraint>,
}

/// A [`Generation`] admitted to the queue, with its reply channel.
pub struct GenerateRequest {
    pub generation: Generation,
    pub events: mpsc::UnboundedSender<Event>,
    /// Admission slot, released when this request is finished.
    pub permit: OwnedSemaphorePermit,
    pub admitted_at: Instant,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Newly generated text (never a partial UTF-8 character, never part of a stop sequence).
    Delta(String),
    Done(Completion),
    Error(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FinishReason {
    Stop,
    Length,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    pub finish_reason: FinishReason,
    pub prompt_tokens: usize,
    pub completion_tokens: usize,
    /// Prompt tokens whose keys and values came from the prefix cache.
    pub cached_tokens: usize,
    pub prefill_seconds: f64,
    pub decode_seconds: f64,
}
