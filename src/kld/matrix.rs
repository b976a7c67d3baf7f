//! The `runs` verdict of the lab's amd64 cells: each test kmod carries a
//! scenario (`scenario.kld` beside its sources) that states what a correct
//! module does on a kernel.  For each cell it is run with `$kernel`,
//! `$detect` and `$module` (the cell's `.ko`) set: `loads` when it passes.

use std::path::Path;

use crate::lab::{LabReport, Verdict};

use super::{run_file, KldError, RunOptions};

/// The scenario file each test kmod carries.
pub const SCENARIO: &str = "scenario.kld";

/// Runs the scenario of every amd64 cell whose module has one.
pub fn add_runs(
    report: &mut LabReport,
    kmods: &Path,
    options: &RunOptions,
) -> Result<(), KldError> {
    for cell in report.cells.iter_mut().filter(|c| c.arch == "amd64") {
        let scenario = kmods.join(&cell.kmod).join(SCENARIO);
        if !scenario.is_file() {
            continue;
        }
        let Some(build) = report.builds.iter().find(|b| {
            b.kmod == cell.kmod
                && b.arch == cell.arch
                && b.variant == cell.variant
                && b.built_for == cell.built_for
        }) else {
            continue;
        };
        let mut opts = options.clone();
        opts.vars.insert("kernel".into(), cell.kernel.name().into());
        opts.vars
            .insert("detect".into(), options.spec.detect.name().into());
        opts.vars
            .insert("module".into(), build.ko.display().to_string());
        let transcript = run_file(&scenario, &opts)?;
        cell.runs = Some(if transcript.passed() {
            Verdict::Loads
        } else {
            Verdict::Fails
        });
        cell.runs_detail = transcript
            .failure
            .map(|f| format!("{}:{}: {}", SCENARIO, f.line, f.message));
    }
    Ok(())
}
