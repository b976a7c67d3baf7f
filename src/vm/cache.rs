//! The boot artefacts' cache: each artefact is named by a hash of what
//! makes it, built in a staging place beside its final one and renamed
//! into it, so that a half-written artefact is never taken for a cached one.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::lab::cache::{hash_tree, KeyHasher};

use super::VmError;

/// A hash of labelled pieces, as the lab keys its builds.
pub struct CacheKey(KeyHasher);

impl CacheKey {
    pub fn new(domain: &str) -> Self {
        CacheKey(KeyHasher::new(domain))
    }

    pub fn add(&mut self, label: &str, data: &[u8]) -> &mut Self {
        self.0.add(label, data);
        self
    }

    /// Every file below `dir`, by relative name and contents.
    pub fn tree(&mut self, dir: &Path) -> Result<&mut Self, VmError> {
        hash_tree(&mut self.0, dir).map_err(VmError::io(dir))?;
        Ok(self)
    }

    /// The first 16 hex digits: enough to name a file.
    pub fn short(self) -> String {
        let mut full = self.0.finish();
        full.truncate(16);
        full
    }
}

/// A fresh directory in `cache`, removed unless published.
pub fn staging_dir(cache: &Path, prefix: &str) -> Result<tempfile::TempDir, VmError> {
    std::fs::create_dir_all(cache).map_err(VmError::io(cache))?;
    tempfile::Builder::new()
        .prefix(&format!(".{prefix}-"))
        .tempdir_in(cache)
        .map_err(VmError::io(cache))
}

/// Renames a staging directory to `dest`; when another run got there first,
/// its copy is as good, and this one is removed.
pub fn publish_dir(staging: tempfile::TempDir, dest: &Path) -> Result<(), VmError> {
    let path = staging.keep();
    if std::fs::rename(&path, dest).is_err() {
        let _ = std::fs::remove_dir_all(&path);
        if !dest.is_dir() {
            return Err(VmError::Io {
                path: dest.to_path_buf(),
                source: std::io::Error::other("could not rename the staging directory into place"),
            });
        }
    }
    Ok(())
}

/// Writes `path` through a temporary file in its directory and a rename.
pub fn write_file(path: &Path, contents: &[u8]) -> Result<(), VmError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(VmError::io(dir))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".vnetgen-")
        .tempfile_in(dir)
        .map_err(VmError::io(dir))?;
    tmp.write_all(contents).map_err(VmError::io(path))?;
    tmp.persist(path).map_err(|e| VmError::Io {
        path: path.to_path_buf(),
        source: e.error,
    })?;
    Ok(())
}

/// Moves a finished file (made in `cache`) to `dest` by a rename.
pub fn publish_file(made: &Path, dest: &Path) -> Result<(), VmError> {
    std::fs::rename(made, dest).map_err(VmError::io(dest))
}

/// Removes all but the `keep` newest files of `dir` whose names start with
/// `prefix`: the per-plan images would otherwise pile up.
pub fn prune(dir: &Path, prefix: &str, keep: usize) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut files: Vec<(std::time::SystemTime, PathBuf)> = entries
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(prefix))
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .collect();
    files.sort();
    let excess = files.len().saturating_sub(keep);
    for (_, path) in files.into_iter().take(excess) {
        let _ = std::fs::remove_file(path);
    }
}
