//! A GGUF from the Hugging Face hub (or the mirror `models.hub_endpoint` or
//! `HF_ENDPOINT` names) into the models directory, for `models pull` and for
//! the administrators' pulls.
//!
//! The file streams into a hidden temporary name beside its destination,
//! hashed as it arrives; it is checked against what the hub says it is (the
//! SHA-256 of its LFS object, else its size), validated as a GGUF, and only
//! then linked into place under its own name, never over an existing file.
//! The models directory never holds a partial or corrupt model under a name
//! the server would load, whatever happens to the download or the process.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use futures::StreamExt;
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;
use tokio::sync::watch;

use crate::config::Config;
use crate::inference::gguf_check::{self, GgufInfo};
use crate::inference::registry::model_id;

/// The public hub, when neither the configuration nor `HF_ENDPOINT` names another.
const DEFAULT_HUB: &str = "https://huggingface.co";
/// A download that receives nothing for this long has failed.
const STALL: Duration = Duration::from_secs(60);

/// What the hub reports about one file of a repository.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct HubFile {
    pub name: String,
    pub size: Option<u64>,
    /// Lower-case hex; only files stored in LFS (every GGUF on the hub) have one.
    pub sha256: Option<String>,
}

/// How far a pull has gone, as it goes.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// The file is chosen: its name and, when the hub lists it, its size.
    Resolved(HubFile),
    /// Bytes received so far.
    Received(u64),
    /// Everything arrived; the hash and the GGUF header are being checked.
    Verifying,
}

/// A model the pull placed in the models directory.
#[derive(Debug, Clone)]
pub struct Installed {
    pub id: String,
    pub path: PathBuf,
    pub info: GgufInfo,
    pub sha256: String,
}

/// The hub's HTTP API: the file list of a repository and a file's bytes.
pub struct Hub {
    endpoint: String,
    token: Option<String>,
    client: reqwest::Client,
}

