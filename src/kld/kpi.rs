//! The kernel's functions, callable from module code: printf (captured),
//! panic (reported), malloc, locks, counter(9), eventhandler(9), sysctl
//! handlers, module registration, and with VIMAGE the per-vnet
//! constructor and destructor plumbing of `net/vnet.c`.  With
//! `detect = "kernel"` the kernel also carries the `vnet_support.c` shims.
//!
//! Each is `extern "C"` and reached through a trampoline; [`function`]
//! maps an exported name to its address.  They borrow the kernel only
//! between calls into module code.

use std::ffi::c_void;

use super::kernel::{with, EventHandler, RegisteredModule};
use super::layout::{ModuleData, SysctlOid, SysctlReq, VnetSysinit, MOD_LOAD, MOD_UNLOAD};
use super::memory::c_string;

/// The address of the function that implements `name`, if it is one.
pub fn function(name: &str) -> Option<u64> {
    let f: u64 = match name {
        "printf" => k_printf as *const () as u64,
        "snprintf" => k_snprintf as *const () as u64,
        "panic" | "kassert_panic" => k_panic as *const () as u64,
        "malloc" => k_malloc as *const () as u64,
        "free" => k_free as *const () as u64,
        "malloc_init" => k_malloc_init as *const () as u64,
        "malloc_uninit" => k_nothing as *const () as u64,
        "bcopy" => k_bcopy as *const () as u64,
        "bzero" => k_bzero as *const () as u64,
        "memcpy" | "memmove" => k_memmove as *const () as u64,
        "memset" => k_memset as *const () as u64,
        "memcmp" => k_memcmp as *const () as u64,
        "__mtx_lock_flags" | "_rw_wlock_cookie" | "__rw_rlock" | "_sx_slock" | "_sx_xlock" => {
            k_lock as *const () as u64
        }
        "__mtx_unlock_flags" | "_rw_wunlock_cookie" | "_rw_runlock_cookie" | "_sx_sunlock"
        | "_sx_xunlock" => k_unlock as *const () as u64,
        "_mtx_init" | "_rw_init_flags" | "sx_init_flags" | "_mtx_destroy" | "_rw_destroy"
        | "sx_destroy" => k_lock_init as *const () as u64,
        "critical_enter_KBI" => k_critical_enter as *const () as u64,
        "critical_exit_KBI" => k_critical_exit as *const () as u64,
        "counter_u64_alloc" => k_counter_alloc as *const () as u64,
        "counter_u64_free" => k_counter_free as *const () as u64,
        "counter_u64_zero" => k_counter_zero as *const () as u64,
        "counter_u64_fetch" => k_counter_fetch as *const () as u64,
        "eventhandler_register" => k_eventhandler_register as *const () as u64,
        "vimage_eventhandler_register" => k_vimage_eventhandler_register as *const () as u64,
        "eventhandler_deregister" => k_eventhandler_deregister as *const () as u64,
        "eventhandler_find_list" => k_eventhandler_find_list as *const () as u64,
        "eventhandler_prune_list"
        | "vnet_global_eventhandler_iterator_func"
        | "vnet_log_recursion" => k_nothing as *const () as u64,
        "module_register_init" => k_module_register_init as *const () as u64,
        "sysctl_register_oid" => k_sysctl_register_oid as *const () as u64,
        "sysctl_unregister_oid" => k_sysctl_unregister_oid as *const () as u64,
        "sysctl_wlock" | "sysctl_wunlock" => k_nothing as *const () as u64,
        "sysctl_handle_int" => k_sysctl_handle_int as *const () as u64,
        "sysctl_handle_long" | "sysctl_handle_64" => k_sysctl_handle_long as *const () as u64,
        "sysctl_handle_string" => k_sysctl_handle_string as *const () as u64,
        "sysctl_handle_opaque" => k_sysctl_handle_opaque as *const () as u64,
        "pcpu_find" => k_pcpu_find as *const () as u64,
        "vnet_register_sysinit" => k_vnet_register_sysinit as *const () as u64,
        "vnet_deregister_sysinit" => k_vnet_deregister_sysinit as *const () as u64,
        "vnet_register_sysuninit" => k_vnet_register_sysuninit as *const () as u64,
        "vnet_deregister_sysuninit" => k_vnet_deregister_sysuninit as *const () as u64,
        "vnet_data_alloc" => k_vnet_data_alloc as *const () as u64,
        "vnet_data_free" => k_vnet_data_free as *const () as u64,
        "vnet_data_copy" => k_vnet_data_copy as *const () as u64,
        "vnet_runtime_register_sysinit" => k_runtime_register_sysinit as *const () as u64,
        "vnet_runtime_deregister_sysinit" => k_runtime_deregister_sysinit as *const () as u64,
        "vnet_runtime_register_sysuninit" => k_runtime_register_sysuninit as *const () as u64,
        "vnet_runtime_deregister_sysuninit" => k_runtime_deregister_sysuninit as *const () as u64,
        "vnet_runtime_eventhandler_register" => k_runtime_eventhandler_register as *const () as u64,
        _ => return None,
    };
    Some(f)
}

