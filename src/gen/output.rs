//! Writing the outputs: only files whose text changed are written, each
//! through a temporary file and a rename, and a hand-edited file is never
//! overwritten unless asked.  `check` compares without writing.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use similar::TextDiff;

use crate::gen::render::OutputFile;
use crate::gen::stamp::{verify, StampState};

#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(
        "refusing to overwrite {}: {}; nothing was written. Move the changes into the spec, or pass --force to discard them",
        paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "),
        if paths.len() == 1 { "it was edited by hand" } else { "they were edited by hand" }
    )]
    HandEdited { paths: Vec<PathBuf> },
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> OutputError + '_ {
    move |source| OutputError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// What `write_outputs` did to one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOutcome {
    Unchanged,
    Created,
    Updated,
}

impl WriteOutcome {
    pub fn verb(self) -> &'static str {
        match self {
            WriteOutcome::Unchanged => "unchanged",
            WriteOutcome::Created => "created",
            WriteOutcome::Updated => "updated",
        }
    }
}

/// Reads a file, or `None` when it does not exist.
fn read_existing(path: &Path) -> Result<Option<String>, OutputError> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).into_owned())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_error(path)(e)),
    }
}

/// Writes `contents` to `path` atomically: a temporary file in the same
/// directory, renamed over the target.
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<(), OutputError> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(io_error(dir))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".vnetgen-")
        .permissions(new_file_permissions())
        .tempfile_in(dir)
        .map_err(io_error(dir))?;
    // A replaced file keeps its mode; a new one gets 0666 less the umask,
    // as any editor's file would (the temporary file alone would be 0600).
    if let Ok(existing) = fs::metadata(path) {
        fs::set_permissions(tmp.path(), existing.permissions()).map_err(io_error(path))?;
    }
    tmp.write_all(contents).map_err(io_error(path))?;
    tmp.as_file().sync_all().map_err(io_error(path))?;
    tmp.persist(path).map_err(|e| io_error(path)(e.error))?;
    Ok(())
}

/// 0666: the umask applies when the file is created.
fn new_file_permissions() -> fs::Permissions {
    use std::os::unix::fs::PermissionsExt;
    fs::Permissions::from_mode(0o666)
}

/// Writes the files that changed under `out_dir`.  With `force` false, a
/// target edited by hand stops everything before anything is written.
pub fn write_outputs(
    out_dir: &Path,
    files: &[OutputFile],
    force: bool,
) -> Result<Vec<(String, WriteOutcome)>, OutputError> {
    let mut plan = Vec::with_capacity(files.len());
    let mut edited = Vec::new();
    for file in files {
        let path = out_dir.join(&file.path);
        let existing = read_existing(&path)?;
        let outcome = match &existing {
            None => WriteOutcome::Created,
            Some(old) if *old == file.contents => WriteOutcome::Unchanged,
            Some(old) => {
                if !force && verify(old) != StampState::Intact {
                    edited.push(path.clone());
                }
                WriteOutcome::Updated
            }
        };
        plan.push((file, path, outcome));
    }
    if !edited.is_empty() {
        return Err(OutputError::HandEdited { paths: edited });
    }
    let mut report = Vec::with_capacity(plan.len());
    for (file, path, outcome) in plan {
        if outcome != WriteOutcome::Unchanged {
            write_atomic(&path, file.contents.as_bytes())?;
        }
        report.push((file.path.clone(), outcome));
    }
    Ok(report)
}

/// Why `check` finds an output wanting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The file does not exist.
    Missing,
    /// The file is a vnetgen output of another spec or version.
    Stale,
    /// The file's body no longer matches the hash in its banner.
    HandEdited,
    /// The file has no vnetgen banner.
    NotGenerated,
}

impl Problem {
    pub fn describe(&self) -> &'static str {
        match self {
            Problem::Missing => "missing",
            Problem::Stale => "stale: the spec or vnetgen changed since it was generated",
            Problem::HandEdited => {
                "edited by hand: its text no longer matches the hash in its banner"
            }
            Problem::NotGenerated => "not generated by vnetgen: it has no vnetgen banner",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Finding {
    pub path: String,
    pub problem: Problem,
    /// A unified diff from the file on disk to what `generate` would write.
    pub diff: String,
}

/// Compares the outputs on disk with `files`, writing nothing.
pub fn check_outputs(out_dir: &Path, files: &[OutputFile]) -> Result<Vec<Finding>, OutputError> {
    let mut findings = Vec::new();
    for file in files {
        let path = out_dir.join(&file.path);
        let existing = read_existing(&path)?;
        let (problem, old) = match existing {
            None => (Problem::Missing, String::new()),
            Some(old) if old == file.contents => continue,
            Some(old) => {
                let problem = match verify(&old) {
                    StampState::Intact => Problem::Stale,
                    StampState::Edited => Problem::HandEdited,
                    StampState::Missing => Problem::NotGenerated,
                };
                (problem, old)
            }
        };
        let diff = TextDiff::from_lines(&old, &file.contents)
            .unified_diff()
            .context_radius(3)
            .header(&format!("a/{}", file.path), &format!("b/{}", file.path))
            .to_string();
        findings.push(Finding {
            path: file.path.clone(),
            problem,
            diff,
        });
    }
    Ok(findings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or(0)
    }

    #[test]
    fn a_new_file_gets_the_umask_mode_and_a_replaced_one_keeps_its_own() {
        let dir = tempfile::tempdir().expect("temporary directory");
        // What any program's new file gets here: 0666 less the umask.
        let plain = dir.path().join("plain");
        fs::write(&plain, b"x").expect("write");
        let new = dir.path().join("new.h");
        write_atomic(&new, b"new\n").expect("write_atomic");
        assert_eq!(mode(&new), mode(&plain));

        let kept = dir.path().join("kept.h");
        fs::write(&kept, b"old\n").expect("write");
        fs::set_permissions(&kept, fs::Permissions::from_mode(0o640)).expect("chmod");
        write_atomic(&kept, b"new\n").expect("write_atomic");
        assert_eq!(mode(&kept), 0o640);
        assert_eq!(fs::read(&kept).expect("read"), b"new\n");
    }
}
