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
//!
//! Region memory is *guest memory*: map regions are shared by every run of every thread, so
//! the host side (the interpreter's loads and stores, helpers through
//! [`crate::HelperContext`], maps) accesses it only with the racy-tolerant atomic accesses of
//! [`crate::racy`], never through references or non-atomic accesses.

use std::cell::Cell;
use std::sync::Arc;

use apiary_window::{Allocation, Window, WindowFull};

use crate::fault::{Access, HelperError};
use crate::packet::{FrameLayout, PacketFrame};

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
    ///
    /// Written as "the offset is inside, and at least `len` bytes remain after it" so that no
    /// term depends on `len` and the region alone: a run loop checking accesses of four sizes
    /// would otherwise have `self.len - len` hoisted, four values per region spilled and
    /// reloaded at every run's start (the interpreter's per-call cost).
    #[inline(always)]
    #[must_use]
    pub const fn contains(&self, addr: u64, len: u64) -> bool {
        addr >= self.start && {
            let off = addr - self.start;
            off <= self.len && self.len - off >= len
        }
    }
}

/// Where verified code's unchecked accesses are confined (sandboxed verified mode): every proven
/// load, store and atomic goes to `base | (addr & mask)`, which is `addr` itself for addresses
/// inside the window and some address inside it otherwise. [`Confinement::NONE`] (base 0, all
/// bits) is the identity: unsandboxed verified mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Confinement {
    /// The window's base (a multiple of `mask + 1`).
    pub base: u64,
    /// The window's size less one (a power of two less one).
    pub mask: u64,
}

impl Confinement {
    /// No confinement (the identity).
    pub const NONE: Self = Self {
        base: 0,
        mask: u64::MAX,
    };

    /// Confinement to `window`.
    #[must_use]
    pub fn window(window: &Window) -> Self {
        Self {
            base: window.base(),
            mask: window.mask(),
        }
    }

    /// Whether this is the identity.
    #[must_use]
    pub const fn is_none(&self) -> bool {
        self.base == 0 && self.mask == u64::MAX
    }

    /// `addr` confined.
    #[inline(always)]
    #[must_use]
    pub const fn apply(&self, addr: u64) -> u64 {
        self.base | (addr & self.mask)
    }
}

/// The 16-byte-aligned stack memory of one run: [`MAX_FRAMES`] frames of [`FRAME_SIZE`] bytes.
#[repr(C, align(16))]
#[derive(Debug)]
pub struct StackMemory(pub [u8; STACK_SIZE]);

/// Linux `MAX_TAIL_CALL_CNT`: at most this many tail calls in one chain; the next one fails and
/// the program continues.
pub const MAX_TAIL_CALLS: u32 = 33;

/// Per-run control cells shared between an engine's run, the helpers it calls, and a driver
/// that chains runs (tail calls, see [`crate::ProgramSet`]).
///
/// It lives in [`ExecState`]; an engine that builds its [`RegionTable`] with
/// [`RegionTable::with_control`] makes it reachable from [`crate::HelperContext::control`].
/// Everything is a [`Cell`]: a run is single-threaded, and helpers only hold `&RunControl`.
#[derive(Debug, Default)]
pub struct RunControl {
    slot: Cell<u32>,
    tail_call: Cell<Option<u32>>,
    tail_calls: Cell<u32>,
    programs: Cell<u32>,
    frame: PacketFrame,
}

impl RunControl {
    /// The worker slot of the run (the "CPU" of per-CPU maps and `bpf_get_smp_processor_id`).
    #[must_use]
    pub fn slot(&self) -> u32 {
        self.slot.get()
    }

    /// Sets the worker slot.
    pub fn set_slot(&self, slot: u32) {
        self.slot.set(slot);
    }

    /// The tail call a helper requested (a program index), if any.
    #[must_use]
    pub fn pending_tail_call(&self) -> Option<u32> {
        self.tail_call.get()
    }

    /// Takes the pending tail call, leaving none.
    pub fn take_tail_call(&self) -> Option<u32> {
        self.tail_call.take()
    }

    /// Records a tail call to program `target` (called by the `bpf_tail_call` helper, which then
    /// stops the run) and counts it.
    pub fn request_tail_call(&self, target: u32) {
        self.tail_call.set(Some(target));
        self.tail_calls.set(self.tail_calls.get().saturating_add(1));
    }

