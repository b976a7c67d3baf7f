//! The patch series: first a patch that changes no preprocessor meaning
//! (layout, comments, order, and code that no configuration of the old
//! header reaches), then one functional patch per family, then the support
//! file.  The claim of the first patch is checked with the same macro-level
//! comparison as `vnetgen diff`, on every configuration and architecture.

use std::collections::BTreeMap;
use std::path::Path;

use rayon::prelude::*;

use super::patch::FileChange;
use super::VendorError;
use crate::build::cflags::Target;
use crate::build::toolchain::Toolchain;
use crate::gen::render::{render_drop_in_with, Overrides};
use crate::review::macros::{compare, macro_table, Configuration, MacroTable};
use crate::spec::variant::{BodyVariant, KernelConfig, ModuleFormat, Variant};
use crate::spec::Spec;

/// One patch, before formatting.
#[derive(Debug, Clone)]
pub struct Patch {
    pub subject: String,
    pub body: String,
    pub changes: Vec<FileChange>,
}

/// The configurations in which the old headers mean something: the kernel
/// and tied modules with and without VIMAGE, and untied VIMAGE modules.
fn configurations(
    spec: &Spec,
    toolchain: &Toolchain,
    state: &Path,
    sysroot: &Path,
) -> Vec<(BodyVariant, bool, Configuration)> {
    let mut out = Vec::new();
    for arch in &spec.archs {
        let shared = arch.global_set_storage && arch.module_format == ModuleFormat::Shared;
        for (variant, kernel, body) in [
            (Variant::KldTied, KernelConfig::Vimage, BodyVariant::Vimage),
            (
                Variant::KldTied,
                KernelConfig::Novimage,
                BodyVariant::Novimage,
            ),
            (Variant::Vimage, KernelConfig::Vimage, BodyVariant::Vimage),
        ] {
            let target = Target {
                variant,
                kernel,
                arch,
                release: None,
            };
            out.push((
                body,
                shared,
                Configuration::cell(spec, &target, &toolchain.clang, state, sysroot),
            ));
        }
    }
    out
}

