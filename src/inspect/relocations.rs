//! Relocation sections (`SHT_REL`, `SHT_RELA`, `SHT_CREL`, `SHT_RELR`):
//! which place each entry patches, against which symbol, with which addend.
//!
//! In an `ET_REL` object a relocation section applies to the section named
//! by its `sh_info`, and `r_offset` is relative to that section.  In an
//! `ET_DYN` object the dynamic relocations (`.rela.dyn`, `.rel.dyn`,
//! `.rela.plt`, `.relr.dyn`: allocated, or with no `sh_info`) hold virtual
//! addresses, and the patched section is the one whose addresses contain
//! `r_offset`.

use object::elf::{self, Machine, RelocationType};
use object::read::elf::{Crel, FileHeader, SectionHeader, SectionTable};
use object::read::SymbolIndex;
use object::Endianness;

use super::reloc_names::{relative_type, relocation_type_name};
use super::sections::name_of;
use super::symbols::{describe, table_at, Table};
use super::{InspectError, ObjectKind, RelocationInfo, SectionInfo};

/// What the reader of relocations needs to know about the object.
pub(super) struct Context<'a, 'data, Elf: FileHeader> {
    pub object: &'a str,
    pub sections: &'a SectionTable<'data, Elf, &'data [u8]>,
    pub names: &'a [String],
    pub infos: &'a [SectionInfo],
    pub endian: Endianness,
    pub data: &'data [u8],
    pub machine: Machine,
    pub kind: ObjectKind,
    pub pointer_bytes: u32,
}

/// The entries of one relocation section, in a common form.
struct Entries {
    entries: Vec<Crel>,
    /// The addends are in the entries (RELA), not in the patched bytes.
    explicit_addends: bool,
    /// `SHT_RELR`: no symbols, every entry is the machine's RELATIVE.
    relr: bool,
}

/// Where a relocation patches.
struct Place {
    section: String,
    /// Offset from the start of the section.
    offset_in_section: u64,
    /// Position of the patched bytes in the file, if they are in it.
    file_position: Option<u64>,
}

