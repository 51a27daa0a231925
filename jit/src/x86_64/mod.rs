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
    AluOp, AtomicOp, ByteOrder, Cond, Instruction, Operand, PacketAddr, Reg, Size, Width,
};
use apiary_vm::memory::FRAME_SIZE;
use apiary_vm::program::Program;
use dynasmrt::x64::X64Relocation;
use dynasmrt::{dynasm, DynamicLabel, DynasmApi, DynasmLabelApi};

use crate::analysis::{may_write, read_before_written};
use crate::driver::{emit_program, fault, lower_slot, MemOp, Target};
use crate::lower::{
    input_bound_offset, map_code, new_assembler, packet_bound_offset, size_of_len, Cold, Flags,
    Lowering, MemCheck,
};
use crate::runtime::{
    check_access, exit, needs, x86_trampolines, Shared, CTX_BUDGET, CTX_CALL_LIMIT, CTX_COUNT,
    CTX_CUR_R10, CTX_EXIT_KIND, CTX_FAULT_AUX, CTX_FAULT_PC, CTX_INPUT_START, CTX_PACKET_START,
    CTX_RET, CTX_SAVE, CTX_SAVED_SP, CTX_STACK_START,
};
#[cfg(target_arch = "x86_64")]
use crate::runtime::{Ret, RunCtx};
use crate::{CompileOptions, Compiled, JitError};

const RAX: u8 = 0;
const RCX: u8 = 1;
const RDX: u8 = 2;

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

/// A register-or-immediate operand after blinding has been resolved.
#[derive(Clone, Copy)]
enum Src {
    Reg(u8),
    Imm(i32),
}

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
}

/// Longest block copy (slots) behind a hull check.
const COPY_MAX: usize = 64;

/// The out-of-line part of a checked access whose inline test (the likely region) failed:
/// test the other region, then the slow path or the fault.
struct Secondary {
    label: DynamicLabel,
    ok: DynamicLabel,
    fault: DynamicLabel,
    /// Test the stack (else the input).
    stack: bool,
    stack_bound: i32,
    input_bound_off: i32,
    /// The slow region check, if the environment has extra regions.
    slow: Option<DynamicLabel>,
    /// `(base, off)` when the address must first be computed into r11.
    addr: Option<(u8, i32)>,
}

/// A copy of the rest of a block from slot `start` (to `end`, the next leader) emitted out of
/// line with individual checks, run when the block's hull check fails.
struct Copy {
    label: DynamicLabel,
    start: usize,
    end: usize,
    /// The windows checked before `start` in the block.
    windows: Vec<Window>,
}

/// A window `[base + lo, base + hi)` checked earlier in the current block, for an access that
/// writes (`write`) or only reads.
#[derive(Clone, Copy)]
struct Window {
    base: u8,
    lo: i32,
    hi: i32,
    write: bool,
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