/// Writes header texts into a directory laid out as `sys/...`.
fn lay_out(dir: &Path, files: &BTreeMap<String, String>) -> Result<(), VendorError> {
    for (path, text) in files {
        let target = dir.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|source| VendorError::Io {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        std::fs::write(&target, text).map_err(|source| VendorError::Io {
            path: target.clone(),
            source,
        })?;
    }
    Ok(())
}

fn tables(
    header: &Path,
    configs: &[(BodyVariant, bool, Configuration)],
) -> Result<Vec<MacroTable>, VendorError> {
    configs
        .par_iter()
        .map(|(_, _, c)| macro_table(header, c).map_err(VendorError::from))
        .collect()
}

/// The intermediate header: the new layout, with the old meaning in every
/// configuration where the old header means something.
fn intermediate(
    spec: &Spec,
    path: &str,
    configs: &[(BodyVariant, bool, Configuration)],
    old: &[MacroTable],
    new: &[MacroTable],
) -> Result<String, VendorError> {
    let items: BTreeMap<&str, ()> = spec
        .families
        .iter()
        .flat_map(|f| f.items.iter())
        .map(|i| (i.name.as_str(), ()))
        .collect();
    let mut overrides = Overrides::default();
    let mut extra: BTreeMap<BodyVariant, BTreeMap<String, (String, String)>> = BTreeMap::new();
    for (((variant, shared, _), old), new) in configs.iter().zip(old).zip(new) {
        for (name, def) in &old.macros {
            let same = new.get(name).is_some_and(|n| n.meaning() == def.meaning());
            if same {
                continue;
            }
            let replacement = (def.head(), def.body.clone());
            if items.contains_key(name.as_str()) {
                overrides
                    .bodies
                    .insert((name.clone(), *variant, *shared), replacement);
            } else {
                extra
                    .entry(*variant)
                    .or_default()
                    .insert(name.clone(), replacement);
            }
        }
        // What the old header does not define stays out of its
        // configurations: the macro, or the code block that defines it.
        for name in new.macros.keys() {
            if old.macros.contains_key(name) {
                continue;
            }
            if items.contains_key(name.as_str()) {
                overrides.omit.insert((name.clone(), *variant));
            } else if let Some(code) = defining_code(spec, name, *variant) {
                overrides.omit.insert((code, *variant));
            }
        }
    }
    overrides.extra = extra
        .into_iter()
        .map(|(v, m)| (v, m.into_values().collect()))
        .collect();
    render_drop_in_with(spec, path, &overrides)?
        .ok_or_else(|| VendorError::Internal(format!("no header {path} in the spec")))
}

/// The code block of the spec that `#define`s `name` in `variant`.
fn defining_code(spec: &Spec, name: &str, variant: BodyVariant) -> Option<String> {
    spec.families
        .iter()
        .flat_map(|f| f.items.iter())
        .find_map(|item| {
            let body = item.body.resolve(variant, spec.detect)?;
            let defines = body.lines().any(|l| {
                let l = l.trim_start();
                l.strip_prefix("#define").is_some_and(|rest| {
                    rest.split(|c: char| c.is_whitespace() || c == '(')
                        .find(|w| !w.is_empty())
                        == Some(name)
                })
            });
            (item.kind == crate::spec::ItemKind::Code && defines).then(|| item.name.clone())
        })
}

/// Builds the series.  `old` holds the tree's current headers (`None`
/// where the tree has none), `new` what vendoring writes; `tail` is the
/// last patch's changes (the support file and sys/conf/files), if any.
pub fn build(
    spec: &Spec,
    toolchain: &Toolchain,
    sysroot: &Path,
    old: &BTreeMap<String, Option<String>>,
    new: &BTreeMap<String, String>,
    tail: Vec<FileChange>,
) -> Result<Vec<Patch>, VendorError> {
    let work = tempfile::tempdir().map_err(|source| VendorError::Io {
        path: std::env::temp_dir(),
        source,
    })?;
    let before: BTreeMap<String, String> = new
        .iter()
        .map(|(p, n)| {
            (
                p.clone(),
                old.get(p).cloned().flatten().unwrap_or_else(|| n.clone()),
            )
        })
        .collect();
    let before_dir = work.path().join("before");
    let after_dir = work.path().join("after");
    lay_out(&before_dir, &before)?;
    lay_out(&after_dir, new)?;
    let before_configs = configurations(spec, toolchain, &before_dir, sysroot);
    let after_configs = configurations(spec, toolchain, &after_dir, sysroot);

    let mut first = Vec::new();
    let mut middle: BTreeMap<String, String> = BTreeMap::new();
    // What the functional patch of each header changes, over every configuration.
    let mut functional: BTreeMap<String, String> = BTreeMap::new();
    for (path, text) in new {
        let Some(Some(old_text)) = old.get(path) else {
            continue;
        };
        if old_text == text {
            continue;
        }
        let old_tables = tables(&before_dir.join(path), &before_configs)?;
        let new_tables = tables(&after_dir.join(path), &after_configs)?;
        let step = intermediate(spec, path, &before_configs, &old_tables, &new_tables)?;
        functional.insert(path.clone(), summarise(&old_tables, &new_tables));
        // The claim: no macro of the old header changes, goes or is renamed,
        // and none is added, in any configuration.
        let check_dir = work.path().join("check");
        let mut state = before.clone();
        state.insert(path.clone(), step.clone());
        lay_out(&check_dir, &state)?;
        let check_configs = configurations(spec, toolchain, &check_dir, sysroot);
        let step_tables = tables(&check_dir.join(path), &check_configs)?;
        for ((_, _, config), (o, s)) in before_configs
            .iter()
            .zip(old_tables.iter().zip(&step_tables))
        {
            let diff = compare(o, s);
            if !diff.is_empty() {
                let names: Vec<String> = diff
                    .changed
                    .iter()
                    .map(|c| c.name.clone())
                    .chain(diff.removed.iter().map(|m| m.name.clone()))
                    .chain(diff.added.iter().map(|m| m.name.clone()))
                    .chain(
                        diff.renamed
                            .iter()
                            .map(|r| format!("{} -> {}", r.from, r.to)),
                    )
                    .collect();
                return Err(VendorError::MeaningChanged {
                    path: path.clone(),
                    configuration: config.name.clone(),
                    macros: names.join(", "),
                });
            }
        }
        first.push(FileChange {
            path: path.clone(),
            old: Some(old_text.clone()),
            new: step.clone(),
        });
        middle.insert(path.clone(), step);
    }

    let mut patches = Vec::new();
    if !first.is_empty() {
        let files: Vec<&str> = first.iter().map(|c| c.path.as_str()).collect();
        patches.push(Patch {
            subject: format!(
                "{}: vnetgen layout, no change in meaning",
                short_names(&files)
            ),
            body: format!(
                "Reformat {} as vnetgen generates {}: style(9) layout, comments,\n\
                 order, and the code of the VIMAGE_RUNTIME variant, which no existing\n\
                 configuration selects.\n\n\
                 This patch changes no preprocessor meaning.  For the kernel and tied\n\
                 modules with and without VIMAGE, and untied VIMAGE modules, on {}, the\n\
                 macro table of each header is the same before and after it: no macro\n\
                 is added, removed, renamed or changed (`vnetgen diff` compares them).\n\
                 The functional changes follow, one patch per family.",
                files.join(" and "),
                if files.len() == 1 { "it" } else { "them" },
                spec.archs
                    .iter()
                    .map(|a| a.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            changes: first,
        });
    }
    // One functional patch per family: virtualized families first (VNET, then DPCPU).
    let mut families: Vec<_> = spec.families.iter().collect();
    families.sort_by_key(|f| (!f.virtualized, f.name.clone()));
    for family in families {
        let Some(text) = new.get(&family.header) else {
            continue;
        };
        let from = middle
            .get(&family.header)
            .cloned()
            .or_else(|| old.get(&family.header).cloned().flatten());
        if from.as_deref() == Some(text.as_str()) {
            continue;
        }
        let name = family.name.to_uppercase();
        let header = short_names(&[family.header.as_str()]);
        let what = if family.virtualized {
            format!(
                "Give {header} the {name} macros of vnetgen's spec. An untied module built \
                 with -DVIMAGE_RUNTIME keeps the VIMAGE layout ({} in {}) and decides at run \
                 time whether the kernel has VIMAGE, referencing every VIMAGE-only kernel \
                 symbol weakly, so that one module loads on both kinds of kernel. The kernel \
                 and tied modules keep following the kernel's VIMAGE option.",
                family.prefix, family.section
            )
        } else {
            format!(
                "Give {header} the {name} macros of vnetgen's spec: the same storage mechanism \
                 as VNET ({} in {}), which every kernel has, so all variants share it.",
                family.prefix, family.section
            )
        };
        let summary = functional
            .get(&family.header)
            .map(|s| format!("\n\n{s}"))
            .unwrap_or_default();
        patches.push(Patch {
            subject: format!("{header}: the {name} macros of vnetgen's spec"),
            body: format!("{what}{summary}"),
            changes: vec![FileChange {
                path: family.header.clone(),
                old: from,
                new: text.clone(),
            }],
        });
    }
    if !tail.is_empty() {
        patches.push(Patch {
            subject: "vnet_support.c: run-time VIMAGE support in every kernel".to_string(),
            body: format!(
                "Build net/vnet_support.c into every kernel, with and without VIMAGE.\n\
                 It exports {} and the shims that modules built with\n\
                 -DVIMAGE_RUNTIME (detection mode \"kernel\") call for their per-vnet\n\
                 constructors, destructors and global event handlers.",
                spec.flag
            ),
            changes: tail,
        });
    }
    Ok(patches)
}

/// The macros whose meaning changes, appears or goes for the kernel and
/// tied modules, in any configuration.
fn summarise(old: &[MacroTable], new: &[MacroTable]) -> String {
    let (mut changed, mut added, mut removed) = (Vec::new(), Vec::new(), Vec::new());
    for (o, n) in old.iter().zip(new) {
        let diff = compare(o, n);
        changed.extend(diff.changed.into_iter().map(|c| c.name));
        added.extend(diff.added.into_iter().map(|m| m.name));
        removed.extend(diff.removed.into_iter().map(|m| m.name));
        for r in diff.renamed {
            removed.push(r.from);
            added.push(r.to);
        }
    }
    let list = |mut v: Vec<String>| {
        v.sort();
        v.dedup();
        if v.is_empty() {
            "none".to_string()
        } else {
            v.join(", ")
        }
    };
    format!(
        "For the kernel and tied modules, macros that change meaning: {}. New macros: {}. Macros removed: {}.",
        list(changed),
        list(added),
        list(removed)
    )
}

/// `vnet.h, pcpu.h` from `sys/net/vnet.h`, `sys/sys/pcpu.h`.
fn short_names(paths: &[&str]) -> String {
    paths
        .iter()
        .map(|p| {
            Path::new(p)
                .file_name()
                .map_or(p.to_string(), |n| n.to_string_lossy().into_owned())
        })
        .collect::<Vec<_>>()
        .join(", ")
}
