//! The ABI lab: the whole expected matrix, the findings behind each
//! failure, the rules on purpose-built bad modules, the cache, and the
//! reports.

mod common;

use std::path::PathBuf;
use std::process::Command;

use vnetgen::build::cflags::stub_sysroot;
use vnetgen::lab::{self, Cell, LabOptions, LabReport, Verdict};
use vnetgen::spec::variant::{KernelConfig, Variant};
use vnetgen::spec::Spec;

fn options(kmods: PathBuf, cache: PathBuf, archs: &[&str]) -> LabOptions {
    let spec = Spec::default_spec().expect("default spec");
    LabOptions {
        archs: if archs.is_empty() {
            spec.archs.iter().map(|a| a.name.clone()).collect()
        } else {
            archs.iter().map(|a| a.to_string()).collect()
        },
        variants: Variant::ALL.to_vec(),
        kernels: KernelConfig::ALL.to_vec(),
        kmods,
        jobs: 2,
        cache,
        sysroot: stub_sysroot(),
        progress: false,
        release: None,
    }
}

fn run_matrix(cache: &std::path::Path) -> LabReport {
    common::toolchain();
    let spec = Spec::default_spec().expect("default spec");
    lab::run(
        &spec,
        &options(common::repo().join("tests/kmods"), cache.to_path_buf(), &[]),
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

fn cells<'r>(
    report: &'r LabReport,
    kmod: &str,
    variant: Variant,
    built_for: Option<KernelConfig>,
    kernel: KernelConfig,
) -> Vec<&'r Cell> {
    report
        .cells
        .iter()
        .filter(|c| {
            c.kmod == kmod && c.variant == variant && c.built_for == built_for && c.kernel == kernel
        })
        .collect()
}

#[test]
fn the_whole_matrix_matches_the_expected_one_and_a_rerun_compiles_nothing() {
    let cache = tempfile::tempdir().expect("temporary directory");
    let report = run_matrix(cache.path());
    let spec = Spec::default_spec().expect("default spec");
    // kmods x archs x (kld-tied for two kernels, vimage, vimage-runtime) x kernels
    assert_eq!(
        report.cells.len(),
        common::kmod_names().len() * spec.archs.len() * 4 * 2
    );
    let differ: Vec<String> = report
        .cells
        .iter()
        .filter(|c| c.verdict != c.expected)
        .map(|c| {
            format!(
                "{} {} {} {:?} on {}: {:?} {:#?}",
                c.kmod, c.arch, c.variant, c.built_for, c.kernel, c.verdict, c.findings
            )
        })
        .collect();
    assert!(
        differ.is_empty(),
        "cells that differ from the expected matrix:\n{}",
        differ.join("\n")
    );

    // The shape the issue promises, cell by cell.
    for kmod in common::kmod_names() {
        for kernel in KernelConfig::ALL {
            for c in cells(&report, &kmod, Variant::VimageRuntime, None, kernel) {
                assert_eq!(
                    c.verdict,
                    Verdict::Loads,
                    "{kmod} {} vimage-runtime on {kernel}",
                    c.arch
                );
            }
        }
    }
    for c in cells(
        &report,
        "vnet_full",
        Variant::Vimage,
        None,
        KernelConfig::Novimage,
    ) {
        assert_eq!(c.verdict, Verdict::Fails);
        let linker = if c.arch == "amd64" {
            "link_elf_obj"
        } else {
            "link_elf"
        };
        for symbol in ["vnet_register_sysinit", "vnet0", "vnet_entry_ip_defttl"] {
            let message = format!("{linker}: symbol {symbol} undefined");
            assert!(
                c.findings
                    .iter()
                    .any(|f| f.message == message && f.symbol.as_deref() == Some(symbol)),
                "{}: no `{message}`",
                c.arch
            );
        }
    }
    for c in cells(
        &report,
        "vnet_full",
        Variant::Vimage,
        None,
        KernelConfig::Vimage,
    ) {
        assert_eq!(c.verdict, Verdict::Loads, "{}", c.arch);
    }
    for built_for in KernelConfig::ALL {
        for kernel in KernelConfig::ALL {
            for c in cells(
                &report,
                "vnet_full",
                Variant::KldTied,
                Some(built_for),
                kernel,
            ) {
                let want = if built_for == kernel {
                    Verdict::Loads
                } else {
                    Verdict::Fails
                };
                assert_eq!(
                    c.verdict, want,
                    "{} kld-tied for {built_for} on {kernel}",
                    c.arch
                );
            }
        }
    }
    for c in cells(
        &report,
        "vnet_full",
        Variant::KldTied,
        Some(KernelConfig::Novimage),
        KernelConfig::Vimage,
    ) {
        assert!(
            c.findings
                .iter()
                .any(|f| f.rule == "plain-storage-on-vimage"),
            "{}",
            c.arch
        );
        assert!(
            c.findings
                .iter()
                .any(|f| f.symbol.as_deref() == Some("ip_defttl")),
            "{}",
            c.arch
        );
    }
    // The 32-byte aligned VNET struct is flagged, as a warning.
    for c in cells(
        &report,
        "vnet_full",
        Variant::VimageRuntime,
        None,
        KernelConfig::Vimage,
    ) {
        assert!(
            c.findings
                .iter()
                .any(|f| f.rule == "set-alignment" && f.section.as_deref() == Some("set_vnet")),
            "{}",
            c.arch
        );
    }
    // Modules without VNET load everywhere, whatever the variant.
    for kmod in ["plain", "dpcpu_stats"] {
        assert!(report
            .cells
            .iter()
            .filter(|c| c.kmod == kmod)
            .all(|c| c.verdict == Verdict::Loads));
    }

    assert_eq!(report.compiled(), report.builds.len());
    let again = run_matrix(cache.path());
    assert_eq!(
        again.compiled(),
        0,
        "a re-run with nothing changed compiled something"
    );
    assert_eq!(again.cells.len(), report.cells.len());
    assert!(!report.compile_commands.is_empty());
    assert!(report
        .compile_commands
        .iter()
        .all(|c| c.arguments.iter().any(|a| a.starts_with("--target="))));
}

