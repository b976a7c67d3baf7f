//! The dispatcher of a dual module (`templates/dual_shim.c`): the C file
//! that hands the kernel one side of a module carrying both compiled-in
//! builds.  What goes in it (every SYSINIT of each side, its sysctls, its
//! module metadata) is read from the two builds' objects by the build
//! stage; this renders it.

use askama::Template;

use crate::gen::render::RenderError;
use crate::gen::stamp::stamp;

/// One SYSINIT or SYSUNINIT of a side, by the symbol the joined object
/// defines at its slot in the side's moved set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetEntry {
    pub slot: String,
    pub subsystem: u32,
    pub order: u32,
}

/// One `DECLARE_MODULE` of a side: the module's name, and the symbols of
/// its event handler and private argument (`None`: NULL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleEntry {
    pub name: String,
    pub evhand: Option<String>,
    pub private: Option<String>,
}

/// What one side hands the kernel.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Side {
    pub sysinits: Vec<SetEntry>,
    pub sysuninits: Vec<SetEntry>,
    /// The slots of its `sysctl_set`, in order.
    pub sysctls: Vec<String>,
    pub modules: Vec<ModuleEntry>,
    /// `MODULE_VERSION`: (module, version).
    pub versions: Vec<(String, i32)>,
    /// `MODULE_DEPEND`: (module depended on, minimum, preferred, maximum).
    pub depends: Vec<(String, i32, i32, i32)>,
    /// What the side references weakly only because the other kind of
    /// kernel lacks it: on its own kind of kernel each must be there.
    pub needs: Vec<String>,
}

/// A defect put into the dual glue on purpose, for the mutation testing
/// of the scenarios that must catch it on real kernels (`tests/vm.rs`).
/// Never set in a build for use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GlueMutant {
    /// The dispatcher's sets list the proxies in the sides' set order, not
    /// sorted in the order the kernel runs each side's.
    ProxyOrder,
    /// The dispatcher registers the other side's sysctls.
    SysctlWrongSide,
    /// The VIMAGE side's module metadata stays in the kernel's sight, beside
    /// the dispatcher's.
    MetadataTwice,
    /// A reference that only one kind of kernel resolves is left strong.
    StrongReference,
}

impl GlueMutant {
    pub const ALL: [GlueMutant; 4] = [
        GlueMutant::ProxyOrder,
        GlueMutant::SysctlWrongSide,
        GlueMutant::MetadataTwice,
        GlueMutant::StrongReference,
    ];

    pub fn name(self) -> &'static str {
        match self {
            GlueMutant::ProxyOrder => "proxy-order",
            GlueMutant::SysctlWrongSide => "sysctl-wrong-side",
            GlueMutant::MetadataTwice => "metadata-twice",
            GlueMutant::StrongReference => "strong-reference",
        }
    }
}

/// One entry of the dispatcher's `sysinit_set` or `sysuninit_set`: a
/// proxy of a side's entry (`slot`), or the registration of the active
/// side's sysctls (`slot` empty).
struct Proxy {
    name: String,
    set: &'static str,
    slot: String,
    vimage: u8,
    subsystem: String,
    order: String,
}

/// `sys/kernel.h`: the subsystem and order of the dispatcher's sysctl
/// registration, before every SYSINIT of the file that runs (SI_SUB_DUMMY
/// never does, and 13.2 marks a done SYSINIT with SI_SUB_DONE, 1).
const SYSCTLS_SUBSYSTEM: u32 = 2;
const SYSCTLS_ORDER: u32 = 0;

/// The order the kernel linker runs a file's SYSINITs (`ascending`) or
/// SYSUNINITs in: `linker_file_sysinit` and `linker_file_sysuninit` sort
/// the set with an exchange sort that is not stable (13.2 and 15.1 alike).
pub fn kernel_run_order(entries: &[SetEntry], ascending: bool) -> Vec<SetEntry> {
    let mut e = entries.to_vec();
    for i in 0..e.len() {
        for j in i + 1..e.len() {
            let (a, b) = ((e[i].subsystem, e[i].order), (e[j].subsystem, e[j].order));
            let in_order = if ascending { a <= b } else { a >= b };
            if !in_order {
                e.swap(i, j);
            }
        }
    }
    e
}

struct ModuleView {
    index: usize,
    name: String,
    evhand_v: Option<String>,
    evhand_n: Option<String>,
    priv_v: Option<String>,
    priv_n: Option<String>,
    call_v: String,
    call_n: String,
}

struct NeedView {
    alias: String,
    name: String,
}

struct VersionView {
    index: usize,
    name: String,
    version: i32,
}

struct DependView {
    index: usize,
    name: String,
    min: i32,
    pref: i32,
    max: i32,
}

#[derive(Template)]
#[template(path = "dual_shim.c", escape = "none")]
struct ShimTemplate {
    module: String,
    has_side_proxies: bool,
    proxies: Vec<Proxy>,
    sysctl_slots: Vec<String>,
    sysctls_v: Vec<String>,
    sysctls_n: Vec<String>,
    modules: Vec<ModuleView>,
    versions: Vec<VersionView>,
    depends: Vec<DependView>,
    needs_v: Vec<NeedView>,
    needs_n: Vec<NeedView>,
}

fn call(module: &ModuleEntry) -> String {
    match &module.evhand {
        Some(h) => format!(
            "{h}(mod, type, {})",
            module.private.as_deref().unwrap_or("NULL")
        ),
        None => "0".to_string(),
    }
}

/// The dispatcher's text.  The sides must declare the same modules,
/// versions and dependencies (the build stage checks it); `vimage`'s are
/// the ones declared.
pub fn shim(module: &str, vimage: &Side, novimage: &Side) -> Result<String, RenderError> {
    shim_mutated(module, vimage, novimage, None)
}

