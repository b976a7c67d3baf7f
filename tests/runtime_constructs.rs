//! Constructs of FreeBSD's own network modules (tests/runtime_constructs/)
//! build for every architecture and variant with the kernel's warning
//! flags, and keep their storage where the compiled-in build keeps it:
//! what an earlier run-time net/vnet.h broke on when FreeBSD 13.2's and
//! 15.1's modules were built with it.

mod common;

use std::path::{Path, PathBuf};

use object::{Object, ObjectSymbol};
use rayon::prelude::*;

use vnetgen::build::cflags::{stub_sysroot, Target};
use vnetgen::build::kmod::ModuleBuild;
use vnetgen::spec::variant::{KernelConfig, Variant};
use vnetgen::spec::Spec;

fn construct_names() -> Vec<String> {
    common::subdirs("tests/runtime_constructs")
}

fn sources(name: &str) -> Vec<PathBuf> {
    let dir = common::repo().join("tests/runtime_constructs").join(name);
    let mut s: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "c"))
        .collect();
    s.sort();
    s
}

struct Cell {
    arch: String,
    variant: Variant,
    kernel: KernelConfig,
    construct: String,
    /// `-DVIMAGE` as well, as an untied module's opt_global.h has it.
    opt_vimage: bool,
}

/// Builds one cell; the compiler's and linker's words on failure.
fn build(spec: &Spec, generated: &Path, out: &Path, c: &Cell) -> Result<PathBuf, String> {
    let arch = spec.arch(&c.arch).ok_or("arch")?;
    let src = sources(&c.construct);
    let sysroot = stub_sysroot();
    let extra = if c.opt_vimage {
        vec!["-DVIMAGE".to_string()]
    } else {
        Vec::new()
    };
    let dir = out.join(format!(
        "{}-{}-{}-{}-{}",
        c.arch, c.variant, c.kernel, c.construct, c.opt_vimage
    ));
    ModuleBuild {
        spec,
        target: Target {
            variant: c.variant,
            kernel: c.kernel,
            arch,
            release: None,
        },
        name: &c.construct,
        sources: &src,
        generated,
        sysroot: &sysroot,
        out_dir: &dir,
        extra_cflags: &extra,
    }
    .build(&common::toolchain())
    .map_err(|e| e.to_string())
}

/// (name, defined, binding is STB_GLOBAL) of the object's vnet_entry_ symbols.
fn storage_symbols(ko: &Path) -> Vec<(String, bool, bool)> {
    let data = std::fs::read(ko).unwrap_or_else(|e| panic!("{}: {e}", ko.display()));
    let file = object::File::parse(&*data).unwrap_or_else(|e| panic!("{}: {e}", ko.display()));
    file.symbols()
        .filter_map(|s| {
            let name = s.name().ok()?;
            name.starts_with("vnet_entry_").then(|| {
                (
                    name.to_string(),
                    !s.is_undefined(),
                    s.is_global() && !s.is_weak(),
                )
            })
        })
        .collect()
}

