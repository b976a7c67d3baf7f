//! Symbol tables: `.symtab` and `.dynsym`, each symbol with its binding,
//! type, section and visibility.

use object::elf;
use object::read::elf::{FileHeader, SectionHeader as _, SectionTable, Sym, SymbolTable};
use object::read::SymbolIndex;
use object::Endianness;

use super::sections::name_of;
use super::{Binding, InspectError, SymbolInfo, SymbolKind};

/// A parsed symbol table and how it is named in messages.
pub(super) struct Table<'data, Elf: FileHeader> {
    pub symbols: SymbolTable<'data, Elf, &'data [u8]>,
    pub name: String,
    pub dynamic: bool,
}

/// The symbol table in section `index` (`SHT_SYMTAB` or `SHT_DYNSYM`).
pub(super) fn table_at<'data, Elf: FileHeader<Endian = Endianness>>(
    object: &str,
    sections: &SectionTable<'data, Elf, &'data [u8]>,
    names: &[String],
    endian: Endianness,
    data: &'data [u8],
    index: usize,
) -> Result<Table<'data, Elf>, InspectError> {
    let name = name_of(names, index);
    let section = sections
        .section(object::read::SectionIndex(index))
        .map_err(|e| InspectError::Section {
            object: object.to_string(),
            section: name.clone(),
            what: e.to_string(),
        })?;
    let dynamic = section.sh_type(endian) == elf::SHT_DYNSYM;
    let symbols = sections
        .symbol_table_by_index(endian, data, object::read::SectionIndex(index))
        .map_err(|e| InspectError::Section {
            object: object.to_string(),
            section: name.clone(),
            what: format!("{e} (or its string table)"),
        })?;
    Ok(Table {
        symbols,
        name,
        dynamic,
    })
}

/// Every named symbol of `.symtab`, then of `.dynsym`.
pub(super) fn read_all<'data, Elf: FileHeader<Endian = Endianness>>(
    object: &str,
    sections: &SectionTable<'data, Elf, &'data [u8]>,
    names: &[String],
    endian: Endianness,
    data: &'data [u8],
) -> Result<Vec<SymbolInfo>, InspectError> {
    let mut out = Vec::new();
    for wanted in [elf::SHT_SYMTAB, elf::SHT_DYNSYM] {
        let Some((index, _)) = sections
            .enumerate()
            .find(|(_, s)| s.sh_type(endian) == wanted)
        else {
            continue;
        };
        let table = table_at(object, sections, names, endian, data, index.0)?;
        for (i, _) in table.symbols.enumerate().skip(1) {
            let info = describe(object, &table, names, endian, i)?;
            if !info.name.is_empty() {
                out.push(info);
            }
        }
    }
    Ok(out)
}

/// Symbol `index` of `table`.  Section symbols are named by their section;
/// other symbols without a name keep an empty name.
pub(super) fn describe<Elf: FileHeader<Endian = Endianness>>(
    object: &str,
    table: &Table<'_, Elf>,
    names: &[String],
    endian: Endianness,
    index: SymbolIndex,
) -> Result<SymbolInfo, InspectError> {
    let fail = |symbol: String, what: String| InspectError::Symbol {
        object: object.to_string(),
        table: table.name.clone(),
        symbol,
        what,
    };
    let sym = table
        .symbols
        .symbol(index)
        .map_err(|e| fail(format!("#{}", index.0), e.to_string()))?;
    let raw_name = table.symbols.symbol_name(endian, sym).map_err(|_| {
        fail(
            format!("#{}", index.0),
            format!(
                "name offset {:#x} is outside the string table",
                sym.st_name(endian)
            ),
        )
    })?;
    let mut name = String::from_utf8_lossy(raw_name).into_owned();
    let label = if name.is_empty() {
        format!("#{}", index.0)
    } else {
        name.clone()
    };
    let shndx = sym.st_shndx(endian);
    let section_index = table
        .symbols
        .symbol_section(endian, sym, index)
        .map_err(|e| fail(label.clone(), e.to_string()))?;
    let section = match section_index {
        Some(s) if s.0 != 0 => match names.get(s.0) {
            Some(section) => Some(section.clone()),
            None => {
                return Err(fail(
                    label,
                    format!(
                        "section index {} is out of range ({} sections)",
                        s.0,
                        names.len()
                    ),
                ))
            }
        },
        _ => None,
    };
    let kind = match sym.st_type() {
        elf::STT_OBJECT | elf::STT_COMMON | elf::STT_TLS => SymbolKind::Data,
        elf::STT_FUNC | elf::STT_GNU_IFUNC => SymbolKind::Function,
        elf::STT_SECTION => SymbolKind::Section,
        elf::STT_FILE => SymbolKind::File,
        _ => SymbolKind::Other,
    };
    if name.is_empty() && kind == SymbolKind::Section {
        name = section.clone().unwrap_or_default();
    }
    let binding = match sym.st_bind() {
        elf::STB_LOCAL => Binding::Local,
        elf::STB_WEAK => Binding::Weak,
        // STB_GLOBAL, STB_GNU_UNIQUE and the OS- and processor-specific
        // bindings are all visible outside the object.
        _ => Binding::Global,
    };
    let defined = shndx != elf::SHN_UNDEF || section.is_some();
    Ok(SymbolInfo {
        name,
        binding,
        kind,
        defined,
        section,
        value: sym.st_value(endian).into(),
        size: sym.st_size(endian).into(),
        dynamic: table.dynamic,
        visibility_default: sym.st_visibility() == elf::STV_DEFAULT,
        index: index.0,
        absolute: shndx == elf::SHN_ABS,
        common: shndx == elf::SHN_COMMON,
        st_info: sym.st_info().0,
        st_other: sym.st_other().0,
        visibility: sym.st_visibility().0,
    })
}
