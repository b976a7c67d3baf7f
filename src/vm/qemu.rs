//! QEMU, one boot: the serial console read line by line as it comes, and
//! the guest ended when it stops making progress.  The QEMU process dies
//! with vnetgen (`PR_SET_PDEATHSIG`), is killed at the time limit, and is
//! always waited for: nothing is left running.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::VmError;

/// How QEMU runs the guest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accel {
    /// KVM where `/dev/kvm` is usable (and not kvm-pvm), TCG otherwise.
    Auto,
    Tcg,
    Kvm,
}

impl Accel {
    /// The accelerator to pass to `-accel`.
    pub fn resolve(self) -> &'static str {
        match self {
            Accel::Tcg => "tcg",
            Accel::Kvm => "kvm",
            Accel::Auto => {
                let usable = std::fs::OpenOptions::new()
                    .read(true)
                    .write(true)
                    .open("/dev/kvm")
                    .is_ok();
                // kvm-pvm runs only guests built for it: FreeBSD hangs there.
                let pvm = Path::new("/sys/module/kvm_pvm").exists();
                if usable && !pvm {
                    "kvm"
                } else {
                    "tcg"
                }
            }
        }
    }
}

/// What to boot.
pub struct Boot<'a> {
    pub arch: &'a str,
    pub iso: &'a Path,
    pub cpus: u32,
    pub memory_mb: u32,
    pub accel: Accel,
    /// The longest the guest may go without a line that shows progress.
    pub stall: Duration,
    /// Lines that show progress: they contain this marker.
    pub marker: &'a str,
    /// Lines that mean the kernel is going down (`panic: `): after one,
    /// the guest gets [`FATAL_GRACE`] of quiet to reboot, not `stall`.
    pub fatal: &'a [&'a str],
}

/// How long a kernel that panicked may stay quiet before it counts as hung
/// (a panic inside the panic, with nothing printed, never ends).
pub const FATAL_GRACE: Duration = Duration::from_secs(3);

/// How a boot ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// QEMU exited by itself (a power-off, or a reset with `-no-reboot`).
    Exited(String),
    /// No progress for the time limit: QEMU was killed.
    Stalled(Duration),
    /// The kernel asked for a root file system (`mountroot>`): QEMU was killed.
    Mountroot,
}

/// One boot's console.
#[derive(Debug, Clone)]
pub struct Console {
    /// Each line (carriage returns and terminal escapes removed) and when
    /// it came, from QEMU's start.
    pub lines: Vec<(Duration, String)>,
    pub ended: Ended,
    /// QEMU's own standard error.
    pub stderr: String,
    pub elapsed: Duration,
}

/// A console line without its carriage returns and terminal escapes
/// (GRUB clears the screen with `ESC [ ... letter` sequences).
fn clean(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => {
                if chars.peek() == Some(&'[') {
                    chars.next();
                    for d in chars.by_ref() {
                        if d.is_ascii_alphabetic() {
                            break;
                        }
                    }
                }
            }
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// The QEMU system emulator for `arch`.
pub fn program(arch: &str) -> &'static str {
    if arch == "i386" {
        "qemu-system-i386"
    } else {
        "qemu-system-x86_64"
    }
}

/// Boots and reads the console until the guest powers off, stalls or
/// waits at the mountroot prompt.
pub fn run(boot: &Boot<'_>) -> Result<Console, VmError> {
    let program = program(boot.arch);
    let mut cmd = Command::new(program);
    cmd.args(["-accel", boot.accel.resolve()])
        .args(["-m", &boot.memory_mb.to_string()])
        .args(["-smp", &boot.cpus.max(1).to_string()])
        .args(["-display", "none", "-monitor", "none", "-serial", "stdio"])
        .arg("-no-reboot")
        .arg("-cdrom")
        .arg(boot.iso)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: prctl in the child before exec; no allocation, no locks.
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let started = Instant::now();
    let mut child = cmd.spawn().map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            VmError::MissingTool {
                tool: program.to_string(),
                hint: super::INSTALL_HINT.to_string(),
            }
        } else {
            VmError::Io {
                path: program.into(),
                source: e,
            }
        }
    })?;
    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    let stdout = child.stdout.take();
    let reader = std::thread::spawn(move || {
        let Some(mut out) = stdout else {
            return;
        };
        let mut buf = [0u8; 4096];
        loop {
            match out.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    if tx.send(buf[..n].to_vec()).is_err() {
                        return;
                    }
                }
            }
        }
    });
    let stderr = child.stderr.take();
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(mut e) = stderr {
            let _ = e.read_to_string(&mut s);
        }
        s
    });

    let mut lines: Vec<(Duration, String)> = Vec::new();
    let mut partial: Vec<u8> = Vec::new();
    let mut last_progress = Instant::now();
    let mut going_down = false;
    let ended = loop {
        let limit = if going_down { FATAL_GRACE } else { boot.stall };
        let waited = last_progress.elapsed();
        if waited >= limit {
            break Ended::Stalled(waited);
        }
        match rx.recv_timeout((limit - waited).min(Duration::from_millis(500))) {
            Ok(chunk) => {
                for &b in &chunk {
                    if b == b'\n' {
                        let line = clean(&partial);
                        if boot.fatal.iter().any(|f| line.contains(f)) {
                            going_down = true;
                        }
                        if going_down || line.contains(boot.marker) {
                            last_progress = Instant::now();
                        }
                        lines.push((started.elapsed(), line));
                        partial.clear();
                    } else {
                        partial.push(b);
                    }
                }
                if String::from_utf8_lossy(&partial).contains("mountroot>") {
                    break Ended::Mountroot;
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let status = child
                    .wait()
                    .map(|s| s.to_string())
                    .unwrap_or_else(|e| e.to_string());
                break Ended::Exited(status);
            }
        }
    };
    // Ends QEMU (a no-op when it exited) and always reaps it.
    let _ = child.kill();
    let _ = child.wait();
    let _ = reader.join();
    let stderr = err_reader.join().unwrap_or_default();
    if !partial.is_empty() {
        lines.push((started.elapsed(), clean(&partial)));
    }
    Ok(Console {
        lines,
        ended,
        stderr,
        elapsed: started.elapsed(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn console_lines_lose_carriage_returns_and_escapes() {
        assert_eq!(
            clean(b"\x1b[H\x1b[J\x1b[1;1H  Booting `FreeBSD'\r"),
            "  Booting `FreeBSD'"
        );
    }
}