    /// Tail calls taken so far in the current chain.
    #[must_use]
    pub fn tail_calls(&self) -> u32 {
        self.tail_calls.get()
    }

    /// Number of programs a tail call may name (set by the driver running a chain; 0 outside
    /// one, so that every tail call fails and the program continues).
    #[must_use]
    pub fn programs(&self) -> u32 {
        self.programs.get()
    }

    /// Starts a new chain: no pending call, count 0, `programs` callable programs.
    pub fn begin_chain(&self, programs: u32) {
        self.tail_call.set(None);
        self.tail_calls.set(0);
        self.programs.set(programs);
    }

    /// Ends a chain: no pending call, no callable programs.
    pub fn end_chain(&self) {
        self.tail_call.set(None);
        self.programs.set(0);
    }

    /// The run's packet frame (packet helpers move it; checked accesses follow its end).
    #[must_use]
    pub const fn frame(&self) -> &PacketFrame {
        &self.frame
    }
}

/// Tag of code addresses (`lddw` src 4) in engines that support callbacks: the value a program
/// holds is `CODE_ADDRESS_TAG | pc` of the function's first slot.
pub const CODE_ADDRESS_TAG: u64 = 0xC0DE_0000_0000_0000;

/// The code address of the function starting at slot `pc`.
#[must_use]
pub const fn code_address(pc: usize) -> u64 {
    CODE_ADDRESS_TAG | (pc as u64 & 0xFFFF_FFFF)
}

/// The slot a code address names, if `value` is one (not validated against a program).
#[must_use]
pub const fn code_target(value: u64) -> Option<usize> {
    if value & !0xFFFF_FFFF == CODE_ADDRESS_TAG {
        Some((value & 0xFFFF_FFFF) as usize)
    } else {
        None
    }
}

/// An engine's way to run one of the program's functions from inside a helper (callbacks of
/// `bpf_loop`, `bpf_for_each_map_elem`). Installed in the [`RegionTable`] by engines that
/// support it ([`RegionTable::with_caller`]).
pub trait FunctionCaller {
    /// The frame pointer (r10) the next called function gets: one frame below the caller's.
    fn next_frame(&self) -> u64;

    /// Runs the function at code address `code` (see [`code_address`]) with r1–r5 = `args` on
    /// a new frame, and returns its r0.
    ///
    /// # Errors
    /// [`HelperError::InvalidArgument`] when `code` is not a function start; otherwise
    /// [`HelperError::CallbackFailed`] when the function faulted (the engine reports that fault
    /// as the run's).
    fn call_function(
        &self,
        regions: &RegionTable<'_>,
        code: u64,
        args: [u64; 5],
    ) -> Result<u64, HelperError>;
}

/// Reusable per-thread state for runs: the stack and the run's control cells. Reusing it avoids
/// an allocation and a clear per run; a run may observe bytes left by an earlier run of the same
/// state (as on Linux, the stack is not cleared between runs, but it always holds initialised
/// bytes).
#[derive(Debug)]
pub struct ExecState {
    stack: Stack,
    control: RunControl,
    packet: Option<Region>,
    /// A sandboxed run's copy of an input that lies outside its window (see
    /// [`ExecState::window_input`]).
    input: Option<Allocation>,
}

/// Where a state's stack lives: the heap, or a sandbox window (sandboxed verified mode, whose
/// confined accesses must reach the stack).
#[derive(Debug)]
enum Stack {
    Heap(Box<StackMemory>),
    Window(Allocation),
}

impl Stack {
    #[inline]
    fn start(&self) -> u64 {
        match self {
            Stack::Heap(b) => b.0.as_ptr() as u64,
            Stack::Window(a) => a.addr(),
        }
    }

    fn region(&mut self) -> Region {
        match self {
            Stack::Heap(b) => Region::writable(&mut b.0),
            // SAFETY: the allocation is `STACK_SIZE` committed bytes of a live window, owned by
            // this state (exclusively borrowed here) and alive as long as it is.
            Stack::Window(a) => unsafe { Region::from_raw(a.addr(), STACK_SIZE as u64, true) },
        }
    }
}

