//! `/api/v1/projects` and `/api/v1/projects/{pid}`.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;

use serde_json::json;

use super::{Member, Need, NewMember, NewProject, Project, ProjectChanges};
use crate::app::AppState;
use crate::audit::{self, Actor};
use crate::auth::{Action, Identity};
use crate::http::extract::ApiJson;
use crate::http::routes::Routes;
use crate::http::AppError;
use crate::store::{new_id, Cursor, Page};
use utoipa_axum::routes;

pub fn router() -> Routes {
    Routes::new()
        .api(routes!(list, create))
        .api(routes!(show, update, remove))
        .api(routes!(list_members, add_member))
        .api(routes!(remove_member))
}

/// Projects, newest first.
#[utoipa::path(get, path = "/api/v1/projects", tag = "projects", params(Cursor),
    responses((status = 200, body = Page<Project>)))]
pub async fn list(
    State(s): State<AppState>,
    who: Identity,
    Query(c): Query<Cursor>,
) -> Result<Json<Page<Project>>, AppError> {
    let rows = super::list(&s.store.pool, &who, c.after(), c.limit()).await?;
    Ok(Json(Page::from_rows(rows, c.limit(), |p| &p.id)))
}

#[utoipa::path(post, path = "/api/v1/projects", tag = "projects", request_body = NewProject,
    responses((status = 201, body = Project), (status = 400, description = "invalid field")))]
pub async fn create(
    State(s): State<AppState>,
    who: Identity,
    ApiJson(body): ApiJson<NewProject>,
) -> Result<(StatusCode, Json<Project>), AppError> {
    who.require(Action::CreateProject)?;
    let name = crate::store::text_field("name", &body.name, true, 200)?;
    let description = crate::store::text_field("description", &body.description, false, 4000)?;
    let id = new_id();
    let mut tx = crate::store::write_tx(&s.store.pool).await?;
    sqlx::query("INSERT INTO projects (id, name, description) VALUES (?1, ?2, ?3)")
        .bind(&id)
        .bind(&name)
        .bind(&description)
        .execute(&mut *tx)
        .await?;
    // The creator is the first member.
    super::add_member(&mut *tx, &id, &who.user_id).await?;
    tx.commit().await?;
    audit::record(
        &s.store.pool,
        Actor::from(&who),
        "project.create",
        Some(&id),
        json!({"name": name}),
    )
    .await;
    Ok((
        StatusCode::CREATED,
        Json(super::get(&s.store.pool, &id).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/projects/{pid}", params(("pid" = String, Path)), tag = "projects",
    responses((status = 200, body = Project), (status = 404)))]
pub async fn show(
    State(s): State<AppState>,
    who: Identity,
    Path(pid): Path<String>,
) -> Result<Json<Project>, AppError> {
    super::access(&s.store.pool, &who, &pid, Need::Read).await?;
    Ok(Json(super::get(&s.store.pool, &pid).await?))
}

#[utoipa::path(patch, path = "/api/v1/projects/{pid}", params(("pid" = String, Path)), tag = "projects", request_body = ProjectChanges,
    responses((status = 200, body = Project), (status = 404)))]
pub async fn update(
    State(s): State<AppState>,
    who: Identity,
    Path(pid): Path<String>,
    ApiJson(body): ApiJson<ProjectChanges>,
) -> Result<Json<Project>, AppError> {
    super::access(&s.store.pool, &who, &pid, Need::Write).await?;
    let current = super::get(&s.store.pool, &pid).await?;
    let name = match &body.name {
        Some(n) => crate::store::text_field("name", n, true, 200)?,
        None => current.name,
    };
    let description = match &body.description {
        Some(d) => crate::store::text_field("description", d, false, 4000)?,
        None => current.description,
    };
    let policy_change = body.data_policy.is_some() || body.providers.is_some();
    if policy_change && !who.may(Action::ManageSettings) {
        return Err(AppError::Forbidden(
            "Only administrators set a project's data policy".into(),
        ));
    }
    if body.retention_days.is_some() && !who.may(Action::ManageSettings) {
        return Err(AppError::Forbidden(
            "Only administrators set a project's retention".into(),
        ));
    }
    let retention_days = match body.retention_days {
        Some(days) => days.map(i64::from),
        None => current.retention_days,
    };
    let data_policy = body
        .data_policy
        .clone()
        .unwrap_or(current.data_policy.clone());
    let providers = match (data_policy.as_str(), &body.providers) {
        ("local_only", Some(p)) if !p.is_empty() => {
            return Err(AppError::invalid(
                "providers",
                "A `local_only` project uses no provider; set `data_policy` to `upstream`",
            ))
        }
        ("local_only", _) => Vec::new(),
        ("upstream", Some(p)) => p.clone(),
        ("upstream", None) => current.providers.0.clone(),
        (other, _) => {
            return Err(AppError::invalid(
                "data_policy",
                format!("`{other}` is not a data policy; use `local_only` or `upstream`"),
            ))
        }
    };
    if let Some(unknown) = providers
        .iter()
        .find(|p| s.generation.upstreams().get(p).is_none())
    {
        return Err(AppError::invalid(
            "providers",
            format!("`{unknown}` is not a configured provider"),
        ));
    }
    if data_policy == "upstream" && providers.is_empty() {
        return Err(AppError::invalid(
            "providers",
            "An `upstream` project names the providers it may use",
        ));
    }
    sqlx::query(
        "UPDATE projects SET name = ?2, description = ?3, data_policy = ?4, providers = ?5,
         retention_days = ?6, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?1",
    )
    .bind(&pid)
    .bind(&name)
    .bind(&description)
    .bind(&data_policy)
    .bind(sqlx::types::Json(&providers))
    .bind(retention_days)
    .execute(&s.store.pool)
    .await?;
    let mut details = if policy_change {
        json!({"name": name, "data_policy": data_policy, "providers": providers})
    } else {
        json!({"name": name})
    };
    if body.retention_days.is_some() {
        details["retention_days"] = json!(retention_days);
    }
    audit::record(
        &s.store.pool,
        Actor::from(&who),
        "project.update",
        Some(&pid),
        details,
    )
    .await;
    Ok(Json(super::get(&s.store.pool, &pid).await?))
}

