//! SRS records in SQLite: a document row (title, brief, current version) and
//! one row per version holding the whole body as JSON, so any version can be
//! read, compared and exported as it was.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sqlx::SqlitePool;
use utoipa::ToSchema;

use super::model::{Clarification, Section, Srs};
use crate::http::AppError;
use crate::store::new_id;

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

/// The document row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Record {
    pub id: String,
    pub project_id: String,
    pub title: String,
    pub brief: String,
    pub template_version: i64,
    pub current_version: i64,
}

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

const RECORD: &str =
    "SELECT id, project_id, title, brief, template_version, current_version FROM srs_documents";

pub async fn record(pool: &SqlitePool, sid: &str) -> Result<Record, AppError> {
    Ok(crate::store::by_id(
        pool,
        &format!("{RECORD} WHERE id = ?1"),
        "SRS document",
        sid,
    )
    .await?)
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
) -> Result<String, AppError> {
    let id = new_id();
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO srs_documents (id, project_id, title, brief, template_version, current_version, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, 1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
    )
    .bind(&id)
    .bind(project_id)
    .bind(title)
    .bind(brief)
    .bind(template_version)
    .execute(&mut *tx)
    .await?;
    sqlx::query("INSERT INTO srs_versions (srs_id, version, body, note, created_by) VALUES (?1, 1, ?2, 'generated', ?3)")
        .bind(&id)
        .bind(serde_json::to_string(body).expect("body serializes"))
        .bind(created_by)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(id)
}

/// The body of `version` of document `sid`.
pub async fn body(pool: &SqlitePool, sid: &str, version: i64) -> Result<Body, AppError> {
    let text: Option<String> =
        sqlx::query_scalar("SELECT body FROM srs_versions WHERE srs_id = ?1 AND version = ?2")
            .bind(sid)
            .bind(version)
            .fetch_optional(pool)
            .await?;
    let text = text.ok_or_else(|| {
        AppError::NotFound(format!("SRS document `{sid}` has no version {version}"))
    })?;
    serde_json::from_str(&text)
        .map_err(|e| AppError::Internal(format!("stored SRS {sid} version {version}: {e}")))
}

/// The document as clients see it, at `version` (the current one if `None`).
pub async fn load(pool: &SqlitePool, sid: &str, version: Option<i64>) -> Result<Srs, AppError> {
    let rec = record(pool, sid).await?;
    let version = version.unwrap_or(rec.current_version);
    let body = body(pool, sid, version).await?;
    Ok(assemble(&rec, version, body))
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
    srs.lint = super::lint::lint_document(&srs);
    srs
}

/// Stores `body` (and `title`, if given) as the next version of `sid`. With
/// `base_version`, refuses (409) when someone else saved a version since.
pub async fn commit(
    pool: &SqlitePool,
    sid: &str,
    base_version: Option<i64>,
    title: Option<&str>,
    body: &Body,
    note: &str,
    created_by: Option<&str>,
) -> Result<i64, AppError> {
    let mut tx = pool.begin().await?;
    let current: i64 =
        sqlx::query_scalar("SELECT current_version FROM srs_documents WHERE id = ?1")
            .bind(sid)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("No SRS document with id `{sid}`")))?;
    if base_version.is_some_and(|b| b != current) {
        return Err(AppError::Conflict(format!(
            "The document changed since version {}; it is now at version {current}. Reload and apply the change again.",
            base_version.unwrap_or_default()
        )));
    }
    let next = current + 1;
    let inserted = sqlx::query(
        "INSERT INTO srs_versions (srs_id, version, body, note, created_by) VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .bind(sid)
    .bind(next)
    .bind(serde_json::to_string(body).expect("body serializes"))
    .bind(note)
    .bind(created_by)
    .execute(&mut *tx)
    .await;
    if let Err(sqlx::Error::Database(e)) = &inserted {
        if e.is_unique_violation() {
            return Err(AppError::Conflict(
                "Another change to this document was saved at the same moment; reload and try again".into(),
            ));
        }
    }
    inserted?;
    sqlx::query(
        "UPDATE srs_documents SET current_version = ?2, title = COALESCE(?3, title),
         updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?1",
    )
    .bind(sid)
    .bind(next)
    .bind(title)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(next)
}

pub async fn versions(pool: &SqlitePool, sid: &str) -> Result<Vec<VersionInfo>, AppError> {
    Ok(sqlx::query_as::<_, VersionInfo>(
        "SELECT version, note, created_by, created_at FROM srs_versions WHERE srs_id = ?1 ORDER BY version DESC",
    )
    .bind(sid)
    .fetch_all(pool)
    .await?)
}

#[derive(sqlx::FromRow)]
struct ListRow {
    id: String,
    project_id: String,
    title: String,
    brief: String,
    template_version: i64,
    current_version: i64,
    created_at: String,
    updated_at: String,
    body: String,
}

/// The project's documents, newest first, each at its current version.
pub async fn list(
    pool: &SqlitePool,
    project_id: &str,
    after: &str,
    limit: i64,
) -> Result<Vec<Summary>, AppError> {
    let rows = sqlx::query_as::<_, ListRow>(
        "SELECT d.id, d.project_id, d.title, d.brief, d.template_version, d.current_version,
                d.created_at, d.updated_at, v.body
         FROM srs_documents d JOIN srs_versions v ON v.srs_id = d.id AND v.version = d.current_version
         WHERE d.project_id = ?1 AND (?2 = '' OR d.id < ?2) ORDER BY d.id DESC LIMIT ?3",
    )
    .bind(project_id)
    .bind(after)
    .bind(limit + 1)
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            let body: Body = serde_json::from_str(&r.body)
                .map_err(|e| AppError::Internal(format!("stored SRS {}: {e}", r.id)))?;
            let rec = Record {
                id: r.id,
                project_id: r.project_id,
                title: r.title,
                brief: r.brief,
                template_version: r.template_version,
                current_version: r.current_version,
            };
            let srs = assemble(&rec, rec.current_version, body);
            Ok(Summary {
                requirements: srs.requirements().count(),
                lint_score: srs.lint.score,
                id: srs.id,
                project_id: srs.project_id,
                title: srs.title,
                version: srs.version,
                created_at: r.created_at,
                updated_at: r.updated_at,
            })
        })
        .collect()
}

pub async fn delete(pool: &SqlitePool, sid: &str) -> Result<(), AppError> {
    sqlx::query("DELETE FROM srs_documents WHERE id = ?1")
        .bind(sid)
        .execute(pool)
        .await?;
    Ok(())
}
