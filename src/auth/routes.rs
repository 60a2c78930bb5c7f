//! `/api/v1/auth/*` (sign in and out, who am I, sessions, first
//! administrator), `/api/v1/users` (administrators) and `/api/v1/keys`.

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::keys::{ApiKey, CreatedKey, NewKey};
use super::sessions::{self, Session};
use super::users::{self, NewUser, User, UserChanges};
use super::{Action, Identity, Scope, Via};
use crate::app::AppState;
use crate::audit::{self, Actor};
use crate::http::extract::ApiJson;
use crate::http::listen::ClientAddr;
use crate::http::routes::Routes;
use crate::http::AppError;
use crate::store::{Cursor, Page};
use utoipa_axum::routes;

pub fn router() -> Routes {
    Routes::new()
        .api(routes!(login))
        .api(routes!(setup))
        .api(routes!(logout))
        .api(routes!(me))
        .api(routes!(list_sessions))
        .api(routes!(end_session))
        .api(routes!(list_users, create_user))
        .api(routes!(update_user))
        .api(routes!(list_keys, create_key))
        .api(routes!(revoke_key))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Login {
    pub name: String,
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Setup {
    /// The token of the setup link the server printed at start-up.
    pub token: String,
    pub name: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub user: Profile,
    /// `session` or `key`.
    pub via: &'static str,
    /// Echo as `X-CSRF-Token` on state-changing requests (sessions only).
    pub csrf_token: Option<String>,
    pub session_id: Option<String>,
    pub expires_at: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Profile {
    pub id: String,
    pub name: String,
    pub role: String,
}

/// Opens a session for `user`: the JSON answer and its cookie.
async fn signed_in(
    s: &AppState,
    user: User,
    address: &str,
    headers: &HeaderMap,
    status: StatusCode,
) -> Result<Response, AppError> {
    let ttl = s.config.auth.session_ttl_secs;
    let agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let opened = sessions::open(&s.store.pool, &user.id, ttl, address, agent).await?;
    let me = Me {
        user: Profile {
            id: user.id,
            name: user.name,
            role: user.role,
        },
        via: "session",
        csrf_token: Some(opened.csrf_token),
        session_id: Some(opened.session.id),
        expires_at: Some(opened.session.expires_at),
    };
    let cookie = sessions::cookie(&opened.token, ttl, s.config.server.tls());
    Ok((status, [(header::SET_COOKIE, cookie)], Json(me)).into_response())
}

/// Signs in with a name and password; sets the session cookie.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = Login,
    responses((status = 200, body = Me), (status = 401), (status = 429)))]
pub async fn login(
    State(s): State<AppState>,
    ClientAddr(address): ClientAddr,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Login>,
) -> Result<Response, AppError> {
    crate::http::guard::authenticate::check_same_site(&headers)?;
    // No account has such a name or a longer password: refused before
    // either becomes a throttle key, an Argon2 input or an audit row.
    users::check_name(&body.name)?;
    if body.password.chars().count() > super::password::MAX_CHARS {
        return Err(AppError::invalid("password", "The password is too long"));
    }
    let pool = &s.store.pool;
    let attempt = s
        .auth
        .logins
        .reserve(&body.name, &address)
        .map_err(|wait| {
            let secs = wait.as_secs().max(1);
            AppError::RateLimited {
                retry_after: secs,
                message: format!("Too many failed sign-ins; try again in {secs} s"),
            }
        })?;
    let checked = users::check_password(pool, &s.auth.passwords, &body.name, &body.password).await;
    if checked.is_ok() {
        s.metrics.password_verified();
    }
    let user = match checked {
        Ok(Some(user)) => user,
        Ok(None) => {
            let actor = Actor {
                name: None,
                address: &address,
            };
            audit::record(
                pool,
                actor,
                "auth.login_failed",
                Some(&body.name),
                json!({}),
            )
            .await;
            return Err(AppError::Unauthorized("Wrong user name or password".into()));
        }
        Err(e) => {
            // Busy or a database error: no password was judged.
            s.auth.logins.release(attempt);
            return Err(e.into());
        }
    };
    s.auth.logins.succeeded(attempt);
    let actor = Actor {
        name: Some(&user.name),
        address: &address,
    };
    audit::record(pool, actor, "auth.login", Some(&user.id), json!({})).await;
    signed_in(&s, user, &address, &headers, StatusCode::OK).await
}

/// Creates the first administrator with the one-time setup token, and signs in.
#[utoipa::path(post, path = "/api/v1/auth/setup", tag = "auth", request_body = Setup,
    responses((status = 201, body = Me), (status = 403), (status = 409)))]
