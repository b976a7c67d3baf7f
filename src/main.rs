//! The `vnetgen` command: parses arguments, calls the library, and maps its
//! errors to the exit codes documented in README.md.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use vnetgen::cflags::{self, shell_quote, stub_sysroot, Target};
use vnetgen::error::exit;
use vnetgen::kld;
use vnetgen::lab::{self, LabOptions};
use vnetgen::output::{write_atomic, WriteOutcome};
use vnetgen::rules::Severity;
use vnetgen::spec::Spec;
use vnetgen::variant::Detect;
use vnetgen::variant::{KernelConfig, Variant};
use vnetgen::vendor::{self, VendorOptions, VendorOutcome};
use vnetgen::Error;
use vnetgen::{diff, explain, inspect_cmd};

#[derive(Parser)]
#[command(
    name = "vnetgen",
    version,
    about = "FreeBSD VNET and DPCPU headers for modules that work on VIMAGE and non-VIMAGE kernels"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Render the spec and write the files that changed.
    Generate {
        /// The spec (default: the embedded spec/vimage.toml).
        #[arg(long)]
        spec: Option<PathBuf>,
        /// Output directory.
        #[arg(long, default_value = "generated")]
        out: PathBuf,
        /// Also write a make dependency file: outputs depend on the spec and on vnetgen.
        #[arg(long)]
        depfile: Option<PathBuf>,
        /// Overwrite outputs even where they were edited by hand.
        #[arg(long)]
        force: bool,
        /// Print only the files that changed.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Exit non-zero when an output is missing, stale or edited by hand.
    Check {
        #[arg(long)]
        spec: Option<PathBuf>,
        #[arg(long, default_value = "generated")]
        out: PathBuf,
    },
    /// Print the clang arguments that compile a kmod source.
    Cflags {
        #[arg(long, value_enum)]
        variant: VariantArg,
        /// The kernel the module is built for (matters for kld-tied).
        #[arg(long, value_enum, default_value = "vimage")]
        kernel: KernelArg,
        #[arg(long)]
        arch: String,
        /// `stub` (this project's stub headers) or the path of a FreeBSD `sys` include root.
        #[arg(long, default_value = "stub")]
        sysroot: String,
        /// Directory of the generated headers.
        #[arg(long, default_value = "generated")]
        out: PathBuf,
        #[arg(long)]
        spec: Option<PathBuf>,
        /// Add the warning flags the generated headers are tested with.
        #[arg(long)]
        warnings: bool,
    },
    /// Build test kmods for every variant, kernel and architecture, inspect
    /// the objects, and tell which build loads on which kernel.
    /// Put the generated files into a FreeBSD source tree, or write them as
    /// a patch series for review.
    Vendor {
        /// The root of the FreeBSD source tree (the directory holding `sys/`).
        tree: PathBuf,
        #[arg(long)]
        spec: Option<PathBuf>,
        /// Override the spec's detection mode.
        #[arg(long, value_enum)]
        detect: Option<DetectArg>,
        /// Write a `git format-patch` series here instead of touching the tree.
        #[arg(long)]
        patches: Option<PathBuf>,
        /// Print what would change, and change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Headers the preprocessor needs besides the vendored ones.
        #[arg(long, default_value = "stub")]
        sysroot: String,
    },
    Abi {
        /// Architectures (default: all).
        #[arg(long = "arch")]
        archs: Vec<String>,
        /// Variants (default: all).
        #[arg(long = "variant", value_enum)]
        variants: Vec<VariantArg>,
        /// Kernel configurations (default: both).
        #[arg(long = "kernel", value_enum)]
        kernels: Vec<KernelArg>,
        /// Module sources, one directory per module.
        #[arg(long, default_value = "tests/kmods")]
        kmods: PathBuf,
        /// Parallel builds (default: the number of cores).
        #[arg(short = 'j', long)]
        jobs: Option<usize>,
        #[arg(long, value_enum, default_value = "text")]
        format: FormatArg,
        /// Write the report here instead of standard output.
        #[arg(long)]
        output: Option<PathBuf>,
        /// The build cache.
        #[arg(long, default_value = "target/vnetgen-lab")]
        cache: PathBuf,
        /// Where to write compile_commands.json (default: in the cache).
        #[arg(long)]
        compile_commands: Option<PathBuf>,
        #[arg(long)]
        spec: Option<PathBuf>,
        #[arg(long, default_value = "stub")]
        sysroot: String,
    },
    /// Tell, for built modules, their build kind, VNET and DPCPU variables,
    /// the kernel symbols they need, and whether they load on each kernel.
    Inspect {
        /// The modules (.ko, or .o).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Predict for this kernel configuration only (default: both).
        #[arg(long = "kernel-config", value_enum)]
        kernel_config: Option<KernelArg>,
        /// Predict against this kernel image's own symbol table.
        #[arg(long, conflicts_with = "kernel_config")]
        kernel: Option<PathBuf>,
        #[arg(long, value_enum, default_value = "text")]
        format: ReportFormat,
        #[arg(long)]
        spec: Option<PathBuf>,
    },
    /// Show what a macro expands to in each variant, through the preprocessor.
    Explain {
        /// The macro's name.
        name: String,
        /// Its arguments (default: its parameter names).
        args: Vec<String>,
        #[command(flatten)]
        cells: CellArgs,
    },
    /// Compare the macros of a reference header with the generated one:
    /// renames apart from added, removed and changed macros.
    Diff {
        /// The reference header, e.g. FreeBSD's sys/net/vnet.h.
        reference: PathBuf,
        /// The header to compare with (default: the generated header of the
        /// same file name, rendered from the spec).
        #[arg(long)]
        against: Option<PathBuf>,
        #[command(flatten)]
        cells: CellArgs,
    },
    /// The emulated kernel linker: load amd64 modules into an emulated
    /// VIMAGE or non-VIMAGE kernel and run their code.
    Kld {
        #[command(subcommand)]
        command: KldCommand,
    },
    /// What the run-time variant costs against the compiled-in builds, for
    /// each accessor strategy of the spec: instructions per access (from the
    /// disassembly, and executed under callgrind on amd64) and `.text` size.
    Bench {
        /// The spec (default: the embedded spec/vimage.toml).
        #[arg(long)]
        spec: Option<PathBuf>,
        /// Strategies to measure (default: every one of the spec's).
        #[arg(long = "strategy")]
        strategies: Vec<String>,
        /// Architectures (default: every one of the spec's).
        #[arg(long = "arch")]
        archs: Vec<String>,
        /// Skip the executed measure (valgrind).
        #[arg(long)]
        no_callgrind: bool,
        /// Loop iterations of the executed measure.
        #[arg(long, default_value_t = 1_000_000)]
        iterations: u64,
        /// The directory holding tests/kmods and tests/bench_kmods.
        #[arg(long, default_value = ".")]
        root: PathBuf,
        #[arg(long, short = 'j')]
        jobs: Option<usize>,
        #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
        format: ReportFormat,
    },
}

