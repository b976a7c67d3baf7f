//! The clang arguments that compile a kmod source for one variant, kernel
//! and architecture: target, kernel flags, include order and defines.

use std::path::{Path, PathBuf};

use crate::spec::variant::{KernelConfig, Variant};
use crate::spec::{Arch, Release, Spec};

/// The stub sysroot of this project: `$VNETGEN_SYSROOT`, or the one in the
/// source tree vnetgen was built from.
pub fn stub_sysroot() -> PathBuf {
    match std::env::var_os("VNETGEN_SYSROOT") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("sysroot/include"),
    }
}

/// What to compile for.
#[derive(Debug, Clone)]
pub struct Target<'a> {
    pub variant: Variant,
    pub kernel: KernelConfig,
    pub arch: &'a Arch,
    /// The FreeBSD release to build for: its `__FreeBSD_version`, which the
    /// stub sysroot's structure layouts follow, and its `-fPIC` choice.
    /// `None`: the sysroot's default release and the architecture's flags.
    pub release: Option<&'a Release>,
}

/// The arguments, in order: target and arch flags, common flags, optional
/// warnings, generated headers ahead of the sysroot, then the defines.
pub fn cflags(
    spec: &Spec,
    target: &Target<'_>,
    generated: &Path,
    sysroot: &Path,
    warnings: bool,
) -> Vec<String> {
    let mut args = vec![format!("--target={}", target.arch.triple)];
    match target.release.and_then(|r| r.pic_modules.as_ref()) {
        Some(pic) => {
            args.extend(target.arch.cflags.iter().filter(|f| *f != "-fPIC").cloned());
            if pic.contains(&target.arch.name) {
                args.push("-fPIC".to_string());
            }
        }
        None => args.extend(target.arch.cflags.iter().cloned()),
    }
    args.extend(spec.cflags_common.iter().cloned());
    if warnings {
        args.extend(spec.cflags_warnings.iter().cloned());
    }
    // Generated headers live under sys/, the kernel's include root.
    args.push(format!("-I{}", generated.join("sys").display()));
    args.push(format!("-I{}", sysroot.display()));
    args.extend(
        target
            .variant
            .defines(target.kernel)
            .into_iter()
            .map(|d| format!("-D{d}")),
    );
    if let Some(release) = target.release {
        args.push(format!("-D__FreeBSD_version={}", release.freebsd_version));
    }
    args
}

/// Quotes an argument for a POSIX shell when it needs it.
pub fn shell_quote(arg: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "-_=+/.,:@%".contains(c);
    if !arg.is_empty() && arg.chars().all(safe) {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', "'\\''"))
    }
}
