//! From an uploaded file to searchable chunks. The bytes are checked and their
//! text extracted (in a child process, see [`super::extract::sandbox`])
//! before the upload is answered, so a corrupt, protected, hostile or
//! unsupported file is refused with nothing stored; chunking, embedding and
//! storing then run as a job, one at a time (see [`super::uploads`]).

use std::sync::Arc;

use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use tracing::Instrument;
use utoipa::ToSchema;

use super::chunk::{self, Piece};
use super::extract::{self, Extracted};
use super::uploads::Uploads;
use super::vectors::VectorRow;
use super::{Error, Library};
use crate::generation::Generator;
use crate::inference::embeddings::Embedder;
use crate::jobs::{Failure, JobHandle, Stop};
use crate::metrics::Metrics;
use crate::store::new_id;

/// What ingest works with; cheap to clone, since each job takes its own copy.
#[derive(Clone)]
pub struct Ingest {
    pub library: Library,
    pub uploads: Arc<Uploads>,
    /// Embeddings, with the default embedding model (`models.embedding`).
    pub generation: Arc<Generator>,
    pub metrics: Arc<Metrics>,
    /// `documents.chunk_tokens` and `documents.chunk_overlap`.
    pub chunk_tokens: usize,
    pub chunk_overlap: usize,
}

/// The answer to an upload.
#[derive(Debug, Serialize, ToSchema)]
pub struct Accepted {
    /// The document's id.
    pub id: String,
    pub job_id: Option<String>,
    pub status: String,
    /// True when the same bytes were already in the project; `id` is that document.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub duplicate: bool,
}

/// Chunks per embedding call, each followed by a progress event: 32 chunks
/// of 200 tokens take about five seconds on two cores.
const EMBED_BATCH: usize = 32;

/// Checks and extracts `bytes`, records the document and starts its ingest
/// job. `Ok((true, _))` is a new document, `Ok((false, _))` a duplicate.
pub async fn accept(
    s: &Ingest,
    project_id: &str,
    file_name: &str,
    bytes: Vec<u8>,
) -> Result<(bool, Accepted), Error> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::Empty);
    }
    let lib = &s.library;
    let sha256 = format!("{:x}", Sha256::digest(&bytes));
    if let Some(existing) = super::documents::by_hash(&lib.pool, project_id, &sha256).await? {
        if existing.status != "failed" {
            return Ok((false, duplicate(existing)));
        }
        // A failed earlier attempt does not block a new one.
        super::documents::delete(lib, &existing).await?;
    }
    let embedder = s.generation.embedder(None).await?;
    let bytes = Arc::new(bytes);
    let extracted = s.uploads.sandbox.extract(bytes.clone()).await?;

    let id = new_id();
    let name = extract::sanitize_filename(file_name);
    let mut tx = crate::store::write_tx(&lib.pool).await?;
    let insert = sqlx::query(
        "INSERT INTO documents (id, project_id, name, kind, size_bytes, sha256, status, pages)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'processing', ?7)",
    )
    .bind(&id)
    .bind(project_id)
    .bind(&name)
    .bind(extracted.kind.as_str())
    .bind(bytes.len() as i64)
    .bind(&sha256)
    .bind(extracted.pages.map(i64::from))
    .execute(&mut *tx)
    .await;
    if let Err(sqlx::Error::Database(e)) = &insert {
        if e.is_unique_violation() {
            // The same bytes arrived twice at once; the other upload won.
            drop(tx);
            return match super::documents::by_hash(&lib.pool, project_id, &sha256).await? {
                Some(existing) => Ok((false, duplicate(existing))),
                None => Err(Error::UploadRace),
            };
        }
    }
    insert?;
    let job = lib
        .jobs
        .create_queued(
            &mut tx,
            "ingest",
            Some(project_id),
            json!({"document_id": id}),
            "waiting for earlier documents to be indexed",
        )
        .await?;
    sqlx::query("UPDATE documents SET job_id = ?2 WHERE id = ?1")
        .bind(&id)
        .bind(&job.id)
        .execute(&mut *tx)
        .await?;
    {
        let (files, id, bytes) = (lib.files.clone(), id.clone(), bytes.clone());
        tokio::task::spawn_blocking(move || files.save(&id, &bytes))
            .await
            .map_err(|e| Error::Internal(format!("save task: {e}")))?
            .map_err(|e| Error::Internal(format!("cannot store the upload: {e}")))?;
    }
    if let Err(e) = tx.commit().await {
        lib.files.remove(&id);
        return Err(e.into());
    }
    s.metrics.document_uploaded();

    let answer = Accepted {
        id: id.clone(),
        job_id: Some(job.id.clone()),
        status: "processing".into(),
        duplicate: false,
    };
    spawn_run(s, job, embedder, project_id, &id, extracted);
    Ok((true, answer))
}