/// [`shim`], with a defect of the glue put in (`mutant`).
pub fn shim_mutated(
    module: &str,
    vimage: &Side,
    novimage: &Side,
    mutant: Option<GlueMutant>,
) -> Result<String, RenderError> {
    // The kernel sorts the dispatcher's sets as it would sort each side's,
    // but entries of equal subsystem and order come out of its sort in an
    // order that depends on the whole set.  A set already sorted comes out
    // as it is: so each set is written sorted, with each side's entries of
    // equal rank in the order its own set runs them, and the sysctls'
    // registration before all (its unregistration after all).
    let mut proxies = Vec::new();
    for (set, kind, ascending) in [
        ("sysinit_set", "init", true),
        ("sysuninit_set", "uninit", false),
    ] {
        let mut entries: Vec<(SetEntry, &str, u8)> = Vec::new();
        let registration = SetEntry {
            slot: String::new(),
            subsystem: SYSCTLS_SUBSYSTEM,
            order: SYSCTLS_ORDER,
        };
        if ascending {
            entries.push((registration.clone(), "", 2));
        }
        for (side, tag, flag) in [(vimage, "v", 1u8), (novimage, "n", 0u8)] {
            let list = if ascending {
                &side.sysinits
            } else {
                &side.sysuninits
            };
            let run = if mutant == Some(GlueMutant::ProxyOrder) {
                list.clone()
            } else {
                kernel_run_order(list, ascending)
            };
            for e in run {
                entries.push((e, tag, flag));
            }
        }
        if !ascending {
            entries.push((registration, "", 2));
        }
        // Stable: equal ranks keep the order pushed.
        if mutant != Some(GlueMutant::ProxyOrder) {
            entries.sort_by(|(a, ..), (b, ..)| {
                let (a, b) = ((a.subsystem, a.order), (b.subsystem, b.order));
                if ascending {
                    a.cmp(&b)
                } else {
                    b.cmp(&a)
                }
            });
        }
        let mut index = [0usize; 2];
        for (e, tag, flag) in entries {
            let name = if e.slot.is_empty() {
                "dual_sysctls".to_string()
            } else {
                let k = &mut index[usize::from(flag == 0)];
                *k += 1;
                format!("dual_{tag}_{kind}_{}", *k - 1)
            };
            proxies.push(Proxy {
                name,
                set,
                slot: e.slot,
                vimage: flag,
                subsystem: format!("{:#x}", e.subsystem),
                order: format!("{:#x}", e.order),
            });
        }
    }
    let modules = vimage
        .modules
        .iter()
        .enumerate()
        .map(|(index, v)| {
            let n = novimage.modules.iter().find(|n| n.name == v.name);
            ModuleView {
                index,
                name: v.name.clone(),
                evhand_v: v.evhand.clone(),
                evhand_n: n.and_then(|n| n.evhand.clone()),
                priv_v: v.private.clone(),
                priv_n: n.and_then(|n| n.private.clone()),
                call_v: call(v),
                call_n: n.map_or_else(|| "0".to_string(), call),
            }
        })
        .collect();
    let needs = |side: &Side, tag: &str| -> Vec<NeedView> {
        side.needs
            .iter()
            .enumerate()
            .map(|(i, name)| NeedView {
                alias: format!("dual_need_{tag}_{i}"),
                name: name.clone(),
            })
            .collect()
    };
    let template = ShimTemplate {
        needs_v: needs(vimage, "v"),
        needs_n: needs(novimage, "n"),
        module: module.to_string(),
        has_side_proxies: proxies.iter().any(|p| !p.slot.is_empty()),
        proxies,
        sysctl_slots: vimage
            .sysctls
            .iter()
            .chain(&novimage.sysctls)
            .cloned()
            .collect(),
        sysctls_v: if mutant == Some(GlueMutant::SysctlWrongSide) {
            novimage.sysctls.clone()
        } else {
            vimage.sysctls.clone()
        },
        sysctls_n: if mutant == Some(GlueMutant::SysctlWrongSide) {
            vimage.sysctls.clone()
        } else {
            novimage.sysctls.clone()
        },
        modules,
        versions: vimage
            .versions
            .iter()
            .enumerate()
            .map(|(index, (name, version))| VersionView {
                index,
                name: name.clone(),
                version: *version,
            })
            .collect(),
        depends: vimage
            .depends
            .iter()
            .enumerate()
            .map(|(index, (name, min, pref, max))| DependView {
                index,
                name: name.clone(),
                min: *min,
                pref: *pref,
                max: *max,
            })
            .collect(),
    };
    let body = template.render().map_err(|source| RenderError {
        template: "dual_shim.c",
        source,
    })?;
    Ok(stamp(
        "the objects of a dual build",
        Some(&format!("The dispatcher of the dual module {module}.")),
        &body,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(slot: &str, subsystem: u32, order: u32) -> SetEntry {
        SetEntry {
            slot: slot.to_string(),
            subsystem,
            order,
        }
    }

    /// sysinit_order's set: a dummy, two of equal rank, one smaller.  The
    /// kernel's sort reverses the equal two (tests/kld/sysinit_order.kld).
    #[test]
    fn the_kernel_run_order_is_its_unstable_exchange_sort() {
        let set = [
            entry("9", 0, 0xfffffff),
            entry("1", 0x3800000, 0x8000000),
            entry("2", 0x3800000, 0x8000000),
            entry("3", 0x3800000, 0),
        ];
        let names = |v: Vec<SetEntry>| v.into_iter().map(|e| e.slot).collect::<String>();
        assert_eq!(names(kernel_run_order(&set, true)), "9321");
        assert_eq!(names(kernel_run_order(&set, false)), "1239");
    }
}
