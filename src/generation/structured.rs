//! One constrained generation run to its end, for background work (SRS
//! sections, wireframes): a system and a user turn, output decoded under a
//! JSON schema, greedy so the same input gives the same output. A full queue
//! is waited out rather than failed, since a job has no client to retry.

use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{Error, Generator};
use crate::inference::chat_model::ChatModel;
use crate::inference::chat_template::ChatMessage;
use crate::inference::constraint::ConstraintSpec;
use crate::inference::engine::{Event, FinishReason, Generation};
use crate::inference::sampler::SamplingParams;

/// Why a generation produced no output: the outcome every job shares.
pub use crate::jobs::Stop;

/// What one structured generation asks for.
pub struct Request<'a> {
    pub system: &'a str,
    pub user: &'a str,
    pub schema: Value,
    pub max_tokens: usize,
    /// Tries before giving up on output that fails or does not parse.
    pub attempts: usize,
}

/// [`complete`] parsed into `T`, retried up to `req.attempts` times; the
/// error is the last attempt's.
pub async fn complete_json<T: DeserializeOwned>(
    model: &Arc<ChatModel>,
    req: Request<'_>,
    cancelled: &(dyn Fn() -> bool + Sync),
) -> Result<T, Stop> {
    let mut last = String::new();
    for attempt in 1..=req.attempts.max(1) {
        let out = complete(
            model,
            req.system,
            req.user,
            req.schema.clone(),
            req.max_tokens,
            cancelled,
        )
        .await;
        match out {
            Ok(text) => {
                // Strings that still looped keep their good sentences.
                let parsed = serde_json::from_str(&text).and_then(|mut v: Value| {
                    super::guard::cut_strings(&mut v);
                    serde_json::from_value(v)
                });
                match parsed {
                    Ok(v) => return Ok(v),
                    Err(e) => last = format!("the output is not the expected JSON: {e}"),
                }
            }
            Err(Stop::Cancelled) => return Err(Stop::Cancelled),
            Err(Stop::Failed(e)) => last = e,
        }
        tracing::warn!(attempt, error = %last, "structured generation failed");
    }
    Err(Stop::Failed(last))
}

/// A failure whose detail (template or grammar internals) belongs in the
/// log: the job that stores the message shows a code and a sentence.
fn internal(sentence: &str, detail: &dyn std::fmt::Display) -> Stop {
    tracing::error!(error = %detail, "{sentence}");
    Stop::Failed(format!("generation_failed: {sentence}"))
}

/// How often a running generation looks at `cancelled`.
const CANCEL_POLL: Duration = Duration::from_millis(200);

/// Generates the model's answer to `system` + `user` as an instance of
/// `schema`, or stops when `cancelled()` turns true.
pub async fn complete(
    model: &Arc<ChatModel>,
    system: &str,
    user: &str,
    schema: Value,
    max_tokens: usize,
    cancelled: &(dyn Fn() -> bool + Sync),
) -> Result<String, Stop> {
    let messages = vec![
        ChatMessage::new("system", system),
        ChatMessage::new("user", user),
    ];
    let prompt = model
        .chat_prompt(messages, Vec::new())
        .await
        .map_err(|e| internal("the model's chat template could not be rendered", &e))?;
    if prompt.len() + max_tokens > model.context_length {
        return Err(Stop::Failed(format!(
            "the prompt of {} tokens leaves no room for {max_tokens} tokens of output in the model's context of {}",
            prompt.len(),
            model.context_length
        )));
    }
    let constraint = Generator::compile(model, ConstraintSpec::JsonSchema(schema))
        .await
        .map_err(|e| internal("the output schema could not be prepared", &e))?;
    let generation = Generation {
        prompt,
        max_tokens,
        stop: Vec::new(),
        ignore_eos: false,
        // Greedy, with repetition control: a loop in one JSON string fails the job.
        sampling: SamplingParams::for_features(0.0, 0),
        constraint: Some(constraint),
    };
    let mut events = match Generator::start_waiting(model, generation, cancelled).await {
        Ok(answer) => answer.events,
        Err(Error::Cancelled) => return Err(Stop::Cancelled),
        Err(e) => return Err(Stop::Failed(e.to_string())),
    };
    let mut text = String::new();
    let mut tick = tokio::time::interval(CANCEL_POLL);
    loop {
        tokio::select! {
            event = events.recv() => match event {
                Some(Event::Delta(d)) => text.push_str(&d),
                Some(Event::Done(done)) if done.finish_reason == FinishReason::Length => {
                    return Err(Stop::Failed(format!("the output reached the limit of {max_tokens} tokens")));
                }
                Some(Event::Done(_)) => return Ok(text),
                Some(Event::Error(e)) => return Err(Stop::Failed(e)),
                None => return Err(Stop::Failed("the generation stopped without finishing".into())),
            },
            // Returning drops `events`, which stops the generation.
            _ = tick.tick() => {
                if cancelled() {
                    return Err(Stop::Cancelled);
                }
            }
        }
    }
}
