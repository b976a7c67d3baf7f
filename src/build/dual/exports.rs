//! What a dual module exports to the modules that depend on it, and the
//! storage its two sides can share.
//!
//! kmod.mk exports a module's global definitions (`EXPORT_SYMS=YES`, or
//! the names it lists) and makes the rest local; the sides arrive with
//! that done, and the lab's builds export every global definition.  The
//! joiner renames each side's definitions apart, so under their own names
//! the joined module would export nothing.  The rule:
//!
//! - a name that one build alone defines is exported as that build's: a
//!   VNET variable is `vnet_entry_X` in the VIMAGE build and `X` in the
//!   other, and a dependent built for either kind reaches the one it names;
//! - a function that both define is exported as a trampoline that jumps to
//!   the active side's, by the dispatcher's weak probe (`vnet0`);
//! - a variable that both define is exported as one copy, the VIMAGE
//!   side's, which the non-VIMAGE side's code uses too, when the two copies
//!   are alike: size, bytes, and relocations to the same things (a pointer
//!   to a function goes through a trampoline, so that it runs the active
//!   side's).  Otherwise the build stops with the variable named.
//!
//! `set_pcpu`, the module's DPCPU storage, is shared the same way when the
//! two builds lay it out alike, so that it is not paid twice.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use object::{
    Object as _, ObjectSection as _, ObjectSymbol as _, SectionFlags, SectionIndex, SectionKind,
    SymbolIndex, SymbolSection,
};

use super::{Read, Rel};

/// `SHF_WRITE`, `SHF_EXECINSTR` and `SHF_STRINGS`.
const SHF_WRITE: u64 = 0x1;
const SHF_EXECINSTR: u64 = 0x4;
const SHF_STRINGS: u64 = 0x20;

/// The section a dual module's DPCPU variables live in.
pub const PCPU_SET: &str = "set_pcpu";

/// An assembler-local label kept in the symbol table (`.L.str`): a place,
/// not a definition.
fn is_local_label(name: &str) -> bool {
    name.starts_with(".L")
}

/// An ELF mapping symbol (`$x`, `$d` on aarch64 and riscv64, `$a`, `$t`
/// on arm, with an optional `.suffix`): it marks where code or data starts
/// in a section for disassemblers, and names nothing.
pub(super) fn is_mapping_symbol(name: &str) -> bool {
    matches!(name.split('.').next(), Some("$x" | "$d" | "$a" | "$t"))
}

/// One named definition of a side.
#[derive(Debug, Clone)]
pub(super) struct Def {
    pub name: String,
    pub index: SymbolIndex,
    pub section: SectionIndex,
    pub address: u64,
    pub size: u64,
    pub function: bool,
    pub global: bool,
}

/// A side's definitions, by name and by section.
pub(super) struct Defs {
    pub defs: Vec<Def>,
    by_name: HashMap<String, Vec<usize>>,
    by_section: HashMap<SectionIndex, Vec<usize>>,
}

impl Defs {
    pub fn new(read: &Read<'_>) -> Defs {
        let mut defs = Vec::new();
        for sym in read.file.symbols() {
            let SymbolSection::Section(section) = sym.section() else {
                continue;
            };
            let name = sym.name().unwrap_or("");
            if name.is_empty()
                || is_local_label(name)
                || is_mapping_symbol(name)
                || matches!(
                    sym.kind(),
                    object::SymbolKind::Section | object::SymbolKind::File
                )
            {
                continue;
            }
            defs.push(Def {
                name: name.to_string(),
                index: sym.index(),
                section,
                address: sym.address(),
                size: sym.size(),
                function: sym.kind() == object::SymbolKind::Text,
                global: !sym.is_local(),
            });
        }
        let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
        let mut by_section: HashMap<SectionIndex, Vec<usize>> = HashMap::new();
        for (i, d) in defs.iter().enumerate() {
            by_name.entry(d.name.clone()).or_default().push(i);
            by_section.entry(d.section).or_default().push(i);
        }
        Defs {
            defs,
            by_name,
            by_section,
        }
    }

    /// The one definition of `name`, if there is exactly one.
    pub fn unique(&self, name: &str) -> Option<&Def> {
        match self.by_name.get(name).map(Vec::as_slice) {
            Some([i]) => Some(&self.defs[*i]),
            _ => None,
        }
    }

    /// The global definition of `name`.
    fn global(&self, name: &str) -> Option<&Def> {
        self.by_name
            .get(name)?
            .iter()
            .map(|i| &self.defs[*i])
            .find(|d| d.global)
    }

