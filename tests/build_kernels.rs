//! scripts/build-kernels refuses what it cannot build from, before it
//! writes anything.  (The build itself takes half an hour; it made the
//! kernels the vm tests boot.)

use std::path::Path;
use std::process::Command;

fn script() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/build-kernels")
}

fn run(args: &[&Path]) -> (i32, String) {
    let out = Command::new(script())
        .args(args)
        .output()
        .expect("run build-kernels");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn bad_trees_releases_and_configs_are_refused_with_nothing_written() {
    let work = tempfile::tempdir().expect("temporary directory");
    let tree = work.path().join("tree");
    let conf = work.path().join("conf");
    let out = work.path().join("out");
    std::fs::create_dir_all(tree.join("sys/sys")).expect("mkdir");
    std::fs::create_dir_all(&conf).expect("mkdir");
    std::fs::write(
        tree.join("sys/sys/param.h"),
        "#define __FreeBSD_version 1302001\n",
    )
    .expect("write");

    let (code, err) = run(&[&tree, Path::new("13.2"), Path::new("amd64"), &conf, &out]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("not a whole FreeBSD source tree: sys/conf/kern.mk is missing"),
        "{err}"
    );
    assert!(!out.exists(), "nothing may be written");

    std::fs::create_dir_all(tree.join("sys/conf")).expect("mkdir");
    std::fs::create_dir_all(tree.join("tools/build")).expect("mkdir");
    std::fs::write(tree.join("sys/conf/kern.mk"), "").expect("write");
    std::fs::write(tree.join("tools/build/make.py"), "").expect("write");
    let (code, err) = run(&[&tree, Path::new("15.1"), Path::new("amd64"), &conf, &out]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("__FreeBSD_version 1302001 is not release 15.1"),
        "{err}"
    );

    let (code, err) = run(&[&tree, Path::new("13.2"), Path::new("riscv64"), &conf, &out]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("riscv64: kernels are built for amd64 or i386"),
        "{err}"
    );

    let (code, err) = run(&[&tree, Path::new("13.2"), Path::new("i386"), &conf, &out]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("/VMVNET: no such kernel config"), "{err}");
    assert!(!out.exists(), "nothing may be written");
}

#[test]
fn a_config_file_that_differs_from_the_trees_own_is_refused() {
    let work = tempfile::tempdir().expect("temporary directory");
    let tree = work.path().join("tree");
    let conf = work.path().join("conf");
    let out = work.path().join("out");
    for dir in ["sys/sys", "sys/conf", "sys/amd64/conf", "tools/build"] {
        std::fs::create_dir_all(tree.join(dir)).expect("mkdir");
    }
    std::fs::create_dir_all(&conf).expect("mkdir");
    std::fs::write(
        tree.join("sys/sys/param.h"),
        "#define __FreeBSD_version 1302001\n",
    )
    .expect("write");
    std::fs::write(tree.join("sys/conf/kern.mk"), "").expect("write");
    std::fs::write(tree.join("tools/build/make.py"), "").expect("write");
    std::fs::write(conf.join("VMVNET"), "include VMBASE\n").expect("write");
    std::fs::write(conf.join("VM.hints"), "hint.uart.0.at=\"isa\"\n").expect("write");
    std::fs::write(tree.join("sys/amd64/conf/VM.hints"), "other\n").expect("write");
    let (code, err) = run(&[
        &tree,
        Path::new("13.2"),
        Path::new("amd64"),
        &conf,
        &out,
        Path::new("VMVNET=VIMAGE"),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("sys/amd64/conf/VM.hints exists and differs from"),
        "{err}"
    );
    assert!(!out.exists(), "nothing may be written");
    assert!(!tree.join("sys/amd64/conf/VMVNET").exists());
}
