//! vnetgen: generate FreeBSD's `net/vnet.h` and `sys/pcpu.h` from one
//! declarative spec, in variants that let a kernel module built outside the
//! kernel work on kernels with and without `options VIMAGE`.
//!
//! The concepts, in the order the data flows; a module may use the ones
//! above it and never one below (`tests/layout.rs` holds the code to that):
//!
//! ```no_run
//! let spec = vnetgen::spec::Spec::default_spec()?;
//! vnetgen::generate(&spec, std::path::Path::new("generated"), false)?;
//! # Ok::<(), vnetgen::Error>(())
//! ```

/// The spec: parsing, validation, the variants and the kernel models.
pub mod spec;
/// Generation: the spec rendered into C text, laid out, stamped, written.
pub mod gen;
/// Building one module as FreeBSD's kmod.mk does: flags, toolchain, link.
pub mod build;
/// Reading built objects, telling their build, judging them, predicting loads.
pub mod inspect;
/// The ABI lab: every module for every variant, kernel and architecture.
pub mod lab;
/// The emulated kernel linker: amd64 modules loaded and run.
pub mod kld;
/// Real FreeBSD kernels in QEMU, running the kld scenarios.
pub mod vm;
/// For reviewers: macro expansions, header diffs, vendoring into a tree,
/// qualification on the real trees' own modules.
pub mod review;
/// What the run-time variant costs against the compiled-in builds.
pub mod bench;
/// Mutation testing of the checks.
pub mod mutants;

/// The crate's error, and the exit code each kind maps to.
pub mod error;

pub use error::Error;
pub use gen::{check, generate};
pub use spec::{load_spec, spec_display_name};
