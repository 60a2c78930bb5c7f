//! `/api/v1/projects` and `/api/v1/projects/{pid}`.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};

use super::{NewProject, Project, ProjectChanges};
use crate::http::extract::ApiJson;
use crate::http::{AppError, AppState};
use crate::store::{new_id, Cursor, Page};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/projects", get(list).post(create))
        .route(
            "/api/v1/projects/{pid}",
            get(show).patch(update).delete(remove),
        )
}

/// Projects, newest first.
#[utoipa::path(get, path = "/api/v1/projects", tag = "projects", params(Cursor),
    responses((status = 200, body = Page<Project>)))]
pub async fn list(
    State(s): State<AppState>,
    Query(c): Query<Cursor>,
) -> Result<Json<Page<Project>>, AppError> {
    let rows = super::list(&s.store.pool, c.after(), c.limit()).await?;
    Ok(Json(Page::from_rows(rows, c.limit(), |p| &p.id)))
}

#[utoipa::path(post, path = "/api/v1/projects", tag = "projects", request_body = NewProject,
    responses((status = 201, body = Project), (status = 400, description = "invalid field")))]
pub async fn create(
    State(s): State<AppState>,
    ApiJson(body): ApiJson<NewProject>,
) -> Result<(StatusCode, Json<Project>), AppError> {
    let name = super::text_field("name", &body.name, true, 200)?;
    let description = super::text_field("description", &body.description, false, 4000)?;
    let id = new_id();
    sqlx::query("INSERT INTO projects (id, name, description) VALUES (?1, ?2, ?3)")
        .bind(&id)
        .bind(&name)
        .bind(&description)
        .execute(&s.store.pool)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(super::get(&s.store.pool, &id).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/projects/{pid}", params(("pid" = String, Path)), tag = "projects",
    responses((status = 200, body = Project), (status = 404)))]
pub async fn show(
    State(s): State<AppState>,
    Path(pid): Path<String>,
) -> Result<Json<Project>, AppError> {
    Ok(Json(super::get(&s.store.pool, &pid).await?))
}

#[utoipa::path(patch, path = "/api/v1/projects/{pid}", params(("pid" = String, Path)), tag = "projects", request_body = ProjectChanges,
    responses((status = 200, body = Project), (status = 404)))]
pub async fn update(
    State(s): State<AppState>,
    Path(pid): Path<String>,
    ApiJson(body): ApiJson<ProjectChanges>,
) -> Result<Json<Project>, AppError> {
    let current = super::get(&s.store.pool, &pid).await?;
    let name = match &body.name {
        Some(n) => super::text_field("name", n, true, 200)?,
        None => current.name,
    };
    let description = match &body.description {
        Some(d) => super::text_field("description", d, false, 4000)?,
        None => current.description,
    };
    sqlx::query(
        "UPDATE projects SET name = ?2, description = ?3,
         updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?1",
    )
    .bind(&pid)
    .bind(&name)
    .bind(&description)
    .execute(&s.store.pool)
    .await?;
    Ok(Json(super::get(&s.store.pool, &pid).await?))
}

/// Deletes the project with everything in it: documents, chunks, vectors,
/// stored files, conversations.
#[utoipa::path(delete, path = "/api/v1/projects/{pid}", params(("pid" = String, Path)), tag = "projects",
    responses((status = 204), (status = 404)))]
pub async fn remove(
    State(s): State<AppState>,
    Path(pid): Path<String>,
) -> Result<StatusCode, AppError> {
    super::ensure(&s.store.pool, &pid).await?;
    s.jobs.cancel_project(&pid);
    let documents: Vec<String> =
        sqlx::query_scalar("SELECT id FROM documents WHERE project_id = ?1")
            .bind(&pid)
            .fetch_all(&s.store.pool)
            .await?;
    sqlx::query("DELETE FROM projects WHERE id = ?1")
        .bind(&pid)
        .execute(&s.store.pool)
        .await?;
    // SQLite is the record and is already consistent; vectors and files left
    // behind by a failure here are swept at the next start.
    if let Err(e) = s.vectors.delete_project(&pid).await {
        tracing::warn!(project = %pid, error = %e, "vectors of a deleted project remain; swept at next start");
    }
    for d in documents {
        s.files.remove(&d);
    }
    Ok(StatusCode::NO_CONTENT)
}
