//! The application: [`AppState`] (every handle a handler may need) and the
//! whole router, assembled from each feature's routes, with the health,
//! readiness and metrics endpoints.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use crate::auth::{Action, Auth, Identity};
use crate::config::Config;
use crate::generation::Generator;
use crate::http::extract::BodyLimit;
use crate::http::routes::Routes;
use crate::http::{guard, AppError};
use crate::inference::registry::Registry;
use crate::jobs::Jobs;
use crate::metrics::Metrics;
use crate::retrieval::files::FileStore;
use crate::retrieval::vectors::VectorStore;
use crate::store::Store;

/// Everything a handler may need; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub registry: Arc<Registry>,
    /// The one way features reach a model (roles, queue policy, embeddings).
    pub generation: Arc<Generator>,
    pub metrics: Arc<Metrics>,
    pub store: Store,
    pub vectors: Arc<VectorStore>,
    pub files: Arc<FileStore>,
    pub jobs: Arc<Jobs>,
    pub auth: Arc<Auth>,
    /// Bounds on the work uploads start (document readers, ingest jobs).
    pub uploads: Arc<crate::retrieval::uploads::Uploads>,
}

/// Every route of the server (tests walk [`Routes::paths`]).
pub fn routes(max_upload_bytes: usize) -> Routes {
    Routes::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .merge(crate::openai::router())
        .merge(crate::auth::routes::router())
        .merge(crate::audit::routes::router())
        .merge(crate::projects::routes::router())
        .merge(crate::retrieval::routes::router(max_upload_bytes))
        .merge(crate::chat::routes::router())
        .merge(crate::srs::routes::router())
        .merge(crate::wireframe::routes::router())
        .merge(crate::jobs::routes::router())
        .merge(crate::openapi::router())
        .merge(crate::web::router())
}

/// The whole router, for `serve` and for tests. From the outside in:
/// trace, security headers (so every refusal below carries them too), `Host`
/// check, CORS, timeouts and body limits, then authentication, then the route.
pub fn router(state: AppState) -> Router {
    let server = &state.config.server;
    let limit = server.max_body_bytes;
    let timeout = Duration::from_secs(server.request_timeout_secs.max(1));
    let cors = guard::cors(&server.cors_origins);
    let router = routes(state.config.documents.max_upload_bytes)
        .into_router()
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::auth::middleware::authenticate,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            count_requests,
        ))
        .layer(middleware::from_fn(move |mut req: Request, next: Next| {
            req.extensions_mut().insert(BodyLimit(limit));
            next.run(req)
        }))
        .layer(DefaultBodyLimit::max(limit))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            guard::body_deadline,
        ))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ));
    let router = match cors {
        Some(c) => router.layer(c),
        None => router,
    };
    router
        .layer(middleware::from_fn_with_state(
            state.clone(),
            guard::check_host,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            guard::security_headers,
        ))
        // Failures are logged where they happen (AppError, the engine); the trace
        // layer's own failure log would repeat every 503 from /readyz polls.
        .layer(tower_http::trace::TraceLayer::new_for_http().on_failure(()))
        .with_state(state)
}

async fn healthz() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

/// 200 once the default chat and embedding models are loaded, 503 before.
async fn readyz(State(s): State<AppState>) -> Response {
    if s.registry.ready() {
        Json(json!({"status": "ready"})).into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "loading"})),
        )
            .into_response()
    }
}

async fn metrics(State(s): State<AppState>, who: Identity) -> Result<Response, AppError> {
    who.require(Action::ReadMetrics)?;
    Ok((
        [("content-type", "text/plain; version=0.0.4")],
        s.metrics.render(),
    )
        .into_response())
}

async fn not_found() -> AppError {
    AppError::NotFound("No such route".into())
}

/// Counts every request by its route template (not the raw path, which would
/// let clients create unbounded label sets) and status.
async fn count_requests(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let res = next.run(req).await;
    s.metrics.record_request(&route, res.status().as_u16());
    res
}
