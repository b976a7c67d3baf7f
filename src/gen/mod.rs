//! Generation: the validated spec, through the templates ([`render`]) and
//! the style(9) layout ([`cformat`]), into stamped text ([`stamp`]), written
//! atomically and only where it changed ([`output`]); and the dispatcher
//! of a dual module ([`dual`]), from what the build stage read of its sides.
//!
//! Uses: `spec`.

pub mod cformat;
pub mod dual;
pub mod output;
pub mod render;
pub mod stamp;

use std::path::Path;

use crate::spec::Spec;
use output::{Finding, OutputError, WriteOutcome};
use render::RenderError;

/// Why generating or checking failed.
#[derive(Debug, thiserror::Error)]
pub enum GenError {
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error(transparent)]
    Output(#[from] OutputError),
}

/// Renders the spec and writes the files that changed under `out_dir`.
pub fn generate(
    spec: &Spec,
    out_dir: &Path,
    force: bool,
) -> Result<Vec<(String, WriteOutcome)>, GenError> {
    let files = render::render(spec)?;
    Ok(output::write_outputs(out_dir, &files, force)?)
}

/// Compares `out_dir` with what `generate` would write.
pub fn check(spec: &Spec, out_dir: &Path) -> Result<Vec<Finding>, GenError> {
    let files = render::render(spec)?;
    Ok(output::check_outputs(out_dir, &files)?)
}
