//! The ABI lab: builds every test kmod for every variant, kernel and
//! architecture, inspects the objects, and gives the verdict of which build
//! loads on which kernel.
//!
//! Builds run in parallel and are cached under a hash of everything that
//! affects them, so that a re-run with nothing changed compiles nothing.
//!
//! Uses: `spec`, `gen`, `build`, `inspect`.

pub mod cache;
mod expect;
pub mod report;

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::Command;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;
use serde::Serialize;

pub use expect::{expected_loads, ExpectError, Expectation};

use crate::build::cflags::Target;
use crate::build::kmod::{BuildError, ModuleBuild};
use crate::build::toolchain::{Toolchain, ToolchainError};
use crate::gen::output::write_outputs;
use crate::gen::render::render;
use crate::inspect::classify::{classify, Classification, Layout};
use crate::inspect::rules::{evaluate, load_rules, Context, Finding, RuleError, Severity};
use crate::inspect::{inspect_file, InspectError, ObjectInfo};
use crate::spec::kernel_model::KernelModel;
use crate::spec::variant::{KernelConfig, Variant};
use crate::spec::{Release, Spec};

#[derive(Debug, thiserror::Error)]
pub enum LabError {
    #[error(transparent)]
    Toolchain(#[from] ToolchainError),
    #[error(transparent)]
    Build(#[from] BuildError),
    #[error(transparent)]
    Inspect(#[from] InspectError),
    #[error(transparent)]
    Rules(#[from] RuleError),
    #[error(transparent)]
    Expect(#[from] ExpectError),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Dual(#[from] crate::build::dual::DualError),
    #[error("{0}")]
    Setup(String),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> LabError + '_ {
    move |source| LabError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// What to run.
#[derive(Debug, Clone)]
pub struct LabOptions {
    pub archs: Vec<String>,
    pub variants: Vec<Variant>,
    pub kernels: Vec<KernelConfig>,
    /// A directory of modules, one subdirectory each.
    pub kmods: PathBuf,
    pub jobs: usize,
    /// Where builds are cached (under `target/` by default).
    pub cache: PathBuf,
    pub sysroot: PathBuf,
    /// Draw a progress bar (on a terminal).
    pub progress: bool,
    /// The FreeBSD release every module is built for (`-D__FreeBSD_version`
    /// and its `-fPIC` choice); `None`: the stub sysroot's default.
    pub release: Option<Release>,
}

/// One module build of the matrix.
#[derive(Debug, Clone, Serialize)]
pub struct BuildRecord {
    pub kmod: String,
    pub arch: String,
    pub variant: Variant,
    /// The kernel it was built for: matters for kld-tied only.
    pub built_for: Option<KernelConfig>,
    pub ko: PathBuf,
    pub cached: bool,
    /// The link, linker first, as run in the build's own directory.
    #[serde(skip)]
    pub link_command: Vec<String>,
}

/// The verdict of a cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Loads,
    Fails,
}

impl Verdict {
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Loads => "loads",
            Verdict::Fails => "fails",
        }
    }
}

/// One build on one kernel.
#[derive(Debug, Clone, Serialize)]
pub struct Cell {
    pub kmod: String,
    pub arch: String,
    pub variant: Variant,
    pub built_for: Option<KernelConfig>,
    pub kernel: KernelConfig,
    pub layout: &'static str,
    pub verdict: Verdict,
    pub expected: Verdict,
    pub findings: Vec<Finding>,
    /// amd64: whether the module, loaded into the emulated kernel, passes
    /// its own scenario (`vnetgen::kld`): `loads` when it does.  Absent
    /// where nothing was run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runs: Option<Verdict>,
    /// Why the scenario failed, where it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runs_detail: Option<String>,
    /// amd64 and i386, with `vnetgen abi --real-kernels`: whether the
    /// module passes its scenario on the real FreeBSD kernel of the cell's
    /// configuration (`vnetgen::vm`).  Absent where nothing was booted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub real: Option<Verdict>,
    /// The real kernel's first failing step, where the scenario failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub real_detail: Option<String>,
}

impl Cell {
    /// A cell that fails where the expected matrix says it loads.
    pub fn unexpected_failure(&self) -> bool {
        (self.expected == Verdict::Loads
            && (self.verdict == Verdict::Fails
                || self.runs == Some(Verdict::Fails)
                || self.real == Some(Verdict::Fails)))
            || self.disagrees()
    }

    /// The prediction, the emulator and the real kernel do not all give
    /// the same answer (where each was asked).
    pub fn disagrees(&self) -> bool {
        [self.runs, self.real]
            .iter()
            .flatten()
            .any(|v| *v != self.verdict)
    }

    /// The three answers, for a disagreement's message.
    pub fn answers(&self) -> String {
        let name = |v: Option<Verdict>| v.map_or("-", Verdict::name);
        format!(
            "predicted {}, emulator {}, real kernel {}",
            self.verdict.name(),
            name(self.runs),
            name(self.real)
        )
    }

    /// The static verdict, or the run's where there is one, differs from
    /// the expected matrix.
    pub fn differs(&self) -> bool {
        self.verdict != self.expected
            || self.runs.is_some_and(|r| r != self.expected)
            || self.real.is_some_and(|r| r != self.expected)
    }
}

/// One entry of compile_commands.json.
#[derive(Debug, Clone, Serialize)]
pub struct CompileCommand {
    pub directory: String,
    pub arguments: Vec<String>,
    pub file: String,
    pub output: String,
}

/// Everything a run found.
#[derive(Debug, Clone)]
pub struct LabReport {
    pub cells: Vec<Cell>,
    pub builds: Vec<BuildRecord>,
    pub compile_commands: Vec<CompileCommand>,
}

impl LabReport {
    pub fn compiled(&self) -> usize {
        self.builds.iter().filter(|b| !b.cached).count()
    }
}

/// The modules under a directory: every subdirectory with a `.c` file.
pub fn find_kmods(dir: &Path) -> Result<Vec<(String, Vec<PathBuf>)>, LabError> {
    let mut kmods = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io(dir))? {
        let entry = entry.map_err(io(dir))?;
        let path = entry.path();
        if !path.is_dir() {
            continue;
        }
        let mut sources: Vec<PathBuf> = std::fs::read_dir(&path)
            .map_err(io(&path))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "c"))
            .collect();
        if sources.is_empty() {
            continue;
        }
        sources.sort();
        kmods.push((entry.file_name().to_string_lossy().into_owned(), sources));
    }
    kmods.sort();
    if kmods.is_empty() {
        return Err(LabError::Setup(format!(
            "{}: no module directories with .c files",
            dir.display()
        )));
    }
    Ok(kmods)
}

