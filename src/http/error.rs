//! The one place where errors become HTTP responses.
//!
//! Every error body has the OpenAI shape `{"error": {"message", "type", "param",
//! "code"}}` plus `details`, which makes it the `/api/v1` shape
//! `{"error": {"code", "message", "details"}}` at the same time. A 5xx body never
//! carries internals: those go to the log.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::inference::chat_model::SubmitError;
use crate::inference::registry::LookupError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{message}")]
    BadRequest {
        param: Option<String>,
        message: String,
    },
    #[error("{0}")]
    ContextLengthExceeded(String),
    #[error("{0}")]
    ModelNotFound(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    ModelUnavailable(String),
    #[error("Request body is larger than the limit of {0} bytes")]
    PayloadTooLarge(usize),
    #[error("{0}")]
    Overloaded(String),
    /// The upload is not a kind of document we read (decided by its bytes).
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// Well-formed request, but the content cannot be used (corrupt file, ...);
    /// `code` is a stable string clients can branch on.
    #[error("{message}")]
    Unprocessable { code: &'static str, message: String },
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Forbidden(String),
    /// No credentials, or credentials that do not work.
    #[error("{0}")]
    Unauthorized(String),
    /// Over a rate limit; `retry_after` in seconds.
    #[error("{message}")]
    RateLimited { retry_after: u64, message: String },
    #[error("{0}")]
    RequestTimeout(String),
    /// A cookie request without its session's CSRF token; `code` says which.
    #[error("{1}")]
    Csrf(&'static str, String),
    /// A `Host` this server does not answer to.
    #[error("{0}")]
    MisdirectedRequest(String),
    /// An upstream provider refused the request (its 4xx, passed on).
    #[error("{message}")]
    UpstreamRefused { status: u16, message: String },
    /// Every target of the route failed; the last failure.
    #[error("{0}")]
    UpstreamUnavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    pub fn invalid(param: &str, message: impl Into<String>) -> Self {
        Self::BadRequest {
            param: Some(param.to_string()),
            message: message.into(),
        }
    }

    fn parts(&self) -> (StatusCode, &'static str, &'static str) {
        use AppError::*;
        match self {
            BadRequest { .. } => (
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                "invalid_request",
            ),
            ContextLengthExceeded(_) => (
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                "context_length_exceeded",
            ),
            ModelNotFound(_) => (
                StatusCode::NOT_FOUND,
                "invalid_request_error",
                "model_not_found",
            ),
            NotFound(_) => (StatusCode::NOT_FOUND, "invalid_request_error", "not_found"),
            ModelUnavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "server_error",
                "model_unavailable",
            ),
            PayloadTooLarge(_) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "invalid_request_error",
                "payload_too_large",
            ),
            Overloaded(_) => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limit_error",
                "overloaded",
            ),
            UnsupportedMediaType(_) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "invalid_request_error",
                "unsupported_media_type",
            ),
            Unprocessable { code, .. } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_request_error",
                code,
            ),
            Conflict(_) => (StatusCode::CONFLICT, "invalid_request_error", "conflict"),
            Forbidden(_) => (StatusCode::FORBIDDEN, "invalid_request_error", "forbidden"),
            Unauthorized(_) => (
                StatusCode::UNAUTHORIZED,
                "invalid_request_error",
                "unauthorized",
            ),
            RateLimited { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limit_error",
                "rate_limited",
            ),
            Csrf(code, _) => (StatusCode::FORBIDDEN, "invalid_request_error", code),
            RequestTimeout(_) => (
                StatusCode::REQUEST_TIMEOUT,
                "invalid_request_error",
                "request_timeout",
            ),
            MisdirectedRequest(_) => (
                StatusCode::MISDIRECTED_REQUEST,
                "invalid_request_error",
                "host_not_allowed",
            ),
            UpstreamRefused { status, .. } => (
                StatusCode::from_u16(*status)
                    .ok()
                    // The upstream refusing our key is not the client's doing.
                    .filter(|s| s.is_client_error() && !matches!(s.as_u16(), 401 | 403 | 407))
                    .unwrap_or(StatusCode::BAD_GATEWAY),
                "invalid_request_error",
                "upstream_refused",
            ),
            UpstreamUnavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "server_error",
                "upstream_unavailable",
            ),
            Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "internal_error",
            ),
        }
    }

    /// The JSON error object, also sent as an SSE event when a stream fails.
    pub fn body(&self) -> serde_json::Value {
        let (_, kind, code) = self.parts();
        let message = match self {
            AppError::Internal(_) => {
                "The server hit an internal error; it has been logged".to_string()
            }
            other => other.to_string(),
        };
        let param = match self {
            AppError::BadRequest { param, .. } => param.clone(),
            _ => None,
        };
        json!({"error": {"message": message, "type": kind, "param": param, "code": code, "details": null}})
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, _, _) = self.parts();
        if let AppError::Internal(detail) = &self {
            tracing::error!(%detail, "internal error");
        }
        let mut res = (status, axum::Json(self.body())).into_response();
        let headers = res.headers_mut();
        match &self {
            AppError::RateLimited { retry_after, .. } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after));
            }
            AppError::Overloaded(_) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            AppError::Unauthorized(_) => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"bacopilot\""),
                );
            }
            _ => {}
        }
        res
    }
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        AppError::Internal(format!("database: {e}"))
    }
}

