//! `vnetgen qualify` without a FreeBSD tree: bad input (each message and
//! exit code a snapshot in `tests/snapshots/qualify/`, nothing written),
//! the report rendered from a constructed result, the object comparison on
//! small objects compiled here, and the whole command on a fake tree whose
//! `bsd.kmod.mk` is tests/bmake's miniature kmod.mk: every build kind made,
//! the kld-tied builds identical to the stock ones, a second run served from
//! the cache, a changed source rebuilt, recorded fingerprints matched.
//! A missing tool fails a test; none skips.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;
use vnetgen::build::toolchain::Toolchain;
use vnetgen::review::qualify::objects::{compare, normalise_file};
use vnetgen::review::qualify::report::{civil_date, json, markdown};
use vnetgen::review::qualify::{
    compare_builds, BuildKind, Check, QualifyReport, Recorded, Row, Totals, TreeInfo, Verdict,
};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn qualify(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vnetgen"))
        .arg("qualify")
        .args(args)
        .current_dir(root())
        .env_remove("MAKEFLAGS")
        .env_remove("MAKELEVEL")
        .output()
        .expect("run vnetgen")
}

fn snapshot(name: &str, text: &str) {
    insta::with_settings!({snapshot_path => "snapshots/qualify", prepend_module_to_snapshot => false, omit_expression => true}, {
        insta::assert_snapshot!(name, text);
    });
}

/// A directory that check_tree takes for FreeBSD `version`, with one module
/// `qtest` built by tests/bmake/kmod.mk (and an opt_global.h rule, as
/// kmod.mk has).
fn fake_tree(dir: &Path, version: u32) -> PathBuf {
    let tree = dir.join("tree");
    for d in ["sys/sys", "sys/net", "share/mk", "sys/modules/qtest"] {
        fs::create_dir_all(tree.join(d)).expect("mkdir");
    }
    // The stub sysroot's headers, for what vnetgen compiles itself (a dual
    // module's dispatcher), under the tree's own __FreeBSD_version.
    let stub = root().join("sysroot/include");
    for sub in ["sys", "machine"] {
        for entry in fs::read_dir(stub.join(sub))
            .expect("the stub sysroot")
            .flatten()
        {
            let to = tree.join("sys").join(sub).join(entry.file_name());
            fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
            fs::copy(entry.path(), &to).expect("copy a stub header");
        }
    }
    let stub_param = fs::read_to_string(stub.join("sys/param.h")).expect("stub param.h");
    fs::write(
        tree.join("sys/sys/param.h"),
        format!("#define __FreeBSD_version {version}\n{stub_param}"),
    )
    .expect("write param.h");
    fs::write(tree.join("sys/sys/pcpu.h"), "/* stand-in */\n").expect("write pcpu.h");
    fs::write(tree.join("sys/net/vnet.h"), "/* stand-in */\n").expect("write vnet.h");
    fs::write(tree.join("share/mk/sys.mk"), "# bmake needs one\n").expect("write sys.mk");
    fs::write(
        tree.join("share/mk/bsd.kmod.mk"),
        format!(
            "opt_global.h:\n\tprintf '#define SMP 1\\n#define VIMAGE 1\\n' > ${{.TARGET}}\n\
             .include \"{}/tests/bmake/kmod.mk\"\n",
            root().display()
        ),
    )
    .expect("write bsd.kmod.mk");
    fs::write(
        tree.join("sys/modules/qtest/Makefile"),
        "KMOD=\tqtest\nSRCS=\tqtest.c\n\n.include <bsd.kmod.mk>\n",
    )
    .expect("write the Makefile");
    fs::write(
        tree.join("sys/modules/qtest/qtest.c"),
        "int qtest_next(int);\nint qtest_next(int x) { return x + 1; }\n",
    )
    .expect("write qtest.c");
    tree
}

fn args_for<'a>(tree: &'a str, tmp: &'a str) -> Vec<String> {
    vec![
        "--tree".into(),
        tree.into(),
        "--module".into(),
        "qtest".into(),
        "--arch".into(),
        "amd64".into(),
        "--cache".into(),
        format!("{tmp}/cache"),
        "--out".into(),
        format!("{tmp}/out"),
        "--facts".into(),
        format!("{tmp}/facts"),
        "-j".into(),
        "2".into(),
    ]
}

