//! Helpers shared by the integration tests: a freshly generated tree, the
//! toolchain (a missing one fails the test with the install command), and
//! module builds for every cell.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use vnetgen::build::cflags::{stub_sysroot, Target};
use vnetgen::build::kmod::ModuleBuild;
use vnetgen::build::toolchain::Toolchain;
use vnetgen::spec::variant::{KernelConfig, Variant};
use vnetgen::spec::Spec;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The toolchain, or a failure that says how to install it.
pub fn toolchain() -> Toolchain {
    match Toolchain::locate() {
        Ok(t) => t,
        Err(e) => panic!("{e}"),
    }
}

/// Renders `spec` into a new temporary directory.
pub fn generate(spec: &Spec) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    vnetgen::generate(spec, dir.path(), false).expect("generate");
    dir
}

/// The cells whose objects differ: kld-tied follows the kernel, the other
/// variants do not depend on it.
pub fn distinct_cells() -> Vec<(Variant, KernelConfig)> {
    vec![
        (Variant::KldTied, KernelConfig::Vimage),
        (Variant::KldTied, KernelConfig::Novimage),
        (Variant::Vimage, KernelConfig::Vimage),
        (Variant::VimageRuntime, KernelConfig::Vimage),
    ]
}

/// Sources of a test kmod under tests/kmods.
pub fn kmod_sources(name: &str) -> Vec<PathBuf> {
    let dir = repo().join("tests/kmods").join(name);
    let mut sources: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "c"))
        .collect();
    sources.sort();
    sources
}

pub fn kmod_names() -> Vec<String> {
    subdirs("tests/kmods")
}

/// The names of the directories in `rel` (under the repository), sorted.
pub fn subdirs(rel: &str) -> Vec<String> {
    let dir = repo().join(rel);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Builds one kmod for one cell; panics with the compiler's words.
#[allow(clippy::too_many_arguments)]
pub fn build_kmod(
    toolchain: &Toolchain,
    spec: &Spec,
    generated: &Path,
    arch: &str,
    variant: Variant,
    kernel: KernelConfig,
    name: &str,
    out_dir: &Path,
) -> PathBuf {
    let arch = spec.arch(arch).expect("arch in spec");
    let sources = kmod_sources(name);
    let sysroot = stub_sysroot();
    let build = ModuleBuild {
        spec,
        target: Target {
            variant,
            kernel,
            arch,
            release: None,
        },
        name,
        sources: &sources,
        generated,
        sysroot: &sysroot,
        out_dir,
        extra_cflags: &[],
    };
    build.build(toolchain).unwrap_or_else(|e| panic!("{e}"))
}

/// Compiles one C text with the cflags of a cell; returns the compiler's
/// exit status and its diagnostics.
pub fn compile_text(
    toolchain: &Toolchain,
    spec: &Spec,
    generated: &Path,
    arch: &str,
    defines: &[&str],
    text: &str,
) -> (bool, String) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let src = dir.path().join("t.c");
    std::fs::write(&src, text).expect("write test source");
    let arch = spec.arch(arch).expect("arch in spec");
    let mut args = vec![format!("--target={}", arch.triple)];
    args.extend(arch.cflags.iter().cloned());
    args.extend(spec.cflags_common.iter().cloned());
    args.extend(spec.cflags_warnings.iter().cloned());
    args.push(format!("-I{}", generated.join("sys").display()));
    args.push(format!("-I{}", stub_sysroot().display()));
    args.extend(defines.iter().map(|d| format!("-D{d}")));
    let out = Command::new(&toolchain.clang)
        .args(&args)
        .arg("-O2")
        .arg("-c")
        .arg(&src)
        .arg("-o")
        .arg(dir.path().join("t.o"))
        .output()
        .expect("run clang");
    let mut diag = String::from_utf8_lossy(&out.stderr).into_owned();
    diag.push_str(&String::from_utf8_lossy(&out.stdout));
    (out.status.success() && diag.is_empty(), diag)
}

/// Exit code and standard error of a command, with `dir` shown as `<tmp>`,
/// for snapshots of bad-input messages.
pub fn exit_and_stderr(out: &std::process::Output, dir: &Path) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).replace(&dir.display().to_string(), "<tmp>");
    format!(
        "exit {}\n{stderr}",
        out.status
            .code()
            .map_or("signal".to_string(), |c| c.to_string())
    )
}

/// Compiles the generated `vnet_support.c` for every architecture with
/// each set of defines; panics naming the architecture and defines that fail.
pub fn compile_support_everywhere(spec: &Spec, generated: &Path, defines: &[Vec<&str>]) {
    let toolchain = toolchain();
    let support =
        std::fs::read_to_string(generated.join("sys/net/vnet_support.c")).expect("support file");
    for arch in &spec.archs {
        for d in defines {
            let (ok, diag) = compile_text(&toolchain, spec, generated, &arch.name, d, &support);
            assert!(ok, "{} {d:?}:\n{diag}", arch.name);
        }
    }
}
