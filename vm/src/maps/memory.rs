//! [`MapMemory`]: a zeroed, 8-byte-aligned allocation that never moves, shared by programs (raw
//! loads, stores and atomics through [`Region`]s) and the host (raw copies).

use std::alloc::{alloc_zeroed, dealloc, Layout};
use std::cell::RefCell;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;

use apiary_window::{Allocation, Window};

use crate::memory::Region;
use crate::racy;

/// Alignment of map memory: every value starts 8-aligned, so 8-byte atomics work on it.
const ALIGN: usize = 8;

/// A fixed block of map memory.
///
/// All access goes through raw pointers with atomic accesses (never Rust references to the
/// bytes, never non-atomic accesses), because programs on other threads may read and write the
/// same bytes at the same time, as on Linux: see [`crate::racy`].
#[derive(Debug)]
pub struct MapMemory {
    ptr: NonNull<u8>,
    len: usize,
    backing: Backing,
}

/// Where a block came from: the heap, or a sandbox window ([`crate::maps::MapOptions::window`]).
#[derive(Debug)]
enum Backing {
    Heap(Layout),
    /// Returned to its window (pages to the OS) when dropped.
    Window(#[allow(dead_code)] Allocation),
}

thread_local! {
    /// The window maps being created on this thread allocate from ([`with_source`]).
    static SOURCE: RefCell<Option<Arc<Window>>> = const { RefCell::new(None) };
}

/// Runs `f` (which creates maps) with `window` as the allocation source of every
/// [`MapMemory::zeroed`] it makes. Scoped per thread so that map constructors keep their
/// signatures; [`crate::maps::MapTable`] and [`crate::maps::create_map`] set it from
/// [`crate::maps::MapOptions::window`].
pub(crate) fn with_source<R>(window: Option<&Arc<Window>>, f: impl FnOnce() -> R) -> R {
    let old = SOURCE.with(|s| s.replace(window.cloned()));
    let out = f();
    SOURCE.with(|s| *s.borrow_mut() = old);
    out
}

// SAFETY: the memory is a plain byte block owned by this value. Every access through `&self` is
// made of atomics: racy-tolerant copies (`crate::racy`, relaxed atomic loads and stores, which
// may tear as eBPF map memory shared between CPUs does) or the `atomic_u32` / `atomic_u64`
// cells. No Rust reference to the bytes and no non-atomic access to them is ever created, so
// threads sharing the block (hosts, and programs on other threads, whose engines access it the
// same way) never race in the Rust memory model's sense.
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
        if let Some(window) = SOURCE.with(|s| s.borrow().clone()) {
            return Self::in_window(&window, len);
        }
        let size = len.max(ALIGN).checked_next_multiple_of(ALIGN).ok_or(err)?;
        let layout = Layout::from_size_align(size, ALIGN).map_err(|_| err)?;
        // SAFETY: `layout` has a non-zero size.
        let raw = unsafe { alloc_zeroed(layout) };
        let ptr = NonNull::new(raw).ok_or(err)?;
        Ok(Self {
            ptr,
            len,
            backing: Backing::Heap(layout),
        })
    }

    /// `len` zeroed bytes in `window` (committed, with guards around: see `apiary_window`).
    ///
    /// # Errors
    /// [`AllocError`] when the window has no room left.
    pub fn in_window(window: &Arc<Window>, len: usize) -> Result<Self, AllocError> {
        let a = window.alloc(len).map_err(|_| AllocError { bytes: len })?;
        Ok(Self {
            ptr: a.ptr(),
            len,
            backing: Backing::Window(a),
        })
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

    /// Copies `out.len()` bytes from `offset` into `out` (a racy-tolerant copy: bytes that
    /// programs write meanwhile may tear, see [`crate::racy`]).
    pub fn read(&self, offset: usize, out: &mut [u8]) {
        self.check(offset, out.len());
        // SAFETY: `[offset, offset + len)` is inside the live block (checked), which is only
        // ever accessed through raw pointers and atomics; `out` is a host buffer (it cannot point
        // into the block: no Rust reference to the block's bytes exists).
        unsafe { racy::copy_from_guest(self.ptr.as_ptr().add(offset), out) }
    }

    /// Copies `data` into the block at `offset` (racy-tolerant, see [`crate::racy`]). `data` is
    /// a host buffer: a program's bytes are first copied out of guest memory (helpers do so
    /// through [`crate::HelperContext`]).
    pub fn write(&self, offset: usize, data: &[u8]) {
        self.check(offset, data.len());
        // SAFETY: `[offset, offset + len)` is inside the live block (checked), only accessed
        // through raw pointers and atomics; `data` is a host buffer.
        unsafe { racy::copy_to_guest(data, self.ptr.as_ptr().add(offset)) }
    }

    /// Zeroes `len` bytes at `offset` (racy-tolerant).
    pub fn zero(&self, offset: usize, len: usize) {
        self.check(offset, len);
        // SAFETY: inside the live block (checked), only accessed through raw pointers and
        // atomics.
        unsafe { racy::fill_guest(self.ptr.as_ptr().add(offset), 0, len) }
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
        // through atomics (never non-atomic accesses or references), and live as long as `&self`.
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
        if let Backing::Heap(layout) = self.backing {
            // SAFETY: allocated in `zeroed` with exactly this layout, freed once.
            unsafe { dealloc(self.ptr.as_ptr(), layout) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_zeroes_and_atomics() {
        let m = MapMemory::zeroed(20).expect("20 bytes");
        assert_eq!(m.len(), 20);
        assert_eq!(m.to_vec(0, 20), vec![0; 20]);
        m.write(3, &[1, 2, 3, 4, 5, 6, 7, 8, 9]);
        assert_eq!(m.to_vec(2, 11), vec![0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0]);
        m.zero(5, 2);
        assert_eq!(m.to_vec(2, 11), vec![0, 1, 2, 0, 0, 5, 6, 7, 8, 9, 0]);
        m.atomic_u64(8).store(0, Ordering::Relaxed);
        assert_eq!(m.atomic_u64(8).fetch_add(5, Ordering::Relaxed), 0);
        assert_eq!(m.to_vec(8, 8), 5u64.to_ne_bytes());
        m.atomic_u32(16).store(7, Ordering::Release);
        assert_eq!(m.load_u32(16), 7);
    }

    #[test]
    #[should_panic(expected = "outside")]
    fn out_of_bounds_copies_panic() {
        let m = MapMemory::zeroed(8).expect("8 bytes");
        m.write(5, &[0; 4]);
    }

    #[test]
    #[cfg_attr(
        miri,
        ignore = "Miri's mmap takes only MAP_PRIVATE|MAP_ANONYMOUS; a window also reserves with MAP_NORESERVE"
    )]
    fn window_source() {
        let w = Window::sandbox(1 << 20, apiary_window::Placement::Anywhere).expect("window");
        let m = with_source(Some(&w), || MapMemory::zeroed(100)).expect("room");
        assert!(w.contains(m.addr(0), 100));
        m.write(0, &[9; 100]);
        assert_eq!(m.to_vec(98, 2), vec![9, 9]);
        let h = MapMemory::zeroed(8).expect("heap");
        assert!(!w.contains(h.addr(0), 8), "the source is scoped");
        drop(m);
        assert_eq!(w.in_use(), 0);
    }

    /// Host copies and atomics from several threads at once: no data race (Miri checks), and
    /// the counter is exact.
    #[test]
    fn shared_between_threads() {
        let rounds: u64 = if cfg!(miri) { 10 } else { 10_000 };
        let m = MapMemory::zeroed(64).expect("64 bytes");
        std::thread::scope(|s| {
            for t in 0..3u8 {
                let m = &m;
                s.spawn(move || {
                    let mut buf = [0u8; 16];
                    for _ in 0..rounds {
                        m.write(16 + 16 * usize::from(t), &[t + 1; 16]);
                        m.read(16, &mut buf);
                        m.atomic_u64(0).fetch_add(1, Ordering::Relaxed);
                    }
                });
            }
        });
        assert_eq!(m.atomic_u64(0).load(Ordering::Relaxed), 3 * rounds);
        assert_eq!(m.to_vec(16, 48), [[1; 16], [2; 16], [3; 16]].concat());
    }
}
