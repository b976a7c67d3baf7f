//! The built-in checks of the mutation tests, fastest first: the headers
//! compile on their own (and refuse contradictory defines), statement macros
//! are single statements, the shared structures keep their layout, and the
//! ABI lab's matrix and findings are those of the unmutated headers.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use rayon::prelude::*;

use super::{io, one_line, Check, MutantError, Verdict};
use crate::build::cflags::stub_sysroot;
use crate::build::toolchain::Toolchain;
use crate::inspect::inspect_bytes;
use crate::inspect::rules::Severity;
use crate::lab::{self, LabError, LabOptions};
use crate::spec::variant::{KernelConfig, Variant};
use crate::spec::Spec;

const HYGIENE_C: &str = include_str!("../../mutants/hygiene.c");
const LAYOUT_C: &str = include_str!("../../mutants/layout.c");

/// The builds whose headers differ: kld-tied follows the kernel, the other
/// variants do not depend on it.
const CELLS: [(Variant, KernelConfig); 4] = [
    (Variant::KldTied, KernelConfig::Vimage),
    (Variant::KldTied, KernelConfig::Novimage),
    (Variant::Vimage, KernelConfig::Vimage),
    (Variant::VimageRuntime, KernelConfig::Vimage),
];

/// The checks a run uses unless told otherwise, on `archs`: compile,
/// hygiene, layout, the lab (whose builds are cached in `cache`), then the
/// emulated kernel's scenarios.
pub fn default_checks(
    spec: &Spec,
    archs: &[String],
    kmods: &Path,
    cache: &Path,
    jobs: usize,
) -> Result<Vec<Box<dyn Check>>, MutantError> {
    let toolchain = Toolchain::locate().map_err(|e| MutantError::Setup(e.to_string()))?;
    let pool = Pool {
        spec: spec.clone(),
        toolchain,
        archs: archs.to_vec(),
        jobs,
    };
    Ok(vec![
        Box::new(CompileCheck { pool: pool.clone() }),
        Box::new(HygieneCheck { pool: pool.clone() }),
        Box::new(LayoutCheck {
            pool,
            baseline: BTreeMap::new(),
        }),
        Box::new(LabCheck::new(spec, archs, kmods, cache, jobs)),
        Box::new(KldCheck::new(spec, kmods, cache)),
    ])
}

/// What the compiling checks share.
#[derive(Clone)]
pub struct Pool {
    spec: Spec,
    toolchain: Toolchain,
    archs: Vec<String>,
    jobs: usize,
}

/// One compiler run: a source text for one architecture with defines.
struct Compile {
    label: String,
    arch: String,
    defines: Vec<&'static str>,
    source: String,
    /// The source's file name (a `.c` beside the headers, for includes).
    file: &'static str,
    /// Whether it must compile (without a diagnostic) or must fail.
    must_compile: bool,
}

struct Compiled {
    ok: bool,
    diagnostics: String,
    object: Option<Vec<u8>>,
}

impl Pool {
    fn compile(&self, headers: &Path, job: &Compile) -> Result<Compiled, MutantError> {
        let Some(arch) = self.spec.arch(&job.arch) else {
            return Err(MutantError::Setup(format!("unknown arch `{}`", job.arch)));
        };
        let dir = tempfile::tempdir().map_err(|e| MutantError::Setup(e.to_string()))?;
        let src = dir.path().join(job.file);
        std::fs::write(&src, &job.source).map_err(io(&src))?;
        let obj = dir.path().join("out.o");
        let mut args = vec![format!("--target={}", arch.triple)];
        args.extend(arch.cflags.iter().cloned());
        args.extend(self.spec.cflags_common.iter().cloned());
        args.extend(self.spec.cflags_warnings.iter().cloned());
        args.push(format!("-I{}", headers.join("sys").display()));
        args.push(format!("-I{}", stub_sysroot().display()));
        args.extend(job.defines.iter().map(|d| format!("-D{d}")));
        let out = Command::new(&self.toolchain.clang)
            .args(&args)
            .args(["-O2", "-c"])
            .arg(&src)
            .arg("-o")
            .arg(&obj)
            .output()
            .map_err(|e| MutantError::Setup(format!("{}: {e}", self.toolchain.clang.display())))?;
        let mut diagnostics = String::from_utf8_lossy(&out.stderr).into_owned();
        diagnostics.push_str(&String::from_utf8_lossy(&out.stdout));
        let ok = out.status.success() && diagnostics.is_empty();
        let object = if out.status.success() {
            std::fs::read(&obj).ok()
        } else {
            None
        };
        Ok(Compiled {
            ok,
            diagnostics,
            object,
        })
    }

