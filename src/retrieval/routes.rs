//! Documents (upload, list, show, delete) and project search.

use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::UtoipaMethodRouterExt;
use utoipa_axum::routes;

use serde_json::json;

use super::documents::{self, Document};
use super::ingest::{self, Accepted, Ingest};
use super::search::{self, Index, SearchHit};
use super::Library;

use crate::app::AppState;
use crate::audit::{self, Actor};
use crate::auth::Identity;
use crate::http::routes::Routes;
use crate::http::AppError;
use crate::projects::{access, access_within, Need};
use crate::store::{Cursor, Page};

/// Where documents live, from the application's state.
pub fn library(s: &AppState) -> Library {
    Library {
        pool: s.store.pool.clone(),
        vectors: s.vectors.clone(),
        files: s.files.clone(),
        jobs: s.jobs.clone(),
    }
}

/// What a search reads, from the application's state.
pub fn index(s: &AppState) -> Index<'_> {
    Index {
        pool: &s.store.pool,
        vectors: &s.vectors,
        generation: &s.generation,
    }
}

/// What ingest works with, from the application's state.
pub fn ingest(s: &AppState) -> Ingest {
    Ingest {
        library: library(s),
        uploads: s.uploads.clone(),
        generation: s.generation.clone(),
        metrics: s.metrics.clone(),
        chunk_tokens: s.config.documents.chunk_tokens,
        chunk_overlap: s.config.documents.chunk_overlap,
    }
}

pub fn router(max_upload_bytes: usize) -> Routes {
    Routes::new()
        .api(routes!(list, upload).layer(DefaultBodyLimit::max(
            // Room for the multipart framing around the file itself.
            max_upload_bytes.saturating_add(64 * 1024),
        )))
        .api(routes!(show, remove))
        .api(routes!(search_project))
}

#[utoipa::path(get, path = "/api/v1/projects/{pid}/documents", tag = "documents", params(("pid" = String, Path), Cursor),
    responses((status = 200, body = Page<Document>), (status = 404)))]
pub async fn list(
    State(s): State<AppState>,
    who: Identity,
    Path(pid): Path<String>,
    Query(c): Query<Cursor>,
) -> Result<Json<Page<Document>>, AppError> {
    access(&s.store.pool, &who, &pid, Need::Read).await?;
    let rows = documents::list(&s.store.pool, &pid, c.after(), c.limit()).await?;
    Ok(Json(Page::from_rows(rows, c.limit(), |d| &d.id)))
}

/// The multipart body: one part named `file`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct Upload {
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// Uploads a document (PDF, DOCX, Markdown, text, HTML or CSV, recognised by
/// its bytes). 202 with the ingest job; 200 when the same content is already
/// in the project.
#[utoipa::path(post, path = "/api/v1/projects/{pid}/documents", params(("pid" = String, Path)), tag = "documents",
    request_body(content = Upload, content_type = "multipart/form-data"),
    responses((status = 202, body = Accepted), (status = 200, body = Accepted, description = "duplicate"),
        (status = 413, description = "file too large"), (status = 415, description = "unsupported type"),
        (status = 422, description = "empty, corrupt, protected or unreadable file")))]
pub async fn upload(
    State(s): State<AppState>,
    who: Identity,
    Path(pid): Path<String>,
    mut form: Multipart,
) -> Result<(StatusCode, Json<Accepted>), AppError> {
    access(&s.store.pool, &who, &pid, Need::Write).await?;
    let limit = s.config.documents.max_upload_bytes;
    let multipart_error = |e: axum::extract::multipart::MultipartError| {
        if let Some(timeout) = crate::http::guard::body_error(&e) {
            timeout
        } else if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::PayloadTooLarge(limit)
        } else {
            AppError::invalid(
                "file",
                format!("Malformed multipart body: {}", e.body_text()),
            )
        }
    };
    while let Some(mut field) = form.next_field().await.map_err(multipart_error)? {
        if field.name() != Some("file") {
            continue;
        }
        let name = field.file_name().unwrap_or("document").to_string();
        let mut bytes = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
            if bytes.len() + chunk.len() > limit {
                return Err(AppError::PayloadTooLarge(limit));
            }
            bytes.extend_from_slice(&chunk);
        }
        let size = bytes.len();
        let (new, accepted) = ingest::accept(&ingest(&s), &pid, &name, bytes).await?;
        if new {
            let details =
                json!({"project_id": pid, "name": name, "bytes": size, "job_id": accepted.job_id});
            audit::record(
                &s.store.pool,
                Actor::from(&who),
                "document.upload",
                Some(&accepted.id),
                details,
            )
            .await;
        }
        let status = if new {
            StatusCode::ACCEPTED
        } else {
            StatusCode::OK
        };
        return Ok((status, Json(accepted)));
    }
    Err(AppError::invalid(
        "file",
        "The multipart body has no `file` part",
    ))
}

#[utoipa::path(get, path = "/api/v1/documents/{did}", params(("did" = String, Path)), tag = "documents",
    responses((status = 200, body = Document), (status = 404)))]
pub async fn show(
    State(s): State<AppState>,
    who: Identity,
    Path(did): Path<String>,
) -> Result<Json<Document>, AppError> {
    let doc = documents::get(&s.store.pool, &did).await?;
    in_project(&s, &who, &doc, Need::Read).await?;
    Ok(Json(doc))
}

/// The document's project check, answering 404 for the document itself
/// when the caller may not see its project.
async fn in_project(
    s: &AppState,
    who: &Identity,
    doc: &Document,
    need: Need,
) -> Result<(), AppError> {
    access_within(
        &s.store.pool,
        who,
        &doc.project_id,
        need,
        "document",
        &doc.id,
    )
    .await?;
    Ok(())
}

/// Deletes the document, its chunks and vectors, and the stored original.
#[utoipa::path(delete, path = "/api/v1/documents/{did}", params(("did" = String, Path)), tag = "documents",
    responses((status = 204), (status = 404)))]
pub async fn remove(
    State(s): State<AppState>,
    who: Identity,
    Path(did): Path<String>,
) -> Result<StatusCode, AppError> {
    let doc = documents::get(&s.store.pool, &did).await?;
    in_project(&s, &who, &doc, Need::Write).await?;
    documents::delete(&library(&s), &doc).await?;
    let details = json!({"project_id": doc.project_id, "name": doc.name});
    audit::record(
        &s.store.pool,
        Actor::from(&who),
        "document.delete",
        Some(&did),
        details,
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// What to look for.
    pub q: String,
    /// Results (1–50, default 8).
    pub k: Option<usize>,
}

#[utoipa::path(get, path = "/api/v1/projects/{pid}/search", tag = "documents", params(("pid" = String, Path), SearchQuery),
    responses((status = 200, body = Page<SearchHit>), (status = 400), (status = 404)))]
pub async fn search_project(
    State(s): State<AppState>,
    who: Identity,
    Path(pid): Path<String>,
    Query(q): Query<SearchQuery>,
) -> Result<Json<Page<SearchHit>>, AppError> {
    access(&s.store.pool, &who, &pid, Need::Read).await?;
    let text = q.q.trim();
    if text.is_empty() {
        return Err(AppError::invalid("q", "`q` must not be empty"));
    }
    if text.chars().count() > 2000 {
        return Err(AppError::invalid("q", "`q` is longer than 2000 characters"));
    }
    let k = q.k.unwrap_or(8);
    if !(1..=50).contains(&k) {
        return Err(AppError::invalid("k", "`k` must be between 1 and 50"));
    }
    Ok(Json(Page::all(
        search::search(index(&s), &pid, text, k).await?,
    )))
}
