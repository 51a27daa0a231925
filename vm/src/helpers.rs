//! Helper functions: a sparse table from id (and name) to a Rust function, and the context a
//! helper receives to reach the run's memory safely: by checked, racy-tolerant copies
//! ([`crate::racy`]), never by references, since programs on other threads may write the same
//! memory (shared maps) at any time.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use crate::fault::{Access, HelperError};
use crate::memory::{RegionTable, RunControl};
use crate::racy;

/// What a helper returns: the value for r0, or an error the engine turns into a fault.
pub type HelperResult = Result<u64, HelperError>;

/// The function behind a helper: receives the run's context and r1–r5.
pub type HelperFn = dyn Fn(&mut HelperContext<'_>, [u64; 5]) -> HelperResult + Send + Sync;

/// A plain helper: a function of r1–r5 returning r0 that cannot fail, stop the run, touch the
/// run's memory through a [`HelperContext`] or call back into the program. Engines call it
/// directly (the JITs with one host `call`, r1–r5 already in argument registers where the
/// register map allows), without building a context or catching panics.
///
/// A plain helper **must not panic**: a panic cannot unwind out of an `extern "C"` function,
/// so it aborts the process (Rust 1.81 and later abort on such an unwind; there is no
/// undefined behaviour, but there is no [`crate::Fault::HelperPanicked`] either). Register a
/// helper that may panic or fail with [`HelperTable::register`].
pub type PlainHelperFn = extern "C" fn(u64, u64, u64, u64, u64) -> u64;

/// A registered helper.
#[derive(Clone)]
pub struct Helper {
    /// The helper's id (the `imm` of `call`).
    pub id: u32,
    /// The helper's name (for disassembly and by-name resolution).
    pub name: String,
    /// The implementation (for a plain helper: a wrapper calling [`Helper::plain`]).
    pub func: Arc<HelperFn>,
    /// The plain function, for helpers registered with [`HelperTable::register_plain`]:
    /// engines may call it directly instead of `func`.
    pub plain: Option<PlainHelperFn>,
}

impl fmt::Debug for Helper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Helper")
            .field("id", &self.id)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// A sparse table of helpers, by id.
#[derive(Clone, Debug, Default)]
pub struct HelperTable {
    by_id: BTreeMap<u32, Helper>,
    /// Helpers the platform defines but this table cannot provide (Linux helpers that mean
    /// nothing in userspace), by id with their names: a program calling one is refused at
    /// prepare time with the name, not as an unknown id.
    unavailable: BTreeMap<u32, &'static str>,
}

impl HelperTable {
    /// An empty table.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers (or replaces) helper `id`.
    pub fn register<F>(&mut self, id: u32, name: &str, func: F) -> &mut Self
    where
        F: Fn(&mut HelperContext<'_>, [u64; 5]) -> HelperResult + Send + Sync + 'static,
    {
        self.by_id.insert(
            id,
            Helper {
                id,
                name: name.to_owned(),
                func: Arc::new(func),
                plain: None,
            },
        );
        self
    }

    /// Registers (or replaces) helper `id` as a plain helper (see [`PlainHelperFn`]: it must
    /// not panic). Engines that know no fast path call it through the ordinary
    /// [`HelperFn`] interface, with the same result.
    pub fn register_plain(&mut self, id: u32, name: &str, func: PlainHelperFn) -> &mut Self {
        self.by_id.insert(
            id,
            Helper {
                id,
                name: name.to_owned(),
                func: Arc::new(
                    move |_: &mut HelperContext<'_>, [a, b, c, d, e]: [u64; 5]| {
                        Ok(func(a, b, c, d, e))
                    },
                ),
                plain: Some(func),
            },
        );
        self
    }

    /// Records that helper `id` (`name`) exists on the platform but is not available here;
    /// a helper registered under `id` takes precedence.
    pub fn mark_unavailable(&mut self, id: u32, name: &'static str) -> &mut Self {
        self.unavailable.insert(id, name);
        self
    }

    /// The name of helper `id` if it is marked unavailable and not registered.
    #[must_use]
    pub fn unavailable(&self, id: u32) -> Option<&'static str> {
        match self.by_id.get(&id) {
            Some(_) => None,
            None => self.unavailable.get(&id).copied(),
        }
    }

    /// The helper with this id.
    #[must_use]
    pub fn get(&self, id: u32) -> Option<&Helper> {
        self.by_id.get(&id)
    }

    /// The helper with this name.
    #[must_use]
    pub fn by_name(&self, name: &str) -> Option<&Helper> {
        self.by_id.values().find(|h| h.name == name)
    }

    /// All helpers, by increasing id.
    pub fn iter(&self) -> impl Iterator<Item = &Helper> {
        self.by_id.values()
    }
}

