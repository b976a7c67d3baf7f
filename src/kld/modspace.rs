//! The module space of a per-instance set: the bytes the kernel reserves in
//! its own `set_pcpu` or `set_vnet` for modules' variables.  As FreeBSD's
//! `dpcpu_alloc` and `vnet_data_alloc`: first fit, sizes rounded up to a
//! pointer, and no alignment beyond a pointer.

/// Free ranges of `[0, size)`, sorted and coalesced.
#[derive(Debug, Clone)]
pub struct ModSpace {
    size: u64,
    free: Vec<(u64, u64)>,
}

/// The pointer size: the unit of allocation.
pub const UNIT: u64 = 8;

impl ModSpace {
    pub fn new(size: u64) -> ModSpace {
        ModSpace {
            size,
            free: vec![(0, size)],
        }
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// The offset of `len` bytes, or `None` when no free range is large enough.
    pub fn alloc(&mut self, len: u64) -> Option<u64> {
        let len = len.max(1).checked_next_multiple_of(UNIT)?;
        let i = self.free.iter().position(|&(_, l)| l >= len)?;
        let (start, l) = self.free[i];
        if l == len {
            self.free.remove(i);
        } else {
            self.free[i] = (start + len, l - len);
        }
        Some(start)
    }

    /// Returns `[offset, offset + len)`, rounded as `alloc` rounded it.
    pub fn free(&mut self, offset: u64, len: u64) {
        let len = len.max(1).next_multiple_of(UNIT);
        let i = self.free.partition_point(|&(s, _)| s < offset);
        self.free.insert(i, (offset, len));
        // Coalesce with the neighbours.
        if i + 1 < self.free.len() && self.free[i].0 + self.free[i].1 == self.free[i + 1].0 {
            self.free[i].1 += self.free[i + 1].1;
            self.free.remove(i + 1);
        }
        if i > 0 && self.free[i - 1].0 + self.free[i - 1].1 == self.free[i].0 {
            self.free[i - 1].1 += self.free[i].1;
            self.free.remove(i);
        }
    }

    /// Bytes free in all.
    pub fn available(&self) -> u64 {
        self.free.iter().map(|&(_, l)| l).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_fit_rounds_to_a_pointer_and_coalesces() {
        let mut m = ModSpace::new(64);
        assert_eq!(m.alloc(3), Some(0));
        assert_eq!(m.alloc(8), Some(8));
        assert_eq!(m.alloc(17), Some(16));
        assert_eq!(m.alloc(32), None);
        m.free(8, 8);
        assert_eq!(m.alloc(4), Some(8), "first fit takes the hole");
        m.free(0, 3);
        m.free(8, 4);
        m.free(16, 17);
        assert_eq!(m.available(), 64);
        assert_eq!(m.alloc(64), Some(0));
    }
}