    /// Entry stubs and the shared exit stub. Returns the main entry's offset.
    ///
    /// The main entry is `extern "sysv64" fn(r1, r2, ctx, r10) -> Ret`: it saves only the
    /// callee-saved host registers the program uses, zeroes r0 and r3–r9, calls slot 0 and
    /// returns r0 in rax and the exit kind in rdx.
    ///
    /// The callback entry is `extern "sysv64" fn(r1, r2, r3, ctx, r5, r4, target, r10) -> Ret`:
    /// r1–r5 arrive in their own host registers (rdi, rsi, rdx, r8, r9 are argument registers),
    /// the context in rcx; it calls `target` (a function start) with r10 = `r10`, keeping the
    /// previous `saved_sp` on the host stack, so callbacks nest inside a run.
    ///
    /// Both stubs record `saved_sp` = rsp just before their `call`, followed by a 2-byte
    /// `xor edx, edx` (exit kind OK for a normal return). The exit stub restores rsp, and
    /// resumes after that `xor` (rdx holds the exit kind), whatever the depth.
    fn prologue(&mut self) -> usize {
        let used = used_callee_saved(self.lw.scan.regs_named);
        let first = self.lw.labels[0];
        // Callback entry. At entry rsp = 8 (mod 16); six pushes, the saved sp and 8 bytes of
        // padding keep it at 8, so the `call` enters with rsp = 0 (mod 16), the invariant of
        // every eBPF function body.
        let callback = self.ops.offset().0;
        x64!(self.ops
            ; push rbp
            ; push rbx
            ; push r12
            ; push r13
            ; push r14
            ; push r15
            ; mov r12, rcx
            ; push QWORD [r12 + CTX_SAVED_SP]
            ; sub rsp, 8
            ; mov [r12 + CTX_SAVED_SP], rsp
            ; mov r11, [rsp + 72]
            ; mov rbp, [rsp + 80]
            ; xor eax, eax
            ; xor ebx, ebx
            ; xor r13d, r13d
            ; xor r14d, r14d
            ; xor r15d, r15d
            ; call r11
        );
        self.resume_xor();
        x64!(self.ops
            ; add rsp, 8
            ; pop QWORD [r12 + CTX_SAVED_SP]
            ; pop r15
            ; pop r14
            ; pop r13
            ; pop r12
            ; pop rbx
            ; pop rbp
            ; ret
        );
        self.callback_entry = callback;
        // Main entry.
        let main = self.ops.offset().0;
        x64!(self.ops ; push rbp ; push r12);
        let mut pushed = 2;
        for (i, &r) in CALLEE_SAVED.iter().enumerate() {
            if used[i] {
                x64!(self.ops ; push Rq(r));
                pushed += 1;
            }
        }
        let pad = pushed % 2 == 1;
        if pad {
            x64!(self.ops ; sub rsp, 8);
        }
        x64!(self.ops
            ; mov r12, rdx
            ; mov rbp, rcx
            ; mov [r12 + CTX_SAVED_SP], rsp
        );
        // Zero r0 and r3–r9 where the program may read them before writing them.
        let init = read_before_written(self.lw.program);
        for r in [0usize, 3, 4, 5, 6, 7, 8, 9] {
            let used = r < 6 || used[r - 6];
            if used && init & (1 << r) != 0 {
                x64!(self.ops ; xor Rd(MAP[r]), Rd(MAP[r]));
            }
        }
        x64!(self.ops ; call =>first);
        self.resume_xor();
        if pad {
            x64!(self.ops ; add rsp, 8);
        }
        for (i, &r) in CALLEE_SAVED.iter().enumerate().rev() {
            if used[i] {
                x64!(self.ops ; pop Rq(r));
            }
        }
        x64!(self.ops
            ; pop r12
            ; pop rbp
            ; ret
            ; ->leave:
            ; mov rsp, [r12 + CTX_SAVED_SP]
            ; mov r11, [rsp - 8]
            ; add r11, 2
            ; jmp r11
        );
        main
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
            let written = may_write(&self.lw.ins(pc));
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

    fn jump_to(&mut self, label: DynamicLabel) {
        x64!(self.ops ; jmp =>label);
    }

    fn compare(&mut self, cond: Cond, width: Width, dst: Reg, src: Operand) {
        let d = h(dst);
        let s = self.operand(width, src);
        macro_rules! cmpop {
            ($mn:ident) => {
                match (width, s) {
                    (Width::W64, Src::Reg(s)) => x64!(self.ops ; $mn Rq(d), Rq(s)),
                    (Width::W32, Src::Reg(s)) => x64!(self.ops ; $mn Rd(d), Rd(s)),
                    (Width::W64, Src::Imm(i)) => x64!(self.ops ; $mn Rq(d), i),
                    (Width::W32, Src::Imm(i)) => x64!(self.ops ; $mn Rd(d), i),
                }
            };
        }
        if cond == Cond::Set {
            cmpop!(test);
        } else {
            cmpop!(cmp);
        }
    }

    fn branch_if(&mut self, cond: Cond, holds: bool, label: DynamicLabel) {
        let c = if holds {
            X86Cond::from(cond)
        } else {
            cond.negate_x86()
        };
        self.jcc(c, label);
    }

    /// Faults with `BudgetExhausted` at `pc` if the count exceeds the budget.
    fn budget_check(&mut self, pc: usize) {
        let l = fault(self, pc, exit::BUDGET, false);
        self.needs |= needs::METER;
        x64!(self.ops
            ; mov r11, [r12 + CTX_COUNT]
            ; cmp r11, [r12 + CTX_BUDGET]
            ; ja =>l
        );
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
        self.needs |= needs::CALLS;
        x64!(self.ops
            ; cmp rbp, [r12 + CTX_CALL_LIMIT]
            ; jb =>depth
            ; push rbx
            ; push r13
            ; push r14
            ; push r15
            ; push rbp
            ; sub rbp, FRAME_SIZE as i32
            ; call =>target
            ; pop rbp
            ; pop r15
            ; pop r14
            ; pop r13
            ; pop rbx
        );
    }

    fn exit(&mut self) {
        x64!(self.ops ; ret);
    }

    fn emit_cold(&mut self) {
        self.emit_copies();
        self.emit_cold_stubs();
    }
}

impl Gen<'_> {
    /// The end of `pc`'s block if it is at most [`COPY_MAX`] slots on.
    fn short_block_end(&self, pc: usize) -> Option<usize> {
        let leader = &self.lw.blocks.leader;
        let n = leader.len();
        let limit = (pc + 1 + COPY_MAX).min(n);
        (pc + 1..limit)
            .find(|&q| leader[q])
            .or((limit == n).then_some(n))
    }

    /// Emits the pending block copies (see [`Copy`]): each from its access to the end of its
    /// block with every check individual, then on to the next block.
    fn emit_copies(&mut self) {
        let copies = std::mem::take(&mut self.copies);
        self.no_hull = true;
        for c in copies {
            x64!(self.ops ; =>c.label);
            self.windows = c.windows;
            for q in c.start..c.end {
                lower_slot(self, q);
                self.after_slot(q);
            }
            if c.end < self.lw.blocks.leader.len() {
                let next = self.lw.labels[c.end];
                x64!(self.ops ; jmp =>next);
            }
        }
        self.windows.clear();
    }

    /// The window `[lo, lo + size)` (size 2, 4 or 8) covering the checked loads and stores on
    /// `base` from `pc` to the end of its block, before `base` may change: `None` when fewer
    /// than two accesses or more than 8 bytes.
    fn hull(&self, pc: usize, base: Reg, off: i32, len: u8) -> Option<(i32, u8, usize)> {
        // Copies are short and add up to at most the program's length: compile time and code
        // size stay linear.
        let end = self.short_block_end(pc)?;
        if end - pc > self.copy_budget {
            return None;
        }
        let (mut lo, mut hi, mut members) = (off, off + i32::from(len), 1);
        for q in pc + 1..end {
            if may_write(&self.lw.ins(q - 1)) & (1 << base.index()) != 0 {
                break;
            }
            let (b, o) = match self.lw.ins(q) {
                Instruction::Load { src, off, .. } => (src, off),
                Instruction::Store { dst, off, .. } => (dst, off),
                _ => continue,
            };
            let Some(c) = self.lw.mem_check(q) else {
                continue;
            };
            if b != base || !c.bounds {
                continue;
            }
            lo = lo.min(i32::from(o));
            hi = hi.max(i32::from(o) + i32::from(c.len));
            members += 1;
        }
        let size = match hi - lo {
            _ if members < 2 => return None,
            1 | 2 => 2,
            3 | 4 => 4,
            5..=8 => 8,
            _ => return None,
        };
        Some((lo, size, end))
    }

