//! `vnetgen inspect`: on every object that the ABI matrix builds, the build
//! kind and the prediction agree with the lab; against kernel images, the
//! kernel's own symbol table decides; broken input is an error naming the
//! file.

mod common;
#[path = "common/kernel_elf.rs"]
mod kernel_elf;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use vnetgen::build::cflags::stub_sysroot;
use vnetgen::lab::{self, LabOptions, Verdict};
use vnetgen::spec::kernel_model::KernelModel;
use vnetgen::spec::variant::{KernelConfig, Variant};
use vnetgen::spec::Spec;

fn vnetgen(args: &[&str], files: &[&Path]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vnetgen"))
        .args(args)
        .args(files)
        .output()
        .expect("run vnetgen")
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// The build kind the matrix's builds must show.
fn expected_build(kmod: &str, variant: Variant, built_for: Option<KernelConfig>) -> &'static str {
    if kmod != "vnet_full" {
        return "neutral";
    }
    match (variant, built_for) {
        (Variant::KldTied, Some(KernelConfig::Novimage)) => "novimage",
        (Variant::VimageRuntime, _) => "vimage-runtime",
        _ => "vimage",
    }
}

#[test]
fn inspect_agrees_with_the_lab_on_every_object_the_matrix_builds() {
    common::toolchain();
    let spec = Spec::default_spec().expect("default spec");
    let cache = tempfile::tempdir().expect("temporary directory");
    let report = lab::run(
        &spec,
        &LabOptions {
            archs: spec.archs.iter().map(|a| a.name.clone()).collect(),
            variants: Variant::ALL.to_vec(),
            kernels: KernelConfig::ALL.to_vec(),
            kmods: common::repo().join("tests/kmods"),
            jobs: 2,
            cache: cache.path().to_path_buf(),
            sysroot: stub_sysroot(),
            progress: false,
            release: None,
        },
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        report.builds.len(),
        common::kmod_names().len() * spec.archs.len() * 4
    );

    let files: Vec<&Path> = report.builds.iter().map(|b| b.ko.as_path()).collect();
    let out = vnetgen(&["inspect", "--format", "json"], &files);
    // Some builds do not load on some kernel (vimage on novimage, say).
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = json(&out);
    assert_eq!(doc["schema"], 1);
    let modules = doc["modules"].as_array().expect("modules");
    assert_eq!(modules.len(), report.builds.len());

    for (build, m) in report.builds.iter().zip(modules) {
        let what = format!(
            "{} {} {} {:?}",
            build.kmod, build.arch, build.variant, build.built_for
        );
        assert_eq!(m["file"], build.ko.display().to_string(), "{what}");
        assert_eq!(m["arch"], build.arch.as_str(), "{what}");
        for key in [
            "file",
            "arch",
            "build",
            "detect",
            "vnet_vars",
            "dpcpu_vars",
            "needs",
            "loads",
        ] {
            assert!(m.get(key).is_some(), "{what}: no {key}");
        }
        assert_eq!(
            m["build"],
            expected_build(&build.kmod, build.variant, build.built_for),
            "{what}: {m:#}"
        );
        let detect = if m["build"] == "vimage-runtime" {
            Value::from("probe")
        } else {
            Value::Null
        };
        assert_eq!(m["detect"], detect, "{what}");
        for kernel in KernelConfig::ALL {
            let cell = report
                .cells
                .iter()
                .find(|c| {
                    c.kmod == build.kmod
                        && c.arch == build.arch
                        && c.variant == build.variant
                        && c.built_for == build.built_for
                        && c.kernel == kernel
                })
                .unwrap_or_else(|| panic!("{what}: no lab cell on {kernel}"));
            let load = &m["loads"][kernel.name()];
            assert_eq!(
                load["ok"].as_bool(),
                Some(cell.verdict == Verdict::Loads),
                "{what} on {kernel}: inspect says {load}, the lab {:?} {:#?}",
                cell.verdict,
                cell.findings
            );
            assert_eq!(cell.verdict, cell.expected, "{what} on {kernel}");
            assert_eq!(load["reason"].is_null(), load["ok"] == true, "{what}");
        }
        // VNET builds show their variables, with sizes and alignments.
        if m["build"] != "neutral" && m["build"] != "novimage" {
            let vars = m["vnet_vars"].as_array().expect("vnet_vars");
            let counter = vars
                .iter()
                .find(|v| v["name"] == "vnet_full_counter")
                .unwrap_or_else(|| panic!("{what}: {vars:?}"));
            assert_eq!(counter["symbol"], "vnet_entry_vnet_full_counter");
            assert!(counter["size"].as_u64().is_some_and(|s| s > 0));
            assert!(counter["align"]
                .as_u64()
                .is_some_and(|a| a.is_power_of_two()));
        }
        if build.kmod == "dpcpu_stats" {
            assert!(
                !m["dpcpu_vars"].as_array().expect("dpcpu_vars").is_empty(),
                "{what}"
            );
        }
    }

    // What a module author reads for the builds that fail.
    let pick = |arch: &str, variant: Variant| {
        report
            .builds
            .iter()
            .zip(modules)
            .find(|(b, _)| b.kmod == "vnet_full" && b.arch == arch && b.variant == variant)
            .map(|(_, m)| m)
            .expect("build")
    };
    let vimage = pick("amd64", Variant::Vimage);
    let reason = vimage["loads"]["novimage"]["reason"]
        .as_str()
        .expect("reason");
    assert!(
        reason.contains("link_elf_obj: symbol vnet_register_sysinit undefined"),
        "{reason}"
    );
    assert!(vimage["loads"]["novimage"]["missing"]
        .as_array()
        .is_some_and(|m| m.iter().any(|s| s == "vnet0")));
    assert!(vimage["needs"].as_array().is_some_and(|n| n
        .iter()
        .any(|n| n["symbol"] == "vnet0" && n["strong"] == true && n["only_in"] == "vimage")));
    let runtime = pick("aarch64", Variant::VimageRuntime);
    let needs = runtime["needs"].as_array().expect("needs");
    for (symbol, only_in) in [("vnet0", "vimage"), ("ip_defttl", "novimage")] {
        assert!(
            needs
                .iter()
                .any(|n| n["symbol"] == symbol && n["strong"] == false && n["only_in"] == only_in),
            "{needs:?}"
        );
    }
    assert!(runtime["evidence"]
        .as_array()
        .is_some_and(|e| e.iter().any(|e| e["kind"] == "relocation")
            && e.iter().any(|e| e["kind"] == "section")));
    assert!(runtime["modspace"].as_array().is_some_and(|m| m
        .iter()
        .any(|u| u["set"] == "set_vnet" && u["limit"] == 32768)));

    // The text report, and one kernel configuration only.
    let ko = report
        .builds
        .iter()
        .find(|b| b.kmod == "vnet_full" && b.arch == "amd64" && b.variant == Variant::Vimage)
        .map(|b| b.ko.clone())
        .expect("build");
    let text = vnetgen(&["inspect", "--kernel-config", "vimage"], &[&ko]);
    assert_eq!(text.status.code(), Some(0));
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("build: vimage") && text.contains("on a vimage kernel: loads"));
    assert!(!text.contains("novimage kernel:"), "{text}");
    let text = vnetgen(&["inspect", "--kernel-config", "novimage"], &[&ko]);
    assert_eq!(text.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&text.stdout)
        .contains("link_elf_obj: symbol vnet_register_sysinit undefined"));
}

