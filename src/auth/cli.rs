//! `bacopilot users|keys|audit`: account administration from the shell,
//! safe while the server runs (SQLite in WAL mode; every check the server
//! makes reads the database, so a change takes effect on the next request).

use std::io::BufRead;
use std::path::Path;

use serde_json::json;

use super::users::{self, NewUser, UserChanges};
use super::{keys, Role, Scope};
use crate::audit::{self, Actor};
use crate::store::Store;

/// The operator, as the audit log names them.
pub fn operator() -> String {
    let user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    format!("cli:{user}")
}

/// Appends an audit row for what the operator just did from this machine.
async fn as_operator(
    store: &Store,
    action: &str,
    target: Option<&str>,
    details: serde_json::Value,
) -> anyhow::Result<()> {
    let op = operator();
    let actor = Actor {
        name: Some(&op),
        address: "local",
    };
    audit::append(&store.pool, actor, action, target, details)
        .await
        .map_err(err)
}

async fn open(data_dir: &Path) -> anyhow::Result<Store> {
    std::fs::create_dir_all(data_dir)?;
    Ok(Store::open(data_dir).await?)
}

/// One line for the operator: the error's sentence, without its sources.
fn err(e: impl std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

/// Reads one line (the password) from standard input.
pub fn password_from_stdin() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

pub async fn add_user(
    data_dir: &Path,
    name: &str,
    role: Role,
    password: String,
) -> anyhow::Result<()> {
    let store = open(data_dir).await?;
    let user = users::create(
        &store.pool,
        NewUser {
            name: name.into(),
            role,
            password,
        },
    )
    .await
    .map_err(err)?;
    as_operator(
        &store,
        "user.create",
        Some(&user.id),
        json!({"name": user.name, "role": user.role}),
    )
    .await?;
    println!("created {} ({}) {}", user.name, user.role, user.id);
    Ok(())
}

pub async fn set_user(
    data_dir: &Path,
    name: &str,
    changes: UserChanges,
    action: &str,
) -> anyhow::Result<()> {
    let store = open(data_dir).await?;
    let user = users::named(&store.pool, name).await.map_err(err)?;
    let user = users::update(&store.pool, &user.id, changes)
        .await
        .map_err(err)?;
    as_operator(
        &store,
        action,
        Some(&user.id),
        json!({"name": user.name, "role": user.role}),
    )
    .await?;
    println!(
        "{} is {}{}",
        user.name,
        user.role,
        if user.disabled { ", disabled" } else { "" }
    );
    Ok(())
}

pub async fn list_users(data_dir: &Path) -> anyhow::Result<()> {
    let store = open(data_dir).await?;
    for u in users::list(&store.pool, "", i64::MAX - 1)
        .await
        .map_err(err)?
    {
        println!(
            "{}\t{}\t{}\t{}",
            u.name,
            u.role,
            if u.disabled { "disabled" } else { "enabled" },
            u.id
        );
    }
    Ok(())
}

/// Creates a key; the key itself is printed alone on the last line.
pub async fn create_key(
    data_dir: &Path,
    user: &str,
    name: &str,
    scope: Scope,
    expires_days: Option<u32>,
) -> anyhow::Result<()> {
    let store = open(data_dir).await?;
    let owner = users::named(&store.pool, user).await.map_err(err)?;
    let created = keys::create(&store.pool, &owner.id, name, scope, expires_days)
        .await
        .map_err(err)?;
    let r = &created.record;
    as_operator(
        &store,
        "key.create",
        Some(&r.id),
        json!({"name": r.name, "scope": r.scope, "expires_at": r.expires_at, "user": r.user_name}),
    )
    .await?;
    println!(
        "created key {} \"{}\" for {} (scope {}, expires {}); it is shown only now:",
        r.id,
        r.name,
        r.user_name,
        r.scope,
        r.expires_at.as_deref().unwrap_or("never")
    );
    println!("{}", created.key);
    Ok(())
}

pub async fn revoke_key(data_dir: &Path, id: &str) -> anyhow::Result<()> {
    let store = open(data_dir).await?;
    keys::get(&store.pool, id).await.map_err(err)?;
    let key = keys::revoke(&store.pool, id).await.map_err(err)?;
    as_operator(
        &store,
        "key.revoke",
        Some(id),
        json!({"name": key.name, "user": key.user_name}),
    )
    .await?;
    println!(
        "revoked key {} \"{}\" of {}",
        key.id, key.name, key.user_name
    );
    Ok(())
}

pub async fn list_keys(data_dir: &Path) -> anyhow::Result<()> {
    let store = open(data_dir).await?;
    for k in keys::list(&store.pool, None, "", i64::MAX - 1)
        .await
        .map_err(err)?
    {
        let state = if k.revoked_at.is_some() {
            "revoked"
        } else {
            "active"
        };
        println!(
            "{}\t{}\t{}\t{}\t{}\texpires {}",
            k.id,
            k.user_name,
            k.name,
            k.scope,
            state,
            k.expires_at.as_deref().unwrap_or("never")
        );
    }
    Ok(())
}

/// Checks the audit chain; an error (and a non-zero exit) names the first bad row.
pub async fn verify_audit(data_dir: &Path) -> anyhow::Result<()> {
    let store = open(data_dir).await?;
    match audit::verify(&store.pool).await? {
        Ok(n) => {
            println!("audit log intact: {n} rows, every hash and link checks out");
            verify_archives(&store, data_dir).await
        }
        Err(b) => anyhow::bail!("audit log tampered with at row {}: {}", b.seq, b.reason),
    }
}

/// Each checkpoint's archive, where it is in the data directory, must verify
/// and end on the checkpoint's hash; one kept elsewhere is named.
async fn verify_archives(store: &Store, data_dir: &Path) -> anyhow::Result<()> {
    let checkpoints: Vec<(i64, Vec<u8>, String)> =
        sqlx::query_as("SELECT seq, hash, archive FROM audit_checkpoints ORDER BY seq")
            .fetch_all(&store.pool)
            .await
            .map_err(err)?;
    for (seq, hash, name) in checkpoints {
        let file = data_dir.join("audit-archive").join(&name);
        if !file.is_file() {
            println!("archive {name} (rows up to {seq}) is not in {}; check it where it is kept with --archive", file.display());
            continue;
        }
        let (rows, last) = audit::archive::verify_archive(&file)?;
        if last != hex::encode(&hash) {
            anyhow::bail!(
                "archive {name} ends on another row than the checkpoint at {seq} records"
            );
        }
        println!("archive {name} intact: {rows} rows, ending where the live log begins");
    }
    Ok(())
}

/// Moves audit rows older than `days` into an archive file in `dir`.
pub async fn archive_audit(data_dir: &Path, days: u32, dir: &Path) -> anyhow::Result<()> {
    let store = open(data_dir).await?;
    let cutoff = crate::retention::cutoff(days);
    match audit::archive::archive_before(&store.pool, &cutoff, dir).await? {
        Some(a) => {
            as_operator(&store, "audit.archive", None, json!(a)).await?;
            println!(
                "archived audit rows {} to {} ({} rows) into {}",
                a.first_seq,
                a.last_seq,
                a.rows,
                a.file.display()
            );
        }
        None => println!("no audit rows older than {days} days to archive"),
    }
    Ok(())
}