    /// What lies at `offset` of `section`: a function starting there, or
    /// a variable holding it.
    fn at(&self, section: SectionIndex, offset: u64) -> Option<&Def> {
        let here = self.by_section.get(&section)?;
        let mut found = None;
        for d in here.iter().map(|i| &self.defs[*i]) {
            if d.function && d.address == offset {
                return Some(d);
            }
            if !d.function && d.address <= offset && offset < d.address + d.size.max(1) {
                found = Some(d);
            }
        }
        found
    }
}

/// What a relocation reaches, told apart from the side that holds it.
#[derive(Debug, PartialEq, Eq)]
enum Target {
    /// A symbol the module does not define, and the addend.
    External(String, i64),
    /// The start of a function of the module.
    Function(String),
    /// A variable of the module, and where in it.
    Variable(String, i64),
    /// A string: of a merged string section, or of unnamed read-only data.
    Text(Vec<u8>),
}

/// One side, read for the comparison.
pub(super) struct View<'a, 'd> {
    pub read: &'a Read<'d>,
    pub defs: &'a Defs,
}

impl<'a, 'd> View<'a, 'd> {
    pub fn new(read: &'a Read<'d>, defs: &'a Defs) -> View<'a, 'd> {
        View { read, defs }
    }

    fn section_flags(&self, index: SectionIndex) -> u64 {
        match self.read.file.section_by_index(index).map(|s| s.flags()) {
            Ok(SectionFlags::Elf { sh_flags, .. }) => sh_flags.0,
            _ => 0,
        }
    }

    /// Whether the program may write the section: not where it is
    /// read-only, nor where it is written only by relocation, as the
    /// const data with pointers the compiler puts in `.data.rel.ro` (i386).
    fn writable(&self, index: SectionIndex) -> bool {
        let relro = self
            .read
            .file
            .section_by_index(index)
            .ok()
            .and_then(|s| s.name().ok().map(|n| n.starts_with(".data.rel.ro")))
            .unwrap_or(false);
        self.section_flags(index) & SHF_WRITE != 0 && !relro
    }

    /// The bytes of `[address, address + size)` of `section`; `None` for
    /// storage with no bytes in the file (zeroes).
    fn bytes(&self, section: SectionIndex, address: u64, size: u64) -> Option<Vec<u8>> {
        let s = self.read.file.section_by_index(section).ok()?;
        if matches!(s.kind(), SectionKind::UninitializedData) {
            return None;
        }
        let data = s.data().ok()?;
        let start = usize::try_from(address).ok()?;
        let end = start.checked_add(usize::try_from(size).ok()?)?;
        Some(data.get(start..end)?.to_vec())
    }

    fn relocations_in(&self, section: SectionIndex, address: u64, size: u64) -> Vec<&Rel> {
        self.read
            .relocations
            .get(&section)
            .map(|list| {
                list.iter()
                    .filter(|r| r.at >= address && r.at < address + size)
                    .collect()
            })
            .unwrap_or_default()
    }

    fn target(&self, symbol: SymbolIndex, addend: i64) -> Option<Target> {
        let sym = self.read.file.symbol_by_index(symbol).ok()?;
        let name = sym.name().unwrap_or("");
        let SymbolSection::Section(section) = sym.section() else {
            return sym
                .is_undefined()
                .then(|| Target::External(name.to_string(), addend));
        };
        // A section, or a label the assembler kept (`.L.str`, i386): what
        // lies at that offset of the section.
        if sym.kind() == object::SymbolKind::Section || is_local_label(name) {
            let offset = u64::try_from(addend.checked_add_unsigned(sym.address())?).ok()?;
            if let Some(d) = self.defs.at(section, offset) {
                return Some(if d.function {
                    Target::Function(d.name.clone())
                } else {
                    Target::Variable(d.name.clone(), (offset - d.address) as i64)
                });
            }
            // A pointer from data into unnamed read-only data: a string
            // literal (merged, or in .rodata where the compiler puts it
            // there, as for i386); named constants have their symbols.
            let flags = self.section_flags(section);
            if flags & SHF_STRINGS != 0 || flags & (SHF_WRITE | SHF_EXECINSTR) == 0 {
                let data = self.read.file.section_by_index(section).ok()?.data().ok()?;
                let rest = data.get(usize::try_from(offset).ok()?..)?;
                let end = rest.iter().position(|&b| b == 0)?;
                return Some(Target::Text(rest[..end].to_vec()));
            }
            return None;
        }
        if sym.kind() == object::SymbolKind::Text {
            return (addend == 0).then(|| Target::Function(name.to_string()));
        }
        Some(Target::Variable(name.to_string(), addend))
    }
}

