//! Module code runs in a child process: a fault, a panic, a runaway loop
//! or a corrupted heap in a module ends the child, never vnetgen.
//!
//! The parent forks once per scenario; the child boots the emulated kernel
//! and runs the steps, writing one JSON line per step to a pipe.  A fault
//! (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP) is caught on an alternate
//! stack, named by the module symbol and offset of the faulting
//! instruction, written to the pipe without allocating, and the child
//! exits.  The parent kills a child that exceeds the time limit.

use std::io::Read;
use std::os::fd::{FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicI32, AtomicPtr, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// One line from the child.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Event {
    /// The step it reports on.
    pub index: usize,
    pub ok: bool,
    pub text: String,
    /// Console output (printf) during the step.
    #[serde(default)]
    pub console: String,
    /// The number a `call` or `sysctl` gave.
    #[serde(default)]
    pub value: Option<i64>,
    /// The step does not apply to this kernel.
    #[serde(default)]
    pub skipped: bool,
    /// A `call`: the time-stamp counter's ticks over the call, natively.
    #[serde(default)]
    pub cycles: Option<u64>,
}

/// How a child ended.
#[derive(Debug, Clone)]
pub struct ChildResult {
    pub events: Vec<Event>,
    /// A fault the child reported: its description.
    pub fault: Option<String>,
    /// The child was killed at the time limit.
    pub timed_out: bool,
    /// How it exited, e.g. "exit status 0", "killed by signal 6".
    pub status: String,
    pub clean_exit: bool,
}

static PIPE: AtomicI32 = AtomicI32::new(-1);
/// The step being run, for panics and faults.
pub static CURRENT: AtomicUsize = AtomicUsize::new(0);
/// Functions of loaded modules, for naming a faulting address.
static FAULT_TABLE: AtomicPtr<Vec<FaultEntry>> = AtomicPtr::new(std::ptr::null_mut());

fn write_all(fd: i32, mut bytes: &[u8]) {
    while !bytes.is_empty() {
        // SAFETY: writes from a live buffer to the pipe.
        let n = unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) };
        if n <= 0 {
            return;
        }
        bytes = &bytes[n as usize..];
    }
}

/// Sends one event to the parent.
pub fn emit(event: &Event) {
    let mut line = serde_json::to_string(event).unwrap_or_default();
    line.push('\n');
    write_all(PIPE.load(Ordering::SeqCst), line.as_bytes());
}

/// Ends the child: a kernel panic, reported at the current step.
pub fn panic_exit(message: &str, console: String) -> ! {
    emit(&Event {
        index: CURRENT.load(Ordering::SeqCst),
        ok: false,
        text: format!("panic: {message}"),
        console,
        value: None,
        skipped: false,
        cycles: None,
    });
    // SAFETY: ends the child without running the parent's destructors.
    unsafe { libc::_exit(0) }
}

/// Ends the child on an internal error.
pub fn die(message: &str) -> ! {
    emit(&Event {
        index: CURRENT.load(Ordering::SeqCst),
        ok: false,
        text: format!("vnetgen kld: {message}"),
        console: String::new(),
        value: None,
        skipped: false,
        cycles: None,
    });
    // SAFETY: as above.
    unsafe { libc::_exit(0) }
}

/// A function of a loaded module: start, end, name, file.
pub type FaultEntry = (u64, u64, String, String);

/// Replaces the table of functions a fault is named by.
pub fn set_fault_table(table: Vec<FaultEntry>) {
    let new = Box::into_raw(Box::new(table));
    // The old table is leaked: a handler may be reading it.
    FAULT_TABLE.store(new, Ordering::SeqCst);
}

/// A fixed buffer that `core::fmt` writes into without allocating.
struct StackBuf {
    buf: [u8; 512],
    len: usize,
}

impl StackBuf {
    /// Appends JSON framing as it is.
    fn raw(&mut self, s: &str) {
        for &b in s.as_bytes() {
            if self.len < self.buf.len() {
                self.buf[self.len] = b;
                self.len += 1;
            }
        }
    }
}

impl std::fmt::Write for StackBuf {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        for &b in s.as_bytes() {
            if self.len < self.buf.len() {
                // Keep the JSON line valid whatever a symbol is called.
                self.buf[self.len] = if b == b'"' || b == b'\\' || b < 0x20 {
                    b'?'
                } else {
                    b
                };
                self.len += 1;
            }
        }
        Ok(())
    }
}

fn signal_name(sig: i32) -> &'static str {
    match sig {
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGBUS => "SIGBUS",
        libc::SIGILL => "SIGILL",
        libc::SIGFPE => "SIGFPE",
        libc::SIGTRAP => "SIGTRAP",
        libc::SIGABRT => "SIGABRT",
        libc::SIGKILL => "SIGKILL",
        _ => "signal",
    }
}

