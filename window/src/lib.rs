//! apiary-window: one reserved, power-of-two-sized, size-aligned range of virtual memory that
//! holds everything a sandboxed eBPF program can reach (stacks, inputs, contexts, packets, map
//! storage, global data), so that an address confined to it (`base | (addr & mask)`, see
//! [`Window::confine`]) can never name host memory outside it.
//!
//! Why a separate crate: this is the one place that maps, protects and unmaps the window, so its
//! unsafe code (the `mmap`/`mprotect`/`madvise`/`munmap` calls) is small and reviewable on its
//! own, and every layer that allocates guest memory (the vm's maps and stacks, the facade's
//! packet buffer) depends on it without depending on each other.
//!
//! # Layout and policy
//! A window is `size` bytes (a power of two), aligned to `size`, so `mask = size - 1` and the
//! confinement is two instructions (and, or). Regions are placed by [`Window::alloc`] at
//! [`GRAIN`]-aligned offsets with at least one [`GRAIN`] gap (the guard) before and after each.
//!
//! Two commit policies ([`Commit`]):
//! - [`Commit::OnDemand`]: the range is reserved `PROT_NONE`; allocations are committed
//!   read-write (`mprotect`) and decommitted on free (`madvise(MADV_DONTNEED)` + `PROT_NONE`).
//!   Guard pages fault. For embedders that want guard pages to trap.
//! - [`Commit::ReadZero`] (what the sandbox uses): the whole range is mapped read-write with
//!   `MAP_NORESERVE`, so *every* confined address is accessible and never faults: a wrong
//!   access lands in a gap (zero pages, committed by the OS only if touched) or in another region
//!   of the same window. Freed regions are returned to the OS with `MADV_DONTNEED` (reads give
//!   zeros again). Guards then separate regions (a small overrun lands in a gap, not in the next
//!   region) without trapping. Resident memory stays what is touched.
//!
//! # Unsafe contract
//! - The window's memory is owned by the [`Window`] and, when the last `Arc` to it drops, reset
//!   to fresh zero pages and kept for a later window of the same kind or unmapped (see `pool`:
//!   a reused range is what keeps qemu-user's memory bounded); every [`Allocation`] holds an `Arc<Window>`, so an allocation's bytes are mapped for
//!   as long as the allocation lives.
//! - Bytes of an allocation are *guest memory*: programs (on any thread) may read and write
//!   them through raw machine accesses. This crate never forms a Rust reference to window memory;
//!   callers must follow the same rule (the vm accesses guest memory only through its `racy`
//!   module) unless they own the allocation exclusively (a run's stack and input).
//! - A freed allocation's range may be handed out again; stale addresses a program kept still
//!   point into the window (that is the point of the window: no use-after-free can leave it).

use std::io;
use std::ptr::NonNull;
use std::sync::{Arc, Mutex};

/// Granule of placement and of guards: 64 KiB covers 4 KiB, 16 KiB and 64 KiB pages.
pub const GRAIN: usize = 64 * 1024;

/// Bytes mapped past the window's end, with the window's protection: a confined address is at
/// most `base + size - 1`, and an access of up to 8 bytes there runs up to 7 bytes beyond the
/// end, which must still be this window's memory (never another mapping).
pub const TAIL: usize = GRAIN;

/// Smallest window: one grain for a region plus its guards.
pub const MIN_SIZE: usize = 4 * GRAIN;

/// Where the window may lie.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// Anywhere in the address space.
    Anywhere,
    /// Wholly below 4 GiB (for objects whose contexts hold 32-bit packet addresses:
    /// `__sk_buff` and `xdp_md` `data*` fields). At most 2 GiB.
    Below4G,
}

/// How the window's pages are made accessible (see the crate documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Commit {
    /// Reserved `PROT_NONE`; allocations committed read-write on demand; guards fault.
    OnDemand,
    /// Everything read-write (`MAP_NORESERVE`); no confined access ever faults.
    ReadZero,
}

/// The window's free space: a bump pointer and freed blocks (reused first fit, not split).
#[derive(Debug)]
struct Space {
    next: usize,
    free: Vec<(usize, usize)>,
    in_use: usize,
}

