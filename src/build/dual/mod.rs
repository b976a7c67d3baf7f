//! dual: one `.ko` that carries both compiled-in builds of a module, the
//! VIMAGE one (side `v`) and the non-VIMAGE one (side `n`), and hands the
//! kernel only the side of its kind.
//!
//! Each source is compiled twice, with the release's compiled-in headers
//! (the untied VIMAGE build, and the untied build without VIMAGE, as
//! kmod.mk builds one whose `opt_global.h` lacks it).  The two relocatable
//! objects are joined here, with the `object` crate:
//!
//! - every symbol a side defines is renamed apart (`__vnetgen_dual_v_...`);
//! - a reference to a symbol that only the other kind of kernel has is
//!   made weak on the side that makes it (it never runs there);
//! - the sides' `sysinit_set`, `sysuninit_set`, `sysctl_set` and
//!   `modmetadata_set` become plain data sections the kernel does not look
//!   at, with a symbol at each slot; `set_pcpu` and `set_vnet`, the storage
//!   of DPCPU and VNET variables, stay where the kernel finds them (both
//!   sides' DPCPU variables are kept: module space is paid twice).
//!
//! The dispatcher ([`crate::gen::dual`]) is rendered from what the sides'
//! sets hold, compiled, and linked with the joined object into the module.
//! A module that cannot be joined (a set the dispatcher cannot hand on, a
//! COMMON symbol, sides that declare different modules) stops the build
//! with the object, section and symbol named, and nothing is written.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

use object::elf;
use object::write::{self, SymbolId};
use object::{
    Object as _, ObjectSection as _, ObjectSymbol as _, RelocationTarget, SectionIndex,
    SectionKind, SymbolFlags, SymbolIndex, SymbolKind, SymbolScope, SymbolSection,
};

mod exports;

pub use exports::PCPU_SET;

use crate::build::cflags::{self, Target};
use crate::build::kmod::{link_args, pads_sets, set_pad_script, sets_in, BuildError, ModuleBuild};
use crate::build::toolchain::Toolchain;
pub use crate::gen::dual::GlueMutant;
use crate::gen::dual::{self, ModuleEntry, SetEntry, Side};
use crate::gen::output::write_atomic;
use crate::spec::kernel_model::KernelModel;
use crate::spec::variant::{Detect, KernelConfig, ModuleFormat, Variant};
use crate::spec::{Arch, Release, Spec};

/// The sets the dispatcher hands the kernel in place of the sides' own.
const MOVED_SETS: [&str; 4] = [
    "sysinit_set",
    "sysuninit_set",
    "sysctl_set",
    "modmetadata_set",
];

/// The sets the kernel keeps seeing: where DPCPU and VNET variables live.
const KEPT_SETS: [&str; 2] = ["set_pcpu", "set_vnet"];

/// The prefix of the symbols that list what a side needs of its kernel
/// (`__vnetgen_dual_need_v_vnet_entry_ip_defttl`).
pub const NEED_PREFIX: &str = "__vnetgen_dual_need_";

/// `sys/module.h`: the kinds of module metadata.
const MDT_DEPEND: i32 = 1;
const MDT_MODULE: i32 = 2;
const MDT_VERSION: i32 = 3;

#[derive(Debug, thiserror::Error)]
pub enum DualError {
    #[error("{object}: {}: {message}", place(section, symbol))]
    Join {
        object: String,
        section: String,
        symbol: String,
        message: String,
    },
    #[error("{}: {message}", path.display())]
    Object { path: PathBuf, message: String },
    #[error(transparent)]
    Build(#[from] BuildError),
    #[error(transparent)]
    Render(#[from] crate::gen::render::RenderError),
    #[error(transparent)]
    Output(#[from] crate::gen::output::OutputError),
    #[error("dual modules are built for amd64, i386 and aarch64 so far; {0} is not")]
    Arch(String),
}

/// One side to join: its tag (`v` or `n`), its relocatable object, and the
/// undefined symbols it must reference weakly.
pub struct SideInput<'a> {
    pub tag: &'static str,
    pub path: &'a Path,
    pub weak: &'a BTreeSet<String>,
}

/// `section S, symbol Y`, leaving out what is not known.
fn place(section: &str, symbol: &str) -> String {
    match (section.is_empty(), symbol.is_empty()) {
        (false, false) => format!("section {section}, symbol {symbol}"),
        (false, true) => format!("section {section}"),
        (true, false) => format!("symbol {symbol}"),
        (true, true) => "the object".to_string(),
    }
}

fn join_error(object: &Path, section: &str, symbol: &str, message: impl Into<String>) -> DualError {
    DualError::Join {
        object: object.display().to_string(),
        section: section.to_string(),
        symbol: symbol.to_string(),
        message: message.into(),
    }
}

fn object_error(path: &Path) -> impl Fn(object::Error) -> DualError + '_ {
    move |e| DualError::Object {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// What a pointer in a section points at: the target's section and offset.
struct Pointer {
    section: SectionIndex,
    offset: u64,
}

/// One relocation against a symbol: where, its type, its target and its
/// whole addend.
struct Rel {
    at: u64,
    flags: object::RelocationFlags,
    symbol: SymbolIndex,
    addend: i64,
    /// The width of the field it relocates, in bytes.
    width: u64,
}

/// One side's object, read.
struct Read<'d> {
    file: object::File<'d>,
    /// Each section's relocations against symbols, by offset.
    relocations: HashMap<SectionIndex, Vec<Rel>>,
}

impl<'d> Read<'d> {
    fn new(path: &'d Path, data: &'d [u8]) -> Result<Read<'d>, DualError> {
        let file = object::File::parse(data).map_err(object_error(path))?;
        let mut relocations: HashMap<SectionIndex, Vec<Rel>> = HashMap::new();
        for section in file.sections() {
            for (offset, r) in section.relocations() {
                if let RelocationTarget::Symbol(symbol) = r.target() {
                    relocations.entry(section.index()).or_default().push(Rel {
                        at: offset,
                        flags: r.flags(),
                        symbol,
                        addend: full_addend(&section, offset, &r),
                        width: u64::from(r.size() / 8),
                    });
                }
            }
        }
        for list in relocations.values_mut() {
            list.sort_by_key(|r| r.at);
        }
        Ok(Read { file, relocations })
    }

    /// The relocation of the field at `offset` of `section`.
    fn relocation_at(&self, section: SectionIndex, offset: u64) -> Option<&Rel> {
        let list = self.relocations.get(&section)?;
        let i = list.binary_search_by_key(&offset, |r| r.at).ok()?;
        list.get(i)
    }

    /// Where the pointer stored at `offset` of `section` points.
    fn pointer(&self, section: SectionIndex, offset: u64) -> Option<Pointer> {
        let rel = self.relocation_at(section, offset)?;
        let (symbol, addend) = (rel.symbol, rel.addend);
        let symbol = self.file.symbol_by_index(symbol).ok()?;
        let SymbolSection::Section(target) = symbol.section() else {
            return None;
        };
        Some(Pointer {
            section: target,
            offset: symbol.address().wrapping_add_signed(addend),
        })
    }

    fn bytes(&self, at: &Pointer, len: usize) -> Option<&'d [u8]> {
        let data = self.file.section_by_index(at.section).ok()?.data().ok()?;
        let start = usize::try_from(at.offset).ok()?;
        data.get(start..start.checked_add(len)?)
    }

