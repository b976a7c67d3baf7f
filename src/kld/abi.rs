//! The structures that a module built against the stub sysroot shares with
//! a FreeBSD kernel, at each release's layout, defined once, here: the
//! emulated kernel reads them through these offsets, and
//! [`render_header`] writes them to `sysroot/include/sys/_kld_abi.h`, which
//! `sys/kernel.h` and `sys/proc.h` include (the `kld_abi` test keeps the
//! committed header fresh, and checks every offset with clang).
//!
//! The offsets are facts measured with clang from the reference trees of
//! the spec's releases (`sys/sys/proc.h`, `ucred.h`, `jail.h`, `kernel.h`,
//! `sysctl.h`, `malloc.h` of FreeBSD 13.2 and 15.1, amd64 and i386; see
//! `scripts/abi-offsets`).  Only the members that headers and modules use
//! are named; padding keeps each at its kernel's offset.  A layout applies
//! from a `__FreeBSD_version` on; other architectures keep a cut-down
//! stand-in with the same member names.

use std::fmt::Write;

/// How big a member is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Size {
    /// A number of pointers.
    Pointers(u32),
    /// A number of bytes.
    Bytes(u32),
}

impl Size {
    fn bytes(self, pointer: u32) -> u32 {
        match self {
            Size::Pointers(n) => n * pointer,
            Size::Bytes(n) => n,
        }
    }
}

/// A member: its name, its declaration (`@` for the name) and its size.
#[derive(Debug, Clone, Copy)]
pub struct Member {
    pub name: &'static str,
    pub decl: &'static str,
    pub size: Size,
}

const fn m(name: &'static str, decl: &'static str, size: Size) -> Member {
    Member { name, decl, size }
}

/// `struct thread`: the members the generated headers (`curvnet`,
/// `TD_TO_VNET`) and modules (`curproc`, critical sections) use.
pub const THREAD: [Member; 10] = [
    m("td_lock", "struct mtx *@", Size::Pointers(1)),
    m("td_proc", "struct proc *@", Size::Pointers(1)),
    m("td_plist", "TAILQ_ENTRY(thread) @", Size::Pointers(2)),
    m("td_tid", "lwpid_t @", Size::Bytes(4)),
    m("td_flags", "int @", Size::Bytes(4)),
    m("td_ucred", "struct ucred *@", Size::Pointers(1)),
    m("td_name", "char @[MAXCOMLEN + 1]", Size::Bytes(20)),
    m("td_critnest", "u_int @", Size::Bytes(4)),
    m("td_vnet", "struct vnet *@", Size::Pointers(1)),
    m("td_vnet_lpush", "const char *@", Size::Pointers(1)),
];

/// `struct proc`: `P_TO_VNET` and `curproc`.
pub const PROC: [Member; 5] = [
    m("p_list", "LIST_ENTRY(proc) @", Size::Pointers(2)),
    m("p_threads", "TAILQ_HEAD(, thread) @", Size::Pointers(2)),
    m("p_ucred", "struct ucred *@", Size::Pointers(1)),
    m("p_pid", "pid_t @", Size::Bytes(4)),
    m("p_comm", "char @[MAXCOMLEN + 1]", Size::Bytes(20)),
];

/// `struct ucred`: `CRED_TO_VNET`.
pub const UCRED: [Member; 5] = [
    m("cr_ref", "u_int @", Size::Bytes(4)),
    m("cr_uid", "uid_t @", Size::Bytes(4)),
    m("cr_ruid", "uid_t @", Size::Bytes(4)),
    m("cr_rgid", "gid_t @", Size::Bytes(4)),
    m("cr_prison", "struct prison *@", Size::Pointers(1)),
];

/// `struct prison`: a jail's vnet.
pub const PRISON: [Member; 6] = [
    m("pr_list", "TAILQ_ENTRY(prison) @", Size::Pointers(2)),
    m("pr_id", "int @", Size::Bytes(4)),
    m("pr_ref", "int @", Size::Bytes(4)),
    m("pr_parent", "struct prison *@", Size::Pointers(1)),
    m("pr_vnet", "struct vnet *@", Size::Pointers(1)),
    m("pr_name", "char @[MAXHOSTNAMELEN]", Size::Bytes(256)),
];

/// Where each member of a structure is on one architecture, and its size.
#[derive(Debug, Clone, Copy)]
pub struct Placement {
    /// The offsets, in the order of the structure's members.
    pub offsets: &'static [u32],
    pub size: u32,
}

