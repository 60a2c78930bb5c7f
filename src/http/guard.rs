//! Protections every response gets, authenticated or not: the `Host`
//! allowlist (against DNS rebinding), security headers, CORS only for
//! configured origins, and a deadline for the request body. Authentication,
//! for every route that is not public, is in [`authenticate`].

pub mod authenticate;

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderName, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_http::cors::{AllowOrigin, CorsLayer};

use super::AppError;
use crate::app::AppState;

/// The host part of a `Host` value (`name`, `name:port`, `[v6]:port`).
fn host_name(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or_default();
    }
    host.rsplit_once(':').map_or(host, |(h, _)| h)
}

/// IP literals and `localhost` cannot be rebound by a hostile DNS server;
/// names must be listed in `server.allowed_hosts`.
pub fn host_allowed(host: &str, allowed: &[String]) -> bool {
    let name = host_name(host).trim_end_matches('.');
    name.parse::<std::net::IpAddr>().is_ok()
        || name.eq_ignore_ascii_case("localhost")
        || allowed.iter().any(|a| a.eq_ignore_ascii_case(name))
}

/// The request's `Host` (HTTP/1) or authority (HTTP/2).
pub fn request_host(req: &Request) -> Option<&str> {
    req.headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| req.uri().authority().map(|a| a.as_str()))
}

pub async fn check_host(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let ok = request_host(&req).is_some_and(|h| host_allowed(h, &s.config.server.allowed_hosts));
    if ok {
        next.run(req).await
    } else {
        AppError::MisdirectedRequest(
            "This server does not answer to that host name; add it to server.allowed_hosts".into(),
        )
        .into_response()
    }
}

/// Security headers on every response (handlers may set their own first).
pub async fn security_headers(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let api = req.uri().path().starts_with("/api/") || req.uri().path().starts_with("/v1/");
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    let mut set = |name: HeaderName, value: &'static str| {
        h.entry(name).or_insert(HeaderValue::from_static(value));
    };
    set(header::CONTENT_SECURITY_POLICY, crate::web::CSP);
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::REFERRER_POLICY, "no-referrer");
    set(header::X_FRAME_OPTIONS, "DENY");
    set(
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    );
    set(
        HeaderName::from_static("cross-origin-resource-policy"),
        "same-origin",
    );
    if api {
        set(header::CACHE_CONTROL, "no-store");
    }
    if s.config.server.tls() {
        set(header::STRICT_TRANSPORT_SECURITY, "max-age=31536000");
    }
    res
}

/// CORS for the configured origins only (no cookies: other sites use API keys).
pub fn cors(origins: &[String]) -> Option<CorsLayer> {
    let list: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o.trim_end_matches('/')).ok())
        .collect();
    if list.is_empty() {
        return None;
    }
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(list))
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PATCH,
                Method::PUT,
                Method::DELETE,
            ])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                HeaderName::from_static("x-api-key"),
            ])
            .max_age(Duration::from_secs(600)),
    )
}

/// The body of a request that did not arrive in time.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive within {0} seconds")]
pub struct BodyTimedOut(pub u64);

/// True if `e` (or anything it wraps) is a [`BodyTimedOut`]; some wrappers
/// (multipart parsing) keep only the message, so that is checked too.
fn body_timed_out(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if err.downcast_ref::<BodyTimedOut>().is_some()
            || err
                .to_string()
                .contains("request body did not arrive within")
        {
            return true;
        }
        cur = err.source();
    }
    false
}

/// Gives the whole request body `secs` seconds to arrive, counted from the
/// request's start: a client trickling an upload cannot hold a worker forever.
pub async fn body_deadline(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let secs = s.config.server.body_timeout_secs.max(1);
    let req = req.map(|body| {
        Body::new(DeadlineBody {
            inner: body,
            deadline: Box::pin(tokio::time::sleep(Duration::from_secs(secs))),
            secs,
        })
    });
    next.run(req).await
}

struct DeadlineBody {
    inner: Body,
    deadline: Pin<Box<tokio::time::Sleep>>,
    secs: u64,
}

impl http_body::Body for DeadlineBody {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        if self.deadline.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Some(Err(axum::Error::new(BodyTimedOut(self.secs)))));
        }
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// 408 for a body that missed its deadline, however the handler read it.
pub fn body_error(e: &(dyn std::error::Error + 'static)) -> Option<AppError> {
    body_timed_out(e).then(|| {
        AppError::RequestTimeout("The request body did not arrive in time; it was cut off".into())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_literals_and_localhost_pass_and_names_must_be_listed() {
        let allowed = vec!["copilot.corp.example".to_string()];
        for ok in [
            "127.0.0.1:8080",
            "10.1.2.3",
            "[::1]:8080",
            "localhost:8080",
            "LOCALHOST",
            "copilot.corp.example:443",
            "Copilot.Corp.Example.",
        ] {
            assert!(host_allowed(ok, &allowed), "{ok}");
        }
        for bad in [
            "attacker.example",
            "attacker.example:8080",
            "127.0.0.1.attacker.example",
            "",
        ] {
            assert!(!host_allowed(bad, &allowed), "{bad}");
        }
    }
}
