//! `/api/v1/admin/models`: every model in the models directory with its file
//! size, architecture, quantization, context, memory and state, and the
//! operator's load, unload and delete; `/api/v1/admin/pulls`: GGUFs pulled
//! from the hub with their progress (administrators; each action audited).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use super::chat_model;
use super::pulls::{PullError, PullView};
use super::registry::{Known, ModelKind, Registry, Slot};
use crate::app::AppState;
use crate::audit;
use crate::auth::{Action, Identity};
use crate::http::extract::ApiJson;
use crate::http::routes::Routes;
use crate::http::AppError;

pub fn router() -> Routes {
    Routes::new()
        .api(utoipa_axum::routes!(list))
        .api(utoipa_axum::routes!(load))
        .api(utoipa_axum::routes!(unload))
        .api(utoipa_axum::routes!(delete))
        .api(utoipa_axum::routes!(list_pulls, start_pull))
        .api(utoipa_axum::routes!(show_pull, cancel_pull))
}

/// What the file says about itself, and the memory it may hold: from the
/// model when it is loaded, else read from the file's header (once).
struct FileFacts {
    size: u64,
    architecture: Option<String>,
    quantization: Option<String>,
    context_length: Option<u64>,
    memory: Option<u64>,
    /// What a loaded model holds now.
    resident: Option<u64>,
}

fn file_facts(known: &Known, opts: &chat_model::LoadOptions) -> FileFacts {
    let c = &known.candidate;
    match (&known.slot, c.kind) {
        // The list is polled: a loaded model answers without its file being read.
        (Slot::Chat(m), _) => FileFacts {
            size: m.info.file_size,
            architecture: Some(m.info.architecture.clone()),
            quantization: Some(m.quantization.clone()),
            context_length: Some(m.context_length as u64),
            memory: Some(m.memory_bytes),
            resident: Some(m.resident_bytes()),
        },
        (slot, ModelKind::Embedding) => {
            let size = super::embeddings::Embedder::file_bytes(&c.path);
            FileFacts {
                size,
                architecture: Some("bert".into()),
                quantization: Some("F32".into()),
                context_length: match slot {
                    Slot::Embedding(e) => Some(e.max_tokens() as u64),
                    _ => None,
                },
                memory: Some(size),
                // Its f32 weights, as the file holds them.
                resident: matches!(slot, Slot::Embedding(_)).then_some(size),
            }
        }
        (slot, ModelKind::Chat) => {
            let info = super::gguf_check::validate(&c.path).ok();
            let quantization = info.as_ref().and_then(|_| {
                let mut f = std::fs::File::open(&c.path).ok()?;
                let content = candle_core::quantized::gguf_file::Content::read(&mut f).ok()?;
                Some(chat_model::quantization(&content))
            });
            FileFacts {
                size: std::fs::metadata(&c.path).map_or(0, |m| m.len()),
                architecture: info.as_ref().map(|i| i.architecture.clone()),
                quantization,
                context_length: info.as_ref().and_then(|i| i.context_length),
                memory: match slot {
                    Slot::Failed(_) => None,
                    _ => info.as_ref().map(|i| chat_model::memory_needed(i, opts)),
                },
                resident: None,
            }
        }
    }
}

fn describe(known: &Known, opts: &chat_model::LoadOptions) -> Value {
    let c = &known.candidate;
    let facts = file_facts(known, opts);
    let (in_flight, error) = match &known.slot {
        Slot::Chat(m) => (m.in_flight(), None),
        Slot::Failed(e) => (0, Some(e.clone())),
        _ => (0, None),
    };
    json!({
        "id": c.id,
        "kind": c.kind,
        "file": c.path.file_name().map(|f| f.to_string_lossy().into_owned()),
        "size_bytes": facts.size,
        "architecture": facts.architecture,
        "quantization": facts.quantization,
        "context_length": facts.context_length,
        "memory_bytes": facts.memory,
        "resident_bytes": facts.resident,
        "state": known.slot.state(),
        "error": error,
        "in_flight": in_flight,
        "idle_secs": known.idle.as_secs(),
        "keep_alive_secs": known.keep_alive.map(|k| k.as_secs()),
        "role_model": known.pinned,
    })
}

