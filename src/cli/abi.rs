//! `vnetgen abi`: the ABI lab from the command line.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::ValueEnum;

use vnetgen::error::exit;
use vnetgen::gen::output::write_atomic;
use vnetgen::inspect::rules::Severity;
use vnetgen::kld;
use vnetgen::lab::{self, LabOptions};
use vnetgen::spec::variant::{KernelConfig, Variant};
use vnetgen::Error;

use super::{
    absolute, jobs_or_cores, load, sysroot_path, KernelArg, VariantArg, SPEC_HELP, SYSROOT_HELP,
};

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LabFormat {
    Text,
    Json,
    Junit,
    Html,
}

#[derive(clap::Args)]
pub struct AbiArgs {
    /// Architectures to build for; repeat the option for several (default: all
    /// of the spec's).
    #[arg(long = "arch")]
    pub archs: Vec<String>,
    /// Variants to build; repeatable (default: all).
    #[arg(long = "variant", value_enum)]
    pub variants: Vec<VariantArg>,
    /// Kernel configurations to judge against; repeatable (default: both).
    #[arg(long = "kernel", value_enum)]
    pub kernels: Vec<KernelArg>,
    /// Module sources, one directory per module.
    #[arg(long, default_value = "tests/kmods")]
    pub kmods: PathBuf,
    /// Parallel builds (default: the number of cores).
    #[arg(short = 'j', long)]
    pub jobs: Option<usize>,
    /// Report format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: LabFormat,
    /// Write the report here instead of standard output.
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// The build cache.
    #[arg(long, default_value = "target/vnetgen-lab")]
    pub cache: PathBuf,
    /// Where to write compile_commands.json (default: in the cache).
    #[arg(long)]
    pub compile_commands: Option<PathBuf>,
    #[arg(long, help = SPEC_HELP)]
    pub spec: Option<PathBuf>,
    #[arg(long, default_value = "stub", help = SYSROOT_HELP)]
    pub sysroot: String,
    /// The release the modules are built for (default: the stub's own,
    /// the newest).
    #[arg(long)]
    pub release: Option<String>,
    /// Also boot the real kernels of the release found in this directory
    /// (`<release>/<arch>/{VIMAGE,NOVIMAGE}/kernel`) and run every amd64
    /// and i386 cell's scenario there: the `real` column (default: no
    /// real kernels).
    #[arg(long)]
    pub real_kernels: Option<PathBuf>,
}

pub fn run(args: AbiArgs) -> Result<i32, Error> {
    let loaded = load(args.spec.as_deref())?;
    let cache = absolute(&args.cache);
    let options = LabOptions {
        archs: if args.archs.is_empty() {
            loaded.archs.iter().map(|a| a.name.clone()).collect()
        } else {
            args.archs
        },
        variants: if args.variants.is_empty() {
            Variant::ALL.to_vec()
        } else {
            args.variants.into_iter().map(Variant::from).collect()
        },
        kernels: if args.kernels.is_empty() {
            KernelConfig::ALL.to_vec()
        } else {
            args.kernels.into_iter().map(KernelConfig::from).collect()
        },
        kmods: absolute(&args.kmods),
        jobs: jobs_or_cores(args.jobs),
        cache: cache.clone(),
        sysroot: sysroot_path(&args.sysroot),
        progress: true,
        release: match &args.release {
            Some(name) => Some(
                loaded
                    .release_or_newest(Some(name))
                    .map_err(Error::Usage)?
                    .clone(),
            ),
            None => None,
        },
    };
    let mut report = lab::run(&loaded, &options).map_err(|e| Error::Lab(Box::new(e)))?;
    // amd64 cells also run their module's scenario in the emulated kernel.
    if options.archs.iter().any(|a| a == "amd64") {
        let run_options = kld::RunOptions {
            spec: loaded.clone(),
            release: args.release.clone(),
            arch: None,
            cache: options.cache.clone(),
            sysroot: options.sysroot.clone(),
            timeout: std::time::Duration::from_secs(20),
            vars: Default::default(),
        };
        kld::matrix::add_runs(&mut report, &options.kmods, &run_options)
            .map_err(|e| Error::Kld(Box::new(e)))?;
    }
    if let Some(kernels) = &args.real_kernels {
        let release = loaded
            .release_or_newest(args.release.as_deref())
            .map_err(Error::Usage)?
            .name
            .clone();
        let vm_options = vnetgen::vm::VmOptions {
            spec: loaded.clone(),
            cache: cache.clone(),
            vm_cache: cache.join("vm"),
            sysroot: options.sysroot.clone(),
            timeout: std::time::Duration::from_secs(60),
            vars: Default::default(),
            release: Some(release.clone()),
            accel: vnetgen::vm::qemu::Accel::Auto,
            memory_mb: 512,
            grub_dir: PathBuf::from(vnetgen::vm::grub::DEFAULT_GRUB_DIR),
        };
        let kernels = absolute(kernels);
        let booted = vnetgen::vm::matrix::add_real(
            &mut report,
            &options.kmods,
            &kernels,
            &release,
            &vm_options,
        )
        .map_err(|e| Error::Vm(Box::new(e)))?;
        if booted.is_empty() {
            return Err(Error::Usage(format!(
                "{}: no {release} amd64 or i386 kernel there (expected {release}/<arch>/VIMAGE/kernel or NOVIMAGE/kernel)",
                kernels.display()
            )));
        }
    }
    let commands = args
        .compile_commands
        .as_deref()
        .map_or_else(|| cache.join("compile_commands.json"), absolute);
    let json = serde_json::to_string_pretty(&report.compile_commands).unwrap_or_default();
    if std::fs::read_to_string(&commands).ok().as_deref() != Some(json.as_str()) {
        write_atomic(&commands, json.as_bytes())?;
    }
    let output = args.output.as_deref().map(absolute);
    let text = match args.format {
        LabFormat::Text => {
            lab::report::text(&report, output.is_none() && std::io::stdout().is_terminal())
        }
        LabFormat::Json => lab::report::json(&report),
        LabFormat::Junit => lab::report::junit(&report),
        LabFormat::Html => lab::report::html(&report),
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
