//! `/api/v1/openapi.json`: the OpenAPI 3.1 description of `/api/v1`,
//! generated from the handlers' annotations and the types they exchange.

use axum::routing::get;
use axum::{Json, Router};
use utoipa::OpenApi;

use crate::http::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "BA Copilot API", description = "Projects, documents, retrieval, grounded chat and jobs. Errors are `{\"error\": {\"code\", \"message\", \"details\"}}`."),
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
    ),
    tags(
        (name = "projects"), (name = "documents"), (name = "chat"), (name = "jobs")
    )
)]
pub struct ApiDoc;

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/api/v1/openapi.json",
        get(|| async { Json(ApiDoc::openapi()) }),
    )
}
