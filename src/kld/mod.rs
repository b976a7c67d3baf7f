//! kld: an emulated FreeBSD kernel linker that loads amd64 test modules
//! (the `ld -r` objects the lab builds, with the real kernel flags) into an
//! emulated kernel, VIMAGE or not, and runs their code.  Static inspection
//! predicts which build works on which kernel; this proves it.
//!
//! The stages, one module each:
//!
//! * [`scenario`]: the scenario files (`vnetgen kld run`).
//! * [`elf`]: reading an object, every offset checked.
//! * [`link`]: `link_elf_obj`: placement, module space, copies,
//!   relocation, protection, the SYSINIT order.
//! * [`kernel`] and [`kpi`]: the emulated kernel and the functions it
//!   exports, with FreeBSD's semantics, per kernel model.
//! * [`child`] and [`run`]: a child process per scenario, where module
//!   code runs; faults, panics and time-outs end the child only.
//! * [`abi`] and [`layout`]: the structures C and Rust share.
//! * [`matrix`]: the `runs` verdict of the lab's amd64 cells.
//!
//! Only x86-64 hosts run modules (the loader executes amd64 code natively).
//!
//! Inside, one direction: [`child`] (the process and its channel) is used by
//! [`kernel`]; the [`kpi`] operates on the kernel; the loader ([`link`])
//! uses the kernel; [`run`] wires them together.  The kernel never calls
//! the KPI or the loader.
//!
//! Uses: `spec`, `inspect`, `lab` (the `runs` column).

pub mod abi;
pub mod child;
pub mod elf;
pub mod kernel;
pub mod kpi;
pub mod layout;
pub mod link;
pub mod matrix;
pub mod memory;
pub mod modspace;
pub mod printf;
pub mod run;
pub mod scenario;

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::lab::{self, LabOptions};
use crate::spec::variant::KernelConfig;
use crate::spec::{Release, Spec};

pub use scenario::{Command, LoadItem, Scenario, ScenarioError};

#[derive(Debug, thiserror::Error)]
pub enum KldError {
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("running the scenario's child process: {0}")]
    Child(std::io::Error),
    #[error("vnetgen kld runs amd64 modules natively, and this host is not x86-64")]
    UnsupportedHost,
    #[error("{0}")]
    Release(String),
}

/// How to run scenarios.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The spec: the kernel models, and the headers of source builds.
    pub spec: Spec,
    /// The lab's build cache, for modules loaded from their sources.
    pub cache: PathBuf,
    pub sysroot: PathBuf,
    /// The time limit of one scenario.
    pub timeout: Duration,
    /// `$NAME` substitutions.
    pub vars: BTreeMap<String, String>,
    /// The FreeBSD release the emulated kernel follows (its copy order and
    /// the stub sysroot's layouts of source builds); `None`: the newest.
    pub release: Option<String>,
    /// The architecture whose kernel linker is modelled (`amd64`'s
    /// link_elf_obj, or `i386`'s link_elf, with its messages and copies);
    /// modules still run as amd64 code.  `None`: amd64.
    pub arch: Option<String>,
}

/// What one step gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepOutcome {
    /// The scenario line.
    pub line: usize,
    /// The command as written.
    pub command: String,
    pub ok: bool,
    /// What happened, or why it failed.
    pub text: String,
    /// The number a `call` or `sysctl` gave.
    pub value: Option<i64>,
    /// The step does not apply to this kernel.
    pub skipped: bool,
    /// The console (printf) output during the step.
    pub console: String,
    /// A `call`'s time-stamp counter ticks.
    pub cycles: Option<u64>,
}

/// The first failed step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub line: usize,
    pub message: String,
}

/// What a scenario printed, and whether it passed.
#[derive(Debug, Clone)]
pub struct Transcript {
    pub name: String,
    pub text: String,
    pub failure: Option<Failure>,
    /// Each step that ran, in order, up to the first failure.
    pub steps: Vec<StepOutcome>,
}

impl Transcript {
    pub fn passed(&self) -> bool {
        self.failure.is_none()
    }
}

