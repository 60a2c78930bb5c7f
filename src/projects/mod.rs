//! Projects: the workspace a business analyst fills with a client's documents,
//! conversations, SRS documents and wireframes.

pub mod routes;

use serde::{Deserialize, Serialize};
use sqlx::SqlitePool;
use utoipa::ToSchema;

use crate::auth::{Action, Denied, Identity};

/// Why a project could not be found, used or changed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Store(#[from] crate::store::Error),
    #[error(transparent)]
    Denied(#[from] Denied),
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        Error::Store(e.into())
    }
}

fn not_found(what: &str, id: &str) -> Error {
    Error::Store(crate::store::Error::NotFound(format!(
        "No {what} with id `{id}`"
    )))
}

/// What a request needs of a project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    Read,
    Write,
    Manage,
}

/// Checks that `who` may use project `pid` for `need`. A project the caller
/// is not a member of does not exist for them (404, never 403), so ids from
/// other teams reveal nothing; a member without the right gets 403.
pub async fn access(pool: &SqlitePool, who: &Identity, pid: &str, need: Need) -> Result<(), Error> {
    if who.may(Action::AnyProject) {
        ensure(pool, pid).await?;
    } else {
        let sql = "SELECT project_id FROM project_members WHERE project_id = ?1 AND user_id = ?2";
        let member = crate::store::is_id(pid)
            && sqlx::query_scalar::<_, String>(sql)
                .bind(pid)
                .bind(&who.user_id)
                .fetch_optional(pool)
                .await?
                .is_some();
        if !member {
            return Err(not_found("project", pid));
        }
    }
    Ok(who.require(match need {
        Need::Read => Action::ReadProject,
        Need::Write => Action::WriteProject,
        Need::Manage => Action::ManageProject,
    })?)
}

/// [`access`] for a thing inside project `pid` (a document, a conversation,
/// an SRS document…): a caller who may not see the project gets the thing's
/// own 404, `No {what} with id `{id}``, so its id tells them nothing.
pub async fn access_within(
    pool: &SqlitePool,
    who: &Identity,
    pid: &str,
    need: Need,
    what: &str,
    id: &str,
) -> Result<(), Error> {
    match access(pool, who, pid, need).await {
        Err(Error::Store(crate::store::Error::NotFound(_))) => Err(not_found(what, id)),
        other => other,
    }
}

/// A project member as listed.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, ToSchema)]
pub struct Member {
    pub user_id: String,
    pub name: String,
    pub role: String,
    pub added_at: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMember {
    /// The user's name.
    pub name: String,
}

/// The project's members by name, or only the user `only`.
pub async fn members(
    pool: &SqlitePool,
    pid: &str,
    only: Option<&str>,
) -> Result<Vec<Member>, Error> {
    Ok(sqlx::query_as(
        "SELECT u.id AS user_id, u.name, u.role, m.added_at FROM project_members m
         JOIN users u ON u.id = m.user_id
         WHERE m.project_id = ?1 AND (?2 IS NULL OR m.user_id = ?2) ORDER BY u.name",
    )
    .bind(pid)
    .bind(only)
    .fetch_all(pool)
    .await?)
}

/// Makes `user_id` a member (again: adding twice is not an error).
pub async fn add_member<'e, E>(db: E, pid: &str, user_id: &str) -> Result<(), Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Sqlite>,
{
    sqlx::query(
        "INSERT INTO project_members (project_id, user_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
    )
    .bind(pid)
    .bind(user_id)
    .execute(db)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, ToSchema)]
pub struct Project {
    pub id: String,
    pub name: String,
    pub description: String,
    /// `local_only` (the default: only our engine is ever called for this
    /// project) or `upstream` (also the providers in `providers`).
    pub data_policy: String,
    #[schema(value_type = Vec<String>)]
    pub providers: sqlx::types::Json<Vec<String>>,
    /// Days a conversation is kept after its last message; `null` follows
    /// `[retention] conversations_days`, 0 keeps them.
    pub retention_days: Option<i64>,
    pub document_count: i64,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProject {
    pub name: String,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectChanges {
    pub name: Option<String>,
    pub description: Option<String>,
    /// `local_only` or `upstream`; administrators only.
    pub data_policy: Option<String>,
    /// With `upstream`: the providers (by name) this project may use.
    pub providers: Option<Vec<String>>,
    /// Days conversations are kept (0: always); `null` returns to the global
    /// `[retention] conversations_days`. Administrators only.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<u32>)]
    pub retention_days: Option<Option<u32>>,
}

/// A field that is present, `null` included, as `Some` (absent stays `None`).
fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

/// `role`'s chain for a job or request in project `pid` started by `user`,
/// cut to what the project's data policy allows.
pub async fn route(
    generation: &std::sync::Arc<crate::generation::Generator>,
    pool: &SqlitePool,
    pid: &str,
    user: &str,
    role: crate::generation::Role,
) -> Result<crate::generation::route::Route, crate::generation::Error> {
    // The project exists (the caller checked access): a failure here is the database's.
    let allowed = allowed(pool, pid)
        .await
        .map_err(|e| crate::generation::Error::Internal(format!("data policy: {e}")))?;
    let caller = crate::generation::route::Caller {
        user: user.to_string(),
        address: "job".into(),
        project: Some(pid.to_string()),
        role: role.name(),
    };
    generation.route(role, &allowed, caller).await
}

/// The providers a project's work may reach besides our engine.
pub async fn allowed(
    pool: &SqlitePool,
    pid: &str,
) -> Result<crate::generation::route::Allowed, Error> {
    use crate::generation::route::Allowed;
    let (policy, providers): (String, sqlx::types::Json<Vec<String>>) = crate::store::by_id(
        pool,
        "SELECT data_policy, providers FROM projects WHERE id = ?1",
        "project",
        pid,
    )
    .await?;
    Ok(match policy.as_str() {
        "upstream" => Allowed::Providers(providers.0),
        _ => Allowed::LocalOnly,
    })
}

const SELECT: &str = "SELECT p.id, p.name, p.description, p.data_policy, p.providers,
    p.retention_days, p.created_at, p.updated_at,
    (SELECT COUNT(*) FROM documents d WHERE d.project_id = p.id) AS document_count
    FROM projects p";

/// The project, or 404 when the id does not name one.
pub async fn get(pool: &SqlitePool, id: &str) -> Result<Project, Error> {
    Ok(crate::store::by_id(pool, &format!("{SELECT} WHERE p.id = ?1"), "project", id).await?)
}

/// 404 unless the project exists; for routes nested under a project.
pub async fn ensure(pool: &SqlitePool, id: &str) -> Result<(), Error> {
    let sql = "SELECT id FROM projects WHERE id = ?1";
    crate::store::by_id::<(String,)>(pool, sql, "project", id).await?;
    Ok(())
}

/// The projects `who` can see, newest first.
pub async fn list(
    pool: &SqlitePool,
    who: &Identity,
    after: &str,
    limit: i64,
) -> Result<Vec<Project>, Error> {
    let member_of = (!who.may(Action::AnyProject)).then_some(who.user_id.as_str());
    Ok(sqlx::query_as::<_, Project>(&format!(
        "{SELECT} WHERE (?1 = '' OR p.id < ?1)
           AND (?3 IS NULL OR EXISTS (SELECT 1 FROM project_members m
                                      WHERE m.project_id = p.id AND m.user_id = ?3))
         ORDER BY p.id DESC LIMIT ?2"
    ))
    .bind(after)
    .bind(limit + 1)
    .bind(member_of)
    .fetch_all(pool)
    .await?)
}
