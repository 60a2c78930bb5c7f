//! Starting the two SRS jobs — a whole document, or one section of an
//! existing one — after checking everything a client can get wrong, so a bad
//! request is a 4xx at once rather than a failed job later.

use std::collections::HashSet;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::json;
use sqlx::SqlitePool;
use utoipa::ToSchema;

use super::generate::{self, Context, Retrieve};
use super::model::Clarification;
use super::store::{self, Body};
use super::template;
use super::Error;
use crate::config::SrsConfig;
use crate::generation::route::Route;
use crate::generation::structured::Stop;
use crate::generation::{Generator, Role};
use crate::jobs::{JobHandle, Jobs, Outcome, Started};

const MAX_BRIEF_CHARS: usize = 8000;
const MAX_TITLE_CHARS: usize = 200;

/// `POST /api/v1/projects/{pid}/srs`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSrs {
    /// What the system is for, in the analyst's words.
    pub brief: String,
    /// Defaults to the brief's first line.
    pub title: Option<String>,
    /// Retrieve only from these documents of the project (default: all).
    pub document_ids: Option<Vec<String>>,
    /// Ask the model for clarifying questions first and answer each with its
    /// recommended choice (ignored when `clarifications` are given).
    #[serde(default)]
    pub clarify: bool,
    /// Questions already answered (e.g. from `POST …/srs/questions`).
    #[serde(default)]
    pub clarifications: Vec<Clarification>,
}

/// `POST /api/v1/projects/{pid}/srs/questions`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuestionsRequest {
    pub brief: String,
    pub document_ids: Option<Vec<String>>,
}

/// What the SRS jobs use.
#[derive(Clone)]
pub struct Handles {
    pub pool: SqlitePool,
    pub jobs: Arc<Jobs>,
    /// Reaches the model of the SRS role (`srs.model`, else `models.chat`).
    pub generation: Arc<Generator>,
    pub config: SrsConfig,
    pub retrieve: Retrieve,
}

impl Handles {
    fn context(
        &self,
        route: Route,
        project_id: &str,
        brief: String,
        document_ids: Option<HashSet<String>>,
        clarifications: Vec<Clarification>,
        documents: Vec<super::derive::SourceText>,
    ) -> Context {
        Context {
            documents,
            config: self.config.clone(),
            retrieve: self.retrieve.clone(),
            route,
            project_id: project_id.to_string(),
            brief,
            document_ids,
            clarifications,
        }
    }

    /// The SRS role's chain, cut to what the project's data policy allows.
    async fn route(&self, project_id: &str, user: &str) -> Result<Route, Error> {
        let route =
            crate::projects::route(&self.generation, &self.pool, project_id, user, Role::Srs);
        Ok(route.await?)
    }
}

fn brief(text: &str) -> Result<String, Error> {
    let b = text.trim();
    if b.is_empty() {
        return Err(Error::invalid("brief", "`brief` must not be empty"));
    }
    if b.chars().count() > MAX_BRIEF_CHARS {
        return Err(Error::invalid(
            "brief",
            format!("`brief` is longer than {MAX_BRIEF_CHARS} characters"),
        ));
    }
    Ok(b.to_string())
}

/// The chosen documents, each checked to be a ready document of the project.
async fn documents(
    pool: &SqlitePool,
    project_id: &str,
    ids: Option<Vec<String>>,
) -> Result<Option<HashSet<String>>, Error> {
    let Some(ids) = ids else { return Ok(None) };
    for id in &ids {
        let found = crate::retrieval::documents::get(pool, id).await.ok();
        match found {
            Some(d) if d.project_id == project_id && d.status == "ready" => {}
            Some(d) if d.project_id == project_id => {
                return Err(Error::invalid(
                    "document_ids",
                    format!("Document `{id}` is {}, not ready", d.status),
                ))
            }
            _ => {
                return Err(Error::invalid(
                    "document_ids",
                    format!("No document `{id}` in this project"),
                ))
            }
        }
    }
    Ok(Some(ids.into_iter().collect()))
}

fn clarifications(list: Vec<Clarification>) -> Result<Vec<Clarification>, Error> {
    if list.len() > 10 {
        return Err(Error::invalid(
            "clarifications",
            "at most 10 clarifications",
        ));
    }
    for c in &list {
        let long = c.question.chars().count() > 500
            || c.choices.len() > 10
            || c.choices
                .iter()
                .chain(&c.answer)
                .any(|t| t.chars().count() > 500);
        if c.question.trim().is_empty() || long {
            return Err(Error::invalid(
                "clarifications",
                "each clarification needs a question (at most 500 characters, 10 choices)",
            ));
        }
    }
    Ok(list)
}

