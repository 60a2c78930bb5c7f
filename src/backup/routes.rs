//! `/api/v1/admin/backups`: list the backups in `[backup] dir`, take one now
//! (a job), and download one as a tar archive (administrators; audited).

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::schedule::{BackupError, Listed};
use crate::app::AppState;
use crate::audit;
use crate::auth::{Action, Identity};
use crate::http::routes::Routes;
use crate::http::AppError;
use crate::jobs::Started;

pub fn router() -> Routes {
    Routes::new()
        .api(utoipa_axum::routes!(list, start))
        .api(utoipa_axum::routes!(download))
}

impl From<BackupError> for AppError {
    fn from(e: BackupError) -> Self {
        match e {
            BackupError::NotConfigured => AppError::Conflict(e.to_string()),
            BackupError::Busy => AppError::Conflict(e.to_string()),
            BackupError::Failed(m) => AppError::Internal(m),
        }
    }
}

/// The complete backups in `[backup] dir`, oldest first.
#[utoipa::path(get, path = "/api/v1/admin/backups", tag = "backups",
    responses((status = 200, description = "`{\"object\": \"list\", \"dir\", \"keep\", \"interval_secs\", \"data\": [Listed]}`"), (status = 403)))]
pub async fn list(State(s): State<AppState>, who: Identity) -> Result<Json<Value>, AppError> {
    who.require(Action::ManageSettings)?;
    let c = &s.config.backup;
    let data: Vec<Listed> = s.backups.list();
    Ok(Json(json!({
        "object": "list",
        "dir": s.backups.dir().map(|d| d.display().to_string()),
        "keep": c.keep,
        "interval_secs": c.interval_secs,
        "data": data,
    })))
}

/// Takes a backup now, as a job (follow it at `/api/v1/jobs/{job_id}`; its
/// result names the backup). 409 when no directory is configured or one is
/// running.
#[utoipa::path(post, path = "/api/v1/admin/backups", tag = "backups",
    responses((status = 202, body = Started), (status = 403), (status = 409)))]
pub async fn start(
    State(s): State<AppState>,
    who: Identity,
) -> Result<(StatusCode, Json<Started>), AppError> {
    who.require(Action::ManageSettings)?;
    if s.backups.dir().is_none() {
        return Err(BackupError::NotConfigured.into());
    }
    if s.backups.is_running() {
        return Err(BackupError::Busy.into());
    }
    let job = s.jobs.start("backup", None, json!({})).await?;
    let started = job.started();
    let backups = s.backups.clone();
    tokio::spawn(async move {
        job.progress(0.0, "copying the database, vectors and files")
            .await;
        let outcome = backups.take((&who).into()).await;
        match outcome {
            Ok((name, m)) => {
                let result =
                    json!({"backup": name, "created_at": m.created_at, "counts": m.counts});
                job.finish(
                    "succeeded",
                    &format!("backup {name} written"),
                    Some(&result),
                )
                .await
            }
            Err(e) => job.finish("failed", &e.to_string(), None).await,
        }
    });
    Ok((StatusCode::ACCEPTED, Json(started)))
}

/// One backup as an uncompressed tar archive of its directory (manifest
/// included, so `bacopilot backup --verify` checks it after unpacking).
#[utoipa::path(get, path = "/api/v1/admin/backups/{name}/download", tag = "backups",
    params(("name" = String, Path)),
    responses((status = 200, description = "`application/x-tar`: the backup's directory"), (status = 403), (status = 404)))]
pub async fn download(
    State(s): State<AppState>,
    who: Identity,
    Path(name): Path<String>,
) -> Result<Response, AppError> {
    who.require(Action::ManageSettings)?;
    let dir = s
        .backups
        .find(&name)
        .ok_or_else(|| AppError::NotFound(format!("There is no backup `{name}`")))?;
    audit::record(
        &s.store.pool,
        (&who).into(),
        "backup.download",
        Some(&name),
        json!({}),
    )
    .await;
    let (writer, reader) = tokio::io::duplex(1 << 16);
    let top = name.clone();
    tokio::task::spawn_blocking(move || {
        let mut tar = tar::Builder::new(tokio_util::io::SyncIoBridge::new(writer));
        tar.follow_symlinks(false);
        if let Err(e) = tar.append_dir_all(&top, &dir).and_then(|()| tar.finish()) {
            // The client sees a cut-off archive; tar refuses it.
            tracing::warn!(backup = %top, error = %e, "backup download stopped");
        }
    });
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(reader));
    Ok((
        [
            (header::CONTENT_TYPE, "application/x-tar".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}.tar\""),
            ),
        ],
        body,
    )
        .into_response())
}
