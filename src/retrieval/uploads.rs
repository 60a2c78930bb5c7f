//! The bounded work behind uploads: at most `documents.extract_workers`
//! documents are read at once (each in a child process, see
//! [`super::extract::sandbox`]) and at most `documents.ingest_jobs` ingest
//! jobs chunk and embed at once. The rest wait their turn, uploads in their
//! request and ingest jobs with the status `queued`, instead of each upload
//! starting work of its own.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::extract::sandbox::{Sandbox, SandboxConfig};
use super::extract::Limits;
use crate::config::DocumentsConfig;
use crate::jobs::JobHandle;

/// How often a queued job looks whether it was cancelled while it waits.
const CANCEL_POLL: Duration = Duration::from_millis(250);

pub struct Uploads {
    pub sandbox: Arc<Sandbox>,
    ingest: Arc<Semaphore>,
}

impl Uploads {
    /// Fails only when the worker is this program and its path is unknown.
    pub fn new(config: &DocumentsConfig) -> std::io::Result<Self> {
        let program = if config.extract_worker.as_os_str().is_empty() {
            std::env::current_exe()?
        } else {
            config.extract_worker.clone()
        };
        let workers = match config.extract_workers {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        };
        let sandbox = Sandbox::new(SandboxConfig {
            program,
            limits: Limits::from(config),
            memory_bytes: config.extract_memory_mib.saturating_mul(1 << 20),
            timeout: Duration::from_secs(config.extract_timeout_secs.max(1)),
            workers,
        });
        Ok(Uploads {
            sandbox,
            ingest: Arc::new(Semaphore::new(config.ingest_jobs.max(1))),
        })
    }

    /// Waits until `job` may run; `None` if it was cancelled while it waited.
    /// The job keeps its place in line while it looks (the semaphore is fair).
    pub async fn ingest_turn(&self, job: &JobHandle) -> Option<OwnedSemaphorePermit> {
        let turn = self.ingest.clone().acquire_owned();
        tokio::pin!(turn);
        loop {
            tokio::select! {
                permit = &mut turn => return Some(permit.expect("never closed")),
                () = tokio::time::sleep(CANCEL_POLL) => {
                    if job.is_cancelled() {
                        return None;
                    }
                }
            }
        }
    }
}