/// The toolchain's identity, for the cache key.
fn toolchain_version(toolchain: &Toolchain) -> Result<String, LabError> {
    let mut version = String::new();
    for tool in [&toolchain.clang, &toolchain.lld] {
        let out = Command::new(tool)
            .arg("--version")
            .output()
            .map_err(|e| LabError::Setup(format!("{}: {e}", tool.display())))?;
        version.push_str(&String::from_utf8_lossy(&out.stdout));
    }
    Ok(version)
}

struct Job {
    kmod: String,
    kmod_dir: PathBuf,
    sources: Vec<PathBuf>,
    arch: String,
    variant: Variant,
    built_for: KernelConfig,
    /// Compiler arguments of the build's own (`-DINVARIANTS`).
    extra_cflags: Vec<String>,
}

/// Runs the matrix.
pub fn run(spec: &Spec, options: &LabOptions) -> Result<LabReport, LabError> {
    run_on(spec, options, None)
}

/// Runs the matrix against the headers already in `headers` (a directory
/// laid out as `generate` writes it, `sys/net/vnet.h` and the others)
/// instead of rendering them from the spec: the mutation tests run the lab
/// on edited copies.  The spec still gives the architectures, the flags and
/// the kernel models.
pub fn run_with_headers(
    spec: &Spec,
    options: &LabOptions,
    headers: &Path,
) -> Result<LabReport, LabError> {
    run_on(spec, options, Some(headers))
}

