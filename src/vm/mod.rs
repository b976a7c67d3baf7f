//! vm: real FreeBSD kernels in the loop.  Boots amd64 and i386 kernels in
//! QEMU with an init of our own, runs `vnetgen kld` scenarios on them
//! (kldload, sysctls, vnet jails), and reports each step's outcome with the
//! kernel's own console lines, so that the emulator (`kld`) can be held to
//! what real kernels do.
//!
//! The stages, one module each:
//!
//! * [`kernel`]: what a kernel ELF is (arch, release, VIMAGE).
//! * [`plan`]: scenarios into the guest's plan; the console back into
//!   step outcomes.
//! * [`image`], [`grub`], [`cache`]: the init (`init.c`, compiled with
//!   clang-19), the root image (xorriso), the boot CD (grub-mkrescue with a
//!   patched GRUB), cached by content under `target/`.
//! * [`qemu`]: one boot, with a time limit on each step.
//! * [`compare`]: an emulated run against a real one, step by step.
//! * [`report`]: text, JSON and JUnit.
//!
//! Each kernel boots once with all its scenarios; a scenario that panics
//! or hangs the kernel fails, and the scenarios after it run in a new boot.
//!
//! Uses: `spec`, `build` (the toolchain), `lab` (module builds and their
//! cache), `kld` (the scenario language, the errno names, step outcomes).

pub mod cache;
pub mod compare;
pub mod grub;
pub mod image;
pub mod kernel;
pub mod matrix;
pub mod plan;
pub mod qemu;
pub mod report;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::build::toolchain::{Toolchain, ToolchainError};
use crate::kld::scenario::{self, Command, ScenarioError};
use crate::spec::{Release, Spec, VnetCopyOrder};

pub use kernel::{KernelInfo, NotAKernel};
pub use plan::{ScenarioResult, Verdict};
pub use qemu::Accel;

/// The Debian packages a boot needs.
pub const INSTALL_HINT: &str =
    "install them with: apt-get install -y qemu-system-x86 grub-pc-bin grub-common xorriso mtools";

#[derive(Debug, thiserror::Error)]
pub enum VmError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{tool} not found; {hint}")]
    MissingTool { tool: String, hint: String },
    #[error("{tool} failed {what}:\n{output}")]
    Tool {
        tool: String,
        what: String,
        output: String,
    },
    #[error("{}: cannot patch GRUB: {reason}", path.display())]
    Grub { path: PathBuf, reason: String },
    #[error("{0}")]
    Plan(String),
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    #[error(transparent)]
    Toolchain(#[from] ToolchainError),
    #[error("{0}")]
    Release(String),
}

