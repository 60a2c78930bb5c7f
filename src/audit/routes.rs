//! `/api/v1/audit` for administrators: the log with filters, and as CSV.

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::{Actor, Entry, Filter};
use crate::app::AppState;
use crate::auth::{Action, Identity};
use crate::http::routes::Routes;
use crate::http::AppError;
use crate::store::Page;
use utoipa_axum::routes;

/// Most rows in one export.
const EXPORT_ROWS: i64 = 100_000;

pub fn router() -> Routes {
    Routes::new().api(routes!(list)).api(routes!(export))
}

/// Audit rows, newest first.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(Filter),
    responses((status = 200, body = Page<Entry>), (status = 403)))]
pub async fn list(
    State(s): State<AppState>,
    who: Identity,
    Query(f): Query<Filter>,
) -> Result<Json<Page<Entry>>, AppError> {
    who.require(Action::ReadAudit)?;
    let limit = f.limit();
    let rows = super::search(&s.store.pool, &f, limit + 1).await?;
    let more = rows.len() as i64 > limit;
    let data: Vec<Entry> = rows.into_iter().take(limit as usize).collect();
    let next_cursor = more
        .then(|| data.last().map(|e| e.seq.to_string()))
        .flatten();
    Ok(Json(Page { data, next_cursor }))
}

/// The matching rows as a CSV download (at most 100 000).
#[utoipa::path(get, path = "/api/v1/audit/export", tag = "audit", params(Filter),
    responses((status = 200, content_type = "text/csv"), (status = 403)))]
pub async fn export(
    State(s): State<AppState>,
    who: Identity,
    Query(f): Query<Filter>,
) -> Result<Response, AppError> {
    who.require(Action::ReadAudit)?;
    let rows = super::search(&s.store.pool, &f, EXPORT_ROWS).await?;
    let body = super::to_csv(&rows)?;
    super::record(
        &s.store.pool,
        Actor::from(&who),
        "audit.export",
        None,
        json!({"rows": rows.len(), "actor": f.actor, "action": f.action, "since": f.since, "until": f.until}),
    )
    .await;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"audit-log.csv\"",
            ),
        ],
        body,
    )
        .into_response())
}
