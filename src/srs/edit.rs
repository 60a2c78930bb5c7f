//! Hand edits of a document's requirements: change, add, delete. Each works
//! on a [`Body`] and the routes store the result as a new version. Ids stay
//! as they are; a new requirement takes the next number of its section's
//! prefix, never a deleted one's.

use serde::Deserialize;
use utoipa::ToSchema;

use super::model::{Criterion, Priority, Requirement, Verification};
use super::store::Body;
use super::template::{Kind, Outline};
use super::Error;

pub const STATUSES: [&str; 4] = ["draft", "reviewed", "approved", "rejected"];

const MAX_TITLE: usize = 200;
const MAX_TEXT: usize = 4000;
const MAX_CRITERIA: usize = 20;

/// `PATCH /api/v1/srs/{sid}/requirements/{rid}`: the fields to change.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequirementChanges {
    pub title: Option<String>,
    pub statement: Option<String>,
    pub rationale: Option<String>,
    pub priority: Option<Priority>,
    pub verification: Option<Verification>,
    /// `draft`, `reviewed`, `approved` or `rejected`.
    pub status: Option<String>,
    pub acceptance_criteria: Option<Vec<Criterion>>,
    /// What the requirement assumes beyond its sources; "" clears it.
    pub assumption: Option<String>,
    /// The version the edit was made on; 409 if the document has moved on.
    pub base_version: Option<i64>,
}

/// `POST /api/v1/srs/{sid}/requirements`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRequirement {
    /// Key of a requirements section, e.g. `3.2`.
    pub section: String,
    pub title: String,
    pub statement: String,
    #[serde(default)]
    pub rationale: String,
    pub priority: Option<Priority>,
    pub verification: Option<Verification>,
    pub status: Option<String>,
    #[serde(default)]
    pub acceptance_criteria: Vec<Criterion>,
    /// What the requirement assumes, since an added requirement has no source.
    pub assumption: Option<String>,
    pub base_version: Option<i64>,
}

/// The project-wide text rule (trimmed, bounded, no control characters),
/// its refusal as this module's error.
fn text_field(name: &str, value: &str, required: bool, max: usize) -> Result<String, Error> {
    crate::store::text_field(name, value, required, max)
        .map_err(|e| Error::invalid(name, e.to_string()))
}

fn status(value: &str) -> Result<String, Error> {
    if STATUSES.contains(&value) {
        Ok(value.to_string())
    } else {
        Err(Error::invalid(
            "status",
            format!("`status` must be one of {}", STATUSES.join(", ")),
        ))
    }
}

fn criteria(list: Vec<Criterion>) -> Result<Vec<Criterion>, Error> {
    if list.len() > MAX_CRITERIA {
        return Err(Error::invalid(
            "acceptance_criteria",
            format!("at most {MAX_CRITERIA} acceptance criteria"),
        ));
    }
    list.into_iter()
        .map(|c| {
            Ok(Criterion {
                given: text_field("acceptance_criteria.given", &c.given, false, MAX_TEXT)?,
                when: text_field("acceptance_criteria.when", &c.when, false, MAX_TEXT)?,
                then: text_field("acceptance_criteria.then", &c.then, false, MAX_TEXT)?,
            })
        })
        .collect()
}

fn find<'a>(body: &'a mut Body, rid: &str) -> Result<&'a mut Requirement, Error> {
    body.sections
        .iter_mut()
        .flat_map(|s| s.requirements.iter_mut())
        .find(|r| r.id == rid)
        .ok_or_else(|| Error::NotFound(format!("No requirement `{rid}` in this document")))
}

/// Applies `changes` to requirement `rid`; returns a note naming what changed.
pub fn update(body: &mut Body, rid: &str, changes: RequirementChanges) -> Result<String, Error> {
    let r = find(body, rid)?;
    let mut fields = Vec::new();
    if let Some(v) = changes.title {
        r.title = text_field("title", &v, true, MAX_TITLE)?;
        fields.push("title");
    }
    if let Some(v) = changes.statement {
        r.statement = text_field("statement", &v, true, MAX_TEXT)?;
        fields.push("statement");
    }
    if let Some(v) = changes.rationale {
        r.rationale = text_field("rationale", &v, false, MAX_TEXT)?;
        fields.push("rationale");
    }
    if let Some(v) = changes.priority {
        r.priority = v;
        fields.push("priority");
    }
    if let Some(v) = changes.verification {
        r.verification = v;
        fields.push("verification");
    }
    if let Some(v) = changes.status {
        r.status = status(&v)?;
        fields.push("status");
    }
    if let Some(v) = changes.acceptance_criteria {
        r.acceptance_criteria = criteria(v)?;
        fields.push("acceptance_criteria");
    }
    if let Some(v) = changes.assumption {
        let v = text_field("assumption", &v, false, MAX_TEXT)?;
        r.assumption = (!v.is_empty()).then_some(v);
        fields.push("assumption");
    }
    if fields.is_empty() {
        return Err(Error::invalid(
            "body",
            "Nothing to change: name at least one field",
        ));
    }
    Ok(format!("edited {rid} ({})", fields.join(", ")))
}

