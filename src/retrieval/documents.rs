//! Document records and the queries over them.

use serde::Serialize;
use sqlx::SqlitePool;
use utoipa::ToSchema;

use super::files::FileStore;
use super::vectors::VectorStore;
use super::{Error, Library};

#[derive(Debug, Clone, Serialize, sqlx::FromRow, ToSchema)]
pub struct Document {
    pub id: String,
    pub project_id: String,
    /// The uploaded file's name, made safe for display.
    pub name: String,
    /// `pdf`, `docx`, `markdown`, `text`, `html` or `csv`, decided by the bytes.
    pub kind: String,
    pub size_bytes: i64,
    pub sha256: String,
    /// `processing`, `ready` or `failed`.
    pub status: String,
    /// Why ingest failed.
    pub error: Option<String>,
    pub pages: Option<i64>,
    pub chunk_count: i64,
    /// The ingest job.
    pub job_id: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

const SELECT: &str = "SELECT id, project_id, name, kind, size_bytes, sha256, status, error,
    pages, chunk_count, job_id, created_at, updated_at FROM documents";

pub async fn get(pool: &SqlitePool, id: &str) -> Result<Document, Error> {
    Ok(crate::store::by_id(pool, &format!("{SELECT} WHERE id = ?1"), "document", id).await?)
}

pub async fn by_hash(
    pool: &SqlitePool,
    project_id: &str,
    sha256: &str,
) -> Result<Option<Document>, Error> {
    Ok(
        sqlx::query_as::<_, Document>(&format!("{SELECT} WHERE project_id = ?1 AND sha256 = ?2"))
            .bind(project_id)
            .bind(sha256)
            .fetch_optional(pool)
            .await?,
    )
}

pub async fn list(
    pool: &SqlitePool,
    project_id: &str,
    after: &str,
    limit: i64,
) -> Result<Vec<Document>, Error> {
    Ok(sqlx::query_as::<_, Document>(&format!(
        "{SELECT} WHERE project_id = ?1 AND (?2 = '' OR id < ?2) ORDER BY id DESC LIMIT ?3"
    ))
    .bind(project_id)
    .bind(after)
    .bind(limit + 1)
    .fetch_all(pool)
    .await?)
}

/// Removes a document from SQLite (with its chunks, in one statement thanks to
/// the cascade), then from LanceDB and the file store. SQLite is the record:
/// once its row is gone, the document is gone from search (hits are joined
/// with SQLite); vectors a failure leaves behind are swept at the next start.
pub async fn delete(lib: &Library, doc: &Document) -> Result<(), Error> {
    if let Some(job) = &doc.job_id {
        lib.jobs.cancel(job);
    }
    sqlx::query("DELETE FROM documents WHERE id = ?1")
        .bind(&doc.id)
        .execute(&lib.pool)
        .await?;
    if let Err(e) = lib
        .vectors
        .delete_documents(std::slice::from_ref(&doc.id))
        .await
    {
        tracing::warn!(document = %doc.id, error = %e, "vectors of a deleted document remain; swept at next start");
    }
    lib.files.remove(&doc.id);
    Ok(())
}

/// Brings the three stores back in line after a crash or a failed delete:
/// documents left `processing` without a stored original are failed (those
/// with one resume, see `ingest::resume_interrupted`), and vectors and files
/// of documents that are not `ready` in SQLite are removed.
pub async fn sweep(
    pool: &SqlitePool,
    vectors: &VectorStore,
    files: &FileStore,
) -> Result<(), Error> {
    // Documents being indexed when the server stopped resume (see
    // `ingest::resume`) when their original is stored; the others cannot.
    let stored: std::collections::HashSet<String> = files.ids().into_iter().collect();
    let interrupted: Vec<String> =
        sqlx::query_scalar("SELECT id FROM documents WHERE status = 'processing'")
            .fetch_all(pool)
            .await?;
    for id in interrupted.iter().filter(|id| !stored.contains(*id)) {
        sqlx::query(
            "UPDATE documents SET status = 'failed', error = 'interrupted: the server restarted while the document was indexed and its file is gone; upload it again',
             updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?1",
        )
        .bind(id)
        .execute(pool)
        .await?;
    }
    sqlx::query("DELETE FROM chunks WHERE document_id IN (SELECT id FROM documents WHERE status != 'ready')")
        .execute(pool)
        .await?;
    let ready: std::collections::HashSet<String> =
        sqlx::query_scalar("SELECT id FROM documents WHERE status = 'ready'")
            .fetch_all(pool)
            .await?
            .into_iter()
            .collect();
    let stale: Vec<String> = vectors
        .document_ids()
        .await?
        .into_iter()
        .filter(|id| !ready.contains(id))
        .collect();
    if !stale.is_empty() {
        tracing::info!(
            documents = stale.len(),
            "removing vectors of documents that are not ready"
        );
        vectors.delete_documents(&stale).await?;
    }
    let known: std::collections::HashSet<String> = sqlx::query_scalar("SELECT id FROM documents")
        .fetch_all(pool)
        .await?
        .into_iter()
        .collect();
    for id in files.ids() {
        if !known.contains(&id) {
            files.remove(&id);
        }
    }
    files.remove_partials();
    Ok(())
}
