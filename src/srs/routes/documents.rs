//! An SRS document as a whole: list, generate, ask clarifying questions,
//! show, rename, delete, versions, diff, lint, export, regenerate a section.

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use super::{audit, handles, visible};
use crate::app::AppState;
use crate::auth::Identity;
use crate::http::extract::ApiJson;
use crate::http::AppError;
use crate::jobs::Started;
use crate::projects::{access, Need};
use crate::srs::diff::Diff;
use crate::srs::export::{self, Format};
use crate::srs::model::{Clarification, LintReport, Srs};
use crate::srs::runs::{self, NewSrs, QuestionsRequest};
use crate::srs::store::{self, Documents, Summary, VersionInfo};
use crate::store::{Cursor, Page};
use crate::versioned::routes as versioned;

#[utoipa::path(get, path = "/api/v1/projects/{pid}/srs", tag = "srs", params(("pid" = String, Path), Cursor),
    responses((status = 200, body = Page<Summary>), (status = 404)))]
pub async fn list(
    State(s): State<AppState>,
    who: Identity,
    Path(pid): Path<String>,
    Query(c): Query<Cursor>,
) -> Result<Json<Page<Summary>>, AppError> {
    access(&s.store.pool, &who, &pid, Need::Read).await?;
    let rows = store::list(&s.store.pool, &pid, c.after(), c.limit()).await?;
    Ok(Json(Page::from_rows(rows, c.limit(), |d| &d.id)))
}

/// Starts generating an SRS document from a brief and the project's
/// documents; the job's `result.srs_id` names it once stored.
#[utoipa::path(post, path = "/api/v1/projects/{pid}/srs", tag = "srs", params(("pid" = String, Path)), request_body = NewSrs,
    responses((status = 202, body = Started), (status = 400), (status = 404), (status = 503, description = "model not loaded")))]
pub async fn create(
    State(s): State<AppState>,
    who: Identity,
    Path(pid): Path<String>,
    ApiJson(req): ApiJson<NewSrs>,
) -> Result<(StatusCode, Json<Started>), AppError> {
    access(&s.store.pool, &who, &pid, Need::Write).await?;
    let started = runs::start(&handles(&s), &pid, req, &who.name).await?;
    audit(
        &s,
        &who,
        "srs.generate",
        &started.job_id,
        json!({"project_id": pid}),
    )
    .await;
    Ok((StatusCode::ACCEPTED, Json(started)))
}

#[derive(Serialize, ToSchema)]
pub struct Questions {
    pub clarifications: Vec<Clarification>,
}

/// Up to five clarifying questions about a brief, each with choices and a
/// recommended one; send them back answered in `clarifications` when
/// starting the generation.
#[utoipa::path(post, path = "/api/v1/projects/{pid}/srs/questions", tag = "srs", params(("pid" = String, Path)),
    request_body = QuestionsRequest, responses((status = 200, body = Questions), (status = 400), (status = 404)))]
pub async fn questions(
    State(s): State<AppState>,
    who: Identity,
    Path(pid): Path<String>,
    ApiJson(req): ApiJson<QuestionsRequest>,
) -> Result<Json<Questions>, AppError> {
    access(&s.store.pool, &who, &pid, Need::Write).await?;
    let clarifications = runs::questions(&handles(&s), &pid, req, &who.name).await?;
    Ok(Json(Questions { clarifications }))
}

#[utoipa::path(get, path = "/api/v1/srs/{sid}", tag = "srs", params(("sid" = String, Path)),
    responses((status = 200, body = Srs), (status = 404)))]
pub async fn show(
    State(s): State<AppState>,
    who: Identity,
    Path(sid): Path<String>,
) -> Result<Json<Srs>, AppError> {
    Ok(Json(
        versioned::show::<Documents>(&s, &who, &sid, None).await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SrsChanges {
    pub title: String,
    pub base_version: Option<i64>,
}

/// Renames the document (a new version).
#[utoipa::path(patch, path = "/api/v1/srs/{sid}", tag = "srs", params(("sid" = String, Path)), request_body = SrsChanges,
    responses((status = 200, body = Srs), (status = 400), (status = 404), (status = 409)))]
pub async fn update(
    State(s): State<AppState>,
    who: Identity,
    Path(sid): Path<String>,
    ApiJson(req): ApiJson<SrsChanges>,
) -> Result<Json<Srs>, AppError> {
    let rec = visible(&s, &who, &sid, Need::Write).await?;
    let title = crate::store::text_field("title", &req.title, true, 200)?;
    let body = store::body(&s.store.pool, &sid, rec.current_version).await?;
    store::commit(
        &s.store.pool,
        &sid,
        req.base_version,
        Some(&title),
        &body,
        "renamed",
        Some(&who.name),
    )
    .await?;
    Ok(Json(store::load(&s.store.pool, &sid, None).await?))
}

#[utoipa::path(delete, path = "/api/v1/srs/{sid}", tag = "srs", params(("sid" = String, Path)),
    responses((status = 204), (status = 404)))]
pub async fn remove(
    State(s): State<AppState>,
    who: Identity,
    Path(sid): Path<String>,
) -> Result<StatusCode, AppError> {
    versioned::remove::<Documents>(&s, &who, &sid).await
}

#[utoipa::path(get, path = "/api/v1/srs/{sid}/versions", tag = "srs", params(("sid" = String, Path)),
    responses((status = 200, body = Page<VersionInfo>), (status = 404)))]
