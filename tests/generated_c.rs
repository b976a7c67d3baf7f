//! The generated C compiles, warning-free, for every variant, kernel and
//! architecture, and the objects it makes have the storage, sections and
//! references each variant promises.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use object::{Object, ObjectSection, ObjectSymbol, SectionIndex, SymbolSection};
use rayon::prelude::*;

use vnetgen::spec::variant::{BodyVariant, KernelConfig, ModuleFormat, Variant};
use vnetgen::spec::{OnlyIn, Spec};

/// A symbol as the tests look at it.
#[derive(Debug, Clone)]
struct Sym {
    section: Option<String>,
    undefined: bool,
    weak: bool,
    global: bool,
}

struct Ko {
    path: String,
    sections: Vec<String>,
    symbols: BTreeMap<String, Sym>,
    dynamic: BTreeMap<String, Sym>,
}

fn read_symbols<'d>(
    file: &object::File<'d>,
    syms: impl Iterator<Item = object::Symbol<'d, 'd>>,
) -> BTreeMap<String, Sym> {
    let section_name = |i: SectionIndex| {
        file.section_by_index(i)
            .ok()
            .and_then(|s| s.name().ok().map(String::from))
    };
    syms.filter_map(|s| {
        let name = s.name().ok()?.to_string();
        if name.is_empty() {
            return None;
        }
        let section = match s.section() {
            SymbolSection::Section(i) => section_name(i),
            _ => None,
        };
        Some((
            name,
            Sym {
                section,
                undefined: s.is_undefined(),
                weak: s.is_weak(),
                global: s.is_global(),
            },
        ))
    })
    .collect()
}

fn read_ko(path: &Path) -> Ko {
    let data = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let file = object::File::parse(&*data).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Ko {
        path: path.display().to_string(),
        sections: file
            .sections()
            .filter_map(|s| s.name().ok().map(String::from))
            .collect(),
        symbols: read_symbols(&file, file.symbols()),
        dynamic: read_symbols(&file, file.dynamic_symbols()),
    }
}

impl Ko {
    fn has_section(&self, name: &str) -> bool {
        self.sections.iter().any(|s| s == name)
    }

    fn defined(&self, name: &str) -> Option<&Sym> {
        self.symbols.get(name).filter(|s| !s.undefined)
    }
}

fn cell_name(arch: &str, variant: Variant, kernel: KernelConfig) -> String {
    format!("{arch}/{variant}/{kernel}")
}

