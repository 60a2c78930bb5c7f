//! Quoted answers: the sentences of the retrieved passages that answer the
//! question, scored against it (embedding similarity plus the share of its
//! words they contain), the model choosing and ordering them when several
//! qualify, shown verbatim as quotations, each closed by its citation. When
//! no sentence qualifies, the answer says so and cites the closest passages.
//!
//! A small model writing freely invents numbers and loops; choosing among
//! the documents' own sentences can do neither.

use std::sync::Arc;

use bacopilot_content::asks;
use bacopilot_content::quotes::{self, Rarity};
use serde_json::{json, Value};

use super::prompt::NOT_IN_DOCUMENTS;
use super::{Citation, Error};
use crate::generation::{Error as GenError, Generator};
use crate::inference::chat_model::ChatModel;
use crate::inference::chat_template::ChatMessage;
use crate::inference::constraint::ConstraintSpec;
use crate::inference::engine::Generation;
use crate::inference::sampler::SamplingParams;
use crate::retrieval::search::SearchHit;

/// A sentence of a retrieved passage that may answer the question.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// Index of its passage in the retrieved hits.
    pub hit: usize,
    /// The sentence, verbatim.
    pub text: String,
    pub score: f32,
}

/// Sentences scoring within this much of the best one are offered to the
/// model as alternatives; farther ones are not worth a quotation.
const MARGIN: f32 = 0.15;
/// Most sentences the model chooses among, and most it may quote.
const MAX_OFFERED: usize = 4;
const MAX_QUOTED: usize = 2;

/// The sentences of `hits` that answer `question` confidently (score at
/// least `min_score`), best first, the ones close to the best only. Empty
/// when none does.
pub async fn candidates(
    generation: &Generator,
    question: &str,
    hits: &[SearchHit],
    min_score: f32,
) -> Result<Vec<Candidate>, Error> {
    let scored = distinct(score(generation, question, hits).await?);
    let Some(best) = scored.first().map(|c| c.score) else {
        return Ok(Vec::new());
    };
    Ok(scored
        .into_iter()
        .take_while(|c| c.score >= min_score && c.score >= best - MARGIN)
        .take(MAX_OFFERED)
        .collect())
}

/// One candidate per sentence: overlapping passages hold the same sentence
/// twice, and a passage's edge can cut one short. A sentence that contains
/// or is contained in a better-ranked one is merged into it, keeping the
/// longer text (the whole sentence) at the better rank.
fn distinct(scored: Vec<Candidate>) -> Vec<Candidate> {
    let mut out: Vec<Candidate> = Vec::new();
    for c in scored {
        let line = one_line(&c.text);
        let same = out.iter_mut().find(|k| {
            let kept = one_line(&k.text);
            kept.contains(&line) || line.contains(&kept)
        });
        match same {
            Some(kept) if line.len() > one_line(&kept.text).len() => {
                kept.text = c.text;
                kept.hit = c.hit;
            }
            Some(_) => {}
            None => out.push(c),
        }
    }
    out
}

/// Every quotable sentence of `hits` with its score, best first. A question
/// asking for a quantity, a time or a day only gets sentences that state one;
/// one asking for a name ("which provider") sentences that name something;
/// "how many orders" sentences that count orders; and a question about a
/// thing no passage mentions ("what is the budget") gets none.
pub async fn score(
    generation: &Generator,
    question: &str,
    hits: &[SearchHit],
) -> Result<Vec<Candidate>, Error> {
    let texts: Vec<&str> = hits.iter().map(|h| h.text.as_str()).collect();
    let quantity = quotes::asks_for_quantity(question);
    let wants = asks::asks(question);
    if let Some(head) = wants.about().find(|h| !asks::mentioned(&texts, h)) {
        tracing::debug!(
            question,
            head,
            "no passage mentions what the question is about"
        );
        return Ok(Vec::new());
    }
    let sentences: Vec<(usize, &str)> = quotes::quotable(&texts)
        .into_iter()
        .map(|s| (s.source, &texts[s.source][s.range]))
        .filter(|(_, t)| !quantity || quotes::states_quantity(t))
        .filter(|(_, t)| !wants.name || asks::names_something(t, wants.kind.as_deref()))
        .filter(|(_, t)| wants.counted.as_deref().is_none_or(|c| asks::counts(t, c)))
        .collect();
    if sentences.is_empty() {
        return Ok(Vec::new());
    }
    let rarity = Rarity::new(sentences.iter().map(|(_, t)| *t));
    let embedder = generation.embedder(None).await?;
    let mut inputs = vec![question.to_string()];
    inputs.extend(sentences.iter().map(|(_, t)| t.to_string()));
    let vectors = generation
        .embed(&embedder, inputs, false)
        .await
        .map_err(|e| Error::Internal(format!("embedding sentences: {e}")))?
        .vectors;
    let (q, rest) = vectors
        .split_first()
        .ok_or_else(|| Error::Internal("no embedding for the question".into()))?;
    let mut out: Vec<Candidate> = sentences
        .iter()
        .zip(rest)
        .map(|((hit, text), v)| Candidate {
            hit: *hit,
            text: text.to_string(),
            score: cosine(q, v) + rarity.coverage(question, text),
        })
        .collect();
    out.sort_by(|a, b| b.score.total_cmp(&a.score));
    for c in out.iter().take(3) {
        tracing::debug!(question, score = c.score, sentence = %c.text, "quotable sentence");
    }
    Ok(out)
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    let n = norm(a) * norm(b);
    if n == 0.0 {
        0.0
    } else {
        dot / n
    }
}

