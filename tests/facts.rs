//! The generated compiled-in headers against the recorded facts of the
//! stock FreeBSD 13.2 and 15.1 headers (`facts/`), with no FreeBSD tree.
//!
//! `facts/differences.json` is the ledger of every difference still left
//! (what `vnetgen facts check --format json` prints): a new difference, a
//! regression, fails here, and so does a fixed one until the ledger says so.

mod common;

use std::process::Command;

fn facts_check() -> (i32, serde_json::Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_vnetgen"))
        .args(["facts", "check", "--format", "json", "--facts"])
        .arg(common::repo().join("facts"))
        .output()
        .expect("run vnetgen facts check");
    let text = String::from_utf8_lossy(&out.stdout);
    let doc = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "facts check printed no JSON ({e}):\n{text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), doc)
}

fn differences_of(doc: &serde_json::Value, release: &str, header: &str) -> Vec<String> {
    doc.as_array()
        .expect("a list")
        .iter()
        .filter(|d| d["release"] == release && d["header"] == header)
        .filter_map(|d| d["name"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn the_differences_are_exactly_the_ledger() {
    common::toolchain();
    let (code, doc) = facts_check();
    let ledger: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(common::repo().join("facts/differences.json"))
            .expect("read facts/differences.json"),
    )
    .expect("facts/differences.json is JSON");
    assert_eq!(
        doc,
        ledger,
        "the generated headers no longer differ from the stock ones as facts/differences.json says; \
         if that is a fix, run `vnetgen facts check --format json > facts/differences.json`"
    );
    assert_eq!(
        code,
        if ledger.as_array().is_some_and(Vec::is_empty) {
            0
        } else {
            4
        }
    );
}

/// The defects found against the real trees, each a macro that must now
/// mean what the stock header means, in every configuration of both releases.
#[test]
fn fixed_facts_stay_fixed() {
    common::toolchain();
    let (_, doc) = facts_check();
    for release in ["13.2", "15.1"] {
        let vnet = differences_of(&doc, release, "net/vnet.h");
        for name in [
            // 0x5e4a6f28 in both releases, not an old release's value.
            "VNET_MAGIC_N",
            // SI_SUB_INIT_IF, SI_ORDER_FIRST; CTLFLAG_NEEDGIANT.
            "VNET_PCPUSTAT_SYSINIT",
            "VNET_PCPUSTAT_SYSUNINIT",
            "SYSCTL_VNET_PCPUSTAT",
            // Macros that were missing.
            "CURVNET_SET_VERBOSE",
            "VNET_START",
            "VNET_STOP",
            "_VNET",
            // The trailing `;` and FreeBSD's expression forms.
            "CURVNET_SET",
            "CURVNET_SET_QUIET",
            "CURVNET_RESTORE",
            "VNET_LIST_RLOCK",
            "VNET_LIST_RUNLOCK",
            "VNET_LIST_RLOCK_NOSLEEP",
            "VNET_LIST_RUNLOCK_NOSLEEP",
            "VNET_GLOBAL_EVENTHANDLER_REGISTER",
            "VNET_GLOBAL_EVENTHANDLER_REGISTER_TAG",
            "VNET_SYSINIT",
            "VNET_SYSUNINIT",
            "VNET",
            "_VNET_PTR",
            "CRED_TO_VNET",
        ] {
            assert!(
                !vnet.contains(&name.to_string()),
                "{release} net/vnet.h: {name} differs from the stock header again"
            );
        }
    }
}

#[test]
fn a_tree_that_is_not_freebsd_is_refused_with_nothing_written() {
    common::toolchain();
    let work = tempfile::tempdir().expect("temporary directory");
    let tree = work.path().join("tree");
    std::fs::create_dir_all(tree.join("sys/sys")).expect("mkdir");
    std::fs::write(
        tree.join("sys/sys/param.h"),
        "#define __FreeBSD_version 1302001\n",
    )
    .expect("write");
    let out_dir = work.path().join("facts");
    let out = Command::new(env!("CARGO_BIN_EXE_vnetgen"))
        .args(["facts", "extract", "--release", "13.2", "--tree"])
        .arg(&tree)
        .arg("--out")
        .arg(&out_dir)
        .output()
        .expect("run vnetgen facts extract");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "{}: not a FreeBSD source tree: sys/net/vnet.h is missing",
            tree.display()
        )),
        "{stderr}"
    );
    assert!(!out_dir.exists(), "nothing may be written");

    let unknown = Command::new(env!("CARGO_BIN_EXE_vnetgen"))
        .args(["facts", "extract", "--release", "9.9", "--tree"])
        .arg(&tree)
        .output()
        .expect("run vnetgen facts extract");
    let stderr = String::from_utf8_lossy(&unknown.stderr);
    assert_eq!(unknown.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("unknown release `9.9`; the spec knows: 13.2, 15.1"),
        "{stderr}"
    );
}

