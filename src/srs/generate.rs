//! Generation as a background job: optional clarifying questions, then every
//! generated section of the outline (several at once, so the engine batches
//! them). A requirements section holds the rules read from the brief, the
//! answers and the project's documents ([`super::derive`]), which the model
//! may only reword under a check; a prose section is the model's, grounded in
//! the passages retrieved for it and kept only where the sources support it.
//! Then the sections no one writes, and one transaction that stores the whole
//! document. A cancelled or failed job stores nothing.

use std::collections::HashSet;
use std::sync::Arc;

use futures::future::BoxFuture;
use futures::StreamExt;
use serde_json::json;
use sqlx::SqlitePool;

use super::derive::{self, Found, SourceText};
use super::model::{Clarification, Requirement, Section};
use super::prompt::{self, QuestionsOut, RephraseOut, SectionOut};
use super::store::Body;
use super::template::{Kind, Outline, OutlineSection};
use super::Error;
use crate::config::SrsConfig;
use crate::generation::route::Route;
use crate::generation::structured::{self, Stop};
use crate::jobs::JobHandle;
use crate::retrieval::search::SearchHit;

/// Sections generated at the same time: enough for the engine to batch,
/// few enough to leave room in its queue for chat users.
const PARALLEL_SECTIONS: usize = 4;

/// The passages of project `.0`'s documents relevant to query `.1`, at most
/// `.2` of them; a failed search stops the generation like a failed section.
pub type Retrieve = Arc<
    dyn Fn(String, String, usize) -> BoxFuture<'static, Result<Vec<SearchHit>, Stop>> + Send + Sync,
>;

/// What one generation works from, shared by its sections.
pub struct Context {
    pub config: SrsConfig,
    pub retrieve: Retrieve,
    /// Who writes: the SRS role's chain for this project.
    pub route: Route,
    pub project_id: String,
    pub brief: String,
    /// Only these documents are retrieved from, when given.
    pub document_ids: Option<HashSet<String>>,
    pub clarifications: Vec<Clarification>,
    /// The chunks of the project's (chosen) documents, read for rules.
    pub documents: Vec<SourceText>,
}

impl Context {
    /// The passages relevant to `query`, restricted to the chosen documents
    /// (searched deeper then, so the filter leaves enough).
    async fn sources(&self, query: &str, k: usize) -> Result<Vec<SearchHit>, Stop> {
        if k == 0 {
            return Ok(Vec::new());
        }
        let search = |k| (self.retrieve)(self.project_id.clone(), query.to_string(), k);
        let Some(ids) = &self.document_ids else {
            return search(k).await;
        };
        let hits = search(k * 5).await?;
        Ok(hits
            .into_iter()
            .filter(|h| ids.contains(&h.document_id))
            .take(k)
            .collect())
    }

    /// Asks the model for clarifying questions about the brief; `job`, if
    /// any, can cancel it.
    pub async fn questions(&self, job: Option<&JobHandle>) -> Result<Vec<Clarification>, Stop> {
        let sources = self.sources(&self.brief, 2).await?;
        let (system, user) = prompt::questions_messages(&self.brief, &sources);
        let request = structured::Request {
            system: &system,
            user: &user,
            schema: prompt::questions_schema(),
            max_tokens: 700,
            attempts: self.config.section_attempts,
        };
        let cancelled = || job.is_some_and(JobHandle::is_cancelled);
        let out: QuestionsOut = structured::complete_json(&self.route, request, &cancelled).await?;
        Ok(out
            .questions
            .into_iter()
            .map(|q| {
                let recommended = q.recommended.clamp(1, q.choices.len().max(1)) - 1;
                Clarification {
                    question: q.question.trim().to_string(),
                    choices: q
                        .choices
                        .into_iter()
                        .map(|c| c.trim().to_string())
                        .collect(),
                    recommended: Some(recommended),
                    answer: None,
                }
            })
            .collect())
    }