/// What choosing cost: the model's prompt and output tokens (zero when
/// there was one candidate and nothing to choose).
#[derive(Debug, Default, Clone, Copy)]
pub struct Choice {
    pub prompt_tokens: usize,
    pub completion_tokens: usize,
}

/// The JSON schema of the model's choice: `{"sentences": [ids]}`, each id
/// one of the offered sentences' numbers, at most [`MAX_QUOTED`].
pub fn choice_schema(offered: usize) -> Value {
    let ids: Vec<usize> = (1..=offered).collect();
    json!({
        "type": "object",
        "properties": {
            "sentences": {
                "type": "array",
                "items": {"type": "integer", "enum": ids},
                "maxItems": MAX_QUOTED
            }
        },
        "required": ["sentences"],
        "additionalProperties": false
    })
}

const CHOOSE: &str = "You choose the sentences that answer a question. Reply with the numbers of the sentences that state the answer, best first. If no sentence states the answer, reply with an empty list.";

/// The candidates to quote, in the order to quote them: the model's choice
/// among them (constrained to their numbers), or the only one. A choice of
/// none keeps the best: every candidate already cleared the score, and an
/// empty answer helps no one.
pub async fn choose(
    model: &Arc<ChatModel>,
    question: &str,
    offered: Vec<Candidate>,
) -> Result<(Vec<Candidate>, Choice), Error> {
    if offered.len() <= 1 {
        return Ok((offered, Choice::default()));
    }
    let list: String = offered
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{}. {}\n", i + 1, one_line(&c.text)))
        .collect();
    let user = format!("Question: {question}\n\nSentences:\n{list}");
    let prompt = model
        .chat_prompt(
            vec![
                ChatMessage::new("system", CHOOSE),
                ChatMessage::new("user", user),
            ],
            Vec::new(),
        )
        .await
        .map_err(|e| Error::Internal(format!("choice prompt: {e}")))?;
    let constraint = Generator::compile(
        model,
        ConstraintSpec::JsonSchema(choice_schema(offered.len())),
    )
    .await
    .map_err(|e| Error::Internal(format!("choice schema: {e}")))?;
    let answer = Generator::start(
        model,
        Generation {
            prompt,
            max_tokens: 32,
            stop: Vec::new(),
            ignore_eos: false,
            sampling: SamplingParams {
                temperature: 0.0,
                ..SamplingParams::default()
            },
            constraint: Some(constraint),
        },
    )
    .map_err(|e| match e {
        GenError::Submit(e) => Error::Queue(e),
        e => Error::Internal(e.to_string()),
    })?;
    let (text, done) = answer.collect().await.map_err(Error::Internal)?;
    let cost = Choice {
        prompt_tokens: done.prompt_tokens,
        completion_tokens: done.completion_tokens,
    };
    let mut picked: Vec<usize> = serde_json::from_str::<Value>(&text)
        .ok()
        .and_then(|v| {
            v["sentences"]
                .as_array()
                .map(|ids| ids.iter().filter_map(Value::as_u64).collect::<Vec<u64>>())
        })
        .unwrap_or_default()
        .into_iter()
        .filter_map(|n| usize::try_from(n).ok()?.checked_sub(1))
        .filter(|&i| i < offered.len())
        .collect();
    let mut seen = Vec::new();
    picked.retain(|i| {
        let first = !seen.contains(i);
        seen.push(*i);
        first
    });
    if picked.is_empty() {
        picked.push(0);
    }
    picked.truncate(MAX_QUOTED);
    Ok((
        picked.into_iter().map(|i| offered[i].clone()).collect(),
        cost,
    ))
}

