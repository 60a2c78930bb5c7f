//! Every request but the public few needs an identity: an API key
//! (`Authorization: Bearer` or `x-api-key`, same rules) or a session cookie.
//! Cookie requests that change state must come from our own pages (Origin,
//! `Sec-Fetch-Site`) and carry the session's CSRF token. Then the caller's
//! rate limit for the route's class is taken.

use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::app::AppState;
use crate::auth::limits::Class;
use crate::auth::{keys, sessions, Action, Identity, Scope, Via};
use crate::http::listen::ClientAddr;
use crate::http::AppError;

/// Routes anyone may call: the probes, the sign-in page with the assets it
/// loads, and the sign-in and first-administrator calls.
pub const PUBLIC: &[(Method, &str)] = &[
    (Method::GET, "/healthz"),
    (Method::GET, "/readyz"),
    (Method::GET, "/login"),
    (Method::GET, "/setup"),
    (Method::GET, "/assets/login.js"),
    (Method::GET, "/assets/api.js"),
    (Method::GET, "/assets/ui.js"),
    (Method::GET, "/assets/app.css"),
    (Method::GET, "/assets/favicon.svg"),
    (Method::POST, "/api/v1/auth/login"),
    (Method::POST, "/api/v1/auth/setup"),
];

pub fn is_public(method: &Method, path: &str) -> bool {
    let method = if method == Method::HEAD {
        &Method::GET
    } else {
        method
    };
    PUBLIC.iter().any(|(m, p)| m == method && *p == path)
}

/// The rate-limit class of a request.
pub fn class(method: &Method, path: &str) -> Class {
    let generates = in_inference_scope(path)
        || (path.starts_with("/api/v1/conversations/")
            && (path.ends_with("/messages") || path.ends_with("/ws")))
        || starts_generation(path);
    if generates && (method == Method::POST || path.ends_with("/ws")) {
        Class::Inference
    } else if method == Method::GET || method == Method::HEAD {
        Class::Read
    } else {
        Class::Write
    }
}

/// The SRS and wireframe routes whose POST sets the model to work.
fn starts_generation(path: &str) -> bool {
    let project = path.starts_with("/api/v1/projects/")
        && (path.ends_with("/srs")
            || path.ends_with("/srs/questions")
            || path.ends_with("/wireframes"));
    let document = (path.starts_with("/api/v1/srs/") && path.ends_with("/regenerate"))
        || (path.starts_with("/api/v1/wireframes/") && path.ends_with("/changes"));
    project || document
}

/// What an inference-scoped key may reach.
fn in_inference_scope(path: &str) -> bool {
    path.starts_with("/v1/") || path == "/api/v1/tokenize" || path == "/api/v1/detokenize"
}

enum Credential<'a> {
    Key(&'a str),
    Session(&'a str),
    Malformed,
    None,
}

fn credential(headers: &HeaderMap) -> Credential<'_> {
    if let Some(v) = headers.get(header::AUTHORIZATION) {
        let text = v.to_str().unwrap_or_default();
        return match text.split_once(' ') {
            Some((scheme, key)) if scheme.eq_ignore_ascii_case("bearer") => {
                Credential::Key(key.trim())
            }
            _ => Credential::Malformed,
        };
    }
    if let Some(v) = headers.get("x-api-key") {
        return v
            .to_str()
            .map_or(Credential::Malformed, |k| Credential::Key(k.trim()));
    }
    sessions::token_from(headers).map_or(Credential::None, Credential::Session)
}

/// 403 unless a cookie-borne state change comes from this site's own pages.
pub fn check_same_site(headers: &HeaderMap) -> Result<(), AppError> {
    let cross = |why: &str| {
        Err(AppError::Forbidden(format!(
            "Cross-site request refused ({why})"
        )))
    };
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        if site != "same-origin" && site != "none" {
            return cross("Sec-Fetch-Site");
        }
    }
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        let host = headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let origin_host = origin.split_once("://").map_or("", |(_, h)| h);
        if origin == "null" || !origin_host.eq_ignore_ascii_case(host) {
            return cross("Origin");
        }
    }
    Ok(())
}

fn check_csrf(headers: &HeaderMap, expected: &str) -> Result<(), AppError> {
    let Some(sent) = headers.get("x-csrf-token").and_then(|v| v.to_str().ok()) else {
        return Err(AppError::Csrf(
            "csrf_token_missing",
            "This request needs the X-CSRF-Token header of your session".into(),
        ));
    };
    if keys::same_secret(sent.as_bytes(), expected.as_bytes()) {
        Ok(())
    } else {
        Err(AppError::Csrf(
            "csrf_token_invalid",
            "The X-CSRF-Token does not belong to this session".into(),
        ))
    }
}

/// Is this a browser asking for a page (answered with the sign-in page)?
fn wants_page(parts: &Parts) -> bool {
    let path = parts.uri.path();
    parts.method == Method::GET
        && !path.starts_with("/api/")
        && !path.starts_with("/v1/")
        && !path.starts_with("/assets/")
        && parts
            .headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/html"))
}

pub async fn authenticate(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    match identify(&s, &parts).await {
        Ok(Some(who)) => {
            parts.extensions.insert(who);
            next.run(Request::from_parts(parts, body)).await
        }
        Ok(None) => next.run(Request::from_parts(parts, body)).await,
        Err(AppError::Unauthorized(_)) if wants_page(&parts) => {
            crate::web::login_page_unauthorized()
        }
        Err(e) => e.into_response(),
    }
}

