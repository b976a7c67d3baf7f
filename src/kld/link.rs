//! The kernel linker for amd64 modules, as FreeBSD's `link_elf_obj`:
//! map the allocated sections low, move `set_pcpu` (and, with VIMAGE,
//! `set_vnet`) into the kernel's module space and copy it to every
//! instance, resolve the module's own set bounds, relocate, protect the
//! text, then hand the SYSINITs to the caller to run.

use std::collections::HashMap;

use super::elf::{self, Object, Rela, STB_GLOBAL, STB_LOCAL, STB_WEAK, STT_FUNC};
use super::kernel::{Kernel, LoadedFile, Loader, VnetCopy};
use super::layout::ENOSPC;
use super::memory::{self, LowMap, PAGE};

/// Why a load failed; the message is the kernel's.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct LoadError {
    pub message: String,
    /// The errno kldload would return.
    pub errno: i32,
}

fn fail(message: impl Into<String>) -> LoadError {
    LoadError {
        message: message.into(),
        errno: libc::ENOEXEC,
    }
}

/// Where one section went.
#[derive(Debug, Clone, Copy)]
struct Placement {
    addr: u64,
    /// An allocation in the module space of `sets[set]`.
    set: Option<usize>,
}

/// A load that linked: the file, and its SYSINITs in its set's order (a
/// kldload sorts them with [`exchange_sort`], a boot with a stable sort).
pub struct Linked {
    pub file: LoadedFile,
    pub sysinits: Vec<u64>,
    pub sysctls: Vec<u64>,
}

/// `linker_file_sysinit`'s sort: for each entry, every later one that
/// should come first (`before(earlier, later)` is true) is swapped with it.
/// Equal keys can come out reversed: `[A1, A2, B]` with `B < A` sorts to
/// `[B, A2, A1]`.
pub fn exchange_sort(list: &mut [u64], out_of_order: impl Fn(u64, u64) -> bool) {
    for i in 0..list.len() {
        for j in i + 1..list.len() {
            if out_of_order(list[i], list[j]) {
                list.swap(i, j);
            }
        }
    }
}

/// (subsystem, order): the first two members in every release's layout.
pub fn sysinit_key(p: u64) -> (u32, u32) {
    // Checked to lie in the module's image by `set_pointers`.
    (super::kernel::read_at(p, 0), super::kernel::read_at(p, 4))
}

