//! The command line: one file per command, each with its arguments, the
//! library calls it makes and what it prints.  Paths from the command line
//! are made absolute here, once, against the current directory; the library
//! never sees a relative one.

pub mod abi;
pub mod bench;
pub mod cflags;
pub mod check;
pub mod diff;
pub mod dual;
pub mod explain;
pub mod facts;
pub mod generate;
pub mod inspect;
pub mod kld;
pub mod qualify;
pub mod vendor;
pub mod vm;

use std::path::{Path, PathBuf};

use clap::ValueEnum;

use vnetgen::build::cflags::stub_sysroot;
use vnetgen::spec::variant::{KernelConfig, Variant};
use vnetgen::spec::Spec;
use vnetgen::Error;

/// Help of every `--spec` option.
pub const SPEC_HELP: &str = "The spec to read (default: the embedded spec/vimage.toml)";
/// Help of every `--sysroot` option.
pub const SYSROOT_HELP: &str =
    "`stub` (this project's stub headers) or the path of a FreeBSD `sys` include root";

/// `path` made absolute against the current directory.
pub fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// The spec named on the command line, or the embedded one.
pub fn load(spec: Option<&Path>) -> Result<Spec, Error> {
    match spec {
        Some(path) => Ok(vnetgen::load_spec(path)?),
        None => Ok(Spec::default_spec()?),
    }
}

/// The include root a `--sysroot` value names, absolute.
pub fn sysroot_path(sysroot: &str) -> PathBuf {
    if sysroot == "stub" {
        absolute(&stub_sysroot())
    } else {
        absolute(Path::new(sysroot))
    }
}

/// The number of parallel jobs: as asked, or one per core.
pub fn jobs_or_cores(jobs: Option<usize>) -> usize {
    jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1)
}

pub fn variants_or_all(variants: Vec<VariantArg>) -> Vec<Variant> {
    if variants.is_empty() {
        Variant::ALL.to_vec()
    } else {
        variants.into_iter().map(Variant::from).collect()
    }
}

pub fn kernels_or_both(kernel: Option<KernelArg>) -> Vec<KernelConfig> {
    match kernel {
        Some(k) => vec![k.into()],
        None => KernelConfig::ALL.to_vec(),
    }
}

/// Text for people, JSON for programs.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Text,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum VariantArg {
    /// Compiled in for one kind of kernel, as FreeBSD's own headers.
    KldTied,
    /// Always VIMAGE: loads on VIMAGE kernels only.
    Vimage,
    /// Decides at load time: loads on both kinds of kernel.
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
pub enum KernelArg {
    /// A kernel built with `options VIMAGE`.
    Vimage,
    /// A kernel built without it.
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

/// The cells `explain` and `diff` preprocess for, and how they report.
#[derive(clap::Args)]
pub struct CellArgs {
    /// Variants to show (default: all).
    #[arg(long = "variant", value_enum)]
    pub variants: Vec<VariantArg>,
    /// The kernel a kld-tied build follows (default: both).
    #[arg(long, value_enum)]
    pub kernel: Option<KernelArg>,
    /// The architecture whose flags the preprocessor gets.
    #[arg(long, default_value = "amd64")]
    pub arch: String,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: ReportFormat,
    #[arg(long, help = SPEC_HELP)]
    pub spec: Option<PathBuf>,
    #[arg(long, default_value = "stub", help = SYSROOT_HELP)]
    pub sysroot: String,
}
