//! The outline every SRS document follows, after ISO/IEC/IEEE 29148:2018
//! §9.5 (SRS content). It lives in SQLite so an administrator can edit it;
//! each save is a new version and a document records the version it used.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use sqlx::SqlitePool;
use utoipa::ToSchema;

use super::Error;

/// An outline: its sections in document order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Outline {
    pub sections: Vec<OutlineSection>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OutlineSection {
    /// Outline number, e.g. `3.2`; unique.
    pub key: String,
    pub title: String,
    pub kind: Kind,
    /// Prefix of the ids of this section's requirements (`FR` → `FR-001`);
    /// required for `requirements` sections, unique across the outline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_prefix: Option<String>,
    /// What the model is told this section is for.
    #[serde(default)]
    pub guidance: String,
}

/// How a section is filled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A heading over its subsections; nothing generated.
    Heading,
    /// Prose written by the model.
    Text,
    /// Prose and requirement records written by the model.
    Requirements,
    /// The project documents the generation drew on (no model).
    References,
    /// Each requirement's verification method (no model).
    Verification,
    /// The clarifying questions and their answers (no model).
    Clarifications,
}

impl Kind {
    /// Whether the model writes this section.
    pub fn generated(self) -> bool {
        matches!(self, Kind::Text | Kind::Requirements)
    }
}

/// One version of the template as stored.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TemplateVersion {
    pub version: i64,
    pub note: String,
    pub created_by: Option<String>,
    pub created_at: String,
    pub outline: Outline,
}

/// The outline shipped with the product (version 1 of the template).
pub fn default_outline() -> Outline {
    use Kind::*;
    let s =
        |key: &str, title: &str, kind: Kind, prefix: Option<&str>, guidance: &str| OutlineSection {
            key: key.into(),
            title: title.into(),
            kind,
            id_prefix: prefix.map(str::to_string),
            guidance: guidance.into(),
        };
    Outline {
        sections: vec![
            s("1", "Introduction", Heading, None, ""),
            s(
                "1.1",
                "Purpose",
                Text,
                None,
                "Why this system is being built and who the document is for.",
            ),
            s(
                "1.2",
                "Scope",
                Text,
                None,
                "What the system will and will not do, and the business goals it serves.",
            ),
            s(
                "1.3",
                "Definitions, acronyms and abbreviations",
                Text,
                None,
                "Short definitions of the domain terms used in the brief.",
            ),
            s("1.4", "References", References, None, ""),
            s("2", "Overall description", Heading, None, ""),
            s(
                "2.1",
                "Product perspective",
                Text,
                None,
                "How the system fits with existing systems and processes.",
            ),
            s(
                "2.2",
                "Product functions",
                Text,
                None,
                "A summary of the main functions the system offers.",
            ),
            s(
                "2.3",
                "User classes and characteristics",
                Text,
                None,
                "The kinds of users and what each needs.",
            ),
            s(
                "2.4",
                "Constraints",
                Text,
                None,
                "Regulatory, technical and business constraints on the solution.",
            ),
            s(
                "2.5",
                "Assumptions and dependencies",
                Text,
                None,
                "What is assumed true and what the system depends on.",
            ),
            s("3", "Specific requirements", Heading, None, ""),
            s(
                "3.1",
                "External interfaces",
                Requirements,
                Some("IF"),
                "Interfaces to users, other systems, hardware and communications.",
            ),
            s(
                "3.2",
                "Functional requirements",
                Requirements,
                Some("FR"),
                "What the system shall do: the behaviours users need.",
            ),
            s(
                "3.3",
                "Performance requirements",
                Requirements,
                Some("NFR-PERF"),
                "Measurable response times, throughput and capacity.",
            ),
            s(
                "3.4",
                "Security requirements",
                Requirements,
                Some("NFR-SEC"),
                "Access control, authentication, data protection and audit.",
            ),
            s(
                "3.5",
                "Reliability and availability",
                Requirements,
                Some("NFR-REL"),
                "Uptime, recovery and fault tolerance, with numbers.",
            ),
            s(
                "3.6",
                "Maintainability",
                Requirements,
                Some("NFR-MAINT"),
                "How the system is changed, configured and supported.",
            ),
            s(
                "3.7",
                "Portability",
                Requirements,
                Some("NFR-PORT"),
                "Platforms, browsers and environments the system runs on.",
            ),
            s(
                "3.8",
                "Data requirements",
                Requirements,
                Some("DR"),
                "Data the system stores, its retention and its quality rules.",
            ),
            s("4", "Verification", Verification, None, ""),
            s("5", "Appendices", Heading, None, ""),
            s("5.1", "Clarifications", Clarifications, None, ""),
        ],
    }
}