fn run_on(
    spec: &Spec,
    options: &LabOptions,
    headers: Option<&Path>,
) -> Result<LabReport, LabError> {
    let toolchain = Toolchain::locate()?;
    let rules = load_rules()?;
    for arch in &options.archs {
        if spec.arch(arch).is_none() {
            return Err(LabError::Setup(format!("unknown arch `{arch}`")));
        }
    }
    let kmods = find_kmods(&options.kmods)?;
    let (generated, base) = prepare_cache(spec, options, &toolchain, headers)?;

    let mut jobs = Vec::new();
    for (kmod, sources) in &kmods {
        for arch in &options.archs {
            for &variant in &options.variants {
                // kld-tied follows the kernel it is built for; the others do not.
                let built_for: Vec<KernelConfig> = if variant == Variant::KldTied {
                    options.kernels.clone()
                } else {
                    vec![KernelConfig::Vimage]
                };
                for b in built_for {
                    jobs.push(Job {
                        kmod: kmod.clone(),
                        kmod_dir: options.kmods.join(kmod),
                        sources: sources.clone(),
                        arch: arch.clone(),
                        variant,
                        built_for: b,
                        extra_cflags: Vec::new(),
                    });
                }
            }
        }
    }
    // Longest builds first (the most sources, vnet_support.c counted), so
    // that no long one starts last while the other cores sit idle.
    jobs.sort_by_key(|j| {
        std::cmp::Reverse(
            j.sources.len() + usize::from(crate::build::kmod::needs_support_file(spec, j.variant)),
        )
    });

    let bar = if options.progress && std::io::stderr().is_terminal() {
        let bar =
            ProgressBar::with_draw_target(Some(jobs.len() as u64), ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} builds {msg}") {
            bar.set_style(style);
        }
        bar
    } else {
        ProgressBar::hidden()
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(options.jobs.max(1))
        .build()
        .map_err(|e| LabError::Setup(e.to_string()))?;

    type Built = (BuildRecord, Vec<CompileCommand>, ObjectInfo);
    let results: Vec<Result<Built, LabError>> = pool.install(|| {
        jobs.par_iter()
            .map(|job| {
                let r = build_one(spec, options, &toolchain, &generated, &base, job);
                bar.inc(1);
                bar.set_message(format!("{} {} {}", job.kmod, job.arch, job.variant));
                r
            })
            .collect()
    });
    bar.finish_and_clear();
    let mut built = Vec::new();
    for r in results {
        built.push(r?);
    }

    // Does each module use VNET?  Its expect.toml says, or its VIMAGE builds show.
    let mut uses_vnet: BTreeMap<String, bool> = BTreeMap::new();
    for (kmod, _) in &kmods {
        let expectation = Expectation::load(&options.kmods.join(kmod))?;
        let learnt = built.iter().any(|(b, _, o)| {
            &b.kmod == kmod
                && matches!(
                    classify(spec, o, false).layout,
                    Layout::Vimage | Layout::Runtime(_)
                )
        });
        uses_vnet.insert(kmod.clone(), expectation.vnet.unwrap_or(learnt));
    }

    let models: BTreeMap<KernelConfig, KernelModel> = options
        .kernels
        .iter()
        .map(|&k| (k, KernelModel::new(spec, k, spec.detect)))
        .collect();
    let mut cells = Vec::new();
    for (record, _, object) in &built {
        let Some(arch) = spec.arch(&record.arch) else {
            continue;
        };
        let vnet = uses_vnet.get(&record.kmod).copied().unwrap_or(false);
        let classification: Classification = classify(spec, object, vnet);
        for &kernel in &options.kernels {
            let Some(model) = models.get(&kernel) else {
                continue;
            };
            let ctx = Context {
                spec,
                arch,
                object,
                kernel: model,
                classification: &classification,
            };
            let findings = evaluate(&rules, &ctx);
            let verdict = if findings.iter().any(|f| f.severity == Severity::Error) {
                Verdict::Fails
            } else {
                Verdict::Loads
            };
            let built_for = record.built_for.unwrap_or(KernelConfig::Vimage);
            let expected = if expected_loads(vnet, record.variant, built_for, kernel) {
                Verdict::Loads
            } else {
                Verdict::Fails
            };
            cells.push(Cell {
                kmod: record.kmod.clone(),
                arch: record.arch.clone(),
                variant: record.variant,
                built_for: record.built_for,
                kernel,
                layout: classification.layout.name(),
                verdict,
                expected,
                findings,
                runs: None,
                runs_detail: None,
                real: None,
                real_detail: None,
            });
        }
    }
    cells.sort_by(|a, b| {
        (&a.kmod, &a.arch, a.variant, a.built_for, a.kernel).cmp(&(
            &b.kmod,
            &b.arch,
            b.variant,
            b.built_for,
            b.kernel,
        ))
    });
    let compile_commands = built
        .iter()
        .flat_map(|(_, c, _)| c.iter().cloned())
        .collect();
    let builds = built.into_iter().map(|(b, _, _)| b).collect();
    Ok(LabReport {
        cells,
        builds,
        compile_commands,
    })
}