/// Reads and runs a scenario file.
pub fn run_file(path: &Path, options: &RunOptions) -> Result<Transcript, KldError> {
    let text = std::fs::read_to_string(path).map_err(|source| KldError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let base = path.parent().unwrap_or(Path::new("."));
    let name = path.display().to_string();
    let scenario = scenario::parse(&name, &text, base, &options.vars)?;
    run_scenario(&scenario, options)
}

/// Reads and runs a scenario file against a given directory of headers.
pub fn run_file_with_headers(
    path: &Path,
    options: &RunOptions,
    headers: &Path,
) -> Result<Transcript, KldError> {
    let text = std::fs::read_to_string(path).map_err(|source| KldError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let base = path.parent().unwrap_or(Path::new("."));
    let scenario = scenario::parse(&path.display().to_string(), &text, base, &options.vars)?;
    run_scenario_with_headers(&scenario, options, Some(headers))
}

/// The release of a run: the one asked for, or the newest.
pub fn release_of(options: &RunOptions) -> Result<Release, KldError> {
    options
        .spec
        .release_or_newest(options.release.as_deref())
        .cloned()
        .map_err(KldError::Release)
}

/// Builds or reads what each `load` needs; failures become load errors.
fn prepare(
    scenario: &Scenario,
    options: &RunOptions,
    release: &Release,
    headers: Option<&Path>,
) -> HashMap<usize, Vec<run::Prepared>> {
    let mut spec = options.spec.clone();
    spec.detect = run::detect_of(&options.spec, scenario);
    let images = LoadImages {
        spec: &spec,
        cache: &options.cache,
        sysroot: &options.sysroot,
        release,
        arch: "amd64",
        headers,
    };
    images.of(scenario, scenario.kernel()).into_iter().collect()
}

/// How the modules of a scenario's `load` steps are found: `.ko` files
/// read, module sources built by the lab for one architecture and release.
/// The emulator and the real kernels (`vnetgen vm`) load the same bytes.
pub struct LoadImages<'a> {
    /// The spec, with the scenario's detection mode.
    pub spec: &'a Spec,
    pub cache: &'a Path,
    pub sysroot: &'a Path,
    pub release: &'a Release,
    pub arch: &'a str,
    /// Headers to build against instead of the generated ones (a mutant's).
    pub headers: Option<&'a Path>,
}

impl LoadImages<'_> {
    /// For each `load` step that applies on a `config` kernel, by step
    /// index, what it loads; a module that cannot be read or built is its
    /// load error.
    pub fn of(
        &self,
        scenario: &Scenario,
        config: Option<KernelConfig>,
    ) -> Vec<(usize, Vec<run::Prepared>)> {
        let lab_options = LabOptions {
            archs: vec![self.arch.to_string()],
            variants: Vec::new(),
            kernels: Vec::new(),
            kmods: PathBuf::new(),
            jobs: 1,
            cache: self.cache.to_path_buf(),
            sysroot: self.sysroot.to_path_buf(),
            progress: false,
            release: Some(self.release.clone()),
        };
        let mut out = Vec::new();
        for (i, step) in scenario.steps.iter().enumerate() {
            let (Command::Load(items) | Command::Preload(items)) = &step.command else {
                continue;
            };
            if step.only_on.is_some() && step.only_on != config {
                continue;
            }
            let prepared = items
                .iter()
                .map(|item| {
                    let name = item.display_name();
                    let bytes = match item {
                        LoadItem::Object(p) => std::fs::read(p)
                            .map_err(|e| format!("kldload: can't load {}: {e}", p.display())),
                        LoadItem::Sources {
                            dir,
                            variant,
                            built_for,
                            ..
                        } => lab::build_module_with(
                            self.spec,
                            &lab_options,
                            dir,
                            self.arch,
                            *variant,
                            *built_for,
                            self.headers,
                            &item.extra_cflags(),
                        )
                        .map_err(|e| format!("building {}: {e}", dir.display()))
                        .and_then(|ko| read_module(&ko)),
                        LoadItem::Dual { dir, .. } => lab::build_dual_module(
                            self.spec,
                            &lab_options,
                            dir,
                            self.arch,
                            self.headers,
                            &item.extra_cflags(),
                        )
                        .map_err(|e| format!("building {} dual: {e}", dir.display()))
                        .and_then(|ko| read_module(&ko)),
                    };
                    run::Prepared { name, bytes }
                })
                .collect();
            out.push((i, prepared));
        }
        out
    }
}

