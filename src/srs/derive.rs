//! Requirements derived from the sources rather than imagined: the rule
//! sentences of the brief, the clarifications' answers and the project's
//! documents, each made a requirement in the outline section its words name,
//! citing the sentence it came from. The model's prose is kept only where it
//! states nothing the sources do not.

use std::collections::HashSet;

use bacopilot_content::requirements::{self as rules, Area, Candidate, Kind as RuleKind};
use bacopilot_content::{facts, repetition, text};

use super::model::{
    Clarification, Criterion, Priority, Requirement, Section, Source, Verification,
};
use super::template::{Kind, Outline, OutlineSection};

/// `document_id` (and `chunk_id`) of a sentence of the brief.
pub const BRIEF: &str = "brief";
/// `document_id` of a sentence of a clarification's answer.
pub const CLARIFICATIONS: &str = "clarifications";
/// The text of a requirements section with nothing to hold.
pub const NOTHING: &str = "No requirements identified from the sources.";
/// The text of a prose section whose draft stated nothing the sources support.
pub const NOT_DESCRIBED: &str = "Not described in the brief or the project's documents.";

/// Words the product itself writes, allowed in prose though no source has them.
pub const PRODUCT_WORDS: &[&str] = &[
    "SRS", "ISO", "IEC", "IEEE", "EARS", "The", "System", "Given", "When", "Then", "If", "While",
    "Where",
];

/// A text rules are read from, and where it is.
#[derive(Debug, Clone)]
pub struct SourceText {
    pub document_id: String,
    pub chunk_id: String,
    /// How a reader names it: a file name, "the brief", "the clarifications".
    pub name: String,
    /// The heading the text sits under, when the chunker kept it apart.
    pub heading: Option<String>,
    pub text: String,
}

/// The brief, the answered clarifications and the documents' chunks, in that order.
pub fn source_texts(
    brief: &str,
    clarifications: &[Clarification],
    chunks: &[SourceText],
) -> Vec<SourceText> {
    let mut out = vec![SourceText {
        document_id: BRIEF.into(),
        chunk_id: BRIEF.into(),
        name: "the brief".into(),
        heading: None,
        text: brief.to_string(),
    }];
    for (i, c) in clarifications.iter().enumerate() {
        if let Some(answer) = c.answer.as_deref().filter(|a| !a.trim().is_empty()) {
            out.push(SourceText {
                document_id: CLARIFICATIONS.into(),
                chunk_id: (i + 1).to_string(),
                name: "the clarifications".into(),
                heading: None,
                text: answer.to_string(),
            });
        }
    }
    out.extend(chunks.iter().cloned());
    out
}

/// A rule sentence and the text it was found in.
#[derive(Debug, Clone)]
pub struct Found {
    pub candidate: Candidate,
    pub source: Source,
    pub name: String,
}

/// Every rule sentence of `texts`, once (chunks overlap, so a sentence can
/// be in two of them).
pub fn found(texts: &[SourceText]) -> Vec<Found> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for t in texts {
        for mut candidate in rules::candidates(&t.text) {
            if candidate.heading.is_none() {
                candidate.heading = t.heading.clone();
            }
            if !seen.insert(text::word_keys(&candidate.sentence)) {
                continue;
            }
            out.push(Found {
                source: Source {
                    document_id: t.document_id.clone(),
                    chunk_id: t.chunk_id.clone(),
                    quote: candidate.sentence.clone(),
                },
                name: t.name.clone(),
                candidate,
            });
        }
    }
    out
}

/// Words in a requirements section's prefix or title that name each area.
fn area_words(area: Area) -> &'static [&'static str] {
    match area {
        Area::Interface => &["if", "interface"],
        Area::Functional => &["fr", "functional"],
        Area::Performance => &["perf", "performance"],
        Area::Security => &["sec", "security", "access"],
        Area::Reliability => &["rel", "reliability", "availability"],
        Area::Maintainability => &["maint", "maintainability"],
        Area::Portability => &["port", "portability"],
        Area::Data => &["dr", "data"],
    }
}

/// The key of the requirements section of `outline` that holds `area`: the
/// one whose id prefix or title names it, else the functional section, else
/// the first requirements section.
pub fn section_for(outline: &Outline, area: Area) -> Option<&str> {
    let sections: Vec<&OutlineSection> = outline
        .sections
        .iter()
        .filter(|s| s.kind == Kind::Requirements)
        .collect();
    let names = |s: &OutlineSection, area| {
        let prefix = s.id_prefix.as_deref().unwrap_or("").to_lowercase();
        let parts: Vec<&str> = prefix.split('-').collect();
        let title = text::word_keys(&s.title);
        area_words(area)
            .iter()
            .any(|w| parts.contains(w) || title.iter().any(|t| t == w))
    };
    // "Non-functional" must not be read as functional.
    let named = |area| {
        sections.iter().find(|s| {
            names(s, area) && !(area == Area::Functional && s.title.to_lowercase().contains("non"))
        })
    };
    named(area)
        .or_else(|| named(Area::Functional))
        .or(sections.first())
        .map(|s| s.key.as_str())
}

