//! `GET /v1/models` and `GET /v1/models/{id}`: the models in the models
//! directory (loaded or not: an unloaded one loads on first use) and their
//! aliases. Listing reads the directory again, so a file just copied in shows.

use axum::extract::{Path, State};
use axum::Json;
use serde_json::{json, Value};

use crate::app::AppState;
use crate::auth::Identity;
use crate::generation::route::Allowed;
use crate::http::AppError;
use crate::inference::registry::{Known, ModelKind, Slot};

/// A model in OpenAI's shape, with our `kind`, `context_length` (known once
/// loaded) and `state`; a file that failed to load is left out.
fn describe(id: &str, known: &Known) -> Option<Value> {
    let context = match &known.slot {
        Slot::Chat(m) => Some(m.context_length),
        Slot::Embedding(e) => Some(e.max_tokens()),
        Slot::Unloaded | Slot::Loading => None,
        Slot::Failed(_) => return None,
    };
    let kind = match known.candidate.kind {
        ModelKind::Chat => "chat",
        ModelKind::Embedding => "embedding",
    };
    Some(json!({
        "id": id,
        "object": "model",
        "created": 0,
        "owned_by": "bacopilot",
        "kind": kind,
        "context_length": context,
        "state": known.slot.state(),
    }))
}

pub async fn list(State(s): State<AppState>, who: Identity) -> Json<Value> {
    let registry = s.registry.clone();
    let _ = tokio::task::spawn_blocking(move || registry.rescan()).await;
    let snapshot = s.registry.snapshot();
    let mut data: Vec<Value> = snapshot
        .iter()
        .filter_map(|k| describe(&k.candidate.id, k))
        .collect();
    let mut aliases: Vec<_> = s.registry.aliases().iter().collect();
    aliases.sort();
    for (alias, target) in aliases {
        if let Some(k) = snapshot.iter().find(|k| &k.candidate.id == target) {
            data.extend(describe(alias, k));
        }
    }
    let upstreams = match super::upstream::allowed(&who) {
        Allowed::LocalOnly => &[][..],
        _ => s.generation.upstreams().all(),
    };
    for p in upstreams {
        for m in p.models() {
            data.push(upstream_model(&p.name, &m, p.context_length));
        }
    }
    Json(json!({"object": "list", "data": data}))
}

/// A model an upstream serves, as `provider/model`, owned by the provider.
fn upstream_model(provider: &str, model: &str, context: usize) -> Value {
    json!({
        "id": format!("{provider}/{model}"),
        "object": "model",
        "created": 0,
        "owned_by": provider,
        "kind": "chat",
        "context_length": (context > 0).then_some(context),
    })
}

pub async fn get(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    if let Some((name, model)) = id.split_once('/') {
        if let Some(p) = s.generation.upstreams().get(name) {
            if p.models().iter().any(|m| m == model) {
                return Ok(Json(upstream_model(name, model, p.context_length)));
            }
        }
    }
    s.registry.get(&id)?;
    let target = s.registry.resolve(&id).to_string();
    s.registry
        .snapshot()
        .iter()
        .find(|k| k.candidate.id == target)
        .and_then(|k| describe(&id, k))
        .map(Json)
        .ok_or_else(|| AppError::ModelNotFound(format!("The model `{id}` does not exist")))
}
