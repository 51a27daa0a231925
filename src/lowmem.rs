//! Memory below 4 GiB for program contexts and packets.
//!
//! Linux hands XDP and socket-buffer programs a context whose `data`, `data_end` and
//! `data_meta` fields are **32-bit** copies of the packet's addresses; programs widen them to
//! pointers. In apiary programs see host addresses, so the context and the packet must live
//! where an address fits in 32 bits. [`LowMemory`] maps anonymous memory there: with
//! `MAP_32BIT` on x86-64, elsewhere with `MAP_FIXED_NOREPLACE` at a few low hint addresses.
//!
//! In sandboxed verified mode the memory is instead a block of the object's sandbox window
//! ([`LowMemory::in_window`]), which then lies below 4 GiB itself: everything a program can
//! reach must be in the window, and the packet's addresses must fit the context's 32-bit fields.
//!
//! This is the only module of the crate with `unsafe` code: the mapping, its unmapping, and the
//! raw copies in and out of it.

use std::io;

/// Page size assumed for rounding (the mapping is rounded up to whole 64 KiB, which covers
/// 4 KiB, 16 KiB and 64 KiB pages).
const ROUND: usize = 64 * 1024;

/// Low hint addresses tried where `MAP_32BIT` does not exist (or fails).
const HINTS: &[usize] = &[
    0x1000_0000,
    0x2000_0000,
    0x3000_0000,
    0x4000_0000,
    0x5000_0000,
    0x6000_0000,
    0x7000_0000,
    0x8000_0000,
    0xA000_0000,
    0xC000_0000,
];

/// An anonymous read-write mapping that lies wholly below 4 GiB; unmapped on drop.
#[derive(Debug)]
pub struct LowMemory {
    addr: usize,
    len: usize,
    /// The window block this memory is, when it is one (unmapped with the window, not here).
    block: Option<apiary_vm::window::Allocation>,
}

// SAFETY: the mapping is plain memory owned by this value; nothing in it is tied to a thread.
unsafe impl Send for LowMemory {}
// SAFETY: shared references only expose the address and length; every access to the bytes goes
// through `&mut self` methods (or through engines during a run the owner drives).
unsafe impl Sync for LowMemory {}

