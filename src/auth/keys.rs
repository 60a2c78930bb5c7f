//! API keys: `bac_<key id>_<secret>`, shown once, stored as the SHA-256 of the
//! whole key. A presented key is looked up by its id and its digest compared
//! in constant time, so response timing says nothing about the stored digest.

use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::SqlitePool;
use subtle::ConstantTimeEq;
use utoipa::ToSchema;

use super::{Error, Identity, Role, Scope, Via};
use crate::store::Invalid;

const PREFIX: &str = "bac_";

/// 32 random bytes, base64url: session tokens, CSRF tokens, key secrets.
pub fn random_token() -> String {
    let bytes: [u8; 32] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub fn digest(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// Constant-time equality of two secrets of any length (by their digests,
/// which have a fixed length).
pub fn same_secret(a: &[u8], b: &[u8]) -> bool {
    let (da, db): ([u8; 32], [u8; 32]) = (Sha256::digest(a).into(), Sha256::digest(b).into());
    da.ct_eq(&db).into()
}

/// A key as listed: never the key itself.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, ToSchema)]
pub struct ApiKey {
    pub id: String,
    pub name: String,
    pub scope: String,
    pub user_id: String,
    pub user_name: String,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
    pub last_used_at: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    pub name: String,
    /// `inference` (default: `/v1` only) or `full`.
    #[serde(default)]
    pub scope: Option<String>,
    /// Days until the key stops working; none: never.
    #[serde(default)]
    pub expires_in_days: Option<u32>,
}

/// A key just created: the record, and the key, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedKey {
    #[serde(flatten)]
    pub record: ApiKey,
    pub key: String,
}

const SELECT: &str = "SELECT k.id, k.name, k.scope, k.user_id, u.name AS user_name, k.created_at,
    k.expires_at, k.revoked_at, k.last_used_at FROM api_keys k JOIN users u ON u.id = k.user_id";

pub async fn get(pool: &SqlitePool, id: &str) -> Result<ApiKey, Error> {
    Ok(crate::store::by_id(pool, &format!("{SELECT} WHERE k.id = ?1"), "API key", id).await?)
}

/// Creates a key for `user_id`; the key text is returned only here.
pub async fn create(
    pool: &SqlitePool,
    user_id: &str,
    name: &str,
    scope: Scope,
    expires_in_days: Option<u32>,
) -> Result<CreatedKey, Error> {
    let name = crate::store::text_field("name", name, true, 100)?;
    if let Some(d) = expires_in_days {
        if d == 0 || d > 3650 {
            return Err(Invalid::new(
                "expires_in_days",
                "`expires_in_days` must be between 1 and 3650",
            )
            .into());
        }
    }
    let id = crate::store::new_id();
    let key = format!("{PREFIX}{}_{}", id.replace('-', ""), random_token());
    sqlx::query(
        "INSERT INTO api_keys (id, user_id, name, digest, scope, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5,
                 CASE WHEN ?6 IS NULL THEN NULL
                      ELSE strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '+' || ?6 || ' days') END)",
    )
    .bind(&id)
    .bind(user_id)
    .bind(&name)
    .bind(&digest(&key)[..])
    .bind(scope.as_str())
    .bind(expires_in_days)
    .execute(pool)
    .await?;
    Ok(CreatedKey {
        record: get(pool, &id).await?,
        key,
    })
}

/// The key id inside a presented key, if it has our shape.
fn key_id(key: &str) -> Option<String> {
    let rest = key.strip_prefix(PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    if secret.len() != 43 {
        return None;
    }
    uuid::Uuid::try_parse(id)
        .ok()
        .map(|u| u.hyphenated().to_string())
}

#[derive(sqlx::FromRow)]
struct KeyRow {
    digest: Vec<u8>,
    scope: String,
    user_id: String,
    name: String,
    role: String,
    usable: bool,
    /// `last_used_at` is over a minute old (or never set).
    stale: bool,
}

/// A key `k` of user `u` is usable: not revoked, not expired, its user
/// enabled. One rule for each request and for credentials held open.
macro_rules! key_usable {
    () => {
        "k.revoked_at IS NULL AND u.disabled = 0
         AND (k.expires_at IS NULL OR k.expires_at > strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))"
    };
}

