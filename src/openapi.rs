//! `/api/v1/openapi.json`: the OpenAPI 3.1 description of `/api/v1`,
//! generated from the handlers' annotations and the types they exchange.

use axum::routing::get;
use axum::Json;
use utoipa::OpenApi;

use crate::http::routes::Routes;

#[derive(OpenApi)]
#[openapi(
    info(title = "BA Copilot API", description = "Projects, documents, retrieval, grounded chat, jobs, SRS documents (generation, editing, versions, lint, export), wireframes, accounts, keys and the audit log. Authenticate with `Authorization: Bearer <API key>` (or `x-api-key`) or the session cookie. Errors are `{\"error\": {\"code\", \"message\", \"details\"}}`."),
    paths(
        crate::projects::routes::list,
        crate::projects::routes::create,
        crate::projects::routes::show,
        crate::projects::routes::update,
        crate::projects::routes::remove,
        crate::retrieval::routes::list,
        crate::retrieval::routes::upload,
        crate::retrieval::routes::show,
        crate::retrieval::routes::remove,
        crate::retrieval::routes::search_project,
        crate::chat::routes::list_conversations,
        crate::chat::routes::create_conversation,
        crate::chat::routes::show_conversation,
        crate::chat::routes::delete_conversation,
        crate::chat::routes::search_messages,
        crate::chat::routes::list_messages,
        crate::chat::routes::post_message,
        crate::chat::routes::websocket,
        crate::jobs::routes::show,
        crate::jobs::routes::cancel,
        crate::jobs::routes::events,
        crate::projects::routes::list_members,
        crate::projects::routes::add_member,
        crate::projects::routes::remove_member,
        crate::auth::routes::login,
        crate::auth::routes::setup,
        crate::auth::routes::logout,
        crate::auth::routes::me,
        crate::auth::routes::list_sessions,
        crate::auth::routes::end_session,
        crate::auth::routes::list_users,
        crate::auth::routes::create_user,
        crate::auth::routes::update_user,
        crate::auth::routes::list_keys,
        crate::auth::routes::create_key,
        crate::auth::routes::revoke_key,
        crate::audit::routes::list,
        crate::audit::routes::export,
        crate::srs::routes::list,
        crate::srs::routes::create,
        crate::srs::routes::questions,
        crate::srs::routes::show,
        crate::srs::routes::update,
        crate::srs::routes::remove,
        crate::srs::routes::versions,
        crate::srs::routes::version,
        crate::srs::routes::compare,
        crate::srs::routes::lint,
        crate::srs::routes::export_document,
        crate::srs::routes::requirements,
        crate::srs::routes::requirement,
        crate::srs::routes::add_requirement,
        crate::srs::routes::update_requirement,
        crate::srs::routes::delete_requirement,
        crate::srs::routes::regenerate,
        crate::srs::routes::lint_text,
        crate::srs::routes::show_template,
        crate::srs::routes::save_template,
        crate::srs::routes::template_versions,
        crate::wireframe::routes::list,
        crate::wireframe::routes::create,
        crate::wireframe::routes::show,
        crate::wireframe::routes::remove,
        crate::wireframe::routes::versions,
        crate::wireframe::routes::version,
        crate::wireframe::routes::compare,
        crate::wireframe::routes::change,
        crate::wireframe::routes::preview,
        crate::wireframe::routes::export,
    ),
    modifiers(&Security),
    security(("api_key" = []), ("session" = [])),
    tags(
        (name = "projects"), (name = "documents"), (name = "chat"), (name = "jobs"),
        (name = "auth"), (name = "users"), (name = "keys"), (name = "audit"), (name = "srs"), (name = "wireframes")
    )
)]
pub struct ApiDoc;

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

pub fn router() -> Routes {
    Routes::new().route(
        "/api/v1/openapi.json",
        get(|| async { Json(ApiDoc::openapi()) }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_builds_and_describes_the_recursive_wireframe_tree() {
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
        assert!(doc["paths"]["/api/v1/wireframes/{wid}"].is_object());
        assert!(doc["components"]["schemas"]["Component"].is_object());
    }
}
