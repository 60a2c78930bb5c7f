//! Request rate limits per user and route class (token buckets), and the
//! login throttle per account and per client address (failures in a window).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::config::{AuthConfig, LimitsConfig};

/// Route classes, limited separately: inference costs the most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    Inference,
    Write,
    Read,
}

/// Above this many tracked keys, stale entries are dropped before adding one.
const MAX_TRACKED: usize = 10_000;

struct Bucket {
    tokens: f64,
    at: Instant,
}

pub struct RateLimiter {
    per_minute: HashMap<Class, u32>,
    buckets: Mutex<HashMap<(String, Class), Bucket>>,
}

impl RateLimiter {
    pub fn new(c: &LimitsConfig) -> Self {
        Self {
            per_minute: HashMap::from([
                (Class::Inference, c.inference_per_minute),
                (Class::Write, c.write_per_minute),
                (Class::Read, c.read_per_minute),
            ]),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request from `user`'s bucket for `class`; `Err(wait)` when
    /// it is empty. A bucket holds a minute's worth and refills continuously.
    pub fn take(&self, user: &str, class: Class) -> Result<(), Duration> {
        self.take_at(user, class, Instant::now())
    }

    fn take_at(&self, user: &str, class: Class, now: Instant) -> Result<(), Duration> {
        let per_minute = f64::from(self.per_minute[&class].max(1));
        let rate = per_minute / 60.0;
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= MAX_TRACKED {
            // A full bucket is the same as no bucket.
            buckets.retain(|_, b| now.duration_since(b.at).as_secs_f64() * rate < per_minute);
        }
        let b = buckets.entry((user.to_string(), class)).or_insert(Bucket {
            tokens: per_minute,
            at: now,
        });
        b.tokens = (b.tokens + now.duration_since(b.at).as_secs_f64() * rate).min(per_minute);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - b.tokens) / rate))
        }
    }
}

/// Failed logins per account and per address within a sliding window.
pub struct LoginThrottle {
    per_account: u32,
    per_address: u32,
    window: Duration,
    failures: Mutex<HashMap<String, Vec<Instant>>>,
}

/// A sign-in attempt, counted as a failure from before its password is
/// checked: concurrent guesses cannot all pass the limit before any of them
/// has been counted.
#[must_use = "an attempt is settled with `succeeded` or `release`, or stays a failure"]
pub struct Attempt {
    keys: [String; 2],
    at: Instant,
}

