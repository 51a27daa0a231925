//! The run-time side shared by every backend: the per-run context block generated code reads
//! and writes (through a pointer held in a host register), the functions generated code may
//! call (helper trampolines, the slow region check: `extern "sysv64"` on x86-64, `extern "C"`
//! (AAPCS64) elsewhere, see [`host_abi_fn!`]), and the conversion of the context's exit record
//! into an [`Outcome`].

use std::mem::offset_of;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use apiary_vm::fault::{Access, Fault};
use apiary_vm::helpers::{HelperContext, HelperFn, HelperTable};
use apiary_vm::memory::{Region, RegionTable, FRAME_SIZE, MAX_FRAMES, STACK_SIZE};
use apiary_vm::program::Program;
use apiary_vm::Outcome;

use crate::analysis::access_of;

/// How a run ended, as recorded in [`RunCtx::exit_kind`] by generated code or a trampoline.
pub(crate) mod exit {
    /// `exit` from the entry frame, a helper stop or an out-of-bounds packet load: r0 in `ret`.
    pub const OK: u64 = 0;
    /// Out-of-bounds access at `fault_pc`; address in `fault_aux`.
    pub const OUT_OF_BOUNDS: u64 = 1;
    /// Misaligned atomic at `fault_pc`; address in `fault_aux`.
    pub const MISALIGNED: u64 = 2;
    /// Budget exhausted at `fault_pc`.
    pub const BUDGET: u64 = 3;
    /// Local call beyond the frame limit at `fault_pc`.
    pub const CALL_DEPTH: u64 = 4;
    /// Unsupported instruction at `fault_pc`.
    pub const UNSUPPORTED: u64 = 5;
    /// A trampoline stored the fault in `recorded`.
    pub const RECORDED: u64 = 6;
}

/// Helpers resolved at compile time, shared with the trampolines.
pub(crate) struct Shared {
    /// `call` targets, by the index the generated code passes.
    pub helpers: Vec<(u32, Arc<HelperFn>)>,
    /// The whole table, for `callx`.
    pub table: Arc<HelperTable>,
}

/// The context block of one run. Generated code addresses the `u64` fields through the
/// `CTX_*` offsets below; the trailing fields are only touched by Rust.
#[repr(C)]
pub(crate) struct RunCtx {
    pub stack_start: u64,
    pub input_start: u64,
    /// Per access size (1, 2, 4, 8): `input_len + 1 - size`, or 0 when the input is shorter;
    /// an access at input offset `o` is in bounds iff `o < input_bound[size]` (unsigned).
    pub input_bound: [u64; 4],
    /// Lowest r10 at which a local call may still push a frame.
    pub call_limit: u64,
    /// Instructions counted so far (metering).
    pub count: u64,
    /// The budget (metering).
    pub budget: u64,
    /// Host stack pointer at entry (rsp / sp), restored by the exit stub.
    pub saved_sp: u64,
    pub exit_kind: u64,
    pub fault_pc: u64,
    pub fault_aux: u64,
    /// r0 of a normal exit / the stop value / a helper's result.
    pub ret: u64,
    /// Initial r1, r2, r10.
    pub init_r1: u64,
    pub init_r2: u64,
    pub init_r10: u64,
    /// r1–r5 at a helper call (arguments; restored after the call).
    pub args: [u64; 5],
    /// Save area for r0–r5 and the address around the slow region check.
    pub save: [u64; 7],
    pub regions: *const RegionTable<'static>,
    pub shared: *const Shared,
    pub recorded: Option<Fault>,
}

macro_rules! off {
    ($f:ident) => {
        offset_of!(RunCtx, $f) as i32
    };
}
pub(crate) const CTX_STACK_START: i32 = off!(stack_start);
pub(crate) const CTX_INPUT_START: i32 = off!(input_start);
pub(crate) const CTX_INPUT_BOUND: i32 = off!(input_bound);
pub(crate) const CTX_CALL_LIMIT: i32 = off!(call_limit);
pub(crate) const CTX_COUNT: i32 = off!(count);
pub(crate) const CTX_BUDGET: i32 = off!(budget);
pub(crate) const CTX_SAVED_SP: i32 = off!(saved_sp);
pub(crate) const CTX_EXIT_KIND: i32 = off!(exit_kind);
pub(crate) const CTX_FAULT_PC: i32 = off!(fault_pc);
pub(crate) const CTX_FAULT_AUX: i32 = off!(fault_aux);
pub(crate) const CTX_RET: i32 = off!(ret);
pub(crate) const CTX_INIT_R1: i32 = off!(init_r1);
pub(crate) const CTX_INIT_R2: i32 = off!(init_r2);
pub(crate) const CTX_INIT_R10: i32 = off!(init_r10);
pub(crate) const CTX_ARGS: i32 = off!(args);
pub(crate) const CTX_SAVE: i32 = off!(save);