#[test]
fn freebsd_module_constructs_build_in_every_variant_and_keep_global_definitions() {
    let spec = Spec::default_spec().expect("default spec");
    let generated = common::generate(&spec);
    let out = tempfile::tempdir().expect("temporary directory");
    let mut cells = Vec::new();
    for arch in &spec.archs {
        for construct in construct_names() {
            for (variant, kernel) in common::distinct_cells() {
                // The compiled-in variants' global `_STATIC` storage still
                // begins with `struct _hack;` (their bodies, not the run-time
                // ones, are another change's): run-time cells only there.
                if construct == "volatile_static"
                    && arch.global_set_storage
                    && variant != Variant::VimageRuntime
                {
                    continue;
                }
                cells.push(Cell {
                    arch: arch.name.clone(),
                    variant,
                    kernel,
                    construct: construct.clone(),
                    opt_vimage: false,
                });
            }
            cells.push(Cell {
                arch: arch.name.clone(),
                variant: Variant::VimageRuntime,
                kernel: KernelConfig::Vimage,
                construct,
                opt_vimage: true,
            });
        }
    }
    let shared = spec.archs.iter().filter(|a| a.global_set_storage).count();
    assert_eq!(
        cells.len(),
        spec.archs.len() * construct_names().len() * 5 - shared * 3
    );
    let failures: Vec<String> = cells
        .par_iter()
        .filter_map(|c| {
            let cell = format!(
                "{} {} {} {}{}",
                c.arch,
                c.variant,
                c.kernel,
                c.construct,
                if c.opt_vimage { " -DVIMAGE" } else { "" }
            );
            let ko = match build(&spec, generated.path(), out.path(), c) {
                Ok(ko) => ko,
                Err(e) => return Some(format!("{cell}: {e}")),
            };
            let vimage_layout = c.variant != Variant::KldTied || c.kernel == KernelConfig::Vimage;
            if c.construct == "declare_then_define" && vimage_layout {
                // Defined after its declaration, and global, as with VIMAGE.
                let syms = storage_symbols(&ko);
                for name in ["vnet_entry_dtd_status", "vnet_entry_dtd_limits"] {
                    let ok = syms
                        .iter()
                        .any(|(n, def, global)| n == name && *def && *global);
                    if !ok {
                        return Some(format!(
                            "{cell}: {name} is not a global definition: {syms:?}"
                        ));
                    }
                }
            }
            None
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_modules_own_vnet_variables_need_no_plain_name() {
    // Where the unit defines the variable, the run-time accessor folds away
    // the kernel's plain name: no reference to it is left.
    let spec = Spec::default_spec().expect("default spec");
    let generated = common::generate(&spec);
    let out = tempfile::tempdir().expect("temporary directory");
    for arch in ["amd64", "aarch64"] {
        let c = Cell {
            arch: arch.to_string(),
            variant: Variant::VimageRuntime,
            kernel: KernelConfig::Vimage,
            construct: "same_name_static".to_string(),
            opt_vimage: false,
        };
        let ko = build(&spec, generated.path(), out.path(), &c).unwrap_or_else(|e| panic!("{e}"));
        let data = std::fs::read(&ko).expect("read");
        let file = object::File::parse(&*data).expect("parse");
        let undefined: Vec<String> = file
            .symbols()
            .filter(|s| s.is_undefined())
            .filter_map(|s| s.name().ok().map(String::from))
            .filter(|n| n.starts_with("same_name_"))
            .collect();
        assert!(undefined.is_empty(), "{arch}: {undefined:?}");
    }
}

#[test]
fn vnet_support_compiles_in_run_time_modules_with_and_without_vimage() {
    // An untied module's opt_global.h may define VIMAGE or not; the stub
    // <sys/eventhandler.h>, as FreeBSD's, declares vimage_iterator_func_t
    // only under VIMAGE.
    let spec = Spec::default_spec().expect("default spec");
    let generated = common::generate(&spec);
    common::compile_support_everywhere(
        &spec,
        generated.path(),
        &[
            vec!["_KERNEL", "KLD_MODULE", "VIMAGE_RUNTIME"],
            vec!["_KERNEL", "KLD_MODULE", "VIMAGE_RUNTIME", "VIMAGE"],
        ],
    );
}

#[test]
fn storage_localised_after_compilation_is_not_taken_for_pc_relative_static_storage() {
    // kmod.mk localises every global of a module's `-r` output before the
    // shared link (kmod_syms.awk): the code, compiled for a global, still
    // reaches the variable through a GOT entry whose dynamic relocation the
    // kernel linker moves to the copy.  A version script that makes every
    // symbol but the set bounds local does the same here.
    let toolchain = common::toolchain();
    let spec = Spec::default_spec().expect("default spec");
    let generated = common::generate(&spec);
    let out = tempfile::tempdir().expect("temporary directory");
    let arch = spec.arch("i386").expect("i386");
    let src = sources("same_name_static");
    let sysroot = stub_sysroot();
    let build = ModuleBuild {
        spec: &spec,
        target: Target {
            variant: Variant::VimageRuntime,
            kernel: KernelConfig::Vimage,
            arch,
            release: None,
        },
        name: "same_name_static",
        sources: &src,
        generated: generated.path(),
        sysroot: &sysroot,
        out_dir: out.path(),
        extra_cflags: &[],
    };
    // The build writes the objects and the set padding script; the module
    // is then linked again with every symbol but the set bounds local.
    build.build(&toolchain).unwrap_or_else(|e| panic!("{e}"));
    let plan = build.plan();
    let script = out.path().join("local.map");
    std::fs::write(
        &script,
        "{ global: __start_set_*; __stop_set_*; local: *; };\n",
    )
    .expect("write version script");
    let st = std::process::Command::new(&toolchain.lld)
        .args(&plan.link)
        .arg(format!("--version-script={}", script.display()))
        .status()
        .expect("run ld.lld");
    assert!(st.success(), "link");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_vnetgen"))
        .args(["inspect", "--format", "json"])
        .arg(&plan.ko)
        .output()
        .expect("run vnetgen inspect");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("vnet_entry_same_name_value") && !text.contains("is a local symbol in"),
        "{text}"
    );
    // The symbol is local, as kmod.mk leaves it.
    let data = std::fs::read(&plan.ko).expect("read");
    let file = object::File::parse(&*data).expect("parse");
    let local = file
        .symbols()
        .any(|s| s.name() == Ok("vnet_entry_same_name_value") && s.is_local());
    assert!(local, "vnet_entry_same_name_value is not local");
}

#[test]
fn a_freebsd_module_linked_as_kmod_mk_links_aarch64_ones_is_inspected() {
    // kmod.mk links aarch64 modules with `-m aarch64elf`, which leaves
    // EI_OSABI 0: the module metadata set tells a FreeBSD module apart.
    let spec = Spec::default_spec().expect("default spec");
    let generated = common::generate(&spec);
    let out = tempfile::tempdir().expect("temporary directory");
    let arch = spec.arch("aarch64").expect("aarch64");
    let dir = common::repo().join("tests/kld/kmods/vnet_owner");
    let src = vec![dir.join("vnet_owner.c")];
    let sysroot = stub_sysroot();
    let ko = ModuleBuild {
        spec: &spec,
        target: Target {
            variant: Variant::VimageRuntime,
            kernel: KernelConfig::Vimage,
            arch,
            release: None,
        },
        name: "vnet_owner",
        sources: &src,
        generated: generated.path(),
        sysroot: &sysroot,
        out_dir: out.path(),
        extra_cflags: &[],
    }
    .build(&common::toolchain())
    .unwrap_or_else(|e| panic!("{e}"));
    let mut data = std::fs::read(&ko).expect("read");
    data[7] = 0;
    let info = vnetgen::inspect::inspect_bytes("vnet_owner.ko", &data)
        .unwrap_or_else(|e| panic!("EI_OSABI 0 module refused: {e}"));
    assert!(info.freebsd, "{}", info.os);
    // Without the metadata set it is another system's object, as before.
    let other = common::repo().join("tests/elf/bad/other-os-linux-gcc.o");
    let data = std::fs::read(&other).expect("read");
    assert!(vnetgen::inspect::inspect_bytes("other.o", &data).is_err());
}
