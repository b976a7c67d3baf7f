//! The corpus of malformed, truncated and hostile objects in
//! `tests/elf/bad/`, derived from the real ones in `tests/elf/good/` by
//! `tests/elf/make_bad.rs`.  Each must be an error that names the file, never
//! a panic, through the library (`vnetgen::inspect::inspect_bytes`) and
//! through `vnetgen inspect` (exit 1, the message on standard error).  The
//! messages and exit codes are snapshots in `tests/snapshots/bad_elf/`.

#[path = "elf/make_bad.rs"]
mod make_bad;

use std::path::{Path, PathBuf};
use std::process::Command;

use vnetgen::inspect::{inspect_bytes, inspect_file, InspectError};

const BAD_DIR: &str = "tests/elf/bad";
const GOOD_DIR: &str = "tests/elf/good";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The committed cases, sorted by name.
fn committed() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(repo().join(BAD_DIR))
        .expect("tests/elf/bad exists")
        .map(|e| e.expect("directory entry").file_name())
        .map(|n| n.into_string().expect("UTF-8 name"))
        .collect();
    names.sort();
    names
}

/// Rewrites `tests/elf/bad/` from the good objects.
#[test]
#[ignore = "writes tests/elf/bad/; run by hand after changing make_bad.rs"]
fn regenerate_bad_elf_corpus() {
    let dir = repo().join(BAD_DIR);
    for old in committed() {
        std::fs::remove_file(dir.join(old)).expect("remove an old case");
    }
    for (name, bytes) in make_bad::cases(&repo().join(GOOD_DIR)) {
        std::fs::write(dir.join(&name), bytes).expect("write a case");
    }
}

#[test]
fn the_committed_corpus_is_what_the_generator_makes() {
    let cases = make_bad::cases(&repo().join(GOOD_DIR));
    let names: Vec<&str> = cases.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        committed(),
        names,
        "tests/elf/bad/ differs from make_bad.rs: cargo test --test bad_elf -- --ignored regenerate"
    );
    for (name, bytes) in &cases {
        let on_disk = std::fs::read(repo().join(BAD_DIR).join(name)).expect("read a case");
        assert!(
            on_disk == *bytes,
            "{name} differs from what make_bad.rs makes: cargo test --test bad_elf -- --ignored regenerate"
        );
    }
    assert!(cases.len() >= 30, "only {} bad objects", cases.len());
}

#[test]
fn the_good_objects_inspect_cleanly() {
    for name in ["amd64.o", "amd64.ko", "aarch64.ko", "i386.ko"] {
        let path = repo().join(GOOD_DIR).join(name);
        let info = inspect_file(&path).unwrap_or_else(|e| panic!("{e}"));
        assert!(info.symbol("vnet_entry_tiny_counter").is_some(), "{name}");
        assert!(!info.relocations.is_empty(), "{name}");
    }
}

/// The library's verdict on one case, as a line: an error (with the object
/// named first) or, which the tests reject, a success.
fn library_verdict(name: &str) -> Result<String, String> {
    let shown = format!("{BAD_DIR}/{name}");
    let data = std::fs::read(repo().join(&shown)).expect("read a case");
    let result = std::panic::catch_unwind(|| inspect_bytes(&shown, &data))
        .map_err(|_| format!("{name}: inspect_bytes panicked"))?;
    match result {
        Ok(info) => Err(format!(
            "{name}: accepted ({} sections, {} symbols, {} relocations)",
            info.sections.len(),
            info.symbols.len(),
            info.relocations.len()
        )),
        Err(e) => {
            let message = e.to_string();
            if e.object() != shown || !message.starts_with(&format!("{shown}: ")) {
                return Err(format!(
                    "{name}: the message does not name the file: {message}"
                ));
            }
            Ok(message)
        }
    }
}

#[test]
fn every_bad_object_is_an_error_naming_it_never_a_panic() {
    let mut problems = Vec::new();
    for name in committed() {
        match library_verdict(&name) {
            Ok(message) => {
                insta::with_settings!({snapshot_path => "snapshots/bad_elf", prepend_module_to_snapshot => false, omit_expression => true}, {
                    insta::assert_snapshot!(format!("lib__{name}"), message);
                });
            }
            Err(problem) => problems.push(problem),
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// `vnetgen inspect` on each case: exit 1, and the library's message after
/// `vnetgen: ` on standard error.  The binary must exist with that
/// subcommand: a missing one fails here, it is not skipped.
#[test]
fn vnetgen_inspect_exits_1_on_every_bad_object() {
    for name in committed() {
        let shown = format!("{BAD_DIR}/{name}");
        let out = Command::new(env!("CARGO_BIN_EXE_vnetgen"))
            .current_dir(repo())
            .args(["inspect", &shown])
            .output()
            .expect("run vnetgen");
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        let code = out.status.code();
        assert!(
            !stderr.contains("panicked"),
            "{name}: vnetgen panicked:\n{stderr}"
        );
        let report = format!(
            "exit {}\n{}",
            code.map_or("signal".into(), |c| c.to_string()),
            stderr
        );
        insta::with_settings!({snapshot_path => "snapshots/bad_elf", prepend_module_to_snapshot => false, omit_expression => true}, {
            insta::assert_snapshot!(format!("cli__{name}"), report);
        });
        assert_eq!(code, Some(1), "{name}: {stderr}");
        assert!(
            out.stdout.is_empty(),
            "{name}: wrote a report for a bad object"
        );
    }
}

/// Reading a path that cannot be read is an error naming it too.
#[test]
fn an_unreadable_object_is_an_error_naming_it() {
    let missing = Path::new("tests/elf/bad/no-such-object.ko");
    let err = inspect_file(missing).expect_err("no such file");
    assert!(matches!(err, InspectError::Read { .. }));
    assert!(
        err.to_string()
            .starts_with("tests/elf/bad/no-such-object.ko: cannot read"),
        "{err}"
    );
}
