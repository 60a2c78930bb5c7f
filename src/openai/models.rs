//! `GET /v1/models` and `GET /v1/models/{id}`: the ready models and their aliases.

use axum::extract::{Path, State};
use axum::Json;
use serde_json::{json, Value};

use crate::app::AppState;
use crate::auth::Identity;
use crate::generation::route::Allowed;
use crate::http::AppError;
use crate::inference::registry::Slot;

fn describe(id: &str, slot: &Slot) -> Option<Value> {
    let (kind, context) = match slot {
        Slot::Chat(m) => ("chat", Some(m.context_length)),
        Slot::Embedding(e) => ("embedding", Some(e.max_tokens())),
        Slot::Loading | Slot::Failed(_) => return None,
    };
    Some(json!({
        "id": id,
        "object": "model",
        "created": 0,
        "owned_by": "bacopilot",
        "kind": kind,
        "context_length": context,
    }))
}

pub async fn list(State(s): State<AppState>, who: Identity) -> Json<Value> {
    let snapshot = s.registry.snapshot();
    let mut data: Vec<Value> = snapshot
        .iter()
        .filter_map(|(id, slot)| describe(id, slot))
        .collect();
    let mut aliases: Vec<_> = s.registry.aliases().iter().collect();
    aliases.sort();
    for (alias, target) in aliases {
        if let Some((_, slot)) = snapshot.iter().find(|(id, _)| id == target) {
            data.extend(describe(alias, slot));
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
    let slot = s.registry.get(&id)?;
    describe(&id, &slot)
        .map(Json)
        .ok_or_else(|| AppError::ModelNotFound(format!("The model `{id}` does not exist")))
}
