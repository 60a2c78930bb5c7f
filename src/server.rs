//! Start-up: build the state from the configuration, load models in the
//! background, and serve until Ctrl-C.

use std::sync::Arc;

use anyhow::Context;

use crate::config::Config;
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
    let state = AppState {
        config: Arc::new(config),
        registry,
        metrics,
        store,
        vectors: Arc::new(vectors),
        files: Arc::new(files),
        jobs,
    };
    crate::retrieval::documents::sweep(&state)
        .await
        .map_err(|e| anyhow::anyhow!("cannot reconcile the stores: {e}"))?;
    Ok(state)
}

pub async fn serve(config: Config) -> anyhow::Result<()> {
    let listen = config.server.listen;
    let state = start(config).await?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    tracing::info!(address = %listener.local_addr()?, "serving; OpenAI API at /v1");
    axum::serve(listener, app(state))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
            tracing::info!("shutting down");
        })
        .await?;
    Ok(())
}