/// One model's row, after an action.
fn row(registry: &Registry, id: &str) -> Result<Value, AppError> {
    let target = registry.resolve(id).to_string();
    registry
        .snapshot()
        .iter()
        .find(|k| k.candidate.id == target)
        .map(|k| describe(k, registry.load_options()))
        .ok_or_else(|| AppError::ModelNotFound(format!("The model `{id}` does not exist")))
}

/// Every model file, loaded or not (the directory is read again first).
#[utoipa::path(get, path = "/api/v1/admin/models", tag = "models",
    responses((status = 200, description = "`{\"data\": [{\"id\", \"kind\", \"file\", \"size_bytes\", \"architecture\", \"quantization\", \"context_length\", \"memory_bytes\", \"resident_bytes\", \"state\", \"error\", \"in_flight\", \"idle_secs\", \"keep_alive_secs\", \"role_model\"}]}`"), (status = 403)))]
pub async fn list(State(s): State<AppState>, who: Identity) -> Result<Json<Value>, AppError> {
    who.require(Action::ManageModels)?;
    let registry = s.registry.clone();
    let data = tokio::task::spawn_blocking(move || {
        registry.rescan();
        let opts = registry.load_options();
        registry
            .snapshot()
            .iter()
            .map(|k| describe(k, opts))
            .collect::<Vec<_>>()
    })
    .await
    .map_err(|e| AppError::Internal(format!("model list: {e}")))?;
    Ok(Json(json!({"object": "list", "data": data})))
}

/// Loads a model now (again after a failure) and answers once it is ready.
#[utoipa::path(post, path = "/api/v1/admin/models/{id}/load", tag = "models",
    params(("id" = String, Path)),
    responses((status = 200), (status = 403), (status = 404), (status = 503)))]
pub async fn load(
    State(s): State<AppState>,
    who: Identity,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    who.require(Action::ManageModels)?;
    let outcome = s.registry.load(&id).await;
    let details = json!({"ok": outcome.is_ok()});
    audit::record(
        &s.store.pool,
        (&who).into(),
        "model.load",
        Some(&id),
        details,
    )
    .await;
    outcome?;
    blocking_row(&s.registry, id).await
}

/// Unloads a model; 409 while it serves requests.
#[utoipa::path(post, path = "/api/v1/admin/models/{id}/unload", tag = "models",
    params(("id" = String, Path)),
    responses((status = 200), (status = 403), (status = 404), (status = 409)))]
pub async fn unload(
    State(s): State<AppState>,
    who: Identity,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    who.require(Action::ManageModels)?;
    s.registry.unload(&id)?;
    audit::record(
        &s.store.pool,
        (&who).into(),
        "model.unload",
        Some(&id),
        json!({}),
    )
    .await;
    blocking_row(&s.registry, id).await
}

/// Unloads a model and deletes its file; a role model cannot be deleted (409).
#[utoipa::path(delete, path = "/api/v1/admin/models/{id}", tag = "models",
    params(("id" = String, Path)),
    responses((status = 204), (status = 403), (status = 404), (status = 409)))]
