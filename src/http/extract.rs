//! Extractors whose rejections go through [`AppError`], so a bad body gets the
//! same JSON error as everything else (axum's own are plain text).

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use super::error::AppError;
use crate::auth::Identity;

/// The caller that `guard::authenticate` put on the request; 401 on a public
/// route, which has none.
impl<S: Send + Sync> FromRequestParts<S> for Identity {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        parts
            .extensions
            .get::<Identity>()
            .cloned()
            .ok_or_else(|| AppError::Unauthorized("Sign in or send an API key".into()))
    }
}

/// `axum::Json` with JSON errors: 400 naming the field, 413 over the body limit.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let limit = req
            .extensions()
            .get::<BodyLimit>()
            .map(|l| l.0)
            .unwrap_or_default();
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(rejection) => Err(json_error(rejection, limit)),
        }
    }
}

/// The configured body limit, put in request extensions so errors can quote it.
#[derive(Clone, Copy)]
pub struct BodyLimit(pub usize);

fn json_error(rejection: JsonRejection, limit: usize) -> AppError {
    if let Some(timeout) = super::guard::body_error(&rejection) {
        return timeout;
    }
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return AppError::PayloadTooLarge(limit);
    }
    match rejection {
        JsonRejection::JsonDataError(e) => {
            // axum reports "Failed to deserialize ...: <path>: <problem>"; keep the useful tail.
            let text = e.body_text();
            let detail = text
                .split_once(": ")
                .map_or(text.as_str(), |(_, d)| d)
                .to_string();
            let param = detail.split_once(": ").map(|(p, _)| p.to_string());
            AppError::BadRequest {
                param,
                message: format!("Invalid request body: {detail}"),
            }
        }
        JsonRejection::JsonSyntaxError(e) => AppError::BadRequest {
            param: None,
            message: format!(
                "Request body is not valid JSON: {}",
                e.body_text().rsplit(": ").next().unwrap_or_default()
            ),
        },
        JsonRejection::MissingJsonContentType(_) => AppError::BadRequest {
            param: None,
            message: "Expected a JSON body with `Content-Type: application/json`".into(),
        },
        other => AppError::BadRequest {
            param: None,
            message: other.body_text(),
        },
    }
}
