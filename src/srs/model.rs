//! The SRS document as clients, exports and the linter see it: sections of an
//! ISO/IEC/IEEE 29148 outline, each with prose and requirement records.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One SRS document at one version (`GET /api/v1/srs/{sid}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Srs {
    pub id: String,
    pub project_id: String,
    pub title: String,
    pub version: i64,
    pub sections: Vec<Section>,
    pub clarifications: Vec<Clarification>,
    pub lint: LintReport,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Section {
    /// Outline number, e.g. `3.2`.
    pub key: String,
    pub title: String,
    /// The section's prose (may be empty when it only holds requirements).
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub requirements: Vec<Requirement>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Requirement {
    /// Stable id (`FR-001`, `NFR-PERF-002`, …): never renumbered, never reused.
    pub id: String,
    pub title: String,
    /// "The system shall …" or another EARS form.
    pub statement: String,
    #[serde(default)]
    pub rationale: String,
    pub priority: Priority,
    #[serde(default)]
    pub acceptance_criteria: Vec<Criterion>,
    pub verification: Verification,
    /// `draft`, `reviewed`, `approved` or `rejected`.
    #[serde(default = "draft")]
    pub status: String,
    /// What the requirement states that no source does, said openly (e.g.
    /// wording a model added); absent when the sources state all of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assumption: Option<String>,
    /// The sentences it came from: a quote is the source sentence verbatim.
    #[serde(default)]
    pub sources: Vec<Source>,
}

fn draft() -> String {
    "draft".into()
}

/// MoSCoW priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    Must,
    Should,
    Could,
    Wont,
}

impl Priority {
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Must => "must",
            Priority::Should => "should",
            Priority::Could => "could",
            Priority::Wont => "wont",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Verification {
    Test,
    Analysis,
    Inspection,
    Demonstration,
}

impl Verification {
    pub fn as_str(self) -> &'static str {
        match self {
            Verification::Test => "test",
            Verification::Analysis => "analysis",
            Verification::Inspection => "inspection",
            Verification::Demonstration => "demonstration",
        }
    }
}

/// An acceptance criterion in Given/When/Then form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Criterion {
    pub given: String,
    pub when: String,
    pub then: String,
}

/// The sentence a requirement came from and where it is: a project
/// document's chunk, or the brief (`document_id` and `chunk_id` "brief"), or
/// the clarifications' answers (`document_id` "clarifications", `chunk_id`
/// the answer's number from 1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Source {
    pub document_id: String,
    pub chunk_id: String,
    pub quote: String,
}

/// A question asked before generation, its choices and the answer used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Clarification {
    pub question: String,
    pub choices: Vec<String>,
    /// Index into `choices` of the model's recommendation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recommended: Option<usize>,
    #[serde(default)]
    pub answer: Option<String>,
}

/// The linter's verdict on a document or on pasted text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, Default)]
pub struct LintReport {
    /// 0 (every statement has errors) to 100 (no findings).
    pub score: u32,
    pub findings: Vec<Finding>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Finding {
    /// Stable rule id, e.g. `vague-term`.
    pub rule: String,
    pub severity: Severity,
    /// The requirement the finding is about (absent for pasted text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requirement_id: Option<String>,
    /// The section whose text the finding is about; `span` then indexes
    /// that text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub section: Option<String>,
    /// Where in the statement (or the pasted text) the problem is.
    pub span: Span,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

/// Character offsets (Unicode scalar values, end exclusive) into the checked
/// text: the requirement's statement, or the whole pasted text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Srs {
    /// Every requirement with the key of its section, in document order.
    pub fn requirements(&self) -> impl Iterator<Item = (&Section, &Requirement)> {
        self.sections
            .iter()
            .flat_map(|s| s.requirements.iter().map(move |r| (s, r)))
    }
}