pub async fn setup(
    State(s): State<AppState>,
    ClientAddr(address): ClientAddr,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Setup>,
) -> Result<Response, AppError> {
    crate::http::guard::authenticate::check_same_site(&headers)?;
    let pool = &s.store.pool;
    if users::count(pool).await? > 0 {
        return Err(AppError::Conflict(
            "An administrator already exists; sign in instead".into(),
        ));
    }
    // A bad name or password is refused before the one-time link is spent.
    users::check_name(&body.name)?;
    super::password::check_policy(&body.password)?;
    if !s.auth.take_setup_token(&body.token) {
        return Err(AppError::Forbidden(
            "This setup link is not valid (it works once, until the server restarts)".into(),
        ));
    }
    let user = users::create_first_admin(pool, &body.name, body.password).await?;
    let actor = Actor {
        name: Some(&user.name),
        address: &address,
    };
    audit::record(
        pool,
        actor,
        "user.create",
        Some(&user.id),
        json!({"name": user.name, "role": "admin", "via": "setup link"}),
    )
    .await;
    signed_in(&s, user, &address, &headers, StatusCode::CREATED).await
}

/// Ends the current session and clears its cookie.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", responses((status = 204)))]
pub async fn logout(State(s): State<AppState>, who: Identity) -> Result<Response, AppError> {
    if let Via::Session { id, .. } = &who.via {
        sessions::revoke(&s.store.pool, &who.user_id, id).await?;
        audit::record(
            &s.store.pool,
            Actor::from(&who),
            "auth.logout",
            Some(id),
            json!({}),
        )
        .await;
    }
    Ok((
        StatusCode::NO_CONTENT,
        [(
            header::SET_COOKIE,
            sessions::clear_cookie(s.config.server.tls()),
        )],
    )
        .into_response())
}

/// The caller, and for a session its CSRF token.
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth", responses((status = 200, body = Me), (status = 401)))]
pub async fn me(who: Identity) -> Json<Me> {
    let (via, csrf_token, session_id) = match who.via {
        Via::Session { id, csrf_token } => ("session", Some(csrf_token), Some(id)),
        Via::Key { .. } => ("key", None, None),
    };
    Json(Me {
        user: Profile {
            id: who.user_id,
            name: who.name,
            role: who.role.as_str().to_string(),
        },
        via,
        csrf_token,
        session_id,
        expires_at: None,
    })
}

/// The caller's live sessions.
#[utoipa::path(get, path = "/api/v1/auth/sessions", tag = "auth", responses((status = 200, body = Page<Session>)))]
pub async fn list_sessions(
    State(s): State<AppState>,
    who: Identity,
) -> Result<Json<Page<Session>>, AppError> {
    Ok(Json(Page::all(
        sessions::list(&s.store.pool, &who.user_id).await?,
    )))
}

/// Ends one of the caller's sessions (another browser, a lost laptop).
#[utoipa::path(delete, path = "/api/v1/auth/sessions/{id}", params(("id" = String, Path)), tag = "auth",
    responses((status = 204), (status = 404)))]
pub async fn end_session(
    State(s): State<AppState>,
    who: Identity,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    if !sessions::revoke(&s.store.pool, &who.user_id, &id).await? {
        return Err(AppError::NotFound(format!("No session with id `{id}`")));
    }
    audit::record(
        &s.store.pool,
        Actor::from(&who),
        "auth.session_revoke",
        Some(&id),
        json!({}),
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

/// Every user, by name (administrators).
#[utoipa::path(get, path = "/api/v1/users", tag = "users", params(Cursor),
    responses((status = 200, body = Page<User>), (status = 403)))]
pub async fn list_users(
    State(s): State<AppState>,
    who: Identity,
    Query(c): Query<Cursor>,
) -> Result<Json<Page<User>>, AppError> {
    who.require(Action::ManageUsers)?;
    let rows = users::list(&s.store.pool, c.after(), c.limit()).await?;
    Ok(Json(Page::from_rows(rows, c.limit(), |u| &u.name)))
}

#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = NewUser,
    responses((status = 201, body = User), (status = 400), (status = 403), (status = 409)))]
