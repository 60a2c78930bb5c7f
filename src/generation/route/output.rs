//! What happens to one upstream call's output: a stream held until its
//! first token, redacted values put back (whole or streamed), and the
//! audit row written when the call is over.

use futures::StreamExt;
use serde_json::{json, Value};
use sqlx::SqlitePool;

use bacopilot_content::redact::Redaction;

use super::Caller;
use crate::upstream::{CallError, Chunks};

/// A generous guess at a request's tokens (prompt plus the answer it asks
/// for), without the upstream's tokenizer: a token is rarely under three
/// bytes of English.
pub(super) fn estimated_tokens(body: &Value) -> usize {
    let prompt: usize = body["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| m["content"].to_string().len() / 3 + 4)
        .sum();
    let answer = body["max_completion_tokens"]
        .as_u64()
        .or(body["max_tokens"].as_u64())
        .unwrap_or(0) as usize;
    prompt + answer
}

/// Reads a stream up to its first chunk with content (text, a tool call or
/// a finish): a stream that breaks before that counts as a failed attempt.
pub(super) async fn first_token(mut chunks: Chunks) -> Result<Chunks, CallError> {
    let mut held = Vec::new();
    loop {
        match chunks.next().await {
            Some(Ok(chunk)) => {
                let delta = &chunk["choices"][0]["delta"];
                let started = delta["content"].as_str().is_some_and(|c| !c.is_empty())
                    || delta.get("tool_calls").is_some()
                    || !chunk["choices"][0]["finish_reason"].is_null();
                held.push(Ok(chunk));
                if started {
                    return Ok(Box::pin(futures::stream::iter(held).chain(chunks)));
                }
            }
            Some(Err(e)) => return Err(CallError::Unavailable(e)),
            None => {
                return Err(CallError::Unavailable(
                    "the stream ended before its first token".into(),
                ))
            }
        }
    }
}

/// The audit row of one upstream call: never the prompt, never the key.
/// Written once, by [`Audit::write`]; one dropped unwritten (a client that
/// left a stream before its end) is written as `client_gone`.
pub(super) struct Audit {
    pub pool: SqlitePool,
    pub caller: Caller,
    pub provider: String,
    pub model: String,
    pub redacted: usize,
}

/// An [`Audit`] not yet written.
pub(super) struct Pending(Option<Audit>);

impl Audit {
    pub(super) fn pending(self) -> Pending {
        Pending(Some(self))
    }
}

impl Pending {
    /// Writes the row (once; later calls do nothing).
    pub(super) async fn write(&mut self, outcome: &str, usage: &Value) {
        if let Some(audit) = self.0.take() {
            audit.record(outcome, usage).await;
        }
    }

    fn written(&self) -> bool {
        self.0.is_none()
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        let (Some(audit), Ok(runtime)) = (self.0.take(), tokio::runtime::Handle::try_current())
        else {
            return;
        };
        runtime.spawn(async move { audit.record("client_gone", &Value::Null).await });
    }
}

impl Audit {
    async fn record(&self, outcome: &str, usage: &Value) {
        let actor = crate::audit::Actor {
            name: Some(&self.caller.user),
            address: &self.caller.address,
        };
        let target = format!("{}/{}", self.provider, self.model);
        crate::audit::record(
            &self.pool,
            actor,
            "upstream.call",
            Some(&target),
            json!({
                "project": self.caller.project,
                "role": self.caller.role,
                "provider": self.provider,
                "model": self.model,
                "prompt_tokens": usage["prompt_tokens"],
                "completion_tokens": usage["completion_tokens"],
                "outcome": outcome,
                "redacted": self.redacted,
            }),
        )
        .await;
    }
}

/// Passes a stream on, restoring redacted values in its text, and writes
/// the audit row when it ends.
pub(super) fn relay(chunks: Chunks, redaction: Option<Redaction>, audit: Pending) -> Chunks {
    let restorer = redaction.as_ref().map(Redaction::restorer);
    let state = (chunks, restorer, audit, Value::Null);
    Box::pin(futures::stream::unfold(
        state,
        |(mut chunks, mut restorer, mut audit, mut usage)| async move {
            if audit.written() {
                return None;
            }
            match chunks.next().await {
                Some(Ok(mut chunk)) => {
                    if !chunk["usage"].is_null() {
                        usage = chunk["usage"].clone();
                    }
                    if let Some(r) = restorer.as_mut() {
                        let delta = &mut chunk["choices"][0]["delta"];
                        if let Some(text) = delta["content"].as_str() {
                            let mut out = r.push(text);
                            if !chunk["choices"][0]["finish_reason"].is_null() {
                                out.push_str(&r.finish());
                            }
                            chunk["choices"][0]["delta"]["content"] = json!(out);
                        } else if !chunk["choices"][0]["finish_reason"].is_null() {
                            let rest = r.finish();
                            if !rest.is_empty() {
                                chunk["choices"][0]["delta"]["content"] = json!(rest);
                            }
                        }
                    }
                    Some((Ok(chunk), (chunks, restorer, audit, usage)))
                }
                Some(Err(e)) => {
                    audit.write("broken", &usage).await;
                    Some((Err(e), (chunks, restorer, audit, usage)))
                }
                None => {
                    audit.write("ok", &usage).await;
                    None
                }
            }
        },
    ))
}

/// Puts redacted values back into a whole answer's text and call arguments.
pub(super) fn restore_answer(answer: &mut Value, redaction: &Redaction) {
    let Some(choices) = answer["choices"].as_array_mut() else {
        return;
    };
    for choice in choices {
        let message = &mut choice["message"];
        if let Some(text) = message["content"].as_str() {
            message["content"] = json!(redaction.restore(text));
        }
        if let Some(calls) = message["tool_calls"].as_array_mut() {
            for call in calls {
                if let Some(args) = call["function"]["arguments"].as_str() {
                    call["function"]["arguments"] = json!(redaction.restore(args));
                }
            }
        }
    }
}
