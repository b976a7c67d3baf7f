//! Reading a built kernel module (`.ko`, or an `.o` on its way to one) with
//! the `object` crate: its sections, symbols and relocations, in owned
//! values that the ABI checks query.
//!
//! Any input is safe: a file that is not a well-formed ELF object for one of
//! the six supported FreeBSD architectures is an [`InspectError`] that names
//! the file (and the section or symbol at fault), never a panic.
//!
//! What the objects look like (clang-19, ld.lld-19, `*-unknown-freebsd14.0`):
//!
//! * `EI_OSABI` is `ELFOSABI_FREEBSD` in every `.o` and `.ko`; there are no
//!   notes.  See [`os`] for how FreeBSD objects are told from others.
//! * amd64 modules (`ld -r`) keep `.rela.text` against the set entries:
//!   `R_X86_64_32S` (`-mcmodel=kernel`) against `vnet_entry_<x>` for a global
//!   VNET variable, against the section symbol `set_pcpu` for a static
//!   DPCPU one, and against the weak undefined `vnet0`.
//! * The shared-object modules keep no `.text` relocations after linking:
//!   the `.o` reaches set entries through the GOT (aarch64
//!   `R_AARCH64_ADR_GOT_PAGE` + `R_AARCH64_LD64_GOT_LO12_NC`, i386
//!   `R_386_GOT32`/`R_386_GOT32X` after `R_386_GOTPC`, armv7 `R_ARM_GOT_PREL`
//!   literals, riscv64 `R_RISCV_GOT_HI20` + `R_RISCV_PCREL_LO12_I`, powerpc64
//!   `R_PPC64_TOC16_HA/LO_DS` into `.toc`, whose `R_PPC64_ADDR64` entries name
//!   the symbols), and the `.ko` has only the dynamic relocations that fill
//!   the GOT: `R_*_GLOB_DAT` (aarch64, i386, armv7) or the plain word
//!   relocation (`R_PPC64_ADDR64`, `R_RISCV_64`) against `vnet_entry_<x>`.
//! * `__start_set_X`/`__stop_set_X` are undefined globals in `.o` and
//!   `ld -r` output, and defined, protected and exported in `.dynsym` in the
//!   shared objects (see [`linker_sets`]).
//!
//! Besides reading: which build an object is ([`classify`]), the rules that
//! judge it against a kernel model ([`rules`]), and the load prediction of
//! `vnetgen inspect` ([`predict`]), which the lab shares.
//!
//! Uses: `spec`.

pub mod classify;
mod error;
mod header;
pub mod linker_sets;
pub mod os;
pub mod predict;
mod reloc_names;
mod relocations;
pub mod rules;
mod sections;
mod symbols;

use std::collections::{HashMap, HashSet};
use std::path::Path;

use object::elf::{FileHeader32, FileHeader64};
use object::read::elf::FileHeader;
use object::Endianness;

pub use error::InspectError;
pub use reloc_names::{known_relocation_type_name, relocation_type_name};

/// The ELF file type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    /// `ET_REL`: an `.o`, or an amd64 module (`ld -r`).
    Relocatable,
    /// `ET_DYN`: a module of the other architectures (`ld -shared`).
    Shared,
    /// `ET_EXEC`.
    Executable,
    Other,
}