/// Renders the headers into the cache and hashes what every build shares:
/// the headers' directory and the base of every build's key.
fn prepare_cache(
    spec: &Spec,
    options: &LabOptions,
    toolchain: &Toolchain,
    headers: Option<&Path>,
) -> Result<(PathBuf, String), LabError> {
    std::fs::create_dir_all(&options.cache).map_err(io(&options.cache))?;

    // The headers, rendered once (or given); their text is part of every key.
    let mut key = cache::KeyHasher::new("vnetgen-lab-1");
    let (generated, headers_key) = match headers {
        Some(dir) => {
            cache::hash_tree(&mut key, dir).map_err(io(dir))?;
            (dir.to_path_buf(), key.finish())
        }
        None => {
            let files = render(spec).map_err(|e| LabError::Setup(e.to_string()))?;
            for f in &files {
                key.add(&f.path, f.contents.as_bytes());
            }
            let headers_key = key.finish();
            let generated = options
                .cache
                .join(format!("headers-{}", &headers_key[..16]));
            write_outputs(&generated, &files, true).map_err(|e| LabError::Setup(e.to_string()))?;
            (generated, headers_key)
        }
    };

    let mut base = cache::KeyHasher::new("vnetgen-lab-1");
    base.add("headers", headers_key.as_bytes());
    cache::hash_tree(&mut base, &options.sysroot).map_err(io(&options.sysroot))?;
    base.add("toolchain", toolchain_version(toolchain)?.as_bytes());
    Ok((generated, base.finish()))
}

/// Builds the module whose sources are in `dir` for one cell, through the
/// same cache as [`run`] (a build `run` made is reused), and returns its
/// `.ko`.  `options.kmods`, `archs`, `variants` and `kernels` are not used.
pub fn build_module(
    spec: &Spec,
    options: &LabOptions,
    dir: &Path,
    arch: &str,
    variant: Variant,
    built_for: KernelConfig,
) -> Result<PathBuf, LabError> {
    build_module_with_headers(spec, options, dir, arch, variant, built_for, None)
}

/// [`build_module`] against a given directory of headers (a mutant's, say)
/// instead of the spec's rendering.
pub fn build_module_with_headers(
    spec: &Spec,
    options: &LabOptions,
    dir: &Path,
    arch: &str,
    variant: Variant,
    built_for: KernelConfig,
    headers: Option<&Path>,
) -> Result<PathBuf, LabError> {
    build_module_with(spec, options, dir, arch, variant, built_for, headers, &[])
}

