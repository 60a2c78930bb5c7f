//! Events and their webhooks. [`emit`] queues one delivery per registered
//! endpoint that wants the event, in SQLite, so a delivery survives a
//! restart; [`deliver`] sends the queue, signed, retrying with backoff.
//! Command-line processes (`bacopilot users add`, `keys create`, `backup`)
//! emit into the same queue and the serving process delivers.

pub mod deliver;
pub mod routes;

use serde_json::{json, Value};
use sqlx::SqlitePool;
use tokio::sync::Notify;

use crate::store::new_id;

/// Every event an endpoint may ask for.
pub const TYPES: [&str; 10] = [
    "document.ready",
    "document.failed",
    "srs.generated",
    "wireframe.generated",
    "conversation.answered",
    "user.created",
    "key.created",
    "key.revoked",
    "backup.done",
    "backup.failed",
];

/// Sent to one endpoint by its "send test event" button.
pub const TEST: &str = "webhook.test";

/// The event a job of `kind` raises when it ends with `status`.
pub fn for_job(kind: &str, status: &str) -> Option<&'static str> {
    match (kind, status) {
        ("ingest", "succeeded") => Some("document.ready"),
        ("ingest", "failed") => Some("document.failed"),
        ("srs" | "srs_section", "succeeded") => Some("srs.generated"),
        ("wireframe" | "wireframe_change", "succeeded") => Some("wireframe.generated"),
        _ => None,
    }
}

/// The event an audited action raises: accounts and keys change from the
/// API and from the command line alike, and both are audited.
pub fn for_audit(action: &str) -> Option<&'static str> {
    match action {
        "user.create" => Some("user.created"),
        "key.create" => Some("key.created"),
        "key.revoke" => Some("key.revoked"),
        _ => None,
    }
}

/// Wakes the deliverer in this process when something is queued.
static QUEUED: Notify = Notify::const_new();

/// Queues `kind` with `data` for every endpoint that wants it. Never fails
/// its caller: what happened happened whether or not anyone is told, and a
/// queueing error is logged.
pub async fn emit(pool: &SqlitePool, kind: &str, data: Value) {
    match queue(pool, kind, data, None).await {
        Ok(0) => {}
        Ok(_) => QUEUED.notify_one(),
        Err(e) => tracing::error!(event = kind, error = %e, "cannot queue the event's webhooks"),
    }
}

/// Queues `kind` for the endpoints that want it, or only for `webhook`.
/// Answers how many deliveries were queued.
pub(crate) async fn queue(
    pool: &SqlitePool,
    kind: &str,
    data: Value,
    webhook: Option<&str>,
) -> Result<u64, sqlx::Error> {
    let event_id = new_id();
    let body = json!({
        "id": event_id,
        "type": kind,
        "created": chrono::Utc::now().timestamp(),
        "data": data,
    })
    .to_string();
    let now = chrono::Utc::now().timestamp_millis();
    // One statement: the endpoints are read and the deliveries written in
    // the same instant. Delivery ids are the event id and the endpoint's.
    let done = sqlx::query(
        "INSERT INTO webhook_deliveries (id, webhook_id, event_id, type, body, next_at)
         SELECT ?1 || '.' || w.id, w.id, ?1, ?2, ?3, ?4 FROM webhooks w
         WHERE (?5 IS NULL AND EXISTS (SELECT 1 FROM json_each(w.events) e WHERE e.value = ?2))
            OR w.id = ?5",
    )
    .bind(&event_id)
    .bind(kind)
    .bind(&body)
    .bind(now)
    .bind(webhook)
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}
