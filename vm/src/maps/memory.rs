//! [`MapMemory`]: a zeroed, 8-byte-aligned allocation that never moves, shared by programs (raw
//! loads, stores and atomics through [`Region`]s) and the host (raw copies).

use std::alloc::{alloc_zeroed, dealloc, Layout};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use crate::memory::Region;

/// Alignment of map memory: every value starts 8-aligned, so 8-byte atomics work on it.
const ALIGN: usize = 8;

/// A fixed block of map memory.
///
/// All access goes through raw pointers (never Rust references to the bytes), because programs
/// on other threads may read and write the same bytes at the same time, as on Linux.
#[derive(Debug)]
pub struct MapMemory {
    ptr: NonNull<u8>,
    len: usize,
    layout: Layout,
}

// SAFETY: the memory is a plain byte block owned by this value; every access is a raw copy or a
// host atomic through `&self`, with the same (racy, tearing) semantics as eBPF map memory shared
// between CPUs. No Rust reference to the bytes is ever created.
unsafe impl Send for MapMemory {}
// SAFETY: as for `Send`.
unsafe impl Sync for MapMemory {}

/// A failed map memory allocation: `bytes` could not be allocated (or overflow a layout).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("cannot allocate {bytes} bytes of map memory")]
pub struct AllocError {
    /// The size asked.
    pub bytes: usize,
}

impl MapMemory {
    /// `len` zeroed bytes (at least one 8-byte word is allocated).
    ///
    /// The block comes from `alloc_zeroed` (`calloc`): large blocks are fresh anonymous
    /// mappings, so the OS commits their pages only when they are touched, and a large map
    /// costs resident memory only as it is used. Callers bound `len` beforehand
    /// ([`crate::limits::Limits`]); a failure is still an error, never an abort.
    ///
    /// # Errors
    /// [`AllocError`] when `len` overflows a layout or the allocation fails.
    pub fn zeroed(len: usize) -> Result<Self, AllocError> {
        let err = AllocError { bytes: len };
        let size = len.max(ALIGN).checked_next_multiple_of(ALIGN).ok_or(err)?;
        let layout = Layout::from_size_align(size, ALIGN).map_err(|_| err)?;
        // SAFETY: `layout` has a non-zero size.
        let raw = unsafe { alloc_zeroed(layout) };
        let ptr = NonNull::new(raw).ok_or(err)?;
        Ok(Self { ptr, len, layout })
    }

    /// Length in bytes.
    #[must_use]
    pub const fn len(&self) -> usize {
        self.len
    }

    /// Whether the block is empty.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Host address of byte `offset`.
    #[must_use]
    pub fn addr(&self, offset: usize) -> u64 {
        self.ptr.as_ptr() as u64 + offset as u64
    }

    /// The whole block as a region (writable or read-only for programs).
    #[must_use]
    pub fn region(&self, writable: bool) -> Region {
        // SAFETY: the block is live until `self` drops, never moves, and is only accessed through
        // raw pointers; the owner of the map keeps it alive for as long as the environment that
        // holds this region (see `crate::maps`).
        unsafe { Region::from_raw(self.addr(0), self.len as u64, writable) }
    }

    fn check(&self, offset: usize, len: usize) {
        assert!(
            offset.checked_add(len).is_some_and(|end| end <= self.len),
            "map memory access {offset}+{len} outside {} bytes",
            self.len
        );
    }

    /// Copies `out.len()` bytes from `offset` into `out`.
    pub fn read(&self, offset: usize, out: &mut [u8]) {
        self.check(offset, out.len());
        // SAFETY: `[offset, offset + len)` is inside the block (checked); `out` is a distinct Rust
        // buffer, so the ranges do not overlap.
        unsafe {
            std::ptr::copy_nonoverlapping(
                self.ptr.as_ptr().add(offset),
                out.as_mut_ptr(),
                out.len(),
            );
        }
    }

    /// Copies `data` into the block at `offset`.
    pub fn write(&self, offset: usize, data: &[u8]) {
        self.check(offset, data.len());
        // SAFETY: `[offset, offset + len)` is inside the block (checked). `data` may alias the
        // block (a program passing a pointer into the same map), so `copy` (memmove) is used.
        unsafe {
            std::ptr::copy(data.as_ptr(), self.ptr.as_ptr().add(offset), data.len());
        }
    }

    /// Zeroes `len` bytes at `offset`.
    pub fn zero(&self, offset: usize, len: usize) {
        self.check(offset, len);
        // SAFETY: inside the block (checked).
        unsafe {
            std::ptr::write_bytes(self.ptr.as_ptr().add(offset), 0, len);
        }
    }

    /// Copies `len` bytes at `offset` into a new vector.
    #[must_use]
    pub fn to_vec(&self, offset: usize, len: usize) -> Vec<u8> {
        let mut v = vec![0; len];
        self.read(offset, &mut v);
        v
    }

    /// The 4-aligned u32 at `offset` as an atomic.
    ///
    /// # Panics
    /// When `offset` is out of bounds or not 4-aligned.
    pub fn atomic_u32(&self, offset: usize) -> &AtomicU32 {
        self.check(offset, 4);
        assert!(offset & 3 == 0, "misaligned atomic");
        // SAFETY: in bounds and 4-aligned (the block is 8-aligned); the bytes are only accessed
        // through raw pointers or atomics, and live as long as `&self`.
        unsafe { AtomicU32::from_ptr(self.ptr.as_ptr().add(offset).cast()) }
    }

    /// The 8-aligned u64 at `offset` as an atomic.
    ///
    /// # Panics
    /// When `offset` is out of bounds or not 8-aligned.
    pub fn atomic_u64(&self, offset: usize) -> &AtomicU64 {
        self.check(offset, 8);
        assert!(offset & 7 == 0, "misaligned atomic");
        // SAFETY: in bounds and 8-aligned; as for `atomic_u32`.
        unsafe { AtomicU64::from_ptr(self.ptr.as_ptr().add(offset).cast()) }
    }

    /// Loads the u32 at `offset` (acquire).
    pub(crate) fn load_u32(&self, offset: usize) -> u32 {
        self.atomic_u32(offset).load(Ordering::Acquire)
    }
}

impl Drop for MapMemory {
    fn drop(&mut self) {
        // SAFETY: allocated in `zeroed` with exactly this layout, freed once.
        unsafe { dealloc(self.ptr.as_ptr(), self.layout) }
    }
}
