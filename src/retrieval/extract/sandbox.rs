//! Documents are read in a child process, `bacopilot extract-worker` (see
//! [`super::worker`]), under limits on memory, CPU time, output and wall
//! time. The parsers are third-party code that a hostile file can crash in
//! ways no `catch_unwind` stops (a stack overflow aborts the process), stall,
//! or make allocate without bound; in a child, any of these ends the child
//! and the upload is refused, while the server goes on serving.

use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;
use tokio::sync::Semaphore;

use super::worker::Settings;
use super::{ExtractError, Extracted, Limits};

/// The hidden subcommand of the `bacopilot` binary that runs the worker.
pub const SUBCOMMAND: &str = "extract-worker";

/// Bytes of the worker's standard error kept for the log (a panic message,
/// "has overflowed its stack").
const STDERR_KEPT: usize = 8 << 10;

/// How to start workers and what they may use.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// The `bacopilot` binary.
    pub program: PathBuf,
    pub limits: Limits,
    pub memory_bytes: u64,
    /// Wall-clock time, and CPU time, one document may take.
    pub timeout: Duration,
    /// Workers that may run at once; more uploads wait their turn.
    pub workers: usize,
}

pub struct Sandbox {
    config: SandboxConfig,
    /// The worker's `--settings`, the same for every document.
    settings: String,
    permits: Semaphore,
}

impl Sandbox {
    pub fn new(config: SandboxConfig) -> Arc<Self> {
        let settings = Settings {
            limits: config.limits.clone(),
            memory_bytes: config.memory_bytes,
            cpu_secs: config.timeout.as_secs().max(1),
        };
        let settings = serde_json::to_string(&settings).expect("settings serialize");
        let permits = Semaphore::new(config.workers.max(1));
        Arc::new(Sandbox {
            config,
            settings,
            permits,
        })
    }

    /// Extracts `bytes` in a worker, waiting for a free one first.
    pub async fn extract(&self, bytes: Arc<Vec<u8>>) -> Result<Extracted, ExtractError> {
        let _permit = self.permits.acquire().await.expect("never closed");
        let c = &self.config;
        let mut child = Command::new(&c.program)
            .arg(SUBCOMMAND)
            .arg("--settings")
            .arg(&self.settings)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| {
                tracing::error!(program = %c.program.display(), error = %e, "cannot start the document reader");
                ExtractError::Failed("the document reader could not be started".into())
            })?;
        let mut stdin = child.stdin.take().expect("stdin is piped");
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr = child.stderr.take().expect("stderr is piped");
        // The JSON of the sections; escapes can make it larger than the text.
        // Both outputs are read to their end, so the worker never blocks on a
        // full pipe; past the cap they are only counted.
        let output_cap = c.limits.max_text_bytes.saturating_mul(2) + (1 << 20);
        let write = async move {
            // A worker that stopped early closed its end; its status says why.
            let _ = stdin.write_all(&bytes).await;
        };
        let io = async {
            let (out, err, ()) = tokio::join!(
                read_capped(stdout, output_cap),
                read_capped(stderr, STDERR_KEPT as u64),
                write
            );
            (out, err, child.wait().await)
        };
        let finished = tokio::time::timeout(c.timeout, io).await;
        let Ok((out, err, status)) = finished else {
            let _ = child.kill().await;
            tracing::warn!(
                timeout_secs = c.timeout.as_secs(),
                "document reader stopped at its deadline"
            );
            return Err(ExtractError::TooLarge(format!(
                "it takes longer than {} s to read",
                c.timeout.as_secs()
            )));
        };
        let status = status.map_err(|e| {
            tracing::error!(error = %e, "cannot wait for the document reader");
            ExtractError::Failed("the document reader was lost".into())
        })?;
        if out.len() as u64 > output_cap {
            return Err(c.limits.text_too_large());
        }
        if status.success() {
            return serde_json::from_slice(&out).unwrap_or_else(|e| {
                tracing::error!(error = %e, "the document reader's answer does not parse");
                Err(ExtractError::Failed(
                    "the document reader gave no answer".into(),
                ))
            });
        }
        let stderr = String::from_utf8_lossy(&err);
        tracing::warn!(status = %status, stderr = %stderr, "document reader stopped");
        Err(why_stopped(status, &stderr, c))
    }
}

