//! The emulated kernel linker: amd64 test kmods, built with the real kernel
//! flags, loaded into emulated VIMAGE and non-VIMAGE kernels and run.  One
//! test per promise of the issue; the scenarios are in tests/kld/.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use vnetgen::build::cflags::stub_sysroot;
use vnetgen::kld::{self, RunOptions, Transcript};
use vnetgen::lab::{self, LabOptions, Verdict};
use vnetgen::spec::kernel_model::KernelModel;
use vnetgen::spec::variant::{Detect, KernelConfig, Variant};
use vnetgen::spec::Spec;

/// A cache shared by the tests of this file (builds are keyed by content).
fn cache() -> PathBuf {
    common::repo().join("target/vnetgen-kld-tests")
}

fn options(vars: &[(&str, &str)]) -> RunOptions {
    common::toolchain();
    RunOptions {
        spec: Spec::default_spec().expect("default spec"),
        release: None,
        arch: None,
        cache: cache(),
        sysroot: stub_sysroot(),
        timeout: Duration::from_secs(60),
        vars: vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<BTreeMap<_, _>>(),
    }
}

fn scenario(name: &str) -> PathBuf {
    common::repo().join("tests/kld").join(name)
}

fn run(name: &str, vars: &[(&str, &str)]) -> Transcript {
    kld::run_file(&scenario(name), &options(vars)).unwrap_or_else(|e| panic!("{e}"))
}

fn passes(name: &str, vars: &[(&str, &str)]) -> Transcript {
    let t = run(name, vars);
    assert!(t.passed(), "{name} {vars:?} failed:\n{}", t.text);
    t
}

