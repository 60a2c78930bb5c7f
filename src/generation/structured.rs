//! One constrained generation run to its end, for background work (SRS
//! sections, wireframes): a system and a user turn, output decoded under a
//! JSON schema, greedy so the same input gives the same output. A full queue
//! is waited out rather than failed, since a job has no client to retry.

use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::route::{Route, Target};
use super::{Error, Generator};
use crate::inference::chat_model::ChatModel;
use crate::inference::chat_template::ChatMessage;
use crate::inference::constraint::ConstraintSpec;
use crate::inference::engine::{Event, FinishReason, Generation};
use crate::inference::sampler::SamplingParams;
use crate::upstream::Reply;

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
    route: &Route,
    req: Request<'_>,
    cancelled: &(dyn Fn() -> bool + Sync),
) -> Result<T, Stop> {
    let mut last = String::new();
    for attempt in 1..=req.attempts.max(1) {
        let out = complete(
            route,
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

/// Generates the answer to `system` + `user` as an instance of `schema`
/// on the first target of `route` that takes it, or stops when
/// `cancelled()` turns true. Our engine passes the request on when its
/// queue is full (if a target follows) or the prompt does not fit its
/// context; an upstream when it is down (see [`Generator::call_upstreams`]).
pub async fn complete(
    route: &Route,
    system: &str,
    user: &str,
    schema: Value,
    max_tokens: usize,
    cancelled: &(dyn Fn() -> bool + Sync),
) -> Result<String, Stop> {
    let mut last = Stop::Failed("the route has no target".into());
    for (i, target) in route.targets.iter().enumerate() {
        let more = i + 1 < route.targets.len();
        let out = match target {
            Target::Local(model) => {
                complete_local(
                    model,
                    system,
                    user,
                    schema.clone(),
                    max_tokens,
                    more,
                    cancelled,
                )
                .await
            }
            Target::Upstream { .. } => {
                complete_upstream(route, target, system, user, &schema, max_tokens).await
            }
        };
        match out {
            Ok(text) => {
                tracing::info!(served_by = %target.served_by(), role = route.caller.role, "structured output");
                return Ok(text);
            }
            Err(Attempt::Final(stop)) => return Err(stop),
            Err(Attempt::Next(stop)) => {
                tracing::warn!(target = %target.served_by(), error = ?stop, "passing to the next target");
                last = stop;
            }
        }
    }
    Err(last)
}

/// How one target's attempt ended without output.
enum Attempt {
    /// Another target may succeed (busy, too short a context, down).
    Next(Stop),
    /// Any target would end the same way (cancelled, output over its limit).
    Final(Stop),
}

/// One structured call to an upstream, greedy, with the schema as its
/// `response_format`.
async fn complete_upstream(
    route: &Route,
    target: &Target,
    system: &str,
    user: &str,
    schema: &Value,
    max_tokens: usize,
) -> Result<String, Attempt> {
    let body = serde_json::json!({
        "messages": [
            {"role": "system", "content": system},
            {"role": "user", "content": user},
        ],
        "response_format": {"type": "json_schema", "json_schema": {"name": "output", "schema": schema, "strict": true}},
        "temperature": 0,
        "max_tokens": max_tokens,
        "stream": false,
    });
    let done = route
        .generator
        .call_upstreams(std::slice::from_ref(target), &body, &route.caller)
        .await
        .map_err(|e| Attempt::Next(Stop::Failed(format!("generation_failed: {e}"))))?;
    let Reply::Json(answer) = done.reply else {
        return Err(Attempt::Next(Stop::Failed(
            "the upstream streamed an answer it was not asked to stream".into(),
        )));
    };
    let choice = &answer["choices"][0];
    if choice["finish_reason"] == "length" {
        return Err(Attempt::Final(Stop::Failed(format!(
            "the output reached the limit of {max_tokens} tokens"
        ))));
    }
    choice["message"]["content"]
        .as_str()
        .map(String::from)
        .ok_or_else(|| Attempt::Next(Stop::Failed("the upstream's answer has no text".into())))
}

/// One structured generation on our engine; `more` says whether a target
/// follows (a full queue is then passed on rather than waited out).
async fn complete_local(
    model: &Arc<ChatModel>,
    system: &str,
    user: &str,
    schema: Value,
    max_tokens: usize,
    more: bool,
    cancelled: &(dyn Fn() -> bool + Sync),
) -> Result<String, Attempt> {
    let messages = vec![
        ChatMessage::new("system", system),
        ChatMessage::new("user", user),
    ];
    let prompt = model.chat_prompt(messages, Vec::new()).await.map_err(|e| {
        Attempt::Final(internal(
            "the model's chat template could not be rendered",
            &e,
        ))
    })?;
    if prompt.len() + max_tokens > model.context_length {
        return Err(Attempt::Next(Stop::Failed(format!(
            "the prompt of {} tokens leaves no room for {max_tokens} tokens of output in the model's context of {}",
            prompt.len(),
            model.context_length
        ))));
    }
    let constraint = Generator::compile(model, ConstraintSpec::JsonSchema(schema))
        .await
        .map_err(|e| Attempt::Final(internal("the output schema could not be prepared", &e)))?;
    let generation = Generation {
        prompt,
        max_tokens,
        stop: Vec::new(),
        ignore_eos: false,
        // Greedy, with repetition control: a loop in one JSON string fails the job.
        sampling: SamplingParams::for_features(0.0, 0),
        constraint: Some(constraint),
    };
    let started = if more {
        Generator::start(model, generation)
    } else {
        Generator::start_waiting(model, generation, cancelled).await
    };
    let mut events = match started {
        Ok(answer) => answer.events,
        Err(Error::Cancelled) => return Err(Attempt::Final(Stop::Cancelled)),
        Err(e @ Error::Submit(_)) => return Err(Attempt::Next(Stop::Failed(e.to_string()))),
        Err(e) => return Err(Attempt::Final(Stop::Failed(e.to_string()))),
    };
    let mut text = String::new();
    let mut tick = tokio::time::interval(CANCEL_POLL);
    loop {
        tokio::select! {
            event = events.recv() => match event {
                Some(Event::Delta(d)) => text.push_str(&d),
                Some(Event::Done(done)) if done.finish_reason == FinishReason::Length => {
                    return Err(Attempt::Final(Stop::Failed(format!("the output reached the limit of {max_tokens} tokens"))));
                }
                Some(Event::Done(_)) => return Ok(text),
                Some(Event::Error(e)) => return Err(Attempt::Final(Stop::Failed(e))),
                None => return Err(Attempt::Final(Stop::Failed("the generation stopped without finishing".into()))),
            },
            // Returning drops `events`, which stops the generation.
            _ = tick.tick() => {
                if cancelled() {
                    return Err(Attempt::Final(Stop::Cancelled));
                }
            }
        }
    }
}
