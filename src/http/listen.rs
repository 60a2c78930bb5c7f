//! The listening socket: plain TCP or TLS (rustls, certificate and key from
//! the configuration). Connections over the cap (per client address and in
//! all) are closed at accept; the others get their clocks (see [`super::conn`]).

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::extract::connect_info::Connected;
use axum::serve::IncomingStream;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_rustls::rustls;
use tokio_rustls::TlsAcceptor;

use super::conn::{Activity, Clocks, Conn, Stream};
use super::connections::Capacity;
use crate::metrics::Metrics;

/// A TLS handshake that takes longer than this is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The client's address, as `ConnectInfo<Peer>`, and its connection's
/// [`Activity`] for [`super::conn::track`].
#[derive(Clone)]
pub struct Peer {
    pub addr: SocketAddr,
    pub(crate) activity: Arc<Activity>,
}

/// The client's IP address as text, for logs, throttles and the audit log
/// ("unknown" when the app is not served through [`serve`]).
pub struct ClientAddr(pub String);

impl ClientAddr {
    pub fn of(parts: &axum::http::request::Parts) -> String {
        parts
            .extensions
            .get::<axum::extract::ConnectInfo<Peer>>()
            .map_or_else(|| "unknown".into(), |c| c.0.addr.ip().to_string())
    }
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(ClientAddr::of(parts)))
    }
}

impl Connected<IncomingStream<'_, Listener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, Listener>) -> Self {
        Peer {
            addr: *stream.remote_addr(),
            activity: stream.io().activity(),
        }
    }
}

/// How many connections the listener keeps open at once.
#[derive(Debug, Clone, Copy)]
pub struct Caps {
    pub total: usize,
    pub per_address: usize,
}

pub struct Listener {
    tcp: TcpListener,
    tls: Option<TlsAcceptor>,
    handshakes: JoinSet<Option<(Conn, SocketAddr)>>,
    clocks: Clocks,
    capacity: Arc<Capacity>,
    metrics: Arc<Metrics>,
}

impl Listener {
    pub fn new(tcp: TcpListener, tls: Option<TlsAcceptor>, clocks: Clocks, caps: Caps) -> Self {
        Self {
            tcp,
            tls,
            handshakes: JoinSet::new(),
            clocks,
            capacity: Capacity::new(caps.total, caps.per_address),
            // Counted where nobody looks until the server's metrics are attached.
            metrics: Arc::new(Metrics::default()),
        }
    }

    /// Counts connections (open, refused, timed out) in `metrics`.
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = metrics;
        self
    }
}

/// The acceptor for `cert` (PEM chain) and `key` (PEM private key).
pub fn tls_acceptor(cert: &Path, key: &Path) -> anyhow::Result<TlsAcceptor> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let certs = CertificateDer::pem_file_iter(cert)
        .and_then(|i| i.collect::<Result<Vec<_>, _>>())
        .with_context(|| format!("cannot read the TLS certificate {}", cert.display()))?;
    anyhow::ensure!(!certs.is_empty(), "{} holds no certificate", cert.display());
    let key = PrivateKeyDer::from_pem_file(key)
        .with_context(|| format!("cannot read the TLS private key {}", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .context("the TLS certificate and key do not fit together")?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

impl axum::serve::Listener for Listener {
    type Io = Conn;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Conn, SocketAddr) {
        loop {
            tokio::select! {
                accepted = self.tcp.accept() => {
                    let (stream, addr) = match accepted {
                        Ok(a) => a,
                        Err(e) => {
                            // Out of file descriptors and the like: back off.
                            tracing::warn!(error = %e, "accept failed");
                            tokio::time::sleep(Duration::from_millis(100)).await;
                            continue;
                        }
                    };
                    let slot = match self.capacity.admit(addr.ip(), &self.metrics) {
                        Ok(slot) => slot,
                        Err(refusal) => {
                            // Closed before a byte is read: the cheapest answer.
                            self.metrics.connection_refused(refusal.as_str());
                            tracing::debug!(%addr, reason = refusal.as_str(), "connection refused");
                            continue;
                        }
                    };
                    let _ = stream.set_nodelay(true);
                    let (clocks, metrics) = (self.clocks, self.metrics.clone());
                    let Some(tls) = self.tls.clone() else {
                        return (Conn::new(Stream::Plain(stream), clocks, slot, metrics), addr);
                    };
                    self.handshakes.spawn(async move {
                        match tokio::time::timeout(HANDSHAKE_TIMEOUT, tls.accept(stream)).await {
                            Ok(Ok(s)) => Some((Conn::new(Stream::Tls(Box::new(s)), clocks, slot, metrics), addr)),
                            Ok(Err(e)) => {
                                tracing::debug!(%addr, error = %e, "TLS handshake failed");
                                None
                            }
                            Err(_) => None,
                        }
                    });
                }
                Some(finished) = self.handshakes.join_next(), if !self.handshakes.is_empty() => {
                    // A failed handshake is dropped; wait for the next connection.
                    if let Ok(Some(done)) = finished {
                        return done;
                    }
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.tcp.local_addr()
    }
}

/// Serves `app` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: Listener,
    app: axum::Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let app = app.layer(axum::middleware::from_fn(super::conn::track));
    axum::serve(listener, app.into_make_service_with_connect_info::<Peer>())
        .with_graceful_shutdown(shutdown)
        .await
}