impl LowMemory {
    /// Maps at least `len` zeroed bytes below 4 GiB.
    ///
    /// # Errors
    /// The `mmap` error, or [`io::ErrorKind::OutOfMemory`] when no low address was free.
    pub fn new(len: usize) -> io::Result<Self> {
        let len = len.max(1).next_multiple_of(ROUND);
        if u32::try_from(len).is_err() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a low mapping must be smaller than 4 GiB",
            ));
        }
        #[cfg(target_arch = "x86_64")]
        if let Some(m) = Self::try_map(0, len, libc::MAP_32BIT) {
            return Ok(m);
        }
        for &hint in HINTS {
            if let Some(m) = Self::try_map(hint, len, libc::MAP_FIXED_NOREPLACE) {
                return Ok(m);
            }
        }
        Err(io::Error::new(
            io::ErrorKind::OutOfMemory,
            "no free address range below 4 GiB for the packet buffer",
        ))
    }

    /// A block of at least `len` zeroed bytes in `window`, which must lie below 4 GiB.
    ///
    /// # Errors
    /// [`io::ErrorKind::InvalidInput`] when the window is not below 4 GiB,
    /// [`io::ErrorKind::OutOfMemory`] when it is full.
    pub fn in_window(
        window: &std::sync::Arc<apiary_vm::window::Window>,
        len: usize,
    ) -> io::Result<Self> {
        let len = len.max(1).next_multiple_of(ROUND);
        let block = window
            .alloc(len)
            .map_err(|e| io::Error::new(io::ErrorKind::OutOfMemory, e))?;
        if block.addr() + len as u64 > 1 << 32 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the sandbox window of a packet context must lie below 4 GiB",
            ));
        }
        Ok(Self {
            addr: block.addr() as usize,
            len,
            block: Some(block),
        })
    }

    /// One `mmap` attempt; the mapping is kept only if it ends below 4 GiB.
    fn try_map(hint: usize, len: usize, extra: libc::c_int) -> Option<Self> {
        // SAFETY: an anonymous private mapping touches no existing memory: with a zero hint or
        // `MAP_FIXED_NOREPLACE`, the kernel never replaces an existing mapping.
        let ptr = unsafe {
            libc::mmap(
                hint as *mut libc::c_void,
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | extra,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return None;
        }
        let mem = Self {
            addr: ptr as usize,
            len,
            block: None,
        };
        // Dropping `mem` unmaps a mapping that landed too high (old kernels ignore
        // MAP_FIXED_NOREPLACE and treat the hint as a hint).
        (mem.addr.checked_add(len)? <= 1 << 32).then_some(mem)
    }

    /// Address of the first byte (below 4 GiB).
    #[must_use]
    pub const fn addr(&self) -> u64 {
        self.addr as u64
    }

    /// Length in bytes.
    #[must_use]
    pub const fn len(&self) -> usize {
        self.len
    }

    /// Whether the mapping is empty (never: at least one page is mapped).
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Copies `bytes` to offset `at`; `false` (nothing written) when it does not fit.
    pub fn write(&mut self, at: usize, bytes: &[u8]) -> bool {
        if at.checked_add(bytes.len()).is_none_or(|end| end > self.len) {
            return false;
        }
        // SAFETY: `[at, at + bytes.len())` lies inside the live, writable mapping (checked
        // above), which no Rust reference aliases while the copy runs (`&mut self`), and
        // `bytes` is a distinct Rust buffer. The copy is racy-tolerant (`apiary_vm::racy`): the
        // packet region is registered for every program of the instance, so a program run by
        // another store on another thread may touch these bytes.
        unsafe { apiary_vm::racy::copy_to_guest(bytes, (self.addr + at) as *mut u8) };
        true
    }

    /// Zeroes `[at, at + len)`; `false` when it does not fit.
    pub fn zero(&mut self, at: usize, len: usize) -> bool {
        if at.checked_add(len).is_none_or(|end| end > self.len) {
            return false;
        }
        // SAFETY: as in `write`: the range is inside the mapping, no reference aliases it, and
        // the fill is racy-tolerant.
        unsafe { apiary_vm::racy::fill_guest((self.addr + at) as *mut u8, 0, len) };
        true
    }

    /// A copy of `[at, at + len)`, or `None` when it does not fit.
    #[must_use]
    pub fn read(&self, at: usize, len: usize) -> Option<Vec<u8>> {
        if at.checked_add(len).is_none_or(|end| end > self.len) {
            return None;
        }
        let mut out = vec![0u8; len];
        // SAFETY: the range is inside the live mapping (checked above) and no reference
        // aliases it during the copy; programs of other stores may write it concurrently (see
        // `write`), so the copy is racy-tolerant; `out` is a distinct Rust buffer.
        unsafe { apiary_vm::racy::copy_from_guest((self.addr + at) as *const u8, &mut out) };
        Some(out)
    }

    /// `[at, at + len)` as a mutable slice (a run's input), or `None` when it does not fit.
    pub fn slice_mut(&mut self, at: usize, len: usize) -> Option<&mut [u8]> {
        if at.checked_add(len).is_none_or(|end| end > self.len) {
            return None;
        }
        // SAFETY: the range is inside the live mapping, which is initialised (anonymous
        // mappings are zero-filled) and exclusively borrowed through `&mut self` for the
        // slice's lifetime.
        Some(unsafe { std::slice::from_raw_parts_mut((self.addr + at) as *mut u8, len) })
    }

    /// `[at, at + len)` as a region for an [`apiary_vm::Environment`] or a packet, or `None`
    /// when it does not fit.
    ///
    /// The region stays valid for as long as this mapping lives: callers (the object runner)
    /// keep the mapping alive longer than every prepared program and state holding it.
    #[must_use]
    pub fn region(&self, at: usize, len: usize, writable: bool) -> Option<apiary_vm::Region> {
        if at.checked_add(len).is_none_or(|end| end > self.len) {
            return None;
        }
        // SAFETY: the range is live, allocated, writable memory of this mapping; the owner of
        // the mapping keeps it alive while any table holding the region is used and accesses it
        // only through the copies above, never while a run is in progress.
        Some(unsafe { apiary_vm::Region::from_raw((self.addr + at) as u64, len as u64, writable) })
    }

    /// Makes `[at, at + len)` the packet legacy packet loads of `state`'s runs read.
    ///
    /// The owner of the mapping must keep it alive for every run made with `state` until
    /// [`LowMemory::clear_packet`] (the object runner owns both and clears it after each run).
    pub fn set_packet(&self, state: &mut apiary_vm::ExecState, at: usize, len: usize) -> bool {
        let Some(region) = self.region(at, len, true) else {
            return false;
        };
        // SAFETY: the region lies inside this live mapping, which the caller keeps alive for the
        // runs made with `state` while it is set (see above); runs reach it only through checked
        // packet loads.
        unsafe { state.set_packet(Some(region)) };
        true
    }

    /// Clears the packet of `state`.
    pub fn clear_packet(&self, state: &mut apiary_vm::ExecState) {
        // SAFETY: no region: nothing is promised.
        unsafe { state.set_packet(None) };
    }
}

impl Drop for LowMemory {
    fn drop(&mut self) {
        if self.block.is_some() {
            // A window block: returned to its window when the field drops.
            return;
        }
        // SAFETY: `addr..addr + len` is exactly the mapping this value created and owns; no
        // slice or region of it outlives the owner (see `region`).
        unsafe {
            libc::munmap(self.addr as *mut libc::c_void, self.len);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_below_4g_and_copies() {
        let mut m = LowMemory::new(5000).expect("low mapping");
        assert!(m.addr() + m.len() as u64 <= 1 << 32);
        assert!(m.len() >= 5000);
        assert!(m.write(10, &[1, 2, 3]));
        assert_eq!(m.read(9, 5).expect("in range"), vec![0, 1, 2, 3, 0]);
        assert!(!m.write(m.len() - 1, &[1, 2]));
        assert!(m.read(usize::MAX, 2).is_none());
        assert!(m.zero(10, 3));
        assert_eq!(m.read(10, 3).expect("in range"), vec![0, 0, 0]);
        let r = m.region(0, 16, true).expect("region");
        assert_eq!(r.start, m.addr());
        assert!(m.region(m.len(), 1, false).is_none());
    }

    #[test]
    fn window_blocks() {
        use apiary_vm::window::{Placement, Window};
        let low = Window::sandbox(1 << 22, Placement::Below4G).expect("low window");
        let mut m = LowMemory::in_window(&low, 5000).expect("block");
        assert!(low.contains(m.addr(), m.len() as u64));
        assert!(m.write(0, &[1, 2]));
        drop(m);
        assert_eq!(low.in_use(), 0, "returned to the window");
        let high = Window::sandbox(1 << 22, Placement::Anywhere).expect("window");
        if high.base() >= 1 << 32 {
            assert!(LowMemory::in_window(&high, 10).is_err());
        }
    }
}