/// Adds a requirement to its section with the section's next id.
pub fn add(body: &mut Body, outline: &Outline, new: NewRequirement) -> Result<String, Error> {
    let prefix = match outline.section(&new.section) {
        Some(s) if s.kind == Kind::Requirements => s.id_prefix.clone().unwrap_or_default(),
        Some(_) => {
            return Err(Error::invalid(
                "section",
                format!("Section `{}` does not hold requirements", new.section),
            ))
        }
        None => {
            return Err(Error::invalid(
                "section",
                format!("No section `{}` in this document's outline", new.section),
            ))
        }
    };
    let requirement = Requirement {
        id: String::new(),
        title: text_field("title", &new.title, true, MAX_TITLE)?,
        statement: text_field("statement", &new.statement, true, MAX_TEXT)?,
        rationale: text_field("rationale", &new.rationale, false, MAX_TEXT)?,
        priority: new.priority.unwrap_or(Priority::Should),
        acceptance_criteria: criteria(new.acceptance_criteria)?,
        verification: new.verification.unwrap_or(Verification::Test),
        status: status(new.status.as_deref().unwrap_or("draft"))?,
        assumption: match new.assumption.as_deref() {
            Some(a) => {
                Some(text_field("assumption", a, false, MAX_TEXT)?).filter(|a| !a.is_empty())
            }
            None => None,
        },
        sources: Vec::new(),
    };
    let Some(index) = body.sections.iter().position(|s| s.key == new.section) else {
        return Err(Error::invalid(
            "section",
            format!("No section `{}` in this document", new.section),
        ));
    };
    let id = body.next_id(&prefix);
    body.sections[index].requirements.push(Requirement {
        id: id.clone(),
        ..requirement
    });
    Ok(id)
}

/// Deletes requirement `rid`; its id is not reused.
pub fn remove(body: &mut Body, rid: &str) -> Result<(), Error> {
    for s in &mut body.sections {
        if let Some(i) = s.requirements.iter().position(|r| r.id == rid) {
            s.requirements.remove(i);
            return Ok(());
        }
    }
    Err(Error::NotFound(format!(
        "No requirement `{rid}` in this document"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::srs::model::Section;
    use crate::srs::template::default_outline;

    fn body() -> Body {
        let mut b = Body {
            sections: vec![Section {
                key: "3.2".into(),
                title: "Functional requirements".into(),
                text: String::new(),
                requirements: Vec::new(),
            }],
            ..Body::default()
        };
        for t in ["one", "two"] {
            let new = NewRequirement {
                section: "3.2".into(),
                title: t.into(),
                statement: format!("The system shall do {t}."),
                rationale: String::new(),
                priority: None,
                verification: None,
                status: None,
                acceptance_criteria: Vec::new(),
                assumption: None,
                base_version: None,
            };
            add(&mut b, &default_outline(), new).unwrap();
        }
        b
    }

    #[test]
    fn deleted_ids_are_never_handed_out_again() {
        let mut b = body();
        remove(&mut b, "FR-002").unwrap();
        let new = NewRequirement {
            section: "3.2".into(),
            title: "three".into(),
            statement: "The system shall do three.".into(),
            rationale: String::new(),
            priority: Some(Priority::Must),
            verification: None,
            status: None,
            acceptance_criteria: Vec::new(),
            assumption: None,
            base_version: None,
        };
        assert_eq!(add(&mut b, &default_outline(), new).unwrap(), "FR-003");
        let ids: Vec<_> = b.sections[0]
            .requirements
            .iter()
            .map(|r| r.id.as_str())
            .collect();
        assert_eq!(ids, ["FR-001", "FR-003"]);
    }

    #[test]
    fn an_edit_changes_only_the_named_fields_and_keeps_the_id() {
        let mut b = body();
        let before = b.sections[0].requirements[1].clone();
        let note = update(
            &mut b,
            "FR-002",
            RequirementChanges {
                statement: Some("  The system shall export invoices as CSV.  ".into()),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(note, "edited FR-002 (statement)");
        let after = &b.sections[0].requirements[1];
        assert_eq!(after.id, "FR-002");
        assert_eq!(after.statement, "The system shall export invoices as CSV.");
        assert_eq!(after.title, before.title);
    }

    #[test]
    fn bad_edits_are_refused_with_the_field_named() {
        let mut b = body();
        let empty = RequirementChanges {
            statement: Some(" ".into()),
            ..Default::default()
        };
        assert!(
            matches!(update(&mut b, "FR-001", empty), Err(Error::Invalid { field, .. }) if field == "statement")
        );
        let status = RequirementChanges {
            status: Some("done".into()),
            ..Default::default()
        };
        assert!(update(&mut b, "FR-001", status).is_err());
        assert!(matches!(
            update(&mut b, "FR-404", RequirementChanges::default()),
            Err(Error::NotFound(_))
        ));
        assert!(update(&mut b, "FR-001", RequirementChanges::default()).is_err());
    }
}