    /// Runs the jobs in parallel; the first (in job order) that does not
    /// do as it must fails the check.
    fn expect_all(&self, headers: &Path, jobs: &[Compile]) -> Result<Verdict, MutantError> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(self.jobs.max(1))
            .build()
            .map_err(|e| MutantError::Setup(e.to_string()))?;
        let results: Vec<Result<Compiled, MutantError>> =
            pool.install(|| jobs.par_iter().map(|j| self.compile(headers, j)).collect());
        for (job, result) in jobs.iter().zip(results) {
            let compiled = result?;
            let want = job.must_compile;
            if compiled.ok != want {
                let why = if want {
                    format!(
                        "{}: {}",
                        job.label,
                        one_line(&first_error(&compiled.diagnostics), 110)
                    )
                } else {
                    format!("{}: compiles, but must not", job.label)
                };
                return Ok(Verdict::Fail(why));
            }
        }
        Ok(Verdict::Pass)
    }

    fn support_path(&self) -> Option<&str> {
        self.spec.support.as_ref().map(|s| s.path.as_str())
    }
}

/// The first line that says error (or warning), else the first line.
fn first_error(diagnostics: &str) -> String {
    diagnostics
        .lines()
        .find(|l| l.contains("error:"))
        .or_else(|| diagnostics.lines().find(|l| l.contains("warning:")))
        .or_else(|| diagnostics.lines().next())
        .map(
            |l| match l.find(": error: ").or_else(|| l.find(": warning: ")) {
                Some(i) => {
                    let place = l[..i].rsplit('/').next().unwrap_or("");
                    format!("{place}{}", &l[i..])
                }
                None => l.to_string(),
            },
        )
        .unwrap_or_default()
}

/// Every header compiles on its own, without a diagnostic, for every
/// architecture and variant; `vnet_support.c` compiles in kernels with and
/// without VIMAGE and in run-time modules; and the contradictory defines
/// (`VIMAGE_RUNTIME` with `KLD_TIED`, or without `KLD_MODULE`) stop the
/// build.
pub struct CompileCheck {
    pool: Pool,
}

impl Check for CompileCheck {
    fn name(&self) -> &str {
        "compile"
    }

    fn run(&self, headers: &Path) -> Result<Verdict, MutantError> {
        let mut jobs = Vec::new();
        for arch in &self.pool.archs {
            for (variant, kernel) in CELLS {
                for header in &self.pool.spec.headers {
                    let include = header.path.strip_prefix("sys/").unwrap_or(&header.path);
                    jobs.push(Compile {
                        label: format!("{arch} {variant} {kernel}: {include}"),
                        arch: arch.clone(),
                        defines: variant.defines(kernel),
                        // After <sys/param.h>, as every FreeBSD source has it.
                        source: format!("#include <sys/param.h>\n#include <{include}>\n"),
                        file: "t.c",
                        must_compile: true,
                    });
                }
            }
            if let Some(support) = self.pool.support_path() {
                let path = headers.join(support);
                let source = std::fs::read_to_string(&path).map_err(io(&path))?;
                for (what, defines) in [
                    ("a VIMAGE kernel", vec!["_KERNEL", "VIMAGE"]),
                    ("a non-VIMAGE kernel", vec!["_KERNEL"]),
                    (
                        "a run-time module",
                        Variant::VimageRuntime.defines(KernelConfig::Vimage),
                    ),
                ] {
                    jobs.push(Compile {
                        label: format!("{arch}: {support} in {what}"),
                        arch: arch.clone(),
                        defines,
                        source: source.clone(),
                        file: "vnet_support.c",
                        must_compile: true,
                    });
                }
            }
        }
        // The contradictions, on the first architecture.
        if let Some(arch) = self.pool.archs.first() {
            for header in &self.pool.spec.headers {
                let include = header.path.strip_prefix("sys/").unwrap_or(&header.path);
                for (what, defines) in [
                    (
                        "VIMAGE_RUNTIME with KLD_TIED",
                        vec!["_KERNEL", "KLD_MODULE", "KLD_TIED", "VIMAGE_RUNTIME"],
                    ),
                    (
                        "VIMAGE_RUNTIME without KLD_MODULE",
                        vec!["_KERNEL", "VIMAGE_RUNTIME"],
                    ),
                ] {
                    jobs.push(Compile {
                        label: format!("{arch}: {include} with {what}"),
                        arch: arch.clone(),
                        defines,
                        source: format!("#include <sys/param.h>\n#include <{include}>\n"),
                        file: "t.c",
                        must_compile: false,
                    });
                }
            }
        }
        self.pool.expect_all(headers, &jobs)
    }
}

/// Statement macros used as the body of an `if` with an `else`
/// (`mutants/hygiene.c`), in every variant.
pub struct HygieneCheck {
    pool: Pool,
}

