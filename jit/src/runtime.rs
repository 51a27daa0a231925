//! The run-time side shared by every backend: the per-run context block generated code reads
//! and writes (through a pointer held in a host register), the functions generated code may
//! call (helper trampolines, the slow region check: `extern "sysv64"` on x86-64, `extern "C"`
//! (AAPCS64) elsewhere, see [`host_abi_fn!`]), and the conversion of the context's exit record
//! into an [`Outcome`].

use std::cell::Cell;
use std::mem::{offset_of, MaybeUninit};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use apiary_vm::fault::{Access, Fault, HelperError};
use apiary_vm::helpers::{HelperContext, HelperFn, HelperTable};
use apiary_vm::memory::{
    code_target, FunctionCaller, Region, RegionTable, FRAME_SIZE, MAX_FRAMES, STACK_SIZE,
};
use apiary_vm::program::Program;

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

/// Which context fields the generated code reads (bits of `Compiled::needs`): a run writes only
/// those. The rest of the context is written on demand (packet, table, entry fields).
pub(crate) mod needs {
    /// `stack_start`.
    pub const STACK: u8 = 1;
    /// `input_start` and `input_bound`.
    pub const INPUT: u8 = 2;
    /// `call_limit`.
    pub const CALLS: u8 = 4;
    /// `count` and `budget` (metering; also read by Rust then).
    pub const METER: u8 = 8;
    /// `window_base` (confined accesses to a window whose base is no 32-bit immediate).
    pub const WINDOW: u8 = 16;
    /// Everything.
    pub const ALL: u8 = STACK | INPUT | CALLS | METER | WINDOW;
}

/// Helpers resolved at compile time, shared with the trampolines.
pub(crate) struct Shared {
    /// `call` targets, by the index the generated code passes.
    pub helpers: Vec<(u32, Arc<HelperFn>)>,
    /// The whole table, for `callx`.
    pub table: Arc<HelperTable>,
}

/// The context block of one run. Generated code addresses the fields through the `CTX_*`
/// offsets below. Every field is written before it is read: the first ones by [`RunCtx::new`]
/// when the code reads them ([`needs`]), the others by generated code, by the trampolines, or
/// by the run function when the program needs them (packet loads, helpers, the aarch64 entry).
#[repr(C)]
pub(crate) struct RunCtx {
    pub stack_start: MaybeUninit<u64>,
    pub input_start: MaybeUninit<u64>,
    /// Per access size (1, 2, 4, 8): `input_len + 1 - size`, or 0 when the input is shorter;
    /// an access at input offset `o` is in bounds iff `o < input_bound[size]` (unsigned).
    pub input_bound: MaybeUninit<[u64; 4]>,
    /// The sandbox window's base: a confined access ors it in from here (one instruction, a
    /// load that stays in L1) rather than building the 64-bit constant every time (two on
    /// x86-64, up to five on aarch64), and no host register is left to hold it.
    pub window_base: MaybeUninit<u64>,
    /// Lowest r10 at which a local call may still push a frame.
    pub call_limit: MaybeUninit<u64>,
    /// Instructions counted so far (metering).
    pub count: MaybeUninit<u64>,
    /// The budget (metering).
    pub budget: MaybeUninit<u64>,
    /// The region legacy packet loads read (the input unless the state names a packet): its
    /// start, then bounds per size as for the input. Written when the program has packet loads.
    pub packet: MaybeUninit<[u64; 5]>,
    /// Host stack pointer at entry (rsp / sp), restored by the exit stub.
    pub saved_sp: MaybeUninit<u64>,
    pub exit_kind: MaybeUninit<u64>,
    pub fault_pc: MaybeUninit<u64>,
    pub fault_aux: MaybeUninit<u64>,
    /// r0 of a normal exit / the stop value / a helper's result.
    pub ret: MaybeUninit<u64>,
    /// Initial r1, r2 (aarch64 entry), r10 (aarch64 entry, callbacks).
    pub init_r1: MaybeUninit<u64>,
    pub init_r2: MaybeUninit<u64>,
    pub init_r10: MaybeUninit<u64>,
    /// r1–r5 at a helper call (arguments; restored after the call). Written by generated code
    /// before it is read; never read by Rust.
    pub args: MaybeUninit<[u64; 5]>,
    /// Save area for r0–r5 and the address around the slow region check (as `args`).
    pub save: MaybeUninit<[u64; 7]>,
    /// The run's region table; written (with `shared` and `callback_fault`) when the program
    /// needs one (helper calls, extra regions).
    pub regions: MaybeUninit<*const RegionTable<'static>>,
    pub shared: MaybeUninit<*const Shared>,
    /// A fault recorded by a trampoline (exit kind [`exit::RECORDED`]).
    pub recorded: MaybeUninit<Fault>,
    /// r10 of the code calling a helper (callbacks run one frame below it).
    pub cur_r10: MaybeUninit<u64>,
    /// The slot of the helper call in progress.
    pub cur_pc: MaybeUninit<u64>,
    /// The fault of a callback that failed, reported as the run's.
    pub callback_fault: MaybeUninit<Option<Fault>>,
}

