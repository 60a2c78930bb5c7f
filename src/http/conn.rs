//! One client connection (plain TCP or TLS) with its clocks: a client that
//! stops reading the answer, sends no request, or sends a request head too
//! slowly is cut off instead of holding the connection forever.
//!
//! Only the service knows when a request starts and ends, so [`track`] tells
//! the connection through its shared [`Activity`]: while a request is being
//! answered (an upload, a quiet event stream) no read clock runs, and a
//! connection handed to a WebSocket is left to the WebSocket.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep};
use tokio_rustls::server::TlsStream;

use super::connections::Slot;
use super::listen::Peer;
use crate::metrics::Metrics;

/// How long a connection may keep the server waiting, by what it waits for.
#[derive(Debug, Clone, Copy)]
pub struct Clocks {
    /// For the client to read what was written.
    pub write: Duration,
    /// For a request head to arrive whole: the first from the connection's
    /// start, later ones from their first byte.
    pub header: Duration,
    /// For the next request's first byte after an answer.
    pub idle: Duration,
}

/// Where a connection is between requests.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    /// No byte of the next request yet; closed at `until`.
    Waiting { until: Instant, first: bool },
    /// A request head is arriving; closed unless it is whole by `until`.
    Head { until: Instant },
    /// Requests being answered (HTTP/2 answers several at once).
    Busy(usize),
    /// Handed to a WebSocket, which keeps its own time.
    Upgraded,
}

impl Phase {
    /// The read deadline and the metric label of its phase.
    fn deadline(self) -> Option<(Instant, &'static str)> {
        match self {
            Phase::Waiting { until, first: true } | Phase::Head { until } => {
                Some((until, "header"))
            }
            Phase::Waiting { until, .. } => Some((until, "idle")),
            Phase::Busy(_) | Phase::Upgraded => None,
        }
    }
}

struct State {
    phase: Phase,
    /// The connection's reader, woken when the phase starts a clock.
    reader: Option<Waker>,
}

/// What the service tells its connection about requests; shared through
/// `ConnectInfo<Peer>`.
pub struct Activity {
    state: Mutex<State>,
    clocks: Clocks,
}

impl Activity {
    fn new(clocks: Clocks) -> Self {
        Self {
            state: Mutex::new(State {
                phase: Phase::Waiting {
                    until: Instant::now() + clocks.header,
                    first: true,
                },
                reader: None,
            }),
            clocks,
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Bytes arrived: a waiting connection now has a request head to finish.
    fn bytes_arrived(&self) {
        let mut s = self.state();
        if let Phase::Waiting { until, first } = s.phase {
            let until = if first {
                until
            } else {
                Instant::now() + self.clocks.header
            };
            s.phase = Phase::Head { until };
        }
    }

    /// The read deadline now; `waker` is kept to be woken when it changes.
    fn read_deadline(&self, waker: &Waker) -> Option<(Instant, &'static str)> {
        let mut s = self.state();
        match &mut s.reader {
            Some(w) if w.will_wake(waker) => {}
            slot => *slot = Some(waker.clone()),
        }
        s.phase.deadline()
    }

    fn request_started(self: &Arc<Self>) -> Busy {
        let mut s = self.state();
        s.phase = match s.phase {
            Phase::Busy(n) => Phase::Busy(n + 1),
            Phase::Upgraded => Phase::Upgraded,
            Phase::Waiting { .. } | Phase::Head { .. } => Phase::Busy(1),
        };
        Busy(self.clone())
    }

    fn request_finished(&self) {
        let mut s = self.state();
        match s.phase {
            Phase::Busy(n) if n > 1 => s.phase = Phase::Busy(n - 1),
            Phase::Busy(_) => {
                s.phase = Phase::Waiting {
                    until: Instant::now() + self.clocks.idle,
                    first: false,
                };
                // The reader may be parked with no clock: let it start one.
                if let Some(w) = s.reader.take() {
                    w.wake();
                }
            }
            _ => {}
        }
    }

    fn upgraded(&self) {
        self.state().phase = Phase::Upgraded;
    }
}

/// A request in progress on its connection; dropped when its answer has
/// been sent (or abandoned).
struct Busy(Arc<Activity>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.request_finished();
    }
}

/// Tells each request's connection when it starts and when its answer is
/// done. Requests not served through [`super::listen::serve`] pass untouched.
pub async fn track(req: Request, next: Next) -> Response {
    let Some(activity) = req
        .extensions()
        .get::<ConnectInfo<Peer>>()
        .map(|c| c.0.activity.clone())
    else {
        return next.run(req).await;
    };
    // HTTP/2 WebSockets are a CONNECT stream answered 200 (RFC 8441).
    let connect = req.method() == Method::CONNECT;
    let busy = activity.request_started();
    let res = next.run(req).await;
    if res.status() == StatusCode::SWITCHING_PROTOCOLS || (connect && res.status().is_success()) {
        activity.upgraded();
    }
    res.map(|inner| Body::new(Answer { inner, _busy: busy }))
}

/// A response body that marks its request finished when it is dropped.
struct Answer {
    inner: Body,
    _busy: Busy,
}

impl http_body::Body for Answer {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

pub enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

/// A connection whose writes fail with `TimedOut` once one has waited
/// `clocks.write` for the client to read, and whose reads fail with
/// `TimedOut` when the client keeps it waiting between requests.
pub struct Conn {
    inner: Stream,
    clocks: Clocks,
    activity: Arc<Activity>,
    metrics: Arc<Metrics>,
    stalled: Option<Pin<Box<Sleep>>>,
    waiting: Option<Pin<Box<Sleep>>>,
    /// Held until the connection closes: its place under the connection cap.
    _slot: Slot,
}

impl Conn {
    pub fn new(inner: Stream, clocks: Clocks, slot: Slot, metrics: Arc<Metrics>) -> Self {
        Self {
            inner,
            clocks,
            activity: Arc::new(Activity::new(clocks)),
            metrics,
            stalled: None,
            waiting: None,
            _slot: slot,
        }
    }