impl Outline {
    /// Checks what generation relies on: unique keys, titles, and a unique
    /// id prefix of capitals, digits and dashes on every requirements section.
    pub fn validate(&self) -> Result<(), String> {
        if self.sections.is_empty() {
            return Err("the outline has no sections".into());
        }
        if self.sections.len() > 100 {
            return Err("the outline has more than 100 sections".into());
        }
        let (mut keys, mut prefixes) = (HashSet::new(), HashSet::new());
        for s in &self.sections {
            let key_ok = !s.key.is_empty()
                && s.key.len() <= 16
                && s.key.chars().all(|c| c.is_ascii_digit() || c == '.');
            if !key_ok {
                return Err(format!(
                    "section key `{}` must be digits and dots, like `3.2`",
                    s.key
                ));
            }
            if !keys.insert(s.key.as_str()) {
                return Err(format!("section key `{}` appears twice", s.key));
            }
            if s.title.trim().is_empty() || s.title.len() > 200 {
                return Err(format!(
                    "section `{}` needs a title of at most 200 bytes",
                    s.key
                ));
            }
            if s.guidance.len() > 2000 {
                return Err(format!(
                    "the guidance of section `{}` is longer than 2000 bytes",
                    s.key
                ));
            }
            match (s.kind, &s.id_prefix) {
                (Kind::Requirements, Some(p)) => {
                    let ok = !p.is_empty()
                        && p.len() <= 16
                        && p.starts_with(|c: char| c.is_ascii_uppercase())
                        && p.chars()
                            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-')
                        && !p.ends_with('-');
                    if !ok {
                        return Err(format!("id prefix `{p}` of section `{}` must be capitals, digits and dashes, like `NFR-PERF`", s.key));
                    }
                    if !prefixes.insert(p.as_str()) {
                        return Err(format!("id prefix `{p}` is used by two sections"));
                    }
                }
                (Kind::Requirements, None) => {
                    return Err(format!(
                        "requirements section `{}` needs an `id_prefix`",
                        s.key
                    ))
                }
                _ => {}
            }
        }
        Ok(())
    }

    pub fn section(&self, key: &str) -> Option<&OutlineSection> {
        self.sections.iter().find(|s| s.key == key)
    }
}

#[derive(sqlx::FromRow)]
struct Row {
    version: i64,
    body: String,
    note: String,
    created_by: Option<String>,
    created_at: String,
}

impl TryFrom<Row> for TemplateVersion {
    type Error = Error;
    fn try_from(r: Row) -> Result<Self, Error> {
        let outline = serde_json::from_str(&r.body)
            .map_err(|e| Error::Broken(format!("stored SRS template {}: {e}", r.version)))?;
        Ok(TemplateVersion {
            version: r.version,
            note: r.note,
            created_by: r.created_by,
            created_at: r.created_at,
            outline,
        })
    }
}

const SELECT: &str = "SELECT version, body, note, created_by, created_at FROM srs_templates";

/// Stores the built-in outline as version 1 if there is no template yet;
/// run at start-up, so every other query finds one.
pub async fn seed(pool: &SqlitePool) -> Result<(), sqlx::Error> {
    let body = serde_json::to_string(&default_outline()).expect("outline serializes");
    sqlx::query(
        "INSERT OR IGNORE INTO srs_templates (version, body, note) VALUES (1, ?1, 'built-in outline')",
    )
    .bind(body)
    .execute(pool)
    .await?;
    Ok(())
}

/// The newest template.
pub async fn current(pool: &SqlitePool) -> Result<TemplateVersion, Error> {
    let sql = format!("{SELECT} ORDER BY version DESC LIMIT 1");
    sqlx::query_as::<_, Row>(&sql)
        .fetch_optional(pool)
        .await?
        .ok_or_else(|| Error::Broken("no SRS template: the start-up seed did not run".into()))?
        .try_into()
}

pub async fn get(pool: &SqlitePool, version: i64) -> Result<TemplateVersion, Error> {
    let sql = format!("{SELECT} WHERE version = ?1");
    sqlx::query_as::<_, Row>(&sql)
        .bind(version)
        .fetch_optional(pool)
        .await?
        .ok_or_else(|| Error::NotFound(format!("No SRS template version {version}")))?
        .try_into()
}

pub async fn versions(pool: &SqlitePool) -> Result<Vec<TemplateVersion>, Error> {
    let sql = format!("{SELECT} ORDER BY version DESC");
    let rows = sqlx::query_as::<_, Row>(&sql).fetch_all(pool).await?;
    rows.into_iter().map(TryInto::try_into).collect()
}

/// Stores `outline` as the next version.
pub async fn save(
    pool: &SqlitePool,
    outline: &Outline,
    note: &str,
    created_by: Option<&str>,
) -> Result<TemplateVersion, Error> {
    outline
        .validate()
        .map_err(|m| Error::invalid("sections", format!("Invalid outline: {m}")))?;
    let body = serde_json::to_string(outline).expect("outline serializes");
    let row = sqlx::query_as::<_, Row>(
        "INSERT INTO srs_templates (version, body, note, created_by)
         SELECT COALESCE(MAX(version), 0) + 1, ?1, ?2, ?3 FROM srs_templates
         RETURNING version, body, note, created_by, created_at",
    )
    .bind(body)
    .bind(note)
    .bind(created_by)
    .fetch_one(pool)
    .await?;
    row.try_into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_outline_is_valid_and_follows_29148() {
        let o = default_outline();
        o.validate().unwrap();
        let titles: Vec<_> = o.sections.iter().map(|s| s.title.as_str()).collect();
        for t in [
            "Purpose",
            "Scope",
            "Functional requirements",
            "Security requirements",
            "Verification",
        ] {
            assert!(titles.contains(&t), "{t} missing");
        }
        assert_eq!(
            o.section("3.3").unwrap().id_prefix.as_deref(),
            Some("NFR-PERF")
        );
    }

    #[test]
    fn outlines_with_clashing_keys_or_bad_prefixes_are_refused() {
        let mut o = default_outline();
        o.sections[2].key = "1.1".into();
        assert!(o.validate().unwrap_err().contains("twice"));
        let mut o = default_outline();
        o.sections[13].id_prefix = Some("fr".into());
        assert!(o.validate().unwrap_err().contains("capitals"));
        let mut o = default_outline();
        o.sections[14].id_prefix = Some("FR".into());
        assert!(o.validate().unwrap_err().contains("two sections"));
        let mut o = default_outline();
        o.sections[13].id_prefix = None;
        assert!(o.validate().unwrap_err().contains("id_prefix"));
    }
}
