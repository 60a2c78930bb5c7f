//! The handlers every versioned document has — show, versions, one version,
//! diff and delete — written once. Each checks that the caller may use the
//! document's project (a document in a project they cannot see is a 404 for
//! the document) and a deletion writes its audit row. The features keep
//! thin, documented handlers (their paths and OpenAPI entries) that call
//! these.

use axum::http::StatusCode;
use serde_json::json;

use super::{Document, Record};
use crate::app::AppState;
use crate::audit::{self, Actor};
use crate::auth::Identity;
use crate::http::AppError;
use crate::projects::{access_within, Need};
use crate::store::Page;

/// The document's record, once `who` may use its project for `need`.
pub async fn visible<D: Document>(
    s: &AppState,
    who: &Identity,
    id: &str,
    need: Need,
) -> Result<Record<D::Extra>, AppError> {
    let pool = &s.store.pool;
    let rec = super::record::<D::Extra>(pool, D::TABLES, id).await?;
    access_within(pool, who, &rec.project_id, need, D::TABLES.name, id).await?;
    Ok(rec)
}

/// The document at `version` (the current one if `None`).
pub async fn show<D: Document>(
    s: &AppState,
    who: &Identity,
    id: &str,
    version: Option<i64>,
) -> Result<D::View, AppError> {
    visible::<D>(s, who, id, Need::Read).await?;
    let loaded = super::load(&s.store.pool, D::TABLES, id, version).await?;
    Ok(D::view(loaded))
}

/// Every version, newest first.
pub async fn versions<D: Document>(
    s: &AppState,
    who: &Identity,
    id: &str,
) -> Result<Page<D::Version>, AppError> {
    visible::<D>(s, who, id, Need::Read).await?;
    let rows = super::versions(&s.store.pool, D::TABLES, id).await?;
    Ok(Page::all(rows))
}

/// What changed from version `from` to `to` (the current one if `None`).
pub async fn compare<D: Document>(
    s: &AppState,
    who: &Identity,
    id: &str,
    from: i64,
    to: Option<i64>,
) -> Result<D::Diff, AppError> {
    visible::<D>(s, who, id, Need::Read).await?;
    let pool = &s.store.pool;
    let a = D::view(super::load(pool, D::TABLES, id, Some(from)).await?);
    let b = D::view(super::load(pool, D::TABLES, id, to).await?);
    Ok(D::diff(&a, &b))
}

/// Deletes the document with its versions; the audit row (`<kind>.delete`)
/// keeps its project and title.
pub async fn remove<D: Document>(
    s: &AppState,
    who: &Identity,
    id: &str,
) -> Result<StatusCode, AppError> {
    let rec = visible::<D>(s, who, id, Need::Write).await?;
    super::delete(&s.store.pool, D::TABLES, id).await?;
    audit::record(
        &s.store.pool,
        Actor::from(who),
        &format!("{}.delete", D::AUDIT),
        Some(id),
        json!({"project_id": rec.project_id, "title": rec.title}),
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}
