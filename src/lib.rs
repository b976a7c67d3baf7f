//! vnetgen: generate FreeBSD's `net/vnet.h` and `sys/pcpu.h` from one
//! declarative spec, in variants that let a kernel module built outside the
//! kernel work on kernels with and without `options VIMAGE`.
//!
//! The data flows one way: [`spec`] (parse, validate) -> [`render`]
//! (templates) -> [`output`] (write if changed).  A `build.rs` can generate
//! the headers with two calls:
//!
//! ```no_run
//! let spec = vnetgen::spec::Spec::default_spec()?;
//! vnetgen::generate(&spec, std::path::Path::new("generated"), false)?;
//! # Ok::<(), vnetgen::Error>(())
//! ```

pub mod bench;
pub mod cflags;
pub mod cformat;
pub mod classify;
pub mod diff;
pub mod error;
pub mod explain;
pub mod inspect;
pub mod inspect_cmd;
pub mod kernel_model;
pub mod kld;
pub mod kmod;
pub mod lab;
pub mod macros;
pub mod mutants;
pub mod output;
pub mod render;
pub mod rules;
pub mod spec;
pub mod stamp;
pub mod toolchain;
pub mod variant;
pub mod vendor;

use std::path::Path;

pub use error::Error;
use output::{Finding, WriteOutcome};
use spec::Spec;

/// Reads a spec from a file.
pub fn load_spec(path: &Path) -> Result<Spec, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::ReadSpec {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(Spec::parse(&spec_display_name(path), &text)?)
}

/// How a spec file is named in banners: relative paths as given, absolute
/// ones by file name, so the output does not depend on where the tree is.
pub fn spec_display_name(path: &Path) -> String {
    if path.is_absolute() {
        path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    } else {
        path.to_string_lossy().replace('\\', "/")
    }
}

/// Renders the spec and writes the files that changed under `out_dir`.
pub fn generate(
    spec: &Spec,
    out_dir: &Path,
    force: bool,
) -> Result<Vec<(String, WriteOutcome)>, Error> {
    let files = render::render(spec)?;
    Ok(output::write_outputs(out_dir, &files, force)?)
}

/// Compares `out_dir` with what `generate` would write.
pub fn check(spec: &Spec, out_dir: &Path) -> Result<Vec<Finding>, Error> {
    let files = render::render(spec)?;
    Ok(output::check_outputs(out_dir, &files)?)
}
