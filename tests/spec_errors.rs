//! The corpus of malformed specs in `tests/specs/bad/`: each case is
//! `tests/specs/minimal.toml` with one defect, and its file name starts with
//! the code of the error it must produce (`S006-unknown-variant-body.toml`).
//! The messages are kept as snapshots in `tests/snapshots/spec_errors/`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use vnetgen::spec::{Spec, SpecError};

const BAD_DIR: &str = "tests/specs/bad";
const MINIMAL: &str = "tests/specs/minimal.toml";

/// Every code a spec error can carry; the corpus must exercise them all.
const ALL_CODES: &[&str] = &[
    "S001", "S002", "S003", "S004", "S005", "S006", "S007", "S008", "S009",
];

/// Codes whose error may have no token to point at (a syntax error, a
/// missing key, a bad value, the schema, a body as a whole): for the others,
/// the reported line must contain the first name quoted in the message.
const NO_TOKEN_CODES: &[&str] = &["S001", "S003", "S008", "S009"];

fn manifest_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// The case files, sorted by name.
fn bad_cases() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(manifest_path(BAD_DIR))
        .expect("tests/specs/bad exists")
        .map(|entry| entry.expect("readable directory entry").file_name())
        .map(|name| name.into_string().expect("UTF-8 case name"))
        .filter(|name| name.ends_with(".toml"))
        .collect();
    names.sort();
    names
}

/// Parses one case under the name the CLI would report it by.
fn parse_case(name: &str) -> (String, Result<Spec, SpecError>) {
    let source = format!("{BAD_DIR}/{name}");
    let text = std::fs::read_to_string(manifest_path(&source))
        .unwrap_or_else(|e| panic!("reading {source}: {e}"));
    let result = Spec::parse(&source, &text);
    (text, result)
}

/// The texts between pairs of backticks in `message`, in order.
fn quoted(message: &str) -> Vec<&str> {
    message.split('`').skip(1).step_by(2).collect()
}

#[test]
fn every_bad_spec_fails_with_its_code_at_its_place() {
    let cases = bad_cases();
    assert!(cases.len() >= 20, "only {} cases in {BAD_DIR}", cases.len());
    let mut codes = BTreeSet::new();
    for name in &cases {
        let stem = name.strip_suffix(".toml").unwrap();
        let expected_code = stem
            .split('-')
            .next()
            .filter(|code| ALL_CODES.contains(code))
            .unwrap_or_else(|| {
                panic!("{name}: the file name must start with a code such as S004-")
            });
        codes.insert(expected_code);

        let (text, result) = parse_case(name);
        let error = match result {
            Ok(_) => panic!("{name}: parsed without error"),
            Err(error) => error,
        };
        let shown = error.to_string();
        assert_eq!(
            error.code.code(),
            expected_code,
            "{name}: wrong code in `{shown}`"
        );
        assert_eq!(
            error.file,
            format!("{BAD_DIR}/{name}"),
            "{name}: wrong file in `{shown}`"
        );

        let lines: Vec<&str> = text.lines().collect();
        assert!(
            (1..=lines.len()).contains(&error.line),
            "{name}: line {} is outside the file ({} lines): `{shown}`",
            error.line,
            lines.len()
        );
        let line = lines[error.line - 1];
        assert!(
            error.column >= 1 && error.column <= line.chars().count() + 1,
            "{name}: column {} is outside line {} ({line:?}): `{shown}`",
            error.column,
            error.line
        );
        if !NO_TOKEN_CODES.contains(&expected_code) {
            let names = quoted(&error.message);
            let Some(first) = names.first() else {
                panic!("{name}: no `name` quoted in the message: `{shown}`");
            };
            assert!(
                line.contains(first),
                "{name}: line {} ({line:?}) does not contain `{first}`: `{shown}`",
                error.line
            );
            // The column is where a quoted name starts, or the string holding it.
            let at: String = line.chars().skip(error.column - 1).collect();
            let at = at.trim_start_matches(['"', '\'']);
            assert!(
                names.iter().any(|n| at.starts_with(n)),
                "{name}: column {} of line {} ({line:?}) is not at any of {names:?}: `{shown}`",
                error.column,
                error.line
            );
        }

        insta::with_settings!({
            snapshot_path => "snapshots/spec_errors",
            prepend_module_to_snapshot => false,
            omit_expression => true,
        }, {
            insta::assert_snapshot!(stem, shown);
        });
    }
    let missing: Vec<&&str> = ALL_CODES
        .iter()
        .filter(|code| !codes.contains(*code))
        .collect();
    assert!(missing.is_empty(), "no case in {BAD_DIR} for {missing:?}");
}

#[test]
fn minimal_spec_parses_and_renders() {
    let text = std::fs::read_to_string(manifest_path(MINIMAL)).expect("reading the minimal spec");
    let spec = Spec::parse(MINIMAL, &text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(spec.families.len(), 1);
    assert_eq!(spec.families[0].items.len(), 3);
    assert!(spec.support.is_none());
    let files =
        vnetgen::gen::render::render(&spec).unwrap_or_else(|e| panic!("rendering {MINIMAL}: {e}"));
    assert!(
        files.iter().any(|f| f.path == "sys/net/vnet.h"),
        "no sys/net/vnet.h among {:?}",
        files.iter().map(|f| &f.path).collect::<Vec<_>>()
    );
}

#[test]
fn generate_with_a_bad_spec_exits_3_and_writes_nothing() {
    let name = "S007-group-not-in-family.toml";
    let spec = format!("{BAD_DIR}/{name}");
    let expected = match parse_case(name).1 {
        Ok(_) => panic!("{spec} parsed without error"),
        Err(error) => error,
    };
    let out = tempfile::tempdir().expect("temporary directory");
    let output = Command::new(env!("CARGO_BIN_EXE_vnetgen"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["generate", "--spec", &spec, "--out"])
        .arg(out.path())
        .output()
        .expect("running vnetgen");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "stderr: {stderr}");
    let location = format!(
        "{spec}:{}:{}: error[S007]: ",
        expected.line, expected.column
    );
    assert!(
        stderr.contains(&location),
        "stderr lacks {location:?}: {stderr}"
    );
    assert!(
        stderr.contains(&format!("vnetgen: {expected}")),
        "stderr: {stderr}"
    );
    let left: Vec<_> = std::fs::read_dir(out.path())
        .expect("reading the output directory")
        .map(|entry| entry.expect("readable directory entry").path())
        .collect();
    assert!(left.is_empty(), "generate wrote {left:?}");
}