/// Links `object` into `kernel`.  On error nothing stays allocated.
pub fn link(kernel: &mut Kernel, object: &Object) -> Result<Linked, LoadError> {
    let name = object.name.clone();
    // Sections into the image: text first, then data, each page-aligned.
    let alloc_sections: Vec<&elf::Section> = object.sections.iter().filter(|s| s.alloc()).collect();
    let set_names: Vec<String> = kernel.sets.iter().map(|s| s.section.clone()).collect();
    let set_of = |s: &elf::Section| set_names.iter().position(|set| *set == s.name);
    let mut offsets: HashMap<usize, u64> = HashMap::new();
    let mut cursor = 0u64;
    for pass in [true, false] {
        cursor = memory::round_up(cursor as usize, PAGE) as u64;
        for s in alloc_sections.iter().filter(|s| s.exec() == pass) {
            if set_of(s).is_some() && s.size > 0 {
                continue;
            }
            cursor = cursor.next_multiple_of(s.align);
            offsets.insert(s.index, cursor);
            cursor += s.size;
        }
        if pass {
            cursor = memory::round_up(cursor as usize, PAGE) as u64;
        }
    }
    let text_end = alloc_sections
        .iter()
        .filter(|s| s.exec())
        .filter_map(|s| offsets.get(&s.index).map(|o| o + s.size))
        .max()
        .map_or(0, |e| memory::round_up(e as usize, PAGE));
    let image = LowMap::new(cursor as usize).map_err(|e| {
        fail(format!(
            "{name}: cannot map {cursor} bytes below 2 GiB: {e}"
        ))
    })?;

    // The per-instance sets go into the kernel's module space.
    let mut placements: HashMap<usize, Placement> = HashMap::new();
    let mut set_allocations: Vec<(usize, u64, u64)> = Vec::new();
    let undo = |kernel: &mut Kernel, allocations: &[(usize, u64, u64)]| {
        for &(set, offset, size) in allocations {
            kernel.sets[set].modspace.free(offset, size);
        }
    };
    for s in &alloc_sections {
        match (set_of(s), offsets.get(&s.index)) {
            (_, Some(&off)) => {
                placements.insert(
                    s.index,
                    Placement {
                        addr: image.base() + off,
                        set: None,
                    },
                );
            }
            (Some(set), None) => {
                let space = &mut kernel.sets[set];
                let Some(offset) = space.modspace.alloc(s.size) else {
                    undo(kernel, &set_allocations);
                    let family = if kernel.sets[set].virtualized {
                        "vnet"
                    } else {
                        "pcpu"
                    };
                    let message = match kernel.options.loader {
                        Loader::LinkElfObj => format!(
                            "link_elf_load_file: {family} module space is out of space; cannot allocate {:#x} for {name}",
                            s.size
                        ),
                        // link_elf.c's parse_dpcpu/parse_vnet: the set with
                        // its 4 bytes of padding, in decimal.
                        Loader::LinkElf => format!(
                            "parse_{}: {family} module space is out of space; cannot allocate {} for {name}",
                            if family == "vnet" { "vnet" } else { "dpcpu" },
                            s.size + 4
                        ),
                    };
                    return Err(LoadError {
                        message,
                        errno: ENOSPC,
                    });
                };
                set_allocations.push((set, offset, s.size));
                let addr = space.start + space.modspace_offset + offset;
                placements.insert(
                    s.index,
                    Placement {
                        addr,
                        set: Some(set),
                    },
                );
            }
            (None, None) => {}
        }
    }
    let result = link_placed(kernel, object, &image, &placements, text_end);
    match result {
        Ok((functions, definitions, sysinits, sysuninits, sysctls)) => Ok(Linked {
            file: LoadedFile {
                name,
                image,
                functions,
                definitions,
                set_allocations,
                sysuninits,
            },
            sysinits,
            sysctls,
        }),
        Err(e) => {
            undo(kernel, &set_allocations);
            Err(e)
        }
    }
}

type LinkParts = (
    Vec<(String, u64, u64)>,
    HashMap<String, (u64, u8)>,
    Vec<u64>,
    Vec<u64>,
    Vec<u64>,
);

fn copy_bytes(src: &[u8], to: u64, size: u64) {
    // SAFETY: `to` is a placement of `size` bytes, in the image or in the
    // kernel's module space; `src` is at most `size` bytes.
    unsafe {
        std::ptr::write_bytes(to as *mut u8, 0, size as usize);
        std::ptr::copy_nonoverlapping(src.as_ptr(), to as *mut u8, src.len().min(size as usize));
    }
}

/// Copies a module's part of a set from the master to every instance.
fn propagate(kernel: &Kernel, set: usize, addr: u64, size: u64) {
    let space = &kernel.sets[set];
    let bases: Vec<u64> = if space.virtualized {
        kernel
            .vnets
            .iter()
            .map(|v| Kernel::vnet_data_base(v.vnet))
            .collect()
    } else {
        kernel
            .dpcpu_copies
            .iter()
            .map(|c| c.wrapping_sub(space.start))
            .collect()
    };
    for base in bases {
        // SAFETY: master and copy are the same range of the set's layout.
        unsafe {
            std::ptr::copy_nonoverlapping(
                addr as *const u8,
                addr.wrapping_add(base) as *mut u8,
                size as usize,
            )
        };
    }
}

