//! The `real` verdict of the lab's amd64 and i386 cells: each cell whose
//! test kmod carries a scenario runs it, with the cell's `.ko`, on the real
//! FreeBSD kernel of its configuration (`<release>/<arch>/VIMAGE` or
//! `NOVIMAGE` under a kernels directory).  Each kernel boots once, with
//! every cell of its configuration.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::kld::matrix::SCENARIO;
use crate::lab::{LabReport, Verdict as CellVerdict};
use crate::spec::variant::KernelConfig;

use super::plan::Verdict;
use super::{run_with_vars, VmError, VmOptions};

/// The architectures the real kernels are booted for.
pub const ARCHS: [&str; 2] = ["amd64", "i386"];

/// The kernel of a configuration under a kernels directory.
pub fn kernel_dir(kernels: &Path, release: &str, arch: &str, config: KernelConfig) -> PathBuf {
    let name = match config {
        KernelConfig::Vimage => "VIMAGE",
        KernelConfig::Novimage => "NOVIMAGE",
    };
    kernels.join(release).join(arch).join(name)
}

/// Boots the real kernels of `release` and sets each cell's `real`
/// verdict.  Returns the kernels booted; a configuration without a kernel
/// under `kernels` leaves its cells without a verdict.
pub fn add_real(
    report: &mut LabReport,
    kmods: &Path,
    kernels: &Path,
    release: &str,
    options: &VmOptions,
) -> Result<Vec<PathBuf>, VmError> {
    let mut booted = Vec::new();
    for arch in ARCHS {
        for config in KernelConfig::ALL {
            let kernel = kernel_dir(kernels, release, arch, config);
            if !kernel.join("kernel").is_file() {
                continue;
            }
            // The cells of this kernel, and their scenarios with the cell's
            // variables, in the same order.
            let mut cells = Vec::new();
            let mut scenarios = Vec::new();
            for (i, cell) in report.cells.iter().enumerate() {
                if cell.arch != arch || cell.kernel != config {
                    continue;
                }
                let scenario = kmods.join(&cell.kmod).join(SCENARIO);
                let build = report.builds.iter().find(|b| {
                    b.kmod == cell.kmod
                        && b.arch == cell.arch
                        && b.variant == cell.variant
                        && b.built_for == cell.built_for
                });
                let (true, Some(build)) = (scenario.is_file(), build) else {
                    continue;
                };
                let mut vars = BTreeMap::new();
                vars.insert("kernel".to_string(), config.name().to_string());
                vars.insert("detect".to_string(), options.spec.detect.name().to_string());
                vars.insert("module".to_string(), build.ko.display().to_string());
                cells.push(i);
                scenarios.push((scenario, vars));
            }
            if cells.is_empty() {
                continue;
            }
            let mut opts = options.clone();
            opts.release = Some(release.to_string());
            let reports = run_with_vars(std::slice::from_ref(&kernel), &scenarios, &opts)?;
            let Some(kernel_report) = reports.into_iter().next() else {
                continue;
            };
            for (n, &i) in cells.iter().enumerate() {
                let cell = &mut report.cells[i];
                match (&kernel_report.problem, kernel_report.scenarios.get(n)) {
                    (Some(problem), _) => {
                        cell.real = Some(CellVerdict::Fails);
                        cell.real_detail = Some(problem.clone());
                    }
                    (None, Some(result)) => match &result.verdict {
                        Verdict::Passed => cell.real = Some(CellVerdict::Loads),
                        Verdict::Failed {
                            line,
                            command,
                            message,
                        } => {
                            cell.real = Some(CellVerdict::Fails);
                            cell.real_detail =
                                Some(format!("{SCENARIO}:{line}: {command}: {message}"));
                        }
                        Verdict::Skipped(_) => {}
                    },
                    (None, None) => {}
                }
            }
            booted.push(kernel);
        }
    }
    Ok(booted)
}
