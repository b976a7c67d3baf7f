//! `vnetgen generate` and `vnetgen check`: determinism, write-if-changed,
//! hand-edit detection, the committed output's freshness, snapshots, and a
//! third family added by the spec alone.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, SystemTime};

use vnetgen::gen::output::{Problem, WriteOutcome};
use vnetgen::gen::render::render;
use vnetgen::spec::{Spec, DEFAULT_SPEC};

fn vnetgen(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_vnetgen"))
        .args(args)
        .output()
        .expect("run vnetgen")
}

fn files_by_path(spec: &Spec) -> BTreeMap<String, String> {
    render(spec)
        .expect("render")
        .into_iter()
        .map(|f| (f.path, f.contents))
        .collect()
}

/// Reverses every array of tables in a TOML document, recursively.
fn reverse_tables(value: &mut toml::Value) {
    match value {
        toml::Value::Table(t) => t.iter_mut().for_each(|(_, v)| reverse_tables(v)),
        toml::Value::Array(a) => {
            if a.iter().all(|v| v.is_table()) {
                a.reverse();
            }
            a.iter_mut().for_each(reverse_tables);
        }
        _ => {}
    }
}

#[test]
fn every_generated_file_matches_its_snapshot() {
    let spec = Spec::default_spec().expect("default spec");
    for (path, contents) in files_by_path(&spec) {
        insta::with_settings!({snapshot_path => "snapshots/generated", prepend_module_to_snapshot => false}, {
            insta::assert_snapshot!(path.replace('/', "__"), contents);
        });
    }
}

#[test]
fn output_is_byte_identical_across_runs_and_table_order() {
    let spec = Spec::default_spec().expect("default spec");
    let first = files_by_path(&spec);
    assert_eq!(first, files_by_path(&spec));

    let mut doc: toml::Value = toml::from_str(DEFAULT_SPEC).expect("default spec is TOML");
    reverse_tables(&mut doc);
    let reordered_text = toml::to_string(&doc).expect("serialize");
    assert_ne!(reordered_text, DEFAULT_SPEC);
    let reordered =
        Spec::parse(vnetgen::spec::DEFAULT_SPEC_NAME, &reordered_text).expect("reordered spec");
    assert_eq!(
        first,
        files_by_path(&reordered),
        "reordering the spec's tables changed the output"
    );
}

#[test]
fn committed_generated_tree_is_fresh() {
    let out = vnetgen(&[
        "check",
        "--out",
        &common::repo().join("generated").display().to_string(),
    ]);
    assert!(
        out.status.success(),
        "generated/ is stale; run `vnetgen generate`:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn mtimes(dir: &Path) -> BTreeMap<String, SystemTime> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let t = e.metadata().and_then(|m| m.modified()).expect("mtime");
                out.insert(
                    p.strip_prefix(dir)
                        .expect("under dir")
                        .display()
                        .to_string(),
                    t,
                );
            }
        }
    }
    out
}

#[test]
fn a_second_generate_writes_nothing() {
    let spec = Spec::default_spec().expect("default spec");
    let dir = common::generate(&spec);
    // Age every file, so that a rewrite could not hide within the clock's resolution.
    let old = SystemTime::now() - Duration::from_secs(3600);
    for path in mtimes(dir.path()).keys() {
        filetime::set_file_mtime(
            dir.path().join(path),
            filetime::FileTime::from_system_time(old),
        )
        .expect("set mtime");
    }
    let before = mtimes(dir.path());
    let report = vnetgen::generate(&spec, dir.path(), false).expect("generate");
    assert!(
        report.iter().all(|(_, o)| *o == WriteOutcome::Unchanged),
        "{report:?}"
    );
    assert_eq!(
        before,
        mtimes(dir.path()),
        "an unchanged file was rewritten"
    );
    assert!(before.values().all(|t| *t == old));
    // No temporary file is left behind.
    assert_eq!(before.len(), render(&spec).expect("render").len());
}

#[test]
fn a_hand_edit_is_reported_and_never_overwritten_without_force() {
    let spec = Spec::default_spec().expect("default spec");
    let dir = common::generate(&spec);
    let out = dir.path().display().to_string();
    let header = dir.path().join("sys/net/vnet.h");
    let edited = std::fs::read_to_string(&header)
        .expect("read")
        .replace("#define\tVNET_MAGIC_N", "#define\tVNET_MAGIC_N_EDITED");
    std::fs::write(&header, &edited).expect("edit");

    let findings = vnetgen::check(&spec, dir.path()).expect("check");
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].problem, Problem::HandEdited);
    assert!(
        findings[0].diff.contains("-#define\tVNET_MAGIC_N_EDITED"),
        "{}",
        findings[0].diff
    );

    let check = vnetgen(&["check", "--out", &out]);
    assert_eq!(check.status.code(), Some(4));
    let stderr = String::from_utf8_lossy(&check.stderr);
    assert!(
        stderr.contains("edited by hand") && stderr.contains("vnetgen generate"),
        "{stderr}"
    );
    assert!(String::from_utf8_lossy(&check.stdout).contains("+++ b/sys/net/vnet.h"));

    let refused = vnetgen(&["generate", "--out", &out]);
    assert_eq!(refused.status.code(), Some(5));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("edited by hand"));
    assert_eq!(
        std::fs::read_to_string(&header).expect("read"),
        edited,
        "the edited file was touched"
    );

    let forced = vnetgen(&["generate", "--out", &out, "--force"]);
    assert!(forced.status.success());
    assert!(vnetgen(&["check", "--out", &out]).status.success());
}