/// A trampoline: the name it is reached by, whether it is exported under
/// that name, and the function of each side it jumps to.
#[derive(Debug, Clone)]
pub(super) struct Trampoline {
    pub name: String,
    pub exported: bool,
    pub v: SymbolIndex,
    pub n: SymbolIndex,
}

/// How one exported name is exported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Export {
    /// Defined by one side only (0: VIMAGE, 1: non-VIMAGE): that side's.
    Alias { side: usize, index: SymbolIndex },
    /// A function of both sides: its trampoline.
    Trampoline,
    /// A variable of both sides, alike: the VIMAGE side's copy, which the
    /// non-VIMAGE side's code uses too.
    Shared { v: SymbolIndex },
}

/// What the joiner does for exports and shared storage.
#[derive(Debug, Default)]
pub(super) struct Plan {
    pub exports: BTreeMap<String, Export>,
    pub trampolines: BTreeMap<String, Trampoline>,
    /// The VIMAGE side's relocations that go through a trampoline instead:
    /// (section, offset) to the trampoline's name.
    pub retarget: HashMap<(SectionIndex, u64), String>,
    /// The non-VIMAGE side's symbols defined at the VIMAGE side's copy.
    pub redirect: HashMap<SymbolIndex, SymbolIndex>,
    /// The sides' `set_pcpu`, when the non-VIMAGE one is the VIMAGE one's
    /// twin and is left out: (VIMAGE, non-VIMAGE).
    pub shared_pcpu: Option<(SectionIndex, SectionIndex)>,
}

/// Why an exported variable cannot be one copy.
pub(super) struct Unjoinable {
    pub side: usize,
    pub section: String,
    pub symbol: String,
    pub message: String,
}

struct Compare<'a, 'b, 'd> {
    v: &'a View<'b, 'd>,
    n: &'a View<'b, 'd>,
    done: HashMap<String, bool>,
    visiting: HashSet<String>,
    retarget: HashMap<(SectionIndex, u64), String>,
    /// Functions reached from shared storage: name to (v, n).
    reached: BTreeMap<String, (SymbolIndex, SymbolIndex)>,
}

impl Compare<'_, '_, '_> {
    /// Whether the ranges hold the same bytes and relocations to the same
    /// things.
    fn ranges_alike(&mut self, v: (SectionIndex, u64), n: (SectionIndex, u64), size: u64) -> bool {
        let rv = self.v.relocations_in(v.0, v.1, size);
        let rn = self.n.relocations_in(n.0, n.1, size);
        if rv.len() != rn.len() {
            return false;
        }
        // The bytes, but where a relocation goes: an implicit addend (REL)
        // is compared below, as what it reaches.
        let masked = |bytes: Option<Vec<u8>>, rels: &[&Rel], start: u64| {
            bytes.map(|mut b| {
                for r in rels {
                    let from = usize::try_from(r.at - start).unwrap_or(usize::MAX);
                    let to = from.saturating_add(usize::try_from(r.width).unwrap_or(0));
                    if let Some(field) = b.get_mut(from..to) {
                        field.fill(0);
                    }
                }
                b
            })
        };
        if masked(self.v.bytes(v.0, v.1, size), &rv, v.1)
            != masked(self.n.bytes(n.0, n.1, size), &rn, n.1)
        {
            return false;
        }
        let mut retarget = Vec::new();
        for (a, b) in rv.iter().zip(&rn) {
            if a.at - v.1 != b.at - n.1 || a.flags != b.flags {
                return false;
            }
            let (Some(ta), Some(tb)) = (
                self.v.target(a.symbol, a.addend),
                self.n.target(b.symbol, b.addend),
            ) else {
                return false;
            };
            if ta != tb {
                return false;
            }
            match &ta {
                Target::External(..) | Target::Text(_) => {}
                Target::Function(name) => {
                    let (Some(fv), Some(fn_)) =
                        (self.v.defs.unique(name), self.n.defs.unique(name))
                    else {
                        return false;
                    };
                    self.reached.insert(name.clone(), (fv.index, fn_.index));
                    retarget.push(((v.0, a.at), name.clone()));
                }
                Target::Variable(name, _) => {
                    if !self.variables_alike(name) {
                        return false;
                    }
                }
            }
        }
        self.retarget.extend(retarget);
        true
    }

    /// Whether the variable `name` of both sides can be one copy.  A
    /// global is shared (the other side's references, by name, are sent
    /// to the copy); a local must be read-only, so that two copies of it
    /// are as good as one.
    fn variables_alike(&mut self, name: &str) -> bool {
        let (Some(dv), Some(dn)) = (self.v.defs.unique(name), self.n.defs.unique(name)) else {
            return false;
        };
        let key = name.to_string();
        if let Some(&known) = self.done.get(&key) {
            return known;
        }
        if !self.visiting.insert(key.clone()) {
            // A cycle: alike unless something else says otherwise.
            return true;
        }
        let alike = !dv.function
            && !dn.function
            && dv.size == dn.size
            && dv.global == dn.global
            && (dv.global || (!self.v.writable(dv.section) && !self.n.writable(dn.section)))
            && self.ranges_alike((dv.section, dv.address), (dn.section, dn.address), dv.size);
        self.visiting.remove(&key);
        self.done.insert(key, alike);
        alike
    }
}

