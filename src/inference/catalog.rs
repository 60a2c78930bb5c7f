//! Operator commands over the models directory: `models list` (validating each
//! file without loading it) and `models pull` (hf-hub, only when asked).

use anyhow::{anyhow, bail, Context};

use super::gguf_check;
use super::registry::{discover, ModelKind};
use crate::config::Config;

pub fn print_list(config: &Config) -> anyhow::Result<()> {
    let dir = &config.models.dir;
    let found = discover(dir)
        .with_context(|| format!("cannot read the models directory {}", dir.display()))?;
    if found.is_empty() {
        println!(
            "no models in {}; run scripts/fetch-models.sh",
            dir.display()
        );
    }
    println!(
        "{:<40} {:<10} {:<10} {:>9}  status",
        "id", "kind", "arch", "MiB"
    );
    for c in found {
        let default = [&config.models.chat, &config.models.embedding].contains(&&c.id);
        let mark = if default { " (default)" } else { "" };
        match c.kind {
            ModelKind::Chat => match gguf_check::validate(&c.path) {
                Ok(info) => println!(
                    "{:<40} {:<10} {:<10} {:>9}  ok{mark}",
                    c.id,
                    "chat",
                    info.architecture,
                    info.file_size >> 20
                ),
                Err(e) => println!(
                    "{:<40} {:<10} {:<10} {:>9}  refused: {e}",
                    c.id, "chat", "-", "-"
                ),
            },
            ModelKind::Embedding => {
                let size =
                    std::fs::metadata(c.path.join("model.safetensors")).map_or(0, |m| m.len());
                println!(
                    "{:<40} {:<10} {:<10} {:>9}  ok{mark}",
                    c.id,
                    "embedding",
                    "bert",
                    size >> 20
                );
            }
        }
    }
    let mut aliases: Vec<_> = config.models.aliases.iter().collect();
    aliases.sort();
    for (alias, target) in aliases {
        println!("alias {alias} -> {target}");
    }
    Ok(())
}

/// Downloads `file` (or the repository's first Q4_K_M GGUF) into the models
/// directory and validates it; an invalid download is removed.
pub fn pull(config: &Config, repo: &str, file: Option<&str>) -> anyhow::Result<()> {
    let api = hf_hub::api::sync::ApiBuilder::from_env()
        .with_progress(true)
        .build()
        .context("cannot set up the hub client")?;
    let remote = api.model(repo.to_string());
    let offline = |e: hf_hub::api::sync::ApiError| {
        anyhow!("cannot reach the model hub for `{repo}` ({e}); this machine may be offline. Copy the GGUF into {} instead, or set HF_ENDPOINT to a mirror", config.models.dir.display())
    };
    let file = match file {
        Some(f) => f.to_string(),
        None => {
            let info = remote.info().map_err(offline)?;
            let ggufs: Vec<String> = info
                .siblings
                .into_iter()
                .map(|s| s.rfilename)
                .filter(|f| f.ends_with(".gguf"))
                .collect();
            ggufs
                .iter()
                .find(|f| f.to_lowercase().contains("q4_k_m"))
                .or_else(|| ggufs.first())
                .cloned()
                .ok_or_else(|| anyhow!("`{repo}` has no .gguf file; name one with --file"))?
        }
    };
    if !file.ends_with(".gguf") {
        bail!("`{file}` is not a .gguf file");
    }
    let cached = remote.get(&file).map_err(offline)?;
    let name = std::path::Path::new(&file)
        .file_name()
        .ok_or_else(|| anyhow!("bad file name `{file}`"))?;
    std::fs::create_dir_all(&config.models.dir)?;
    let dest = config.models.dir.join(name);
    std::fs::copy(&cached, &dest).with_context(|| format!("cannot write {}", dest.display()))?;
    match gguf_check::validate(&dest) {
        Ok(info) => {
            println!(
                "{} ({}, {} MiB) is ready; restart the server to serve it",
                super::registry::model_id(&dest),
                info.architecture,
                info.file_size >> 20
            );
            Ok(())
        }
        Err(e) => {
            let _ = std::fs::remove_file(&dest);
            Err(anyhow!("downloaded file refused: {e}"))
        }
    }
}