/// One architecture's layouts.
#[derive(Debug, Clone, Copy)]
pub struct ArchLayout {
    /// `amd64`, `i386`.
    pub arch: &'static str,
    /// The compiler's macro for it.
    pub cpp: &'static str,
    pub pointer: u32,
    pub thread: Placement,
    pub proc: Placement,
    pub ucred: Placement,
    pub prison: Placement,
}

/// The layouts of the releases from `since` (a `__FreeBSD_version`) on.
#[derive(Debug, Clone, Copy)]
pub struct Layout {
    /// The release they were measured on.
    pub measured: &'static str,
    /// The first `__FreeBSD_version` they apply to.
    pub since: u32,
    /// `struct sysinit` has `STAILQ_ENTRY(sysinit) next` after `order`.
    pub sysinit_next: bool,
    /// A sysctl node's children are a red-black tree (`RB_HEAD`, and
    /// `oid_link` an `RB_ENTRY` of three pointers), not an `SLIST`.
    pub sysctl_rb_tree: bool,
    /// `M_VERSION`: `malloc_init` panics on a `struct malloc_type` of another.
    pub m_version: u64,
    pub archs: [ArchLayout; 2],
}

/// FreeBSD 13.2's layouts, for versions before 15.0.
const LAYOUT_13: Layout = Layout {
    measured: "13.2",
    since: 0,
    sysinit_next: false,
    sysctl_rb_tree: false,
    m_version: 2020110501,
    archs: [
        ArchLayout {
            arch: "amd64",
            cpp: "__amd64__",
            pointer: 8,
            thread: Placement {
                offsets: &[0, 8, 16, 160, 252, 360, 700, 1204, 1664, 1672],
                size: 1760,
            },
            proc: Placement {
                offsets: &[0, 16, 64, 196, 984],
                size: 1360,
            },
            ucred: Placement {
                offsets: &[32, 88, 92, 104, 128],
                size: 256,
            },
            prison: Placement {
                offsets: &[0, 16, 20, 56, 168, 288],
                size: 2176,
            },
        },
        ArchLayout {
            arch: "i386",
            cpp: "__i386__",
            pointer: 4,
            thread: Placement {
                offsets: &[0, 4, 8, 80, 152, 224, 460, 780, 812, 816],
                size: 868,
            },
            proc: Placement {
                offsets: &[0, 8, 36, 120, 640],
                size: 860,
            },
            ucred: Placement {
                offsets: &[20, 80, 84, 96, 112],
                size: 208,
            },
            prison: Placement {
                offsets: &[0, 8, 12, 36, 96, 180],
                size: 2068,
            },
        },
    ],
};

/// FreeBSD 15.1's layouts, from 15.0 on.
const LAYOUT_15: Layout = Layout {
    measured: "15.1",
    since: 1_500_000,
    sysinit_next: true,
    sysctl_rb_tree: true,
    m_version: 2024073001,
    archs: [
        ArchLayout {
            arch: "amd64",
            cpp: "__amd64__",
            pointer: 8,
            thread: Placement {
                offsets: &[0, 8, 16, 160, 264, 392, 732, 1276, 1728, 1736],
                size: 1824,
            },
            proc: Placement {
                offsets: &[0, 16, 64, 196, 992],
                size: 1376,
            },
            ucred: Placement {
                offsets: &[32, 100, 104, 116, 144],
                size: 264,
            },
            prison: Placement {
                offsets: &[0, 16, 20, 64, 176, 288],
                size: 2176,
            },
        },
        ArchLayout {
            arch: "i386",
            cpp: "__i386__",
            pointer: 4,
            thread: Placement {
                offsets: &[0, 4, 8, 80, 156, 244, 480, 840, 872, 876],
                size: 928,
            },
            proc: Placement {
                offsets: &[0, 8, 36, 120, 644],
                size: 864,
            },
            ucred: Placement {
                offsets: &[20, 84, 88, 100, 116],
                size: 208,
            },
            prison: Placement {
                offsets: &[0, 8, 12, 40, 100, 176],
                size: 2064,
            },
        },
    ],
};

/// Every layout, oldest first.
pub const LAYOUTS: [Layout; 2] = [LAYOUT_13, LAYOUT_15];

