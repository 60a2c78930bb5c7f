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