    pub fn activity(&self) -> Arc<Activity> {
        self.activity.clone()
    }

    /// Runs one write-side poll under the stall clock.
    fn clocked<T>(
        &mut self,
        cx: &mut Context<'_>,
        op: impl FnOnce(Pin<&mut Stream>, &mut Context<'_>) -> Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        match op(Pin::new(&mut self.inner), cx) {
            Poll::Ready(r) => {
                self.stalled = None;
                Poll::Ready(r)
            }
            Poll::Pending => {
                let timeout = self.clocks.write;
                let clock = self
                    .stalled
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
                if clock.as_mut().poll(cx).is_ready() {
                    Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "the client stopped reading",
                    )))
                } else {
                    Poll::Pending
                }
            }
        }
    }

    /// After a read found nothing: the error that closes the connection if
    /// its phase's deadline has passed (else the clock is set to wake us).
    fn read_clock(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let Some((until, phase)) = self.activity.read_deadline(cx.waker()) else {
            self.waiting = None;
            return Poll::Pending;
        };
        let clock = self
            .waiting
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(until)));
        if clock.deadline() != until {
            clock.as_mut().reset(until);
        }
        if clock.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        self.metrics.connection_timed_out(phase);
        Poll::Ready(Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "the client kept the connection waiting for a request",
        )))
    }
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    this.activity.bytes_arrived();
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => this.read_clock(cx),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().clocked(cx, |s, cx| s.poll_write(cx, buf))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().clocked(cx, |s, cx| s.poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clocks() -> Clocks {
        Clocks {
            write: Duration::from_secs(60),
            header: Duration::from_secs(2),
            idle: Duration::from_secs(5),
        }
    }

    fn deadline(a: &Activity) -> Option<(Instant, &'static str)> {
        a.state().phase.deadline()
    }

    /// True when `until` is `after` past some moment in `[from, Instant::now()]`.
    fn due(until: Instant, from: Instant, after: u64) -> bool {
        let after = Duration::from_secs(after);
        until >= from + after && until <= Instant::now() + after
    }

    #[test]
    fn the_first_head_is_due_from_the_start_and_later_ones_from_their_first_byte() {
        let t0 = Instant::now();
        let a = Arc::new(Activity::new(clocks()));
        let (first, label) = deadline(&a).unwrap();
        assert!(due(first, t0, 2) && label == "header");
        a.bytes_arrived();
        assert_eq!(
            deadline(&a),
            Some((first, "header")),
            "trickling bytes does not move the first deadline"
        );
        let busy = a.request_started();
        assert_eq!(deadline(&a), None, "no clock while answering");
        let t1 = Instant::now();
        drop(busy);
        let (idle, label) = deadline(&a).unwrap();
        assert!(due(idle, t1, 5) && label == "idle");
        let t2 = Instant::now();
        a.bytes_arrived();
        let (head, label) = deadline(&a).unwrap();
        assert!(due(head, t2, 2) && label == "header");
    }

    #[test]
    fn a_connection_stays_busy_until_its_last_request_and_an_upgrade_has_no_clock() {
        let a = Arc::new(Activity::new(clocks()));
        let one = a.request_started();
        let two = a.request_started();
        drop(one);
        assert_eq!(deadline(&a), None);
        drop(two);
        assert_eq!(deadline(&a).map(|d| d.1), Some("idle"));
        let ws = a.request_started();
        a.upgraded();
        drop(ws);
        a.bytes_arrived();
        assert_eq!(deadline(&a), None);
    }
}