/// One module, read.
#[derive(Debug, Clone)]
pub struct ObjectInfo {
    /// The path or name given, for messages.
    pub name: String,
    pub kind: ObjectKind,
    /// "amd64", "i386", "aarch64", "armv7", "powerpc64" or "riscv64".
    pub arch: &'static str,
    /// 8 or 4.
    pub pointer_bytes: u32,
    /// `EI_OSABI` is `ELFOSABI_FREEBSD`, or a note named `FreeBSD` is
    /// present.  Always true unless [`InspectOptions::allow_other_os`].
    pub freebsd: bool,
    /// The system the object is for, e.g. "FreeBSD", or a description of
    /// what `EI_OSABI` and the notes say.
    pub os: String,
    /// The raw `EI_OSABI`.
    pub os_abi: u8,
    /// `e_machine`.
    pub machine: u16,
    /// `e_flags`.
    pub e_flags: u32,
    pub big_endian: bool,
    /// Every section but the null one, in section-header order.
    pub sections: Vec<SectionInfo>,
    /// `.symtab`, then `.dynsym` (`dynamic`), without the null symbol and
    /// unnamed symbols; section symbols are named by their section.
    pub symbols: Vec<SymbolInfo>,
    /// Every relocation, section by section in section-header order.
    pub relocations: Vec<RelocationInfo>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionInfo {
    /// The ELF section index.
    pub index: usize,
    pub name: String,
    pub size: u64,
    pub align: u64,
    pub address: u64,
    pub alloc: bool,
    pub writable: bool,
    pub executable: bool,
    /// `sh_type`, e.g. `object::elf::SHT_NOBITS.0`.
    pub sh_type: u32,
    /// `sh_flags`, all of them.
    pub flags: u64,
    /// `sh_offset` (meaningless for `SHT_NOBITS`).
    pub file_offset: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Binding {
    Local,
    Global,
    Weak,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SymbolKind {
    /// `STT_OBJECT` (and `STT_COMMON`, `STT_TLS`).
    Data,
    /// `STT_FUNC` (and `STT_GNU_IFUNC`).
    Function,
    Section,
    File,
    /// `STT_NOTYPE` and anything else; undefined symbols usually are.
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SymbolInfo {
    pub name: String,
    /// `STB_GNU_UNIQUE` and OS/processor-specific bindings count as Global.
    pub binding: Binding,
    pub kind: SymbolKind,
    /// Not `SHN_UNDEF` (absolute and common symbols are defined).
    pub defined: bool,
    /// The section the symbol is defined in (None for undefined, absolute
    /// and common symbols).
    pub section: Option<String>,
    pub value: u64,
    pub size: u64,
    /// From `.dynsym`.
    pub dynamic: bool,
    pub visibility_default: bool,
    /// The index in its symbol table.
    pub index: usize,
    /// `SHN_ABS`.
    pub absolute: bool,
    /// `SHN_COMMON`.
    pub common: bool,
    pub st_info: u8,
    pub st_other: u8,
    /// `STV_*`: the low bits of `st_other`.
    pub visibility: u8,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelocationInfo {
    /// The section whose bytes are patched; for a dynamic relocation the
    /// allocated section containing `offset` ("" if none does).
    pub section: String,
    /// `r_offset`: section-relative in `ET_REL`, an address for dynamic
    /// relocations.
    pub offset: u64,
    /// E.g. "R_X86_64_32S"; unknown types as "R_<MACHINE>_<number>".
    pub type_name: String,
    pub r_type: u32,
    /// The target symbol's name (a section symbol's is its section's).
    pub symbol: Option<String>,
    /// Where the target symbol is defined, if it is, in a section.
    pub target_section: Option<String>,
    /// The target symbol's `st_value`, if it is defined.
    pub target_value: Option<u64>,
    /// The RELA addend, or for REL-type sections (i386, armv7, RELR) the
    /// one stored in the patched bytes where it could be read.
    pub addend: i64,
    /// From an `ET_DYN`'s dynamic relocation sections.
    pub dynamic: bool,
    /// False when a REL-type addend could not be decoded (`addend` is 0).
    pub addend_known: bool,
    /// The relocation section the entry is in, e.g. ".rela.text".
    pub relocation_section: String,
}

/// The bounds of one linker set; see [`linker_sets`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetBounds {
    /// `X` in `set_X`, with the `set_` prefix: e.g. "set_vnet".
    pub set: String,
    /// A symbol `__start_set_X` is present, or a relocation names it.
    pub referenced_start: bool,
    pub referenced_stop: bool,
    /// Every referenced bound is defined (and at least one is referenced).
    pub defined: bool,
    /// Every referenced bound is defined and exported in `.dynsym`.
    pub exported: bool,
    /// The object has a section named `set_X`.
    pub present: bool,
    pub defined_start: bool,
    pub defined_stop: bool,
    pub exported_start: bool,
    pub exported_stop: bool,
}

/// How strict inspection is.
#[derive(Debug, Clone, Copy, Default)]
pub struct InspectOptions {
    /// Read objects for other systems too (`freebsd` is then false) instead
    /// of failing with [`InspectError::NotFreeBsd`].
    pub allow_other_os: bool,
}

impl ObjectInfo {
    pub fn section(&self, name: &str) -> Option<&SectionInfo> {
        self.sections.iter().find(|s| s.name == name)
    }

    /// The first symbol of this name, `.symtab` before `.dynsym`.
    pub fn symbol(&self, name: &str) -> Option<&SymbolInfo> {
        self.symbols.iter().find(|s| s.name == name)
    }

    /// The first defined symbol of this name, `.symtab` before `.dynsym`.
    pub fn defined(&self, name: &str) -> Option<&SymbolInfo> {
        self.symbols.iter().find(|s| s.name == name && s.defined)
    }

    /// Undefined non-local symbols, one per name over both tables, the
    /// strongest binding (global over weak) winning, in first-seen order.
    pub fn undefined(&self) -> impl Iterator<Item = &SymbolInfo> {
        let mut order: Vec<&SymbolInfo> = Vec::new();
        let mut slot: HashMap<&str, usize> = HashMap::new();
        for s in self
            .symbols
            .iter()
            .filter(|s| !s.defined && s.binding != Binding::Local)
        {
            match slot.get(s.name.as_str()) {
                Some(&i) => {
                    if let Some(kept) = order.get_mut(i) {
                        if kept.binding == Binding::Weak && s.binding == Binding::Global {
                            *kept = s;
                        }
                    }
                }
                None => {
                    slot.insert(&s.name, order.len());
                    order.push(s);
                }
            }
        }
        order.into_iter()
    }

    /// For each linker set `set_X` present or referenced: whether the
    /// object references `__start_set_X` / `__stop_set_X`, defines them, and
    /// exports them in `.dynsym`.  Sorted by set name.
    pub fn set_bounds(&self) -> Vec<SetBounds> {
        linker_sets::set_bounds(self)
    }

    /// The bounds of one set, if it is present or referenced.
    pub fn set_bound(&self, set: &str) -> Option<SetBounds> {
        self.set_bounds().into_iter().find(|b| b.set == set)
    }

    /// Symbols defined in a given section, section symbols excluded; a
    /// `.dynsym` symbol is left out when `.symtab` has one of its name there.
    pub fn symbols_in<'a>(&'a self, section: &'a str) -> impl Iterator<Item = &'a SymbolInfo> {
        let here = move |s: &&'a SymbolInfo| {
            s.defined && s.kind != SymbolKind::Section && s.section.as_deref() == Some(section)
        };
        let in_symtab: HashSet<&str> = self
            .symbols
            .iter()
            .filter(here)
            .filter(|s| !s.dynamic)
            .map(|s| s.name.as_str())
            .collect();
        self.symbols
            .iter()
            .filter(here)
            .filter(move |s| !s.dynamic || !in_symtab.contains(s.name.as_str()))
    }

    /// Relocations that patch `section`.
    pub fn relocations_in<'a>(
        &'a self,
        section: &'a str,
    ) -> impl Iterator<Item = &'a RelocationInfo> {
        self.relocations
            .iter()
            .filter(move |r| r.section == section)
    }

    /// Relocations against the symbol (or section symbol) `name`.
    pub fn relocations_to<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a RelocationInfo> {
        self.relocations
            .iter()
            .filter(move |r| r.symbol.as_deref() == Some(name))
    }
}

/// Reads and inspects a file; the path names it in messages.
pub fn inspect_file(path: &Path) -> Result<ObjectInfo, InspectError> {
    inspect_file_with(path, &InspectOptions::default())
}

pub fn inspect_file_with(
    path: &Path,
    options: &InspectOptions,
) -> Result<ObjectInfo, InspectError> {
    let name = path.display().to_string();
    let data = std::fs::read(path).map_err(|source| InspectError::Read {
        object: name.clone(),
        path: path.to_path_buf(),
        source,
    })?;
    inspect_bytes_with(&name, &data, options)
}

/// Inspects an object in memory; `name` names it in messages.
pub fn inspect_bytes(name: &str, data: &[u8]) -> Result<ObjectInfo, InspectError> {
    inspect_bytes_with(name, data, &InspectOptions::default())
}

pub fn inspect_bytes_with(
    name: &str,
    data: &[u8],
    options: &InspectOptions,
) -> Result<ObjectInfo, InspectError> {
    let ident = header::ident(name, data)?;
    if ident.is_64 {
        inspect_class::<FileHeader64<Endianness>>(name, data, ident, options)
    } else {
        inspect_class::<FileHeader32<Endianness>>(name, data, ident, options)
    }
}

fn inspect_class<Elf: FileHeader<Endian = Endianness>>(
    name: &str,
    data: &[u8],
    ident: header::Ident,
    options: &InspectOptions,
) -> Result<ObjectInfo, InspectError> {
    let bad_header = |what: String| InspectError::Header {
        object: name.to_string(),
        what,
    };
    let elf = Elf::parse(data).map_err(|e| bad_header(e.to_string()))?;
    let endian = elf.endian().map_err(|e| bad_header(e.to_string()))?;
    let machine = elf.e_machine(endian);
    let arch =
        header::arch(machine, ident).map_err(|machine| InspectError::UnsupportedMachine {
            object: name.to_string(),
            machine,
        })?;
    let kind = header::kind(elf.e_type(endian));
    let ehsize = usize::from(elf.e_ehsize(endian));
    if ehsize != std::mem::size_of::<Elf>() {
        return Err(bad_header(format!(
            "e_ehsize is {ehsize}, not {} as ELFCLASS{} requires",
            std::mem::size_of::<Elf>(),
            if ident.is_64 { 64 } else { 32 }
        )));
    }

    let sections = sections::read(name, elf, endian, data)?;
    let signs = os::note_signs(name, &sections.table, &sections.names, endian, data)?;
    let (freebsd, os) = os::verdict(ident.os_abi, &signs);
    if !freebsd && !options.allow_other_os {
        return Err(InspectError::NotFreeBsd {
            object: name.to_string(),
            os,
        });
    }
    let symbols = symbols::read_all(name, &sections.table, &sections.names, endian, data)?;
    let pointer_bytes = if ident.is_64 { 8 } else { 4 };
    let relocations = relocations::read_all(&relocations::Context {
        object: name,
        sections: &sections.table,
        names: &sections.names,
        infos: &sections.infos,
        endian,
        data,
        machine,
        kind,
        pointer_bytes,
    })?;
    Ok(ObjectInfo {
        name: name.to_string(),
        kind,
        arch,
        pointer_bytes,
        freebsd,
        os,
        os_abi: ident.os_abi,
        machine: machine.0,
        e_flags: elf.e_flags(endian).0,
        big_endian: ident.big_endian,
        sections: sections.infos,
        symbols,
        relocations,
    })
}