impl VmError {
    pub fn io(path: &Path) -> impl FnOnce(std::io::Error) -> VmError + '_ {
        move |source| VmError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// How to run.
#[derive(Debug, Clone)]
pub struct VmOptions {
    pub spec: Spec,
    /// The lab's build cache, for modules loaded from their sources.
    pub cache: PathBuf,
    /// Where boot artefacts are cached.
    pub vm_cache: PathBuf,
    pub sysroot: PathBuf,
    /// The longest a step (the boot to init included) may take.
    pub timeout: Duration,
    /// `$NAME` substitutions; `kernel` and `detect` default to the kernel's.
    pub vars: BTreeMap<String, String>,
    /// The release modules are built for; `None`: each kernel's own.
    pub release: Option<String>,
    pub accel: Accel,
    pub memory_mb: u32,
    /// GRUB's i386-pc platform directory (Debian's grub-pc-bin).
    pub grub_dir: PathBuf,
}

/// One boot of a kernel.
#[derive(Debug, Clone)]
pub struct BootRecord {
    /// The whole console of the boot, with the seconds of each line.
    pub log: PathBuf,
    /// From QEMU's start to its end.
    pub seconds: f64,
    /// When the kernel's copyright banner came.
    pub kernel_at: Option<f64>,
    /// When the init's first line came.
    pub init_at: Option<f64>,
    /// How it ended.
    pub ended: String,
    /// The scenarios it ran.
    pub scenarios: usize,
}

/// Everything a kernel gave.
#[derive(Debug, Clone)]
pub struct KernelReport {
    /// `13.2/amd64/VIMAGE`.
    pub label: String,
    pub path: PathBuf,
    pub info: Option<KernelInfo>,
    pub release: Option<String>,
    /// Why the kernel could not be run at all, if it could not.
    pub problem: Option<String>,
    pub boots: Vec<BootRecord>,
    pub scenarios: Vec<ScenarioResult>,
}

impl KernelReport {
    pub fn passed(&self) -> bool {
        self.problem.is_none()
            && self
                .scenarios
                .iter()
                .all(|s| !matches!(s.verdict, Verdict::Failed { .. }))
    }
}

/// Runs every scenario on every kernel; one QEMU at a time.
pub fn run(
    kernels: &[PathBuf],
    scenarios: &[PathBuf],
    options: &VmOptions,
) -> Result<Vec<KernelReport>, VmError> {
    let with_vars: Vec<(PathBuf, BTreeMap<String, String>)> = scenarios
        .iter()
        .map(|s| (s.clone(), options.vars.clone()))
        .collect();
    run_with_vars(kernels, &with_vars, options)
}

/// [`run`], each scenario with variables of its own.
pub fn run_with_vars(
    kernels: &[PathBuf],
    scenarios: &[(PathBuf, BTreeMap<String, String>)],
    options: &VmOptions,
) -> Result<Vec<KernelReport>, VmError> {
    let texts = scenarios
        .iter()
        .map(|(p, vars)| {
            std::fs::read_to_string(p)
                .map(|t| (p.clone(), t, vars.clone()))
                .map_err(VmError::io(p))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(r) = options.release.as_deref() {
        options
            .spec
            .release_or_newest(Some(r))
            .map_err(VmError::Release)?;
    }
    let toolchain = Toolchain::locate()?;
    let mut reports = Vec::new();
    for k in kernels {
        reports.push(run_kernel(k, &texts, options, &toolchain)?);
    }
    Ok(reports)
}

fn copy_name(order: VnetCopyOrder) -> &'static str {
    match order {
        VnetCopyOrder::BeforeRelocation => "before-relocation",
        VnetCopyOrder::AfterRelocation => "after-relocation",
    }
}

/// The release a kernel's modules are built for.
fn release_for(options: &VmOptions, info: &KernelInfo) -> Result<Release, String> {
    let spec = &options.spec;
    if let Some(name) = options.release.as_deref() {
        return spec.release_or_newest(Some(name)).cloned();
    }
    match info.osreldate {
        Some(v) => spec.release_of_osreldate(v).cloned().ok_or_else(|| {
            let known: Vec<&str> = spec.releases.iter().map(|r| r.name.as_str()).collect();
            format!(
                "its osreldate {v} is no release of the spec ({}); pass --release",
                known.join(", ")
            )
        }),
        None => spec.release_or_newest(None).cloned(),
    }
}

/// A scenario that failed before its first step, for `message`.
fn failed(name: &str, message: &str, console: &[String]) -> ScenarioResult {
    ScenarioResult {
        name: name.to_string(),
        verdict: Verdict::Failed {
            line: 0,
            command: String::new(),
            message: message.to_string(),
        },
        steps: Vec::new(),
        console: console.to_vec(),
        notes: Vec::new(),
    }
}

fn failed_everywhere(names: &[String], message: &str, console: &[String]) -> Vec<ScenarioResult> {
    names.iter().map(|n| failed(n, message, console)).collect()
}

/// A scenario file: its path, its text and its variables.
type ScenarioText = (PathBuf, String, BTreeMap<String, String>);

fn run_kernel(
    arg: &Path,
    texts: &[ScenarioText],
    options: &VmOptions,
    toolchain: &Toolchain,
) -> Result<KernelReport, VmError> {
    let spec = &options.spec;
    let names: Vec<String> = texts
        .iter()
        .map(|(p, _, _)| p.display().to_string())
        .collect();
    let path = kernel::kernel_file(arg);
    let mut report = KernelReport {
        label: path.display().to_string(),
        path: path.clone(),
        info: None,
        release: None,
        problem: None,
        boots: Vec::new(),
        scenarios: Vec::new(),
    };
    let info = match kernel::identify(spec, arg) {
        Ok(info) => info,
        Err(e) => {
            let message = format!("not run: {e}");
            report.scenarios = failed_everywhere(&names, &message, &[]);
            report.problem = Some(e.to_string());
            return Ok(report);
        }
    };
    report.label = info.label.clone();
    report.info = Some(info.clone());
    let release = match release_for(options, &info) {
        Ok(r) => r,
        Err(e) => {
            let message = format!("{}: {e}", info.path.display());
            report.scenarios = failed_everywhere(&names, &message, &[]);
            report.problem = Some(message);
            return Ok(report);
        }
    };
    report.release = Some(release.name.clone());

    let mut planned = Vec::new();
    for (i, (path, text, vars)) in texts.iter().enumerate() {
        let mut vars = vars.clone();
        vars.entry("kernel".into())
            .or_insert_with(|| info.config.name().to_string());
        vars.entry("detect".into())
            .or_insert_with(|| spec.detect.name().to_string());
        let base = path.parent().unwrap_or(Path::new("."));
        let s = scenario::parse(&path.display().to_string(), text, base, &vars)?;
        let skip = applicability(&s, &info, &release);
        let modules = if skip.is_none() {
            prepare(&s, &info, &release, options)
        } else {
            BTreeMap::new()
        };
        planned.push(plan::Planned {
            id: i + 1,
            scenario: s,
            skip,
            modules,
        });
    }
    let kernel_text = format!(
        "FreeBSD {} {} kernel ({}{})",
        release.name,
        info.arch,
        info.config.name(),
        info.osreldate
            .map(|v| format!(", osreldate {v}"))
            .unwrap_or_default()
    );

    let mut results: BTreeMap<usize, ScenarioResult> = BTreeMap::new();
    for p in &planned {
        if let Some(reason) = &p.skip {
            results.insert(
                p.id,
                ScenarioResult {
                    name: p.scenario.name.clone(),
                    verdict: Verdict::Skipped(reason.clone()),
                    steps: Vec::new(),
                    console: Vec::new(),
                    notes: Vec::new(),
                },
            );
        }
    }
    let runnable: Vec<&plan::Planned> = planned.iter().filter(|p| p.skip.is_none()).collect();
    let grub = if runnable.is_empty() {
        None
    } else {
        Some(grub::patched_dir(&options.grub_dir, &options.vm_cache)?)
    };
    // The scenarios that preload the same files (most: none) share boots.
    let mut groups: Vec<(Vec<String>, Vec<&plan::Planned>)> = Vec::new();
    for p in runnable {
        let key: Vec<String> = p.preloads().iter().map(|m| m.path.clone()).collect();
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, list)) => list.push(p),
            None => groups.push((key, vec![p])),
        }
    }
    for (_, mut pending) in groups {
        while let (false, Some(grub)) = (pending.is_empty(), grub.as_deref()) {
            let (record, outcome) =
                boot_once(&info, &pending, &kernel_text, grub, options, toolchain)?;
            report.boots.push(record);
            let mut rest = Vec::new();
            let mut progressed = false;
            for p in pending {
                match outcome.get(&p.id) {
                    Some(r) => {
                        progressed = true;
                        results.insert(p.id, r.clone());
                    }
                    None => rest.push(p),
                }
            }
            if !progressed {
                // The boot ran none of them: booting again would do the same.
                let b = report
                    .boots
                    .last()
                    .map(|b| b.ended.clone())
                    .unwrap_or_default();
                for p in rest {
                    results.insert(p.id, failed(&p.scenario.name, &b, &[]));
                }
                break;
            }
            pending = rest;
        }
    }
    report.scenarios = results.into_values().collect();
    if let Some(b) = report
        .boots
        .iter()
        .find(|b| b.ended.contains("after the plan"))
    {
        report.problem = Some(format!("{} (see {})", b.ended, b.log.display()));
    }
    Ok(report)
}

