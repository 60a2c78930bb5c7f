//! The requirements of a document: read one or all, add, change, delete;
//! each edit is a new version.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;

use super::{audit, visible};
use crate::app::AppState;
use crate::auth::Identity;
use crate::http::extract::ApiJson;
use crate::http::AppError;
use crate::projects::Need;
use crate::srs::diff::Placed;
use crate::srs::edit::{self, NewRequirement, RequirementChanges};
use crate::srs::model::Srs;
use crate::srs::store::{self, Documents};
use crate::srs::template::{self, Outline};
use crate::store::Page;
use crate::versioned::routes as versioned;

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
    change: impl FnOnce(&mut store::Body, &Outline) -> Result<String, crate::srs::Error>,
) -> Result<Srs, AppError> {
    let rec = visible(s, who, sid, Need::Write).await?;
    let mut body = store::body(&s.store.pool, sid, rec.current_version).await?;
    let outline = template::get(&s.store.pool, rec.extra.template_version)
        .await?
        .outline;
    let note = change(&mut body, &outline)?;
    // Derived sections (verification) follow the requirements they list.
    crate::srs::generate::fill_derived(&s.store.pool, &mut body, &outline).await?;
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