/// Runs the ingest job in the background. The span names the document in
/// every line the job logs, the failure's detail included (see `Failure`).
fn spawn_run(
    s: &Ingest,
    job: JobHandle,
    embedder: Arc<Embedder>,
    project_id: &str,
    document_id: &str,
    extracted: Extracted,
) {
    let (state, project_id, id) = (s.clone(), project_id.to_string(), document_id.to_string());
    let span = tracing::info_span!("ingest", document = %id);
    tokio::spawn(
        async move {
            run(&state, &job, &embedder, &project_id, &id, extracted).await;
        }
        .instrument(span),
    );
}

/// The documents (id, project) left `processing` by the last stop; read at
/// start, before any upload can add one of its own.
pub async fn interrupted(pool: &sqlx::SqlitePool) -> Result<Vec<(String, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, project_id FROM documents WHERE status = 'processing' ORDER BY created_at",
    )
    .fetch_all(pool)
    .await
}

/// Restarts the ingest of every document that was being indexed when the
/// server stopped (the start-up sweep kept those whose original is stored
/// and removed their partial chunks and vectors). A document whose original
/// no longer reads as a document is failed with the reader's reason.
pub async fn resume_interrupted(s: &Ingest, pending: Vec<(String, String)>) {
    for (id, project_id) in pending {
        tracing::info!(document = %id, "resuming the ingest the last stop interrupted");
        if let Err(e) = resume(s, &id, &project_id).await {
            tracing::warn!(document = %id, error = %e, "cannot resume ingest");
            let reason = format!("interrupted: the server restarted and the document could not be read again ({e}); upload it again");
            let _ = sqlx::query(
                "UPDATE documents SET status = 'failed', error = ?2,
                 updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?1 AND status = 'processing'",
            )
            .bind(&id)
            .bind(reason)
            .execute(&s.library.pool)
            .await;
        }
    }
}

