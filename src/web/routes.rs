//! The pages and the assets they load.

use axum::extract::Path;
use axum::response::Response;
use axum::routing::get;

use super::{with_headers, ASSETS, INDEX, LOGIN};
use crate::http::routes::Routes;
use crate::http::AppError;

pub fn router() -> Routes {
    Routes::new()
        .route("/", get(index))
        .route("/login", get(login))
        .route("/setup", get(login))
        .route("/assets/{name}", get(asset))
}

async fn index() -> Response {
    with_headers(INDEX, "text/html; charset=utf-8", "no-cache")
}

/// The sign-in page (also the first-administrator page at `/setup`).
async fn login() -> Response {
    with_headers(LOGIN, "text/html; charset=utf-8", "no-store")
}

async fn asset(Path(name): Path<String>) -> Result<Response, AppError> {
    let (_, mime, bytes) = ASSETS
        .iter()
        .find(|(n, _, _)| *n == name)
        .ok_or_else(|| AppError::NotFound(format!("No asset `{name}`")))?;
    Ok(with_headers(bytes, mime, "no-cache"))
}