/// What a helper sees of the run: the region table (to check pointer arguments) and a way to
/// end the run early.
#[derive(Debug)]
pub struct HelperContext<'a> {
    regions: &'a RegionTable<'a>,
    stop: Option<u64>,
}

impl<'a> HelperContext<'a> {
    /// A context over a run's regions. Engines build one per helper call.
    #[must_use]
    pub const fn new(regions: &'a RegionTable<'a>) -> Self {
        Self {
            regions,
            stop: None,
        }
    }

    /// Ends the run after this helper returns, with `r0` as the program's result
    /// (uBPF's "unwind" behaviour).
    pub fn stop(&mut self, r0: u64) {
        self.stop = Some(r0);
    }

    /// The run's control cells, when the engine provides them
    /// ([`RegionTable::with_control`]).
    #[must_use]
    pub fn control(&self) -> Option<&'a RunControl> {
        self.regions.control()
    }

    /// The engine's function caller (callbacks), if it supports them.
    #[must_use]
    pub fn caller(&self) -> Option<&'a dyn crate::memory::FunctionCaller> {
        self.regions.caller()
    }

    /// Calls the program function at code address `code` with r1–r5 = `args`, returning its r0.
    ///
    /// # Errors
    /// [`HelperError::NoRunControl`] (with helper id `id`) when the engine has no function
    /// caller; otherwise as [`crate::memory::FunctionCaller::call_function`].
    pub fn call_function(&self, id: u32, code: u64, args: [u64; 5]) -> Result<u64, HelperError> {
        let caller = self.caller().ok_or(HelperError::NoRunControl { id })?;
        caller.call_function(self.regions, code, args)
    }

    /// The run's region table.
    #[must_use]
    pub const fn regions(&self) -> &'a RegionTable<'a> {
        self.regions
    }

    /// The worker slot of the run: the one in the control cells when present, otherwise a
    /// small per-thread index ([`thread_slot`]).
    #[must_use]
    pub fn worker_slot(&self) -> u32 {
        self.control().map_or_else(thread_slot, RunControl::slot)
    }

    /// The result requested by [`HelperContext::stop`], if any.
    #[must_use]
    pub const fn stop_requested(&self) -> Option<u64> {
        self.stop
    }

    /// Whether the program may access `[addr, addr + len)` as `access` (always, for `len = 0`).
    ///
    /// # Errors
    /// [`HelperError::OutOfBounds`] when the bytes are not inside one region that allows it.
    pub fn check(&self, addr: u64, len: u64, access: Access) -> Result<(), HelperError> {
        if len == 0 || self.regions.check(addr, len, access) {
            Ok(())
        } else {
            Err(HelperError::OutOfBounds { addr, len, access })
        }
    }

    /// Copies the `out.len()` bytes at `addr` into `out`, if the program may read them.
    ///
    /// Guest memory is never lent out as a `&[u8]`: programs on other threads may write it
    /// meanwhile (shared maps), so helpers work on copies ([`crate::racy`]; a copy may tear
    /// under such a race, as on Linux).
    ///
    /// # Errors
    /// [`HelperError::OutOfBounds`] when they are not inside one readable region.
    pub fn read_into(&self, addr: u64, out: &mut [u8]) -> Result<(), HelperError> {
        self.check(addr, out.len() as u64, Access::Read)?;
        // SAFETY: `check` proved the range lies in a readable region (empty ranges are never
        // dereferenced); by the region table's contract (memory.rs) that is live memory that is
        // only accessed through raw pointers and atomics. `out` is a host buffer.
        unsafe { racy::copy_from_guest(addr as *const u8, out) };
        Ok(())
    }

    /// A copy of the `len` bytes at `addr`, if the program may read them.
    ///
    /// # Errors
    /// As [`HelperContext::read_into`].
    pub fn read_vec(&self, addr: u64, len: u64) -> Result<Vec<u8>, HelperError> {
        self.check(addr, len, Access::Read)?;
        // `len` fits in the address space: it lies inside a region (or is 0).
        let mut out = vec![0; len as usize];
        self.read_into(addr, &mut out)?;
        Ok(out)
    }

    /// A copy of the `len` bytes at `addr` that stays off the heap when it is short (every
    /// key and most values): the fast path of the map helpers.
    ///
    /// # Errors
    /// As [`HelperContext::read_into`].
    pub fn read_buf(&self, addr: u64, len: u64) -> Result<GuestBytes, HelperError> {
        if len <= INLINE_BYTES as u64 {
            let mut buf = [0; INLINE_BYTES];
            self.read_into(addr, &mut buf[..len as usize])?;
            Ok(GuestBytes(Bytes::Inline {
                len: len as usize,
                buf,
            }))
        } else {
            self.read_vec(addr, len).map(|v| GuestBytes(Bytes::Heap(v)))
        }
    }

    /// Calls `f` on a copy of the `len` bytes at `addr`, made on the stack when it is short
    /// (at most [`INLINE_BYTES`]: every key and most values), else on the heap: the fast path
    /// of the map helpers (no allocation, no move of the buffer).
    ///
    /// # Errors
    /// As [`HelperContext::read_into`] (then `f` is not called).
    #[inline]
    pub fn with_bytes<R>(
        &self,
        addr: u64,
        len: u64,
        f: impl FnOnce(&[u8]) -> R,
    ) -> Result<R, HelperError> {
        if len <= INLINE_BYTES as u64 {
            let mut buf = [0; INLINE_BYTES];
            let buf = &mut buf[..len as usize];
            self.read_into(addr, buf)?;
            Ok(f(buf))
        } else {
            Ok(f(&self.read_vec(addr, len)?))
        }
    }

    /// A copy of the `N` bytes at `addr`.
    ///
    /// # Errors
    /// As [`HelperContext::read_into`].
    pub fn read_array<const N: usize>(&self, addr: u64) -> Result<[u8; N], HelperError> {
        let mut out = [0; N];
        self.read_into(addr, &mut out)?;
        Ok(out)
    }

    /// The NUL-terminated string at `addr` (a copy, without the NUL), reading at most `max`
    /// bytes.
    ///
    /// # Errors
    /// [`HelperError::OutOfBounds`] when a byte before the NUL (or the `max` limit) is not readable.
    pub fn read_cstr(&self, addr: u64, max: u64) -> Result<Vec<u8>, HelperError> {
        let mut out = Vec::new();
        while (out.len() as u64) < max {
            let [byte] = self.read_array::<1>(addr.wrapping_add(out.len() as u64))?;
            if byte == 0 {
                break;
            }
            out.push(byte);
        }
        Ok(out)
    }

    /// Copies `data` to `addr`, if the program may write there.
    ///
    /// # Errors
    /// [`HelperError::OutOfBounds`] when the bytes are not inside one writable region.
    pub fn write_from(&self, addr: u64, data: &[u8]) -> Result<(), HelperError> {
        self.check(addr, data.len() as u64, Access::Write)?;
        // SAFETY: `check` proved the range lies in a writable region (empty ranges are never
        // dereferenced): live memory only accessed through raw pointers and atomics (memory.rs).
        // `data` is a host buffer.
        unsafe { racy::copy_to_guest(data, addr as *mut u8) };
        Ok(())
    }

    /// Sets the `len` bytes at `addr` to `byte`, if the program may write them.
    ///
    /// # Errors
    /// As [`HelperContext::write_from`].
    pub fn fill(&self, addr: u64, len: u64, byte: u8) -> Result<(), HelperError> {
        self.check(addr, len, Access::Write)?;
        // SAFETY: as in `write_from`; `len` fits in the address space (it lies in a region).
        unsafe { racy::fill_guest(addr as *mut u8, byte, len as usize) };
        Ok(())
    }

    /// Copies `len` bytes from `src` to `dst` inside the program's memory (`memmove`: the
    /// ranges may overlap), if the program may read the source and write the destination
    /// (checked in that order).
    ///
    /// # Errors
    /// [`HelperError::OutOfBounds`] for the first range that is not accessible.
    pub fn copy(&self, dst: u64, src: u64, len: u64) -> Result<(), HelperError> {
        self.check(src, len, Access::Read)?;
        self.check(dst, len, Access::Write)?;
        // SAFETY: both ranges lie in regions allowing the access (checked; empty ranges are
        // never dereferenced), live memory only accessed through raw pointers and atomics.
        unsafe { racy::copy_within_guest(src as *const u8, dst as *mut u8, len as usize) };
        Ok(())
    }

    /// Read-modify-write of the `len` bytes at `addr`: copies them out, lets `f` change the
    /// copy, and copies it back (not atomic as a whole: a concurrent program write in between
    /// is lost, as with any unlocked update on Linux).
    ///
    /// # Errors
    /// [`HelperError::OutOfBounds`] (for writing) when the bytes are not inside one writable
    /// region.
    pub fn modify<R>(
        &self,
        addr: u64,
        len: u64,
        f: impl FnOnce(&mut [u8]) -> R,
    ) -> Result<R, HelperError> {
        self.check(addr, len, Access::Write)?;
        let mut buf = self.read_buf(addr, len)?;
        let r = f(&mut buf);
        self.write_from(addr, &buf)?;
        Ok(r)
    }
}

