//! `vnetgen bench`: what the run-time variant costs against a module
//! compiled for the kernel it runs on, for each accessor strategy of the
//! spec (`[[runtime.strategy]]`).
//!
//! * **Static**: the probe module (`tests/bench_kmods/vnet_probe`) is built
//!   like any lab module (`-O2`, each architecture's kernel flags) as
//!   vimage-runtime, vimage and kld-tied for a non-VIMAGE kernel; each probe
//!   function (one access each) is disassembled and its paths counted
//!   ([`disasm`]).  A run-time path that reads the thread pointer is the one
//!   a VIMAGE kernel takes; one that does not, a non-VIMAGE kernel's; with a
//!   single path, both take it.  The longest path of each side is compared
//!   with the compiled-in build for that kernel.
//! * **Text**: the `.text` size of every lab test module per architecture,
//!   runtime against compiled-in; the same lab run gives each strategy's
//!   correctness (no cell fails where the expected matrix says it loads,
//!   amd64 scenarios included).
//! * **Executed** (amd64): the probe loops run in the emulated kernel under
//!   `valgrind --tool=callgrind` ([`callgrind`]).
//!
//! Uses: `spec`, `build`, `inspect`, `lab`, `kld`.

pub mod callgrind;
pub mod disasm;
pub mod native;
pub mod report;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Serialize;

use crate::kld::{self, RunOptions};
use crate::lab::{self, LabError, LabOptions};
use crate::spec::variant::{KernelConfig, Variant};
use crate::spec::{Spec, SpecError, DEFAULT_SPEC, DEFAULT_SPEC_NAME};

/// The targets of issue 6.
pub const MAX_EXTRA_INSNS: i64 = 3;
pub const MAX_TEXT_RATIO: f64 = 1.10;

