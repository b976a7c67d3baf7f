//! `vnetgen vm`: scenarios on real FreeBSD kernels, booted in QEMU.

use std::path::PathBuf;

use clap::{Subcommand, ValueEnum};

use vnetgen::error::exit;
use vnetgen::gen::output::write_atomic;
use vnetgen::vm::{self, Accel};
use vnetgen::Error;

use super::{absolute, load, sysroot_path, SPEC_HELP, SYSROOT_HELP};

#[derive(Subcommand)]
pub enum VmCommand {
    /// Boot each kernel once in QEMU and run the scenarios on it.
    Run(RunArgs),
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum VmFormat {
    Text,
    Json,
    Junit,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AccelArg {
    /// KVM when /dev/kvm is usable (and not kvm-pvm), TCG otherwise.
    Auto,
    /// QEMU's emulation: works everywhere.
    Tcg,
    /// Hardware virtualisation.
    Kvm,
}

#[derive(clap::Args)]
pub struct RunArgs {
    /// A kernel: its ELF, or a directory holding `kernel`; repeatable.  A
    /// path that does not exist is looked up in $VNETGEN_KERNELS (default
    /// ../shared/freebsd/kernels): `--kernel 13.2/amd64/VIMAGE`.
    #[arg(long = "kernel", required = true, value_name = "DIR_OR_ELF")]
    pub kernels: Vec<PathBuf>,
    /// Scenario files, in the language of `vnetgen kld run`.
    #[arg(required = true)]
    pub scenarios: Vec<PathBuf>,
    /// Set a scenario variable; `kernel` and `detect` default to the kernel's.
    #[arg(long = "set", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// The release modules are built for (default: each kernel's own, from
    /// its osreldate; the spec's newest when the kernel does not say).
    #[arg(long)]
    pub release: Option<String>,
    /// Report format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: VmFormat,
    /// Write the report here instead of standard output.
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// The longest one step may take on the guest, the boot to init
    /// included, in seconds; QEMU is killed after it.
    #[arg(long, default_value_t = 60.0)]
    pub timeout: f64,
    /// QEMU's accelerator.
    #[arg(long, value_enum, default_value = "auto")]
    pub accel: AccelArg,
    /// The guest's memory, in MiB.
    #[arg(long, default_value_t = 512)]
    pub memory: u32,
    /// The build cache, for modules loaded from their sources; boot
    /// artefacts are kept in its `vm/`.
    #[arg(long, default_value = "target/vnetgen-lab")]
    pub cache: PathBuf,
    /// GRUB's i386-pc platform directory (Debian's grub-pc-bin).
    #[arg(long, default_value = vm::grub::DEFAULT_GRUB_DIR)]
    pub grub: PathBuf,
    #[arg(long, help = SPEC_HELP)]
    pub spec: Option<PathBuf>,
    #[arg(long, default_value = "stub", help = SYSROOT_HELP)]
    pub sysroot: String,
}

/// Where kernels named by their place in a kernels directory are.
pub const KERNELS_DEFAULT: &str = "../shared/freebsd/kernels";

/// A `--kernel` argument: the path, or else its place under
/// `$VNETGEN_KERNELS` (or [`KERNELS_DEFAULT`]).
fn kernel_path(arg: &std::path::Path) -> PathBuf {
    if arg.exists() {
        return absolute(arg);
    }
    let root = std::env::var_os("VNETGEN_KERNELS")
        .map_or_else(|| PathBuf::from(KERNELS_DEFAULT), PathBuf::from);
    let under = root.join(arg);
    if under.exists() {
        absolute(&under)
    } else {
        absolute(arg)
    }
}

pub fn run(command: VmCommand) -> Result<i32, Error> {
    let VmCommand::Run(args) = command;
    let cache = absolute(&args.cache);
    let mut options = vm::VmOptions {
        spec: load(args.spec.as_deref())?,
        vm_cache: cache.join("vm"),
        cache,
        sysroot: sysroot_path(&args.sysroot),
        timeout: std::time::Duration::from_secs_f64(args.timeout.max(1.0)),
        vars: Default::default(),
        release: args.release,
        accel: match args.accel {
            AccelArg::Auto => Accel::Auto,
            AccelArg::Tcg => Accel::Tcg,
            AccelArg::Kvm => Accel::Kvm,
        },
        memory_mb: args.memory.max(128),
        grub_dir: absolute(&args.grub),
    };
    for v in args.vars {
        let Some((name, value)) = v.split_once('=') else {
            return Err(Error::Usage(format!("--set {v}: NAME=VALUE")));
        };
        options.vars.insert(name.to_string(), value.to_string());
    }
    let kernels: Vec<PathBuf> = args.kernels.iter().map(|k| kernel_path(k)).collect();
    let scenarios: Vec<PathBuf> = args.scenarios.iter().map(|s| absolute(s)).collect();
    let reports = vm::run(&kernels, &scenarios, &options).map_err(|e| Error::Vm(Box::new(e)))?;
    let text = match args.format {
        VmFormat::Text => vm::report::text(&reports),
        VmFormat::Json => vm::report::json(&reports),
        VmFormat::Junit => vm::report::junit(&reports),
    };
    match args.output.as_deref().map(absolute) {
        Some(path) => write_atomic(&path, text.as_bytes())?,
        None => print!("{text}"),
    }
    Ok(if reports.iter().all(|k| k.passed()) {
        exit::OK
    } else {
        exit::SCENARIO_FAILED
    })
}
