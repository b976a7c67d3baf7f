//! Synthetic FreeBSD amd64 kernel images for `vnetgen inspect --kernel`:
//! an ET_EXEC linked by ld.lld-19 with the given global symbols, any number
//! of filler symbols, and padding to reach a size.  Used by the tests and by
//! benches/inspect_kernel.rs.

#![allow(dead_code)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use vnetgen::build::toolchain::Toolchain;

/// What goes into the image.
pub struct KernelSpec<'a> {
    /// Global symbols to define; `vnet_entry_*` ones go into `set_vnet`.
    pub symbols: &'a [String],
    /// Extra global functions and objects, named like kernel code.
    pub filler: usize,
    /// Bytes of initialised data, to make the file large.
    pub pad_bytes: usize,
}

/// Writes, assembles and links the image as `dir/name`; returns its path.
pub fn build(toolchain: &Toolchain, dir: &Path, name: &str, spec: &KernelSpec<'_>) -> PathBuf {
    std::fs::create_dir_all(dir).expect("kernel directory");
    let mut s = String::from("\t.text\n\t.globl btext\n\t.type btext,@function\nbtext:\n\tret\n");
    let words = [
        "if_attach",
        "tcp_output",
        "vm_page_alloc",
        "sched_switch",
        "vfs_mount",
        "uma_zalloc",
        "ip_input",
        "bus_setup_intr",
        "malloc_type",
        "sysctl_handle",
    ];
    for i in 0..spec.filler {
        let sym = format!("{}_{i:06}", words[i % words.len()]);
        if i % 2 == 0 {
            let _ = write!(
                s,
                "\t.text\n\t.globl {sym}\n\t.type {sym},@function\n{sym}:\n\tret\n"
            );
        } else {
            let _ = write!(
                s,
                "\t.data\n\t.globl {sym}\n\t.type {sym},@object\n\t.size {sym},8\n{sym}:\n\t.quad 0\n"
            );
        }
    }
    for sym in spec.symbols {
        let section = if sym.starts_with("vnet_entry_") {
            "\t.section set_vnet,\"aw\"\n"
        } else {
            "\t.data\n"
        };
        let _ = write!(
            s,
            "{section}\t.globl {sym}\n\t.type {sym},@object\n\t.size {sym},8\n\t.p2align 3\n{sym}:\n\t.quad 0\n"
        );
    }
    if spec.pad_bytes > 0 {
        let _ = write!(
            s,
            "\t.data\n\t.globl kernel_pad\nkernel_pad:\n\t.zero {}\n",
            spec.pad_bytes
        );
    }
    let asm = dir.join(format!("{name}.s"));
    let obj = dir.join(format!("{name}.o"));
    let out = dir.join(name);
    std::fs::write(&asm, s).expect("write the kernel's assembly");
    let status = Command::new(&toolchain.clang)
        .args(["--target=x86_64-unknown-freebsd14.0", "-c"])
        .arg(&asm)
        .arg("-o")
        .arg(&obj)
        .status()
        .expect("run clang");
    assert!(status.success(), "assembling {}", asm.display());
    let status = Command::new(&toolchain.lld)
        .args([
            "-m",
            "elf_x86_64_fbsd",
            "--export-dynamic",
            "-e",
            "btext",
            "-o",
        ])
        .arg(&out)
        .arg(&obj)
        .status()
        .expect("run ld.lld");
    assert!(status.success(), "linking {}", out.display());
    let _ = std::fs::remove_file(&asm);
    let _ = std::fs::remove_file(&obj);
    out
}