/// Runs an inline scenario written beside the others (paths resolve alike).
fn run_text(text: &str) -> Transcript {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("inline.kld");
    std::fs::write(&path, text).expect("write scenario");
    kld::run_file(&path, &options(&[])).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn vimage_runtime_on_a_vimage_kernel_keeps_an_instance_per_vnet() {
    let t = passes("runtime_on_vimage.kld", &[]);
    // Three vnets, three constructor runs; vnet 1's destructor at destroy,
    // the other two at unload.
    assert!(
        t.text.contains("vnet_full_init_calls_get() = 3"),
        "{}",
        t.text
    );
    assert!(t.text.contains("| vnet_full: uninit 1") && t.text.contains("| vnet_full: uninit 3"));
}

#[test]
fn vimage_runtime_on_a_novimage_kernel_has_one_instance_and_runs_its_sysinit_once() {
    passes("runtime_on_novimage.kld", &[]);
    let t = run_text("kernel novimage\nvnet create\n");
    let f = t.failure.expect("vnet create fails without VIMAGE");
    assert_eq!(f.line, 2);
    assert!(f.message.contains("no VIMAGE"), "{}", f.message);
}

#[test]
fn dpcpu_instances_are_separate_per_cpu_and_dpcpu_sum_adds_them() {
    for kernel in ["vimage", "novimage"] {
        let t = passes("dpcpu.kld", &[("kernel", kernel)]);
        assert!(t.text.contains("dpcpu_stats_total() = 19"), "{}", t.text);
    }
}

#[test]
fn a_kernel_vnet_variable_declared_by_the_module_resolves_on_both_kernels() {
    for name in ["runtime_on_vimage.kld", "runtime_on_novimage.kld"] {
        let t = passes(name, &[]);
        assert!(
            t.text.contains("vnet_full_ttl() = 128"),
            "{name}:\n{}",
            t.text
        );
    }
}

#[test]
fn a_vimage_build_fails_to_load_on_a_novimage_kernel_with_link_elf_objs_message() {
    let t = passes("vimage_build_on_novimage.kld", &[]);
    let spec = Spec::default_spec().expect("default spec");
    let model = KernelModel::new(&spec, KernelConfig::Novimage, Detect::Probe);
    let line = t
        .text
        .lines()
        .find(|l| l.contains("load failed: "))
        .expect("the load failed");
    let message = line.split("load failed: ").nth(1).expect("message");
    // The linker's line, then linker_load_file's.
    let (message, rest) = message.split_once("; ").expect("two lines");
    assert!(
        rest.ends_with("- unsupported file type"),
        "not linker_load_file's message: {rest}"
    );
    let symbol = message
        .strip_prefix("link_elf_obj: symbol ")
        .and_then(|s| s.strip_suffix(" undefined"))
        .unwrap_or_else(|| panic!("not FreeBSD's message: {message}"));
    assert_eq!(
        model.only_in.get(symbol),
        Some(&KernelConfig::Vimage),
        "{symbol} is not a VIMAGE-only symbol"
    );
}

#[test]
fn a_novimage_build_on_a_vimage_kernel_is_caught_sharing_one_instance_across_vnets() {
    let t = run("novimage_build_on_vimage.kld", &[]);
    let f = t.failure.expect("the shared instance is caught");
    assert_eq!(f.line, 7, "{}", t.text);
    assert!(f.message.ends_with("expected 0, got 5"), "{}", f.message);
}

#[test]
fn both_detection_modes_run_on_both_kernels() {
    for kernel in ["vimage", "novimage"] {
        passes("detect_kernel.kld", &[("kernel", kernel)]);
        // The test kmods' own scenarios, with the module built from source.
        for detect in ["probe", "kernel"] {
            passes(
                "../kmods/vnet_full/scenario.kld",
                &[
                    ("kernel", kernel),
                    ("detect", detect),
                    ("module", "../vnet_full variant=vimage-runtime"),
                ],
            );
        }
    }
    // A module built for detect = "kernel" needs such a kernel.
    let t = run_text(&format!(
        "kernel novimage detect=probe\nload {}\n",
        build_ko("vnet_full", Variant::VimageRuntime, Detect::Kernel).display()
    ));
    let f = t.failure.expect("a probe kernel lacks vimage_configured");
    assert!(
        f.message
            .contains("link_elf_obj: symbol vimage_configured undefined")
            || f.message.contains("link_elf_obj: symbol vnet_runtime_"),
        "{}",
        f.message
    );
}

#[test]
fn module_handlers_get_mod_load_at_load_and_mod_unload_before_the_sysuninits() {
    for kernel in ["vimage", "novimage"] {
        let t = passes("handlers.kld", &[("kernel", kernel)]);
        let at = |s: &str| {
            t.text
                .find(s)
                .unwrap_or_else(|| panic!("no `{s}`:\n{}", t.text))
        };
        assert!(at("early SYSINIT, loaded 0") < at("handlers: MOD_LOAD"));
        assert!(at("handlers: MOD_LOAD") < at("late SYSINIT, loaded 1"));
        assert!(at("handlers: MOD_UNLOAD") < at("handlers: SYSUNINIT"));
    }
}

#[test]
fn two_modules_share_a_vnet_variable_on_both_kernels_of_both_releases() {
    // vnet_owner defines the variable after its header's VNET_DECLARE;
    // with debug.link_elf_obj_leak_locals=0 the kernel links vnet_user
    // against global definitions only.
    for name in ["shared_vnet.kld", "shared_vnet_global.kld"] {
        for release in ["13.2", "15.1"] {
            for kernel in ["vimage", "novimage"] {
                let mut o = options(&[("kernel", kernel)]);
                o.release = Some(release.to_string());
                let t = kld::run_file(&scenario(name), &o).unwrap_or_else(|e| panic!("{e}"));
                assert!(t.passed(), "{name} {release} {kernel}:\n{}", t.text);
            }
        }
    }
}

#[test]
fn copy_order_is_a_kernel_option_and_set_pcpu_is_always_copied_before_relocation() {
    passes(
        "copy_order.kld",
        &[("copy", "after-relocation"), ("vnet0", "1")],
    );
    passes(
        "copy_order.kld",
        &[("copy", "before-relocation"), ("vnet0", "0")],
    );
}

#[test]
fn module_space_exhaustion_fails_the_load_with_freebsds_message_and_enoexec() {
    passes("enospc.kld", &[]);
}

#[test]
fn a_faulting_module_is_reported_with_the_signal_and_symbol_offset() {
    let t = run("fault.kld", &[]);
    let f = t.failure.expect("the fault is a failure");
    assert_eq!(f.line, 5);
    assert!(
        f.message.contains("SIGSEGV")
            && f.message.contains("at faulty_read+0x")
            && f.message.contains("in faulty.ko"),
        "{}",
        f.message
    );
    assert!(f.message.contains("fault address 0x8"), "{}", f.message);
    let t = run("panic.kld", &[]);
    assert_eq!(
        t.failure.expect("a panic is a failure").message,
        "panic: faulty: boom 42"
    );
    // And this process is still here to say so.
    passes("runtime_on_novimage.kld", &[]);
}

fn build_ko(kmod: &str, variant: Variant, detect: Detect) -> PathBuf {
    let mut spec = Spec::default_spec().expect("default spec");
    spec.detect = detect;
    let lab_options = LabOptions {
        archs: vec!["amd64".into()],
        variants: vec![variant],
        kernels: vec![KernelConfig::Vimage],
        kmods: PathBuf::new(),
        jobs: 1,
        cache: cache(),
        sysroot: stub_sysroot(),
        progress: false,
        release: None,
    };
    lab::build_module(
        &spec,
        &lab_options,
        &common::repo().join("tests/kmods").join(kmod),
        "amd64",
        variant,
        KernelConfig::Vimage,
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

fn section(info: &vnetgen::inspect::ObjectInfo, name: &str) -> (usize, usize) {
    let s = info.section(name).unwrap_or_else(|| panic!("no {name}"));
    (s.file_offset as usize, s.size as usize)
}

fn put(bytes: &mut [u8], at: usize, value: &[u8]) {
    bytes[at..at + value.len()].copy_from_slice(value);
}

#[test]
fn malformed_and_hostile_objects_are_rejected_with_clear_errors() {
    let good = std::fs::read(build_ko("plain", Variant::VimageRuntime, Detect::Probe))
        .expect("read plain.ko");
    let info = vnetgen::inspect::inspect_bytes("plain.ko", &good).expect("plain.ko is well formed");
    let (rela, _) = section(&info, ".rela.text");
    let (symtab, symtab_size) = section(&info, ".symtab");
    let text = info.section(".text").expect(".text").index;
    let shoff = u64::from_le_bytes(good[0x28..0x30].try_into().expect("8 bytes")) as usize;
    // A defined symbol in .text: its st_shndx and st_name.
    let sym = (1..symtab_size / 24)
        .map(|i| symtab + i * 24)
        .find(|&at| u16::from_le_bytes([good[at + 6], good[at + 7]]) as usize == text)
        .expect("a symbol in .text");

    type Mutation = Box<dyn Fn(&mut Vec<u8>)>;
    let cases: Vec<(&str, Mutation, &str)> = vec![
        (
            "not_elf",
            Box::new(|b| *b = b"hello, kernel".to_vec()),
            "not an ELF object",
        ),
        ("truncated", Box::new(|b| b.truncate(40)), "truncated"),
        ("class32", Box::new(|b| b[4] = 1), "bad_class32.ko"),
        ("big_endian", Box::new(|b| b[5] = 2), "bad_big_endian.ko"),
        (
            "aarch64",
            Box::new(|b| put(b, 18, &183u16.to_le_bytes())),
            "amd64",
        ),
        (
            "shared_object",
            Box::new(|b| put(b, 16, &3u16.to_le_bytes())),
            "bad_shared_object.ko",
        ),
        (
            "section_headers_past_end",
            Box::new(|b| put(b, 0x28, &(1u64 << 40).to_le_bytes())),
            "bad_section_headers_past_end.ko",
        ),
        (
            "section_past_end",
            Box::new(move |b| put(b, shoff + text * 64 + 24, &(1u64 << 33).to_le_bytes())),
            "bad_section_past_end.ko",
        ),
        (
            "shstrndx",
            Box::new(|b| put(b, 0x3e, &0x7ff0u16.to_le_bytes())),
            "bad_shstrndx.ko",
        ),
        (
            "symbol_index",
            Box::new(move |b| put(b, rela + 12, &0x00ff_ffffu32.to_le_bytes())),
            "symbol index",
        ),
        (
            "relocation_outside_section",
            Box::new(move |b| put(b, rela, &0x10_0000u64.to_le_bytes())),
            "outside",
        ),
        (
            "unknown_relocation",
            Box::new(move |b| put(b, rela + 8, &0x7fu32.to_le_bytes())),
            "unexpected relocation type 127",
        ),
        (
            "gotpcrel_from_fpic",
            Box::new(move |b| put(b, rela + 8, &42u32.to_le_bytes())),
            "-fPIC",
        ),
        (
            "symbol_section",
            Box::new(move |b| put(b, sym + 6, &0x7fffu16.to_le_bytes())),
            "bad_symbol_section.ko",
        ),
        (
            "symbol_name",
            Box::new(move |b| put(b, sym, &0x7fff_ffffu32.to_le_bytes())),
            "bad_symbol_name.ko",
        ),
        (
            "alignment",
            Box::new(move |b| put(b, shoff + text * 64 + 48, &3u64.to_le_bytes())),
            "bad_alignment.ko",
        ),
    ];
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut scenario = String::from("kernel vimage\n");
    for (name, mutate, _) in &cases {
        let mut bytes = good.clone();
        mutate(&mut bytes);
        std::fs::write(dir.path().join(format!("bad_{name}.ko")), &bytes).expect("write");
        scenario.push_str(&format!("load bad_{name}.ko\nexpect-load-error \"\"\n"));
    }
    // After all of them, the kernel still loads and runs a good module.
    std::fs::write(dir.path().join("plain.ko"), &good).expect("write");
    scenario.push_str("load plain.ko\ncall plain_add 1 1 expect=3\n");
    let path = dir.path().join("hostile.kld");
    std::fs::write(&path, scenario).expect("write");
    let t = kld::run_file(&path, &options(&[])).unwrap_or_else(|e| panic!("{e}"));
    assert!(t.passed(), "{}", t.text);
    let errors: Vec<&str> = t
        .text
        .lines()
        .filter(|l| l.contains("load failed: "))
        .collect();
    assert_eq!(errors.len(), cases.len(), "{}", t.text);
    for ((name, _, want), line) in cases.iter().zip(&errors) {
        assert!(
            line.contains(want),
            "bad_{name}.ko: `{line}` lacks `{want}`"
        );
        assert!(
            line.contains(&format!("bad_{name}.ko"))
                || line.contains("kldload: unexpected relocation type"),
            "bad_{name}.ko: the error does not name the object: {line}"
        );
    }
}

#[test]
fn the_matrix_gives_every_amd64_cell_a_runs_verdict_that_matches_the_expected_one() {
    common::toolchain();
    let spec = Spec::default_spec().expect("default spec");
    let kmods = common::repo().join("tests/kmods");
    let lab_options = LabOptions {
        archs: vec!["amd64".into()],
        variants: Variant::ALL.to_vec(),
        kernels: KernelConfig::ALL.to_vec(),
        kmods: kmods.clone(),
        jobs: 2,
        cache: cache(),
        sysroot: stub_sysroot(),
        progress: false,
        release: None,
    };
    let mut report = lab::run(&spec, &lab_options).unwrap_or_else(|e| panic!("{e}"));
    kld::matrix::add_runs(&mut report, &kmods, &options(&[])).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.cells.len(), common::kmod_names().len() * 4 * 2);
    for c in &report.cells {
        assert_eq!(
            c.runs,
            Some(c.expected),
            "{} {} {:?} on {}: {:?}",
            c.kmod,
            c.variant,
            c.built_for,
            c.kernel,
            c.runs_detail
        );
    }
    // The run confirms the static verdict where a build does not belong.
    let vimage_on_novimage = report
        .cells
        .iter()
        .find(|c| {
            c.kmod == "vnet_full"
                && c.variant == Variant::Vimage
                && c.kernel == KernelConfig::Novimage
        })
        .expect("cell");
    assert_eq!(vimage_on_novimage.runs, Some(Verdict::Fails));
    assert!(vimage_on_novimage
        .runs_detail
        .as_deref()
        .is_some_and(|d| d.contains("link_elf_obj: symbol ")));
}

#[test]
fn kld_run_prints_a_transcript_and_names_the_failing_line_with_exit_codes() {
    common::toolchain();
    let vnetgen = env!("CARGO_BIN_EXE_vnetgen");
    let cache = cache().display().to_string();
    let ok = Command::new(vnetgen)
        .args(["kld", "run", "--cache", &cache])
        .arg(scenario("runtime_on_novimage.kld"))
        .output()
        .expect("run vnetgen");
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let stdout = String::from_utf8_lossy(&ok.stdout);
    assert!(
        stdout.contains("runtime_on_novimage.kld:5: call vnet_full_init_calls_get expect=1"),
        "{stdout}"
    );
    assert!(stdout.contains("passed (11 steps)"), "{stdout}");

    let failed = Command::new(vnetgen)
        .args(["kld", "run", "--cache", &cache])
        .arg(scenario("novimage_build_on_vimage.kld"))
        .output()
        .expect("run vnetgen");
    assert_eq!(failed.status.code(), Some(6));
    assert!(String::from_utf8_lossy(&failed.stdout)
        .contains("novimage_build_on_vimage.kld:7: FAILED: "));

    let dir = tempfile::tempdir().expect("temporary directory");
    let bad = dir.path().join("bad.kld");
    std::fs::write(&bad, "kernel vimage\ncall\n").expect("write");
    let usage = Command::new(vnetgen)
        .args(["kld", "run"])
        .arg(&bad)
        .output()
        .expect("run vnetgen");
    assert_eq!(usage.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&usage.stderr).contains("bad.kld:2: "));
    assert!(Path::new(vnetgen).is_file());
}
