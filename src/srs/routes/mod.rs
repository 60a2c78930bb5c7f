//! `/api/v1/projects/{pid}/srs`, `/api/v1/srs/{sid}/…`, `/api/v1/lint` and
//! `/api/v1/srs-template`: generate, read, edit, compare, lint and export.
//! Documents, their requirements, the pasted-text linter and the template
//! administration each have a file.

use std::sync::Arc;

use super::generate::Retrieve;
use super::runs::Handles;
use super::store::{Documents, Record};
use crate::app::AppState;
use crate::audit::{self, Actor};
use crate::auth::Identity;
use crate::generation::structured::Stop;
use crate::http::routes::Routes;
use crate::http::AppError;
use crate::projects::Need;
use crate::versioned::routes as versioned;
use utoipa_axum::routes;

mod documents;
mod lint;
mod requirements;
mod template;

pub use documents::*;
pub use lint::*;
pub use requirements::*;
pub use template::*;

pub fn router() -> Routes {
    Routes::new()
        .api(routes!(list, create))
        .api(routes!(questions))
        .api(routes!(show, update, remove))
        .api(routes!(versions))
        .api(routes!(version))
        .api(routes!(compare))
        .api(routes!(lint))
        .api(routes!(export_document))
        .api(routes!(requirements, add_requirement))
        .api(routes!(requirement, update_requirement, delete_requirement))
        .api(routes!(regenerate))
        .api(routes!(lint_text))
        .api(routes!(show_template, save_template))
        .api(routes!(template_versions))
}

/// The document's record, once `who` may use its project for `need`; 404
/// for the document itself otherwise.
async fn visible(s: &AppState, who: &Identity, sid: &str, need: Need) -> Result<Record, AppError> {
    versioned::visible::<Documents>(s, who, sid, need).await
}

/// What the SRS jobs use, taken from the application state.
pub fn handles(s: &AppState) -> Handles {
    let state = s.clone();
    let retrieve: Retrieve = Arc::new(move |project_id, query, k| {
        let state = state.clone();
        Box::pin(async move {
            let index = crate::retrieval::routes::index(&state);
            let min = state.config.chat.min_relevance;
            crate::retrieval::search::relevant(index, &project_id, &query, k, min)
                .await
                .map_err(|e| Stop::from(AppError::from(e)))
        })
    });
    Handles {
        pool: s.store.pool.clone(),
        jobs: s.jobs.clone(),
        generation: s.generation.clone(),
        config: s.config.srs.clone(),
        retrieve,
    }
}

async fn audit(
    s: &AppState,
    who: &Identity,
    action: &str,
    target: &str,
    details: serde_json::Value,
) {
    audit::record(
        &s.store.pool,
        Actor::from(who),
        action,
        Some(target),
        details,
    )
    .await;
}