/// The refusal for a worker that ended without an answer.
fn why_stopped(status: ExitStatus, stderr: &str, c: &SandboxConfig) -> ExtractError {
    // The soft CPU limit sends SIGXCPU, the hard one SIGKILL.
    if matches!(status.signal(), Some(libc::SIGXCPU | libc::SIGKILL)) {
        return ExtractError::TooLarge(format!(
            "it takes more than {} s of processing to read",
            c.timeout.as_secs()
        ));
    }
    // What Rust's allocator prints before it aborts.
    if stderr.contains("memory allocation of") {
        return ExtractError::TooLarge(format!(
            "it needs more than {} MiB of memory to read",
            c.memory_bytes >> 20
        ));
    }
    ExtractError::Failed(
        "the reader crashed on it; the file may be damaged or built to attack readers".into(),
    )
}

/// Everything `from` yields, keeping the first `cap + 1` bytes: one more
/// than allowed tells the caller the cap was passed. Reads to the end so a
/// writer on the other side never blocks on a full pipe.
async fn read_capped(mut from: impl AsyncRead + Unpin, cap: u64) -> Vec<u8> {
    let mut kept = Vec::new();
    let mut buf = vec![0u8; 64 << 10];
    loop {
        match from.read(&mut buf).await {
            Ok(0) | Err(_) => return kept,
            Ok(n) => {
                let room = (cap + 1).saturating_sub(kept.len() as u64) as usize;
                kept.extend_from_slice(&buf[..n.min(room)]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reading_keeps_one_byte_past_the_cap_and_drains_the_rest() {
        let data = vec![7u8; 200_000];
        let kept = read_capped(&data[..], 1000).await;
        assert_eq!(kept.len(), 1001);
        let kept = read_capped(&data[..], 1 << 20).await;
        assert_eq!(kept.len(), 200_000);
    }

    fn config() -> SandboxConfig {
        SandboxConfig {
            program: PathBuf::from("/nonexistent/bacopilot"),
            limits: Limits::default(),
            memory_bytes: 1 << 30,
            timeout: Duration::from_secs(30),
            workers: 1,
        }
    }

    #[test]
    fn a_worker_killed_for_cpu_time_or_out_of_memory_is_a_size_refusal() {
        let by_signal = ExitStatus::from_raw;
        let cpu = why_stopped(by_signal(libc::SIGXCPU), "", &config());
        assert!(
            matches!(&cpu, ExtractError::TooLarge(m) if m.contains("30 s")),
            "{cpu:?}"
        );
        let oom = why_stopped(
            by_signal(libc::SIGABRT),
            "memory allocation of 1073741824 bytes failed\n",
            &config(),
        );
        assert!(
            matches!(&oom, ExtractError::TooLarge(m) if m.contains("1024 MiB")),
            "{oom:?}"
        );
        let crash = why_stopped(
            by_signal(libc::SIGABRT),
            "thread 'main' has overflowed its stack\n",
            &config(),
        );
        assert!(matches!(crash, ExtractError::Failed(_)), "{crash:?}");
    }

    /// A stand-in worker: a shell script running `body`.
    fn script(name: &str, body: &str) -> SandboxConfig {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("bacopilot-sandbox-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let program = dir.join(name);
        std::fs::write(&program, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
        SandboxConfig {
            program,
            timeout: Duration::from_secs(1),
            ..config()
        }
    }

    async fn run(config: SandboxConfig) -> Result<Extracted, ExtractError> {
        Sandbox::new(config)
            .extract(Arc::new(b"some document".to_vec()))
            .await
    }

    #[tokio::test]
    async fn the_workers_answer_is_read_back() {
        let answer = r#"{"Ok":{"kind":"text","sections":[{"text":"hi","page":null,"heading":null}],"pages":null}}"#;
        let config = script(
            "answer.sh",
            &format!("cat > /dev/null; printf '%s' '{answer}'"),
        );
        let doc = run(config).await.unwrap();
        assert_eq!(doc.sections[0].text, "hi");
    }

    #[tokio::test]
    async fn a_worker_past_its_deadline_is_killed_and_the_document_refused() {
        // The worker would sleep 30 s; the error names the 1 s deadline.
        let err = run(script("sleeps.sh", "exec sleep 30")).await;
        assert!(
            matches!(&err, Err(ExtractError::TooLarge(m)) if m.contains("longer than 1 s")),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn a_worker_that_crashes_is_a_failure() {
        let err = run(script(
            "crashes.sh",
            "echo 'thread main has overflowed its stack' >&2; kill -SEGV $$",
        ))
        .await;
        assert!(matches!(err, Err(ExtractError::Failed(_))), "{err:?}");
    }

    #[tokio::test]
    async fn a_worker_that_cannot_start_is_a_failure_not_a_panic() {
        let sandbox = Sandbox::new(config());
        let err = sandbox.extract(Arc::new(b"text".to_vec())).await;
        assert!(matches!(err, Err(ExtractError::Failed(_))), "{err:?}");
    }
}
