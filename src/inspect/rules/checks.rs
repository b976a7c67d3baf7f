//! The engine's checks.  A rule file picks one by name; each check says
//! which message variables it fills.

use std::collections::BTreeMap;

use super::{Context, Hit};
use crate::inspect::classify::Layout;
use crate::inspect::{Binding, ObjectKind, SymbolKind};
use crate::spec::kernel_model::KernelModel;
use crate::spec::variant::KernelConfig;

pub struct Check {
    pub name: &'static str,
    pub vars: &'static [&'static str],
    pub run: fn(&Context<'_>) -> Vec<Hit>,
}

pub const CHECKS: &[Check] = &[
    Check {
        name: "undefined-strong",
        vars: &["symbol"],
        run: undefined_strong,
    },
    Check {
        name: "undefined-weak",
        vars: &["symbol"],
        run: undefined_weak,
    },
    Check {
        name: "storage-outside-set",
        vars: &["symbol", "section", "family", "prefix", "set"],
        run: storage_outside_set,
    },
    Check {
        name: "plain-storage-on-vimage",
        vars: &["evidence"],
        run: plain_storage_on_vimage,
    },
    Check {
        name: "vimage-storage-on-novimage",
        vars: &["set"],
        run: vimage_storage_on_novimage,
    },
    Check {
        name: "modspace-exceeded",
        vars: &["family", "size", "set", "limit"],
        run: modspace_exceeded,
    },
    Check {
        name: "set-overaligned",
        vars: &["set", "align", "pointer"],
        run: set_overaligned,
    },
    Check {
        name: "static-in-set",
        vars: &["symbol", "set"],
        run: static_in_set,
    },
    Check {
        name: "set-bounds-not-exported",
        vars: &["symbol", "set"],
        run: set_bounds_not_exported,
    },
    Check {
        name: "set-pad-missing",
        vars: &["set", "symbol", "gap", "pad"],
        run: set_pad_missing,
    },
    Check {
        name: "relocation-in-set",
        vars: &["set", "offset", "relocation", "symbol"],
        run: relocation_in_set,
    },
];

