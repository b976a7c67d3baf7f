//! `vnetgen diff` and `vnetgen::review::macros`: hand-written reference headers in
//! tests/diff/ (stock FreeBSD 14 layout, our own text) against the kld-tied
//! output and against each other: renames, whitespace-only changes,
//! changed bodies, additions and removals.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use vnetgen::build::cflags::{stub_sysroot, Target};
use vnetgen::review::macros::{compare, macro_table, Configuration};
use vnetgen::spec::variant::{KernelConfig, Variant};
use vnetgen::spec::Spec;

fn case(name: &str) -> PathBuf {
    common::repo().join("tests/diff").join(name).join("vnet.h")
}

fn kld_tied() -> PathBuf {
    common::repo().join("generated/variants/kld-tied/sys/net/vnet.h")
}

fn diff(reference: &Path, against: &Path, extra: &[&str]) -> (Output, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_vnetgen"))
        .arg("diff")
        .arg(reference)
        .arg("--against")
        .arg(against)
        .args(["--format", "json"])
        .args(extra)
        .output()
        .expect("run vnetgen diff");
    let doc = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stderr)));
    (out, doc)
}

fn config<'d>(doc: &'d Value, variant: &str, kernel: Option<&str>) -> &'d Value {
    doc["configurations"]
        .as_array()
        .expect("configurations")
        .iter()
        .find(|c| c["variant"] == variant && c["kernel"].as_str() == kernel)
        .unwrap_or_else(|| panic!("no configuration {variant} {kernel:?}"))
}

fn names(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|m| m["name"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn whitespace_only_changes_are_left_out() {
    common::toolchain();
    let (out, doc) = diff(&case("reference"), &case("whitespace"), &[]);
    assert_eq!(out.status.code(), Some(0));
    let configs = doc["configurations"].as_array().expect("configurations");
    assert_eq!(configs.len(), 4);
    for c in configs {
        for key in ["added", "removed", "changed", "renamed"] {
            assert_eq!(c[key].as_array().map(Vec::len), Some(0), "{key}: {c}");
        }
        assert!(c["unchanged"].as_u64().is_some_and(|n| n > 30));
    }
}

#[test]
fn a_rename_is_reported_as_a_rename_and_nothing_else() {
    common::toolchain();
    let (out, doc) = diff(&case("reference"), &case("rename"), &[]);
    assert_eq!(out.status.code(), Some(4));
    for c in doc["configurations"].as_array().expect("configurations") {
        let renamed = c["renamed"].as_array().expect("renamed");
        assert_eq!(renamed.len(), 1, "{c}");
        assert_eq!(renamed[0]["from"], "TD_TO_VNET");
        assert_eq!(renamed[0]["to"], "THREAD_TO_VNET");
        for key in ["added", "removed", "changed"] {
            assert_eq!(c[key].as_array().map(Vec::len), Some(0), "{key}: {c}");
        }
    }
}

#[test]
fn a_changed_body_shows_old_and_new_in_the_configurations_it_reaches() {
    common::toolchain();
    let (out, doc) = diff(
        &case("reference"),
        &case("changed"),
        &["--variant", "kld-tied"],
    );
    assert_eq!(out.status.code(), Some(4));
    let with = config(&doc, "kld-tied", Some("vimage"));
    assert_eq!(with["changed"].as_array().map(Vec::len), Some(0));
    let without = config(&doc, "kld-tied", Some("novimage"));
    let changed = without["changed"].as_array().expect("changed");
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0]["name"], "IS_DEFAULT_VNET");
    assert_eq!(changed[0]["old"]["body"], "1");
    assert_eq!(changed[0]["new"]["body"], "0");
    assert_eq!(
        without["defines"],
        serde_json::json!(["-D_KERNEL", "-DKLD_MODULE", "-DKLD_TIED"])
    );
}

