//! `/v1` requests answered by an upstream provider: a `provider/model` id,
//! or a local model our engine cannot take (queue full, not loaded) with
//! upstream targets in the chat chain. The body goes on as the client sent
//! it (its `model` replaced); the answer comes back in OpenAI's shapes with
//! `x-bacopilot-served-by` naming who answered.
//!
//! A stream that breaks after its first token ends with an error event
//! (`{"error": {"code": "upstream_unavailable", ...}}`) and `[DONE]`; it is
//! never switched to another target half-way.

use std::convert::Infallible;

use axum::http::HeaderValue;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures::StreamExt;
use serde_json::Value;

use crate::app::AppState;
use crate::auth::{Identity, Scope, Via};
use crate::generation::route::{Allowed, Caller, Target};
use crate::http::AppError;
use crate::upstream::Reply;

/// The header every `/v1` answer carries: `provider/model`, or
/// `local/<model>` for our engine.
pub const SERVED_BY: &str = "x-bacopilot-served-by";

/// What the caller's key lets `/v1` reach: a key of scope `local` is
/// restricted to our engine.
pub fn allowed(who: &Identity) -> Allowed {
    match &who.via {
        Via::Key {
            scope: Scope::Local,
            ..
        } => Allowed::LocalOnly,
        _ => Allowed::Any,
    }
}

/// The upstream target a `provider/model` id names, or `None` for a local id.
pub fn named_target(s: &AppState, who: &Identity, id: &str) -> Result<Option<Target>, AppError> {
    let Some((name, model)) = id.split_once('/') else {
        return Ok(None);
    };
    let Some(provider) = s.generation.upstreams().get(name) else {
        return Ok(None);
    };
    if allowed(who) == Allowed::LocalOnly {
        return Err(AppError::Forbidden(
            "This API key may use local models only".into(),
        ));
    }
    if !provider.serves(model) {
        return Err(AppError::ModelNotFound(format!(
            "The model `{id}` does not exist; `{name}` serves {}",
            provider.models().join(", ")
        )));
    }
    Ok(Some(Target::Upstream {
        provider: provider.clone(),
        model: model.to_string(),
    }))
}

/// Whether a local refusal may pass to the chat chain's upstream targets:
/// a full queue, a model not loaded, a prompt longer than its context.
pub fn fails_over(e: &AppError) -> bool {
    matches!(
        e,
        AppError::Overloaded(_)
            | AppError::ModelUnavailable(_)
            | AppError::ContextLengthExceeded(_)
    )
}

/// Sends a chat request along `targets` and answers with the first reply.
pub async fn chat(
    s: &AppState,
    who: &Identity,
    targets: &[Target],
    body: &Value,
) -> Result<Response, AppError> {
    let caller = Caller {
        user: who.name.clone(),
        address: who.address.clone(),
        project: None,
        role: "api",
    };
    let done = s.generation.call_upstreams(targets, body, &caller).await?;
    let mut res = match done.reply {
        Reply::Json(answer) => Json(answer).into_response(),
        Reply::Stream(chunks) => {
            let events = chunks
                .map(|chunk| match chunk {
                    Ok(c) => vec![SseEvent::default().data(c.to_string())],
                    Err(e) => vec![SseEvent::default()
                        .data(AppError::UpstreamUnavailable(e).body().to_string())],
                })
                .chain(futures::stream::once(async {
                    vec![SseEvent::default().data("[DONE]")]
                }))
                .flat_map(|events| {
                    futures::stream::iter(events.into_iter().map(Ok::<_, Infallible>))
                });
            Sse::new(events)
                .keep_alive(KeepAlive::default())
                .into_response()
        }
    };
    served_by(&mut res, &done.served_by);
    Ok(res)
}

/// Names who answered on a response.
pub fn served_by(res: &mut Response, who: &str) {
    if let Ok(v) = HeaderValue::from_str(who) {
        res.headers_mut().insert(SERVED_BY, v);
    }
}

/// `GET /api/v1/providers`: each configured provider, what it serves and
/// whether its breaker lets calls through (administrators; never a key).
#[utoipa::path(get, path = "/api/v1/providers", tag = "providers",
    responses((status = 200, description = "`{\"data\": [{\"name\", \"kind\", \"external\", \"models\", \"context_length\", \"up\", \"failures_in_a_row\", \"times_taken_out\"}]}`"), (status = 403)))]
pub async fn list(
    axum::extract::State(s): axum::extract::State<AppState>,
    who: Identity,
) -> Result<Json<Value>, AppError> {
    who.require(crate::auth::Action::ReadMetrics)?;
    let data: Vec<Value> = s
        .generation
        .upstreams()
        .all()
        .iter()
        .map(|p| {
            serde_json::json!({
                "name": p.name,
                "kind": p.kind,
                "external": p.external,
                "models": p.models(),
                "context_length": p.context_length,
                "up": p.breaker.closed(),
                "failures_in_a_row": p.breaker.failures(),
                "times_taken_out": p.breaker.times_opened(),
            })
        })
        .collect();
    Ok(Json(serde_json::json!({"object": "list", "data": data})))
}
