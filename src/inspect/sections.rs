//! The section header table: its bounds, the names, and each section's
//! place in the file.

use object::elf;
use object::read::elf::{FileHeader, SectionHeader, SectionTable};
use object::Endianness;

use super::{InspectError, SectionInfo};

/// The sections of an object, checked against the file's size.
pub(super) struct Sections<'data, Elf: FileHeader> {
    pub table: SectionTable<'data, Elf, &'data [u8]>,
    /// Names by ELF section index (index 0 is the null section, "").
    pub names: Vec<String>,
    pub infos: Vec<SectionInfo>,
}

pub(super) fn read<'data, Elf: FileHeader<Endian = Endianness>>(
    object: &str,
    header: &Elf,
    endian: Endianness,
    data: &'data [u8],
) -> Result<Sections<'data, Elf>, InspectError> {
    let len = data.len() as u64;
    let bad_header = |what: String| InspectError::Header {
        object: object.to_string(),
        what,
    };
    let truncated = |what: String| InspectError::Truncated {
        object: object.to_string(),
        what,
    };
    let shoff: u64 = header.e_shoff(endian).into();
    if shoff == 0 {
        return Err(bad_header(
            "no section header table (e_shoff is 0); a kernel module needs one".to_string(),
        ));
    }
    let entsize = u64::from(header.e_shentsize(endian));
    let expected = std::mem::size_of::<Elf::SectionHeader>() as u64;
    if entsize != expected {
        return Err(bad_header(format!(
            "e_shentsize is {entsize}, not {expected}"
        )));
    }
    if shoff.checked_add(entsize).map_or(true, |end| end > len) {
        return Err(truncated(format!(
            "section header table at {shoff:#x} lies past the end of the file ({len} bytes)"
        )));
    }
    let count = header
        .shnum(endian, data)
        .map_err(|e| bad_header(e.to_string()))?;
    let table_end = u64::from(count)
        .checked_mul(entsize)
        .and_then(|size| size.checked_add(shoff));
    if table_end.map_or(true, |end| end > len) {
        return Err(truncated(format!(
            "section header table at {shoff:#x} ({count} entries of {entsize} bytes) \
             runs past the end of the file ({len} bytes)"
        )));
    }
    let table = header
        .sections(endian, data)
        .map_err(|e| bad_header(format!("section header table or its names: {e}")))?;

    let mut names = Vec::with_capacity(table.len());
    let mut infos = Vec::with_capacity(table.len());
    for (index, section) in table.enumerate() {
        if index.0 == 0 {
            names.push(String::new());
            continue;
        }
        let name = table
            .section_name(endian, section)
            .map_err(|_| InspectError::Section {
                object: object.to_string(),
                section: format!("#{}", index.0),
                what: format!(
                    "name offset {:#x} is outside the section name table",
                    section.sh_name(endian)
                ),
            })?;
        let name = String::from_utf8_lossy(name).into_owned();
        let sh_type = section.sh_type(endian);
        let flags = section.sh_flags(endian);
        let size: u64 = section.sh_size(endian).into();
        if sh_type != elf::SHT_NOBITS && sh_type != elf::SHT_NULL {
            let offset: u64 = section.sh_offset(endian).into();
            if offset.checked_add(size).map_or(true, |end| end > len) {
                return Err(InspectError::Section {
                    object: object.to_string(),
                    section: name,
                    what: format!(
                        "truncated: {size:#x} bytes at {offset:#x} run past the end of the \
                         file ({len} bytes)"
                    ),
                });
            }
        }
        if let Some(expected) = entry_size::<Elf>(sh_type) {
            let entsize: u64 = section.sh_entsize(endian).into();
            if entsize != expected {
                return Err(InspectError::Section {
                    object: object.to_string(),
                    section: name,
                    what: format!("sh_entsize is {entsize}, not {expected}"),
                });
            }
        }
        infos.push(SectionInfo {
            index: index.0,
            name: name.clone(),
            size,
            align: section.sh_addralign(endian).into(),
            address: section.sh_addr(endian).into(),
            alloc: flags.contains(elf::SHF_ALLOC),
            writable: flags.contains(elf::SHF_WRITE),
            executable: flags.contains(elf::SHF_EXECINSTR),
            sh_type: sh_type.0,
            flags: flags.0,
            file_offset: section.sh_offset(endian).into(),
        });
        names.push(name);
    }
    overlaps(object, &infos)?;
    Ok(Sections {
        table,
        names,
        infos,
    })
}

/// The size of an entry of the tables whose entries are read as fixed-size
/// structures.
fn entry_size<Elf: FileHeader>(sh_type: elf::SectionType) -> Option<u64> {
    let size = match sh_type {
        elf::SHT_SYMTAB | elf::SHT_DYNSYM => std::mem::size_of::<Elf::Sym>(),
        elf::SHT_REL => std::mem::size_of::<Elf::Rel>(),
        elf::SHT_RELA => std::mem::size_of::<Elf::Rela>(),
        _ => return None,
    };
    Some(size as u64)
}

/// Two sections whose bytes share a place in the file: a linker never
/// writes that, and a reader would take the same bytes for two things.
fn overlaps(object: &str, infos: &[SectionInfo]) -> Result<(), InspectError> {
    let mut ranges: Vec<(u64, u64, &str)> = infos
        .iter()
        .filter(|s| s.sh_type != elf::SHT_NOBITS.0 && s.sh_type != elf::SHT_NULL.0 && s.size > 0)
        .map(|s| {
            (
                s.file_offset,
                s.file_offset.saturating_add(s.size),
                s.name.as_str(),
            )
        })
        .collect();
    ranges.sort_unstable();
    for pair in ranges.windows(2) {
        if let [(_, end, first), (start, _, second)] = pair {
            if start < end {
                return Err(InspectError::Section {
                    object: object.to_string(),
                    section: (*second).to_string(),
                    what: format!(
                        "its bytes at {start:#x} overlap those of section {first} (up to {end:#x})"
                    ),
                });
            }
        }
    }
    Ok(())
}

/// The name of section `index`, or `#index` when there is none.
pub(super) fn name_of(names: &[String], index: usize) -> String {
    match names.get(index) {
        Some(name) if !name.is_empty() => name.clone(),
        _ => format!("#{index}"),
    }
}