    /// Tests a block's hull window (see [`Gen::hull`]) against the input: on failure the
    /// block's copy with individual checks runs instead, so faults stay those of the
    /// individual accesses.
    fn hull_check(&mut self, pc: usize, base: Reg, (lo, size, end): (i32, u8, usize)) {
        let b = h(base);
        let copy = self.new_label();
        self.copy_budget -= end - pc;
        self.copies.push(Copy {
            label: copy,
            start: pc,
            end,
            windows: self.windows.clone(),
        });
        // The input is writable: the window covers stores too.
        self.windows.push(Window {
            base: base.index() as u8,
            lo,
            hi: lo + i32::from(size),
            write: true,
        });
        self.needs |= needs::STACK | needs::INPUT;
        let bound_off = input_bound_offset(size_of_len(size));
        x64!(self.ops
            ; lea r10, [Rq(b) + lo]
            ; sub r10, [r12 + CTX_INPUT_START]
            ; cmp r10, [r12 + bound_off]
            ; jae =>copy
        );
    }
}

/// Whether plain helpers are called directly: their `extern "C"` ABI is sysv64 on every
/// x86-64 target but Windows.
const PLAIN_DIRECT: bool = !cfg!(windows);

/// Host registers of r6–r9 (callee-saved in sysv64).
const CALLEE_SAVED: [u8; 4] = [3, 13, 14, 15];

/// Which of r6–r9 the program may touch (conservatively: any slot naming it as dst or src,
/// from [`crate::analysis::Scan::regs_named`]).
fn used_callee_saved(regs_named: u16) -> [bool; 4] {
    [6, 7, 8, 9].map(|r| regs_named & (1 << r) != 0)
}

