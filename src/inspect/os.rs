//! Which operating system an object was built for.
//!
//! FreeBSD toolchains stamp `EI_OSABI` with `ELFOSABI_FREEBSD` (9) in every
//! object they write: clang-19 does so for each `*-unknown-freebsd14.0`
//! target (amd64, i386, aarch64, armv7, powerpc64 and riscv64 alike, in
//! `.o` files), and ld.lld-19 copies the value of its first input into the
//! output (`-r` and `-shared`), as do binutils' `*-freebsd` targets.  Neither
//! clang nor lld adds a note to a kernel module: no `.note.tag`, and the
//! `.note.GNU-stack` section clang writes for every ELF target is empty and
//! of type `SHT_PROGBITS`.  FreeBSD executables and libraries also carry a
//! `NT_FREEBSD_ABI_TAG` note (name `FreeBSD`, from crtbrand), which is
//! accepted as the same sign.
//!
//! An object for Linux built by gcc or clang has `EI_OSABI` 0
//! (`ELFOSABI_NONE`, "System V"), or 3 (`ELFOSABI_GNU`) when it uses GNU
//! extensions such as IFUNC, and no FreeBSD note.  `ELFOSABI_NONE` is what
//! every non-FreeBSD toolchain writes, so it is not taken as FreeBSD: such
//! an object is reported as built for another system, named from a GNU ABI
//! tag note when there is one.
//!
//! One exception: FreeBSD's own kmod.mk links aarch64 and riscv64 modules
//! with the linker emulations `aarch64elf` and `elf64lriscv`, which write
//! `EI_OSABI` 0.  An `ELFOSABI_NONE` object with no other system's note that
//! holds `set_modmetadata_set`, the linker set of FreeBSD's module metadata
//! (`DECLARE_MODULE`, `MODULE_VERSION`, `MODULE_DEPEND`), is taken as a
//! FreeBSD kernel module.

use object::elf;
use object::read::elf::{FileHeader, SectionHeader, SectionTable};
use object::{Endian as _, Endianness};

use super::InspectError;

/// The name of FreeBSD's notes (`NT_FREEBSD_ABI_TAG` and the others).
const FREEBSD_NOTE: &[u8] = b"FreeBSD";

/// The linker set of FreeBSD's module metadata.
const MODULE_METADATA_SET: &str = "set_modmetadata_set";

/// What the notes of an object say about its system.
#[derive(Debug, Default)]
pub(super) struct NoteSigns {
    /// A note named `FreeBSD` is present.
    pub freebsd: bool,
    /// Another system named by a note (GNU ABI tag, NetBSD, OpenBSD).
    pub other: Option<String>,
    /// A `set_modmetadata_set` section: FreeBSD's module metadata.
    pub module_metadata: bool,
}

/// Reads every `SHT_NOTE` section.
pub(super) fn note_signs<'data, Elf: FileHeader<Endian = Endianness>>(
    object: &str,
    sections: &SectionTable<'data, Elf, &'data [u8]>,
    names: &[String],
    endian: Endianness,
    data: &'data [u8],
) -> Result<NoteSigns, InspectError> {
    let mut signs = NoteSigns {
        module_metadata: names.iter().any(|n| n == MODULE_METADATA_SET),
        ..NoteSigns::default()
    };
    for (index, section) in sections.enumerate() {
        let fail = |what: String| InspectError::Section {
            object: object.to_string(),
            section: names
                .get(index.0)
                .cloned()
                .unwrap_or_else(|| format!("#{}", index.0)),
            what,
        };
        let notes = match section.notes(endian, data) {
            Ok(Some(notes)) => notes,
            Ok(None) => continue,
            Err(e) => return Err(fail(e.to_string())),
        };
        for note in notes {
            let note = note.map_err(|e| fail(e.to_string()))?;
            let name = note.name();
            if name == FREEBSD_NOTE {
                signs.freebsd = true;
            } else if name == elf::ELF_NOTE_GNU && note.n_type(endian) == elf::NT_GNU_ABI_TAG {
                let os = note
                    .desc()
                    .get(..4)
                    .and_then(|w| <[u8; 4]>::try_from(w).ok())
                    .map(|w| {
                        if endian.is_big_endian() {
                            u32::from_be_bytes(w)
                        } else {
                            u32::from_le_bytes(w)
                        }
                    });
                let os = match os {
                    Some(elf::ELF_NOTE_OS_LINUX) => "GNU/Linux",
                    Some(elf::ELF_NOTE_OS_GNU) => "GNU/Hurd",
                    Some(elf::ELF_NOTE_OS_SOLARIS2) => "Solaris",
                    Some(elf::ELF_NOTE_OS_FREEBSD) => "GNU/kFreeBSD",
                    _ => "a GNU system",
                };
                signs.other = Some(format!("{os} (GNU ABI tag note)"));
            } else if name == b"NetBSD" || name == b"OpenBSD" {
                signs.other = Some(format!("{} (ABI note)", String::from_utf8_lossy(name)));
            }
        }
    }
    Ok(signs)
}

/// Whether the object is FreeBSD's, and the name of the system it is for.
pub(super) fn verdict(os_abi: u8, signs: &NoteSigns) -> (bool, String) {
    let abi = elf::OsAbi(os_abi);
    if abi == elf::ELFOSABI_FREEBSD {
        return (true, "FreeBSD".to_string());
    }
    if signs.freebsd {
        return (true, "FreeBSD (ABI note)".to_string());
    }
    if abi == elf::ELFOSABI_NONE && signs.other.is_none() && signs.module_metadata {
        return (
            true,
            "FreeBSD (module metadata; EI_OSABI 0, as kmod.mk's aarch64 and riscv64 links leave it)"
                .to_string(),
        );
    }
    let named = match abi {
        elf::ELFOSABI_NONE => None,
        elf::ELFOSABI_GNU => Some("GNU/Linux"),
        elf::ELFOSABI_NETBSD => Some("NetBSD"),
        elf::ELFOSABI_OPENBSD => Some("OpenBSD"),
        elf::ELFOSABI_SOLARIS => Some("Solaris"),
        elf::ELFOSABI_HPUX => Some("HP-UX"),
        elf::ELFOSABI_AIX => Some("AIX"),
        elf::ELFOSABI_IRIX => Some("IRIX"),
        elf::ELFOSABI_HURD => Some("GNU/Hurd"),
        elf::ELFOSABI_ARM_AEABI => Some("the bare ARM EABI"),
        elf::ELFOSABI_STANDALONE => Some("a standalone (embedded) system"),
        _ => Some("another system"),
    };
    let os = match (named, &signs.other) {
        (Some(name), _) => format!("{name} (EI_OSABI {os_abi})"),
        (None, Some(note)) => note.clone(),
        (None, None) => "an unspecified system (EI_OSABI 0, ELFOSABI_NONE, and no FreeBSD note; \
             FreeBSD toolchains set ELFOSABI_FREEBSD)"
            .to_string(),
    };
    (false, os)
}
