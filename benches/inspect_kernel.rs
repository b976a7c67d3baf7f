//! `vnetgen inspect --kernel` on a large kernel image, against `llvm-nm-19`
//! listing the same file, in one run.  The target: no slower than llvm-nm.
//!
//! The bench builds its own kernel (cached under target/vnetgen-bench/): an
//! amd64 ET_EXEC with 60,000 global symbols besides the spec's VIMAGE
//! kernel's, and 20 MiB of data; and a vnet_full module, built as
//! vimage-runtime.  Each command runs ROUNDS times, alternating; the medians
//! and their ratio are printed.

#[path = "../tests/common/kernel_elf.rs"]
mod kernel_elf;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use vnetgen::build::cflags::{stub_sysroot, Target};
use vnetgen::build::kmod::ModuleBuild;
use vnetgen::build::toolchain::Toolchain;
use vnetgen::spec::kernel_model::KernelModel;
use vnetgen::spec::variant::{KernelConfig, Variant};
use vnetgen::spec::Spec;

const SYMBOLS: usize = 60_000;
const PAD: usize = 20 << 20;
const ROUNDS: usize = 15;

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"))
        .join("vnetgen-bench")
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn time(cmd: &mut Command) -> Duration {
    let start = Instant::now();
    let status = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run the command");
    let elapsed = start.elapsed();
    assert!(status.code().is_some(), "killed by a signal");
    elapsed
}

fn main() {
    // `cargo test --benches` runs a bench once without --bench: nothing to time then.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let toolchain = Toolchain::locate().unwrap_or_else(|e| panic!("{e}"));
    let nm = PathBuf::from("llvm-nm-19");
    let spec = Spec::default_spec().expect("default spec");
    let dir = target_dir();
    let kernel = dir.join(format!("kernel-{SYMBOLS}"));
    if !kernel.is_file() {
        let model = KernelModel::new(&spec, KernelConfig::Vimage, spec.detect);
        let symbols: Vec<String> = model.symbols.iter().cloned().collect();
        kernel_elf::build(
            &toolchain,
            &dir,
            &format!("kernel-{SYMBOLS}"),
            &kernel_elf::KernelSpec {
                symbols: &symbols,
                filler: SYMBOLS,
                pad_bytes: PAD,
            },
        );
    }
    let module_dir = dir.join("module");
    let ko = module_dir.join("vnet_full.ko");
    if !ko.is_file() {
        let generated = dir.join("generated");
        vnetgen::generate(&spec, &generated, true).expect("generate");
        let kmod = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/kmods/vnet_full");
        let mut sources: Vec<PathBuf> = std::fs::read_dir(&kmod)
            .expect("tests/kmods/vnet_full")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "c"))
            .collect();
        sources.sort();
        let sysroot = stub_sysroot();
        let arch = spec.arch("amd64").expect("amd64");
        ModuleBuild {
            spec: &spec,
            target: Target {
                variant: Variant::VimageRuntime,
                kernel: KernelConfig::Vimage,
                arch,
                release: None,
            },
            name: "vnet_full",
            sources: &sources,
            generated: &generated,
            sysroot: &sysroot,
            out_dir: &module_dir,
            extra_cflags: &[],
        }
        .build(&toolchain)
        .unwrap_or_else(|e| panic!("{e}"));
    }
    let size = std::fs::metadata(&kernel).map(|m| m.len()).unwrap_or(0);
    let listed = Command::new(&nm)
        .arg(&kernel)
        .output()
        .unwrap_or_else(|e| panic!("llvm-nm-19: {e}; install it with: apt-get install -y llvm-19"));
    let lines = String::from_utf8_lossy(&listed.stdout).lines().count();
    let vnetgen = env!("CARGO_BIN_EXE_vnetgen");
    let check = Command::new(vnetgen)
        .arg("inspect")
        .arg("--kernel")
        .arg(&kernel)
        .arg(&ko)
        .output()
        .expect("run vnetgen inspect");
    let report = String::from_utf8_lossy(&check.stdout);
    assert_eq!(check.status.code(), Some(0), "{report}");
    assert!(report.contains(": VIMAGE ("), "{report}");

    let mut ours = Vec::new();
    let mut theirs = Vec::new();
    for _ in 0..ROUNDS {
        theirs.push(time(Command::new(&nm).arg(&kernel)));
        ours.push(time(
            Command::new(vnetgen)
                .arg("inspect")
                .arg("--kernel")
                .arg(&kernel)
                .arg(&ko),
        ));
    }
    let (ours, theirs) = (median(ours), median(theirs));
    println!(
        "kernel image: {} ({:.1} MiB, {lines} symbols listed by llvm-nm)",
        kernel.display(),
        size as f64 / f64::from(1 << 20)
    );
    println!(
        "vnetgen inspect --kernel: {:>8.2} ms (median of {ROUNDS})",
        ours.as_secs_f64() * 1e3
    );
    println!(
        "llvm-nm-19:               {:>8.2} ms (median of {ROUNDS})",
        theirs.as_secs_f64() * 1e3
    );
    println!(
        "ratio vnetgen / llvm-nm:  {:.3} (target: <= 1)",
        ours.as_secs_f64() / theirs.as_secs_f64()
    );
}
