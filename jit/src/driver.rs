//! The one lowering driver: walks the program and matches each [`Instruction`] once, deciding
//! everything that does not depend on the host instruction set (block labels and counts,
//! where the budget is tested, which accesses are checked, how a helper is called, which
//! slots fault unconditionally), and calls the backend's [`Target`] for the encodings.
//!
//! A backend implements [`Target`] with one method per operation and keeps only its own
//! encodings and its own code-quality tricks (x86-64's check elision windows, aarch64's branch
//! relaxation). Adding an eBPF instruction means one arm here and, where it needs a new
//! operation, one method per backend; changing how accesses are emitted means one method per
//! backend ([`Target::checked_access`] or [`Target::unchecked_access`]).

use apiary_vm::instruction::{
    AluOp, AtomicOp, ByteOrder, Cond, Instruction, Lddw, Operand, PacketAddr, Reg, Size, Width,
};
use apiary_vm::memory::code_address;
use apiary_vm::program::Program;
use dynasmrt::DynamicLabel;

use crate::lower::{Lowering, MemCheck};
use crate::runtime::exit;

/// The memory operation of a load, store or atomic slot, handed to the backend with its
/// address `[base + off]`.
#[derive(Clone, Copy, Debug)]
pub(crate) enum MemOp {
    /// `dst = *(size *)addr`, zero- or sign-extended.
    Load {
        size: Size,
        sign_extend: bool,
        dst: Reg,
    },
    /// `*(size *)addr = src`.
    Store { size: Size, src: Operand },
    /// An atomic read-modify-write of `size` (W or DW) with `src` (and r0 for `cmpxchg`).
    Atomic {
        size: Size,
        op: AtomicOp,
        fetch: bool,
        src: Reg,
    },
}

/// A backend's encodings, one method per operation the driver lowers. Labels are the
/// assembler's; `pc` is the slot being lowered (for fault records and metering fix-ups).
pub(crate) trait Target<'a> {
    /// Whether plain helpers (`extern "C"`) are called directly rather than through the
    /// trampoline (their ABI is the backend's native one).
    const PLAIN_DIRECT: bool;

    /// The shared per-compilation state.
    fn lw(&self) -> &Lowering<'a>;
    /// The shared per-compilation state, to register out-of-line stubs.
    fn lw_mut(&mut self) -> &mut Lowering<'a>;
    /// Current code offset.
    fn offset(&self) -> usize;
    /// A fresh label.
    fn new_label(&mut self) -> DynamicLabel;
    /// Defines `label` here.
    fn bind(&mut self, label: DynamicLabel);

    /// Emits the entry and exit stubs; returns the entry offset.
    fn prologue(&mut self) -> usize;
    /// Emits the pending out-of-line code (fault stubs, slow paths, copies).
    fn emit_cold(&mut self);

    /// A basic block starts here (its label is already bound): forget per-block state.
    fn block_start(&mut self) {}
    /// Adds a block's instruction count to the counter (metering).
    fn count_block(&mut self, cost: u64);
    /// After slot `pc`'s code (the backend may forget facts the slot invalidated).
    fn after_slot(&mut self, _pc: usize) {}

    /// `dst = dst op src` at `width` (moves, sign-extending moves and every arithmetic op).
    fn alu(&mut self, op: AluOp, width: Width, dst: Reg, src: Operand);
    /// `dst = -dst` at `width`.
    fn neg(&mut self, width: Width, dst: Reg);
    /// Byte swap or truncation of `dst` to `bits`.
    fn byte_swap(&mut self, order: ByteOrder, bits: u8, dst: Reg);
    /// `dst = value` (a 64-bit constant, blinded when asked).
    fn load_imm64(&mut self, dst: Reg, value: u64);
    /// A legacy packet load into r0 (its own bounds test ends the run with r0 = 0).
    fn packet_load(&mut self, pc: usize, size: Size, addr: PacketAddr, imm: i32);

    /// The access `op` at `[base + off]` of slot `pc`, tested as `check` says (bounds and/or
    /// alignment, each faulting at `pc`).
    fn checked_access(&mut self, pc: usize, check: MemCheck, base: Reg, off: i16, op: MemOp);
    /// The access `op` at `[base + off]` of slot `pc` with no test at all: a verifier proved
    /// it safe (unchecked mode) or it lies in the current stack frame. The one place an
    /// unchecked address is formed.
    fn unchecked_access(&mut self, pc: usize, base: Reg, off: i16, op: MemOp);
    /// The unchecked access `op` of slot `pc` in sandboxed verified mode: at
    /// `confine.apply(base + off)` (`base | ((base + off) & mask)`), inside the sandbox window
    /// whatever the address ([`MemCheck::confine`]).
    fn confined_access(
        &mut self,
        pc: usize,
        confine: apiary_vm::Confinement,
        base: Reg,
        off: i16,
        op: MemOp,
    );

    /// Unconditional jump to `label`.
    fn jump_to(&mut self, label: DynamicLabel);
    /// Sets the flags for `cond` on `dst` and `src` at `width`.
    fn compare(&mut self, cond: Cond, width: Width, dst: Reg, src: Operand);
    /// Branches to `label` when `cond` held (`holds`) or did not hold (`!holds`) at the last
    /// [`Target::compare`].
    fn branch_if(&mut self, cond: Cond, holds: bool, label: DynamicLabel);
    /// Faults with `BudgetExhausted` at `pc` when the count exceeds the budget.
    fn budget_check(&mut self, pc: usize);

    /// Calls the plain helper function `func` directly.
    fn plain_helper_call(&mut self, pc: usize, func: usize);
    /// Calls helper number `index` of the run's table through the trampoline.
    fn helper_call(&mut self, pc: usize, index: usize);
    /// `callx reg`: calls the helper or function whose code address `reg` holds.
    fn callx(&mut self, pc: usize, reg: Reg);
    /// Calls the local function at `target` (a new frame), faulting at `depth` when the frame
    /// limit is reached.
    fn local_call(&mut self, depth: DynamicLabel, target: DynamicLabel);
    /// Returns from the current function.
    fn exit(&mut self);
}