impl Default for ExecState {
    fn default() -> Self {
        Self::new()
    }
}

impl ExecState {
    /// A fresh state with a zeroed stack, worker slot 0.
    #[must_use]
    pub fn new() -> Self {
        Self {
            stack: Stack::Heap(Box::new(StackMemory([0; STACK_SIZE]))),
            control: RunControl::default(),
            packet: None,
            input: None,
        }
    }

    /// Whether the stack lies inside `window`.
    #[must_use]
    #[inline]
    pub fn stack_in(&self, window: &Window) -> bool {
        window.contains(self.stack.start(), STACK_SIZE as u64)
    }

    /// Moves the stack into `window` (zeroed) unless it is already there. Sandboxed engines call
    /// this before a run, so any state works with them.
    ///
    /// # Errors
    /// [`WindowFull`] when the window has no room for a stack.
    #[inline] // Every sandboxed run calls it: the common case is two compares.
    pub fn move_stack_to(&mut self, window: &Arc<Window>) -> Result<(), WindowFull> {
        if !self.stack_in(window) {
            self.stack = Stack::Window(window.alloc(STACK_SIZE)?);
        }
        Ok(())
    }

    /// A buffer of `len` bytes in `window` owned by this state (reused while it is large enough
    /// and in that window), for a sandboxed run's copy of an input that lies outside the window.
    /// Returns its address; the bytes are the state's until the next call or its drop.
    ///
    /// # Errors
    /// [`WindowFull`] when the window has no room.
    pub fn window_input(&mut self, window: &Arc<Window>, len: usize) -> Result<u64, WindowFull> {
        let fits = self
            .input
            .as_ref()
            .is_some_and(|a| Arc::ptr_eq(a.window(), window) && a.len() >= len);
        if !fits {
            self.input = None;
            self.input = Some(window.alloc(len)?);
        }
        Ok(self.input.as_ref().map_or(0, Allocation::addr))
    }

    /// A fresh state for worker slot `slot` (the "CPU" per-CPU maps index by).
    #[must_use]
    pub fn with_slot(slot: u32) -> Self {
        let state = Self::new();
        state.control.set_slot(slot);
        state
    }

    /// Zeroes the stack again, as [`ExecState::new`] leaves it, keeping its address: runs that
    /// must see the same stack addresses and the same (zero) initial bytes, such as the
    /// engines' differential tests, reuse one state this way.
    pub fn clear_stack(&mut self) {
        match &mut self.stack {
            Stack::Heap(b) => b.0.fill(0),
            // SAFETY: the stack's `STACK_SIZE` bytes are committed memory of a live window owned
            // by this exclusively borrowed state; no run is in progress.
            Stack::Window(a) => unsafe { std::ptr::write_bytes(a.ptr().as_ptr(), 0, STACK_SIZE) },
        }
    }

    /// The stack as a region, plus its top (the entry frame's r10).
    #[must_use]
    pub fn stack_region(&mut self) -> Region {
        self.stack.region()
    }

    /// The run's control cells.
    #[must_use]
    pub fn control(&self) -> &RunControl {
        &self.control
    }

    /// The packet legacy `LD_ABS`/`LD_IND` loads read, when it is not the run's input (socket
    /// filters and tc programs, whose input is a `__sk_buff` context). `None`: they read the
    /// input, as in the conformance suite.
    #[must_use]
    pub const fn packet(&self) -> Option<Region> {
        self.packet
    }

    /// Sets (or clears) the packet of [`ExecState::packet`] for the following runs.
    ///
    /// Every engine (the interpreter and both JIT backends) reads legacy packet loads from
    /// here: the packet when one is set, else the input.
    ///
    /// # Safety
    /// `packet` must satisfy [`Region::from_raw`]'s contract (live, allocated, not accessed
    /// through Rust references during runs) for every run made with this state while it is set.
    pub unsafe fn set_packet(&mut self, packet: Option<Region>) {
        self.packet = packet;
    }

