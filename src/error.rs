//! The library's error, and the exit code each kind maps to in the CLI.

use std::io;
use std::path::PathBuf;

use crate::build::toolchain::ToolchainError;
use crate::gen::output::OutputError;
use crate::gen::render::RenderError;
use crate::spec::SpecError;

/// Exit codes of the `vnetgen` command (documented in README.md).
pub mod exit {
    pub const OK: i32 = 0;
    pub const ERROR: i32 = 1;
    pub const USAGE: i32 = 2;
    pub const SPEC: i32 = 3;
    pub const CHECK_FAILED: i32 = 4;
    pub const HAND_EDITED: i32 = 5;
    /// `abi` (a bit mask with ERROR and USAGE): some cell has findings.
    pub const FINDINGS: i32 = 4;
    /// `abi`: a cell fails where the expected matrix says it loads.
    pub const UNEXPECTED_FAILURE: i32 = 8;
    /// `inspect`: a module does not load on a kernel asked about.
    pub const WONT_LOAD: i32 = 4;
    /// `diff`: the headers differ in meaning.
    pub const DIFFERS: i32 = 4;
    /// `kld run`: a scenario failed (an expectation, a load, a fault, a panic).
    pub const SCENARIO_FAILED: i32 = 6;
    /// `qualify`: a build failed, or a check (identity, prediction,
    /// fingerprint) did not pass.
    pub const QUALIFY_FAILED: i32 = 4;
}

impl From<crate::spec::LoadSpecError> for Error {
    fn from(e: crate::spec::LoadSpecError) -> Error {
        match e {
            crate::spec::LoadSpecError::Read { path, source } => Error::ReadSpec { path, source },
            crate::spec::LoadSpecError::Invalid(e) => Error::Spec(e),
        }
    }
}

impl From<crate::gen::GenError> for Error {
    fn from(e: crate::gen::GenError) -> Error {
        match e {
            crate::gen::GenError::Render(e) => Error::Render(e),
            crate::gen::GenError::Output(e) => Error::Output(e),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Spec(#[from] SpecError),
    #[error("reading spec {}: {source}", path.display())]
    ReadSpec {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error(transparent)]
    Output(#[from] OutputError),
    #[error(transparent)]
    Toolchain(#[from] ToolchainError),
    #[error(transparent)]
    Lab(Box<crate::lab::LabError>),
    #[error(transparent)]
    Vendor(Box<crate::review::vendor::VendorError>),
    #[error(transparent)]
    Inspect(#[from] crate::inspect::predict::InspectCmdError),
    #[error(transparent)]
    Explain(#[from] crate::review::explain::ExplainError),
    #[error(transparent)]
    Diff(#[from] crate::review::diff::DiffError),
    #[error(transparent)]
    Kld(Box<crate::kld::KldError>),
    #[error(transparent)]
    Vm(Box<crate::vm::VmError>),
    #[error(transparent)]
    Bench(Box<crate::bench::BenchError>),
    #[error(transparent)]
    Facts(Box<crate::review::facts::FactsError>),
    #[error(transparent)]
    Qualify(Box<crate::review::qualify::QualifyError>),
    #[error(transparent)]
    Dual(Box<crate::build::dual::DualError>),
    #[error("{0}")]
    Usage(String),
}

impl Error {
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Spec(_) => exit::SPEC,
            Error::Output(OutputError::HandEdited { .. }) => exit::HAND_EDITED,
            Error::Vendor(e)
                if matches!(
                    **e,
                    crate::review::vendor::VendorError::HandEdited { .. }
                        | crate::review::vendor::VendorError::Unrecognised { .. }
                ) =>
            {
                exit::HAND_EDITED
            }
            Error::Usage(_)
            | Error::Explain(
                crate::review::explain::ExplainError::UnknownMacro { .. }
                | crate::review::explain::ExplainError::Usage(_),
            )
            | Error::Diff(crate::review::diff::DiffError::Usage(_)) => exit::USAGE,
            Error::Kld(e) if matches!(**e, crate::kld::KldError::Scenario(_)) => exit::USAGE,
            Error::Qualify(e) if e.is_bad_input() => exit::USAGE,
            // A module that cannot be joined is bad input, named in full.
            Error::Dual(e) if matches!(**e, crate::build::dual::DualError::Join { .. }) => {
                exit::USAGE
            }
            Error::Vm(e)
                if matches!(
                    **e,
                    crate::vm::VmError::Scenario(_) | crate::vm::VmError::Release(_)
                ) =>
            {
                exit::USAGE
            }
            _ => exit::ERROR,
        }
    }
}
