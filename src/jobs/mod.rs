//! Background jobs (document ingest now; SRS and wireframe generation later):
//! a row in SQLite that survives restarts, plus, while the job runs, a
//! broadcast channel for progress events and a cancellation flag.

pub mod routes;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use serde_json::Value;
use sqlx::SqlitePool;
use tokio::sync::broadcast;
use utoipa::ToSchema;

use crate::store::new_id;

#[derive(Debug, Clone, Serialize, sqlx::FromRow, ToSchema)]
pub struct Job {
    pub id: String,
    pub kind: String,
    /// `queued`, `running`, `succeeded`, `failed` or `cancelled`.
    pub status: String,
    /// 0 to 1.
    pub progress: f64,
    pub message: String,
    /// Ids of what the job made, e.g. `{"document_id": …}`.
    #[sqlx(json)]
    #[schema(value_type = Object)]
    pub result: Value,
    pub created_at: String,
    pub updated_at: String,
}

impl Job {
    pub fn is_finished(&self) -> bool {
        matches!(self.status.as_str(), "succeeded" | "failed" | "cancelled")
    }
}

struct Live {
    events: broadcast::Sender<Job>,
    cancelled: Arc<AtomicBool>,
    project_id: Option<String>,
}

pub struct Jobs {
    pool: SqlitePool,
    metrics: Arc<crate::metrics::Metrics>,
    live: Mutex<HashMap<String, Live>>,
}

/// The 202 answer to a request that started a job.
#[derive(Debug, Serialize, ToSchema)]
pub struct Started {
    pub job_id: String,
    /// `running`.
    pub status: String,
}

/// What a running job holds to report progress and learn of cancellation.
pub struct JobHandle {
    pub id: String,
    kind: String,
    project_id: Option<String>,
    started: std::time::Instant,
    jobs: Arc<Jobs>,
    cancelled: Arc<AtomicBool>,
}

const SELECT: &str =
    "SELECT id, kind, status, progress, message, result, created_at, updated_at FROM jobs";

impl Jobs {
    pub fn new(pool: SqlitePool, metrics: Arc<crate::metrics::Metrics>) -> Arc<Self> {
        Arc::new(Self {
            pool,
            metrics,
            live: Mutex::new(HashMap::new()),
        })
    }

    /// At shutdown: generation jobs still running are recorded as failed
    /// (their partial work is not stored); ingest jobs are left as they
    /// are, and their documents resume at the next start.
    pub async fn interrupt_running(&self) -> Result<u64, sqlx::Error> {
        Ok(sqlx::query(
            "UPDATE jobs SET status = 'failed',
             message = 'interrupted: the server stopped before the job finished; start it again',
             updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
             WHERE status IN ('queued', 'running') AND kind != 'ingest'",
        )
        .execute(&self.pool)
        .await?
        .rows_affected())
    }

    /// Jobs that were running when the server stopped cannot resume (an
    /// ingest restarts as a new job for the same document).
    pub async fn fail_interrupted(&self) -> Result<u64, sqlx::Error> {
        Ok(sqlx::query(
            "UPDATE jobs SET status = 'failed',
             message = 'interrupted: the server restarted before the job finished; start it again',
             updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
             WHERE status IN ('queued', 'running')",
        )
        .execute(&self.pool)
        .await?
        .rows_affected())
    }

    /// Records a new running job inside `tx` (so it exists exactly when what
    /// it works on does) and registers it as live.
    pub async fn create(
        self: &Arc<Self>,
        tx: &mut sqlx::SqliteConnection,
        kind: &str,
        project_id: Option<&str>,
        result: Value,
    ) -> Result<JobHandle, sqlx::Error> {
        self.insert(tx, kind, project_id, result, ("running", "started"))
            .await
    }

    /// [`Self::create`] for a job that waits its turn: `queued` with
    /// `message` until its first progress report makes it `running`.
    pub async fn create_queued(
        self: &Arc<Self>,
        tx: &mut sqlx::SqliteConnection,
        kind: &str,
        project_id: Option<&str>,
        result: Value,
        message: &str,
    ) -> Result<JobHandle, sqlx::Error> {
        self.insert(tx, kind, project_id, result, ("queued", message))
            .await
    }

