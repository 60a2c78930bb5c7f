//! Operator commands over the models directory: `models list` (validating each
//! file without loading it) and `models pull` (the hub, only when asked).

pub(crate) mod pull;

use anyhow::Context;

pub use pull::pull;

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
