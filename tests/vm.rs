//! Differential tests: every scenario under tests/kld/ and every lab test
//! kmod's scenario runs in the emulated kernel (`vnetgen kld`) and on the
//! real FreeBSD kernels (`vnetgen vm`: 13.2 and 15.1 amd64, 13.2 i386, with
//! and without VIMAGE, and 13.2 with INVARIANTS), and the outcomes must be
//! the same, step by step.  Each real kernel boots once, with all its
//! scenarios in one plan; a scenario that kills the kernel (a fault, a
//! panic, a hang) runs last, on one kernel each.
//!
//! The kernels come from `VNETGEN_KERNELS`, or `../shared/freebsd/kernels`
//! beside the repository (`<release>/<arch>/<CONFIG>/kernel`).  Without
//! them, or without QEMU, xorriso or grub-mkrescue, the test fails and
//! says how to get them: it never skips.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use vnetgen::build::cflags::stub_sysroot;
use vnetgen::kld::{self, RunOptions};
use vnetgen::spec::{Spec, VnetCopyOrder};
use vnetgen::vm::{self, compare, Accel, KernelReport, VmOptions};

/// Where the kernels are, or a failure that says how to get them.
fn kernels_root() -> PathBuf {
    let root = match std::env::var_os("VNETGEN_KERNELS") {
        Some(p) => PathBuf::from(p),
        None => common::repo().join("../shared/freebsd/kernels"),
    };
    assert!(
        root.is_dir(),
        "no FreeBSD kernels at {}: point VNETGEN_KERNELS at a directory of \
         <release>/<arch>/<CONFIG>/kernel (the kernels of ../shared/freebsd/kernels, \
         built from FreeBSD's tree with tools/build/make.py buildkernel as \
         ../shared/freebsd/VM.md describes)",
        root.display()
    );
    root
}

/// Every `<release>/<arch>/<CONFIG>/kernel` below `root`, sorted.
fn kernels(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let dirs = |d: &Path| -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(d)
            .map(|r| {
                r.flatten()
                    .map(|e| e.path())
                    .filter(|p| p.is_dir())
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    };
    for release in dirs(root) {
        for arch in dirs(&release) {
            for config in dirs(&arch) {
                if config.join("kernel").is_file() {
                    out.push(config);
                }
            }
        }
    }
    assert!(
        !out.is_empty(),
        "no <release>/<arch>/<CONFIG>/kernel below {}",
        root.display()
    );
    out
}

fn tools() {
    for tool in [
        "qemu-system-x86_64",
        "qemu-system-i386",
        "xorriso",
        "grub-mkrescue",
    ] {
        let found = Command::new(tool).arg("--version").output().is_ok();
        assert!(found, "{tool} not found; {}", vm::INSTALL_HINT);
    }
    assert!(
        Path::new(vm::grub::DEFAULT_GRUB_DIR)
            .join("relocator.mod")
            .is_file(),
        "GRUB's i386-pc modules are missing; {}",
        vm::INSTALL_HINT
    );
}

/// The scenarios every kernel runs, and the variables they need.
fn scenarios() -> Vec<PathBuf> {
    let repo = common::repo();
    let mut out: Vec<PathBuf> = std::fs::read_dir(repo.join("tests/kld"))
        .expect("tests/kld")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "kld"))
        .filter(|p| !FATAL.iter().any(|f| p.ends_with(f)))
        .collect();
    out.sort();
    for kmod in common::kmod_names() {
        let s = repo.join("tests/kmods").join(&kmod).join("scenario.kld");
        if s.is_file() {
            out.push(s);
        }
    }
    out
}

/// The scenarios of tests/kld/real/: steps the emulator does not model
/// (`ifconfig`: it has no network stack), run on the real kernels only, in
/// the same boot as the others.
fn real_only_scenarios() -> Vec<PathBuf> {
    kld_files("tests/kld/real")
}

