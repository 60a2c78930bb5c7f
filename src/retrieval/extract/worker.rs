//! The child side of [`super::sandbox`]: `bacopilot extract-worker` limits
//! its own memory and CPU time, reads a document on standard input and
//! writes the outcome, `Result<Extracted, ExtractError>`, as JSON on
//! standard output. The limits are set before a byte of the document is read.

use std::io::{Read, Write};
use std::panic::catch_unwind;

use serde::{Deserialize, Serialize};

use super::{extract, ExtractError, Extracted, Limits};

/// What the parent tells the worker, as JSON on its command line.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Settings {
    pub limits: Limits,
    /// Address space the worker may map, in bytes (`RLIMIT_AS`).
    pub memory_bytes: u64,
    /// CPU time the worker may use, in seconds (`RLIMIT_CPU`).
    pub cpu_secs: u64,
}

/// Exit status of a worker that could not start its work; the parent reads
/// any status but 0 as a failure, this one just names the cause in logs.
const SETUP_FAILED: i32 = 3;

/// Runs the worker; returns the process's exit status.
pub fn run(settings: &str) -> i32 {
    let settings: Settings = match serde_json::from_str(settings) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("extract-worker: bad settings: {e}");
            return SETUP_FAILED;
        }
    };
    if let Err(e) = limit_self(settings.memory_bytes, settings.cpu_secs) {
        eprintln!("extract-worker: cannot set resource limits: {e}");
        return SETUP_FAILED;
    }
    let mut bytes = Vec::new();
    if let Err(e) = std::io::stdin().lock().read_to_end(&mut bytes) {
        eprintln!("extract-worker: cannot read the document: {e}");
        return SETUP_FAILED;
    }
    let outcome: Result<Extracted, ExtractError> =
        catch_unwind(|| extract(&bytes, &settings.limits)).unwrap_or_else(|_| {
            Err(ExtractError::Failed(
                "the reader stopped on an error in the file".into(),
            ))
        });
    let mut out = std::io::stdout().lock();
    let written = serde_json::to_writer(&mut out, &outcome)
        .map_err(std::io::Error::from)
        .and_then(|()| out.flush());
    match written {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("extract-worker: cannot write the outcome: {e}");
            SETUP_FAILED
        }
    }
}

/// Caps this process's address space and CPU time (never above the caps
/// it already has), and turns off core dumps: a crash on a hostile file
/// should leave nothing on disk. The soft CPU limit sends SIGXCPU; the hard
/// one, a second later, SIGKILL.
fn limit_self(memory_bytes: u64, cpu_secs: u64) -> std::io::Result<()> {
    // A macro, not a function: the type of the resource argument differs
    // between C libraries.
    macro_rules! lower {
        ($resource:expr, $soft:expr, $hard:expr) => {{
            let mut current = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            // SAFETY: getrlimit and setrlimit only read or write the struct
            // they are given.
            check(unsafe { libc::getrlimit($resource, &mut current) })?;
            let (soft, hard): (libc::rlim_t, libc::rlim_t) = ($soft, $hard);
            let hard = hard.min(current.rlim_max);
            let wanted = libc::rlimit {
                rlim_cur: soft.min(hard),
                rlim_max: hard,
            };
            check(unsafe { libc::setrlimit($resource, &wanted) })
        }};
    }
    lower!(libc::RLIMIT_CORE, 0, 0)?;
    lower!(libc::RLIMIT_AS, memory_bytes, memory_bytes)?;
    lower!(libc::RLIMIT_CPU, cpu_secs, cpu_secs.saturating_add(1))
}

fn check(status: libc::c_int) -> std::io::Result<()> {
    if status == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}