pub async fn delete(
    State(s): State<AppState>,
    who: Identity,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    who.require(Action::ManageModels)?;
    s.registry.delete(&id)?;
    audit::record(
        &s.store.pool,
        (&who).into(),
        "model.delete",
        Some(&id),
        json!({}),
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

/// [`row`] off the runtime (it reads the file's header).
async fn blocking_row(registry: &Arc<Registry>, id: String) -> Result<Json<Value>, AppError> {
    let registry = registry.clone();
    tokio::task::spawn_blocking(move || row(&registry, &id))
        .await
        .map_err(|e| AppError::Internal(format!("model row: {e}")))?
        .map(Json)
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPull {
    /// The hub repository, `owner/name`.
    repo: String,
    /// The GGUF in it; when absent, its Q4_K_M file, else its first GGUF.
    file: Option<String>,
}

impl From<PullError> for AppError {
    fn from(e: PullError) -> Self {
        match e {
            PullError::Invalid(m) => AppError::BadRequest {
                param: None,
                message: m,
            },
            PullError::Conflict(m) => AppError::Conflict(m),
        }
    }
}

fn pull_not_found(id: &str) -> AppError {
    AppError::NotFound(format!("There is no pull `{id}`"))
}

/// Pulls running and recently ended, newest first.
#[utoipa::path(get, path = "/api/v1/admin/pulls", tag = "models",
    responses((status = 200, description = "`{\"data\": [{\"id\", \"repo\", \"file\", \"state\", \"received_bytes\", \"total_bytes\", \"error\", \"model\", \"sha256\", \"started\", \"finished\"}]}`; `state` is resolving, downloading, verifying, done, failed or cancelled"), (status = 403)))]
pub async fn list_pulls(State(s): State<AppState>, who: Identity) -> Result<Json<Value>, AppError> {
    who.require(Action::ManageModels)?;
    Ok(Json(json!({"object": "list", "data": s.pulls.list()})))
}

/// Starts downloading a GGUF from the hub (`models.hub_endpoint`, else
/// `HF_ENDPOINT`, else huggingface.co) into the models directory; answers at
/// once (202) with the pull to follow. The file is served once its SHA-256 and
/// header check out; a pull that fails leaves nothing in the models directory.
#[utoipa::path(post, path = "/api/v1/admin/pulls", tag = "models",
    request_body = NewPull,
    responses((status = 202), (status = 400), (status = 403), (status = 409)))]
pub async fn start_pull(
    State(s): State<AppState>,
    who: Identity,
    ApiJson(body): ApiJson<NewPull>,
) -> Result<(StatusCode, Json<PullView>), AppError> {
    who.require(Action::ManageModels)?;
    let (view, outcome) = s.pulls.start(body.repo.trim(), body.file.as_deref())?;
    audit::record(
        &s.store.pool,
        (&who).into(),
        "model.pull",
        Some(&view.repo),
        json!({"pull": view.id, "file": view.file}),
    )
    .await;
    // The outcome goes into the audit log under the same administrator.
    let (pool, pull) = (s.store.pool.clone(), view.id.clone());
    tokio::spawn(async move {
        let details = match outcome.await {
            Ok(Ok(m)) => json!({"pull": pull, "ok": true, "model": m.id, "sha256": m.sha256}),
            Ok(Err(e)) => json!({"pull": pull, "ok": false, "error": e}),
            Err(_) => return,
        };
        let actor = audit::Actor {
            name: Some(&who.name),
            address: &who.address,
        };
        audit::record(&pool, actor, "model.pull.end", Some(&pull), details).await;
    });
    Ok((StatusCode::ACCEPTED, Json(view)))
}

#[utoipa::path(get, path = "/api/v1/admin/pulls/{id}", tag = "models",
    params(("id" = String, Path)),
    responses((status = 200), (status = 403), (status = 404)))]
pub async fn show_pull(
    State(s): State<AppState>,
    who: Identity,
    Path(id): Path<String>,
) -> Result<Json<PullView>, AppError> {
    who.require(Action::ManageModels)?;
    s.pulls
        .get(&id)
        .map(Json)
        .ok_or_else(|| pull_not_found(&id))
}

/// Stops a running pull and removes what it downloaded; answers the pull as it ended.
#[utoipa::path(delete, path = "/api/v1/admin/pulls/{id}", tag = "models",
    params(("id" = String, Path)),
    responses((status = 200), (status = 403), (status = 404)))]
pub async fn cancel_pull(
    State(s): State<AppState>,
    who: Identity,
    Path(id): Path<String>,
) -> Result<Json<PullView>, AppError> {
    who.require(Action::ManageModels)?;
    let view = s
        .pulls
        .cancel(&id)
        .await
        .ok_or_else(|| pull_not_found(&id))?;
    audit::record(
        &s.store.pool,
        (&who).into(),
        "model.pull.cancel",
        Some(&id),
        json!({"state": view.state}),
    )
    .await;
    Ok(Json(view))
}