async fn resume(s: &Ingest, document_id: &str, project_id: &str) -> Result<(), Error> {
    let lib = &s.library;
    let bytes = {
        let (files, id) = (lib.files.clone(), document_id.to_string());
        tokio::task::spawn_blocking(move || files.read(&id))
            .await
            .map_err(|e| Error::Internal(format!("read task: {e}")))?
            .map_err(|e| Error::Internal(format!("cannot read the stored original: {e}")))?
    };
    let embedder = s.generation.embedder(None).await?;
    let extracted = s.uploads.sandbox.extract(Arc::new(bytes)).await?;
    let mut tx = crate::store::write_tx(&lib.pool).await?;
    let job = lib
        .jobs
        .create_queued(
            &mut tx,
            "ingest",
            Some(project_id),
            json!({"document_id": document_id, "resumed": true}),
            "resuming after a restart",
        )
        .await?;
    sqlx::query("UPDATE documents SET job_id = ?2 WHERE id = ?1")
        .bind(document_id)
        .bind(&job.id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    spawn_run(s, job, embedder, project_id, document_id, extracted);
    Ok(())
}

fn duplicate(existing: super::documents::Document) -> Accepted {
    Accepted {
        id: existing.id,
        job_id: existing.job_id,
        status: existing.status,
        duplicate: true,
    }
}

/// The ingest job: wait its turn, then chunk, embed, store. On failure or
/// cancellation nothing of the document stays in LanceDB or the chunks table.
async fn run(
    s: &Ingest,
    job: &JobHandle,
    embedder: &Arc<Embedder>,
    project_id: &str,
    document_id: &str,
    extracted: Extracted,
) {
    let outcome = match s.uploads.ingest_turn(job).await {
        Some(_turn) => store_chunks(s, job, embedder, project_id, document_id, extracted).await,
        None => Err(Stop::Cancelled),
    };
    let log_stop = |why: &str| {
        tracing::warn!(document = %document_id, reason = %why, "ingest did not finish");
    };
    match outcome {
        Ok(count) => {
            s.metrics.chunks_ingested(count);
            let vectors = s.library.vectors.clone();
            tokio::spawn(vectors.maintain());
            job.finish(
                "succeeded",
                &format!("{count} chunks indexed"),
                Some(&json!({"document_id": document_id})),
            )
            .await;
        }
        Err(Stop::Cancelled) => {
            log_stop("cancelled");
            // Removes the row, its vectors and the file; if the document is
            // already gone, so are they (or the start-up sweep takes them).
            if let Ok(doc) = super::documents::get(&s.library.pool, document_id).await {
                let _ = super::documents::delete(&s.library, &doc).await;
            }
            job.finish("cancelled", "cancelled; the document was removed", None)
                .await;
        }
        Err(Stop::Failed(reason)) => {
            log_stop(&reason);
            let _ = s
                .library
                .vectors
                .delete_documents(&[document_id.to_string()])
                .await;
            let _ = sqlx::query(
                "UPDATE documents SET status = 'failed', error = ?2,
                 updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?1",
            )
            .bind(document_id)
            .bind(&reason)
            .execute(&s.library.pool)
            .await;
            job.finish("failed", &reason, None).await;
        }
    }
}

// Why ingest failed: a stable code and a sentence, stored on the document
// and its job as a `Failure`; the detail goes to the log only.
const CHUNKING: (&str, &str) = (
    "chunking_failed",
    "the text could not be split into passages; upload the file again",
);
const EMBEDDING: (&str, &str) = (
    "embedding_failed",
    "the embedding model could not read the text; upload the file again",
);
const STORING: (&str, &str) = (
    "storage_failed",
    "the passages could not be stored; upload the file again",
);

const NO_TEXT: (&str, &str) = ("no_text", "the document has no text to index");

fn failed(what: (&'static str, &'static str), detail: impl std::fmt::Display) -> Failure {
    Failure::new(what, detail)
}

async fn store_chunks(
    s: &Ingest,
    job: &JobHandle,
    embedder: &Arc<Embedder>,
    project_id: &str,
    document_id: &str,
    extracted: Extracted,
) -> Result<usize, Stop> {
    let (size, overlap) = (s.chunk_tokens, s.chunk_overlap);
    let pieces = {
        let embedder = embedder.clone();
        tokio::task::spawn_blocking(move || -> Result<Vec<Piece>, String> {
            let mut out = Vec::new();
            for section in &extracted.sections {
                let spans = embedder
                    .token_spans(&section.text)
                    .map_err(|e| e.to_string())?;
                out.extend(chunk::pieces(section, &spans, size, overlap));
            }
            Ok(out)
        })
        .await
        .map_err(|e| failed(CHUNKING, e))?
        .map_err(|e| failed(CHUNKING, e))?
    };
    if pieces.is_empty() {
        return Err(failed(NO_TEXT, "every section chunked to nothing").into());
    }
    job.progress(0.05, &format!("{} chunks to embed", pieces.len()))
        .await;

    let mut vectors = Vec::with_capacity(pieces.len());
    for (n, batch) in pieces.chunks(EMBED_BATCH).enumerate() {
        if job.is_cancelled() {
            return Err(Stop::Cancelled);
        }
        let texts: Vec<String> = batch.iter().map(chunk::embedding_text).collect();
        let out = s
            .generation
            .embed(embedder, texts, false)
            .await
            .map_err(|e| failed(EMBEDDING, e))?;
        vectors.extend(out.vectors);
        let done = ((n + 1) * EMBED_BATCH).min(pieces.len());
        let fraction = 0.05 + 0.85 * done as f64 / pieces.len() as f64;
        job.progress(
            fraction,
            &format!("embedded {done} of {} chunks", pieces.len()),
        )
        .await;
    }
    if job.is_cancelled() {
        return Err(Stop::Cancelled);
    }

    let ids: Vec<String> = pieces.iter().map(|_| new_id()).collect();
    let rows = pieces
        .iter()
        .zip(&ids)
        .zip(vectors)
        .map(|((p, id), vector)| VectorRow {
            chunk_id: id.clone(),
            project_id: project_id.to_string(),
            document_id: document_id.to_string(),
            text: p.text.clone(),
            vector,
        })
        .collect();
    s.library
        .vectors
        .add(rows)
        .await
        .map_err(|e| failed(STORING, format!("cannot write vectors: {e}")))?;
    record_chunks(&s.library.pool, project_id, document_id, &pieces, &ids)
        .await
        .map_err(|e| failed(STORING, format!("cannot record chunks: {e}")))?;
    Ok(pieces.len())
}

/// The chunks and the document's `ready` state, in one transaction: a reader
/// sees either none of them or the whole document.
async fn record_chunks(
    pool: &sqlx::SqlitePool,
    project_id: &str,
    document_id: &str,
    pieces: &[Piece],
    ids: &[String],
) -> Result<(), sqlx::Error> {
    let mut tx = crate::store::write_tx(pool).await?;
    for (ord, (p, id)) in pieces.iter().zip(ids).enumerate() {
        sqlx::query(
            "INSERT INTO chunks (id, document_id, project_id, ord, text, page, heading, token_count)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )
        .bind(id)
        .bind(document_id)
        .bind(project_id)
        .bind(ord as i64)
        .bind(&p.text)
        .bind(p.page.map(i64::from))
        .bind(&p.heading)
        .bind(p.tokens as i64)
        .execute(&mut *tx)
        .await?;
    }
    let updated = sqlx::query(
        "UPDATE documents SET status = 'ready', chunk_count = ?2,
         updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?1 AND status = 'processing'",
    )
    .bind(document_id)
    .bind(pieces.len() as i64)
    .execute(&mut *tx)
    .await?;
    if updated.rows_affected() == 0 {
        // Deleted while it was being embedded.
        return Err(sqlx::Error::RowNotFound);
    }
    tx.commit().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_failure_is_a_code_and_a_sentence_without_the_detail() {
        let detail =
            "cannot write vectors: /srv/bacopilot/data/lancedb/chunks.lance: permission denied";
        let failure = failed(STORING, detail);
        let stored = failure.to_string();
        assert_eq!(
            stored,
            "storage_failed: the passages could not be stored; upload the file again"
        );
        assert!(!stored.contains("/srv"), "{stored}");
        assert_eq!(failure.detail, detail);
    }
}
