//! `models pull`: a GGUF from the Hugging Face hub into the models directory.
//!
//! The file is written under a hidden temporary name, checked against what
//! the hub says it is (the SHA-256 of its LFS object, else its size), validated
//! as a GGUF, and only then renamed into place: the models directory never
//! holds a partial or corrupt model under a name the server would load.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::inference::gguf_check::{self, GgufInfo};
use crate::inference::registry::model_id;

/// What the hub reports about one file of a repository.
#[derive(Debug, Default, Clone, PartialEq)]
pub(super) struct HubFile {
    pub name: String,
    pub size: Option<u64>,
    /// Lower-case hex; only files stored in LFS (every GGUF on the hub) have one.
    pub sha256: Option<String>,
}

/// Downloads `file` (or the repository's first Q4_K_M GGUF) into the models
/// directory and validates it; nothing is left behind when a check fails.
pub fn pull(config: &Config, repo: &str, file: Option<&str>) -> anyhow::Result<()> {
    let api = hf_hub::api::sync::ApiBuilder::from_env()
        .with_progress(true)
        .build()
        .context("cannot set up the hub client")?;
    let remote = api.model(repo.to_string());
    let offline = |e: &dyn std::fmt::Display| {
        anyhow!("cannot reach the model hub for `{repo}` ({e}); this machine may be offline. Copy the GGUF into {} instead, or set HF_ENDPOINT to a mirror", config.models.dir.display())
    };
    let listing = remote
        .info_request()
        .query("blobs", "true")
        .call()
        .map_err(|e| offline(&e))?
        .into_string()
        .map_err(|e| offline(&e))?;
    let files = hub_files(&listing).context("the hub's file list is not what was expected")?;
    let wanted = match file {
        Some(f) => f.to_string(),
        None => pick_gguf(&files)
            .ok_or_else(|| anyhow!("`{repo}` has no .gguf file; name one with --file"))?,
    };
    if !wanted.ends_with(".gguf") {
        bail!("`{wanted}` is not a .gguf file");
    }
    let expected = files
        .into_iter()
        .find(|f| f.name == wanted)
        .ok_or_else(|| anyhow!("`{repo}` has no file `{wanted}`"))?;
    let cached = remote.get(&wanted).map_err(|e| offline(&e))?;
    let name = Path::new(&wanted)
        .file_name()
        .ok_or_else(|| anyhow!("bad file name `{wanted}`"))?;
    std::fs::create_dir_all(&config.models.dir)?;
    let dest = config.models.dir.join(name);
    let info = install(&cached, &dest, &expected).with_context(|| {
        format!(
            "downloaded file refused (the hub's cached copy is {}; delete it to download again)",
            cached.display()
        )
    })?;
    println!(
        "{} ({}, {} MiB) is ready; restart the server to serve it",
        model_id(&dest),
        info.architecture,
        info.file_size >> 20
    );
    Ok(())
}

/// The files of a repository from the hub's `/api/models/{repo}?blobs=true` answer.
pub(super) fn hub_files(listing: &str) -> anyhow::Result<Vec<HubFile>> {
    let json: Value = serde_json::from_str(listing)?;
    let siblings = json["siblings"]
        .as_array()
        .ok_or_else(|| anyhow!("no `siblings` list"))?;
    Ok(siblings
        .iter()
        .filter_map(|s| {
            Some(HubFile {
                name: s["rfilename"].as_str()?.to_string(),
                size: s["lfs"]["size"].as_u64().or(s["size"].as_u64()),
                sha256: s["lfs"]["sha256"].as_str().map(str::to_ascii_lowercase),
            })
        })
        .collect())
}

/// The repository's Q4_K_M GGUF, else its first GGUF.
fn pick_gguf(files: &[HubFile]) -> Option<String> {
    let ggufs: Vec<&str> = files
        .iter()
        .map(|f| f.name.as_str())
        .filter(|f| f.ends_with(".gguf"))
        .collect();
    ggufs
        .iter()
        .find(|f| f.to_lowercase().contains("q4_k_m"))
        .or_else(|| ggufs.first())
        .map(|f| f.to_string())
}

