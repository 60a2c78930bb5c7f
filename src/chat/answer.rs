//! Answering one question: retrieve, decide whether the documents are
//! relevant, then either quote the sentences that answer (see [`quoted`])
//! or build the prompt and generate (constrained to cite when there are
//! sources); stream the events, store the answer.

use serde_json::{json, Value};
use tokio::sync::mpsc;

use super::prompt::{self, NOT_IN_DOCUMENTS};
use super::{quoted, routed, Citation, Conversation, Error, Message, Mode, NewMessage};
use crate::config::{AnswerStyle, ChatConfig};
use crate::generation::route::Caller;
use crate::generation::{Generator, Role};
use crate::inference::constraint::ConstraintSpec;
use crate::inference::engine::{Event, Generation};
use crate::inference::sampler::SamplingParams;
use crate::retrieval::search::{self, Index, SearchHit};
use crate::store::Invalid;

/// The events of one answer, the same over SSE and the WebSocket.
#[derive(Debug)]
pub enum ChatEvent {
    Token(String),
    Citation(Citation),
    Done {
        message: Message,
        usage: Value,
    },
    /// The answer failed after it started; the last event.
    Error(Error),
}

impl ChatEvent {
    pub fn name(&self) -> &'static str {
        match self {
            ChatEvent::Token(_) => "token",
            ChatEvent::Citation(_) => "citation",
            ChatEvent::Done { .. } => "done",
            ChatEvent::Error(_) => "error",
        }
    }
}

/// What answering reads: the record and the search index (`index.pool`,
/// `index.generation`, which also finds the chat role's model when a
/// question is asked), and the `chat` settings.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    pub index: Index<'a>,
    pub settings: &'a ChatConfig,
}

/// Passages whose sentences a quoted answer chooses from: a one-page
/// document's sections, each a passage of its own.
const QUOTE_PASSAGES: usize = 8;

/// Longest question, in characters.
const MAX_QUESTION_CHARS: usize = 8000;

