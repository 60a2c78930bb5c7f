//! `/api/v1/projects/{pid}/wireframes` and `/api/v1/wireframes/{wid}/…`:
//! generate, change, compare, preview and export.

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;

use super::diff::Diff;
use super::generate::{self, ChangeRequest, Handles, NewWireframe};
use super::model::Wireframe;
use super::render;
use super::store::{self, Summary, VersionInfo, Wireframes};
use crate::app::AppState;
use crate::audit::{self, Actor};
use crate::auth::Identity;
use crate::http::extract::ApiJson;
use crate::http::routes::Routes;
use crate::http::AppError;
use crate::jobs::Started;
use crate::projects::{access, Need};
use crate::store::{Cursor, Page};
use crate::versioned::routes as versioned;
use utoipa_axum::routes;

/// What the preview may do: show its own inline styles, nothing else; no
/// script even if some HTML got past the renderer, and only our own pages
/// may frame it. `sandbox` gives it an opaque origin as well.
pub const PREVIEW_CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; frame-ancestors 'self'; sandbox";

pub fn router() -> Routes {
    Routes::new()
        .api(routes!(list, create))
        .api(routes!(show, remove))
        .api(routes!(versions))
        .api(routes!(version))
        .api(routes!(compare))
        .api(routes!(change))
        .api(routes!(preview))
        .api(routes!(export))
}

/// What the wireframe jobs use, taken from the application state.
fn handles(s: &AppState) -> Handles {
    Handles {
        pool: s.store.pool.clone(),
        jobs: s.jobs.clone(),
        generation: s.generation.clone(),
        config: s.config.wireframes.clone(),
    }
}

#[utoipa::path(get, path = "/api/v1/projects/{pid}/wireframes", tag = "wireframes", params(("pid" = String, Path), Cursor),
    responses((status = 200, body = Page<Summary>), (status = 404)))]
pub async fn list(
    State(s): State<AppState>,
    who: Identity,
    Path(pid): Path<String>,
    Query(c): Query<Cursor>,
) -> Result<Json<Page<Summary>>, AppError> {
    access(&s.store.pool, &who, &pid, Need::Read).await?;
    let rows = store::list(&s.store.pool, &pid, c.after(), c.limit()).await?;
    Ok(Json(Page::from_rows(rows, c.limit(), |w| &w.id)))
}

/// Starts sketching a wireframe; the job's `result.wireframe_id` names it.
#[utoipa::path(post, path = "/api/v1/projects/{pid}/wireframes", tag = "wireframes", params(("pid" = String, Path)),
    request_body = NewWireframe, responses((status = 202, body = Started), (status = 400), (status = 404)))]
pub async fn create(
    State(s): State<AppState>,
    who: Identity,
    Path(pid): Path<String>,
    ApiJson(req): ApiJson<NewWireframe>,
) -> Result<(StatusCode, Json<Started>), AppError> {
    access(&s.store.pool, &who, &pid, Need::Write).await?;
    let started = generate::start(&handles(&s), &pid, req, &who.name).await?;
    let details = json!({"project_id": pid});
    audit::record(
        &s.store.pool,
        Actor::from(&who),
        "wireframe.generate",
        Some(&started.job_id),
        details,
    )
    .await;
    Ok((StatusCode::ACCEPTED, Json(started)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VersionQuery {
    /// Defaults to the current version.
    pub version: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/wireframes/{wid}", tag = "wireframes", params(("wid" = String, Path), VersionQuery),
    responses((status = 200, body = Wireframe), (status = 404)))]
pub async fn show(
    State(s): State<AppState>,
    who: Identity,
    Path(wid): Path<String>,
    Query(q): Query<VersionQuery>,
) -> Result<Json<Wireframe>, AppError> {
    Ok(Json(
        versioned::show::<Wireframes>(&s, &who, &wid, q.version).await?,
    ))
}

#[utoipa::path(delete, path = "/api/v1/wireframes/{wid}", tag = "wireframes", params(("wid" = String, Path)),
    responses((status = 204), (status = 404)))]
pub async fn remove(
    State(s): State<AppState>,
    who: Identity,
    Path(wid): Path<String>,
) -> Result<StatusCode, AppError> {
    versioned::remove::<Wireframes>(&s, &who, &wid).await
}

#[utoipa::path(get, path = "/api/v1/wireframes/{wid}/versions", tag = "wireframes", params(("wid" = String, Path)),
    responses((status = 200, body = Page<VersionInfo>), (status = 404)))]
