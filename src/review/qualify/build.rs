//! One FreeBSD module build, as FreeBSD builds it: bmake with the tree's
//! `share/mk` in the module's directory of the tree, everything written to
//! the object directory (`MAKEOBJDIR`), never to the tree.
//!
//! How Makefile.inc gets in without touching the module's Makefile: the
//! build's own `mk/bsd.kmod.mk` comes first on bmake's system path (`-m`),
//! so the module's `.include <bsd.kmod.mk>` reads it; it includes
//! Makefile.inc, then the tree's `bsd.kmod.mk` by its path.  That is where
//! Makefile.inc asks to be included: after the module set SRCS, before
//! bsd.kmod.mk.  The vnetgen variables go on the command line.
//!
//! What kmod.mk needs of a Debian machine (each here for a reason):
//! - `xargs -J`: kmod.mk localises symbols with BSD xargs' `-J`; a small
//!   bash script of ours (`bin/xargs` in the cache) ahead on PATH does it
//!   and hands every other use to GNU xargs;
//! - `__MPATH`: config.mk's list of `*_if.m` files, computed once per tree
//!   here rather than by a `find` in every build;
//! - `NM=llvm-nm-19`, `OBJCOPY`, `LD`, `AWK=original-awk`: kmod.mk's tools
//!   (bmake exports command-line variables, so kmod_syms.awk and
//!   genoffset.sh see `NM` too); `WITHOUT_CTF` (no ctfconvert);
//! - 13.x: `CWARNFLAGS.clang=-Wno-error=strict-prototypes`, as clang 19
//!   rejects 13.2's `f()` definitions under -Werror otherwise;
//! - the same paths in every build: `-ffile-prefix-map` of the tree, the
//!   object directory and vnetgen's header directory (kmod.mk's
//!   `CONF_CFLAGS`), as 13.2 puts absolute paths into `__FILE__` strings.
//!
//! A build without VIMAGE: kmod.mk writes opt_global.h (with VIMAGE) by a
//! rule without prerequisites, so it is made first (`bmake opt_global.h`),
//! the VIMAGE line taken out, and the build then keeps it.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{io, BuildKind, QualifyError, QualifyOptions};
use crate::gen::output::write_atomic;
use crate::gen::render::render;
use crate::gen::stamp::hex_sha256;
use crate::lab::cache::{files_below, KeyHasher};
use crate::spec::{Release, Spec};

/// The tools a build runs, with the Debian package of each.
pub const TOOLS: [(&str, &str); 7] = [
    ("clang-19", "clang-19"),
    ("ld.lld-19", "lld-19"),
    ("llvm-objcopy-19", "llvm-19"),
    ("llvm-nm-19", "llvm-19"),
    ("bmake", "bmake"),
    ("original-awk", "original-awk"),
    ("bash", "bash"),
];

/// This tree's Makefile.inc, for a run outside a vnetgen tree.
pub const MAKEFILE_INC: &str = include_str!("../../../Makefile.inc");

/// Bumped when the way a build is made changes in a way its command line
/// does not show.
const RECIPE: &str = "vnetgen-qualify-1";

/// BSD `xargs -J REPL utility args...` on top of GNU xargs: REPL, as a
/// whole argument, becomes every word read from standard input; nothing
/// runs on empty input.  Other uses go to GNU xargs as they are.
const XARGS: &str = r#"#!/bin/bash
# Written by vnetgen qualify: BSD xargs -J for FreeBSD's kmod.mk.
case $1 in
  -J) rep=$2; shift 2 ;;
  -J?*) rep=${1#-J}; shift ;;
  *) exec /usr/bin/xargs "$@" ;;