#[test]
fn every_generated_header_compiles_after_sys_param_h() {
    let toolchain = common::toolchain();
    let spec = Spec::default_spec().expect("default spec");
    let generated = common::generate(&spec);
    let mut jobs = Vec::new();
    for arch in &spec.archs {
        for (variant, kernel) in common::distinct_cells() {
            for header in &spec.headers {
                let include = header.path.strip_prefix("sys/").unwrap_or(&header.path);
                // The drop-in header, and the flattened copy of this variant.
                jobs.push((
                    arch.name.clone(),
                    variant,
                    kernel,
                    include.to_string(),
                    generated.path().to_path_buf(),
                ));
                jobs.push((
                    arch.name.clone(),
                    variant,
                    kernel,
                    include.to_string(),
                    generated.path().join("variants").join(variant.name()),
                ));
            }
        }
    }
    let failures: Vec<String> = jobs
        .par_iter()
        .filter_map(|(arch, variant, kernel, include, root)| {
            // As FreeBSD's own: every kernel source includes <sys/param.h>
            // first, and the headers count on it.
            let text = format!("#include <sys/param.h>\n#include <{include}>\n");
            let (ok, diag) = common::compile_text(
                &toolchain,
                &spec,
                root,
                arch,
                &variant.defines(*kernel),
                &text,
            );
            (!ok).then(|| {
                format!(
                    "{} {include} ({}):\n{diag}",
                    cell_name(arch, *variant, *kernel),
                    root.display()
                )
            })
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(jobs.len(), spec.archs.len() * 4 * spec.headers.len() * 2);
}

#[test]
fn kmod_corpus_builds_for_every_cell_and_objects_match_the_variant() {
    let toolchain = common::toolchain();
    let spec = Spec::default_spec().expect("default spec");
    let generated = common::generate(&spec);
    let out = tempfile::tempdir().expect("temporary directory");
    let mut cells = Vec::new();
    for arch in &spec.archs {
        for (variant, kernel) in common::distinct_cells() {
            for kmod in common::kmod_names() {
                cells.push((arch.name.clone(), variant, kernel, kmod));
            }
        }
    }
    let built: Vec<(String, Variant, KernelConfig, String, Ko)> = cells
        .into_par_iter()
        .map(|(arch, variant, kernel, kmod)| {
            let dir = out.path().join(format!("{arch}-{variant}-{kernel}-{kmod}"));
            let ko = common::build_kmod(
                &toolchain,
                &spec,
                generated.path(),
                &arch,
                variant,
                kernel,
                &kmod,
                &dir,
            );
            let read = read_ko(&ko);
            (arch, variant, kernel, kmod, read)
        })
        .collect();
    assert_eq!(
        built.len(),
        spec.archs.len() * 4 * common::kmod_names().len()
    );

    let vimage_only: Vec<&str> = spec
        .families
        .iter()
        .flat_map(|f| f.kernel_symbols.iter())
        .filter(|s| s.only_in == OnlyIn::Vimage)
        .map(|s| s.name.as_str())
        .collect();
    assert!(vimage_only.contains(&"vnet_register_sysinit"));

    for (arch, variant, kernel, kmod, ko) in &built {
        let cell = cell_name(arch, *variant, *kernel);
        let arch_spec = spec.arch(arch).expect("arch");
        let shared = arch_spec.module_format == ModuleFormat::Shared;
        let body = variant.body_variant(*kernel);
        match kmod.as_str() {
            "vnet_full" => check_vnet_storage(&cell, body, ko),
            "dpcpu_stats" => check_dpcpu_storage(&cell, arch_spec.global_set_storage, ko),
            "plain" => {
                assert!(
                    !ko.has_section("set_vnet") && !ko.has_section("set_pcpu"),
                    "{cell}: plain has a set"
                );
            }
            other => panic!("no checks written for test kmod {other}"),
        }
        if body == BodyVariant::Runtime {
            // Loads on a kernel without VIMAGE: nothing VIMAGE-only is strong.
            for (name, sym) in ko.symbols.iter().chain(ko.dynamic.iter()) {
                let vimage_only_symbol =
                    vimage_only.contains(&name.as_str()) || name.starts_with("vnet_entry_");
                if sym.undefined && vimage_only_symbol {
                    assert!(
                        sym.weak,
                        "{cell} {kmod}: strong reference to VIMAGE-only {name} in {}",
                        ko.path
                    );
                }
            }
        }
        if body == BodyVariant::Vimage && kmod == "vnet_full" {
            // The compiled-in build references the kernel's registration strongly.
            let reg = ko
                .symbols
                .get("vnet_register_sysinit")
                .or_else(|| ko.dynamic.get("vnet_register_sysinit"));
            assert!(
                reg.is_some_and(|s| s.undefined && !s.weak),
                "{cell}: vimage build lacks a strong vnet_register_sysinit"
            );
        }
        if shared {
            for set in ["set_vnet", "set_pcpu"] {
                if ko.has_section(set) {
                    for bound in [format!("__start_{set}"), format!("__stop_{set}")] {
                        let exported = ko
                            .dynamic
                            .get(&bound)
                            .is_some_and(|s| !s.undefined && s.global);
                        assert!(
                            exported,
                            "{cell} {kmod}: {bound} is not exported from {}",
                            ko.path
                        );
                    }
                }
            }
        }
    }
}

fn check_vnet_storage(cell: &str, body: BodyVariant, ko: &Ko) {
    match body {
        BodyVariant::Novimage => {
            assert!(
                !ko.has_section("set_vnet"),
                "{cell}: set_vnet without VIMAGE"
            );
            let plain = ko.defined("vnet_full_counter");
            assert!(
                plain.is_some(),
                "{cell}: plain storage vnet_full_counter missing"
            );
            assert!(
                ko.defined("vnet_entry_vnet_full_counter").is_none(),
                "{cell}: prefixed storage without VIMAGE"
            );
        }
        BodyVariant::Vimage | BodyVariant::Runtime => {
            for name in [
                "vnet_entry_vnet_full_counter",
                "vnet_entry_vnet_full_inits",
                "vnet_entry_vnet_full_table",
                "vnet_entry_vnet_full_wide",
            ] {
                let sym = ko
                    .defined(name)
                    .unwrap_or_else(|| panic!("{cell}: {name} is not defined"));
                assert_eq!(
                    sym.section.as_deref(),
                    Some("set_vnet"),
                    "{cell}: {name} outside set_vnet"
                );
            }
            assert!(
                ko.defined("vnet_full_counter").is_none(),
                "{cell}: unprefixed storage under VIMAGE layout"
            );
        }
    }
}

fn check_dpcpu_storage(cell: &str, global_storage: bool, ko: &Ko) {
    for name in [
        "pcpu_entry_dpcpu_stats_count",
        "pcpu_entry_dpcpu_stats_pair",
        "pcpu_entry_dpcpu_stats_ring",
    ] {
        let sym = ko
            .defined(name)
            .unwrap_or_else(|| panic!("{cell}: {name} is not defined"));
        assert_eq!(
            sym.section.as_deref(),
            Some("set_pcpu"),
            "{cell}: {name} outside set_pcpu"
        );
    }
    let static_one = ko
        .defined("pcpu_entry_dpcpu_stats_pair")
        .expect("checked above");
    assert_eq!(
        static_one.global, global_storage,
        "{cell}: DPCPU_DEFINE_STATIC storage global={} but the arch wants {global_storage}",
        static_one.global
    );
}

#[test]
fn vnet_support_compiles_in_kernels_with_and_without_vimage() {
    let text = vnetgen::spec::DEFAULT_SPEC.replace("detect = \"probe\"", "detect = \"kernel\"");
    let spec = Spec::parse("kernel-detect.toml", &text).expect("spec with detect = kernel");
    let generated = common::generate(&spec);
    let support = std::fs::read_to_string(generated.path().join("sys/net/vnet_support.c"))
        .expect("support file");
    assert!(support.contains("const int vimage_configured = 1;"));
    common::compile_support_everywhere(
        &spec,
        generated.path(),
        &[vec!["_KERNEL", "VIMAGE"], vec!["_KERNEL"]],
    );
}

#[test]
fn contradictory_defines_stop_the_build_in_plain_words() {
    let toolchain = common::toolchain();
    let spec = Spec::default_spec().expect("default spec");
    let generated = common::generate(&spec);
    let cases: [(&[&str], &str); 2] = [
        (
            &["_KERNEL", "KLD_MODULE", "KLD_TIED", "VIMAGE_RUNTIME"],
            "VIMAGE_RUNTIME is for untied modules",
        ),
        (
            &["_KERNEL", "VIMAGE_RUNTIME"],
            "VIMAGE_RUNTIME is only for modules built outside the kernel",
        ),
    ];
    for header in ["net/vnet.h", "sys/pcpu.h"] {
        for (defines, message) in cases {
            let (ok, diag) = common::compile_text(
                &toolchain,
                &spec,
                generated.path(),
                "amd64",
                defines,
                &format!("#include <{header}>\n"),
            );
            assert!(
                !ok && diag.contains(message),
                "{header} {defines:?}: {diag}"
            );
        }
    }
}

#[test]
fn a_missing_clang_fails_with_the_install_command() {
    let empty = tempfile::tempdir().expect("temporary directory");
    let path = std::ffi::OsString::from(empty.path());
    let err = vnetgen::build::toolchain::Toolchain::locate_in(Some(&path))
        .expect_err("no clang in an empty PATH");
    let message = err.to_string();
    assert!(message.contains("clang-19 not found"), "{message}");
    assert!(
        message.contains("apt-get install -y clang-19 lld-19 bmake"),
        "{message}"
    );
}

/// As FreeBSD's, the compiled-in SYSCTL_VNET_PCPUSTAT exists only where
/// <sys/sysctl.h> came first (it needs SYSCTL_PROC); the run-time variant
/// includes <sys/sysctl.h> itself.
#[test]
fn sysctl_vnet_pcpustat_only_after_sys_sysctl_h() {
    let toolchain = common::toolchain();
    let spec = Spec::default_spec().expect("default spec");
    let generated = common::generate(&spec);
    for (variant, kernel) in common::distinct_cells() {
        let without = if variant == Variant::VimageRuntime {
            "!"
        } else {
            ""
        };
        for (sysctl, want) in [("", without), ("#include <sys/sysctl.h>\n", "!")] {
            let text = format!(
                "#include <sys/param.h>\n{sysctl}#include <net/vnet.h>\n\
                 #if {want}defined(SYSCTL_VNET_PCPUSTAT)\n#error \"SYSCTL_VNET_PCPUSTAT {want}defined\"\n#endif\n"
            );
            let (ok, diag) = common::compile_text(
                &toolchain,
                &spec,
                generated.path(),
                "amd64",
                &variant.defines(kernel),
                &text,
            );
            assert!(ok, "{variant} {kernel} {sysctl:?}:\n{diag}");
        }
    }
}