/// The recorded symbol tables are real kernels': VIMAGE ones export vnet0
/// and the vnet(9) functions the old hand-written model lacked, and
/// neither kind exports what only VNET_DEBUG or armv7 kernels have.
#[test]
fn recorded_kernels_are_the_real_ones() {
    use vnetgen::spec::kernel_model::recorded;
    use vnetgen::spec::variant::KernelConfig;
    for (release, arch) in [
        ("13.2", "amd64"),
        ("13.2", "i386"),
        ("13.2", "aarch64"),
        ("15.1", "amd64"),
        ("15.1", "i386"),
    ] {
        let vimage = recorded::symbols(release, arch, KernelConfig::Vimage)
            .unwrap_or_else(|| panic!("no recorded {release} {arch} VIMAGE kernel"));
        let novimage = recorded::symbols(release, arch, KernelConfig::Novimage)
            .unwrap_or_else(|| panic!("no recorded {release} {arch} non-VIMAGE kernel"));
        for s in [
            "vnet0",
            "vnet_alloc",
            "vnet_destroy",
            "vnet_entry_ip_defttl",
        ] {
            assert!(vimage.contains(s), "{release} {arch} VIMAGE: {s}");
            assert!(!novimage.contains(s), "{release} {arch} non-VIMAGE: {s}");
        }
        for s in ["m_freem", "copyin", "printf"] {
            assert!(
                vimage.contains(s) && novimage.contains(s),
                "{release} {arch}: {s}"
            );
        }
        assert!(
            novimage.contains("ip_defttl"),
            "{release} {arch}: ip_defttl"
        );
        for s in ["pcpup", "vnet_log_recursion"] {
            assert!(
                !vimage.contains(s) && !novimage.contains(s),
                "{release} {arch}: {s}"
            );
        }
    }
}

/// `inspect` predicts against the recorded kernels: a module that calls
/// the kernel's m_freem loads on both (the spec's model never had it), and
/// one that calls a function no kernel has fails, naming it.
#[test]
fn inspect_uses_the_recorded_kernels() {
    let toolchain = common::toolchain();
    let work = tempfile::tempdir().expect("temporary directory");
    let build = |name: &str, call: &str| {
        let source = work.path().join(format!("{name}.c"));
        std::fs::write(
            &source,
            format!("void {call}(void *);\nvoid use_it(void *p);\nvoid use_it(void *p) {{ {call}(p); }}\n"),
        )
        .expect("write");
        let object = work.path().join(format!("{name}.o"));
        let module = work.path().join(format!("{name}.ko"));
        let ok = Command::new(&toolchain.clang)
            .args([
                "--target=x86_64-unknown-freebsd15.1",
                "-ffreestanding",
                "-mcmodel=kernel",
                "-O2",
                "-c",
            ])
            .arg(&source)
            .arg("-o")
            .arg(&object)
            .status()
            .expect("clang")
            .success();
        assert!(ok, "clang");
        let ok = Command::new(&toolchain.lld)
            .args(["-r", "-o"])
            .arg(&module)
            .arg(&object)
            .status()
            .expect("ld.lld")
            .success();
        assert!(ok, "ld.lld");
        module
    };
    let good = build("uses_mbufs", "m_freem");
    let out = Command::new(env!("CARGO_BIN_EXE_vnetgen"))
        .arg("inspect")
        .arg(&good)
        .output()
        .expect("inspect");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("on a vimage kernel: loads") && text.contains("on a novimage kernel: loads"),
        "{text}"
    );

    let bad = build("uses_nothing_real", "no_such_kernel_function");
    let out = Command::new(env!("CARGO_BIN_EXE_vnetgen"))
        .args(["inspect", "--release", "13.2"])
        .arg(&bad)
        .output()
        .expect("inspect");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(4), "{text}");
    assert!(text.contains("no_such_kernel_function"), "{text}");
}