impl RunCtx {
    /// A context for one run over `regions`.
    pub(crate) fn new(regions: &RegionTable<'_>, shared: &Shared, budget: Option<u64>) -> Self {
        let stack = regions.stack();
        let input = regions.input();
        let bound = |len: u64| {
            if input.len >= len {
                input.len + 1 - len
            } else {
                0
            }
        };
        let top = stack.start + STACK_SIZE as u64;
        Self {
            stack_start: stack.start,
            input_start: input.start,
            input_bound: [bound(1), bound(2), bound(4), bound(8)],
            // A call from depth d (r10 = top - d * FRAME_SIZE) is allowed iff d + 1 < MAX_FRAMES.
            call_limit: top - ((MAX_FRAMES - 2) * FRAME_SIZE) as u64,
            count: 0,
            budget: budget.unwrap_or(u64::MAX),
            saved_sp: 0,
            exit_kind: exit::OK,
            fault_pc: 0,
            fault_aux: 0,
            ret: 0,
            init_r1: if input.len == 0 { 0 } else { input.start },
            init_r2: input.len,
            init_r10: top,
            args: [0; 5],
            save: [0; 7],
            regions: std::ptr::from_ref(regions).cast(),
            shared,
            recorded: None,
        }
    }

    /// Turns the exit record into an outcome.
    pub(crate) fn outcome(&self, program: &Program, budget: Option<u64>) -> Outcome {
        let pc = self.fault_pc as usize;
        let ins = program.instructions().get(pc);
        let result = match self.exit_kind {
            exit::OK => Ok(self.ret),
            exit::OUT_OF_BOUNDS => {
                let (len, access) = ins.and_then(access_of).unwrap_or((0, Access::Read));
                Err(Fault::OutOfBounds {
                    pc,
                    addr: self.fault_aux,
                    len,
                    access,
                })
            }
            exit::MISALIGNED => {
                let (len, _) = ins.and_then(access_of).unwrap_or((0, Access::Write));
                Err(Fault::MisalignedAtomic {
                    pc,
                    addr: self.fault_aux,
                    len,
                })
            }
            exit::BUDGET => Err(Fault::BudgetExhausted {
                pc,
                budget: self.budget,
            }),
            exit::CALL_DEPTH => Err(Fault::CallDepthExceeded {
                pc,
                max: MAX_FRAMES,
            }),
            exit::UNSUPPORTED => match ins.and_then(apiary_vm::Instruction::unsupported) {
                Some(what) => Err(Fault::Unsupported { pc, what }),
                None => unreachable_exit(),
            },
            _ => match self.recorded {
                Some(f) => Err(f),
                None => unreachable_exit(),
            },
        };
        Outcome {
            result,
            instructions: budget.map(|_| self.count),
        }
    }
}

