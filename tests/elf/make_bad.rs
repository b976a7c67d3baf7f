//! Derives the hostile objects of `tests/elf/bad/` from the small real ones
//! of `tests/elf/good/` (built by `tests/elf/build-good`), one defect each.
//! Deterministic: `cargo test --test bad_elf -- --ignored regenerate_bad_elf_corpus`
//! rewrites the directory, and `the_committed_corpus_is_what_the_generator_makes`
//! checks that it did not drift.
//!
//! Every field edit goes through [`Elf`], which knows the ELF32 and ELF64
//! little-endian layouts of the header, section headers, symbols and
//! relocations (the good objects are all little-endian).

use std::path::Path;

/// An object being edited.
pub struct Elf {
    pub data: Vec<u8>,
    is_64: bool,
}

/// A field of a section header.
#[derive(Clone, Copy)]
pub enum Sh {
    Name,
    Type,
    Offset,
    Size,
    Link,
    Info,
    Entsize,
}

impl Sh {
    /// (offset, width) in ELF64, then ELF32.
    fn place(self, is_64: bool) -> (usize, usize) {
        match (self, is_64) {
            (Sh::Name, _) => (0, 4),
            (Sh::Type, _) => (4, 4),
            (Sh::Offset, true) => (24, 8),
            (Sh::Size, true) => (32, 8),
            (Sh::Link, true) => (40, 4),
            (Sh::Info, true) => (44, 4),
            (Sh::Entsize, true) => (56, 8),
            (Sh::Offset, false) => (16, 4),
            (Sh::Size, false) => (20, 4),
            (Sh::Link, false) => (24, 4),
            (Sh::Info, false) => (28, 4),
            (Sh::Entsize, false) => (36, 4),
        }
    }
}

/// A field of the ELF header.
#[derive(Clone, Copy)]
pub enum Eh {
    Machine,
    Ehsize,
    Shoff,
    Shentsize,
    Shnum,
    Shstrndx,
}

impl Eh {
    fn place(self, is_64: bool) -> (usize, usize) {
        match (self, is_64) {
            (Eh::Machine, _) => (18, 2),
            (Eh::Shoff, true) => (40, 8),
            (Eh::Ehsize, true) => (52, 2),
            (Eh::Shentsize, true) => (58, 2),
            (Eh::Shnum, true) => (60, 2),
            (Eh::Shstrndx, true) => (62, 2),
            (Eh::Shoff, false) => (32, 4),
            (Eh::Ehsize, false) => (40, 2),
            (Eh::Shentsize, false) => (46, 2),
            (Eh::Shnum, false) => (48, 2),
            (Eh::Shstrndx, false) => (50, 2),
        }
    }
}

impl Elf {
    pub fn new(data: &[u8]) -> Elf {
        assert_eq!(&data[..4], b"\x7fELF", "a good object");
        assert_eq!(data[5], 1, "little-endian");
        Elf {
            is_64: data[4] == 2,
            data: data.to_vec(),
        }
    }

    fn get(&self, at: usize, width: usize) -> u64 {
        let mut v = 0u64;
        for (i, b) in self.data[at..at + width].iter().enumerate() {
            v |= u64::from(*b) << (8 * i);
        }
        v
    }

    fn put(&mut self, at: usize, width: usize, value: u64) {
        for i in 0..width {
            self.data[at + i] = (value >> (8 * i)) as u8;
        }
    }

    pub fn eh(&self, field: Eh) -> u64 {
        let (at, w) = field.place(self.is_64);
        self.get(at, w)
    }

    pub fn set_eh(&mut self, field: Eh, value: u64) -> &mut Self {
        let (at, w) = field.place(self.is_64);
        self.put(at, w, value);
        self
    }

    fn sh_at(&self, index: usize) -> usize {
        self.eh(Eh::Shoff) as usize + index * self.eh(Eh::Shentsize) as usize
    }

    pub fn sh(&self, index: usize, field: Sh) -> u64 {
        let (at, w) = field.place(self.is_64);
        self.get(self.sh_at(index) + at, w)
    }

    pub fn set_sh(&mut self, index: usize, field: Sh, value: u64) -> &mut Self {
        let (at, w) = field.place(self.is_64);
        let base = self.sh_at(index);
        self.put(base + at, w, value);
        self
    }

