//! Memory in the low 2 GiB, where `-mcmodel=kernel` code can reach it: the
//! objects' `R_X86_64_32S` relocations hold sign-extended 32-bit addresses,
//! and their calls are 32-bit PC-relative.  Everything a module touches by
//! symbol (its own sections, the kernel's data, the trampolines into Rust)
//! comes from `mmap(MAP_32BIT)`.

use std::io;

pub const PAGE: usize = 4096;

pub fn round_up(n: usize, align: usize) -> usize {
    n.div_ceil(align) * align
}

/// One anonymous mapping below 2 GiB, unmapped on drop.
pub struct LowMap {
    base: *mut u8,
    len: usize,
}

impl LowMap {
    /// `len` bytes (rounded to pages), read-write, zeroed.
    pub fn new(len: usize) -> io::Result<LowMap> {
        let len = round_up(len.max(1), PAGE);
        // SAFETY: an anonymous private mapping with no address hint.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_32BIT,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let base = p.cast::<u8>();
        if base as u64 + len as u64 > 0x8000_0000 {
            // SAFETY: the mapping just made.
            unsafe { libc::munmap(p, len) };
            return Err(io::Error::other("MAP_32BIT gave memory above 2 GiB"));
        }
        Ok(LowMap { base, len })
    }

    pub fn base(&self) -> u64 {
        self.base as u64
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn contains(&self, addr: u64, len: u64) -> bool {
        addr >= self.base() && addr.saturating_add(len) <= self.base() + self.len as u64
    }

    /// Sets the protection of `[offset, offset + len)`, page-aligned.
    pub fn protect(&self, offset: usize, len: usize, prot: i32) -> io::Result<()> {
        if len == 0 {
            return Ok(());
        }
        // SAFETY: the range lies inside this mapping (callers pass page-aligned
        // pieces of it); a bad range is an error from the kernel, not UB.
        let r = unsafe { libc::mprotect(self.base.add(offset).cast(), len, prot) };
        if r != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

impl Drop for LowMap {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `new`, unmapped once.
        unsafe { libc::munmap(self.base.cast(), self.len) };
    }
}

/// A bump allocator over a low mapping, for the kernel's own data.
pub struct Arena {
    map: LowMap,
    next: usize,
}

impl Arena {
    pub fn new(len: usize) -> io::Result<Arena> {
        Ok(Arena {
            map: LowMap::new(len)?,
            next: 0,
        })
    }

    /// Zeroed bytes; `None` when the arena is full.
    pub fn alloc(&mut self, size: usize, align: usize) -> Option<u64> {
        let start = round_up(self.next, align.max(1));
        let end = start.checked_add(size)?;
        if end > self.map.len() {
            return None;
        }
        self.next = end;
        Some(self.map.base() + start as u64)
    }
}

/// Bytes of one trampoline: `jmp *0(%rip)`, the 8-byte target, padding.
pub const TRAMPOLINE_BYTES: usize = 16;

/// `jmp *0(%rip)` followed by the absolute address of `target`: a call
/// from a module reaches a Rust function anywhere through it.
pub fn trampoline(target: u64) -> [u8; TRAMPOLINE_BYTES] {
    let mut t = [0xcc; TRAMPOLINE_BYTES];
    t[..6].copy_from_slice(&[0xff, 0x25, 0, 0, 0, 0]);
    t[6..14].copy_from_slice(&target.to_le_bytes());
    t
}

/// The longest C string read from module memory.
pub const MAX_STRING: usize = 4096;

/// A C string at `addr` (`None` for NULL), at most [`MAX_STRING`] bytes.
pub fn c_string(addr: u64) -> Option<Vec<u8>> {
    if addr == 0 {
        return None;
    }
    let mut out = Vec::new();
    for i in 0..MAX_STRING as u64 {
        // SAFETY: module memory; a bad pointer faults, and the child reports it.
        let b = unsafe { *((addr + i) as *const u8) };
        if b == 0 {
            break;
        }
        out.push(b);
    }
    Some(out)
}
