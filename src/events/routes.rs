//! `/api/v1/webhooks`: administrators register endpoints for events (the
//! signing secret is shown once, at registration), list and delete them,
//! read each one's delivery log and send it a test event. Targets must be on
//! `[webhooks] allowed_hosts`.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::{IntoParams, ToSchema};

use super::{queue, QUEUED, TEST, TYPES};
use crate::app::AppState;
use crate::audit;
use crate::auth::{Action, Identity};
use crate::http::extract::ApiJson;
use crate::http::routes::Routes;
use crate::http::AppError;
use crate::store::{by_id, new_id};

pub fn router() -> Routes {
    Routes::new()
        .api(utoipa_axum::routes!(list, create))
        .api(utoipa_axum::routes!(show, delete))
        .api(utoipa_axum::routes!(deliveries))
        .api(utoipa_axum::routes!(test))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    /// `http://` or `https://`, on a host in `[webhooks] allowed_hosts`.
    pub url: String,
    /// Event types, e.g. `["document.ready", "srs.generated"]`; `["*"]` for all.
    pub events: Vec<String>,
}

#[derive(Debug, Serialize, sqlx::FromRow, ToSchema)]
pub struct Webhook {
    pub id: String,
    pub url: String,
    #[sqlx(json)]
    pub events: Vec<String>,
    pub created_by: Option<String>,
    pub created_at: String,
    /// Deliveries waiting for their next attempt.
    pub pending: i64,
    /// Deliveries given up after every attempt failed.
    pub failed: i64,
}

/// The registration's answer: the endpoint and, this once, its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct Created {
    #[serde(flatten)]
    pub webhook: Webhook,
    /// The HMAC-SHA256 key for `x-bacopilot-signature`; not shown again.
    pub secret: String,
}

#[derive(Debug, Serialize, sqlx::FromRow, ToSchema)]
pub struct Delivery {
    pub id: String,
    pub event_id: String,
    /// The event type.
    #[serde(rename = "type")]
    pub kind: String,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    pub attempts: i64,
    /// The receiver's last HTTP status, if it answered.
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Limit {
    /// Newest first; at most 200 (default 50).
    pub limit: Option<u32>,
}

const SELECT: &str = "SELECT w.id, w.url, w.events, w.created_by, w.created_at,
    (SELECT count(*) FROM webhook_deliveries d WHERE d.webhook_id = w.id AND d.status = 'pending') AS pending,
    (SELECT count(*) FROM webhook_deliveries d WHERE d.webhook_id = w.id AND d.status = 'failed') AS failed
    FROM webhooks w";

/// Where a URL points, without its path and query: receivers such as chat
/// services put their token in the path, and the audit log keeps what it is
/// given for years.
pub fn origin(url: &str) -> String {
    reqwest::Url::parse(url)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_else(|_| "(not a URL)".into())
}

/// Whether `url` may be a webhook target under `allowed` (see the config).
pub fn allowed(url: &str, allowed: &[String]) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("`{url}` is not a URL: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!("`{url}`: a webhook URL is http:// or https://"));
    }
    let host = parsed
        .host_str()
        .ok_or_else(|| format!("`{url}` names no host"))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    let port = parsed.port_or_known_default().unwrap_or(0);
    // An IPv6 entry with a port is written in brackets (`[::1]:9000`);
    // `::1:9000` is an address of its own, never ::1 on port 9000.
    let with_port = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let ok = allowed.iter().any(|a| {
        let a = a.trim().to_ascii_lowercase();
        let bare = a.trim_start_matches('[').trim_end_matches(']');
        a == "*" || bare == host || a == with_port
    });
    if ok {
        Ok(())
    } else if allowed.is_empty() {
        Err("webhooks are off: no host is allowed; add the receiver's host to [webhooks] allowed_hosts in the config".into())
    } else {
        Err(format!(
            "`{host}` (port {port}) is not in [webhooks] allowed_hosts; add it to the config to allow it"
        ))
    }
}

#[utoipa::path(get, path = "/api/v1/webhooks", tag = "webhooks",
    responses((status = 200, description = "`{\"object\": \"list\", \"data\": [Webhook], \"events\": [every event type]}`"), (status = 403)))]
pub async fn list(State(s): State<AppState>, who: Identity) -> Result<Json<Value>, AppError> {
    who.require(Action::ManageSettings)?;
    let rows: Vec<Webhook> = sqlx::query_as(&format!("{SELECT} ORDER BY w.created_at"))
        .fetch_all(&s.store.pool)
        .await?;
    Ok(Json(
        json!({"object": "list", "data": rows, "events": TYPES, "allowed_hosts": s.config.webhooks.allowed_hosts}),
    ))
}

/// Registers an endpoint; the answer carries its signing secret, once.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks", request_body = NewWebhook,
    responses((status = 201, body = Created), (status = 400), (status = 403)))]
