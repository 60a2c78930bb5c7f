//! Wireframes as versioned documents (`crate::versioned`): the row keeps the
//! description and the SRS document it was sketched from; each version holds
//! the whole screen tree as JSON with the change request that made it.

use serde::Serialize;
use sqlx::SqlitePool;
use utoipa::ToSchema;

use super::diff::{self, Diff};
use super::model::{Screen, Wireframe};
use crate::versioned::{self, Column, Document, Error, Loaded, WIREFRAMES};

/// The wireframe row's own columns.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Extra {
    pub description: String,
    pub srs_id: Option<String>,
}

pub type Record = versioned::Record<Extra>;

/// A wireframe as listed in the gallery.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Summary {
    pub id: String,
    pub project_id: String,
    pub title: String,
    pub version: i64,
    pub screens: Vec<String>,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, ToSchema)]
pub struct VersionInfo {
    pub version: i64,
    /// The change request that made this version (empty for the first).
    pub request: String,
    pub created_by: Option<String>,
    pub created_at: String,
}

/// Wireframes to the generic versioned routes.
pub struct Wireframes;

impl Document for Wireframes {
    const TABLES: &'static versioned::Tables = &WIREFRAMES;
    const AUDIT: &'static str = "wireframe";
    type Extra = Extra;
    type Body = Vec<Screen>;
    type View = Wireframe;
    type Version = VersionInfo;
    type Diff = Diff;

    fn view(loaded: Loaded<Extra, Vec<Screen>>) -> Wireframe {
        Wireframe {
            id: loaded.record.id,
            project_id: loaded.record.project_id,
            title: loaded.record.title,
            version: loaded.version,
            screens: loaded.body,
        }
    }

    fn diff(a: &Wireframe, b: &Wireframe) -> Diff {
        diff::diff(a, b)
    }
}

pub async fn record(pool: &SqlitePool, wid: &str) -> Result<Record, Error> {
    versioned::record(pool, &WIREFRAMES, wid).await
}

/// Stores a generated wireframe at version 1, in one transaction.
pub async fn create(
    pool: &SqlitePool,
    project_id: &str,
    title: &str,
    description: &str,
    srs_id: Option<&str>,
    screens: &[Screen],
    created_by: Option<&str>,
) -> Result<String, Error> {
    let extra = [Column::Text(description), Column::OptionalText(srs_id)];
    versioned::create(
        pool,
        &WIREFRAMES,
        project_id,
        title,
        &extra,
        &screens,
        "",
        created_by,
    )
    .await
}

/// The wireframe at `version` (the current one if `None`).
pub async fn load(pool: &SqlitePool, wid: &str, version: Option<i64>) -> Result<Wireframe, Error> {
    Ok(Wireframes::view(
        versioned::load(pool, &WIREFRAMES, wid, version).await?,
    ))
}

/// Stores `screens` as the version after `base_version`; a conflict if
/// another version was saved since.
pub async fn commit(
    pool: &SqlitePool,
    wid: &str,
    base_version: i64,
    screens: &[Screen],
    request: &str,
    created_by: Option<&str>,
) -> Result<i64, Error> {
    let base = Some(base_version);
    versioned::commit(
        pool,
        &WIREFRAMES,
        wid,
        base,
        None,
        &screens,
        request,
        created_by,
    )
    .await
}

/// The project's wireframes at their current versions, newest first.
pub async fn list(
    pool: &SqlitePool,
    project_id: &str,
    after: &str,
    limit: i64,
) -> Result<Vec<Summary>, Error> {
    let rows =
        versioned::list::<Extra, Vec<Screen>>(pool, &WIREFRAMES, project_id, after, limit).await?;
    Ok(rows
        .into_iter()
        .map(|row| Summary {
            screens: row.body.iter().map(|s| s.title.clone()).collect(),
            id: row.record.id,
            project_id: row.record.project_id,
            title: row.record.title,
            version: row.record.current_version,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
        .collect())
}
