//! Document-grounded chat: conversations per project, answers grounded in
//! retrieved passages that cite them as `[n]`, streamed over SSE or a
//! WebSocket, with the history stored and searchable.

pub mod answer;
pub mod prompt;
pub mod quoted;
mod routed;
pub mod routes;

use serde::{Deserialize, Serialize};
use sqlx::SqlitePool;
use utoipa::ToSchema;

use crate::inference::chat_model::SubmitError;
use crate::inference::registry::LookupError;
use crate::store::Invalid;

/// Why a conversation could not be read or a question answered.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Store(#[from] crate::store::Error),
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// The question and its sources do not fit in the model's context.
    #[error("{0}")]
    TooLong(String),
    #[error(transparent)]
    Model(#[from] LookupError),
    #[error(transparent)]
    Queue(#[from] SubmitError),
    #[error(transparent)]
    Retrieval(#[from] crate::retrieval::Error),
    /// No target of the chat route could answer (every upstream down, or
    /// none allowed); the sentence says which.
    #[error("{0}")]
    Route(String),
    /// Everything else; the detail is for the log.
    #[error("{0}")]
    Internal(String),
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        Error::Store(e.into())
    }
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, ToSchema)]
pub struct Conversation {
    pub id: String,
    pub project_id: String,
    pub title: String,
    pub created_at: String,
    pub updated_at: String,
}

/// A passage an answer cites as `[n]`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ToSchema)]
pub struct Citation {
    pub n: usize,
    pub document_id: String,
    pub document_name: String,
    pub chunk_id: String,
    /// The cited passage.
    pub quote: String,
    pub page: Option<i64>,
    pub heading: Option<String>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, ToSchema)]
pub struct Message {
    pub id: String,
    pub conversation_id: String,
    /// `user` or `assistant`.
    pub role: String,
    pub content: String,
    /// The mode the question was asked in (user messages).
    pub mode: Option<String>,
    /// The model that wrote an answer.
    pub model: Option<String>,
    pub prompt_tokens: Option<i64>,
    pub completion_tokens: Option<i64>,
    #[sqlx(json)]
    pub citations: Vec<Citation>,
    pub created_at: String,
}

/// How an answer may use the project's documents.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Answer from the documents, citing them; without a relevant passage, answer generally.
    #[default]
    Grounded,
    /// Answer only from the documents; without a relevant passage, say so.
    DocumentsOnly,
    /// No retrieval.
    Free,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Grounded => "grounded",
            Mode::DocumentsOnly => "documents_only",
            Mode::Free => "free",
        }
    }
}

const CONVERSATION: &str =
    "SELECT id, project_id, title, created_at, updated_at FROM conversations";
const MESSAGE: &str = "SELECT id, conversation_id, role, content, mode, model, prompt_tokens,
    completion_tokens, citations, created_at FROM messages";

pub async fn conversation(pool: &SqlitePool, id: &str) -> Result<Conversation, Error> {
    let sql = format!("{CONVERSATION} WHERE id = ?1");
    Ok(crate::store::by_id(pool, &sql, "conversation", id).await?)
}

pub async fn conversations(
    pool: &SqlitePool,
    project_id: &str,
    after: &str,
    limit: i64,
) -> Result<Vec<Conversation>, Error> {
    Ok(sqlx::query_as::<_, Conversation>(&format!(
        "{CONVERSATION} WHERE project_id = ?1 AND (?2 = '' OR id < ?2) ORDER BY id DESC LIMIT ?3"
    ))
    .bind(project_id)
    .bind(after)
    .bind(limit + 1)
    .fetch_all(pool)
    .await?)
}

/// The whole conversation, oldest first.
pub async fn messages(pool: &SqlitePool, conversation_id: &str) -> Result<Vec<Message>, Error> {
    Ok(sqlx::query_as::<_, Message>(&format!(
        "{MESSAGE} WHERE conversation_id = ?1 ORDER BY seq"
    ))
    .bind(conversation_id)
    .fetch_all(pool)
    .await?)
}