/// A built module's bytes, or why not.
fn read_module(ko: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(ko).map_err(|e| format!("{}: {e}", ko.display()))
}

/// Runs a parsed scenario in a child process and writes its transcript.
pub fn run_scenario(scenario: &Scenario, options: &RunOptions) -> Result<Transcript, KldError> {
    run_scenario_with_headers(scenario, options, None)
}

/// [`run_scenario`], building the modules it loads from their sources
/// against a given directory of headers (a mutant's, say).
pub fn run_scenario_with_headers(
    scenario: &Scenario,
    options: &RunOptions,
    headers: Option<&Path>,
) -> Result<Transcript, KldError> {
    if !cfg!(target_arch = "x86_64") {
        return Err(KldError::UnsupportedHost);
    }
    let release = release_of(options)?;
    let loads = prepare(scenario, options, &release, headers);
    let spec = options.spec.clone();
    let loader = kernel::Loader::of_arch(options.arch.as_deref().unwrap_or("amd64"));
    let result = child::run_in_child(options.timeout, || {
        run::execute(&spec, &release, loader, scenario, &loads)
    })
    .map_err(KldError::Child)?;

    let short = Path::new(&scenario.name)
        .file_name()
        .map_or(scenario.name.clone(), |n| n.to_string_lossy().into_owned());
    let mut text = String::new();
    let mut failure = None;
    let mut reported = 0;
    let mut steps = Vec::new();
    for event in &result.events {
        let Some(step) = scenario.steps.get(event.index) else {
            continue;
        };
        reported = event.index + 1;
        steps.push(StepOutcome {
            line: step.line,
            command: step.text.clone(),
            ok: event.ok,
            text: event.text.clone(),
            value: event.value,
            skipped: event.skipped,
            console: event.console.clone(),
            cycles: event.cycles,
        });
        let _ = writeln!(text, "{short}:{}: {}", step.line, step.text);
        for line in event.console.lines() {
            let _ = writeln!(text, "    | {line}");
        }
        if event.ok {
            let _ = writeln!(text, "    {}", event.text);
        } else {
            let _ = writeln!(text, "    FAILED: {}", event.text);
            failure = Some(Failure {
                line: step.line,
                message: event.text.clone(),
            });
            break;
        }
    }
    if failure.is_none() && reported < scenario.steps.len() {
        // The child ended early: a fault, the time limit, or a crash.
        let step = &scenario.steps[reported];
        let message = if let Some(fault) = &result.fault {
            format!("module fault: {fault}")
        } else if result.timed_out {
            format!(
                "time limit of {} s exceeded; the child was killed",
                options.timeout.as_secs_f64()
            )
        } else {
            format!("the emulated kernel ended unexpectedly ({})", result.status)
        };
        let _ = writeln!(text, "{short}:{}: {}", step.line, step.text);
        let _ = writeln!(text, "    FAILED: {message}");
        steps.push(StepOutcome {
            line: step.line,
            command: step.text.clone(),
            ok: false,
            text: message.clone(),
            value: None,
            skipped: false,
            console: String::new(),
            cycles: None,
        });
        failure = Some(Failure {
            line: step.line,
            message,
        });
    }
    match &failure {
        Some(f) => {
            let _ = writeln!(text, "{}:{}: FAILED: {}", scenario.name, f.line, f.message);
        }
        None => {
            let _ = writeln!(
                text,
                "{}: passed ({} steps)",
                scenario.name,
                scenario.steps.len()
            );
        }
    }
    Ok(Transcript {
        name: scenario.name.clone(),
        text,
        failure,
        steps,
    })
}
