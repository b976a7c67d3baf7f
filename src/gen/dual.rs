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
    /// The proxies run a side's SYSINITs of equal rank in its set's order
    /// on a kldload too, not in the order the kernel's sort runs them (and
    /// the SYSUNINITs are listed unsorted).
    ProxyOrder,
    /// A preloaded module's proxies run a side's SYSINITs of equal rank in
    /// kldload's order, not in the boot's.
    BootOrder,
    /// The dispatcher registers the other side's sysctls.
    SysctlWrongSide,
    /// The VIMAGE side's module metadata stays in the kernel's sight, beside
    /// the dispatcher's.
    MetadataTwice,
    /// A reference that only one kind of kernel resolves is left strong.
    StrongReference,
}

impl GlueMutant {
    pub const ALL: [GlueMutant; 5] = [
        GlueMutant::ProxyOrder,
        GlueMutant::BootOrder,
        GlueMutant::SysctlWrongSide,
        GlueMutant::MetadataTwice,
        GlueMutant::StrongReference,
    ];

    pub fn name(self) -> &'static str {
        match self {
            GlueMutant::ProxyOrder => "proxy-order",
            GlueMutant::BootOrder => "boot-order",
            GlueMutant::SysctlWrongSide => "sysctl-wrong-side",
            GlueMutant::MetadataTwice => "metadata-twice",
            GlueMutant::StrongReference => "strong-reference",
        }
    }
}

/// One entry of the dispatcher's `sysuninit_set`: a proxy of a side's
/// entry (`slot`).
struct Proxy {
    name: String,
    slot: String,
    vimage: u8,
    subsystem: String,
    order: String,
}