#[test]
fn rules_catch_purpose_built_bad_modules() {
    common::toolchain();
    let cache = tempfile::tempdir().expect("temporary directory");
    let spec = Spec::default_spec().expect("default spec");
    let mut opts = options(
        common::repo().join("tests/lab_cases"),
        cache.path().to_path_buf(),
        &["amd64", "aarch64", "i386"],
    );
    // No vnet_support.c, which would reference the set bounds itself.
    opts.variants = vec![Variant::Vimage];
    let report = lab::run(&spec, &opts).unwrap_or_else(|e| panic!("{e}"));
    let has = |kmod: &str, arch: &str, rule: &str| {
        report
            .cells
            .iter()
            .any(|c| c.kmod == kmod && c.arch == arch && c.findings.iter().any(|f| f.rule == rule))
    };
    for arch in ["amd64", "aarch64", "i386"] {
        assert!(has("big_dpcpu", arch, "modspace"), "{arch}: modspace");
        assert!(
            has("pointer_set", arch, "pointer-in-set"),
            "{arch}: pointer-in-set"
        );
    }
    let big = report
        .cells
        .iter()
        .find(|c| c.kmod == "big_dpcpu" && c.arch == "amd64")
        .expect("cell");
    assert_eq!(big.verdict, Verdict::Fails);
    let message = &big
        .findings
        .iter()
        .find(|f| f.rule == "modspace")
        .expect("modspace finding")
        .message;
    assert!(
        message.contains("module space is out of space")
            && message.contains("4096")
            && message.contains("2048"),
        "{message}"
    );
    // Static storage in a set: wrong where modules reach it PC-relative, fine on amd64.
    assert!(
        has("static_set", "aarch64", "static-in-set") && has("static_set", "i386", "static-in-set")
    );
    assert!(!has("static_set", "amd64", "static-in-set"));
    // No reference to the bounds: a shared object does not export them.
    assert!(has("no_bounds", "aarch64", "set-bounds-export"));
    assert!(!has("no_bounds", "amd64", "set-bounds-export"));
    // The i386 link pads every set; nothing else trips the pad rule.
    assert!(report
        .cells
        .iter()
        .all(|c| c.findings.iter().all(|f| f.rule != "set-pad")));
}