fn format(fmt: u64, args: &[u64]) -> String {
    let fmt = c_string(fmt).unwrap_or_default();
    let mut it = args.iter().copied();
    super::printf::format(&fmt, &mut || it.next().unwrap_or(0), &c_string)
}

/// A C function at `addr` taking one pointer.
pub fn call1(addr: u64, a: u64) {
    // SAFETY: a function of the module (or the kernel) by its ABI.
    let f: unsafe extern "C" fn(u64) = unsafe { std::mem::transmute(addr as usize) };
    unsafe { f(a) }
}

unsafe extern "C" fn k_printf(fmt: u64, a: u64, b: u64, c: u64, d: u64, e: u64) -> i32 {
    let s = format(fmt, &[a, b, c, d, e]);
    let n = s.len() as i32;
    with(|k| k.console.push_str(&s));
    n
}

unsafe extern "C" fn k_snprintf(buf: u64, size: u64, fmt: u64, a: u64, b: u64, c: u64) -> i32 {
    let s = format(fmt, &[a, b, c]);
    if size > 0 && buf != 0 {
        let n = s.len().min(size as usize - 1);
        // SAFETY: the caller's buffer of `size` bytes.
        unsafe {
            std::ptr::copy_nonoverlapping(s.as_ptr(), buf as *mut u8, n);
            *((buf + n as u64) as *mut u8) = 0;
        }
    }
    s.len() as i32
}

unsafe extern "C" fn k_panic(fmt: u64, a: u64, b: u64, c: u64, d: u64, e: u64) -> ! {
    let s = format(fmt, &[a, b, c, d, e]);
    panic_exit(&s)
}

unsafe extern "C" fn k_nothing() {}

const M_ZERO: i32 = 0x100;

unsafe extern "C" fn k_malloc(size: u64, _type: u64, flags: i32) -> u64 {
    // SAFETY: libc's allocator; M_ZERO or not, zeroed memory is correct.
    let p = unsafe { libc::calloc(1, size.max(1) as usize) };
    let _ = flags & M_ZERO;
    p as u64
}

/// `malloc_init`: as FreeBSD's, a type of another `M_VERSION` is a panic.
unsafe extern "C" fn k_malloc_init(mtp: u64) {
    let want = with(|k| k.options.layout.m_version);
    // struct malloc_type: ks_next, ks_version, ks_shortdesc.
    let version: u64 = super::kernel::read_at(mtp, 8);
    if version != want {
        let name = c_string(super::kernel::read_at(mtp, 16)).unwrap_or_default();
        panic_exit(&format!(
            "malloc_init: type {} with unsupported version {version}",
            String::from_utf8_lossy(&name)
        ));
    }
}

unsafe extern "C" fn k_free(p: u64, _type: u64) {
    // SAFETY: memory from k_malloc (or NULL).
    unsafe { libc::free(p as *mut c_void) }
}

unsafe extern "C" fn k_bcopy(src: u64, dst: u64, len: u64) {
    // SAFETY: the module's buffers, as bcopy(9) takes them.
    unsafe { std::ptr::copy(src as *const u8, dst as *mut u8, len as usize) }
}

