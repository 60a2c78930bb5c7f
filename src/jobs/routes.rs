//! `/api/v1/jobs/{jid}`: status, cancel, and progress as server-sent events.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::Json;
use futures::{Stream, StreamExt};
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;

use super::Job;
use crate::app::AppState;
use crate::audit::{self, Actor};
use crate::auth::{Action, Identity};
use crate::http::routes::Routes;
use crate::http::AppError;
use crate::projects::{access_within, Need};
use utoipa_axum::routes;

pub fn router() -> Routes {
    Routes::new()
        .api(routes!(show, cancel))
        .api(routes!(events))
}

#[utoipa::path(get, path = "/api/v1/jobs/{jid}", params(("jid" = String, Path)), tag = "jobs",
    responses((status = 200, body = Job), (status = 404)))]
pub async fn show(
    State(s): State<AppState>,
    who: Identity,
    Path(jid): Path<String>,
) -> Result<Json<Job>, AppError> {
    visible(&s, &who, &jid, Need::Read).await?;
    Ok(Json(s.jobs.get(&jid).await?))
}

/// 404 unless the job belongs to a project `who` may use for `need` (jobs
/// of no project are for administrators).
async fn visible(
    s: &AppState,
    who: &Identity,
    jid: &str,
    need: Need,
) -> Result<Option<String>, AppError> {
    let sql = "SELECT project_id FROM jobs WHERE id = ?1";
    let (project,): (Option<String>,) = crate::store::by_id(&s.store.pool, sql, "job", jid).await?;
    match &project {
        Some(pid) => access_within(&s.store.pool, who, pid, need, "job", jid).await?,
        None => who.require(Action::AnyProject)?,
    }
    Ok(project)
}

/// Asks a running job to stop; answers the job as it stands (a job that has
/// already finished is left as it is).
#[utoipa::path(delete, path = "/api/v1/jobs/{jid}", params(("jid" = String, Path)), tag = "jobs",
    responses((status = 200, body = Job), (status = 404)))]
pub async fn cancel(
    State(s): State<AppState>,
    who: Identity,
    Path(jid): Path<String>,
) -> Result<Json<Job>, AppError> {
    let project_id = visible(&s, &who, &jid, Need::Write).await?;
    let job = s.jobs.get(&jid).await?;
    s.jobs.cancel(&jid);
    let details = json!({"project_id": project_id, "kind": job.kind, "status": job.status});
    audit::record(
        &s.store.pool,
        Actor::from(&who),
        "job.cancel",
        Some(&jid),
        details,
    )
    .await;
    Ok(Json(job))
}

/// `event: job` with the job's JSON at every change, starting with its
/// current state; the stream ends after the job finishes.
#[utoipa::path(get, path = "/api/v1/jobs/{jid}/events", params(("jid" = String, Path)), tag = "jobs",
    responses((status = 200, content_type = "text/event-stream", description = "job events"), (status = 404)))]
pub async fn events(
    State(s): State<AppState>,
    who: Identity,
    Path(jid): Path<String>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, AppError> {
    visible(&s, &who, &jid, Need::Read).await?;
    // Subscribe before reading the row, so no change falls between the two.
    let subscription = s.jobs.subscribe(&jid);
    let current = s.jobs.get(&jid).await?;
    let (tx, rx) = tokio::sync::mpsc::channel::<Job>(16);
    tokio::spawn(async move {
        let done = current.is_finished();
        if tx.send(current).await.is_err() || done {
            return;
        }
        let Some(mut events) = subscription else {
            return;
        };
        loop {
            match events.recv().await {
                Ok(job) => {
                    let done = job.is_finished();
                    if tx.send(job).await.is_err() || done {
                        return;
                    }
                }
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return,
            }
        }
    });
    let stream = tokio_stream::wrappers::ReceiverStream::new(rx).map(|job| {
        Ok(Event::default()
            .event("job")
            .json_data(&job)
            .unwrap_or_default())
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