/// The layout a kernel of `__FreeBSD_version` `version` has.
pub fn layout_for(version: u32) -> &'static Layout {
    LAYOUTS
        .iter()
        .rev()
        .find(|l| version >= l.since)
        .unwrap_or(&LAYOUTS[0])
}

impl Layout {
    pub fn arch(&self, arch: &str) -> Option<&ArchLayout> {
        self.archs.iter().find(|a| a.arch == arch)
    }

    /// amd64's: the emulated kernel's.
    pub fn amd64(&self) -> &ArchLayout {
        &self.archs[0]
    }

    /// The words of `oid_link` (and so the shift of every later member).
    pub fn sysctl_link_words(&self) -> u64 {
        if self.sysctl_rb_tree {
            3
        } else {
            1
        }
    }

    /// `struct sysinit` on amd64: the offsets of `func` and `udata`, and
    /// its size.
    pub fn sysinit_amd64(&self) -> (u64, u64, u64) {
        if self.sysinit_next {
            (16, 24, 32)
        } else {
            (8, 16, 24)
        }
    }
}

impl ArchLayout {
    /// The offset of a member of `struct thread`.
    pub fn thread_offset(&self, member: &str) -> Option<u64> {
        THREAD
            .iter()
            .position(|m| m.name == member)
            .map(|i| u64::from(self.thread.offsets[i]))
    }
}

/// `struct sysctl_oid` on amd64 for a layout: every member's offset, from
/// the LP64 order of `sys/sysctl.h`.
#[derive(Debug, Clone, Copy)]
pub struct OidLayout {
    pub parent: u64,
    pub kind: u64,
    pub arg1: u64,
    pub arg2: u64,
    pub name: u64,
    pub handler: u64,
    pub size: u64,
}

impl Layout {
    pub fn oid_amd64(&self) -> OidLayout {
        // children (1 word), parent, link (1 or 3 words), then the rest.
        let after = 16 + 8 * self.sysctl_link_words();
        OidLayout {
            parent: 8,
            kind: after + 4,
            arg1: after + 8,
            arg2: after + 16,
            name: after + 24,
            handler: after + 32,
            size: after + 72,
        }
    }
}

fn render_struct(
    out: &mut String,
    tag: &str,
    members: &[Member],
    arch: &ArchLayout,
    at: &Placement,
) {
    let _ = writeln!(out, "struct {tag} {{");
    let mut end = 0u32;
    let mut pad = 0;
    for (member, &offset) in members.iter().zip(at.offsets) {
        if offset > end {
            let _ = writeln!(out, "\tchar\t__{tag}_pad{pad}[{}];", offset - end);
            pad += 1;
        }
        let _ = writeln!(out, "\t{};", member.decl.replace('@', member.name));
        end = offset + member.size.bytes(arch.pointer);
    }
    if at.size > end {
        let _ = writeln!(out, "\tchar\t__{tag}_pad{pad}[{}];", at.size - end);
    }
    let _ = writeln!(out, "}};");
}

/// A cut-down stand-in, for architectures without measured layouts.
fn render_standin(out: &mut String, tag: &str, members: &[Member]) {
    let _ = writeln!(out, "struct {tag} {{");
    for member in members {
        let _ = writeln!(out, "\t{};", member.decl.replace('@', member.name));
    }
    let _ = writeln!(out, "}};");
}

fn render_asserts(out: &mut String, tag: &str, members: &[Member], at: &Placement) {
    for (member, offset) in members.iter().zip(at.offsets) {
        let _ = writeln!(
            out,
            "_Static_assert(__offsetof(struct {tag}, {}) == {offset}, \"struct {tag}\");",
            member.name
        );
    }
    let _ = writeln!(
        out,
        "_Static_assert(sizeof(struct {tag}) == {}, \"struct {tag}\");",
        at.size
    );
}

