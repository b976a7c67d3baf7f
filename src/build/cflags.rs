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
    for dir in include_dirs(sysroot, target.arch) {
        args.push(format!("-I{}", dir.display()));
    }
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

/// Whether `dir` is a FreeBSD `sys` directory rather than an include root
/// such as the stub sysroot.
pub fn is_freebsd_sys(dir: &Path) -> bool {
    dir.join("conf/kmod.mk").is_file() && dir.join("sys/param.h").is_file()
}

/// The include directories a sysroot stands for.  The stub sysroot is one
/// include root.  A FreeBSD `sys` directory is searched as kmod.mk does:
/// a directory whose `machine` (and, on x86, `x86` and `i386`) link to the
/// architecture's headers, as kmod.mk makes them in the object directory,
/// then `sys` itself and `sys/contrib/ck/include`.
pub fn include_dirs(sysroot: &Path, arch: &Arch) -> Vec<PathBuf> {
    if !is_freebsd_sys(sysroot) {
        return vec![sysroot.to_path_buf()];
    }
    let mut dirs = Vec::new();
    // Made once per tree and architecture; if it cannot be made, clang
    // names the <machine/...> header it does not find.
    if let Some(links) = machine_links(sysroot, arch) {
        dirs.push(links);
    }
    dirs.push(sysroot.to_path_buf());
    dirs.push(sysroot.join("contrib/ck/include"));
    dirs
}

/// The links kmod.mk makes for `arch` in a `sys` tree: a directory under
/// the temporary directory named by a hash of the tree's path, written
/// whole under another name and renamed into place.
fn machine_links(sys: &Path, arch: &Arch) -> Option<PathBuf> {
    let mut links = vec![("machine", sys.join(&arch.machine).join("include"))];
    if arch.machine == "amd64" || arch.machine == "i386" {
        links.push(("x86", sys.join("x86/include")));
        links.push(("i386", sys.join("i386/include")));
    }
    let key = crate::gen::stamp::hex_sha256(sys.as_os_str().as_encoded_bytes());
    let root = std::env::temp_dir().join("vnetgen-machine-links");
    let dir = root.join(format!("{}-{}", &key[..16], arch.name));
    if dir.is_dir() {
        return Some(dir);
    }
    let tmp = tempfile::Builder::new()
        .prefix(".links-")
        .tempdir_in({
            std::fs::create_dir_all(&root).ok()?;
            &root
        })
        .ok()?;
    for (name, target) in &links {
        std::os::unix::fs::symlink(target, tmp.path().join(name)).ok()?;
    }
    let tmp = tmp.keep();
    if std::fs::rename(&tmp, &dir).is_err() {
        // Another process made it first: theirs is the same.
        let _ = std::fs::remove_dir_all(&tmp);
    }
    dir.is_dir().then_some(dir)
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
