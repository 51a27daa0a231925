//! The x86-64 backend (dynasm).
//!
//! Register map (eBPF → host):
//!
//! | eBPF | host | note |
//! |------|------|------|
//! | r0   | rax  | return value; saved around `div` |
//! | r1   | rdi  | |
//! | r2   | rsi  | |
//! | r3   | rdx  | saved around `div` |
//! | r4   | r9   | |
//! | r5   | r8   | |
//! | r6   | rbx  | callee-saved |
//! | r7   | r13  | callee-saved |
//! | r8   | r14  | callee-saved |
//! | r9   | r15  | callee-saved |
//! | r10  | rbp  | frame pointer (never written by programs) |
//! | —    | r12  | pointer to the run context ([`crate::runtime::RunCtx`]) |
//! | —    | rcx, r10, r11 | scratch (shift counts, immediates, addresses) |
//!
//! Frames: the entry stub `call`s slot 0; a local call pushes r6–r9 and r10 (five words, which
//! with the return address keeps `rsp` 16-byte aligned inside every eBPF function), lowers r10
//! by 512 and `call`s the target; `exit` is `ret`. Faults jump to a shared exit stub that
//! restores `rsp` from the context, so no unwinding and no signals are involved.
//!
//! Memory checks: the address goes to r11; the stack and the input are tested inline against
//! the context (`addr - start < bound`, overflow-free); anything else goes to the cold
//! [`check_access`] slow path (only emitted when the environment has extra regions).

use apiary_vm::instruction::{
    AluOp, ByteOrder, Cond, Instruction, Operand, PacketAddr, Reg, Size, Width,
};
use apiary_vm::program::Program;
use dynasmrt::x64::X64Relocation;
use dynasmrt::{dynasm, DynamicLabel, DynasmApi, DynasmLabelApi};

use crate::analysis::read_before_written;
use crate::driver::{emit_program, fault, lower_slot, MemOp, Target};
use crate::lower::{
    input_bound_offset, map_code, new_assembler, packet_bound_offset, size_of_len, Cold, Flags,
    Lowering, MemCheck,
};
use crate::runtime::{
    check_access, exit, needs, x86_trampolines, Shared, CTX_BUDGET, CTX_CALL_LIMIT, CTX_COUNT,
    CTX_CUR_R10, CTX_EXIT_KIND, CTX_FAULT_AUX, CTX_FAULT_PC, CTX_INPUT_START, CTX_PACKET_START,
    CTX_RET, CTX_SAVE, CTX_SAVED_SP, CTX_STACK_START, CTX_WINDOW_BASE,
};
#[cfg(target_arch = "x86_64")]
use crate::runtime::{Ret, RunCtx};
use crate::{CompileOptions, Compiled, JitError};

const RAX: u8 = 0;
const RCX: u8 = 1;
const RDX: u8 = 2;
const R11: u8 = 11;

/// Host register of each eBPF register (see the table above).
const MAP: [u8; 11] = [0, 7, 6, 2, 9, 8, 3, 13, 14, 15, 5];
/// [`MAP`] padded to 16 entries, so that [`h`] indexes it with a 4-bit mask and no bounds check
/// (a `Reg` is at most r10; the padding is never read).
const MAP16: [u8; 16] = {
    let mut m = [0u8; 16];
    let mut i = 0;
    while i < MAP.len() {
        m[i] = MAP[i];
        i += 1;
    }
    m
};

#[inline(always)]
fn h(r: Reg) -> u8 {
    MAP16[r.index() & 15]
}

macro_rules! x64 {
    ($ops:expr; $($t:tt)*) => {
        dynasm!($ops ; .arch x64 ; $($t)*)
    };
}

mod alu;
mod branch;
mod call;
mod cold;
mod mem;
mod prologue;

use self::alu::Src;
use self::branch::{Negate, X86Cond};
use self::call::PLAIN_DIRECT;
use self::mem::{Copy, Secondary, Window};

type Assembler = dynasmrt::VecAssembler<X64Relocation>;

struct Gen<'a> {
    ops: Assembler,
    lw: Lowering<'a>,
    /// Out-of-line second halves of region checks (x86-64 only).
    checks: Vec<Secondary>,
    /// Offset of the callback entry stub.
    callback_entry: usize,
    /// The context fields the code reads ([`needs`] bits).
    needs: u8,
    /// Windows checked so far in the current block (see [`Gen::covered`]).
    windows: Vec<Window>,
    /// Block copies still to emit.
    copies: Vec<Copy>,
    /// Emitting copies: no hull checks.
    no_hull: bool,
    /// Slots block copies may still take (see [`Gen::hull`]).
    copy_budget: usize,
    /// The host register holding the sandbox window's base through the whole run (see
    /// [`window_base_reg`]).
    base_reg: Option<u8>,
}

