//! `POST /api/v1/lint`: pasted requirements linted without a document.

use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::Identity;
use crate::http::extract::ApiJson;
use crate::http::AppError;
use crate::srs::model::LintReport;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LintRequest {
    /// Requirements, one per line.
    pub text: String,
}

/// Longest text `POST /api/v1/lint` takes, in characters.
const MAX_LINT_CHARS: usize = 200_000;

/// Lints pasted requirements, one per line; spans index the whole text.
#[utoipa::path(post, path = "/api/v1/lint", tag = "srs", request_body = LintRequest,
    responses((status = 200, body = LintReport), (status = 400)))]
pub async fn lint_text(
    _who: Identity,
    ApiJson(req): ApiJson<LintRequest>,
) -> Result<Json<LintReport>, AppError> {
    if req.text.chars().count() > MAX_LINT_CHARS {
        return Err(AppError::invalid(
            "text",
            format!("`text` is longer than {MAX_LINT_CHARS} characters"),
        ));
    }
    let report = tokio::task::spawn_blocking(move || crate::srs::lint::lint_text(&req.text))
        .await
        .map_err(|e| AppError::Internal(format!("lint task: {e}")))?;
    Ok(Json(report))
}