    async fn insert(
        self: &Arc<Self>,
        tx: &mut sqlx::SqliteConnection,
        kind: &str,
        project_id: Option<&str>,
        result: Value,
        (status, message): (&str, &str),
    ) -> Result<JobHandle, sqlx::Error> {
        let id = new_id();
        sqlx::query(
            "INSERT INTO jobs (id, kind, project_id, status, message, result)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .bind(&id)
        .bind(kind)
        .bind(project_id)
        .bind(status)
        .bind(message)
        .bind(result.to_string())
        .execute(tx)
        .await?;
        let cancelled = Arc::new(AtomicBool::new(false));
        let (events, _) = broadcast::channel(64);
        self.live.lock().expect("jobs lock").insert(
            id.clone(),
            Live {
                events,
                cancelled: cancelled.clone(),
                project_id: project_id.map(str::to_string),
            },
        );
        Ok(JobHandle {
            id,
            kind: kind.to_string(),
            project_id: project_id.map(str::to_string),
            started: std::time::Instant::now(),
            jobs: self.clone(),
            cancelled,
        })
    }

    /// [`Self::create`] for a job that stands alone (nothing else is written
    /// with it), on a connection of its own.
    pub async fn start(
        self: &Arc<Self>,
        kind: &str,
        project_id: Option<&str>,
        result: Value,
    ) -> Result<JobHandle, sqlx::Error> {
        let mut conn = self.pool.acquire().await?;
        self.create(&mut conn, kind, project_id, result).await
    }

    pub async fn get(&self, id: &str) -> Result<Job, crate::store::Error> {
        let sql = format!("{SELECT} WHERE id = ?1");
        crate::store::by_id(&self.pool, &sql, "job", id).await
    }

    /// Progress events of a live job; `None` once it has finished.
    pub fn subscribe(&self, id: &str) -> Option<broadcast::Receiver<Job>> {
        self.live
            .lock()
            .expect("jobs lock")
            .get(id)
            .map(|l| l.events.subscribe())
    }

    /// Asks a live job to stop; false if it is not running.
    pub fn cancel(&self, id: &str) -> bool {
        match self.live.lock().expect("jobs lock").get(id) {
            Some(l) => {
                l.cancelled.store(true, Ordering::Relaxed);
                true
            }
            None => false,
        }
    }

    /// Stops every live job of a project that is being deleted.
    pub fn cancel_project(&self, project_id: &str) {
        for l in self.live.lock().expect("jobs lock").values() {
            if l.project_id.as_deref() == Some(project_id) {
                l.cancelled.store(true, Ordering::Relaxed);
            }
        }
    }

    async fn update(
        &self,
        id: &str,
        status: &str,
        progress: f64,
        message: &str,
        result: Option<&Value>,
    ) -> Result<(), sqlx::Error> {
        let job = sqlx::query_as::<_, Job>(
            "UPDATE jobs SET status = ?2, progress = ?3, message = ?4,
             result = COALESCE(?5, result), updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
             WHERE id = ?1
             RETURNING id, kind, status, progress, message, result, created_at, updated_at",
        )
        .bind(id)
        .bind(status)
        .bind(progress)
        .bind(message)
        .bind(result.map(Value::to_string))
        .fetch_optional(&self.pool)
        .await?;
        let mut live = self.live.lock().expect("jobs lock");
        match (job, live.get(id)) {
            (Some(job), Some(l)) => {
                let finished = job.is_finished();
                let _ = l.events.send(job);
                if finished {
                    live.remove(id);
                }
            }
            // The row went with its project: dropping the sender ends every
            // event stream of the job.
            (None, _) => {
                live.remove(id);
            }
            (Some(_), None) => {}
        }
        Ok(())
    }
}

/// Why a job produced no result. Ingest and generation jobs both end on it.
#[derive(Debug)]
pub enum Stop {
    /// The job was asked to stop and did; nothing was stored.
    Cancelled,
    /// The message stored on the job (and on what it worked on) for its user
    /// to read: never an internal detail, see [`Failure`].
    Failed(String),
}

/// A failure whose detail (an error from the model or a store, which may
/// name files) belongs in the log: what is stored is a stable code and a
/// sentence, `{code}: {sentence}`.
#[derive(Debug, thiserror::Error)]
#[error("{code}: {sentence}")]
pub struct Failure {
    pub code: &'static str,
    pub sentence: &'static str,
    pub detail: String,
}

impl Failure {
    pub fn new(
        (code, sentence): (&'static str, &'static str),
        detail: impl std::fmt::Display,
    ) -> Self {
        Self {
            code,
            sentence,
            detail: detail.to_string(),
        }
    }
}

/// The detail is logged here, once; the job keeps the code and the sentence.
impl Stop {
    /// How a job that failed on `e` ends: an internal failure (a database's,
    /// a store's, with paths in it) is logged and stored as a code and a
    /// sentence; anything else is stored as it reads.
    pub fn failed(e: &dyn std::fmt::Display, internal: bool) -> Self {
        if internal {
            tracing::error!(error = %e, "job stopped on an internal error");
            Stop::Failed(INTERNAL_FAILURE.into())
        } else {
            Stop::Failed(e.to_string())
        }
    }
}

impl From<Failure> for Stop {
    fn from(f: Failure) -> Self {
        tracing::warn!(code = f.code, detail = %f.detail, "job failed");
        Stop::Failed(f.to_string())
    }
}

/// What a job that stopped on an internal error says; the log has the detail.
pub const INTERNAL_FAILURE: &str =
    "internal_error: the server could not finish this job; try again, and see the server log if it fails again";

/// What a generation job reports when it ends: a message and its result.
pub type Outcome = Result<(String, Value), Stop>;

impl JobHandle {
    /// Records how a generation job ended; a cancelled one stored nothing.
    pub async fn conclude(&self, outcome: Outcome) {
        match outcome {
            Ok((message, result)) => self.finish("succeeded", &message, Some(&result)).await,
            Err(Stop::Cancelled) => {
                self.finish("cancelled", "cancelled; nothing was stored", None)
                    .await
            }
            Err(Stop::Failed(e)) => {
                tracing::warn!(job = %self.id, kind = "generation", error = %e, "job failed");
                self.finish("failed", &e, None).await
            }
        }
    }