/// A sentence on one line: a quote spans lines only where its source wraps.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The answer's text, in the parts it streams as, and the citations it
/// makes: each quote a Markdown quotation closed by `[n]`, numbered by the
/// passages in the order the answer first cites them.
pub fn render(quoted: &[Candidate], hits: &[SearchHit]) -> (Vec<String>, Vec<Citation>) {
    let mut cited: Vec<usize> = Vec::new();
    let mut parts = Vec::new();
    for (i, c) in quoted.iter().enumerate() {
        let n = match cited.iter().position(|&h| h == c.hit) {
            Some(p) => p + 1,
            None => {
                cited.push(c.hit);
                cited.len()
            }
        };
        let gap = if i == 0 { "" } else { "\n\n" };
        parts.push(format!("{gap}> {} [{n}]", one_line(&c.text)));
    }
    let citations = numbered(&cited, hits);
    (parts, citations)
}

/// The answer when no sentence answers: the plain refusal, then the closest
/// passages (up to two) as citations.
pub fn decline(hits: &[SearchHit]) -> (Vec<String>, Vec<Citation>) {
    let closest: Vec<usize> = (0..hits.len().min(2)).collect();
    let mut parts = vec![NOT_IN_DOCUMENTS.to_string()];
    match closest.len() {
        0 => {}
        1 => parts.push(" The closest passage is [1].".into()),
        _ => parts.push(" The closest passages are [1] and [2].".into()),
    }
    (parts, numbered(&closest, hits))
}

/// Citations `[1]`, `[2]`, … of the hits at `order`.
fn numbered(order: &[usize], hits: &[SearchHit]) -> Vec<Citation> {
    order
        .iter()
        .enumerate()
        .map(|(i, &h)| super::answer::citation(i + 1, &hits[h]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(text: &str) -> SearchHit {
        SearchHit {
            chunk_id: format!("c-{}", text.len()),
            document_id: "d".into(),
            document_name: "rules.md".into(),
            text: text.into(),
            page: None,
            heading: None,
            score: 1.0,
            similarity: Some(0.8),
        }
    }

    fn candidate(hit: usize, text: &str) -> Candidate {
        Candidate {
            hit,
            text: text.into(),
            score: 1.5,
        }
    }

    #[test]
    fn quotes_are_numbered_by_the_passages_they_first_cite() {
        let hits = [
            hit("First passage."),
            hit("Loans last\n7 days. Members borrow 2 tools."),
        ];
        let (parts, citations) = render(
            &[
                candidate(1, "Loans last\n7 days."),
                candidate(0, "First passage."),
                candidate(1, "Members borrow 2 tools."),
            ],
            &hits,
        );
        assert_eq!(
            parts.concat(),
            "> Loans last 7 days. [1]\n\n> First passage. [2]\n\n> Members borrow 2 tools. [1]"
        );
        let ns: Vec<(usize, &str)> = citations.iter().map(|c| (c.n, c.quote.as_str())).collect();
        assert_eq!(ns, [(1, hits[1].text.as_str()), (2, hits[0].text.as_str())]);
    }

    #[test]
    fn a_decline_says_so_and_cites_the_closest_passages() {
        let hits = [hit("a b c."), hit("d e f g."), hit("h i.")];
        let (parts, citations) = decline(&hits);
        let text = parts.concat();
        assert!(text.starts_with(NOT_IN_DOCUMENTS), "{text}");
        assert!(text.ends_with("[1] and [2]."), "{text}");
        assert_eq!(citations.len(), 2);
        let (parts, citations) = decline(&[]);
        assert_eq!(parts.concat(), NOT_IN_DOCUMENTS);
        assert!(citations.is_empty());
    }

    #[test]
    fn the_choice_schema_offers_exactly_the_sentence_numbers() {
        let s = choice_schema(3);
        assert_eq!(
            s["properties"]["sentences"]["items"]["enum"],
            json!([1, 2, 3])
        );
        assert_eq!(s["properties"]["sentences"]["maxItems"], json!(MAX_QUOTED));
    }

    #[test]
    fn a_sentence_held_twice_or_cut_short_is_one_candidate() {
        let scored = vec![
            Candidate {
                score: 1.5,
                ..candidate(0, "An approver has 5 working days;")
            },
            Candidate {
                score: 1.4,
                ..candidate(1, "An approver has 5 working days; then it escalates.")
            },
            Candidate {
                score: 1.3,
                ..candidate(2, "Invoices are paid on Fridays.")
            },
            Candidate {
                score: 1.2,
                ..candidate(3, "Invoices are paid on Fridays.")
            },
        ];
        let kept = distinct(scored);
        let texts: Vec<&str> = kept.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "An approver has 5 working days; then it escalates.",
                "Invoices are paid on Fridays."
            ]
        );
        assert_eq!((kept[0].hit, kept[0].score), (1, 1.5));
    }

    #[test]
    fn cosine_of_parallel_vectors_is_one_and_of_zero_is_zero() {
        assert!((cosine(&[1.0, 2.0], &[2.0, 4.0]) - 1.0).abs() < 1e-6);
        assert_eq!(cosine(&[0.0, 0.0], &[1.0, 0.0]), 0.0);
    }
}
