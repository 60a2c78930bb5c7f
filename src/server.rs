//! The listening side: the socket for `server.listen` (with TLS when
//! configured), and `serve`, which starts the application on it until
//! SIGTERM or Ctrl-C, then drains it within `server.drain_secs`.

use anyhow::Context;

use crate::app;
use crate::config::Config;
use crate::http::conn::Clocks;
use crate::http::listen::{self, Caps, Listener};

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

pub async fn serve(config: Config) -> anyhow::Result<()> {
    let listener = bind(&config).await?;
    let drain = std::time::Duration::from_secs(config.server.drain_secs);
    let state = app::start(config).await?;
    let stopping = state.stopping.clone();
    app::run(state, listener, async move {
        let signal = stop_signal().await;
        tracing::info!(
            signal,
            drain_secs = drain.as_secs(),
            "stopping: no new connections; open streams may finish until the drain deadline"
        );
        tokio::spawn(async move {
            tokio::time::sleep(drain).await;
            stopping.cancel();
        });
    })
    .await
}

/// Waits for SIGINT (Ctrl-C) or SIGTERM (systemd, Docker, Kubernetes):
/// either stops the server gracefully. Returns the signal's name.
async fn stop_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => tokio::select! {
                _ = tokio::signal::ctrl_c() => "SIGINT",
                _ = term.recv() => "SIGTERM",
            },
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM; only Ctrl-C stops the server gracefully");
                let _ = tokio::signal::ctrl_c().await;
                "SIGINT"
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "SIGINT"
    }
}
