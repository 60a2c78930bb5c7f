//! The two wireframe jobs: sketch a new wireframe from a description (and
//! requirements), and apply a change request as a new version. Both decode
//! under a schema, retry a failed attempt, and store nothing unless they
//! finish: a cancelled job leaves no wireframe or version behind.

use std::sync::Arc;

use sqlx::SqlitePool;

use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::change::{self, Changes};
use super::model::Screen;
use super::prompt::{self, GenApp};
use super::store;
use super::Error;
use crate::config::WireframesConfig;
use crate::generation::route::Route;
use crate::generation::structured::{self, Stop};
use crate::generation::{Generator, Role};
use crate::jobs::{JobHandle, Jobs, Started};

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

/// What the wireframe jobs use.
#[derive(Clone)]
pub struct Handles {
    pub pool: SqlitePool,
    pub jobs: Arc<Jobs>,
    /// Reaches the model of the wireframes role (`wireframes.model`, else `models.chat`).
    pub generation: Arc<Generator>,
    pub config: WireframesConfig,
}

impl Handles {
    /// The wireframes role's chain, cut to what the project's data policy allows.
    async fn route(&self, project_id: &str, user: &str) -> Result<Route, Error> {
        let route = crate::projects::route(
            &self.generation,
            &self.pool,
            project_id,
            user,
            Role::Wireframes,
        );
        Ok(route.await?)
    }
}

/// The project-wide text rule (trimmed, bounded, no control characters),
/// its refusal as this module's error.
fn text_field(field: &str, value: &str, max: usize) -> Result<String, Error> {
    crate::store::text_field(field, value, true, max)
        .map_err(|e| Error::invalid(field, e.to_string()))
}

fn text(field: &str, value: &str) -> Result<String, Error> {
    text_field(field, value, MAX_DESCRIPTION_CHARS)
}

/// Runs one schema-constrained generation (retried) and parses it.
async fn generate<T: serde::de::DeserializeOwned>(
    config: &WireframesConfig,
    route: &Route,
    (system, user): (String, String),
    schema: serde_json::Value,
    job: &JobHandle,
) -> Result<T, Stop> {
    let request = structured::Request {
        system: &system,
        user: &user,
        schema,
        max_tokens: config.max_tokens,
        attempts: config.attempts,
    };
    structured::complete_json(route, request, &|| job.is_cancelled()).await
}

/// The most phrases a model may choose a label from when the description
/// names no parts: enough for a screen's worth of its words, few enough to
/// keep the constraint quick to compile.
const VOCABULARY: usize = 160;

/// The screens for a description: its named parts placed deterministically
/// and the gaps chosen by the model (the parts alone if that fails or there
/// is nothing to choose), or, when
/// it names no parts, the model's screen form with every text drawn from
/// the description's words and the generic UI words.
async fn sketch(
    h: &Handles,
    route: &Route,
    description: &str,
    reqs: &[(String, String)],
    ids: &[String],
    job: &JobHandle,
) -> Result<Vec<Screen>, Stop> {
    let mut described = bacopilot_content::screen::parse_screens(description);
    described.truncate(h.config.max_screens.max(1));
    if described.iter().any(|s| !s.is_empty()) {
        if !prompt::has_gaps(&described, ids) {
            return Ok(prompt::described_screens(&described, None));
        }
        let gaps: Result<prompt::Gaps, Stop> = generate(
            &h.config,
            route,
            prompt::gaps_messages(&described, description, reqs),
            prompt::gaps_schema(&described, ids),
            job,
        )
        .await;
        let gaps = match gaps {
            Ok(g) => Some(g),
            Err(Stop::Cancelled) => return Err(Stop::Cancelled),
            Err(Stop::Failed(e)) => {
                tracing::warn!(error = %e, "wireframe gaps not chosen; the described parts stand alone");
                None
            }
        };
        return Ok(prompt::described_screens(&described, gaps.as_ref()));
    }
    let words = bacopilot_content::screen::vocabulary(description, VOCABULARY);
    let schema = prompt::tree_schema(
        h.config.max_screens,
        ids,
        prompt::first_purpose(description),
        &words,
    );
    let app: GenApp = generate(
        &h.config,
        route,
        prompt::tree_messages(description, reqs),
        schema,
        job,
    )
    .await?;
    Ok(prompt::into_screens(app, &[]))
}

/// Checks the request, then starts sketching a new wireframe.
pub async fn start(
    h: &Handles,
    project_id: &str,
    req: NewWireframe,
    user: &str,
) -> Result<Started, Error> {
    let description = text("description", &req.description)?;
    let title = match req.title.as_deref().map(str::trim) {
        None | Some("") => description
            .lines()
            .next()
            .unwrap_or("Wireframe")
            .chars()
            .take(80)
            .collect(),
        Some(t) => text_field("title", t, 200)?,
    };
    if req.requirement_ids.len() > 20 {
        return Err(Error::invalid("requirement_ids", "at most 20 requirements"));
    }
    let (srs_id, reqs) = crate::trace::requirements(
        &h.pool,
        project_id,
        &req.requirement_ids,
        req.srs_id.as_deref(),
    )
    .await?;
    let route = h.route(project_id, user).await?;
    let job = h
        .jobs
        .start("wireframe", Some(project_id), json!({}))
        .await?;
    let started = job.started();
    let (h, project_id, user) = (h.clone(), project_id.to_string(), user.to_string());
    tokio::spawn(async move {
        let outcome = async {
            job.progress(0.05, "sketching screens").await;
            let ids: Vec<String> = reqs.iter().map(|(id, _)| id.clone()).collect();
            let screens = sketch(&h, &route, &description, &reqs, &ids, &job).await?;
            if job.is_cancelled() {
                return Err(Stop::Cancelled);
            }
            let pool = &h.pool;
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
            .map_err(Error::from)?;
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
    h: &Handles,
    wid: &str,
    req: ChangeRequest,
    user: &str,
) -> Result<Started, Error> {
    let request = text("request", &req.request)?;
    let current = store::load(&h.pool, wid, None).await?;
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
    let route = h.route(&current.project_id, user).await?;
    let job = h
        .jobs
        .start(
            "wireframe_change",
            Some(&current.project_id),
            json!({"wireframe_id": wid}),
        )
        .await?;
    let started = job.started();
    let (h, user) = (h.clone(), user.to_string());
    tokio::spawn(async move {
        let outcome = async {
            job.progress(0.05, "working out the change").await;
            let schema = change::schema(&current.screens, &ids, &request);
            let changes: Changes = generate(
                &h.config,
                &route,
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
                &h.pool,
                &current.id,
                current.version,
                &screens,
                &note,
                Some(&user),
            )
            .await
            .map_err(Error::from)?;
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
