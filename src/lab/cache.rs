//! The lab's cache: a build is keyed by a hash of everything that affects
//! its object, so a re-run with nothing changed compiles nothing.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// Feeds labelled pieces into one SHA-256.
pub struct KeyHasher(Sha256);

impl KeyHasher {
    pub fn new(domain: &str) -> Self {
        let mut h = Sha256::new();
        h.update(domain.as_bytes());
        KeyHasher(h)
    }

    pub fn add(&mut self, label: &str, data: &[u8]) {
        // Lengths keep ("ab", "c") and ("a", "bc") apart.
        self.0.update((label.len() as u64).to_le_bytes());
        self.0.update(label.as_bytes());
        self.0.update((data.len() as u64).to_le_bytes());
        self.0.update(data);
    }

    pub fn finish(self) -> String {
        self.0
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// Every file below `dir`, sorted, for hashing.
pub fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Hashes the contents of every file below `dir`.
pub fn hash_tree(h: &mut KeyHasher, dir: &Path) -> std::io::Result<()> {
    for file in files_below(dir) {
        let rel = file
            .strip_prefix(dir)
            .unwrap_or(&file)
            .display()
            .to_string();
        h.add(&rel, &std::fs::read(&file)?);
    }
    Ok(())
}