fn vars(pairs: &[(&'static str, String)]) -> BTreeMap<&'static str, String> {
    pairs.iter().cloned().collect()
}

/// A module's own set bounds are resolved by the kernel linker, not the kernel.
fn resolved_by_module(ctx: &Context<'_>, name: &str) -> bool {
    let set = name
        .strip_prefix("__start_")
        .or_else(|| name.strip_prefix("__stop_"));
    set.is_some_and(|set| ctx.object.section(set).is_some())
}

fn missing(ctx: &Context<'_>, kernel: &KernelModel, weak: bool) -> Vec<Hit> {
    ctx.object
        .undefined()
        .filter(|s| (s.binding == Binding::Weak) == weak)
        .filter(|s| !kernel.provides(&s.name) && !resolved_by_module(ctx, &s.name))
        .map(|s| Hit {
            symbol: Some(s.name.clone()),
            vars: vars(&[("symbol", s.name.clone())]),
            ..Hit::default()
        })
        .collect()
}

fn undefined_strong(ctx: &Context<'_>) -> Vec<Hit> {
    missing(ctx, ctx.kernel, false)
}

fn undefined_weak(ctx: &Context<'_>) -> Vec<Hit> {
    missing(ctx, ctx.kernel, true)
}

fn storage_outside_set(ctx: &Context<'_>) -> Vec<Hit> {
    let mut hits = Vec::new();
    for f in &ctx.spec.families {
        for s in ctx
            .object
            .symbols
            .iter()
            .filter(|s| s.defined && !s.dynamic)
        {
            if matches!(s.kind, SymbolKind::Section | SymbolKind::File) {
                continue;
            }
            let in_set = s.section.as_deref() == Some(f.section.as_str());
            // A dual module's sides keep their names behind the side's
            // prefix (`__vnetgen_dual_v_vnet_entry_x`).
            let name = crate::build::dual::unrenamed(&s.name);
            let prefixed = name.starts_with(&f.prefix);
            let bound = s.name.starts_with("__start_")
                || s.name.starts_with("__stop_")
                || s.name.starts_with('$')
                || s.name.starts_with(".L");
            if (prefixed && !in_set && s.kind == SymbolKind::Data)
                || (in_set && !prefixed && !bound)
            {
                hits.push(Hit {
                    section: s.section.clone(),
                    symbol: Some(s.name.clone()),
                    vars: vars(&[
                        ("symbol", s.name.clone()),
                        ("section", s.section.clone().unwrap_or_default()),
                        ("family", f.name.clone()),
                        ("prefix", f.prefix.clone()),
                        ("set", f.section.clone()),
                    ]),
                    ..Hit::default()
                });
            }
        }
    }
    hits
}

fn plain_storage_on_vimage(ctx: &Context<'_>) -> Vec<Hit> {
    if ctx.classification.layout != Layout::Novimage || ctx.kernel.config != KernelConfig::Vimage {
        return Vec::new();
    }
    vec![Hit {
        vars: vars(&[("evidence", ctx.classification.evidence.join("; "))]),
        ..Hit::default()
    }]
}

fn vimage_storage_on_novimage(ctx: &Context<'_>) -> Vec<Hit> {
    if ctx.classification.layout != Layout::Vimage || ctx.kernel.config != KernelConfig::Novimage {
        return Vec::new();
    }
    ctx.spec
        .families
        .iter()
        .filter(|f| f.virtualized && ctx.object.section(&f.section).is_some())
        .map(|f| Hit {
            section: Some(f.section.clone()),
            vars: vars(&[("set", f.section.clone())]),
            ..Hit::default()
        })
        .collect()
}

fn modspace_exceeded(ctx: &Context<'_>) -> Vec<Hit> {
    let mut hits = Vec::new();
    for f in &ctx.spec.families {
        let (Some(limit), Some(section)) = (
            ctx.kernel.modspace.get(&f.section),
            ctx.object.section(&f.section),
        ) else {
            continue;
        };
        // The allocator rounds to pointer size.
        let pointer = u64::from(ctx.arch.pointer_bytes);
        let size = section.size.div_ceil(pointer) * pointer;
        if size > *limit {
            hits.push(Hit {
                section: Some(f.section.clone()),
                vars: vars(&[
                    ("family", f.name.clone()),
                    ("size", size.to_string()),
                    ("set", f.section.clone()),
                    ("limit", limit.to_string()),
                ]),
                ..Hit::default()
            });
        }
    }
    hits
}

fn set_overaligned(ctx: &Context<'_>) -> Vec<Hit> {
    let pointer = u64::from(ctx.arch.pointer_bytes);
    ctx.spec
        .families
        .iter()
        .filter_map(|f| ctx.object.section(&f.section))
        .filter(|s| s.align > pointer)
        .map(|s| Hit {
            section: Some(s.name.clone()),
            vars: vars(&[
                ("set", s.name.clone()),
                ("align", s.align.to_string()),
                ("pointer", pointer.to_string()),
            ]),
            ..Hit::default()
        })
        .collect()
}

fn static_in_set(ctx: &Context<'_>) -> Vec<Hit> {
    if !ctx.arch.global_set_storage || ctx.object.kind != ObjectKind::Shared {
        return Vec::new();
    }
    // A symbol made local after compilation (kmod.mk localises every global
    // of the `-r` output) was compiled as a global: its code goes through a
    // GOT entry or an absolute word, whose dynamic relocation names its
    // address, and the kernel linker moves that to the copy (link_elf.c's
    // elf_relocaddr).  Only a symbol that nothing relocates is reached
    // PC-relative.
    let relocated = |value: u64, size: u64| {
        ctx.object.relocations.iter().any(|r| {
            r.dynamic
                && r.symbol.is_none()
                && r.addend_known
                && u64::try_from(r.addend)
                    .is_ok_and(|a| a >= value && a < value.saturating_add(size.max(1)))
        })
    };
    let mut hits = Vec::new();
    for f in &ctx.spec.families {
        for s in ctx.object.symbols_in(&f.section) {
            if s.binding == Binding::Local
                && s.kind == SymbolKind::Data
                && !s.dynamic
                && !relocated(s.value, s.size)
            {
                hits.push(Hit {
                    section: Some(f.section.clone()),
                    symbol: Some(s.name.clone()),
                    vars: vars(&[("symbol", s.name.clone()), ("set", f.section.clone())]),
                    ..Hit::default()
                });
            }
        }
    }
    hits
}

fn set_bounds_not_exported(ctx: &Context<'_>) -> Vec<Hit> {
    if ctx.object.kind != ObjectKind::Shared {
        return Vec::new();
    }
    let mut hits = Vec::new();
    for f in &ctx.spec.families {
        // A set with no variables (only padding, say) needs no finding.
        if !ctx
            .object
            .symbols_in(&f.section)
            .any(|s| s.kind == SymbolKind::Data)
        {
            continue;
        }
        for bound in [
            format!("__start_{}", f.section),
            format!("__stop_{}", f.section),
        ] {
            let exported = ctx
                .object
                .symbols
                .iter()
                .any(|s| s.dynamic && s.defined && s.name == bound);
            if !exported {
                hits.push(Hit {
                    section: Some(f.section.clone()),
                    symbol: Some(bound.clone()),
                    vars: vars(&[("symbol", bound), ("set", f.section.clone())]),
                    ..Hit::default()
                });
            }
        }
    }
    hits
}

fn set_pad_missing(ctx: &Context<'_>) -> Vec<Hit> {
    let pad = u64::from(ctx.arch.set_pad);
    if pad == 0 || ctx.object.kind != ObjectKind::Shared {
        return Vec::new();
    }
    let mut hits = Vec::new();
    for f in &ctx.spec.families {
        let Some(set) = ctx.object.section(&f.section) else {
            continue;
        };
        // The last variable's end; the padding follows it, inside the set.
        let last = ctx
            .object
            .symbols_in(&f.section)
            .filter(|s| s.kind == SymbolKind::Data && s.size > 0)
            .max_by_key(|s| s.value.saturating_add(s.size));
        let Some(last) = last else {
            continue;
        };
        let end = set.address.saturating_add(set.size);
        let gap = end.saturating_sub(last.value.saturating_add(last.size));
        if gap < pad {
            hits.push(Hit {
                section: Some(f.section.clone()),
                symbol: Some(last.name.clone()),
                vars: vars(&[
                    ("set", f.section.clone()),
                    ("symbol", last.name.clone()),
                    ("gap", gap.to_string()),
                    ("pad", pad.to_string()),
                ]),
                ..Hit::default()
            });
        }
    }
    hits
}

fn relocation_in_set(ctx: &Context<'_>) -> Vec<Hit> {
    let sets: Vec<&str> = ctx
        .spec
        .families
        .iter()
        .map(|f| f.section.as_str())
        .collect();
    ctx.object
        .relocations
        .iter()
        .filter(|r| sets.contains(&r.section.as_str()))
        .map(|r| {
            let symbol = r.symbol.clone().unwrap_or_else(|| "an address".to_string());
            Hit {
                section: Some(r.section.clone()),
                symbol: r.symbol.clone(),
                relocation: Some(r.type_name.clone()),
                vars: vars(&[
                    ("set", r.section.clone()),
                    ("offset", format!("{:#x}", r.offset)),
                    ("relocation", r.type_name.clone()),
                    ("symbol", symbol),
                ]),
            }
        })
        .collect()
}
