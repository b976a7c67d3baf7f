//! `vnetgen diff`: the macros of a reference header against the generated
//! one, configuration by configuration, with renames told apart from
//! functional changes.  The tables and the comparison are [`crate::review::macros`].

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::build::cflags::Target;
use crate::build::toolchain::Toolchain;
use crate::review::macros::{compare, macro_table, Configuration, MacroDef, MacroDiff, MacroError};
use crate::spec::variant::{KernelConfig, Variant};
use crate::spec::Spec;

#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    #[error(transparent)]
    Macros(#[from] MacroError),
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Setup(String),
}

/// What to compare.
#[derive(Debug, Clone)]
pub struct DiffRequest {
    pub reference: PathBuf,
    /// The new header.
    pub generated: PathBuf,
    pub variants: Vec<Variant>,
    /// Kernels for kld-tied (the other variants do not follow the kernel).
    pub kernels: Vec<KernelConfig>,
    pub arch: String,
    /// The headers the generated one includes (the rendered tree).
    pub generated_tree: PathBuf,
    pub sysroot: PathBuf,
}

/// One configuration's diff.
#[derive(Debug, Clone, Serialize)]
pub struct ConfigDiff {
    pub variant: Variant,
    /// The kernel a kld-tied build follows; null for the other variants.
    pub kernel: Option<KernelConfig>,
    pub arch: String,
    pub defines: Vec<String>,
    #[serde(flatten)]
    pub diff: MacroDiff,
}

#[derive(Debug, Clone, Serialize)]
pub struct DiffReport {
    pub schema: u32,
    pub reference: String,
    pub generated: String,
    pub configurations: Vec<ConfigDiff>,
}

impl DiffReport {
    pub fn differs(&self) -> bool {
        self.configurations.iter().any(|c| !c.diff.is_empty())
    }
}

/// The cells of the request: kld-tied once per kernel, the others once.
pub fn cells(variants: &[Variant], kernels: &[KernelConfig]) -> Vec<(Variant, KernelConfig)> {
    let mut cells = Vec::new();
    for &v in variants {
        if v == Variant::KldTied {
            cells.extend(kernels.iter().map(|&k| (v, k)));
        } else {
            cells.push((v, KernelConfig::Vimage));
        }
    }
    cells
}

/// The header of the spec that a reference header stands for: the one with
/// the same file name (`vnet.h` is `sys/net/vnet.h`).
pub fn matching_header<'s>(spec: &'s Spec, reference: &Path) -> Option<&'s str> {
    let name = reference.file_name()?.to_str()?;
    let mut found = spec
        .headers
        .iter()
        .filter(|h| h.path.rsplit('/').next() == Some(name));
    let first = found.next()?;
    if found.next().is_some() {
        return None;
    }
    Some(first.path.as_str())
}

/// Runs the comparison for every cell (in parallel: one preprocessor run per
/// header and cell).
pub fn diff(spec: &Spec, request: &DiffRequest) -> Result<DiffReport, DiffError> {
    use rayon::prelude::*;
    let toolchain = Toolchain::locate().map_err(|e| DiffError::Setup(e.to_string()))?;
    let Some(arch) = spec.arch(&request.arch) else {
        let names: Vec<&str> = spec.archs.iter().map(|a| a.name.as_str()).collect();
        return Err(DiffError::Usage(format!(
            "unknown arch `{}`; known: {}",
            request.arch,
            names.join(", ")
        )));
    };
    let cells = cells(&request.variants, &request.kernels);
    let results: Vec<Result<ConfigDiff, DiffError>> = cells
        .par_iter()
        .map(|&(variant, kernel)| {
            let target = Target {
                variant,
                kernel,
                arch,
                release: None,
            };
            let config = Configuration::cell(
                spec,
                &target,
                &toolchain.clang,
                &request.generated_tree,
                &request.sysroot,
            );
            let old = macro_table(&request.reference, &config)?;
            let new = macro_table(&request.generated, &config)?;
            Ok(ConfigDiff {
                variant,
                kernel: (variant == Variant::KldTied).then_some(kernel),
                arch: arch.name.clone(),
                defines: config.defines(),
                diff: compare(&old, &new),
            })
        })
        .collect();
    let mut configurations = Vec::new();
    for r in results {
        configurations.push(r?);
    }
    Ok(DiffReport {
        schema: 1,
        reference: request.reference.display().to_string(),
        generated: request.generated.display().to_string(),
        configurations,
    })
}

fn show(m: &MacroDef) -> String {
    if m.body.is_empty() {
        format!("{} (empty)", m.head())
    } else {
        format!("{}\t{}", m.head(), m.body)
    }
}

/// The report as text: per configuration, renames first (the noise a
/// reviewer can set aside), then what changes meaning.
pub fn text(report: &DiffReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "--- {}", report.reference);
    let _ = writeln!(out, "+++ {}", report.generated);
    for c in &report.configurations {
        let name = crate::review::macros::cell_name(
            c.variant,
            c.kernel.unwrap_or(KernelConfig::Vimage),
            &c.arch,
        );
        let _ = writeln!(out, "\n== {name}: {}", c.defines.join(" "));
        let d = &c.diff;
        if d.is_empty() {
            let _ = writeln!(out, "no differences ({} macros mean the same)", d.unchanged);
            continue;
        }
        if !d.renamed.is_empty() {
            let _ = writeln!(out, "renamed (same body under another name):");
            for r in &d.renamed {
                let _ = writeln!(out, "  {} -> {}", r.old.head(), r.new.head());
            }
        }
        if !d.changed.is_empty() {
            let _ = writeln!(out, "changed:");
            for ch in &d.changed {
                let _ = writeln!(out, "  {}", ch.name);
                let _ = writeln!(out, "  -\t{}", show(&ch.old));
                let _ = writeln!(out, "  +\t{}", show(&ch.new));
            }
        }
        if !d.removed.is_empty() {
            let _ = writeln!(out, "removed:");
            for m in &d.removed {
                let _ = writeln!(out, "  -\t{}", show(m));
            }
        }
        if !d.added.is_empty() {
            let _ = writeln!(out, "added:");
            for m in &d.added {
                let _ = writeln!(out, "  +\t{}", show(m));
            }
        }
        let _ = writeln!(
            out,
            "{} renamed, {} changed, {} removed, {} added, {} the same",
            d.renamed.len(),
            d.changed.len(),
            d.removed.len(),
            d.added.len(),
            d.unchanged
        );
    }
    out
}

pub fn json(report: &DiffReport) -> String {
    let mut s = serde_json::to_string_pretty(report).unwrap_or_default();
    s.push('\n');
    s
}