/// The rule sentences that belong to section `key`, functional ones grouped
/// by the heading (the feature area) they sit under.
pub fn for_section<'a>(all: &'a [Found], outline: &Outline, key: &str) -> Vec<&'a Found> {
    let mut out: Vec<&Found> = all
        .iter()
        .filter(|f| section_for(outline, f.candidate.area) == Some(key))
        .collect();
    let mut headings: Vec<Option<&str>> = Vec::new();
    for f in &out {
        let h = f.candidate.heading.as_deref();
        if !headings.contains(&h) {
            headings.push(h);
        }
    }
    out.sort_by_key(|f| {
        headings
            .iter()
            .position(|h| *h == f.candidate.heading.as_deref())
    });
    out
}

/// Requirements section `section` as derived from `all`: its rule sentences
/// (in the order of its requirements) and the section, requirements not yet
/// numbered, text summarising them.
pub fn derived_section<'a>(
    all: &'a [Found],
    outline: &Outline,
    section: &OutlineSection,
) -> (Vec<&'a Found>, Section) {
    let mine = for_section(all, outline, &section.key);
    let out = Section {
        key: section.key.clone(),
        title: section.title.clone(),
        text: summary(&mine),
        requirements: mine.iter().map(|f| requirement(f)).collect(),
    };
    (mine, out)
}

/// The requirement a rule sentence states, in its deterministic wording.
pub fn requirement(f: &Found) -> Requirement {
    let c = &f.candidate;
    let (given, when, then) = rules::criterion(c);
    let rationale = match &c.heading {
        Some(h) => format!("Stated in {} under \"{h}\".", f.name),
        None => format!("Stated in {}.", f.name),
    };
    Requirement {
        id: String::new(),
        title: rules::title(c),
        statement: rules::statement(c),
        rationale,
        priority: match c.priority {
            rules::Priority::Must => Priority::Must,
            rules::Priority::Should => Priority::Should,
        },
        acceptance_criteria: vec![Criterion { given, when, then }],
        verification: match (c.area, c.kind) {
            (Area::Data | Area::Maintainability | Area::Portability, _) => Verification::Inspection,
            (Area::Performance | Area::Reliability, _) => Verification::Analysis,
            (_, RuleKind::System) if c.limits.is_empty() => Verification::Demonstration,
            _ => Verification::Test,
        },
        status: "draft".into(),
        assumption: None,
        sources: vec![f.source.clone()],
    }
}

/// A requirements section's text: how many requirements, from which sources,
/// on which feature areas; or [`NOTHING`].
pub fn summary(found: &[&Found]) -> String {
    if found.is_empty() {
        return NOTHING.into();
    }
    let mut names: Vec<&str> = Vec::new();
    let mut areas: Vec<String> = Vec::new();
    for f in found {
        if !names.contains(&f.name.as_str()) {
            names.push(&f.name);
        }
        if let Some(h) = &f.candidate.heading {
            let h = lower_unless_acronym(h);
            if !areas.contains(&h) {
                areas.push(h);
            }
        }
    }
    let n = found.len();
    let what = if n == 1 {
        "requirement"
    } else {
        "requirements"
    };
    let mut out = format!("{n} {what} derived from {}", list(&names));
    if !areas.is_empty() {
        out.push_str(&format!(", on {}", list(&areas)));
    }
    out.push('.');
    out
}

fn list<S: AsRef<str>>(items: &[S]) -> String {
    match items {
        [] => String::new(),
        [one] => one.as_ref().to_string(),
        [init @ .., last] => format!(
            "{} and {}",
            init.iter()
                .map(AsRef::as_ref)
                .collect::<Vec<_>>()
                .join(", "),
            last.as_ref()
        ),
    }
}