/// Why a scenario does not run on a kernel, if it does not.
fn applicability(s: &scenario::Scenario, info: &KernelInfo, release: &Release) -> Option<String> {
    let Some(Command::Kernel {
        config,
        detect,
        vnet_copy,
        arch,
    }) = s.steps.first().map(|s| &s.command)
    else {
        return Some("no kernel line".into());
    };
    if let Some(a) = arch.as_deref().filter(|a| *a != info.arch) {
        return Some(format!(
            "it is for {a} kernels, and this one is {}",
            info.arch
        ));
    }
    if *config != info.config {
        return Some(format!(
            "it asks for a {} kernel, and this one is {}",
            config.name(),
            info.config.name()
        ));
    }
    if *detect == Some(crate::spec::variant::Detect::Kernel) && !info.has_flag {
        return Some(
            "detect=kernel needs a kernel that carries vnet_support.c (exports the flag)".into(),
        );
    }
    if let Some(c) = vnet_copy {
        if c.name() != copy_name(release.vnet_copy) {
            return Some(format!(
                "vnet-copy={}, and FreeBSD {} copies {}",
                c.name(),
                release.name,
                copy_name(release.vnet_copy)
            ));
        }
    }
    None
}

/// Reads or builds the modules of every `load` for the kernel's arch and
/// release, as the emulator does, each at a path of its own in the guest.
fn prepare(
    s: &scenario::Scenario,
    info: &KernelInfo,
    release: &Release,
    options: &VmOptions,
) -> BTreeMap<usize, Vec<Result<plan::GuestModule, String>>> {
    let mut spec = options.spec.clone();
    spec.detect = crate::kld::run::detect_of(&options.spec, s);
    let images = crate::kld::LoadImages {
        spec: &spec,
        cache: &options.cache,
        sysroot: &options.sysroot,
        release,
        arch: info.arch,
        headers: None,
    };
    images
        .of(s, Some(info.config))
        .into_iter()
        .map(|(i, prepared)| {
            let modules = prepared
                .into_iter()
                .map(|p| {
                    p.bytes.map(|bytes| {
                        let hash = kernel::hex(&Sha256::digest(&bytes));
                        plan::GuestModule {
                            path: format!("/m/{}/{}", &hash[..12], p.name),
                            name: p.name,
                            bytes,
                        }
                    })
                })
                .collect();
            (i, modules)
        })
        .collect()
}