/// `Ok(None)` for a public route, the caller's identity, or why not.
async fn identify(s: &AppState, parts: &Parts) -> Result<Option<Identity>, AppError> {
    let (method, path) = (&parts.method, parts.uri.path());
    if is_public(method, path) {
        return Ok(None);
    }
    let addr = ClientAddr::of(parts);
    let headers = &parts.headers;
    let pool = &s.store.pool;
    let who = match credential(headers) {
        Credential::Key(k) => keys::authenticate(pool, k, &addr).await?.ok_or_else(|| {
            AppError::Unauthorized(
                "The API key is not valid: unknown, revoked, expired, or its user is disabled"
                    .into(),
            )
        })?,
        Credential::Session(t) => sessions::authenticate(pool, t, &addr)
            .await?
            .ok_or_else(|| AppError::Unauthorized("The session has ended; sign in again".into()))?,
        Credential::Malformed => {
            return Err(AppError::Unauthorized(
                "Authorization must be `Bearer <API key>`".into(),
            ))
        }
        Credential::None => {
            return Err(AppError::Unauthorized(
                "Sign in, or send an API key as `Authorization: Bearer <key>` or `x-api-key`"
                    .into(),
            ))
        }
    };
    if in_inference_scope(path) {
        who.require(Action::Inference)?;
    }
    match &who.via {
        Via::Session { csrf_token, .. } => {
            let safe = matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
            if !safe {
                check_same_site(headers)?;
                check_csrf(headers, csrf_token)?;
            }
        }
        Via::Key { scope, .. } => match scope {
            Scope::Full => {}
            Scope::Metrics if path != "/metrics" => return Err(AppError::Forbidden(
                "This API key's scope is metrics (GET /metrics only); use a key with another scope"
                    .into(),
            )),
            Scope::Metrics => {}
            Scope::Inference | Scope::Local if !in_inference_scope(path) => {
                return Err(AppError::Forbidden(format!(
                    "This API key's scope is {} (/v1 only); use a key with the full scope",
                    scope.as_str()
                )));
            }
            Scope::Inference | Scope::Local => {}
        },
    }
    s.auth
        .limits
        .take(&who.user_id, class(method, path))
        .map_err(|wait| AppError::RateLimited {
            retry_after: wait.as_secs().max(1),
            message: format!(
                "Rate limit reached for {}; retry in {} s",
                who.name,
                wait.as_secs().max(1)
            ),
        })?;
    Ok(Some(who))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn route_classes_put_generation_apart_from_reads_and_writes() {
        assert_eq!(
            class(&Method::POST, "/v1/chat/completions"),
            Class::Inference
        );
        assert_eq!(
            class(&Method::POST, "/api/v1/conversations/x/messages"),
            Class::Inference
        );
        assert_eq!(
            class(&Method::GET, "/api/v1/conversations/x/ws"),
            Class::Inference
        );
        assert_eq!(
            class(&Method::GET, "/api/v1/conversations/x/messages"),
            Class::Read
        );
        assert_eq!(class(&Method::GET, "/v1/models"), Class::Read);
        assert_eq!(class(&Method::DELETE, "/api/v1/documents/x"), Class::Write);
        assert_eq!(
            class(&Method::POST, "/api/v1/projects/p/srs"),
            Class::Inference
        );
        assert_eq!(
            class(&Method::POST, "/api/v1/wireframes/w/changes"),
            Class::Inference
        );
        assert_eq!(class(&Method::GET, "/api/v1/projects/p/srs"), Class::Read);
        assert_eq!(
            class(&Method::PATCH, "/api/v1/srs/s/requirements/FR-001"),
            Class::Write
        );
    }

    #[test]
    fn only_the_listed_routes_are_public() {
        assert!(is_public(&Method::GET, "/healthz"));
        assert!(is_public(&Method::HEAD, "/readyz"));
        assert!(!is_public(&Method::POST, "/healthz"));
        assert!(!is_public(&Method::GET, "/"));
        assert!(!is_public(&Method::GET, "/assets/app.js"));
        assert!(!is_public(&Method::GET, "/api/v1/auth/me"));
    }

    #[test]
    fn cross_site_signals_are_refused_and_same_site_ones_pass() {
        let h = |pairs: &[(&'static str, &'static str)]| {
            let mut m = HeaderMap::new();
            for (k, v) in pairs {
                m.insert(*k, HeaderValue::from_static(v));
            }
            m
        };
        assert!(check_same_site(&h(&[("host", "10.0.0.5:8080")])).is_ok());
        assert!(check_same_site(&h(&[
            ("host", "10.0.0.5:8080"),
            ("origin", "http://10.0.0.5:8080"),
            ("sec-fetch-site", "same-origin")
        ]))
        .is_ok());
        assert!(check_same_site(&h(&[
            ("host", "10.0.0.5:8080"),
            ("sec-fetch-site", "cross-site")
        ]))
        .is_err());
        assert!(check_same_site(&h(&[
            ("host", "10.0.0.5:8080"),
            ("sec-fetch-site", "same-site")
        ]))
        .is_err());
        assert!(check_same_site(&h(&[
            ("host", "10.0.0.5:8080"),
            ("origin", "http://evil.example")
        ]))
        .is_err());
        assert!(check_same_site(&h(&[("host", "10.0.0.5:8080"), ("origin", "null")])).is_err());
    }
}
