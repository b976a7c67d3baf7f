//! A private copy of GRUB's `i386-pc` platform directory, with the two
//! fixes its FreeBSD loader needs to start 64-bit kernels (Debian's GRUB
//! 2.06, `../shared/freebsd/VM.md`):
//!
//! * `relocator.mod`: `grub_relocator64_start` ends in `jmp *disp(%rip)`
//!   (`ff 25`, a 32-bit displacement, 4 bytes of padding) before the 8-byte
//!   target at `grub_relocator64_rip`; Debian's displacement is 0, so the
//!   jump reads the padding and half the target.  It must be 4.  The bytes
//!   are found from the `.text` section and that symbol, never from a fixed
//!   offset.
//! * `bsd.mod`: the preload tag `"elf64 kernel"` becomes `"elf kernel"`,
//!   the only one 15.1's `hammer_time` accepts (13.2 takes both).
//!
//! The patched copy is built beside its final place and renamed into it.

use std::path::{Path, PathBuf};

use object::{Object, ObjectSection, ObjectSymbol};

use super::cache::{self, CacheKey};
use super::VmError;

/// Where Debian's grub-pc-bin installs the platform directory.
pub const DEFAULT_GRUB_DIR: &str = "/usr/lib/grub/i386-pc";
/// Bumped when the patches change, so that old copies are not reused.
const PATCH_VERSION: &str = "vnetgen-grub-2";

fn bad(what: &Path, reason: impl Into<String>) -> VmError {
    VmError::Grub {
        path: what.to_path_buf(),
        reason: reason.into(),
    }
}

/// The patched platform directory under `cache`, made when missing.
pub fn patched_dir(source: &Path, cache: &Path) -> Result<PathBuf, VmError> {
    if !source.join("relocator.mod").is_file() || !source.join("bsd.mod").is_file() {
        return Err(VmError::MissingTool {
            tool: format!("GRUB's i386-pc modules ({})", source.display()),
            hint: super::INSTALL_HINT.to_string(),
        });
    }
    let mut key = CacheKey::new(PATCH_VERSION);
    key.tree(source)?;
    let dest = cache.join(format!("grub-{}", key.short()));
    if dest.join(".vnetgen-patched").is_file() {
        return Ok(dest);
    }
    let staging = cache::staging_dir(cache, "grub")?;
    copy_dir(source, staging.path())?;
    patch_relocator(&staging.path().join("relocator.mod"))?;
    patch_bsd(&staging.path().join("bsd.mod"))?;
    cache::write_file(
        &staging.path().join(".vnetgen-patched"),
        PATCH_VERSION.as_bytes(),
    )?;
    cache::publish_dir(staging, &dest)?;
    Ok(dest)
}

fn copy_dir(from: &Path, to: &Path) -> Result<(), VmError> {
    for entry in std::fs::read_dir(from).map_err(VmError::io(from))? {
        let entry = entry.map_err(VmError::io(from))?;
        let path = entry.path();
        let dest = to.join(entry.file_name());
        if path.is_dir() {
            std::fs::create_dir_all(&dest).map_err(VmError::io(&dest))?;
            copy_dir(&path, &dest)?;
        } else {
            std::fs::copy(&path, &dest).map_err(VmError::io(&dest))?;
        }
    }
    Ok(())
}

/// The file offset of the `jmp *disp(%rip)` before `grub_relocator64_rip`.
pub fn relocator_jump(path: &Path, data: &[u8]) -> Result<usize, VmError> {
    let file = object::File::parse(data).map_err(|e| bad(path, format!("not an ELF: {e}")))?;
    let text = file
        .section_by_name(".text")
        .ok_or_else(|| bad(path, "no .text section"))?;
    let (text_offset, _) = text
        .file_range()
        .ok_or_else(|| bad(path, ".text has no bytes in the file"))?;
    let rip = file
        .symbols()
        .find(|s| s.name() == Ok("grub_relocator64_rip"))
        .ok_or_else(|| bad(path, "no symbol grub_relocator64_rip"))?;
    if rip.section_index() != Some(text.index()) {
        return Err(bad(path, "grub_relocator64_rip is not in .text"));
    }
    // ff 25 <disp32> <pad32> <target64>: the target is 10 bytes after the jump.
    let target = text_offset + rip.address();
    let jump = usize::try_from(target)
        .ok()
        .and_then(|t| t.checked_sub(10))
        .ok_or_else(|| {
            bad(
                path,
                "grub_relocator64_rip is too close to the start of .text",
            )
        })?;
    match data.get(jump..jump + 2) {
        Some([0xff, 0x25]) => Ok(jump),
        Some(b) => Err(bad(
            path,
            format!("expected `ff 25` (jmp *disp(%rip)) at file offset {jump}, found {b:02x?}"),
        )),
        None => Err(bad(
            path,
            "grub_relocator64_rip lies past the end of the file",
        )),
    }
}

/// Sets the relocator's jump displacement to 4 (idempotent).
pub fn patch_relocator(path: &Path) -> Result<(), VmError> {
    let mut data = std::fs::read(path).map_err(VmError::io(path))?;
    let jump = relocator_jump(path, &data)?;
    let disp = jump + 2;
    match data.get(disp..disp + 4) {
        Some([0, 0, 0, 0]) => {
            data[disp] = 4;
            cache::write_file(path, &data)
        }
        Some([4, 0, 0, 0]) => Ok(()),
        other => Err(bad(
            path,
            format!("unexpected displacement {other:02x?} at file offset {disp}"),
        )),
    }
}

/// Replaces every NUL-terminated `"elf64 kernel"` in the module's data
/// sections by `"elf kernel"` (idempotent).
pub fn patch_bsd(path: &Path) -> Result<(), VmError> {
    const FROM: &[u8] = b"elf64 kernel\0";
    const TO: &[u8] = b"elf kernel\0\0\0";
    let mut data = std::fs::read(path).map_err(VmError::io(path))?;
    let ranges: Vec<(usize, usize)> = {
        let file =
            object::File::parse(&*data).map_err(|e| bad(path, format!("not an ELF: {e}")))?;
        file.sections()
            .filter(|s| s.kind() != object::SectionKind::Text)
            .filter_map(|s| s.file_range())
            .filter_map(|(o, n)| Some((usize::try_from(o).ok()?, usize::try_from(n).ok()?)))
            .collect()
    };
    let mut found = 0;
    for (start, size) in ranges {
        let end = start.saturating_add(size).min(data.len());
        let mut at = start;
        while at + FROM.len() <= end {
            if &data[at..at + FROM.len()] == FROM {
                data[at..at + TO.len()].copy_from_slice(TO);
                found += 1;
                at += FROM.len();
            } else {
                at += 1;
            }
        }
    }
    if found > 0 {
        return cache::write_file(path, &data);
    }
    if data.windows(11).any(|w| w == b"elf kernel\0") {
        return Ok(());
    }
    Err(bad(path, "no \"elf64 kernel\" preload tag to change"))
}
