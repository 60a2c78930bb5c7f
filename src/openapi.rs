//! `/api/v1/openapi.json`: the OpenAPI 3.1 description of `/api/v1`,
//! generated from the handlers' annotations and the types they exchange, as
//! each feature registers them with its routes.

use axum::body::Bytes;
use axum::http::header;
use axum::routing::get;
use utoipa::openapi::OpenApi;
use utoipa::OpenApi as _;

use crate::http::routes::Routes;

#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "BA Copilot API", description = "Projects, documents, retrieval, grounded chat, jobs, SRS documents (generation, editing, versions, lint, export), wireframes, accounts, keys and the audit log. Authenticate with `Authorization: Bearer <API key>` (or `x-api-key`) or the session cookie. Errors are `{\"error\": {\"code\", \"message\", \"details\"}}`."),
    modifiers(&Security),
    security(("api_key" = []), ("session" = [])),
    tags(
        (name = "projects"), (name = "documents"), (name = "chat"), (name = "jobs"),
        (name = "auth"), (name = "users"), (name = "keys"), (name = "audit"), (name = "srs"), (name = "wireframes")
    )
)]
struct ApiDoc;

/// The two ways to authenticate: an API key as a bearer token, or the
/// session cookie (with `X-CSRF-Token` on state-changing requests).
struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{
            ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme,
        };
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                crate::auth::sessions::COOKIE,
            ))),
        );
    }
}

/// The whole document: what the handlers of `routes` say of themselves
/// (each feature registers its handlers with [`Routes::api`]), under the API's
/// title, security schemes and tags.
pub fn document(routes: &Routes) -> OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.merge(routes.openapi().clone());
    doc
}

/// `/api/v1/openapi.json`, serving `doc` (built once, at start-up).
pub fn router(doc: OpenApi) -> Routes {
    let body = Bytes::from(serde_json::to_vec(&doc).expect("an OpenAPI document serializes"));
    Routes::new().route(
        "/api/v1/openapi.json",
        get(move || {
            let body = body.clone();
            async move { ([(header::CONTENT_TYPE, "application/json")], body) }
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_builds_and_describes_the_recursive_wireframe_tree() {
        let doc = serde_json::to_value(document(&crate::app::routes(1024))).unwrap();
        assert!(doc["paths"]["/api/v1/wireframes/{wid}"].is_object());
        assert!(doc["components"]["schemas"]["Component"].is_object());
    }

    /// Every `/api/v1` route a feature registers is described: a handler
    /// added with `Routes::route` instead of `Routes::api` would be missing.
    #[test]
    fn every_api_route_is_described() {
        let routes = crate::app::routes(1024);
        let doc = serde_json::to_value(document(&routes)).unwrap();
        // The OpenAI-style helpers keep the /v1 conventions, and the document
        // does not describe itself.
        let outside = [
            "/api/v1/openapi.json",
            "/api/v1/tokenize",
            "/api/v1/detokenize",
        ];
        let missing: Vec<&String> = routes
            .paths()
            .iter()
            .filter(|p| p.starts_with("/api/v1/") && !outside.contains(&p.as_str()))
            .filter(|p| doc["paths"][p.as_str()].is_null())
            .collect();
        assert!(missing.is_empty(), "undescribed routes: {missing:?}");
        assert!(doc["paths"].as_object().unwrap().len() >= 40);
    }
}
