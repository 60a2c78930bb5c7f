//! Two versions of a document compared requirement by requirement (matched
//! by id, which never changes): added, removed, and changed fields; plus
//! changes to the sections' prose and to the title.

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::model::{Requirement, Srs};

#[derive(Debug, Serialize, ToSchema)]
pub struct Diff {
    pub from: i64,
    pub to: i64,
    pub added: Vec<Placed>,
    pub removed: Vec<Placed>,
    pub changed: Vec<Changed>,
    /// Section prose and titles that differ (`field` is `text` or `title`).
    pub sections: Vec<SectionChange>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<FieldChange>,
}

/// A requirement and the key of the section it is in.
#[derive(Debug, Serialize, ToSchema)]
pub struct Placed {
    pub section: String,
    pub requirement: Requirement,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Changed {
    pub id: String,
    pub fields: Vec<FieldChange>,
}

#[derive(Debug, PartialEq, Serialize, ToSchema)]
pub struct FieldChange {
    pub field: String,
    #[schema(value_type = Object)]
    pub from: Value,
    #[schema(value_type = Object)]
    pub to: Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SectionChange {
    pub key: String,
    pub field: String,
    #[schema(value_type = Object)]
    pub from: Value,
    #[schema(value_type = Object)]
    pub to: Value,
}

pub fn diff(a: &Srs, b: &Srs) -> Diff {
    let placed = |s: &Srs| -> Vec<(String, Requirement)> {
        s.requirements()
            .map(|(sec, r)| (sec.key.clone(), r.clone()))
            .collect()
    };
    let (old, new) = (placed(a), placed(b));
    let mut out = Diff {
        from: a.version,
        to: b.version,
        added: Vec::new(),
        removed: Vec::new(),
        changed: Vec::new(),
        sections: Vec::new(),
        title: (a.title != b.title).then(|| FieldChange {
            field: "title".into(),
            from: Value::from(a.title.clone()),
            to: Value::from(b.title.clone()),
        }),
    };
    for (key, r) in &old {
        match new.iter().find(|(_, n)| n.id == r.id) {
            None => out.removed.push(Placed {
                section: key.clone(),
                requirement: r.clone(),
            }),
            Some((new_key, n)) => {
                let mut fields = field_changes(r, n);
                if key != new_key {
                    fields.insert(
                        0,
                        FieldChange {
                            field: "section".into(),
                            from: Value::from(key.clone()),
                            to: Value::from(new_key.clone()),
                        },
                    );
                }
                if !fields.is_empty() {
                    out.changed.push(Changed {
                        id: r.id.clone(),
                        fields,
                    });
                }
            }
        }
    }
    for (key, n) in &new {
        if !old.iter().any(|(_, r)| r.id == n.id) {
            out.added.push(Placed {
                section: key.clone(),
                requirement: n.clone(),
            });
        }
    }
    for s in &a.sections {
        let other = b.sections.iter().find(|t| t.key == s.key);
        for (field, from, to) in [
            ("title", Some(&s.title), other.map(|t| &t.title)),
            ("text", Some(&s.text), other.map(|t| &t.text)),
        ] {
            if from != to {
                out.sections.push(SectionChange {
                    key: s.key.clone(),
                    field: field.into(),
                    from: Value::from(from.cloned()),
                    to: Value::from(to.cloned()),
                });
            }
        }
    }
    for t in b
        .sections
        .iter()
        .filter(|t| !a.sections.iter().any(|s| s.key == t.key))
    {
        out.sections.push(SectionChange {
            key: t.key.clone(),
            field: "title".into(),
            from: Value::Null,
            to: Value::from(t.title.clone()),
        });
    }
    out
}

/// A requirement's fields in the order its JSON lists them.
const FIELDS: [&str; 8] = [
    "title",
    "statement",
    "rationale",
    "priority",
    "acceptance_criteria",
    "verification",
    "status",
    "sources",
];

/// The fields of two versions of one requirement that differ.
fn field_changes(a: &Requirement, b: &Requirement) -> Vec<FieldChange> {
    let x = serde_json::to_value(a).expect("requirement serializes");
    let y = serde_json::to_value(b).expect("requirement serializes");
    FIELDS
        .iter()
        .filter_map(|&field| {
            let from = x.get(field).cloned().unwrap_or(Value::Null);
            let to = y.get(field).cloned().unwrap_or(Value::Null);
            (from != to).then(|| FieldChange {
                field: field.into(),
                from,
                to,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::srs::model::{Priority, Section, Verification};

    fn req(id: &str, statement: &str) -> Requirement {
        Requirement {
            id: id.into(),
            title: id.into(),
            statement: statement.into(),
            rationale: String::new(),
            priority: Priority::Must,
            acceptance_criteria: Vec::new(),
            verification: Verification::Test,
            status: "draft".into(),
            assumption: None,
            sources: Vec::new(),
        }
    }

    fn doc(version: i64, reqs: Vec<Requirement>) -> Srs {
        Srs {
            id: "d".into(),
            project_id: "p".into(),
            title: "T".into(),
            version,
            sections: vec![Section {
                key: "3.2".into(),
                title: "F".into(),
                text: "x".into(),
                requirements: reqs,
            }],
            clarifications: Vec::new(),
            lint: Default::default(),
        }
    }

    #[test]
    fn the_diff_names_exactly_the_added_removed_and_changed_requirements() {
        let a = doc(
            1,
            vec![
                req("FR-001", "The system shall a."),
                req("FR-002", "The system shall b."),
            ],
        );
        let mut changed = req("FR-001", "The system shall A.");
        changed.priority = Priority::Could;
        let b = doc(2, vec![changed, req("FR-003", "The system shall c.")]);
        let d = diff(&a, &b);
        assert_eq!((d.from, d.to), (1, 2));
        assert_eq!(d.removed.len(), 1);
        assert_eq!(d.removed[0].requirement.id, "FR-002");
        assert_eq!(d.added.len(), 1);
        assert_eq!(d.added[0].requirement.id, "FR-003");
        assert_eq!(d.changed.len(), 1);
        let fields: Vec<_> = d.changed[0]
            .fields
            .iter()
            .map(|f| f.field.as_str())
            .collect();
        assert_eq!(fields, ["statement", "priority"]);
        assert_eq!(d.changed[0].fields[1].to, "could");
        assert!(d.sections.is_empty() && d.title.is_none());
    }

    #[test]
    fn a_version_compared_with_itself_has_no_changes() {
        let a = doc(3, vec![req("FR-001", "The system shall a.")]);
        let d = diff(&a, &a);
        assert!(
            d.added.is_empty()
                && d.removed.is_empty()
                && d.changed.is_empty()
                && d.sections.is_empty()
        );
    }
}
