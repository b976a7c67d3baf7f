//! `vnetgen dual`: joins a module's VIMAGE and non-VIMAGE builds (two
//! `.ko` files, built untied with the compiled-in headers, by kmod.mk
//! through `Makefile.inc` or otherwise) into one dual module.

use std::path::PathBuf;

use vnetgen::build::dual::Assembly;
use vnetgen::build::toolchain::Toolchain;
use vnetgen::error::exit;
use vnetgen::Error;

use super::{absolute, load, sysroot_path, SPEC_HELP, SYSROOT_HELP};

#[derive(clap::Args)]
pub struct DualArgs {
    /// The module built for VIMAGE kernels (untied, `-DVIMAGE`).
    #[arg(long)]
    pub vimage: PathBuf,
    /// The same module built for kernels without VIMAGE.
    #[arg(long)]
    pub novimage: PathBuf,
    /// The dual module to write (replaced whole, or left alone on error).
    #[arg(long, short)]
    pub output: PathBuf,
    /// The architecture: amd64, i386 or aarch64.
    #[arg(long, default_value = "amd64")]
    pub arch: String,
    /// The FreeBSD release the sides were built for (default: the release
    /// of the `--sysroot` tree, or the newest).
    #[arg(long)]
    pub release: Option<String>,
    /// Where the dispatcher's headers come from, as for `vnetgen cflags`.
    #[arg(long, default_value = "stub", help = SYSROOT_HELP)]
    pub sysroot: String,
    /// Directory of the generated headers.
    #[arg(long, default_value = "generated")]
    pub headers: PathBuf,
    /// Where the joined object and the dispatcher's source are kept
    /// (default: beside the output, in `<output>.dual/`).
    #[arg(long)]
    pub work: Option<PathBuf>,
    #[arg(long, help = SPEC_HELP)]
    pub spec: Option<PathBuf>,
}

pub fn run(args: DualArgs) -> Result<i32, Error> {
    let spec = load(args.spec.as_deref())?;
    let Some(arch) = spec.arch(&args.arch) else {
        return Err(Error::Usage(format!("unknown arch `{}`", args.arch)));
    };
    let sysroot = sysroot_path(&args.sysroot);
    // The release: as asked, else the --sysroot tree's own, else the newest.
    let release = match (&args.release, tree_version(&sysroot)) {
        (None, Some(version)) => spec.release_of_osreldate(version).ok_or_else(|| {
            Error::Usage(format!(
                "{}: __FreeBSD_version {version} is of no release the spec describes",
                sysroot.display()
            ))
        })?,
        (asked, _) => spec
            .release_or_newest(asked.as_deref())
            .map_err(Error::Usage)?,
    };
    let output = absolute(&args.output);
    let name = output
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .ok_or_else(|| Error::Usage(format!("{}: no module name", output.display())))?;
    let work = args
        .work
        .as_deref()
        .map(absolute)
        .unwrap_or_else(|| output.with_extension("ko.dual"));
    let toolchain = Toolchain::locate()?;
    let ko = Assembly {
        spec: &spec,
        arch,
        release: Some(release),
        name: &name,
        generated: &absolute(&args.headers),
        sysroot: &sysroot,
        out_dir: &work,
        mutant: None,
    }
    .assemble(
        &toolchain,
        &absolute(&args.vimage),
        &absolute(&args.novimage),
        &output,
    )
    .map_err(|e| Error::Dual(Box::new(e)))?;
    println!("wrote     {}", ko.display());
    Ok(exit::OK)
}

/// The `__FreeBSD_version` of a FreeBSD `sys` directory.
fn tree_version(sys: &std::path::Path) -> Option<u32> {
    if !vnetgen::build::cflags::is_freebsd_sys(sys) {
        return None;
    }
    let text = std::fs::read_to_string(sys.join("sys/param.h")).ok()?;
    vnetgen::review::facts::freebsd_version(&text)?.parse().ok()
}