    fn int(&self, at: &Pointer, plus: u64) -> Option<i32> {
        let b = self.bytes(
            &Pointer {
                section: at.section,
                offset: at.offset + plus,
            },
            4,
        )?;
        let b = [b[0], b[1], b[2], b[3]];
        Some(if self.file.is_little_endian() {
            i32::from_le_bytes(b)
        } else {
            i32::from_be_bytes(b)
        })
    }

    fn c_string(&self, at: &Pointer) -> Option<String> {
        let data = self.file.section_by_index(at.section).ok()?.data().ok()?;
        let rest = data.get(usize::try_from(at.offset).ok()?..)?;
        let end = rest.iter().position(|&b| b == 0)?;
        Some(String::from_utf8_lossy(&rest[..end]).into_owned())
    }

    fn section_name(&self, index: SectionIndex) -> String {
        self.file
            .section_by_index(index)
            .ok()
            .and_then(|s| s.name().ok().map(str::to_string))
            .unwrap_or_default()
    }
}

/// A relocation's addend: its own (RELA), or the one stored in the field it
/// relocates (REL: i386), sign-extended.
fn full_addend(section: &object::Section<'_, '_>, offset: u64, r: &object::Relocation) -> i64 {
    if !r.has_implicit_addend() {
        return r.addend();
    }
    let bytes = usize::from(r.size() / 8);
    let field = section.data().ok().and_then(|d| {
        let start = usize::try_from(offset).ok()?;
        d.get(start..start.checked_add(bytes)?)
    });
    match field {
        Some(&[a, b, c, d]) => i64::from(i32::from_le_bytes([a, b, c, d])),
        Some(&[a, b]) => i64::from(i16::from_le_bytes([a, b])),
        Some(&[a]) => i64::from(a as i8),
        _ => r.addend(),
    }
}

/// The prefix of the names of each side's symbols: (VIMAGE, non-VIMAGE).
pub const SIDE_PREFIXES: [&str; 2] = ["__vnetgen_dual_v_", "__vnetgen_dual_n_"];

/// The prefix of the side that runs on a VIMAGE kernel or not.
pub fn side_prefix(vimage: bool) -> &'static str {
    SIDE_PREFIXES[usize::from(!vimage)]
}

/// A side's name without its side's prefix, or the name as it is.
pub fn unrenamed(name: &str) -> &str {
    SIDE_PREFIXES
        .iter()
        .find_map(|p| name.strip_prefix(p))
        .unwrap_or(name)
}

/// The renamed form of a side's symbol.
fn renamed(tag: &str, name: &str) -> String {
    format!("{}{name}", side_prefix(tag == "v"))
}

fn elf_flags(
    st_info: elf::SymbolInfo,
    st_other: elf::SymbolOther,
) -> SymbolFlags<write::SectionId, SymbolId> {
    SymbolFlags::Elf { st_info, st_other }
}

