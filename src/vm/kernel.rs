//! Telling what a kernel is before booting it: a FreeBSD kernel ELF for
//! amd64 or i386, its release (its `osreldate`), whether it has VIMAGE and
//! whether it carries `vnet_support.c` (the flag of the `kernel` detection
//! mode).  Only the ELF header, the section headers, the symbol table and
//! the bytes of one variable are read.

use std::path::{Path, PathBuf};

use object::{Object, ObjectSection, ObjectSymbol};
use sha2::{Digest, Sha256};

use crate::spec::variant::KernelConfig;
use crate::spec::Spec;

/// Why a file cannot be booted as a FreeBSD kernel.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}: {reason}", path.display())]
pub struct NotAKernel {
    pub path: PathBuf,
    pub reason: String,
}

/// A kernel to boot.
#[derive(Debug, Clone)]
pub struct KernelInfo {
    /// The kernel ELF.
    pub path: PathBuf,
    /// How reports name it: `13.2/amd64/VIMAGE` for `.../13.2/amd64/VIMAGE/kernel`.
    pub label: String,
    /// `amd64` or `i386`.
    pub arch: &'static str,
    pub config: KernelConfig,
    /// Its `osreldate` (`__FreeBSD_version`), where the symbol table has it.
    pub osreldate: Option<u32>,
    /// It exports the `kernel` detection mode's flag (`vnet_support.c`).
    pub has_flag: bool,
    /// SHA-256 of the file, for the boot image cache.
    pub sha256: String,
}

/// The kernel ELF a `--kernel` argument names: the file, or `kernel` in a
/// directory.
pub fn kernel_file(arg: &Path) -> PathBuf {
    if arg.is_dir() {
        arg.join("kernel")
    } else {
        arg.to_path_buf()
    }
}

fn label_of(path: &Path) -> String {
    let is_kernel = path.file_name().is_some_and(|n| n == "kernel");
    let parts: Vec<String> = path
        .parent()
        .filter(|_| is_kernel)
        .map(|dir| {
            dir.components()
                .rev()
                .take(3)
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect()
        })
        .unwrap_or_default();
    if parts.is_empty() {
        path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    } else {
        parts.join("/")
    }
}

/// Reads a kernel: `arg` is its ELF or a directory holding `kernel`.
pub fn identify(spec: &Spec, arg: &Path) -> Result<KernelInfo, NotAKernel> {
    let path = kernel_file(arg);
    let fail = |reason: String| NotAKernel {
        path: path.clone(),
        reason,
    };
    let data = std::fs::read(&path).map_err(|e| fail(format!("cannot read it: {e}")))?;
    let file = object::File::parse(&*data)
        .map_err(|e| fail(format!("not an ELF file a kernel could be ({e})")))?;
    if file.format() != object::BinaryFormat::Elf {
        return Err(fail("not an ELF file".into()));
    }
    let arch = match file.architecture() {
        object::Architecture::X86_64 => "amd64",
        object::Architecture::I386 => "i386",
        other => {
            return Err(fail(format!(
                "an ELF for {other:?}; vnetgen vm boots amd64 and i386 kernels"
            )))
        }
    };
    if file.kind() != object::ObjectKind::Executable {
        return Err(fail(format!(
            "an ELF of kind {:?}, not an executable: a kernel is linked as one",
            file.kind()
        )));
    }
    let mut symbols: Vec<object::Symbol<'_, '_>> = file.symbols().collect();
    if symbols.is_empty() {
        symbols = file.dynamic_symbols().collect();
    }
    let find = |name: &str| symbols.iter().find(|s| s.name() == Ok(name));
    let Some(osreldate_sym) = find("osreldate") else {
        return Err(fail(
            "no `osreldate` symbol: not a FreeBSD kernel (or one without a symbol table)".into(),
        ));
    };
    let osreldate = read_u32(&file, osreldate_sym.address());
    let vimage = find("vnet0").is_some() || file.section_by_name("set_vnet").is_some();
    let has_flag = find(&spec.flag).is_some();
    Ok(KernelInfo {
        label: label_of(&path),
        path,
        arch,
        config: if vimage {
            KernelConfig::Vimage
        } else {
            KernelConfig::Novimage
        },
        osreldate,
        has_flag,
        sha256: hex(&Sha256::digest(&data)),
    })
}

/// Bytes as lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The 4 bytes at virtual address `addr`, from the section holding them.
fn read_u32(file: &object::File<'_>, addr: u64) -> Option<u32> {
    file.sections().find_map(|s| {
        let start = s.address();
        if addr < start || addr + 4 > start + s.size() {
            return None;
        }
        let data = s.data().ok()?;
        let at = usize::try_from(addr - start).ok()?;
        let bytes: [u8; 4] = data.get(at..at + 4)?.try_into().ok()?;
        Some(match file.endianness() {
            object::Endianness::Little => u32::from_le_bytes(bytes),
            object::Endianness::Big => u32::from_be_bytes(bytes),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_name_the_release_arch_and_config_directories() {
        assert_eq!(
            label_of(Path::new("/k/13.2/amd64/VIMAGE/kernel")),
            "13.2/amd64/VIMAGE"
        );
        assert_eq!(label_of(Path::new("/k/my-kernel.elf")), "my-kernel.elf");
    }
}
