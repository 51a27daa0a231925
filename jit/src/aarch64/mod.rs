//! The aarch64 (arm64) backend (dynasm). The code generator is compiled on every host (dynasm
//! assembles aarch64 anywhere), so its encodings are exercised by tests on x86-64 too; only
//! [`enter`] (running the code) needs an aarch64 host.
//!
//! Register map (eBPF → host, AAPCS64):
//!
//! | eBPF | host | note |
//! |------|------|------|
//! | r0–r5 | x0–x5 | caller-saved; r1–r5 kept in the context around helper calls |
//! | r6–r9 | x19–x22 | callee-saved |
//! | r10  | x23 | frame pointer (never written by programs) |
//! | —    | x24 | pointer to the run context ([`crate::runtime::RunCtx`]) |
//! | —    | x25 | instruction counter (metering; stored to the context on exit) |
//! | —    | x26 | the budget |
//! | —    | x27, x28 | start of the stack and of the input (inline bounds checks) |
//! | —    | x9 | the address of the current memory access |
//! | —    | x10–x12, x16 | scratch (constants, atomics, trampoline addresses) |
//! | —    | x29, x30 | frame record of the entry stub; link register |
//!
//! x18 (the platform register) is never used.
//!
//! Frames: the entry stub `bl`s slot 0; a local call stores r6–r9, r10 and the link register
//! (48 bytes: sp stays 16-byte aligned), lowers r10 by 512 and `bl`s the target; `exit` is
//! `ret`. Calls into Rust (trampolines, the slow region check) save the link register around
//! `blr`. Faults branch to a shared exit stub that restores sp from the context.
//!
//! Constants go through [`encode`]: add/sub and logical immediates only when encodable, else
//! they are built with movz/movn/movk (or one `orr`) in a scratch register. Conditional
//! branches reach ±1 MiB: the program is emitted with short branches; if any does not reach,
//! it is emitted again with the far form (inverted `b.cond` over a `b`, ±128 MiB) for every
//! branch whose first-pass distance could exceed the short reach after growth
//! ([`encode::stays_short`]).
//!
//! Atomics are load-acquire/store-release exclusive loops (`ldaxr`/`stlxr`), which every
//! ARMv8.0 core has; LSE single-instruction atomics are not used.
//!
//! Instruction-cache coherence: `crate::lower::map_code` cleans the data cache and invalidates
//! the instruction cache over the code it maps (`dc cvau`, `ic ivau`, `dsb ish`; see
//! `dynasmrt::cache_control::synchronize_icache`) and issues `isb`; [`enter`] issues `isb`
//! again on the running thread, which may be another core than the compiling one.

pub(crate) mod encode;

use apiary_vm::instruction::{AluOp, ByteOrder, Cond, Operand, PacketAddr, Reg, Size, Width};
use apiary_vm::program::Program;
use apiary_vm::semantics::imm_value;
use dynasmrt::aarch64::Aarch64Relocation;
use dynasmrt::{dynasm, DynamicLabel, DynasmApi, DynasmLabelApi};

use self::encode::{add_imm, at_width, logical_imm, mov_plan, A64Cond, AddImm, MovOp};
use crate::driver::{emit_program, fault, MemOp, Target};
use crate::lower::{map_code, new_assembler, packet_bound_offset, Cold, Flags, Lowering, MemCheck};
use crate::runtime::{
    callx_trampoline, check_access, exit, helper_trampoline, Shared, CTX_ARGS, CTX_BUDGET,
    CTX_CALL_LIMIT, CTX_COUNT, CTX_CUR_R10, CTX_EXIT_KIND, CTX_FAULT_AUX, CTX_FAULT_PC,
    CTX_INIT_R1, CTX_INIT_R10, CTX_INIT_R2, CTX_INPUT_START, CTX_PACKET_START, CTX_RET, CTX_SAVE,
    CTX_SAVED_SP, CTX_STACK_START, CTX_WINDOW_BASE,
};
use crate::{CompileOptions, Compiled, JitError};