/// Joins the two sides into `out` and returns what each side's sets hold.
pub fn join(sides: [SideInput<'_>; 2], out: &Path) -> Result<[Side; 2], DualError> {
    join_mutated(sides, out, None)
}

/// [`join`], with a defect of the glue put in (`mutant`).
pub fn join_mutated(
    sides: [SideInput<'_>; 2],
    out: &Path,
    mutant: Option<GlueMutant>,
) -> Result<[Side; 2], DualError> {
    let mut datas = Vec::new();
    for side in &sides {
        datas.push(read_object(side.path)?);
    }
    let reads = [
        Read::new(sides[0].path, &datas[0])?,
        Read::new(sides[1].path, &datas[1])?,
    ];
    let first = &reads[0].file;
    if first.kind() != object::ObjectKind::Relocatable
        || first.format() != object::BinaryFormat::Elf
    {
        return Err(join_error(
            sides[0].path,
            "",
            "",
            "not an ELF relocatable object",
        ));
    }
    let endian = if first.is_little_endian() {
        object::Endianness::Little
    } else {
        object::Endianness::Big
    };
    let mut w = write::Object::new(object::BinaryFormat::Elf, first.architecture(), endian);
    w.flags = first.flags();
    let pointer_size: u64 = if first.is_64() { 8 } else { 4 };
    // One undefined symbol per name, across both sides; weak only where
    // every side that references it may do so weakly.
    let mut undefined: HashMap<String, SymbolId> = HashMap::new();
    let mut results = [Side::default(), Side::default()];

    // What the module exports, and the storage the sides share.
    let defs = [exports::Defs::new(&reads[0]), exports::Defs::new(&reads[1])];
    let views = [
        exports::View::new(&reads[0], &defs[0]),
        exports::View::new(&reads[1], &defs[1]),
    ];
    let plan = exports::plan([&views[0], &views[1]])
        .map_err(|u| join_error(sides[u.side].path, &u.section, &u.symbol, u.message))?;
    let trampoline_code = exports::trampoline_code(first.architecture());
    if !plan.trampolines.is_empty() && trampoline_code.is_none() {
        return Err(join_error(
            sides[0].path,
            "",
            plan.trampolines.keys().next().map_or("", String::as_str),
            "a function both sides define is exported, and trampolines are made for amd64, i386 and aarch64 only",
        ));
    }
    let trampoline_section = (!plan.trampolines.is_empty()).then(|| {
        w.add_section(
            Vec::new(),
            exports::TRAMPOLINE_SECTION.as_bytes().to_vec(),
            SectionKind::Text,
        )
    });
    let mut trampoline_ids: HashMap<String, SymbolId> = HashMap::new();
    for (k, t) in plan.trampolines.values().enumerate() {
        let Some(section) = trampoline_section else {
            break;
        };
        let id = w.add_symbol(write::Symbol {
            name: if t.exported {
                t.name.clone().into_bytes()
            } else {
                format!("__vnetgen_dual_t_{}", t.name).into_bytes()
            },
            value: k as u64 * exports::TRAMPOLINE_SLOT,
            size: trampoline_code.as_ref().map_or(0, |c| c.size),
            kind: SymbolKind::Text,
            scope: if t.exported {
                SymbolScope::Dynamic
            } else {
                SymbolScope::Compilation
            },
            weak: false,
            section: write::SymbolSection::Section(section),
            flags: SymbolFlags::None,
        });
        trampoline_ids.insert(t.name.clone(), id);
    }
    let mut section_maps: [HashMap<SectionIndex, write::SectionId>; 2] = Default::default();
    let mut symbol_maps: [HashMap<SymbolIndex, SymbolId>; 2] = Default::default();

    for (which, (side, read)) in sides.iter().zip(&reads).enumerate() {
        let file = &read.file;
        if file.architecture() != first.architecture() {
            return Err(join_error(
                side.path,
                "",
                "",
                "the sides are of different architectures",
            ));
        }
        if file.comdats().next().is_some() {
            return Err(join_error(
                side.path,
                ".group",
                "",
                "section groups (COMDAT) are not joined",
            ));
        }
        let mut section_map: HashMap<SectionIndex, write::SectionId> = HashMap::new();
        // The non-VIMAGE side's set_pcpu, when it is the VIMAGE side's twin:
        // its symbols are defined at the same offsets of the VIMAGE one.
        let mut twin_sections: HashMap<SectionIndex, write::SectionId> = HashMap::new();
        let mut moved: Vec<(SectionIndex, &'static str)> = Vec::new();
        for section in file.sections() {
            let name = section.name().map_err(object_error(side.path))?;
            let kind = section.kind();
            if let Some((pv, pn)) = plan.shared_pcpu {
                if which == 1 && section.index() == pn {
                    if let Some(&id) = section_maps[0].get(&pv) {
                        twin_sections.insert(pn, id);
                        continue;
                    }
                }
            }
            // The writer makes its own symbol, string and relocation
            // tables; notes and the address-significance table go.
            if matches!(kind, SectionKind::Metadata | SectionKind::Linker)
                || name.is_empty()
                || name == ".note.GNU-stack"
                || name == ".llvm_addrsig"
                || name.starts_with(".note")
            {
                continue;
            }
            let new_name = match name.strip_prefix("set_") {
                Some(set) if MOVED_SETS.contains(&set) => {
                    let set = MOVED_SETS
                        .iter()
                        .find(|s| **s == set)
                        .copied()
                        .unwrap_or("sysinit_set");
                    moved.push((section.index(), set));
                    if mutant == Some(GlueMutant::MetadataTwice)
                        && side.tag == "v"
                        && set == "modmetadata_set"
                    {
                        name.to_string()
                    } else {
                        format!(".vnetgen.dual.{}.{set}", side.tag)
                    }
                }
                Some(_) if KEPT_SETS.contains(&name) => name.to_string(),
                Some(_) => {
                    return Err(join_error(
                        side.path,
                        name,
                        "",
                        "a linker set the dispatcher cannot hand to the kernel",
                    ))
                }
                None => name.to_string(),
            };
            let id = w.add_section(Vec::new(), new_name.into_bytes(), kind);
            w.section_mut(id).flags = section.flags();
            if matches!(
                kind,
                SectionKind::UninitializedData | SectionKind::UninitializedTls
            ) {
                w.append_section_bss(id, section.size(), section.align().max(1));
            } else {
                let data = section.data().map_err(object_error(side.path))?;
                w.append_section_data(id, data, section.align().max(1));
            }
            section_map.insert(section.index(), id);
        }

        let mut symbol_map: HashMap<SymbolIndex, SymbolId> = HashMap::new();
        for sym in file.symbols() {
            let name = sym.name().map_err(object_error(side.path))?;
            let SymbolFlags::Elf { st_info, st_other } = sym.flags() else {
                continue;
            };
            match sym.section() {
                SymbolSection::Section(index) => {
                    let Some(&section) = section_map
                        .get(&index)
                        .or_else(|| twin_sections.get(&index))
                    else {
                        continue;
                    };
                    if sym.kind() == SymbolKind::Section {
                        symbol_map.insert(sym.index(), w.section_symbol(section));
                        continue;
                    }
                    // Storage shared with the VIMAGE side: this side's name
                    // for the VIMAGE side's copy.
                    let shared = (which == 1)
                        .then(|| plan.redirect.get(&sym.index()))
                        .flatten()
                        .and_then(|v| symbol_maps[0].get(v))
                        .map(|&v| {
                            let s = w.symbol(v);
                            (s.section, s.value)
                        });
                    let (section, value) = match shared {
                        Some((write::SymbolSection::Section(s), value)) => (s, value),
                        _ => (section, sym.address()),
                    };
                    let id = w.add_symbol(write::Symbol {
                        name: if name.is_empty() {
                            Vec::new()
                        } else if exports::is_mapping_symbol(name) {
                            name.as_bytes().to_vec()
                        } else {
                            renamed(side.tag, name).into_bytes()
                        },
                        value,
                        size: sym.size(),
                        kind: sym.kind(),
                        scope: sym.scope(),
                        weak: sym.is_weak(),
                        section: write::SymbolSection::Section(section),
                        flags: elf_flags(st_info, st_other),
                    });
                    symbol_map.insert(sym.index(), id);
                }
                SymbolSection::Undefined => {
                    // The bounds of a moved set are its new section's.
                    let bound = ["__start_set_", "__stop_set_"].iter().find_map(|p| {
                        let set = name.strip_prefix(p)?;
                        let (index, _) = moved.iter().find(|(_, s)| *s == set)?;
                        Some((*p == "__stop_set_", *index))
                    });
                    if let Some((stop, index)) = bound {
                        let section = section_map[&index];
                        let size = file.section_by_index(index).map(|s| s.size()).unwrap_or(0);
                        let id = w.add_symbol(write::Symbol {
                            name: renamed(side.tag, name).into_bytes(),
                            value: if stop { size } else { 0 },
                            size: 0,
                            kind: SymbolKind::Data,
                            scope: SymbolScope::Compilation,
                            weak: false,
                            section: write::SymbolSection::Section(section),
                            flags: SymbolFlags::None,
                        });
                        symbol_map.insert(sym.index(), id);
                        continue;
                    }
                    let weakened = !sym.is_weak() && side.weak.contains(name);
                    let wants_weak = sym.is_weak() || weakened;
                    if weakened {
                        let result = &mut results[if side.tag == "v" { 0 } else { 1 }];
                        if !result.needs.iter().any(|n| n == name) {
                            result.needs.push(name.to_string());
                        }
                    }
                    let id = *undefined.entry(name.to_string()).or_insert_with(|| {
                        w.add_symbol(write::Symbol {
                            name: name.as_bytes().to_vec(),
                            value: 0,
                            size: 0,
                            kind: sym.kind(),
                            scope: SymbolScope::Dynamic,
                            weak: wants_weak,
                            section: write::SymbolSection::Undefined,
                            flags: elf_flags(
                                elf::SymbolInfo::new(
                                    if wants_weak {
                                        elf::STB_WEAK
                                    } else {
                                        elf::STB_GLOBAL
                                    },
                                    st_info.st_type(),
                                ),
                                st_other,
                            ),
                        })
                    });
                    if !wants_weak {
                        let s = w.symbol_mut(id);
                        s.weak = false;
                        if let SymbolFlags::Elf { st_info, .. } = &mut s.flags {
                            *st_info = elf::SymbolInfo::new(elf::STB_GLOBAL, st_info.st_type());
                        }
                    }
                    symbol_map.insert(sym.index(), id);
                }
                SymbolSection::Common => {
                    return Err(join_error(
                        side.path,
                        "COMMON",
                        name,
                        "a COMMON symbol: build with -fno-common, as kmod.mk does",
                    ))
                }
                // File symbols and absolute values say nothing the module needs.
                _ => {}
            }
        }

        for section in file.sections() {
            let Some(&id) = section_map.get(&section.index()) else {
                continue;
            };
            for (offset, r) in section.relocations() {
                // A function pointer of shared storage: the trampoline.
                if which == 0 {
                    if let Some(t) = plan.retarget.get(&(section.index(), offset)) {
                        if let Some(&symbol) = trampoline_ids.get(t) {
                            // The trampoline's start: no addend, and none
                            // left in the data where the addend is implicit.
                            if r.has_implicit_addend() {
                                clear_field(&mut w, id, offset, r.size());
                            }
                            w.add_relocation(
                                id,
                                write::Relocation {
                                    offset,
                                    symbol,
                                    addend: 0,
                                    flags: r.flags(),
                                },
                            )
                            .map_err(|e| {
                                join_error(
                                    side.path,
                                    section.name().unwrap_or(""),
                                    t,
                                    e.to_string(),
                                )
                            })?;
                            continue;
                        }
                    }
                }
                let RelocationTarget::Symbol(target) = r.target() else {
                    return Err(join_error(
                        side.path,
                        section.name().unwrap_or(""),
                        "",
                        format!("a relocation at {offset:#x} against no symbol"),
                    ));
                };
                let Some(&symbol) = symbol_map.get(&target) else {
                    let name = file
                        .symbol_by_index(target)
                        .ok()
                        .and_then(|s| s.name().ok().map(str::to_string))
                        .unwrap_or_default();
                    return Err(join_error(
                        side.path,
                        section.name().unwrap_or(""),
                        &name,
                        format!("a relocation at {offset:#x} against a symbol of a section the joiner does not keep"),
                    ));
                };
                w.add_relocation(
                    id,
                    write::Relocation {
                        offset,
                        symbol,
                        addend: r.addend(),
                        flags: r.flags(),
                    },
                )
                .map_err(|e| {
                    join_error(
                        side.path,
                        section.name().unwrap_or(""),
                        "",
                        format!("relocation at {offset:#x}: {e}"),
                    )
                })?;
            }
        }

        // What the moved sets hold, with a symbol at every slot.
        let result = &mut results[if side.tag == "v" { 0 } else { 1 }];
        let alias = |w: &mut write::Object, name: String, at: &Pointer, kind: SymbolKind| {
            let section = *section_map.get(&at.section)?;
            Some(w.add_symbol(write::Symbol {
                name: name.into_bytes(),
                value: at.offset,
                size: 0,
                kind,
                scope: SymbolScope::Dynamic,
                weak: false,
                section: write::SymbolSection::Section(section),
                flags: SymbolFlags::None,
            }))
        };
        for (index, set) in &moved {
            let size = file.section_by_index(*index).map(|s| s.size()).unwrap_or(0);
            for k in 0..size / pointer_size {
                let slot_at = Pointer {
                    section: *index,
                    offset: k * pointer_size,
                };
                let slot = renamed(side.tag, &format!("{set}_{k}"));
                alias(&mut w, slot.clone(), &slot_at, SymbolKind::Data);
                let Some(target) = read.pointer(*index, k * pointer_size) else {
                    // i386's padding word, or an empty slot.
                    continue;
                };
                let missing = |what: &str| {
                    join_error(
                        side.path,
                        &read.section_name(target.section),
                        &slot,
                        format!("{what} of the entry at slot {k} of set_{set} cannot be read"),
                    )
                };
                match *set {
                    "sysinit_set" | "sysuninit_set" => {
                        let subsystem = read
                            .int(&target, 0)
                            .ok_or_else(|| missing("the subsystem"))?;
                        let order = read.int(&target, 4).ok_or_else(|| missing("the order"))?;
                        let entry = SetEntry {
                            slot,
                            subsystem: subsystem as u32,
                            order: order as u32,
                        };
                        if *set == "sysinit_set" {
                            result.sysinits.push(entry);
                        } else {
                            result.sysuninits.push(entry);
                        }
                    }
                    "sysctl_set" => result.sysctls.push(slot),
                    _ => {
                        // struct mod_metadata: md_version, md_type, md_data, md_cval.
                        let md_type = read.int(&target, 4).ok_or_else(|| missing("md_type"))?;
                        let data_at = 8;
                        let cval_at = 8 + pointer_size;
                        let name = read
                            .pointer(target.section, target.offset + cval_at)
                            .and_then(|p| read.c_string(&p))
                            .ok_or_else(|| missing("md_cval"))?;
                        let data = read
                            .pointer(target.section, target.offset + data_at)
                            .ok_or_else(|| missing("md_data"))?;
                        match md_type {
                            MDT_MODULE => {
                                // moduledata_t: name, evhand, priv.
                                let mut refer = |plus: u64, what: &str, kind| {
                                    read.pointer(data.section, data.offset + plus)
                                        .and_then(|p| {
                                            let n = renamed(side.tag, &format!("{what}_{k}"));
                                            alias(&mut w, n.clone(), &p, kind).map(|_| n)
                                        })
                                };
                                let evhand = refer(pointer_size, "evhand", SymbolKind::Text);
                                let private = refer(2 * pointer_size, "priv", SymbolKind::Data);
                                result.modules.push(ModuleEntry {
                                    name,
                                    evhand,
                                    private,
                                });
                            }
                            MDT_VERSION => {
                                let v = read.int(&data, 0).ok_or_else(|| missing("mv_version"))?;
                                result.versions.push((name, v));
                            }
                            MDT_DEPEND => {
                                let n = |i: u64| {
                                    read.int(&data, 4 * i).ok_or_else(|| missing("md_ver"))
                                };
                                result.depends.push((name, n(0)?, n(1)?, n(2)?));
                            }
                            other => {
                                return Err(join_error(
                                    side.path,
                                    "set_modmetadata_set",
                                    &slot,
                                    format!("module metadata of type {other} is not joined"),
                                ))
                            }
                        }
                    }
                }
            }
        }
        section_maps[which] = section_map;
        symbol_maps[which] = symbol_map;
    }

    let trampolines = trampoline_section.zip(trampoline_code.as_ref());
    export(&mut w, &plan, &symbol_maps, &mut undefined, trampolines)
        .map_err(|(symbol, e)| join_error(out, exports::TRAMPOLINE_SECTION, &symbol, e))?;

    // Both sides declare the same modules, versions and dependencies.
    let [v, n] = &results;
    let names = |s: &Side| {
        s.modules
            .iter()
            .map(|m| m.name.clone())
            .collect::<BTreeSet<_>>()
    };
    let sorted = |mut x: Vec<(String, i32)>| {
        x.sort();
        x
    };
    let mut depends = (v.depends.clone(), n.depends.clone());
    depends.0.sort();
    depends.1.sort();
    if names(v) != names(n)
        || sorted(v.versions.clone()) != sorted(n.versions.clone())
        || depends.0 != depends.1
    {
        return Err(join_error(
            sides[1].path,
            "set_modmetadata_set",
            "",
            "the VIMAGE and non-VIMAGE builds declare different modules, versions or dependencies",
        ));
    }

    // What each side needs of its kind of kernel, for `vnetgen inspect`:
    // absolute local symbols, which the kernel linker ignores.
    for (tag, side) in [("v", &results[0]), ("n", &results[1])] {
        for need in &side.needs {
            w.add_symbol(write::Symbol {
                name: format!("{NEED_PREFIX}{tag}_{need}").into_bytes(),
                value: 0,
                size: 0,
                kind: SymbolKind::Data,
                scope: SymbolScope::Compilation,
                weak: false,
                section: write::SymbolSection::Absolute,
                flags: SymbolFlags::None,
            });
        }
    }
    let bytes = w.write().map_err(|e| DualError::Object {
        path: out.to_path_buf(),
        message: e.to_string(),
    })?;
    write_atomic(out, &bytes)?;
    Ok(results)
}

/// Zeroes the `bits`-wide field at `offset` of a section being written.
fn clear_field(w: &mut write::Object, section: write::SectionId, offset: u64, bits: u8) {
    let data = w.section_mut(section).data_mut();
    let start = usize::try_from(offset).unwrap_or(usize::MAX);
    let end = start.saturating_add(usize::from(bits / 8));
    if let Some(field) = data.get_mut(start..end) {
        field.fill(0);
    }
}

/// Defines the names the module exports (see [`exports`]) and writes the
/// trampolines' code.
fn export(
    w: &mut write::Object,
    plan: &exports::Plan,
    symbol_maps: &[HashMap<SymbolIndex, SymbolId>; 2],
    undefined: &mut HashMap<String, SymbolId>,
    trampolines: Option<(write::SectionId, &exports::TrampolineCode)>,
) -> Result<(), (String, String)> {
    for (name, how) in &plan.exports {
        let (side, index) = match how {
            exports::Export::Alias { side, index } => (*side, *index),
            exports::Export::Shared { v } => (0, *v),
            exports::Export::Trampoline => continue,
        };
        let Some(&at) = symbol_maps[side].get(&index) else {
            continue;
        };
        let s = w.symbol(at);
        // A label of no type (assembly's `.globl x; x:`) keeps none: the
        // writer derives st_info from the kind where it has one.
        let flags = if s.kind == SymbolKind::Unknown {
            elf_flags(
                elf::SymbolInfo::new(elf::STB_GLOBAL, elf::STT_NOTYPE),
                elf::SymbolOther::default(),
            )
        } else {
            SymbolFlags::None
        };
        let definition = write::Symbol {
            name: name.clone().into_bytes(),
            value: s.value,
            size: s.size,
            kind: s.kind,
            scope: SymbolScope::Dynamic,
            weak: false,
            section: s.section,
            flags,
        };
        // The other side may reference it as the kernel's: it is this now.
        match undefined.remove(name) {
            Some(id) => *w.symbol_mut(id) = definition,
            None => {
                w.add_symbol(definition);
            }
        }
    }
    let Some((trampoline_section, code)) = trampolines else {
        return Ok(());
    };
    let probe = *undefined.entry("vnet0".to_string()).or_insert_with(|| {
        w.add_symbol(write::Symbol {
            name: b"vnet0".to_vec(),
            value: 0,
            size: 0,
            kind: SymbolKind::Data,
            scope: SymbolScope::Dynamic,
            weak: true,
            section: write::SymbolSection::Undefined,
            flags: SymbolFlags::None,
        })
    });
    for (k, t) in plan.trampolines.values().enumerate() {
        let base = w.append_section_data(trampoline_section, &code.code, 16);
        debug_assert_eq!(base, k as u64 * exports::TRAMPOLINE_SLOT);
        let targets = [
            (code.probe, probe, 0),
            (
                code.n_jump,
                *symbol_maps[1]
                    .get(&t.n)
                    .ok_or((t.name.clone(), "no non-VIMAGE function".to_string()))?,
                code.jump_addend,
            ),
            (
                code.v_jump,
                *symbol_maps[0]
                    .get(&t.v)
                    .ok_or((t.name.clone(), "no VIMAGE function".to_string()))?,
                code.jump_addend,
            ),
        ];
        for ((at, r_type), symbol, addend) in targets {
            w.add_relocation(
                trampoline_section,
                write::Relocation {
                    offset: base + at,
                    symbol,
                    addend,
                    flags: object::RelocationFlags::Elf {
                        r_type: elf::RelocationType(r_type),
                    },
                },
            )
            .map_err(|e| (t.name.clone(), e.to_string()))?;
        }
    }
    Ok(())
}

/// An object file's bytes.
fn read_object(path: &Path) -> Result<Vec<u8>, DualError> {
    std::fs::read(path).map_err(|e| DualError::Object {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// The names of an object's symbols that `keep` selects, as `name` maps
/// them (`None`: left out).
fn symbol_names(
    path: &Path,
    keep: impl Fn(&object::Symbol<'_, '_>) -> bool,
    name: impl Fn(&str) -> Option<String>,
) -> Result<BTreeSet<String>, DualError> {
    let data = read_object(path)?;
    let file = object::File::parse(&*data).map_err(object_error(path))?;
    Ok(file
        .symbols()
        .filter(|s| keep(s))
        .filter_map(|s| s.name().ok().and_then(&name))
        .collect())
}

/// The names a dual module exports to the modules that depend on it:
/// its global definitions but the sides' and the trampolines' own.
pub fn exported_names(path: &Path) -> Result<BTreeSet<String>, DualError> {
    symbol_names(
        path,
        |s| s.is_definition() && s.is_global(),
        |n| (!n.starts_with("__vnetgen_dual_")).then(|| n.to_string()),
    )
}

/// The symbols an object references without defining them.
fn undefined_names(path: &Path) -> Result<BTreeSet<String>, DualError> {
    symbol_names(
        path,
        |s| s.is_undefined(),
        |n| (!n.is_empty()).then(|| n.to_string()),
    )
}

/// The undefined symbols each side may reference weakly: those that only
/// the other kind of kernel lacks (VIMAGE side, non-VIMAGE side).  From
/// the spec's kernel models, and from the real kernels of the release and
/// architecture where they are recorded: their VIMAGE and non-VIMAGE
/// configs differ in that option alone, so what one has and the other
/// lacks is VIMAGE's (`ether_reassign`, `prison_owns_vnet`, ...).
pub fn weak_sets(
    spec: &Spec,
    release: Option<&Release>,
    arch: &str,
) -> (BTreeSet<String>, BTreeSet<String>) {
    let vimage = KernelModel::new(spec, KernelConfig::Vimage, Detect::Probe).symbols;
    let novimage = KernelModel::new(spec, KernelConfig::Novimage, Detect::Probe).symbols;
    let mut only_vimage: BTreeSet<String> = vimage.difference(&novimage).cloned().collect();
    let mut only_novimage: BTreeSet<String> = novimage.difference(&vimage).cloned().collect();
    for family in &spec.families {
        for v in &family.kernel_variables {
            if family.virtualized {
                only_vimage.insert(format!("{}{v}", family.prefix));
                only_novimage.insert(v.clone());
            }
        }
    }
    if let Some(release) = release {
        let real = |c| crate::spec::kernel_model::recorded::symbols(&release.name, arch, c);
        if let (Some(v), Some(n)) = (real(KernelConfig::Vimage), real(KernelConfig::Novimage)) {
            only_vimage.extend(v.difference(&n).cloned());
            only_novimage.extend(n.difference(&v).cloned());
        }
    }
    (only_vimage, only_novimage)
}

/// Whether dual modules of `arch` are joined: amd64 (relocatable modules),
/// i386 and aarch64 (shared objects, whose relocatable `.kld` is joined);
/// the trampolines are written for these three.
fn joins(arch: &Arch) -> bool {
    matches!(arch.name.as_str(), "amd64" | "i386" | "aarch64")
}

/// One dual module build.
pub struct DualBuild<'a> {
    pub spec: &'a Spec,
    pub arch: &'a Arch,
    pub release: Option<&'a Release>,
    pub name: &'a str,
    pub sources: &'a [PathBuf],
    pub generated: &'a Path,
    pub sysroot: &'a Path,
    pub out_dir: &'a Path,
    pub extra_cflags: &'a [String],
    /// A defect of the glue, for mutation testing; `None` in use.
    pub mutant: Option<GlueMutant>,
}

impl DualBuild<'_> {
    /// One side: built for a kernel of that kind (`-DVIMAGE` or not),
    /// untied, into `out_dir`.
    fn side<'b>(&'b self, vimage: bool, out_dir: &'b Path, extra: &'b [String]) -> ModuleBuild<'b> {
        let (variant, kernel) = if vimage {
            (Variant::Vimage, KernelConfig::Vimage)
        } else {
            (Variant::KldTied, KernelConfig::Novimage)
        };
        ModuleBuild {
            spec: self.spec,
            target: Target {
                variant,
                kernel,
                arch: self.arch,
                release: self.release,
            },
            name: self.name,
            sources: self.sources,
            generated: self.generated,
            sysroot: self.sysroot,
            out_dir,
            extra_cflags: extra,
        }
    }

    /// Builds both sides, joins them and links the module; returns it.
    pub fn build(&self, toolchain: &Toolchain) -> Result<PathBuf, DualError> {
        if !joins(self.arch) {
            return Err(DualError::Arch(self.arch.name.clone()));
        }
        let v_dir = self.out_dir.join("v");
        let n_dir = self.out_dir.join("n");
        let mut n_extra = self.extra_cflags.to_vec();
        // Untied: the non-VIMAGE build of the compiled-in headers without
        // KLD_TIED, as kmod.mk builds an untied module without VIMAGE.
        n_extra.push("-UKLD_TIED".to_string());
        // The sides are joined as relocatable objects: the module itself
        // where it is one (amd64), the objects before the shared link
        // elsewhere (i386's `.kld`).
        let build = |side: ModuleBuild<'_>| match self.arch.module_format {
            ModuleFormat::Relocatable => side.build(toolchain),
            ModuleFormat::Shared => side.build_relocatable(toolchain),
        };
        let v_ko = build(self.side(true, &v_dir, self.extra_cflags))?;
        let n_ko = build(self.side(false, &n_dir, &n_extra))?;

        Assembly {
            spec: self.spec,
            arch: self.arch,
            release: self.release,
            name: self.name,
            generated: self.generated,
            sysroot: self.sysroot,
            out_dir: self.out_dir,
            mutant: self.mutant,
        }
        .assemble(
            toolchain,
            &v_ko,
            &n_ko,
            &self.out_dir.join(format!("{}.ko", self.name)),
        )
    }
}

/// The second half of a dual build, for two sides built elsewhere (by the
/// lab, or by kmod.mk through `Makefile.inc`): join them, render and
/// compile the dispatcher, link the module.
pub struct Assembly<'a> {
    pub spec: &'a Spec,
    pub arch: &'a Arch,
    pub release: Option<&'a Release>,
    /// The module's name, as its `.ko` is called.
    pub name: &'a str,
    /// The generated headers and the sysroot the dispatcher compiles with.
    pub generated: &'a Path,
    pub sysroot: &'a Path,
    /// Where the joined object and the dispatcher go.
    pub out_dir: &'a Path,
    /// A defect of the glue, for mutation testing; `None` in use.
    pub mutant: Option<GlueMutant>,
}

