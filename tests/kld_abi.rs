//! The structures C and Rust share: the stub sysroot's `sys/_kld_abi.h` is
//! the rendering of `src/kld/abi.rs`, clang agrees with every offset of
//! every release's layout on amd64 and i386, and the Rust mirrors of the
//! generated headers' structures agree with clang.

mod common;

use std::mem::{offset_of, size_of};
use std::process::Command;

use vnetgen::kld::abi::{self, LAYOUTS};
use vnetgen::kld::layout::{ModuleData, Pcpu, SysctlReq, Vnet, VnetSysinit};

const HEADER: &str = "sysroot/include/sys/_kld_abi.h";

#[test]
fn the_sysroot_header_is_the_rendering_of_the_rust_layouts() {
    let path = common::repo().join(HEADER);
    let want = abi::render_header();
    if std::env::var_os("VNETGEN_BLESS").is_some() {
        std::fs::write(&path, &want).expect("write the header");
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "{HEADER} is stale; regenerate it with VNETGEN_BLESS=1 cargo test --test kld_abi\n--- want:\n{want}"
    );
}

/// Compiles `c` with the stub sysroot for `triple` and `defines`.
fn compiles(triple: &str, defines: &[String], c: &str) -> Result<(), String> {
    let toolchain = common::toolchain();
    let repo = common::repo();
    let dir = tempfile::tempdir().expect("temporary directory");
    let file = dir.path().join("abi.c");
    std::fs::write(&file, c).expect("write abi.c");
    let out = Command::new(&toolchain.clang)
        .arg(format!("--target={triple}"))
        .args(["-nostdinc", "-ffreestanding", "-D_KERNEL", "-DKLD_MODULE"])
        .args(defines)
        .arg(format!("-I{}", repo.join("generated/sys").display()))
        .arg(format!("-I{}", repo.join("sysroot/include").display()))
        .args(["-fsyntax-only", "-Werror"])
        .arg(&file)
        .output()
        .expect("run clang");
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

const INCLUDES: &str = "#include <sys/param.h>\n#include <sys/systm.h>\n#include <sys/kernel.h>\n\
     #include <sys/module.h>\n#include <sys/malloc.h>\n#include <sys/proc.h>\n#include <sys/pcpu.h>\n\
     #include <sys/sysctl.h>\n#include <net/vnet.h>\n\n";

#[test]
fn clang_agrees_with_every_release_layout_on_amd64_and_i386() {
    for layout in &LAYOUTS {
        // A version inside the layout's range: the release it was measured on.
        let version = match layout.measured {
            "13.2" => 1_302_001,
            _ => 1_501_000,
        };
        for arch in &layout.archs {
            let triple = if arch.arch == "amd64" {
                "x86_64-unknown-freebsd14.0"
            } else {
                "i386-unknown-freebsd14.0"
            };
            let p = arch.pointer;
            let mut c = String::from(INCLUDES);
            for (i, m) in abi::THREAD.iter().enumerate() {
                c.push_str(&format!(
                    "_Static_assert(__offsetof(struct thread, {}) == {}, \"{}\");\n",
                    m.name, arch.thread.offsets[i], m.name
                ));
            }
            // struct sysinit, struct sysctl_oid, M_VERSION, from the layout's facts.
            let (func, udata, size) = if layout.sysinit_next {
                (2 * 4 + p, 2 * 4 + 2 * p, 2 * 4 + 3 * p)
            } else {
                (2 * 4, 2 * 4 + p, 2 * 4 + 2 * p)
            };
            c.push_str(&format!(
                "_Static_assert(__offsetof(struct sysinit, func) == {func}, \"func\");\n\
                 _Static_assert(__offsetof(struct sysinit, udata) == {udata}, \"udata\");\n\
                 _Static_assert(sizeof(struct sysinit) == {size}, \"sysinit\");\n\
                 _Static_assert(M_VERSION == {}, \"M_VERSION\");\n",
                layout.m_version
            ));
            if arch.arch == "amd64" {
                let oid = layout.oid_amd64();
                for (member, off) in [
                    ("oid_parent", oid.parent),
                    ("oid_kind", oid.kind),
                    ("oid_arg1", oid.arg1),
                    ("oid_arg2", oid.arg2),
                    ("oid_name", oid.name),
                    ("oid_handler", oid.handler),
                ] {
                    c.push_str(&format!(
                        "_Static_assert(__offsetof(struct sysctl_oid, {member}) == {off}, \"{member}\");\n"
                    ));
                }
                c.push_str(&format!(
                    "_Static_assert(sizeof(struct sysctl_oid) == {}, \"oid\");\n",
                    oid.size
                ));
            }
            c.push_str(
                "_Static_assert(__offsetof(struct pcpu, pc_curthread) == 0, \"curthread\");\n",
            );
            let prvspace = if arch.arch == "amd64" { 384 } else { 256 };
            c.push_str(&format!(
                "_Static_assert(__offsetof(struct pcpu, pc_prvspace) == {prvspace}, \"prvspace\");\n\
                 _Static_assert(sizeof(struct pcpu) == 4096, \"pcpu\");\n"
            ));
            for variant in ["-DVIMAGE_RUNTIME", "-DVIMAGE"] {
                compiles(
                    triple,
                    &[
                        variant.to_string(),
                        format!("-D__FreeBSD_version={version}"),
                    ],
                    &c,
                )
                .unwrap_or_else(|e| panic!("{} {} {variant}: {e}", layout.measured, arch.arch));
            }
        }
    }
}

#[test]
fn the_default_release_is_the_newest_layout() {
    let newest = LAYOUTS.last().expect("a layout");
    let c = format!(
        "{INCLUDES}_Static_assert(__FreeBSD_version >= {}, \"default\");\n\
         _Static_assert(__offsetof(struct thread, td_vnet) == {}, \"td_vnet\");\n",
        newest.since,
        newest.amd64().thread_offset("td_vnet").expect("td_vnet")
    );
    compiles(
        "x86_64-unknown-freebsd14.0",
        &["-DVIMAGE_RUNTIME".into()],
        &c,
    )
    .unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn the_rust_mirrors_of_the_generated_structures_agree_with_clang() {
    let mut c = String::from(INCLUDES);
    for (ty, member, off) in [
        (
            "struct vnet",
            "vnet_magic_n",
            offset_of!(Vnet, vnet_magic_n),
        ),
        ("struct vnet", "vnet_state", offset_of!(Vnet, vnet_state)),
        (
            "struct vnet",
            "vnet_data_mem",
            offset_of!(Vnet, vnet_data_mem),
        ),
        (
            "struct vnet",
            "vnet_data_base",
            offset_of!(Vnet, vnet_data_base),
        ),
        ("struct vnet_sysinit", "func", offset_of!(VnetSysinit, func)),
        ("struct vnet_sysinit", "arg", offset_of!(VnetSysinit, arg)),
        ("struct vnet_sysinit", "link", offset_of!(VnetSysinit, link)),
        ("struct pcpu", "pc_cpuid", offset_of!(Pcpu, pc_cpuid)),
        ("struct pcpu", "pc_dynamic", offset_of!(Pcpu, pc_dynamic)),
        (
            "struct pcpu",
            "pc_zpcpu_offset",
            offset_of!(Pcpu, pc_zpcpu_offset),
        ),
        ("struct pcpu", "pc_prvspace", offset_of!(Pcpu, pc_prvspace)),
        (
            "struct sysctl_req",
            "oldfunc",
            offset_of!(SysctlReq, oldfunc),
        ),
        ("struct sysctl_req", "newptr", offset_of!(SysctlReq, newptr)),
        (
            "struct sysctl_req",
            "newfunc",
            offset_of!(SysctlReq, newfunc),
        ),
        ("moduledata_t", "evhand", offset_of!(ModuleData, evhand)),
        ("moduledata_t", "priv", offset_of!(ModuleData, priv_)),
    ] {
        c.push_str(&format!(
            "_Static_assert(__offsetof({ty}, {member}) == {off}, \"{ty} {member}: Rust says {off}\");\n"
        ));
    }
    for (ty, size) in [
        ("struct vnet", size_of::<Vnet>()),
        ("struct vnet_sysinit", size_of::<VnetSysinit>()),
        ("struct pcpu", size_of::<Pcpu>()),
        ("struct sysctl_req", size_of::<SysctlReq>()),
        ("moduledata_t", size_of::<ModuleData>()),
    ] {
        c.push_str(&format!(
            "_Static_assert(sizeof({ty}) == {size}, \"sizeof({ty}): Rust says {size}\");\n"
        ));
    }
    // FreeBSD's own offsets (13.2 and 15.1 agree), measured on the trees.
    assert_eq!(offset_of!(Vnet, vnet_magic_n), 16);
    assert_eq!(offset_of!(Vnet, vnet_data_base), 40);
    assert_eq!(offset_of!(Pcpu, pc_dynamic), 160);
    assert_eq!(offset_of!(Pcpu, pc_zpcpu_offset), 176);
    assert_eq!(offset_of!(Pcpu, pc_prvspace), 384);
    assert_eq!(size_of::<Pcpu>(), 4096);
    // struct vnet_sysinit exists with VIMAGE (as in FreeBSD) and in the
    // run-time variant; a tied module without VIMAGE has none.
    for variant in ["-DVIMAGE_RUNTIME", "-DVIMAGE", "-DKLD_TIED -DVIMAGE"] {
        let defines: Vec<String> = variant.split(' ').map(String::from).collect();
        compiles("x86_64-unknown-freebsd14.0", &defines, &c)
            .unwrap_or_else(|e| panic!("{variant}: {e}"));
    }
}