impl Gen<'_> {
    /// The `xor edx, edx` after an entry stub's `call` (exit kind OK), which the exit stub
    /// skips: exactly 2 bytes.
    fn resume_xor(&mut self) {
        let before = self.ops.offset().0;
        x64!(self.ops ; xor edx, edx);
        debug_assert_eq!(self.ops.offset().0 - before, 2);
    }

    fn next_key(&mut self) -> i32 {
        self.lw.next_key()
    }

    /// Calls a trampoline `(r1, r2, r3, ctx, r5, r4, site) -> Ret` (see
    /// [`crate::runtime::x86_helper`]), keeping r1–r5 on the host stack: r1–r5 survive
    /// helper calls. Five pushes and the `site` argument keep rsp 16-byte aligned.
    fn trampoline_call(&mut self, pc: usize, func: usize, site: u64) {
        let leave = self.new_label();
        self.lw.cold.push(Cold::Leave { label: leave, pc });
        if self.lw.callbacks {
            x64!(self.ops ; mov [r12 + CTX_CUR_R10], rbp);
        }
        x64!(self.ops
            ; push rdi
            ; push rsi
            ; push rdx
            ; push r9
            ; push r8
            ; mov rcx, r12
        );
        if let Ok(i) = i32::try_from(site) {
            x64!(self.ops ; push i);
        } else {
            x64!(self.ops ; mov r11, QWORD site as i64 ; push r11);
        }
        x64!(self.ops
            ; mov r11, QWORD func as i64
            ; call r11
            ; test edx, edx
            ; jnz =>leave
            ; add rsp, 8
            ; pop r8
            ; pop r9
            ; pop rdx
            ; pop rsi
            ; pop rdi
        );
    }

    /// Calls a plain helper (`extern "C"` = sysv64 here) directly: r1–r3 and r5 already sit in
    /// argument registers (rdi, rsi, rdx, r8), r4 moves from r9 to rcx; r0 comes back in rax.
    /// The argument registers are caller-saved, so the ones holding r1–r5 the code after the
    /// call may read are pushed around it (with padding to keep rsp 16-byte aligned).
    fn plain_call(&mut self, pc: usize, func: usize) {
        let live = self.lw.live_args_after(pc);
        let saved: Vec<u8> = (1..=5usize)
            .filter(|&r| live & (1 << r) != 0)
            .map(|r| MAP[r])
            .collect();
        let pad = saved.len() % 2 == 1;
        for &r in &saved {
            x64!(self.ops ; push Rq(r));
        }
        if pad {
            x64!(self.ops ; sub rsp, 8);
        }
        x64!(self.ops
            ; mov rcx, r9
            ; mov rax, QWORD func as i64
            ; call rax
        );
        if pad {
            x64!(self.ops ; add rsp, 8);
        }
        for &r in saved.iter().rev() {
            x64!(self.ops ; pop Rq(r));
        }
    }

    /// Puts the immediate (as `imm_value` at `width`) into rcx, blinded.
    fn blinded_imm_to_rcx(&mut self, width: Width, imm: i32) {
        let key = self.next_key();
        let b = imm ^ key;
        match width {
            Width::W64 => x64!(self.ops ; mov rcx, b ; xor rcx, key),
            Width::W32 => x64!(self.ops ; mov ecx, b ; xor ecx, key),
        }
    }

    /// Resolves an operand, blinding immediates into rcx when asked.
    fn operand(&mut self, width: Width, src: Operand) -> Src {
        match src {
            Operand::Reg(r) => Src::Reg(h(r)),
            Operand::Imm(i) if self.lw.opts.blind_constants => {
                self.blinded_imm_to_rcx(width, i);
                Src::Reg(RCX)
            }
            Operand::Imm(i) => Src::Imm(i),
        }
    }

    /// The most common ALU forms (add, sub, or, and, xor, mov; register or unblinded
    /// immediate source), encoded by hand: one small function with no dynasm expansion, where
    /// [`Gen::alu_general`]'s dozens of expansions make every call pay a large frame (the
    /// compile-time profile's biggest per-slot cost). Returns whether it emitted `op`.
    ///
    /// Encodings (Intel SDM vol. 2): `op r/m, r` = [REX] opcode ModRM(11, src, dst);
    /// `op r/m, imm` = [REX] 83 /digit ib when the immediate fits a byte, else 81 /digit id
    /// (both sign-extend, as eBPF's 64-bit immediates do; 32-bit forms zero-extend the
    /// result); `mov r/m64, imm32` = REX.W C7 /0 id; `mov r32, imm32` = [REX.B] B8+r id.
    #[inline]
    fn alu_fast(&mut self, op: AluOp, width: Width, d: u8, src: Operand) -> bool {
        let w = u8::from(width == Width::W64) << 3;
        match src {
            Operand::Reg(r) => {
                let opcode = match op {
                    AluOp::Add => 0x01,
                    AluOp::Or => 0x09,
                    AluOp::And => 0x21,
                    AluOp::Sub => 0x29,
                    AluOp::Xor => 0x31,
                    AluOp::Mov => 0x89,
                    _ => return false,
                };
                let s = h(r);
                let rex = 0x40 | w | ((s >> 3) << 2) | (d >> 3);
                let modrm = 0xc0 | ((s & 7) << 3) | (d & 7);
                self.bytes_with_rex(rex, &[opcode, modrm]);
            }
            Operand::Imm(_) if self.lw.opts.blind_constants => return false,
            Operand::Imm(i) => {
                let rex = 0x40 | w | (d >> 3);
                let [i0, i1, i2, i3] = i.to_le_bytes();
                let digit = match op {
                    AluOp::Add => 0,
                    AluOp::Or => 1,
                    AluOp::And => 4,
                    AluOp::Sub => 5,
                    AluOp::Xor => 6,
                    AluOp::Mov if w != 0 => {
                        self.bytes_with_rex(rex, &[0xc7, 0xc0 | (d & 7), i0, i1, i2, i3]);
                        return true;
                    }
                    AluOp::Mov => {
                        self.bytes_with_rex(rex, &[0xb8 | (d & 7), i0, i1, i2, i3]);
                        return true;
                    }
                    _ => return false,
                };
                let modrm = 0xc0 | (digit << 3) | (d & 7);
                if let Ok(b) = i8::try_from(i) {
                    self.bytes_with_rex(rex, &[0x83, modrm, b as u8]);
                } else {
                    self.bytes_with_rex(rex, &[0x81, modrm, i0, i1, i2, i3]);
                }
            }
        }
        true
    }

    /// Emits `rex` (unless it is the empty prefix 0x40) then `rest`. Each caller's `rest` has
    /// a constant length, so the copies compile to a few stores (a slice of run-time length
    /// would be a `memcpy` call per instruction).
    #[inline(always)]
    fn bytes_with_rex<const N: usize>(&mut self, rex: u8, rest: &[u8; N]) {
        if rex != 0x40 {
            self.ops.push(rex);
        }
        self.ops.extend(rest);
    }

    /// Every ALU form (see [`Gen::alu_fast`] for the common ones).
    #[inline(never)]
    fn alu_general(&mut self, op: AluOp, width: Width, d: u8, src: Operand) {
        macro_rules! binop {
            ($mn:ident, $s:expr) => {
                match (width, $s) {
                    (Width::W64, Src::Reg(s)) => x64!(self.ops ; $mn Rq(d), Rq(s)),
                    (Width::W32, Src::Reg(s)) => x64!(self.ops ; $mn Rd(d), Rd(s)),
                    (Width::W64, Src::Imm(i)) => x64!(self.ops ; $mn Rq(d), i),
                    (Width::W32, Src::Imm(i)) => x64!(self.ops ; $mn Rd(d), i),
                }
            };
        }
        match op {
            AluOp::Add => {
                let s = self.operand(width, src);
                binop!(add, s);
            }
            AluOp::Sub => {
                let s = self.operand(width, src);
                binop!(sub, s);
            }
            AluOp::Or => {
                let s = self.operand(width, src);
                binop!(or, s);
            }
            AluOp::And => {
                let s = self.operand(width, src);
                binop!(and, s);
            }
            AluOp::Xor => {
                let s = self.operand(width, src);
                binop!(xor, s);
            }
            AluOp::Mul => match (width, self.operand(width, src)) {
                (Width::W64, Src::Reg(s)) => x64!(self.ops ; imul Rq(d), Rq(s)),
                (Width::W32, Src::Reg(s)) => x64!(self.ops ; imul Rd(d), Rd(s)),
                (Width::W64, Src::Imm(i)) => x64!(self.ops ; imul Rq(d), Rq(d), i),
                (Width::W32, Src::Imm(i)) => x64!(self.ops ; imul Rd(d), Rd(d), i),
            },
            AluOp::Mov => match src {
                Operand::Reg(r) => {
                    let s = h(r);
                    match width {
                        Width::W64 => x64!(self.ops ; mov Rq(d), Rq(s)),
                        Width::W32 => x64!(self.ops ; mov Rd(d), Rd(s)),
                    }
                }
                Operand::Imm(i) => {
                    if self.lw.opts.blind_constants {
                        let key = self.next_key();
                        let b = i ^ key;
                        match width {
                            Width::W64 => x64!(self.ops ; mov Rq(d), b ; xor Rq(d), key),
                            Width::W32 => x64!(self.ops ; mov Rd(d), b ; xor Rd(d), key),
                        }
                    } else {
                        match width {
                            Width::W64 => x64!(self.ops ; mov Rq(d), i),
                            Width::W32 => x64!(self.ops ; mov Rd(d), i),
                        }
                    }
                }
            },
            AluOp::Movsx(bits) => {
                let Operand::Reg(r) = src else {
                    return self.alu_general(AluOp::Mov, width, d, src);
                };
                let s = h(r);
                match (width, bits) {
                    (Width::W64, 8) => x64!(self.ops ; mov ecx, Rd(s) ; movsx Rq(d), cl),
                    (Width::W64, 16) => x64!(self.ops ; movsx Rq(d), Rw(s)),
                    (Width::W64, 32) => x64!(self.ops ; movsxd Rq(d), Rd(s)),
                    (Width::W32, 8) => x64!(self.ops ; mov ecx, Rd(s) ; movsx Rd(d), cl),
                    (Width::W32, 16) => x64!(self.ops ; movsx Rd(d), Rw(s)),
                    (Width::W32, _) => x64!(self.ops ; mov Rd(d), Rd(s)),
                    (Width::W64, _) => x64!(self.ops ; mov Rq(d), Rq(s)),
                }
            }
            AluOp::Lsh | AluOp::Rsh | AluOp::Arsh => self.shift(op, width, d, src),
            AluOp::Div | AluOp::Mod | AluOp::Sdiv | AluOp::Smod => self.divide(op, width, d, src),
        }
    }

    fn shift(&mut self, op: AluOp, width: Width, d: u8, src: Operand) {
        match src {
            Operand::Imm(i) => {
                let mask = if width == Width::W64 { 63 } else { 31 };
                let c = (i & mask) as i8;
                if c == 0 {
                    // x86 leaves the register alone for a zero count: zero-extend explicitly.
                    if width == Width::W32 {
                        x64!(self.ops ; mov Rd(d), Rd(d));
                    }
                    return;
                }
                match (op, width) {
                    (AluOp::Lsh, Width::W64) => x64!(self.ops ; shl Rq(d), c),
                    (AluOp::Rsh, Width::W64) => x64!(self.ops ; shr Rq(d), c),
                    (_, Width::W64) => x64!(self.ops ; sar Rq(d), c),
                    (AluOp::Lsh, Width::W32) => x64!(self.ops ; shl Rd(d), c),
                    (AluOp::Rsh, Width::W32) => x64!(self.ops ; shr Rd(d), c),
                    (_, Width::W32) => x64!(self.ops ; sar Rd(d), c),
                }
            }
            Operand::Reg(r) => {
                let s = h(r);
                x64!(self.ops ; mov ecx, Rd(s));
                match (op, width) {
                    (AluOp::Lsh, Width::W64) => x64!(self.ops ; shl Rq(d), cl),
                    (AluOp::Rsh, Width::W64) => x64!(self.ops ; shr Rq(d), cl),
                    (_, Width::W64) => x64!(self.ops ; sar Rq(d), cl),
                    (AluOp::Lsh, Width::W32) => x64!(self.ops ; shl Rd(d), cl ; mov Rd(d), Rd(d)),
                    (AluOp::Rsh, Width::W32) => x64!(self.ops ; shr Rd(d), cl ; mov Rd(d), Rd(d)),
                    (_, Width::W32) => x64!(self.ops ; sar Rd(d), cl ; mov Rd(d), Rd(d)),
                }
            }
        }
    }

    /// Division and modulo, with eBPF's total semantics (x86 `div`/`idiv` would trap).
    fn divide(&mut self, op: AluOp, width: Width, d: u8, src: Operand) {
        let signed = matches!(op, AluOp::Sdiv | AluOp::Smod);
        let is_mod = matches!(op, AluOp::Mod | AluOp::Smod);
        let w64 = width == Width::W64;
        // The divisor goes to rcx.
        match src {
            Operand::Reg(r) => {
                let s = h(r);
                if w64 {
                    x64!(self.ops ; mov rcx, Rq(s));
                } else {
                    x64!(self.ops ; mov ecx, Rd(s));
                }
            }
            Operand::Imm(i) if self.lw.opts.blind_constants => self.blinded_imm_to_rcx(width, i),
            Operand::Imm(i) => {
                if w64 {
                    x64!(self.ops ; mov rcx, i);
                } else {
                    x64!(self.ops ; mov ecx, i);
                }
            }
        }
        // Where the dividend lives once rax and rdx have been saved in r10 and r11.
        let dividend = match d {
            RAX => 10,
            RDX => 11,
            other => other,
        };
        if w64 {
            x64!(self.ops ; test rcx, rcx ; jz >zero);
        } else {
            x64!(self.ops ; test ecx, ecx ; jz >zero);
        }
        if signed {
            // x / -1 = -x (wrapping) and x % -1 = 0; `idiv` would trap on MIN / -1.
            match (w64, is_mod) {
                (true, false) => x64!(self.ops ; cmp rcx, -1 ; jne >normal ; neg Rq(d) ; jmp >done),
                (true, true) => {
                    x64!(self.ops ; cmp rcx, -1 ; jne >normal ; xor Rd(d), Rd(d) ; jmp >done)
                }
                (false, false) => {
                    x64!(self.ops ; cmp ecx, -1 ; jne >normal ; neg Rd(d) ; jmp >done)
                }
                (false, true) => {
                    x64!(self.ops ; cmp ecx, -1 ; jne >normal ; xor Rd(d), Rd(d) ; jmp >done)
                }
            }
        }
        x64!(self.ops
            ; normal:
            ; mov r10, rax
            ; mov r11, rdx
        );
        match (w64, signed) {
            (true, false) => x64!(self.ops ; mov rax, Rq(dividend) ; xor edx, edx ; div rcx),
            (true, true) => x64!(self.ops ; mov rax, Rq(dividend) ; cqo ; idiv rcx),
            (false, false) => x64!(self.ops ; mov eax, Rd(dividend) ; xor edx, edx ; div ecx),
            (false, true) => x64!(self.ops ; mov eax, Rd(dividend) ; cdq ; idiv ecx),
        }
        if is_mod {
            x64!(self.ops ; mov rcx, rdx);
        } else {
            x64!(self.ops ; mov rcx, rax);
        }
        x64!(self.ops ; mov rax, r10 ; mov rdx, r11);
        if w64 {
            x64!(self.ops ; mov Rq(d), rcx);
        } else {
            x64!(self.ops ; mov Rd(d), ecx);
        }
        x64!(self.ops ; jmp >done ; zero:);
        match (is_mod, w64) {
            (false, _) => x64!(self.ops ; xor Rd(d), Rd(d)),
            (true, true) => {}
            (true, false) => x64!(self.ops ; mov Rd(d), Rd(d)),
        }
        x64!(self.ops ; done:);
    }

    fn endian(&mut self, order: ByteOrder, bits: u8, d: u8) {
        match (order, bits) {
            (ByteOrder::ToLe, 16) => x64!(self.ops ; movzx Rd(d), Rw(d)),
            (ByteOrder::ToLe, 32) => x64!(self.ops ; mov Rd(d), Rd(d)),
            (ByteOrder::ToLe, _) => {}
            (_, 16) => x64!(self.ops ; rol Rw(d), 8 ; movzx Rd(d), Rw(d)),
            (_, 32) => x64!(self.ops ; bswap Rd(d)),
            (_, _) => x64!(self.ops ; bswap Rq(d)),
        }
    }

    fn imm64(&mut self, d: u8, v: u64) {
        if self.lw.opts.blind_constants {
            let key = self.lw.next_key64();
            let b = v ^ key;
            x64!(self.ops ; mov Rq(d), QWORD b as i64 ; mov r11, QWORD key as i64 ; xor Rq(d), r11);
        } else if let Ok(u) = u32::try_from(v) {
            x64!(self.ops ; mov Rd(d), u as i32);
        } else if let Ok(i) = i32::try_from(v as i64) {
            x64!(self.ops ; mov Rq(d), i);
        } else {
            x64!(self.ops ; mov Rq(d), QWORD v as i64);
        }
    }

    /// Whether an earlier check in this block already covered `[base + off, + len)` for this
    /// access kind (the window lies in one region, so any window inside it does too).
    fn covered(&self, base: Reg, off: i32, len: u8, write: bool) -> bool {
        let end = off + i32::from(len);
        self.windows.iter().any(|w| {
            w.base == base.index() as u8 && w.lo <= off && end <= w.hi && (w.write || !write)
        })
    }

    /// The bounds (and alignment) test of the access at `pc` to `[base + off]`; with `direct`
    /// the address is not in r11 yet (see [`Gen::check_direct`]).
    fn check(&mut self, pc: usize, check: MemCheck, base: Reg, off: i32, direct: bool) {
        let b = h(base);
        let covered = check.bounds && self.covered(base, off, check.len, check.write);
        let hull = (direct && check.bounds && !covered && !check.r10_base && !self.no_hull)
            .then(|| self.hull(pc, base, off, check.len))
            .flatten();
        if covered {
            // Elided: a check earlier in the block, on the same unchanged base, covers it.
        } else if let Some(hull) = hull {
            self.hull_check(pc, base, hull);
        } else if check.bounds {
            self.windows.push(Window {
                base: base.index() as u8,
                lo: off,
                hi: off + i32::from(check.len),
                write: check.write,
            });
            // The inline test reads one region, the out-of-line one the other.
            self.needs |= needs::STACK | needs::INPUT;
            let ok = self.new_label();
            let fault = fault(self, pc, exit::OUT_OF_BOUNDS, true);
            let second = self.new_label();
            let stack_bound = check.stack_bound as i32;
            let bound_off = check.input_bound_off;
            if direct {
                x64!(self.ops ; lea r10, [Rq(b) + off]);
            } else {
                x64!(self.ops ; mov r10, r11);
            }
            if check.r10_base {
                x64!(self.ops
                    ; sub r10, [r12 + CTX_STACK_START]
                    ; cmp r10, stack_bound
                    ; jae =>second
                );
            } else {
                x64!(self.ops
                    ; sub r10, [r12 + CTX_INPUT_START]
                    ; cmp r10, [r12 + bound_off]
                    ; jae =>second
                );
            }
            let slow = if self.lw.extra_regions {
                let slow = self.new_label();
                self.lw.cold.push(Cold::Slow {
                    label: slow,
                    ok,
                    fault,
                    len: check.len,
                    write: check.write,
                });
                Some(slow)
            } else {
                None
            };
            self.checks.push(Secondary {
                label: second,
                ok,
                fault,
                addr: direct.then_some((b, off)),
                stack: !check.r10_base,
                stack_bound,
                input_bound_off: bound_off,
                slow,
            });
            x64!(self.ops ; =>ok);
        }
        if check.align {
            let mis = fault(self, pc, exit::MISALIGNED, true);
            let mask = i32::from(check.len) - 1;
            x64!(self.ops ; test r11d, mask ; jnz =>mis);
        }
    }

    /// The access `op` itself, after any check: loads and stores address `[b + o]`, atomics
    /// `[r11]` (already computed).
    fn access_at(&mut self, b: u8, o: i32, op: MemOp) {
        match op {
            MemOp::Load {
                size,
                sign_extend,
                dst,
            } => {
                let d = h(dst);
                match (size, sign_extend) {
                    (Size::B, false) => x64!(self.ops ; movzx Rd(d), BYTE [Rq(b) + o]),
                    (Size::H, false) => x64!(self.ops ; movzx Rd(d), WORD [Rq(b) + o]),
                    (Size::W, false) => x64!(self.ops ; mov Rd(d), DWORD [Rq(b) + o]),
                    (Size::DW, _) => x64!(self.ops ; mov Rq(d), QWORD [Rq(b) + o]),
                    (Size::B, true) => x64!(self.ops ; movsx Rq(d), BYTE [Rq(b) + o]),
                    (Size::H, true) => x64!(self.ops ; movsx Rq(d), WORD [Rq(b) + o]),
                    (Size::W, true) => x64!(self.ops ; movsxd Rq(d), DWORD [Rq(b) + o]),
                }
            }
            MemOp::Store { size, src } => self.store(size, src, b, o),
            MemOp::Atomic {
                size,
                op,
                fetch,
                src,
            } => self.atomic(size, op, fetch, h(src)),
        }
    }

    /// Stores `src` to `[b + o]` (checked).
    fn store(&mut self, size: Size, src: Operand, b: u8, o: i32) {
        match src {
            Operand::Imm(i) if self.lw.opts.blind_constants => {
                self.blinded_imm_to_rcx(Width::W64, i);
                self.store_reg(size, RCX, b, o);
            }
            Operand::Imm(i) => match size {
                Size::B => x64!(self.ops ; mov BYTE [Rq(b) + o], i as i8),
                Size::H => x64!(self.ops ; mov WORD [Rq(b) + o], i as i16),
                Size::W => x64!(self.ops ; mov DWORD [Rq(b) + o], i),
                Size::DW => x64!(self.ops ; mov QWORD [Rq(b) + o], i),
            },
            Operand::Reg(r) => self.store_reg(size, h(r), b, o),
        }
    }

    fn store_reg(&mut self, size: Size, s: u8, b: u8, o: i32) {
        match size {
            // Byte stores go through cl: no REX-dependent byte-register encodings.
            Size::B => x64!(self.ops ; mov ecx, Rd(s) ; mov BYTE [Rq(b) + o], cl),
            Size::H => x64!(self.ops ; mov WORD [Rq(b) + o], Rw(s)),
            Size::W => x64!(self.ops ; mov DWORD [Rq(b) + o], Rd(s)),
            Size::DW => x64!(self.ops ; mov QWORD [Rq(b) + o], Rq(s)),
        }
    }

    /// Atomic read-modify-write on `[r11]` (checked and aligned).
    fn atomic(&mut self, size: Size, op: AtomicOp, fetch: bool, s: u8) {
        let w64 = size == Size::DW;
        match (op, fetch) {
            (AtomicOp::Add, false) => {
                if w64 {
                    x64!(self.ops ; lock add QWORD [r11], Rq(s));
                } else {
                    x64!(self.ops ; lock add DWORD [r11], Rd(s));
                }
            }
            (AtomicOp::Or, false) => {
                if w64 {
                    x64!(self.ops ; lock or QWORD [r11], Rq(s));
                } else {
                    x64!(self.ops ; lock or DWORD [r11], Rd(s));
                }
            }
            (AtomicOp::And, false) => {
                if w64 {
                    x64!(self.ops ; lock and QWORD [r11], Rq(s));
                } else {
                    x64!(self.ops ; lock and DWORD [r11], Rd(s));
                }
            }
            (AtomicOp::Xor, false) => {
                if w64 {
                    x64!(self.ops ; lock xor QWORD [r11], Rq(s));
                } else {
                    x64!(self.ops ; lock xor DWORD [r11], Rd(s));
                }
            }
            (AtomicOp::Add, true) => {
                if w64 {
                    x64!(self.ops ; mov rcx, Rq(s) ; lock xadd QWORD [r11], rcx ; mov Rq(s), rcx);
                } else {
                    x64!(self.ops ; mov ecx, Rd(s) ; lock xadd DWORD [r11], ecx ; mov Rd(s), ecx);
                }
            }
            (AtomicOp::Xchg, _) => {
                if w64 {
                    x64!(self.ops ; mov rcx, Rq(s) ; xchg QWORD [r11], rcx ; mov Rq(s), rcx);
                } else {
                    x64!(self.ops ; mov ecx, Rd(s) ; xchg DWORD [r11], ecx ; mov Rd(s), ecx);
                }
            }
            (AtomicOp::Cmpxchg, _) => {
                if w64 {
                    x64!(self.ops ; lock cmpxchg QWORD [r11], Rq(s));
                } else {
                    x64!(self.ops ; lock cmpxchg DWORD [r11], Rd(s) ; mov eax, eax);
                }
            }
            (AtomicOp::Or | AtomicOp::And | AtomicOp::Xor, true) => {
                // A cmpxchg loop: r10 = operand, rax = old (r0 parked in the save area).
                if w64 {
                    x64!(self.ops ; mov r10, Rq(s) ; mov [r12 + CTX_SAVE], rax ; mov rax, QWORD [r11] ; retry:);
                    match op {
                        AtomicOp::Or => x64!(self.ops ; mov rcx, rax ; or rcx, r10),
                        AtomicOp::And => x64!(self.ops ; mov rcx, rax ; and rcx, r10),
                        _ => x64!(self.ops ; mov rcx, rax ; xor rcx, r10),
                    }
                    x64!(self.ops ; lock cmpxchg QWORD [r11], rcx ; jnz <retry);
                    if s == RAX {
                        // r0 is the fetch destination: it keeps the old value.
                    } else {
                        x64!(self.ops ; mov Rq(s), rax ; mov rax, [r12 + CTX_SAVE]);
                    }
                } else {
                    x64!(self.ops ; mov r10d, Rd(s) ; mov [r12 + CTX_SAVE], rax ; mov eax, DWORD [r11] ; retry:);
                    match op {
                        AtomicOp::Or => x64!(self.ops ; mov ecx, eax ; or ecx, r10d),
                        AtomicOp::And => x64!(self.ops ; mov ecx, eax ; and ecx, r10d),
                        _ => x64!(self.ops ; mov ecx, eax ; xor ecx, r10d),
                    }
                    x64!(self.ops ; lock cmpxchg DWORD [r11], ecx ; jnz <retry);
                    if s == RAX {
                        x64!(self.ops ; mov eax, eax);
                    } else {
                        x64!(self.ops ; mov Rd(s), eax ; mov rax, [r12 + CTX_SAVE]);
                    }
                }
            }
        }
    }

    /// Legacy packet loads: r0 = big-endian value at input offset (32-bit wrapping).
    fn packet(&mut self, pc: usize, size: Size, addr: PacketAddr, imm: i32) {
        match addr {
            PacketAddr::Abs => x64!(self.ops ; mov r11d, imm),
            PacketAddr::Ind(r) => {
                let s = h(r);
                x64!(self.ops ; mov r11d, Rd(s) ; add r11d, imm);
            }
        }
        let end = self.new_label();
        self.lw.cold.push(Cold::PacketEnd { label: end, pc });
        let bound_off = packet_bound_offset(size);
        x64!(self.ops
            ; cmp r11, [r12 + bound_off]
            ; jae =>end
            ; add r11, [r12 + CTX_PACKET_START]
        );
        match size {
            Size::B => x64!(self.ops ; movzx eax, BYTE [r11]),
            Size::H => x64!(self.ops ; movzx eax, WORD [r11] ; rol ax, 8),
            _ => x64!(self.ops ; mov eax, DWORD [r11] ; bswap eax),
        }
    }

    fn jcc(&mut self, c: X86Cond, l: DynamicLabel) {
        match c {
            X86Cond::E => x64!(self.ops ; je =>l),
            X86Cond::Ne => x64!(self.ops ; jne =>l),
            X86Cond::A => x64!(self.ops ; ja =>l),
            X86Cond::Ae => x64!(self.ops ; jae =>l),
            X86Cond::B => x64!(self.ops ; jb =>l),
            X86Cond::Be => x64!(self.ops ; jbe =>l),
            X86Cond::G => x64!(self.ops ; jg =>l),
            X86Cond::Ge => x64!(self.ops ; jge =>l),
            X86Cond::L => x64!(self.ops ; jl =>l),
            X86Cond::Le => x64!(self.ops ; jle =>l),
        }
    }

    fn fixup(&mut self, pc: usize) {
        let r = self.lw.fixup(pc);
        if r != 0 {
            self.needs |= needs::METER;
            x64!(self.ops ; sub QWORD [r12 + CTX_COUNT], r as i32);
        }
    }

    fn emit_cold_stubs(&mut self) {
        for c in std::mem::take(&mut self.checks) {
            x64!(self.ops ; =>c.label);
            if let Some((b, off)) = c.addr {
                x64!(self.ops ; lea r11, [Rq(b) + off]);
            }
            x64!(self.ops ; mov r10, r11);
            if c.stack {
                x64!(self.ops
                    ; sub r10, [r12 + CTX_STACK_START]
                    ; cmp r10, c.stack_bound
                );
            } else {
                x64!(self.ops
                    ; sub r10, [r12 + CTX_INPUT_START]
                    ; cmp r10, [r12 + c.input_bound_off]
                );
            }
            let ok = c.ok;
            let bad = c.slow.unwrap_or(c.fault);
            x64!(self.ops ; jb =>ok ; jmp =>bad);
        }
        let cold = std::mem::take(&mut self.lw.cold);
        for c in cold {
            match c {
                Cold::Fault {
                    label,
                    pc,
                    kind,
                    with_addr,
                } => {
                    x64!(self.ops ; =>label);
                    if with_addr {
                        x64!(self.ops ; mov [r12 + CTX_FAULT_AUX], r11);
                    }
                    x64!(self.ops
                        ; mov QWORD [r12 + CTX_FAULT_PC], pc as i32
                        ; mov edx, kind as i32
                    );
                    self.fixup(pc);
                    x64!(self.ops ; jmp ->leave);
                }
                Cold::Leave { label, pc } => {
                    // r0 (a stop value) in rax; the trampoline wrote the exit kind.
                    x64!(self.ops ; =>label ; mov rdx, [r12 + CTX_EXIT_KIND]);
                    self.fixup(pc);
                    x64!(self.ops ; jmp ->leave);
                }
                Cold::PacketEnd { label, pc } => {
                    x64!(self.ops
                        ; =>label
                        ; xor eax, eax
                        ; xor edx, edx
                    );
                    self.fixup(pc);
                    x64!(self.ops ; jmp ->leave);
                }
                Cold::Slow {
                    label,
                    ok,
                    fault,
                    len,
                    write,
                } => {
                    let la = i32::from(len) | if write { 0x100 } else { 0 };
                    let f = check_access as *const () as usize;
                    x64!(self.ops
                        ; =>label
                        ; mov [r12 + CTX_SAVE], rax
                        ; mov [r12 + CTX_SAVE + 8], rdi
                        ; mov [r12 + CTX_SAVE + 16], rsi
                        ; mov [r12 + CTX_SAVE + 24], rdx
                        ; mov [r12 + CTX_SAVE + 32], r9
                        ; mov [r12 + CTX_SAVE + 40], r8
                        ; mov [r12 + CTX_SAVE + 48], r11
                        ; mov rdi, r12
                        ; mov rsi, r11
                        ; mov edx, la
                        ; mov rax, QWORD f as i64
                        ; call rax
                        ; mov rcx, rax
                        ; mov rax, [r12 + CTX_SAVE]
                        ; mov rdi, [r12 + CTX_SAVE + 8]
                        ; mov rsi, [r12 + CTX_SAVE + 16]
                        ; mov rdx, [r12 + CTX_SAVE + 24]
                        ; mov r9, [r12 + CTX_SAVE + 32]
                        ; mov r8, [r12 + CTX_SAVE + 40]
                        ; mov r11, [r12 + CTX_SAVE + 48]
                        ; test ecx, ecx
                        ; jnz =>ok
                        ; jmp =>fault
                    );
                }
            }
        }
    }
}

