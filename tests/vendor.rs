//! `vnetgen vendor` on a miniature FreeBSD tree: the patch series applies
//! with git and with patch(1), its first patch changes no macro in any
//! configuration, it ends where direct vendoring does, a second run writes
//! nothing, and a locally edited header is refused.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};
use vnetgen::build::cflags::stub_sysroot;
use vnetgen::review::diff::{diff, DiffRequest};
use vnetgen::review::vendor::{vendor, VendorError, VendorOptions, VendorOutcome};
use vnetgen::spec::variant::{Detect, KernelConfig, Variant};
use vnetgen::spec::{Spec, DEFAULT_SPEC};

fn stock() -> PathBuf {
    common::repo().join("tests/vendor/tree")
}

fn sha256(path: &Path) -> String {
    let data = std::fs::read(path).expect("read");
    Sha256::digest(&data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The default spec, told the hashes of the miniature tree's headers as
/// well as the releases' own.
fn spec_text() -> String {
    let mut text = DEFAULT_SPEC.to_string();
    for (guard, header) in [
        ("_NET_VNET_H_", "sys/net/vnet.h"),
        ("_SYS_PCPU_H_", "sys/sys/pcpu.h"),
    ] {
        let at = text
            .find(&format!("guard = \"{guard}\"\n"))
            .and_then(|g| {
                text[g..]
                    .find("known = [\n")
                    .map(|k| g + k + "known = [\n".len())
            })
            .expect("the default spec lists the known versions of each header");
        text.insert_str(at, &format!("\t\"{}\",\n", sha256(&stock().join(header))));
    }
    text
}

fn spec() -> Spec {
    Spec::parse("vendor-test.toml", &spec_text()).expect("test spec")
}

fn copy_tree(to: &Path) {
    let status = Command::new("cp")
        .arg("-r")
        .arg(stock())
        .arg(to)
        .status()
        .expect("cp");
    assert!(status.success());
}

fn options(tree: &Path) -> VendorOptions {
    VendorOptions {
        tree: tree.to_path_buf(),
        detect: Some(Detect::Kernel),
        patches: None,
        dry_run: false,
        sysroot: stub_sysroot(),
    }
}

fn read_tree(tree: &Path) -> Vec<(String, String)> {
    [
        "sys/net/vnet.h",
        "sys/sys/pcpu.h",
        "sys/net/vnet_support.c",
        "sys/conf/files",
    ]
    .iter()
    .map(|p| {
        (
            p.to_string(),
            std::fs::read_to_string(tree.join(p)).unwrap_or_default(),
        )
    })
    .collect()
}

#[test]
fn the_series_applies_changes_no_meaning_first_and_ends_where_vendoring_does() {
    common::toolchain();
    let spec = spec();
    let work = tempfile::tempdir().expect("temporary directory");
    let patches_dir = work.path().join("patches");
    let source = work.path().join("source");
    copy_tree(&source);
    let mut opts = options(&source);
    opts.patches = Some(patches_dir.clone());
    let VendorOutcome::Patches(patches) = vendor(&spec, &opts).unwrap_or_else(|e| panic!("{e}"))
    else {
        panic!("expected a patch series");
    };
    // Layout, the VNET macros, vnet_support.c: the pcpu.h macros now mean
    // what the stock header's do, so they need no patch of their own.
    assert_eq!(patches.len(), 3, "{patches:?}");
    assert_eq!(
        read_tree(&source),
        read_tree(&stock()),
        "--patches touched the tree"
    );
    let texts: Vec<String> = patches
        .iter()
        .map(|p| std::fs::read_to_string(p).expect("patch"))
        .collect();
    assert!(texts[0].contains("Subject: [PATCH 1/3]") && texts[0].contains("no change in meaning"));
    assert!(texts[0].contains("pcpu.h"));
    assert!(texts[1].contains("vnet.h") && texts[2].contains("sys/conf/files"));

    // Direct vendoring, for comparison.
    let direct = work.path().join("direct");
    copy_tree(&direct);
    assert!(matches!(
        vendor(&spec, &options(&direct)),
        Ok(VendorOutcome::Written(_))
    ));

    // With git apply, patch by patch; after the first, no macro differs.
    let with_git = work.path().join("git");
    copy_tree(&with_git);
    assert!(Command::new("git")
        .args(["init", "-q"])
        .current_dir(&with_git)
        .status()
        .expect("git")
        .success());
    for (n, patch) in patches.iter().enumerate() {
        let status = Command::new("git")
            .arg("apply")
            .arg(patch)
            .current_dir(&with_git)
            .status()
            .expect("git apply");
        assert!(status.success(), "git apply {}", patch.display());
        if n == 0 {
            for header in ["sys/net/vnet.h", "sys/sys/pcpu.h"] {
                for arch in ["amd64", "aarch64", "i386"] {
                    let report = diff(
                        &spec,
                        &DiffRequest {
                            reference: stock().join(header),
                            generated: with_git.join(header),
                            variants: vec![Variant::KldTied, Variant::Vimage],
                            kernels: KernelConfig::ALL.to_vec(),
                            arch: arch.to_string(),
                            generated_tree: with_git.clone(),
                            sysroot: stub_sysroot(),
                        },
                    )
                    .unwrap_or_else(|e| panic!("{e}"));
                    assert!(
                        !report.differs(),
                        "patch 1 changes {header} on {arch}: {report:#?}"
                    );
                }
            }
        }
    }
    assert_eq!(
        read_tree(&with_git),
        read_tree(&direct),
        "the series does not end where vendoring does"
    );

    // With patch(1).
    let with_patch = work.path().join("patch");
    copy_tree(&with_patch);
    for patch in &patches {
        let input = std::fs::File::open(patch).expect("open patch");
        let status = Command::new("patch")
            .args(["-p1", "-s"])
            .stdin(input)
            .current_dir(&with_patch)
            .status()
            .expect("patch");
        assert!(status.success(), "patch -p1 < {}", patch.display());
    }
    assert_eq!(read_tree(&with_patch), read_tree(&direct));

    // A second run writes nothing.
    assert!(matches!(
        vendor(&spec, &options(&direct)),
        Ok(VendorOutcome::NothingToDo)
    ));
    let files = std::fs::read_to_string(direct.join("sys/conf/files")).expect("files");
    assert_eq!(files.matches("net/vnet_support.c").count(), 1);
}

#[test]
fn a_locally_edited_header_is_refused_and_left_untouched() {
    let spec = spec();
    let work = tempfile::tempdir().expect("temporary directory");
    let tree = work.path().join("tree");
    copy_tree(&tree);
    let header = tree.join("sys/net/vnet.h");
    let edited = std::fs::read_to_string(&header)
        .expect("read")
        .replace("0x3e0d8f29", "0x3e0d8f2a");
    std::fs::write(&header, &edited).expect("edit");
    let err = vendor(&spec, &options(&tree)).expect_err("an unknown header is refused");
    assert!(matches!(err, VendorError::Unrecognised { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("sys/net/vnet.h does not look like the header it replaces"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&header).expect("read"), edited);
    assert_eq!(
        read_tree(&tree)[1],
        read_tree(&stock())[1],
        "another file was written"
    );

    // Through the command: exit 5, nothing written.
    let spec_file = work.path().join("spec.toml");
    std::fs::write(&spec_file, spec_text()).expect("spec");
    let out = Command::new(env!("CARGO_BIN_EXE_vnetgen"))
        .args(["vendor", "--detect", "kernel", "--spec"])
        .arg(&spec_file)
        .arg(&tree)
        .output()
        .expect("run vnetgen vendor");
    assert_eq!(out.status.code(), Some(5));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("does not look like the header it replaces")
    );
}

#[test]
fn dry_run_prints_the_change_and_writes_nothing() {
    let spec = spec();
    let work = tempfile::tempdir().expect("temporary directory");
    let tree = work.path().join("tree");
    copy_tree(&tree);
    let mut opts = options(&tree);
    opts.dry_run = true;
    let VendorOutcome::DryRun(diff) = vendor(&spec, &opts).unwrap_or_else(|e| panic!("{e}")) else {
        panic!("expected a dry run");
    };
    assert!(
        diff.contains("+++ b/sys/net/vnet.h") && diff.contains("+net/vnet_support.c"),
        "{diff}"
    );
    assert_eq!(read_tree(&tree), read_tree(&stock()));
}

#[test]
fn probe_mode_vendors_the_headers_only() {
    let spec = spec();
    let work = tempfile::tempdir().expect("temporary directory");
    let tree = work.path().join("tree");
    copy_tree(&tree);
    let mut opts = options(&tree);
    opts.detect = Some(Detect::Probe);
    let VendorOutcome::Written(files) = vendor(&spec, &opts).unwrap_or_else(|e| panic!("{e}"))
    else {
        panic!("expected files written");
    };
    assert_eq!(
        files,
        vec!["sys/net/vnet.h".to_string(), "sys/sys/pcpu.h".to_string()]
    );
    assert!(!tree.join("sys/net/vnet_support.c").exists());
    assert!(!std::fs::read_to_string(tree.join("sys/conf/files"))
        .expect("files")
        .contains("vnet_support"));
}
