//! `POST /api/v1/tokenize` and `/api/v1/detokenize`: count tokens before sending.
//! Special tokens written in the text (`<|im_start|>`) are parsed the way a
//! raw `/v1/completions` prompt and the chat template's own markers are, and
//! BOS is added when the model adds it. (In a chat message's content the same
//! text is ordinary tokens.)

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::app::AppState;
use crate::http::extract::ApiJson;
use crate::http::AppError;

#[derive(Debug, Deserialize)]
pub struct TokenizeRequest {
    model: String,
    text: String,
}

#[derive(Debug, Deserialize)]
pub struct DetokenizeRequest {
    model: String,
    ids: Vec<u32>,
}

pub async fn tokenize(
    State(s): State<AppState>,
    ApiJson(req): ApiJson<TokenizeRequest>,
) -> Result<Json<Value>, AppError> {
    let model = s.generation.model_named(&req.model).await?;
    let ids = model
        .encode(&req.text)
        .map_err(|e| AppError::invalid("text", e))?;
    Ok(Json(json!({"ids": ids, "count": ids.len()})))
}

pub async fn detokenize(
    State(s): State<AppState>,
    ApiJson(req): ApiJson<DetokenizeRequest>,
) -> Result<Json<Value>, AppError> {
    let model = s.generation.model_named(&req.model).await?;
    let vocab = model.tokenizer.vocab_size();
    if let Some(bad) = req.ids.iter().find(|&&id| id as usize >= vocab) {
        return Err(AppError::invalid(
            "ids",
            format!("Token id {bad} is outside the vocabulary of {vocab}"),
        ));
    }
    let text = model
        .tokenizer
        .decode(&req.ids, false)
        .map_err(|e| AppError::invalid("ids", e.to_string()))?;
    Ok(Json(json!({"text": text})))
}
