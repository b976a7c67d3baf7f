//! What a boot needs, built with Debian's tools and cached by content:
//! the init ([`init`], our own C source compiled with clang-19 for the
//! kernel's architecture), the root file system ([`root_image`]: a cd9660
//! image from xorriso, loaded by GRUB as the memory disk) and the boot CD
//! ([`boot_iso`]: grub-mkrescue with the patched GRUB, the kernel, the
//! root image and a grub.cfg that boots FreeBSD on the serial console).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::build::toolchain::Toolchain;

use super::cache::{self, CacheKey};
use super::VmError;

/// The init's source.
pub const INIT_SOURCE: &str = include_str!("init.c");

/// How many per-plan images (root images, boot CDs) the cache keeps.
const KEEP_IMAGES: usize = 24;

fn run(mut cmd: Command, what: &str) -> Result<(), VmError> {
    let tool = cmd.get_program().to_string_lossy().into_owned();
    let out = cmd.output().map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            VmError::MissingTool {
                tool: tool.clone(),
                hint: super::INSTALL_HINT.to_string(),
            }
        } else {
            VmError::Tool {
                tool: tool.clone(),
                what: what.to_string(),
                output: e.to_string(),
            }
        }
    })?;
    if out.status.success() {
        return Ok(());
    }
    let mut output = String::from_utf8_lossy(&out.stderr).into_owned();
    output.push_str(&String::from_utf8_lossy(&out.stdout));
    Err(VmError::Tool {
        tool,
        what: what.to_string(),
        output,
    })
}

fn triple(arch: &str) -> &'static str {
    match arch {
        "i386" => "i386-unknown-freebsd13.2",
        _ => "x86_64-unknown-freebsd13.2",
    }
}

/// The init for `arch`, compiled when the cache lacks it.
pub fn init(toolchain: &Toolchain, arch: &str, cache: &Path) -> Result<PathBuf, VmError> {
    let flags = [
        format!("--target={}", triple(arch)),
        "-O2".into(),
        "-Wall".into(),
        "-Wextra".into(),
        "-Werror".into(),
        "-ffreestanding".into(),
        "-nostdlib".into(),
        "-static".into(),
        "-fno-pic".into(),
        "-fno-stack-protector".into(),
        "-fuse-ld=lld".into(),
        format!("--ld-path={}", toolchain.lld.display()),
    ];
    let mut key = CacheKey::new("vnetgen-vm-init-1");
    key.add("source", INIT_SOURCE.as_bytes())
        .add("flags", flags.join("\u{1f}").as_bytes())
        .add("clang", toolchain.clang.display().to_string().as_bytes());
    let dest = cache.join(format!("init-{arch}-{}", key.short()));
    if dest.is_file() {
        return Ok(dest);
    }
    let staging = cache::staging_dir(cache, "init")?;
    let source = staging.path().join("init.c");
    cache::write_file(&source, INIT_SOURCE.as_bytes())?;
    let out = staging.path().join("init");
    let mut cmd = Command::new(&toolchain.clang);
    cmd.args(&flags).arg("-o").arg(&out).arg(&source);
    run(cmd, &format!("compiling the {arch} init"))?;
    cache::publish_file(&out, &dest)?;
    Ok(dest)
}

/// A file of the root image: its path in the image and its bytes.
pub struct RootFile {
    pub path: String,
    pub bytes: Vec<u8>,
}

/// The cd9660 root image: `/sbin/init`, an empty `/dev` (devfs mounts
/// there), `/plan.txt` and the given files.
pub fn root_image(
    init: &Path,
    plan: &str,
    files: &[RootFile],
    cache: &Path,
) -> Result<PathBuf, VmError> {
    let init_bytes = std::fs::read(init).map_err(VmError::io(init))?;
    let mut key = CacheKey::new("vnetgen-vm-root-1");
    key.add("init", &init_bytes).add("plan", plan.as_bytes());
    for f in files {
        key.add(&f.path, &f.bytes);
    }
    let dest = cache.join(format!("root-{}.img", key.short()));
    if dest.is_file() {
        return Ok(dest);
    }
    let staging = cache::staging_dir(cache, "root")?;
    let tree = staging.path().join("tree");
    for dir in ["sbin", "dev"] {
        let d = tree.join(dir);
        std::fs::create_dir_all(&d).map_err(VmError::io(&d))?;
    }
    let init_dest = tree.join("sbin/init");
    cache::write_file(&init_dest, &init_bytes)?;
    set_mode(&init_dest, 0o555)?;
    cache::write_file(&tree.join("plan.txt"), plan.as_bytes())?;
    for f in files {
        let rel = f.path.trim_start_matches('/');
        if rel.split('/').any(|c| c == ".." || c.is_empty()) {
            return Err(VmError::Plan(format!(
                "bad path in the root image: {}",
                f.path
            )));
        }
        cache::write_file(&tree.join(rel), &f.bytes)?;
    }
    let out = staging.path().join("root.img");
    let mut cmd = Command::new("xorriso");
    cmd.args(["-as", "mkisofs", "-quiet", "-R", "-o"])
        .arg(&out)
        .arg(&tree);
    run(cmd, "making the root image")?;
    cache::publish_file(&out, &dest)?;
    cache::prune(cache, "root-", KEEP_IMAGES);
    Ok(dest)
}

