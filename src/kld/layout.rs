//! Rust mirrors of the structures that C defines elsewhere: the generated
//! headers (`struct vnet`, `struct pcpu`, `struct vnet_sysinit`, from the
//! spec) and the stub sysroot's `struct sysctl_oid`, `struct sysctl_req` and
//! `moduledata_t`.  The `kld_abi` test compiles a C file that asserts every
//! offset and size below against clang's view of the headers, and the
//! offsets of DOMAIN.md section 7.

#![allow(dead_code)] // Fields written and read by module code.

use std::ffi::{c_char, c_void};

use super::abi::SysinitFunc;

/// `struct thread`, opaque here: its layout is the release's
/// ([`super::abi`]), reached through offsets.
pub enum Thread {}

/// `CACHE_LINE_SIZE` on amd64.
pub const CACHE_LINE_SIZE: usize = 64;
/// `MAXCPU` of the stub sysroot.
pub const MAXCPU: usize = 256;
/// `CPUSTATES`.
pub const CPUSTATES: usize = 5;

/// `LIST_ENTRY(vnet)`.
#[repr(C)]
pub struct VnetLink {
    pub le_next: *mut Vnet,
    pub le_prev: *mut *mut Vnet,
}

/// `struct vnet` (generated `net/vnet.h`).
#[repr(C, align(64))]
pub struct Vnet {
    pub vnet_le: VnetLink,
    pub vnet_magic_n: u32,
    pub vnet_ifcnt: u32,
    pub vnet_sockcnt: u32,
    pub vnet_state: u32,
    pub vnet_data_mem: *mut c_void,
    pub vnet_data_base: usize,
    pub vnet_shutdown: bool,
}

/// `VNET_MAGIC_N` (`sys/net/vnet.h`, 13.2 and 15.1).
pub const VNET_MAGIC_N: u32 = 0x5e4a_6f28;

/// `TAILQ_ENTRY(vnet_sysinit)`.
#[repr(C)]
pub struct VnetSysinitLink {
    pub tqe_next: *mut VnetSysinit,
    pub tqe_prev: *mut *mut VnetSysinit,
}

/// `struct vnet_sysinit` (generated `net/vnet.h`): a per-vnet constructor or
/// destructor, which the kernel links into its own lists.
#[repr(C)]
pub struct VnetSysinit {
    pub subsystem: u32,
    pub order: u32,
    pub func: SysinitFunc,
    pub arg: *const c_void,
    pub link: VnetSysinitLink,
}

/// `struct pcpu` (generated `sys/pcpu.h`) with amd64's `PCPU_MD_FIELDS`.
#[repr(C, align(64))]
pub struct Pcpu {
    pub pc_curthread: *mut Thread,
    pub pc_idlethread: *mut Thread,
    pub pc_fpcurthread: *mut Thread,
    pub pc_deadthread: *mut Thread,
    pub pc_curpcb: *mut c_void,
    pub pc_sched: *mut c_void,
    pub pc_switchtime: u64,
    pub pc_switchticks: i32,
    pub pc_cpuid: u32,
    /// `STAILQ_ENTRY(pcpu)`.
    pub pc_allcpu: *mut Pcpu,
    pub pc_spinlocks: *mut c_void,
    pub pc_cp_time: [i64; CPUSTATES],
    pub pc_device: *mut c_void,
    pub pc_netisr: *mut c_void,
    pub pc_unused1: i32,
    pub pc_domain: i32,
    /// `struct rm_queue`: two pointers.
    pub pc_rm_queue: [*mut c_void; 2],
    pub pc_dynamic: usize,
    pub pc_early_dummy_counter: u64,
    pub pc_zpcpu_offset: usize,
    // PCPU_MD_FIELDS (amd64)
    pub pc_monitorbuf: MonitorBuf,
    pub pc_prvspace: *mut Pcpu,
    pub pc_curpmap: *mut c_void,
    pub pc_md_pad: [c_char; 3696],
}

/// amd64's `pc_monitorbuf`: a cache line, aligned to 128 bytes.
#[repr(C, align(128))]
pub struct MonitorBuf(pub [u8; 128]);

/// `struct sysctl_oid`, opaque here: its layout is the release's
/// ([`super::abi::OidLayout`]).
pub enum SysctlOid {}

/// `int (*)(SYSCTL_HANDLER_ARGS)`.
pub type SysctlHandler =
    unsafe extern "C" fn(*mut SysctlOid, *mut c_void, i64, *mut SysctlReq) -> i32;