/// One entry of the dispatcher's `sysinit_set`: every SYSINIT of one side
/// at one subsystem and order, in the order the kernel would run them from
/// a kldload (`kld`) and from a boot with the file preloaded (`boot`).
struct RankProxy {
    name: String,
    vimage: u8,
    subsystem: String,
    order: String,
    kld: Vec<String>,
    boot: Vec<String>,
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
    registration_subsystem: String,
    registration_order: String,
    ranks: Vec<RankProxy>,
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
    let ranks = rank_proxies(vimage, novimage, mutant);
    let proxies = sysuninit_proxies(vimage, novimage, mutant);
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
        has_side_proxies: !ranks.is_empty() || !proxies.is_empty(),
        registration_subsystem: format!("{SYSCTLS_SUBSYSTEM:#x}"),
        registration_order: format!("{SYSCTLS_ORDER:#x}"),
        ranks,
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

/// The dispatcher's SYSINITs: one proxy per side and rank, so that the
/// kernel's sort, whichever it is, cannot reorder what one rank runs.  The
/// proxy runs its rank's entries as the kernel would run the side's own
/// set: from a kldload, in the order of `linker_file_sysinit`'s unstable
/// sort; from a boot (the file preloaded), in the set's order, as 15.1's
/// stable merge sort of the boot list runs them (and 13.2's whole-list sort
/// wherever its result does not depend on the kernel's own SYSINITs).
/// Written sorted by rank, each side's ranks in turn.
fn rank_proxies(vimage: &Side, novimage: &Side, mutant: Option<GlueMutant>) -> Vec<RankProxy> {
    let mut ranks: Vec<((u32, u32), RankProxy)> = Vec::new();
    for (side, tag, flag) in [(vimage, "v", 1u8), (novimage, "n", 0u8)] {
        let kld = if mutant == Some(GlueMutant::ProxyOrder) {
            side.sysinits.clone()
        } else {
            kernel_run_order(&side.sysinits, true)
        };
        let mut seen: Vec<(u32, u32)> = Vec::new();
        for e in &kld {
            let rank = (e.subsystem, e.order);
            if seen.contains(&rank) {
                continue;
            }
            seen.push(rank);
            let at_rank = |list: &[SetEntry]| -> Vec<String> {
                list.iter()
                    .filter(|x| (x.subsystem, x.order) == rank)
                    .map(|x| x.slot.clone())
                    .collect()
            };
            let kld_slots = at_rank(&kld);
            let boot_slots = if mutant == Some(GlueMutant::BootOrder) {
                kld_slots.clone()
            } else {
                at_rank(&side.sysinits)
            };
            let proxy = RankProxy {
                name: format!("dual_{tag}_init_{}", seen.len() - 1),
                vimage: flag,
                subsystem: format!("{:#x}", rank.0),
                order: format!("{:#x}", rank.1),
                kld: kld_slots,
                boot: boot_slots,
            };
            ranks.push((rank, proxy));
        }
    }
    // Stable: a rank of both sides keeps the VIMAGE side's first.
    ranks.sort_by_key(|(rank, _)| *rank);
    ranks.into_iter().map(|(_, proxy)| proxy).collect()
}

/// The dispatcher's SYSUNINITs: a kldunload (preloaded or not) sorts the
/// set with the kernel linker's unstable exchange sort, and a set already
/// sorted comes out as it is.  So the set is written sorted, each side's
/// entries of equal rank in the order its own set runs them (the sysctls'
/// unregistration, at the lowest rank, follows them all).
fn sysuninit_proxies(vimage: &Side, novimage: &Side, mutant: Option<GlueMutant>) -> Vec<Proxy> {
    let mut entries: Vec<(SetEntry, &str, u8)> = Vec::new();
    for (side, tag, flag) in [(vimage, "v", 1u8), (novimage, "n", 0u8)] {
        let run = if mutant == Some(GlueMutant::ProxyOrder) {
            side.sysuninits.clone()
        } else {
            kernel_run_order(&side.sysuninits, false)
        };
        for e in run {
            entries.push((e, tag, flag));
        }
    }
    if mutant != Some(GlueMutant::ProxyOrder) {
        // Stable: equal ranks keep the order pushed.
        entries.sort_by_key(|(e, ..)| std::cmp::Reverse((e.subsystem, e.order)));
    }
    let mut index = [0usize; 2];
    entries
        .into_iter()
        .map(|(e, tag, flag)| {
            let k = &mut index[usize::from(flag == 0)];
            *k += 1;
            Proxy {
                name: format!("dual_{tag}_uninit_{}", *k - 1),
                slot: e.slot,
                vimage: flag,
                subsystem: format!("{:#x}", e.subsystem),
                order: format!("{:#x}", e.order),
            }
        })
        .collect()
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

    /// One proxy per side and rank; each runs the rank's entries in the
    /// kernel sort's order from a kldload, in the set's order from a boot.
    #[test]
    fn a_rank_proxy_carries_the_kldload_and_the_boot_order() {
        let set = vec![
            entry("9", 0, 0xfffffff),
            entry("1", 0x3800000, 0x8000000),
            entry("2", 0x3800000, 0x8000000),
            entry("3", 0x3800000, 0),
        ];
        let side = Side {
            sysinits: set.clone(),
            ..Side::default()
        };
        let lists = |mutant| -> Vec<(u8, String, String, String)> {
            rank_proxies(&side, &side, mutant)
                .into_iter()
                .map(|r| (r.vimage, r.order, r.kld.concat(), r.boot.concat()))
                .collect()
        };
        let right = lists(None);
        assert_eq!(
            right,
            [
                (1, "0xfffffff".into(), "9".into(), "9".into()),
                (0, "0xfffffff".into(), "9".into(), "9".into()),
                (1, "0x0".into(), "3".into(), "3".into()),
                (0, "0x0".into(), "3".into(), "3".into()),
                (1, "0x8000000".into(), "21".into(), "12".into()),
                (0, "0x8000000".into(), "21".into(), "12".into()),
            ]
        );
        let boot = lists(Some(GlueMutant::BootOrder));
        assert!(boot.iter().all(|(.., kld, boot)| kld == boot));
        assert_eq!(boot[4].2, "21");
        let set_order = lists(Some(GlueMutant::ProxyOrder));
        assert_eq!(set_order[4].2, "12");
        assert!(set_order.iter().all(|(.., kld, boot)| kld == boot));
    }

    /// The dispatcher compiles its ranks into the set sorted, the
    /// registration first, and records `cold` there.
    #[test]
    fn the_dispatcher_picks_the_order_by_cold_at_its_first_sysinit() {
        let side = Side {
            sysinits: vec![
                entry("s_a", 0x3800000, 1),
                entry("s_b", 0x3800000, 1),
                entry("s_c", 0x3800000, 0),
            ],
            sysuninits: vec![entry("u_a", 0x3800000, 1)],
            ..Side::default()
        };
        let text = shim("m", &side, &side).expect("renders");
        let at = |needle: &str| {
            text.find(needle)
                .unwrap_or_else(|| panic!("{needle} not in the dispatcher:\n{text}"))
        };
        assert!(at("dual_booting = cold;") < at("static struct sysinit dual_v_init_0 ="));
        assert!(
            at("DATA_WSET(sysinit_set, dual_sysctls_sysinit_set)")
                < at("DATA_WSET(sysinit_set, dual_v_init_0)")
        );
        // s_c first, alone at its rank; then the rank of s_a and s_b.
        assert!(at("dual_v_init_0_kld[] = {\n\t&s_c,\n\tNULL") > 0);
        assert!(at("dual_v_init_1_kld[] = {\n\t&s_b,\n\t&s_a,") > 0);
        assert!(at("dual_v_init_1_boot[] = {\n\t&s_a,\n\t&s_b,") > 0);
        assert!(
            at("DATA_WSET(sysuninit_set, dual_v_uninit_0)")
                < at("DATA_WSET(sysuninit_set, dual_sysctls_sysuninit_set)")
        );
    }
}