/// A reserved window (see the crate documentation). Reset and kept for reuse, or unmapped, on
/// drop.
#[derive(Debug)]
pub struct Window {
    base: NonNull<u8>,
    size: usize,
    placement: Placement,
    commit: Commit,
    space: Mutex<Space>,
}

// SAFETY: the window is a plain mapping owned by this value; its allocator state is behind a
// mutex, and its bytes are never accessed through references here (see the crate contract).
unsafe impl Send for Window {}
// SAFETY: as for `Send`: `&Window` exposes only addresses and the mutex-guarded allocator.
unsafe impl Sync for Window {}

/// The window has no room for an allocation of `len` bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WindowFull {
    /// Bytes asked.
    pub len: usize,
    /// The window's size.
    pub size: usize,
}

impl std::fmt::Display for WindowFull {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "no room for {} bytes in a sandbox window of {} bytes",
            self.len, self.size
        )
    }
}

impl std::error::Error for WindowFull {}

/// The smallest power-of-two window size (at least [`MIN_SIZE`]) holding regions of `lens`
/// bytes each with its guards, plus `spare` more bytes; `None` on overflow.
#[must_use]
pub fn size_for(lens: impl IntoIterator<Item = usize>, spare: usize) -> Option<usize> {
    let mut total = GRAIN; // the leading guard
    for len in lens {
        total = total.checked_add(len.max(1).checked_next_multiple_of(GRAIN)?)?;
        total = total.checked_add(GRAIN)?;
    }
    total
        .checked_add(spare)?
        .max(MIN_SIZE)
        .checked_next_power_of_two()
}

impl Window {
    /// Reserves a window of at least `size` bytes (rounded up to a power of two, at least
    /// [`MIN_SIZE`]), aligned to its size, placed and committed as asked.
    ///
    /// # Errors
    /// The `mmap` error; [`io::ErrorKind::InvalidInput`] for sizes that overflow or do not fit
    /// the placement; [`io::ErrorKind::OutOfMemory`] when no aligned low range was free.
    pub fn new(size: usize, placement: Placement, commit: Commit) -> io::Result<Arc<Self>> {
        let size = size
            .max(MIN_SIZE)
            .checked_next_power_of_two()
            .ok_or_else(|| invalid("window size overflows"))?;
        let mapped = size
            .checked_add(TAIL)
            .ok_or_else(|| invalid("window size overflows"))?;
        let base = match pool::take(size, placement, commit) {
            Some(base) => base,
            None => {
                let prot = prot_of(commit);
                match placement {
                    Placement::Anywhere => map_aligned(size, mapped, prot)?,
                    Placement::Below4G => map_low(size, mapped, prot)?,
                }
            }
        };
        Ok(Arc::new(Self {
            base,
            size,
            placement,
            commit,
            space: Mutex::new(Space {
                next: GRAIN,
                free: Vec::new(),
                in_use: 0,
            }),
        }))
    }

    /// A sandbox window: [`Commit::ReadZero`], so confined accesses never fault.
    ///
    /// # Errors
    /// As [`Window::new`].
    pub fn sandbox(size: usize, placement: Placement) -> io::Result<Arc<Self>> {
        Self::new(size, placement, Commit::ReadZero)
    }

    /// Address of the first byte (a multiple of [`Window::size`]).
    #[must_use]
    #[inline]
    pub fn base(&self) -> u64 {
        self.base.as_ptr() as u64
    }

    /// Size in bytes (a power of two).
    #[must_use]
    pub const fn size(&self) -> usize {
        self.size
    }

    /// `size - 1`: the bits of an address that select a byte inside the window.
    #[must_use]
    pub const fn mask(&self) -> u64 {
        self.size as u64 - 1
    }

    /// The commit policy.
    #[must_use]
    pub const fn commit_policy(&self) -> Commit {
        self.commit
    }

    /// `addr` confined to the window: `base + ((addr - base) & mask)`, which for a size-aligned
    /// base is `base | (addr & mask)`. Identity for addresses inside the window.
    #[inline(always)]
    #[must_use]
    pub fn confine(&self, addr: u64) -> u64 {
        confine(self.base(), self.mask(), addr)
    }

