//! `bacopilot backup DIR [--verify]`: what the operator runs and reads.

use std::path::Path;

use anyhow::bail;

use super::{create, schedule, verify, Manifest};

/// `bacopilot backup DIR`: prints what was written.
pub async fn run(data_dir: &Path, dest: &Path, verify_only: bool) -> anyhow::Result<()> {
    if verify_only {
        let (m, problems) = verify(dest).await?;
        if !problems.is_empty() {
            bail!(
                "backup {} is damaged:\n  {}",
                dest.display(),
                problems.join("\n  ")
            );
        }
        println!(
            "backup {} verified: {} files, schema {}, written by bacopilot {} at {}",
            dest.display(),
            m.files.len(),
            m.schema_version,
            m.app_version,
            m.created_at
        );
        return Ok(());
    }
    let outcome = create(data_dir, dest).await;
    schedule::record_outcome(data_dir, dest, &outcome).await;
    let m = outcome?;
    println!("{}", summary(dest, &m));
    Ok(())
}

/// One line naming what a backup holds.
pub fn summary(dest: &Path, m: &Manifest) -> String {
    let count = |k: &str| m.counts.get(k).copied().unwrap_or(0);
    let mut line = format!(
        "backup written to {}: {} projects, {} documents, {} chunks, {} vectors, {} conversations, {} files; schema {}",
        dest.display(),
        count("projects"),
        count("documents"),
        count("chunks"),
        count("vectors"),
        count("conversations"),
        m.files.len(),
        m.schema_version
    );
    if !m.documents_missing_files.is_empty() {
        line.push_str(&format!(
            "; {} documents had no original file (deleted while the backup ran, or pruned)",
            m.documents_missing_files.len()
        ));
    }
    line
}
