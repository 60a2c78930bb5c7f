//! A generated chat answer started on the first target of the chat chain
//! that takes it: our engine with the prompt and citation grammar built for
//! it, or, when the chain (and the project's data policy) says so, an
//! upstream provider given the same messages. What comes back is the same
//! stream of engine events either way, so relaying and storing the answer
//! does not care who wrote it.

use std::sync::Arc;

use futures::StreamExt;
use serde_json::{json, Value};
use tokio::sync::mpsc::{self, UnboundedReceiver};

use super::Error;
use crate::generation::route::{Caller, Target};
use crate::generation::{Error as GenError, Generator, Role};
use crate::inference::chat_model::ChatModel;
use crate::inference::chat_template::ChatMessage;
use crate::inference::engine::{Completion, Event, FinishReason, Generation};
use crate::upstream::Reply;

/// An answer under way and who writes it.
pub struct Started {
    pub events: UnboundedReceiver<Event>,
    /// The model's id as `/v1/models` lists it: a local id, or `provider/model`.
    pub model: String,
}

/// What one answer asks of a target.
pub struct Ask<'a> {
    /// Our engine's model, for which `local` was built.
    pub model: &'a Arc<ChatModel>,
    pub local: Generation,
    /// The same conversation as messages, for an upstream.
    pub messages: &'a [ChatMessage],
    pub max_tokens: usize,
}

/// Starts `ask` on the chat chain. Our engine passes the answer on when its
/// queue is full and a target follows; upstream targets fail over among
/// themselves (see [`Generator::call_upstreams`]).
pub async fn start(
    generation: &Generator,
    pool: &sqlx::SqlitePool,
    caller: Caller,
    ask: Ask<'_>,
) -> Result<Started, Error> {
    let project = caller.project.clone().unwrap_or_default();
    let allowed = crate::projects::allowed(pool, &project)
        .await
        .map_err(|e| Error::Internal(format!("data policy: {e}")))?;
    let chain = generation
        .chain(Role::Chat, &allowed)
        .await
        .map_err(route_error)?;
    let mut local = Some(ask.local);
    for (i, target) in chain.iter().enumerate() {
        match target {
            Target::Local(_) => {
                let Some(g) = local.take() else { continue };
                match Generator::start(ask.model, g) {
                    Ok(answer) => {
                        return Ok(Started {
                            events: answer.events,
                            model: ask.model.id.clone(),
                        })
                    }
                    Err(GenError::Submit(e)) if i + 1 < chain.len() => {
                        tracing::info!(error = %e, "chat answer passed to the next target");
                    }
                    Err(GenError::Submit(e)) => return Err(Error::Queue(e)),
                    Err(e) => return Err(Error::Internal(e.to_string())),
                }
            }
            Target::Upstream { .. } => {
                let rest: Vec<Target> = chain[i..]
                    .iter()
                    .filter(|t| matches!(t, Target::Upstream { .. }))
                    .cloned()
                    .collect();
                let body = json!({
                    "messages": ask.messages.iter().map(|m| json!({"role": m.role, "content": m.content})).collect::<Vec<Value>>(),
                    "max_tokens": ask.max_tokens,
                    // Greedy, as our engine answers: the same question gets the same answer.
                    "temperature": 0,
                    "stream": true,
                    "stream_options": {"include_usage": true},
                });
                let done = generation
                    .call_upstreams(&rest, &body, &caller)
                    .await
                    .map_err(route_error)?;
                return Ok(Started {
                    events: events(done.reply),
                    model: done.served_by,
                });
            }
        }
    }
    Err(Error::Internal(
        "no target of the chat route took the answer".into(),
    ))
}

fn route_error(e: GenError) -> Error {
    match e {
        GenError::Lookup(e) => Error::Model(e),
        GenError::Submit(e) => Error::Queue(e),
        e => Error::Route(e.to_string()),
    }
}

/// An upstream's chunks as engine events. The task stops (and drops the
/// upstream's stream) as soon as nobody listens.
fn events(reply: Reply) -> UnboundedReceiver<Event> {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut chunks = match reply {
            Reply::Stream(chunks) => chunks,
            Reply::Json(answer) => {
                let text = answer["choices"][0]["message"]["content"]
                    .as_str()
                    .unwrap_or_default();
                let _ = tx.send(Event::Delta(text.to_string()));
                let _ = tx.send(Event::Done(completion(
                    &answer["choices"][0]["finish_reason"],
                    &answer["usage"],
                )));
                return;
            }
        };
        let mut finish = Value::Null;
        let mut usage = Value::Null;
        while let Some(chunk) = chunks.next().await {
            let chunk = match chunk {
                Ok(c) => c,
                Err(e) => {
                    let _ = tx.send(Event::Error(e));
                    return;
                }
            };
            if !chunk["usage"].is_null() {
                usage = chunk["usage"].clone();
            }
            let choice = &chunk["choices"][0];
            if !choice["finish_reason"].is_null() {
                finish = choice["finish_reason"].clone();
            }
            if let Some(text) = choice["delta"]["content"]
                .as_str()
                .filter(|t| !t.is_empty())
            {
                if tx.send(Event::Delta(text.to_string())).is_err() {
                    return;
                }
            }
        }
        let _ = tx.send(Event::Done(completion(&finish, &usage)));
    });
    rx
}

fn completion(finish: &Value, usage: &Value) -> Completion {
    let count = |k: &str| usage[k].as_u64().unwrap_or(0) as usize;
    Completion {
        finish_reason: if finish == "length" {
            FinishReason::Length
        } else {
            FinishReason::Stop
        },
        prompt_tokens: count("prompt_tokens"),
        completion_tokens: count("completion_tokens"),
        cached_tokens: 0,
        prefill_seconds: 0.0,
        decode_seconds: 0.0,
    }
}