/// Host register of each eBPF register.
const MAP: [u32; 11] = [0, 1, 2, 3, 4, 5, 19, 20, 21, 22, 23];
/// Scratch registers.
const ADDR: u32 = 9;
const T0: u32 = 10;
const T1: u32 = 11;
const FN: u32 = 16;

fn h(r: Reg) -> u32 {
    MAP[r.index()]
}

/// A context offset as the unsigned scaled offset of an 8-byte `ldr`/`str` (all context fields
/// are small multiples of 8; checked here rather than by dynasm's panic).
const fn ctx(off: i32) -> u32 {
    assert!(encode::scaled_offset(off as i64, 8));
    off as u32
}

/// A context offset as the signed scaled offset of an `ldp`/`stp` of 8-byte registers.
const fn pair(off: i32) -> i32 {
    assert!(encode::pair_offset(off as i64));
    off
}

macro_rules! a64 {
    ($ops:expr; $($t:tt)*) => {
        dynasm!($ops ; .arch aarch64 ; $($t)*)
    };
}

mod alu;
mod branch;
mod call;
mod cold;
mod imm;
mod mem;
mod prologue;

use self::alu::Src;
use self::branch::Test;

/// Assembled into ordinary memory, mapped once at the end (see [`new_assembler`]).
type Assembler = dynasmrt::VecAssembler<Aarch64Relocation>;

struct Gen<'a> {
    ops: Assembler,
    lw: Lowering<'a>,
    /// Far-branch decisions by conditional-branch sequence number (second emission only).
    far: Option<&'a [bool]>,
    /// Sequence number of the next conditional branch to a label.
    seq: usize,
    /// First emission: (offset, target) of each conditional branch, by sequence number.
    sites: Vec<(usize, DynamicLabel)>,
    /// Offset of the callback entry stub.
    callback_entry: usize,
    /// The host register holding the sandbox window's base through the whole run (see
    /// [`window_base_reg`]).
    base_reg: Option<u32>,
}

/// The host register that holds the sandbox window's base for the whole run, when the program
/// is confined to a window whose base is no logical immediate and leaves one of r9–r6 unnamed
/// (its callee-saved x22–x19 is then free): confined accesses or it in from the register
/// instead of loading it from the run context first. Loaded by both entry stubs (after they
/// zero r6–r9); local calls save and restore it with r6–r9; helpers preserve it (callee-saved).
fn window_base_reg(
    program: &Program,
    confine: Option<apiary_vm::Confinement>,
    regs_named: u16,
) -> Option<u32> {
    let c = confine.filter(|c| !c.is_none())?;
    if !crate::runtime::may_confine(program) {
        return None;
    }
    if logical_imm(c.base, true) {
        return None;
    }
    [9usize, 8, 7, 6]
        .into_iter()
        .find(|&r| regs_named & (1 << r) == 0)
        .map(|r| MAP[r])
}

/// Compiles `program`.
pub(crate) fn compile(
    program: &Program,
    shared: &Shared,
    flags: Flags,
    opts: &CompileOptions,
) -> Result<Compiled, JitError> {
    // First emission: every conditional branch short.
    let g = emit(program, shared, flags, opts, None)?;
    let labels = g.ops.labels();
    let mut far = Vec::with_capacity(g.sites.len());
    let mut any_far = false;
    for &(from, label) in &g.sites {
        let to = labels
            .resolve_dynamic(label)
            .map_err(|_| JitError::Finalize)?
            .0;
        any_far |= !encode::bcond_reaches(from, to);
        far.push(!encode::stays_short(from, to));
    }
    let g = if any_far {
        emit(program, shared, flags, opts, Some(&far))?
    } else {
        g
    };
    g.finish()
}