/// The host register that holds the sandbox window's base for the whole run, when the program
/// is confined to a window whose base is no 32-bit displacement and leaves one of r9–r6 unnamed
/// (its callee-saved host register is then free): confined accesses address `[base_reg + r11]`
/// instead of or-ing the base from the run context (one instruction less per access). Loaded
/// by both entry stubs; local calls save and restore it with r6–r9, helpers preserve it
/// (callee-saved).
fn window_base_reg(
    program: &Program,
    confine: Option<apiary_vm::Confinement>,
    regs_named: u16,
) -> Option<u8> {
    let c = confine.filter(|c| !c.is_none())?;
    if !crate::runtime::may_confine(program) {
        return None;
    }
    if i32::try_from(c.base).is_ok() {
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
    let n = program.len();
    let mut ops: Assembler = new_assembler(n);
    let lw = Lowering::new(program, shared, flags, opts, &mut || {
        ops.new_dynamic_label()
    });
    let base_reg = window_base_reg(program, opts.confine, lw.scan.regs_named);
    let mut g = Gen {
        ops,
        lw,
        checks: Vec::new(),
        callback_entry: 0,
        needs: 0,
        windows: Vec::new(),
        copies: Vec::new(),
        no_hull: false,
        copy_budget: n,
        base_reg,
    };
    let (entry, offsets) = emit_program(&mut g, n);
    let Gen {
        ops,
        callback_entry,
        needs,
        ..
    } = g;
    let code = map_code(&ops.finalize().map_err(|_| JitError::Finalize)?)?;
    Ok(Compiled {
        code,
        entry,
        callback_entry,
        offsets,
        needs,
        scan: flags.scan,
    })
}

impl<'a> Target<'a> for Gen<'a> {
    const PLAIN_DIRECT: bool = PLAIN_DIRECT;

    fn offset(&self) -> usize {
        self.ops.offset().0
    }

    fn prologue(&mut self) -> usize {
        self.stubs()
    }

    fn block_start(&mut self) {
        self.windows.clear();
    }

    fn count_block(&mut self, cost: u64) {
        self.needs |= needs::METER;
        x64!(self.ops ; add QWORD [r12 + CTX_COUNT], cost as i32);
    }

    /// Forgets the checked windows whose base slot `pc` may write.
    #[inline(always)]
    fn after_slot(&mut self, pc: usize) {
        if !self.windows.is_empty() {
            let written = self.lw.ins(pc).may_write().bits();
            self.windows.retain(|w| written & (1 << w.base) == 0);
        }
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
        x64!(self.ops ; =>label);
    }

    fn alu(&mut self, op: AluOp, width: Width, dst: Reg, src: Operand) {
        let d = h(dst);
        if !self.alu_fast(op, width, d, src) {
            self.alu_general(op, width, d, src);
        }
    }

    fn neg(&mut self, width: Width, dst: Reg) {
        let d = h(dst);
        match width {
            Width::W64 => x64!(self.ops ; neg Rq(d)),
            Width::W32 => x64!(self.ops ; neg Rd(d)),
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

    /// Loads and stores address `[base + off]` directly (the address is only formed out of
    /// line, see [`Gen::check`]); atomics work on r11.
    fn checked_access(&mut self, pc: usize, check: MemCheck, base: Reg, off: i16, op: MemOp) {
        let (b, o) = (h(base), i32::from(off));
        if let MemOp::Atomic { .. } = op {
            x64!(self.ops ; lea r11, [Rq(b) + o]);
            self.check(pc, check, base, o, false);
        } else {
            self.check(pc, check, base, o, true);
        }
        self.access_at(b, o, op);
    }

    fn unchecked_access(&mut self, _pc: usize, base: Reg, off: i16, op: MemOp) {
        let (b, o) = (h(base), i32::from(off));
        if let MemOp::Atomic { .. } = op {
            x64!(self.ops ; lea r11, [Rq(b) + o]);
        }
        self.access_at(b, o, op);
    }

    /// `r11 = (b + o) & mask`, then the access at `base | r11`: a 32-bit `lea` for a 4 GiB
    /// window, else `lea` and `and` (a mask beyond 32 bits goes through r10); the base is the
    /// displacement of `[r11 + base]` below 2 GiB, else the reserved base register
    /// (`[base_reg + r11]`, see [`window_base_reg`]), else or-ed from the run context. So a
    /// confined access costs one or two instructions more than an unconfined one. Unchecked
    /// accesses use no other scratch, so r10 and r11 are free; atomics address `[r11]`.
    fn confined_access(
        &mut self,
        _pc: usize,
        c: apiary_vm::Confinement,
        base: Reg,
        off: i16,
        op: MemOp,
    ) {
        let (b, o) = (h(base), i32::from(off));
        if c.mask == u64::from(u32::MAX) {
            // A 4 GiB window: the 32-bit `lea` is the mask.
            x64!(self.ops ; lea r11d, [Rq(b) + o]);
        } else if let Ok(mask) = i32::try_from(c.mask) {
            x64!(self.ops ; lea r11, [Rq(b) + o] ; and r11, mask);
        } else {
            x64!(self.ops ; lea r11, [Rq(b) + o] ; mov r10, QWORD c.mask as i64 ; and r11, r10);
        }
        let atomic = matches!(op, MemOp::Atomic { .. });
        if let (Ok(base), false) = (i32::try_from(c.base), atomic) {
            // A window below 2 GiB: `[r11 + base]` is `base | r11` (the base is aligned to
            // the window's size and r11 is at most the mask), and costs no `or`.
            self.access_at(R11, base, op);
            return;
        }
        if let (Some(rb), false) = (self.base_reg, atomic) {
            // `[base_reg + r11]` is `base | r11` likewise.
            self.access_indexed(rb, op);
            return;
        }
        if let Some(rb) = self.base_reg {
            x64!(self.ops ; add r11, Rq(rb));
        } else if let Ok(base) = i32::try_from(c.base) {
            x64!(self.ops ; or r11, base);
        } else {
            // From the run context: one instruction instead of a 10-byte `mov` and an `or`.
            self.needs |= needs::WINDOW;
            x64!(self.ops ; or r11, [r12 + CTX_WINDOW_BASE]);
        }
        self.access_at(R11, 0, op);
    }

    fn jump_to(&mut self, label: DynamicLabel) {
        x64!(self.ops ; jmp =>label);
    }

    fn compare(&mut self, cond: Cond, width: Width, dst: Reg, src: Operand) {
        self.compare_flags(cond, width, dst, src);
    }

    fn branch_if(&mut self, cond: Cond, holds: bool, label: DynamicLabel) {
        let c = if holds {
            X86Cond::from(cond)
        } else {
            cond.negate_x86()
        };
        self.jcc(c, label);
    }

    fn budget_check(&mut self, pc: usize) {
        self.budget_test(pc);
    }

    fn plain_helper_call(&mut self, pc: usize, func: usize) {
        self.plain_call(pc, func);
    }

    fn helper_call(&mut self, pc: usize, index: usize) {
        let site = ((pc as u64) << 32) | (index as u64 & 0xffff_ffff);
        self.trampoline_call(pc, x86_trampolines().0, site);
    }

    fn callx(&mut self, pc: usize, reg: Reg) {
        x64!(self.ops ; mov [r12 + CTX_RET], Rq(h(reg)));
        self.trampoline_call(pc, x86_trampolines().1, (pc as u64) << 32);
    }

    fn local_call(&mut self, depth: DynamicLabel, target: DynamicLabel) {
        self.local_frame_call(depth, target);
    }

    fn exit(&mut self) {
        x64!(self.ops ; ret);
    }

    fn emit_cold(&mut self) {
        self.emit_copies();
        self.emit_cold_stubs();
    }
}

/// Runs a program: calls slot 0 through the main entry stub with r1, r2, r10 on `ctx`;
/// returns r0 and the exit kind.
///
/// # Safety
/// `entry` must be the main entry stub of live code produced by [`compile`] for a program
/// whose helpers are in `ctx.shared`, and `ctx` must describe live regions of the current run.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(crate) unsafe fn enter(entry: usize, ctx: &mut RunCtx, r1: u64, r2: u64, r10: u64) -> Ret {
    type Entry = unsafe extern "sysv64" fn(u64, u64, *mut RunCtx, u64) -> Ret;
    // SAFETY: the main entry stub follows the sysv64 calling convention for `Entry` (it saves
    // every callee-saved register it uses and returns with `ret`).
    let f: Entry = unsafe { std::mem::transmute::<usize, Entry>(entry) };
    // SAFETY: guaranteed by the caller: the code only touches memory its checks allow (the
    // run's regions) and the context.
    unsafe { f(r1, r2, ctx, r10) }
}

/// Calls back: calls `target` (a function start) through the callback entry stub with
/// r1–r5 = `args` and r10 = `r10` on `ctx`; returns r0 and the exit kind.
///
/// # Safety
/// As [`enter`], with `entry` the callback entry stub and `target` a function start of the
/// same code; a run of that code is in progress on `ctx`, and `r10` is a frame of its stack.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(crate) unsafe fn call_back(
    entry: usize,
    ctx: &mut RunCtx,
    args: [u64; 5],
    target: u64,
    r10: u64,
) -> Ret {
    type Entry = unsafe extern "sysv64" fn(u64, u64, u64, *mut RunCtx, u64, u64, u64, u64) -> Ret;
    // SAFETY: the callback entry stub follows the sysv64 calling convention for `Entry`.
    let f: Entry = unsafe { std::mem::transmute::<usize, Entry>(entry) };
    // SAFETY: guaranteed by the caller.
    unsafe {
        f(
            args[0], args[1], args[2], ctx, args[4], args[3], target, r10,
        )
    }
}
