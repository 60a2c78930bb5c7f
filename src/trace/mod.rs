//! The links between SRS requirements and wireframe screens: which screens
//! carry a requirement (for the SRS traceability matrix) and what a
//! requirement says (for sketching a wireframe from it). Both sides are read
//! from the versioned records through the few fields a link needs, so
//! neither `srs` nor `wireframe` imports the other.
//!
//! Imports: `versioned`, `store`.

use std::collections::BTreeMap;

use serde::Deserialize;
use sqlx::SqlitePool;

use crate::versioned::{self, Common, SRS, WIREFRAMES};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Versioned(#[from] versioned::Error),
    #[error("The project has no SRS document to take requirements from")]
    NoSrs,
    #[error("No SRS document `{0}` in this project")]
    OtherProject(String),
    #[error("No requirement `{id}` in SRS document `{srs_id}`")]
    UnknownRequirement { id: String, srs_id: String },
}

impl Error {
    pub fn is_internal(&self) -> bool {
        matches!(self, Error::Versioned(e) if e.is_internal())
    }
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        Error::Versioned(e.into())
    }
}

/// Of a wireframe version, what the links read: screens and the
/// requirement ids on their components, at any depth.
#[derive(Deserialize)]
struct Screen {
    title: String,
    components: Vec<Component>,
}

#[derive(Deserialize)]
struct Component {
    #[serde(default)]
    children: Vec<Component>,
    #[serde(default)]
    requirement_ids: Vec<String>,
}

impl Component {
    fn requirement_ids<'a>(&'a self, out: &mut Vec<&'a str>) {
        out.extend(self.requirement_ids.iter().map(String::as_str));
        for c in &self.children {
            c.requirement_ids(out);
        }
    }
}

/// Of an SRS version, what the links read: each requirement's id and
/// statement, in document order.
#[derive(Deserialize)]
struct SrsBody {
    sections: Vec<Section>,
}

#[derive(Deserialize)]
struct Section {
    #[serde(default)]
    requirements: Vec<Requirement>,
}

#[derive(Deserialize)]
struct Requirement {
    id: String,
    statement: String,
}

/// Wireframes read per query while collecting the links.
const PAGE: i64 = 200;

/// For the SRS traceability matrix: requirement id → "wireframe title /
/// screen title" of every current wireframe screen of the project that
/// carries it.
pub async fn screens_by_requirement(
    pool: &SqlitePool,
    project_id: &str,
) -> Result<BTreeMap<String, Vec<String>>, Error> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut after = String::new();
    loop {
        let page =
            versioned::list::<Common, Vec<Screen>>(pool, &WIREFRAMES, project_id, &after, PAGE)
                .await?;
        let more = page.len() as i64 > PAGE;
        for wireframe in page.iter().take(PAGE as usize) {
            for screen in &wireframe.body {
                let mut ids = Vec::new();
                for c in &screen.components {
                    c.requirement_ids(&mut ids);
                }
                let name = format!("{} / {}", wireframe.record.title, screen.title);
                for rid in ids {
                    let names = out.entry(rid.to_string()).or_default();
                    if !names.contains(&name) {
                        names.push(name.clone());
                    }
                }
            }
        }
        match page.get(PAGE as usize - 1) {
            Some(last) if more => after = last.record.id.clone(),
            _ => return Ok(out),
        }
    }
}

/// The requirements `ids` as (id, statement), from SRS document `srs_id` or
/// the project's newest one, and the document they came from.
pub async fn requirements(
    pool: &SqlitePool,
    project_id: &str,
    ids: &[String],
    srs_id: Option<&str>,
) -> Result<(Option<String>, Vec<(String, String)>), Error> {
    if ids.is_empty() {
        return Ok((srs_id.map(str::to_string), Vec::new()));
    }
    let sid = match srs_id {
        Some(id) => id.to_string(),
        None => {
            let sql = format!(
                "SELECT id FROM {} WHERE project_id = ?1 ORDER BY id DESC LIMIT 1",
                SRS.documents
            );
            sqlx::query_scalar(&sql)
                .bind(project_id)
                .fetch_optional(pool)
                .await?
                .ok_or(Error::NoSrs)?
        }
    };
    let srs = versioned::load::<Common, SrsBody>(pool, &SRS, &sid, None).await?;
    if srs.record.project_id != project_id {
        return Err(Error::OtherProject(sid));
    }
    let all = || srs.body.sections.iter().flat_map(|s| &s.requirements);
    let mut out = Vec::new();
    for id in ids {
        let r = all()
            .find(|r| &r.id == id)
            .ok_or_else(|| Error::UnknownRequirement {
                id: id.clone(),
                srs_id: sid.clone(),
            })?;
        out.push((r.id.clone(), r.statement.clone()));
    }
    Ok((Some(sid), out))
}
