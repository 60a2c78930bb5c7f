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

    /// `Err(wait)` while either the account or the address has used up its
    /// failures in the window.
    pub fn check(&self, account: &str, address: &str) -> Result<(), Duration> {
        self.check_at(account, address, Instant::now())
    }

    fn check_at(&self, account: &str, address: &str, now: Instant) -> Result<(), Duration> {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let limits = [self.per_account, self.per_address];
        let mut wait = Duration::ZERO;
        for (key, limit) in Self::keys(account, address).iter().zip(limits) {
            if let Some(times) = map.get_mut(key) {
                times.retain(|t| now.duration_since(*t) < self.window);
                if times.len() >= limit as usize {
                    let oldest = times[times.len() - limit as usize];
                    wait = wait.max(self.window - now.duration_since(oldest));
                }
            }
        }
        if wait.is_zero() {
            Ok(())
        } else {
            Err(wait)
        }
    }

    pub fn failed(&self, account: &str, address: &str) {
        self.failed_at(account, address, Instant::now());
    }

    fn failed_at(&self, account: &str, address: &str, now: Instant) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_TRACKED {
            map.retain(|_, times| times.iter().any(|t| now.duration_since(*t) < self.window));
        }
        for key in Self::keys(account, address) {
            map.entry(key).or_default().push(now);
        }
    }

    /// A successful login clears the account's failures (not the address's).
    pub fn succeeded(&self, account: &str) {
        let [key, _] = Self::keys(account, "");
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&key);
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

    #[test]
    fn login_failures_lock_the_account_and_the_address_until_the_window_passes() {
        let t = LoginThrottle::new(&AuthConfig {
            login_failures_per_account: 2,
            login_failures_per_address: 3,
            login_window_secs: 60,
            ..AuthConfig::default()
        });
        let t0 = Instant::now();
        t.failed_at("Alice", "10.0.0.1", t0);
        assert!(t.check_at("alice", "10.0.0.2", t0).is_ok());
        t.failed_at("alice", "10.0.0.1", t0);
        let wait = t.check_at("ALICE", "10.0.0.9", t0).unwrap_err();
        assert_eq!(
            wait,
            Duration::from_secs(60),
            "account locked from any address"
        );
        t.failed_at("bob", "10.0.0.1", t0);
        assert!(
            t.check_at("carol", "10.0.0.1", t0).is_err(),
            "address locked for any account"
        );
        assert!(t.check_at("carol", "10.0.0.2", t0).is_ok());
        assert!(t
            .check_at("alice", "10.0.0.2", t0 + Duration::from_secs(61))
            .is_ok());
    }
}