pub async fn create(
    State(s): State<AppState>,
    who: Identity,
    ApiJson(body): ApiJson<NewWebhook>,
) -> Result<(StatusCode, Json<Created>), AppError> {
    who.require(Action::ManageSettings)?;
    let url = body.url.trim().to_string();
    allowed(&url, &s.config.webhooks.allowed_hosts).map_err(|m| AppError::invalid("url", m))?;
    let events: Vec<String> = if body.events.iter().any(|e| e == "*") {
        TYPES.iter().map(|t| t.to_string()).collect()
    } else {
        body.events.clone()
    };
    if events.is_empty() {
        return Err(AppError::invalid(
            "events",
            format!("name at least one event: {}", TYPES.join(", ")),
        ));
    }
    if let Some(bad) = events.iter().find(|e| !TYPES.contains(&e.as_str())) {
        return Err(AppError::invalid(
            "events",
            format!("`{bad}` is not an event; events are {}", TYPES.join(", ")),
        ));
    }
    let id = new_id();
    let secret = format!("whsec_{}", hex::encode(rand::random::<[u8; 32]>()));
    sqlx::query(
        "INSERT INTO webhooks (id, url, events, secret, created_by) VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .bind(&id)
    .bind(&url)
    .bind(json!(events).to_string())
    .bind(&secret)
    .bind(&who.name)
    .execute(&s.store.pool)
    .await?;
    audit::record(
        &s.store.pool,
        (&who).into(),
        "webhook.create",
        Some(&id),
        json!({"origin": origin(&url), "events": events}),
    )
    .await;
    let webhook = fetch(&s, &id).await?;
    Ok((StatusCode::CREATED, Json(Created { webhook, secret })))
}

async fn fetch(s: &AppState, id: &str) -> Result<Webhook, AppError> {
    Ok(by_id(
        &s.store.pool,
        &format!("{SELECT} WHERE w.id = ?1"),
        "webhook",
        id,
    )
    .await?)
}

#[utoipa::path(get, path = "/api/v1/webhooks/{id}", tag = "webhooks", params(("id" = String, Path)),
    responses((status = 200, body = Webhook), (status = 403), (status = 404)))]
pub async fn show(
    State(s): State<AppState>,
    who: Identity,
    Path(id): Path<String>,
) -> Result<Json<Webhook>, AppError> {
    who.require(Action::ManageSettings)?;
    Ok(Json(fetch(&s, &id).await?))
}

/// Removes the endpoint and its queued deliveries.
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "webhooks", params(("id" = String, Path)),
    responses((status = 204), (status = 403), (status = 404)))]
pub async fn delete(
    State(s): State<AppState>,
    who: Identity,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    who.require(Action::ManageSettings)?;
    let hook = fetch(&s, &id).await?;
    sqlx::query("DELETE FROM webhooks WHERE id = ?1")
        .bind(&id)
        .execute(&s.store.pool)
        .await?;
    audit::record(
        &s.store.pool,
        (&who).into(),
        "webhook.delete",
        Some(&id),
        json!({"origin": origin(&hook.url)}),
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

/// The endpoint's delivery log, newest first.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", tag = "webhooks",
    params(("id" = String, Path), Limit),
    responses((status = 200, description = "`{\"object\": \"list\", \"data\": [Delivery]}`"), (status = 403), (status = 404)))]
pub async fn deliveries(
    State(s): State<AppState>,
    who: Identity,
    Path(id): Path<String>,
    Query(q): Query<Limit>,
) -> Result<Json<Value>, AppError> {
    who.require(Action::ManageSettings)?;
    fetch(&s, &id).await?;
    let rows: Vec<Delivery> = sqlx::query_as(
        "SELECT id, event_id, type AS kind, status, attempts, last_status, last_error, created_at, updated_at
         FROM webhook_deliveries WHERE webhook_id = ?1 ORDER BY created_at DESC, id DESC LIMIT ?2",
    )
    .bind(&id)
    .bind(i64::from(q.limit.unwrap_or(50).clamp(1, 200)))
    .fetch_all(&s.store.pool)
    .await?;
    Ok(Json(json!({"object": "list", "data": rows})))
}

/// Queues a `webhook.test` event for this endpoint alone.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/test", tag = "webhooks", params(("id" = String, Path)),
    responses((status = 202, description = "`{\"queued\": 1}`"), (status = 403), (status = 404)))]
pub async fn test(
    State(s): State<AppState>,
    who: Identity,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    who.require(Action::ManageSettings)?;
    fetch(&s, &id).await?;
    let data = json!({"webhook_id": id, "by": who.name, "message": "a test event from BA Copilot"});
    let n = queue(&s.store.pool, TEST, data, Some(&id)).await?;
    QUEUED.notify_one();
    Ok((StatusCode::ACCEPTED, Json(json!({"queued": n}))))
}

#[cfg(test)]
mod tests {
    use super::allowed;

    fn hosts(h: &[&str]) -> Vec<String> {
        h.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_target_must_be_on_the_allowlist_by_host_or_host_and_port() {
        let list = hosts(&["hooks.lan", "10.0.0.7:9000"]);
        assert!(allowed("https://hooks.lan/x", &list).is_ok());
        assert!(allowed("http://HOOKS.lan:8080/x", &list).is_ok());
        assert!(allowed("http://10.0.0.7:9000/", &list).is_ok());
        let v6 = hosts(&["[::1]:9000", "fd00::7"]);
        assert!(allowed("http://[::1]:9000/", &v6).is_ok());
        assert!(allowed("http://[::1]:9001/", &v6).is_err());
        assert!(allowed("http://[fd00::7]:1234/", &v6).is_ok());
        // `::1:9000` is an address, not ::1 on port 9000.
        assert!(allowed("http://[::1:9000]:80/", &v6).is_err());
        assert!(allowed("http://[::1]:9000/", &hosts(&["::1:9000"])).is_err());
        assert_eq!(
            super::origin("https://hooks.example/services/T0/B0/secret-token?x=1"),
            "https://hooks.example"
        );
        assert!(allowed("http://10.0.0.7:9001/", &list).is_err());
        assert!(allowed("http://evil.example/", &list).is_err());
        assert!(allowed("ftp://hooks.lan/", &list).is_err());
        assert!(allowed("http://anything/", &hosts(&["*"])).is_ok());
        let off = allowed("http://hooks.lan/", &[]).unwrap_err();
        assert!(off.contains("allowed_hosts"), "{off}");
    }
}