/// The caller a key stands for, or `None` for a wrong, revoked or expired key
/// or one whose user is disabled.
pub async fn authenticate(
    pool: &SqlitePool,
    key: &str,
    address: &str,
) -> Result<Option<Identity>, Error> {
    let Some(id) = key_id(key) else {
        return Ok(None);
    };
    let row: Option<KeyRow> = sqlx::query_as(concat!(
        "SELECT k.digest, k.scope, u.id AS user_id, u.name, u.role, (",
        key_usable!(),
        ") AS usable,
                (k.last_used_at IS NULL
                 OR k.last_used_at < strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-60 seconds')) AS stale
             FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.id = ?1"
    ))
    .bind(&id)
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let presented = digest(key);
    let matches: bool = presented.ct_eq(row.digest.as_slice()).into();
    if !matches || !row.usable {
        return Ok(None);
    }
    let (Some(role), Some(scope)) = (Role::parse(&row.role), Scope::parse(&row.scope)) else {
        return Ok(None);
    };
    // Bookkeeping, at most once a minute per key (a write per request would
    // queue every API call behind SQLite's writer); never delays the request.
    if row.stale {
        let (pool, key_id) = (pool.clone(), id.clone());
        tokio::spawn(async move {
            let _ = sqlx::query(
                "UPDATE api_keys SET last_used_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?1",
            )
            .bind(key_id)
            .execute(&pool)
            .await;
        });
    }
    Ok(Some(Identity {
        user_id: row.user_id,
        name: row.name,
        role,
        via: Via::Key { id, scope },
        address: address.to_string(),
    }))
}

/// The role of the key's user while the key is usable (not revoked or
/// expired, its user enabled); for credentials held open, like a WebSocket.
pub async fn live_role(pool: &SqlitePool, id: &str) -> Result<Option<String>, Error> {
    Ok(sqlx::query_scalar(concat!(
        "SELECT u.role FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.id = ?1 AND ",
        key_usable!()
    ))
    .bind(id)
    .fetch_optional(pool)
    .await?)
}

/// Keys newest first: `user_id`'s, or everyone's for `None`.
pub async fn list(
    pool: &SqlitePool,
    user_id: Option<&str>,
    after: &str,
    limit: i64,
) -> Result<Vec<ApiKey>, Error> {
    Ok(sqlx::query_as(&format!(
        "{SELECT} WHERE (?1 IS NULL OR k.user_id = ?1) AND (?2 = '' OR k.id < ?2)
         ORDER BY k.id DESC LIMIT ?3"
    ))
    .bind(user_id)
    .bind(after)
    .bind(limit + 1)
    .fetch_all(pool)
    .await?)
}

/// Revokes the key (a revoked key stays revoked; its first revocation time is kept).
pub async fn revoke(pool: &SqlitePool, id: &str) -> Result<ApiKey, Error> {
    sqlx::query(
        "UPDATE api_keys SET revoked_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
         WHERE id = ?1 AND revoked_at IS NULL",
    )
    .bind(id)
    .execute(pool)
    .await?;
    get(pool, id).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_carries_its_id_and_anything_else_is_not_a_key() {
        let id = crate::store::new_id();
        let key = format!("{PREFIX}{}_{}", id.replace('-', ""), random_token());
        assert_eq!(key_id(&key), Some(id));
        assert_eq!(key_id("bac_nothex_abc"), None);
        assert_eq!(key_id(&key[..key.len() - 1]), None, "short secret");
        assert_eq!(key_id("sk-1234"), None);
    }

    #[test]
    fn secrets_compare_by_value_whatever_their_length() {
        assert!(same_secret(b"abc", b"abc"));
        assert!(!same_secret(b"abc", b"abd"));
        assert!(!same_secret(b"abc", b"abcd"));
    }
}