fn section_named(read: &Read<'_>, name: &str) -> Option<(SectionIndex, u64)> {
    let s = read.file.section_by_name(name)?;
    Some((s.index(), s.size()))
}

/// Plans the exports of the sides (VIMAGE, non-VIMAGE) and what storage
/// they share.
pub(super) fn plan(views: [&View<'_, '_>; 2]) -> Result<Plan, Unjoinable> {
    let [v, n] = views;
    let mut compare = Compare {
        v,
        n,
        done: HashMap::new(),
        visiting: HashSet::new(),
        retarget: HashMap::new(),
        reached: BTreeMap::new(),
    };
    let mut plan = Plan::default();
    let exported: BTreeSet<&str> = v
        .defs
        .defs
        .iter()
        .chain(&n.defs.defs)
        .filter(|d| d.global)
        .map(|d| d.name.as_str())
        .collect();
    for name in exported {
        let export = match (v.defs.global(name), n.defs.global(name)) {
            (Some(d), None) => Export::Alias {
                side: 0,
                index: d.index,
            },
            (None, Some(d)) => Export::Alias {
                side: 1,
                index: d.index,
            },
            (Some(dv), Some(dn)) if dv.function && dn.function => {
                plan.trampolines.insert(
                    name.to_string(),
                    Trampoline {
                        name: name.to_string(),
                        exported: true,
                        v: dv.index,
                        n: dn.index,
                    },
                );
                Export::Trampoline
            }
            (Some(dv), Some(dn)) => {
                if dv.function != dn.function
                    || v.defs.unique(name).is_none()
                    || n.defs.unique(name).is_none()
                    || !compare.variables_alike(name)
                {
                    return Err(Unjoinable {
                        side: 1,
                        section: n.read.section_name(dn.section),
                        symbol: name.to_string(),
                        message: "an exported variable that the VIMAGE and the non-VIMAGE \
                                  builds define differently (size, bytes, or what it points \
                                  to): a dependent cannot reach one copy on both kinds of \
                                  kernel; leave it out of EXPORT_SYMS, or build the module \
                                  kld-tied"
                            .to_string(),
                    });
                }
                plan.redirect.insert(dn.index, dv.index);
                Export::Shared { v: dv.index }
            }
            (None, None) => continue,
        };
        plan.exports.insert(name.to_string(), export);
    }

    // set_pcpu: the non-VIMAGE side's goes when it is the VIMAGE side's twin.
    if let (Some((pv, size_v)), Some((pn, size_n))) = (
        section_named(v.read, PCPU_SET),
        section_named(n.read, PCPU_SET),
    ) {
        let layout = |view: &View<'_, '_>, index: SectionIndex| {
            let mut l: Vec<(String, u64, u64)> = view
                .defs
                .by_section
                .get(&index)
                .map(|list| {
                    list.iter()
                        .map(|i| &view.defs.defs[*i])
                        .map(|d| (d.name.clone(), d.address, d.size))
                        .collect()
                })
                .unwrap_or_default();
            l.sort();
            l
        };
        if size_v == size_n
            && layout(v, pv) == layout(n, pn)
            && compare.ranges_alike((pv, 0), (pn, 0), size_v)
        {
            plan.shared_pcpu = Some((pv, pn));
            for d in n.defs.by_section.get(&pn).into_iter().flatten() {
                let dn = &n.defs.defs[*d];
                if let Some(dv) = v.defs.unique(&dn.name) {
                    plan.redirect.insert(dn.index, dv.index);
                }
            }
        }
    }

    for (name, (fv, fn_)) in std::mem::take(&mut compare.reached) {
        plan.trampolines.entry(name.clone()).or_insert(Trampoline {
            name,
            exported: false,
            v: fv,
            n: fn_,
        });
    }
    plan.retarget = compare.retarget;
    Ok(plan)
}

