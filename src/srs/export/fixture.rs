//! A realistic SRS for the exporters' tests, salted with hostile text: markup,
//! quotes, a spreadsheet formula, non-Latin-1 characters and an emoji.

use std::collections::BTreeMap;

use crate::srs::model::{
    Clarification, Criterion, Finding, LintReport, Priority, Requirement, Section, Severity,
    Source, Span, Srs, Verification,
};

/// The statement with every kind of hostile text, for escaping assertions.
pub(crate) const HOSTILE_STATEMENT: &str =
    "The system shall show <script>alert(1)</script> as text & keep \"quotes\" | pipes.";

pub(crate) const FORMULA_QUOTE: &str = "=HYPERLINK(\"http://evil.example\",\"click\")";

pub(crate) fn sample() -> Srs {
    Srs {
        id: "srs-1".into(),
        project_id: "proj-1".into(),
        title: "Invoice Portal SRS – “café” edition…".into(),
        version: 3,
        sections: vec![
            Section {
                key: "1".into(),
                title: "Introduction".into(),
                text: "This document covers the *invoice* portal_v2.\n# not a heading\n- not a list\n1. not an ordered list\n\nAnalysts at Café Müller – “smart” quotes… 🚀".into(),
                requirements: vec![],
            },
            Section {
                key: "3.2".into(),
                title: "Functional requirements".into(),
                text: "Behaviour the portal offers to its users.".into(),
                requirements: vec![
                    Requirement {
                        id: "FR-001".into(),
                        title: "Export invoices".into(),
                        statement: "The system shall export the selected invoices as a PDF file within 5 seconds.".into(),
                        rationale: "Accountants archive invoices monthly.".into(),
                        priority: Priority::Must,
                        acceptance_criteria: vec![
                            Criterion {
                                given: "an accountant with 3 selected invoices".into(),
                                when: "they press Export".into(),
                                then: "a PDF with 3 pages is downloaded".into(),
                            },
                            Criterion {
                                given: "no selected invoice".into(),
                                when: "they press Export".into(),
                                then: "the button is disabled".into(),
                            },
                        ],
                        verification: Verification::Test,
                        status: "approved".into(),
                        assumption: None,
                        sources: vec![
                            Source {
                                document_id: "doc-brief".into(),
                                chunk_id: "doc-brief#4".into(),
                                quote: "Accountants need to export invoices to PDF quickly, ".repeat(8),
                            },
                            Source {
                                document_id: "doc-mail".into(),
                                chunk_id: "doc-mail#1".into(),
                                quote: FORMULA_QUOTE.into(),
                            },
                        ],
                    },
                    Requirement {
                        id: "FR-002".into(),
                        title: "Show <b>names</b> & \"labels\"".into(),
                        statement: HOSTILE_STATEMENT.into(),
                        rationale: String::new(),
                        priority: Priority::Should,
                        acceptance_criteria: vec![Criterion {
                            given: "a customer named <img src=x onerror=alert(1)>".into(),
                            when: "the list renders".into(),
                            then: "the name appears literally, 'quoted' & escaped".into(),
                        }],
                        verification: Verification::Inspection,
                        status: "draft".into(),
                        assumption: None,
                        sources: vec![],
                    },
                ],
            },
            Section {
                key: "3.3".into(),
                title: "Performance requirements".into(),
                text: String::new(),
                requirements: vec![Requirement {
                    id: "NFR-PERF-001".into(),
                    title: "Search latency".into(),
                    statement: "-1 The system shall answer 95 % of searches in under 2 s — even with 10 000 invoices.".into(),
                    rationale: "@everyone hates waiting.".into(),
                    priority: Priority::Wont,
                    acceptance_criteria: vec![],
                    verification: Verification::Analysis,
                    status: "reviewed".into(),
                    assumption: None,
                    sources: vec![Source {
                        document_id: "doc-sla".into(),
                        chunk_id: "doc-sla#2".into(),
                        quote: "+5 % tolerance | café ✓".into(),
                    }],
                }],
            },
        ],
        clarifications: vec![
            Clarification {
                question: "Which formats must the export support?".into(),
                choices: vec!["PDF".into(), "PDF and CSV".into()],
                recommended: Some(0),
                answer: Some("PDF only, for now".into()),
            },
            Clarification {
                question: "Is SSO <required>?".into(),
                choices: vec![],
                recommended: None,
                answer: None,
            },
        ],
        lint: LintReport {
            score: 82,
            findings: vec![
                Finding {
                    rule: "vague-term".into(),
                    severity: Severity::Warning,
                    requirement_id: Some("FR-002".into()),
                    section: None,
                    span: Span { start: 0, end: 3 },
                    message: "\"as text\" is vague | say what is displayed".into(),
                },
                Finding {
                    rule: "missing-criteria".into(),
                    severity: Severity::Error,
                    requirement_id: Some("NFR-PERF-001".into()),
                    section: None,
                    span: Span { start: 0, end: 1 },
                    message: "No acceptance criteria.".into(),
                },
            ],
        },
    }
}

/// Wireframe screens citing the fixture's requirements.
pub(crate) fn screens() -> BTreeMap<String, Vec<String>> {
    BTreeMap::from([(
        "FR-001".to_string(),
        vec!["=Export dialog".to_string(), "Invoice list".to_string()],
    )])
}

/// Every requirement id in the fixture, in document order.
pub(crate) const IDS: [&str; 3] = ["FR-001", "FR-002", "NFR-PERF-001"];
