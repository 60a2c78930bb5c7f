//! Who is calling and what they may do: accounts with Argon2id passwords, API
//! keys, browser sessions and the one permission table. The middleware that
//! puts an [`Identity`] on every request that is not public is HTTP, in
//! `http::guard::authenticate`.

pub mod cli;
pub mod keys;
pub mod limits;
pub mod password;
pub mod routes;
pub mod sessions;
pub mod users;

use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::audit::Actor;
use crate::config::Config;
use crate::store::Invalid;

/// Why an account, a key or a session could not be made, found or checked.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Store(#[from] crate::store::Error),
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// The name is taken, or the change would leave no administrator.
    #[error("{0}")]
    Conflict(String),
    #[error("Sign-in is busy: {0}; try again")]
    Busy(#[from] password::Busy),
    /// Everything else (hashing); the detail is for the log.
    #[error("{0}")]
    Internal(String),
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        Error::Store(e.into())
    }
}

/// A role that may not do what was asked.
#[derive(Debug, thiserror::Error)]
#[error("The {} role may not do this", .0.as_str())]
pub struct Denied(pub Role);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Analyst,
    Viewer,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::Analyst, Role::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Analyst => "analyst",
            Role::Viewer => "viewer",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// Everything a role may be allowed to do. Project actions apply to projects
/// the user is a member of, unless the role also has [`Action::AnyProject`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// `/v1` (chat, completions, embeddings, models) and tokenize.
    Inference,
    /// Their own profile, sessions and API keys.
    OwnAccount,
    CreateProject,
    ReadProject,
    /// Upload and delete documents, converse, rename, generate.
    WriteProject,
    /// Add and remove members, delete the project.
    ManageProject,
    /// Every project, member or not.
    AnyProject,
    ManageUsers,
    /// Every user's API keys.
    ManageAllKeys,
    ReadAudit,
    ManageModels,
    ManageSettings,
    ReadMetrics,
}

impl Action {
    pub const ALL: [Action; 13] = [
        Action::Inference,
        Action::OwnAccount,
        Action::CreateProject,
        Action::ReadProject,
        Action::WriteProject,
        Action::ManageProject,
        Action::AnyProject,
        Action::ManageUsers,
        Action::ManageAllKeys,
        Action::ReadAudit,
        Action::ManageModels,
        Action::ManageSettings,
        Action::ReadMetrics,
    ];
}

/// The permission table: the roles that may do `action`. Every check in the
/// server goes through here.
pub const fn roles_for(action: Action) -> &'static [Role] {
    use Role::{Admin, Analyst, Viewer};
    match action {
        Action::Inference | Action::OwnAccount | Action::ReadProject => &[Admin, Analyst, Viewer],
        Action::CreateProject | Action::WriteProject | Action::ManageProject => &[Admin, Analyst],
        Action::AnyProject
        | Action::ManageUsers
        | Action::ManageAllKeys
        | Action::ReadAudit
        | Action::ManageModels
        | Action::ManageSettings
        | Action::ReadMetrics => &[Admin],
    }
}

pub fn allows(role: Role, action: Action) -> bool {
    roles_for(action).contains(&role)
}

/// What an API key may reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// `/v1` and the tokenizer utilities only.
    Inference,
    /// As `inference`, and our own engine only: never an upstream provider.
    Local,
    /// Everything the owner's role allows.
    Full,
    /// `GET /metrics` only, for a Prometheus scraper (the owner must be
    /// allowed to read metrics).
    Metrics,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Inference => "inference",
            Scope::Local => "local",
            Scope::Full => "full",
            Scope::Metrics => "metrics",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        [Scope::Inference, Scope::Local, Scope::Full, Scope::Metrics]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

/// How the caller proved who they are.
#[derive(Debug, Clone)]
pub enum Via {
    Session { id: String, csrf_token: String },
    Key { id: String, scope: Scope },
}

/// The authenticated caller, put on the request by
/// `http::guard::authenticate::authenticate`.
#[derive(Debug, Clone)]
pub struct Identity {
    pub user_id: String,
    pub name: String,
    pub role: Role,
    pub via: Via,
    /// The client's address, for the audit log.
    pub address: String,
}