impl Check for HygieneCheck {
    fn name(&self) -> &str {
        "hygiene"
    }

    fn run(&self, headers: &Path) -> Result<Verdict, MutantError> {
        let mut jobs = Vec::new();
        for arch in &self.pool.archs {
            for (variant, kernel) in CELLS {
                let mut defines = variant.defines(kernel);
                defines.push("INVARIANTS");
                jobs.push(Compile {
                    label: format!("{arch} {variant} {kernel}: mutants/hygiene.c"),
                    arch: arch.clone(),
                    defines,
                    source: HYGIENE_C.to_string(),
                    file: "hygiene.c",
                    must_compile: true,
                });
            }
        }
        self.pool.expect_all(headers, &jobs)
    }
}

/// The offsets and sizes of `struct vnet`, `struct vnet_sysinit` and
/// `struct pcpu` (`mutants/layout.c`), per architecture, as the unmutated
/// headers have them: they are ABI with the kernel.  And unused `_STATIC`
/// storage is kept in its set.
pub struct LayoutCheck {
    pool: Pool,
    baseline: Layouts,
}

/// Offsets and sizes by field, by architecture.
type Layouts = BTreeMap<String, BTreeMap<String, u64>>;

impl LayoutCheck {
    fn measure(&self, headers: &Path) -> Result<Result<Layouts, String>, MutantError> {
        let mut out = BTreeMap::new();
        for arch in &self.pool.archs {
            let job = Compile {
                label: format!("{arch}: mutants/layout.c"),
                arch: arch.clone(),
                defines: Variant::VimageRuntime.defines(KernelConfig::Vimage),
                source: LAYOUT_C.to_string(),
                file: "layout.c",
                must_compile: true,
            };
            let compiled = self.pool.compile(headers, &job)?;
            let Some(object) = compiled.object.filter(|_| compiled.ok) else {
                return Ok(Err(format!(
                    "{}: {}",
                    job.label,
                    one_line(&first_error(&compiled.diagnostics), 110)
                )));
            };
            let info = inspect_bytes(&job.label, &object)
                .map_err(|e| MutantError::Setup(e.to_string()))?;
            let sizes: BTreeMap<String, u64> = info
                .symbols
                .iter()
                .filter_map(|s| {
                    s.name
                        .strip_prefix("layout_")
                        .map(|n| (n.to_string(), s.size.saturating_sub(1)))
                })
                .collect();
            let mut sizes = sizes;
            for (field, symbol) in [
                ("kept_pcpu", "pcpu_entry_layout_kept_pcpu"),
                ("kept_vnet", "vnet_entry_layout_kept_vnet"),
            ] {
                sizes.insert(field.to_string(), u64::from(info.defined(symbol).is_some()));
            }
            out.insert(arch.clone(), sizes);
        }
        Ok(Ok(out))
    }
}

impl Check for LayoutCheck {
    fn name(&self) -> &str {
        "layout"
    }

    fn baseline(&mut self, headers: &Path) -> Result<(), MutantError> {
        match self.measure(headers)? {
            Ok(layout) => {
                self.baseline = layout;
                Ok(())
            }
            Err(why) => Err(MutantError::Baseline {
                check: "layout".to_string(),
                why,
            }),
        }
    }

    fn run(&self, headers: &Path) -> Result<Verdict, MutantError> {
        let layout = match self.measure(headers)? {
            Ok(layout) => layout,
            Err(why) => return Ok(Verdict::Fail(why)),
        };
        for (arch, base) in &self.baseline {
            let now = layout.get(arch);
            for (field, value) in base {
                let got = now.and_then(|m| m.get(field));
                if got != Some(value) {
                    return Ok(Verdict::Fail(format!(
                        "{arch}: {field} is {}, not {value}",
                        got.map_or("missing".to_string(), |v| v.to_string())
                    )));
                }
            }
        }
        Ok(Verdict::Pass)
    }
}

/// The ABI lab on the test modules: a build that fails, a cell whose
/// verdict is not the expected one, or a warning or error finding that the
/// unmutated headers do not have, kills the mutant.
pub struct LabCheck {
    spec: Spec,
    options: LabOptions,
    baseline: BTreeSet<String>,
}

impl LabCheck {
    pub fn new(spec: &Spec, archs: &[String], kmods: &Path, cache: &Path, jobs: usize) -> Self {
        LabCheck {
            spec: spec.clone(),
            options: LabOptions {
                archs: archs.to_vec(),
                variants: Variant::ALL.to_vec(),
                kernels: KernelConfig::ALL.to_vec(),
                kmods: kmods.to_path_buf(),
                jobs,
                cache: PathBuf::from(cache),
                sysroot: stub_sysroot(),
                progress: false,
                release: None,
            },
            baseline: BTreeSet::new(),
        }
    }

