//! Reading an amd64 module (`ld -r`, ET_REL) for loading: its sections,
//! symbols and relocations, every offset and index checked against the
//! bytes it points into.  Nothing here maps or runs anything, so a hostile
//! object can only produce a [`ElfError`] naming the object and the fault.
//!
//! The lab's [`crate::inspect`] reads the same objects for checking; it is
//! run first, and its errors are passed on, but the loader keeps its own
//! reader because it needs the raw section bytes and relocation entries.

use crate::inspect::{self, InspectError};

/// Why an object cannot be loaded, before any code runs.
#[derive(Debug, thiserror::Error)]
pub enum ElfError {
    #[error(transparent)]
    Inspect(#[from] InspectError),
    #[error("{object}: {what}")]
    Malformed { object: String, what: String },
}

fn bad(object: &str, what: impl Into<String>) -> ElfError {
    ElfError::Malformed {
        object: object.to_string(),
        what: what.into(),
    }
}

pub const SHT_PROGBITS: u32 = 1;
pub const SHT_SYMTAB: u32 = 2;
pub const SHT_STRTAB: u32 = 3;
pub const SHT_RELA: u32 = 4;
pub const SHT_NOBITS: u32 = 8;
pub const SHT_REL: u32 = 9;
pub const SHT_INIT_ARRAY: u32 = 14;
pub const SHT_FINI_ARRAY: u32 = 15;
pub const SHT_X86_64_UNWIND: u32 = 0x7000_0001;
pub const SHF_WRITE: u64 = 1;
pub const SHF_ALLOC: u64 = 2;
pub const SHF_EXECINSTR: u64 = 4;
pub const SHN_UNDEF: u16 = 0;
pub const SHN_LORESERVE: u16 = 0xff00;
pub const SHN_ABS: u16 = 0xfff1;
pub const SHN_COMMON: u16 = 0xfff2;
pub const STB_LOCAL: u8 = 0;
pub const STB_GLOBAL: u8 = 1;
pub const STB_WEAK: u8 = 2;
pub const STT_FUNC: u8 = 2;
pub const STT_SECTION: u8 = 3;
const EM_X86_64: u16 = 62;
const ET_REL: u16 = 1;

/// The largest module the loader accepts: far beyond any real one, and a
/// bound on what a hostile header can make it map.
pub const MAX_MODULE_BYTES: u64 = 64 << 20;
/// The largest section alignment honoured (a page).
pub const MAX_ALIGN: u64 = 4096;

#[derive(Debug, Clone)]
pub struct Section {
    pub index: usize,
    pub name: String,
    pub sh_type: u32,
    pub flags: u64,
    pub size: u64,
    pub align: u64,
    /// The file bytes (empty for `SHT_NOBITS`).
    pub data: Vec<u8>,
    pub link: u32,
    pub info: u32,
}

impl Section {
    pub fn alloc(&self) -> bool {
        self.flags & SHF_ALLOC != 0
    }
    pub fn exec(&self) -> bool {
        self.flags & SHF_EXECINSTR != 0
    }
}

#[derive(Debug, Clone)]
pub struct Symbol {
    pub name: String,
    pub bind: u8,
    pub stype: u8,
    pub shndx: u16,
    pub value: u64,
    pub size: u64,
}

impl Symbol {
    pub fn undefined(&self) -> bool {
        self.shndx == SHN_UNDEF
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Rela {
    pub offset: u64,
    pub symbol: u32,
    pub r_type: u32,
    pub addend: i64,
}

/// The relocations of one section.
#[derive(Debug, Clone)]
pub struct RelaSection {
    pub name: String,
    /// The index of the section the entries patch.
    pub target: usize,
    pub entries: Vec<Rela>,
}

/// A module, read and checked.
#[derive(Debug, Clone)]
pub struct Object {
    pub name: String,
    /// Every section, by index (index 0 is the null section).
    pub sections: Vec<Section>,
    /// `.symtab`, by index (index 0 is the null symbol).
    pub symbols: Vec<Symbol>,
    /// Relocation sections that patch allocated sections, in section order.
    pub relocations: Vec<RelaSection>,
}

impl Object {
    pub fn section(&self, name: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.name == name)
    }
}

fn field<const N: usize>(
    object: &str,
    data: &[u8],
    at: u64,
    what: &str,
) -> Result<[u8; N], ElfError> {
    let start = usize::try_from(at)
        .map_err(|_| bad(object, format!("{what}: offset {at:#x} out of range")))?;
    data.get(start..start.saturating_add(N))
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| {
            bad(
                object,
                format!(
                    "{what}: offset {at:#x} is past the end of the file ({} bytes)",
                    data.len()
                ),
            )
        })
}

fn u16_at(o: &str, d: &[u8], at: u64, what: &str) -> Result<u16, ElfError> {
    Ok(u16::from_le_bytes(field::<2>(o, d, at, what)?))
}
fn u32_at(o: &str, d: &[u8], at: u64, what: &str) -> Result<u32, ElfError> {
    Ok(u32::from_le_bytes(field::<4>(o, d, at, what)?))
}
fn u64_at(o: &str, d: &[u8], at: u64, what: &str) -> Result<u64, ElfError> {
    Ok(u64::from_le_bytes(field::<8>(o, d, at, what)?))
}

/// The bytes `[offset, offset + size)` of the file, checked.
fn range<'d>(
    object: &str,
    data: &'d [u8],
    offset: u64,
    size: u64,
    what: &str,
) -> Result<&'d [u8], ElfError> {
    let end = offset.checked_add(size);
    match end {
        Some(end) if end <= data.len() as u64 => Ok(&data[offset as usize..end as usize]),
        _ => Err(bad(
            object,
            format!(
                "{what}: bytes {offset:#x}..+{size:#x} lie outside the file ({} bytes)",
                data.len()
            ),
        )),
    }
}