impl Identity {
    pub fn may(&self, action: Action) -> bool {
        allows(self.role, action)
    }

    /// [`Denied`] (a 403) unless the role allows `action`.
    pub fn require(&self, action: Action) -> Result<(), Denied> {
        if self.may(action) {
            Ok(())
        } else {
            Err(Denied(self.role))
        }
    }
}

/// The audit log names the caller and their address.
impl<'a> From<&'a Identity> for Actor<'a> {
    fn from(who: &'a Identity) -> Self {
        Actor {
            name: Some(&who.name),
            address: &who.address,
        }
    }
}

impl Identity {
    /// The caller as their credentials stand now, with their current role;
    /// `None` once the session has ended, the key was revoked or expired, or
    /// the user was disabled. One lookup by primary key, cheap enough for
    /// every message of a long-lived connection.
    pub async fn recheck(&self, pool: &sqlx::SqlitePool) -> Result<Option<Identity>, Error> {
        let role = match &self.via {
            Via::Session { id, .. } => sessions::live_role(pool, id).await?,
            Via::Key { id, .. } => keys::live_role(pool, id).await?,
        };
        Ok(role.and_then(|r| Role::parse(&r)).map(|role| Identity {
            role,
            ..self.clone()
        }))
    }
}

/// Authentication state shared by the server: throttles, rate limits and the
/// one-time setup token.
pub struct Auth {
    pub limits: limits::RateLimiter,
    pub logins: limits::LoginThrottle,
    pub passwords: password::Verifier,
    setup_token: Mutex<Option<String>>,
}

impl Auth {
    pub fn new(config: &Config) -> Self {
        Self {
            limits: limits::RateLimiter::new(&config.limits),
            logins: limits::LoginThrottle::new(&config.auth),
            passwords: password::Verifier::for_this_machine(),
            setup_token: Mutex::new(None),
        }
    }

    /// A new setup token, valid until it is used or the server restarts.
    pub fn issue_setup_token(&self) -> String {
        let token = keys::random_token();
        *self.setup_token.lock().unwrap_or_else(|e| e.into_inner()) = Some(token.clone());
        token
    }

    /// The current setup token, if the first administrator is yet to be made.
    pub fn setup_token(&self) -> Option<String> {
        self.setup_token
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// True (and the token is spent) when `token` is the setup token.
    fn take_setup_token(&self, token: &str) -> bool {
        let mut slot = self.setup_token.lock().unwrap_or_else(|e| e.into_inner());
        let matches = slot
            .as_deref()
            .is_some_and(|t| keys::same_secret(t.as_bytes(), token.as_bytes()));
        if matches {
            *slot = None;
        }
        matches
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table written out the other way round, by role: a change to
    /// `roles_for` must be made here too, on purpose.
    fn expected(role: Role) -> &'static [Action] {
        use Action::*;
        match role {
            Role::Admin => &Action::ALL,
            Role::Analyst => &[
                Inference,
                OwnAccount,
                CreateProject,
                ReadProject,
                WriteProject,
                ManageProject,
            ],
            Role::Viewer => &[Inference, OwnAccount, ReadProject],
        }
    }

    #[test]
    fn every_role_and_action_pair_matches_the_permission_table() {
        for role in Role::ALL {
            for action in Action::ALL {
                assert_eq!(
                    allows(role, action),
                    expected(role).contains(&action),
                    "{role:?} / {action:?}"
                );
            }
        }
    }

    #[test]
    fn roles_nest_viewer_within_analyst_within_admin() {
        for action in Action::ALL {
            if allows(Role::Viewer, action) {
                assert!(allows(Role::Analyst, action), "{action:?}");
            }
            if allows(Role::Analyst, action) {
                assert!(allows(Role::Admin, action), "{action:?}");
            }
        }
    }

    #[test]
    fn roles_and_scopes_round_trip_through_their_names() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
        assert_eq!(Scope::parse("full"), Some(Scope::Full));
        assert_eq!(Scope::parse("all"), None);
    }
}