/// The `.kld` files of a directory of the repository, sorted.
fn kld_files(dir: &str) -> Vec<PathBuf> {
    files_ending(&common::repo().join(dir), "kld")
}

/// The files of `dir` with the extension `ext`, sorted.
fn files_ending(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    out.sort();
    out
}

/// The scenarios that end the kernel they run on, and the kernel each runs
/// on (last in its plan).
const FATAL: [&str; 3] = ["fault.kld", "panic.kld", "loop.kld"];

fn fatal_for(label: &str) -> Option<&'static str> {
    match label {
        "13.2/amd64/VIMAGE" => Some("fault.kld"),
        "15.1/amd64/NOVIMAGE" => Some("panic.kld"),
        "15.1/amd64/VIMAGE" => Some("loop.kld"),
        _ => None,
    }
}

/// `$module` of a lab kmod's scenario: its sources, built as vimage-runtime.
fn vars_for(scenario: &Path, copy: VnetCopyOrder) -> BTreeMap<String, String> {
    let mut vars = BTreeMap::new();
    vars.insert("detect".into(), "probe".into());
    let (copy, vnet0) = match copy {
        VnetCopyOrder::BeforeRelocation => ("before-relocation", "0"),
        VnetCopyOrder::AfterRelocation => ("after-relocation", "1"),
    };
    vars.insert("copy".into(), copy.into());
    vars.insert("vnet0".into(), vnet0.into());
    if let Some(kmod) = scenario
        .parent()
        .filter(|d| d.parent().is_some_and(|p| p.ends_with("tests/kmods")))
        .and_then(|d| d.file_name())
    {
        vars.insert(
            "module".into(),
            format!("../{} variant=vimage-runtime", kmod.to_string_lossy()),
        );
    }
    vars
}

fn cache() -> PathBuf {
    common::repo().join("target/vnetgen-vm-tests")
}

/// One QEMU at a time: the tests of this file take turns.
static ONE_QEMU: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_qemu() -> std::sync::MutexGuard<'static, ()> {
    ONE_QEMU.lock().unwrap_or_else(|e| e.into_inner())
}

struct Run {
    report: KernelReport,
    seconds: f64,
}

/// One kernel, booted once with `scenarios` (each with its own variables,
/// so run one at a time through the same plan: the vm keeps the variables
/// of a run, so scenarios that need different ones share a value each).
fn run_real(kernel: &Path, scenarios: &[PathBuf], copy: VnetCopyOrder) -> Run {
    let spec = Spec::default_spec().expect("default spec");
    // Every scenario's variables: they agree where they overlap, except
    // $module, which only the lab kmods' scenarios use, through the plan's
    // per-scenario parse.
    let options = VmOptions {
        spec,
        cache: cache(),
        vm_cache: cache().join("vm"),
        sysroot: stub_sysroot(),
        timeout: Duration::from_secs(15),
        vars: vars_for(Path::new("tests/kld/x.kld"), copy),
        release: None,
        accel: Accel::Auto,
        memory_mb: 512,
        grub_dir: PathBuf::from(vm::grub::DEFAULT_GRUB_DIR),
    };
    let started = Instant::now();
    let mut reports = vm::run_with_vars(
        &[kernel.to_path_buf()],
        &scenarios
            .iter()
            .map(|s| (s.clone(), vars_for(s, copy)))
            .collect::<Vec<_>>(),
        &options,
    )
    .unwrap_or_else(|e| panic!("{}: {e}", kernel.display()));
    Run {
        report: reports.remove(0),
        seconds: started.elapsed().as_secs_f64(),
    }
}

/// A kernel, and the release of the spec its osreldate is.
fn identify(spec: &Spec, kernel: &Path) -> (vm::KernelInfo, vnetgen::spec::Release) {
    let info = vm::kernel::identify(spec, kernel).unwrap_or_else(|e| panic!("{e}"));
    let release = info
        .osreldate
        .and_then(|v| spec.release_of_osreldate(v))
        .unwrap_or_else(|| panic!("{}: no release of the spec", kernel.display()))
        .clone();
    (info, release)
}

