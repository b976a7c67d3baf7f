//! `vnetgen vendor`: puts the generated files into a FreeBSD source tree,
//! or writes them as a reviewable patch series.  Nothing is written unless
//! every file it replaces is one vnetgen knows: its own output, or a
//! version whose hash the spec lists.

mod conf_files;
mod patch;
mod series;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use conf_files::{add_standard, ConfFilesError};
pub use patch::{file_diff, format_patch, patch_file_name, FileChange};
pub use series::Patch;

use crate::build::toolchain::{Toolchain, ToolchainError};
use crate::gen::output::{write_atomic, OutputError};
use crate::gen::render::{render, RenderError};
use crate::gen::stamp::{hex_sha256, verify, StampState};
use crate::review::macros::MacroError;
use crate::spec::variant::Detect;
use crate::spec::Spec;

/// Where the kernel lists its sources, under the tree.
const CONF_FILES: &str = "sys/conf/files";

#[derive(Debug, thiserror::Error)]
pub enum VendorError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{path} does not look like the header it replaces: it is not vnetgen output and its SHA-256 {hash} \
         is not one the spec knows. A local edit, or a version the spec does not know? Nothing was written. \
         Review it, then add the hash to the header's `known` list in the spec"
    )]
    Unrecognised { path: String, hash: String },
    #[error("{path} was edited by hand since vnetgen wrote it; nothing was written")]
    HandEdited { path: String },
    #[error("{}: not a FreeBSD source tree ({CONF_FILES} is missing)", tree.display())]
    NotATree { tree: PathBuf },
    #[error(transparent)]
    ConfFiles(#[from] ConfFilesError),
    #[error("the first patch would change {path} in {configuration}: {macros}")]
    MeaningChanged {
        path: String,
        configuration: String,
        macros: String,
    },
    #[error(transparent)]
    Macros(#[from] MacroError),
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error(transparent)]
    Output(#[from] OutputError),
    #[error(transparent)]
    Toolchain(#[from] ToolchainError),
    #[error("{0}")]
    Internal(String),
}

/// What to do.
#[derive(Debug, Clone)]
pub struct VendorOptions {
    pub tree: PathBuf,
    /// Overrides the spec's detection mode.
    pub detect: Option<Detect>,
    /// Write a patch series here instead of touching the tree.
    pub patches: Option<PathBuf>,
    pub dry_run: bool,
    /// The headers the preprocessor needs besides the vendored ones.
    pub sysroot: PathBuf,
}

/// What vendoring did, or would do.
#[derive(Debug, Clone)]
pub enum VendorOutcome {
    /// The tree already holds what vendoring writes.
    NothingToDo,
    /// The files written to the tree.
    Written(Vec<String>),
    /// `--dry-run`: the changes as a unified diff.
    DryRun(String),
    /// The patch files written.
    Patches(Vec<PathBuf>),
}

fn read(path: &Path) -> Result<Option<String>, VendorError> {
    match std::fs::read_to_string(path) {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(VendorError::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Refuses to replace a file vnetgen does not know.
fn check_replaceable(spec: &Spec, path: &str, text: &str) -> Result<(), VendorError> {
    match verify(text) {
        StampState::Intact => Ok(()),
        StampState::Edited => Err(VendorError::HandEdited {
            path: path.to_string(),
        }),
        StampState::Missing => {
            let hash = hex_sha256(text.as_bytes());
            let known = spec
                .headers
                .iter()
                .any(|h| h.path == path && h.known.contains(&hash));
            if known {
                Ok(())
            } else {
                Err(VendorError::Unrecognised {
                    path: path.to_string(),
                    hash,
                })
            }
        }
    }
}

/// Vendors the spec's output into `options.tree`.
pub fn vendor(spec: &Spec, options: &VendorOptions) -> Result<VendorOutcome, VendorError> {
    let mut spec = spec.clone();
    if let Some(detect) = options.detect {
        spec.detect = detect;
    }
    let files = render(&spec)?;
    // The drop-in headers, and the support file where the kernel carries it.
    let support = spec
        .support
        .as_ref()
        .filter(|_| spec.detect == Detect::Kernel);
    let mut new: BTreeMap<String, String> = BTreeMap::new();
    for f in &files {
        if spec.headers.iter().any(|h| h.path == f.path) {
            new.insert(f.path.clone(), f.contents.clone());
        }
    }
    let mut old: BTreeMap<String, Option<String>> = BTreeMap::new();
    for path in new.keys() {
        let current = read(&options.tree.join(path))?;
        if let Some(text) = &current {
            if text != &new[path] {
                check_replaceable(&spec, path, text)?;
            }
        }
        old.insert(path.clone(), current);
    }
    let mut tail = Vec::new();
    if let Some(support) = support {
        let text = files
            .iter()
            .find(|f| f.path == support.path)
            .map(|f| f.contents.clone())
            .unwrap_or_default();
        let current = read(&options.tree.join(&support.path))?;
        if current.as_deref() != Some(text.as_str()) {
            if let Some(existing) = &current {
                if verify(existing) != StampState::Intact {
                    return Err(VendorError::HandEdited {
                        path: support.path.clone(),
                    });
                }
            }
            tail.push(FileChange {
                path: support.path.clone(),
                old: current,
                new: text,
            });
        }
        let conf = options.tree.join(CONF_FILES);
        let Some(conf_text) = read(&conf)? else {
            return Err(VendorError::NotATree {
                tree: options.tree.clone(),
            });
        };
        let entry = support.path.strip_prefix("sys/").unwrap_or(&support.path);
        if let Some(updated) = add_standard(&conf_text, entry)? {
            tail.push(FileChange {
                path: CONF_FILES.to_string(),
                old: Some(conf_text),
                new: updated,
            });
        }
    }

    let mut changes: Vec<FileChange> = new
        .iter()
        .filter(|(p, n)| old.get(*p).cloned().flatten().as_deref() != Some(n.as_str()))
        .map(|(p, n)| FileChange {
            path: p.clone(),
            old: old.get(p).cloned().flatten(),
            new: n.clone(),
        })
        .collect();
    changes.extend(tail.iter().cloned());
    if changes.is_empty() {
        return Ok(VendorOutcome::NothingToDo);
    }
    if options.dry_run {
        return Ok(VendorOutcome::DryRun(
            changes.iter().map(file_diff).collect(),
        ));
    }
    if let Some(dir) = &options.patches {
        let toolchain = Toolchain::locate()?;
        let patches = series::build(&spec, &toolchain, &options.sysroot, &old, &new, tail)?;
        let total = patches.len();
        let mut written = Vec::new();
        for (n, p) in patches.iter().enumerate() {
            let path = dir.join(patch_file_name(n + 1, &p.subject));
            write_atomic(
                &path,
                format_patch(n + 1, total, &p.subject, &p.body, &p.changes).as_bytes(),
            )?;
            written.push(path);
        }
        return Ok(VendorOutcome::Patches(written));
    }
    let mut written = Vec::new();
    for c in &changes {
        write_atomic(&options.tree.join(&c.path), c.new.as_bytes())?;
        written.push(c.path.clone());
    }
    Ok(VendorOutcome::Written(written))
}
