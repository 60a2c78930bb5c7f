//! The OpenAI-compatible surface (`/v1/...`) and token counting (`/api/v1/tokenize`),
//! thin handlers over the inference engine.

mod chat;
mod completions;
mod embeddings;
mod models;
mod params;
mod response_format;
mod stream;
mod tokenize;
mod tools;
pub mod upstream;

use axum::routing::{get, post};

use crate::http::routes::Routes;

pub fn router() -> Routes {
    Routes::new()
        .route("/v1/models", get(models::list))
        .route("/v1/models/{id}", get(models::get))
        .route("/v1/chat/completions", post(chat::create))
        .route("/v1/completions", post(completions::create))
        .route("/v1/embeddings", post(embeddings::create))
        .route("/api/v1/tokenize", post(tokenize::tokenize))
        .route("/api/v1/detokenize", post(tokenize::detokenize))
        .api(utoipa_axum::routes!(upstream::list))
}

/// Seconds since the Unix epoch, for the `created` fields.
fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A random id such as `chatcmpl-3f9a...`.
fn new_id(prefix: &str) -> String {
    format!(
        "{prefix}-{:016x}{:08x}",
        rand::random::<u64>(),
        rand::random::<u32>()
    )
}

/// A request body read as `T`, with axum's errors: 400 naming the field.
/// For handlers that also pass the body on as it came (to an upstream).
fn typed<T: serde::de::DeserializeOwned>(
    body: &serde_json::Value,
) -> Result<T, crate::http::AppError> {
    serde_path_to_error::deserialize(body).map_err(|e| {
        let path = e.path().to_string();
        crate::http::AppError::BadRequest {
            message: format!("Invalid request body: {path}: {}", e.inner()),
            param: Some(path),
        }
    })
}
