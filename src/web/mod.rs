//! The browser UI: the files of `web/`, compiled into the binary so the
//! appliance needs nothing beside it, served with a CSP that allows only our
//! own scripts and styles.

pub mod routes;

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

pub use routes::router;

/// Every asset, by the name it is served under `/assets/`.
const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../web/app.js"),
    ),
    (
        "markdown.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../web/markdown.js"),
    ),
    (
        "app.css",
        "text/css; charset=utf-8",
        include_bytes!("../../web/app.css"),
    ),
    (
        "api.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../web/api.js"),
    ),
    (
        "ui.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../web/ui.js"),
    ),
    (
        "project.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../web/project.js"),
    ),
    (
        "chat.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../web/chat.js"),
    ),
    (
        "login.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../web/login.js"),
    ),
    (
        "admin.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../web/admin.js"),
    ),
    (
        "keys.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../web/keys.js"),
    ),
    (
        "audit.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../web/audit.js"),
    ),
    (
        "models.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../web/models.js"),
    ),
    (
        "operations.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../web/operations.js"),
    ),
    (
        "members.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../web/members.js"),
    ),
    (
        "srs.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../web/srs.js"),
    ),
    (
        "wireframes.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../web/wireframes.js"),
    ),
    (
        "versions.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../web/versions.js"),
    ),
    (
        "jobs.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../web/jobs.js"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_bytes!("../../web/favicon.svg"),
    ),
];

const INDEX: &[u8] = include_bytes!("../../web/index.html");
const LOGIN: &[u8] = include_bytes!("../../web/login.html");

/// Scripts and styles from this server only; no inline code, no frames, no
/// external anything (answers are untrusted text).
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; \
    connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// What a browser gets for a page it may not see yet: 401, and the sign-in
/// page, which returns to the page after signing in.
pub fn login_page_unauthorized() -> Response {
    let mut res = with_headers(LOGIN, "text/html; charset=utf-8", "no-store");
    *res.status_mut() = axum::http::StatusCode::UNAUTHORIZED;
    res
}

fn with_headers(body: &'static [u8], mime: &'static str, cache: &'static str) -> Response {
    // The CSP and the other security headers come from `http::guard`, for
    // every answer alike.
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    res
}