/// Bytes up to which [`HelperContext::read_buf`] copies into an inline buffer instead of a
/// heap allocation (every map key on Linux but LPM and hash keys above 64 bytes).
pub const INLINE_BYTES: usize = 64;

/// A host copy of program bytes ([`HelperContext::read_buf`]): inline when at most
/// [`INLINE_BYTES`] long, else on the heap. Dereferences to the bytes.
#[derive(Clone, Debug)]
pub struct GuestBytes(Bytes);

#[derive(Clone, Debug)]
enum Bytes {
    Inline { len: usize, buf: [u8; INLINE_BYTES] },
    Heap(Vec<u8>),
}

impl std::ops::Deref for GuestBytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match &self.0 {
            Bytes::Inline { len, buf } => &buf[..*len],
            Bytes::Heap(v) => v,
        }
    }
}

impl std::ops::DerefMut for GuestBytes {
    fn deref_mut(&mut self) -> &mut [u8] {
        match &mut self.0 {
            Bytes::Inline { len, buf } => &mut buf[..*len],
            Bytes::Heap(v) => v,
        }
    }
}

/// A small index for the calling thread, assigned on first use (0, 1, 2, ... in order of first
/// call), used as the worker slot when an engine provides no run control cells.
#[must_use]
pub fn thread_slot() -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    thread_local! {
        static SLOT: u32 = NEXT.fetch_add(1, Ordering::Relaxed);
    }
    SLOT.with(|s| *s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::Region;

    /// Runs `f` with a context over a 32-byte stack and a 16-byte read-only input.
    fn with_ctx(f: impl FnOnce(&HelperContext<'_>, u64, u64)) -> Vec<u8> {
        let mut stack = [0u8; 32];
        let input: Vec<u8> = (1..=16).collect();
        let (s, i) = (stack.as_mut_ptr() as u64, input.as_ptr() as u64);
        // SAFETY: both buffers outlive the table and are only accessed through it meanwhile.
        let (sr, ir) = unsafe {
            (
                Region::from_raw(s, 32, true),
                Region::from_raw(i, 16, false),
            )
        };
        let regions = RegionTable::new(sr, ir, &[]);
        f(&HelperContext::new(&regions), s, i);
        stack.to_vec()
    }

    #[test]
    fn copies_are_checked_and_exact() {
        let stack = with_ctx(|ctx, s, i| {
            assert_eq!(ctx.read_vec(i + 2, 3), Ok(vec![3, 4, 5]));
            assert_eq!(
                &*ctx.read_buf(i, 16).expect("reads"),
                &ctx.read_vec(i, 16).expect("reads")[..]
            );
            assert_eq!(ctx.read_array::<2>(i + 14), Ok([15, 16]));
            assert!(ctx.read_vec(i + 15, 2).is_err());
            assert!(ctx.write_from(i, &[0]).is_err(), "input is read-only");
            ctx.write_from(s + 1, &[9, 9, 9]).expect("writes");
            ctx.fill(s + 4, 3, 7).expect("fills");
            ctx.copy(s + 8, i, 5).expect("copies");
            ctx.copy(s + 9, s + 8, 5).expect("overlapping copy");
            assert_eq!(
                ctx.copy(i, s, 1),
                Err(HelperError::OutOfBounds {
                    addr: i,
                    len: 1,
                    access: Access::Write
                })
            );
            let n = ctx.modify(s + 1, 2, |b| {
                b[0] += 1;
                b.len()
            });
            assert_eq!(n, Ok(2));
            assert_eq!(ctx.read_cstr(s + 1, 100), Ok(vec![10, 9, 9, 7, 7, 7]));
            assert_eq!(ctx.read_cstr(i, 4), Ok(vec![1, 2, 3, 4]));
            assert!(ctx.read_cstr(i, 100).is_err(), "no NUL before the end");
            let big = ctx.read_buf(s, 32).expect("reads");
            assert_eq!(big.len(), 32);
        });
        assert_eq!(
            stack[..16],
            [0, 10, 9, 9, 7, 7, 7, 0, 1, 1, 2, 3, 4, 5, 0, 0]
        );
    }
}