pub async fn versions(
    State(s): State<AppState>,
    who: Identity,
    Path(sid): Path<String>,
) -> Result<Json<Page<VersionInfo>>, AppError> {
    Ok(Json(
        versioned::versions::<Documents>(&s, &who, &sid).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/srs/{sid}/versions/{n}", tag = "srs", params(("sid" = String, Path), ("n" = i64, Path)),
    responses((status = 200, body = Srs), (status = 404)))]
pub async fn version(
    State(s): State<AppState>,
    who: Identity,
    Path((sid, n)): Path<(String, i64)>,
) -> Result<Json<Srs>, AppError> {
    Ok(Json(
        versioned::show::<Documents>(&s, &who, &sid, Some(n)).await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DiffQuery {
    pub from: i64,
    /// Defaults to the current version.
    pub to: Option<i64>,
}

/// What changed between two versions, requirement by requirement.
#[utoipa::path(get, path = "/api/v1/srs/{sid}/diff", tag = "srs", params(("sid" = String, Path), DiffQuery),
    responses((status = 200, body = Diff), (status = 404)))]
pub async fn compare(
    State(s): State<AppState>,
    who: Identity,
    Path(sid): Path<String>,
    Query(q): Query<DiffQuery>,
) -> Result<Json<Diff>, AppError> {
    let diff = versioned::compare::<Documents>(&s, &who, &sid, q.from, q.to).await?;
    Ok(Json(diff))
}

#[utoipa::path(get, path = "/api/v1/srs/{sid}/lint", tag = "srs", params(("sid" = String, Path)),
    responses((status = 200, body = LintReport), (status = 404)))]
pub async fn lint(
    State(s): State<AppState>,
    who: Identity,
    Path(sid): Path<String>,
) -> Result<Json<LintReport>, AppError> {
    let srs = versioned::show::<Documents>(&s, &who, &sid, None).await?;
    Ok(Json(srs.lint))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// `md`, `html`, `pdf`, `docx` or `trace.csv`.
    pub format: String,
    /// Defaults to the current version.
    pub version: Option<i64>,
}

/// The document as a file: Markdown, self-contained HTML, PDF, DOCX, or the
/// traceability matrix as CSV.
#[utoipa::path(get, path = "/api/v1/srs/{sid}/export", tag = "srs", params(("sid" = String, Path), ExportQuery),
    responses((status = 200, description = "the file", content_type = "application/octet-stream"), (status = 400), (status = 404)))]
pub async fn export_document(
    State(s): State<AppState>,
    who: Identity,
    Path(sid): Path<String>,
    Query(q): Query<ExportQuery>,
) -> Result<Response, AppError> {
    let rec = visible(&s, &who, &sid, Need::Read).await?;
    let format = Format::parse(&q.format).ok_or_else(|| {
        AppError::invalid(
            "format",
            format!(
                "Unknown format `{}`; expected md, html, pdf, docx or trace.csv",
                q.format
            ),
        )
    })?;
    let srs = store::load(&s.store.pool, &sid, q.version).await?;
    let project = crate::projects::get(&s.store.pool, &rec.project_id).await?;
    let screens = crate::trace::screens_by_requirement(&s.store.pool, &rec.project_id).await?;
    let bytes =
        tokio::task::spawn_blocking(move || export::render(&srs, format, &project.name, &screens))
            .await
            .map_err(|e| AppError::Internal(format!("export task: {e}")))?
            .map_err(|e| AppError::Internal(format!("export: {e}")))?;
    let version = q.version.unwrap_or(rec.current_version);
    let name = format!(
        "{}-v{version}.{}",
        file_stem(&rec.title),
        format.extension()
    );
    let details = json!({"project_id": rec.project_id, "format": q.format, "version": version});
    audit(&s, &who, "srs.export", &sid, details).await;
    Ok((
        [
            (header::CONTENT_TYPE, format.content_type().to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// A file name from a title: ASCII letters, digits and dashes only, so the
/// header needs no quoting rules and no client mangles it.
fn file_stem(title: &str) -> String {
    let mut out = String::new();
    for c in title.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
        if out.len() >= 60 {
            break;
        }
    }
    match out.trim_end_matches('-') {
        "" => "srs".to_string(),
        stem => stem.to_string(),
    }
}

/// Writes one section again (its requirements get new ids) as a new version.
#[utoipa::path(post, path = "/api/v1/srs/{sid}/sections/{key}/regenerate", tag = "srs",
    params(("sid" = String, Path), ("key" = String, Path)),
    responses((status = 202, body = Started), (status = 400), (status = 404)))]
pub async fn regenerate(
    State(s): State<AppState>,
    who: Identity,
    Path((sid, key)): Path<(String, String)>,
) -> Result<(StatusCode, Json<Started>), AppError> {
    let rec = visible(&s, &who, &sid, Need::Write).await?;
    let started = runs::regenerate(&handles(&s), &sid, &key, &who.name).await?;
    let details = json!({"project_id": rec.project_id, "section": key, "job_id": started.job_id});
    audit(&s, &who, "srs.regenerate", &sid, details).await;
    Ok((StatusCode::ACCEPTED, Json(started)))
}

#[cfg(test)]
mod tests {
    use super::file_stem;

    #[test]
    fn export_file_names_are_plain_ascii() {
        assert_eq!(
            file_stem("Expense approval: v2 “final”"),
            "expense-approval-v2-final"
        );
        assert_eq!(file_stem("“”"), "srs");
    }
}