/// x86 condition codes used by jumps.
#[derive(Clone, Copy)]
enum X86Cond {
    E,
    Ne,
    A,
    Ae,
    B,
    Be,
    G,
    Ge,
    L,
    Le,
}

impl From<Cond> for X86Cond {
    fn from(c: Cond) -> Self {
        match c {
            Cond::Eq => X86Cond::E,
            Cond::Ne | Cond::Set => X86Cond::Ne,
            Cond::Gt => X86Cond::A,
            Cond::Ge => X86Cond::Ae,
            Cond::Lt => X86Cond::B,
            Cond::Le => X86Cond::Be,
            Cond::Sgt => X86Cond::G,
            Cond::Sge => X86Cond::Ge,
            Cond::Slt => X86Cond::L,
            Cond::Sle => X86Cond::Le,
        }
    }
}

trait Negate {
    fn negate_x86(self) -> X86Cond;
}

impl Negate for Cond {
    fn negate_x86(self) -> X86Cond {
        match X86Cond::from(self) {
            X86Cond::E => X86Cond::Ne,
            X86Cond::Ne => X86Cond::E,
            X86Cond::A => X86Cond::Be,
            X86Cond::Ae => X86Cond::B,
            X86Cond::B => X86Cond::Ae,
            X86Cond::Be => X86Cond::A,
            X86Cond::G => X86Cond::Le,
            X86Cond::Ge => X86Cond::L,
            X86Cond::L => X86Cond::Ge,
            X86Cond::Le => X86Cond::G,
        }
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
