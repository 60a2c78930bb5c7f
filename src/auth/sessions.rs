//! Browser sessions: a random token in an HttpOnly, SameSite=Strict cookie,
//! stored as its SHA-256, with a CSRF token the page must echo on every
//! state-changing request. Sessions end at `expires_at`, on logout, when
//! revoked, or when their user is disabled.

use axum::http::{header, HeaderMap, HeaderValue};
use serde::Serialize;
use sqlx::SqlitePool;
use utoipa::ToSchema;

use super::keys::{digest, random_token};
use super::{Error, Identity, Role, Via};

pub const COOKIE: &str = "bacopilot_session";

#[derive(Debug, Clone, Serialize, sqlx::FromRow, ToSchema)]
pub struct Session {
    pub id: String,
    pub address: String,
    pub user_agent: String,
    pub created_at: String,
    pub expires_at: String,
}

/// A session just opened: its record, the cookie value and the CSRF token.
pub struct Opened {
    pub session: Session,
    pub token: String,
    pub csrf_token: String,
}

pub async fn open(
    pool: &SqlitePool,
    user_id: &str,
    ttl_secs: u64,
    address: &str,
    user_agent: &str,
) -> Result<Opened, Error> {
    let (id, token, csrf_token) = (crate::store::new_id(), random_token(), random_token());
    let user_agent: String = user_agent.chars().take(300).collect();
    let session = sqlx::query_as::<_, Session>(
        "INSERT INTO sessions (id, digest, user_id, csrf_token, address, user_agent, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '+' || ?7 || ' seconds'))
         RETURNING id, address, user_agent, created_at, expires_at",
    )
    .bind(&id)
    .bind(&digest(&token)[..])
    .bind(user_id)
    .bind(&csrf_token)
    .bind(address)
    .bind(&user_agent)
    .bind(ttl_secs.max(1) as i64)
    .fetch_one(pool)
    .await?;
    Ok(Opened {
        session,
        token,
        csrf_token,
    })
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    csrf_token: String,
    user_id: String,
    name: String,
    role: String,
}

/// A session `s` of user `u` is live: not ended, not expired, its user
/// enabled. One rule for sign-in and for credentials held open.
macro_rules! session_live {
    () => {
        "s.revoked_at IS NULL AND u.disabled = 0
         AND s.expires_at > strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
    };
}

/// The caller a session cookie stands for, if the session is live.
pub async fn authenticate(
    pool: &SqlitePool,
    token: &str,
    address: &str,
) -> Result<Option<Identity>, Error> {
    let row: Option<Row> = sqlx::query_as(concat!(
        "SELECT s.id, s.csrf_token, u.id AS user_id, u.name, u.role
             FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.digest = ?1 AND ",
        session_live!()
    ))
    .bind(&digest(token)[..])
    .fetch_optional(pool)
    .await?;
    Ok(row.and_then(|r| {
        Some(Identity {
            role: Role::parse(&r.role)?,
            user_id: r.user_id,
            name: r.name,
            via: Via::Session {
                id: r.id,
                csrf_token: r.csrf_token,
            },
            address: address.to_string(),
        })
    }))
}

/// The role of the session's user while the session is live (not ended or
/// expired, its user enabled); for credentials held open, like a WebSocket.
pub async fn live_role(pool: &SqlitePool, id: &str) -> Result<Option<String>, Error> {
    Ok(sqlx::query_scalar(concat!(
        "SELECT u.role FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = ?1 AND ",
        session_live!()
    ))
    .bind(id)
    .fetch_optional(pool)
    .await?)
}

/// The user's live sessions, newest first.
pub async fn list(pool: &SqlitePool, user_id: &str) -> Result<Vec<Session>, Error> {
    Ok(sqlx::query_as(
        "SELECT id, address, user_agent, created_at, expires_at FROM sessions
         WHERE user_id = ?1 AND revoked_at IS NULL
           AND expires_at > strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
         ORDER BY id DESC LIMIT 200",
    )
    .bind(user_id)
    .fetch_all(pool)
    .await?)
}

/// Ends one of `user_id`'s sessions; false if it names none of theirs.
pub async fn revoke(pool: &SqlitePool, user_id: &str, id: &str) -> Result<bool, Error> {
    let done = sqlx::query(
        "UPDATE sessions SET revoked_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
         WHERE id = ?1 AND user_id = ?2 AND revoked_at IS NULL",
    )
    .bind(id)
    .bind(user_id)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Ends every session of the user (disabled, password changed).
pub async fn revoke_all<'e, E>(db: E, user_id: &str) -> Result<(), Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Sqlite>,
{
    sqlx::query(
        "UPDATE sessions SET revoked_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
         WHERE user_id = ?1 AND revoked_at IS NULL",
    )
    .bind(user_id)
    .execute(db)
    .await?;
    Ok(())
}

/// The session token from the request's cookies.
pub fn token_from(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| {
            let (name, value) = c.trim().split_once('=')?;
            (name == COOKIE && !value.is_empty()).then_some(value)
        })
}

/// `Set-Cookie` for a new session (Secure when served over TLS).
pub fn cookie(token: &str, ttl_secs: u64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={ttl_secs}{secure}"
    ))
    .expect("a base64url token is a valid header value")
}

/// `Set-Cookie` that removes the session cookie.
pub fn clear_cookie(secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}"
    ))
    .expect("a static cookie is a valid header value")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_token_is_found_among_other_cookies() {
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; bacopilot_session=tok; b=2"),
        );
        assert_eq!(token_from(&h), Some("tok"));
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            HeaderValue::from_static("bacopilot_sessionx=no"),
        );
        assert_eq!(token_from(&h), None);
    }

    #[test]
    fn the_cookie_is_httponly_strict_and_secure_only_over_tls() {
        let c = cookie("t", 60, false);
        let c = c.to_str().unwrap();
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Strict") && !c.contains("Secure"));
        assert!(cookie("t", 60, true)
            .to_str()
            .unwrap()
            .ends_with("; Secure"));
    }
}