#[derive(Subcommand)]
enum KldCommand {
    /// Run scenario files and print their transcripts.
    Run {
        /// Scenario files (one command a line; see README.md).
        #[arg(required = true)]
        scenarios: Vec<PathBuf>,
        /// Set a scenario variable: `--set module=path/to/x.ko`.
        #[arg(long = "set", value_name = "NAME=VALUE")]
        vars: Vec<String>,
        /// The time limit of each scenario, in seconds.
        #[arg(long, default_value_t = 20.0)]
        timeout: f64,
        /// The build cache, for modules loaded from their sources.
        #[arg(long, default_value = "target/vnetgen-lab")]
        cache: PathBuf,
        #[arg(long)]
        spec: Option<PathBuf>,
        #[arg(long, default_value = "stub")]
        sysroot: String,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ReportFormat {
    Text,
    Json,
}

fn sysroot_path(sysroot: &str) -> PathBuf {
    if sysroot == "stub" {
        stub_sysroot()
    } else {
        PathBuf::from(sysroot)
    }
}

fn variants_or_all(variants: Vec<VariantArg>) -> Vec<Variant> {
    if variants.is_empty() {
        Variant::ALL.to_vec()
    } else {
        variants.into_iter().map(Variant::from).collect()
    }
}

fn kernels_or_both(kernel: Option<KernelArg>) -> Vec<KernelConfig> {
    match kernel {
        Some(k) => vec![k.into()],
        None => KernelConfig::ALL.to_vec(),
    }
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum DetectArg {
    Probe,
    Kernel,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FormatArg {
    Text,
    Json,
    Junit,
    Html,
}

/// The cells `explain` and `diff` preprocess for, and how they report.
#[derive(clap::Args)]
struct CellArgs {
    /// Variants (default: all).
    #[arg(long = "variant", value_enum)]
    variants: Vec<VariantArg>,
    /// The kernel a kld-tied build follows (default: both).
    #[arg(long, value_enum)]
    kernel: Option<KernelArg>,
    /// The architecture whose flags the preprocessor gets.
    #[arg(long, default_value = "amd64")]
    arch: String,
    #[arg(long, value_enum, default_value = "text")]
    format: ReportFormat,
    /// The spec (default: the embedded spec/vimage.toml).
    #[arg(long)]
    spec: Option<PathBuf>,
    /// `stub` (this project's stub headers) or the path of a FreeBSD `sys` include root.
    #[arg(long, default_value = "stub")]
    sysroot: String,
}

#[derive(Clone, Copy, ValueEnum)]
enum VariantArg {
    KldTied,
    Vimage,
    VimageRuntime,
}

impl From<VariantArg> for Variant {
    fn from(v: VariantArg) -> Variant {
        match v {
            VariantArg::KldTied => Variant::KldTied,
            VariantArg::Vimage => Variant::Vimage,
            VariantArg::VimageRuntime => Variant::VimageRuntime,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum KernelArg {
    Vimage,
    Novimage,
}

impl From<KernelArg> for KernelConfig {
    fn from(k: KernelArg) -> KernelConfig {
        match k {
            KernelArg::Vimage => KernelConfig::Vimage,
            KernelArg::Novimage => KernelConfig::Novimage,
        }
    }
}

fn load(spec: Option<&Path>) -> Result<Spec, Error> {
    match spec {
        Some(path) => vnetgen::load_spec(path),
        None => Ok(Spec::default_spec()?),
    }
}

fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

/// A make rule: every output depends on the spec and on this binary.
fn depfile_text(out: &Path, files: &[String], spec: Option<&Path>) -> String {
    let mut prerequisites = Vec::new();
    if let Some(spec) = spec {
        prerequisites.push(absolute(spec));
    }
    if let Ok(exe) = std::env::current_exe() {
        prerequisites.push(exe);
    }
    let escape = |p: &Path| p.display().to_string().replace(' ', "\\ ");
    let targets: Vec<String> = files
        .iter()
        .map(|f| escape(&absolute(&out.join(f))))
        .collect();
    let prereqs: Vec<String> = prerequisites.iter().map(|p| escape(p)).collect();
    let mut text = format!("{}: {}\n", targets.join(" \\\n    "), prereqs.join(" "));
    for p in &prereqs {
        text.push_str(&format!("{p}:\n"));
    }
    text
}

fn run(cli: Cli) -> Result<i32, Error> {
    match cli.command {
        Command::Generate {
            spec,
            out,
            depfile,
            force,
            quiet,
        } => {
            let loaded = load(spec.as_deref())?;
            let report = vnetgen::generate(&loaded, &out, force)?;
            for (path, outcome) in &report {
                if !quiet || *outcome != WriteOutcome::Unchanged {
                    println!("{:<9} {}", outcome.verb(), out.join(path).display());
                }
            }
            if let Some(depfile) = depfile {
                let files: Vec<String> = report.iter().map(|(p, _)| p.clone()).collect();
                let text = depfile_text(&out, &files, spec.as_deref());
                if std::fs::read_to_string(&depfile).ok().as_deref() != Some(text.as_str()) {
                    write_atomic(&depfile, text.as_bytes())?;
                }
            }
            Ok(exit::OK)
        }
        Command::Check { spec, out } => {
            let loaded = load(spec.as_deref())?;
            let findings = vnetgen::check(&loaded, &out)?;
            if findings.is_empty() {
                println!("{}: up to date", out.display());
                return Ok(exit::OK);
            }
            for f in &findings {
                print!("{}", f.diff);
            }
            for f in &findings {
                eprintln!("{}: {}", out.join(&f.path).display(), f.problem.describe());
            }
            let spec_arg = spec
                .map(|s| format!(" --spec {}", shell_quote(&s.display().to_string())))
                .unwrap_or_default();
            eprintln!(
                "to regenerate: vnetgen generate{spec_arg} --out {}{}",
                shell_quote(&out.display().to_string()),
                if findings
                    .iter()
                    .any(|f| f.problem != vnetgen::output::Problem::Missing
                        && f.problem != vnetgen::output::Problem::Stale)
                {
                    " --force"
                } else {
                    ""
                }
            );
            Ok(exit::CHECK_FAILED)
        }
        Command::Cflags {
            variant,
            kernel,
            arch,
            sysroot,
            out,
            spec,
            warnings,
        } => {
            let loaded = load(spec.as_deref())?;
            let Some(arch_spec) = loaded.arch(&arch) else {
                let names: Vec<&str> = loaded.archs.iter().map(|a| a.name.as_str()).collect();
                return Err(Error::Usage(format!(
                    "unknown arch `{arch}`; known: {}",
                    names.join(", ")
                )));
            };
            let sysroot = if sysroot == "stub" {
                stub_sysroot()
            } else {
                PathBuf::from(sysroot)
            };
            let target = Target {
                variant: variant.into(),
                kernel: kernel.into(),
                arch: arch_spec,
            };
            let args = cflags::cflags(
                &loaded,
                &target,
                &absolute(&out),
                &absolute(&sysroot),
                warnings,
            );
            let quoted: Vec<String> = args.iter().map(|a| shell_quote(a)).collect();
            println!("{}", quoted.join(" "));
            Ok(exit::OK)
        }
        Command::Vendor {
            tree,
            spec,
            detect,
            patches,
            dry_run,
            sysroot,
        } => {
            let loaded = load(spec.as_deref())?;
            let options = VendorOptions {
                tree: tree.clone(),
                detect: detect.map(|d| match d {
                    DetectArg::Probe => Detect::Probe,
                    DetectArg::Kernel => Detect::Kernel,
                }),
                patches,
                dry_run,
                sysroot: if sysroot == "stub" {
                    stub_sysroot()
                } else {
                    PathBuf::from(sysroot)
                },
            };
            match vendor::vendor(&loaded, &options).map_err(|e| Error::Vendor(Box::new(e)))? {
                VendorOutcome::NothingToDo => {
                    println!("{}: already vendored, nothing to do", tree.display())
                }
                VendorOutcome::Written(files) => {
                    for f in files {
                        println!("wrote     {}", tree.join(f).display());
                    }
                }
                VendorOutcome::DryRun(diff) => print!("{diff}"),
                VendorOutcome::Patches(files) => {
                    for f in files {
                        println!("{}", f.display());
                    }
                }
            }
            Ok(exit::OK)
        }
        Command::Abi {
            archs,
            variants,
            kernels,
            kmods,
            jobs,
            format,
            output,
            cache,
            compile_commands,
            spec,
            sysroot,
        } => {
            let loaded = load(spec.as_deref())?;
            let options = LabOptions {
                archs: if archs.is_empty() {
                    loaded.archs.iter().map(|a| a.name.clone()).collect()
                } else {
                    archs
                },
                variants: if variants.is_empty() {
                    Variant::ALL.to_vec()
                } else {
                    variants.into_iter().map(Variant::from).collect()
                },
                kernels: if kernels.is_empty() {
                    KernelConfig::ALL.to_vec()
                } else {
                    kernels.into_iter().map(KernelConfig::from).collect()
                },
                kmods,
                jobs: jobs
                    .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
                cache: cache.clone(),
                sysroot: if sysroot == "stub" {
                    stub_sysroot()
                } else {
                    PathBuf::from(sysroot)
                },
                progress: true,
            };
            let mut report = lab::run(&loaded, &options).map_err(|e| Error::Lab(Box::new(e)))?;
            // amd64 cells also run their module's scenario in the emulated kernel.
            if options.archs.iter().any(|a| a == "amd64") {
                let run_options = kld::RunOptions {
                    spec: loaded.clone(),
                    cache: options.cache.clone(),
                    sysroot: options.sysroot.clone(),
                    timeout: std::time::Duration::from_secs(20),
                    vars: Default::default(),
                };
                kld::matrix::add_runs(&mut report, &options.kmods, &run_options)
                    .map_err(|e| Error::Kld(Box::new(e)))?;
            }
            let commands = compile_commands.unwrap_or_else(|| cache.join("compile_commands.json"));
            let json = serde_json::to_string_pretty(&report.compile_commands).unwrap_or_default();
            if std::fs::read_to_string(&commands).ok().as_deref() != Some(json.as_str()) {
                write_atomic(&commands, json.as_bytes())?;
            }
            let text = match format {
                FormatArg::Text => {
                    lab::report::text(&report, output.is_none() && std::io::stdout().is_terminal())
                }
                FormatArg::Json => lab::report::json(&report),
                FormatArg::Junit => lab::report::junit(&report),
                FormatArg::Html => lab::report::html(&report),
            };
            match output {
                Some(path) => write_atomic(&path, text.as_bytes())?,
                None => print!("{text}"),
            }
            let mut code = exit::OK;
            if report
                .cells
                .iter()
                .any(|c| c.findings.iter().any(|f| f.severity != Severity::Info))
            {
                code |= exit::FINDINGS;
            }
            if report.cells.iter().any(|c| c.unexpected_failure()) {
                code |= exit::UNEXPECTED_FAILURE;
            }
            Ok(code)
        }
        Command::Inspect {
            files,
            kernel_config,
            kernel,
            format,
            spec,
        } => {
            let loaded = load(spec.as_deref())?;
            let kernels = match (kernel, kernel_config) {
                (Some(path), _) => inspect_cmd::Kernels::Elf(path),
                (None, Some(k)) => inspect_cmd::Kernels::Models(vec![k.into()]),
                (None, None) => inspect_cmd::Kernels::Models(KernelConfig::ALL.to_vec()),
            };
            let report = inspect_cmd::inspect(&loaded, &files, &kernels)?;
            match format {
                ReportFormat::Text => print!("{}", inspect_cmd::text(&report)),
                ReportFormat::Json => print!("{}", inspect_cmd::json(&report)),
            }
            Ok(if report.all_load() {
                exit::OK
            } else {
                exit::WONT_LOAD
            })
        }
        Command::Explain { name, args, cells } => {
            let loaded = load(cells.spec.as_deref())?;
            let request = explain::ExplainRequest {
                name,
                args,
                variants: variants_or_all(cells.variants),
                kernels: kernels_or_both(cells.kernel),
                arch: cells.arch,
                sysroot: absolute(&sysroot_path(&cells.sysroot)),
            };
            let explanation = explain::explain(&loaded, &request)?;
            match cells.format {
                ReportFormat::Text => print!("{}", explain::text(&explanation)),
                ReportFormat::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&explanation).unwrap_or_default()
                ),
            }
            Ok(exit::OK)
        }
        Command::Bench {
            spec,
            strategies,
            archs,
            no_callgrind,
            iterations,
            root,
            jobs,
            format,
        } => {
            let mut options = vnetgen::bench::BenchOptions::new(&root);
            if let Some(path) = &spec {
                options.spec_text =
                    std::fs::read_to_string(path).map_err(|source| Error::ReadSpec {
                        path: path.clone(),
                        source,
                    })?;
                options.spec_name = vnetgen::spec_display_name(path);
            }
            options.strategies = strategies;
            options.archs = archs;
            options.iterations = iterations.max(1);
            if let Some(j) = jobs {
                options.jobs = j.max(1);
            }
            if !no_callgrind {
                options.callgrind_exe = Some(
                    std::env::current_exe()
                        .map_err(|e| Error::Usage(format!("locating vnetgen: {e}")))?,
                );
            }
            let report = vnetgen::bench::run(&options).map_err(|e| Error::Bench(Box::new(e)))?;
            match format {
                ReportFormat::Text => print!("{}", vnetgen::bench::report::text(&report)),
                ReportFormat::Json => println!("{}", vnetgen::bench::report::json(&report)),
            }
            Ok(exit::OK)
        }
        Command::Kld {
            command:
                KldCommand::Run {
                    scenarios,
                    vars,
                    timeout,
                    cache,
                    spec,
                    sysroot,
                },
        } => {
            let mut options = kld::RunOptions {
                spec: load(spec.as_deref())?,
                cache,
                sysroot: sysroot_path(&sysroot),
                timeout: std::time::Duration::from_secs_f64(timeout.max(0.001)),
                vars: Default::default(),
            };
            for v in vars {
                let Some((name, value)) = v.split_once('=') else {
                    return Err(Error::Usage(format!("--set {v}: NAME=VALUE")));
                };
                options.vars.insert(name.to_string(), value.to_string());
            }
            let mut code = exit::OK;
            for scenario in scenarios {
                let transcript =
                    kld::run_file(&scenario, &options).map_err(|e| Error::Kld(Box::new(e)))?;
                print!("{}", transcript.text);
                if !transcript.passed() {
                    code = exit::SCENARIO_FAILED;
                }
            }
            Ok(code)
        }
        Command::Diff {
            reference,
            against,
            cells,
        } => {
            let loaded = load(cells.spec.as_deref())?;
            // The generated tree, rendered from the spec: the new header's
            // own includes resolve there.
            let tree = tempfile::tempdir().map_err(|source| {
                Error::Output(vnetgen::output::OutputError::Io {
                    path: std::env::temp_dir(),
                    source,
                })
            })?;
            let files = vnetgen::render::render(&loaded)?;
            vnetgen::output::write_outputs(tree.path(), &files, true)?;
            let generated = match against {
                Some(path) => path,
                None => match diff::matching_header(&loaded, &reference) {
                    Some(header) => tree.path().join(header),
                    None => {
                        let names: Vec<&str> =
                            loaded.headers.iter().map(|h| h.path.as_str()).collect();
                        return Err(Error::Usage(format!(
                            "{}: no generated header of that file name ({}); name one with --against",
                            reference.display(),
                            names.join(", ")
                        )));
                    }
                },
            };
            let request = diff::DiffRequest {
                reference,
                generated,
                variants: variants_or_all(cells.variants),
                kernels: kernels_or_both(cells.kernel),
                arch: cells.arch,
                generated_tree: absolute(tree.path()),
                sysroot: absolute(&sysroot_path(&cells.sysroot)),
            };
            let report = diff::diff(&loaded, &request)?;
            match cells.format {
                ReportFormat::Text => print!("{}", diff::text(&report)),
                ReportFormat::Json => print!("{}", diff::json(&report)),
            }
            Ok(if report.differs() {
                exit::DIFFERS
            } else {
                exit::OK
            })
        }
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { exit::USAGE as u8 } else { 0 });
        }
    };
    match run(cli) {
        Ok(code) => ExitCode::from(code as u8),
        Err(e) => {
            eprintln!("vnetgen: {e}");
            ExitCode::from(e.exit_code() as u8)
        }
    }
}
