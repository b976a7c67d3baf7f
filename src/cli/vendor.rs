//! `vnetgen vendor`: put the generated files into a FreeBSD source tree, or
//! write them as a patch series for review.

use std::path::PathBuf;

use clap::ValueEnum;

use vnetgen::error::exit;
use vnetgen::review::vendor::{self, VendorOptions, VendorOutcome};
use vnetgen::spec::variant::Detect;
use vnetgen::Error;

use super::{absolute, load, sysroot_path, SPEC_HELP};

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DetectArg {
    /// A weak reference to `vnet0` tells a VIMAGE kernel.
    Probe,
    /// The kernel exports a flag (`vnet_support.c` in the kernel).
    Kernel,
}

#[derive(clap::Args)]
pub struct VendorArgs {
    /// The root of the FreeBSD source tree (the directory holding `sys/`).
    pub tree: PathBuf,
    #[arg(long, help = SPEC_HELP)]
    pub spec: Option<PathBuf>,
    /// Override the spec's detection mode (default: the spec's).
    #[arg(long, value_enum)]
    pub detect: Option<DetectArg>,
    /// Write a `git format-patch` series into this directory instead of
    /// touching the tree (default: change the tree).
    #[arg(long)]
    pub patches: Option<PathBuf>,
    /// Print what would change, and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Headers the preprocessor needs besides the vendored ones: `stub` or a
    /// FreeBSD `sys` include root.
    #[arg(long, default_value = "stub")]
    pub sysroot: String,
}

pub fn run(args: VendorArgs) -> Result<i32, Error> {
    let loaded = load(args.spec.as_deref())?;
    let options = VendorOptions {
        tree: absolute(&args.tree),
        detect: args.detect.map(|d| match d {
            DetectArg::Probe => Detect::Probe,
            DetectArg::Kernel => Detect::Kernel,
        }),
        patches: args.patches.as_deref().map(absolute),
        dry_run: args.dry_run,
        sysroot: sysroot_path(&args.sysroot),
    };
    let tree = &args.tree;
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