/// [`build_module_with_headers`] with compiler arguments of the build's own
/// (a scenario's `define=INVARIANTS`), which its cache key includes.
#[allow(clippy::too_many_arguments)]
pub fn build_module_with(
    spec: &Spec,
    options: &LabOptions,
    dir: &Path,
    arch: &str,
    variant: Variant,
    built_for: KernelConfig,
    headers: Option<&Path>,
    extra_cflags: &[String],
) -> Result<PathBuf, LabError> {
    let toolchain = Toolchain::locate()?;
    let (kmod, sources) = module_sources(dir)?;
    let (generated, base) = prepare_cache(spec, options, &toolchain, headers)?;
    let job = Job {
        kmod,
        kmod_dir: dir.to_path_buf(),
        sources,
        arch: arch.to_string(),
        variant,
        built_for,
        extra_cflags: extra_cflags.to_vec(),
    };
    let (record, _, _) = build_one(spec, options, &toolchain, &generated, &base, &job)?;
    Ok(record.ko)
}

/// A module directory's name and its `.c` files, sorted.
fn module_sources(dir: &Path) -> Result<(String, Vec<PathBuf>), LabError> {
    let mut sources: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io(dir))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "c"))
        .collect();
    if sources.is_empty() {
        return Err(LabError::Setup(format!("{}: no .c files", dir.display())));
    }
    sources.sort();
    let kmod = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| LabError::Setup(format!("{}: not a module directory", dir.display())))?;
    Ok((kmod, sources))
}

/// Builds the module whose sources are in `dir` as one dual module (both
/// compiled-in builds and the dispatcher), through the lab's cache, and
/// returns its `.ko`.
pub fn build_dual_module(
    spec: &Spec,
    options: &LabOptions,
    dir: &Path,
    arch: &str,
    headers: Option<&Path>,
    extra_cflags: &[String],
) -> Result<PathBuf, LabError> {
    let toolchain = Toolchain::locate()?;
    let Some(arch_spec) = spec.arch(arch) else {
        return Err(LabError::Setup(format!("unknown arch `{arch}`")));
    };
    let (kmod, sources) = module_sources(dir)?;
    let (generated, base) = prepare_cache(spec, options, &toolchain, headers)?;
    let mut key = cache::KeyHasher::new(&base);
    key.add("dual", kmod.as_bytes());
    cache::hash_tree(&mut key, dir).map_err(io(dir))?;
    key.add("arch", arch.as_bytes());
    key.add(
        "release",
        options
            .release
            .as_ref()
            .map_or("", |r| r.name.as_str())
            .as_bytes(),
    );
    key.add("cflags", extra_cflags.join("\u{1f}").as_bytes());
    // The joiner and the dispatcher are vnetgen's own: its version keys them.
    key.add("vnetgen", env!("CARGO_PKG_VERSION").as_bytes());
    // ...and so does the source of the joiner and of the dispatcher.
    for source in [
        include_str!("../../templates/dual_shim.c"),
        include_str!("../gen/dual.rs"),
        include_str!("../build/dual/mod.rs"),
        include_str!("../build/dual/exports.rs"),
    ] {
        key.add("glue", source.as_bytes());
    }
    let key = key.finish();
    let builds = options.cache.join("builds");
    let out_dir = builds.join(format!("{}-dual", &key[..24]));
    let ko = out_dir.join(format!("{kmod}.ko"));
    if ko.is_file() {
        return Ok(ko);
    }
    build_staged(&out_dir, |staging| {
        crate::build::dual::DualBuild {
            spec,
            arch: arch_spec,
            release: options.release.as_ref(),
            name: &kmod,
            sources: &sources,
            generated: &generated,
            sysroot: &options.sysroot,
            out_dir: staging,
            extra_cflags,
            mutant: None,
        }
        .build(&toolchain)?;
        Ok(())
    })?;
    Ok(ko)
}