impl From<crate::store::Error> for AppError {
    fn from(e: crate::store::Error) -> Self {
        match e {
            crate::store::Error::NotFound(m) => AppError::NotFound(m),
            crate::store::Error::Database(e) => e.into(),
        }
    }
}

impl From<lancedb::Error> for AppError {
    fn from(e: lancedb::Error) -> Self {
        AppError::Internal(format!("vector store: {e}"))
    }
}

impl From<LookupError> for AppError {
    fn from(e: LookupError) -> Self {
        match e {
            LookupError::NotFound(_) => AppError::ModelNotFound(e.to_string()),
            LookupError::Loading(_) | LookupError::Failed(..) => {
                AppError::ModelUnavailable(e.to_string())
            }
            LookupError::NotChat(_) | LookupError::NotEmbedding(_) => {
                AppError::invalid("model", e.to_string())
            }
        }
    }
}

impl From<crate::inference::lifecycle::LifecycleError> for AppError {
    fn from(e: crate::inference::lifecycle::LifecycleError) -> Self {
        use crate::inference::lifecycle::LifecycleError as E;
        match e {
            E::Lookup(l) => l.into(),
            E::Busy(..) | E::Pinned(_) => AppError::Conflict(e.to_string()),
            E::Io(_) => AppError::Internal(e.to_string()),
        }
    }
}

impl From<crate::generation::Error> for AppError {
    fn from(e: crate::generation::Error) -> Self {
        use crate::generation::Error;
        match e {
            Error::Lookup(e) => e.into(),
            Error::Submit(e) => e.into(),
            Error::Constraint(m) => AppError::invalid("response_format", m),
            Error::Cancelled => AppError::Internal("generation cancelled".into()),
            Error::Internal(m) => AppError::Internal(m),
            Error::NoTarget(m) => AppError::ModelUnavailable(m),
            Error::Unavailable(m) => AppError::UpstreamUnavailable(m),
            Error::Refused { status, message } => AppError::UpstreamRefused { status, message },
        }
    }
}

impl From<SubmitError> for AppError {
    fn from(e: SubmitError) -> Self {
        match e {
            SubmitError::QueueFull(_) => AppError::Overloaded(format!("{e}; retry later")),
            SubmitError::EngineStopped(_) => AppError::Internal(e.to_string()),
        }
    }
}

// jobs, store fields, auth, projects, audit, retrieval, chat

/// Work that needs the database and the model stops on either kind of
/// failure. The message is stored on the job for its user to read, so an
/// internal error (a database's, a store's, with paths in it) is logged and
/// stored as a code and a sentence.
impl From<AppError> for crate::jobs::Stop {
    fn from(e: AppError) -> Self {
        use crate::jobs::Stop;
        match e {
            AppError::Internal(detail) => Stop::failed(&detail, true),
            e => Stop::failed(&e, false),
        }
    }
}

impl From<crate::store::Invalid> for AppError {
    fn from(e: crate::store::Invalid) -> Self {
        AppError::BadRequest {
            param: Some(e.param),
            message: e.message,
        }
    }
}

impl From<crate::auth::Error> for AppError {
    fn from(e: crate::auth::Error) -> Self {
        use crate::auth::Error;
        match e {
            Error::Store(e) => e.into(),
            Error::Invalid(e) => e.into(),
            Error::Conflict(m) => AppError::Conflict(m),
            Error::Busy(_) => AppError::Overloaded(e.to_string()),
            Error::Internal(detail) => AppError::Internal(detail),
        }
    }
}

impl From<crate::auth::Denied> for AppError {
    fn from(e: crate::auth::Denied) -> Self {
        AppError::Forbidden(e.to_string())
    }
}

impl From<crate::projects::Error> for AppError {
    fn from(e: crate::projects::Error) -> Self {
        match e {
            crate::projects::Error::Store(e) => e.into(),
            crate::projects::Error::Denied(e) => e.into(),
        }
    }
}