impl LoginThrottle {
    pub fn new(c: &AuthConfig) -> Self {
        Self {
            per_account: c.login_failures_per_account.max(1),
            per_address: c.login_failures_per_address.max(1),
            window: Duration::from_secs(c.login_window_secs.max(1)),
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn keys(account: &str, address: &str) -> [String; 2] {
        [
            format!("account:{}", account.to_lowercase()),
            format!("address:{address}"),
        ]
    }

    /// Counts an attempt for the account and the address, or `Err(wait)`
    /// while either has used up its failures in the window. The check and
    /// the count happen under one lock.
    pub fn reserve(&self, account: &str, address: &str) -> Result<Attempt, Duration> {
        self.reserve_at(account, address, Instant::now())
    }

    fn reserve_at(&self, account: &str, address: &str, now: Instant) -> Result<Attempt, Duration> {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_TRACKED {
            map.retain(|_, times| times.iter().any(|t| now.duration_since(*t) < self.window));
        }
        let keys = Self::keys(account, address);
        let limits = [self.per_account, self.per_address];
        let mut wait = Duration::ZERO;
        for (key, limit) in keys.iter().zip(limits) {
            if let Some(times) = map.get_mut(key) {
                times.retain(|t| now.duration_since(*t) < self.window);
                if times.len() >= limit as usize {
                    let oldest = times[times.len() - limit as usize];
                    wait = wait.max(self.window - now.duration_since(oldest));
                }
            }
        }
        if !wait.is_zero() {
            return Err(wait);
        }
        for key in &keys {
            map.entry(key.clone()).or_default().push(now);
        }
        Ok(Attempt { keys, at: now })
    }

    fn forget(map: &mut HashMap<String, Vec<Instant>>, key: &str, at: Instant) {
        if let Some(times) = map.get_mut(key) {
            if let Some(i) = times.iter().position(|t| *t == at) {
                times.swap_remove(i);
            }
        }
    }

    /// The password was right: the account's failures are cleared, and the
    /// attempt is not held against the address (its other failures stay).
    pub fn succeeded(&self, attempt: Attempt) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let [account, address] = &attempt.keys;
        map.remove(account);
        Self::forget(&mut map, address, attempt.at);
    }

    /// The password was never checked (the server was too busy): the
    /// attempt is not a failure.
    pub fn release(&self, attempt: Attempt) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        for key in &attempt.keys {
            Self::forget(&mut map, key, attempt.at);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(per_minute: u32) -> RateLimiter {
        RateLimiter::new(&LimitsConfig {
            inference_per_minute: per_minute,
            write_per_minute: per_minute,
            read_per_minute: per_minute * 10,
        })
    }

    #[test]
    fn a_bucket_allows_a_minutes_worth_then_refills_over_time() {
        let l = limiter(3);
        let t0 = Instant::now();
        for _ in 0..3 {
            l.take_at("u", Class::Inference, t0).unwrap();
        }
        let wait = l.take_at("u", Class::Inference, t0).unwrap_err();
        assert!((19.0..=20.0).contains(&wait.as_secs_f64()), "{wait:?}");
        assert!(l.take_at("other", Class::Inference, t0).is_ok(), "per user");
        assert!(l.take_at("u", Class::Read, t0).is_ok(), "per class");
        assert!(l
            .take_at("u", Class::Inference, t0 + Duration::from_secs(20))
            .is_ok());
    }

    fn throttle(per_account: u32, per_address: u32) -> LoginThrottle {
        LoginThrottle::new(&AuthConfig {
            login_failures_per_account: per_account,
            login_failures_per_address: per_address,
            login_window_secs: 60,
            ..AuthConfig::default()
        })
    }

    #[test]
    fn login_failures_lock_the_account_and_the_address_until_the_window_passes() {
        let t = throttle(2, 3);
        let t0 = Instant::now();
        let _ = t.reserve_at("Alice", "10.0.0.1", t0).unwrap();
        let _ = t.reserve_at("alice", "10.0.0.1", t0).unwrap();
        let wait = t.reserve_at("ALICE", "10.0.0.9", t0).err().unwrap();
        assert_eq!(
            wait,
            Duration::from_secs(60),
            "account locked from any address"
        );
        let _ = t.reserve_at("bob", "10.0.0.1", t0).unwrap();
        assert!(
            t.reserve_at("carol", "10.0.0.1", t0).is_err(),
            "address locked for any account"
        );
        assert!(t.reserve_at("carol", "10.0.0.2", t0).is_ok());
        assert!(t
            .reserve_at("alice", "10.0.0.2", t0 + Duration::from_secs(61))
            .is_ok());
    }

    #[test]
    fn attempts_count_before_their_outcome_so_only_the_limit_gets_through() {
        let t = throttle(3, 100);
        let t0 = Instant::now();
        // Thirty guesses arriving together, none settled yet.
        let admitted: Vec<Attempt> = (0..30)
            .filter_map(|_| t.reserve_at("alice", "10.0.0.1", t0).ok())
            .collect();
        assert_eq!(admitted.len(), 3);
    }

    #[test]
    fn a_success_clears_the_account_and_a_release_is_not_a_failure() {
        let t = throttle(2, 2);
        let t0 = Instant::now();
        let _ = t.reserve_at("alice", "10.0.0.1", t0).unwrap();
        let ok = t.reserve_at("alice", "10.0.0.1", t0).unwrap();
        t.succeeded(ok);
        assert!(
            t.reserve_at("alice", "10.0.0.2", t0).is_ok(),
            "the account is clear again"
        );
        let unchecked = t.reserve_at("bob", "10.0.0.1", t0).unwrap();
        t.release(unchecked);
        assert!(
            t.reserve_at("carol", "10.0.0.1", t0).is_ok(),
            "the released attempt left room for one more"
        );
        assert!(t.reserve_at("dave", "10.0.0.1", t0).is_err());
    }
}
