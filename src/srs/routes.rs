//! `/api/v1/projects/{pid}/srs`, `/api/v1/srs/{sid}/…`, `/api/v1/lint` and
//! `/api/v1/srs-template`: generate, read, edit, compare, lint and export.

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use super::diff::{Diff, Placed};
use super::edit::{self, NewRequirement, RequirementChanges};
use super::export::{self, Format};
use super::model::{Clarification, LintReport, Srs};
use super::runs::{self, NewSrs, QuestionsRequest};
use super::store::{self, Documents, Record, Summary, VersionInfo};
use super::template::{self, Outline, TemplateVersion};
use crate::audit::{self, Actor};
use crate::auth::{Action, Identity};
use crate::http::extract::ApiJson;
use crate::http::routes::Routes;
use crate::http::{AppError, AppState};
use crate::jobs::Started;
use crate::projects::{access, Need};
use crate::store::{Cursor, Page};
use crate::versioned::routes as versioned;

pub fn router() -> Routes {
    Routes::new()
        .route("/api/v1/projects/{pid}/srs", get(list).post(create))
        .route("/api/v1/projects/{pid}/srs/questions", post(questions))
        .route("/api/v1/srs/{sid}", get(show).patch(update).delete(remove))
        .route("/api/v1/srs/{sid}/versions", get(versions))
        .route("/api/v1/srs/{sid}/versions/{n}", get(version))
        .route("/api/v1/srs/{sid}/diff", get(compare))
        .route("/api/v1/srs/{sid}/lint", get(lint))
        .route("/api/v1/srs/{sid}/export", get(export_document))
        .route(
            "/api/v1/srs/{sid}/requirements",
            get(requirements).post(add_requirement),
        )
        .route(
            "/api/v1/srs/{sid}/requirements/{rid}",
            get(requirement)
                .patch(update_requirement)
                .delete(delete_requirement),
        )
        .route(
            "/api/v1/srs/{sid}/sections/{key}/regenerate",
            post(regenerate),
        )
        .route("/api/v1/lint", post(lint_text))
        .route(
            "/api/v1/srs-template",
            get(show_template).put(save_template),
        )
        .route("/api/v1/srs-template/versions", get(template_versions))
}

/// The document's record, once `who` may use its project for `need`; 404
/// for the document itself otherwise.
async fn visible(s: &AppState, who: &Identity, sid: &str, need: Need) -> Result<Record, AppError> {
    versioned::visible::<Documents>(s, who, sid, need).await
}

async fn audit(
    s: &AppState,
    who: &Identity,
    action: &str,
    target: &str,
    details: serde_json::Value,
) {
    audit::record(
        &s.store.pool,
        Actor::from(who),
        action,
        Some(target),
        details,
    )
    .await;
}

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
    let started = runs::start(&s, &pid, req, &who.name).await?;
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
    let clarifications = runs::questions(&s, &pid, req).await?;
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
    let title = crate::projects::text_field("title", &req.title, true, 200)?;
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

#[utoipa::path(get, path = "/api/v1/srs/{sid}/requirements", tag = "srs", params(("sid" = String, Path)),
    responses((status = 200, body = Page<Placed>), (status = 404)))]
pub async fn requirements(
    State(s): State<AppState>,
    who: Identity,
    Path(sid): Path<String>,
) -> Result<Json<Page<Placed>>, AppError> {
    let srs = versioned::show::<Documents>(&s, &who, &sid, None).await?;
    let placed = srs
        .requirements()
        .map(|(sec, r)| Placed {
            section: sec.key.clone(),
            requirement: r.clone(),
        })
        .collect();
    Ok(Json(Page::all(placed)))
}

#[utoipa::path(get, path = "/api/v1/srs/{sid}/requirements/{rid}", tag = "srs", params(("sid" = String, Path), ("rid" = String, Path)),
    responses((status = 200, body = Placed), (status = 404)))]
pub async fn requirement(
    State(s): State<AppState>,
    who: Identity,
    Path((sid, rid)): Path<(String, String)>,
) -> Result<Json<Placed>, AppError> {
    let srs = versioned::show::<Documents>(&s, &who, &sid, None).await?;
    let found = srs
        .requirements()
        .find(|(_, r)| r.id == rid)
        .map(|(sec, r)| Placed {
            section: sec.key.clone(),
            requirement: r.clone(),
        });
    found
        .map(Json)
        .ok_or_else(|| AppError::NotFound(format!("No requirement `{rid}` in this document")))
}

/// Applies an edit to the current body and stores it as the next version.
async fn edit_document(
    s: &AppState,
    who: &Identity,
    sid: &str,
    base_version: Option<i64>,
    change: impl FnOnce(&mut store::Body, &Outline) -> Result<String, AppError>,
) -> Result<Srs, AppError> {
    let rec = visible(s, who, sid, Need::Write).await?;
    let mut body = store::body(&s.store.pool, sid, rec.current_version).await?;
    let outline = template::get(&s.store.pool, rec.extra.template_version)
        .await?
        .outline;
    let note = change(&mut body, &outline)?;
    // Derived sections (verification) follow the requirements they list.
    super::generate::fill_derived(s, &mut body, &outline).await?;
    let base = base_version.or(Some(rec.current_version));
    let version = store::commit(
        &s.store.pool,
        sid,
        base,
        None,
        &body,
        &note,
        Some(&who.name),
    )
    .await?;
    audit(
        s,
        who,
        "srs.edit",
        sid,
        json!({"version": version, "change": note}),
    )
    .await;
    Ok(store::load(&s.store.pool, sid, None).await?)
}