impl Assembly<'_> {
    /// Joins `vimage_ko` and `novimage_ko` into the module `ko`, written
    /// whole or not at all.
    pub fn assemble(
        &self,
        toolchain: &Toolchain,
        vimage_ko: &Path,
        novimage_ko: &Path,
        ko: &Path,
    ) -> Result<PathBuf, DualError> {
        if !joins(self.arch) {
            return Err(DualError::Arch(self.arch.name.clone()));
        }
        std::fs::create_dir_all(self.out_dir).map_err(|e| DualError::Object {
            path: self.out_dir.to_path_buf(),
            message: e.to_string(),
        })?;
        let (mut weak_v, mut weak_n) = weak_sets(self.spec, self.release, &self.arch.name);
        // The VNET variables the sides reach, whoever defines them (the
        // kernel, with options a recorded kernel may lack, or another
        // module): a VIMAGE kernel has only their `vnet_entry_` names,
        // another only the plain ones.
        let undefined_v = undefined_names(vimage_ko)?;
        let undefined_n = undefined_names(novimage_ko)?;
        for family in self.spec.families.iter().filter(|f| f.virtualized) {
            for name in &undefined_v {
                if let Some(plain) = name.strip_prefix(&family.prefix) {
                    weak_v.insert(name.clone());
                    if undefined_n.contains(plain) {
                        weak_n.insert(plain.to_string());
                    }
                }
            }
        }
        if self.mutant == Some(GlueMutant::StrongReference) {
            weak_v.clear();
            weak_n.clear();
        }
        let joined = self.out_dir.join("joined.o");
        let [v, n] = join_mutated(
            [
                SideInput {
                    tag: "v",
                    path: vimage_ko,
                    weak: &weak_v,
                },
                SideInput {
                    tag: "n",
                    path: novimage_ko,
                    weak: &weak_n,
                },
            ],
            &joined,
            self.mutant,
        )?;
        let shim = self.out_dir.join("dual_shim.c");
        write_atomic(
            &shim,
            dual::shim_mutated(self.name, &v, &n, self.mutant)?.as_bytes(),
        )?;
        let shim_o = self.out_dir.join("dual_shim.o");
        // The dispatcher is compiled as the non-VIMAGE, untied side is.
        let target = Target {
            variant: Variant::KldTied,
            kernel: KernelConfig::Novimage,
            arch: self.arch,
            release: self.release,
        };
        let mut flags = cflags::cflags(self.spec, &target, self.generated, self.sysroot, true);
        flags.push("-UKLD_TIED".to_string());
        let mut cc = Command::new(&toolchain.clang);
        cc.args(&flags)
            .arg("-O2")
            .arg("-c")
            .arg(&shim)
            .arg("-o")
            .arg(&shim_o);
        crate::build::kmod::run(cc, "compile", &shim.display().to_string())?;
        // A shared-object module ends each DPCPU and VNET set with the
        // release's padding, as its stock link does.
        let script = if pads_sets(self.arch) {
            let mut sets = sets_in(self.spec, &joined)?;
            sets.sort();
            let path = self.out_dir.join("sets.ld");
            let pad_word = self
                .release
                .or(self.spec.newest_release())
                .map(|r| r.i386_set_pad_value);
            write_atomic(&path, set_pad_script(self.arch, &sets, pad_word).as_bytes())?;
            Some(path)
        } else {
            None
        };
        // Linked beside the target and renamed over it: never half a module.
        let staged = self.out_dir.join(format!("{}.ko.tmp", self.name));
        let mut ld = Command::new(&toolchain.lld);
        ld.args(link_args(self.arch, self.release, script.as_deref()))
            .arg("-o")
            .arg(&staged)
            .arg(&joined)
            .arg(&shim_o);
        crate::build::kmod::run(ld, "link", &ko.display().to_string())?;
        std::fs::rename(&staged, ko).map_err(|e| DualError::Object {
            path: ko.to_path_buf(),
            message: e.to_string(),
        })?;
        Ok(ko.to_path_buf())
    }
}