extern "C" fn on_fault(sig: i32, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    use std::fmt::Write;
    // SAFETY: the kernel hands a valid siginfo and ucontext to an
    // SA_SIGINFO handler.
    let (rip, addr) = unsafe {
        let uc = &*(ctx as *const libc::ucontext_t);
        (
            uc.uc_mcontext.gregs[libc::REG_RIP as usize] as u64,
            (*info).si_addr() as u64,
        )
    };
    let mut out = StackBuf {
        buf: [0; 512],
        len: 0,
    };
    out.raw("{\"fault\":\"");
    let _ = write!(out, "{} (signal {sig}) at ", signal_name(sig));
    let table = FAULT_TABLE.load(Ordering::SeqCst);
    let mut named = false;
    if !table.is_null() {
        // SAFETY: tables are leaked, never freed, so this one is live.
        let table = unsafe { &*table };
        let best = table
            .iter()
            .filter(|(start, end, _, _)| rip >= *start && (rip < *end || *end == *start))
            .max_by_key(|(start, _, _, _)| *start);
        if let Some((start, _, name, file)) = best {
            let _ = write!(out, "{name}+{:#x} in {file}", rip - start);
            named = true;
        }
    }
    if !named {
        let _ = write!(out, "{rip:#x}, outside any module function");
    }
    let _ = write!(out, ", fault address {addr:#x}");
    out.raw("\"}\n");
    write_all(PIPE.load(Ordering::SeqCst), &out.buf[..out.len]);
    // SAFETY: async-signal-safe exit.
    unsafe { libc::_exit(0) }
}

fn install_fault_handlers() {
    const ALT_STACK: usize = 256 * 1024;
    let stack = Box::leak(vec![0u8; ALT_STACK].into_boxed_slice());
    let ss = libc::stack_t {
        ss_sp: stack.as_mut_ptr().cast(),
        ss_flags: 0,
        ss_size: ALT_STACK,
    };
    // SAFETY: installs a leaked alternate stack and a handler that only
    // does async-signal-safe work.
    unsafe {
        libc::sigaltstack(&ss, std::ptr::null_mut());
        for sig in [
            libc::SIGSEGV,
            libc::SIGBUS,
            libc::SIGILL,
            libc::SIGFPE,
            libc::SIGTRAP,
        ] {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_fault as *const () as usize;
            sa.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK | libc::SA_NODEFER;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(sig, &sa, std::ptr::null_mut());
        }
    }
}

/// Closes every descriptor above stderr but `keep`: other threads of the
/// parent may be running scenarios too, and a child holding their pipes
/// would keep them from seeing their own child's end.
fn close_other_descriptors(keep: i32) {
    let keep = keep as u32;
    // SAFETY: close_range(2) on ranges of this process's descriptors.
    let ok = unsafe {
        (keep <= 3 || libc::syscall(libc::SYS_close_range, 3u32, keep - 1, 0u32) == 0)
            && libc::syscall(libc::SYS_close_range, keep + 1, u32::MAX, 0u32) == 0
    };
    if !ok {
        for fd in (3..4096).filter(|&fd| fd != keep as i32) {
            // SAFETY: closing descriptors of this (child) process.
            unsafe { libc::close(fd) };
        }
    }
}

/// Runs `body` in a child process and collects its events.
pub fn run_in_child(timeout: Duration, body: impl FnOnce()) -> std::io::Result<ChildResult> {
    let mut fds = [0i32; 2];
    // SAFETY: creates a pipe into `fds`.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: fork; the child touches only its own copy of memory, writes
    // to the pipe, and leaves with _exit.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        let e = std::io::Error::last_os_error();
        // SAFETY: the pipe's two ends, closed once.
        unsafe {
            libc::close(fds[0]);
            libc::close(fds[1]);
        }
        return Err(e);
    }
    if pid == 0 {
        // SAFETY: the child's copy of the read end.
        unsafe { libc::close(fds[0]) };
        close_other_descriptors(fds[1]);
        PIPE.store(fds[1], Ordering::SeqCst);
        install_fault_handlers();
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(body));
        if let Err(p) = r {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            die(&format!("internal error: {msg}"));
        }
        // SAFETY: ends the child.
        unsafe { libc::_exit(0) }
    }
    // SAFETY: the parent's copy of the write end; the read end is owned below.
    unsafe { libc::close(fds[1]) };
    let read_end = unsafe { OwnedFd::from_raw_fd(fds[0]) };
    let mut file = std::fs::File::from(read_end);
    let deadline = Instant::now() + timeout;
    let mut bytes = Vec::new();
    let mut timed_out = false;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            timed_out = true;
            break;
        }
        let mut pfd = libc::pollfd {
            fd: fds[0],
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: polls one descriptor we own.
        let r = unsafe { libc::poll(&mut pfd, 1, left.as_millis().min(i32::MAX as u128) as i32) };
        if r < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if r == 0 {
            continue;
        }
        let mut chunk = [0u8; 8192];
        match file.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => bytes.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    if timed_out {
        // SAFETY: the child we forked.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
    let mut status = 0;
    // SAFETY: reaps the child we forked.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    let (status_text, clean_exit) = if libc::WIFSIGNALED(status) {
        let sig = libc::WTERMSIG(status);
        (
            format!("killed by {} (signal {sig})", signal_name(sig)),
            false,
        )
    } else {
        let code = libc::WEXITSTATUS(status);
        (format!("exit status {code}"), code == 0)
    };
    let mut events = Vec::new();
    let mut fault = None;
    for line in String::from_utf8_lossy(&bytes).lines() {
        if let Ok(e) = serde_json::from_str::<Event>(line) {
            events.push(e);
        } else if let Ok(v) = serde_json::from_str::<serde_json::Value>(line) {
            if let Some(f) = v.get("fault").and_then(|f| f.as_str()) {
                fault = Some(f.to_string());
            }
        }
    }
    Ok(ChildResult {
        events,
        fault,
        timed_out,
        status: status_text,
        clean_exit,
    })
}
