//! SRS documents as versioned documents (`crate::versioned`): the row keeps
//! the brief and the template version it was written under; each version
//! holds the whole [`Body`] as JSON.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sqlx::SqlitePool;
use utoipa::ToSchema;

use super::diff::{self, Diff};
use super::model::{Clarification, Section, Srs};
use crate::versioned::{self, Column, Document, Error, Loaded, SRS};

/// What one version stores: the document without its identity and lint.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Body {
    pub sections: Vec<Section>,
    #[serde(default)]
    pub clarifications: Vec<Clarification>,
    /// Highest number handed out per id prefix (`"FR" → 7`), so a deleted
    /// requirement's id is never given to another one.
    #[serde(default)]
    pub counters: BTreeMap<String, u32>,
}

impl Body {
    /// The next id for `prefix`, e.g. `FR-008`.
    pub fn next_id(&mut self, prefix: &str) -> String {
        let n = self.counters.entry(prefix.to_string()).or_insert(0);
        *n += 1;
        format!("{prefix}-{:03}", *n)
    }
}

/// The SRS document row's own columns.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Extra {
    pub brief: String,
    pub template_version: i64,
}

/// The document row.
pub type Record = versioned::Record<Extra>;

/// A document as listed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Summary {
    pub id: String,
    pub project_id: String,
    pub title: String,
    pub version: i64,
    pub requirements: usize,
    pub lint_score: u32,
    pub created_at: String,
    pub updated_at: String,
}

/// One version as listed.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, ToSchema)]
pub struct VersionInfo {
    pub version: i64,
    /// What changed, e.g. `edited FR-002`.
    pub note: String,
    pub created_by: Option<String>,
    pub created_at: String,
}

/// SRS documents to the generic versioned routes.
pub struct Documents;

impl Document for Documents {
    const TABLES: &'static versioned::Tables = &SRS;
    const AUDIT: &'static str = "srs";
    type Extra = Extra;
    type Body = Body;
    type View = Srs;
    type Version = VersionInfo;
    type Diff = Diff;

    fn view(loaded: Loaded<Extra, Body>) -> Srs {
        assemble(&loaded.record, loaded.version, loaded.body)
    }

    fn diff(a: &Srs, b: &Srs) -> Diff {
        diff::diff(a, b)
    }
}

pub async fn record(pool: &SqlitePool, sid: &str) -> Result<Record, Error> {
    versioned::record(pool, &SRS, sid).await
}

/// Stores a finished generation as a new document at version 1, in one
/// transaction: either the whole document exists or none of it does.
pub async fn create(
    pool: &SqlitePool,
    project_id: &str,
    title: &str,
    brief: &str,
    template_version: i64,
    body: &Body,
    created_by: Option<&str>,
) -> Result<String, Error> {
    let extra = [Column::Text(brief), Column::Int(template_version)];
    versioned::create(
        pool,
        &SRS,
        project_id,
        title,
        &extra,
        body,
        "generated",
        created_by,
    )
    .await
}

/// The body of `version` of document `sid`.
pub async fn body(pool: &SqlitePool, sid: &str, version: i64) -> Result<Body, Error> {
    versioned::body(pool, &SRS, sid, version).await
}

/// The document as clients see it, at `version` (the current one if `None`).
pub async fn load(pool: &SqlitePool, sid: &str, version: Option<i64>) -> Result<Srs, Error> {
    Ok(Documents::view(
        versioned::load(pool, &SRS, sid, version).await?,
    ))
}

pub fn assemble(rec: &Record, version: i64, body: Body) -> Srs {
    let mut srs = Srs {
        id: rec.id.clone(),
        project_id: rec.project_id.clone(),
        title: rec.title.clone(),
        version,
        sections: body.sections,
        clarifications: body.clarifications,
        lint: Default::default(),
    };
    srs.lint = super::lint::lint_document(&srs, &[&rec.extra.brief]);
    srs
}

/// Stores `body` (and `title`, if given) as the next version of `sid`. With
/// `base_version`, refuses when someone else saved a version since.
pub async fn commit(
    pool: &SqlitePool,
    sid: &str,
    base_version: Option<i64>,
    title: Option<&str>,
    body: &Body,
    note: &str,
    created_by: Option<&str>,
) -> Result<i64, Error> {
    versioned::commit(pool, &SRS, sid, base_version, title, body, note, created_by).await
}

/// The project's documents, newest first, each at its current version.
pub async fn list(
    pool: &SqlitePool,
    project_id: &str,
    after: &str,
    limit: i64,
) -> Result<Vec<Summary>, Error> {
    let rows = versioned::list::<Extra, Body>(pool, &SRS, project_id, after, limit).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let srs = assemble(&row.record, row.record.current_version, row.body);
            Summary {
                requirements: srs.requirements().count(),
                lint_score: srs.lint.score,
                id: srs.id,
                project_id: srs.project_id,
                title: srs.title,
                version: srs.version,
                created_at: row.created_at,
                updated_at: row.updated_at,
            }
        })
        .collect())
}