fn link_placed(
    kernel: &mut Kernel,
    object: &Object,
    image: &LowMap,
    placements: &HashMap<usize, Placement>,
    text_end: usize,
) -> Result<LinkParts, LoadError> {
    let name = &object.name;
    // link_elf.c (i386's shared objects) copies both sets into the kernel's
    // module space before relocating the module's own image: no copy, and
    // no vnet made later, ever sees a relocated value.
    let shared = kernel.options.loader == Loader::LinkElf;
    let vnet_early = shared || kernel.options.vnet_copy == VnetCopy::BeforeRelocation;
    // The initial bytes; set_pcpu (and set_vnet on older kernels) reaches
    // the existing instances now, before relocation.
    for s in object.sections.iter().filter(|s| s.alloc()) {
        let Some(p) = placements.get(&s.index) else {
            continue;
        };
        copy_bytes(&s.data, p.addr, s.size);
        if let Some(set) = p.set {
            if !kernel.sets[set].virtualized || vnet_early {
                propagate(kernel, set, p.addr, s.size);
            }
        }
    }

    // Symbol values, resolved as link_elf_obj does: own sections, own set
    // bounds, the kernel's exports, the files loaded before, weak undefined
    // as 0.  In another file the first definition of the name counts: any
    // with leak_locals (the default), else only a global one (link_elf
    // also takes a weak one).
    let section_range = |index: usize| -> Option<(u64, u64)> {
        let p = placements.get(&index)?;
        Some((p.addr, object.sections[index].size))
    };
    let own_bound = |sym: &str| -> Option<u64> {
        let (set, start) = match (sym.strip_prefix("__start_"), sym.strip_prefix("__stop_")) {
            (Some(set), _) => (set, true),
            (_, Some(set)) => (set, false),
            _ => return None,
        };
        let s = object.section(set).filter(|s| s.alloc())?;
        let (addr, size) = section_range(s.index)?;
        Some(if start { addr } else { addr + size })
    };
    let resolve = |index: u32| -> Result<u64, LoadError> {
        let sym = &object.symbols[index as usize];
        if sym.shndx == elf::SHN_ABS {
            return Ok(sym.value);
        }
        if !sym.undefined() {
            return match section_range(usize::from(sym.shndx)) {
                Some((addr, _)) => Ok(addr + sym.value),
                None => Err(fail(format!(
                    "{name}: symbol {} is defined in section {}, which is not loaded",
                    sym.name,
                    object.sections[usize::from(sym.shndx)].name
                ))),
            };
        }
        if sym.bind != STB_LOCAL && !sym.name.is_empty() {
            if let Some(v) = own_bound(&sym.name) {
                return Ok(v);
            }
            if let Some(&v) = kernel.exports.get(&sym.name) {
                return Ok(v);
            }
            let found = |&(addr, bind): &(u64, u8)| {
                let takes =
                    kernel.leak_locals || bind == STB_GLOBAL || (bind == STB_WEAK && shared);
                takes.then_some(addr)
            };
            if let Some(v) = kernel
                .files
                .iter()
                .find_map(|f| f.definitions.get(&sym.name).and_then(found))
            {
                return Ok(v);
            }
            if sym.bind == STB_WEAK {
                return Ok(0);
            }
        }
        Err(LoadError {
            message: match kernel.options.loader {
                Loader::LinkElfObj => format!("link_elf_obj: symbol {} undefined", sym.name),
                Loader::LinkElf => format!("link_elf: symbol {} undefined", sym.name),
            },
            errno: libc::ENOENT,
        })
    };

    // elf_machdep.c applies neither R_X86_64_32 nor R_X86_64_PC64: against
    // a local symbol the relocation is left undone (link_elf_reloc_local
    // ignores the error), against a global one the module is refused as if
    // the symbol were undefined.
    let mut console = Vec::new();
    for rs in &object.relocations {
        let target = &object.sections[rs.target];
        let Some(p) = placements.get(&rs.target) else {
            continue;
        };
        for r in &rs.entries {
            let sym = &object.symbols[r.symbol as usize];
            if matches!(r.r_type, R_X86_64_32 | R_X86_64_PC64) {
                let said = format!(
                    "kldload: unexpected relocation type {}, symbol index {}",
                    r.r_type, r.symbol
                );
                if sym.bind == STB_LOCAL {
                    console.push(said);
                    continue;
                }
                return Err(LoadError {
                    message: format!("{said}; link_elf_obj: symbol {} undefined", sym.name),
                    errno: libc::ENOENT,
                });
            }
            apply(name, target, p.addr, r, &sym.name, &resolve)?;
        }
    }
    for line in console {
        kernel.console.push_str(&line);
        kernel.console.push('\n');
    }

    for s in object.sections.iter().filter(|s| s.alloc()) {
        if let Some(Placement {
            addr,
            set: Some(set),
        }) = placements.get(&s.index).copied()
        {
            if kernel.sets[set].virtualized && !vnet_early {
                propagate(kernel, set, addr, s.size);
            }
            if shared {
                copy_bytes(&s.data, addr, s.size);
            }
        }
    }
    image
        .protect(0, text_end, libc::PROT_READ | libc::PROT_EXEC)
        .map_err(|e| fail(format!("{name}: mprotect: {e}")))?;

    // What later files may link against: link_elf_lookup_symbol finds the
    // first definition of a name, and takes it or not by its binding.
    let mut definitions = HashMap::new();
    for sym in &object.symbols {
        if !sym.undefined() && !sym.name.is_empty() && sym.stype != elf::STT_SECTION {
            let addr = if sym.shndx == elf::SHN_ABS {
                Some(sym.value)
            } else {
                section_range(usize::from(sym.shndx)).map(|(addr, _)| addr + sym.value)
            };
            if let Some(addr) = addr {
                definitions
                    .entry(sym.name.clone())
                    .or_insert((addr, sym.bind));
            }
        }
    }
    let mut functions = Vec::new();
    for sym in &object.symbols {
        if sym.stype == STT_FUNC && !sym.undefined() && sym.shndx != elf::SHN_ABS {
            if let Some((addr, _)) = section_range(usize::from(sym.shndx)) {
                functions.push((sym.name.clone(), addr + sym.value, sym.size));
            }
        }
    }
    // Globals first, so that a call finds the exported one.
    functions.sort_by_key(|(n, _, _)| {
        let global = object
            .symbols
            .iter()
            .any(|s| &s.name == n && s.bind != STB_LOCAL);
        !global
    });

    let set_pointers = |set: &str, entry: u64| -> Result<Vec<u64>, LoadError> {
        let Some(s) = object.section(set).filter(|s| s.alloc()) else {
            return Ok(Vec::new());
        };
        let Some((addr, size)) = section_range(s.index) else {
            return Ok(Vec::new());
        };
        if size % 8 != 0 {
            return Err(fail(format!(
                "{name}: {set}: {size} bytes is not a whole number of pointers"
            )));
        }
        let mut out = Vec::new();
        for i in 0..size / 8 {
            // SAFETY: inside the placed section.
            let p = unsafe { std::ptr::read_unaligned((addr + i * 8) as *const u64) };
            let inside = placements.iter().any(|(&idx, pl)| {
                let len = object.sections[idx].size;
                p >= pl.addr && p.saturating_add(entry) <= pl.addr + len
            });
            if !inside || p % 8 != 0 {
                return Err(fail(format!(
                    "{name}: {set} entry {i} ({p:#x}) does not point at a structure in the module"
                )));
            }
            out.push(p);
        }
        Ok(out)
    };
    let (_, _, sysinit_bytes) = kernel.options.layout.sysinit_amd64();
    let sysinits = set_pointers("set_sysinit_set", sysinit_bytes)?;
    let mut sysuninits = set_pointers("set_sysuninit_set", sysinit_bytes)?;
    let sysctls = set_pointers("set_sysctl_set", kernel.options.layout.oid_amd64().size)?;
    // SYSUNINITs sorted by (subsystem, order) in reverse, by the kernel's
    // own exchange sort, which is not stable: kldunload runs them so, the
    // file preloaded or not.
    exchange_sort(&mut sysuninits, |a, b| sysinit_key(a) < sysinit_key(b));
    Ok((functions, definitions, sysinits, sysuninits, sysctls))
}

