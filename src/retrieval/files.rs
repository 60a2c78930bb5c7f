//! Uploaded originals on disk, named by document id only: a client's file
//! name is a display string and never becomes part of a path.

use std::io::Write;
use std::path::PathBuf;

pub struct FileStore {
    dir: PathBuf,
}

impl FileStore {
    pub fn open(dir: PathBuf) -> std::io::Result<Self> {
        std::fs::create_dir_all(&dir)?;
        Ok(Self { dir })
    }

    fn path(&self, document_id: &str) -> Option<PathBuf> {
        crate::store::is_id(document_id).then(|| self.dir.join(document_id))
    }

    /// Writes through a temporary file and a rename, so a crash never leaves
    /// a partial original under the final name.
    pub fn save(&self, document_id: &str, bytes: &[u8]) -> std::io::Result<()> {
        let path = self
            .path(document_id)
            .ok_or_else(|| std::io::Error::other("not a document id"))?;
        let tmp = path.with_extension("partial");
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, &path)
    }

    /// The stored original, if it is there.
    pub fn read(&self, document_id: &str) -> std::io::Result<Vec<u8>> {
        let path = self
            .path(document_id)
            .ok_or_else(|| std::io::Error::other("not a document id"))?;
        std::fs::read(path)
    }

    pub fn remove(&self, document_id: &str) {
        if let Some(path) = self.path(document_id) {
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "cannot remove a stored file")
                }
            }
        }
    }

    /// Removes temporary files a crash left behind mid-write.
    pub fn remove_partials(&self) {
        for entry in std::fs::read_dir(&self.dir).into_iter().flatten().flatten() {
            if entry.path().extension().is_some_and(|e| e == "partial") {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }

    /// Ids of every stored original (for the start-up sweep).
    pub fn ids(&self) -> Vec<String> {
        std::fs::read_dir(&self.dir)
            .map(|entries| {
                entries
                    .flatten()
                    .filter_map(|e| e.file_name().into_string().ok())
                    .collect()
            })
            .unwrap_or_default()
    }
}