/// A NUL-terminated name at `offset` in a string table.
fn name_at(object: &str, table: &[u8], offset: u32, what: &str) -> Result<String, ElfError> {
    let rest = table.get(offset as usize..).ok_or_else(|| {
        bad(
            object,
            format!(
                "{what}: name offset {offset:#x} is outside its string table ({} bytes)",
                table.len()
            ),
        )
    })?;
    let end = rest.iter().position(|&b| b == 0).ok_or_else(|| {
        bad(
            object,
            format!("{what}: name at {offset:#x} is not NUL-terminated"),
        )
    })?;
    Ok(String::from_utf8_lossy(&rest[..end]).into_owned())
}

/// Reads an amd64 module.  `name` names it in messages.
pub fn read(name: &str, data: &[u8]) -> Result<Object, ElfError> {
    // The lab's reader rejects what is not a FreeBSD ELF object at all, and
    // inconsistent headers, tables and symbol indices, with its own words.
    let info = inspect::inspect_bytes(name, data)?;
    if info.arch != "amd64" {
        return Err(bad(
            name,
            format!(
                "an {} object: this loader runs amd64 modules (link_elf_obj) only",
                info.arch
            ),
        ));
    }
    if data.len() as u64 > MAX_MODULE_BYTES {
        return Err(bad(
            name,
            format!(
                "{} bytes: larger than any module ({MAX_MODULE_BYTES} bytes at most)",
                data.len()
            ),
        ));
    }
    let e_type = u16_at(name, data, 16, "e_type")?;
    let machine = u16_at(name, data, 18, "e_machine")?;
    if machine != EM_X86_64 {
        return Err(bad(name, format!("e_machine is {machine}, not EM_X86_64")));
    }
    if e_type != ET_REL {
        return Err(bad(
            name,
            format!(
                "e_type is {e_type}, not ET_REL: amd64 modules are relocatable objects (ld -r)"
            ),
        ));
    }
    let shoff = u64_at(name, data, 0x28, "e_shoff")?;
    let shentsize = u16_at(name, data, 0x3a, "e_shentsize")?;
    let shnum = u16_at(name, data, 0x3c, "e_shnum")?;
    let shstrndx = u16_at(name, data, 0x3e, "e_shstrndx")?;
    if shentsize != 64 {
        return Err(bad(name, format!("e_shentsize is {shentsize}, not 64")));
    }
    range(name, data, shoff, u64::from(shnum) * 64, "section headers")?;

    struct Raw {
        name: u32,
        sh_type: u32,
        flags: u64,
        offset: u64,
        size: u64,
        link: u32,
        info: u32,
        align: u64,
        entsize: u64,
    }
    let mut raws = Vec::new();
    for i in 0..u64::from(shnum) {
        let at = shoff + i * 64;
        let what = format!("section header {i}");
        raws.push(Raw {
            name: u32_at(name, data, at, &what)?,
            sh_type: u32_at(name, data, at + 4, &what)?,
            flags: u64_at(name, data, at + 8, &what)?,
            offset: u64_at(name, data, at + 24, &what)?,
            size: u64_at(name, data, at + 32, &what)?,
            link: u32_at(name, data, at + 40, &what)?,
            info: u32_at(name, data, at + 44, &what)?,
            align: u64_at(name, data, at + 48, &what)?,
            entsize: u64_at(name, data, at + 56, &what)?,
        });
    }
    let shstr = raws
        .get(usize::from(shstrndx))
        .ok_or_else(|| bad(name, format!("e_shstrndx {shstrndx} is not a section")))?;
    let shstrtab = range(name, data, shstr.offset, shstr.size, "section name table")?;

    let mut sections = Vec::new();
    let mut total: u64 = 0;
    for (index, r) in raws.iter().enumerate() {
        let sname = if index == 0 {
            String::new()
        } else {
            name_at(name, shstrtab, r.name, &format!("section {index}"))?
        };
        let label = if sname.is_empty() {
            format!("section {index}")
        } else {
            format!("section {sname}")
        };
        let align = r.align.max(1);
        if !align.is_power_of_two() {
            return Err(bad(
                name,
                format!("{label}: alignment {align} is not a power of two"),
            ));
        }
        let bytes = if r.sh_type == SHT_NOBITS || index == 0 {
            Vec::new()
        } else {
            range(name, data, r.offset, r.size, &label)?.to_vec()
        };
        if r.flags & SHF_ALLOC != 0 {
            if align > MAX_ALIGN {
                return Err(bad(
                    name,
                    format!("{label}: alignment {align} exceeds a page"),
                ));
            }
            total = total.saturating_add(r.size).saturating_add(align);
            if total > MAX_MODULE_BYTES {
                return Err(bad(name, format!("{label}: {:#x} bytes: the allocated sections exceed {MAX_MODULE_BYTES} bytes", r.size)));
            }
            if r.sh_type == SHT_REL {
                return Err(bad(name, format!("{label}: allocated relocation section")));
            }
        }
        sections.push(Section {
            index,
            name: sname,
            sh_type: r.sh_type,
            flags: r.flags,
            size: r.size,
            align,
            data: bytes,
            link: r.link,
            info: r.info,
        });
    }

    // The symbol table and its strings.
    let symtabs: Vec<&Section> = sections
        .iter()
        .filter(|s| s.sh_type == SHT_SYMTAB)
        .collect();
    let symtab = match symtabs.as_slice() {
        [one] => *one,
        [] => {
            return Err(bad(
                name,
                "no symbol table (.symtab): the kernel linker needs one",
            ))
        }
        _ => return Err(bad(name, "more than one symbol table")),
    };
    let symtab_entsize = raws[symtab.index].entsize;
    if symtab_entsize != 24 || symtab.size % 24 != 0 {
        return Err(bad(name, format!("section {}: symbol entries of {symtab_entsize} bytes in {} bytes; ELF64 symbols are 24", symtab.name, symtab.size)));
    }
    let strtab = sections
        .get(symtab.link as usize)
        .filter(|s| s.sh_type == SHT_STRTAB)
        .ok_or_else(|| {
            bad(
                name,
                format!(
                    "section {}: sh_link {} is not a string table",
                    symtab.name, symtab.link
                ),
            )
        })?;
    let mut symbols = Vec::new();
    for i in 0..symtab.size / 24 {
        let what = format!("symbol {i}");
        let at = i * 24;
        let d = &symtab.data;
        let st_name = u32_at(name, d, at, &what)?;
        let st_info = field::<1>(name, d, at + 4, &what)?[0];
        let shndx = u16_at(name, d, at + 6, &what)?;
        let value = u64_at(name, d, at + 8, &what)?;
        let size = u64_at(name, d, at + 16, &what)?;
        let mut sname = name_at(name, &strtab.data, st_name, &what)?;
        let stype = st_info & 0xf;
        let bind = st_info >> 4;
        if stype == STT_SECTION {
            if let Some(s) = sections.get(usize::from(shndx)) {
                sname = s.name.clone();
            }
        }
        let label = if sname.is_empty() {
            what.clone()
        } else {
            format!("symbol {sname}")
        };
        if shndx == SHN_COMMON {
            return Err(bad(
                name,
                format!("{label}: a common symbol; build with -fno-common, as kmod.mk does"),
            ));
        }
        if shndx != SHN_UNDEF && shndx < SHN_LORESERVE {
            let Some(s) = sections.get(usize::from(shndx)) else {
                return Err(bad(
                    name,
                    format!(
                        "{label}: section index {shndx} out of range ({} sections)",
                        sections.len()
                    ),
                ));
            };
            if s.alloc() && value > s.size {
                return Err(bad(
                    name,
                    format!(
                        "{label}: value {value:#x} lies outside its section {} ({:#x} bytes)",
                        s.name, s.size
                    ),
                ));
            }
        } else if shndx >= SHN_LORESERVE && shndx != SHN_ABS {
            return Err(bad(
                name,
                format!("{label}: reserved section index {shndx:#x}"),
            ));
        }
        symbols.push(Symbol {
            name: sname,
            bind,
            stype,
            shndx,
            value,
            size,
        });
    }

    let mut relocations = Vec::new();
    for s in &sections {
        if s.sh_type == SHT_REL {
            let target = sections.get(s.info as usize);
            if target.is_some_and(|t| t.alloc()) {
                return Err(bad(
                    name,
                    format!(
                        "section {}: REL relocations; amd64 modules carry RELA only",
                        s.name
                    ),
                ));
            }
            continue;
        }
        if s.sh_type != SHT_RELA {
            continue;
        }
        let target = sections.get(s.info as usize).ok_or_else(|| {
            bad(
                name,
                format!("section {}: sh_info {} is not a section", s.name, s.info),
            )
        })?;
        if !target.alloc() {
            continue; // debugging information: not loaded
        }
        if s.link as usize != symtab.index {
            return Err(bad(
                name,
                format!(
                    "section {}: sh_link {} is not the symbol table",
                    s.name, s.link
                ),
            ));
        }
        if raws[s.index].entsize != 24 || s.size % 24 != 0 {
            return Err(bad(
                name,
                format!(
                    "section {}: RELA entries of {} bytes in {} bytes; ELF64 RELA entries are 24",
                    s.name, raws[s.index].entsize, s.size
                ),
            ));
        }
        let mut entries = Vec::new();
        for i in 0..s.size / 24 {
            let what = format!("section {} entry {i}", s.name);
            let offset = u64_at(name, &s.data, i * 24, &what)?;
            let r_info = u64_at(name, &s.data, i * 24 + 8, &what)?;
            let addend = u64_at(name, &s.data, i * 24 + 16, &what)? as i64;
            let symbol = (r_info >> 32) as u32;
            if symbol as usize >= symbols.len() {
                return Err(bad(name, format!("relocation at {}+{offset:#x}: symbol index {symbol} out of range ({} symbols)", target.name, symbols.len())));
            }
            entries.push(Rela {
                offset,
                symbol,
                r_type: r_info as u32,
                addend,
            });
        }
        relocations.push(RelaSection {
            name: s.name.clone(),
            target: target.index,
            entries,
        });
    }
    Ok(Object {
        name: name.to_string(),
        sections,
        symbols,
        relocations,
    })
}