fn emit<'a>(
    program: &'a Program,
    shared: &'a Shared,
    flags: Flags,
    opts: &'a CompileOptions,
    far: Option<&'a [bool]>,
) -> Result<Finished, JitError> {
    let n = program.len();
    let mut ops: Assembler = new_assembler(n);
    let lw = Lowering::new(program, shared, flags, opts, &mut || {
        ops.new_dynamic_label()
    });
    let base_reg = window_base_reg(program, opts.confine, lw.scan.regs_named);
    let mut g = Gen {
        ops,
        lw,
        far,
        seq: 0,
        sites: Vec::new(),
        callback_entry: 0,
        base_reg,
    };
    let (entry, offsets) = emit_program(&mut g, n);
    Ok(Finished {
        scan: g.lw.scan,
        ops: g.ops,
        sites: g.sites,
        entry,
        callback_entry: g.callback_entry,
        offsets,
    })
}

/// An emitted, not yet finalized program.
struct Finished {
    scan: crate::analysis::Scan,
    ops: Assembler,
    sites: Vec<(usize, DynamicLabel)>,
    entry: usize,
    callback_entry: usize,
    offsets: Vec<usize>,
}

impl Finished {
    fn finish(self) -> Result<Compiled, JitError> {
        let Finished {
            ops,
            entry,
            callback_entry,
            offsets,
            scan,
            ..
        } = self;
        let code = map_code(&ops.finalize().map_err(|_| JitError::Finalize)?)?;
        Ok(Compiled {
            code,
            entry,
            callback_entry,
            offsets,
            // The entry stub loads the counter, the budget and both region starts.
            needs: crate::runtime::needs::ALL,
            scan,
        })
    }
}

