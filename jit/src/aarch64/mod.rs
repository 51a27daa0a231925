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

use apiary_vm::instruction::{
    AluOp, AtomicOp, ByteOrder, Cond, Operand, PacketAddr, Reg, Size, Width,
};
use apiary_vm::memory::FRAME_SIZE;
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
    CTX_SAVED_SP, CTX_STACK_START,
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

/// A register-or-immediate operand after blinding: immediates are already at the width.
#[derive(Clone, Copy)]
enum Src {
    Reg(u32),
    Imm(u64),
}

/// A conditional branch to a label that may be far away.
#[derive(Clone, Copy)]
enum Test {
    /// `b.cond`
    Cond(A64Cond),
    /// `cbnz x`
    Nonzero(u32),
}

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
    let mut g = Gen {
        ops,
        lw,
        far,
        seq: 0,
        sites: Vec::new(),
        callback_entry: 0,
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

impl Gen<'_> {
    /// Opens an entry stub's 112-byte frame: the frame record and x19–x28 (undone by
    /// [`Gen::restore_frame`]); x24 = the run context (x0).
    fn save_frame(&mut self) {
        a64!(self.ops
            ; stp x29, x30, [sp, #-112]!
            ; mov x29, sp
            ; stp x19, x20, [sp, #16]
            ; stp x21, x22, [sp, #32]
            ; stp x23, x24, [sp, #48]
            ; stp x25, x26, [sp, #64]
            ; stp x27, x28, [sp, #80]
            ; mov x24, x0
        );
    }

    /// Records this frame as the run's `saved_sp` (where the exit stub unwinds to) and loads
    /// the counter, the budget and both region starts from the context into x25–x28.
    fn enter_run(&mut self) {
        a64!(self.ops
            ; mov x9, sp
            ; str x9, [x24, #ctx(CTX_SAVED_SP)]
            ; ldr x25, [x24, #ctx(CTX_COUNT)]
            ; ldr x26, [x24, #ctx(CTX_BUDGET)]
            ; ldr x27, [x24, #ctx(CTX_STACK_START)]
            ; ldr x28, [x24, #ctx(CTX_INPUT_START)]
        );
    }

    /// Restores x19–x28 and the frame record of an entry stub's frame and returns.
    fn restore_frame(&mut self) {
        a64!(self.ops
            ; ldp x27, x28, [sp, #80]
            ; ldp x25, x26, [sp, #64]
            ; ldp x23, x24, [sp, #48]
            ; ldp x21, x22, [sp, #32]
            ; ldp x19, x20, [sp, #16]
            ; ldp x29, x30, [sp], #112
            ; ret
        );
    }

    /// The callback entry `fn(ctx, target, r10, r1, r2, r3, r4, r5)`: calls the function at
    /// `target` on the run in progress (counter, budget and region starts from the context,
    /// which the calling code stored before its helper call), one frame below the caller.
    fn callback_stub(&mut self) {
        self.callback_entry = self.ops.offset().0;
        let resume = self.new_label();
        self.save_frame();
        a64!(self.ops
            ; ldr x9, [x24, #ctx(CTX_SAVED_SP)]
            ; str x9, [sp, #104]
            ; adr x9, =>resume
            ; str x9, [sp, #96]
        );
        self.enter_run();
        a64!(self.ops
            ; mov x16, x1
            ; mov x23, x2
            ; mov x1, x3
            ; mov x2, x4
            ; mov x3, x5
            ; mov x4, x6
            ; mov x5, x7
            ; movz x0, #0
            ; movz x19, #0
            ; movz x20, #0
            ; movz x21, #0
            ; movz x22, #0
            ; blr x16
            ; str x0, [x24, #ctx(CTX_RET)]
            ; movz x9, #exit::OK as u32
            ; str x9, [x24, #ctx(CTX_EXIT_KIND)]
            ; =>resume
            ; str x25, [x24, #ctx(CTX_COUNT)]
            ; ldr x9, [sp, #104]
            ; str x9, [x24, #ctx(CTX_SAVED_SP)]
        );
        self.restore_frame();
    }
}

impl<'a> Target<'a> for Gen<'a> {
    const PLAIN_DIRECT: bool = true;

    fn offset(&self) -> usize {
        self.ops.offset().0
    }

    /// Entry stubs and the shared exit stub. Returns the main entry's offset.
    ///
    /// The main entry is `fn(*mut RunCtx)` (AAPCS64): r1, r2 and r10 come from the context.
    /// The callback entry (see [`Gen::callback_stub`]) is
    /// `fn(*mut RunCtx, target, r10, r1, r2, r3, r4, r5)`. Both keep a 112-byte frame: the
    /// frame record, x19–x28, the address of the stub's epilogue (at 96) and, for callbacks,
    /// the previous `saved_sp` (at 104, so callbacks nest). The exit stub restores sp from
    /// `saved_sp` and branches to the epilogue recorded in that frame, which stores the
    /// counter and returns to the stub's caller.
    fn prologue(&mut self) -> usize {
        self.callback_stub();
        let start = self.ops.offset().0;
        let first = self.lw.labels[0];
        let resume = self.new_label();
        self.save_frame();
        a64!(self.ops
            ; adr x9, =>resume
            ; str x9, [sp, #96]
        );
        self.enter_run();
        a64!(self.ops
            ; movz x0, #0
            ; ldr x1, [x24, #ctx(CTX_INIT_R1)]
            ; ldr x2, [x24, #ctx(CTX_INIT_R2)]
            ; movz x3, #0
            ; movz x4, #0
            ; movz x5, #0
            ; movz x19, #0
            ; movz x20, #0
            ; movz x21, #0
            ; movz x22, #0
            ; ldr x23, [x24, #ctx(CTX_INIT_R10)]
            ; bl =>first
            ; str x0, [x24, #ctx(CTX_RET)]
            ; movz x9, #exit::OK as u32
            ; str x9, [x24, #ctx(CTX_EXIT_KIND)]
            ; =>resume
            ; str x25, [x24, #ctx(CTX_COUNT)]
        );
        self.restore_frame();
        a64!(self.ops
            ; ->leave:
            ; ldr x9, [x24, #ctx(CTX_SAVED_SP)]
            ; mov sp, x9
            ; ldr x9, [sp, #96]
            ; br x9
        );
        start
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

    fn jump_to(&mut self, label: DynamicLabel) {
        a64!(self.ops ; b =>label);
    }

    fn compare(&mut self, cond: Cond, width: Width, dst: Reg, src: Operand) {
        let d = h(dst);
        let w64 = width == Width::W64;
        let s = self.operand(width, src);
        if cond == Cond::Set {
            match s {
                Src::Imm(v) if logical_imm(v, w64) => {
                    if w64 {
                        a64!(self.ops ; tst X(d), #v);
                    } else {
                        a64!(self.ops ; tst W(d), #v as u32);
                    }
                }
                _ => {
                    let r = match s {
                        Src::Reg(r) => r,
                        Src::Imm(v) => {
                            self.mov_const(w64, T0, v);
                            T0
                        }
                    };
                    if w64 {
                        a64!(self.ops ; tst X(d), X(r));
                    } else {
                        a64!(self.ops ; tst W(d), W(r));
                    }
                }
            }
        } else {
            match s {
                Src::Imm(v) => self.cmp_const(w64, d, v),
                Src::Reg(r) if w64 => a64!(self.ops ; cmp X(d), X(r)),
                Src::Reg(r) => a64!(self.ops ; cmp W(d), W(r)),
            }
        }
    }

    fn branch_if(&mut self, cond: Cond, holds: bool, label: DynamicLabel) {
        let c = A64Cond::of(cond);
        self.branch(Test::Cond(if holds { c } else { c.invert() }), label);
    }

    /// Faults with `BudgetExhausted` at `pc` if the count exceeds the budget.
    fn budget_check(&mut self, pc: usize) {
        let l = fault(self, pc, exit::BUDGET, false);
        a64!(self.ops ; cmp x25, x26);
        self.branch(Test::Cond(A64Cond::Hi), l);
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
        a64!(self.ops
            ; ldr x10, [x24, #ctx(CTX_CALL_LIMIT)]
            ; cmp x23, x10
        );
        self.branch(Test::Cond(A64Cond::Lo), depth);
        a64!(self.ops
            ; stp x19, x20, [sp, #-48]!
            ; stp x21, x22, [sp, #16]
            ; stp x23, x30, [sp, #32]
            ; sub x23, x23, #FRAME_SIZE as u32
            ; bl =>target
            ; ldp x23, x30, [sp, #32]
            ; ldp x21, x22, [sp, #16]
            ; ldp x19, x20, [sp], #48
        );
    }

    fn exit(&mut self) {
        a64!(self.ops ; ret);
    }

    fn emit_cold(&mut self) {
        let cold = std::mem::take(&mut self.lw.cold);
        for c in cold {
            match c {
                Cold::Fault {
                    label,
                    pc,
                    kind,
                    with_addr,
                } => {
                    a64!(self.ops ; =>label);
                    if with_addr {
                        a64!(self.ops ; str x9, [x24, #ctx(CTX_FAULT_AUX)]);
                    }
                    self.mov_const(true, T0, pc as u64);
                    a64!(self.ops ; str x10, [x24, #ctx(CTX_FAULT_PC)]);
                    self.mov_const(true, T0, kind);
                    a64!(self.ops ; str x10, [x24, #ctx(CTX_EXIT_KIND)]);
                    self.fixup(pc);
                    a64!(self.ops ; b ->leave);
                }
                Cold::Leave { label, pc } => {
                    a64!(self.ops ; =>label);
                    self.fixup(pc);
                    a64!(self.ops ; b ->leave);
                }
                Cold::PacketEnd { label, pc } => {
                    a64!(self.ops
                        ; =>label
                        ; str xzr, [x24, #ctx(CTX_RET)]
                    );
                    self.mov_const(true, T0, exit::OK);
                    a64!(self.ops ; str x10, [x24, #ctx(CTX_EXIT_KIND)]);
                    self.fixup(pc);
                    a64!(self.ops ; b ->leave);
                }
                Cold::Slow {
                    label,
                    ok,
                    fault,
                    len,
                    write,
                } => {
                    let la = u64::from(len) | if write { 0x100 } else { 0 };
                    a64!(self.ops
                        ; =>label
                        ; stp x0, x1, [x24, #pair(CTX_SAVE)]
                        ; stp x2, x3, [x24, #pair(CTX_SAVE + 16)]
                        ; stp x4, x5, [x24, #pair(CTX_SAVE + 32)]
                        ; str x9, [x24, #ctx(CTX_SAVE + 48)]
                        ; mov x0, x24
                        ; mov x1, x9
                    );
                    self.mov_const(true, 2, la);
                    self.mov_const(true, FN, check_access as *const () as usize as u64);
                    a64!(self.ops
                        ; str x30, [sp, #-16]!
                        ; blr x16
                        ; ldr x30, [sp], #16
                        ; mov x10, x0
                        ; ldp x0, x1, [x24, #pair(CTX_SAVE)]
                        ; ldp x2, x3, [x24, #pair(CTX_SAVE + 16)]
                        ; ldp x4, x5, [x24, #pair(CTX_SAVE + 32)]
                        ; ldr x9, [x24, #ctx(CTX_SAVE + 48)]
                        ; cbz x10, >denied
                        ; b =>ok
                        ; denied:
                        ; b =>fault
                    );
                }
            }
        }
    }
}

impl Gen<'_> {
    /// A conditional branch to `target`, in the far form when the relaxation pass said so.
    fn branch(&mut self, test: Test, target: DynamicLabel) {
        let seq = self.seq;
        self.seq += 1;
        let far = self
            .far
            .is_some_and(|f| f.get(seq).copied().unwrap_or(true));
        if far {
            let skip = self.new_label();
            match test {
                Test::Cond(c) => self.bcond(c.invert(), skip),
                Test::Nonzero(r) => a64!(self.ops ; cbz X(r), =>skip),
            }
            a64!(self.ops ; b =>target ; =>skip);
        } else {
            if self.far.is_none() {
                self.sites.push((self.ops.offset().0, target));
            }
            match test {
                Test::Cond(c) => self.bcond(c, target),
                Test::Nonzero(r) => a64!(self.ops ; cbnz X(r), =>target),
            }
        }
    }

    /// `b.cond` to a label known to be in reach.
    fn bcond(&mut self, c: A64Cond, l: DynamicLabel) {
        match c {
            A64Cond::Eq => a64!(self.ops ; b.eq =>l),
            A64Cond::Ne => a64!(self.ops ; b.ne =>l),
            A64Cond::Hi => a64!(self.ops ; b.hi =>l),
            A64Cond::Hs => a64!(self.ops ; b.hs =>l),
            A64Cond::Lo => a64!(self.ops ; b.lo =>l),
            A64Cond::Ls => a64!(self.ops ; b.ls =>l),
            A64Cond::Gt => a64!(self.ops ; b.gt =>l),
            A64Cond::Ge => a64!(self.ops ; b.ge =>l),
            A64Cond::Lt => a64!(self.ops ; b.lt =>l),
            A64Cond::Le => a64!(self.ops ; b.le =>l),
        }
    }

    /// Puts `v` (at the width) into `d`.
    fn mov_const(&mut self, w64: bool, d: u32, v: u64) {
        for op in mov_plan(v, w64) {
            match (op, w64) {
                (MovOp::Orr(x), true) => a64!(self.ops ; orr XSP(d), xzr, #x),
                (MovOp::Orr(x), false) => a64!(self.ops ; orr WSP(d), wzr, #x as u32),
                (MovOp::Z(i, s), true) => self.movz(d, i, s),
                (MovOp::N(i, s), true) => self.movn(d, i, s),
                (MovOp::K(i, s), true) => self.movk(d, i, s),
                (MovOp::Z(i, s), false) => {
                    let i = u32::from(i);
                    if s == 0 {
                        a64!(self.ops ; movz W(d), #i);
                    } else {
                        a64!(self.ops ; movz W(d), #i, lsl #16);
                    }
                }
                (MovOp::N(i, s), false) => {
                    let i = u32::from(i);
                    if s == 0 {
                        a64!(self.ops ; movn W(d), #i);
                    } else {
                        a64!(self.ops ; movn W(d), #i, lsl #16);
                    }
                }
                (MovOp::K(i, s), false) => {
                    let i = u32::from(i);
                    if s == 0 {
                        a64!(self.ops ; movk W(d), #i);
                    } else {
                        a64!(self.ops ; movk W(d), #i, lsl #16);
                    }
                }
            }
        }
    }

    fn movz(&mut self, d: u32, i: u16, s: u8) {
        let i = u32::from(i);
        match s {
            0 => a64!(self.ops ; movz X(d), #i),
            16 => a64!(self.ops ; movz X(d), #i, lsl #16),
            32 => a64!(self.ops ; movz X(d), #i, lsl #32),
            _ => a64!(self.ops ; movz X(d), #i, lsl #48),
        }
    }

    fn movn(&mut self, d: u32, i: u16, s: u8) {
        let i = u32::from(i);
        match s {
            0 => a64!(self.ops ; movn X(d), #i),
            16 => a64!(self.ops ; movn X(d), #i, lsl #16),
            32 => a64!(self.ops ; movn X(d), #i, lsl #32),
            _ => a64!(self.ops ; movn X(d), #i, lsl #48),
        }
    }

    fn movk(&mut self, d: u32, i: u16, s: u8) {
        let i = u32::from(i);
        match s {
            0 => a64!(self.ops ; movk X(d), #i),
            16 => a64!(self.ops ; movk X(d), #i, lsl #16),
            32 => a64!(self.ops ; movk X(d), #i, lsl #32),
            _ => a64!(self.ops ; movk X(d), #i, lsl #48),
        }
    }

    /// `d = n + v` at the width; `v` goes through T0 when it is no add/sub immediate (so `n`
    /// must not be T0 then).
    fn add_const(&mut self, w64: bool, d: u32, n: u32, v: u64) {
        match (add_imm(v, w64), w64) {
            (AddImm::Add(i), true) if i.value == 0 && d == n => {}
            (AddImm::Add(i), true) => {
                let x = i.value;
                if i.lsl12 {
                    a64!(self.ops ; add XSP(d), XSP(n), #x, lsl #12);
                } else {
                    a64!(self.ops ; add XSP(d), XSP(n), #x);
                }
            }
            (AddImm::Add(i), false) => {
                let x = i.value;
                if i.lsl12 {
                    a64!(self.ops ; add WSP(d), WSP(n), #x, lsl #12);
                } else {
                    a64!(self.ops ; add WSP(d), WSP(n), #x);
                }
            }
            (AddImm::Sub(i), true) => {
                let x = i.value;
                if i.lsl12 {
                    a64!(self.ops ; sub XSP(d), XSP(n), #x, lsl #12);
                } else {
                    a64!(self.ops ; sub XSP(d), XSP(n), #x);
                }
            }
            (AddImm::Sub(i), false) => {
                let x = i.value;
                if i.lsl12 {
                    a64!(self.ops ; sub WSP(d), WSP(n), #x, lsl #12);
                } else {
                    a64!(self.ops ; sub WSP(d), WSP(n), #x);
                }
            }
            (AddImm::Reg, true) => {
                self.mov_const(true, T0, v);
                a64!(self.ops ; add X(d), X(n), x10);
            }
            (AddImm::Reg, false) => {
                self.mov_const(false, T0, v);
                a64!(self.ops ; add W(d), W(n), w10);
            }
        }
    }

    /// Flags of `d - v` at the width (`cmp`, `cmn` or a register compare through T0).
    fn cmp_const(&mut self, w64: bool, d: u32, v: u64) {
        match (add_imm(v, w64), w64) {
            (AddImm::Add(i), true) => {
                let x = i.value;
                if i.lsl12 {
                    a64!(self.ops ; cmp XSP(d), #x, lsl #12);
                } else {
                    a64!(self.ops ; cmp XSP(d), #x);
                }
            }
            (AddImm::Add(i), false) => {
                let x = i.value;
                if i.lsl12 {
                    a64!(self.ops ; cmp WSP(d), #x, lsl #12);
                } else {
                    a64!(self.ops ; cmp WSP(d), #x);
                }
            }
            (AddImm::Sub(i), true) => {
                let x = i.value;
                if i.lsl12 {
                    a64!(self.ops ; cmn XSP(d), #x, lsl #12);
                } else {
                    a64!(self.ops ; cmn XSP(d), #x);
                }
            }
            (AddImm::Sub(i), false) => {
                let x = i.value;
                if i.lsl12 {
                    a64!(self.ops ; cmn WSP(d), #x, lsl #12);
                } else {
                    a64!(self.ops ; cmn WSP(d), #x);
                }
            }
            (AddImm::Reg, true) => {
                self.mov_const(true, T0, v);
                a64!(self.ops ; cmp X(d), x10);
            }
            (AddImm::Reg, false) => {
                self.mov_const(false, T0, v);
                a64!(self.ops ; cmp W(d), w10);
            }
        }
    }

    /// Calls a trampoline `(ctx, arg, pc)` with r1–r5 stored in the context (the helper's
    /// arguments), restoring them afterwards: r1–r5 survive helper calls.
    fn trampoline_call(&mut self, pc: usize, func: usize, arg: Src) {
        let leave = self.new_label();
        self.lw.cold.push(Cold::Leave { label: leave, pc });
        a64!(self.ops
            ; stp x1, x2, [x24, #pair(CTX_ARGS)]
            ; stp x3, x4, [x24, #pair(CTX_ARGS + 16)]
            ; str x5, [x24, #ctx(CTX_ARGS + 32)]
        );
        let callbacks = self.lw.callbacks;
        if callbacks {
            // The helper may call back: the callback reads the counter and r10 from the
            // context, and its own helper calls reuse the argument area, so r1–r5 are kept on
            // the host stack.
            a64!(self.ops
                ; str x25, [x24, #ctx(CTX_COUNT)]
                ; str x23, [x24, #ctx(CTX_CUR_R10)]
                ; stp x1, x2, [sp, #-48]!
                ; stp x3, x4, [sp, #16]
                ; str x5, [sp, #32]
            );
        }
        // x1 first: the callx register may be x0 or x2, still intact here.
        match arg {
            Src::Imm(i) => self.mov_const(true, 1, i),
            Src::Reg(r) => a64!(self.ops ; mov x1, X(r)),
        }
        self.mov_const(true, 2, pc as u64);
        a64!(self.ops ; mov x0, x24);
        self.mov_const(true, FN, func as u64);
        a64!(self.ops
            ; str x30, [sp, #-16]!
            ; blr x16
            ; ldr x30, [sp], #16
        );
        if callbacks {
            a64!(self.ops
                ; ldr x25, [x24, #ctx(CTX_COUNT)]
                ; ldr x5, [sp, #32]
                ; ldp x3, x4, [sp, #16]
                ; ldp x1, x2, [sp], #48
            );
        }
        self.branch(Test::Nonzero(0), leave);
        a64!(self.ops ; ldr x0, [x24, #ctx(CTX_RET)]);
        if !callbacks {
            a64!(self.ops
                ; ldp x1, x2, [x24, #pair(CTX_ARGS)]
                ; ldp x3, x4, [x24, #pair(CTX_ARGS + 16)]
                ; ldr x5, [x24, #ctx(CTX_ARGS + 32)]
            );
        }
    }

    /// Calls a plain helper (`extern "C"`, AAPCS64) directly: r1–r5 (x1–x5) shift down to
    /// x0–x4, r0 comes back in x0. x1–x5 are caller-saved, so the ones the code after the call
    /// may read are kept in the context's argument area around it.
    fn plain_call(&mut self, pc: usize, func: usize) {
        let live = self.lw.live_args_after(pc);
        for r in 1..=5u32 {
            if live & (1 << r) != 0 {
                a64!(self.ops ; str X(r), [x24, #ctx(CTX_ARGS + 8 * (r as i32 - 1))]);
            }
        }
        a64!(self.ops
            ; mov x0, x1
            ; mov x1, x2
            ; mov x2, x3
            ; mov x3, x4
            ; mov x4, x5
        );
        self.mov_const(true, FN, func as u64);
        a64!(self.ops
            ; str x30, [sp, #-16]!
            ; blr x16
            ; ldr x30, [sp], #16
        );
        for r in 1..=5u32 {
            if live & (1 << r) != 0 {
                a64!(self.ops ; ldr X(r), [x24, #ctx(CTX_ARGS + 8 * (r as i32 - 1))]);
            }
        }
    }

    /// Puts the blinded immediate (`imm` at the width) into T0: `(imm ^ key) ^ key`.
    fn blinded_imm_to_t0(&mut self, w64: bool, v: u64) {
        let key = at_width(self.lw.next_key64(), w64);
        self.mov_const(w64, T0, v ^ key);
        self.mov_const(w64, T1, key);
        if w64 {
            a64!(self.ops ; eor x10, x10, x11);
        } else {
            a64!(self.ops ; eor w10, w10, w11);
        }
    }

    /// Resolves an operand, blinding immediates into T0 when asked.
    fn operand(&mut self, width: Width, src: Operand) -> Src {
        match src {
            Operand::Reg(r) => Src::Reg(h(r)),
            Operand::Imm(i) => {
                let v = imm_value(i, width);
                if self.lw.opts.blind_constants {
                    self.blinded_imm_to_t0(width == Width::W64, v);
                    Src::Reg(T0)
                } else {
                    Src::Imm(v)
                }
            }
        }
    }

    /// The operand in a register: immediates go to T0.
    fn operand_reg(&mut self, width: Width, src: Operand) -> u32 {
        match self.operand(width, src) {
            Src::Reg(r) => r,
            Src::Imm(v) => {
                self.mov_const(width == Width::W64, T0, v);
                T0
            }
        }
    }

    fn alu_op(&mut self, op: AluOp, width: Width, d: u32, src: Operand) {
        let w64 = width == Width::W64;
        macro_rules! reg3 {
            ($mn:ident, $s:expr) => {
                if w64 {
                    a64!(self.ops ; $mn X(d), X(d), X($s))
                } else {
                    a64!(self.ops ; $mn W(d), W(d), W($s))
                }
            };
        }
        match op {
            AluOp::Add | AluOp::Sub => match self.operand(width, src) {
                Src::Imm(v) => {
                    let v = if op == AluOp::Sub {
                        v.wrapping_neg()
                    } else {
                        v
                    };
                    self.add_const(w64, d, d, v);
                }
                Src::Reg(s) if op == AluOp::Add => reg3!(add, s),
                Src::Reg(s) => reg3!(sub, s),
            },
            AluOp::Or | AluOp::And | AluOp::Xor => {
                let s = match self.operand(width, src) {
                    Src::Imm(v) if logical_imm(v, w64) => {
                        match (op, w64) {
                            (AluOp::Or, true) => a64!(self.ops ; orr XSP(d), X(d), #v),
                            (AluOp::And, true) => a64!(self.ops ; and XSP(d), X(d), #v),
                            (_, true) => a64!(self.ops ; eor XSP(d), X(d), #v),
                            (AluOp::Or, false) => a64!(self.ops ; orr WSP(d), W(d), #v as u32),
                            (AluOp::And, false) => {
                                a64!(self.ops ; and WSP(d), W(d), #v as u32)
                            }
                            (_, false) => a64!(self.ops ; eor WSP(d), W(d), #v as u32),
                        }
                        return;
                    }
                    Src::Imm(v) => {
                        self.mov_const(w64, T0, v);
                        T0
                    }
                    Src::Reg(s) => s,
                };
                match op {
                    AluOp::Or => reg3!(orr, s),
                    AluOp::And => reg3!(and, s),
                    _ => reg3!(eor, s),
                }
            }
            AluOp::Mul => {
                let s = self.operand_reg(width, src);
                reg3!(mul, s);
            }
            AluOp::Mov => match src {
                Operand::Reg(r) => {
                    let s = h(r);
                    if w64 {
                        a64!(self.ops ; mov X(d), X(s));
                    } else {
                        a64!(self.ops ; mov W(d), W(s));
                    }
                }
                Operand::Imm(i) => {
                    let v = imm_value(i, width);
                    if self.lw.opts.blind_constants {
                        self.blinded_imm_to_t0(w64, v);
                        if w64 {
                            a64!(self.ops ; mov X(d), x10);
                        } else {
                            a64!(self.ops ; mov W(d), w10);
                        }
                    } else {
                        self.mov_const(w64, d, v);
                    }
                }
            },
            AluOp::Movsx(bits) => {
                let Operand::Reg(r) = src else {
                    return self.alu_op(AluOp::Mov, width, d, src);
                };
                let s = h(r);
                match (w64, bits) {
                    (true, 8) => a64!(self.ops ; sxtb X(d), W(s)),
                    (true, 16) => a64!(self.ops ; sxth X(d), W(s)),
                    (true, 32) => a64!(self.ops ; sxtw X(d), W(s)),
                    (false, 8) => a64!(self.ops ; sxtb W(d), W(s)),
                    (false, 16) => a64!(self.ops ; sxth W(d), W(s)),
                    (false, _) => a64!(self.ops ; mov W(d), W(s)),
                    (true, _) => a64!(self.ops ; mov X(d), X(s)),
                }
            }
            AluOp::Lsh | AluOp::Rsh | AluOp::Arsh => self.shift(op, width, d, src),
            AluOp::Div | AluOp::Mod | AluOp::Sdiv | AluOp::Smod => {
                self.divide(op, width, d, src);
            }
        }
    }

    /// Shifts: the hardware masks register counts to the width, as eBPF does.
    fn shift(&mut self, op: AluOp, width: Width, d: u32, src: Operand) {
        let w64 = width == Width::W64;
        match src {
            Operand::Imm(i) => {
                let c = (i as u32) & if w64 { 63 } else { 31 };
                match (op, w64) {
                    (AluOp::Lsh, true) => a64!(self.ops ; lsl X(d), X(d), #c),
                    (AluOp::Rsh, true) => a64!(self.ops ; lsr X(d), X(d), #c),
                    (_, true) => a64!(self.ops ; asr X(d), X(d), #c),
                    (AluOp::Lsh, false) => a64!(self.ops ; lsl W(d), W(d), #c),
                    (AluOp::Rsh, false) => a64!(self.ops ; lsr W(d), W(d), #c),
                    (_, false) => a64!(self.ops ; asr W(d), W(d), #c),
                }
            }
            Operand::Reg(r) => {
                let s = h(r);
                match (op, w64) {
                    (AluOp::Lsh, true) => a64!(self.ops ; lslv X(d), X(d), X(s)),
                    (AluOp::Rsh, true) => a64!(self.ops ; lsrv X(d), X(d), X(s)),
                    (_, true) => a64!(self.ops ; asrv X(d), X(d), X(s)),
                    (AluOp::Lsh, false) => a64!(self.ops ; lslv W(d), W(d), W(s)),
                    (AluOp::Rsh, false) => a64!(self.ops ; lsrv W(d), W(d), W(s)),
                    (_, false) => a64!(self.ops ; asrv W(d), W(d), W(s)),
                }
            }
        }
    }

    /// Division and modulo. aarch64 `udiv`/`sdiv` never trap and already give eBPF's results
    /// (x / 0 = 0, MIN / -1 = MIN); modulo is `d - (d / s) * s` (`msub`), which leaves `d` for
    /// s = 0 (zero-extended at 32 bits) and gives 0 for MIN % -1.
    fn divide(&mut self, op: AluOp, width: Width, d: u32, src: Operand) {
        let w64 = width == Width::W64;
        let s = self.operand_reg(width, src);
        match (op, w64) {
            (AluOp::Div, true) => a64!(self.ops ; udiv X(d), X(d), X(s)),
            (AluOp::Div, false) => a64!(self.ops ; udiv W(d), W(d), W(s)),
            (AluOp::Sdiv, true) => a64!(self.ops ; sdiv X(d), X(d), X(s)),
            (AluOp::Sdiv, false) => a64!(self.ops ; sdiv W(d), W(d), W(s)),
            (AluOp::Mod, true) => {
                a64!(self.ops ; udiv x11, X(d), X(s) ; msub X(d), x11, X(s), X(d))
            }
            (AluOp::Mod, false) => {
                a64!(self.ops ; udiv w11, W(d), W(s) ; msub W(d), w11, W(s), W(d))
            }
            (_, true) => a64!(self.ops ; sdiv x11, X(d), X(s) ; msub X(d), x11, X(s), X(d)),
            (_, false) => a64!(self.ops ; sdiv w11, W(d), W(s) ; msub W(d), w11, W(s), W(d)),
        }
    }

    fn endian(&mut self, order: ByteOrder, bits: u8, d: u32) {
        match (order, bits) {
            (ByteOrder::ToLe, 16) => a64!(self.ops ; uxth W(d), W(d)),
            (ByteOrder::ToLe, 32) => a64!(self.ops ; mov W(d), W(d)),
            (ByteOrder::ToLe, _) => {}
            (_, 16) => a64!(self.ops ; rev16 W(d), W(d) ; uxth W(d), W(d)),
            (_, 32) => a64!(self.ops ; rev W(d), W(d)),
            (_, _) => a64!(self.ops ; rev X(d), X(d)),
        }
    }

    fn imm64(&mut self, d: u32, v: u64) {
        if self.lw.opts.blind_constants {
            self.blinded_imm_to_t0(true, v);
            a64!(self.ops ; mov X(d), x10);
        } else {
            self.mov_const(true, d, v);
        }
    }

    /// Computes `base + off` into x9.
    fn address(&mut self, base: Reg, off: i16) {
        let b = h(base);
        let off = i64::from(off) as u64;
        if off == 0 {
            a64!(self.ops ; mov x9, X(b));
        } else {
            self.add_const(true, ADDR, b, off);
        }
    }

    /// The bounds and alignment tests of the access of slot `pc` at x9, as `check` says.
    fn check(&mut self, pc: usize, check: MemCheck) {
        if check.bounds {
            let ok = self.new_label();
            let fault = fault(self, pc, exit::OUT_OF_BOUNDS, true);
            a64!(self.ops ; sub x11, x9, x27);
            self.cmp_const(true, T1, check.stack_bound);
            let bound = ctx(check.input_bound_off);
            a64!(self.ops
                ; b.lo =>ok
                ; sub x10, x9, x28
                ; ldr x11, [x24, #bound]
                ; cmp x10, x11
            );
            let bad = if self.lw.extra_regions {
                let slow = self.new_label();
                self.lw.cold.push(Cold::Slow {
                    label: slow,
                    ok,
                    fault,
                    len: check.len,
                    write: check.write,
                });
                slow
            } else {
                fault
            };
            self.branch(Test::Cond(A64Cond::Hs), bad);
            a64!(self.ops ; =>ok);
        }
        if check.align {
            let mis = fault(self, pc, exit::MISALIGNED, true);
            let mask = u64::from(check.len) - 1;
            a64!(self.ops ; tst x9, #mask);
            self.branch(Test::Cond(A64Cond::Ne), mis);
        }
    }

    /// The access `op` itself at `[x9]`, after any check.
    fn access_x9(&mut self, op: MemOp) {
        match op {
            MemOp::Load {
                size,
                sign_extend,
                dst,
            } => {
                let d = h(dst);
                match (size, sign_extend) {
                    (Size::B, false) => a64!(self.ops ; ldrb W(d), [x9]),
                    (Size::H, false) => a64!(self.ops ; ldrh W(d), [x9]),
                    (Size::W, false) => a64!(self.ops ; ldr W(d), [x9]),
                    (Size::DW, _) => a64!(self.ops ; ldr X(d), [x9]),
                    (Size::B, true) => a64!(self.ops ; ldrsb X(d), [x9]),
                    (Size::H, true) => a64!(self.ops ; ldrsh X(d), [x9]),
                    (Size::W, true) => a64!(self.ops ; ldrsw X(d), [x9]),
                }
            }
            MemOp::Store { size, src } => self.store(size, src),
            MemOp::Atomic {
                size,
                op,
                fetch,
                src,
            } => self.atomic(size, op, fetch, h(src)),
        }
    }

    fn store(&mut self, size: Size, src: Operand) {
        let s = match src {
            Operand::Imm(i) if self.lw.opts.blind_constants => {
                self.blinded_imm_to_t0(true, imm_value(i, Width::W64));
                T0
            }
            // Zero is stored from the zero register.
            Operand::Imm(0) => 31,
            Operand::Imm(i) => {
                self.mov_const(true, T0, imm_value(i, Width::W64));
                T0
            }
            Operand::Reg(r) => h(r),
        };
        if s == 31 {
            match size {
                Size::B => a64!(self.ops ; strb wzr, [x9]),
                Size::H => a64!(self.ops ; strh wzr, [x9]),
                Size::W => a64!(self.ops ; str wzr, [x9]),
                Size::DW => a64!(self.ops ; str xzr, [x9]),
            }
            return;
        }
        match size {
            Size::B => a64!(self.ops ; strb W(s), [x9]),
            Size::H => a64!(self.ops ; strh W(s), [x9]),
            Size::W => a64!(self.ops ; str W(s), [x9]),
            Size::DW => a64!(self.ops ; str X(s), [x9]),
        }
    }

    /// Atomic read-modify-write on `[x9]` (checked and aligned): exclusive-monitor loops with
    /// acquire-release ordering. x10 = old value, x12 = new value, w11 = store status.
    fn atomic(&mut self, size: Size, op: AtomicOp, fetch: bool, s: u32) {
        let w64 = size == Size::DW;
        match op {
            AtomicOp::Add | AtomicOp::Or | AtomicOp::And | AtomicOp::Xor => {
                if w64 {
                    a64!(self.ops ; retry: ; ldaxr x10, [x9]);
                    match op {
                        AtomicOp::Add => a64!(self.ops ; add x12, x10, X(s)),
                        AtomicOp::Or => a64!(self.ops ; orr x12, x10, X(s)),
                        AtomicOp::And => a64!(self.ops ; and x12, x10, X(s)),
                        _ => a64!(self.ops ; eor x12, x10, X(s)),
                    }
                    a64!(self.ops ; stlxr w11, x12, [x9] ; cbnz w11, <retry);
                    if fetch {
                        a64!(self.ops ; mov X(s), x10);
                    }
                } else {
                    a64!(self.ops ; retry: ; ldaxr w10, [x9]);
                    match op {
                        AtomicOp::Add => a64!(self.ops ; add w12, w10, W(s)),
                        AtomicOp::Or => a64!(self.ops ; orr w12, w10, W(s)),
                        AtomicOp::And => a64!(self.ops ; and w12, w10, W(s)),
                        _ => a64!(self.ops ; eor w12, w10, W(s)),
                    }
                    a64!(self.ops ; stlxr w11, w12, [x9] ; cbnz w11, <retry);
                    if fetch {
                        a64!(self.ops ; mov W(s), w10);
                    }
                }
            }
            AtomicOp::Xchg => {
                if w64 {
                    a64!(self.ops
                        ; retry:
                        ; ldaxr x10, [x9]
                        ; stlxr w11, X(s), [x9]
                        ; cbnz w11, <retry
                        ; mov X(s), x10
                    );
                } else {
                    a64!(self.ops
                        ; retry:
                        ; ldaxr w10, [x9]
                        ; stlxr w11, W(s), [x9]
                        ; cbnz w11, <retry
                        ; mov W(s), w10
                    );
                }
            }
            AtomicOp::Cmpxchg => {
                // r0 = old value whether or not the exchange happened.
                if w64 {
                    a64!(self.ops
                        ; retry:
                        ; ldaxr x10, [x9]
                        ; cmp x10, x0
                        ; b.ne >differ
                        ; stlxr w11, X(s), [x9]
                        ; cbnz w11, <retry
                        ; b >done
                        ; differ:
                        ; clrex
                        ; done:
                        ; mov x0, x10
                    );
                } else {
                    a64!(self.ops
                        ; retry:
                        ; ldaxr w10, [x9]
                        ; cmp w10, w0
                        ; b.ne >differ
                        ; stlxr w11, W(s), [x9]
                        ; cbnz w11, <retry
                        ; b >done
                        ; differ:
                        ; clrex
                        ; done:
                        ; mov w0, w10
                    );
                }
            }
        }
    }

    /// Legacy packet loads: r0 = big-endian value at input offset (32-bit wrapping).
    fn packet(&mut self, pc: usize, size: Size, addr: PacketAddr, imm: i32) {
        match addr {
            PacketAddr::Abs => self.mov_const(false, ADDR, u64::from(imm as u32)),
            PacketAddr::Ind(r) => self.add_const(false, ADDR, h(r), u64::from(imm as u32)),
        }
        let end = self.new_label();
        self.lw.cold.push(Cold::PacketEnd { label: end, pc });
        let bound = ctx(packet_bound_offset(size));
        a64!(self.ops
            ; ldr x10, [x24, #bound]
            ; cmp x9, x10
        );
        self.branch(Test::Cond(A64Cond::Hs), end);
        a64!(self.ops
            ; ldr x10, [x24, #ctx(CTX_PACKET_START)]
            ; add x9, x9, x10
        );
        match size {
            Size::B => a64!(self.ops ; ldrb w0, [x9]),
            Size::H => a64!(self.ops ; ldrh w0, [x9] ; rev16 w0, w0),
            _ => a64!(self.ops ; ldr w0, [x9] ; rev w0, w0),
        }
    }

    fn fixup(&mut self, pc: usize) {
        let r = self.lw.fixup(pc);
        if r != 0 {
            self.add_const(true, 25, 25, r.wrapping_neg());
        }
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