/// A cold fault stub for `pc` (with the access address when `with_addr`); returns its label.
pub(crate) fn fault<'a, T: Target<'a>>(
    t: &mut T,
    pc: usize,
    kind: u64,
    with_addr: bool,
) -> DynamicLabel {
    let label = t.new_label();
    t.lw_mut().push_fault(label, pc, kind, with_addr);
    label
}

/// The label of slot `pc`, made now if it has none yet (a leader no jump or call targets,
/// named by out-of-line code emitted later: x86-64's block copies return to the next leader).
/// Must be asked before the driver reaches `pc`, which binds every label it finds there.
pub(crate) fn slot_label<'a, T: Target<'a>>(t: &mut T, pc: usize) -> DynamicLabel {
    let l = t.lw().labels[pc];
    if l != t.lw().unused {
        return l;
    }
    let l = t.new_label();
    t.lw_mut().labels[pc] = l;
    l
}

/// Emits a whole program: stubs, every slot, out-of-line code. Returns the entry offset and
/// the offset of each slot plus the end of the body.
///
/// One pass over the slots: whether a slot starts a block is one bit of
/// [`crate::analysis::Blocks::leaders`] (made from the decoder's bit sets); labels are bound
/// where they exist (entries, and leaders a backend asked for).
pub(crate) fn emit_program<'a, T: Target<'a>>(t: &mut T, slots: usize) -> (usize, Vec<usize>) {
    let entry = t.prologue();
    let program: &'a Program = t.lw().program;
    let instructions = &program.instructions()[..slots];
    let unused = t.lw().unused;
    let mut offsets = Vec::with_capacity(slots + 1);
    // One closure per slot, collected by `extend`: the offsets are written without a capacity
    // test per slot (the iterator's length is exact).
    offsets.extend(instructions.iter().enumerate().map(|(pc, &ins)| {
        let offset = t.offset();
        // Labels exist only at leaders.
        if t.lw().blocks.is_leader(pc) {
            let l = t.lw().labels[pc];
            if l != unused {
                t.bind(l);
            }
            t.block_start();
            if let Some(c) = t.lw().block_cost(pc) {
                t.count_block(c);
            }
        }
        lower_insn(t, pc, ins);
        t.after_slot(pc);
        offset
    }));
    offsets.push(t.offset());
    t.emit_cold();
    (entry, offsets)
}

/// Lowers slot `pc` (its label and block count are the caller's).
#[inline]
pub(crate) fn lower_slot<'a, T: Target<'a>>(t: &mut T, pc: usize) {
    let ins = t.lw().ins(pc);
    lower_insn(t, pc, ins);
}