impl<'a> Target<'a> for Gen<'a> {
    const PLAIN_DIRECT: bool = true;

    fn offset(&self) -> usize {
        self.ops.offset().0
    }

    fn prologue(&mut self) -> usize {
        self.stubs()
    }

    fn lw(&self) -> &Lowering<'a> {
        &self.lw
    }

    fn lw_mut(&mut self) -> &mut Lowering<'a> {
        &mut self.lw
    }

    fn new_label(&mut self) -> DynamicLabel {
        self.ops.new_dynamic_label()
    }

    fn bind(&mut self, label: DynamicLabel) {
        a64!(self.ops ; =>label);
    }

    fn count_block(&mut self, cost: u64) {
        self.add_const(true, 25, 25, cost);
    }

    fn alu(&mut self, op: AluOp, width: Width, dst: Reg, src: Operand) {
        self.alu_op(op, width, h(dst), src);
    }

    fn neg(&mut self, width: Width, dst: Reg) {
        let d = h(dst);
        match width {
            Width::W64 => a64!(self.ops ; neg X(d), X(d)),
            Width::W32 => a64!(self.ops ; neg W(d), W(d)),
        }
    }

    fn byte_swap(&mut self, order: ByteOrder, bits: u8, dst: Reg) {
        self.endian(order, bits, h(dst));
    }

    fn load_imm64(&mut self, dst: Reg, value: u64) {
        self.imm64(h(dst), value);
    }

    fn packet_load(&mut self, pc: usize, size: Size, addr: PacketAddr, imm: i32) {
        self.packet(pc, size, addr, imm);
    }

    fn checked_access(&mut self, pc: usize, check: MemCheck, base: Reg, off: i16, op: MemOp) {
        self.address(base, off);
        self.check(pc, check);
        self.access_x9(op);
    }

    fn unchecked_access(&mut self, _pc: usize, base: Reg, off: i16, op: MemOp) {
        self.address(base, off);
        self.access_x9(op);
    }

    /// x9 = `base + off`, then `x9 = (x9 & mask) | base` (the mask 2^k - 1 is always a logical
    /// immediate; a base that is not is loaded from the run context into x10), then the access
    /// at x9.
    fn confined_access(
        &mut self,
        _pc: usize,
        c: apiary_vm::Confinement,
        base: Reg,
        off: i16,
        op: MemOp,
    ) {
        self.address(base, off);
        if logical_imm(c.mask, true) {
            let mask = c.mask;
            a64!(self.ops ; and x9, x9, #mask);
        } else {
            self.mov_const(true, T0, c.mask);
            a64!(self.ops ; and x9, x9, x10);
        }
        if logical_imm(c.base, true) {
            let b = c.base;
            a64!(self.ops ; orr x9, x9, #b);
        } else if let Some(rb) = self.base_reg {
            a64!(self.ops ; orr x9, x9, X(rb));
        } else {
            // From the run context (written by every run: `needs::ALL`): one load instead of
            // up to four moves.
            a64!(self.ops
                ; ldr x10, [x24, #ctx(CTX_WINDOW_BASE)]
                ; orr x9, x9, x10
            );
        }
        self.access_x9(op);
    }

    fn jump_to(&mut self, label: DynamicLabel) {
        a64!(self.ops ; b =>label);
    }

    fn compare(&mut self, cond: Cond, width: Width, dst: Reg, src: Operand) {
        self.compare_flags(cond, width, dst, src);
    }

    fn branch_if(&mut self, cond: Cond, holds: bool, label: DynamicLabel) {
        let c = A64Cond::of(cond);
        self.branch(Test::Cond(if holds { c } else { c.invert() }), label);
    }

    fn budget_check(&mut self, pc: usize) {
        self.budget_test(pc);
    }

    fn plain_helper_call(&mut self, pc: usize, func: usize) {
        self.plain_call(pc, func);
    }

    fn helper_call(&mut self, pc: usize, index: usize) {
        self.trampoline_call(
            pc,
            helper_trampoline as *const () as usize,
            Src::Imm(index as u64),
        );
    }

    fn callx(&mut self, pc: usize, reg: Reg) {
        self.trampoline_call(pc, callx_trampoline as *const () as usize, Src::Reg(h(reg)));
    }

    fn local_call(&mut self, depth: DynamicLabel, target: DynamicLabel) {
        self.local_frame_call(depth, target);
    }

    fn exit(&mut self) {
        a64!(self.ops ; ret);
    }

    fn emit_cold(&mut self) {
        self.emit_cold_stubs();
    }
}

/// Enters generated code.
///
/// # Safety
/// `entry` must be the entry stub of live code produced by [`compile`] for a program whose
/// helpers are in `ctx.shared`, and `ctx` must describe live regions of the current run.
/// Calls back: calls `target` (a function start) through the callback entry stub with
/// r1–r5 = `args` and r10 = `r10` on `ctx`; the stub records r0 and the exit kind in `ctx`.
///
/// # Safety
/// As [`enter`], with `entry` the callback entry stub and `target` a function start of the
/// same code; a run of that code is in progress on `ctx` (inside a helper call), and `r10` is
/// a frame of its stack.
#[cfg(target_arch = "aarch64")]
pub(crate) unsafe fn call_back(
    entry: *const u8,
    ctx: *mut crate::runtime::RunCtx,
    target: u64,
    r10: u64,
    args: [u64; 5],
) {
    type Entry =
        unsafe extern "C" fn(*mut crate::runtime::RunCtx, u64, u64, u64, u64, u64, u64, u64);
    // SAFETY: the callback entry stub follows AAPCS64 for `Entry` (it saves every callee-saved
    // register it uses, never touches x18, and returns with `ret`).
    let f: Entry = unsafe { std::mem::transmute::<*const u8, Entry>(entry) };
    // SAFETY: guaranteed by the caller.
    unsafe {
        f(
            ctx, target, r10, args[0], args[1], args[2], args[3], args[4],
        )
    };
}

#[cfg(target_arch = "aarch64")]
pub(crate) unsafe fn enter(entry: *const u8, ctx: &mut crate::runtime::RunCtx) {
    // SAFETY: `isb` only flushes this core's pipeline, so instructions fetched after it see
    // the code the compiling thread published (its caches were already synchronised by
    // dynasmrt when the code was committed).
    unsafe { std::arch::asm!("isb", options(nostack, preserves_flags)) };
    // SAFETY: the entry stub follows AAPCS64 for `fn(*mut RunCtx)` (it saves every
    // callee-saved register it uses, never touches x18, and returns with `ret`).
    let f: unsafe extern "C" fn(*mut crate::runtime::RunCtx) =
        unsafe { std::mem::transmute(entry) };
    // SAFETY: guaranteed by the caller: the code only touches memory its checks allow (the
    // run's regions) and the context.
    unsafe { f(ctx) };
}