impl From<crate::audit::Error> for AppError {
    fn from(e: crate::audit::Error) -> Self {
        use crate::audit::Error;
        match e {
            Error::Database(e) => e.into(),
            Error::Invalid(e) => e.into(),
            Error::Csv(_) => AppError::Internal(e.to_string()),
        }
    }
}

impl From<crate::retrieval::Error> for AppError {
    fn from(e: crate::retrieval::Error) -> Self {
        use crate::retrieval::Error;
        match e {
            Error::Store(e) => e.into(),
            Error::Vectors(e) => e.into(),
            Error::Model(e) => e.into(),
            Error::Empty => AppError::Unprocessable {
                code: "empty_document",
                message: e.to_string(),
            },
            Error::Refused(e) => refusal(e),
            Error::UploadRace => AppError::Conflict(e.to_string()),
            Error::Internal(detail) => AppError::Internal(detail),
        }
    }
}

/// The client's error for a file we will not ingest.
fn refusal(e: crate::retrieval::extract::ExtractError) -> AppError {
    use crate::retrieval::extract::ExtractError::*;
    let message = e.to_string();
    let code = match e {
        Unsupported(_) => return AppError::UnsupportedMediaType(message),
        Empty => "empty_document",
        Encrypted => "encrypted_document",
        Corrupt(_) => "corrupt_document",
        TooLarge(_) => "document_too_large",
        NoText(_) => "no_text",
        Failed(_) => "extraction_failed",
    };
    AppError::Unprocessable { code, message }
}

impl From<crate::chat::Error> for AppError {
    fn from(e: crate::chat::Error) -> Self {
        use crate::chat::Error;
        match e {
            Error::Store(e) => e.into(),
            Error::Invalid(e) => e.into(),
            Error::TooLong(m) => AppError::ContextLengthExceeded(m),
            Error::Model(e) => e.into(),
            Error::Queue(e) => e.into(),
            Error::Retrieval(e) => e.into(),
            Error::Route(m) => AppError::UpstreamUnavailable(m),
            Error::Internal(detail) => AppError::Internal(detail),
        }
    }
}

// ---- versioned, srs, wireframe, trace ----------------------------------------

impl From<crate::versioned::Error> for AppError {
    fn from(e: crate::versioned::Error) -> Self {
        use crate::versioned::Error;
        match e {
            Error::Store(e) => e.into(),
            Error::Conflict(_) | Error::Raced => AppError::Conflict(e.to_string()),
            Error::Corrupt(detail) => AppError::Internal(format!("stored {detail}")),
        }
    }
}

impl From<crate::trace::Error> for AppError {
    fn from(e: crate::trace::Error) -> Self {
        use crate::trace::Error;
        match e {
            Error::Versioned(e) => e.into(),
            Error::OtherProject(_) => AppError::invalid("srs_id", e.to_string()),
            Error::NoSrs | Error::UnknownRequirement { .. } => {
                AppError::invalid("requirement_ids", e.to_string())
            }
        }
    }
}

impl From<crate::srs::Error> for AppError {
    fn from(e: crate::srs::Error) -> Self {
        use crate::srs::Error;
        match e {
            Error::Versioned(e) => e.into(),
            Error::Store(e) => e.into(),
            Error::Invalid { field, message } => AppError::invalid(&field, message),
            Error::NotFound(m) => AppError::NotFound(m),
            Error::Broken(detail) => AppError::Internal(detail),
            Error::Model(e) => e.into(),
            Error::Generation(message) => AppError::Unprocessable {
                code: "generation_failed",
                message,
            },
            Error::Cancelled => AppError::Internal("cancelled".into()),
        }
    }
}

impl From<crate::wireframe::Error> for AppError {
    fn from(e: crate::wireframe::Error) -> Self {
        use crate::wireframe::Error;
        match e {
            Error::Versioned(e) => e.into(),
            Error::Trace(e) => e.into(),
            Error::Invalid { field, message } => AppError::invalid(&field, message),
            Error::Model(e) => e.into(),
            Error::Database(e) => e.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::{Stop, INTERNAL_FAILURE};

    fn message(stop: Stop) -> String {
        match stop {
            Stop::Failed(m) => m,
            Stop::Cancelled => panic!("not a failure"),
        }
    }

    #[test]
    fn an_internal_error_is_stored_as_a_code_and_a_sentence_without_its_detail() {
        let detail = "database: unable to open /var/lib/bacopilot/bacopilot.db";
        let stored = message(Stop::from(AppError::Internal(detail.into())));
        assert_eq!(stored, INTERNAL_FAILURE);
        assert!(!stored.contains("/var"), "{stored}");
    }

    #[test]
    fn an_error_meant_for_the_user_is_stored_as_it_is() {
        let e = AppError::ModelUnavailable("the model is still loading".into());
        assert_eq!(message(Stop::from(e)), "the model is still loading");
    }
}