/// Lowers `ins`, the instruction of slot `pc` (handed over by the caller, which has it in
/// hand: read once per slot).
#[inline]
fn lower_insn<'a, T: Target<'a>>(t: &mut T, pc: usize, ins: Instruction) {
    match ins {
        Instruction::Alu {
            op,
            width,
            dst,
            src,
        } => t.alu(op, width, dst, src),
        Instruction::Neg { width, dst } => t.neg(width, dst),
        Instruction::Endian { order, bits, dst } => t.byte_swap(order, bits, dst),
        Instruction::Load {
            size,
            sign_extend,
            dst,
            src,
            off,
        } => access(
            t,
            pc,
            &ins,
            src,
            off,
            MemOp::Load {
                size,
                sign_extend,
                dst,
            },
        ),
        Instruction::Store {
            size,
            dst,
            off,
            src,
        } => access(t, pc, &ins, dst, off, MemOp::Store { size, src }),
        Instruction::Atomic {
            size,
            op,
            fetch,
            dst,
            src,
            off,
        } => access(
            t,
            pc,
            &ins,
            dst,
            off,
            MemOp::Atomic {
                size,
                op,
                fetch,
                src,
            },
        ),
        Instruction::LoadImm64 { dst, value } => match value {
            Lddw::Imm(v) => t.load_imm64(dst, v),
            Lddw::CodeAddr(target) if t.lw().callbacks => {
                t.load_imm64(dst, code_address(target));
            }
            // Map references are bound to `Imm` before compiling; code addresses without
            // callbacks have no meaning.
            _ => unsupported(t, pc),
        },
        Instruction::LoadPacket { size, addr, imm } => t.packet_load(pc, size, addr, imm),
        Instruction::Ja { target } => {
            let l = t.lw().labels[target];
            if t.lw().checks_budget_on_jump(pc, target) {
                t.budget_check(pc);
            }
            t.jump_to(l);
        }
        Instruction::Jump {
            cond,
            width,
            dst,
            src,
            target,
        } => {
            t.compare(cond, width, dst, src);
            let l = t.lw().labels[target];
            if t.lw().checks_budget_on_jump(pc, target) {
                // Taken: check the budget, then jump. Not taken: skip both.
                let skip = t.new_label();
                t.branch_if(cond, false, skip);
                t.budget_check(pc);
                t.jump_to(l);
                t.bind(skip);
            } else {
                t.branch_if(cond, true, l);
            }
        }
        Instruction::Call { helper } => match t.lw().plain_helper(helper) {
            Some(f) if T::PLAIN_DIRECT => t.plain_helper_call(pc, f as usize),
            _ => {
                let index = t.lw().helper_index(helper);
                t.helper_call(pc, index);
            }
        },
        Instruction::CallX { reg } => {
            if t.lw().checks_budget_on_call() {
                t.budget_check(pc);
            }
            t.callx(pc, reg);
        }
        Instruction::CallLocal { target } => {
            if t.lw().checks_budget_on_call() {
                t.budget_check(pc);
            }
            let depth = fault(t, pc, exit::CALL_DEPTH, false);
            let l = t.lw().labels[target];
            t.local_call(depth, l);
        }
        Instruction::CallKfunc { .. } => unsupported(t, pc),
        Instruction::Exit => t.exit(),
        Instruction::LddwTail => {}
    }
}

/// A load, store or atomic: checked or not, as the shared [`Lowering::mem_check`] decides.
#[inline]
fn access<'a, T: Target<'a>>(
    t: &mut T,
    pc: usize,
    ins: &Instruction,
    base: Reg,
    off: i16,
    op: MemOp,
) {
    match t.lw().mem_check_of(pc, ins) {
        Some(check) if check.bounds || check.align => t.checked_access(pc, check, base, off, op),
        Some(MemCheck {
            confine: Some(c), ..
        }) => t.confined_access(pc, c, base, off, op),
        _ => t.unchecked_access(pc, base, off, op),
    }
}

/// A slot the JIT does not run (kfunc calls, unbound `lddw` forms): it faults with
/// `Unsupported` when reached.
fn unsupported<'a, T: Target<'a>>(t: &mut T, pc: usize) {
    let l = fault(t, pc, exit::UNSUPPORTED, false);
    t.jump_to(l);
}
