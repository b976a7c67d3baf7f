//! The ELF identification and header: magic, class, byte order, file type
//! and machine, checked before anything else is read.

use object::elf::{self, FileType, Machine};

use super::{InspectError, ObjectKind};

// Positions in `e_ident` (the ELF specification's names).
const EI_CLASS: usize = 4;
const EI_DATA: usize = 5;
const EI_VERSION: usize = 6;
const EI_OSABI: usize = 7;
const EI_NIDENT: usize = 16;

/// What `e_ident` says, checked.
#[derive(Debug, Clone, Copy)]
pub(super) struct Ident {
    pub is_64: bool,
    pub big_endian: bool,
    pub os_abi: u8,
}

/// Reads `e_ident` and checks that the whole ELF header is present.
pub(super) fn ident(object: &str, data: &[u8]) -> Result<Ident, InspectError> {
    let truncated = |what: String| InspectError::Truncated {
        object: object.to_string(),
        what,
    };
    if data.is_empty() {
        return Err(InspectError::NotElf {
            object: object.to_string(),
            detail: "empty file".to_string(),
        });
    }
    let magic = data.get(..elf::ELFMAG.len()).unwrap_or(data);
    if !elf::ELFMAG.starts_with(magic) {
        return Err(InspectError::NotElf {
            object: object.to_string(),
            detail: format!("starts with {}", hex_prefix(data)),
        });
    }
    let Some(ident) = data.get(..EI_NIDENT) else {
        return Err(truncated(format!(
            "file is {} bytes, the ELF identification alone needs {EI_NIDENT}",
            data.len(),
        )));
    };
    let byte = |i: usize| ident.get(i).copied().unwrap_or(0);
    let header = |what: String| InspectError::Header {
        object: object.to_string(),
        what,
    };
    let is_64 = match elf::FileClass(byte(EI_CLASS)) {
        elf::ELFCLASS32 => false,
        elf::ELFCLASS64 => true,
        other => {
            return Err(header(format!(
                "EI_CLASS is {other}, neither ELFCLASS32 nor ELFCLASS64"
            )))
        }
    };
    let big_endian = match elf::DataEncoding(byte(EI_DATA)) {
        elf::ELFDATA2LSB => false,
        elf::ELFDATA2MSB => true,
        other => {
            return Err(header(format!(
                "EI_DATA is {other}, neither ELFDATA2LSB nor ELFDATA2MSB"
            )))
        }
    };
    if elf::FileVersion(byte(EI_VERSION)) != elf::EV_CURRENT {
        return Err(header(format!(
            "EI_VERSION is {}, not EV_CURRENT",
            byte(EI_VERSION)
        )));
    }
    let needed = if is_64 {
        std::mem::size_of::<elf::FileHeader64<object::Endianness>>()
    } else {
        std::mem::size_of::<elf::FileHeader32<object::Endianness>>()
    };
    if data.len() < needed {
        return Err(truncated(format!(
            "file is {} bytes, an ELFCLASS{} header needs {needed}",
            data.len(),
            if is_64 { 64 } else { 32 }
        )));
    }
    Ok(Ident {
        is_64,
        big_endian,
        os_abi: byte(EI_OSABI),
    })
}

fn hex_prefix(data: &[u8]) -> String {
    let shown: Vec<String> = data.iter().take(4).map(|b| format!("{b:02x}")).collect();
    shown.join(" ")
}

pub(super) fn kind(e_type: FileType) -> ObjectKind {
    match e_type {
        elf::ET_REL => ObjectKind::Relocatable,
        elf::ET_DYN => ObjectKind::Shared,
        elf::ET_EXEC => ObjectKind::Executable,
        _ => ObjectKind::Other,
    }
}

/// The FreeBSD architecture of a machine, class and byte order, or a
/// description of what is not supported.
pub(super) fn arch(machine: Machine, ident: Ident) -> Result<&'static str, String> {
    let arch = match (machine, ident.is_64, ident.big_endian) {
        (elf::EM_X86_64, true, false) => "amd64",
        (elf::EM_386, false, false) => "i386",
        (elf::EM_AARCH64, true, false) => "aarch64",
        (elf::EM_ARM, false, false) => "armv7",
        (elf::EM_PPC64, true, true) => "powerpc64",
        (elf::EM_RISCV, true, false) => "riscv64",
        _ => {
            return Err(format!(
                "{} (ELFCLASS{}, {}-endian)",
                machine_name(machine),
                if ident.is_64 { 64 } else { 32 },
                if ident.big_endian { "big" } else { "little" }
            ))
        }
    };
    Ok(arch)
}

/// `EM_X86_64 (x86-64)`, or `e_machine 1234`.
pub(super) fn machine_name(machine: Machine) -> String {
    let name = match machine {
        elf::EM_X86_64 => "EM_X86_64 (x86-64)",
        elf::EM_386 => "EM_386 (i386)",
        elf::EM_AARCH64 => "EM_AARCH64 (AArch64)",
        elf::EM_ARM => "EM_ARM (ARM)",
        elf::EM_PPC64 => "EM_PPC64 (PowerPC64)",
        elf::EM_PPC => "EM_PPC (PowerPC)",
        elf::EM_RISCV => "EM_RISCV (RISC-V)",
        elf::EM_MIPS => "EM_MIPS (MIPS)",
        elf::EM_SPARCV9 => "EM_SPARCV9 (SPARC V9)",
        elf::EM_S390 => "EM_S390 (S/390)",
        elf::EM_LOONGARCH => "EM_LOONGARCH (LoongArch)",
        elf::EM_NONE => "EM_NONE",
        other => return format!("e_machine {}", other.0),
    };
    name.to_string()
}
