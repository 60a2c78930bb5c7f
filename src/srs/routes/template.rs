//! `/api/v1/srs-template`: the outline new documents follow, its versions,
//! and saving a new one (administrators).

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::audit;
use crate::app::AppState;
use crate::auth::{Action, Identity};
use crate::http::extract::ApiJson;
use crate::http::AppError;
use crate::srs::template::{self, Outline, TemplateVersion};
use crate::store::Page;

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
    let note = crate::store::text_field("note", &req.note, false, 500)?;
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