#[test]
fn the_kld_tied_output_against_a_stock_style_reference() {
    common::toolchain();
    let (out, doc) = diff(&case("reference"), &kld_tied(), &["--variant", "kld-tied"]);
    assert_eq!(out.status.code(), Some(4));
    let with = config(&doc, "kld-tied", Some("vimage"));
    let added = names(&with["added"]);
    assert!(added.contains(&"VNET_ACTIVE".to_string()), "{added:?}");
    // Every macro of the stock-style header is there: CURVNET_SET_VERBOSE,
    // _VNET, VNET_START and VNET_STOP were once missing.
    let removed = names(&with["removed"]);
    assert!(removed.is_empty(), "{removed:?}");
    let changed = names(&with["changed"]);
    // The reference is an older release's header: its magic number differs.
    assert!(changed.contains(&"VNET_MAGIC_N".to_string()), "{changed:?}");
    // Parameter names (arg against arg_), whitespace, and FreeBSD's own
    // expression forms and positional initialisers: no change.
    for name in [
        "CURVNET_SET_QUIET",
        "CURVNET_RESTORE",
        "VNET_DEFINE",
        "IS_DEFAULT_VNET",
        "VNET_FOREACH",
        "VNET_LIST_RLOCK",
        "VNET_SYSINIT",
        "VNET_SYSUNINIT",
    ] {
        assert!(!changed.contains(&name.to_string()), "{name}: {changed:?}");
    }
    let without = config(&doc, "kld-tied", Some("novimage"));
    // Without VIMAGE, VNET_ASSERT is empty, as FreeBSD has it.
    assert!(!names(&without["changed"]).contains(&"VNET_ASSERT".to_string()));

    // The text form: the same categories, per configuration.
    let text = Command::new(env!("CARGO_BIN_EXE_vnetgen"))
        .arg("diff")
        .arg(case("reference"))
        .arg("--against")
        .arg(kld_tied())
        .args(["--variant", "kld-tied", "--kernel", "vimage"])
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&text.stdout);
    for words in [
        "== kld-tied, built for a vimage kernel, amd64: -D_KERNEL -DKLD_MODULE -DKLD_TIED -DVIMAGE",
        "changed:\n",
        "  -\tVNET_MAGIC_N\t0x3e0d8f29\n  +\tVNET_MAGIC_N\t0x5e4a6f28\n",
        "added:\n",
    ] {
        assert!(text.contains(words), "no `{words}` in:\n{text}");
    }
    assert!(!text.contains("novimage"), "{text}");
    assert!(!text.contains("removed:"), "{text}");
}

#[test]
fn the_flattened_kld_tied_header_means_what_the_full_header_means() {
    // `vnetgen diff` defaults to the generated header of the same name.
    common::toolchain();
    let out = Command::new(env!("CARGO_BIN_EXE_vnetgen"))
        .arg("diff")
        .arg(kld_tied())
        .args(["--variant", "kld-tied"])
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let bad = Command::new(env!("CARGO_BIN_EXE_vnetgen"))
        .arg("diff")
        .arg(common::repo().join("tests/diff/reference"))
        .output()
        .expect("run");
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn a_macro_table_holds_the_headers_own_macros_only() {
    let toolchain = common::toolchain();
    let spec = Spec::default_spec().expect("default spec");
    let arch = spec.arch("riscv64").expect("riscv64");
    let generated = common::repo().join("generated");
    let config = Configuration::cell(
        &spec,
        &Target {
            variant: Variant::KldTied,
            kernel: KernelConfig::Vimage,
            arch,
            release: None,
        },
        &toolchain.clang,
        &generated,
        &stub_sysroot(),
    );
    let table = macro_table(&kld_tied(), &config).unwrap_or_else(|e| panic!("{e}"));
    assert!(table.get("_NET_VNET_H_").is_some());
    assert!(table.get("VNET").is_some());
    // From sys/queue.h, sys/cdefs.h and the compiler: not the header's.
    for name in ["LIST_HEAD", "__aligned", "__riscv", "_KERNEL"] {
        assert!(table.get(name).is_none(), "{name}");
    }
    let vnet = table.get("VNET").expect("VNET");
    assert_eq!(vnet.params.as_deref(), Some(&["n".to_string()][..]));
    assert!(vnet.line > 0);
    // The same table compares equal to itself, and the reference differs.
    assert!(compare(&table, &table).is_empty());
    let reference = macro_table(&case("reference"), &config).unwrap_or_else(|e| panic!("{e}"));
    assert!(!compare(&reference, &table).is_empty());
    // A header that does not preprocess is an error naming it.
    let dir = tempfile::tempdir().expect("temporary directory");
    let broken = dir.path().join("broken.h");
    std::fs::write(&broken, "#include <no/such/header.h>\n").expect("write");
    let err = macro_table(&broken, &config)
        .expect_err("an error")
        .to_string();
    assert!(
        err.contains("broken.h") && err.contains("no/such/header.h"),
        "{err}"
    );
}
