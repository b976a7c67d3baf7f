//! `vnetgen explain`: expansions through the real preprocessor, side by side
//! per variant, with the reason for the selection; unknown macros get the
//! closest names.

mod common;

use std::process::{Command, Output};

use serde_json::Value;

fn explain(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vnetgen"))
        .arg("explain")
        .args(args)
        .output()
        .expect("run vnetgen explain")
}

fn run_cells(args: &[&str]) -> Vec<Value> {
    let mut all = vec!["--format", "json"];
    all.extend_from_slice(args);
    let out = explain(&all);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    doc["cells"].as_array().cloned().expect("cells")
}

fn cell<'c>(cells: &'c [Value], variant: &str, kernel: Option<&str>) -> &'c Value {
    cells
        .iter()
        .find(|c| c["variant"] == variant && c["kernel"].as_str() == kernel)
        .unwrap_or_else(|| panic!("no cell {variant} {kernel:?}: {cells:?}"))
}

#[test]
fn vnet_expands_per_variant_with_the_reason_for_the_selection() {
    common::toolchain();
    let cells = run_cells(&["VNET", "counter"]);
    assert_eq!(cells.len(), 4);
    let novimage = cell(&cells, "kld-tied", Some("novimage"));
    assert_eq!(novimage["expansion"], "(counter)");
    assert_eq!(novimage["selected"], "novimage");
    assert!(novimage["why"]
        .as_str()
        .is_some_and(|w| w.contains("neither VIMAGE_RUNTIME nor VIMAGE")));
    let vimage = cell(&cells, "vimage", None);
    let expansion = vimage["expansion"].as_str().expect("expansion");
    assert!(
        expansion.contains("vnet_entry_counter") && expansion.contains("vnet_data_base"),
        "{expansion}"
    );
    assert!(!expansion.contains("vnet0"), "{expansion}");
    assert_eq!(vimage["defines"][2], "-DVIMAGE");
    assert_eq!(
        cell(&cells, "kld-tied", Some("vimage"))["expansion"],
        vimage["expansion"]
    );
    let runtime = cell(&cells, "vimage-runtime", None);
    let expansion = runtime["expansion"].as_str().expect("expansion");
    assert!(
        expansion.contains("vnet0") && expansion.contains("vnet_entry_counter"),
        "{expansion}"
    );
    assert_eq!(runtime["selected"], "runtime");
    assert!(runtime["branch"][1]
        .as_str()
        .is_some_and(|b| b.contains("VIMAGE_RUNTIME")));
    assert!(runtime["definition"]["line"]
        .as_u64()
        .is_some_and(|l| l > 0));

    // The text shows the cells one after another, and says which repeat.
    let out = explain(&["VNET", "counter"]);
    let text = String::from_utf8_lossy(&out.stdout);
    for words in [
        "== kld-tied, built for a vimage kernel, amd64",
        "== vimage-runtime, amd64",
        "selected: runtime: VIMAGE_RUNTIME is defined",
        "defines:  -D_KERNEL -DKLD_MODULE -DVIMAGE_RUNTIME",
        "expands to the same as kld-tied, built for a vimage kernel, amd64",
        "#define\tVNET(n)",
    ] {
        assert!(text.contains(words), "no `{words}` in:\n{text}");
    }
}

#[test]
fn statement_and_object_like_macros_and_a_chosen_variant_and_arch() {
    common::toolchain();
    let cells = run_cells(&[
        "VNET_SYSINIT",
        "x",
        "SI_SUB_PROTO_IFATTACHDOMAIN",
        "SI_ORDER_ANY",
        "f",
        "NULL",
        "--variant",
        "kld-tied",
        "--arch",
        "aarch64",
    ]);
    assert_eq!(cells.len(), 2);
    let with = cell(&cells, "kld-tied", Some("vimage"))["expansion"]
        .as_str()
        .expect("expansion")
        .to_string();
    let without = cell(&cells, "kld-tied", Some("novimage"))["expansion"]
        .as_str()
        .expect("expansion")
        .to_string();
    assert!(
        with.contains("vnet_register_sysinit") && with.contains("x_vnet_init"),
        "{with}"
    );
    assert!(!without.contains("vnet_register_sysinit"), "{without}");

    let cells = run_cells(&[
        "curvnet",
        "--variant",
        "vimage",
        "--variant",
        "kld-tied",
        "--kernel",
        "novimage",
    ]);
    assert_eq!(cells.len(), 2);
    assert!(cell(&cells, "vimage", None)["expansion"]
        .as_str()
        .is_some_and(|e| e.contains("td_vnet")));
    assert_eq!(
        cell(&cells, "kld-tied", Some("novimage"))["expansion"],
        "((void *)0)"
    );

    // DPCPU is the same in every variant, outside the selection.
    let cells = run_cells(&["DPCPU_GET", "hits", "--variant", "vimage-runtime"]);
    assert!(cells[0]["branch"].is_null());
    assert_eq!(cells[0]["header"], "sys/pcpu.h");
    assert!(cells[0]["expansion"]
        .as_str()
        .is_some_and(|e| e.contains("pcpu_entry_hits")));

    // Without arguments, a function-like macro shows its parameters.
    let out = explain(&["IS_DEFAULT_VNET", "--variant", "vimage"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("IS_DEFAULT_VNET(arg_) on amd64"), "{text}");
}

#[test]
fn an_unknown_macro_or_a_wrong_count_of_arguments_is_a_usage_error() {
    let out = explain(&["VNET_FORACH", "v"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("unknown macro `VNET_FORACH`") && err.contains("VNET_FOREACH"),
        "{err}"
    );
    let out = explain(&["vnet"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("did you mean VNET"));
    let out = explain(&["VNET", "a", "b"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("takes 1 argument, 2 given"));
    let out = explain(&["curvnet", "x"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("object-like"));
}
