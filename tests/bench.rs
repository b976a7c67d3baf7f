//! Accessor strategies and `vnetgen bench`: every strategy of the spec is
//! correct (the ABI lab's matrix and the kld scenarios on both kernels),
//! the spec option is validated like the rest of the spec, and the static
//! instruction counts (from the disassembly, which do not vary) hold.

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use vnetgen::bench::{self, BenchOptions};
use vnetgen::build::cflags::stub_sysroot;
use vnetgen::kld::{self, RunOptions};
use vnetgen::lab::{self, LabOptions};
use vnetgen::spec::variant::{KernelConfig, Variant};
use vnetgen::spec::{Spec, SpecErrorCode, DEFAULT_SPEC};

fn cache() -> PathBuf {
    common::repo().join("target/vnetgen-bench-tests")
}

fn strategies() -> Vec<String> {
    let spec = Spec::default_spec().expect("default spec");
    spec.strategies.iter().map(|s| s.name.clone()).collect()
}

/// The lab's whole matrix for `archs` and, on amd64, every cell's scenario,
/// then the kld runtime scenarios on both kernels in both detection modes.
fn strategy_is_correct(name: &str, archs: &[&str]) {
    common::toolchain();
    let spec = Spec::default_spec_with_accessor(name).expect("strategy spec");
    assert_eq!(spec.accessor.as_deref(), Some(name));
    let kmods = common::repo().join("tests/kmods");
    let options = LabOptions {
        archs: archs.iter().map(|a| a.to_string()).collect(),
        variants: Variant::ALL.to_vec(),
        kernels: KernelConfig::ALL.to_vec(),
        kmods: kmods.clone(),
        jobs: 2,
        cache: cache(),
        sysroot: stub_sysroot(),
        progress: false,
        release: None,
    };
    let mut report = lab::run(&spec, &options).unwrap_or_else(|e| panic!("{name}: {e}"));
    let run_options = RunOptions {
        spec: spec.clone(),
        release: None,
        arch: None,
        cache: cache(),
        sysroot: stub_sysroot(),
        timeout: Duration::from_secs(60),
        vars: Default::default(),
    };
    if archs.contains(&"amd64") {
        kld::matrix::add_runs(&mut report, &kmods, &run_options)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    let wrong: Vec<String> = report
        .cells
        .iter()
        .filter(|c| c.differs())
        .map(|c| {
            format!(
                "{} {} {} {:?} on {}: {:?} (expected {:?}) {:?} {:?}",
                c.kmod,
                c.arch,
                c.variant,
                c.built_for,
                c.kernel,
                c.verdict,
                c.expected,
                c.runs_detail,
                c.findings
            )
        })
        .collect();
    assert!(wrong.is_empty(), "strategy {name}:\n{}", wrong.join("\n"));
    for scenario in ["runtime_on_vimage.kld", "runtime_on_novimage.kld"] {
        let path = common::repo().join("tests/kld").join(scenario);
        let t = kld::run_file(&path, &run_options).unwrap_or_else(|e| panic!("{e}"));
        assert!(t.passed(), "strategy {name}, {scenario}:\n{}", t.text);
    }
    let full = kmods.join("vnet_full/scenario.kld");
    for kernel in ["vimage", "novimage"] {
        for detect in ["probe", "kernel"] {
            let mut o = run_options.clone();
            for (k, v) in [
                ("kernel", kernel),
                ("detect", detect),
                ("module", "../vnet_full variant=vimage-runtime"),
            ] {
                o.vars.insert(k.into(), v.into());
            }
            let t = kld::run_file(&full, &o).unwrap_or_else(|e| panic!("{e}"));
            assert!(
                t.passed(),
                "strategy {name}, vnet_full on {kernel} ({detect}):\n{}",
                t.text
            );
        }
    }
}

#[test]
fn every_accessor_strategy_passes_the_lab_on_amd64_and_aarch64_and_the_kld_scenarios() {
    let names = strategies();
    assert!(names.len() >= 3, "{names:?}");
    for name in names {
        strategy_is_correct(&name, &["amd64", "aarch64"]);
    }
}

#[test]
#[ignore = "the full sweep: every strategy on every architecture (run with --ignored)"]
fn every_accessor_strategy_passes_the_lab_on_every_architecture() {
    let spec = Spec::default_spec().expect("default spec");
    let archs: Vec<&str> = spec.archs.iter().map(|a| a.name.as_str()).collect();
    for name in strategies() {
        strategy_is_correct(&name, &archs);
    }
}

#[test]
fn the_default_spec_selects_the_branch_strategy_and_its_headers_are_the_generated_ones() {
    let spec = Spec::default_spec().expect("default spec");
    assert_eq!(spec.accessor.as_deref(), Some("branch"));
    let names = strategies();
    assert_eq!(names, ["branch", "cached", "select"]);
    // Naming the default explicitly renders the same text.
    let again = Spec::default_spec_with_accessor("branch").expect("branch");
    assert_eq!(
        vnetgen::gen::render::render(&spec).expect("render"),
        vnetgen::gen::render::render(&again).expect("render")
    );
    // Another strategy changes only the run-time variant.
    let select = Spec::default_spec_with_accessor("select").expect("select");
    let a = vnetgen::gen::render::render(&spec).expect("render");
    let b = vnetgen::gen::render::render(&select).expect("render");
    for (x, y) in a.iter().zip(&b) {
        if x.path.starts_with("variants/") && !x.path.starts_with("variants/vimage-runtime/") {
            assert_eq!(x.contents, y.contents, "{}", x.path);
        }
    }
    let vnet = |files: &[vnetgen::gen::render::OutputFile]| {
        files
            .iter()
            .find(|f| f.path == "variants/vimage-runtime/sys/net/vnet.h")
            .map(|f| f.contents.clone())
            .expect("flattened runtime vnet.h")
    };
    assert!(vnet(&b).contains("_VNET_BASE(vnet_)"));
    assert!(!vnet(&a).contains("_VNET_BASE"));
}

fn spec_error(edit: impl Fn(&str) -> String) -> vnetgen::spec::SpecError {
    let text = edit(DEFAULT_SPEC);
    assert_ne!(text, DEFAULT_SPEC, "the edit changed nothing");
    Spec::parse("spec.toml", &text).expect_err("an invalid spec")
}

#[test]
fn an_accessor_that_names_no_strategy_is_a_located_s007() {
    let e = spec_error(|s| s.replacen("accessor = \"branch\"", "accessor = \"brnch\"", 1));
    assert_eq!(e.code, SpecErrorCode::UnknownReference);
    let text = e.to_string();
    assert!(text.contains("spec.toml:"), "{text}");
    assert!(
        text.contains("accessor `brnch` is not a [[runtime.strategy]]"),
        "{text}"
    );
    assert!(text.contains("`branch`, `cached`, `select`") || text.contains("`branch`"));
    let api = Spec::default_spec_with_accessor("nope").expect_err("unknown strategy");
    assert_eq!(api.code, SpecErrorCode::UnknownReference);
}

#[test]
fn a_strategy_body_for_a_compiled_in_variant_is_s009() {
    let e = spec_error(|s| {
        s.replacen(
            "body.runtime = \"VNET_VNET_PTR(curthread->td_vnet, n)\"",
            "body.vimage = \"VNET_VNET_PTR(curthread->td_vnet, n)\"",
            1,
        )
    });
    assert_eq!(e.code, SpecErrorCode::BadBody);
    assert!(
        e.to_string().contains("serves the run-time variant only"),
        "{e}"
    );
}

#[test]
fn a_strategy_entry_for_no_item_needs_a_family_and_a_group() {
    let e = spec_error(|s| {
        s.replacen(
            "name = \"_VNET_BASE\"\nfamily = \"vnet\"\ngroup = \"access\"\n",
            "name = \"_VNET_BASE\"\n",
            1,
        )
    });
    assert_eq!(e.code, SpecErrorCode::UnknownReference);
    assert!(e.to_string().contains("needs `family` and `group`"), "{e}");
    let e = spec_error(|s| {
        s.replacen(
            "family = \"vnet\"\ngroup = \"access\"\n",
            "family = \"vnt\"\ngroup = \"access\"\n",
            1,
        )
    });
    assert_eq!(e.code, SpecErrorCode::UnknownReference);
}

#[test]
fn two_strategies_of_one_name_are_s004() {
    let e = spec_error(|s| s.replacen("name = \"select\"", "name = \"branch\"", 1));
    assert_eq!(e.code, SpecErrorCode::Duplicate);
    assert!(e.to_string().contains("duplicate strategy `branch`"), "{e}");
}

/// Static counts on amd64 (no valgrind): every strategy is correct, DPCPU
/// costs nothing (pcpu.h is the same in every variant), and the default
/// is the strategy with the fewest extra instructions on the hot path.
#[test]
fn the_default_strategy_has_the_fewest_extra_instructions_on_amd64() {
    common::toolchain();
    let mut options = BenchOptions::new(&common::repo());
    options.archs = vec!["amd64".into()];
    options.cache = cache();
    options.jobs = 2;
    options.native_rounds = 3;
    let report = bench::run(&options).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.default_accessor.as_deref(), Some("branch"));
    for s in &report.strategies {
        assert!(s.correct, "{}: {:?}", s.name, s.failures);
        for r in &s.static_rows {
            if r.access.starts_with("dpcpu") {
                assert_eq!(r.extra, 0, "{} {r:?}", s.name);
            }
            assert!(r.runtime > 0 && r.compiled_in > 0, "{} {r:?}", s.name);
        }
        assert_eq!(s.static_rows.len(), 2 * bench::ACCESSES.len());
        assert!(!s.text_rows.is_empty());
    }
    let sum = |name: &str| -> i64 {
        report
            .strategies
            .iter()
            .find(|s| s.name == name)
            .map(|s| s.static_rows.iter().map(|r| r.extra).sum())
            .expect("strategy")
    };
    for other in ["select", "cached"] {
        assert!(
            sum("branch") <= sum(other),
            "branch {} vs {other} {}",
            sum("branch"),
            sum(other)
        );
    }
    // The branch strategy's hot path for a variable the unit defines: the
    // test of the link-time constant (mov, test, jcc), at most two more.
    let branch = &report.strategies[0];
    for r in branch
        .static_rows
        .iter()
        .filter(|r| r.access == "vnet_read")
    {
        assert!(r.extra <= 5, "{r:?}");
    }
    // dual: the active side is the compiled-in build's code, access for
    // access and byte for byte, on both kinds of kernel.
    assert_eq!(report.dual.len(), 2 * bench::ACCESSES.len());
    for r in &report.dual {
        assert!(r.compiled_in > 0 && r.extra == 0, "{r:?}");
    }
    assert_eq!(report.dual_text.len(), 2);
    for t in &report.dual_text {
        assert!(t.compiled_in > 0 && t.active == t.compiled_in, "{t:?}");
        assert!(t.module > t.active, "{t:?}");
    }
    // The native measure times every strategy and the dual build against
    // the compiled-in build, round by round (what it measures is for
    // BENCHMARKS.md, not for a test: only its shape is checked here).
    assert_eq!(
        report.native.len(),
        2 * bench::ACCESSES.len() * (report.strategies.len() + 1)
    );
    for r in &report.native {
        assert!(
            r.ticks > 0.0 && r.compiled_in_ticks > 0.0 && r.rounds > 0,
            "{r:?}"
        );
    }
    assert!(report.native.iter().any(|r| r.build == "dual"));
    let json: serde_json::Value =
        serde_json::from_str(&bench::report::json(&report)).expect("json");
    assert_eq!(json["schema"], 1);
    // The sizes of every build: the dual module's active side is the
    // compiled-in build's functions, its file carries both and more.
    for kernel in [KernelConfig::Vimage, KernelConfig::Novimage] {
        let size = |build: &str| {
            report
                .probe_sizes
                .iter()
                .find(|p| p.kernel == kernel && p.build == build)
                .unwrap_or_else(|| panic!("no size of {build} on {kernel}"))
        };
        let (ci, dual) = (size("compiled-in"), size("dual"));
        assert!(ci.active > 0 && dual.active == ci.active, "{ci:?} {dual:?}");
        assert!(
            dual.text > ci.text && dual.file > ci.file,
            "{ci:?} {dual:?}"
        );
        for s in &report.strategies {
            let rt = size(&format!("vimage-runtime {}", s.name));
            assert!(rt.active > 0 && rt.file > 0, "{rt:?}");
        }
    }
    let text = bench::report::text(&report);
    assert!(text.contains("== strategy branch ==") && text.contains("== dual (amd64) =="));
    // Side by side: a row per kernel and access, a column per build.
    let columns = 2 + 1 + report.strategies.len() + 1;
    let side = text
        .split("== side by side (amd64) ==")
        .nth(1)
        .expect("the side-by-side tables");
    let vnet_read: Vec<&str> = side
        .lines()
        .filter(|l| l.starts_with("| vimage | vnet_read |"))
        .collect();
    assert!(!vnet_read.is_empty(), "{side}");
    for line in vnet_read {
        assert_eq!(line.matches('|').count(), columns + 1, "{line}");
    }
}

#[test]
fn vnetgen_bench_prints_json_with_the_same_data() {
    common::toolchain();
    let out = Command::new(env!("CARGO_BIN_EXE_vnetgen"))
        .args([
            "bench",
            "--arch",
            "amd64",
            "--strategy",
            "branch",
            "--no-callgrind",
            "--format",
            "json",
            "--root",
        ])
        .arg(common::repo())
        .output()
        .expect("run vnetgen");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["strategies"][0]["name"], "branch");
    assert_eq!(json["strategies"][0]["correct"], true);
    assert!(json["strategies"][0]["static_rows"]
        .as_array()
        .is_some_and(|a| !a.is_empty()));
}
