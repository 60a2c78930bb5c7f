//! The vector side of retrieval: one LanceDB table on local disk holding every
//! chunk's text and embedding, with the project id as a filter column, a
//! full-text (BM25) index over the text, and an ANN index once the table is
//! large enough for one to beat a scan.

use std::collections::HashSet;
use std::sync::Arc;

use arrow_array::types::Float32Type;
use arrow_array::{Array, FixedSizeListArray, Float32Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use futures::TryStreamExt;
use lancedb::index::scalar::{FtsIndexBuilder, FullTextSearchQuery};
use lancedb::index::vector::IvfHnswSqIndexBuilder;
use lancedb::index::Index;
use lancedb::query::{ExecutableQuery, QueryBase, Select};
use lancedb::table::OptimizeAction;
use lancedb::{DistanceType, Table};
use tokio::sync::Mutex;

const TABLE: &str = "chunks";

/// One chunk as LanceDB stores it.
pub struct VectorRow {
    pub chunk_id: String,
    pub project_id: String,
    pub document_id: String,
    pub text: String,
    pub vector: Vec<f32>,
}

/// A hit of one of the two searches; `score` is cosine similarity for the
/// vector search and BM25 for the full-text search.
#[derive(Debug, Clone)]
pub struct Hit {
    pub chunk_id: String,
    pub score: f32,
}

pub struct VectorStore {
    db: lancedb::Connection,
    /// `None` until the first chunk arrives: the vector width comes from the
    /// embedding model, which may still be loading when the server starts.
    table: Mutex<Option<Table>>,
    /// Rows from which an ANN index pays; below it a scan is exact and fast.
    index_min_rows: usize,
    maintenance: Mutex<()>,
}

impl VectorStore {
    pub async fn open(uri: &str, index_min_rows: usize) -> lancedb::Result<Self> {
        let db = lancedb::connect(uri).execute().await?;
        let table = match db.open_table(TABLE).execute().await {
            Ok(t) => Some(t),
            Err(lancedb::Error::TableNotFound { .. }) => None,
            Err(e) => return Err(e),
        };
        Ok(Self {
            db,
            table: Mutex::new(table),
            index_min_rows,
            maintenance: Mutex::new(()),
        })
    }

    async fn table(&self) -> Option<Table> {
        self.table.lock().await.clone()
    }

    /// Appends `rows` (one commit), creating the table and its full-text index
    /// with the first batch.
    pub async fn add(&self, rows: Vec<VectorRow>) -> lancedb::Result<()> {
        let Some(dims) = rows.first().map(|r| r.vector.len()) else {
            return Ok(());
        };
        let batch = to_batch(rows, dims)?;
        let mut slot = self.table.lock().await;
        match slot.as_ref() {
            Some(t) => t.add(batch).execute().await.map(|_| ()),
            None => {
                let t = self.db.create_table(TABLE, batch).execute().await?;
                *slot = Some(t.clone());
                drop(slot);
                // Without the index, full-text search fails and hybrid search
                // falls back to vectors; `maintain` creates it then.
                ensure_fts_index(&t).await
            }
        }
    }

    /// Removes the chunks matching a filter on our own ids (UUIDs, so the
    /// filter cannot be injected into).
    async fn delete_where(&self, column: &str, ids: &[String]) -> lancedb::Result<()> {
        let Some(t) = self.table().await else {
            return Ok(());
        };
        for group in ids.chunks(500) {
            let list = group
                .iter()
                .filter(|id| crate::store::is_id(id))
                .map(|id| format!("'{id}'"))
                .collect::<Vec<_>>()
                .join(", ");
            if !list.is_empty() {
                t.delete(format!("{column} IN ({list})").as_str()).await?;
            }
        }
        Ok(())
    }

    pub async fn delete_documents(&self, ids: &[String]) -> lancedb::Result<()> {
        self.delete_where("document_id", ids).await
    }

    pub async fn delete_project(&self, id: &str) -> lancedb::Result<()> {
        self.delete_where("project_id", &[id.to_string()]).await
    }

    /// Every document id that has rows here.
    pub async fn document_ids(&self) -> lancedb::Result<HashSet<String>> {
        let Some(t) = self.table().await else {
            return Ok(HashSet::new());
        };
        let batches: Vec<RecordBatch> = t
            .query()
            .select(Select::columns(&["document_id"]))
            .execute()
            .await?
            .try_collect()
            .await?;
        Ok(batches
            .iter()
            .flat_map(|b| strings(b, "document_id"))
            .collect())
    }

    /// The table, if it exists and `project_id` is one of our ids (so it can
    /// go into a filter string).
    async fn table_for(&self, project_id: &str) -> Option<Table> {
        self.table()
            .await
            .filter(|_| crate::store::is_id(project_id))
    }

    /// The `k` nearest chunks of `project_id` by cosine similarity.
    pub async fn nearest(
        &self,
        project_id: &str,
        vector: &[f32],
        k: usize,
    ) -> lancedb::Result<Vec<Hit>> {
        let Some(t) = self.table_for(project_id).await else {
            return Ok(Vec::new());
        };
        let query = t
            .vector_search(vector.to_vec())?
            .distance_type(DistanceType::Cosine);
        let batches = best_chunks(query, project_id, k, "_distance").await?;
        // Cosine distance is 1 − similarity.
        Ok(hits(&batches, "_distance", |d| 1.0 - d))
    }

    /// The `k` best chunks of `project_id` for `query` by BM25.
    pub async fn full_text(
        &self,
        project_id: &str,
        query: &str,
        k: usize,
    ) -> lancedb::Result<Vec<Hit>> {
        let Some(t) = self.table_for(project_id).await else {
            return Ok(Vec::new());
        };
        let query = t
            .query()
            .full_text_search(FullTextSearchQuery::new(query.to_string()));
        let batches = best_chunks(query, project_id, k, "_score").await?;
        Ok(hits(&batches, "_score", |s| s))
    }

    /// Creates the ANN index once the table has `index_min_rows` rows, and
    /// afterwards folds new rows into the indexes and compacts small
    /// fragments. Runs one at a time; a call while one runs returns at once.
    pub async fn maintain(self: Arc<Self>) {
        let Ok(_guard) = self.maintenance.try_lock() else {
            return;
        };
        let Some(t) = self.table().await else {
            return;
        };
        let result = async {
            ensure_fts_index(&t).await?;
            let has_vector_index = t
                .list_indices()
                .await?
                .iter()
                .any(|i| i.columns.iter().any(|c| c == "vector"));
            if !has_vector_index && t.count_rows(None).await? >= self.index_min_rows {
                tracing::info!("building the vector index");
                let builder = IvfHnswSqIndexBuilder::default().distance_type(DistanceType::Cosine);
                t.create_index(&["vector"], Index::IvfHnswSq(builder))
                    .execute()
                    .await?;
            }
            t.optimize(OptimizeAction::All).await.map(|_| ())
        }
        .await;
        if let Err(e) = result {
            tracing::warn!(error = %e, "vector store maintenance failed; retried after the next ingest");
        }
    }
}

/// Runs a ranked query restricted to one project, keeping only chunk ids
/// and `score`, the column the query adds (`_distance` or `_score`).
async fn best_chunks(
    query: impl QueryBase + ExecutableQuery,
    project_id: &str,
    k: usize,
    score: &str,
) -> lancedb::Result<Vec<RecordBatch>> {
    query
        .only_if(format!("project_id = '{project_id}'"))
        .select(Select::columns(&["chunk_id", score]))
        .limit(k)
        .execute()
        .await?
        .try_collect()
        .await
}

pub(crate) async fn ensure_fts_index(t: &Table) -> lancedb::Result<()> {
    let indexed = t
        .list_indices()
        .await?
        .iter()
        .any(|i| i.columns.iter().any(|c| c == "text"));
    if !indexed {
        t.create_index(&["text"], Index::FTS(FtsIndexBuilder::default()))
            .execute()
            .await?;
    }
    Ok(())
}

fn to_batch(rows: Vec<VectorRow>, dims: usize) -> lancedb::Result<RecordBatch> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("chunk_id", DataType::Utf8, false),
        Field::new("project_id", DataType::Utf8, false),
        Field::new("document_id", DataType::Utf8, false),
        Field::new("text", DataType::Utf8, false),
        Field::new(
            "vector",
            DataType::FixedSizeList(
                Arc::new(Field::new("item", DataType::Float32, true)),
                dims as i32,
            ),
            false,
        ),
    ]));
    let column =
        |f: fn(&VectorRow) -> &str| Arc::new(StringArray::from_iter_values(rows.iter().map(f)));
    let vectors = FixedSizeListArray::from_iter_primitive::<Float32Type, _, _>(
        rows.iter()
            .map(|r| Some(r.vector.iter().copied().map(Some).collect::<Vec<_>>())),
        dims as i32,
    );
    RecordBatch::try_new(
        schema,
        vec![
            column(|r| &r.chunk_id),
            column(|r| &r.project_id),
            column(|r| &r.document_id),
            column(|r| &r.text),
            Arc::new(vectors),
        ],
    )
    .map_err(|e| lancedb::Error::Arrow { source: e })
}

fn strings(batch: &RecordBatch, column: &str) -> Vec<String> {
    batch
        .column_by_name(column)
        .and_then(|c| c.as_any().downcast_ref::<StringArray>())
        .map(|a| a.iter().flatten().map(str::to_string).collect())
        .unwrap_or_default()
}

fn hits(batches: &[RecordBatch], score_column: &str, score: impl Fn(f32) -> f32) -> Vec<Hit> {
    let mut out = Vec::new();
    for b in batches {
        let ids = strings(b, "chunk_id");
        let scores = b
            .column_by_name(score_column)
            .and_then(|c| c.as_any().downcast_ref::<Float32Array>().cloned());
        for (i, chunk_id) in ids.into_iter().enumerate() {
            let s = scores
                .as_ref()
                .filter(|a| !a.is_null(i))
                .map_or(0.0, |a| a.value(i));
            out.push(Hit {
                chunk_id,
                score: score(s),
            });
        }
    }
    out
}