/// Stores the question and starts the answer. Problems found before
/// generation starts (bad input, no model, a full queue) are errors here;
/// later ones arrive as an `Error` event.
pub async fn ask(
    s: Context<'_>,
    conversation: &Conversation,
    content: &str,
    mode: Mode,
    who: (&str, &str),
) -> Result<mpsc::Receiver<ChatEvent>, Error> {
    let question = content.trim();
    if question.is_empty() {
        return Err(Invalid::new("content", "`content` must not be empty").into());
    }
    if question.chars().count() > MAX_QUESTION_CHARS {
        return Err(Invalid::new(
            "content",
            format!("`content` is longer than {MAX_QUESTION_CHARS} characters"),
        )
        .into());
    }
    let pool = s.index.pool;
    let model = s.index.generation.model_for(Role::Chat).await?;
    let history = super::messages(pool, &conversation.id).await?;

    let quoting = mode != Mode::Free && s.settings.answer_style == AnswerStyle::Quoted;
    // Quoting reads sentences, not whole passages into a prompt, so it can
    // afford to look further than the passages a generated answer reads.
    let k = if quoting {
        s.settings.context_chunks.max(QUOTE_PASSAGES)
    } else {
        s.settings.context_chunks.max(1)
    };
    let mut hits = match mode {
        Mode::Free => Vec::new(),
        _ => search::search(s.index, &conversation.project_id, question, k).await?,
    };
    // The documents count as covering the question when the best passage is
    // at least `min_relevance` similar to it.
    let best = hits
        .iter()
        .filter_map(|h| h.similarity)
        .fold(f32::MIN, f32::max);
    let relevant = !hits.is_empty() && best >= s.settings.min_relevance;

    if quoting {
        // Sentences are judged one by one (`quote_min_score`), not by their
        // passage's similarity: a passage of many rules dilutes the one that
        // answers.
        let offered = if !hits.is_empty() {
            quoted::candidates(
                s.index.generation,
                question,
                &hits,
                s.settings.quote_min_score,
            )
            .await?
        } else {
            Vec::new()
        };
        let reply = if !offered.is_empty() {
            let best = offered[..1].to_vec();
            let (chosen, cost) = match quoted::choose(&model, question, offered).await {
                Ok(chosen) => chosen,
                // A full queue is the caller's to hear; any other failure of
                // the choice leaves it to the ranking: the best sentence.
                Err(Error::Queue(e)) => return Err(Error::Queue(e)),
                Err(e) => {
                    tracing::warn!(error = %e, "sentence choice failed; quoting the best sentence");
                    (best, quoted::Choice::default())
                }
            };
            let (parts, citations) = quoted::render(&chosen, &hits);
            let asked = cost.prompt_tokens > 0;
            Some(Reply {
                parts,
                citations,
                model: asked.then(|| model.id.clone()),
                usage: json!({
                    "prompt_tokens": cost.prompt_tokens,
                    "completion_tokens": cost.completion_tokens,
                    "sources": hits.len(),
                    "answer_style": "quoted",
                }),
            })
        } else if mode == Mode::DocumentsOnly {
            let (parts, citations) = quoted::decline(&hits);
            Some(Reply {
                parts,
                citations,
                model: None,
                usage: json!({"prompt_tokens": 0, "completion_tokens": 0, "sources": hits.len(), "answer_style": "quoted"}),
            })
        } else {
            None // grounded with nothing to quote: the model writes
        };
        if let Some(reply) = reply {
            store_question(pool, conversation, question, mode, history.is_empty()).await?;
            return Ok(send_reply(pool.clone(), conversation.id.clone(), reply));
        }
    }

    hits.truncate(s.settings.context_chunks.max(1));
    let sources = if relevant { hits } else { Vec::new() };
    if mode == Mode::DocumentsOnly && sources.is_empty() {
        store_question(pool, conversation, question, mode, history.is_empty()).await?;
        let reply = Reply {
            parts: vec![NOT_IN_DOCUMENTS.into()],
            citations: Vec::new(),
            model: None,
            usage: json!({"prompt_tokens": 0, "completion_tokens": 0, "sources": 0}),
        };
        return Ok(send_reply(pool.clone(), conversation.id.clone(), reply));
    }

    let (tx, rx) = mpsc::channel(64);
    let system = prompt::system(mode, &sources);
    let budget = model
        .context_length
        .saturating_sub(s.settings.max_answer_tokens);
    let counter = model.clone();
    let count = move |m: &crate::inference::chat_template::ChatMessage| {
        // Content (turn markers in it are text) plus the template's turn markers.
        counter
            .tokenizer
            .encode_plain(&m.content, false)
            .map_or(usize::MAX / 4, |t| t.len())
            + 8
    };
    let (messages, dropped) =
        prompt::fit(&system, &history, question, budget, count).ok_or_else(|| {
            Error::TooLong(format!(
                "The question and its sources do not fit in the model's context of {} tokens",
                model.context_length
            ))
        })?;
    let upstream_messages = messages.clone();
    let prompt_ids = model
        .chat_prompt(messages, Vec::new())
        .await
        .map_err(|e| Error::Internal(format!("chat prompt: {e}")))?;
    let constraint = if sources.is_empty() {
        None
    } else {
        let decline = mode == Mode::DocumentsOnly;
        let grammar = prompt::citation_grammar(sources.len(), decline);
        Some(
            Generator::compile(&model, ConstraintSpec::Lark(grammar))
                .await
                .map_err(|e| Error::Internal(format!("citation grammar: {e}")))?,
        )
    };
    let caller = Caller {
        user: who.0.to_string(),
        address: who.1.to_string(),
        project: Some(conversation.project_id.clone()),
        role: Role::Chat.name(),
    };
    let ask = routed::Ask {
        model: &model,
        local: Generation {
            prompt: prompt_ids,
            max_tokens: s.settings.max_answer_tokens,
            stop: Vec::new(),
            ignore_eos: false,
            // Greedy: the same question over the same documents gets the same answer.
            sampling: SamplingParams::for_features(0.0, 0),
            constraint,
        },
        messages: &upstream_messages,
        max_tokens: s.settings.max_answer_tokens,
    };
    let started = routed::start(s.index.generation, pool, caller, ask).await?;
    let events = started.events;
    // Stored once the answer is under way, so a refused request leaves no
    // unanswered question behind.
    store_question(pool, conversation, question, mode, history.is_empty()).await?;
    let pool = pool.clone();
    let conversation_id = conversation.id.clone();
    tokio::spawn(relay(
        pool,
        conversation_id,
        started.model,
        sources,
        dropped,
        events,
        tx,
    ));
    Ok(rx)
}

/// An answer written without generating (a quoted answer, a refusal): its
/// text in the parts it streams as, its citations, who chose it and what it cost.
struct Reply {
    parts: Vec<String>,
    citations: Vec<Citation>,
    model: Option<String>,
    usage: Value,
}

/// Streams `reply` as the same events a generated answer sends (each
/// citation right after the part that first cites it) and stores it.
fn send_reply(
    pool: sqlx::SqlitePool,
    conversation_id: String,
    reply: Reply,
) -> mpsc::Receiver<ChatEvent> {
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(async move {
        let mut text = String::new();
        let mut markers = CitationMarkers::default();
        for part in reply.parts {
            text.push_str(&part);
            if tx.send(ChatEvent::Token(part)).await.is_err() {
                return;
            }
            for n in markers.scan(&text) {
                let Some(c) = reply.citations.iter().find(|c| c.n == n) else {
                    continue;
                };
                if tx.send(ChatEvent::Citation(c.clone())).await.is_err() {
                    return;
                }
            }
        }
        let tokens = |k: &str| reply.usage[k].as_u64().unwrap_or(0) as usize;
        let usage = (tokens("prompt_tokens"), tokens("completion_tokens"));
        let model = reply.model.as_deref();
        let answer = NewMessage::answer(&conversation_id, &text, model, usage, &reply.citations);
        let stored = super::insert(&pool, answer).await;
        let _ = tx.send(done_or_error(stored, reply.usage)).await;
    });
    rx
}