/// Adds a requirement to a section; it gets the section's next id.
#[utoipa::path(post, path = "/api/v1/srs/{sid}/requirements", tag = "srs", params(("sid" = String, Path)), request_body = NewRequirement,
    responses((status = 201, body = Srs), (status = 400), (status = 404), (status = 409)))]
pub async fn add_requirement(
    State(s): State<AppState>,
    who: Identity,
    Path(sid): Path<String>,
    ApiJson(req): ApiJson<NewRequirement>,
) -> Result<(StatusCode, Json<Srs>), AppError> {
    let base = req.base_version;
    let srs = edit_document(&s, &who, &sid, base, |body, outline| {
        edit::add(body, outline, req).map(|id| format!("added {id}"))
    })
    .await?;
    Ok((StatusCode::CREATED, Json(srs)))
}

/// Changes fields of a requirement; its id stays.
#[utoipa::path(patch, path = "/api/v1/srs/{sid}/requirements/{rid}", tag = "srs",
    params(("sid" = String, Path), ("rid" = String, Path)), request_body = RequirementChanges,
    responses((status = 200, body = Srs), (status = 400), (status = 404), (status = 409)))]
pub async fn update_requirement(
    State(s): State<AppState>,
    who: Identity,
    Path((sid, rid)): Path<(String, String)>,
    ApiJson(req): ApiJson<RequirementChanges>,
) -> Result<Json<Srs>, AppError> {
    let base = req.base_version;
    let srs = edit_document(&s, &who, &sid, base, |body, _| {
        edit::update(body, &rid, req)
    })
    .await?;
    Ok(Json(srs))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BaseVersion {
    /// The version the deletion was decided on; 409 if the document moved on.
    pub base_version: Option<i64>,
}

#[utoipa::path(delete, path = "/api/v1/srs/{sid}/requirements/{rid}", tag = "srs",
    params(("sid" = String, Path), ("rid" = String, Path), BaseVersion),
    responses((status = 200, body = Srs), (status = 404), (status = 409)))]
pub async fn delete_requirement(
    State(s): State<AppState>,
    who: Identity,
    Path((sid, rid)): Path<(String, String)>,
    Query(q): Query<BaseVersion>,
) -> Result<Json<Srs>, AppError> {
    let srs = edit_document(&s, &who, &sid, q.base_version, |body, _| {
        edit::remove(body, &rid).map(|()| format!("deleted {rid}"))
    })
    .await?;
    Ok(Json(srs))
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
    let started = runs::regenerate(&s, &sid, &key, &who.name).await?;
    let details = json!({"project_id": rec.project_id, "section": key, "job_id": started.job_id});
    audit(&s, &who, "srs.regenerate", &sid, details).await;
    Ok((StatusCode::ACCEPTED, Json(started)))
}

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
    let report = tokio::task::spawn_blocking(move || super::lint::lint_text(&req.text))
        .await
        .map_err(|e| AppError::Internal(format!("lint task: {e}")))?;
    Ok(Json(report))
}

#[utoipa::path(get, path = "/api/v1/srs-template", tag = "srs",
    responses((status = 200, body = TemplateVersion)))]
pub async fn show_template(
    State(s): State<AppState>,
    _who: Identity,
) -> Result<Json<TemplateVersion>, AppError> {
    Ok(Json(template::current(&s.store.pool).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTemplate {
    pub sections: Vec<template::OutlineSection>,
    #[serde(default)]
    pub note: String,
}

/// Saves a new version of the outline new documents follow (administrators).
#[utoipa::path(put, path = "/api/v1/srs-template", tag = "srs", request_body = NewTemplate,
    responses((status = 200, body = TemplateVersion), (status = 400), (status = 403)))]
pub async fn save_template(
    State(s): State<AppState>,
    who: Identity,
    ApiJson(req): ApiJson<NewTemplate>,
) -> Result<Json<TemplateVersion>, AppError> {
    who.require(Action::ManageSettings)?;
    let note = crate::projects::text_field("note", &req.note, false, 500)?;
    let saved = template::save(
        &s.store.pool,
        &Outline {
            sections: req.sections,
        },
        &note,
        Some(&who.name),
    )
    .await?;
    let target = saved.version.to_string();
    audit(&s, &who, "srs.template", &target, json!({"note": note})).await;
    Ok(Json(saved))
}

#[utoipa::path(get, path = "/api/v1/srs-template/versions", tag = "srs",
    responses((status = 200, body = Page<TemplateVersion>)))]
pub async fn template_versions(
    State(s): State<AppState>,
    _who: Identity,
) -> Result<Json<Page<TemplateVersion>>, AppError> {
    Ok(Json(Page::all(template::versions(&s.store.pool).await?)))
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