/// A module of one cell, built in `dir`.
fn build(spec: &Spec, dir: &Path, arch: &str, variant: Variant) -> PathBuf {
    let toolchain = common::toolchain();
    let generated = dir.join("generated");
    if !generated.is_dir() {
        vnetgen::generate(spec, &generated, false).expect("generate");
    }
    common::build_kmod(
        &toolchain,
        spec,
        &generated,
        arch,
        variant,
        KernelConfig::Vimage,
        "vnet_full",
        &dir.join(format!("{arch}-{variant}")),
    )
}

#[test]
fn a_kernel_image_decides_by_its_own_symbol_table() {
    let toolchain = common::toolchain();
    let spec = Spec::default_spec().expect("default spec");
    let dir = tempfile::tempdir().expect("temporary directory");
    let kernel = |config: KernelConfig| {
        let symbols: Vec<String> = KernelModel::new(&spec, config, spec.detect)
            .symbols
            .into_iter()
            .collect();
        kernel_elf::build(
            &toolchain,
            &dir.path().join("kernels"),
            &format!("kernel-{config}"),
            &kernel_elf::KernelSpec {
                symbols: &symbols,
                filler: 200,
                pad_bytes: 0,
            },
        )
    };
    let with = kernel(KernelConfig::Vimage);
    let without = kernel(KernelConfig::Novimage);
    let runtime = build(&spec, dir.path(), "amd64", Variant::VimageRuntime);
    let vimage = build(&spec, dir.path(), "aarch64", Variant::Vimage);

    let out = vnetgen(
        &[
            "inspect",
            "--format",
            "json",
            "--kernel",
            &without.display().to_string(),
        ],
        &[&runtime, &vimage],
    );
    assert_eq!(out.status.code(), Some(4));
    let doc = json(&out);
    assert_eq!(doc["kernel"]["vimage"], false);
    let modules = doc["modules"].as_array().expect("modules");
    assert_eq!(modules[0]["loads"]["novimage"]["ok"], true);
    assert!(modules[0]["loads"].get("vimage").is_none());
    let load = &modules[1]["loads"]["novimage"];
    assert_eq!(load["ok"], false);
    let missing: Vec<&str> = load["missing"]
        .as_array()
        .expect("missing")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for symbol in ["vnet0", "vnet_register_sysinit", "vnet_entry_ip_defttl"] {
        assert!(missing.contains(&symbol), "{missing:?}");
    }
    assert!(load["reason"]
        .as_str()
        .is_some_and(|r| r.contains("link_elf: symbol vnet0 undefined")));

    let out = vnetgen(
        &["inspect", "--kernel", &with.display().to_string()],
        &[&runtime, &vimage],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(": VIMAGE (") && text.contains("vnet0"),
        "{text}"
    );

    // A kernel image without a symbol VIMAGE needs: named, not assumed.
    let bare = kernel_elf::build(
        &toolchain,
        &dir.path().join("kernels"),
        "kernel-bare",
        &kernel_elf::KernelSpec {
            symbols: &["vnet0".to_string()],
            filler: 10,
            pad_bytes: 0,
        },
    );
    let out = vnetgen(
        &[
            "inspect",
            "--format",
            "json",
            "--kernel",
            &bare.display().to_string(),
        ],
        &[&vimage],
    );
    assert_eq!(out.status.code(), Some(4));
    let doc = json(&out);
    assert_eq!(doc["kernel"]["vimage"], true);
    let load = &doc["modules"][0]["loads"]["vimage"];
    assert!(load["missing"]
        .as_array()
        .is_some_and(
            |m| m.iter().any(|s| s == "vnet_register_sysinit") && !m.iter().any(|s| s == "vnet0")
        ));

    // A module is no kernel image.
    let out = vnetgen(
        &["inspect", "--kernel", &runtime.display().to_string()],
        &[&vimage],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&runtime.display().to_string()) && err.contains("not a kernel image"),
        "{err}"
    );
}

