//! The clang arguments that compile a kmod source for one variant, kernel
//! and architecture: target, kernel flags, include order and defines.

use std::path::{Path, PathBuf};

use crate::spec::variant::{KernelConfig, Variant};
use crate::spec::{Arch, Release, Spec};

include!(concat!(env!("OUT_DIR"), "/stub_sysroot_files.rs"));

/// The stub sysroot of this project: `$VNETGEN_SYSROOT`; or the one in the
/// source tree vnetgen was built from, while it is there and the same as
/// the copy built into vnetgen; or that copy, written out once under the
/// temporary directory (named by its hash, made whole under another name
/// and renamed into place).  If it cannot be written, the source tree's
/// path is returned and clang names the header it does not find.
pub fn stub_sysroot() -> PathBuf {
    if let Some(p) = std::env::var_os("VNETGEN_SYSROOT") {
        return PathBuf::from(p);
    }
    stub_sysroot_beside(&Path::new(env!("CARGO_MANIFEST_DIR")).join("sysroot/include"))
}

/// The stub sysroot, given where the source tree's copy would be.
fn stub_sysroot_beside(source: &Path) -> PathBuf {
    let same = STUB_SYSROOT_FILES
        .iter()
        .all(|(rel, text)| std::fs::read_to_string(source.join(rel)).is_ok_and(|t| t == *text));
    if same {
        return source.to_path_buf();
    }
    written_stub_sysroot().unwrap_or_else(|| source.to_path_buf())
}

fn written_stub_sysroot() -> Option<PathBuf> {
    let mut all = Vec::new();
    for (rel, text) in STUB_SYSROOT_FILES {
        all.extend_from_slice(rel.as_bytes());
        all.push(0);
        all.extend_from_slice(text.as_bytes());
        all.push(0);
    }
    let hash = crate::gen::stamp::hex_sha256(&all);
    published_dir("vnetgen-sysroot", &hash[..16], |tmp| {
        for (rel, text) in STUB_SYSROOT_FILES {
            let path = tmp.join(rel);
            std::fs::create_dir_all(path.parent()?).ok()?;
            std::fs::write(&path, text).ok()?;
        }
        Some(())
    })
}

/// What to compile for.
#[derive(Debug, Clone)]
pub struct Target<'a> {
    pub variant: Variant,
    pub kernel: KernelConfig,
    pub arch: &'a Arch,
    /// The FreeBSD release to build for: its `__FreeBSD_version`, which the
    /// stub sysroot's structure layouts follow, and its kmod.mk flags.
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
    let mut args = vec![format!(
        "--target={}",
        target.arch.triple_for(target.release)
    )];
    // The release's kmod.mk flags where the spec records them; else the
    // architecture's own and the common ones.
    match target
        .release
        .and_then(|r| r.kmod_cflags.get(&target.arch.name))
    {
        Some(kmod) => args.extend(kmod.iter().cloned()),
        None => {
            args.extend(target.arch.cflags.iter().cloned());
            args.extend(spec.cflags_common.iter().cloned());
        }
    }
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
    let name = format!("{}-{}", &key[..16], arch.name);
    published_dir("vnetgen-machine-links", &name, |tmp| {
        for (name, target) in &links {
            std::os::unix::fs::symlink(target, tmp.join(name)).ok()?;
        }
        Some(())
    })
}

/// `temp_dir()/<root>/<name>`, filled by `fill` the first time: made whole
/// under another name and renamed into place, so that a reader never sees
/// it half made.  The name says what is in it, so a directory another
/// process renamed there first is the same.  `None` if it cannot be made.
fn published_dir(
    root: &str,
    name: &str,
    fill: impl FnOnce(&Path) -> Option<()>,
) -> Option<PathBuf> {
    let root = std::env::temp_dir().join(root);
    let dir = root.join(name);
    if dir.is_dir() {
        return Some(dir);
    }
    std::fs::create_dir_all(&root).ok()?;
    let tmp = tempfile::Builder::new()
        .prefix(".new-")
        .tempdir_in(&root)
        .ok()?;
    fill(tmp.path())?;
    let tmp = tmp.keep();
    if std::fs::rename(&tmp, &dir).is_err() {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_vnetgen_away_from_its_tree_writes_out_its_own_stub_sysroot() {
        let gone = Path::new("/nonexistent/vnetgen/sysroot/include");
        let dir = stub_sysroot_beside(gone);
        assert_ne!(dir, gone);
        assert!(STUB_SYSROOT_FILES
            .iter()
            .any(|(rel, _)| *rel == "machine/pcpu_aux.h"));
        for (rel, text) in STUB_SYSROOT_FILES {
            let got = std::fs::read_to_string(dir.join(rel)).unwrap_or_default();
            assert_eq!(&got, text, "{rel} in {}", dir.display());
        }
        // A second call finds the same directory.
        assert_eq!(stub_sysroot_beside(gone), dir);
    }

    #[test]
    fn the_source_tree_stub_sysroot_is_used_while_it_is_the_same() {
        let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("sysroot/include");
        assert_eq!(stub_sysroot_beside(&here), here);
    }

    #[test]
    fn a_freebsd_sys_tree_is_searched_as_kmod_mk_does() {
        let spec = crate::spec::Spec::default_spec().unwrap_or_else(|e| panic!("{e}"));
        let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let sys = tmp.path().join("sys");
        for dir in [
            "conf",
            "sys",
            "arm64/include",
            "amd64/include",
            "x86/include",
        ] {
            std::fs::create_dir_all(sys.join(dir)).unwrap_or_else(|e| panic!("{e}"));
        }
        for file in ["conf/kmod.mk", "sys/param.h"] {
            std::fs::write(sys.join(file), "").unwrap_or_else(|e| panic!("{e}"));
        }
        let arch = |name: &str| spec.arch(name).unwrap_or_else(|| panic!("no {name}"));
        let dirs = include_dirs(&sys, arch("aarch64"));
        assert_eq!(dirs[1..], [sys.clone(), sys.join("contrib/ck/include")]);
        let machine = std::fs::read_link(dirs[0].join("machine")).unwrap_or_default();
        assert_eq!(machine, sys.join("arm64/include"));
        let dirs = include_dirs(&sys, arch("amd64"));
        let x86 = std::fs::read_link(dirs[0].join("x86")).unwrap_or_default();
        assert_eq!(x86, sys.join("x86/include"));
        // The stub sysroot is one include root.
        let stub = Path::new(env!("CARGO_MANIFEST_DIR")).join("sysroot/include");
        assert_eq!(include_dirs(&stub, arch("amd64")), vec![stub]);
    }
}