impl Hub {
    /// `endpoint` from the configuration; empty means `HF_ENDPOINT`, else the public hub.
    /// `HF_TOKEN` is sent when set (gated repositories).
    pub fn new(endpoint: &str) -> anyhow::Result<Self> {
        let endpoint = Some(endpoint.to_string())
            .filter(|e| !e.is_empty())
            .or_else(|| std::env::var("HF_ENDPOINT").ok().filter(|e| !e.is_empty()))
            .unwrap_or_else(|| DEFAULT_HUB.to_string());
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(20))
            .user_agent(concat!("bacopilot/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("cannot set up the hub client")?;
        Ok(Self {
            endpoint: endpoint.trim_end_matches('/').to_string(),
            token: std::env::var("HF_TOKEN").ok().filter(|t| !t.is_empty()),
            client,
        })
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    async fn get(&self, url: &str) -> anyhow::Result<reqwest::Response> {
        let mut request = self.client.get(url);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.map_err(|e| {
            anyhow!(
                "cannot reach the model hub at {} ({e}); this machine may be offline. Copy the GGUF into the models directory instead, or name a mirror (models.hub_endpoint or HF_ENDPOINT)",
                self.endpoint
            )
        })?;
        match response.status() {
            s if s.is_success() => Ok(response),
            s if s.as_u16() == 401 || s.as_u16() == 403 => {
                bail!("the hub refused access ({s}); a gated repository needs HF_TOKEN")
            }
            s if s.as_u16() == 404 => bail!("the hub has no such repository or file ({url})"),
            s => bail!("the hub answered {s} for {url}"),
        }
    }

    /// The files of `repo` with their sizes and LFS hashes.
    pub async fn files(&self, repo: &str) -> anyhow::Result<Vec<HubFile>> {
        let url = format!(
            "{}/api/models/{repo}/revision/main?blobs=true",
            self.endpoint
        );
        let listing = self.get(&url).await?.text().await?;
        hub_files(&listing).context("the hub's file list is not what was expected")
    }

    /// Streams `file` of `repo` into `partial`, reporting the bytes as they
    /// come; returns the byte count and SHA-256. Stops when `cancel` turns true.
    async fn download(
        &self,
        repo: &str,
        file: &str,
        partial: &Path,
        report: &(dyn Fn(Step) + Sync),
        cancel: &mut watch::Receiver<bool>,
    ) -> anyhow::Result<(u64, String)> {
        let url = format!("{}/{repo}/resolve/main/{file}", self.endpoint);
        let mut body = self.get(&url).await?.bytes_stream();
        let mut output = tokio::fs::File::create(partial)
            .await
            .with_context(|| format!("cannot write {}", partial.display()))?;
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        loop {
            let chunk = tokio::select! {
                next = tokio::time::timeout(STALL, body.next()) => match next {
                    Err(_) => bail!("the hub sent nothing for {} s; the download stopped at {size} bytes", STALL.as_secs()),
                    Ok(None) => break,
                    Ok(Some(chunk)) => chunk.map_err(|e| anyhow!("the download broke off at {size} bytes: {e}"))?,
                },
                _ = cancel.wait_for(|c| *c) => bail!("cancelled"),
            };
            hasher.update(&chunk);
            output.write_all(&chunk).await?;
            size += chunk.len() as u64;
            report(Step::Received(size));
        }
        output.sync_all().await?;
        Ok((size, format!("{:x}", hasher.finalize())))
    }
}

/// Downloads `file` of `repo` (or the repository's first Q4_K_M GGUF) into
/// `dir` and validates it. Nothing is left behind when a check fails or the
/// pull is cancelled; an existing file is never replaced.
pub async fn fetch(
    hub: &Hub,
    dir: &Path,
    repo: &str,
    file: Option<&str>,
    report: &(dyn Fn(Step) + Sync),
    mut cancel: watch::Receiver<bool>,
) -> anyhow::Result<Installed> {
    check_repo(repo)?;
    let files = hub.files(repo).await?;
    let wanted = match file {
        Some(f) => f.to_string(),
        None => pick_gguf(&files).ok_or_else(|| anyhow!("`{repo}` has no .gguf file; name one"))?,
    };
    let expected = files
        .into_iter()
        .find(|f| f.name == wanted)
        .ok_or_else(|| anyhow!("`{repo}` has no file `{wanted}`"))?;
    let dest = dir.join(destination_name(&wanted)?);
    if dest.exists() {
        bail!(
            "{} is already in the models directory; delete it first to pull it again",
            dest.display()
        );
    }
    report(Step::Resolved(expected.clone()));
    tokio::fs::create_dir_all(dir).await?;
    let partial = partial_path(&dest);
    let result = async {
        let (size, sha256) = hub
            .download(repo, &wanted, &partial, report, &mut cancel)
            .await?;
        report(Step::Verifying);
        let (partial, dest, expected) = (partial.clone(), dest.clone(), expected.clone());
        tokio::task::spawn_blocking(move || place(&partial, &dest, &expected, size, sha256))
            .await
            .map_err(|e| anyhow!("the check of the download stopped: {e}"))?
    }
    .await;
    if result.is_err() {
        let _ = tokio::fs::remove_file(&partial).await;
    }
    result
}

/// `models pull`: [`fetch`] with its progress on the terminal.
pub fn pull(config: &Config, repo: &str, file: Option<&str>) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let hub = Hub::new(&config.models.hub_endpoint)?;
    let (_keep, cancel) = watch::channel(false);
    let (total, shown) = (AtomicU64::new(0), AtomicU64::new(0));
    let report = |step: Step| match step {
        Step::Resolved(f) => {
            total.store(f.size.unwrap_or(0), Ordering::Relaxed);
            eprintln!("pulling {} from {}", f.name, hub.endpoint());
        }
        Step::Received(n) if n >= shown.load(Ordering::Relaxed) + (64 << 20) => {
            shown.store(n, Ordering::Relaxed);
            eprintln!(
                "  {} / {} MiB",
                n >> 20,
                total.load(Ordering::Relaxed) >> 20
            );
        }
        Step::Received(_) => {}
        Step::Verifying => eprintln!("  checking the SHA-256 and the GGUF header"),
    };
    let installed =
        runtime.block_on(fetch(&hub, &config.models.dir, repo, file, &report, cancel))?;
    println!(
        "{} ({}, {} MiB) is ready; a running server serves it within models.rescan_secs",
        installed.id,
        installed.info.architecture,
        installed.info.file_size >> 20
    );
    Ok(())
}

/// `owner/name` of letters, digits, `-`, `_` and `.`: nothing that could
/// change the URL's path.
pub(crate) fn check_repo(repo: &str) -> anyhow::Result<()> {
    let ok_part = |p: &str| {
        !p.is_empty()
            && !p.starts_with('.')
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    match repo.split_once('/') {
        Some((owner, name)) if ok_part(owner) && ok_part(name) => Ok(()),
        _ => bail!("`{repo}` is not a hub repository (owner/name)"),
    }
}

/// The name the file takes in the models directory: its base name, which must
/// be a visible `.gguf` file (the hub's path may have folders).
pub(crate) fn destination_name(wanted: &str) -> anyhow::Result<String> {
    if wanted.split('/').any(|p| p == ".." || p.is_empty()) {
        bail!("`{wanted}` is not a file path");
    }
    let name = wanted.rsplit('/').next().unwrap_or(wanted);
    if !name.ends_with(".gguf") || name.starts_with('.') {
        bail!("`{wanted}` is not a .gguf file");
    }
    Ok(name.to_string())
}

/// The hidden name a download takes beside `dest`: a leading dot and no
/// `.gguf` ending, so the model scan never picks it up.
fn partial_path(dest: &Path) -> PathBuf {
    let name = dest.file_name().unwrap_or_default().to_string_lossy();
    dest.with_file_name(format!(".{name}.partial"))
}

/// The files of a repository from the hub's `/api/models/{repo}?blobs=true` answer.
pub fn hub_files(listing: &str) -> anyhow::Result<Vec<HubFile>> {
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

/// Checks the downloaded `partial` (`size` bytes hashing to `sha256`) against
/// `expected` and as a GGUF, then links it in at `dest` (failing if `dest`
/// exists) and removes the temporary name. On failure `dest` is untouched.
fn place(
    partial: &Path,
    dest: &Path,
    expected: &HubFile,
    size: u64,
    sha256: String,
) -> anyhow::Result<Installed> {
    let name = dest.file_name().unwrap_or_default().to_string_lossy();
    if let Some(want) = expected.size.filter(|&want| want != size) {
        bail!("`{name}` is {size} bytes but the hub lists {want}");
    }
    if let Some(want) = expected.sha256.as_deref().filter(|&want| want != sha256) {
        bail!("`{name}` has SHA-256 {sha256} but the hub lists {want}");
    }
    let file = std::fs::File::open(partial)?;
    let info = gguf_check::validate_reader(&name, file, size)?;
    std::fs::hard_link(partial, dest)
        .with_context(|| format!("cannot move the download into {}", dest.display()))?;
    std::fs::remove_file(partial)?;
    Ok(Installed {
        id: model_id(dest),
        path: dest.to_path_buf(),
        info,
        sha256,
    })
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
            sha256: Some(sha(bytes)),
        }
    }

    fn sha(bytes: &[u8]) -> String {
        format!("{:x}", Sha256::digest(bytes))
    }

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// `bytes` downloaded into the partial name of `dir/m.gguf`, then placed.
    fn place_download(dir: &Path, bytes: &[u8], expected: &HubFile) -> anyhow::Result<Installed> {
        let dest = dir.join("m.gguf");
        let partial = partial_path(&dest);
        std::fs::write(&partial, bytes).unwrap();
        let result = place(&partial, &dest, expected, bytes.len() as u64, sha(bytes));
        if result.is_err() {
            std::fs::remove_file(&partial).unwrap();
        }
        result
    }

    #[test]
    fn a_download_matching_the_hubs_hash_is_linked_into_place() {
        let models = Dir::new("models-ok");
        let installed = place_download(&models.0, &gguf(), &described(&gguf())).unwrap();
        assert_eq!(installed.info.architecture, "llama");
        assert_eq!(installed.id, "m");
        assert_eq!(entries(&models.0), ["m.gguf"]);
        assert_eq!(std::fs::read(models.0.join("m.gguf")).unwrap(), gguf());
    }

    #[test]
    fn a_corrupt_download_never_takes_the_models_name() {
        let models = Dir::new("models-bad");
        let mut corrupt = gguf();
        *corrupt.last_mut().unwrap() ^= 1;
        let err = place_download(&models.0, &corrupt, &described(&gguf())).unwrap_err();
        assert!(err.to_string().contains("SHA-256"), "{err}");
        assert!(entries(&models.0).is_empty(), "{:?}", entries(&models.0));
    }

    #[test]
    fn a_file_of_the_listed_size_but_no_hash_must_still_be_a_valid_gguf() {
        let models = Dir::new("models-junk");
        let junk = vec![7u8; 64];
        let expected = HubFile {
            sha256: None,
            ..described(&junk)
        };
        let err = place_download(&models.0, &junk, &expected).unwrap_err();
        assert!(format!("{err:#}").contains("m.gguf"), "{err:#}");
        assert!(entries(&models.0).is_empty());
    }

    #[test]
    fn an_existing_model_is_never_replaced() {
        let models = Dir::new("models-exists");
        std::fs::write(models.0.join("m.gguf"), b"the operator's own file").unwrap();
        assert!(place_download(&models.0, &gguf(), &described(&gguf())).is_err());
        assert_eq!(
            std::fs::read(models.0.join("m.gguf")).unwrap(),
            b"the operator's own file"
        );
        assert_eq!(entries(&models.0), ["m.gguf"]);
    }

    #[test]
    fn repository_and_file_names_cannot_leave_their_places() {
        assert!(check_repo("bartowski/Qwen2.5-0.5B-Instruct-GGUF").is_ok());
        for bad in ["noslash", "a/b/c", "../x", "a/..", "a/b?x=1", "/b", "a/"] {
            assert!(check_repo(bad).is_err(), "{bad}");
        }
        assert_eq!(destination_name("Q4/m.gguf").unwrap(), "m.gguf");
        for bad in ["../m.gguf", "a//m.gguf", ".m.gguf", "m.bin"] {
            assert!(destination_name(bad).is_err(), "{bad}");
        }
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