    pub fn started(&self) -> Started {
        Started {
            job_id: self.id.clone(),
            status: "running".into(),
        }
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }

    pub async fn progress(&self, progress: f64, message: &str) {
        if let Err(e) = self
            .jobs
            .update(&self.id, "running", progress.clamp(0.0, 1.0), message, None)
            .await
        {
            tracing::warn!(job = %self.id, error = %e, "cannot record job progress");
        }
    }

    /// Records the final state; `status` is `succeeded`, `failed` or `cancelled`.
    pub async fn finish(&self, status: &str, message: &str, result: Option<&Value>) {
        let progress = if status == "succeeded" { 1.0 } else { 0.0 };
        if let Err(e) = self
            .jobs
            .update(&self.id, status, progress, message, result)
            .await
        {
            tracing::error!(job = %self.id, error = %e, "cannot record the end of a job");
            self.jobs.live.lock().expect("jobs lock").remove(&self.id);
        }
        self.jobs
            .metrics
            .job_finished(&self.kind, status, self.started.elapsed().as_secs_f64());
        if let Some(event) = crate::events::for_job(&self.kind, status) {
            let mut data = serde_json::json!({
                "job_id": self.id,
                "project_id": self.project_id,
                "message": message,
            });
            if let Some(Value::Object(fields)) = result {
                for (k, v) in fields {
                    data[k] = v.clone();
                }
            }
            crate::events::emit(&self.jobs.pool, event, data).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_is_stored_as_its_code_and_sentence_and_keeps_its_detail_for_the_log() {
        let detail = "cannot write vectors: /srv/data/chunks.lance: permission denied";
        let failure = Failure::new(
            ("storage_failed", "the passages could not be stored"),
            detail,
        );
        assert_eq!(failure.detail, detail);
        let Stop::Failed(stored) = Stop::from(failure) else {
            panic!("not a failure");
        };
        assert_eq!(stored, "storage_failed: the passages could not be stored");
    }
}
