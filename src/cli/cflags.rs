//! `vnetgen cflags`: the clang arguments that compile a kmod source for one
//! variant, kernel and architecture.

use std::path::PathBuf;

use vnetgen::build::cflags::{self, shell_quote, Target};
use vnetgen::error::exit;
use vnetgen::Error;

use super::{absolute, load, sysroot_path, KernelArg, VariantArg, SPEC_HELP, SYSROOT_HELP};

#[derive(clap::Args)]
pub struct CflagsArgs {
    /// The variant the module is built in.
    #[arg(long, value_enum)]
    pub variant: VariantArg,
    /// The kernel the module is built for (matters for kld-tied).
    #[arg(long, value_enum, default_value = "vimage")]
    pub kernel: KernelArg,
    /// The architecture (one of the spec's: amd64, i386, aarch64, armv7,
    /// powerpc64, riscv64).
    #[arg(long)]
    pub arch: String,
    #[arg(long, default_value = "stub", help = SYSROOT_HELP)]
    pub sysroot: String,
    /// Directory of the generated headers.
    #[arg(long, default_value = "generated")]
    pub out: PathBuf,
    #[arg(long, help = SPEC_HELP)]
    pub spec: Option<PathBuf>,
    /// Add the warning flags the generated headers are tested with.
    #[arg(long)]
    pub warnings: bool,
    /// Build for this FreeBSD release of the spec (13.2, 15.1; default: the
    /// newest): its clang target, its kmod.mk flags for the architecture,
    /// and its `-D__FreeBSD_version`, which the stub sysroot's layouts follow.
    #[arg(long)]
    pub release: Option<String>,
}

pub fn run(args: CflagsArgs) -> Result<i32, Error> {
    let loaded = load(args.spec.as_deref())?;
    let Some(arch_spec) = loaded.arch(&args.arch) else {
        let names: Vec<&str> = loaded.archs.iter().map(|a| a.name.as_str()).collect();
        return Err(Error::Usage(format!(
            "unknown arch `{}`; known: {}",
            args.arch,
            names.join(", ")
        )));
    };
    let release = Some(
        loaded
            .release_or_newest(args.release.as_deref())
            .map_err(Error::Usage)?,
    );
    let target = Target {
        variant: args.variant.into(),
        kernel: args.kernel.into(),
        arch: arch_spec,
        release,
    };
    let flags = cflags::cflags(
        &loaded,
        &target,
        &absolute(&args.out),
        &sysroot_path(&args.sysroot),
        args.warnings,
    );
    let quoted: Vec<String> = flags.iter().map(|a| shell_quote(a)).collect();
    println!("{}", quoted.join(" "));
    Ok(exit::OK)
}