/// Console lines that mean the kernel is going down.
const FATAL_LINES: [&str; 3] = ["panic: ", "Fatal trap", "init died"];

/// The first panic line of a console, if the kernel panicked.
fn panic_line(lines: &[String]) -> Option<String> {
    lines
        .iter()
        .find(|l| {
            l.starts_with("panic: ") || l.contains("Fatal trap") || l.starts_with("init died")
        })
        .cloned()
}

fn last_lines(lines: &[String], n: usize) -> Vec<String> {
    lines[lines.len().saturating_sub(n)..].to_vec()
}

/// Boots once with `pending`; the result of each scenario the boot settled.
fn boot_once(
    info: &KernelInfo,
    pending: &[&plan::Planned],
    kernel_text: &str,
    grub: &Path,
    options: &VmOptions,
    toolchain: &Toolchain,
) -> Result<(BootRecord, BTreeMap<usize, ScenarioResult>), VmError> {
    let mut plan_text = String::new();
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut cpus = 2u32;
    for p in pending {
        plan_text.push_str(&plan::plan_lines(p, info.config));
        for m in p.modules.values().flatten().flatten() {
            files
                .entry(m.path.clone())
                .or_insert_with(|| m.bytes.clone());
        }
        for step in &p.scenario.steps {
            if let Command::Cpus(n) = step.command {
                cpus = cpus.max(n);
            }
        }
    }
    let init = image::init(toolchain, info.arch, &options.vm_cache)?;
    let root_files: Vec<image::RootFile> = files
        .into_iter()
        .map(|(path, bytes)| image::RootFile { path, bytes })
        .collect();
    let root = image::root_image(&init, &plan_text, &root_files, &options.vm_cache)?;
    // The scenarios of one boot preload the same files: the first's.
    let preloads: Vec<image::Preload> = pending
        .first()
        .map(|p| p.preloads())
        .unwrap_or_default()
        .into_iter()
        .map(|m| image::Preload {
            path: format!("/boot/preload{}", m.path),
            bytes: m.bytes.clone(),
        })
        .collect();
    let iso = image::boot_iso(
        grub,
        &info.path,
        &info.sha256,
        &root,
        &preloads,
        &options.vm_cache,
    )?;
    let console = qemu::run(&qemu::Boot {
        arch: info.arch,
        iso: &iso,
        cpus: cpus.min(16),
        memory_mb: options.memory_mb,
        accel: options.accel,
        stall: options.timeout,
        marker: plan::MARKER,
        fatal: &FATAL_LINES,
    })?;
    let lines: Vec<String> = console.lines.iter().map(|(_, l)| l.clone()).collect();
    // The whole console, for reading after the run.
    let log_name: String = info
        .label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let log = options
        .vm_cache
        .join("consoles")
        .join(format!("{log_name}.log"));
    let mut log_text: String = console
        .lines
        .iter()
        .map(|(t, l)| format!("{:7.2} {l}\n", t.as_secs_f64()))
        .collect();
    log_text.push_str(&format!("-- {:?}\n", console.ended));
    cache::write_file(&log, log_text.as_bytes())?;
    let at = |needle: &str| {
        console
            .lines
            .iter()
            .find(|(_, l)| l.contains(needle))
            .map(|(t, _)| t.as_secs_f64())
    };
    let init_at = at("@@VNETGEN init");
    let done = lines.iter().any(|l| l.contains("@@VNETGEN done"));
    let tail = last_lines(&lines, 20);
    let death_message = if done {
        None
    } else {
        let why = match (&console.ended, panic_line(&lines)) {
            (_, Some(p)) => format!("the kernel panicked: {p}"),
            (qemu::Ended::Stalled(d), None) => format!(
                "no progress for {:.0} s: the guest hangs (QEMU was killed)",
                d.as_secs_f64()
            ),
            (qemu::Ended::Mountroot, None) => {
                "the kernel could not mount its root file system (mountroot> prompt)".into()
            }
            (qemu::Ended::Exited(status), None) => {
                format!("QEMU exited ({status}) before the plan was done")
            }
        };
        Some(if init_at.is_none() {
            format!("the guest never reached init: {why}")
        } else {
            why
        })
    };
    let ended = match &death_message {
        // A panic after the plan: at power-off, say, a handler of a module
        // already unloaded.
        None => match lines
            .iter()
            .skip_while(|l| !l.contains("@@VNETGEN done"))
            .find(|l| FATAL_LINES.iter().any(|f| l.contains(f)))
        {
            Some(p) => format!("the kernel panicked after the plan, powering off: {p}"),
            None => "powered off".to_string(),
        },
        Some(m) => m.clone(),
    };
    let record = BootRecord {
        log,
        seconds: console.elapsed.as_secs_f64(),
        kernel_at: at("Copyright (c)"),
        init_at,
        ended: ended.clone(),
        scenarios: pending.len(),
    };
    let mut results = BTreeMap::new();
    if init_at.is_none() {
        let mut message = ended;
        if !console.stderr.trim().is_empty() {
            message.push_str(&format!("; QEMU: {}", console.stderr.trim()));
        }
        for p in pending {
            let mut r = failed(&p.scenario.name, &message, &tail);
            r.notes
                .push(format!("the whole console: {}", record.log.display()));
            results.insert(p.id, r);
        }
        return Ok((record, results));
    }
    let entries = plan::entries(&lines);
    let logs = plan::scenario_logs(&entries);
    let death = death_message.map(|message| plan::Death {
        message,
        tail: tail.clone(),
    });
    for p in pending {
        let Some(log) = logs.get(&p.id) else {
            // Never begun: the kernel died before it.
            continue;
        };
        let r = plan::evaluate(p, log, info.config, kernel_text, death.as_ref());
        results.insert(p.id, r);
    }
    Ok((record, results))
}