fn set_mode(path: &Path, mode: u32) -> Result<(), VmError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(VmError::io(path))
}

/// GRUB's configuration: FreeBSD's loader on the serial console, the root
/// image as the memory disk, the modules to preload (their paths on the
/// CD), and no wait after a panic.
pub fn grub_cfg(preloads: &[String]) -> String {
    let modules: String = preloads
        .iter()
        .map(|p| format!("  kfreebsd_module_elf {p}\n"))
        .collect();
    format!(
        "\
serial --unit=0 --speed=115200
terminal_input serial
terminal_output serial
set timeout=0
menuentry \"FreeBSD\" {{
  kfreebsd /boot/kernel/kernel -h
  kfreebsd_module /boot/root.img type=mfs_root
{modules}  set kFreeBSD.vfs.root.mountfrom=cd9660:/dev/md0
  set kFreeBSD.hw.uart.console=\"io:1016,br:115200\"
  set kFreeBSD.kern.panic_reboot_wait_time=0
}}
"
    )
}

/// A file the loader loads with the kernel: its path on the CD (under
/// `/boot/preload/`), and its bytes.
pub struct Preload {
    pub path: String,
    pub bytes: Vec<u8>,
}

/// The boot CD: GRUB (patched), the kernel, the root image and the files
/// to preload.
pub fn boot_iso(
    grub_dir: &Path,
    kernel: &Path,
    kernel_sha256: &str,
    root: &Path,
    preloads: &[Preload],
    cache: &Path,
) -> Result<PathBuf, VmError> {
    let cfg = grub_cfg(&preloads.iter().map(|p| p.path.clone()).collect::<Vec<_>>());
    let mut key = CacheKey::new("vnetgen-vm-iso-2");
    for p in preloads {
        key.add("preload", p.path.as_bytes()).add("bytes", &p.bytes);
    }
    key.add("kernel", kernel_sha256.as_bytes())
        .add("root", root.display().to_string().as_bytes())
        .add("grub", grub_dir.display().to_string().as_bytes())
        .add("cfg", cfg.as_bytes());
    let dest = cache.join(format!("boot-{}.iso", key.short()));
    if dest.is_file() {
        return Ok(dest);
    }
    let staging = cache::staging_dir(cache, "iso")?;
    let tree = staging.path().join("tree");
    let kernel_dir = tree.join("boot/kernel");
    let grub_cfg_dir = tree.join("boot/grub");
    for d in [&kernel_dir, &grub_cfg_dir] {
        std::fs::create_dir_all(d).map_err(VmError::io(d))?;
    }
    std::fs::copy(kernel, kernel_dir.join("kernel")).map_err(VmError::io(kernel))?;
    std::fs::copy(root, tree.join("boot/root.img")).map_err(VmError::io(root))?;
    cache::write_file(&grub_cfg_dir.join("grub.cfg"), cfg.as_bytes())?;
    for p in preloads {
        let rel = p.path.trim_start_matches('/');
        if !rel.starts_with("boot/preload/") || rel.contains("..") {
            return Err(VmError::Plan(format!(
                "bad path of a preloaded file: {}",
                p.path
            )));
        }
        cache::write_file(&tree.join(rel), &p.bytes)?;
    }
    let out = staging.path().join("boot.iso");
    let mut cmd = Command::new("grub-mkrescue");
    cmd.arg("-d").arg(grub_dir).arg("-o").arg(&out).arg(&tree);
    run(cmd, "making the boot CD")?;
    cache::publish_file(&out, &dest)?;
    cache::prune(cache, "boot-", KEEP_IMAGES);
    Ok(dest)
}
