//! The circuit breaker of one upstream: consecutive failures (calls or
//! probes) take it out of every chain; probes that succeed bring it back.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

#[derive(Debug)]
pub struct Breaker {
    failures: AtomicU32,
    open: AtomicBool,
    probes_ok: AtomicU32,
    /// Times it opened, for `/metrics`.
    opened: AtomicU64,
    threshold: u32,
    needed: u32,
}

impl Breaker {
    /// Opens after `threshold` failures in a row; closes after `needed`
    /// successful probes in a row.
    pub fn new(threshold: u32, needed: u32) -> Self {
        Self {
            failures: AtomicU32::new(0),
            open: AtomicBool::new(false),
            probes_ok: AtomicU32::new(0),
            opened: AtomicU64::new(0),
            threshold: threshold.max(1),
            needed: needed.max(1),
        }
    }

    /// True while calls may go to this target.
    pub fn closed(&self) -> bool {
        !self.open.load(Ordering::Acquire)
    }

    pub fn times_opened(&self) -> u64 {
        self.opened.load(Ordering::Relaxed)
    }

    pub fn failures(&self) -> u32 {
        self.failures.load(Ordering::Relaxed)
    }

    /// A call or probe failed: one more in a row.
    pub fn failure(&self) {
        self.probes_ok.store(0, Ordering::Relaxed);
        let n = self.failures.fetch_add(1, Ordering::AcqRel) + 1;
        if n >= self.threshold && !self.open.swap(true, Ordering::AcqRel) {
            self.opened.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(failures = n, "upstream taken out of its chains");
        }
    }

    /// A call succeeded (a call only reaches a closed breaker).
    pub fn success(&self) {
        self.failures.store(0, Ordering::Release);
    }

    /// A health probe succeeded: an open breaker closes after enough of them.
    pub fn probe_ok(&self) {
        if self.closed() {
            self.failures.store(0, Ordering::Release);
            return;
        }
        if self.probes_ok.fetch_add(1, Ordering::AcqRel) + 1 >= self.needed {
            self.failures.store(0, Ordering::Release);
            self.probes_ok.store(0, Ordering::Relaxed);
            self.open.store(false, Ordering::Release);
            tracing::info!("upstream back in its chains");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_the_threshold_and_closes_after_probes() {
        let b = Breaker::new(3, 2);
        b.failure();
        b.failure();
        assert!(b.closed());
        b.success();
        b.failure();
        b.failure();
        assert!(b.closed(), "a success resets the count");
        b.failure();
        assert!(!b.closed());
        assert_eq!(b.times_opened(), 1);
        b.probe_ok();
        assert!(!b.closed(), "one probe of the two needed");
        b.failure();
        b.probe_ok();
        assert!(!b.closed(), "a failed probe restarts the count");
        b.probe_ok();
        assert!(b.closed());
        assert_eq!(b.failures(), 0);
    }
}