    /// The index of the first section of this name.
    pub fn section(&self, name: &str) -> usize {
        let strndx = self.eh(Eh::Shstrndx) as usize;
        let strtab = self.sh(strndx, Sh::Offset) as usize;
        (0..self.eh(Eh::Shnum) as usize)
            .find(|&i| {
                let at = strtab + self.sh(i, Sh::Name) as usize;
                let end = at + self.data[at..].iter().position(|&b| b == 0).unwrap();
                &self.data[at..end] == name.as_bytes()
            })
            .unwrap_or_else(|| panic!("no section {name}"))
    }

    /// The index of the first section of this type.
    pub fn section_of_type(&self, sh_type: u32) -> usize {
        (0..self.eh(Eh::Shnum) as usize)
            .find(|&i| self.sh(i, Sh::Type) == u64::from(sh_type))
            .unwrap_or_else(|| panic!("no section of type {sh_type}"))
    }

    /// Sets a field of symbol `index` of the table in section `table`.
    pub fn set_sym(&mut self, table: usize, index: usize, field: Sym, value: u64) -> &mut Self {
        let base =
            self.sh(table, Sh::Offset) as usize + index * self.sh(table, Sh::Entsize) as usize;
        let (at, w) = match (field, self.is_64) {
            (Sym::Name, _) => (0, 4),
            (Sym::Shndx, true) => (6, 2),
            (Sym::Shndx, false) => (14, 2),
        };
        self.put(base + at, w, value);
        self
    }

    /// Edits relocation `index` of the section `table`: its offset, or its
    /// symbol index.
    pub fn set_rel(&mut self, table: usize, index: usize, field: Rel, value: u64) -> &mut Self {
        let base =
            self.sh(table, Sh::Offset) as usize + index * self.sh(table, Sh::Entsize) as usize;
        match (field, self.is_64) {
            (Rel::Offset, true) => self.put(base, 8, value),
            (Rel::Offset, false) => self.put(base, 4, value),
            (Rel::Symbol, true) => self.put(base + 12, 4, value),
            (Rel::Symbol, false) => {
                let info = self.get(base + 4, 4);
                self.put(base + 4, 4, (info & 0xff) | (value << 8));
            }
        }
        self
    }

    pub fn finish(&self) -> Vec<u8> {
        self.data.clone()
    }
}

#[derive(Clone, Copy)]
pub enum Sym {
    Name,
    Shndx,
}

#[derive(Clone, Copy)]
pub enum Rel {
    Offset,
    Symbol,
}

const SHT_PROGBITS: u32 = 1;
const SHT_SYMTAB: u32 = 2;
const SHT_RELA: u32 = 4;
const SHT_NOTE: u32 = 7;
const SHT_REL: u32 = 9;
const SHT_DYNSYM: u32 = 11;

fn edit(good: &[u8], f: impl FnOnce(&mut Elf)) -> Vec<u8> {
    let mut elf = Elf::new(good);
    f(&mut elf);
    elf.finish()
}

fn with_byte(good: &[u8], at: usize, value: u8) -> Vec<u8> {
    let mut data = good.to_vec();
    data[at] = value;
    data
}