pub async fn create_user(
    State(s): State<AppState>,
    who: Identity,
    ApiJson(body): ApiJson<NewUser>,
) -> Result<(StatusCode, Json<User>), AppError> {
    who.require(Action::ManageUsers)?;
    let user = users::create(&s.store.pool, body).await?;
    audit::record(
        &s.store.pool,
        Actor::from(&who),
        "user.create",
        Some(&user.id),
        json!({"name": user.name, "role": user.role}),
    )
    .await;
    Ok((StatusCode::CREATED, Json(user)))
}

/// Changes a user's role, disables or enables them, or sets a new password.
#[utoipa::path(patch, path = "/api/v1/users/{uid}", params(("uid" = String, Path)), tag = "users", request_body = UserChanges,
    responses((status = 200, body = User), (status = 403), (status = 404), (status = 409)))]
pub async fn update_user(
    State(s): State<AppState>,
    who: Identity,
    Path(uid): Path<String>,
    ApiJson(body): ApiJson<UserChanges>,
) -> Result<Json<User>, AppError> {
    who.require(Action::ManageUsers)?;
    let pool = &s.store.pool;
    let before = users::get(pool, &uid).await?;
    let new_password = body.password.is_some();
    let user = users::update(pool, &uid, body).await?;
    let actor = || Actor::from(&who);
    if before.role != user.role {
        audit::record(
            pool,
            actor(),
            "user.role_change",
            Some(&uid),
            json!({"name": user.name, "from": before.role, "to": user.role}),
        )
        .await;
    }
    if before.disabled != user.disabled {
        let action = if user.disabled {
            "user.disable"
        } else {
            "user.enable"
        };
        audit::record(
            pool,
            actor(),
            action,
            Some(&uid),
            json!({"name": user.name}),
        )
        .await;
    }
    if new_password {
        audit::record(
            pool,
            actor(),
            "user.password_change",
            Some(&uid),
            json!({"name": user.name}),
        )
        .await;
    }
    Ok(Json(user))
}

/// The caller's API keys; administrators see everyone's.
#[utoipa::path(get, path = "/api/v1/keys", tag = "keys", params(Cursor), responses((status = 200, body = Page<ApiKey>)))]
pub async fn list_keys(
    State(s): State<AppState>,
    who: Identity,
    Query(c): Query<Cursor>,
) -> Result<Json<Page<ApiKey>>, AppError> {
    let owner = (!who.may(Action::ManageAllKeys)).then_some(who.user_id.as_str());
    let rows = super::keys::list(&s.store.pool, owner, c.after(), c.limit()).await?;
    Ok(Json(Page::from_rows(rows, c.limit(), |k| &k.id)))
}

/// Creates an API key for the caller; the key is in this answer only.
#[utoipa::path(post, path = "/api/v1/keys", tag = "keys", request_body = NewKey,
    responses((status = 201, body = CreatedKey), (status = 400)))]
pub async fn create_key(
    State(s): State<AppState>,
    who: Identity,
    ApiJson(body): ApiJson<NewKey>,
) -> Result<(StatusCode, Json<CreatedKey>), AppError> {
    who.require(Action::OwnAccount)?;
    let scope = match body.scope.as_deref() {
        None => Scope::Inference,
        Some(v) => Scope::parse(v).ok_or_else(|| {
            AppError::invalid(
                "scope",
                "`scope` must be `inference`, `local`, `full` or `metrics`",
            )
        })?,
    };
    let created = super::keys::create(
        &s.store.pool,
        &who.user_id,
        &body.name,
        scope,
        body.expires_in_days,
    )
    .await?;
    let r = &created.record;
    audit::record(
        &s.store.pool,
        Actor::from(&who),
        "key.create",
        Some(&r.id),
        json!({"name": r.name, "scope": r.scope, "expires_at": r.expires_at, "user": r.user_name}),
    )
    .await;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Revokes a key: the caller's own, or any for administrators (404 for
/// another user's key otherwise).
#[utoipa::path(delete, path = "/api/v1/keys/{id}", params(("id" = String, Path)), tag = "keys",
    responses((status = 204), (status = 404)))]
pub async fn revoke_key(
    State(s): State<AppState>,
    who: Identity,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    let pool = &s.store.pool;
    let key = super::keys::get(pool, &id).await?;
    if key.user_id != who.user_id && !who.may(Action::ManageAllKeys) {
        return Err(AppError::NotFound(format!("No API key with id `{id}`")));
    }
    let key = super::keys::revoke(pool, &id).await?;
    audit::record(
        pool,
        Actor::from(&who),
        "key.revoke",
        Some(&id),
        json!({"name": key.name, "user": key.user_name}),
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}