/// A scenario in the emulator, as it ran on the kernel `info` describes.
fn emulate(
    spec: &Spec,
    path: &Path,
    info: &vm::KernelInfo,
    release: &vnetgen::spec::Release,
) -> kld::Transcript {
    let mut vars = vars_for(path, release.vnet_copy);
    vars.insert("kernel".into(), info.config.name().into());
    let options = RunOptions {
        spec: spec.clone(),
        release: Some(release.name.clone()),
        arch: Some(info.arch.to_string()),
        cache: cache(),
        sysroot: stub_sysroot(),
        timeout: Duration::from_secs(10),
        vars,
    };
    kld::run_file(path, &options).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn the_emulator_and_the_real_kernels_agree_on_every_scenario() {
    let _turn = one_qemu();
    common::toolchain();
    tools();
    let root = kernels_root();
    let spec = Spec::default_spec().expect("default spec");
    let mut problems = Vec::new();
    let mut timings = Vec::new();
    let mut compared = 0;
    let mut real_only_passed = 0;
    for kernel in kernels(&root) {
        let (info, release) = identify(&spec, &kernel);
        let mut list = scenarios();
        let real_only = real_only_scenarios();
        list.extend(real_only.iter().cloned());
        if let Some(f) = fatal_for(&info.label) {
            list.push(common::repo().join("tests/kld").join(f));
        }
        let real = run_real(&kernel, &list, release.vnet_copy);
        timings.push(format!(
            "{}: {:.1} s for {} scenarios in {} boot(s)",
            info.label,
            real.seconds,
            list.len(),
            real.report.boots.len()
        ));
        assert_eq!(
            real.report.boots.len(),
            1,
            "{}: the kernel booted more than once: {:?}",
            info.label,
            real.report
                .boots
                .iter()
                .map(|b| &b.ended)
                .collect::<Vec<_>>()
        );
        for (path, result) in list.iter().zip(&real.report.scenarios) {
            if matches!(result.verdict, vm::Verdict::Skipped(_)) {
                continue;
            }
            let emulated = emulate(&spec, path, &info, &release);
            if real_only.contains(path) {
                // The real kernel passes it; the emulator refuses it at its
                // first ifconfig, and says where to run it.
                if !result.passed() {
                    problems.push(format!(
                        "{} on {}: {:?}",
                        path.display(),
                        info.label,
                        result.verdict
                    ));
                }
                let refused = emulated.failure.as_ref().is_some_and(|f| {
                    f.message.contains("no network stack") && f.message.contains("vnetgen vm run")
                });
                assert!(
                    refused,
                    "{}: the emulator should refuse its ifconfig steps: {:?}",
                    path.display(),
                    emulated.failure
                );
                real_only_passed += 1;
                continue;
            }
            compared += 1;
            for d in compare::differences(&emulated, result) {
                problems.push(format!(
                    "{} on {} (FreeBSD {}):\n    {d}",
                    path.strip_prefix(common::repo()).unwrap_or(path).display(),
                    info.label,
                    release.name
                ));
            }
        }
    }
    eprintln!("{}", timings.join("\n"));
    assert!(
        compared >= 40,
        "only {compared} scenario runs were compared"
    );
    assert!(
        real_only_passed >= kernels(&root).len(),
        "tests/kld/real/ ran {real_only_passed} times on {} kernels",
        kernels(&root).len()
    );
    assert!(
        problems.is_empty(),
        "the emulator and the real kernels disagree:\n{}",
        problems.join("\n")
    );
}

/// The cache of the bad-input test: its QEMUs are told apart by it.
fn bad_cache() -> PathBuf {
    common::repo().join("target/vnetgen-vm-bad-input")
}

/// Runs `vnetgen vm run` and returns its exit code and standard output.
fn vnetgen_vm(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_vnetgen"))
        .arg("vm")
        .arg("run")
        .args([
            "--cache",
            &bad_cache().display().to_string(),
            "--timeout",
            "15",
        ])
        .args(args)
        .output()
        .expect("run vnetgen");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// No QEMU that booted from `dir` is left running.
fn no_qemu_left(dir: &Path) {
    let needle = dir.display().to_string();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        assert!(
            !(cmdline.contains("qemu-system") && cmdline.contains(&needle)),
            "a QEMU is still running: {cmdline}"
        );
    }
}

#[test]
fn bad_kernels_and_dying_guests_get_a_clear_verdict_and_leave_nothing_running() {
    let _turn = one_qemu();
    common::toolchain();
    tools();
    let root = kernels_root();
    let repo = common::repo();
    let scenario = repo.join("tests/kld/runtime_on_vimage.kld");
    let dir = tempfile::tempdir().expect("temporary directory");

    // Not an ELF, and an ELF that is no FreeBSD kernel: no boot, a verdict.
    let text = dir.path().join("kernel.txt");
    std::fs::write(&text, "not a kernel").expect("write");
    let (code, out, _) = vnetgen_vm(&[
        "--kernel",
        &text.display().to_string(),
        "--kernel",
        env!("CARGO_BIN_EXE_vnetgen"),
        "--format",
        "json",
        &scenario.display().to_string(),
    ]);
    assert_eq!(code, 6, "{out}");
    let json: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(json["schema"], 1);
    let reported = json["kernels"].as_array().expect("kernels");
    assert!(reported[0]["problem"]
        .as_str()
        .is_some_and(|p| p.contains("not an ELF")));
    assert!(reported[1]["problem"]
        .as_str()
        .is_some_and(|p| p.contains("not an executable") || p.contains("not a FreeBSD kernel")));
    assert_eq!(reported[0]["scenarios"][0]["verdict"], "failed");

    // A FreeBSD kernel whose code is zeroed never reaches init: QEMU ends
    // (or is killed), and the verdict says so with the last console lines.
    let original = kernels(&root)
        .into_iter()
        .find(|k| k.ends_with("15.1/amd64/VIMAGE"))
        .unwrap_or_else(|| panic!("no 15.1/amd64/VIMAGE below {}", root.display()));
    let mut bytes = std::fs::read(original.join("kernel")).expect("read the kernel");
    let file = object::File::parse(&*bytes).expect("an ELF");
    let (offset, size) = {
        use object::{Object, ObjectSection};
        file.section_by_name(".text")
            .and_then(|s| s.file_range())
            .expect(".text")
    };
    drop(file);
    for b in &mut bytes[offset as usize..(offset + size) as usize] {
        *b = 0;
    }
    let broken = dir.path().join("kernel");
    std::fs::write(&broken, &bytes).expect("write the broken kernel");
    let started = Instant::now();
    let (code, out, err) = vnetgen_vm(&[
        "--kernel",
        &broken.display().to_string(),
        "--format",
        "junit",
        &scenario.display().to_string(),
    ]);
    assert_eq!(code, 6, "{out}{err}");
    assert!(out.contains("<testsuite name=\"vm "), "{out}");
    assert!(out.contains("never reached init"), "{out}");
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
    no_qemu_left(&bad_cache());
}

/// The lab's `real` column: every amd64 and i386 cell of 13.2 whose test
/// kmod has a scenario runs it on the real kernel of its configuration,
/// and the prediction, the emulator (amd64) and the real kernel agree.
#[test]
fn the_lab_real_column_agrees_with_prediction_and_emulator() {
    common::toolchain();
    let root = kernels_root();
    let cache = tempfile::tempdir().expect("temporary directory");
    let _turn = one_qemu();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_vnetgen"))
        .args([
            "abi",
            "--arch",
            "amd64",
            "--arch",
            "i386",
            "--release",
            "13.2",
        ])
        .arg("--kmods")
        .arg(common::repo().join("tests/kmods"))
        .arg("--cache")
        .arg(cache.path())
        .args(["--format", "json", "--real-kernels"])
        .arg(&root)
        .output()
        .expect("run vnetgen abi --real-kernels");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let code = out.status.code().unwrap_or(-1);
    assert_eq!(
        code & 8,
        0,
        "a cell fails or disagrees:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_str(&stdout).expect("JSON report");
    let cells = doc["cells"].as_array().expect("cells");
    let mut with_real = 0;
    for c in cells {
        let real = c["real"]
            .as_str()
            .unwrap_or_else(|| panic!("no real verdict: {c}"));
        assert_eq!(real, c["verdict"], "{c}");
        assert_eq!(real, c["expected"], "{c}");
        if c["arch"] == "amd64" {
            assert_eq!(c["runs"], c["real"], "{c}");
        }
        with_real += 1;
    }
    // 3 kmods x 4 builds x 2 kernels x 2 architectures.
    assert_eq!(with_real, 48);
    assert!(
        cells.iter().any(|c| c["real"] == "fails"),
        "some cells must fail on the real kernel"
    );
}

/// The kmod sources of a lab test module (tests/kmods or tests/kld/kmods).
fn kmod_dir_sources(name: &str) -> Vec<PathBuf> {
    let repo = common::repo();
    let dir = [repo.join("tests/kld/kmods"), repo.join("tests/kmods")]
        .into_iter()
        .map(|d| d.join(name))
        .find(|d| d.is_dir())
        .unwrap_or_else(|| panic!("no kmod {name}"));
    files_ending(&dir, "c")
}

/// Mutation testing of the dual glue: each defect (proxies that run the
/// SYSINITs in another order, from a kldload or from the boot with the
/// file preloaded, the other side's sysctls registered,
/// the module metadata declared twice, a reference left strong) is put
/// into dual builds of vnet_full and sysinit_order, and the scenario that
/// the right builds pass fails on a real kernel, VIMAGE or not.
#[test]
fn the_real_kernels_kill_every_mutant_of_the_dual_glue() {
    use vnetgen::build::dual::{DualBuild, GlueMutant};
    let _turn = one_qemu();
    let toolchain = common::toolchain();
    tools();
    let root = kernels_root();
    let spec = Spec::default_spec().expect("default spec");
    let release = spec.release_or_newest(Some("13.2")).expect("13.2").clone();
    let generated = common::generate(&spec);
    let sysroot = stub_sysroot();
    let dir = tempfile::tempdir().expect("temporary directory");
    let amd64 = spec.arch("amd64").expect("amd64");
    let mut mutants: Vec<Option<GlueMutant>> = vec![None];
    mutants.extend(GlueMutant::ALL.map(Some));
    let mut scenarios = Vec::new();
    for mutant in &mutants {
        let label = mutant.map_or("unmutated", |m| m.name());
        let mut kos = BTreeMap::new();
        for kmod in ["vnet_full", "sysinit_order"] {
            let out_dir = dir.path().join(label).join(kmod);
            let sources = kmod_dir_sources(kmod);
            let ko = DualBuild {
                spec: &spec,
                arch: amd64,
                release: Some(&release),
                name: kmod,
                sources: &sources,
                generated: generated.path(),
                sysroot: &sysroot,
                out_dir: &out_dir,
                extra_cflags: &[],
                mutant: *mutant,
            }
            .build(&toolchain)
            .unwrap_or_else(|e| panic!("{label} {kmod}: {e}"));
            kos.insert(kmod, ko);
        }
        // What dual_order.kld and dual.kld check of these modules.
        let scenario = dir.path().join(format!("{label}.kld"));
        let text = format!(
            "kernel $kernel arch=amd64\n\
             load {order}\n\
             call sysinit_order_get expect=321\n\
             unload\n\
             load {full}\n\
             call vnet_full_init_calls_get expect=1\n\
             call vnet_full_ttl expect=128\n\
             sysctl net.vnet_full_inits expect=1\n\
             vimage: vnet create\n\
             vimage: call vnet_full_init_calls_get expect=2\n\
             vimage: vnet destroy 1\n\
             unload\n",
            order = kos["sysinit_order"].display(),
            full = kos["vnet_full"].display(),
        );
        std::fs::write(&scenario, text).expect("write the scenario");
        scenarios.push((label, scenario));
        // What preload/dual_order.kld checks: the boot's order.
        let scenario = dir.path().join(format!("{label}-preload.kld"));
        let text = format!(
            "kernel $kernel arch=amd64\n\
             preload {order}\n\
             call sysinit_order_get expect=312\n",
            order = kos["sysinit_order"].display(),
        );
        std::fs::write(&scenario, text).expect("write the scenario");
        scenarios.push((label, scenario));
    }
    let options = VmOptions {
        spec: spec.clone(),
        cache: cache(),
        vm_cache: cache().join("vm"),
        sysroot: stub_sysroot(),
        timeout: Duration::from_secs(15),
        vars: vars_for(Path::new("tests/kld/x.kld"), release.vnet_copy),
        release: Some(release.name.clone()),
        accel: Accel::Auto,
        memory_mb: 512,
        grub_dir: PathBuf::from(vm::grub::DEFAULT_GRUB_DIR),
    };
    let kernels: Vec<PathBuf> = ["VIMAGE", "NOVIMAGE"]
        .iter()
        .map(|c| root.join("13.2/amd64").join(c))
        .collect();
    let reports = vm::run_with_vars(
        &kernels,
        &scenarios
            .iter()
            .map(|(_, s)| (s.clone(), vars_for(s, release.vnet_copy)))
            .collect::<Vec<_>>(),
        &options,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut survivors = Vec::new();
    for label in mutants.iter().map(|m| m.map_or("unmutated", |m| m.name())) {
        let verdicts: Vec<&vm::Verdict> = reports
            .iter()
            .flat_map(|r| {
                scenarios
                    .iter()
                    .zip(&r.scenarios)
                    .filter(|((l, _), _)| *l == label)
                    .map(|(_, s)| &s.verdict)
            })
            .collect();
        let failed = verdicts
            .iter()
            .any(|v| matches!(v, vm::Verdict::Failed { .. }));
        if label == "unmutated" {
            assert!(
                verdicts.iter().all(|v| matches!(v, vm::Verdict::Passed)),
                "the right dual builds must pass: {verdicts:?}"
            );
        } else if !failed {
            survivors.push(label);
        } else {
            eprintln!("{label}: killed: {verdicts:?}");
        }
    }
    assert!(survivors.is_empty(), "mutants not killed: {survivors:?}");
}

/// Preloaded: the scenarios of tests/kld/preload/ boot each real kernel
/// with their modules loaded by the loader (GRUB's kfreebsd_module_elf),
/// one boot per set of preloaded files, and agree with the emulator.
#[test]
fn preloaded_modules_run_on_every_real_kernel_as_in_the_emulator() {
    let _turn = one_qemu();
    common::toolchain();
    tools();
    let root = kernels_root();
    let spec = Spec::default_spec().expect("default spec");
    let list = kld_files("tests/kld/preload");
    assert!(!list.is_empty(), "no preload scenarios");
    let mut problems = Vec::new();
    let mut kernels_run = 0;
    for kernel in kernels(&root) {
        let (info, release) = identify(&spec, &kernel);
        let real = run_real(&kernel, &list, release.vnet_copy);
        kernels_run += 1;
        for (path, result) in list.iter().zip(&real.report.scenarios) {
            if !matches!(result.verdict, vm::Verdict::Passed) {
                problems.push(format!(
                    "{} on {}: {:?}",
                    path.display(),
                    info.label,
                    result.verdict
                ));
                continue;
            }
            let emulated = emulate(&spec, path, &info, &release);
            for d in compare::differences(&emulated, result) {
                problems.push(format!("{} on {}:\n    {d}", path.display(), info.label));
            }
        }
    }
    assert!(kernels_run >= 7, "only {kernels_run} kernels");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