/// The text of `sys/_kld_abi.h`.
pub fn render_header() -> String {
    let mut out = [
        "/*-",
        " * SPDX-License-Identifier: BSD-2-Clause",
        " *",
        " * Generated by vnetgen from src/kld/abi.rs; do not edit.",
        " * Regenerate: VNETGEN_BLESS=1 cargo test --test kld_abi",
        " *",
        " * The structures a module shares with the kernel, at the offsets of",
        " * each FreeBSD release (chosen by __FreeBSD_version), measured on the",
        " * reference trees: struct sysinit, and the members of struct thread,",
        " * proc, ucred and prison that headers and modules use, each at its",
        " * kernel's offset.  Architectures without measured layouts get",
        " * cut-down stand-ins.",
        " */",
        "",
        "#ifndef _SYS__KLD_ABI_H_",
        "#define\t_SYS__KLD_ABI_H_",
        "",
        "#include <sys/types.h>",
        "#include <sys/param.h>",
        "#include <sys/queue.h>",
        "",
        "struct mtx;",
        "struct proc;",
        "struct prison;",
        "struct thread;",
        "struct ucred;",
        "struct vnet;",
        "",
        "",
    ]
    .join("\n");
    let structs: [(&str, &[Member]); 4] = [
        ("thread", &THREAD),
        ("proc", &PROC),
        ("ucred", &UCRED),
        ("prison", &PRISON),
    ];
    for (i, layout) in LAYOUTS.iter().enumerate().rev() {
        let cond = if i == 0 {
            "#else".to_string()
        } else if i == LAYOUTS.len() - 1 {
            format!("#if __FreeBSD_version >= {}", layout.since)
        } else {
            format!("#elif __FreeBSD_version >= {}", layout.since)
        };
        let _ = writeln!(out, "{cond}\t/* FreeBSD {}'s layouts */\n", layout.measured);
        let _ = writeln!(
            out,
            "/*\n * One boot-time (or load-time) call in sysinit_set (or sysuninit_set),\n \
             * sorted by (subsystem, order) when it runs.\n */\nstruct sysinit {{\n\
             \tuint32_t\tsubsystem;\t/* enum sysinit_sub_id */\n\
             \tuint32_t\torder;\t\t/* enum sysinit_elem_order */"
        );
        if layout.sysinit_next {
            let _ = writeln!(out, "\tSTAILQ_ENTRY(sysinit) next;");
        }
        let _ = writeln!(
            out,
            "\tvoid\t\t(*func)(const void *);\t/* sysinit_cfunc_t */\n\tconst void\t*udata;\n}};\n"
        );
        for (j, arch) in layout.archs.iter().enumerate() {
            let kw = if j == 0 { "#if" } else { "#elif" };
            let _ = writeln!(out, "{kw} defined({})", arch.cpp);
            for (tag, members) in structs {
                let at = match tag {
                    "thread" => &arch.thread,
                    "proc" => &arch.proc,
                    "ucred" => &arch.ucred,
                    _ => &arch.prison,
                };
                render_struct(&mut out, tag, members, arch, at);
            }
            for (tag, members) in structs {
                let at = match tag {
                    "thread" => &arch.thread,
                    "proc" => &arch.proc,
                    "ucred" => &arch.ucred,
                    _ => &arch.prison,
                };
                render_asserts(&mut out, tag, members, at);
            }
        }
        let _ = writeln!(out, "#else\t/* not measured: cut-down stand-ins */");
        for (tag, members) in structs {
            render_standin(&mut out, tag, members);
        }
        let _ = writeln!(out, "#endif\n");
    }
    let _ = writeln!(out, "#endif\n\n#endif /* !_SYS__KLD_ABI_H_ */");
    out
}

/// A SYSINIT's function: `sysinit_cfunc_t`.
pub type SysinitFunc = Option<unsafe extern "C" fn(*const std::ffi::c_void)>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_placement_names_every_member_in_order_without_overlap() {
        for layout in &LAYOUTS {
            for arch in &layout.archs {
                let structs: [(&[Member], &Placement); 4] = [
                    (&THREAD, &arch.thread),
                    (&PROC, &arch.proc),
                    (&UCRED, &arch.ucred),
                    (&PRISON, &arch.prison),
                ];
                for (members, at) in structs {
                    assert_eq!(members.len(), at.offsets.len());
                    let mut end = 0;
                    for (m, &o) in members.iter().zip(at.offsets) {
                        assert!(o >= end, "{} {} {}", layout.measured, arch.arch, m.name);
                        end = o + m.size.bytes(arch.pointer);
                    }
                    assert!(at.size >= end);
                }
            }
        }
        assert_eq!(layout_for(1_302_001).measured, "13.2");
        assert_eq!(layout_for(1_501_000).measured, "15.1");
        assert_eq!(LAYOUT_15.oid_amd64().kind, 44);
        assert_eq!(LAYOUT_13.oid_amd64().handler, 56);
        assert_eq!(LAYOUT_15.oid_amd64().size, 112);
        assert_eq!(LAYOUT_13.oid_amd64().size, 96);
    }
}