/// `req->oldfunc`.
pub type SysctlIo = unsafe extern "C" fn(*mut SysctlReq, *const c_void, usize) -> i32;
/// `req->newfunc`.
pub type SysctlIn = unsafe extern "C" fn(*mut SysctlReq, *mut c_void, usize) -> i32;

/// `struct sysctl_req` (stub `sys/sysctl.h`).
#[repr(C)]
pub struct SysctlReq {
    pub td: *mut Thread,
    pub lock: i32,
    pub oldptr: *mut c_void,
    pub oldlen: usize,
    pub oldidx: usize,
    pub oldfunc: Option<SysctlIo>,
    pub newptr: *const c_void,
    pub newlen: usize,
    pub newidx: usize,
    pub newfunc: Option<SysctlIn>,
    pub validlen: usize,
    pub flags: i32,
}

/// `CTLTYPE` and the flags the kernel reads.
pub const CTLTYPE: u32 = 0xf;
pub const CTLTYPE_NODE: u32 = 1;
pub const CTLTYPE_INT: u32 = 2;
pub const CTLTYPE_STRING: u32 = 3;
pub const CTLTYPE_S64: u32 = 4;
pub const CTLTYPE_UINT: u32 = 6;
pub const CTLTYPE_LONG: u32 = 7;
pub const CTLTYPE_ULONG: u32 = 8;
pub const CTLTYPE_U64: u32 = 9;
pub const CTLFLAG_VNET: u32 = 0x0002_0000;
pub const CTLFLAG_WR: u32 = 0x4000_0000;

/// `moduledata_t` (stub `sys/module.h`).
#[repr(C)]
pub struct ModuleData {
    pub name: *const c_char,
    pub evhand: Option<ModEventHandler>,
    pub priv_: *mut c_void,
}

/// `modeventhand_t`.
pub type ModEventHandler = unsafe extern "C" fn(*mut c_void, i32, *mut c_void) -> i32;

/// `enum modeventtype`.
pub const MOD_LOAD: i32 = 0;
pub const MOD_UNLOAD: i32 = 1;
pub const MOD_QUIESCE: i32 = 3;

/// Errors as FreeBSD numbers them.
pub const EPERM: i32 = 1;
pub const ENOENT: i32 = 2;
pub const ENXIO: i32 = 6;
pub const ENOEXEC: i32 = 8;
pub const EBUSY: i32 = 16;
pub const EEXIST: i32 = 17;
pub const EINVAL: i32 = 22;
pub const ENOSPC: i32 = 28;
pub const EOPNOTSUPP: i32 = 45;

/// FreeBSD's errno names, by number (`sys/errno.h`), for the ones kldload,
/// jails and sysctl give.
const ERRNO_NAMES: [(i32, &str); 24] = [
    (1, "EPERM"),
    (2, "ENOENT"),
    (3, "ESRCH"),
    (4, "EINTR"),
    (5, "EIO"),
    (6, "ENXIO"),
    (7, "E2BIG"),
    (8, "ENOEXEC"),
    (9, "EBADF"),
    (12, "ENOMEM"),
    (13, "EACCES"),
    (14, "EFAULT"),
    (16, "EBUSY"),
    (17, "EEXIST"),
    (19, "ENODEV"),
    (20, "ENOTDIR"),
    (21, "EISDIR"),
    (22, "EINVAL"),
    (28, "ENOSPC"),
    (34, "ERANGE"),
    (45, "EOPNOTSUPP"),
    (78, "ENOSYS"),
    (79, "EFTYPE"),
    (93, "ENOATTR"),
];

/// `ENOEXEC` for 8.
pub fn errno_name(errno: i32) -> Option<&'static str> {
    ERRNO_NAMES
        .iter()
        .find(|(n, _)| *n == errno)
        .map(|(_, s)| *s)
}

/// 8 for `ENOEXEC`.
pub fn errno_number(name: &str) -> Option<i32> {
    ERRNO_NAMES
        .iter()
        .find(|(_, s)| *s == name)
        .map(|(n, _)| *n)
}

/// `ENOEXEC (8)`, or the number alone when it has no name here.
pub fn errno_text(errno: i32) -> String {
    match errno_name(errno) {
        Some(name) => format!("{name} ({errno})"),
        None => format!("errno {errno}"),
    }
}

/// `SI_SUB_*` values a scenario's transcript may name.
pub const SI_SUB_VNET: u32 = 0x21E_0000;
pub const SI_SUB_VNET_DONE: u32 = 0xdc0_0000;
