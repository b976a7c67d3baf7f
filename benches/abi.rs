//! The ABI lab's speed: a cold run of the full matrix against the same
//! clang and lld invocations run directly, and a cached re-run.
//!
//! Overhead = wall time of the cold run / (summed time of the direct
//! invocations / cores used) - 1.  Run with `cargo bench --bench abi`.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use vnetgen::build::cflags::stub_sysroot;
use vnetgen::lab::{self, LabOptions};
use vnetgen::spec::variant::{KernelConfig, Variant};
use vnetgen::spec::Spec;

fn options(cache: PathBuf, jobs: usize) -> LabOptions {
    let spec = Spec::default_spec().expect("default spec");
    LabOptions {
        archs: spec.archs.iter().map(|a| a.name.clone()).collect(),
        variants: Variant::ALL.to_vec(),
        kernels: KernelConfig::ALL.to_vec(),
        kmods: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/kmods"),
        jobs,
        cache,
        sysroot: stub_sysroot(),
        progress: false,
        release: None,
    }
}

fn run(program: &str, args: &[String]) -> Duration {
    let start = Instant::now();
    let status = Command::new(program).args(args).status().expect("run tool");
    assert!(status.success(), "{program} {args:?}");
    start.elapsed()
}

fn main() {
    // `cargo test --benches` runs benches once with --bench absent: keep that quick.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let spec = Spec::default_spec().expect("default spec");
    let jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
    let cache = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-abi");
    let _ = std::fs::remove_dir_all(&cache);

    let start = Instant::now();
    let report = lab::run(&spec, &options(cache.clone(), jobs)).expect("cold run");
    let cold = start.elapsed();

    // The same invocations, one at a time, outputs in a scratch directory.
    let scratch = tempfile::tempdir().expect("temporary directory");
    let mut direct = Duration::ZERO;
    let mut invocations = 0;
    for (n, c) in report.compile_commands.iter().enumerate() {
        let mut args: Vec<String> = c.arguments[1..].to_vec();
        if let Some(o) = args.iter().position(|a| a == "-o") {
            args[o + 1] = scratch.path().join(format!("{n}.o")).display().to_string();
        }
        direct += run(&c.arguments[0], &args);
        invocations += 1;
    }
    for (n, b) in report.builds.iter().enumerate() {
        let mut args: Vec<String> = b.link_command[1..].to_vec();
        if let Some(o) = args.iter().position(|a| a == "-o") {
            args[o + 1] = scratch.path().join(format!("{n}.ko")).display().to_string();
        }
        direct += run(&b.link_command[0], &args);
        invocations += 1;
    }
    let ideal = direct.as_secs_f64() / jobs as f64;
    let overhead = cold.as_secs_f64() / ideal - 1.0;

    let mut cached = Vec::new();
    for _ in 0..5 {
        let start = Instant::now();
        let again = lab::run(&spec, &options(cache.clone(), jobs)).expect("cached run");
        cached.push(start.elapsed());
        assert_eq!(again.compiled(), 0);
    }
    cached.sort();
    let median = cached[cached.len() / 2];

    println!(
        "abi matrix: {} cells, {} builds, {invocations} clang/lld invocations, {jobs} cores",
        report.cells.len(),
        report.builds.len()
    );
    println!(
        "cold run wall time:           {:>8.3} s",
        cold.as_secs_f64()
    );
    println!(
        "direct invocations, summed:   {:>8.3} s  (/ {jobs} cores = {ideal:.3} s)",
        direct.as_secs_f64()
    );
    println!(
        "overhead over direct:         {:>8.1} %  (target <= 15 %)",
        overhead * 100.0
    );
    println!(
        "cached re-run, median of 5:   {:>8.1} ms  (target < 300 ms)",
        median.as_secs_f64() * 1000.0
    );
}