esac
# The words of standard input, split as xargs splits them.
mapfile -d '' -t words < <(/usr/bin/xargs -r printf '%s\0')
[ ${#words[@]} -gt 0 ] || exit 0
cmd=() put=
for a in "$@"; do
  if [ -z "$put" ] && [ "$a" = "$rep" ]; then cmd+=("${words[@]}"); put=1
  else cmd+=("$a"); fi
done
exec "${cmd[@]}"
"#;

fn on_path(tool: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|dir| {
            dir.join(tool)
                .metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
    })
}

/// Every tool a build needs is on PATH, or an error names the first
/// missing one and its package.
pub fn check_tools() -> Result<(), QualifyError> {
    for (tool, package) in TOOLS {
        if !on_path(tool) {
            return Err(QualifyError::Tool { tool, package });
        }
    }
    Ok(())
}

/// What every build shares.
#[derive(Debug, Clone)]
pub struct Setup {
    pub cache: PathBuf,
    /// The directory of our `xargs`.
    pub bin: PathBuf,
    /// The spec, written for Makefile.inc.
    pub spec_file: PathBuf,
    /// The Makefile.inc the builds include.
    pub makefile_inc: PathBuf,
    pub vnetgen: PathBuf,
    /// vnetgen's `runtime.detect`, for `VNETGEN_DETECT`.
    pub detect: String,
    /// SHA-256 of the rendered headers.
    pub headers_key: String,
    /// The key every build's starts from: our scripts, the toolchain.
    pub base_key: String,
    /// What the builds through Makefile.inc add to it: the headers, the
    /// spec, Makefile.inc, the vnetgen that runs (so a stock build stays
    /// cached when only vnetgen changed).
    pub vnetgen_key: String,
    /// The `--make` variables, on every build's command line.
    pub make_vars: Vec<String>,
}

/// Writes `contents` atomically, unless the file already holds them.
pub fn write_if_changed(path: &Path, contents: &[u8]) -> Result<(), QualifyError> {
    if fs::read(path).is_ok_and(|old| old == contents) {
        return Ok(());
    }
    write_atomic(path, contents).map_err(|e| QualifyError::Setup(e.to_string()))
}

fn tool_version(tool: &str, args: &[&str]) -> Result<String, QualifyError> {
    let out = Command::new(tool)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| QualifyError::Setup(format!("{tool}: {e}")))?;
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

impl Setup {
    pub fn prepare(spec: &Spec, options: &QualifyOptions) -> Result<Setup, QualifyError> {
        fs::create_dir_all(&options.cache).map_err(io(&options.cache))?;
        let bin = options.cache.join("bin");
        let xargs = bin.join("xargs");
        write_if_changed(&xargs, XARGS.as_bytes())?;
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&xargs, fs::Permissions::from_mode(0o755)).map_err(io(&xargs))?;
        }
        let spec_key = hex_sha256(options.spec_text.as_bytes());
        let spec_file = options.cache.join(format!("spec-{}.toml", &spec_key[..16]));
        write_if_changed(&spec_file, options.spec_text.as_bytes())?;

        let files = render(spec).map_err(|e| QualifyError::Setup(e.to_string()))?;
        let mut headers = KeyHasher::new(RECIPE);
        for f in &files {
            headers.add(&f.path, f.contents.as_bytes());
        }
        let headers_key = headers.finish();

        let makefile_inc = match &options.repo {
            Some(repo) => repo.join("Makefile.inc"),
            None => {
                // Outside a vnetgen tree: the copy built into vnetgen (it
                // needs nothing beside it, VNETGEN and VNETGEN_SPEC are given).
                let copy = options.cache.join("Makefile.inc");
                write_if_changed(&copy, MAKEFILE_INC.as_bytes())?;
                copy
            }
        };
        let inc = fs::read(&makefile_inc).map_err(io(&makefile_inc))?;
        let mut through = KeyHasher::new(RECIPE);
        through.add("headers", headers_key.as_bytes());
        through.add("spec", options.spec_text.as_bytes());
        through.add("Makefile.inc", &inc);
        through.add("vnetgen", options.vnetgen.display().to_string().as_bytes());
        let mut base = KeyHasher::new(RECIPE);
        base.add("xargs", XARGS.as_bytes());
        for (tool, args) in [
            ("clang-19", &["--version"][..]),
            ("ld.lld-19", &["--version"][..]),
            ("llvm-objcopy-19", &["--version"][..]),
            ("llvm-nm-19", &["--version"][..]),
            ("bmake", &["-f", "/dev/null", "-V", "MAKE_VERSION"][..]),
        ] {
            base.add(tool, tool_version(tool, args)?.as_bytes());
        }
        Ok(Setup {
            cache: options.cache.clone(),
            bin,
            spec_file,
            makefile_inc,
            vnetgen: options.vnetgen.clone(),
            detect: spec.detect.name().to_string(),
            headers_key,
            vnetgen_key: through.finish(),
            base_key: base.finish(),
            make_vars: options.make_vars.clone(),
        })
    }
}

/// SHA-256 over every file under the tree's `sys/` and `share/mk/`: its
/// relative path and contents.  The files are hashed in parallel.
pub fn tree_fingerprint(tree: &Path) -> Result<String, QualifyError> {
    let mut files = Vec::new();
    for part in ["sys", "share/mk"] {
        files.extend(files_below(&tree.join(part)));
    }
    files.sort();
    let hashes: Vec<Result<(String, String), QualifyError>> = files
        .par_iter()
        .map(|f| {
            let data = fs::read(f).map_err(io(f))?;
            let rel = f.strip_prefix(tree).unwrap_or(f).display().to_string();
            Ok((rel, hex_sha256(&data)))
        })
        .collect();
    let mut h = KeyHasher::new("vnetgen-tree-1");
    for r in hashes {
        let (rel, sha) = r?;
        h.add(&rel, sha.as_bytes());
    }
    Ok(h.finish())
}

