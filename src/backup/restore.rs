//! `bacopilot restore DIR --data-dir EMPTY`: a verified backup copied into an
//! empty data directory, refused when it comes from a newer schema than this
//! program knows and migrated when it comes from an older one.

use std::path::Path;

use anyhow::{bail, Context};
use serde_json::json;

use super::{
    known_schema_version, verify, Manifest, AUDIT_ARCHIVE, DATABASE, FILES_DIR, LANCE_DIR,
};
use crate::audit::archive::ANCHOR;
use crate::audit::{self, Actor};
use crate::store::Store;

/// Restores `backup` into `data_dir` (absent or empty). On failure nothing
/// is left in it.
pub async fn restore(backup: &Path, data_dir: &Path) -> anyhow::Result<Manifest> {
    let (manifest, problems) = verify(backup).await?;
    if !problems.is_empty() {
        bail!(
            "backup {} is damaged; nothing was restored:\n  {}",
            backup.display(),
            problems.join("\n  ")
        );
    }
    let known = known_schema_version();
    if manifest.schema_version > known {
        bail!(
            "the backup's database schema ({}) is newer than this program's ({known}): \
             it was written by bacopilot {}; restore it with that version or newer",
            manifest.schema_version,
            manifest.app_version
        );
    }
    if data_dir.exists() {
        let occupied = std::fs::read_dir(data_dir)
            .with_context(|| format!("cannot read {}", data_dir.display()))?
            .next()
            .is_some();
        if occupied {
            bail!(
                "{} is not empty; restore into a new or empty data directory",
                data_dir.display()
            );
        }
    }
    // Written beside the target and renamed into place: a restore that is
    // killed leaves no half-filled data directory a server would start on.
    let staging = staging_name(data_dir);
    if staging.exists() {
        std::fs::remove_dir_all(&staging)
            .with_context(|| format!("cannot remove the leftover {}", staging.display()))?;
    }
    std::fs::create_dir_all(&staging)
        .with_context(|| format!("cannot create {}", staging.display()))?;
    if let Err(e) = copy_in(backup, &staging, &manifest).await {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(e);
    }
    // rename(2) replaces an empty directory; a mount point cannot be
    // replaced, so its contents are moved in instead.
    if std::fs::rename(&staging, data_dir).is_err() {
        std::fs::create_dir_all(data_dir)?;
        for entry in std::fs::read_dir(&staging)? {
            let entry = entry?;
            std::fs::rename(entry.path(), data_dir.join(entry.file_name())).with_context(|| {
                format!("cannot move the restored files into {}", data_dir.display())
            })?;
        }
        let _ = std::fs::remove_dir(&staging);
    }
    Ok(manifest)
}

/// `D` is restored as `.D.restoring` beside it.
fn staging_name(data_dir: &Path) -> std::path::PathBuf {
    let name = data_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "data".into());
    data_dir.with_file_name(format!(".{name}.restoring"))
}

async fn copy_in(backup: &Path, data_dir: &Path, manifest: &Manifest) -> anyhow::Result<()> {
    std::fs::copy(backup.join(DATABASE), data_dir.join(DATABASE))
        .context("cannot copy the database")?;
    copy_tree(&backup.join(LANCE_DIR), &data_dir.join(LANCE_DIR))
        .context("cannot copy the vector store")?;
    copy_tree(&backup.join(FILES_DIR), &data_dir.join(FILES_DIR))
        .context("cannot copy the stored files")?;
    copy_tree(&backup.join(AUDIT_ARCHIVE), &data_dir.join(AUDIT_ARCHIVE))
        .context("cannot copy the audit archive")?;
    if backup.join(ANCHOR).is_file() {
        std::fs::copy(backup.join(ANCHOR), data_dir.join(ANCHOR))
            .context("cannot copy the audit anchor")?;
    }
    // Opening migrates a snapshot from an older schema to this program's.
    let store = Store::open(data_dir).await?;
    let integrity: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&store.pool)
        .await?;
    if integrity != "ok" {
        bail!("the restored database fails its integrity check: {integrity}");
    }
    let op = crate::auth::cli::operator();
    audit::append(
        &store.pool,
        Actor {
            name: Some(&op),
            address: "local",
        },
        "backup.restore",
        None,
        json!({
            "from": backup.display().to_string(),
            "created_at": manifest.created_at,
            "schema_version": manifest.schema_version,
            "migrated_to": known_schema_version(),
        }),
    )
    .await
    .map_err(|e| anyhow::anyhow!("cannot record the restore in the audit log: {e}"))?;
    store.pool.close().await;
    Ok(())
}

pub(super) fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    if !from.is_dir() {
        return Ok(());
    }
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let dest = to.join(entry.file_name());
        if kind.is_dir() {
            copy_tree(&entry.path(), &dest)?;
        } else if kind.is_file() {
            std::fs::copy(entry.path(), dest)?;
        }
    }
    Ok(())
}

/// `bacopilot restore`: prints what was restored.
pub async fn run_cli(backup: &Path, data_dir: &Path) -> anyhow::Result<()> {
    let m = restore(backup, data_dir).await?;
    let migrated = if m.schema_version < known_schema_version() {
        format!(
            ", migrated from schema {} to {}",
            m.schema_version,
            known_schema_version()
        )
    } else {
        String::new()
    };
    println!(
        "restored {} into {} (written by bacopilot {} at {}{migrated}); start the server with --data-dir {}",
        backup.display(),
        data_dir.display(),
        m.app_version,
        m.created_at,
        data_dir.display()
    );
    Ok(())
}
