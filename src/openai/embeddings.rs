//! `POST /v1/embeddings`: one string or a list; `encoding_format` float or base64
//! (little-endian f32, as OpenAI sends it). Batches run off the async runtime.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine as _;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::app::AppState;
use crate::auth::Identity;
use crate::generation::route::Caller;
use crate::generation::Embedded;
use crate::http::extract::ApiJson;
use crate::http::AppError;

#[derive(Debug, Deserialize)]
pub struct EmbeddingRequest {
    model: String,
    input: Input,
    encoding_format: Option<String>,
    dimensions: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Input {
    One(String),
    Many(Vec<String>),
    Tokens(Vec<serde_json::Value>),
}

/// A `provider/model` id is passed to that provider; any other is ours.
pub async fn create(
    State(s): State<AppState>,
    who: Identity,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, AppError> {
    let req: EmbeddingRequest = super::typed(&body)?;
    if let Some(target) = super::upstream::named_target(&s, &who, &req.model)? {
        let caller = Caller {
            user: who.name.clone(),
            address: who.address.clone(),
            project: None,
            role: "api",
        };
        let answer = s.generation.embed_upstream(&target, &body, &caller).await?;
        let mut res = Json(answer).into_response();
        super::upstream::served_by(&mut res, &target.served_by());
        return Ok(res);
    }
    let embedder = s.generation.embedder(Some(&req.model)).await?;
    let inputs = match req.input {
        Input::One(t) => vec![t],
        Input::Many(v) => v,
        Input::Tokens(items) => {
            let n = items.len();
            return Err(AppError::invalid(
                "input",
                format!("Token-id input ({n} items) is not supported; send text"),
            ));
        }
    };
    if inputs.is_empty() {
        return Err(AppError::invalid("input", "`input` must not be empty"));
    }
    let max = s.config.engine.max_embedding_inputs;
    if inputs.len() > max {
        return Err(AppError::invalid(
            "input",
            format!("At most {max} inputs per request, got {}", inputs.len()),
        ));
    }
    let base64 = match req.encoding_format.as_deref() {
        None | Some("float") => false,
        Some("base64") => true,
        Some(other) => {
            return Err(AppError::invalid(
                "encoding_format",
                format!("Unknown encoding_format `{other}`; use float or base64"),
            ))
        }
    };
    if let Some(d) = req.dimensions {
        if d != embedder.dimensions() as i64 {
            return Err(AppError::invalid(
                "dimensions",
                format!(
                    "This model only produces {} dimensions",
                    embedder.dimensions()
                ),
            ));
        }
    }
    let Embedded {
        vectors,
        tokens: counts,
    } = s.generation.embed(&embedder, inputs, true).await?;

    let tokens: usize = counts.iter().sum();
    let data: Vec<Value> = vectors
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let embedding = if base64 {
                let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
                json!(base64::engine::general_purpose::STANDARD.encode(bytes))
            } else {
                json!(v)
            };
            json!({"object": "embedding", "index": i, "embedding": embedding})
        })
        .collect();
    let mut res = Json(json!({
        "object": "list",
        "data": data,
        "model": req.model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }))
    .into_response();
    super::upstream::served_by(&mut res, &format!("local/{}", req.model));
    Ok(res)
}