pub(super) fn read_all<Elf: FileHeader<Endian = Endianness>>(
    ctx: &Context<'_, '_, Elf>,
) -> Result<Vec<RelocationInfo>, InspectError> {
    let mut out = Vec::new();
    let mut tables: Vec<(usize, Table<'_, Elf>)> = Vec::new();
    for (index, header) in ctx.sections.enumerate() {
        let reloc_section = name_of(ctx.names, index.0);
        let fail = |what: String| InspectError::Section {
            object: ctx.object.to_string(),
            section: reloc_section.clone(),
            what,
        };
        let Some(entries) = entries(ctx, header).map_err(&fail)? else {
            continue;
        };
        let flags = header.sh_flags(ctx.endian);
        let info = header.sh_info(ctx.endian) as usize;
        let dynamic = entries.relr
            || (ctx.kind != ObjectKind::Relocatable
                && (flags.contains(elf::SHF_ALLOC) || info == 0));
        let target = if dynamic {
            None
        } else {
            match ctx.infos.iter().find(|s| s.index == info) {
                Some(section) if info != 0 => Some(section),
                _ => {
                    return Err(fail(format!(
                        "applies to section index {info}, which does not exist"
                    )))
                }
            }
        };
        let link = header.sh_link(ctx.endian) as usize;
        let needs_symbols = entries.entries.iter().any(|r| r.r_sym != 0);
        let table_slot = if needs_symbols {
            if link == 0 {
                return Err(fail(
                    "entries name symbols but sh_link names no symbol table".to_string(),
                ));
            }
            let slot = match tables.iter().position(|(i, _)| *i == link) {
                Some(slot) => slot,
                None => {
                    let table = table_at(
                        ctx.object,
                        ctx.sections,
                        ctx.names,
                        ctx.endian,
                        ctx.data,
                        link,
                    )?;
                    tables.push((link, table));
                    tables.len() - 1
                }
            };
            Some(slot)
        } else {
            None
        };
        let table = table_slot.and_then(|slot| tables.get(slot)).map(|(_, t)| t);

        for (entry, r) in entries.entries.iter().enumerate() {
            if let Some(section) = target {
                if r.r_offset >= section.size {
                    return Err(fail(format!(
                        "entry {entry} patches offset {:#x}, outside {} ({:#x} bytes)",
                        r.r_offset, section.name, section.size
                    )));
                }
            }
            let place = match target {
                Some(section) => Place {
                    section: section.name.clone(),
                    offset_in_section: r.r_offset,
                    file_position: if section.sh_type == elf::SHT_NOBITS.0 {
                        None
                    } else {
                        section.file_offset.checked_add(r.r_offset)
                    },
                },
                None => containing(ctx.infos, r.r_offset),
            };
            let (symbol, target_section, target_value) = match (r.r_sym, table) {
                (0, _) | (_, None) => (None, None, None),
                (sym, Some(table)) => {
                    if sym as usize >= table.symbols.len() {
                        return Err(InspectError::SymbolIndex {
                            object: ctx.object.to_string(),
                            index: sym,
                            section: place.section.clone(),
                            offset: place.offset_in_section,
                            detail: format!(
                                "{reloc_section} entry {entry}; {} has {} symbols",
                                table.name,
                                table.symbols.len()
                            ),
                        });
                    }
                    let info = describe(
                        ctx.object,
                        table,
                        ctx.names,
                        ctx.endian,
                        SymbolIndex(sym as usize),
                    )?;
                    let value = info.defined.then_some(info.value);
                    let name = (!info.name.is_empty()).then_some(info.name);
                    (name, info.section, value)
                }
            };
            let (addend, addend_known) = if entries.explicit_addends {
                (r.r_addend, true)
            } else {
                match implicit_addend(ctx, r.r_type, entries.relr, place.file_position) {
                    Some(addend) => (addend, true),
                    None => (0, false),
                }
            };
            out.push(RelocationInfo {
                section: place.section,
                offset: r.r_offset,
                type_name: relocation_type_name(ctx.machine, r.r_type.0),
                r_type: r.r_type.0,
                symbol,
                target_section,
                target_value,
                addend,
                dynamic,
                addend_known,
                relocation_section: reloc_section.clone(),
            });
        }
    }
    Ok(out)
}

/// The entries of a relocation section, or `None` for other sections.
fn entries<Elf: FileHeader<Endian = Endianness>>(
    ctx: &Context<'_, '_, Elf>,
    header: &Elf::SectionHeader,
) -> Result<Option<Entries>, String> {
    let endian = ctx.endian;
    let found = match header.sh_type(endian) {
        elf::SHT_REL => {
            let Some((rels, _)) = header.rel(endian, ctx.data).map_err(|e| e.to_string())? else {
                return Ok(None);
            };
            Entries {
                entries: rels.iter().map(|r| Crel::from_rel(r, endian)).collect(),
                explicit_addends: false,
                relr: false,
            }
        }
        elf::SHT_RELA => {
            let Some((relas, _)) = header.rela(endian, ctx.data).map_err(|e| e.to_string())? else {
                return Ok(None);
            };
            Entries {
                entries: relas
                    .iter()
                    .map(|r| Crel::from_rela(r, endian, false))
                    .collect(),
                explicit_addends: true,
                relr: false,
            }
        }
        elf::SHT_CREL => {
            let Some((crels, _)) = header.crel(endian, ctx.data).map_err(|e| e.to_string())? else {
                return Ok(None);
            };
            let explicit_addends = crels.is_rela();
            // Pushed one by one: the header's count is not to be trusted
            // for an allocation, each entry takes at least a byte.
            let mut entries = Vec::new();
            for crel in crels {
                entries.push(crel.map_err(|e| e.to_string())?);
            }
            Entries {
                entries,
                explicit_addends,
                relr: false,
            }
        }
        elf::SHT_RELR => {
            let Some(offsets) = header.relr(endian, ctx.data).map_err(|e| e.to_string())? else {
                return Ok(None);
            };
            let r_type = relative_type(ctx.machine).unwrap_or(RelocationType(0));
            Entries {
                entries: offsets
                    .map(|offset| Crel {
                        r_offset: offset.into(),
                        r_sym: 0,
                        r_type,
                        r_addend: 0,
                    })
                    .collect(),
                explicit_addends: false,
                relr: true,
            }
        }
        _ => return Ok(None),
    };
    Ok(Some(found))
}

/// The allocated section whose addresses contain `address`; thread-local
/// sections (whose addresses are templates) only if no other does.  An
/// address that no section contains gets an empty section name.
fn containing(infos: &[SectionInfo], address: u64) -> Place {
    let contains = |s: &&SectionInfo| {
        s.alloc
            && address >= s.address
            && s.address
                .checked_add(s.size)
                .is_some_and(|end| address < end)
    };
    let tls = |s: &&SectionInfo| s.flags & elf::SHF_TLS.0 != 0;
    let found = infos
        .iter()
        .filter(contains)
        .find(|s| !tls(s))
        .or_else(|| infos.iter().find(contains));
    match found {
        Some(s) => {
            let offset_in_section = address.saturating_sub(s.address);
            Place {
                section: s.name.clone(),
                offset_in_section,
                file_position: if s.sh_type == elf::SHT_NOBITS.0 {
                    None
                } else {
                    s.file_offset.checked_add(offset_in_section)
                },
            }
        }
        None => Place {
            section: String::new(),
            offset_in_section: address,
            file_position: None,
        },
    }
}

/// How many bytes of the patched place hold the addend of a REL-type
/// relocation, and how many of their low bits it is, for the types whose
/// field is a plain signed integer.  `Some((0, 0))`: the type has no addend.
fn implicit_field(machine: Machine, r_type: RelocationType) -> Option<(u32, u32)> {
    if (machine, r_type) == (elf::EM_ARM, elf::R_ARM_PREL31) {
        return Some((4, 31));
    }
    let width = match machine {
        elf::EM_386 => match r_type {
            elf::R_386_NONE | elf::R_386_COPY | elf::R_386_GLOB_DAT | elf::R_386_JMP_SLOT => 0,
            elf::R_386_32
            | elf::R_386_PC32
            | elf::R_386_GOT32
            | elf::R_386_GOT32X
            | elf::R_386_PLT32
            | elf::R_386_GOTOFF
            | elf::R_386_GOTPC
            | elf::R_386_RELATIVE
            | elf::R_386_IRELATIVE
            | elf::R_386_32PLT
            | elf::R_386_SIZE32
            | elf::R_386_TLS_TPOFF
            | elf::R_386_TLS_IE
            | elf::R_386_TLS_GOTIE
            | elf::R_386_TLS_LE
            | elf::R_386_TLS_GD
            | elf::R_386_TLS_LDM
            | elf::R_386_TLS_LDO_32
            | elf::R_386_TLS_IE_32
            | elf::R_386_TLS_LE_32
            | elf::R_386_TLS_DTPMOD32
            | elf::R_386_TLS_DTPOFF32
            | elf::R_386_TLS_TPOFF32 => 4,
            elf::R_386_16 | elf::R_386_PC16 => 2,
            elf::R_386_8 | elf::R_386_PC8 => 1,
            _ => return None,
        },
        elf::EM_ARM => match r_type {
            elf::R_ARM_NONE | elf::R_ARM_COPY | elf::R_ARM_GLOB_DAT | elf::R_ARM_JUMP_SLOT => 0,
            elf::R_ARM_ABS32
            | elf::R_ARM_REL32
            | elf::R_ARM_ABS32_NOI
            | elf::R_ARM_REL32_NOI
            | elf::R_ARM_SBREL32
            | elf::R_ARM_GOTOFF
            | elf::R_ARM_GOTPC
            | elf::R_ARM_GOT32
            | elf::R_ARM_GOT_PREL
            | elf::R_ARM_TARGET1
            | elf::R_ARM_TARGET2
            | elf::R_ARM_RELATIVE
            | elf::R_ARM_IRELATIVE
            | elf::R_ARM_TLS_GD32
            | elf::R_ARM_TLS_LDM32
            | elf::R_ARM_TLS_LDO32
            | elf::R_ARM_TLS_IE32
            | elf::R_ARM_TLS_LE32
            | elf::R_ARM_TLS_DTPMOD32
            | elf::R_ARM_TLS_DTPOFF32
            | elf::R_ARM_TLS_TPOFF32 => 4,
            elf::R_ARM_ABS16 => 2,
            elf::R_ARM_ABS8 => 1,
            _ => return None,
        },
        _ => return None,
    };
    Some((width, width * 8))
}

/// The addend stored in the patched bytes, where it can be read.
fn implicit_addend<Elf: FileHeader<Endian = Endianness>>(
    ctx: &Context<'_, '_, Elf>,
    r_type: RelocationType,
    relr: bool,
    file_position: Option<u64>,
) -> Option<i64> {
    let (width, bits) = if relr {
        (ctx.pointer_bytes, ctx.pointer_bytes * 8)
    } else {
        implicit_field(ctx.machine, r_type)?
    };
    if width == 0 || bits == 0 {
        return Some(0);
    }
    let start = usize::try_from(file_position?).ok()?;
    let end = start.checked_add(usize::try_from(width).ok()?)?;
    let bytes = ctx.data.get(start..end)?;
    let mut value: u64 = 0;
    if ctx.endian == Endianness::Big {
        for b in bytes {
            value = (value << 8) | u64::from(*b);
        }
    } else {
        for b in bytes.iter().rev() {
            value = (value << 8) | u64::from(*b);
        }
    }
    // Sign-extend from `bits` bits.
    let shift = 64u32.checked_sub(bits)?;
    Some(((value << shift) as i64) >> shift)
}
