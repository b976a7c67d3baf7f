//! Object identity: an ELF object reduced to what the kernel linker sees
//! (sections with their flags and bytes, symbols, relocations), compared
//! field by field so that the first difference can be named, and hashed
//! into a fingerprint that does not depend on where it was built.
//!
//! The build ID note is left out: it is a hash of the rest, so two objects
//! that differ anywhere else differ there too and it would hide the real
//! difference; two that agree everywhere else have the same one.

use std::path::Path;

use object::{
    Object, ObjectSection, ObjectSymbol, ObjectSymbolTable, RelocationFlags, RelocationTarget,
    SectionFlags, SectionKind, SymbolFlags, SymbolIndex,
};
use sha2::{Digest, Sha256};

use super::QualifyError;

/// Sections whose bytes are not compared (see the module comment).
const SKIPPED_BYTES: [&str; 1] = [".note.gnu.build-id"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionFact {
    pub name: String,
    pub kind: String,
    pub flags: u64,
    pub address: u64,
    pub size: u64,
    pub align: u64,
    /// The bytes; `None` for sections without file data (`.bss`).
    pub data: Option<Vec<u8>>,
    /// Symbol, string and relocation tables: their meaning is compared as
    /// symbols and relocations first, their bytes last.
    pub metadata: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SymbolFact {
    /// `symtab` or `dynsym`.
    pub table: &'static str,
    pub name: String,
    pub binding: &'static str,
    pub kind: String,
    pub section: String,
    pub value: u64,
    pub size: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelocationFact {
    /// The section relocated, or `dynamic`.
    pub section: String,
    pub offset: u64,
    pub r_type: u32,
    pub symbol: String,
    pub addend: i64,
}

/// An object as compared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Normalised {
    pub sections: Vec<SectionFact>,
    pub symbols: Vec<SymbolFact>,
    pub relocations: Vec<RelocationFact>,
}

fn binding(
    flags: SymbolFlags<object::SectionIndex, SymbolIndex>,
    weak: bool,
    global: bool,
) -> &'static str {
    match flags {
        SymbolFlags::Elf { st_info, .. } => match st_info.st_bind().0 {
            0 => "local",
            1 => "global",
            2 => "weak",
            10 => "unique",
            _ => "other",
        },
        _ if weak => "weak",
        _ if global => "global",
        _ => "local",
    }
}

fn symbol_fact<'data, S: ObjectSymbol<'data>>(
    file: &object::File<'data>,
    table: &'static str,
    sym: &S,
) -> SymbolFact {
    let section = match sym.section_index() {
        Some(i) => file
            .section_by_index(i)
            .ok()
            .and_then(|s| s.name().ok().map(str::to_string))
            .unwrap_or_else(|| format!("#{}", i.0)),
        None => format!("{:?}", sym.section()).to_lowercase(),
    };
    SymbolFact {
        table,
        name: sym.name().unwrap_or("<bad name>").to_string(),
        binding: binding(sym.flags(), sym.is_weak(), sym.is_global()),
        kind: format!("{:?}", sym.kind()).to_lowercase(),
        section,
        value: sym.address(),
        size: sym.size(),
    }
}

fn r_type(flags: RelocationFlags) -> u32 {
    match flags {
        RelocationFlags::Elf { r_type } => r_type.0,
        _ => u32::MAX,
    }
}

/// Reads and normalises the object at `path`.
pub fn normalise_file(path: &Path) -> Result<Normalised, QualifyError> {
    let data = std::fs::read(path).map_err(|source| QualifyError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    normalise(&data).map_err(|what| QualifyError::BadObject {
        path: path.to_path_buf(),
        what,
    })
}

/// Normalises an ELF object held in memory.
pub fn normalise(data: &[u8]) -> Result<Normalised, String> {
    let file = object::File::parse(data).map_err(|e| e.to_string())?;
    let mut sections = Vec::new();
    for s in file.sections() {
        let name = s.name().map_err(|e| e.to_string())?.to_string();
        let metadata = matches!(s.kind(), SectionKind::Metadata | SectionKind::Linker);
        let flags = match s.flags() {
            SectionFlags::Elf { sh_flags, .. } => sh_flags.0,
            _ => 0,
        };
        let data = match s.kind() {
            SectionKind::UninitializedData | SectionKind::UninitializedTls => None,
            _ if SKIPPED_BYTES.contains(&name.as_str()) => None,
            _ => Some(
                s.data()
                    .map_err(|e| format!("section {name}: {e}"))?
                    .to_vec(),
            ),
        };
        sections.push(SectionFact {
            kind: format!("{:?}", s.kind()).to_lowercase(),
            flags,
            address: s.address(),
            size: s.size(),
            align: s.align(),
            data,
            metadata,
            name,
        });
    }
    let mut symbols: Vec<SymbolFact> = file
        .symbols()
        .map(|s| symbol_fact(&file, "symtab", &s))
        .collect();
    symbols.extend(
        file.dynamic_symbols()
            .map(|s| symbol_fact(&file, "dynsym", &s)),
    );
    let name_of = |target: RelocationTarget, dynamic: bool| -> String {
        match target {
            RelocationTarget::Symbol(i) => {
                let sym = if dynamic {
                    file.dynamic_symbol_table()
                        .and_then(|t| t.symbol_by_index(i).ok())
                } else {
                    file.symbol_by_index(i).ok()
                };
                match sym {
                    Some(s) if !s.name().unwrap_or("").is_empty() => {
                        s.name().unwrap_or("").to_string()
                    }
                    // A section symbol: its section's name.
                    Some(s) => s
                        .section_index()
                        .and_then(|si| file.section_by_index(si).ok())
                        .and_then(|sec| sec.name().ok().map(str::to_string))
                        .unwrap_or_default(),
                    None => format!("#{}", i.0),
                }
            }
            RelocationTarget::Section(i) => file
                .section_by_index(i)
                .ok()
                .and_then(|s| s.name().ok().map(str::to_string))
                .unwrap_or_else(|| format!("section #{}", i.0)),
            RelocationTarget::Absolute => "*ABS*".to_string(),
            _ => "?".to_string(),
        }
    };
    let mut relocations = Vec::new();
    for s in file.sections() {
        let section = s.name().unwrap_or("").to_string();
        for (offset, r) in s.relocations() {
            relocations.push(RelocationFact {
                section: section.clone(),
                offset,
                r_type: r_type(r.flags()),
                symbol: name_of(r.target(), false),
                addend: r.addend(),
            });
        }
    }
    if let Some(dynamic) = file.dynamic_relocations() {
        for (offset, r) in dynamic {
            relocations.push(RelocationFact {
                section: "dynamic".to_string(),
                offset,
                r_type: r_type(r.flags()),
                symbol: name_of(r.target(), true),
                addend: r.addend(),
            });
        }
    }
    Ok(Normalised {
        sections,
        symbols,
        relocations,
    })
}

/// The SHA-256 of everything [`compare`] looks at.
pub fn fingerprint(n: &Normalised) -> String {
    let mut h = Sha256::new();
    let mut put = |label: &str, bytes: &[u8]| {
        // Lengths keep neighbouring fields apart.
        h.update((label.len() as u64).to_le_bytes());
        h.update(label.as_bytes());
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    };
    for s in &n.sections {
        put("section", s.name.as_bytes());
        put("kind", s.kind.as_bytes());
        for v in [s.flags, s.address, s.size, s.align] {
            put("n", &v.to_le_bytes());
        }
        match &s.data {
            Some(d) => put("data", d),
            None => put("nodata", b""),
        }
    }
    for s in &n.symbols {
        put("symbol", s.name.as_bytes());
        for text in [s.table, s.binding, &s.kind, &s.section] {
            put("t", text.as_bytes());
        }
        put("n", &s.value.to_le_bytes());
        put("n", &s.size.to_le_bytes());
    }
    for r in &n.relocations {
        put("reloc", r.section.as_bytes());
        put("n", &r.offset.to_le_bytes());
        put("n", &r.r_type.to_le_bytes());
        put("sym", r.symbol.as_bytes());
        put("n", &r.addend.to_le_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn first_byte_difference(a: &[u8], b: &[u8]) -> Option<usize> {
    a.iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .or_else(|| (a.len() != b.len()).then(|| a.len().min(b.len())))
}

fn describe_symbol(s: &SymbolFact) -> String {
    format!(
        "{} {} {} in {} value {:#x} size {}",
        s.name, s.binding, s.kind, s.section, s.value, s.size
    )
}

fn describe_reloc(r: &RelocationFact) -> String {
    format!("type {} against {}{:+}", r.r_type, r.symbol, r.addend)
}

/// The first difference between `a` (the reference) and `b`, or `None`
/// when they are identical: the section list, then symbols, relocations,
/// and the sections' bytes.
pub fn compare(a: &Normalised, b: &Normalised) -> Option<String> {
    let names = |n: &Normalised| {
        n.sections
            .iter()
            .map(|s| s.name.clone())
            .collect::<Vec<_>>()
    };
    if names(a) != names(b) {
        let (na, nb) = (names(a), names(b));
        if let Some(only) = na.iter().find(|s| !nb.contains(s)) {
            return Some(format!("section {only}: only in the reference"));
        }
        if let Some(only) = nb.iter().find(|s| !na.contains(s)) {
            return Some(format!("section {only}: not in the reference"));
        }
        return Some("sections: in another order".to_string());
    }
    // The tables' own sizes follow from their contents, compared below.
    for (x, y) in a
        .sections
        .iter()
        .zip(&b.sections)
        .filter(|(x, _)| !x.metadata)
    {
        for (what, u, v) in [
            ("flags", x.flags, y.flags),
            ("size", x.size, y.size),
            ("address", x.address, y.address),
            ("alignment", x.align, y.align),
        ] {
            if u != v {
                return Some(format!(
                    "section {}: {what} {u:#x} in the reference, {v:#x} here",
                    x.name
                ));
            }
        }
        if x.kind != y.kind {
            return Some(format!(
                "section {}: kind {} in the reference, {} here",
                x.name, x.kind, y.kind
            ));
        }
    }
    for (i, (x, y)) in a.symbols.iter().zip(&b.symbols).enumerate() {
        if x != y {
            return Some(if x.name != y.name {
                format!(
                    "symbol #{i} ({}): {} in the reference, {} here",
                    x.table, x.name, y.name
                )
            } else {
                format!(
                    "symbol {} ({}): {} in the reference, {} here",
                    x.name,
                    x.table,
                    describe_symbol(x),
                    describe_symbol(y)
                )
            });
        }
    }
    if a.symbols.len() != b.symbols.len() {
        let extra = a
            .symbols
            .get(b.symbols.len())
            .map(|s| format!("{} only in the reference", s.name))
            .or_else(|| {
                b.symbols
                    .get(a.symbols.len())
                    .map(|s| format!("{} not in the reference", s.name))
            })
            .unwrap_or_default();
        return Some(format!("symbol {extra}"));
    }
    for (x, y) in a.relocations.iter().zip(&b.relocations) {
        if x != y {
            return Some(format!(
                "relocation {}+{:#x}: {} in the reference, {}+{:#x} {} here",
                x.section,
                x.offset,
                describe_reloc(x),
                y.section,
                y.offset,
                describe_reloc(y)
            ));
        }
    }
    if a.relocations.len() != b.relocations.len() {
        return Some(format!(
            "relocations: {} in the reference, {} here",
            a.relocations.len(),
            b.relocations.len()
        ));
    }
    // Contents last, the tables' own bytes after everything else.
    for metadata in [false, true] {
        for (x, y) in a.sections.iter().zip(&b.sections) {
            if x.metadata != metadata {
                continue;
            }
            match (&x.data, &y.data) {
                (Some(u), Some(v)) => {
                    if let Some(at) = first_byte_difference(u, v) {
                        return Some(format!(
                            "section {}: bytes differ at offset {at:#x}",
                            x.name
                        ));
                    }
                }
                (None, None) => {}
                _ => return Some(format!("section {}: data in one object only", x.name)),
            }
        }
    }
    None
}