    /// The findings that matter, each as a line naming its cell.
    fn examine(&self, headers: &Path) -> Result<Result<BTreeSet<String>, String>, MutantError> {
        let report = match lab::run_with_headers(&self.spec, &self.options, headers) {
            Ok(report) => report,
            Err(LabError::Build(e)) => {
                return Ok(Err(format!(
                    "a test module does not build: {}",
                    one_line(&first_error(&e.to_string()), 110)
                )))
            }
            Err(e) => return Err(MutantError::Setup(e.to_string())),
        };
        for c in &report.cells {
            if c.verdict != c.expected {
                let finding = c
                    .findings
                    .iter()
                    .find(|f| f.severity == Severity::Error)
                    .map(|f| f.message.clone())
                    .unwrap_or_default();
                return Ok(Err(one_line(
                    &format!(
                        "{} {} {} on {}: {} where {} expected. {finding}",
                        c.kmod,
                        c.arch,
                        c.variant,
                        c.kernel,
                        c.verdict.name(),
                        c.expected.name()
                    ),
                    150,
                )));
            }
        }
        let mut findings = BTreeSet::new();
        for c in &report.cells {
            for f in c.findings.iter().filter(|f| f.severity != Severity::Info) {
                findings.insert(format!(
                    "{} {} {} {:?} on {}: [{}] {}",
                    c.kmod, c.arch, c.variant, c.built_for, c.kernel, f.rule, f.message
                ));
            }
        }
        Ok(Ok(findings))
    }
}

impl Check for LabCheck {
    fn name(&self) -> &str {
        "lab"
    }

    fn baseline(&mut self, headers: &Path) -> Result<(), MutantError> {
        match self.examine(headers)? {
            Ok(findings) => {
                self.baseline = findings;
                Ok(())
            }
            Err(why) => Err(MutantError::Baseline {
                check: "lab".to_string(),
                why,
            }),
        }
    }

    fn run(&self, headers: &Path) -> Result<Verdict, MutantError> {
        match self.examine(headers)? {
            Err(why) => Ok(Verdict::Fail(why)),
            Ok(findings) => match findings.difference(&self.baseline).next() {
                Some(new) => Ok(Verdict::Fail(one_line(&format!("new finding: {new}"), 150))),
                None => Ok(Verdict::Pass),
            },
        }
    }
}

/// The emulated kernel: scenarios that load the test modules, built as
/// vimage-runtime against the mutant headers, on both kinds of kernel and
/// run their code.  A failed expectation, a fault or a panic kills the
/// mutant; this is what catches a wrong run-time behaviour that compiles
/// and links (IS_DEFAULT_VNET, VNET_FOREACH, the shims).
pub struct KldCheck {
    options: crate::kld::RunOptions,
    /// Scenario files, each run once per kernel configuration.
    scenarios: Vec<PathBuf>,
}

impl KldCheck {
    /// The runtime scenarios of `tests/kld` beside `kmods`.
    pub fn new(spec: &Spec, kmods: &Path, cache: &Path) -> Self {
        let dir = kmods.parent().unwrap_or(kmods).join("kld");
        let scenarios = [
            "runtime_on_vimage.kld",
            "runtime_on_novimage.kld",
            "dpcpu.kld",
            "handlers.kld",
        ]
        .iter()
        .map(|s| dir.join(s))
        .collect();
        KldCheck {
            options: crate::kld::RunOptions {
                spec: spec.clone(),
                release: None,
                arch: None,
                cache: cache.join("kld"),
                sysroot: stub_sysroot(),
                timeout: std::time::Duration::from_secs(20),
                vars: BTreeMap::new(),
            },
            scenarios,
        }
    }
}

impl Check for KldCheck {
    fn name(&self) -> &str {
        "kld"
    }

    fn run(&self, headers: &Path) -> Result<Verdict, MutantError> {
        for scenario in &self.scenarios {
            for kernel in ["vimage", "novimage"] {
                let mut options = self.options.clone();
                options
                    .vars
                    .insert("kernel".to_string(), kernel.to_string());
                let transcript = crate::kld::run_file_with_headers(scenario, &options, headers)
                    .map_err(|e| MutantError::Setup(e.to_string()))?;
                if let Some(failure) = &transcript.failure {
                    let name = scenario
                        .file_name()
                        .map_or(String::new(), |n| n.to_string_lossy().into_owned());
                    return Ok(Verdict::Fail(one_line(
                        &format!("{name}:{} ({kernel}): {}", failure.line, failure.message),
                        150,
                    )));
                }
            }
        }
        Ok(Verdict::Pass)
    }
}
