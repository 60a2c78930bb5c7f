//! Sends the queued deliveries: each a POST of the stored body with
//! `x-bacopilot-event: <type>` and `x-bacopilot-signature: t=<unix
//! seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" under the endpoint's secret>`.
//! A 2xx answer delivers it; anything else (or no answer within
//! `timeout_secs`) retries after `retry_base_ms`, doubling each time up to an
//! hour, until `max_attempts`. Redirects are not followed: they could lead
//! off the allowlist.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use sqlx::SqlitePool;

use super::QUEUED;
use crate::config::WebhooksConfig;

/// How often the queue is read when nothing in this process woke it (events
/// emitted by command-line processes).
const POLL: Duration = Duration::from_secs(1);
const MAX_BACKOFF_MS: u64 = 3_600_000;
/// At most this many deliveries in flight at once.
const PARALLEL: usize = 8;

/// Delivery counts for `/metrics`.
#[derive(Default)]
pub struct DeliveryCounts {
    pub delivered: AtomicU64,
    pub attempts_failed: AtomicU64,
    pub given_up: AtomicU64,
}

#[derive(sqlx::FromRow)]
struct Due {
    id: String,
    kind: String,
    body: String,
    attempts: i64,
    url: String,
    secret: String,
}

/// The signature header's value for `body` sent at `t` (unix seconds).
pub fn signature(secret: &str, t: i64, body: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// The wait before attempt `attempts + 1`, after `attempts` failed.
pub fn backoff_ms(base_ms: u64, attempts: u32) -> u64 {
    let doublings = attempts.saturating_sub(1).min(30);
    base_ms
        .saturating_mul(1u64 << doublings)
        .min(MAX_BACKOFF_MS)
}

/// Starts delivering the queue for as long as the server runs.
pub fn spawn(pool: SqlitePool, config: WebhooksConfig, counts: Arc<DeliveryCounts>) {
    let client = match reqwest::Client::builder()
        .timeout(Duration::from_secs(config.timeout_secs.max(1)))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("bacopilot/", env!("CARGO_PKG_VERSION")))
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "cannot build the webhook client; webhooks are not delivered");
            return;
        }
    };
    tokio::spawn(async move {
        loop {
            let wait = match round(&pool, &client, &config, &counts).await {
                Ok(wait) => wait,
                Err(e) => {
                    tracing::error!(error = %e, "cannot read the webhook queue");
                    POLL
                }
            };
            tokio::select! {
                _ = QUEUED.notified() => {}
                _ = tokio::time::sleep(wait) => {}
            }
        }
    });
}

/// Sends what is due; answers how long to wait before the next round.
async fn round(
    pool: &SqlitePool,
    client: &reqwest::Client,
    config: &WebhooksConfig,
    counts: &DeliveryCounts,
) -> Result<Duration, sqlx::Error> {
    let now = chrono::Utc::now().timestamp_millis();
    let due: Vec<Due> = sqlx::query_as(
        "SELECT d.id, d.type AS kind, d.body, d.attempts, w.url, w.secret
         FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
         WHERE d.status = 'pending' AND d.next_at <= ?1 ORDER BY d.next_at LIMIT 64",
    )
    .bind(now)
    .fetch_all(pool)
    .await?;
    futures::stream::iter(due)
        .for_each_concurrent(PARALLEL, |d| async move {
            let outcome = attempt(client, config, &d).await;
            if let Err(e) = settle(pool, config, counts, &d, outcome).await {
                tracing::error!(delivery = %d.id, error = %e, "cannot record a webhook delivery");
            }
        })
        .await;
    let next: Option<i64> =
        sqlx::query_scalar("SELECT min(next_at) FROM webhook_deliveries WHERE status = 'pending'")
            .fetch_one(pool)
            .await?;
    let now = chrono::Utc::now().timestamp_millis();
    Ok(match next {
        Some(at) => Duration::from_millis((at - now).clamp(0, POLL.as_millis() as i64) as u64),
        None => POLL,
    })
}