unsafe extern "C" fn k_bzero(p: u64, len: u64) {
    // SAFETY: the module's buffer.
    unsafe { std::ptr::write_bytes(p as *mut u8, 0, len as usize) }
}

unsafe extern "C" fn k_memmove(dst: u64, src: u64, len: u64) -> u64 {
    // SAFETY: the module's buffers.
    unsafe { std::ptr::copy(src as *const u8, dst as *mut u8, len as usize) };
    dst
}

unsafe extern "C" fn k_memset(p: u64, c: i32, len: u64) -> u64 {
    // SAFETY: the module's buffer.
    unsafe { std::ptr::write_bytes(p as *mut u8, c as u8, len as usize) };
    p
}

unsafe extern "C" fn k_memcmp(a: u64, b: u64, len: u64) -> i32 {
    // SAFETY: the module's buffers.
    let (x, y) = unsafe {
        (
            std::slice::from_raw_parts(a as *const u8, len as usize),
            std::slice::from_raw_parts(b as *const u8, len as usize),
        )
    };
    x.cmp(y) as i32
}

// One thread runs a scenario: a lock is only counted, and releasing one
// that is not held is a panic, as WITNESS would make it.
unsafe extern "C" fn k_lock(lock: u64) -> i32 {
    with(|k| *k.locks.entry(lock).or_insert(0) += 1);
    0
}

unsafe extern "C" fn k_unlock(lock: u64) {
    let held = with(|k| {
        let n = k.locks.entry(lock).or_insert(0);
        *n -= 1;
        *n >= 0
    });
    if !held {
        panic_exit(&format!("lock {lock:#x} released but not held"));
    }
}

unsafe extern "C" fn k_lock_init(lock: u64) {
    with(|k| k.locks.remove(&lock));
}

unsafe extern "C" fn k_critical_enter() {
    with(|k| {
        let at = k.td("td_critnest");
        let n: u32 = super::kernel::read_at(k.thread, at);
        super::kernel::write_at(k.thread, at, n + 1);
    });
}

unsafe extern "C" fn k_critical_exit() {
    with(|k| {
        let at = k.td("td_critnest");
        let n: u32 = super::kernel::read_at(k.thread, at);
        super::kernel::write_at(k.thread, at, n.saturating_sub(1));
    });
}

unsafe extern "C" fn k_counter_alloc(_wait: i32) -> u64 {
    with(|k| k.counter_alloc())
}

unsafe extern "C" fn k_counter_free(c: u64) {
    with(|k| k.counter_free(c));
}

unsafe extern "C" fn k_counter_zero(c: u64) {
    with(|k| k.counter_zero(c));
}

unsafe extern "C" fn k_counter_fetch(c: u64) -> u64 {
    with(|k| k.counter_fetch(c))
}

/// `struct eventhandler_entry` followed by the handler: the tag.
#[repr(C)]
struct EventHandlerEntry {
    link: [u64; 2],
    priority: i32,
    arg: u64,
    func: u64,
}

fn register_handler(name: u64, func: u64, arg: u64, priority: i32, per_vnet: bool) -> u64 {
    let event = String::from_utf8_lossy(&c_string(name).unwrap_or_default()).into_owned();
    with(|k| {
        let Some(tag) = k.alloc(std::mem::size_of::<EventHandlerEntry>(), 8) else {
            return 0;
        };
        // SAFETY: kernel memory just allocated for the entry.
        unsafe {
            *(tag as *mut EventHandlerEntry) = EventHandlerEntry {
                link: [0; 2],
                priority,
                arg,
                func,
            }
        };
        k.event_lists.entry(event.clone()).or_insert(0);
        k.eventhandlers.push(EventHandler {
            event,
            func,
            tag,
            per_vnet,
        });
        tag
    })
}

unsafe extern "C" fn k_eventhandler_register(
    _list: u64,
    name: u64,
    func: u64,
    arg: u64,
    pri: i32,
) -> u64 {
    register_handler(name, func, arg, pri, false)
}