/// `vendor` replaces a release's stock header only when the spec lists its
/// hash: the facts record each stock file's SHA-256, and `facts check`
/// reports a spec that forgets one.
#[test]
fn the_spec_knows_every_recorded_stock_header() {
    common::toolchain();
    let spec = std::fs::read_to_string(common::repo().join("spec/vimage.toml")).expect("spec");
    let facts: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(common::repo().join("facts/13.2/net_vnet.h.json")).expect("facts"),
    )
    .expect("json");
    let hash = facts["file_sha256"].as_str().expect("file_sha256");
    assert!(spec.contains(hash), "the spec lists 13.2's vnet.h");
    let dir = tempfile::tempdir().expect("temporary directory");
    let forgetful = dir.path().join("spec.toml");
    std::fs::write(&forgetful, spec.replace(&format!("\"{hash}\","), "")).expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_vnetgen"))
        .args(["facts", "check", "--spec"])
        .arg(&forgetful)
        .arg("--facts")
        .arg(common::repo().join("facts"))
        .output()
        .expect("run vnetgen facts check");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(4), "{text}");
    assert!(
        text.contains(&format!(
            "13.2 net/vnet.h: the spec's `known` list lacks the stock file's SHA-256 {hash}"
        )),
        "{text}"
    );
    assert!(
        text.ends_with("1 differences from the stock headers\n"),
        "{text}"
    );
}

/// What the `kernel` detection mode assumes of a kernel that carries
/// vnet_support.c (the flag and the shims), against real ones: the kernels
/// built from trees vendored with `vnetgen vendor --detect kernel`, whose
/// symbol tables `facts kernel-symbols` recorded as `<kind>-support.txt`.
#[test]
fn a_vendored_kernel_exports_what_the_kernel_detection_mode_assumes() {
    use vnetgen::spec::kernel_model::{recorded, KernelModel};
    use vnetgen::spec::variant::{Detect, KernelConfig};
    let spec = vnetgen::spec::Spec::default_spec().expect("default spec");
    let mut checked = 0;
    for (config, kind) in [
        (KernelConfig::Vimage, "vimage"),
        (KernelConfig::Novimage, "novimage"),
    ] {
        let assumed = KernelModel::new(&spec, config, Detect::Kernel).symbols;
        let stock_model = KernelModel::new(&spec, config, Detect::Probe).symbols;
        let added: Vec<&String> = assumed.difference(&stock_model).collect();
        assert!(added.contains(&&spec.flag), "{added:?}");
        for release_dir in common::subdirs("facts/kernels") {
            for arch in common::subdirs(&format!("facts/kernels/{release_dir}")) {
                let dir = common::repo().join(format!("facts/kernels/{release_dir}/{arch}"));
                let Ok(text) = std::fs::read_to_string(dir.join(format!("{kind}-support.txt")))
                else {
                    continue;
                };
                let real = recorded::parse(&text);
                let missing: Vec<&&String> = added.iter().filter(|s| !real.contains(**s)).collect();
                assert!(
                    missing.is_empty(),
                    "{release_dir} {arch} {kind}: the vendored kernel lacks {missing:?}"
                );
                // Against the stock kernel of that kind, built from the same
                // config: the vendored headers change nothing else the
                // kernel exports, and vnet_support.c adds exactly these.
                let stock = recorded::parse(
                    &std::fs::read_to_string(dir.join(format!("{kind}.txt"))).expect("stock"),
                );
                let extra: Vec<&String> = real.difference(&stock).collect();
                let lost: Vec<&String> = stock.difference(&real).collect();
                assert_eq!(
                    (extra, lost),
                    (added.clone(), Vec::new()),
                    "{release_dir} {arch} {kind}: the vendored kernel against the stock one"
                );
                checked += 1;
            }
        }
    }
    assert!(
        checked >= 2,
        "facts/kernels has no support kernels of both kinds: record them with \
         `vnetgen facts kernel-symbols --kernels DIR` from kernels built by scripts/build-kernels \
         on a tree vendored with `vnetgen vendor TREE --detect kernel`"
    );
}
