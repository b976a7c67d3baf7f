//! Hostile conditions around `vnetgen generate`, `check` and `abi`: an output
//! directory that cannot be written, a hand-edited output, a spec rewritten
//! while generations run, and a missing clang.  Each gets a clear message
//! and its documented exit code (snapshots in `tests/snapshots/bad_input/`),
//! and nothing is lost or half-written.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use vnetgen::gen::render::render;
use vnetgen::spec::{Spec, DEFAULT_SPEC};

fn vnetgen(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vnetgen"))
        .args(args)
        .output()
        .expect("run vnetgen")
}

fn snapshot(name: &str, text: &str) {
    insta::with_settings!({snapshot_path => "snapshots/bad_input", prepend_module_to_snapshot => false, omit_expression => true}, {
        insta::assert_snapshot!(name, text);
    });
}

/// Every file below `dir`, relative, with its bytes.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read_dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).expect("below").display().to_string();
                out.insert(rel, std::fs::read(&p).expect("read"));
            }
        }
    }
    out
}

/// Root ignores permission bits, and tests run as root: the output's parent
/// is a regular file instead, which no one can create a directory in.
#[test]
fn an_unwritable_output_directory_exits_1_naming_the_path_and_writes_nothing() {
    let tmp = tempfile::tempdir().expect("temporary directory");
    let blocker = tmp.path().join("not-a-directory");
    std::fs::write(&blocker, "a file where a directory should be\n").expect("write");
    let out_dir = blocker.join("generated");
    let out = vnetgen(&["generate", "--out", &out_dir.display().to_string()]);
    let shown = common::exit_and_stderr(&out, tmp.path());
    snapshot("unwritable-output-directory", &shown);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(shown.contains("<tmp>/not-a-directory/generated"), "{shown}");
    assert!(out.stdout.is_empty(), "reported a file as written");
    // Nothing beside the blocker, and the blocker intact.
    let left = tree(tmp.path());
    assert_eq!(left.keys().collect::<Vec<_>>(), vec!["not-a-directory"]);
    assert_eq!(
        left["not-a-directory"],
        b"a file where a directory should be\n"
    );
}

#[test]
fn an_output_directory_that_is_a_file_exits_1() {
    let tmp = tempfile::tempdir().expect("temporary directory");
    let out_dir = tmp.path().join("generated");
    std::fs::write(&out_dir, "not a directory\n").expect("write");
    let out = vnetgen(&["generate", "--out", &out_dir.display().to_string()]);
    let shown = common::exit_and_stderr(&out, tmp.path());
    snapshot("output-directory-is-a-file", &shown);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert_eq!(std::fs::read(&out_dir).expect("read"), b"not a directory\n");
}

#[test]
fn a_hand_edited_output_is_left_untouched_and_reported_with_exit_5_and_4() {
    let tmp = tempfile::tempdir().expect("temporary directory");
    let dir = tmp.path().join("generated");
    let dir_arg = dir.display().to_string();
    assert_eq!(
        vnetgen(&["generate", "--out", &dir_arg]).status.code(),
        Some(0)
    );
    let edited = dir.join("sys/net/vnet.h");
    let text = std::fs::read_to_string(&edited).expect("read") + "/* my local change */\n";
    std::fs::write(&edited, &text).expect("edit");
    let before = tree(&dir);

    let out = vnetgen(&["generate", "--out", &dir_arg]);
    let shown = common::exit_and_stderr(&out, tmp.path());
    snapshot("hand-edited-generate", &shown);
    assert_eq!(out.status.code(), Some(5), "{shown}");
    assert_eq!(tree(&dir), before, "generate touched the tree");

    let out = vnetgen(&["check", "--out", &dir_arg]);
    let shown = common::exit_and_stderr(&out, tmp.path());
    snapshot("hand-edited-check", &shown);
    assert_eq!(out.status.code(), Some(4), "{shown}");
    assert_eq!(tree(&dir), before, "check touched the tree");
}