    /// Writes one section. Requirements come back with empty ids; the
    /// caller numbers them.
    pub async fn section(
        &self,
        outline: &Outline,
        section: &OutlineSection,
        job: &JobHandle,
    ) -> Result<Section, Stop> {
        let texts = derive::source_texts(&self.brief, &self.clarifications, &self.documents);
        if section.kind == Kind::Requirements {
            let all = derive::found(&texts);
            let (mine, mut derived) = derive::derived_section(&all, outline, section);
            self.rephrase(section, &mine, &mut derived.requirements, job)
                .await?;
            return Ok(derived);
        }
        let config = &self.config;
        let query = format!("{} {} {}", section.title, section.guidance, self.brief);
        let sources = self.sources(&query, config.context_chunks).await?;
        let (system, user) =
            prompt::section_messages(section, &self.brief, &self.clarifications, &sources);
        let request = structured::Request {
            system: &system,
            user: &user,
            schema: prompt::section_schema(),
            max_tokens: config.max_section_tokens,
            attempts: config.section_attempts,
        };
        let out: SectionOut =
            structured::complete_json(&self.route, request, &|| job.is_cancelled()).await?;
        let known: Vec<&str> = texts
            .iter()
            .map(|t| t.text.as_str())
            .chain(sources.iter().map(|h| h.text.as_str()))
            .collect();
        // The outline's own titles are the product's words, not inventions.
        let titles: String = outline
            .sections
            .iter()
            .map(|s| s.title.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        let mut allowed: Vec<&str> = derive::PRODUCT_WORDS.to_vec();
        allowed.extend(titles.split_whitespace());
        Ok(Section {
            key: section.key.clone(),
            title: section.title.clone(),
            text: derive::clean_prose(&out.text, &known, &allowed),
            requirements: Vec::new(),
        })
    }

    /// Lets the model reword the first `max_requirements_per_section`
    /// requirements in one call; a wording that loses or invents a fact is
    /// refused and the derived one stays, as it does when the call fails.
    async fn rephrase(
        &self,
        section: &OutlineSection,
        found: &[&Found],
        requirements: &mut [Requirement],
        job: &JobHandle,
    ) -> Result<(), Stop> {
        let n = found.len().min(self.config.max_requirements_per_section);
        if n == 0 {
            return Ok(());
        }
        let drafts: Vec<(&str, &str)> = found[..n]
            .iter()
            .zip(requirements.iter())
            .map(|(f, r)| (f.source.quote.as_str(), r.statement.as_str()))
            .collect();
        let (system, user) = prompt::rephrase_messages(section, &drafts);
        let request = structured::Request {
            system: &system,
            user: &user,
            schema: prompt::rephrase_schema(n),
            max_tokens: self.config.max_section_tokens,
            attempts: 1,
        };
        let out: RephraseOut =
            match structured::complete_json(&self.route, request, &|| job.is_cancelled()).await {
                Ok(out) => out,
                Err(Stop::Cancelled) => return Err(Stop::Cancelled),
                Err(Stop::Failed(_)) => return Ok(()),
            };
        for ((r, f), new) in requirements.iter_mut().zip(found).zip(out.requirements) {
            derive::take_rephrasing(r, &f.source.quote, &new.statement, &new.title);
        }
        Ok(())
    }
}

/// The chunks of project `project_id`'s ready documents (only `ids`, when
/// given), in document and reading order: what the rules are read from.
pub async fn document_chunks(
    pool: &SqlitePool,
    project_id: &str,
    ids: Option<&HashSet<String>>,
) -> Result<Vec<SourceText>, Error> {
    let rows: Vec<(String, String, String, Option<String>, String)> = sqlx::query_as(
        "SELECT c.id, c.document_id, d.name, c.heading, c.text FROM chunks c \
         JOIN documents d ON d.id = c.document_id \
         WHERE c.project_id = ?1 AND d.status = 'ready' \
         ORDER BY d.created_at, d.id, c.ord",
    )
    .bind(project_id)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .filter(|(_, doc, ..)| ids.is_none_or(|ids| ids.contains(doc)))
        .map(|(chunk_id, document_id, name, heading, text)| SourceText {
            document_id,
            chunk_id,
            name,
            heading,
            text,
        })
        .collect())
}

/// Gives every requirement without an id the next one of its section's prefix.
pub fn number(body: &mut Body, outline: &Outline) {
    for i in 0..body.sections.len() {
        let prefix = outline
            .section(&body.sections[i].key)
            .and_then(|s| s.id_prefix.clone())
            .unwrap_or_else(|| "REQ".into());
        for j in 0..body.sections[i].requirements.len() {
            if body.sections[i].requirements[j].id.is_empty() {
                let id = body.next_id(&prefix);
                body.sections[i].requirements[j].id = id;
            }
        }
    }
}