/// The probe functions, one access each, and the loop that calls each.
pub const ACCESSES: [(&str, &str); 6] = [
    ("vnet_read", "probe_vnet_read"),
    ("vnet_write", "probe_vnet_write"),
    ("vnet_read_declared", "probe_vnet_read_declared"),
    ("vnet_read_kernel", "probe_vnet_read_kernel"),
    ("dpcpu_get", "probe_dpcpu_get"),
    ("dpcpu_set", "probe_dpcpu_set"),
];

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error(transparent)]
    Spec(#[from] SpecError),
    #[error(transparent)]
    Lab(#[from] LabError),
    #[error(transparent)]
    Kld(#[from] kld::KldError),
    #[error("running {tool}: {source}")]
    Spawn {
        tool: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{tool} failed: {output}")]
    Tool { tool: String, output: String },
    #[error("{0}")]
    Missing(String),
}

/// What to measure.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// The spec's text and name; each strategy is rendered from it.
    pub spec_text: String,
    pub spec_name: String,
    /// Strategies to measure; empty: all of the spec's.
    pub strategies: Vec<String>,
    /// Architectures; empty: all of the spec's.
    pub archs: Vec<String>,
    /// The probe module's sources.
    pub probe: PathBuf,
    /// The lab's test modules, for `.text` sizes and correctness.
    pub kmods: PathBuf,
    pub cache: PathBuf,
    pub sysroot: PathBuf,
    pub jobs: usize,
    /// The vnetgen binary that callgrind runs (`kld run`); `None` skips the
    /// executed measure.
    pub callgrind_exe: Option<PathBuf>,
    /// Loop iterations of the executed measure.
    pub iterations: u64,
    /// Rounds of the native measure (amd64, x86-64 hosts); 0 skips it.
    pub native_rounds: usize,
    /// Loop iterations of each timed call of the native measure.
    pub native_iterations: u64,
}

impl BenchOptions {
    /// The default spec, the repository's modules, every strategy and
    /// architecture.
    pub fn new(root: &Path) -> BenchOptions {
        let root = std::path::absolute(root).unwrap_or_else(|_| root.to_path_buf());
        BenchOptions {
            spec_text: DEFAULT_SPEC.to_string(),
            spec_name: DEFAULT_SPEC_NAME.to_string(),
            strategies: Vec::new(),
            archs: Vec::new(),
            probe: root.join("tests/bench_kmods/vnet_probe"),
            kmods: root.join("tests/kmods"),
            cache: root.join("target/vnetgen-lab"),
            sysroot: crate::build::cflags::stub_sysroot(),
            jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
            callgrind_exe: None,
            iterations: 1_000_000,
            native_rounds: 15,
            native_iterations: 200_000,
        }
    }
}

/// Instructions on the path of one access, in one architecture, on one
/// kernel: the run-time build's longest path against the compiled-in one.
#[derive(Debug, Clone, Serialize)]
pub struct StaticRow {
    pub arch: String,
    pub kernel: KernelConfig,
    pub access: String,
    pub compiled_in: usize,
    pub runtime: usize,
    pub extra: i64,
    /// How many paths the run-time function has in all.
    pub runtime_paths: usize,
}

/// `.text` of one test module: the module's own code, without the
/// `vnet_support.c` that the probe detection mode compiles into it.
#[derive(Debug, Clone, Serialize)]
pub struct TextRow {
    pub arch: String,
    pub kernel: KernelConfig,
    pub kmod: String,
    pub compiled_in: u64,
    pub runtime: u64,
    pub ratio: f64,
    /// `.text` of `vnet_support.c` in the run-time build (0 where the
    /// kernel carries it).
    pub support: u64,
    /// The ratio with the support code counted.
    pub ratio_with_support: f64,
}

/// Instructions executed per loop iteration (one call, one access).
#[derive(Debug, Clone, Serialize)]
pub struct ExecRow {
    pub kernel: KernelConfig,
    pub access: String,
    pub compiled_in: f64,
    pub runtime: f64,
    pub extra: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct StrategyReport {
    pub name: String,
    pub doc: Option<String>,
    /// Every lab cell of the strategy's run-time builds (and amd64 runs) is
    /// as the expected matrix says.
    pub correct: bool,
    /// Cells that fail where they should load, as `kmod arch kernel: why`.
    pub failures: Vec<String>,
    pub static_rows: Vec<StaticRow>,
    pub text_rows: Vec<TextRow>,
    pub executed: Vec<ExecRow>,
    pub max_extra: i64,
    pub max_text_ratio: f64,
    pub meets_targets: bool,
}

/// One access of the dual probe module, on one kind of kernel: the active
/// side's longest path against the compiled-in build's (amd64).
#[derive(Debug, Clone, Serialize)]
pub struct DualRow {
    pub kernel: KernelConfig,
    pub access: String,
    pub compiled_in: usize,
    pub dual: usize,
    pub extra: i64,
    /// Instructions executed per iteration of the access's probe loop
    /// (callgrind): the compiled-in build's and the dual module's.
    pub executed_compiled_in: Option<f64>,
    pub executed_dual: Option<f64>,
}

/// The dual probe module's code (amd64): the bytes of the active side's
/// functions against the compiled-in build's, and the whole module's.
#[derive(Debug, Clone, Serialize)]
pub struct DualText {
    pub kernel: KernelConfig,
    /// Bytes of the compiled-in build's functions.
    pub compiled_in: u64,
    /// Bytes of the active side's functions in the dual module.
    pub active: u64,
    /// `.text` of the whole dual module: both sides and the dispatcher.
    pub module: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    pub schema: u32,
    /// The spec's own `[runtime] accessor`.
    pub default_accessor: Option<String>,
    pub targets: Targets,
    pub strategies: Vec<StrategyReport>,
    /// The dual build (amd64; empty where amd64 is not measured).
    pub dual: Vec<DualRow>,
    pub dual_text: Vec<DualText>,
    /// Native ticks per access of every run-time strategy and the dual
    /// build against the compiled-in build (amd64, x86-64 hosts).
    pub native: Vec<native::NativeRow>,
    /// The sizes of every amd64 probe module: compiled-in, each run-time
    /// strategy, dual.
    pub probe_sizes: Vec<ProbeSize>,
}

/// The size of one amd64 probe module build, as one kind of kernel runs it.
#[derive(Debug, Clone, Serialize)]
pub struct ProbeSize {
    /// `compiled-in`, `vimage-runtime STRATEGY` or `dual`.
    pub build: String,
    pub kernel: KernelConfig,
    /// Bytes of the functions that kernel runs: the probe functions and
    /// loops (a dual module's active side; a run-time build's whole code
    /// but its `vnet_support.c`).
    pub active: u64,
    /// `.text` of the whole module.
    pub text: u64,
    /// Bytes of the `.ko` file.
    pub file: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Targets {
    pub max_extra_instructions: i64,
    pub max_text_ratio: f64,
}

/// The compiled-in build for a kernel: vimage on a VIMAGE kernel, kld-tied
/// on a kernel without it.
fn compiled_in(kernel: KernelConfig) -> (Variant, KernelConfig) {
    match kernel {
        KernelConfig::Vimage => (Variant::Vimage, KernelConfig::Vimage),
        KernelConfig::Novimage => (Variant::KldTied, KernelConfig::Novimage),
    }
}

pub(crate) const KERNELS: [KernelConfig; 2] = [KernelConfig::Vimage, KernelConfig::Novimage];

/// Runs every measure for every strategy.
pub fn run(options: &BenchOptions) -> Result<BenchReport, BenchError> {
    let base = Spec::parse(&options.spec_name, &options.spec_text)?;
    let names: Vec<String> = if options.strategies.is_empty() {
        base.strategies.iter().map(|s| s.name.clone()).collect()
    } else {
        options.strategies.clone()
    };
    let archs: Vec<String> = if options.archs.is_empty() {
        base.archs.iter().map(|a| a.name.clone()).collect()
    } else {
        options.archs.clone()
    };
    let lab_options = |variants: Vec<Variant>| LabOptions {
        archs: archs.clone(),
        variants,
        kernels: KERNELS.to_vec(),
        kmods: options.kmods.clone(),
        jobs: options.jobs,
        cache: options.cache.clone(),
        sysroot: options.sysroot.clone(),
        progress: false,
        release: None,
    };

    // The amd64 probe module compiled in for a kernel, through the cache.
    let compiled_in_probe = |kernel: KernelConfig| {
        let (variant, built_for) = compiled_in(kernel);
        lab::build_module(
            &base,
            &lab_options(Vec::new()),
            &options.probe,
            "amd64",
            variant,
            built_for,
        )
    };

    // The compiled-in builds do not depend on the strategy.
    let baseline = lab::run(&base, &lab_options(vec![Variant::Vimage, Variant::KldTied]))?;
    let mut base_text = BTreeMap::new();
    for b in &baseline.builds {
        let built_for = (b.variant == Variant::KldTied)
            .then_some(b.built_for)
            .flatten();
        base_text.insert(
            (b.kmod.clone(), b.arch.clone(), b.variant, built_for),
            text_size(&b.ko)?,
        );
    }
    let mut base_paths = BTreeMap::new();
    for arch in &archs {
        for kernel in KERNELS {
            let (variant, built_for) = compiled_in(kernel);
            let ko = lab::build_module(
                &base,
                &lab_options(Vec::new()),
                &options.probe,
                arch,
                variant,
                built_for,
            )?;
            base_paths.insert((arch.clone(), kernel), probe_paths(arch, &ko)?);
        }
    }
    let base_exec = match &options.callgrind_exe {
        Some(exe) => {
            let mut m = BTreeMap::new();
            for kernel in KERNELS {
                let ko = compiled_in_probe(kernel)?;
                m.insert(
                    kernel,
                    callgrind::per_iteration(exe, options, &base, kernel, &ko)?,
                );
            }
            Some(m)
        }
        None => None,
    };

    let mut strategies = Vec::new();
    // Each strategy's spec and amd64 probe module, for the native measure.
    let mut runtime_probes: Vec<(String, Spec, PathBuf)> = Vec::new();
    for name in &names {
        let spec = Spec::parse_with_accessor(&options.spec_name, &options.spec_text, name)?;
        let doc = spec
            .strategies
            .iter()
            .find(|s| &s.name == name)
            .and_then(|s| s.doc.clone());
        let mut lab_report = lab::run(&spec, &lab_options(vec![Variant::VimageRuntime]))?;
        if archs.iter().any(|a| a == "amd64") && cfg!(target_arch = "x86_64") {
            let run_options = RunOptions {
                spec: spec.clone(),
                release: None,
                arch: None,
                cache: options.cache.clone(),
                sysroot: options.sysroot.clone(),
                timeout: std::time::Duration::from_secs(60),
                vars: BTreeMap::new(),
            };
            kld::matrix::add_runs(&mut lab_report, &options.kmods, &run_options)?;
        }
        let failures: Vec<String> = lab_report
            .cells
            .iter()
            .filter(|c| c.unexpected_failure())
            .map(|c| {
                let why = c
                    .runs_detail
                    .clone()
                    .or_else(|| c.findings.first().map(|f| format!("{f:?}")))
                    .unwrap_or_default();
                format!("{} {} {}: {why}", c.kmod, c.arch, c.kernel)
            })
            .collect();

        let mut text_rows = Vec::new();
        for b in &lab_report.builds {
            let support = support_text(&b.ko)?;
            let runtime = text_size(&b.ko)?.saturating_sub(support);
            for kernel in KERNELS {
                let (variant, built_for) = compiled_in(kernel);
                let built_for = (variant == Variant::KldTied).then_some(built_for);
                let Some(&ci) =
                    base_text.get(&(b.kmod.clone(), b.arch.clone(), variant, built_for))
                else {
                    continue;
                };
                text_rows.push(TextRow {
                    arch: b.arch.clone(),
                    kernel,
                    kmod: b.kmod.clone(),
                    compiled_in: ci,
                    runtime,
                    ratio: ratio(runtime as f64, ci as f64),
                    support,
                    ratio_with_support: ratio((runtime + support) as f64, ci as f64),
                });
            }
        }
        text_rows.sort_by(|a, b| (&a.arch, &a.kmod, a.kernel).cmp(&(&b.arch, &b.kmod, b.kernel)));

        let mut static_rows = Vec::new();
        for arch in &archs {
            let ko = lab::build_module(
                &spec,
                &lab_options(Vec::new()),
                &options.probe,
                arch,
                Variant::VimageRuntime,
                KernelConfig::Vimage,
            )?;
            let rt = probe_paths(arch, &ko)?;
            if arch == "amd64" {
                runtime_probes.push((format!("vimage-runtime {name}"), spec.clone(), ko.clone()));
            }
            for kernel in KERNELS {
                let Some(ci) = base_paths.get(&(arch.clone(), kernel)) else {
                    continue;
                };
                for (access, function) in ACCESSES {
                    let (Some(rt_paths), Some(ci_paths)) = (rt.get(function), ci.get(function))
                    else {
                        return Err(BenchError::Missing(format!(
                            "{function} is not in the probe module's disassembly ({arch})"
                        )));
                    };
                    let runtime = side_length(arch, rt_paths, kernel);
                    let compiled = ci_paths.iter().map(|p| p.len()).max().unwrap_or(0);
                    static_rows.push(StaticRow {
                        arch: arch.clone(),
                        kernel,
                        access: access.to_string(),
                        compiled_in: compiled,
                        runtime,
                        extra: runtime as i64 - compiled as i64,
                        runtime_paths: rt_paths.len(),
                    });
                }
            }
        }

        let executed = match (&options.callgrind_exe, &base_exec) {
            (Some(exe), Some(base_exec)) => {
                let ko = lab::build_module(
                    &spec,
                    &lab_options(Vec::new()),
                    &options.probe,
                    "amd64",
                    Variant::VimageRuntime,
                    KernelConfig::Vimage,
                )?;
                let mut rows = Vec::new();
                for kernel in KERNELS {
                    let rt = callgrind::per_iteration(exe, options, &spec, kernel, &ko)?;
                    for (access, _) in ACCESSES {
                        let (Some(&r), Some(&c)) = (
                            rt.get(access),
                            base_exec.get(&kernel).and_then(|m| m.get(access)),
                        ) else {
                            continue;
                        };
                        rows.push(ExecRow {
                            kernel,
                            access: access.to_string(),
                            compiled_in: c,
                            runtime: r,
                            extra: r - c,
                        });
                    }
                }
                rows
            }
            _ => Vec::new(),
        };

        let max_extra = static_rows.iter().map(|r| r.extra).max().unwrap_or(0);
        let max_text_ratio = text_rows.iter().map(|r| r.ratio).fold(0.0, f64::max);
        strategies.push(StrategyReport {
            name: name.clone(),
            doc,
            correct: failures.is_empty(),
            failures,
            meets_targets: max_extra <= MAX_EXTRA_INSNS && max_text_ratio <= MAX_TEXT_RATIO,
            max_extra,
            max_text_ratio,
            static_rows,
            text_rows,
            executed,
        });
    }
    // The dual build: the active side is the compiled-in build's code.
    let mut dual = Vec::new();
    let mut dual_text = Vec::new();
    let dual_ko = if archs.iter().any(|a| a == "amd64") {
        Some(lab::build_dual_module(
            &base,
            &lab_options(Vec::new()),
            &options.probe,
            "amd64",
            None,
            &[],
        )?)
    } else {
        None
    };
    if let Some(ko) = &dual_ko {
        let listing = disassembly(ko)?;
        let module = text_size(ko)?;
        for kernel in KERNELS {
            let side = crate::build::dual::side_prefix(kernel == KernelConfig::Vimage);
            // The emulator's `call` runs the active side's function.
            let executed = match &options.callgrind_exe {
                Some(exe) => Some(callgrind::per_iteration(exe, options, &base, kernel, ko)?),
                None => None,
            };
            let Some(ci) = base_paths.get(&("amd64".to_string(), kernel)) else {
                continue;
            };
            for (access, function) in ACCESSES {
                let name = format!("{side}{function}");
                let (Some(insns), Some(ci_paths)) = (listing.get(&name), ci.get(function)) else {
                    return Err(BenchError::Missing(format!(
                        "{name} is not in the dual probe module's disassembly"
                    )));
                };
                let active = disasm::paths("amd64", insns)
                    .iter()
                    .map(|p| p.len())
                    .max()
                    .unwrap_or(0);
                let compiled = ci_paths.iter().map(|p| p.len()).max().unwrap_or(0);
                dual.push(DualRow {
                    kernel,
                    access: access.to_string(),
                    compiled_in: compiled,
                    dual: active,
                    extra: active as i64 - compiled as i64,
                    executed_compiled_in: base_exec
                        .as_ref()
                        .and_then(|m| m.get(&kernel))
                        .and_then(|m| m.get(access))
                        .copied(),
                    executed_dual: executed.as_ref().and_then(|m| m.get(access)).copied(),
                });
            }
            let ci_ko = compiled_in_probe(kernel)?;
            dual_text.push(DualText {
                kernel,
                compiled_in: function_bytes(&ci_ko, "")?,
                active: function_bytes(ko, side)?,
                module,
            });
        }
    }
    // The native measure: every build side by side, round after round.
    let mut native_rows = Vec::new();
    if let Some(dual_ko) = dual_ko
        .as_ref()
        .filter(|_| options.native_rounds > 0 && cfg!(target_arch = "x86_64"))
    {
        for kernel in KERNELS {
            let ci = native::Timed {
                name: "compiled-in".to_string(),
                spec: &base,
                ko: compiled_in_probe(kernel)?,
            };
            let mut others: Vec<native::Timed> = runtime_probes
                .iter()
                .map(|(name, spec, ko)| native::Timed {
                    name: name.clone(),
                    spec,
                    ko: ko.clone(),
                })
                .collect();
            others.push(native::Timed {
                name: "dual".to_string(),
                spec: &base,
                ko: dual_ko.clone(),
            });
            native_rows.extend(native::measure(
                options,
                kernel,
                &ci,
                &others,
                options.native_rounds,
                options.native_iterations,
            )?);
        }
    }
    let mut probe_sizes = Vec::new();
    if let Some(dual_ko) = &dual_ko {
        for kernel in KERNELS {
            let ci = compiled_in_probe(kernel)?;
            probe_sizes.push(probe_size("compiled-in", kernel, &ci, "")?);
            for (name, _, ko) in &runtime_probes {
                probe_sizes.push(probe_size(name, kernel, ko, "")?);
            }
            let side = crate::build::dual::side_prefix(kernel == KernelConfig::Vimage);
            probe_sizes.push(probe_size("dual", kernel, dual_ko, side)?);
        }
    }
    Ok(BenchReport {
        schema: 1,
        default_accessor: base.accessor.clone(),
        targets: Targets {
            max_extra_instructions: MAX_EXTRA_INSNS,
            max_text_ratio: MAX_TEXT_RATIO,
        },
        strategies,
        dual,
        dual_text,
        native: native_rows,
        probe_sizes,
    })
}

/// One probe build's sizes; `prefix` picks a dual module's active side.
fn probe_size(
    build: &str,
    kernel: KernelConfig,
    ko: &Path,
    prefix: &str,
) -> Result<ProbeSize, BenchError> {
    let file = std::fs::metadata(ko)
        .map_err(|e| BenchError::Missing(format!("{}: {e}", ko.display())))?
        .len();
    let support = if prefix.is_empty() {
        support_text(ko)?
    } else {
        0
    };
    let active = function_bytes(ko, prefix)?.saturating_sub(support);
    Ok(ProbeSize {
        build: build.to_string(),
        kernel,
        active,
        text: text_size(ko)?,
        file,
    })
}

/// The bytes of a module's functions whose names start with `prefix` (all
/// of them, but a dual module's dispatcher, for an empty one).
fn function_bytes(ko: &Path, prefix: &str) -> Result<u64, BenchError> {
    use object::{Object, ObjectSymbol, SymbolKind};
    let data =
        std::fs::read(ko).map_err(|e| BenchError::Missing(format!("{}: {e}", ko.display())))?;
    let file = object::File::parse(&*data)
        .map_err(|e| BenchError::Missing(format!("{}: {e}", ko.display())))?;
    Ok(file
        .symbols()
        .filter(|s| s.kind() == SymbolKind::Text && s.is_definition())
        .filter(|s| s.name().is_ok_and(|n| n.starts_with(prefix)))
        .map(|s| s.size())
        .sum())
}

fn ratio(a: f64, b: f64) -> f64 {
    if b == 0.0 {
        if a == 0.0 {
            1.0
        } else {
            f64::INFINITY
        }
    } else {
        a / b
    }
}

/// The longest run-time path a kernel takes: a VIMAGE kernel's paths read
/// the thread pointer, a non-VIMAGE kernel's do not; where every path is of
/// one kind, that kind is the only way through and both kernels take it.
pub fn side_length(arch: &str, paths: &[disasm::Path], kernel: KernelConfig) -> usize {
    let want = kernel == KernelConfig::Vimage;
    let side: Vec<usize> = paths
        .iter()
        .filter(|p| p.reads_thread_pointer(arch) == want)
        .map(|p| p.len())
        .collect();
    let all = || paths.iter().map(|p| p.len()).max().unwrap_or(0);
    side.into_iter().max().unwrap_or_else(all)
}

/// `.text` of the `vnet_support.o` beside a module, where there is one.
fn support_text(ko: &Path) -> Result<u64, BenchError> {
    match ko.parent().map(|d| d.join("vnet_support.o")) {
        Some(o) if o.is_file() => text_size(&o),
        _ => Ok(0),
    }
}

/// The size of the executable `.text` sections of a module.
pub fn text_size(ko: &Path) -> Result<u64, BenchError> {
    let info = crate::inspect::inspect_file(ko)
        .map_err(|e| BenchError::Missing(format!("{}: {e}", ko.display())))?;
    Ok(info
        .sections
        .iter()
        .filter(|s| s.executable && s.name.starts_with(".text"))
        .map(|s| s.size)
        .sum())
}

/// The objdump of the LLVM toolchain: `$VNETGEN_OBJDUMP`, `llvm-objdump-19`
/// or `llvm-objdump`.
fn objdump() -> String {
    std::env::var("VNETGEN_OBJDUMP").unwrap_or_else(|_| {
        let versioned = "llvm-objdump-19";
        let found = std::env::var_os("PATH")
            .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(versioned).is_file()));
        if found {
            versioned.to_string()
        } else {
            "llvm-objdump".to_string()
        }
    })
}

/// Every path of every probe function in a built module.
pub fn probe_paths(
    arch: &str,
    ko: &Path,
) -> Result<BTreeMap<String, Vec<disasm::Path>>, BenchError> {
    let functions = disassembly(ko)?;
    Ok(ACCESSES
        .iter()
        .filter_map(|(_, f)| {
            functions
                .get(*f)
                .map(|insns| (f.to_string(), disasm::paths(arch, insns)))
        })
        .collect())
}

/// Every function of a module's `.text`, disassembled.
fn disassembly(ko: &Path) -> Result<BTreeMap<String, Vec<disasm::Insn>>, BenchError> {
    let tool = objdump();
    let out = Command::new(&tool)
        .args(["-d", "--no-show-raw-insn", "--section=.text"])
        .arg(ko)
        .output()
        .map_err(|source| BenchError::Spawn {
            tool: tool.clone(),
            source,
        })?;
    if !out.status.success() {
        return Err(BenchError::Tool {
            tool,
            output: String::from_utf8_lossy(&out.stderr).into_owned(),
        });
    }
    Ok(disasm::parse_objdump(&String::from_utf8_lossy(&out.stdout)))
}