/// config.mk's `__MPATH`: every `*_if.m` under `sys/`, absolute, sorted.
pub fn mpath(tree: &Path) -> String {
    let mut found: Vec<String> = files_below(&tree.join("sys"))
        .into_iter()
        .filter(|p| p.to_str().is_some_and(|s| s.ends_with("_if.m")))
        .map(|p| p.display().to_string())
        .collect();
    found.sort();
    found.join(" ")
}

#[derive(Debug, Clone)]
pub struct Job {
    pub tree: PathBuf,
    pub tree_fingerprint: String,
    pub mpath: String,
    pub release: Release,
    pub arch: String,
    /// kmod.mk's MACHINE and the clang target (`kmod_target`).
    pub machine: String,
    pub triple: String,
    pub module: String,
    pub kind: BuildKind,
}

/// What a build left, kept in its directory (`result.json`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BuildResult {
    pub key: String,
    pub compiled: bool,
    pub warnings: usize,
    pub first_error: Option<String>,
    /// The `.ko` and the `.o`s, by name, sorted.
    pub objects: Vec<String>,
    pub seconds: f64,
}

#[derive(Debug, Clone)]
pub struct Outcome {
    pub result: BuildResult,
    pub objdir: PathBuf,
    /// The build's directory below the cache (`builds/<key>`).
    pub dir: String,
    pub cached: bool,
}

const BUILD_DIR: &str = "@BUILD@";

/// The last part of a module's directory: kmod.mk names the object
/// directory's prefix map after it, so every build's must be the same.
fn leaf(module: &str) -> &str {
    module.rsplit('/').next().unwrap_or(module)
}

/// bmake's arguments (before the targets), for a build directory `dir`.
pub fn make_args(setup: &Setup, job: &Job, dir: &str) -> Vec<String> {
    let objdir = format!("{dir}/{}", leaf(&job.module));
    let tree = job.tree.display().to_string();
    let mut args = Vec::new();
    if job.kind.variant().is_some() {
        args.extend(["-m".to_string(), format!("{dir}/mk")]);
    }
    args.extend([
        "-m".to_string(),
        format!("{tree}/share/mk"),
        format!("MACHINE={}", job.machine),
        format!("MACHINE_ARCH={}", job.arch),
        format!("SYSDIR={tree}/sys"),
        format!("SRCTOP={tree}"),
        format!("CC=clang-19 --target={}", job.triple),
        "LD=ld.lld-19".to_string(),
        "OBJCOPY=llvm-objcopy-19".to_string(),
        "NM=llvm-nm-19".to_string(),
        "AWK=original-awk".to_string(),
        "WITHOUT_CTF=yes".to_string(),
        "WITHOUT_META_MODE=yes".to_string(),
        format!(
            "CONF_CFLAGS=-ffile-prefix-map={objdir}/vnetgen/sys=/usr/src/sys \
             -ffile-prefix-map={tree}/sys=/usr/src/sys \
             -ffile-prefix-map={objdir}=/usr/obj/qualify/{}",
            leaf(&job.module)
        ),
    ]);
    if job.release.freebsd_version / 100_000 == 13 {
        args.push("CWARNFLAGS.clang=-Wno-error=strict-prototypes".to_string());
    }
    if job.kind.tied() {
        args.push("MODULE_TIED=yes".to_string());
    }
    args.extend(setup.make_vars.iter().cloned());
    if let Some(variant) = job.kind.variant() {
        args.extend([
            format!("VNETGEN={}", setup.vnetgen.display()),
            format!("VNETGEN_SPEC={}", setup.spec_file.display()),
            format!("VNETGEN_VARIANT={variant}"),
            format!(
                "VNETGEN_KERNEL={}",
                if job.kind.vimage() {
                    "vimage"
                } else {
                    "novimage"
                }
            ),
            format!("VNETGEN_DETECT={}", setup.detect),
        ]);
    }
    args
}

/// The `mk/bsd.kmod.mk` of a build through Makefile.inc.
fn kmod_shim(setup: &Setup, job: &Job) -> String {
    format!(
        "# Written by vnetgen qualify: the module's `.include <bsd.kmod.mk>`\n\
         # finds this file first (-m), so Makefile.inc comes after the\n\
         # module's SRCS and before FreeBSD's bsd.kmod.mk.\n\
         .include \"{}\"\n\
         .include \"{}/share/mk/bsd.kmod.mk\"\n",
        setup.makefile_inc.display(),
        job.tree.display()
    )
}