    /// Describes (or clears) the packet frame of the following runs, and clears any recorded
    /// redirect. Packet helpers read and move the packet within `layout`'s bounds and write the
    /// context structure at `layout.ctx`; the host reads the adjusted packet back from
    /// [`RunControl::frame`] after a run.
    ///
    /// # Safety
    /// `[hard_start, limit)` must lie inside one writable region of every run made with this
    /// state while it is set (so that verified code, which trusts the context's packet
    /// pointers the helpers write, stays inside it), `layout.ctx` must be the run's context of
    /// `layout.kind`, and the layout must be ordered ([`FrameLayout::is_ordered`]; an unordered
    /// layout is ignored).
    pub unsafe fn set_frame(&mut self, layout: Option<FrameLayout>) {
        let frame = self.control.frame();
        frame.set_layout(layout.filter(FrameLayout::is_ordered));
        frame.set_redirect(None);
    }

    /// The stack region and the control cells at once (for engines building a
    /// [`RegionTable::with_control`]).
    #[must_use]
    pub fn split(&mut self) -> (Region, &RunControl) {
        (self.stack.region(), &self.control)
    }
}

/// The regions of one run: stack first (the most frequent target), then input, then the
/// program's registered regions.
#[derive(Debug)]
pub struct RegionTable<'a> {
    stack: Region,
    input: Region,
    extra: &'a [Region],
    control: Option<&'a RunControl>,
    caller: Option<&'a dyn FunctionCaller>,
    packet: Option<Region>,
}

impl std::fmt::Debug for dyn FunctionCaller + '_ {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FunctionCaller")
    }
}

impl<'a> RegionTable<'a> {
    /// A table over a run's stack and input and the program's regions, without control cells
    /// (helpers needing them, such as `bpf_tail_call`, fail).
    #[must_use]
    pub const fn new(stack: Region, input: Region, extra: &'a [Region]) -> Self {
        Self {
            stack,
            input,
            extra,
            control: None,
            caller: None,
            packet: None,
        }
    }

    /// As [`RegionTable::new`], with the run's control cells reachable by helpers.
    #[must_use]
    pub const fn with_control(
        stack: Region,
        input: Region,
        extra: &'a [Region],
        control: &'a RunControl,
    ) -> Self {
        Self {
            stack,
            input,
            extra,
            control: Some(control),
            caller: None,
            packet: None,
        }
    }

    /// This table with a way for helpers to call program functions (callbacks).
    #[must_use]
    pub fn with_caller(mut self, caller: &'a dyn FunctionCaller) -> Self {
        self.caller = Some(caller);
        self
    }

    /// This table with a separate packet for legacy packet loads (see [`ExecState::packet`]).
    #[must_use]
    pub const fn with_packet(mut self, packet: Option<Region>) -> Self {
        self.packet = packet;
        self
    }

    /// The region legacy `LD_ABS`/`LD_IND` loads read: the packet when one is set, else the
    /// input. (Only these loads use it; ordinary loads are checked against every region.)
    #[must_use]
    pub const fn packet(&self) -> Region {
        match self.packet {
            Some(p) => p,
            None => self.input,
        }
    }

    /// The engine's function caller, if it supports callbacks.
    #[must_use]
    pub fn caller(&self) -> Option<&'a dyn FunctionCaller> {
        self.caller
    }

    /// The run's control cells, if the engine provided them.
    #[must_use]
    pub const fn control(&self) -> Option<&'a RunControl> {
        self.control
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
        ok(&self.stack)
            || ok(&self.input)
            || (self.extra.iter().any(ok)
                && self.control.is_none_or(|c| c.frame().allows(addr, len)))
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

    /// `contains` against the textbook formula, on every small case and around the top of the
    /// address space.
    #[test]
    fn contains_is_the_interval_test() {
        for start in [0u64, 1, 5, u64::MAX - 20] {
            for rlen in 0..12u64 {
                // SAFETY: the region is only used for arithmetic checks, never dereferenced.
                let r = unsafe { Region::from_raw(start, rlen, true) };
                for d in 0..24u64 {
                    let addr = start.wrapping_add(d).wrapping_sub(4);
                    for len in 0..10u64 {
                        let want = u128::from(addr) >= u128::from(start)
                            && u128::from(addr) + u128::from(len)
                                <= u128::from(start) + u128::from(rlen);
                        assert_eq!(r.contains(addr, len), want, "{start} {rlen} {addr} {len}");
                    }
                }
            }
        }
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
