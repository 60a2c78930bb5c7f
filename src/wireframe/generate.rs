//! The two wireframe jobs: sketch a new wireframe from a description (and
//! requirements), and apply a change request as a new version. Both decode
//! under a schema, retry a failed attempt, and store nothing unless they
//! finish: a cancelled job leaves no wireframe or version behind.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::change::{self, Changes};
use super::model::Screen;
use super::prompt::{self, GenApp};
use super::store;
use crate::http::{AppError, AppState};
use crate::inference::chat_model::ChatModel;
use crate::inference::structured::{self, Stop};
use crate::jobs::{JobHandle, Started};

const MAX_DESCRIPTION_CHARS: usize = 4000;

/// `POST /api/v1/projects/{pid}/wireframes`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWireframe {
    /// The screens wanted, in the analyst's words.
    pub description: String,
    pub title: Option<String>,
    /// Requirements the screens must satisfy (ids in `srs_id`).
    #[serde(default)]
    pub requirement_ids: Vec<String>,
    /// The SRS document the requirement ids are from (default: the
    /// project's newest).
    pub srs_id: Option<String>,
}

/// `POST /api/v1/wireframes/{wid}/changes`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeRequest {
    pub request: String,
}

fn model(s: &AppState) -> Result<Arc<ChatModel>, AppError> {
    Ok(s.registry
        .chat(s.config.chat_model(&s.config.wireframes.model))?)
}

fn text(field: &str, value: &str) -> Result<String, AppError> {
    crate::projects::text_field(field, value, true, MAX_DESCRIPTION_CHARS)
}

/// Runs one schema-constrained generation (retried) and parses it.
async fn generate<T: serde::de::DeserializeOwned>(
    s: &AppState,
    model: &Arc<ChatModel>,
    (system, user): (String, String),
    schema: serde_json::Value,
    job: &JobHandle,
) -> Result<T, Stop> {
    let request = structured::Request {
        system: &system,
        user: &user,
        schema,
        max_tokens: s.config.wireframes.max_tokens,
        attempts: s.config.wireframes.attempts,
    };
    structured::complete_json(model, request, &|| job.is_cancelled()).await
}

/// Checks the request, then starts sketching a new wireframe.
pub async fn start(
    s: &AppState,
    project_id: &str,
    req: NewWireframe,
    user: &str,
) -> Result<Started, AppError> {
    let description = text("description", &req.description)?;
    let title = match req.title.as_deref().map(str::trim) {
        None | Some("") => description
            .lines()
            .next()
            .unwrap_or("Wireframe")
            .chars()
            .take(80)
            .collect(),
        Some(t) => crate::projects::text_field("title", t, true, 200)?,
    };
    if req.requirement_ids.len() > 20 {
        return Err(AppError::invalid(
            "requirement_ids",
            "at most 20 requirements",
        ));
    }
    let (srs_id, reqs) = crate::trace::requirements(
        &s.store.pool,
        project_id,
        &req.requirement_ids,
        req.srs_id.as_deref(),
    )
    .await?;
    let model = model(s)?;
    let job = s
        .jobs
        .start("wireframe", Some(project_id), json!({}))
        .await?;
    let started = job.started();
    let (state, project_id, user) = (s.clone(), project_id.to_string(), user.to_string());
    tokio::spawn(async move {
        let outcome = async {
            job.progress(0.05, "sketching screens").await;
            let ids: Vec<String> = reqs.iter().map(|(id, _)| id.clone()).collect();
            let schema = prompt::tree_schema(
                state.config.wireframes.max_screens,
                &ids,
                prompt::first_purpose(&description),
            );
            let app: GenApp = generate(
                &state,
                &model,
                prompt::tree_messages(&description, &reqs),
                schema,
                &job,
            )
            .await?;
            let screens = prompt::into_screens(app, &[]);
            if job.is_cancelled() {
                return Err(Stop::Cancelled);
            }
            let pool = &state.store.pool;
            let id = store::create(
                pool,
                &project_id,
                &title,
                &description,
                srs_id.as_deref(),
                &screens,
                Some(&user),
            )
            .await
            .map_err(AppError::from)?;
            Ok((
                format!("sketched {} screen(s)", screens.len()),
                json!({"wireframe_id": id}),
            ))
        }
        .await;
        job.conclude(outcome).await;
    });
    Ok(started)
}

/// Starts applying a change request to the current version.
pub async fn start_change(
    s: &AppState,
    wid: &str,
    req: ChangeRequest,
    user: &str,
) -> Result<Started, AppError> {
    let request = text("request", &req.request)?;
    let current = store::load(&s.store.pool, wid, None).await?;
    let ids: Vec<String> = {
        let mut ids: Vec<String> = current
            .screens
            .iter()
            .flat_map(Screen::all_components)
            .flat_map(|c| c.requirement_ids.iter().cloned())
            .collect();
        ids.sort();
        ids.dedup();
        ids
    };
    let model = model(s)?;
    let job = s
        .jobs
        .start(
            "wireframe_change",
            Some(&current.project_id),
            json!({"wireframe_id": wid}),
        )
        .await?;
    let started = job.started();
    let (state, user) = (s.clone(), user.to_string());
    tokio::spawn(async move {
        let outcome = async {
            job.progress(0.05, "working out the change").await;
            let schema = change::schema(&current.screens, &ids, &request);
            let changes: Changes = generate(
                &state,
                &model,
                change::messages(&current.screens, &request),
                schema,
                &job,
            )
            .await?;
            let (screens, done) = change::apply(&current.screens, changes).map_err(Stop::Failed)?;
            if job.is_cancelled() {
                return Err(Stop::Cancelled);
            }
            let note = format!("{request} ({})", done.join("; "));
            let version = store::commit(
                &state.store.pool,
                &current.id,
                current.version,
                &screens,
                &note,
                Some(&user),
            )
            .await
            .map_err(AppError::from)?;
            Ok((
                done.join("; "),
                json!({"wireframe_id": current.id, "version": version}),
            ))
        }
        .await;
        job.conclude(outcome).await;
    });
    Ok(started)
}
