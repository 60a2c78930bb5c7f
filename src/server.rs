//! Start-up: build the state from the configuration, load models in the
//! background, and serve until Ctrl-C.

use std::sync::Arc;

use anyhow::Context;

use crate::auth::Auth;
use crate::config::Config;
use crate::http::conn::Clocks;
use crate::http::listen::{self, Caps, Listener};
use crate::http::{app, AppState};
use crate::inference::chat_model::LoadOptions;
use crate::inference::registry::{discover, Registry};
use crate::jobs::Jobs;
use crate::metrics::Metrics;
use crate::retrieval::files::FileStore;
use crate::retrieval::vectors::VectorStore;
use crate::store::Store;

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
    let jobs = Jobs::new(store.pool.clone());
    jobs.fail_interrupted().await?;
    let dir = &config.models.dir;
    let candidates = discover(dir)
        .with_context(|| format!("cannot read the models directory {}", dir.display()))?;
    if candidates.is_empty() {
        tracing::warn!(dir = %dir.display(), "no models found; run scripts/fetch-models.sh");
    }
    let registry = Arc::new(Registry::new(
        &candidates,
        config.models.aliases.clone(),
        &config.models.chat,
        &config.models.embedding,
    ));
    let metrics = Arc::new(Metrics::default());
    let opts = LoadOptions::from_config(&config);
    let (loader, m) = (registry.clone(), metrics.clone());
    std::thread::Builder::new()
        .name("model-loader".into())
        .spawn(move || loader.load_all(candidates, &opts, m))?;
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
    let state = AppState {
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
    Ok(state)
}

/// The listening socket for `server.listen`, with TLS when configured.
pub async fn bind(config: &Config) -> anyhow::Result<Listener> {
    let server = &config.server;
    let tls = if server.tls() {
        Some(listen::tls_acceptor(&server.tls_cert, &server.tls_key)?)
    } else {
        None
    };
    let tcp = tokio::net::TcpListener::bind(server.listen)
        .await
        .with_context(|| format!("cannot listen on {}", server.listen))?;
    let secs = |s: u64| std::time::Duration::from_secs(s.max(1));
    let clocks = Clocks {
        write: secs(server.write_timeout_secs),
        header: secs(server.header_read_timeout_secs),
        idle: secs(server.idle_timeout_secs),
    };
    let caps = Caps {
        total: server.max_connections,
        per_address: server.max_connections_per_ip,
    };
    Ok(Listener::new(tcp, tls, clocks, caps))
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
    listen::serve(listener, app(state), shutdown).await?;
    Ok(())
}

pub async fn serve(config: Config) -> anyhow::Result<()> {
    let listener = bind(&config).await?;
    let state = start(config).await?;
    run(state, listener, async {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down");
    })
    .await
}
