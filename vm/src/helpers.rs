//! Helper functions: a sparse table from id (and name) to a Rust function, and the context a
//! helper receives to reach the run's memory safely.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use crate::fault::{Access, HelperError};
use crate::memory::{RegionTable, RunControl};

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

    fn checked(&self, addr: u64, len: u64, access: Access) -> Result<(), HelperError> {
        if len == 0 || self.regions.check(addr, len, access) {
            Ok(())
        } else {
            Err(HelperError::OutOfBounds { addr, len, access })
        }
    }

    /// The `len` bytes at `addr`, if the program may read them.
    ///
    /// # Errors
    /// [`HelperError::OutOfBounds`] when they are not inside one readable region.
    pub fn read(&self, addr: u64, len: u64) -> Result<&[u8], HelperError> {
        self.checked(addr, len, Access::Read)?;
        if len == 0 {
            return Ok(&[]);
        }
        // SAFETY: the region table's contract (memory.rs) guarantees `[addr, addr + len)` is live
        // memory of this run that no Rust reference touches while the program (and so this
        // helper) runs; the returned borrow is tied to `&self`, so no write through this context
        // can overlap it.
        Ok(unsafe { std::slice::from_raw_parts(addr as *const u8, len as usize) })
    }

    /// The `len` bytes at `addr` for writing, if the program may write them.
    ///
    /// # Errors
    /// [`HelperError::OutOfBounds`] when they are not inside one writable region.
    pub fn write(&mut self, addr: u64, len: u64) -> Result<&mut [u8], HelperError> {
        self.checked(addr, len, Access::Write)?;
        if len == 0 {
            return Ok(&mut []);
        }
        // SAFETY: as in `read`; the region is writable and the borrow is exclusive through `&mut self`.
        Ok(unsafe { std::slice::from_raw_parts_mut(addr as *mut u8, len as usize) })
    }

    /// The NUL-terminated string at `addr` (without the NUL), reading at most `max` bytes.
    ///
    /// # Errors
    /// [`HelperError::OutOfBounds`] when a byte before the NUL (or the `max` limit) is not readable.
    pub fn read_cstr(&self, addr: u64, max: u64) -> Result<&[u8], HelperError> {
        let mut len = 0;
        while len < max {
            let byte = self.read(addr.wrapping_add(len), 1)?[0];
            if byte == 0 {
                break;
            }
            len += 1;
        }
        self.read(addr, len)
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