unsafe extern "C" fn k_vimage_eventhandler_register(
    _list: u64,
    name: u64,
    func: u64,
    arg: u64,
    pri: i32,
    _iter: u64,
) -> u64 {
    register_handler(name, func, arg, pri, true)
}

/// `eventhandler_find_list`: the event's list, once a handler has been
/// registered for it; NULL for an event nobody registered for.
unsafe extern "C" fn k_eventhandler_find_list(name: u64) -> u64 {
    let event = String::from_utf8_lossy(&c_string(name).unwrap_or_default()).into_owned();
    with(|k| k.event_list(&event))
}

unsafe extern "C" fn k_eventhandler_deregister(_list: u64, tag: u64) {
    with(|k| k.eventhandlers.retain(|h| h.tag != tag));
}

/// `sysctl_register_oid`: one static OID, registered by hand (a dual
/// module's dispatcher does it for its active side); it belongs to the file
/// being loaded, and goes with it.
unsafe extern "C" fn k_sysctl_register_oid(oid: u64) {
    with(|k| {
        let file = k.loading.clone().unwrap_or_default();
        k.register_sysctls(&file, &[oid]);
    });
}

/// `sysctl_unregister_oid`.
unsafe extern "C" fn k_sysctl_unregister_oid(oid: u64) {
    with(|k| k.sysctls.retain(|s| s.oid != oid));
}

/// `module_register_init`: registers the module and delivers MOD_LOAD.
unsafe extern "C" fn k_module_register_init(data: u64) {
    // SAFETY: the moduledata_t a DECLARE_MODULE SYSINIT passes.
    let md = unsafe { &*(data as *const ModuleData) };
    let name = String::from_utf8_lossy(&c_string(md.name as u64).unwrap_or_default()).into_owned();
    let Some(handle) = with(|k| k.alloc(16, 8)) else {
        panic_exit("module_register_init: out of kernel memory");
    };
    let error = match md.evhand {
        // SAFETY: the module's event handler, by modeventhand_t.
        Some(h) => unsafe { h(handle as *mut c_void, MOD_LOAD, md.priv_) },
        None => 0,
    };
    if error != 0 {
        // kern_module.c: the failed module gets MOD_UNLOAD, and is released.
        if let Some(h) = md.evhand {
            // SAFETY: as above.
            unsafe { h(handle as *mut c_void, MOD_UNLOAD, md.priv_) };
        }
    }
    with(|k| {
        k.module_attempts += 1;
        if error != 0 {
            let message = format!(
                "module_register_init: MOD_LOAD ({name}, {:#x}, {:#x}) error {error}",
                md.evhand.map_or(0, |f| f as usize),
                md.priv_ as usize
            );
            k.console.push_str(&message);
            k.console.push('\n');
            k.module_failures.push(message);
            return;
        }
        let file = k.loading.clone().unwrap_or_default();
        k.registered.push(RegisteredModule {
            name,
            data,
            handle,
            file,
        });
    });
}