/// Defines an `unsafe` function generated code calls with the host's C calling convention:
/// `extern "sysv64"` on x86-64 (explicit, so the x86-64 backend's register use holds whatever
/// the target's default), `extern "C"` (AAPCS64) on aarch64 and anything else. One body, two
/// ABIs chosen by `cfg`.
macro_rules! host_abi_fn {
    ($(#[$meta:meta])* $vis:vis unsafe fn $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $ret:ty $body:block) => {
        #[cfg(target_arch = "x86_64")]
        $(#[$meta])*
        $vis unsafe extern "sysv64" fn $name($($arg: $ty),*) -> $ret $body
        #[cfg(not(target_arch = "x86_64"))]
        $(#[$meta])*
        $vis unsafe extern "C" fn $name($($arg: $ty),*) -> $ret $body
    };
}

/// An exit record the code generator never produces.
#[cold]
fn unreachable_exit() -> Result<u64, Fault> {
    panic!("apiary-jit bug: inconsistent exit record")
}

/// The region table of a run, from its context.
///
/// # Safety
/// `ctx.regions` must point to the live table of the current run.
unsafe fn regions_of(ctx: &RunCtx) -> &RegionTable<'_> {
    // SAFETY: guaranteed by the caller; the table outlives the run, which outlives `ctx`'s borrow.
    unsafe { &*ctx.regions.cast::<RegionTable<'_>>() }
}

/// Calls one helper on r1–r5 in `ctx.args`. Returns 0 to continue (r0 in `ctx.ret`), 1 when the
/// run must end (exit record written).
fn call_helper(ctx: &mut RunCtx, func: &HelperFn, id: u32, pc: u64) -> u64 {
    // SAFETY: `ctx` is the context of the running program (see the trampolines' contract).
    let regions = unsafe { regions_of(ctx) };
    let mut hctx = HelperContext::new(regions);
    let args = ctx.args;
    let pc = pc as usize;
    match catch_unwind(AssertUnwindSafe(|| func(&mut hctx, args))) {
        Ok(Ok(r0)) => match hctx.stop_requested() {
            None => {
                ctx.ret = r0;
                0
            }
            Some(v) => {
                ctx.ret = v;
                ctx.exit_kind = exit::OK;
                1
            }
        },
        Ok(Err(error)) => {
            ctx.recorded = Some(Fault::Helper { pc, id, error });
            ctx.exit_kind = exit::RECORDED;
            1
        }
        Err(_) => {
            ctx.recorded = Some(Fault::HelperPanicked { pc, id });
            ctx.exit_kind = exit::RECORDED;
            1
        }
    }
}

host_abi_fn! {
/// `call` trampoline: helper number `index` of [`Shared::helpers`], called from slot `pc`.
///
/// # Safety
/// Only generated code calls this, with the context pointer it was entered with.
pub(crate) unsafe fn helper_trampoline(ctx: *mut RunCtx, index: u64, pc: u64) -> u64 {
    // SAFETY: generated code passes the context it was entered with; the run function owns it
    // and does not touch it while the program runs.
    let ctx = unsafe { &mut *ctx };
    // SAFETY: `shared` points into the `Jit`, which outlives every run.
    let shared = unsafe { &*ctx.shared };
    match shared.helpers.get(index as usize) {
        Some((id, func)) => call_helper(ctx, func.as_ref(), *id, pc),
        None => {
            // Unreachable: the code generator only emits indices it registered.
            ctx.recorded = Some(Fault::UnknownHelper {
                pc: pc as usize,
                id: index,
            });
            ctx.exit_kind = exit::RECORDED;
            1
        }
    }
}
}

host_abi_fn! {
/// `callx` trampoline: helper id taken from a register.
///
/// # Safety
/// As [`helper_trampoline`].
pub(crate) unsafe fn callx_trampoline(ctx: *mut RunCtx, id: u64, pc: u64) -> u64 {
    // SAFETY: as in `helper_trampoline`.
    let ctx = unsafe { &mut *ctx };
    // SAFETY: as in `helper_trampoline`.
    let shared = unsafe { &*ctx.shared };
    let helper = u32::try_from(id).ok().and_then(|id| shared.table.get(id));
    match helper {
        Some(h) => {
            let func = Arc::clone(&h.func);
            call_helper(ctx, func.as_ref(), h.id, pc)
        }
        None => {
            ctx.recorded = Some(Fault::UnknownHelper {
                pc: pc as usize,
                id,
            });
            ctx.exit_kind = exit::RECORDED;
            1
        }
    }
}
}

host_abi_fn! {
/// Slow path of a checked access: whether `[addr, addr + len)` is allowed for the access in
/// bit 8 of `len_access` (1 = write) by any region of the run (the program's extra regions are
/// what generated code cannot test inline). Returns 1 if allowed.
///
/// # Safety
/// As [`helper_trampoline`].
pub(crate) unsafe fn check_access(ctx: *const RunCtx, addr: u64, len_access: u64) -> u64 {
    // SAFETY: as in `helper_trampoline` (read-only here).
    let ctx = unsafe { &*ctx };
    // SAFETY: `ctx` is the running program's context.
    let regions = unsafe { regions_of(ctx) };
    let access = if len_access & 0x100 != 0 {
        Access::Write
    } else {
        Access::Read
    };
    u64::from(regions.check(addr, len_access & 0xff, access))
}
}

/// The input region of a run, as the interpreter builds it.
pub(crate) fn input_region(input: &mut [u8]) -> Region {
    Region::writable(input)
}