fn lower_unless_acronym(s: &str) -> String {
    s.split_whitespace()
        .map(|w| {
            if w.chars().filter(|c| c.is_uppercase()).count() >= 2 {
                w.to_string()
            } else {
                w.to_lowercase()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Takes the model's `rephrased` statement and title for `r` where they pass
/// the check against `source` (nothing lost, nothing invented); otherwise the
/// deterministic wording stays. Returns whether the statement was taken.
pub fn take_rephrasing(r: &mut Requirement, source: &str, statement: &str, title: &str) -> bool {
    let statement = statement.trim();
    let ok = rules::check_rephrasing(source, statement).is_ok()
        && statement.to_lowercase() != r.title.to_lowercase();
    if ok {
        r.statement = statement.to_string();
    }
    let title = title.trim();
    let title_ok = text::words(title).len() >= 2
        && !repetition::is_degenerate(title)
        && facts::unsupported_numbers(title, &[source]).is_empty()
        && facts::unsupported_names(title, &[source], PRODUCT_WORDS).is_empty()
        && title.to_lowercase() != r.statement.to_lowercase();
    if title_ok {
        r.title = title.to_string();
    }
    ok
}

/// The model's prose for a section, kept sentence by sentence: a sentence
/// goes if it loops, repeats six words of an earlier one, or states a number
/// or a name that none of `sources` states. [`NOT_DESCRIBED`] when nothing is left.
pub fn clean_prose(draft: &str, sources: &[&str], allowed: &[&str]) -> String {
    let draft = repetition::cut_loop(draft, repetition::LOOP_NGRAM);
    let mut kept: Vec<&str> = Vec::new();
    for s in text::sentence_texts(draft) {
        let joined = format!("{} {s}", kept.join(" "));
        let bad = repetition::is_degenerate(s)
            || repetition::repeated_ngram(&joined, repetition::LOOP_NGRAM).is_some()
            || !facts::unsupported_numbers(s, sources).is_empty()
            || !facts::unsupported_names(s, sources, allowed).is_empty()
            || text::words(s).len() < 3;
        if !bad {
            kept.push(s);
        }
    }
    if kept.is_empty() {
        NOT_DESCRIBED.into()
    } else {
        kept.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::srs::template::default_outline;

    const POLICY: &str = "## Approvals\n\nEvery claim above 5000 euros must be approved by the chief financial officer before payment. \
        Claims below that amount are approved by the employee's manager within five working days.\n\n\
        ## Receipts\n\nEach expense line needs a scanned receipt. Receipts are kept for ten years for the tax office.\n";

    fn texts() -> Vec<SourceText> {
        let chunk = SourceText {
            document_id: "doc1".into(),
            chunk_id: "c1".into(),
            name: "expense-policy.md".into(),
            heading: None,
            text: POLICY.into(),
        };
        source_texts(
            "Expense claims for a 200-person firm. Finance exports approved claims to the accounting system every Friday.",
            &[],
            &[chunk.clone(), chunk],
        )
    }

    #[test]
    fn every_rule_becomes_one_requirement_in_its_section_citing_its_sentence() {
        let all = found(&texts());
        let outline = default_outline();
        let quotes: Vec<&str> = all.iter().map(|f| f.source.quote.as_str()).collect();
        assert_eq!(all.len(), 5, "the repeated chunk is read once: {quotes:#?}");
        let section = |q: &str| {
            let f = all.iter().find(|f| f.source.quote.starts_with(q)).unwrap();
            section_for(&outline, f.candidate.area).unwrap().to_string()
        };
        assert_eq!(section("Every claim above"), "3.2");
        assert_eq!(section("Receipts are kept"), "3.8");
        assert_eq!(section("Finance exports"), "3.1");
        let brief = all
            .iter()
            .find(|f| f.source.quote.starts_with("Finance"))
            .unwrap();
        assert_eq!(brief.source.document_id, BRIEF);
        for f in &all {
            let r = requirement(f);
            assert_eq!(r.sources[0].quote, f.candidate.sentence);
            assert!(POLICY.contains(&r.sources[0].quote) || r.sources[0].document_id == BRIEF);
            for n in facts::numbers(&f.candidate.sentence) {
                assert!(
                    facts::numbers(&r.statement).contains(&n),
                    "{n} lost: {}",
                    r.statement
                );
            }
            assert_ne!(r.title, r.statement);
            let c = &r.acceptance_criteria[0];
            assert!(
                c.given != c.when && c.when != c.then && c.given != c.then,
                "{c:?}"
            );
        }
        let functional = for_section(&all, &outline, "3.2");
        assert_eq!(
            summary(&functional),
            "3 requirements derived from expense-policy.md, on approvals and receipts."
        );
        assert_eq!(summary(&for_section(&all, &outline, "3.3")), NOTHING);
    }

    #[test]
    fn a_rephrasing_is_taken_only_when_it_keeps_the_facts() {
        let all = found(&texts());
        let f = &all
            .iter()
            .find(|f| f.source.quote.starts_with("Every claim"))
            .unwrap();
        let mut r = requirement(f);
        let before = r.statement.clone();
        assert!(!take_rephrasing(
            &mut r,
            &f.source.quote,
            "The system shall be functional and user-friendly.",
            "IOLW approvals"
        ));
        assert_eq!(r.statement, before);
        assert!(!r.title.contains("IOLW"));
        let good = "The system shall require approval by the chief financial officer before payment of every claim above 5000 euros.";
        assert!(take_rephrasing(
            &mut r,
            &f.source.quote,
            good,
            "Approval of large claims"
        ));
        assert_eq!(
            (r.statement.as_str(), r.title.as_str()),
            (good, "Approval of large claims")
        );
    }

    #[test]
    fn prose_keeps_only_sentences_the_sources_support() {
        let sources = [POLICY];
        let draft = "This SRS covers expense claims and their approvals. The International Library of the World (IOLW) runs it. \
                     Claims are paid within 3 days. 1.1.1.1.1.1.1.1";
        assert_eq!(
            clean_prose(draft, &sources, PRODUCT_WORDS),
            "This SRS covers expense claims and their approvals."
        );
        assert_eq!(
            clean_prose(
                "2023-2024 calendar year 2023-2024 calendar year 2023-2024 calendar year",
                &sources,
                PRODUCT_WORDS
            ),
            NOT_DESCRIBED
        );
    }
}
