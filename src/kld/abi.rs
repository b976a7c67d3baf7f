//! The structures that the emulated kernel and the stub sysroot share,
//! defined once, here.  cbindgen turns this file into
//! `sysroot/include/sys/_kld_abi.h` (the `kld_abi` test keeps the committed
//! header fresh), and `sys/proc.h` and `sys/kernel.h` include it, so the C
//! side and the Rust side cannot drift.
//!
//! Only the stub sysroot's own structures are here.  Those that the
//! generated headers define from the spec (`struct vnet`, `struct pcpu`,
//! `struct vnet_sysinit`) are mirrored in [`super::layout`] and checked
//! against the C compiler's view by a test.
//!
//! Names are Rust's; the cbindgen configuration renames them to C's
//! (`Thread` is `struct thread`).

#![allow(dead_code)] // Read through raw pointers by module code.

use std::ffi::{c_char, c_void};

/// `struct mtx`, opaque here.
pub struct Mtx {
    _opaque: [u8; 0],
}

/// `struct proc`, opaque here.
pub struct Proc {
    _opaque: [u8; 0],
}

/// `struct ucred`, opaque here.
pub struct Ucred {
    _opaque: [u8; 0],
}

/// `struct vnet`, opaque here: the generated `net/vnet.h` defines it.
pub struct Vnet {
    _opaque: [u8; 0],
}

/// `TAILQ_ENTRY(thread)`: the link in a process's list of threads.
#[repr(C)]
pub struct ThreadLink {
    pub tqe_next: *mut Thread,
    pub tqe_prev: *mut *mut Thread,
}

/// A kernel thread: a cut-down stand-in with the members that headers and
/// modules built against the stub sysroot use.  `td_vnet` is `curvnet`;
/// it exists with and without VIMAGE, and only a VIMAGE kernel maintains it.
#[repr(C)]
pub struct Thread {
    /// The lock protecting the thread.
    pub td_lock: *mut Mtx,
    /// The owning process.
    pub td_proc: *mut Proc,
    /// The threads of the process.
    pub td_plist: ThreadLink,
    /// The credentials in use.
    pub td_ucred: *mut Ucred,
    /// The current network stack (`curvnet`).
    pub td_vnet: *mut Vnet,
    /// Who last did `CURVNET_SET`.
    pub td_vnet_lpush: *const c_char,
    /// Thread id.
    pub td_tid: i32,
    /// `TDF_*` flags.
    pub td_flags: i32,
    /// Critical section depth.
    pub td_critnest: u32,
    /// The thread's name, `MAXCOMLEN + 1` bytes.
    pub td_name: [c_char; 20],
}

/// A SYSINIT's function: `sysinit_cfunc_t`.
pub type SysinitFunc = Option<unsafe extern "C" fn(*const c_void)>;

/// One boot-time (or load-time) call, collected in the linker set
/// `sysinit_set` (or `sysuninit_set`).  The kernel linker sorts them by
/// (`subsystem`, `order`); the values are `enum sysinit_sub_id` and
/// `enum sysinit_elem_order`.
#[repr(C)]
pub struct Sysinit {
    /// `SI_SUB_*`.
    pub subsystem: u32,
    /// `SI_ORDER_*`.
    pub order: u32,
    /// The function to call.
    pub func: SysinitFunc,
    /// Its argument.
    pub udata: *const c_void,
}