/// Copies `src` to `dest` through a hidden temporary file beside it, which
/// becomes `dest` (an atomic rename) only once its size and SHA-256 match
/// `expected` and it validates as a GGUF. On failure the temporary file is
/// removed and `dest` is untouched.
pub(super) fn install(src: &Path, dest: &Path, expected: &HubFile) -> anyhow::Result<GgufInfo> {
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| anyhow!("bad destination {}", dest.display()))?;
    // A leading dot and no `.gguf` ending: the model scan never picks it up.
    let partial: PathBuf = dest.with_file_name(format!(".{name}.partial"));
    let result = check_into(src, &partial, &name, expected).and_then(|info| {
        std::fs::rename(&partial, dest)
            .with_context(|| format!("cannot move the download into {}", dest.display()))?;
        Ok(info)
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result
}

fn check_into(
    src: &Path,
    partial: &Path,
    name: &str,
    expected: &HubFile,
) -> anyhow::Result<GgufInfo> {
    let (size, sha256) = copy_hashing(src, partial)
        .with_context(|| format!("cannot write {}", partial.display()))?;
    if let Some(want) = expected.size.filter(|&want| want != size) {
        bail!("`{name}` is {size} bytes but the hub lists {want}");
    }
    if let Some(want) = expected.sha256.as_deref().filter(|&want| want != sha256) {
        bail!("`{name}` has SHA-256 {sha256} but the hub lists {want}");
    }
    let file = File::open(partial)?;
    Ok(gguf_check::validate_reader(name, file, size)?)
}

/// Copies `src` to `dest`, synced to disk; returns the byte count and SHA-256 (hex).
fn copy_hashing(src: &Path, dest: &Path) -> io::Result<(u64, String)> {
    let mut input = File::open(src)?;
    let mut output = File::create(dest)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = input.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        output.write_all(&buf[..n])?;
        size += n as u64;
    }
    output.sync_all()?;
    Ok((size, format!("{:x}", hasher.finalize())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inference::gguf_check::testing::GgufBuilder;

    struct Dir(PathBuf);

    impl Dir {
        fn new(tag: &str) -> Self {
            let dir =
                std::env::temp_dir().join(format!("bacopilot-pull-{tag}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            Self(dir)
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn gguf() -> Vec<u8> {
        GgufBuilder::new()
            .kv_str("general.architecture", "llama")
            .tensor_f32("token_embd.weight", &[4, 2], None)
            .build()
    }

    fn described(bytes: &[u8]) -> HubFile {
        HubFile {
            name: "m.gguf".into(),
            size: Some(bytes.len() as u64),
            sha256: Some(format!("{:x}", Sha256::digest(bytes))),
        }
    }

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_download_matching_the_hubs_hash_is_renamed_into_place() {
        let (cache, models) = (Dir::new("cache-ok"), Dir::new("models-ok"));
        std::fs::write(cache.0.join("blob"), gguf()).unwrap();
        let info = install(
            &cache.0.join("blob"),
            &models.0.join("m.gguf"),
            &described(&gguf()),
        )
        .unwrap();
        assert_eq!(info.architecture, "llama");
        assert_eq!(entries(&models.0), ["m.gguf"]);
        assert_eq!(std::fs::read(models.0.join("m.gguf")).unwrap(), gguf());
    }

    #[test]
    fn a_corrupt_download_leaves_neither_the_model_nor_a_partial_file() {
        let (cache, models) = (Dir::new("cache-bad"), Dir::new("models-bad"));
        let mut corrupt = gguf();
        *corrupt.last_mut().unwrap() ^= 1;
        std::fs::write(cache.0.join("blob"), &corrupt).unwrap();
        let err = install(
            &cache.0.join("blob"),
            &models.0.join("m.gguf"),
            &described(&gguf()),
        )
        .unwrap_err();
        assert!(err.to_string().contains("SHA-256"), "{err}");
        assert!(entries(&models.0).is_empty(), "{:?}", entries(&models.0));
    }

    #[test]
    fn a_file_of_the_listed_size_but_no_hash_must_still_be_a_valid_gguf() {
        let (cache, models) = (Dir::new("cache-junk"), Dir::new("models-junk"));
        let junk = vec![7u8; 64];
        std::fs::write(cache.0.join("blob"), &junk).unwrap();
        let expected = HubFile {
            sha256: None,
            ..described(&junk)
        };
        let err = install(&cache.0.join("blob"), &models.0.join("m.gguf"), &expected).unwrap_err();
        assert!(format!("{err:#}").contains("m.gguf"), "{err:#}");
        assert!(entries(&models.0).is_empty());
    }

    #[test]
    fn the_hub_listing_gives_each_files_lfs_hash_and_size() {
        let listing = r#"{"siblings": [
            {"rfilename": "README.md", "size": 12},
            {"rfilename": "m-Q4_K_M.gguf", "size": 99, "lfs": {"sha256": "ABC", "size": 99, "pointerSize": 130}}
        ]}"#;
        let files = hub_files(listing).unwrap();
        assert_eq!(
            files[1],
            HubFile {
                name: "m-Q4_K_M.gguf".into(),
                size: Some(99),
                sha256: Some("abc".into())
            }
        );
        assert_eq!(files[0].sha256, None);
        assert_eq!(pick_gguf(&files).as_deref(), Some("m-Q4_K_M.gguf"));
    }
}
