//! Start-up: build the state from the configuration, load models in the
//! background, and serve until Ctrl-C.

use std::sync::Arc;

use anyhow::Context;

use crate::config::Config;
use crate::http::{app, AppState};
use crate::inference::chat_model::LoadOptions;
use crate::inference::registry::{discover, Registry};
use crate::metrics::Metrics;

/// Builds the state and starts loading every model found on a background
/// thread; `/readyz` turns 200 when the defaults are in.
pub fn start(config: Config) -> anyhow::Result<AppState> {
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
    Ok(AppState {
        config: Arc::new(config),
        registry,
        metrics,
    })
}

pub async fn serve(config: Config) -> anyhow::Result<()> {
    std::fs::create_dir_all(&config.server.data_dir).with_context(|| {
        format!(
            "cannot create the data directory {}",
            config.server.data_dir.display()
        )
    })?;
    let listen = config.server.listen;
    let state = start(config)?;
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