#[test]
fn abi_command_writes_every_report_format_and_documented_exit_codes() {
    common::toolchain();
    let cache = tempfile::tempdir().expect("temporary directory");
    let out = tempfile::tempdir().expect("temporary directory");
    let kmods = common::repo().join("tests/kmods").display().to_string();
    let cache_arg = cache.path().display().to_string();
    for format in ["json", "junit", "html", "text"] {
        let file = out.path().join(format!("report.{format}"));
        let status = Command::new(env!("CARGO_BIN_EXE_vnetgen"))
            .args([
                "abi", "--arch", "amd64", "--arch", "riscv64", "--kmods", &kmods, "--cache",
                &cache_arg, "--format", format, "--output",
            ])
            .arg(&file)
            .status()
            .expect("run vnetgen abi");
        // Findings (bit 4), but no cell fails where it should load (bit 8).
        assert_eq!(status.code(), Some(4), "{format}");
        let text = std::fs::read_to_string(&file).expect("report written");
        match format {
            "json" => {
                let doc: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
                assert_eq!(doc["schema"], 1);
                let cells = doc["cells"].as_array().expect("cells");
                assert_eq!(cells.len(), 3 * 2 * 4 * 2);
                let c = &cells[0];
                for key in ["kmod", "arch", "variant", "kernel", "verdict", "findings"] {
                    assert!(c.get(key).is_some(), "cell lacks {key}");
                }
                let f = cells
                    .iter()
                    .flat_map(|c| c["findings"].as_array().cloned().unwrap_or_default())
                    .next()
                    .expect("a finding");
                for key in ["rule", "severity", "message", "object", "section", "symbol"] {
                    assert!(f.get(key).is_some(), "finding lacks {key}");
                }
            }
            "junit" => {
                assert!(
                    text.starts_with("<?xml")
                        && text.contains("<testsuite ")
                        && text.contains("tests=\"48\" failures=\"0\""),
                    "{text}"
                );
                assert_eq!(text.matches("<testcase ").count(), 48);
            }
            "html" => {
                assert!(
                    text.starts_with("<!DOCTYPE html>")
                        && text.contains("<style>")
                        && !text.contains("<script src")
                );
                assert!(text.contains("class=\"fails\"") && text.contains("class=\"loads\""));
            }
            _ => assert!(
                text.contains("48 cells") && text.contains("0 differ from the expected matrix"),
                "{text}"
            ),
        }
    }
    let commands = std::fs::read_to_string(cache.path().join("compile_commands.json"))
        .expect("compile_commands.json");
    let commands: serde_json::Value = serde_json::from_str(&commands).expect("valid JSON");
    assert!(commands
        .as_array()
        .is_some_and(|a| !a.is_empty() && a[0]["file"].is_string()));

    let bad = Command::new(env!("CARGO_BIN_EXE_vnetgen"))
        .args([
            "abi", "--arch", "vax", "--kmods", &kmods, "--cache", &cache_arg,
        ])
        .output()
        .expect("run");
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown arch `vax`"));
}

/// Path defaults are resolved against the current directory, once: from a
/// directory that is not the tree, with only `--kmods` given, the default
/// cache lands there and every `runs` cell finds its module.
#[test]
fn abi_defaults_work_from_another_directory() {
    let elsewhere = tempfile::tempdir().expect("temporary directory");
    let kmods = common::repo().join("tests/kmods");
    let out = Command::new(env!("CARGO_BIN_EXE_vnetgen"))
        .args(["abi", "--arch", "amd64", "--kmods"])
        .arg(&kmods)
        .current_dir(elsewhere.path())
        .output()
        .expect("run vnetgen abi");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code().map(|c| c & 8),
        Some(0),
        "unexpected failures:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(" 0 differ from the expected matrix"),
        "{stdout}"
    );
    assert!(!stdout.contains("can't load"), "{stdout}");
    assert!(
        elsewhere
            .path()
            .join("target/vnetgen-lab/compile_commands.json")
            .is_file(),
        "the default cache is relative to the current directory"
    );
}