/// The cache key of a job.
pub fn key(setup: &Setup, job: &Job) -> String {
    let mut h = KeyHasher::new(&setup.base_key);
    h.add("tree", job.tree_fingerprint.as_bytes());
    h.add("module", job.module.as_bytes());
    h.add("kind", job.kind.name().as_bytes());
    h.add("mpath", job.mpath.as_bytes());
    for a in make_args(setup, job, BUILD_DIR) {
        h.add("arg", a.as_bytes());
    }
    if job.kind.variant().is_some() {
        h.add("vnetgen", setup.vnetgen_key.as_bytes());
        h.add("shim", kmod_shim(setup, job).as_bytes());
    }
    h.finish()
}

/// Runs every job, `jobs` at a time.
pub fn run_all(setup: &Setup, list: &[Job], jobs: usize) -> Result<Vec<Outcome>, QualifyError> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.max(1))
        .build()
        .map_err(|e| QualifyError::Setup(format!("thread pool: {e}")))?;
    let done = std::sync::atomic::AtomicUsize::new(0);
    pool.install(|| {
        list.par_iter()
            .map(|j| {
                let outcome = build(setup, j)?;
                let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                // A cold run takes minutes: say what finished.
                if !outcome.cached {
                    eprintln!(
                        "[{n}/{}] {} {} {} {}: {} ({:.1} s)",
                        list.len(),
                        j.release.name,
                        j.arch,
                        j.module,
                        j.kind.name(),
                        if outcome.result.compiled {
                            "ok"
                        } else {
                            "fails"
                        },
                        outcome.result.seconds
                    );
                }
                Ok(outcome)
            })
            .collect()
    })
}