fn run_bad(name: &str, tree_version: Option<u32>, extra: &[&str]) {
    let tmp = TempDir::new().expect("tmp");
    let tree = match tree_version {
        Some(v) => fake_tree(tmp.path(), v),
        None => {
            let t = tmp.path().join("not-a-tree");
            fs::create_dir_all(t.join("sys")).expect("mkdir");
            t
        }
    };
    let t = tree.display().to_string();
    let d = tmp.path().display().to_string();
    let mut args = args_for(&t, &d);
    // The extra arguments replace the module or arch where they name one.
    if let Some(at) = extra.iter().position(|a| *a == "--module") {
        args[3] = extra[at + 1].to_string();
    }
    if let Some(at) = extra.iter().position(|a| *a == "--arch") {
        args[5] = extra[at + 1].to_string();
    }
    // The others are added.
    let mut i = 0;
    while i < extra.len() {
        match extra[i] {
            "--module" | "--arch" => i += 2,
            other => {
                args.push(other.to_string());
                i += 1;
            }
        }
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = qualify(&args);
    snapshot(name, &common::exit_and_stderr(&out, tmp.path()));
    assert!(
        !tmp.path().join("out").exists() && !tmp.path().join("facts").exists(),
        "bad input wrote something"
    );
}

#[test]
fn a_directory_that_is_not_a_tree_exits_2_naming_what_is_missing() {
    run_bad("not_a_tree", None, &[]);
}

#[test]
fn a_release_the_spec_does_not_know_exits_2() {
    run_bad("unknown_release", Some(1_400_000), &[]);
}

#[test]
fn an_unknown_module_exits_2_naming_its_makefile() {
    run_bad(
        "unknown_module",
        Some(1_501_000),
        &["--module", "if_nosuch"],
    );
}

#[test]
fn a_module_outside_sys_modules_is_refused() {
    run_bad(
        "module_outside",
        Some(1_501_000),
        &["--module", "../../sys"],
    );
}

#[test]
fn an_unknown_architecture_exits_2() {
    run_bad("unknown_arch", Some(1_501_000), &["--arch", "sparc64"]);
}

#[test]
fn a_make_variable_that_is_not_name_equals_value_exits_2() {
    run_bad(
        "make_not_a_variable",
        Some(1_501_000),
        &["--make", "WITHOUT_INET6_SUPPORT"],
    );
    run_bad("make_bad_name", Some(1_501_000), &["--make", "1X=yes"]);
}

#[test]
fn record_with_make_variables_exits_2() {
    run_bad(
        "make_with_record",
        Some(1_501_000),
        &["--make", "WITHOUT_INET6_SUPPORT=yes", "--record"],
    );
}

#[test]
fn a_missing_tool_exits_1_naming_its_package() {
    let tmp = TempDir::new().expect("tmp");
    let tree = fake_tree(tmp.path(), 1_501_000);
    let (t, d) = (tree.display().to_string(), tmp.path().display().to_string());
    let args = args_for(&t, &d);
    let out = Command::new(env!("CARGO_BIN_EXE_vnetgen"))
        .arg("qualify")
        .args(&args)
        .current_dir(root())
        .env("PATH", tmp.path().join("empty"))
        .output()
        .expect("run vnetgen");
    snapshot("missing_tool", &common::exit_and_stderr(&out, tmp.path()));
}

fn row(module: &str, arch: &str, build: BuildKind, compiles: bool, check: Check) -> Row {
    let stock = build.variant().is_none();
    Row {
        module: module.to_string(),
        release: "15.1".to_string(),
        arch: arch.to_string(),
        build,
        compiles,
        warnings: usize::from(build == BuildKind::StockNovimage),
        first_error: (!compiles).then(|| {
            "$TREE/sys/sys/proc.h:1291:7: error: use of undeclared identifier 'curthread'"
                .to_string()
        }),
        check,
        fingerprint: (stock && compiles).then(|| format!("{:064x}", build as usize + 1)),
        recorded: (stock && compiles).then_some(if build == BuildKind::StockTiedVimage {
            Recorded::NotRecorded
        } else {
            Recorded::Matches
        }),
        build_dir: format!("builds/{module}-{arch}-{}", build.name()),
    }
}

#[test]
fn the_report_renders_every_kind_of_row() {
    let mut rows = Vec::new();
    for (module, good) in [("if_bridge", true), ("pf", false)] {
        for kind in BuildKind::ALL {
            let compiles = good || kind.variant().is_none();
            let check = match (kind, compiles) {
                (_, false) => Check::NotMade {
                    why: "did not compile".to_string(),
                },
                (BuildKind::KldTiedVimage, true) => Check::Identity {
                    identical: true,
                    difference: None,
                },
                (BuildKind::KldTiedNovimage, true) => Check::Identity {
                    identical: false,
                    difference: Some(
                        "if_bridge.ko: section .text: bytes differ at offset 0x1a4".to_string(),
                    ),
                },
                (BuildKind::VimageRuntime, true) => Check::Prediction {
                    vimage: Verdict::Loads,
                    novimage: Verdict::WontLoad {
                        reason: "link_elf_obj: symbol vnet_entry_x undefined".to_string(),
                    },
                },
                _ => Check::None,
            };
            rows.push(row(module, "amd64", kind, compiles, check));
        }
    }
    rows.push(row(
        "if_bridge",
        "aarch64",
        BuildKind::VimageRuntime,
        true,
        Check::Prediction {
            vimage: Verdict::NoKernelRecorded,
            novimage: Verdict::NoKernelRecorded,
        },
    ));
    rows.push(row(
        "if_gif",
        "amd64",
        BuildKind::VimageRuntime,
        true,
        Check::Prediction {
            vimage: Verdict::LoadsAsStock {
                kernel_lacks: vec!["ip6_output".to_string(), "in6_localip".to_string()],
            },
            novimage: Verdict::Loads,
        },
    ));
    rows.push(row(
        "if_tuntap",
        "amd64",
        BuildKind::VimageRuntime,
        true,
        Check::Prediction {
            vimage: Verdict::Loads,
            novimage: Verdict::KnownLimit {
                reason: "link_elf_obj: symbol prison_owns_vnet undefined".to_string(),
                construct: "net/if_tuntap.c: tuntap_prison_remove() under #ifdef VIMAGE"
                    .to_string(),
            },
        },
    ));
    let report = QualifyReport {
        schema: 1,
        date: "2026-12-02".to_string(),
        headers: "ab".repeat(32),
        trees: vec![TreeInfo {
            path: "/usr/src".to_string(),
            release: "15.1".to_string(),
            commit: "FreeBSD 15.1-RELEASE-p1: example 307fbceb".to_string(),
            fingerprint: "cd".repeat(32),
        }],
        modules: vec!["if_bridge".to_string(), "pf".to_string()],
        archs: vec!["amd64".to_string(), "aarch64".to_string()],
        make_vars: Vec::new(),
        totals: Totals::of(&rows),
        rows,
        built: 3,
    };
    assert!(!report.all_pass());
    snapshot("report_md", &markdown(&report));
    snapshot("report_json", &json(&report));
}

#[test]
fn dates_are_days_since_the_epoch() {
    assert_eq!(civil_date(0), "1970-01-01");
    assert_eq!(civil_date(19_723), "2024-01-01");
    assert_eq!(civil_date(20_789), "2026-12-02");
    assert_eq!(civil_date(11_016), "2000-02-29");
}

/// Compiles `source` with clang-19 for amd64 FreeBSD, as a kernel object.
fn compile(dir: &Path, name: &str, source: &str) -> PathBuf {
    let toolchain = Toolchain::locate().unwrap_or_else(|e| panic!("{e}"));
    // The same file name in a directory of its own: the name is a symbol.
    let dir = dir.join(name);
    fs::create_dir_all(&dir).expect("mkdir");
    let c = dir.join("unit.c");
    let o = dir.join("unit.o");
    fs::write(&c, source).expect("write source");
    let out = Command::new(&toolchain.clang)
        .args([
            "--target=x86_64-unknown-freebsd15.1",
            "-O2",
            "-ffreestanding",
            "-fno-common",
            "-c",
        ])
        .arg(&c)
        .arg("-o")
        .arg(&o)
        .output()
        .expect("run clang");
    assert!(
        out.status.success(),
        "clang: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    o
}

const BASE: &str = "extern int a, b;\nint k = 1;\nint u(void);\nint g(int);\nint h(int);\n\
int u(void) { return a + b; }\nint g(int x) { return x + a + k; }\nint h(int x) { return x * b; }\n";

fn difference(changed: &str) -> Option<String> {
    let tmp = TempDir::new().expect("tmp");
    let reference = normalise_file(&compile(tmp.path(), "ref", BASE)).expect("read ref");
    let other = normalise_file(&compile(tmp.path(), "other", changed)).expect("read other");
    compare(&reference, &other)
}

#[test]
fn the_same_source_compiles_to_identical_objects() {
    assert_eq!(difference(BASE), None);
}

#[test]
fn a_changed_byte_is_named_by_its_section() {
    let d = difference(&BASE.replace("int k = 1;", "int k = 2;")).expect("a difference");
    assert!(d.starts_with("section .data: bytes differ"), "{d}");
}

#[test]
fn a_changed_symbol_is_named() {
    let d = difference(&BASE.replace(" k", " j")).expect("a difference");
    assert!(
        d.starts_with("symbol #") && d.contains("k in the reference, j here"),
        "{d}"
    );
}

#[test]
fn a_changed_relocation_is_named() {
    // Both functions reach a and b in turn: the same code and symbols, the
    // relocations against each other's variable.
    let swapped = BASE
        .replace("return x + a + k;", "return x + b + k;")
        .replace("return x * b;", "return x * a;");
    let d = difference(&swapped).expect("a difference");
    assert!(d.starts_with("relocation .text+"), "{d}");
    assert!(d.contains("against a") && d.contains("against b"), "{d}");
}

#[test]
fn builds_are_compared_object_by_object() {
    let tmp = TempDir::new().expect("tmp");
    let one = normalise_file(&compile(tmp.path(), "one", BASE)).expect("read");
    let two = normalise_file(&compile(
        tmp.path(),
        "two",
        &BASE.replace("int k = 1;", "int k = 3;"),
    ))
    .expect("read");
    let a = vec![
        ("m.ko".to_string(), one.clone()),
        ("m.o".to_string(), one.clone()),
    ];
    let b = vec![("m.ko".to_string(), one.clone()), ("m.o".to_string(), two)];
    assert_eq!(compare_builds(&a, &a), None);
    let d = compare_builds(&a, &b).expect("a difference");
    assert!(d.starts_with("m.o: section .data"), "{d}");
    let c = vec![("m.ko".to_string(), one)];
    assert_eq!(
        compare_builds(&a, &c).as_deref(),
        Some("m.o: only in the stock build")
    );
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_fake_tree_qualifies_and_a_rerun_builds_nothing() {
    let tmp = TempDir::new().expect("tmp");
    let tree = fake_tree(tmp.path(), 1_501_000);
    let (t, d) = (tree.display().to_string(), tmp.path().display().to_string());
    let args = args_for(&t, &d);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();

    let first = qualify(&args);
    let text = stdout(&first);
    assert!(
        text.starts_with("9 builds (9 built, 0 from the cache): 9 compiled, 0 failed; kld-tied: 4 identical, 0 differ"),
        "{text}\n{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(text.contains("4 not recorded"), "{text}");
    let report: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(tmp.path().join("out/report.json")).expect("read report.json"),
    )
    .expect("parse report.json");
    let rows = report["rows"].as_array().expect("rows");
    // The nine builds, and the amd64 dual module joined from two of them.
    assert_eq!(rows.len(), 10);
    let dual = rows
        .iter()
        .find(|r| r["build"] == "dual")
        .expect("a dual row");
    assert_eq!(dual["compiles"], true, "{dual}");
    assert_eq!(dual["check"]["kind"], "prediction", "{dual}");
    let runtime = rows
        .iter()
        .find(|r| r["build"] == "vimage-runtime")
        .expect("a vimage-runtime row");
    // 15.1 amd64 has recorded kernels: a prediction for each.
    assert_eq!(runtime["check"]["kind"], "prediction", "{runtime}");
    assert_ne!(runtime["check"]["vimage"]["verdict"], "no-kernel-recorded");

    // Each build's command repeats it by hand (here: nothing left to do).
    let stock = rows
        .iter()
        .find(|r| r["build"] == "kld-tied-vimage")
        .expect("a kld-tied row");
    let command = tmp
        .path()
        .join("cache")
        .join(stock["build_dir"].as_str().expect("build_dir"))
        .join("command");
    let again = Command::new("sh")
        .arg(&command)
        .output()
        .expect("run the command");
    assert!(
        again.status.success(),
        "{}: {}",
        command.display(),
        String::from_utf8_lossy(&again.stderr)
    );

    // Nothing changed: nothing built, nothing rewritten.
    let md = tmp.path().join("out/report.md");
    let before = fs::metadata(&md).and_then(|m| m.modified()).expect("mtime");
    let second = qualify(&args);
    let text = stdout(&second);
    assert!(
        text.starts_with("9 builds (0 built, 9 from the cache)"),
        "{text}"
    );
    assert!(
        text.contains("unchanged ") && !text.contains("wrote "),
        "{text}"
    );
    assert_eq!(
        fs::metadata(&md).and_then(|m| m.modified()).expect("mtime"),
        before
    );

    // Record the fingerprints; a rerun matches them.
    let mut record = args.clone();
    record.push("--record");
    qualify(&record);
    assert!(tmp.path().join("facts/15.1/modules.json").is_file());
    let third = stdout(&qualify(&args));
    assert!(
        third.contains("stock fingerprints: 4 match, 0 differ, 0 not recorded"),
        "{third}"
    );

    // A changed source is a changed tree: everything is built again, and
    // the stock fingerprints no longer match.
    fs::write(
        tree.join("sys/modules/qtest/qtest.c"),
        "int qtest_next(int);\nint qtest_next(int x) { return x + 2; }\n",
    )
    .expect("rewrite qtest.c");
    let fourth = qualify(&args);
    let text = stdout(&fourth);
    assert!(
        text.starts_with("9 builds (9 built, 0 from the cache)"),
        "{text}"
    );
    assert!(
        text.contains("stock fingerprints: 0 match, 4 differ"),
        "{text}"
    );
    assert_eq!(fourth.status.code(), Some(4));
}

/// `vnetgen qualify` of the fake tree's qtest module for amd64, run in
/// `dir` with its defaults.
fn qualify_in(dir: &Path, tree: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vnetgen"))
        .args(["qualify", "--tree"])
        .arg(tree)
        .args(["--module", "qtest", "--arch", "amd64", "-j", "2"])
        .args(extra)
        .current_dir(dir)
        .env_remove("MAKEFLAGS")
        .env_remove("MAKELEVEL")
        .output()
        .expect("run vnetgen")
}

/// Outside a vnetgen tree the defaults are in the current directory and the
/// builds include the Makefile.inc built into vnetgen.
#[test]
fn outside_a_vnetgen_tree_the_builds_use_the_built_in_makefile_inc() {
    let tmp = TempDir::new().expect("tmp");
    let tree = fake_tree(tmp.path(), 1_501_000);
    let out = qualify_in(tmp.path(), &tree, &[]);
    let text = stdout(&out);
    assert!(
        text.starts_with(
            "9 builds (9 built, 0 from the cache): 9 compiled, 0 failed; kld-tied: 4 identical"
        ),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(tmp.path().join("qualify/report.md").is_file());

    // With a make variable: every build gets it, in a cache and a report
    // of their own; the untied stock modules under names a scenario gives.
    let out = qualify_in(tmp.path(), &tree, &["--make", "WITHOUT_INET6_SUPPORT=yes"]);
    let text = stdout(&out);
    assert!(
        text.starts_with("9 builds (9 built, 0 from the cache)")
            && text.contains("stock fingerprints: 0 match, 0 differ, 4 not recorded"),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let flavour = "WITHOUT_INET6_SUPPORT-yes";
    let report = fs::read_to_string(tmp.path().join("qualify").join(flavour).join("report.md"))
        .expect("the report of the builds with the variable");
    assert!(
        report.contains("make variables `WITHOUT_INET6_SUPPORT=yes`"),
        "{report}"
    );
    let cache = tmp.path().join("target/vnetgen-qualify").join(flavour);
    let builds: Vec<PathBuf> = fs::read_dir(cache.join("builds"))
        .expect("the builds")
        .flatten()
        .map(|e| e.path().join("command"))
        .collect();
    assert_eq!(builds.len(), 9);
    for command in &builds {
        let text = fs::read_to_string(command).expect("command");
        assert!(text.contains("WITHOUT_INET6_SUPPORT=yes"), "{text}");
    }
    for kind in ["stock-vimage", "stock-novimage"] {
        let ko = cache.join(kind).join("15.1-amd64-qtest/qtest.ko");
        assert!(ko.is_file(), "{} is missing", ko.display());
    }
    assert!(cache.join("dual/15.1-amd64-qtest/qtest.ko").is_file());
    assert_eq!(
        fs::read_to_string(tmp.path().join("target/vnetgen-qualify/Makefile.inc"))
            .expect("the copy"),
        fs::read_to_string(root().join("Makefile.inc")).expect("Makefile.inc")
    );
}

/// A record of `scripts/qualify-kernels`: `sections` runs of `vnetgen vm`,
/// each with every scenario passing on every kernel, dual and stock builds,
/// kldloaded and preloaded; the number of scenario runs that passed.
fn check_kernels_record(record: &Path, sections: usize, scenarios: &[&str]) -> usize {
    let text = fs::read_to_string(record).expect("the record");
    let parts: Vec<&str> = text.split("== ").skip(1).collect();
    assert_eq!(parts.len(), sections, "{text}");
    for how in ["load", "preload"] {
        for build in ["dual", "stock-vimage", "stock-novimage"] {
            assert!(
                text.contains(&format!("{build} builds, how={how}")),
                "{build} {how}"
            );
        }
    }
    let mut runs = 0;
    for section in &parts {
        let summary = section
            .lines()
            .find(|l| l.starts_with("vm: "))
            .unwrap_or_else(|| panic!("no summary in: {section}"));
        assert!(summary.contains(" 0 failed, 0 skipped"), "{summary}");
        let kernels = section.lines().filter(|l| l.starts_with("kernel ")).count();
        for scenario in scenarios {
            let passed = section
                .lines()
                .filter(|l| {
                    l.trim_start()
                        .starts_with(&format!("passed   {scenario} ("))
                })
                .count();
            assert_eq!(passed, kernels, "{scenario}: {section}");
            runs += passed;
        }
    }
    runs
}

/// The committed records of FreeBSD's own modules on real kernels: the
/// recorded kernels with the WITHOUT_INET6_SUPPORT builds (three release
/// and architecture pairs, three builds, two ways to load), and the
/// kernels of qualify/kernels/ with the default builds (the same pairs).
#[test]
fn the_records_of_the_real_kernels_runs_show_every_run_passing() {
    let dir = root().join("qualify/WITHOUT_INET6_SUPPORT-yes");
    let runs = check_kernels_record(
        &dir.join("kernels.txt"),
        18,
        &["qualify/ifnet.kld", "qualify/dual-modules.kld"],
    );
    assert_eq!(runs, 56);
    let runs = check_kernels_record(
        &root().join("qualify/kernels/kernels.txt"),
        18,
        &[
            "qualify/ifnet.kld",
            "qualify/dual-modules.kld",
            "qualify/option-modules.kld",
        ],
    );
    assert_eq!(runs, 72);
    let report: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.join("report.json")).expect("report.json"))
            .expect("json");
    assert_eq!(report["make_vars"][0], "WITHOUT_INET6_SUPPORT=yes");
    assert_eq!(report["totals"]["failed"], 0);
}
