//! Hybrid retrieval: nearest vectors and BM25 full-text hits from LanceDB,
//! fused by reciprocal rank, then joined with SQLite (the record) for text,
//! positions and document names.

use std::collections::HashMap;

use serde::Serialize;
use sqlx::{QueryBuilder, Sqlite, SqlitePool};
use utoipa::ToSchema;

use super::vectors::{Hit, VectorStore};
use super::Error;
use crate::generation::Generator;

/// Reciprocal rank fusion's constant, from Cormack, Clarke & Büttcher (2009):
/// 60 damps the weight of the very first ranks without flattening the rest.
const RRF_K: f32 = 60.0;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SearchHit {
    pub chunk_id: String,
    pub document_id: String,
    pub document_name: String,
    pub text: String,
    pub page: Option<i64>,
    pub heading: Option<String>,
    /// Fused rank score (higher is better).
    pub score: f32,
    /// Cosine similarity to the query, when the vector search found it.
    #[serde(skip)]
    pub similarity: Option<f32>,
}

#[derive(sqlx::FromRow)]
struct ChunkRow {
    id: String,
    document_id: String,
    document_name: String,
    text: String,
    page: Option<i64>,
    heading: Option<String>,
}

/// What a search reads: the record, the vectors, and the embedding model
/// (looked up by name when a search starts, so one still loading answers
/// then).
#[derive(Clone, Copy)]
pub struct Index<'a> {
    pub pool: &'a SqlitePool,
    pub vectors: &'a VectorStore,
    /// Embeddings with the default embedding model (`models.embedding`).
    pub generation: &'a Generator,
}

/// The `k` best chunks of the project for `query`.
pub async fn search(
    index: Index<'_>,
    project_id: &str,
    query: &str,
    k: usize,
) -> Result<Vec<SearchHit>, Error> {
    let embedder = index.generation.embedder(None).await?;
    let vector = index
        .generation
        .embed(&embedder, vec![query.to_string()], false)
        .await
        .map_err(|e| Error::Internal(e.to_string()))?
        .vectors
        .pop()
        .unwrap_or_default();
    // Each list is cut deeper than k so fusion has candidates to reorder.
    let depth = (k * 4).max(20);
    let (nearest, full_text) = tokio::join!(
        index.vectors.nearest(project_id, &vector, depth),
        index.vectors.full_text(project_id, query, depth)
    );
    let nearest = nearest?;
    // A query BM25 cannot parse leaves the vector side to answer alone.
    let full_text = full_text.unwrap_or_else(|e| {
        tracing::debug!(error = %e, "full-text search failed; vector results only");
        Vec::new()
    });
    let fused = fuse(&[&nearest, &full_text]);
    let similarity: HashMap<&str, f32> = nearest
        .iter()
        .map(|h| (h.chunk_id.as_str(), h.score))
        .collect();

    // Joined before cutting to k: a vector whose chunk is not (or no longer)
    // in SQLite must not take a result's place.
    let wanted: Vec<&(String, f32)> = fused.iter().collect();
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
        "SELECT c.id, c.document_id, d.name AS document_name, c.text, c.page, c.heading
         FROM chunks c JOIN documents d ON d.id = c.document_id
         WHERE d.status = 'ready' AND c.project_id = ",
    );
    q.push_bind(project_id).push(" AND c.id IN (");
    let mut ids = q.separated(", ");
    for (id, _) in &wanted {
        ids.push_bind(id.as_str());
    }
    q.push(")");
    let rows: HashMap<String, ChunkRow> = q
        .build_query_as::<ChunkRow>()
        .fetch_all(index.pool)
        .await?
        .into_iter()
        .map(|r| (r.id.clone(), r))
        .collect();
    Ok(wanted
        .into_iter()
        .filter_map(|(id, score)| {
            let r = rows.get(id)?;
            Some(SearchHit {
                chunk_id: r.id.clone(),
                document_id: r.document_id.clone(),
                document_name: r.document_name.clone(),
                text: r.text.clone(),
                page: r.page,
                heading: r.heading.clone(),
                score: *score,
                similarity: similarity.get(id.as_str()).copied(),
            })
        })
        .take(k)
        .collect())
}

/// The `k` best chunks for `query`, or none when even the best is less
/// similar to it than `min_relevance` (`chat.min_relevance`): the documents
/// then do not count as covering the question.
pub async fn relevant(
    index: Index<'_>,
    project_id: &str,
    query: &str,
    k: usize,
    min_relevance: f32,
) -> Result<Vec<SearchHit>, Error> {
    let hits = search(index, project_id, query, k.max(1)).await?;
    let best = hits
        .iter()
        .filter_map(|h| h.similarity)
        .fold(f32::MIN, f32::max);
    if best < min_relevance {
        return Ok(Vec::new());
    }
    Ok(hits)
}

/// Reciprocal rank fusion of ranked lists: each list gives a chunk
/// 1 / (RRF_K + rank); the sums, best first (ties by chunk id, so the order
/// is deterministic).
pub fn fuse(lists: &[&[Hit]]) -> Vec<(String, f32)> {
    let mut scores: HashMap<&str, f32> = HashMap::new();
    for list in lists {
        for (rank, hit) in list.iter().enumerate() {
            *scores.entry(hit.chunk_id.as_str()).or_default() += 1.0 / (RRF_K + rank as f32 + 1.0);
        }
    }
    let mut out: Vec<(String, f32)> = scores
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    out.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hits(ids: &[&str]) -> Vec<Hit> {
        ids.iter()
            .map(|id| Hit {
                chunk_id: id.to_string(),
                score: 0.0,
            })
            .collect()
    }

    #[test]
    fn a_chunk_found_by_both_searches_outranks_one_found_by_either() {
        let vector = hits(&["a", "b", "c"]);
        let text = hits(&["d", "c", "e"]);
        let fused = fuse(&[&vector, &text]);
        assert_eq!(fused[0].0, "c");
        assert_eq!(fused.len(), 5);
    }

    #[test]
    fn fusion_keeps_the_order_of_a_single_list() {
        let vector = hits(&["x", "y", "z"]);
        let fused: Vec<String> = fuse(&[&vector, &[]])
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        assert_eq!(fused, ["x", "y", "z"]);
    }
}
