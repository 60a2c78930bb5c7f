//! Wireframe records in SQLite: a row per wireframe and one per version
//! holding the whole tree as JSON with the change request that made it.

use serde::Serialize;
use sqlx::SqlitePool;
use utoipa::ToSchema;

use super::model::{Screen, Wireframe};
use crate::http::AppError;
use crate::store::new_id;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Record {
    pub id: String,
    pub project_id: String,
    pub title: String,
    pub description: String,
    pub srs_id: Option<String>,
    pub current_version: i64,
}

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

const RECORD: &str =
    "SELECT id, project_id, title, description, srs_id, current_version FROM wireframes";

pub async fn record(pool: &SqlitePool, wid: &str) -> Result<Record, AppError> {
    Ok(crate::store::by_id(pool, &format!("{RECORD} WHERE id = ?1"), "wireframe", wid).await?)
}

fn tree(text: &str, wid: &str) -> Result<Vec<Screen>, AppError> {
    serde_json::from_str(text)
        .map_err(|e| AppError::Internal(format!("stored wireframe {wid}: {e}")))
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
) -> Result<String, AppError> {
    let id = new_id();
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO wireframes (id, project_id, title, description, srs_id, current_version, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, 1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
    )
    .bind(&id)
    .bind(project_id)
    .bind(title)
    .bind(description)
    .bind(srs_id)
    .execute(&mut *tx)
    .await?;
    sqlx::query("INSERT INTO wireframe_versions (wireframe_id, version, tree, request, created_by) VALUES (?1, 1, ?2, '', ?3)")
        .bind(&id)
        .bind(serde_json::to_string(screens).expect("tree serializes"))
        .bind(created_by)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(id)
}

/// The wireframe at `version` (the current one if `None`).
pub async fn load(
    pool: &SqlitePool,
    wid: &str,
    version: Option<i64>,
) -> Result<Wireframe, AppError> {
    let rec = record(pool, wid).await?;
    let version = version.unwrap_or(rec.current_version);
    let text: Option<String> = sqlx::query_scalar(
        "SELECT tree FROM wireframe_versions WHERE wireframe_id = ?1 AND version = ?2",
    )
    .bind(wid)
    .bind(version)
    .fetch_optional(pool)
    .await?;
    let text = text
        .ok_or_else(|| AppError::NotFound(format!("Wireframe `{wid}` has no version {version}")))?;
    Ok(Wireframe {
        id: rec.id,
        project_id: rec.project_id,
        title: rec.title,
        version,
        screens: tree(&text, wid)?,
    })
}

/// Stores `screens` as the version after `base_version`; 409 if another
/// version was saved since.
pub async fn commit(
    pool: &SqlitePool,
    wid: &str,
    base_version: i64,
    screens: &[Screen],
    request: &str,
    created_by: Option<&str>,
) -> Result<i64, AppError> {
    let mut tx = pool.begin().await?;
    let current: i64 = sqlx::query_scalar("SELECT current_version FROM wireframes WHERE id = ?1")
        .bind(wid)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("No wireframe with id `{wid}`")))?;
    if current != base_version {
        return Err(AppError::Conflict(format!(
            "The wireframe changed while the request was worked on (now version {current}); ask again"
        )));
    }
    let next = current + 1;
    sqlx::query("INSERT INTO wireframe_versions (wireframe_id, version, tree, request, created_by) VALUES (?1, ?2, ?3, ?4, ?5)")
        .bind(wid)
        .bind(next)
        .bind(serde_json::to_string(screens).expect("tree serializes"))
        .bind(request)
        .bind(created_by)
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE wireframes SET current_version = ?2, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?1")
        .bind(wid)
        .bind(next)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(next)
}

pub async fn versions(pool: &SqlitePool, wid: &str) -> Result<Vec<VersionInfo>, AppError> {
    Ok(sqlx::query_as::<_, VersionInfo>(
        "SELECT version, request, created_by, created_at FROM wireframe_versions WHERE wireframe_id = ?1 ORDER BY version DESC",
    )
    .bind(wid)
    .fetch_all(pool)
    .await?)
}

#[derive(sqlx::FromRow)]
struct ListRow {
    id: String,
    project_id: String,
    title: String,
    current_version: i64,
    created_at: String,
    updated_at: String,
    tree: String,
}

/// The project's wireframes at their current versions, newest first.
pub async fn list(
    pool: &SqlitePool,
    project_id: &str,
    after: &str,
    limit: i64,
) -> Result<Vec<(Summary, Vec<Screen>)>, AppError> {
    let rows = sqlx::query_as::<_, ListRow>(
        "SELECT w.id, w.project_id, w.title, w.current_version, w.created_at, w.updated_at, v.tree
         FROM wireframes w JOIN wireframe_versions v ON v.wireframe_id = w.id AND v.version = w.current_version
         WHERE w.project_id = ?1 AND (?2 = '' OR w.id < ?2) ORDER BY w.id DESC LIMIT ?3",
    )
    .bind(project_id)
    .bind(after)
    .bind(limit + 1)
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            let screens = tree(&r.tree, &r.id)?;
            let summary = Summary {
                screens: screens.iter().map(|s| s.title.clone()).collect(),
                id: r.id,
                project_id: r.project_id,
                title: r.title,
                version: r.current_version,
                created_at: r.created_at,
                updated_at: r.updated_at,
            };
            Ok((summary, screens))
        })
        .collect()
}

pub async fn delete(pool: &SqlitePool, wid: &str) -> Result<(), AppError> {
    sqlx::query("DELETE FROM wireframes WHERE id = ?1")
        .bind(wid)
        .execute(pool)
        .await?;
    Ok(())
}

/// For the SRS traceability matrix: requirement id → "wireframe title /
/// screen title" of every current wireframe screen of the project that
/// carries it.
pub async fn screens_by_requirement(
    pool: &SqlitePool,
    project_id: &str,
) -> Result<std::collections::BTreeMap<String, Vec<String>>, AppError> {
    let mut out: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    let mut after = String::new();
    loop {
        let page = list(pool, project_id, &after, 200).await?;
        let more = page.len() > 200;
        for (summary, screens) in page.iter().take(200) {
            for screen in screens {
                for c in screen.all_components() {
                    for rid in &c.requirement_ids {
                        let name = format!("{} / {}", summary.title, screen.title);
                        let list = out.entry(rid.clone()).or_default();
                        if !list.contains(&name) {
                            list.push(name);
                        }
                    }
                }
            }
        }
        match page.get(199) {
            Some((last, _)) if more => after = last.id.clone(),
            _ => return Ok(out),
        }
    }
}