pub async fn versions(
    State(s): State<AppState>,
    who: Identity,
    Path(wid): Path<String>,
) -> Result<Json<Page<VersionInfo>>, AppError> {
    Ok(Json(
        versioned::versions::<Wireframes>(&s, &who, &wid).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/wireframes/{wid}/versions/{n}", tag = "wireframes", params(("wid" = String, Path), ("n" = i64, Path)),
    responses((status = 200, body = Wireframe), (status = 404)))]
pub async fn version(
    State(s): State<AppState>,
    who: Identity,
    Path((wid, n)): Path<(String, i64)>,
) -> Result<Json<Wireframe>, AppError> {
    Ok(Json(
        versioned::show::<Wireframes>(&s, &who, &wid, Some(n)).await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DiffQuery {
    pub from: i64,
    /// Defaults to the current version.
    pub to: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/wireframes/{wid}/diff", tag = "wireframes", params(("wid" = String, Path), DiffQuery),
    responses((status = 200, body = Diff), (status = 404)))]
pub async fn compare(
    State(s): State<AppState>,
    who: Identity,
    Path(wid): Path<String>,
    Query(q): Query<DiffQuery>,
) -> Result<Json<Diff>, AppError> {
    let diff = versioned::compare::<Wireframes>(&s, &who, &wid, q.from, q.to).await?;
    Ok(Json(diff))
}

/// Starts a change request ("add a search box to the header"); the job's
/// result names the new version.
#[utoipa::path(post, path = "/api/v1/wireframes/{wid}/changes", tag = "wireframes", params(("wid" = String, Path)),
    request_body = ChangeRequest, responses((status = 202, body = Started), (status = 400), (status = 404)))]
pub async fn change(
    State(s): State<AppState>,
    who: Identity,
    Path(wid): Path<String>,
    ApiJson(req): ApiJson<ChangeRequest>,
) -> Result<(StatusCode, Json<Started>), AppError> {
    let rec = versioned::visible::<Wireframes>(&s, &who, &wid, Need::Write).await?;
    let request = req.request.clone();
    let started = generate::start_change(&handles(&s), &wid, req, &who.name).await?;
    let details =
        json!({"project_id": rec.project_id, "request": request, "job_id": started.job_id});
    audit::record(
        &s.store.pool,
        Actor::from(&who),
        "wireframe.change",
        Some(&wid),
        details,
    )
    .await;
    Ok((StatusCode::ACCEPTED, Json(started)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ScreenQuery {
    /// A screen's id (default: every screen).
    pub screen: Option<String>,
    pub version: Option<i64>,
}

/// The rendered HTML for the sandboxed preview frame.
#[utoipa::path(get, path = "/api/v1/wireframes/{wid}/preview", tag = "wireframes", params(("wid" = String, Path), ScreenQuery),
    responses((status = 200, content_type = "text/html"), (status = 404)))]
pub async fn preview(
    State(s): State<AppState>,
    who: Identity,
    Path(wid): Path<String>,
    Query(q): Query<ScreenQuery>,
) -> Result<Response, AppError> {
    let w = versioned::show::<Wireframes>(&s, &who, &wid, q.version).await?;
    let html = match &q.screen {
        Some(id) => render::screen_html(&w, id)
            .ok_or_else(|| AppError::NotFound(format!("No screen `{id}` in this wireframe")))?,
        None => render::html(&w),
    };
    let mut res = ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(PREVIEW_CSP),
    );
    h.insert(
        header::X_FRAME_OPTIONS,
        HeaderValue::from_static("SAMEORIGIN"),
    );
    Ok(res)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// `html`, `svg` (one screen: `screen`, default the first) or `zip`.
    pub format: String,
    pub screen: Option<String>,
    pub version: Option<i64>,
}

/// The wireframe as a single HTML file, one screen as SVG, or a zip of the flow.
#[utoipa::path(get, path = "/api/v1/wireframes/{wid}/export", tag = "wireframes", params(("wid" = String, Path), ExportQuery),
    responses((status = 200, description = "the file", content_type = "application/octet-stream"), (status = 400), (status = 404)))]
pub async fn export(
    State(s): State<AppState>,
    who: Identity,
    Path(wid): Path<String>,
    Query(q): Query<ExportQuery>,
) -> Result<Response, AppError> {
    let w = versioned::show::<Wireframes>(&s, &who, &wid, q.version).await?;
    let stem = format!("wireframe-v{}", w.version);
    let details = json!({"project_id": w.project_id, "format": q.format, "version": w.version, "screen": q.screen});
    let (ctype, name, bytes) = match q.format.as_str() {
        "html" => (
            "text/html; charset=utf-8",
            format!("{stem}.html"),
            render::html(&w).into_bytes(),
        ),
        "svg" => {
            let svgs = render::svgs(&w);
            let picked = match &q.screen {
                Some(id) => svgs.into_iter().find(|(sid, _)| sid == id),
                None => svgs.into_iter().next(),
            };
            let (sid, svg) = picked
                .ok_or_else(|| AppError::NotFound("No such screen in this wireframe".into()))?;
            let safe: String = sid
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '-' {
                        c
                    } else {
                        '-'
                    }
                })
                .collect();
            (
                "image/svg+xml",
                format!("{stem}-{safe}.svg"),
                svg.into_bytes(),
            )
        }
        "zip" => {
            let bytes = tokio::task::spawn_blocking(move || render::zip(&w))
                .await
                .map_err(|e| AppError::Internal(format!("export task: {e}")))?
                .map_err(|e| AppError::Internal(format!("zip export: {e}")))?;
            ("application/zip", format!("{stem}.zip"), bytes)
        }
        other => {
            return Err(AppError::invalid(
                "format",
                format!("Unknown format `{other}`; expected html, svg or zip"),
            ))
        }
    };
    audit::record(
        &s.store.pool,
        Actor::from(&who),
        "wireframe.export",
        Some(&wid),
        details,
    )
    .await;
    let mut res = (
        [
            (header::CONTENT_TYPE, ctype.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response();
    // Opened directly, the exported HTML runs under the same locked-down policy as the preview.
    res.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(PREVIEW_CSP),
    );
    Ok(res)
}