/// Every case: its file name and its bytes.  The good objects are read from
/// `good_dir`.
pub fn cases(good_dir: &Path) -> Vec<(String, Vec<u8>)> {
    let read =
        |name: &str| std::fs::read(good_dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    let o = read("amd64.o");
    let ko = read("amd64.ko");
    let arm = read("aarch64.ko");
    let x86 = read("i386.ko");
    let linux = read("linux-amd64.o");
    let len = o.len() as u64;

    let mut cases: Vec<(&str, Vec<u8>)> = vec![
        // Not an object at all.
        (
            "not-elf-text.o",
            b"this is a text file, not a kernel module\n".to_vec(),
        ),
        (
            "not-elf-archive.a",
            b"!<arch>\n/               0           0     0     0       4         `\n".to_vec(),
        ),
        ("empty.o", Vec::new()),
        ("magic-only.o", b"\x7fELF".to_vec()),
        // Truncated at various points.
        ("truncated-ident.o", o[..10].to_vec()),
        ("truncated-header.o", o[..40].to_vec()),
        ("truncated-after-header.o", o[..64].to_vec()),
        ("truncated-half.o", o[..o.len() / 2].to_vec()),
        ("truncated-last-byte.o", o[..o.len() - 1].to_vec()),
        ("truncated-i386-third.ko", x86[..x86.len() / 3].to_vec()),
        // The identification.
        ("class-none.o", with_byte(&o, 4, 0)),
        ("class-32-on-64.o", with_byte(&o, 4, 1)),
        ("class-64-on-32.ko", with_byte(&x86, 4, 2)),
        ("data-invalid.o", with_byte(&o, 5, 3)),
        ("data-big-endian-byte.o", with_byte(&o, 5, 2)),
        ("version-0.o", with_byte(&o, 6, 0)),
        // The machine and the system.
        (
            "machine-mips.o",
            edit(&o, |e| {
                e.set_eh(Eh::Machine, 8);
            }),
        ),
        (
            "machine-none.ko",
            edit(&arm, |e| {
                e.set_eh(Eh::Machine, 0);
            }),
        ),
        ("other-os-linux-gcc.o", linux.clone()),
        ("other-os-netbsd-osabi.o", with_byte(&o, 7, 2)),
        // The header's sizes and the section header table.
        (
            "ehsize-wrong.o",
            edit(&o, |e| {
                e.set_eh(Eh::Ehsize, 52);
            }),
        ),
        (
            "shoff-zero.o",
            edit(&o, |e| {
                e.set_eh(Eh::Shoff, 0);
            }),
        ),
        (
            "shoff-past-end.o",
            edit(&o, |e| {
                e.set_eh(Eh::Shoff, len + 0x1000);
            }),
        ),
        (
            "shoff-huge.o",
            edit(&o, |e| {
                e.set_eh(Eh::Shoff, u64::MAX - 8);
            }),
        ),
        (
            "shentsize-wrong.o",
            edit(&o, |e| {
                e.set_eh(Eh::Shentsize, 40);
            }),
        ),
        (
            "shnum-huge.o",
            edit(&o, |e| {
                e.set_eh(Eh::Shnum, 0xfeff);
            }),
        ),
        (
            "shnum-extended-huge.o",
            edit(&o, |e| {
                // e_shnum 0: the count is section 0's sh_size.
                e.set_eh(Eh::Shnum, 0);
                e.set_sh(0, Sh::Size, 0x0fff_ffff_ffff);
            }),
        ),
        (
            "shstrndx-out-of-range.o",
            edit(&o, |e| {
                let n = e.eh(Eh::Shnum);
                e.set_eh(Eh::Shstrndx, n + 3);
            }),
        ),
        (
            "shstrndx-not-strtab.o",
            edit(&o, |e| {
                let text = e.section(".text");
                e.set_eh(Eh::Shstrndx, text as u64);
            }),
        ),
        // One section's place in the file.
        (
            "section-size-past-end.o",
            edit(&o, |e| {
                let text = e.section(".text");
                e.set_sh(text, Sh::Size, 0x7fff_ffff);
            }),
        ),
        (
            "section-offset-past-end.o",
            edit(&o, |e| {
                let text = e.section(".text");
                e.set_sh(text, Sh::Offset, len + 16);
            }),
        ),
        (
            "section-size-overflows.o",
            edit(&o, |e| {
                let text = e.section(".text");
                e.set_sh(text, Sh::Size, u64::MAX);
            }),
        ),
        (
            "sections-overlap.o",
            edit(&o, |e| {
                // .text moved onto the symbol table.
                let text = e.section(".text");
                let symtab = e.section_of_type(SHT_SYMTAB);
                let at = e.sh(symtab, Sh::Offset);
                e.set_sh(text, Sh::Offset, at);
            }),
        ),
        // Names.
        (
            "section-name-out-of-range.o",
            edit(&o, |e| {
                let text = e.section(".text");
                e.set_sh(text, Sh::Name, 0x00ff_ffff);
            }),
        ),
        (
            "section-names-without-nul.ko",
            edit(&ko, |e| {
                // The last name loses its terminating NUL.
                let strndx = e.eh(Eh::Shstrndx) as usize;
                let size = e.sh(strndx, Sh::Size);
                e.set_sh(strndx, Sh::Size, size - 1);
            }),
        ),
        (
            "symbol-names-without-nul.ko",
            edit(&ko, |e| {
                let symtab = e.section_of_type(SHT_SYMTAB);
                let strtab = e.sh(symtab, Sh::Link) as usize;
                let size = e.sh(strtab, Sh::Size);
                e.set_sh(strtab, Sh::Size, size - 1);
            }),
        ),
        (
            "symbol-name-out-of-range.o",
            edit(&o, |e| {
                let symtab = e.section_of_type(SHT_SYMTAB);
                e.set_sym(symtab, 1, Sym::Name, 0x00ff_ffff);
            }),
        ),
        (
            "symbol-section-out-of-range.o",
            edit(&o, |e| {
                let symtab = e.section_of_type(SHT_SYMTAB);
                let last = e.sh(symtab, Sh::Size) / e.sh(symtab, Sh::Entsize) - 1;
                e.set_sym(symtab, last as usize, Sym::Shndx, 0xfe00);
            }),
        ),
        // Symbol tables.
        (
            "symtab-entsize-zero.o",
            edit(&o, |e| {
                let symtab = e.section_of_type(SHT_SYMTAB);
                e.set_sh(symtab, Sh::Entsize, 0);
            }),
        ),
        (
            "symtab-size-misaligned.o",
            edit(&o, |e| {
                let symtab = e.section_of_type(SHT_SYMTAB);
                let size = e.sh(symtab, Sh::Size);
                e.set_sh(symtab, Sh::Size, size - 5);
            }),
        ),
        (
            "symtab-strtab-index-out-of-range.o",
            edit(&o, |e| {
                let symtab = e.section_of_type(SHT_SYMTAB);
                e.set_sh(symtab, Sh::Link, 0x4000);
            }),
        ),
        (
            "symtab-strtab-not-strtab.o",
            edit(&o, |e| {
                let symtab = e.section_of_type(SHT_SYMTAB);
                let text = e.section(".text");
                e.set_sh(symtab, Sh::Link, text as u64);
            }),
        ),
        (
            "dynsym-strtab-index-out-of-range.ko",
            edit(&arm, |e| {
                let dynsym = e.section_of_type(SHT_DYNSYM);
                e.set_sh(dynsym, Sh::Link, 0x4000);
            }),
        ),
        // Relocations.
        (
            "rela-symbol-index-out-of-range.o",
            edit(&o, |e| {
                let rela = e.section(".rela.text");
                e.set_rel(rela, 0, Rel::Symbol, 0x00ff_ffff);
            }),
        ),
        (
            "rela-offset-outside-section.o",
            edit(&o, |e| {
                let rela = e.section(".rela.text");
                e.set_rel(rela, 0, Rel::Offset, 0x0010_0000);
            }),
        ),
        (
            "rela-offset-huge.ko",
            edit(&ko, |e| {
                let rela = e.section_of_type(SHT_RELA);
                e.set_rel(rela, 0, Rel::Offset, u64::MAX - 2);
            }),
        ),
        (
            "rela-size-misaligned.o",
            edit(&o, |e| {
                let rela = e.section(".rela.text");
                let size = e.sh(rela, Sh::Size);
                e.set_sh(rela, Sh::Size, size - 7);
            }),
        ),
        (
            "rela-entsize-zero.o",
            edit(&o, |e| {
                let rela = e.section(".rela.text");
                e.set_sh(rela, Sh::Entsize, 0);
            }),
        ),
        (
            "rela-applies-to-missing-section.o",
            edit(&o, |e| {
                let rela = e.section(".rela.text");
                e.set_sh(rela, Sh::Info, 0x999);
            }),
        ),
        (
            "rela-symtab-link-bad.o",
            edit(&o, |e| {
                let rela = e.section(".rela.text");
                let text = e.section(".text");
                e.set_sh(rela, Sh::Link, text as u64);
            }),
        ),
        (
            "rela-dyn-symbol-index-out-of-range.ko",
            edit(&arm, |e| {
                let rela = e.section(".rela.dyn");
                e.set_rel(rela, 0, Rel::Symbol, 0x00ff_ffff);
            }),
        ),
        (
            "rel-size-misaligned-i386.ko",
            edit(&x86, |e| {
                let rel = e.section_of_type(SHT_REL);
                let size = e.sh(rel, Sh::Size);
                e.set_sh(rel, Sh::Size, size - 3);
            }),
        ),
        (
            "rel-symbol-index-out-of-range-i386.ko",
            edit(&x86, |e| {
                let rel = e.section_of_type(SHT_REL);
                e.set_rel(rel, 0, Rel::Symbol, 0x00ff_ffff);
            }),
        ),
        // A note that is not one.
        (
            "note-garbage.o",
            edit(&o, |e| {
                let comment = e.section(".comment");
                assert_eq!(e.sh(comment, Sh::Type), u64::from(SHT_PROGBITS));
                e.set_sh(comment, Sh::Type, u64::from(SHT_NOTE));
            }),
        ),
    ];
    cases.sort_by(|a, b| a.0.cmp(b.0));
    cases
        .into_iter()
        .map(|(name, bytes)| (name.to_string(), bytes))
        .collect()
}