thread_local! {
    static SYSCTL_OUT: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// `req->oldfunc`: collects what a handler returns.
///
/// # Safety
///
/// `p` is NULL or points at `len` readable bytes.
pub unsafe extern "C" fn sysctl_old(_req: *mut SysctlReq, p: *const c_void, len: usize) -> i32 {
    if !p.is_null() {
        // SAFETY: the handler's buffer of `len` bytes.
        let bytes = unsafe { std::slice::from_raw_parts(p as *const u8, len) };
        SYSCTL_OUT.with(|o| o.borrow_mut().extend_from_slice(bytes));
    }
    0
}

/// `req->newfunc`: copies the next `len` bytes of the new value, as
/// `sysctl_new_kernel` does; EINVAL when fewer remain.
///
/// # Safety
///
/// `req` is a request whose `newptr` holds `newlen` bytes; `p` has room for
/// `len` bytes.
pub unsafe extern "C" fn sysctl_new(req: *mut SysctlReq, p: *mut c_void, len: usize) -> i32 {
    // SAFETY: the request the kernel built.
    let r = unsafe { &mut *req };
    if r.newptr.is_null() {
        return 0;
    }
    if len > r.newlen.saturating_sub(r.newidx) {
        return super::layout::EINVAL;
    }
    // SAFETY: both ranges checked above.
    unsafe {
        std::ptr::copy_nonoverlapping((r.newptr as *const u8).add(r.newidx), p as *mut u8, len)
    };
    r.newidx += len;
    0
}

/// `SYSCTL_IN`: the handler's request for the new value, if there is one.
fn new_value(req: *mut SysctlReq, p: *mut c_void, len: usize) -> Option<i32> {
    // SAFETY: the request the kernel built.
    let r = unsafe { &*req };
    if r.newptr.is_null() {
        return None;
    }
    r.newfunc.map(|f| unsafe { f(req, p, len) })
}

/// The bytes handlers returned since the last call.
pub fn take_sysctl_output() -> Vec<u8> {
    SYSCTL_OUT.with(|o| std::mem::take(&mut *o.borrow_mut()))
}

fn out(req: *mut SysctlReq, bytes: &[u8]) -> i32 {
    // SAFETY: the request the kernel built.
    match unsafe { (*req).oldfunc } {
        Some(f) => unsafe { f(req, bytes.as_ptr().cast(), bytes.len()) },
        None => 0,
    }
}

unsafe extern "C" fn k_sysctl_handle_int(
    _oid: *mut SysctlOid,
    arg1: u64,
    arg2: i64,
    req: *mut SysctlReq,
) -> i32 {
    // SAFETY: arg1 points at the int the OID names, or is NULL for a constant.
    let v = if arg1 == 0 {
        arg2 as i32
    } else {
        unsafe { *(arg1 as *const i32) }
    };
    let error = out(req, &v.to_le_bytes());
    if error != 0 || unsafe { (*req).newptr.is_null() } {
        return error;
    }
    if arg1 == 0 {
        return super::layout::EPERM;
    }
    new_value(req, arg1 as *mut c_void, 4).unwrap_or(0)
}

unsafe extern "C" fn k_sysctl_handle_long(
    _oid: *mut SysctlOid,
    arg1: u64,
    arg2: i64,
    req: *mut SysctlReq,
) -> i32 {
    // SAFETY: as above, for a long or a 64-bit value.
    let v = if arg1 == 0 {
        arg2
    } else {
        unsafe { *(arg1 as *const i64) }
    };
    let error = out(req, &v.to_le_bytes());
    if error != 0 || unsafe { (*req).newptr.is_null() } {
        return error;
    }
    if arg1 == 0 {
        return super::layout::EPERM;
    }
    new_value(req, arg1 as *mut c_void, 8).unwrap_or(0)
}

unsafe extern "C" fn k_sysctl_handle_string(
    _oid: *mut SysctlOid,
    arg1: u64,
    _arg2: i64,
    req: *mut SysctlReq,
) -> i32 {
    let mut s = c_string(arg1).unwrap_or_default();
    s.push(0);
    out(req, &s)
}

unsafe extern "C" fn k_sysctl_handle_opaque(
    _oid: *mut SysctlOid,
    arg1: u64,
    arg2: i64,
    req: *mut SysctlReq,
) -> i32 {
    if arg1 == 0 || arg2 <= 0 {
        return 0;
    }
    // SAFETY: the OID's object of arg2 bytes.
    let bytes = unsafe { std::slice::from_raw_parts(arg1 as *const u8, arg2 as usize) }.to_vec();
    out(req, &bytes)
}

unsafe extern "C" fn k_pcpu_find(cpu: u32) -> u64 {
    with(|k| k.pcpus.get(cpu as usize).copied().unwrap_or(0))
}

fn vnet_sysinit(vs: u64) -> (u64, u64) {
    // SAFETY: the struct vnet_sysinit a module registers.
    let v = unsafe { &*(vs as *const VnetSysinit) };
    (v.func.map_or(0, |f| f as usize as u64), v.arg as u64)
}

/// Runs `vs` in each of `vnets`, with curvnet set to it, as
/// `CURVNET_SET_QUIET(vnet); vs->func(vs->arg); CURVNET_RESTORE()`.
fn run_in_vnets(vs: u64, vnets: &[u64]) {
    let (func, arg) = vnet_sysinit(vs);
    for &vnet in vnets {
        let saved = with(|k| {
            let saved = k.curvnet();
            k.set_curvnet(vnet);
            saved
        });
        if func != 0 {
            call1(func, arg);
        }
        with(|k| k.set_curvnet(saved));
    }
}

/// The vnets in list order (`VNET_FOREACH`: the newest first).
fn listed_vnets() -> Vec<u64> {
    with(|k| k.listed_vnets())
}

unsafe extern "C" fn k_vnet_register_sysinit(vs: u64) {
    with(|k| super::kernel::Kernel::insert_sorted(&mut k.constructors, vs));
    run_in_vnets(vs, &listed_vnets());
}

unsafe extern "C" fn k_vnet_deregister_sysinit(vs: u64) {
    with(|k| k.constructors.retain(|&c| c != vs));
}

unsafe extern "C" fn k_vnet_register_sysuninit(vs: u64) {
    with(|k| super::kernel::Kernel::insert_sorted(&mut k.destructors, vs));
}

unsafe extern "C" fn k_vnet_deregister_sysuninit(vs: u64) {
    run_in_vnets(vs, &listed_vnets());
    with(|k| k.destructors.retain(|&c| c != vs));
}

unsafe extern "C" fn k_vnet_data_alloc(size: i32) -> u64 {
    with(|k| {
        let Some(i) = k.sets.iter().position(|s| s.virtualized) else {
            return 0;
        };
        let s = &mut k.sets[i];
        match s.modspace.alloc(size.max(0) as u64) {
            Some(off) => s.start + s.modspace_offset + off,
            None => 0,
        }
    })
}

unsafe extern "C" fn k_vnet_data_free(p: u64, size: i32) {
    with(|k| {
        if let Some(s) = k.sets.iter_mut().find(|s| s.virtualized) {
            let base = s.start + s.modspace_offset;
            if p >= base && p < s.start + s.size {
                s.modspace.free(p - base, size.max(0) as u64);
            }
        }
    });
}

unsafe extern "C" fn k_vnet_data_copy(p: u64, size: i32) {
    let bases: Vec<u64> = with(|k| {
        k.vnets
            .iter()
            .map(|v| super::kernel::Kernel::vnet_data_base(v.vnet))
            .collect()
    });
    for base in bases {
        // SAFETY: the master range and its copy in each vnet.
        unsafe {
            std::ptr::copy_nonoverlapping(
                p as *const u8,
                p.wrapping_add(base) as *mut u8,
                size.max(0) as usize,
            )
        };
    }
}

// vnet_support.c, in the kernel (detect = "kernel"): the same choice the
// module-side shims make, with the kernel's own knowledge of VIMAGE.
fn vimage() -> bool {
    with(|k| k.vimage())
}

unsafe extern "C" fn k_runtime_register_sysinit(vs: u64) {
    if vimage() {
        unsafe { k_vnet_register_sysinit(vs) }
    } else {
        let (func, arg) = vnet_sysinit(vs);
        if func != 0 {
            call1(func, arg);
        }
    }
}

unsafe extern "C" fn k_runtime_deregister_sysinit(vs: u64) {
    if vimage() {
        unsafe { k_vnet_deregister_sysinit(vs) }
    }
}

unsafe extern "C" fn k_runtime_register_sysuninit(vs: u64) {
    if vimage() {
        unsafe { k_vnet_register_sysuninit(vs) }
    }
}

unsafe extern "C" fn k_runtime_deregister_sysuninit(vs: u64) {
    if vimage() {
        unsafe { k_vnet_deregister_sysuninit(vs) }
    } else {
        let (func, arg) = vnet_sysinit(vs);
        if func != 0 {
            call1(func, arg);
        }
    }
}

unsafe extern "C" fn k_runtime_eventhandler_register(
    name: u64,
    func: u64,
    arg: u64,
    pri: i32,
) -> u64 {
    register_handler(name, func, arg, pri, vimage())
}

/// Ends the child on a kernel panic, with the console output so far.
fn panic_exit(message: &str) -> ! {
    super::child::panic_exit(message, super::kernel::try_console())
}