/// Deletes the project with everything in it: documents, chunks, vectors,
/// stored files, conversations.
#[utoipa::path(delete, path = "/api/v1/projects/{pid}", params(("pid" = String, Path)), tag = "projects",
    responses((status = 204), (status = 404)))]
pub async fn remove(
    State(s): State<AppState>,
    who: Identity,
    Path(pid): Path<String>,
) -> Result<StatusCode, AppError> {
    super::access(&s.store.pool, &who, &pid, Need::Manage).await?;
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
    audit::record(
        &s.store.pool,
        Actor::from(&who),
        "project.delete",
        Some(&pid),
        json!({}),
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

/// The project's members with their roles.
#[utoipa::path(get, path = "/api/v1/projects/{pid}/members", params(("pid" = String, Path)), tag = "projects",
    responses((status = 200, body = Page<Member>), (status = 404)))]
pub async fn list_members(
    State(s): State<AppState>,
    who: Identity,
    Path(pid): Path<String>,
) -> Result<Json<Page<Member>>, AppError> {
    super::access(&s.store.pool, &who, &pid, Need::Read).await?;
    Ok(Json(Page::all(
        super::members(&s.store.pool, &pid, None).await?,
    )))
}

/// Adds a user (by name) to the project.
#[utoipa::path(post, path = "/api/v1/projects/{pid}/members", params(("pid" = String, Path)), tag = "projects",
    request_body = NewMember, responses((status = 201, body = Member), (status = 403), (status = 404)))]
pub async fn add_member(
    State(s): State<AppState>,
    who: Identity,
    Path(pid): Path<String>,
    ApiJson(body): ApiJson<NewMember>,
) -> Result<(StatusCode, Json<Member>), AppError> {
    let pool = &s.store.pool;
    super::access(pool, &who, &pid, Need::Manage).await?;
    let user = crate::auth::users::named(pool, body.name.trim()).await?;
    super::add_member(pool, &pid, &user.id).await?;
    audit::record(
        pool,
        Actor::from(&who),
        "project.member_add",
        Some(&pid),
        json!({"user": user.name}),
    )
    .await;
    let member = super::members(pool, &pid, Some(&user.id))
        .await?
        .pop()
        .ok_or_else(|| AppError::Internal("the member just added is missing".into()))?;
    Ok((StatusCode::CREATED, Json(member)))
}

/// Removes a member; 404 if the user is not one.
#[utoipa::path(delete, path = "/api/v1/projects/{pid}/members/{uid}", params(("pid" = String, Path), ("uid" = String, Path)),
    tag = "projects", responses((status = 204), (status = 403), (status = 404)))]
pub async fn remove_member(
    State(s): State<AppState>,
    who: Identity,
    Path((pid, uid)): Path<(String, String)>,
) -> Result<StatusCode, AppError> {
    let pool = &s.store.pool;
    super::access(pool, &who, &pid, Need::Manage).await?;
    let gone = sqlx::query("DELETE FROM project_members WHERE project_id = ?1 AND user_id = ?2")
        .bind(&pid)
        .bind(&uid)
        .execute(pool)
        .await?
        .rows_affected();
    if gone == 0 {
        return Err(AppError::NotFound(format!(
            "No member with user id `{uid}`"
        )));
    }
    audit::record(
        pool,
        Actor::from(&who),
        "project.member_remove",
        Some(&pid),
        json!({"user_id": uid}),
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}