/// A build, from the cache when its key is there.
pub fn build(setup: &Setup, job: &Job) -> Result<Outcome, QualifyError> {
    let key = key(setup, job);
    let dir = setup.cache.join("builds").join(&key[..32]);
    let objdir = dir.join(leaf(&job.module));
    let result_file = dir.join("result.json");
    if let Ok(text) = fs::read_to_string(&result_file) {
        if let Ok(result) = serde_json::from_str::<BuildResult>(&text) {
            if result.key == key && result.objects.iter().all(|o| objdir.join(o).is_file()) {
                write_command(setup, job, &dir)?;
                return Ok(Outcome {
                    result,
                    objdir,
                    dir: format!("builds/{}", &key[..32]),
                    cached: true,
                });
            }
        }
    }
    if dir.exists() {
        fs::remove_dir_all(&dir).map_err(io(&dir))?;
    }
    fs::create_dir_all(&objdir).map_err(io(&objdir))?;
    let dir_text = dir.display().to_string();
    let args = make_args(setup, job, &dir_text);
    if job.kind.variant().is_some() {
        let shim = dir.join("mk/bsd.kmod.mk");
        fs::create_dir_all(dir.join("mk")).map_err(io(&dir))?;
        fs::write(&shim, kmod_shim(setup, job)).map_err(io(&shim))?;
    }
    write_command(setup, job, &dir)?;
    let log_path = dir.join("build.log");
    let log = fs::File::create(&log_path).map_err(io(&log_path))?;
    let started = Instant::now();
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut paths = vec![setup.bin.clone()];
    paths.extend(std::env::split_paths(&path));
    let search = std::env::join_paths(paths).map_err(|e| QualifyError::Setup(e.to_string()))?;
    let moddir = job.tree.join("sys/modules").join(&job.module);
    let bmake = |targets: &[&str]| -> Result<i32, QualifyError> {
        let out = log.try_clone().map_err(io(&log_path))?;
        let err = log.try_clone().map_err(io(&log_path))?;
        // Nothing of the caller's environment: bmake makes it variables.
        let status = Command::new("bmake")
            .current_dir(&moddir)
            .env_clear()
            .env("PATH", &search)
            .env("LC_ALL", "C")
            .env("__MPATH", &job.mpath)
            .env("MAKEOBJDIR", &objdir)
            .args(&args)
            .args(targets)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .status()
            .map_err(|e| QualifyError::Setup(format!("bmake could not run: {e}")))?;
        Ok(status.code().unwrap_or(-1))
    };
    let opt_global = objdir.join("opt_global.h");
    let mut status = 0;
    let mut trouble = None;
    if !job.kind.vimage() {
        status = bmake(&["opt_global.h"])?;
        if status == 0 {
            let text = fs::read_to_string(&opt_global).map_err(io(&opt_global))?;
            let kept: String = text
                .lines()
                .filter(|l| !defines_vimage(l))
                .map(|l| format!("{l}\n"))
                .collect();
            fs::write(&opt_global, kept).map_err(io(&opt_global))?;
        }
    }
    if status == 0 {
        status = bmake(&["all"])?;
    }
    if status == 0 && !job.kind.vimage() {
        let text = fs::read_to_string(&opt_global).map_err(io(&opt_global))?;
        if text.lines().any(defines_vimage) {
            trouble = Some("opt_global.h was made again with VIMAGE".to_string());
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    drop(log);
    let text = fs::read(&log_path).map_err(io(&log_path))?;
    let text = String::from_utf8_lossy(&text);
    let mut objects: Vec<String> = fs::read_dir(&objdir)
        .map_err(io(&objdir))?
        .flatten()
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter(|n| !n.starts_with('.') && (n.ends_with(".ko") || n.ends_with(".o")))
        .collect();
    objects.sort_by_key(|n| (!n.ends_with(".ko"), n.clone()));
    let has_ko = objects.iter().any(|n| n.ends_with(".ko"));
    if status == 0 && !has_ko && trouble.is_none() {
        trouble = Some("bmake succeeded but made no .ko".to_string());
    }
    let compiled = status == 0 && has_ko && trouble.is_none();
    let first_error = if compiled {
        None
    } else {
        Some(trouble.unwrap_or_else(|| {
            first_error(&text)
                .map(|l| clean_paths(&l, &dir, &job.tree))
                .unwrap_or_else(|| format!("bmake exited with status {status}"))
        }))
    };
    let result = BuildResult {
        key,
        compiled,
        warnings: warnings(&text),
        first_error,
        objects: if compiled { objects } else { Vec::new() },
        seconds,
    };
    let json = serde_json::to_string_pretty(&result).unwrap_or_default();
    write_atomic(&result_file, json.as_bytes()).map_err(|e| QualifyError::Setup(e.to_string()))?;
    Ok(Outcome {
        dir: format!("builds/{}", &result.key[..32]),
        result,
        objdir,
        cached: false,
    })
}

/// Quotes a word for sh.
fn sh_quote(word: &str) -> String {
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-=+:,@".contains(c))
    {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// `command` in the build directory: the build's bmake run as a shell
/// command, to repeat a failing build by hand (novimage builds also run
/// `opt_global.h` first and take VIMAGE out of it).
fn write_command(setup: &Setup, job: &Job, dir: &Path) -> Result<(), QualifyError> {
    let dir_text = dir.display().to_string();
    let objdir = dir.join(leaf(&job.module));
    let mut text = format!(
        "cd {} && env -i PATH={}:\"$PATH\" LC_ALL=C __MPATH={} MAKEOBJDIR={} bmake",
        sh_quote(
            &job.tree
                .join("sys/modules")
                .join(&job.module)
                .display()
                .to_string()
        ),
        sh_quote(&setup.bin.display().to_string()),
        sh_quote(&job.mpath),
        sh_quote(&objdir.display().to_string()),
    );
    for a in make_args(setup, job, &dir_text) {
        text.push(' ');
        text.push_str(&sh_quote(&a));
    }
    text.push_str(" all\n");
    write_if_changed(&dir.join("command"), text.as_bytes())
}

/// `#define VIMAGE ...`, however spaced.
fn defines_vimage(line: &str) -> bool {
    let mut words = line.split_whitespace();
    words.next() == Some("#define") && words.next() == Some("VIMAGE")
}

/// The compiler's (or linker's) first error line of a build log; else
/// make's own complaint.
pub fn first_error(log: &str) -> Option<String> {
    let diagnostic = log.lines().find(|l| {
        l.contains(": error:") || l.contains(": fatal error:") || l.starts_with("error:")
    });
    diagnostic
        .or_else(|| {
            log.lines().find(|l| {
                l.contains("don't know how to make")
                    || l.starts_with("bmake: ")
                    || l.contains("*** Error")
            })
        })
        .map(|l| l.trim().to_string())
}

/// Warnings the compiler printed (each `: warning:` line).
pub fn warnings(log: &str) -> usize {
    log.lines().filter(|l| l.contains(": warning:")).count()
}

/// A log line with the build directory and the tree named, not spelt out:
/// the report does not depend on where the cache or the tree is.
pub fn clean_paths(line: &str, dir: &Path, tree: &Path) -> String {
    line.replace(&dir.display().to_string(), "$BUILD")
        .replace(&tree.display().to_string(), "$TREE")
}