/// Relocation types, by number.
const R_X86_64_NONE: u32 = 0;
const R_X86_64_64: u32 = 1;
const R_X86_64_PC32: u32 = 2;
const R_X86_64_GOT32: u32 = 3;
const R_X86_64_PLT32: u32 = 4;
const R_X86_64_GOTPCREL: u32 = 9;
const R_X86_64_32: u32 = 10;
const R_X86_64_32S: u32 = 11;
const R_X86_64_PC64: u32 = 24;
const R_X86_64_GOTOFF64: u32 = 25;
const R_X86_64_GOTPC32: u32 = 26;
const R_X86_64_GOTPCRELX: u32 = 41;
const R_X86_64_REX_GOTPCRELX: u32 = 42;

fn apply(
    object: &str,
    target: &elf::Section,
    base: u64,
    r: &Rela,
    symbol: &str,
    resolve: &dyn Fn(u32) -> Result<u64, LoadError>,
) -> Result<(), LoadError> {
    let type_name = crate::inspect::relocation_type_name(object::elf::EM_X86_64, r.r_type);
    let at = format!("{}+{:#x}", target.name, r.offset);
    let width: u64 = match r.r_type {
        R_X86_64_NONE => return Ok(()),
        R_X86_64_64 | R_X86_64_PC64 => 8,
        R_X86_64_PC32 | R_X86_64_PLT32 | R_X86_64_32 | R_X86_64_32S => 4,
        R_X86_64_GOT32 | R_X86_64_GOTPCREL | R_X86_64_GOTOFF64 | R_X86_64_GOTPC32 | R_X86_64_GOTPCRELX
        | R_X86_64_REX_GOTPCRELX => {
            return Err(fail(format!(
                "{object}: relocation {type_name} at {at} against {symbol} needs a GOT: the object was built with -fPIC, \
                 and amd64 modules are not (kmod.mk builds them with -mcmodel=kernel); rebuild without -fPIC"
            )))
        }
        _ => {
            return Err(fail(format!(
                "kldload: unexpected relocation type {} ({type_name}) at {at} in {object}",
                r.r_type
            )))
        }
    };
    if r.offset
        .checked_add(width)
        .map_or(true, |end| end > target.size)
    {
        return Err(fail(format!(
            "{object}: relocation {type_name} at {at} lies outside section {} ({:#x} bytes)",
            target.name, target.size
        )));
    }
    let s = resolve(r.symbol)?;
    let p = base + r.offset;
    let value = s.wrapping_add(r.addend as u64);
    let pc_relative = value.wrapping_sub(p);
    let overflow = || {
        fail(format!(
            "{object}: relocation {type_name} at {at} against {symbol}: value {value:#x} does not fit in 32 bits"
        ))
    };
    // SAFETY: `p` lies inside the placed section (checked above).
    unsafe {
        match r.r_type {
            R_X86_64_64 => std::ptr::write_unaligned(p as *mut u64, value),
            R_X86_64_PC64 => std::ptr::write_unaligned(p as *mut u64, pc_relative),
            R_X86_64_PC32 | R_X86_64_PLT32 => {
                let v = i32::try_from(pc_relative as i64).map_err(|_| overflow())?;
                std::ptr::write_unaligned(p as *mut i32, v);
            }
            R_X86_64_32 => {
                let v = u32::try_from(value).map_err(|_| overflow())?;
                std::ptr::write_unaligned(p as *mut u32, v);
            }
            _ => {
                let v = i32::try_from(value as i64).map_err(|_| overflow())?;
                std::ptr::write_unaligned(p as *mut i32, v);
            }
        }
    }
    Ok(())
}
