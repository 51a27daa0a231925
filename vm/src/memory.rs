//! Memory regions and the per-run region table that checked mode tests every access against.
//!
//! Programs see host addresses, as on Linux. A run may touch exactly: its stack, its input
//! buffer, and the regions the loaded program registered (maps, global data). Each region has a
//! start, a length and a permission; an access `[addr, addr + len)` is allowed only if it lies
//! wholly inside one region that permits it. The test is written so that `addr + len` can never
//! overflow (`addr - start <= region_len - len`).
//!
//! Unsafe contract (the reason the engines' raw loads and stores are sound): a [`Region`] can only
//! be built from a borrowed slice ([`Region::readable`], [`Region::writable`]) whose lifetime
//! outlives the table, or by [`Region::from_raw`], whose caller promises the same. So every address
//! that passes [`RegionTable::check`] points into live memory of at least `len` bytes that no Rust
//! reference reads or writes for the duration of the run.

use crate::fault::Access;

/// Bytes of stack per call frame (Linux `MAX_BPF_STACK`).
pub const FRAME_SIZE: usize = 512;
/// Maximum number of call frames (Linux `MAX_CALL_FRAMES`).
pub const MAX_FRAMES: usize = 8;
/// Total stack bytes: one [`FRAME_SIZE`] slice per frame.
pub const STACK_SIZE: usize = FRAME_SIZE * MAX_FRAMES;

/// A contiguous span of host memory a program may access.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Region {
    /// Host address of the first byte.
    pub start: u64,
    /// Length in bytes.
    pub len: u64,
    /// Whether stores and atomics are allowed.
    pub writable: bool,
}

impl Region {
    /// A read-only region over `bytes`.
    #[must_use]
    pub fn readable(bytes: &[u8]) -> Self {
        Self {
            start: bytes.as_ptr() as u64,
            len: bytes.len() as u64,
            writable: false,
        }
    }

    /// A read-write region over `bytes`.
    #[must_use]
    pub fn writable(bytes: &mut [u8]) -> Self {
        Self {
            start: bytes.as_mut_ptr() as u64,
            len: bytes.len() as u64,
            writable: true,
        }
    }

    /// A region from raw parts.
    ///
    /// # Safety
    /// `start..start + len` must be live, allocated memory for as long as any table holding this
    /// region is used, not accessed through Rust references meanwhile, and writable if `writable`.
    #[must_use]
    pub const unsafe fn from_raw(start: u64, len: u64, writable: bool) -> Self {
        Self {
            start,
            len,
            writable,
        }
    }

    /// Whether `[addr, addr + len)` lies inside this region (overflow-free).
    #[inline(always)]
    #[must_use]
    pub const fn contains(&self, addr: u64, len: u64) -> bool {
        addr >= self.start && len <= self.len && addr - self.start <= self.len - len
    }
}

/// The 16-byte-aligned stack memory of one run: [`MAX_FRAMES`] frames of [`FRAME_SIZE`] bytes.
#[repr(C, align(16))]
#[derive(Debug)]
pub struct StackMemory(pub [u8; STACK_SIZE]);

/// Reusable per-thread state for runs: the stack. Reusing it avoids an allocation and a clear
/// per run; a run may observe bytes left by an earlier run of the same state (as on Linux, the
/// stack is not cleared between runs, but it always holds initialised bytes).
#[derive(Debug)]
pub struct ExecState {
    stack: Box<StackMemory>,
}

impl Default for ExecState {
    fn default() -> Self {
        Self::new()
    }
}

impl ExecState {
    /// A fresh state with a zeroed stack.
    #[must_use]
    pub fn new() -> Self {
        Self {
            stack: Box::new(StackMemory([0; STACK_SIZE])),
        }
    }

    /// The stack as a region, plus its top (the entry frame's r10).
    #[must_use]
    pub fn stack_region(&mut self) -> Region {
        Region::writable(&mut self.stack.0)
    }
}

/// The regions of one run: stack first (the most frequent target), then input, then the
/// program's registered regions.
#[derive(Debug)]
pub struct RegionTable<'a> {
    stack: Region,
    input: Region,
    extra: &'a [Region],
}

impl<'a> RegionTable<'a> {
    /// A table over a run's stack and input and the program's regions.
    #[must_use]
    pub const fn new(stack: Region, input: Region, extra: &'a [Region]) -> Self {
        Self {
            stack,
            input,
            extra,
        }
    }

    /// The stack region.
    #[must_use]
    pub const fn stack(&self) -> Region {
        self.stack
    }

    /// The input region.
    #[must_use]
    pub const fn input(&self) -> Region {
        self.input
    }

    /// The program's registered regions.
    #[must_use]
    pub const fn extra(&self) -> &'a [Region] {
        self.extra
    }

    /// Whether `[addr, addr + len)` may be accessed as `access`.
    #[inline(always)]
    #[must_use]
    pub fn check(&self, addr: u64, len: u64, access: Access) -> bool {
        let ok = |r: &Region| r.contains(addr, len) && (access == Access::Read || r.writable);
        ok(&self.stack) || ok(&self.input) || self.extra.iter().any(ok)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contains_never_overflows() {
        // SAFETY: the region is only used for arithmetic checks, never dereferenced.
        let r = unsafe { Region::from_raw(u64::MAX - 7, 8, true) };
        assert!(r.contains(u64::MAX - 7, 8));
        assert!(!r.contains(u64::MAX - 7, 9));
        assert!(!r.contains(u64::MAX, 2));
        assert!(r.contains(u64::MAX, 1));
        assert!(!r.contains(0, 1));
        // SAFETY: as above.
        let small = unsafe { Region::from_raw(100, 4, false) };
        assert!(!small.contains(100, 8));
        assert!(small.contains(103, 1));
    }

    #[test]
    fn permissions_are_enforced() {
        let mut stack = [0u8; 16];
        let input = [0u8; 8];
        let t = RegionTable::new(Region::writable(&mut stack), Region::readable(&input), &[]);
        let a = input.as_ptr() as u64;
        assert!(t.check(a, 8, Access::Read));
        assert!(!t.check(a, 8, Access::Write));
        assert!(!t.check(a + 1, 8, Access::Read));
    }
}
