//! The `vnetgen` command: parses arguments, calls the library, and maps its
//! errors to the exit codes documented in README.md.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use vnetgen::cflags::{self, shell_quote, stub_sysroot, Target};
use vnetgen::error::exit;
use vnetgen::lab::{self, LabOptions};
use vnetgen::output::{write_atomic, WriteOutcome};
use vnetgen::rules::Severity;
use vnetgen::spec::Spec;
use vnetgen::variant::{KernelConfig, Variant};
use vnetgen::Error;

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
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FormatArg {
    Text,
    Json,
    Junit,
    Html,
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
            let report = lab::run(&loaded, &options).map_err(|e| Error::Lab(Box::new(e)))?;
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
