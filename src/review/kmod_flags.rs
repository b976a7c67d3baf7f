//! The compiler and linker flags each release's `kmod.mk` (with `kern.mk`
//! and `kern.pre.mk`) gives a module on each architecture, read from a real
//! tree with bmake (`-V CFLAGS -V LDFLAGS` of a one-source module) and
//! recorded as facts (`facts/<release>/kmod_flags.json`).  The spec carries
//! the same lists per release (`[release.kmod_cflags]`, `kmod_ldflags`),
//! which the lab compiles and links with; `facts check` holds the two
//! together, so a flag the spec forgets fails CI with no tree present.
//!
//! Recorded are the flags that shape code: include directories, defines,
//! `-include opt_global.h`, warning options and path maps are the build's
//! own business (vnetgen sets them itself, and its warnings are the spec's
//! `[cflags] warnings`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::{Deserialize, Serialize};

use crate::review::facts::{check_tree, FactsError};
use crate::review::qualify::kmod_target;
use crate::spec::{Release, Spec};

/// The schema of `kmod_flags.json`.
pub const SCHEMA: u32 = 1;

/// One architecture's flags.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchFlags {
    pub cflags: Vec<String>,
    pub ldflags: Vec<String>,
}

/// A release's flags on every architecture of the spec.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KmodFlags {
    pub schema: u32,
    pub release: String,
    pub tree: String,
    /// By the spec's architecture name.
    pub arches: BTreeMap<String, ArchFlags>,
}

/// The file of a release's flags under the facts directory.
pub fn file(facts_dir: &Path, release: &str) -> PathBuf {
    facts_dir.join(release).join("kmod_flags.json")
}

/// The flags that shape code, in kmod.mk's order, each once.
pub fn code_flags(words: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut words = words.split_whitespace();
    while let Some(w) = words.next() {
        if w == "-include" {
            words.next();
            continue;
        }
        let build_own = w.starts_with("-I")
            || w.starts_with("-D")
            || w.starts_with("-W")
            || w.starts_with("-ffile-prefix-map=")
            || w.starts_with("-fdebug-prefix-map=")
            || w == "-fdiagnostics-show-option";
        if !build_own {
            // Each once, where it last stands: a later flag wins in clang,
            // so dropping an earlier repeat keeps the meaning.
            out.retain(|o| o != w);
            out.push(w.to_string());
        }
    }
    out
}

/// Reads the flags of `tree` (a FreeBSD source tree of `release`) with
/// bmake, for every architecture of the spec.
pub fn extract(spec: &Spec, release: &Release, tree: &Path) -> Result<KmodFlags, FactsError> {
    check_tree(tree, release)?;
    let work = tempfile::tempdir().map_err(|source| FactsError::Io {
        path: std::env::temp_dir(),
        source,
    })?;
    let module = work.path().join("probe");
    std::fs::create_dir_all(module.join("obj")).map_err(|source| FactsError::Io {
        path: module.clone(),
        source,
    })?;
    let makefile = module.join("Makefile");
    std::fs::write(
        &makefile,
        "KMOD=\tprobe\nSRCS=\tprobe.c\n\n.include <bsd.kmod.mk>\n",
    )
    .map_err(|source| FactsError::Io {
        path: makefile.clone(),
        source,
    })?;
    let mut arches = BTreeMap::new();
    for arch in &spec.archs {
        let (machine, triple) = kmod_target(arch, release);
        let out = Command::new("bmake")
            .current_dir(&module)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("MAKEOBJDIR", module.join("obj"))
            .arg("-m")
            .arg(tree.join("share/mk"))
            .arg(format!("MACHINE={machine}"))
            .arg(format!("MACHINE_ARCH={}", arch.name))
            .arg(format!("SYSDIR={}", tree.join("sys").display()))
            .arg(format!("SRCTOP={}", tree.display()))
            .arg(format!("CC=clang-19 --target={triple}"))
            .args([
                "LD=ld.lld-19",
                "WITHOUT_CTF=yes",
                "WITHOUT_META_MODE=yes",
                "-V",
                "CFLAGS",
                "-V",
                "LDFLAGS",
            ])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| {
                FactsError::Usage(format!("bmake could not run ({e}): apt-get install bmake"))
            })?;
        let text = String::from_utf8_lossy(&out.stdout);
        let mut lines = text.lines().filter(|l| !l.starts_with('['));
        let (Some(cflags), Some(ldflags), true) =
            (lines.next(), lines.next(), out.status.success())
        else {
            return Err(FactsError::Usage(format!(
                "{}: bmake could not read kmod.mk's flags for {}: {}",
                tree.display(),
                arch.name,
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        };
        arches.insert(
            arch.name.clone(),
            ArchFlags {
                cflags: code_flags(cflags),
                ldflags: code_flags(ldflags),
            },
        );
    }
    Ok(KmodFlags {
        schema: SCHEMA,
        release: release.name.clone(),
        tree: release.tree.clone(),
        arches,
    })
}

/// Pretty JSON, one trailing newline.
pub fn to_json(flags: &KmodFlags) -> String {
    let mut text = serde_json::to_string_pretty(flags).unwrap_or_default();
    text.push('\n');
    text
}

/// Where the spec's flags for a release differ from the recorded ones:
/// (arch, `cflags` or `ldflags`, recorded, the spec's).
pub fn compare(
    recorded: &KmodFlags,
    release: &Release,
) -> Vec<(String, &'static str, Vec<String>, Vec<String>)> {
    let mut out = Vec::new();
    for (arch, flags) in &recorded.arches {
        let ours_c = release.kmod_cflags.get(arch).cloned().unwrap_or_default();
        let ours_l = release.kmod_ldflags.get(arch).cloned().unwrap_or_default();
        if ours_c != flags.cflags {
            out.push((arch.clone(), "cflags", flags.cflags.clone(), ours_c));
        }
        if ours_l != flags.ldflags {
            out.push((arch.clone(), "ldflags", flags.ldflags.clone(), ours_l));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_code_flags_are_kept_each_once() {
        let words = "-O2 -pipe -fno-common -Werror -nostdinc -I. -I/usr/src/sys -DKLD_MODULE \
                     -include /obj/opt_global.h -fno-common -mcmodel=kernel -Wall \
                     -ffile-prefix-map=/a=/b -fdiagnostics-show-option -std=gnu17";
        assert_eq!(
            code_flags(words),
            [
                "-O2",
                "-pipe",
                "-nostdinc",
                "-fno-common",
                "-mcmodel=kernel",
                "-std=gnu17"
            ]
        );
    }
}