/// One POST: `Ok(status)` for a 2xx, else the reason it failed (with the
/// status when the receiver answered).
async fn attempt(
    client: &reqwest::Client,
    config: &WebhooksConfig,
    d: &Due,
) -> Result<u16, (Option<u16>, String)> {
    if let Err(e) = super::routes::allowed(&d.url, &config.allowed_hosts) {
        return Err((None, e));
    }
    let t = chrono::Utc::now().timestamp();
    let sent = client
        .post(&d.url)
        .header("content-type", "application/json")
        .header("x-bacopilot-event", &d.kind)
        .header("x-bacopilot-delivery", &d.id)
        .header("x-bacopilot-signature", signature(&d.secret, t, &d.body))
        .body(d.body.clone())
        .send()
        .await;
    match sent {
        Ok(r) if r.status().is_success() => Ok(r.status().as_u16()),
        Ok(r) => Err((
            Some(r.status().as_u16()),
            format!("the receiver answered {}", r.status()),
        )),
        Err(e) if e.is_timeout() => {
            Err((None, format!("no answer within {} s", config.timeout_secs)))
        }
        // Without the URL: a token in its path would go to the delivery log.
        Err(e) => Err((
            None,
            format!("cannot reach the receiver: {}", causes(&e.without_url())),
        )),
    }
}

/// An error with its causes (reqwest's own sentence names only the URL; the
/// cause says "connection refused" or "dns error").
fn causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

async fn settle(
    pool: &SqlitePool,
    config: &WebhooksConfig,
    counts: &DeliveryCounts,
    d: &Due,
    outcome: Result<u16, (Option<u16>, String)>,
) -> Result<(), sqlx::Error> {
    let attempts = d.attempts + 1;
    let (status, next_at, last_status, last_error) = match outcome {
        Ok(code) => {
            counts.delivered.fetch_add(1, Ordering::Relaxed);
            ("delivered", 0, Some(code), None)
        }
        Err((code, error)) => {
            counts.attempts_failed.fetch_add(1, Ordering::Relaxed);
            if attempts >= i64::from(config.max_attempts.max(1)) {
                counts.given_up.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(delivery = %d.id, attempts, error = %error, "webhook delivery given up");
                ("failed", 0, code, Some(error))
            } else {
                let wait = backoff_ms(config.retry_base_ms, attempts as u32);
                let at = chrono::Utc::now().timestamp_millis() + wait as i64;
                ("pending", at, code, Some(error))
            }
        }
    };
    sqlx::query(
        "UPDATE webhook_deliveries SET status = ?2, attempts = ?3, next_at = ?4, last_status = ?5,
         last_error = ?6, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?1",
    )
    .bind(&d.id)
    .bind(status)
    .bind(attempts)
    .bind(next_at)
    .bind(last_status.map(i64::from))
    .bind(last_error)
    .execute(pool)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_over_the_timestamp_a_dot_and_the_body() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let sig = signature("Jefe", 0, "what do ya want for nothing?");
        let mut mac = Hmac::<Sha256>::new_from_slice(b"Jefe").unwrap();
        mac.update(b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac.finalize().into_bytes()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let mut mac = Hmac::<Sha256>::new_from_slice(b"Jefe").unwrap();
        mac.update(b"0.what do ya want for nothing?");
        assert_eq!(
            sig,
            format!("t=0,v1={}", hex::encode(mac.finalize().into_bytes()))
        );
    }

    #[test]
    fn retries_wait_twice_as_long_each_time_up_to_an_hour() {
        assert_eq!(backoff_ms(1000, 1), 1000);
        assert_eq!(backoff_ms(1000, 2), 2000);
        assert_eq!(backoff_ms(1000, 4), 8000);
        assert_eq!(backoff_ms(1000, 40), MAX_BACKOFF_MS);
    }
}