/// Runs `build` in a fresh directory beside `out_dir`, then renames it into
/// place: a half-built directory is never taken for a cached one.  Unique
/// per process and per build: threads of one process may build the same
/// module at once.
fn build_staged(
    out_dir: &Path,
    build: impl FnOnce(&Path) -> Result<(), LabError>,
) -> Result<(), LabError> {
    static STAGING: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = STAGING.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut name = out_dir.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".tmp-{}-{n}", std::process::id()));
    let staging = out_dir.with_file_name(name);
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging).map_err(io(&staging))?;
    build(&staging)?;
    if std::fs::rename(&staging, out_dir).is_err() {
        // Another run finished the same build first; its result is as good.
        let _ = std::fs::remove_dir_all(&staging);
    }
    Ok(())
}

fn module_build<'a>(
    spec: &'a Spec,
    target: Target<'a>,
    job: &'a Job,
    generated: &'a Path,
    sysroot: &'a Path,
    out_dir: &'a Path,
) -> ModuleBuild<'a> {
    ModuleBuild {
        spec,
        target,
        name: &job.kmod,
        sources: &job.sources,
        generated,
        sysroot,
        out_dir,
        extra_cflags: &job.extra_cflags,
    }
}

fn build_one(
    spec: &Spec,
    options: &LabOptions,
    toolchain: &Toolchain,
    generated: &Path,
    base: &str,
    job: &Job,
) -> Result<(BuildRecord, Vec<CompileCommand>, ObjectInfo), LabError> {
    let Some(arch) = spec.arch(&job.arch) else {
        return Err(LabError::Setup(format!("unknown arch `{}`", job.arch)));
    };
    let mut key = cache::KeyHasher::new(base);
    key.add("kmod", job.kmod.as_bytes());
    cache::hash_tree(&mut key, &job.kmod_dir).map_err(io(&job.kmod_dir))?;
    key.add("set_pad", &arch.set_pad.to_le_bytes());
    // The padding word of the linker script (the release's, or the newest).
    let pad_word = options
        .release
        .as_ref()
        .or(spec.newest_release())
        .map_or(0, |r| r.i386_set_pad_value);
    key.add("set_pad_word", &pad_word.to_le_bytes());
    let target = Target {
        variant: job.variant,
        kernel: job.built_for,
        arch,
        release: options.release.as_ref(),
    };
    let build_in = |out_dir: &Path| {
        module_build(
            spec,
            target.clone(),
            job,
            generated,
            &options.sysroot,
            out_dir,
        )
        .plan()
    };
    // The commands, with a fixed directory, key the build.
    let probe = build_in(Path::new("/vnetgen-lab"));
    for step in &probe.compiles {
        key.add("compile", step.args.join("\u{1f}").as_bytes());
    }
    key.add("link", probe.link.join("\u{1f}").as_bytes());
    let key = key.finish();
    let builds = options.cache.join("builds");
    let out_dir = builds.join(&key[..24]);
    let plan = build_in(&out_dir);
    let cached = plan.ko.is_file();
    if !cached {
        build_staged(&out_dir, |staging| {
            module_build(
                spec,
                target.clone(),
                job,
                generated,
                &options.sysroot,
                staging,
            )
            .build(toolchain)?;
            Ok(())
        })?;
    }
    let mut object = inspect_file(&plan.ko)?;
    // Findings name the module, not the cache's path to it.
    object.name = format!("{}.ko", job.kmod);
    let commands = plan
        .compiles
        .iter()
        .map(|c| {
            let mut arguments = vec![toolchain.clang.display().to_string()];
            arguments.extend(c.args.iter().cloned());
            CompileCommand {
                directory: job.kmod_dir.display().to_string(),
                arguments,
                file: c.source.display().to_string(),
                output: c.object.display().to_string(),
            }
        })
        .collect();
    let record = BuildRecord {
        kmod: job.kmod.clone(),
        arch: job.arch.clone(),
        variant: job.variant,
        built_for: (job.variant == Variant::KldTied).then_some(job.built_for),
        link_command: std::iter::once(toolchain.lld.display().to_string())
            .chain(plan.link.iter().cloned())
            .collect(),
        ko: plan.ko,
        cached,
    };
    Ok((record, commands, object))
}