#[test]
fn broken_input_is_an_error_that_names_the_file() {
    let toolchain = common::toolchain();
    let spec = Spec::default_spec().expect("default spec");
    let dir = tempfile::tempdir().expect("temporary directory");
    let ko = build(&spec, dir.path(), "amd64", Variant::VimageRuntime);
    let text = dir.path().join("notes.ko");
    std::fs::write(&text, "not an object\n").expect("write");
    let truncated = dir.path().join("truncated.ko");
    let bytes = std::fs::read(&ko).expect("read");
    std::fs::write(&truncated, &bytes[..bytes.len().min(200)]).expect("write");
    let linux_c = dir.path().join("linux.c");
    std::fs::write(&linux_c, "int linux_answer = 42;\n").expect("write");
    let linux = dir.path().join("linux.o");
    let status = Command::new(&toolchain.clang)
        .args(["--target=x86_64-unknown-linux-gnu", "-c"])
        .arg(&linux_c)
        .arg("-o")
        .arg(&linux)
        .status()
        .expect("run clang");
    assert!(status.success());
    for (file, words) in [
        (&text, "not an ELF object"),
        (&truncated, "truncated"),
        (&linux, "FreeBSD"),
        (&dir.path().join("missing.ko"), "cannot read"),
    ] {
        let out = vnetgen(&["inspect"], &[&ko, file]);
        assert_eq!(out.status.code(), Some(1), "{}", file.display());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&file.display().to_string()) && err.contains(words),
            "{}: {err}",
            file.display()
        );
    }
}
