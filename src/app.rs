//! The application: [`AppState`] (every handle a handler may need), [`start`]
//! (stores opened, models loading), the whole router assembled from each
//! feature's routes with the health, readiness and metrics endpoints, and
//! [`run`], which serves it on a listener.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
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
use crate::http::listen::{self, Listener};
use crate::http::routes::Routes;
use crate::http::{guard, AppError};
use crate::inference::registry::{discover, Registry};
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
    /// Models downloading from the hub at an administrator's request.
    pub pulls: Arc<crate::inference::pulls::Pulls>,
    /// Backups into `[backup] dir`, scheduled and requested.
    pub backups: Arc<crate::backup::schedule::Backups>,
    /// Webhook delivery counts, for `/metrics`.
    pub deliveries: Arc<crate::events::deliver::DeliveryCounts>,
    /// Cancelled when the drain deadline of a shutdown passes: open event
    /// streams end with a final error event (see `http::drain`).
    pub stopping: tokio_util::sync::CancellationToken,
    /// Open WebSocket sessions: the server does not wait for upgraded
    /// connections, so shutdown waits for these itself.
    pub sockets: Arc<std::sync::atomic::AtomicUsize>,
}

/// Every route of the server (tests walk [`Routes::paths`]).
pub fn routes(max_upload_bytes: usize) -> Routes {
    let features = Routes::new()
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
        .merge(crate::inference::routes::router())
        .merge(crate::backup::routes::router())
        .merge(crate::events::routes::router());
    let doc = crate::openapi::document(&features);
    features
        .merge(crate::openapi::router(doc))
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
            crate::http::drain::cut_streams,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::http::guard::authenticate::authenticate,
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

/// Opens the stores in the data directory, builds the state and starts
/// loading every model found on a background thread; `/readyz` turns 200
/// when the defaults are in.
pub async fn start(config: Config) -> anyhow::Result<AppState> {
    let data = config.server.data_dir.clone();
    std::fs::create_dir_all(&data)
        .with_context(|| format!("cannot create the data directory {}", data.display()))?;
    let store = Store::open(&data).await?;
    crate::srs::template::seed(&store.pool)
        .await
        .context("cannot store the built-in SRS outline")?;
    let lance_dir = data.join("lancedb");
    let vectors = VectorStore::open(
        &lance_dir.to_string_lossy(),
        config.documents.vector_index_min_rows,
    )
    .await
    .with_context(|| format!("cannot open the vector store {}", lance_dir.display()))?;
    let files = FileStore::open(data.join("files"))
        .with_context(|| format!("cannot create {}", data.join("files").display()))?;
    let metrics = Arc::new(Metrics::default());
    let jobs = Jobs::new(store.pool.clone(), metrics.clone());
    jobs.fail_interrupted().await?;
    let dir = &config.models.dir;
    let candidates = discover(dir)
        .with_context(|| format!("cannot read the models directory {}", dir.display()))?;
    if candidates.is_empty() {
        tracing::warn!(dir = %dir.display(), "no models found; run scripts/fetch-models.sh");
    }
    let registry = Arc::new(Registry::new(&candidates, &config, metrics.clone()));
    let loader = registry.clone();
    std::thread::Builder::new()
        .name("model-loader".into())
        .spawn(move || loader.preload())?;
    registry.spawn_housekeeping();
    let auth = Arc::new(Auth::new(&config));
    if crate::auth::users::count(&store.pool)
        .await
        .map_err(|e| anyhow::anyhow!("cannot read the users: {e}"))?
        == 0
    {
        auth.issue_setup_token();
    }
    let uploads = crate::retrieval::uploads::Uploads::new(&config.documents)
        .context("cannot find this program to read documents with; set documents.extract_worker")?;
    let upstreams = Arc::new(
        crate::upstream::Upstreams::new(&config).map_err(|e| anyhow::anyhow!("config: {e}"))?,
    );
    upstreams.spawn_probes(Duration::from_secs(config.routing.probe_interval_secs));
    let router = crate::generation::route::Router::new(&config, upstreams, store.pool.clone())
        .map_err(|e| anyhow::anyhow!("config: {e}"))?;
    let pulls = Arc::new(crate::inference::pulls::Pulls::new(
        &config.models.hub_endpoint,
        dir,
        registry.clone(),
    ));
    let backups = crate::backup::schedule::Backups::new(
        data.clone(),
        config.backup.clone(),
        store.pool.clone(),
    );
    backups.spawn_schedule();
    let deliveries = Arc::new(crate::events::deliver::DeliveryCounts::default());
    crate::events::deliver::spawn(
        store.pool.clone(),
        config.webhooks.clone(),
        deliveries.clone(),
    );
    let state = AppState {
        stopping: tokio_util::sync::CancellationToken::new(),
        sockets: Arc::default(),
        backups,
        deliveries,
        pulls,
        generation: Arc::new(Generator::new(
            registry.clone(),
            &config,
            router,
            crate::generation::cache::Cache::new(store.pool.clone(), config.cache.clone()),
        )),
        uploads: Arc::new(uploads),
        auth,
        config: Arc::new(config),
        registry,
        metrics,
        store,
        vectors: Arc::new(vectors),
        files: Arc::new(files),
        jobs,
    };
    crate::retrieval::documents::sweep(&state.store.pool, &state.vectors, &state.files)
        .await
        .map_err(|e| anyhow::anyhow!("cannot reconcile the stores: {e}"))?;
    crate::retention::Retention::new(
        state.store.pool.clone(),
        state.files.clone(),
        state.config.retention.clone(),
        &state.config.server.data_dir,
    )
    .spawn();
    let pending = crate::retrieval::ingest::interrupted(&state.store.pool).await?;
    let resume = crate::retrieval::routes::ingest(&state);
    tokio::spawn(
        async move { crate::retrieval::ingest::resume_interrupted(&resume, pending).await },
    );
    Ok(state)
}

/// Serves `state` on `listener` until `shutdown` completes.
pub async fn run(
    state: AppState,
    listener: Listener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    use axum::serve::Listener as _;
    let address = listener.local_addr()?;
    let scheme = if state.config.server.tls() {
        "https"
    } else {
        "http"
    };
    tracing::info!(%address, "serving; OpenAI API at /v1");
    if let Some(token) = state.auth.setup_token() {
        let host = if address.ip().is_unspecified() {
            format!("localhost:{}", address.port())
        } else {
            address.to_string()
        };
        tracing::warn!(
            "no users yet: create the first administrator at {scheme}://{host}/setup?token={token} \
             (the link works once, until the server restarts; or use `bacopilot users add`)"
        );
    }
    let listener = listener.with_metrics(state.metrics.clone());
    let stopping = state.stopping.clone();
    let (jobs, pool) = (state.jobs.clone(), state.store.pool.clone());
    let (sockets, drain) = (
        state.sockets.clone(),
        Duration::from_secs(state.config.server.drain_secs),
    );
    let served = listen::serve(listener, router(state), shutdown);
    tokio::select! {
        r = served => r?,
        // Streams were cut at the drain deadline; a request that is not a
        // stream (a long answer being generated) does not hold the exit.
        () = async {
            stopping.cancelled().await;
            tokio::time::sleep(AFTER_DRAIN).await;
        } => tracing::warn!("requests still open after the drain deadline were dropped"),
    }
    close_sockets(&sockets, &stopping, drain).await;
    match jobs.interrupt_running().await {
        Ok(0) => {}
        Ok(n) => tracing::warn!(jobs = n, "jobs still running were recorded as interrupted"),
        Err(e) => tracing::error!(error = %e, "cannot record the interrupted jobs"),
    }
    pool.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// WebSocket sessions get what is left of the drain time, then their final
/// event and a close frame (see `chat::routes`), and a moment to send them.
async fn close_sockets(
    sockets: &std::sync::atomic::AtomicUsize,
    stopping: &tokio_util::sync::CancellationToken,
    drain: Duration,
) {
    use std::sync::atomic::Ordering::Relaxed;
    let open = || sockets.load(Relaxed) > 0;
    let until = tokio::time::Instant::now() + drain;
    while open() && !stopping.is_cancelled() && tokio::time::Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stopping.cancel();
    let until = tokio::time::Instant::now() + Duration::from_secs(1);
    while open() && tokio::time::Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// How long requests that are not streams get past the drain deadline.
const AFTER_DRAIN: Duration = Duration::from_secs(3);

async fn healthz() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

/// 200 once the default chat and embedding models are loaded, 503 before.
async fn readyz(State(s): State<AppState>) -> Response {
    if s.registry.ready_to_serve() {
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
    let mut text = s.metrics.render();
    s.generation.upstreams().render_metrics(&mut text);
    s.generation.cache.render_metrics(&mut text);
    render_operations(&s, &mut text);
    Ok(([("content-type", "text/plain; version=0.0.4")], text).into_response())
}

/// Backup age and webhook deliveries, for alerting on both.
fn render_operations(s: &AppState, out: &mut String) {
    use std::fmt::Write;
    use std::sync::atomic::Ordering::Relaxed;
    if let Some(age) = s.backups.age_secs() {
        let _ = writeln!(
            out,
            "# HELP bacopilot_backup_age_seconds Seconds since the newest backup in [backup] dir."
        );
        let _ = writeln!(out, "# TYPE bacopilot_backup_age_seconds gauge");
        let _ = writeln!(out, "bacopilot_backup_age_seconds {age}");
    }
    let d = &s.deliveries;
    for (name, help, v) in [
        (
            "bacopilot_webhook_deliveries_total",
            "Webhook deliveries a receiver accepted.",
            &d.delivered,
        ),
        (
            "bacopilot_webhook_attempts_failed_total",
            "Webhook attempts that failed (each retry counts).",
            &d.attempts_failed,
        ),
        (
            "bacopilot_webhook_deliveries_failed_total",
            "Webhook deliveries given up after every attempt.",
            &d.given_up,
        ),
    ] {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
            v.load(Relaxed)
        );
    }
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
    let started = std::time::Instant::now();
    let res = next.run(req).await;
    s.metrics.record_request(
        &route,
        res.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    res
}