/// Fills the sections the model does not write, from the rest of the body:
/// references from the cited documents, verification from the requirements,
/// clarifications from the answers.
pub async fn fill_derived(
    pool: &SqlitePool,
    body: &mut Body,
    outline: &Outline,
) -> Result<(), Error> {
    let cited: Vec<String> = {
        let mut ids: Vec<String> = body
            .sections
            .iter()
            .flat_map(|s| {
                s.requirements
                    .iter()
                    .flat_map(|r| r.sources.iter().map(|x| x.document_id.clone()))
            })
            .collect();
        ids.sort();
        ids.dedup();
        ids
    };
    // One query for all of them; a document deleted since is left out.
    let mut names = Vec::new();
    if !cited.is_empty() {
        let mut q =
            sqlx::QueryBuilder::<sqlx::Sqlite>::new("SELECT id, name FROM documents WHERE id IN (");
        let mut ids = q.separated(", ");
        for id in &cited {
            ids.push_bind(id);
        }
        q.push(") ORDER BY id");
        let rows: Vec<(String, String)> = q.build_query_as().fetch_all(pool).await?;
        names = rows
            .into_iter()
            .map(|(id, name)| format!("- {name} (document {id})"))
            .collect();
    }
    if cited.iter().any(|id| id == derive::BRIEF) {
        names.insert(0, "- The brief of this document".to_string());
    }
    let verification = {
        let lines: Vec<String> = body
            .sections
            .iter()
            .flat_map(|s| s.requirements.iter())
            .map(|r| format!("{}: {}", r.id, r.verification.as_str()))
            .collect();
        if lines.is_empty() {
            "No requirements to verify yet.".to_string()
        } else {
            format!(
                "Each requirement is verified by the method named beside it.\n{}",
                lines.join("\n")
            )
        }
    };
    let clarifications = if body.clarifications.is_empty() {
        "No clarifying questions were asked.".to_string()
    } else {
        body.clarifications
            .iter()
            .map(|c| {
                format!(
                    "{} {}",
                    c.question,
                    c.answer.as_deref().unwrap_or("(not answered)")
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    for o in &outline.sections {
        let text = match o.kind {
            Kind::References if names.is_empty() => "No sources were cited.".to_string(),
            Kind::References => names.join("\n"),
            Kind::Verification => verification.clone(),
            Kind::Clarifications => clarifications.clone(),
            _ => continue,
        };
        if let Some(section) = body.sections.iter_mut().find(|x| x.key == o.key) {
            section.text = text;
        }
    }
    Ok(())
}

/// Generates every model-written section of `outline`; `Err` only for a
/// cancellation. Failed sections come back empty and are named in the list.
pub async fn sections(
    ctx: &Context,
    outline: &Outline,
    job: &JobHandle,
    start: f64,
) -> Result<(Vec<Section>, Vec<String>), Stop> {
    let todo: Vec<&OutlineSection> = outline
        .sections
        .iter()
        .filter(|s| s.kind.generated())
        .collect();
    let total = todo.len().max(1) as f64;
    // Collected first: a closure inside the stream's type trips the
    // higher-ranked lifetime check of `tokio::spawn`'s `Send` bound.
    let pending: Vec<_> = todo.iter().map(|s| keyed(ctx, outline, s, job)).collect();
    let mut results = futures::stream::iter(pending).buffer_unordered(PARALLEL_SECTIONS);
    let mut done = Vec::new();
    let mut failed = Vec::new();
    while let Some((key, result)) = results.next().await {
        match result {
            Ok(section) => done.push(section),
            Err(Stop::Cancelled) => return Err(Stop::Cancelled),
            Err(Stop::Failed(e)) => failed.push(format!("{key}: {e}")),
        }
        let progress = start + (1.0 - start) * 0.95 * (done.len() + failed.len()) as f64 / total;
        job.progress(
            progress,
            &format!(
                "wrote section {key} ({} of {})",
                done.len() + failed.len(),
                todo.len()
            ),
        )
        .await;
    }
    failed.sort();
    // Every section of the outline, in its order, generated or not.
    let sections = outline
        .sections
        .iter()
        .map(|o| {
            done.iter()
                .find(|d| d.key == o.key)
                .cloned()
                .unwrap_or_else(|| Section {
                    key: o.key.clone(),
                    title: o.title.clone(),
                    text: String::new(),
                    requirements: Vec::new(),
                })
        })
        .collect();
    Ok((sections, failed))
}

/// A section's key with its outcome.
async fn keyed<'a>(
    ctx: &'a Context,
    outline: &'a Outline,
    section: &'a OutlineSection,
    job: &'a JobHandle,
) -> (String, Result<Section, Stop>) {
    (
        section.key.clone(),
        ctx.section(outline, section, job).await,
    )
}

/// The job's result when it failed sections: which, and that they can be
/// regenerated one by one.
pub fn result(srs_id: &str, failed: &[String]) -> serde_json::Value {
    json!({"srs_id": srs_id, "failed_sections": failed})
}