#[test]
fn check_reports_missing_and_stale_files() {
    let spec = Spec::default_spec().expect("default spec");
    let dir = common::generate(&spec);
    std::fs::remove_file(dir.path().join("sys/sys/pcpu.h")).expect("remove");
    let other = Spec::parse(
        "other.toml",
        &DEFAULT_SPEC.replace("modspace = 2048", "modspace = 4096"),
    )
    .expect("spec");
    let findings = vnetgen::check(&other, dir.path()).expect("check");
    let by_path: BTreeMap<&str, &Problem> = findings
        .iter()
        .map(|f| (f.path.as_str(), &f.problem))
        .collect();
    assert_eq!(by_path.get("sys/sys/pcpu.h"), Some(&&Problem::Missing));
    assert_eq!(by_path.get("sys/net/vnet.h"), Some(&&Problem::Stale));
}

#[test]
fn generate_writes_a_depfile_naming_spec_and_binary() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let spec = common::repo().join("spec/vimage.toml");
    let depfile = dir.path().join("vnetgen.d");
    let out = vnetgen(&[
        "generate",
        "--spec",
        &spec.display().to_string(),
        "--out",
        &dir.path().join("gen").display().to_string(),
        "--depfile",
        &depfile.display().to_string(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&depfile).expect("depfile");
    assert!(text.contains("gen/sys/net/vnet.h"), "{text}");
    assert!(text.contains(&spec.display().to_string()), "{text}");
    assert!(text.contains("vnetgen"), "{text}");
}

#[test]
fn cflags_select_the_variant_and_put_generated_headers_first() {
    let out = vnetgen(&[
        "cflags",
        "--variant",
        "kld-tied",
        "--kernel",
        "novimage",
        "--arch",
        "aarch64",
        "--out",
        "/g",
    ]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let args: Vec<&str> = text.split_whitespace().collect();
    // The newest release's clang target and kmod.mk flags by default.
    assert!(args.contains(&"--target=aarch64-unknown-freebsd15.1"));
    assert!(args.contains(&"-fPIC") && args.contains(&"-nostdinc"));
    assert!(args.contains(&"-mbranch-protection=standard") && args.contains(&"-std=gnu17"));
    assert!(args.contains(&"-D__FreeBSD_version=1501000"));
    assert!(
        args.contains(&"-D_KERNEL")
            && args.contains(&"-DKLD_MODULE")
            && args.contains(&"-DKLD_TIED")
    );
    assert!(!args.contains(&"-DVIMAGE"));
    let generated = args
        .iter()
        .position(|a| *a == "-I/g/sys")
        .expect("generated include");
    let sysroot = args
        .iter()
        .position(|a| a.starts_with("-I") && a.ends_with("sysroot/include"))
        .expect("sysroot include");
    assert!(generated < sysroot);

    let rt = vnetgen(&["cflags", "--variant", "vimage-runtime", "--arch", "amd64"]);
    let rt = String::from_utf8_lossy(&rt.stdout).into_owned();
    assert!(
        rt.contains("-DVIMAGE_RUNTIME")
            && rt.contains("-mcmodel=kernel")
            && !rt.contains("-DKLD_TIED")
    );

    // 13.2 builds i386 modules without -fPIC, 15.1 with it.
    let i386 = |release: &str| {
        let out = vnetgen(&[
            "cflags",
            "--variant",
            "vimage",
            "--arch",
            "i386",
            "--release",
            release,
        ]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let (old, new) = (i386("13.2"), i386("15.1"));
    assert!(old.contains("--target=i386-unknown-freebsd13.2") && !old.contains("-fPIC"));
    assert!(new.contains("--target=i386-unknown-freebsd15.1") && new.contains(" -fPIC "));

    let bad = vnetgen(&["cflags", "--variant", "vimage", "--arch", "vax"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown arch `vax`"));
}

#[test]
fn a_third_family_is_a_spec_change_only() {
    let toolchain = common::toolchain();
    let extra = std::fs::read_to_string(common::repo().join("tests/specs/third_family.toml"))
        .expect("third family spec");
    let spec = Spec::parse("third.toml", &format!("{DEFAULT_SPEC}\n{extra}"))
        .expect("spec with a third family");
    let dir = common::generate(&spec);
    let header =
        std::fs::read_to_string(dir.path().join("sys/sys/vslot.h")).expect("vslot.h generated");
    assert!(header.contains("#ifndef _SYS_VSLOT_H_"));
    assert!(dir
        .path()
        .join("variants/vimage-runtime/sys/sys/vslot.h")
        .exists());
    let source = "#include <sys/vslot.h>\n\
        VSLOT_DEFINE(int, slot_counter) = 3;\n\
        int slot_read(void);\n\
        int\nslot_read(void)\n{\n\treturn (VSLOT(slot_counter));\n}\n";
    for arch in ["amd64", "aarch64", "i386"] {
        for (variant, kernel) in common::distinct_cells() {
            let (ok, diag) = common::compile_text(
                &toolchain,
                &spec,
                dir.path(),
                arch,
                &variant.defines(kernel),
                source,
            );
            assert!(ok, "{arch} {variant} {kernel}:\n{diag}");
        }
    }
}