    /// Whether `[addr, addr + len)` lies inside the window (overflow-free).
    #[must_use]
    #[inline]
    pub fn contains(&self, addr: u64, len: u64) -> bool {
        let base = self.base();
        addr >= base && len <= self.size as u64 && addr - base <= self.size as u64 - len
    }

    /// Bytes currently allocated (rounded to grains).
    #[must_use]
    pub fn in_use(&self) -> usize {
        self.lock().in_use
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Space> {
        // A poisoned lock only means a panic elsewhere while holding it; the state is a few
        // integers, always consistent between statements.
        self.space
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Allocates `len` zeroed bytes (at least one byte; [`GRAIN`]-aligned, with guards around),
    /// committed read-write.
    ///
    /// # Errors
    /// [`WindowFull`] when no room is left (the window never grows: its base and mask may be
    /// compiled into code).
    pub fn alloc(self: &Arc<Self>, len: usize) -> Result<Allocation, WindowFull> {
        let full = WindowFull {
            len,
            size: self.size,
        };
        let rounded = len.max(1).checked_next_multiple_of(GRAIN).ok_or(full)?;
        let offset = {
            let mut space = self.lock();
            let reuse = space.free.iter().position(|&(_, l)| l >= rounded);
            let (offset, taken) = if let Some(i) = reuse {
                space.free.swap_remove(i)
            } else {
                let offset = space.next;
                // Region, then its trailing guard (the next region's leading one).
                let end = offset
                    .checked_add(rounded)
                    .and_then(|e| e.checked_add(GRAIN))
                    .filter(|&e| e <= self.size)
                    .ok_or(full)?;
                space.next = end;
                (offset, rounded)
            };
            space.in_use += taken;
            (offset, taken)
        };
        let (offset, taken) = offset;
        if self.commit == Commit::OnDemand {
            // SAFETY: `[offset, offset + taken)` is inside the window's mapping, owned by no
            // other allocation (the allocator handed it out just now).
            let rc = unsafe {
                libc::mprotect(
                    self.base.as_ptr().add(offset).cast(),
                    taken,
                    libc::PROT_READ | libc::PROT_WRITE,
                )
            };
            if rc != 0 {
                self.release(offset, taken);
                return Err(full);
            }
        }
        Ok(Allocation {
            window: Arc::clone(self),
            offset,
            len,
            taken,
        })
    }

    /// Returns `[offset, offset + taken)` to the OS (zero again) and to the free list.
    fn release(&self, offset: usize, taken: usize) {
        // SAFETY: the range is inside the window's mapping and belongs to a dropped allocation,
        // which nothing accesses any more (stale guest pointers may, but only as raw accesses
        // into still-mapped memory).
        unsafe {
            let p = self.base.as_ptr().add(offset).cast();
            libc::madvise(p, taken, libc::MADV_DONTNEED);
            if self.commit == Commit::OnDemand {
                libc::mprotect(p, taken, libc::PROT_NONE);
            }
        }
        let mut space = self.lock();
        space.in_use -= taken;
        space.free.push((offset, taken));
    }
}

impl Drop for Window {
    fn drop(&mut self) {
        // No allocation outlives the window (each holds an `Arc` to it) and no prepared code
        // does (it holds one too), so nothing refers to its memory any more: it is reset to
        // fresh zero pages and kept for the next window of its kind, or unmapped.
        pool::give(self.base, self.size, self.placement, self.commit);
    }
}

fn prot_of(commit: Commit) -> libc::c_int {
    match commit {
        Commit::OnDemand => libc::PROT_NONE,
        Commit::ReadZero => libc::PROT_READ | libc::PROT_WRITE,
    }
}

/// Reservations of dropped windows, reset and kept for reuse.
///
/// Why: a fresh reservation per window is what made qemu-user (the arm64 CI) grow without
/// bound. qemu-user keeps per-target-page bookkeeping for every guest page it has ever mapped
/// and places each new guest mapping at a new address (its own `mmap_next_start`), so each
/// 64 MiB private window cost ~770 KiB of emulator memory that was never given back (measured:
/// 2,000 windows made and dropped, +1.5 GB resident under qemu-aarch64 7.2, +0 natively;
/// `tests/resident.rs`). Reusing the same address ranges keeps that bookkeeping bounded on every
/// host, and saves the kernel the over-map-and-trim of an aligned reservation natively.
///
/// A reservation is reset by mapping fresh anonymous memory over the whole of it
/// (`mmap(MAP_FIXED)`): every page the dropped window's programs touched (anywhere in it, not
/// only in its allocations: a wrong proof may write a gap) is returned to the OS and reads zero
/// again, protections and VMAs split by on-demand commits are undone in the same call, and no
/// window ever sees a previous one's bytes. At most [`pool::KEEP`] reservations and
/// [`pool::KEEP_BYTES`] of address space are kept; the rest are unmapped.
mod pool {
    use super::{flags, prot_of, Commit, NonNull, Placement, TAIL};
    use std::sync::Mutex;

    /// Most reservations kept (virtual address space only: their pages are returned).
    pub const KEEP: usize = 256;
    /// Most bytes of (virtual) address space kept.
    pub const KEEP_BYTES: usize = 1 << 36;

    struct Kept {
        base: usize,
        size: usize,
        placement: Placement,
        commit: Commit,
    }

    static KEPT: Mutex<Vec<Kept>> = Mutex::new(Vec::new());

    fn kept() -> std::sync::MutexGuard<'static, Vec<Kept>> {
        // A poisoned lock only means a panic elsewhere while holding it; the list is always
        // consistent between statements.
        KEPT.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A kept reservation of exactly this kind (already reset), if any.
    pub fn take(size: usize, placement: Placement, commit: Commit) -> Option<NonNull<u8>> {
        let mut kept = kept();
        let i = kept
            .iter()
            .rposition(|k| k.size == size && k.placement == placement && k.commit == commit)?;
        NonNull::new(kept.swap_remove(i).base as *mut u8)
    }

    /// Resets a dropped window's reservation and keeps it, or unmaps it.
    pub fn give(base: NonNull<u8>, size: usize, placement: Placement, commit: Commit) {
        let mapped = size + TAIL;
        let p = base.as_ptr().cast::<libc::c_void>();
        let mut kept = kept();
        let bytes: usize = kept.iter().map(|k| k.size).sum();
        if kept.len() < KEEP && bytes.saturating_add(size) <= KEEP_BYTES {
            // SAFETY: `[base, base + mapped)` is exactly the reservation of the dropped window,
            // owned by it alone and referred to by nothing any more (see `Window`'s `Drop`);
            // `MAP_FIXED` replaces only that range.
            let q =
                unsafe { libc::mmap(p, mapped, prot_of(commit), flags() | libc::MAP_FIXED, -1, 0) };
            if q == p {
                kept.push(Kept {
                    base: base.as_ptr() as usize,
                    size,
                    placement,
                    commit,
                });
                return;
            }
            // A failed `MAP_FIXED` may have unmapped the range already, and another thread may
            // have mapped something there since: unmapping it now could hit that mapping. The
            // range (virtual, `MAP_NORESERVE`) is left as it is, neither kept nor unmapped.
            return;
        }
        drop(kept);
        // SAFETY: as above; the range is given back to the OS.
        unsafe {
            libc::munmap(p, mapped);
        }
    }

    /// Reservations currently kept (for tests).
    pub fn len() -> usize {
        kept().len()
    }
}

/// How many dropped windows' reservations are kept for reuse now (at most 256): tests and
/// embedders measuring memory can tell kept address space from a leak.
#[must_use]
pub fn kept_reservations() -> usize {
    pool::len()
}

/// `base + ((addr - base) & mask)` for a `mask + 1`-aligned `base`: `base | (addr & mask)`.
#[inline(always)]
#[must_use]
pub const fn confine(base: u64, mask: u64, addr: u64) -> u64 {
    base | (addr & mask)
}

/// One region of a window: zeroed, committed read-write, [`GRAIN`]-aligned, with guards around.
/// Returned to the window (and its pages to the OS) on drop.
#[derive(Debug)]
pub struct Allocation {
    window: Arc<Window>,
    offset: usize,
    len: usize,
    taken: usize,
}

impl Allocation {
    /// Host address of the first byte.
    #[must_use]
    #[inline]
    pub fn addr(&self) -> u64 {
        self.window.base() + self.offset as u64
    }

    /// Pointer to the first byte (guest memory: see the crate's unsafe contract).
    #[must_use]
    pub fn ptr(&self) -> NonNull<u8> {
        // SAFETY: offset < size, so the pointer is inside the live mapping and non-null.
        unsafe { self.window.base.add(self.offset) }
    }

    /// Length asked for.
    #[must_use]
    pub const fn len(&self) -> usize {
        self.len
    }

    /// Whether zero bytes were asked for (one grain is still reserved).
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The window this allocation lies in.
    #[must_use]
    pub fn window(&self) -> &Arc<Window> {
        &self.window
    }
}

impl Drop for Allocation {
    fn drop(&mut self) {
        self.window.release(self.offset, self.taken);
    }
}

fn invalid(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg.to_owned())
}

fn flags() -> libc::c_int {
    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE
}

/// Maps `size + mapped`, keeps the `mapped` bytes from the first `size`-aligned address inside
/// it, unmaps the rest.
fn map_aligned(size: usize, mapped: usize, prot: libc::c_int) -> io::Result<NonNull<u8>> {
    let span = size
        .checked_add(mapped)
        .ok_or_else(|| invalid("window size overflows"))?;
    // SAFETY: a fresh anonymous mapping at a kernel-chosen address touches no existing memory.
    let p = unsafe { libc::mmap(std::ptr::null_mut(), span, prot, flags(), -1, 0) };
    if p == libc::MAP_FAILED {
        return Err(io::Error::last_os_error());
    }
    let start = p as usize;
    let aligned = start.next_multiple_of(size);
    let head = aligned - start;
    let tail = span - head - mapped;
    // SAFETY: both ranges are parts of the mapping just made, outside the kept window.
    unsafe {
        if head > 0 {
            libc::munmap(p, head);
        }
        if tail > 0 {
            libc::munmap((aligned + mapped) as *mut libc::c_void, tail);
        }
    }
    NonNull::new(aligned as *mut u8).ok_or_else(|| invalid("null window"))
}

/// Maps `mapped` bytes at a `size`-aligned address below 4 GiB (never at 0 and never replacing
/// a mapping: `MAP_FIXED_NOREPLACE`, and a result elsewhere is unmapped).
fn map_low(size: usize, mapped: usize, prot: libc::c_int) -> io::Result<NonNull<u8>> {
    const LIMIT: usize = 1 << 32;
    if size > LIMIT / 2 {
        return Err(invalid("a window below 4 GiB is at most 2 GiB"));
    }
    // From 256 MiB up (below that live non-PIE binaries and their heaps), then what is left.
    let first = (0x1000_0000usize).next_multiple_of(size);
    let hints = (first..LIMIT - mapped + 1)
        .step_by(size)
        .chain((size..first).step_by(size));
    for hint in hints {
        // SAFETY: `MAP_FIXED_NOREPLACE` never replaces an existing mapping.
        let p = unsafe {
            libc::mmap(
                hint as *mut libc::c_void,
                mapped,
                prot,
                flags() | libc::MAP_FIXED_NOREPLACE,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            continue;
        }
        if p as usize == hint {
            return NonNull::new(p.cast()).ok_or_else(|| invalid("null window"));
        }
        // An old kernel took the hint as a hint only: not ours to keep.
        // SAFETY: the mapping was just made by this call.
        unsafe { libc::munmap(p, mapped) };
    }
    Err(io::Error::new(
        io::ErrorKind::OutOfMemory,
        "no free aligned address range below 4 GiB for a sandbox window",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn poke(a: u64, v: u8) {
        // SAFETY: test addresses are inside a live read-write window.
        unsafe { std::ptr::write_volatile(a as *mut u8, v) }
    }

    fn peek(a: u64) -> u8 {
        // SAFETY: as for `poke`.
        unsafe { std::ptr::read_volatile(a as *const u8) }
    }

    #[test]
    fn aligned_confined_and_reused() {
        let w = Window::sandbox(1 << 20, Placement::Anywhere).expect("window");
        assert_eq!(w.size(), 1 << 20);
        assert_eq!(w.base() % (1 << 20), 0);
        for addr in [
            0u64,
            u64::MAX,
            0xdead_beef,
            w.base() - 1,
            w.base() + (5 << 20),
        ] {
            assert!(w.contains(w.confine(addr), 1), "{addr:#x}");
        }
        let a = w.alloc(100).expect("room");
        assert_eq!(w.confine(a.addr() + 5), a.addr() + 5, "identity inside");
        // The last confined address takes an 8-byte access (the tail).
        let last = w.confine(u64::MAX);
        assert_eq!(last, w.base() + w.size() as u64 - 1);
        // SAFETY: the tail is mapped read-write with the window.
        unsafe { std::ptr::write_unaligned(last as *mut u64, 5) };
        poke(a.addr() + 99, 7);
        assert_eq!(peek(a.addr() + 99), 7);
        // Gaps are readable (read-zero policy) and zero.
        assert_eq!(peek(a.addr() + GRAIN as u64 + 3), 0);
        let b = w.alloc(GRAIN + 1).expect("room");
        assert!(b.addr() >= a.addr() + 2 * GRAIN as u64, "a guard between");
        let at = a.addr();
        drop(a);
        let c = w.alloc(10).expect("room");
        assert_eq!(c.addr(), at, "freed blocks are reused");
        assert_eq!(peek(c.addr() + 99), 0, "and zero again");
        drop((b, c));
        assert_eq!(w.in_use(), 0);
    }

    /// A window made after another was dropped may reuse its range (the pool): it must read
    /// zero everywhere the old one was written, in allocations and in gaps, and keep the old
    /// one's kind (an on-demand window's gaps stay inaccessible, which this cannot probe, but
    /// its allocations must be committed again).
    #[test]
    fn reused_reservations_are_zero() {
        let mut seen = std::collections::HashSet::new();
        for round in 0..8 {
            let w = Window::sandbox(1 << 22, Placement::Anywhere).expect("window");
            let a = w.alloc(100).expect("room");
            for at in [
                a.addr(),
                a.addr() + 99,
                w.base() + (1 << 21),
                w.confine(u64::MAX),
            ] {
                assert_eq!(peek(at), 0, "round {round}: {at:#x} is zero");
                poke(at, 0xa5);
            }
            seen.insert(w.base());
        }
        assert!(seen.len() < 8, "dropped reservations are reused");
        for _ in 0..4 {
            let w = Window::new(1 << 22, Placement::Anywhere, Commit::OnDemand).expect("window");
            let a = w.alloc(10).expect("room");
            assert_eq!(peek(a.addr() + 9), 0);
            poke(a.addr() + 9, 1);
        }
    }

    #[test]
    fn full_windows_say_so() {
        let w = Window::sandbox(MIN_SIZE, Placement::Anywhere).expect("window");
        let _a = w.alloc(GRAIN).expect("one grain fits");
        let e = w.alloc(GRAIN).expect_err("no room for a second");
        assert_eq!(e.size, MIN_SIZE);
        assert!(w.alloc(usize::MAX).is_err());
    }

    #[test]
    fn low_windows_lie_below_4g() {
        let w = Window::sandbox(1 << 24, Placement::Below4G).expect("low window");
        assert!(w.base() + (w.size() + TAIL) as u64 <= 1 << 32);
        assert_eq!(w.base() % (1 << 24), 0);
        assert!(Window::sandbox(1 << 32, Placement::Below4G).is_err());
    }

    #[test]
    fn on_demand_commits_allocations() {
        let w = Window::new(1 << 20, Placement::Anywhere, Commit::OnDemand).expect("window");
        let a = w.alloc(10).expect("room");
        poke(a.addr() + 9, 1);
        assert_eq!(peek(a.addr() + 9), 1);
    }

    #[test]
    fn sizes() {
        assert_eq!(size_for([], 0), Some(MIN_SIZE));
        assert_eq!(size_for([1 << 20], 0), Some(2 << 20));
        assert_eq!(size_for([usize::MAX], 0), None);
    }
}
