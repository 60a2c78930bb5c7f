//! User accounts. Users are disabled, never deleted, so the audit log's names
//! keep meaning something.

use serde::{Deserialize, Serialize};
use sqlx::SqlitePool;
use utoipa::ToSchema;

use super::{password, sessions, Error, Role};
use crate::store::Invalid;

#[derive(Debug, Clone, Serialize, sqlx::FromRow, ToSchema)]
pub struct User {
    pub id: String,
    pub name: String,
    pub role: String,
    pub disabled: bool,
    pub created_at: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub name: String,
    pub role: Role,
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserChanges {
    pub role: Option<Role>,
    pub disabled: Option<bool>,
    pub password: Option<String>,
}

const SELECT: &str = "SELECT id, name, role, disabled, created_at FROM users";

pub async fn get(pool: &SqlitePool, id: &str) -> Result<User, Error> {
    Ok(crate::store::by_id(pool, &format!("{SELECT} WHERE id = ?1"), "user", id).await?)
}

pub async fn by_name(pool: &SqlitePool, name: &str) -> Result<Option<User>, Error> {
    Ok(sqlx::query_as(&format!("{SELECT} WHERE name = ?1"))
        .bind(name)
        .fetch_optional(pool)
        .await?)
}

/// The user named `name`, or not found (a 404).
pub async fn named(pool: &SqlitePool, name: &str) -> Result<User, Error> {
    by_name(pool, name)
        .await?
        .ok_or_else(|| crate::store::Error::NotFound(format!("No user named `{name}`")).into())
}

pub async fn count(pool: &SqlitePool) -> Result<i64, Error> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(pool)
        .await?)
}

/// The longest user name, in characters.
pub const MAX_NAME_CHARS: usize = 64;

/// [`Invalid`] (a 400) unless `name` is 1–64 letters, digits, `.`, `_`, `-` or `@`.
pub fn check_name(name: &str) -> Result<(), Invalid> {
    let ok = !name.is_empty()
        && name.chars().count() <= MAX_NAME_CHARS
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if ok {
        Ok(())
    } else {
        Err(Invalid::new(
            "name",
            "A user name is 1 to 64 letters, digits, `.`, `_`, `-` or `@`",
        ))
    }
}

pub async fn create(pool: &SqlitePool, new: NewUser) -> Result<User, Error> {
    check_name(&new.name)?;
    password::check_policy(&new.password)?;
    let hash = password::hash_async(new.password).await?;
    let id = crate::store::new_id();
    let inserted = sqlx::query(
        "INSERT INTO users (id, name, role, password_hash) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (name) DO NOTHING",
    )
    .bind(&id)
    .bind(&new.name)
    .bind(new.role.as_str())
    .bind(&hash)
    .execute(pool)
    .await?;
    if inserted.rows_affected() == 0 {
        return Err(Error::Conflict(format!(
            "A user named `{}` already exists",
            new.name
        )));
    }
    get(pool, &id).await
}

/// The first administrator, only while there are no users at all.
pub async fn create_first_admin(
    pool: &SqlitePool,
    name: &str,
    password: String,
) -> Result<User, Error> {
    check_name(name)?;
    password::check_policy(&password)?;
    let hash = password::hash_async(password).await?;
    let id = crate::store::new_id();
    let inserted = sqlx::query(
        "INSERT INTO users (id, name, role, password_hash)
         SELECT ?1, ?2, 'admin', ?3 WHERE NOT EXISTS (SELECT 1 FROM users)",
    )
    .bind(&id)
    .bind(name)
    .bind(&hash)
    .execute(pool)
    .await?;
    if inserted.rows_affected() == 0 {
        return Err(Error::Conflict(
            "An administrator already exists; sign in instead".into(),
        ));
    }
    get(pool, &id).await
}

/// The user whose name and password these are, if enabled (blocking work
/// runs off the async threads; unknown names cost as much as known ones).
pub async fn check_password(
    pool: &SqlitePool,
    verifier: &password::Verifier,
    name: &str,
    password: &str,
) -> Result<Option<User>, Error> {
    let row: Option<(String, String)> =
        sqlx::query_as("SELECT id, password_hash FROM users WHERE name = ?1 AND disabled = 0")
            .bind(name)
            .fetch_optional(pool)
            .await?;
    let (id, hash) = row.unwrap_or_default();
    let hash = if id.is_empty() {
        password::DECOY.clone()
    } else {
        hash
    };
    let ok = verifier.verify(password.to_string(), hash).await?;
    if ok && !id.is_empty() {
        Ok(Some(get(pool, &id).await?))
    } else {
        Ok(None)
    }
}

pub async fn list(pool: &SqlitePool, after: &str, limit: i64) -> Result<Vec<User>, Error> {
    Ok(sqlx::query_as(&format!(
        "{SELECT} WHERE (?1 = '' OR name > ?1) ORDER BY name LIMIT ?2"
    ))
    .bind(after)
    .bind(limit + 1)
    .fetch_all(pool)
    .await?)
}

/// Applies `changes`; disabling or a new password ends the user's sessions.
/// Refuses to leave the server without an enabled administrator.
pub async fn update(pool: &SqlitePool, id: &str, changes: UserChanges) -> Result<User, Error> {
    let current = get(pool, id).await?;
    if let Some(p) = &changes.password {
        password::check_policy(p)?;
    }
    let hash = match changes.password {
        Some(p) => Some(password::hash_async(p).await?),
        None => None,
    };
    let role = changes
        .role
        .map_or(current.role.clone(), |r| r.as_str().to_string());
    let disabled = changes.disabled.unwrap_or(current.disabled);
    let mut tx = crate::store::write_tx(pool).await?;
    sqlx::query(
        "UPDATE users SET role = ?2, disabled = ?3, password_hash = COALESCE(?4, password_hash)
         WHERE id = ?1",
    )
    .bind(id)
    .bind(&role)
    .bind(disabled)
    .bind(&hash)
    .execute(&mut *tx)
    .await?;
    let admins: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled = 0")
            .fetch_one(&mut *tx)
            .await?;
    if admins == 0 {
        return Err(Error::Conflict(
            "This would leave no enabled administrator".into(),
        ));
    }
    if disabled || hash.is_some() {
        sessions::revoke_all(&mut *tx, id).await?;
    }
    tx.commit().await?;
    get(pool, id).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_names_are_plain_words() {
        for ok in ["alice", "bob.smith", "c_d-e", "ana@corp", "Zoë"] {
            assert!(check_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a b", "x/y", "<script>", "a\u{202e}b", &"x".repeat(65)] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }
}