macro_rules! off {
    ($f:ident) => {
        offset_of!(RunCtx, $f) as i32
    };
}
pub(crate) const CTX_STACK_START: i32 = off!(stack_start);
pub(crate) const CTX_INPUT_START: i32 = off!(input_start);
pub(crate) const CTX_INPUT_BOUND: i32 = off!(input_bound);
pub(crate) const CTX_WINDOW_BASE: i32 = off!(window_base);
pub(crate) const CTX_PACKET_START: i32 = off!(packet);
pub(crate) const CTX_PACKET_BOUND: i32 = off!(packet) + 8;
pub(crate) const CTX_CUR_R10: i32 = off!(cur_r10);
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
    /// A context for one run over `stack` and `input`, with only the fields in `needs` (bits
    /// of [`needs`]) written (see the `set_*` methods for the rest).
    #[inline(always)]
    pub(crate) fn new(
        stack: Region,
        input: Region,
        budget: Option<u64>,
        window_base: u64,
        need: u8,
    ) -> Self {
        let mut ctx = Self::uninit();
        if need & needs::WINDOW != 0 {
            ctx.window_base.write(window_base);
        }
        if need & needs::STACK != 0 {
            ctx.stack_start.write(stack.start);
        }
        if need & needs::INPUT != 0 {
            ctx.input_start.write(input.start);
            ctx.input_bound.write(bounds(input.len));
        }
        if need & needs::CALLS != 0 {
            let top = stack.start + STACK_SIZE as u64;
            // A call from depth d (r10 = top - d * FRAME_SIZE) is allowed iff d + 1 < MAX_FRAMES.
            ctx.call_limit
                .write(top - ((MAX_FRAMES - 2) * FRAME_SIZE) as u64);
        }
        if need & needs::METER != 0 {
            ctx.count.write(0);
            ctx.budget.write(budget.unwrap_or(u64::MAX));
        }
        ctx
    }

    #[inline(always)]
    fn uninit() -> Self {
        Self {
            stack_start: MaybeUninit::uninit(),
            input_start: MaybeUninit::uninit(),
            input_bound: MaybeUninit::uninit(),
            window_base: MaybeUninit::uninit(),
            call_limit: MaybeUninit::uninit(),
            count: MaybeUninit::uninit(),
            budget: MaybeUninit::uninit(),
            packet: MaybeUninit::uninit(),
            saved_sp: MaybeUninit::uninit(),
            exit_kind: MaybeUninit::uninit(),
            fault_pc: MaybeUninit::uninit(),
            fault_aux: MaybeUninit::uninit(),
            ret: MaybeUninit::uninit(),
            init_r1: MaybeUninit::uninit(),
            init_r2: MaybeUninit::uninit(),
            init_r10: MaybeUninit::uninit(),
            args: MaybeUninit::uninit(),
            save: MaybeUninit::uninit(),
            regions: MaybeUninit::uninit(),
            shared: MaybeUninit::uninit(),
            recorded: MaybeUninit::uninit(),
            cur_r10: MaybeUninit::uninit(),
            cur_pc: MaybeUninit::uninit(),
            callback_fault: MaybeUninit::uninit(),
        }
    }

    /// Sets the packet region (programs with packet loads).
    #[inline(always)]
    pub(crate) fn set_packet(&mut self, packet: Region) {
        let [b1, b2, b4, b8] = bounds(packet.len);
        self.packet.write([packet.start, b1, b2, b4, b8]);
    }

    /// Sets the region table and helpers (programs with helper calls or extra regions).
    #[inline(always)]
    pub(crate) fn set_table(
        &mut self,
        regions: *const RegionTable<'_>,
        shared: &Shared,
        stack_start: u64,
    ) {
        self.regions.write(regions.cast());
        self.shared.write(shared);
        self.callback_fault.write(None);
        self.init_r10.write(stack_start + STACK_SIZE as u64);
    }

    /// Sets r1, r2 and r10 for an entry stub that reads them from the context (aarch64).
    #[cfg_attr(not(target_arch = "aarch64"), allow(dead_code))]
    pub(crate) fn set_entry(&mut self, r1: u64, r2: u64, r10: u64) {
        self.init_r1.write(r1);
        self.init_r2.write(r2);
        self.init_r10.write(r10);
    }

    /// The instruction count (metering runs only: [`needs::METER`] is then set).
    #[inline(always)]
    pub(crate) fn count(&self) -> u64 {
        // SAFETY: written by `new` for every metering run (the compiler sets `needs::METER`
        // whenever it meters).
        unsafe { self.count.assume_init() }
    }

    fn recorded(&self) -> Option<Fault> {
        // SAFETY: every `exit::RECORDED` exit is preceded by a write of `recorded` (the
        // trampolines write both together).
        Some(unsafe { self.recorded.assume_init() })
    }

    /// The result of a run that ended with exit `kind` (r0 = `ret` for [`exit::OK`]).
    pub(crate) fn result(&self, kind: u64, ret: u64, program: &Program) -> Result<u64, Fault> {
        if kind == exit::OK {
            return Ok(ret);
        }
        self.fault_result(kind, program)
    }

    #[cold]
    #[inline(never)]
    fn fault_result(&self, kind: u64, program: &Program) -> Result<u64, Fault> {
        if kind == exit::RECORDED {
            return match self.recorded() {
                Some(f) => Err(f),
                None => unreachable_exit(),
            };
        }
        // SAFETY: every other fault exit writes the fault pc (and the address for accesses)
        // before leaving; kinds without an address never read it.
        let pc = unsafe { self.fault_pc.assume_init() } as usize;
        // SAFETY: as above (read only for the kinds that wrote it).
        let aux = || unsafe { self.fault_aux.assume_init() };
        let ins = program.instructions().get(pc);
        match kind {
            exit::OK => unreachable_exit(),
            exit::OUT_OF_BOUNDS => {
                let (len, access) = ins.and_then(access_of).unwrap_or((0, Access::Read));
                Err(Fault::OutOfBounds {
                    pc,
                    addr: aux(),
                    len,
                    access,
                })
            }
            exit::MISALIGNED => {
                let (len, _) = ins.and_then(access_of).unwrap_or((0, Access::Write));
                Err(Fault::MisalignedAtomic {
                    pc,
                    addr: aux(),
                    len,
                })
            }
            exit::BUDGET => Err(Fault::BudgetExhausted {
                pc,
                // SAFETY: budget faults only exist in metering runs, which write the budget.
                budget: unsafe { self.budget.assume_init() },
            }),
            exit::CALL_DEPTH => Err(Fault::CallDepthExceeded {
                pc,
                max: MAX_FRAMES,
            }),
            exit::UNSUPPORTED => match ins.and_then(apiary_vm::Instruction::unsupported) {
                Some(what) => Err(Fault::Unsupported { pc, what }),
                None => unreachable_exit(),
            },
            _ => unreachable_exit(),
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

/// Per access size (1, 2, 4, 8): `len + 1 - size`, or 0 when the region is shorter (branch-free).
#[inline(always)]
fn bounds(len: u64) -> [u64; 4] {
    let l = len.wrapping_add(1);
    [
        l.saturating_sub(1),
        l.saturating_sub(2),
        l.saturating_sub(4),
        l.saturating_sub(8),
    ]
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
    unsafe { &*ctx.regions.assume_init().cast::<RegionTable<'_>>() }
}

/// What a helper call gives back to generated code: r0, and whether the run must end (the
/// exit record is then written: `exit_kind`, and `recorded` for a fault). Returned in
/// rax:rdx (sysv64) / x0:x1 (AAPCS64).
#[repr(C)]
pub(crate) struct Ret {
    pub r0: u64,
    pub leave: u64,
}

/// Calls one helper on r1–r5 = `args`.
#[inline(always)]
///
/// # Safety
/// `ctx_ptr` is the context of the running program (see the trampolines' contract); no
/// reference to it is live (a callback reaches it through its raw pointer while the helper
/// runs).
unsafe fn call_helper(
    ctx_ptr: *mut RunCtx,
    func: &HelperFn,
    id: u32,
    pc: u64,
    args: [u64; 5],
) -> Ret {
    // SAFETY: guaranteed by the caller.
    unsafe { (*ctx_ptr).cur_pc.write(pc) };
    // SAFETY: guaranteed by the caller; programs that call helpers always run with a table.
    let regions = unsafe { regions_of(&*ctx_ptr) };
    let mut hctx = HelperContext::new(regions);
    let result = catch_unwind(AssertUnwindSafe(|| func(&mut hctx, args)));
    // SAFETY: the helper has returned; the context is ours again.
    let ctx = unsafe { &mut *ctx_ptr };
    match result {
        Ok(Ok(r0)) => match hctx.stop_requested() {
            None => Ret { r0, leave: 0 },
            Some(v) => {
                ctx.exit_kind.write(exit::OK);
                Ret { r0: v, leave: 1 }
            }
        },
        Ok(Err(error)) => helper_failed(ctx, error, id, pc),
        Err(_) => {
            ctx.recorded.write(Fault::HelperPanicked {
                pc: pc as usize,
                id,
            });
            ctx.exit_kind.write(exit::RECORDED);
            Ret { r0: 0, leave: 1 }
        }
    }
}

/// The JIT's [`FunctionCaller`] (both backends): runs a program function on a new frame below the
/// code that called the helper, on the same run context (same counter and budget).
pub(crate) struct JitCaller<'j> {
    jit: &'j crate::Jit,
    ctx: Cell<*mut RunCtx>,
}

impl<'j> JitCaller<'j> {
    pub(crate) fn new(jit: &'j crate::Jit) -> Self {
        Self {
            jit,
            ctx: Cell::new(std::ptr::null_mut()),
        }
    }

    /// Binds the caller to the run's context (before the program starts).
    pub(crate) fn bind(&self, ctx: &mut RunCtx) {
        self.ctx.set(ctx);
    }
}

impl FunctionCaller for JitCaller<'_> {
    fn next_frame(&self) -> u64 {
        // SAFETY: bound to the live context before the run; read between generated-code
        // writes (a helper is running).
        unsafe { (*self.ctx.get()).cur_r10.assume_init() }.wrapping_sub(FRAME_SIZE as u64)
    }

    fn call_function(
        &self,
        _regions: &RegionTable<'_>,
        code: u64,
        args: [u64; 5],
    ) -> Result<u64, HelperError> {
        let program = apiary_vm::Executable::program(self.jit);
        let Some(target) = code_target(code)
            .filter(|&t| t != 0 && program.functions().iter().any(|f| f.start == t))
        else {
            return Err(HelperError::InvalidArgument {
                index: 2,
                value: code,
            });
        };
        // SAFETY: bound to the context of the run in progress; the helper calling us holds no
        // reference to it (see `call_helper`).
        let ctx = unsafe { &mut *self.ctx.get() };
        // SAFETY: generated code writes `cur_r10` before every helper call when callbacks are
        // enabled, `call_helper` writes `cur_pc`, the run function `init_r10` (`set_table`).
        let (r10, pc, top) = unsafe {
            (
                ctx.cur_r10.assume_init(),
                ctx.cur_pc.assume_init(),
                ctx.init_r10.assume_init(),
            )
        };
        ctx.callback_fault.write(None);
        let depth = (top.wrapping_sub(r10) / FRAME_SIZE as u64) as usize;
        if depth + 1 >= MAX_FRAMES {
            ctx.callback_fault.write(Some(Fault::CallDepthExceeded {
                pc: pc as usize,
                max: MAX_FRAMES,
            }));
            return Err(HelperError::CallbackFailed);
        }
        let ret = self
            .jit
            .call_back(ctx, target, args, r10 - FRAME_SIZE as u64);
        ctx.cur_r10.write(r10);
        ctx.cur_pc.write(pc);
        match ctx.result(ret.leave, ret.r0, program) {
            Ok(r0) => Ok(r0),
            Err(f) => {
                ctx.callback_fault.write(Some(f));
                Err(HelperError::CallbackFailed)
            }
        }
    }
}

#[cold]
#[inline(never)]
fn helper_failed(ctx: &mut RunCtx, error: HelperError, id: u32, pc: u64) -> Ret {
    let pc = pc as usize;
    // SAFETY: `set_table` initialises it for every run that can call helpers.
    let pending = unsafe { ctx.callback_fault.assume_init_mut() }.take();
    let fault = match (error, pending) {
        // A callback faulted: its fault is the run's (as the interpreter reports it).
        (HelperError::CallbackFailed, Some(f)) => f,
        (error, _) => Fault::Helper { pc, id, error },
    };
    ctx.recorded.write(fault);
    ctx.exit_kind.write(exit::RECORDED);
    Ret { r0: 0, leave: 1 }
}

/// A `call` to helper number `index` of [`Shared::helpers`] from slot `pc`.
///
/// # Safety
/// As [`call_helper`].
#[inline(always)]
unsafe fn call_indexed(ctx: *mut RunCtx, index: usize, pc: u64, args: [u64; 5]) -> Ret {
    // SAFETY: `shared` points into the `Jit`, which outlives every run.
    let shared = unsafe { &*(*ctx).shared.assume_init() };
    match shared.helpers.get(index) {
        // SAFETY: guaranteed by the caller.
        Some((id, func)) => unsafe { call_helper(ctx, func.as_ref(), *id, pc, args) },
        // SAFETY: guaranteed by the caller.
        None => unknown_helper(unsafe { &mut *ctx }, index as u64, pc),
    }
}

#[cold]
#[inline(never)]
fn unknown_helper(ctx: &mut RunCtx, id: u64, pc: u64) -> Ret {
    ctx.recorded.write(Fault::UnknownHelper {
        pc: pc as usize,
        id,
    });
    ctx.exit_kind.write(exit::RECORDED);
    Ret { r0: 0, leave: 1 }
}

/// A `callx` to the helper with id `id` from slot `pc`.
///
/// # Safety
/// As [`call_helper`].
unsafe fn call_by_id(ctx: *mut RunCtx, id: u64, pc: u64, args: [u64; 5]) -> Ret {
    // SAFETY: as in `call_indexed`.
    let shared = unsafe { &*(*ctx).shared.assume_init() };
    let helper = u32::try_from(id).ok().and_then(|id| shared.table.get(id));
    match helper {
        Some(h) => {
            let func = Arc::clone(&h.func);
            // SAFETY: guaranteed by the caller.
            unsafe { call_helper(ctx, func.as_ref(), h.id, pc, args) }
        }
        // SAFETY: guaranteed by the caller.
        None => unknown_helper(unsafe { &mut *ctx }, id, pc),
    }
}

/// `call` trampoline of the x86-64 backend: r1–r5 stay in their registers (rdi, rsi, rdx, r8,
/// r9 are sysv64 argument registers; the context goes in rcx), `site` = `pc << 32 | index`.
///
/// # Safety
/// Only generated code calls this, with the context pointer it was entered with.
#[cfg(target_arch = "x86_64")]
pub(crate) unsafe extern "sysv64" fn x86_helper(
    r1: u64,
    r2: u64,
    r3: u64,
    ctx: *mut RunCtx,
    r5: u64,
    r4: u64,
    site: u64,
) -> Ret {
    // SAFETY: generated code passes the context it was entered with; the run function owns
    // it and does not touch it while the program runs.
    unsafe { call_indexed(ctx, site as u32 as usize, site >> 32, [r1, r2, r3, r4, r5]) }
}

/// `callx` trampoline of the x86-64 backend: as [`x86_helper`], with the helper id in
/// `ctx.ret` and `site` = `pc << 32`.
///
/// # Safety
/// As [`x86_helper`].
#[cfg(target_arch = "x86_64")]
pub(crate) unsafe extern "sysv64" fn x86_callx(
    r1: u64,
    r2: u64,
    r3: u64,
    ctx: *mut RunCtx,
    r5: u64,
    r4: u64,
    site: u64,
) -> Ret {
    // SAFETY: as in `x86_helper`.
    let id = unsafe { (*ctx).ret.assume_init() };
    // SAFETY: as in `x86_helper`.
    unsafe { call_by_id(ctx, id, site >> 32, [r1, r2, r3, r4, r5]) }
}

/// The addresses the x86-64 backend embeds (the trampolines are only callable on x86-64;
/// elsewhere the code is only inspected).
pub(crate) fn x86_trampolines() -> (usize, usize) {
    #[cfg(target_arch = "x86_64")]
    {
        (
            x86_helper as *const () as usize,
            x86_callx as *const () as usize,
        )
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        (0x1000, 0x2000)
    }
}

host_abi_fn! {
/// `call` trampoline (aarch64 backend): helper number `index` of [`Shared::helpers`], called
/// from slot `pc`, with r1–r5 in `ctx.args`; r0 goes to `ctx.ret`. Returns 1 to end the run.
///
/// # Safety
/// Only generated code calls this, with the context pointer it was entered with.
pub(crate) unsafe fn helper_trampoline(ctx: *mut RunCtx, index: u64, pc: u64) -> u64 {
    // SAFETY: generated code passes the context it was entered with (the run function owns it
    // and does not touch it while the program runs), having written all of `args`.
    let args = unsafe { (*ctx).args.assume_init() };
    // SAFETY: as above.
    let ret = unsafe { call_indexed(ctx, index as usize, pc, args) };
    // SAFETY: as above; the helper has returned.
    unsafe { (*ctx).ret.write(ret.r0) };
    ret.leave
}
}

host_abi_fn! {
/// `callx` trampoline (aarch64 backend): helper id taken from a register.
///
/// # Safety
/// As [`helper_trampoline`].
pub(crate) unsafe fn callx_trampoline(ctx: *mut RunCtx, id: u64, pc: u64) -> u64 {
    // SAFETY: as in `helper_trampoline`.
    let args = unsafe { (*ctx).args.assume_init() };
    // SAFETY: as in `helper_trampoline`.
    let ret = unsafe { call_by_id(ctx, id, pc, args) };
    // SAFETY: as in `helper_trampoline`.
    unsafe { (*ctx).ret.write(ret.r0) };
    ret.leave
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

/// Whether `program` has a load, store or atomic through a register other than r10, the only
/// accesses sandboxed verified mode may confine (those at fixed offsets of r10 inside the frame
/// are not): without one, the backends reserve no register for the window base and the entry
/// stubs load none (a program without memory accesses pays nothing per run).
pub(crate) fn may_confine(program: &Program) -> bool {
    use apiary_vm::instruction::{Instruction, Reg};
    program.instructions().iter().any(|ins| match ins {
        Instruction::Load { src: r, .. }
        | Instruction::Store { dst: r, .. }
        | Instruction::Atomic { dst: r, .. } => *r != Reg::R10,
        _ => false,
    })
}
