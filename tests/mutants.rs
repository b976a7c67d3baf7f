//! Mutation testing of the checks (`scripts/mutants` runs every operator):
//! the operators file is sound, every operator applies to the generated
//! files, and a small subset of fast operators is killed on every CI run.

use std::collections::BTreeSet;
use std::path::PathBuf;

use vnetgen::mutants::{self, default_checks, render_into};
use vnetgen::spec::Spec;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn operators_cover_every_section_8_class_and_apply_to_the_generated_files() {
    let operators = mutants::operators().unwrap_or_else(|e| panic!("{e}"));
    assert!(operators.len() >= 25, "only {} operators", operators.len());
    let classes: BTreeSet<u8> = operators.iter().filter_map(|o| o.class).collect();
    assert_eq!(
        classes,
        (1..=11).collect(),
        "DOMAIN.md section 8 classes covered"
    );
    let spec = Spec::default_spec().expect("default spec");
    let dir = tempfile::tempdir().expect("temporary directory");
    render_into(&spec, dir.path()).expect("render");
    for op in &operators {
        let path = dir.path().join(&op.file);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", op.id));
        let mutated = op.mutate(&text).unwrap_or_else(|e| panic!("{e}"));
        assert_ne!(mutated, text, "{}: changes nothing", op.id);
    }
}

#[test]
fn a_malformed_operators_file_is_an_error() {
    let err = mutants::parse_operators("[[operator]]\nid = \"x\"\n").expect_err("missing keys");
    assert!(
        err.to_string().starts_with("mutants/operators.toml: "),
        "{err}"
    );
    let twice = "[[operator]]\nid = \"a\"\nwhat = \"w\"\nfile = \"f\"\n[[operator.edit]]\nfind = \"x\"\nreplace = \"y\"\n";
    let err = mutants::parse_operators(&format!("{twice}{twice}")).expect_err("duplicate id");
    assert!(err.to_string().contains("duplicate id a"), "{err}");
}

/// The subset run on every CI run: one operator per check, on amd64 and
/// aarch64 (the two module formats).  The full set is scripts/mutants.
#[test]
fn a_subset_of_mutants_is_killed_each_by_the_check_meant_for_it() {
    let wanted = [
        ("M06-lost-continuation-assert", "compile"),
        ("M08-statement-not-wrapped-assert", "hygiene"),
        ("M26-wrong-struct-offset", "layout"),
        ("M12-strong-vnet0", "lab"),
        ("M10-is-default-vnet-zero", "kld"),
    ];
    let spec = Spec::default_spec().expect("default spec");
    let operators: Vec<_> = mutants::operators()
        .expect("operators")
        .into_iter()
        .filter(|o| wanted.iter().any(|(id, _)| *id == o.id))
        .collect();
    assert_eq!(operators.len(), wanted.len());
    let work = tempfile::tempdir().expect("temporary directory");
    let archs = ["amd64".to_string(), "aarch64".to_string()];
    let mut checks = default_checks(
        &spec,
        &archs,
        &repo().join("tests/kmods"),
        &work.path().join("lab"),
        2,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let outcomes = mutants::run(&spec, work.path(), &mut checks, &operators, |_| {})
        .unwrap_or_else(|e| panic!("{e}"));
    let table = mutants::table(&outcomes);
    for (id, check) in wanted {
        let outcome = outcomes.iter().find(|o| o.operator.id == id).expect("ran");
        match &outcome.killed_by {
            Some((by, _)) => assert_eq!(by, check, "{id}:\n{table}"),
            None => panic!("{id} survived:\n{table}"),
        }
    }
    assert!(table.ends_with("mutants: 5/5 killed\n"), "{table}");
}