/// Checks the request and the model, then starts the generation job.
pub async fn start(
    h: &Handles,
    project_id: &str,
    req: NewSrs,
    user: &str,
) -> Result<Started, Error> {
    let brief = brief(&req.brief)?;
    let title = match req.title.as_deref().map(str::trim) {
        Some("") | None => brief
            .lines()
            .next()
            .unwrap_or("SRS")
            .chars()
            .take(80)
            .collect(),
        Some(t) if t.chars().count() > MAX_TITLE_CHARS => {
            return Err(Error::invalid(
                "title",
                format!("`title` is longer than {MAX_TITLE_CHARS} characters"),
            ))
        }
        Some(t) => t.to_string(),
    };
    let document_ids = documents(&h.pool, project_id, req.document_ids).await?;
    let clarify = req.clarify && req.clarifications.is_empty();
    let route = h.route(project_id, user).await?;
    let clarifications = clarifications(req.clarifications)?;
    let chunks = generate::document_chunks(&h.pool, project_id, document_ids.as_ref()).await?;
    let ctx = h.context(
        route,
        project_id,
        brief,
        document_ids,
        clarifications,
        chunks,
    );
    let template = template::current(&h.pool).await?;
    let job = h.jobs.start("srs", Some(project_id), json!({})).await?;
    let started = job.started();
    let (pool, user) = (h.pool.clone(), user.to_string());
    tokio::spawn(async move {
        let outcome = generate_document(&pool, ctx, template, title, clarify, &job, &user).await;
        job.conclude(outcome).await;
    });
    Ok(started)
}

async fn generate_document(
    pool: &SqlitePool,
    mut ctx: Context,
    template: template::TemplateVersion,
    title: String,
    clarify: bool,
    job: &JobHandle,
    user: &str,
) -> Outcome {
    if clarify {
        job.progress(0.01, "asking clarifying questions").await;
        ctx.clarifications = ctx
            .questions(Some(job))
            .await?
            .into_iter()
            .map(|mut q| {
                q.answer = q.recommended.and_then(|i| q.choices.get(i).cloned());
                q
            })
            .collect();
    }
    let start = if clarify { 0.1 } else { 0.02 };
    job.progress(start, "writing sections").await;
    let outline = &template.outline;
    let (sections, failed) = generate::sections(&ctx, outline, job, start).await?;
    let mut body = Body {
        sections,
        clarifications: ctx.clarifications.clone(),
        ..Body::default()
    };
    generate::number(&mut body, outline);
    generate::fill_derived(pool, &mut body, outline).await?;
    if job.is_cancelled() {
        return Err(Stop::Cancelled);
    }
    let id = store::create(
        pool,
        &ctx.project_id,
        &title,
        &ctx.brief,
        template.version,
        &body,
        Some(user),
    )
    .await
    .map_err(Error::from)?;
    let count: usize = body.sections.iter().map(|s| s.requirements.len()).sum();
    let message = if failed.is_empty() {
        format!("wrote {count} requirements")
    } else {
        format!(
            "wrote {count} requirements; {} section(s) failed and can be regenerated: {}",
            failed.len(),
            failed.join("; ")
        )
    };
    Ok((message, generate::result(&id, &failed)))
}

/// Asks the model for clarifying questions without starting a job (a few
/// seconds of generation); the request's connection closing stops it.
pub async fn questions(
    h: &Handles,
    project_id: &str,
    req: QuestionsRequest,
    user: &str,
) -> Result<Vec<Clarification>, Error> {
    let route = h.route(project_id, user).await?;
    let brief = brief(&req.brief)?;
    let document_ids = documents(&h.pool, project_id, req.document_ids).await?;
    let ctx = h.context(
        route,
        project_id,
        brief,
        document_ids,
        Vec::new(),
        Vec::new(),
    );
    ctx.questions(None).await.map_err(|e| match e {
        Stop::Cancelled => Error::Cancelled,
        Stop::Failed(m) => Error::Generation(m),
    })
}

/// Starts regenerating section `key` of document `sid` as a new version.
pub async fn regenerate(h: &Handles, sid: &str, key: &str, user: &str) -> Result<Started, Error> {
    let rec = store::record(&h.pool, sid).await?;
    let template = template::get(&h.pool, rec.extra.template_version).await?;
    let Some(section) = template
        .outline
        .section(key)
        .filter(|o| o.kind.generated())
        .cloned()
    else {
        return Err(Error::invalid(
            "key",
            format!("Section `{key}` is not one the model writes"),
        ));
    };
    let base = store::body(&h.pool, sid, rec.current_version).await?;
    let chunks = generate::document_chunks(&h.pool, &rec.project_id, None).await?;
    let ctx = h.context(
        h.route(&rec.project_id, user).await?,
        &rec.project_id,
        rec.extra.brief.clone(),
        None,
        base.clarifications.clone(),
        chunks,
    );
    let job = h
        .jobs
        .start("srs_section", Some(&rec.project_id), json!({"srs_id": sid}))
        .await?;
    let started = job.started();
    let (sid, user, base_version) = (sid.to_string(), user.to_string(), rec.current_version);
    let pool = h.pool.clone();
    tokio::spawn(async move {
        let outcome = async {
            job.progress(0.05, &format!("writing section {}", section.key))
                .await;
            let new = ctx.section(&template.outline, &section, &job).await?;
            if job.is_cancelled() {
                return Err(Stop::Cancelled);
            }
            let mut body = base;
            if let Some(old) = body.sections.iter_mut().find(|x| x.key == section.key) {
                *old = new;
            } else {
                body.sections.push(new);
            }
            generate::number(&mut body, &template.outline);
            generate::fill_derived(&pool, &mut body, &template.outline).await?;
            let note = format!("regenerated section {}", section.key);
            let version = store::commit(
                &pool,
                &sid,
                Some(base_version),
                None,
                &body,
                &note,
                Some(&user),
            )
            .await
            .map_err(Error::from)?;
            Ok((note, json!({"srs_id": sid, "version": version})))
        }
        .await;
        job.conclude(outcome).await;
    });
    Ok(started)
}