async fn store_question(
    pool: &sqlx::SqlitePool,
    conversation: &Conversation,
    question: &str,
    mode: Mode,
    first: bool,
) -> Result<(), Error> {
    super::insert(
        pool,
        NewMessage {
            conversation_id: &conversation.id,
            role: "user",
            content: question,
            mode: Some(mode),
            model: None,
            usage: None,
            citations: &[],
        },
    )
    .await?;
    if first {
        let title: String = question.chars().take(60).collect();
        sqlx::query("UPDATE conversations SET title = ?2 WHERE id = ?1 AND title = ''")
            .bind(&conversation.id)
            .bind(title.trim())
            .execute(pool)
            .await?;
    }
    Ok(())
}

/// Forwards the engine's text as events, announces each source when the
/// answer first cites it, and stores the finished answer. A client that goes
/// away drops `tx`; returning then drops `events`, which stops the generation.
async fn relay(
    pool: sqlx::SqlitePool,
    conversation_id: String,
    model: String,
    sources: Vec<SearchHit>,
    dropped: usize,
    mut events: mpsc::UnboundedReceiver<Event>,
    tx: mpsc::Sender<ChatEvent>,
) {
    let mut text = String::new();
    let mut markers = CitationMarkers::default();
    let mut cited = Vec::new();
    while let Some(event) = events.recv().await {
        match event {
            Event::Delta(delta) => {
                text.push_str(&delta);
                if tx.send(ChatEvent::Token(delta)).await.is_err() {
                    return;
                }
                for n in markers.scan(&text) {
                    let Some(hit) = sources.get(n - 1) else {
                        continue;
                    };
                    let c = citation(n, hit);
                    cited.push(c.clone());
                    if tx.send(ChatEvent::Citation(c)).await.is_err() {
                        return;
                    }
                }
            }
            Event::Done(done) => {
                let usage = (done.prompt_tokens, done.completion_tokens);
                let answer =
                    NewMessage::answer(&conversation_id, &text, Some(&model), usage, &cited);
                let stored = super::insert(&pool, answer).await;
                let usage = json!({
                    "prompt_tokens": done.prompt_tokens,
                    "completion_tokens": done.completion_tokens,
                    "sources": sources.len(),
                    "history_messages_dropped": dropped,
                    "finish_reason": done.finish_reason,
                });
                let _ = tx.send(done_or_error(stored, usage)).await;
                return;
            }
            Event::Error(e) => {
                let _ = tx.send(ChatEvent::Error(Error::Internal(e))).await;
                return;
            }
        }
    }
    // The engine went away without finishing: say so rather than just stop.
    let stopped = Error::Internal("the generation stopped without finishing".into());
    let _ = tx.send(ChatEvent::Error(stopped)).await;
}

fn done_or_error(stored: Result<Message, Error>, usage: Value) -> ChatEvent {
    match stored {
        Ok(message) => ChatEvent::Done { message, usage },
        Err(e) => {
            tracing::error!(error = %e, "cannot store an answer");
            ChatEvent::Error(e)
        }
    }
}

pub(super) fn citation(n: usize, hit: &SearchHit) -> Citation {
    Citation {
        n,
        document_id: hit.document_id.clone(),
        document_name: hit.document_name.clone(),
        chunk_id: hit.chunk_id.clone(),
        quote: hit.text.clone(),
        page: hit.page,
        heading: hit.heading.clone(),
    }
}

/// Finds `[n]` markers in a growing text, each number once.
#[derive(Default)]
pub struct CitationMarkers {
    scanned: usize,
    seen: Vec<usize>,
}

impl CitationMarkers {
    /// Numbers first cited in `text` since the last call. A marker still open
    /// at the end of `text` is looked at again next time.
    pub fn scan(&mut self, text: &str) -> Vec<usize> {
        let mut new = Vec::new();
        let bytes = text.as_bytes();
        let mut i = self.scanned;
        while i < bytes.len() {
            if bytes[i] != b'[' {
                i += 1;
                continue;
            }
            let digits = bytes[i + 1..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
            let close = i + 1 + digits;
            if close >= bytes.len() {
                break; // unfinished: wait for more text
            }
            if digits > 0 && digits <= 3 && bytes[close] == b']' {
                let n: usize = text[i + 1..close].parse().unwrap_or(0);
                if n > 0 && !self.seen.contains(&n) {
                    self.seen.push(n);
                    new.push(n);
                }
                i = close + 1;
            } else {
                i += 1;
            }
        }
        self.scanned = i;
        new
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_are_found_once_even_when_split_across_deltas() {
        let mut m = CitationMarkers::default();
        let mut text = String::from("Invoices need approval [");
        assert!(m.scan(&text).is_empty());
        text.push_str("2] and a receipt [1]. Again [2].");
        assert_eq!(m.scan(&text), [2, 1]);
        text.push_str(" See [3");
        assert!(m.scan(&text).is_empty());
        text.push_str("].");
        assert_eq!(m.scan(&text), [3]);
    }

    #[test]
    fn brackets_that_are_not_markers_are_ignored() {
        let mut m = CitationMarkers::default();
        assert!(m.scan("a [b] c [] d [12x] [0] e").is_empty());
    }
}