/// Generations run in threads while another rewrites the spec between two
/// valid versions.  A generation may read the spec half-rewritten and fail
/// (exit 3 in the CLI), but every file on disk is, at every end, exactly
/// one of the two complete renderings, and no temporary file is left.
#[test]
fn a_spec_rewritten_during_generation_never_leaves_a_half_written_file() {
    let tmp = tempfile::tempdir().expect("temporary directory");
    let spec_path = tmp.path().join("spec.toml");
    let out_dir = tmp.path().join("generated");
    let version_a = DEFAULT_SPEC.to_string();
    let version_b = DEFAULT_SPEC.replace("detect = \"probe\"", "detect = \"kernel\"");
    assert_ne!(version_a, version_b);
    let renderings: Vec<BTreeMap<String, String>> = [&version_a, &version_b]
        .iter()
        .map(|text| {
            let spec = Spec::parse(&vnetgen::spec_display_name(&spec_path), text).expect("valid");
            render(&spec)
                .expect("render")
                .into_iter()
                .map(|f| (f.path, f.contents))
                .collect()
        })
        .collect();
    std::fs::write(&spec_path, &version_a).expect("write spec");

    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (stop, spec_path) = (stop.clone(), spec_path.clone());
        let (a, b) = (version_a.clone(), version_b.clone());
        std::thread::spawn(move || {
            let mut n = 0u32;
            while !stop.load(Ordering::Relaxed) && n < 100_000 {
                // A plain rewrite (truncate, then write): readers may see it half done.
                std::fs::write(&spec_path, if n % 2 == 0 { &b } else { &a }).expect("rewrite");
                n += 1;
                // A pause, so that readers also see whole versions on a busy machine.
                std::thread::sleep(std::time::Duration::from_micros(200));
            }
            n
        })
    };
    let generators: Vec<_> = (0..3)
        .map(|_| {
            let (spec_path, out_dir) = (spec_path.clone(), out_dir.clone());
            std::thread::spawn(move || {
                let (mut ok, mut bad_spec) = (0, 0);
                // Until a few generations succeed, however often a read
                // catches the spec half-rewritten.
                while ok < 8 && ok + bad_spec < 5_000 {
                    match vnetgen::load_spec(&spec_path) {
                        Ok(spec) => {
                            // --force: the other version's files are not hand edits,
                            // but a file of a spec read half-rewritten may be stale.
                            vnetgen::generate(&spec, &out_dir, true)
                                .unwrap_or_else(|e| panic!("generate: {e}"));
                            ok += 1;
                        }
                        Err(e) => {
                            assert_eq!(vnetgen::Error::from(e).exit_code(), 3);
                            bad_spec += 1;
                        }
                    }
                }
                (ok, bad_spec)
            })
        })
        .collect();
    let mut generated = 0;
    for g in generators {
        generated += g.join().expect("a generator thread").0;
    }
    stop.store(true, Ordering::Relaxed);
    let rewrites = writer.join().expect("the writer thread");
    assert!(generated > 0 && rewrites > 0);

    let on_disk = tree(&out_dir);
    assert_eq!(
        on_disk.keys().collect::<Vec<_>>(),
        renderings[0].keys().collect::<Vec<_>>(),
        "unexpected files (temporary files left?)"
    );
    for (path, bytes) in &on_disk {
        let text = String::from_utf8_lossy(bytes);
        assert!(
            renderings
                .iter()
                .any(|r| r.get(path).map(String::as_str) == Some(&*text)),
            "{path} is neither rendering: half-written or mixed"
        );
    }
}

/// `vnetgen abi` with nothing on PATH: exit 1 and the install command.
#[test]
fn abi_without_clang_exits_1_with_the_install_command() {
    let tmp = tempfile::tempdir().expect("temporary directory");
    let out = Command::new(env!("CARGO_BIN_EXE_vnetgen"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("PATH", "")
        .env_remove("VNETGEN_CLANG")
        .env_remove("VNETGEN_LLD")
        .args([
            "abi",
            "--arch",
            "amd64",
            "--cache",
            &tmp.path().join("cache").display().to_string(),
        ])
        .output()
        .expect("run vnetgen");
    let shown = common::exit_and_stderr(&out, tmp.path());
    snapshot("abi-without-clang", &shown);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(
        shown.contains("apt-get install -y clang-19 lld-19 bmake"),
        "{shown}"
    );
    assert!(out.stdout.is_empty());
}

/// Module code that never returns: the scenario's time limit kills the
/// child that runs it, the transcript names the line, and vnetgen exits 6.
#[test]
fn a_module_that_loops_in_kld_is_stopped_at_the_time_limit() {
    let scenario = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/kld/loop.kld");
    let out = vnetgen(&[
        "kld",
        "run",
        "--timeout",
        "2",
        &scenario.display().to_string(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout
        .lines()
        .last()
        .unwrap_or_default()
        .replace(env!("CARGO_MANIFEST_DIR"), "$REPO");
    assert_eq!(out.status.code(), Some(6), "{stdout}");
    snapshot(
        "kld-loop",
        &format!("exit {:?}\n{last}\n", out.status.code()),
    );
}