/// The section of the trampolines.
pub const TRAMPOLINE_SECTION: &str = ".text.vnetgen.dual";

/// The bytes each trampoline takes in its section.
pub const TRAMPOLINE_SLOT: u64 = 32;

/// A trampoline's machine code, and where its relocations go: the probe
/// (`&vnet0`, absolute), the jump to the non-VIMAGE side and the jump to
/// the VIMAGE side (PC-relative, with `jump_addend`).
pub struct TrampolineCode {
    /// The code, padded to the slot each trampoline takes.
    pub code: [u8; 32],
    pub size: u64,
    pub probe: (u64, u32),
    pub n_jump: (u64, u32),
    pub v_jump: (u64, u32),
    /// The addend of a jump's relocation: -4 where the displacement is
    /// taken from the end of its 4-byte field (x86), 0 where from the
    /// instruction itself (aarch64).
    pub jump_addend: i64,
}

/// The trampoline of `arch`, where there is one.  amd64:
/// `movq $vnet0, %r11; testq %r11, %r11; je N; jmp V` (%r11 is neither an
/// argument register nor preserved across calls, and %rax, a variadic
/// call's vector-register count, is left alone).  i386: the same with
/// %eax, which no argument is passed in.  aarch64: `ldr x16, 1f;
/// cbnz x16, 2f; b N; 2: b V; 1: .quad vnet0` (x16, IP0, is the register
/// the ABI leaves to veneers; the literal is 8-aligned, and the two `b`
/// reach ±128 MiB where a `cbz` to N would reach only ±1 MiB).
pub fn trampoline_code(arch: object::Architecture) -> Option<TrampolineCode> {
    use object::elf;
    let (head, probe, n_jump, v_jump): (&[u8], _, _, _) = match arch {
        object::Architecture::Aarch64 => {
            let code: &[u8] = &[
                0x90, 0x00, 0x00, 0x58, // ldr x16, #16
                0x50, 0x00, 0x00, 0xb5, // cbnz x16, #8
                0x00, 0x00, 0x00, 0x14, // b N
                0x00, 0x00, 0x00, 0x14, // b V
                0, 0, 0, 0, 0, 0, 0, 0, // .quad vnet0
            ];
            let mut padded = [0u8; 32];
            padded[..code.len()].copy_from_slice(code);
            return Some(TrampolineCode {
                code: padded,
                size: code.len() as u64,
                probe: (16, elf::R_AARCH64_ABS64.0),
                n_jump: (8, elf::R_AARCH64_JUMP26.0),
                v_jump: (12, elf::R_AARCH64_JUMP26.0),
                jump_addend: 0,
            });
        }
        object::Architecture::X86_64 => (
            &[
                0x49, 0xc7, 0xc3, 0, 0, 0, 0, // movq $imm32, %r11
                0x4d, 0x85, 0xdb, // testq %r11, %r11
                0x0f, 0x84, 0, 0, 0, 0, // je rel32
                0xe9, 0, 0, 0, 0, // jmp rel32
            ],
            (3, elf::R_X86_64_32S.0),
            (12, elf::R_X86_64_PC32.0),
            (17, elf::R_X86_64_PC32.0),
        ),
        object::Architecture::I386 => (
            &[
                0xb8, 0, 0, 0, 0, // movl $imm32, %eax
                0x85, 0xc0, // testl %eax, %eax
                0x0f, 0x84, 0, 0, 0, 0, // je rel32
                0xe9, 0, 0, 0, 0, // jmp rel32
            ],
            (1, elf::R_386_32.0),
            (9, elf::R_386_PC32.0),
            (14, elf::R_386_PC32.0),
        ),
        _ => return None,
    };
    let mut code = [0xcc; 32];
    code[..head.len()].copy_from_slice(head);
    Some(TrampolineCode {
        code,
        size: head.len() as u64,
        probe,
        n_jump,
        v_jump,
        jump_addend: -4,
    })
}