pub async fn message(pool: &SqlitePool, id: &str) -> Result<Message, Error> {
    Ok(
        sqlx::query_as::<_, Message>(&format!("{MESSAGE} WHERE id = ?1"))
            .bind(id)
            .fetch_one(pool)
            .await?,
    )
}

/// A message to store.
pub struct NewMessage<'a> {
    pub conversation_id: &'a str,
    pub role: &'a str,
    pub content: &'a str,
    pub mode: Option<Mode>,
    pub model: Option<&'a str>,
    pub usage: Option<(usize, usize)>,
    pub citations: &'a [Citation],
}

impl<'a> NewMessage<'a> {
    /// The assistant's finished answer, quoted or generated.
    pub fn answer(
        conversation_id: &'a str,
        text: &'a str,
        model: Option<&'a str>,
        usage: (usize, usize),
        citations: &'a [Citation],
    ) -> Self {
        NewMessage {
            conversation_id,
            role: "assistant",
            content: text.trim(),
            mode: None,
            model,
            usage: Some(usage),
            citations,
        }
    }
}

/// Stores a message and touches its conversation, in one transaction.
pub async fn insert(pool: &SqlitePool, m: NewMessage<'_>) -> Result<Message, Error> {
    let id = crate::store::new_id();
    let mut tx = crate::store::write_tx(pool).await?;
    sqlx::query(
        "INSERT INTO messages (id, conversation_id, role, content, mode, model,
         prompt_tokens, completion_tokens, citations) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )
    .bind(&id)
    .bind(m.conversation_id)
    .bind(m.role)
    .bind(m.content)
    .bind(m.mode.map(Mode::as_str))
    .bind(m.model)
    .bind(m.usage.map(|u| u.0 as i64))
    .bind(m.usage.map(|u| u.1 as i64))
    .bind(serde_json::to_string(m.citations).unwrap_or_else(|_| "[]".into()))
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE conversations SET updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?1",
    )
    .bind(m.conversation_id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    if m.role == "assistant" {
        let data = serde_json::json!({
            "conversation_id": m.conversation_id,
            "message_id": id,
            "model": m.model,
        });
        crate::events::emit(pool, "conversation.answered", data).await;
    }
    message(pool, &id).await
}

/// A message found by full-text search, with where it is.
#[derive(Debug, Serialize, sqlx::FromRow, ToSchema)]
pub struct FoundMessage {
    #[serde(flatten)]
    #[sqlx(flatten)]
    pub message: Message,
    pub conversation_title: String,
}

/// Messages of the project matching every word of `query`, best first.
pub async fn search_messages(
    pool: &SqlitePool,
    project_id: &str,
    query: &str,
    limit: i64,
) -> Result<Vec<FoundMessage>, Error> {
    let Some(expr) = fts_query(query) else {
        return Ok(Vec::new());
    };
    Ok(sqlx::query_as::<_, FoundMessage>(
        "SELECT m.id, m.conversation_id, m.role, m.content, m.mode, m.model, m.prompt_tokens,
         m.completion_tokens, m.citations, m.created_at, c.title AS conversation_title
         FROM messages_fts f JOIN messages m ON m.seq = f.rowid
         JOIN conversations c ON c.id = m.conversation_id
         WHERE messages_fts MATCH ?1 AND c.project_id = ?2 ORDER BY f.rank LIMIT ?3",
    )
    .bind(&expr)
    .bind(project_id)
    .bind(limit)
    .fetch_all(pool)
    .await?)
}

/// User text as an FTS5 query: every word quoted (so operators and
/// punctuation are literal), all required.
fn fts_query(text: &str) -> Option<String> {
    let terms: Vec<String> = text
        .split_whitespace()
        .map(|w| format!("\"{}\"", w.replace('"', "\"\"")))
        .collect();
    (!terms.is_empty()).then(|| terms.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fts_queries_quote_every_word_so_operators_are_literal() {
        assert_eq!(
            fts_query(r#"invoice OR "approval" NEAR("#).unwrap(),
            r#""invoice" "OR" """approval""" "NEAR(""#
        );
        assert_eq!(fts_query("   "), None);
    }
}
