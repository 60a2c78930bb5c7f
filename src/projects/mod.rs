//! Projects: the workspace a business analyst fills with a client's documents,
//! conversations, SRS documents and wireframes.

pub mod routes;

use serde::{Deserialize, Serialize};
use sqlx::SqlitePool;
use utoipa::ToSchema;

use crate::http::AppError;

#[derive(Debug, Clone, Serialize, sqlx::FromRow, ToSchema)]
pub struct Project {
    pub id: String,
    pub name: String,
    pub description: String,
    pub document_count: i64,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProject {
    pub name: String,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectChanges {
    pub name: Option<String>,
    pub description: Option<String>,
}

const SELECT: &str = "SELECT p.id, p.name, p.description, p.created_at, p.updated_at,
    (SELECT COUNT(*) FROM documents d WHERE d.project_id = p.id) AS document_count
    FROM projects p";

/// The project, or 404 when the id does not name one.
pub async fn get(pool: &SqlitePool, id: &str) -> Result<Project, AppError> {
    crate::store::by_id(pool, &format!("{SELECT} WHERE p.id = ?1"), "project", id).await
}

/// 404 unless the project exists; for routes nested under a project.
pub async fn ensure(pool: &SqlitePool, id: &str) -> Result<(), AppError> {
    let sql = "SELECT id FROM projects WHERE id = ?1";
    crate::store::by_id::<(String,)>(pool, sql, "project", id)
        .await
        .map(drop)
}

pub async fn list(pool: &SqlitePool, after: &str, limit: i64) -> Result<Vec<Project>, AppError> {
    Ok(sqlx::query_as::<_, Project>(&format!(
        "{SELECT} WHERE (?1 = '' OR p.id < ?1) ORDER BY p.id DESC LIMIT ?2"
    ))
    .bind(after)
    .bind(limit + 1)
    .fetch_all(pool)
    .await?)
}

/// Trims `value` and checks it against the field's bounds.
pub fn text_field(
    name: &str,
    value: &str,
    required: bool,
    max_chars: usize,
) -> Result<String, AppError> {
    let v = value.trim();
    if required && v.is_empty() {
        return Err(AppError::invalid(
            name,
            format!("`{name}` must not be empty"),
        ));
    }
    if v.chars().count() > max_chars {
        return Err(AppError::invalid(
            name,
            format!("`{name}` is longer than {max_chars} characters"),
        ));
    }
    if v.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(AppError::invalid(
            name,
            format!("`{name}` contains control characters"),
        ));
    }
    Ok(v.to_string())
}
