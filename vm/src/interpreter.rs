//! The interpreter: checked mode (every memory access tested against the run's region table).
//!
//! A [`Program`] is lowered once into a flat array of `Op`s: one operation code per
//! (operation, width, operand kind), immediates pre-extended, helper ids resolved to table
//! indices, jump targets as slot indices. The run loop is a single `match` on that code (a jump
//! table), with no allocation and, when metering is off, no per-instruction bookkeeping.

use std::cell::Cell;
use std::mem::MaybeUninit;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use crate::engine::{Environment, ExecConfig, Executable, Outcome};
use crate::error::LoadError;
use crate::facts::Facts;
use crate::fault::{Access, Fault, HelperError, Unsupported};
use crate::helpers::{HelperContext, HelperFn, HelperTable, PlainHelperFn};
use crate::instruction::{
    AluOp, AtomicOp, ByteOrder, Cond, Instruction, Lddw, Operand, PacketAddr, Size, Width,
};
use crate::memory::{
    code_address, code_target, Confinement, ExecState, FunctionCaller, Region, RegionTable,
    FRAME_SIZE, MAX_FRAMES, STACK_SIZE,
};
use crate::program::Program;
use crate::racy;
use crate::semantics::{alu32, alu64, condition, endian, imm_value};

/// Operation codes of the lowered form. `I`/`R` = immediate/register source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Code {
    Add64I,
    Add64R,
    Sub64I,
    Sub64R,
    Mul64I,
    Mul64R,
    Div64I,
    Div64R,
    Sdiv64I,
    Sdiv64R,
    Or64I,
    Or64R,
    And64I,
    And64R,
    Lsh64I,
    Lsh64R,
    Rsh64I,
    Rsh64R,
    Mod64I,
    Mod64R,
    Smod64I,
    Smod64R,
    Xor64I,
    Xor64R,
    Mov64I,
    Mov64R,
    Arsh64I,
    Arsh64R,
    Movsx64,
    Add32I,
    Add32R,
    Sub32I,
    Sub32R,
    Mul32I,
    Mul32R,
    Div32I,
    Div32R,
    Sdiv32I,
    Sdiv32R,
    Or32I,
    Or32R,
    And32I,
    And32R,
    Lsh32I,
    Lsh32R,
    Rsh32I,
    Rsh32R,
    Mod32I,
    Mod32R,
    Smod32I,
    Smod32R,
    Xor32I,
    Xor32R,
    Mov32I,
    Mov32R,
    Arsh32I,
    Arsh32R,
    Movsx32,
    Neg64,
    Neg32,
    Trunc16,
    Trunc32,
    Swap16,
    Swap32,
    Swap64,
    Nop,
    LdxB,
    LdxH,
    LdxW,
    LdxDW,
    LdxsB,
    LdxsH,
    LdxsW,
    StB,
    StH,
    StW,
    StDW,
    StxB,
    StxH,
    StxW,
    StxDW,
    Atomic32,
    Atomic64,
    LoadImm,
    LdAbs,
    LdInd,
    Ja,
    Jeq64I,
    Jeq64R,
    Jgt64I,
    Jgt64R,
    Jge64I,
    Jge64R,
    Jset64I,
    Jset64R,
    Jne64I,
    Jne64R,
    Jsgt64I,
    Jsgt64R,
    Jsge64I,
    Jsge64R,
    Jlt64I,
    Jlt64R,
    Jle64I,
    Jle64R,
    Jslt64I,
    Jslt64R,
    Jsle64I,
    Jsle64R,
    Jeq32I,
    Jeq32R,
    Jgt32I,
    Jgt32R,
    Jge32I,
    Jge32R,
    Jset32I,
    Jset32R,
    Jne32I,
    Jne32R,
    Jsgt32I,
    Jsgt32R,
    Jsge32I,
    Jsge32R,
    Jlt32I,
    Jlt32R,
    Jle32I,
    Jle32R,
    Jslt32I,
    Jslt32R,
    Jsle32I,
    Jsle32R,
    Call,
    /// A plain helper ([`PlainHelperFn`]), `imm` indexing `Interpreter::plain`.
    CallPlain,
    CallLocal,
    CallX,
    Exit,
    Fault,
}

/// One lowered slot.
///
/// - `imm`: the operand value for `I` codes (already extended for the width), the constant of
///   `LoadImm`, the store value of `St*`, the helper-table index of `Call`, the packet offset of
///   `LdAbs`/`LdInd`, the index into the unsupported list for `Fault`;
/// - `aux`: `Movsx*` width; atomic operation ([`atomic_code`]); packet size in bytes;
///   1 on a backward jump (a budget check point).
#[derive(Clone, Copy, Debug)]
struct Op {
    code: Code,
    dst: u8,
    src: u8,
    aux: u8,
    off: i16,
    target: u32,
    imm: u64,
}

const ATOMIC_FETCH: u8 = 0x80;

fn atomic_code(op: AtomicOp, fetch: bool) -> u8 {
    let base = match op {
        AtomicOp::Add => 0,
        AtomicOp::Or => 1,
        AtomicOp::And => 2,
        AtomicOp::Xor => 3,
        AtomicOp::Xchg => 4,
        AtomicOp::Cmpxchg => 5,
    };
    base | if fetch { ATOMIC_FETCH } else { 0 }
}

/// A program prepared for the interpreter.
pub struct Interpreter {
    program: Arc<Program>,
    ops: Vec<Op>,
    helpers: Vec<(u32, Arc<HelperFn>)>,
    /// Plain helpers called by `Code::CallPlain`.
    plain: Vec<PlainHelperFn>,
    table: Arc<HelperTable>,
    unsupported: Vec<Unsupported>,
    regions: Arc<[Region]>,
    config: ExecConfig,
    /// Where proven accesses are confined (identity unless sandboxed).
    confine: Confinement,
    /// Whether callbacks are enabled (the environment has `bpf_loop` or
    /// `bpf_for_each_map_elem`): `lddw` code addresses then load [`code_address`]es and helpers
    /// may call program functions.
    callbacks: bool,
}

/// Linux helper ids that take callbacks (`bpf_for_each_map_elem`, `bpf_loop`).
const CALLBACK_HELPERS: [u32; 2] = [164, 181];

impl std::fmt::Debug for Interpreter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Interpreter")
            .field("slots", &self.ops.len())
            .field(
                "helpers",
                &self.helpers.iter().map(|(id, _)| id).collect::<Vec<_>>(),
            )
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Interpreter {
    /// Prepares `program` to run against `env`.
    ///
    /// # Errors
    /// [`LoadError::UnknownHelper`] when the program calls a helper `env` does not provide.
    pub fn new(program: Arc<Program>, env: &Environment) -> Result<Self, LoadError> {
        Self::prepare(program, env, None, Confinement::NONE)
    }

    /// Prepares `program` in verified mode: the loads, stores and atomics that `facts` mark as
    /// proven in bounds run without the region-table check (atomics keep their alignment check).
    ///
    /// # Errors
    /// As [`Interpreter::new`].
    ///
    /// # Safety
    /// `facts` must come from a sound verifier run on this very `program` for an environment
    /// whose regions, program type and helpers are those of `env` and of every run's input (the
    /// input length and context the verifier assumed). A fact that is wrong lets the program
    /// read or write memory outside its regions.
    pub unsafe fn with_facts(
        program: Arc<Program>,
        env: &Environment,
        facts: &Facts,
    ) -> Result<Self, LoadError> {
        Self::prepare(program, env, Some(facts), Confinement::NONE)
    }

    /// [`Interpreter::with_facts`] with every proven load, store and atomic confined:
    /// it accesses `confine.apply(addr)` (sandboxed verified mode: a wrong fact then reaches only
    /// memory inside the window, never outside it).
    ///
    /// # Errors
    /// As [`Interpreter::new`].
    ///
    /// # Safety
    /// As [`Interpreter::with_facts`] for the program's *correctness*; for memory safety it is
    /// enough that every address of `[base, base + mask + 1 + 7)` is mapped read-write for as
    /// long as the interpreter lives (an `apiary_window::Window` with the read-zero policy, kept
    /// alive by the caller).
    pub unsafe fn with_facts_confined(
        program: Arc<Program>,
        env: &Environment,
        facts: &Facts,
        confine: Confinement,
    ) -> Result<Self, LoadError> {
        Self::prepare(program, env, Some(facts), confine)
    }

    fn prepare(
        program: Arc<Program>,
        env: &Environment,
        facts: Option<&Facts>,
        confine: Confinement,
    ) -> Result<Self, LoadError> {
        env.check_helpers(&program)?;
        let callbacks = CALLBACK_HELPERS
            .iter()
            .any(|&id| env.helpers.get(id).is_some());
        let mut lowering = Lowering {
            helpers: Vec::new(),
            plain: Vec::new(),
            unsupported: Vec::new(),
            table: &env.helpers,
            callbacks,
        };
        let ops = program
            .instructions()
            .iter()
            .enumerate()
            .map(|(pc, ins)| {
                let mut op = lowering.lower(pc, ins);
                if facts.is_some_and(|f| f.access_proven(pc)) {
                    mark_proven(&mut op);
                }
                op
            })
            .collect();
        let Lowering {
            helpers,
            plain,
            unsupported,
            ..
        } = lowering;
        Ok(Self {
            program,
            ops,
            helpers,
            plain,
            table: Arc::clone(&env.helpers),
            unsupported,
            regions: Arc::clone(&env.regions),
            config: env.config,
            confine,
            callbacks,
        })
    }
}

/// `aux` bit of a load or store whose bounds a verifier proved (verified mode).
const PROVEN: u8 = 0x01;
/// `aux` bit of an atomic whose bounds a verifier proved (the low bits hold the operation).
const ATOMIC_PROVEN: u8 = 0x40;
/// `aux` bits of an atomic holding the operation ([`atomic_code`]).
const ATOMIC_OP: u8 = 0x3f;

/// Marks a memory access as needing no region check.
fn mark_proven(op: &mut Op) {
    match op.code {
        Code::Atomic32 | Code::Atomic64 => op.aux |= ATOMIC_PROVEN,
        Code::LdxB
        | Code::LdxH
        | Code::LdxW
        | Code::LdxDW
        | Code::LdxsB
        | Code::LdxsH
        | Code::LdxsW
        | Code::StB
        | Code::StH
        | Code::StW
        | Code::StDW
        | Code::StxB
        | Code::StxH
        | Code::StxW
        | Code::StxDW => op.aux |= PROVEN,
        _ => {}
    }
}

struct Lowering<'a> {
    helpers: Vec<(u32, Arc<HelperFn>)>,
    plain: Vec<PlainHelperFn>,
    unsupported: Vec<Unsupported>,
    table: &'a HelperTable,
    callbacks: bool,
}

impl Lowering<'_> {
    fn lower(&mut self, pc: usize, ins: &Instruction) -> Op {
        let mut op = Op {
            code: Code::Nop,
            dst: 0,
            src: 0,
            aux: 0,
            off: 0,
            target: 0,
            imm: 0,
        };
        if let Instruction::LoadImm64 {
            dst,
            value: Lddw::CodeAddr(target),
        } = *ins
        {
            if self.callbacks {
                op.code = Code::LoadImm;
                op.dst = dst.number();
                op.imm = code_address(target);
                return op;
            }
        }
        if let Some(what) = ins.unsupported() {
            op.code = Code::Fault;
            op.imm = self.unsupported.len() as u64;
            self.unsupported.push(what);
            return op;
        }
        match *ins {
            Instruction::Alu {
                op: alu_op,
                width,
                dst,
                src,
            } => {
                op.dst = dst.number();
                let is_imm = match src {
                    Operand::Reg(r) => {
                        op.src = r.number();
                        false
                    }
                    Operand::Imm(i) => {
                        op.imm = imm_value(i, width);
                        true
                    }
                };
                if let AluOp::Movsx(bits) = alu_op {
                    op.aux = bits;
                }
                op.code = alu_code(alu_op, width, is_imm);
            }
            Instruction::Neg { width, dst } => {
                op.dst = dst.number();
                op.code = if width == Width::W64 {
                    Code::Neg64
                } else {
                    Code::Neg32
                };
            }
            Instruction::Endian { order, bits, dst } => {
                op.dst = dst.number();
                let swap = !matches!(order, ByteOrder::ToLe) ^ cfg!(target_endian = "big");
                op.code = match (bits, swap) {
                    (16, false) => Code::Trunc16,
                    (32, false) => Code::Trunc32,
                    (16, true) => Code::Swap16,
                    (32, true) => Code::Swap32,
                    (_, true) => Code::Swap64,
                    (_, false) => Code::Nop,
                };
            }
            Instruction::Load {
                size,
                sign_extend,
                dst,
                src,
                off,
            } => {
                op.dst = dst.number();
                op.src = src.number();
                op.off = off;
                op.code = match (size, sign_extend) {
                    (Size::B, false) => Code::LdxB,
                    (Size::H, false) => Code::LdxH,
                    (Size::W, false) => Code::LdxW,
                    (Size::DW, _) => Code::LdxDW,
                    (Size::B, true) => Code::LdxsB,
                    (Size::H, true) => Code::LdxsH,
                    (Size::W, true) => Code::LdxsW,
                };
            }
            Instruction::Store {
                size,
                dst,
                off,
                src,
            } => {
                op.dst = dst.number();
                op.off = off;
                let (i, r) = match size {
                    Size::B => (Code::StB, Code::StxB),
                    Size::H => (Code::StH, Code::StxH),
                    Size::W => (Code::StW, Code::StxW),
                    Size::DW => (Code::StDW, Code::StxDW),
                };
                op.code = match src {
                    Operand::Imm(v) => {
                        op.imm = imm_value(v, Width::W64);
                        i
                    }
                    Operand::Reg(s) => {
                        op.src = s.number();
                        r
                    }
                };
            }
            Instruction::Atomic {
                size,
                op: aop,
                fetch,
                dst,
                src,
                off,
            } => {
                op.dst = dst.number();
                op.src = src.number();
                op.off = off;
                op.aux = atomic_code(aop, fetch);
                op.code = if size == Size::W {
                    Code::Atomic32
                } else {
                    Code::Atomic64
                };
            }
            Instruction::LoadImm64 { dst, value } => {
                op.dst = dst.number();
                if let Lddw::Imm(v) = value {
                    op.code = Code::LoadImm;
                    op.imm = v;
                }
            }
            Instruction::LoadPacket { size, addr, imm } => {
                op.aux = size.bytes();
                op.imm = imm as i64 as u64;
                op.code = match addr {
                    PacketAddr::Abs => Code::LdAbs,
                    PacketAddr::Ind(r) => {
                        op.src = r.number();
                        Code::LdInd
                    }
                };
            }
            Instruction::Ja { target } => {
                op.code = Code::Ja;
                op.target = target as u32;
                op.aux = u8::from(target <= pc);
            }
            Instruction::Jump {
                cond,
                width,
                dst,
                src,
                target,
            } => {
                op.dst = dst.number();
                op.target = target as u32;
                op.aux = u8::from(target <= pc);
                let is_imm = match src {
                    Operand::Reg(r) => {
                        op.src = r.number();
                        false
                    }
                    Operand::Imm(i) => {
                        op.imm = imm_value(i, width);
                        true
                    }
                };
                op.code = jump_code(cond, width, is_imm);
            }
            Instruction::Call { helper } => {
                if let Some(f) = self.table.get(helper).and_then(|h| h.plain) {
                    op.code = Code::CallPlain;
                    op.imm = self.plain.len() as _;
                    self.plain.push(f);
                } else {
                    op.code = Code::Call;
                    op.imm = self.helper_index(helper);
                }
            }
            Instruction::CallLocal { target } => {
                op.code = Code::CallLocal;
                op.target = target as u32;
            }
            Instruction::CallKfunc { .. } => {}
            Instruction::CallX { reg } => {
                op.code = Code::CallX;
                op.dst = reg.number();
            }
            Instruction::Exit => op.code = Code::Exit,
            Instruction::LddwTail => op.code = Code::Nop,
        }
        op
    }

    fn helper_index(&mut self, id: u32) -> u64 {
        if let Some(i) = self.helpers.iter().position(|(h, _)| *h == id) {
            return i as u64;
        }
        // `Environment::check_helpers` ran first, so the helper exists.
        if let Some(h) = self.table.get(id) {
            self.helpers.push((id, Arc::clone(&h.func)));
        }
        (self.helpers.len() - 1) as u64
    }
}

fn alu_code(op: AluOp, width: Width, imm: bool) -> Code {
    use Code::*;
    let (i64c, r64, i32c, r32) = match op {
        AluOp::Add => (Add64I, Add64R, Add32I, Add32R),
        AluOp::Sub => (Sub64I, Sub64R, Sub32I, Sub32R),
        AluOp::Mul => (Mul64I, Mul64R, Mul32I, Mul32R),
        AluOp::Div => (Div64I, Div64R, Div32I, Div32R),
        AluOp::Sdiv => (Sdiv64I, Sdiv64R, Sdiv32I, Sdiv32R),
        AluOp::Or => (Or64I, Or64R, Or32I, Or32R),
        AluOp::And => (And64I, And64R, And32I, And32R),
        AluOp::Lsh => (Lsh64I, Lsh64R, Lsh32I, Lsh32R),
        AluOp::Rsh => (Rsh64I, Rsh64R, Rsh32I, Rsh32R),
        AluOp::Mod => (Mod64I, Mod64R, Mod32I, Mod32R),
        AluOp::Smod => (Smod64I, Smod64R, Smod32I, Smod32R),
        AluOp::Xor => (Xor64I, Xor64R, Xor32I, Xor32R),
        AluOp::Mov => (Mov64I, Mov64R, Mov32I, Mov32R),
        AluOp::Arsh => (Arsh64I, Arsh64R, Arsh32I, Arsh32R),
        AluOp::Movsx(_) => (Movsx64, Movsx64, Movsx32, Movsx32),
    };
    match (width, imm) {
        (Width::W64, true) => i64c,
        (Width::W64, false) => r64,
        (Width::W32, true) => i32c,
        (Width::W32, false) => r32,
    }
}

fn jump_code(cond: Cond, width: Width, imm: bool) -> Code {
    use Code::*;
    let (i64c, r64, i32c, r32) = match cond {
        Cond::Eq => (Jeq64I, Jeq64R, Jeq32I, Jeq32R),
        Cond::Gt => (Jgt64I, Jgt64R, Jgt32I, Jgt32R),
        Cond::Ge => (Jge64I, Jge64R, Jge32I, Jge32R),
        Cond::Set => (Jset64I, Jset64R, Jset32I, Jset32R),
        Cond::Ne => (Jne64I, Jne64R, Jne32I, Jne32R),
        Cond::Sgt => (Jsgt64I, Jsgt64R, Jsgt32I, Jsgt32R),
        Cond::Sge => (Jsge64I, Jsge64R, Jsge32I, Jsge32R),
        Cond::Lt => (Jlt64I, Jlt64R, Jlt32I, Jlt32R),
        Cond::Le => (Jle64I, Jle64R, Jle32I, Jle32R),
        Cond::Slt => (Jslt64I, Jslt64R, Jslt32I, Jslt32R),
        Cond::Sle => (Jsle64I, Jsle64R, Jsle32I, Jsle32R),
    };
    match (width, imm) {
        (Width::W64, true) => i64c,
        (Width::W64, false) => r64,
        (Width::W32, true) => i32c,
        (Width::W32, false) => r32,
    }
}

/// A saved caller frame.
#[derive(Clone, Copy)]
struct Frame {
    return_pc: usize,
    saved: [u64; 4],
}

impl Executable for Interpreter {
    fn engine_name(&self) -> &'static str {
        "interp"
    }

    fn program(&self) -> &Program {
        &self.program
    }

    fn run(&self, state: &mut ExecState, input: &mut [u8]) -> Outcome {
        let packet = state.packet();
        let (stack, control) = state.split();
        let input_region = Region::writable(input);
        let mut regs = [0u64; 11];
        regs[1] = if input_region.len == 0 {
            0
        } else {
            input_region.start
        };
        regs[2] = input_region.len;
        regs[10] = stack.start + STACK_SIZE as u64;
        let entry = Entry {
            pc: 0,
            regs,
            depth: 0,
            count: 0,
        };
        let callbacks = Callbacks {
            interp: self,
            budget: self.config.budget,
            depth: Cell::new(0),
            r10: Cell::new(regs[10]),
            count: Cell::new(0),
            pc: Cell::new(0),
            fault: Cell::new(None),
        };
        let mut regions = RegionTable::with_control(stack, input_region, &self.regions, control)
            .with_packet(packet);
        let cb = if self.callbacks {
            regions = regions.with_caller(&callbacks);
            Some(&callbacks)
        } else {
            None
        };
        match self.config.budget {
            None => {
                let (result, _) = self.execute::<false>(&regions, u64::MAX, entry, cb);
                Outcome {
                    result,
                    instructions: None,
                }
            }
            Some(budget) => {
                let (result, count) = self.execute::<true>(&regions, budget, entry, cb);
                Outcome {
                    result,
                    instructions: Some(count),
                }
            }
        }
    }
}

/// Where [`Interpreter::execute`] starts: a function's first slot, its registers, the frames
/// already in use below it (callbacks run on a new frame of the calling run) and the count so far.
struct Entry {
    pc: usize,
    regs: [u64; 11],
    depth: usize,
    count: u64,
}

/// The interpreter's [`FunctionCaller`]: the state of the code that is calling a helper
/// (frame depth, r10, instruction count, pc), set before each helper call, and the fault of a
/// callback, reported as the run's fault.
struct Callbacks<'i> {
    interp: &'i Interpreter,
    budget: Option<u64>,
    depth: Cell<usize>,
    r10: Cell<u64>,
    count: Cell<u64>,
    pc: Cell<usize>,
    fault: Cell<Option<Fault>>,
}

impl Callbacks<'_> {
    fn enter(&self, depth: usize, r10: u64, count: u64, pc: usize) {
        self.depth.set(depth);
        self.r10.set(r10);
        self.count.set(count);
        self.pc.set(pc);
        self.fault.set(None);
    }
}

impl FunctionCaller for Callbacks<'_> {
    fn next_frame(&self) -> u64 {
        self.r10.get().wrapping_sub(FRAME_SIZE as u64)
    }

    fn call_function(
        &self,
        regions: &RegionTable<'_>,
        code: u64,
        args: [u64; 5],
    ) -> Result<u64, HelperError> {
        let Some(target) = code_target(code)
            .filter(|&t| t != 0 && self.interp.program.functions().iter().any(|f| f.start == t))
        else {
            return Err(HelperError::InvalidArgument {
                index: 2,
                value: code,
            });
        };
        let saved = (self.depth.get(), self.r10.get(), self.pc.get());
        if saved.0 + 1 >= MAX_FRAMES {
            self.fault.set(Some(Fault::CallDepthExceeded {
                pc: saved.2,
                max: MAX_FRAMES,
            }));
            return Err(HelperError::CallbackFailed);
        }
        let mut regs = [0u64; 11];
        regs[1..6].copy_from_slice(&args);
        regs[10] = self.next_frame();
        let entry = Entry {
            pc: target,
            regs,
            depth: saved.0 + 1,
            count: self.count.get(),
        };
        let (result, count) = match self.budget {
            None => self
                .interp
                .execute::<false>(regions, u64::MAX, entry, Some(self)),
            Some(budget) => self
                .interp
                .execute::<true>(regions, budget, entry, Some(self)),
        };
        self.enter(saved.0, saved.1, count, saved.2);
        result.map_err(|f| {
            self.fault.set(Some(f));
            HelperError::CallbackFailed
        })
    }
}

impl Interpreter {
    /// The run loop. `METER` selects counting; `budget` is only consulted when metering.
    #[allow(clippy::too_many_lines)]
    fn execute<const METER: bool>(
        &self,
        mem: &RegionTable<'_>,
        budget: u64,
        entry: Entry,
        cb: Option<&Callbacks<'_>>,
    ) -> (Result<u64, Fault>, u64) {
        // Legacy packet loads read the packet (the input unless the state names another).
        let packet = mem.packet();
        let mut regs = entry.regs;
        // Uninitialised: a slot is written by the call that enters it before the matching exit
        // reads it, so a run pays nothing for frames it never uses.
        let mut frames = [const { MaybeUninit::<Frame>::uninit() }; MAX_FRAMES];
        let base = entry.depth;
        let mut depth = 0usize;
        let mut count = entry.count;
        let mut pc = entry.pc;
        let ops = &self.ops[..];

        macro_rules! fault {
            ($f:expr) => {
                return (Err($f), count)
            };
        }
        macro_rules! addr {
            ($base:expr, $off:expr) => {
                regs[$base as usize].wrapping_add($off as i64 as u64)
            };
        }
        let confine = self.confine;
        // A proven access is confined (identity outside sandboxed mode); others are checked.
        macro_rules! check {
            ($proven:expr, $addr:ident, $len:expr, $access:expr) => {
                if $proven {
                    $addr = confine.apply($addr);
                } else if !mem.check($addr, $len, $access) {
                    fault!(Fault::OutOfBounds {
                        pc: pc - 1,
                        addr: $addr,
                        len: $len as u8,
                        access: $access
                    });
                }
            };
        }
        macro_rules! load {
            ($f:ident, $size:expr, $op:expr) => {{
                let mut a = addr!($op.src, $op.off);
                check!($op.aux & PROVEN != 0, a, $size, Access::Read);
                // SAFETY: `check` proved `[a, a + size)` lies in a readable region (or, in
                // verified mode, the verifier did: the contract of `with_facts`; sandboxed, `a`
                // was confined into the window, mapped read-write whole: the contract of
                // `with_facts_confined`); by the region table's contract (memory.rs) that is live
                // memory no Rust reference touches now.
                // Programs on other threads may write it (shared maps), so the load is a
                // racy-tolerant atomic one (`crate::racy`).
                unsafe { racy::$f(a as *const u8) }
            }};
        }
        macro_rules! store {
            ($f:ident, $ty:ty, $op:expr, $v:expr) => {{
                let mut a = addr!($op.dst, $op.off);
                check!(
                    $op.aux & PROVEN != 0,
                    a,
                    std::mem::size_of::<$ty>() as u64,
                    Access::Write
                );
                // SAFETY: as for `load!`, and the region is writable.
                unsafe { racy::$f(a as *mut u8, $v as $ty) }
            }};
        }
        macro_rules! alu64i {
            ($o:ident, $op:expr) => {
                regs[$op.dst as usize] = alu64(AluOp::$o, regs[$op.dst as usize], $op.imm)
            };
        }
        macro_rules! alu64r {
            ($o:ident, $op:expr) => {
                regs[$op.dst as usize] =
                    alu64(AluOp::$o, regs[$op.dst as usize], regs[$op.src as usize])
            };
        }
        macro_rules! alu32i {
            ($o:ident, $op:expr) => {
                regs[$op.dst as usize] = u64::from(alu32(
                    AluOp::$o,
                    regs[$op.dst as usize] as u32,
                    $op.imm as u32,
                ))
            };
        }
        macro_rules! alu32r {
            ($o:ident, $op:expr) => {
                regs[$op.dst as usize] = u64::from(alu32(
                    AluOp::$o,
                    regs[$op.dst as usize] as u32,
                    regs[$op.src as usize] as u32,
                ))
            };
        }
        macro_rules! branch {
            ($op:expr) => {{
                if METER && $op.aux != 0 && count > budget {
                    fault!(Fault::BudgetExhausted { pc: pc - 1, budget });
                }
                pc = $op.target as usize;
            }};
        }
        macro_rules! jmp {
            ($c:ident, $w:ident, imm, $op:expr) => {
                if condition(Cond::$c, Width::$w, regs[$op.dst as usize], $op.imm) {
                    branch!($op)
                }
            };
            ($c:ident, $w:ident, reg, $op:expr) => {
                if condition(
                    Cond::$c,
                    Width::$w,
                    regs[$op.dst as usize],
                    regs[$op.src as usize],
                ) {
                    branch!($op)
                }
            };
        }

        loop {
            let op = ops[pc];
            pc += 1;
            if METER {
                count += 1;
            }
            match op.code {
                Code::Add64I => alu64i!(Add, op),
                Code::Add64R => alu64r!(Add, op),
                Code::Sub64I => alu64i!(Sub, op),
                Code::Sub64R => alu64r!(Sub, op),
                Code::Mul64I => alu64i!(Mul, op),
                Code::Mul64R => alu64r!(Mul, op),
                Code::Div64I => alu64i!(Div, op),
                Code::Div64R => alu64r!(Div, op),
                Code::Sdiv64I => alu64i!(Sdiv, op),
                Code::Sdiv64R => alu64r!(Sdiv, op),
                Code::Or64I => alu64i!(Or, op),
                Code::Or64R => alu64r!(Or, op),
                Code::And64I => alu64i!(And, op),
                Code::And64R => alu64r!(And, op),
                Code::Lsh64I => alu64i!(Lsh, op),
                Code::Lsh64R => alu64r!(Lsh, op),
                Code::Rsh64I => alu64i!(Rsh, op),
                Code::Rsh64R => alu64r!(Rsh, op),
                Code::Mod64I => alu64i!(Mod, op),
                Code::Mod64R => alu64r!(Mod, op),
                Code::Smod64I => alu64i!(Smod, op),
                Code::Smod64R => alu64r!(Smod, op),
                Code::Xor64I => alu64i!(Xor, op),
                Code::Xor64R => alu64r!(Xor, op),
                Code::Mov64I => regs[op.dst as usize] = op.imm,
                Code::Mov64R => regs[op.dst as usize] = regs[op.src as usize],
                Code::Arsh64I => alu64i!(Arsh, op),
                Code::Arsh64R => alu64r!(Arsh, op),
                Code::Movsx64 => {
                    regs[op.dst as usize] = alu64(AluOp::Movsx(op.aux), 0, regs[op.src as usize]);
                }
                Code::Add32I => alu32i!(Add, op),
                Code::Add32R => alu32r!(Add, op),
                Code::Sub32I => alu32i!(Sub, op),
                Code::Sub32R => alu32r!(Sub, op),
                Code::Mul32I => alu32i!(Mul, op),
                Code::Mul32R => alu32r!(Mul, op),
                Code::Div32I => alu32i!(Div, op),
                Code::Div32R => alu32r!(Div, op),
                Code::Sdiv32I => alu32i!(Sdiv, op),
                Code::Sdiv32R => alu32r!(Sdiv, op),
                Code::Or32I => alu32i!(Or, op),
                Code::Or32R => alu32r!(Or, op),
                Code::And32I => alu32i!(And, op),
                Code::And32R => alu32r!(And, op),
                Code::Lsh32I => alu32i!(Lsh, op),
                Code::Lsh32R => alu32r!(Lsh, op),
                Code::Rsh32I => alu32i!(Rsh, op),
                Code::Rsh32R => alu32r!(Rsh, op),
                Code::Mod32I => alu32i!(Mod, op),
                Code::Mod32R => alu32r!(Mod, op),
                Code::Smod32I => alu32i!(Smod, op),
                Code::Smod32R => alu32r!(Smod, op),
                Code::Xor32I => alu32i!(Xor, op),
                Code::Xor32R => alu32r!(Xor, op),
                Code::Mov32I => regs[op.dst as usize] = op.imm,
                Code::Mov32R => regs[op.dst as usize] = u64::from(regs[op.src as usize] as u32),
                Code::Arsh32I => alu32i!(Arsh, op),
                Code::Arsh32R => alu32r!(Arsh, op),
                Code::Movsx32 => {
                    regs[op.dst as usize] =
                        u64::from(alu32(AluOp::Movsx(op.aux), 0, regs[op.src as usize] as u32));
                }
                Code::Neg64 => regs[op.dst as usize] = regs[op.dst as usize].wrapping_neg(),
                Code::Neg32 => {
                    regs[op.dst as usize] = u64::from((regs[op.dst as usize] as u32).wrapping_neg())
                }
                Code::Trunc16 => {
                    regs[op.dst as usize] = endian(ByteOrder::ToLe, 16, regs[op.dst as usize])
                }
                Code::Trunc32 => {
                    regs[op.dst as usize] = endian(ByteOrder::ToLe, 32, regs[op.dst as usize])
                }
                Code::Swap16 => {
                    regs[op.dst as usize] = u64::from((regs[op.dst as usize] as u16).swap_bytes())
                }
                Code::Swap32 => {
                    regs[op.dst as usize] = u64::from((regs[op.dst as usize] as u32).swap_bytes())
                }
                Code::Swap64 => regs[op.dst as usize] = regs[op.dst as usize].swap_bytes(),
                Code::Nop => {}
                Code::LdxB => regs[op.dst as usize] = u64::from(load!(load_u8, 1, op)),
                Code::LdxH => regs[op.dst as usize] = u64::from(load!(load_u16, 2, op)),
                Code::LdxW => regs[op.dst as usize] = u64::from(load!(load_u32, 4, op)),
                Code::LdxDW => regs[op.dst as usize] = load!(load_u64, 8, op),
                Code::LdxsB => regs[op.dst as usize] = load!(load_u8, 1, op) as i8 as i64 as u64,
                Code::LdxsH => regs[op.dst as usize] = load!(load_u16, 2, op) as i16 as i64 as u64,
                Code::LdxsW => regs[op.dst as usize] = load!(load_u32, 4, op) as i32 as i64 as u64,
                Code::StB => store!(store_u8, u8, op, op.imm),
                Code::StH => store!(store_u16, u16, op, op.imm),
                Code::StW => store!(store_u32, u32, op, op.imm),
                Code::StDW => store!(store_u64, u64, op, op.imm),
                Code::StxB => store!(store_u8, u8, op, regs[op.src as usize]),
                Code::StxH => store!(store_u16, u16, op, regs[op.src as usize]),
                Code::StxW => store!(store_u32, u32, op, regs[op.src as usize]),
                Code::StxDW => store!(store_u64, u64, op, regs[op.src as usize]),
                Code::Atomic32 | Code::Atomic64 => {
                    let wide = op.code == Code::Atomic64;
                    let len: u8 = if wide { 8 } else { 4 };
                    let mut a = addr!(op.dst, op.off);
                    check!(
                        op.aux & ATOMIC_PROVEN != 0,
                        a,
                        u64::from(len),
                        Access::Write
                    );
                    if a & (u64::from(len) - 1) != 0 {
                        fault!(Fault::MisalignedAtomic {
                            pc: pc - 1,
                            addr: a,
                            len
                        });
                    }
                    let src = regs[op.src as usize];
                    let old = if wide {
                        // SAFETY: `[a, a + 8)` is in a writable region (checked above) and 8-aligned.
                        unsafe { atomic64(a, op.aux, src, regs[0]) }
                    } else {
                        // SAFETY: `[a, a + 4)` is in a writable region (checked above) and 4-aligned.
                        unsafe { u64::from(atomic32(a, op.aux, src as u32, regs[0] as u32)) }
                    };
                    if op.aux & ATOMIC_OP == 5 {
                        regs[0] = old;
                    } else if op.aux & ATOMIC_FETCH != 0 {
                        regs[op.src as usize] = old;
                    }
                }
                Code::LoadImm => {
                    regs[op.dst as usize] = op.imm;
                    // The second slot is part of this instruction: skip it (an lddw counts one).
                    pc += 1;
                }
                Code::LdAbs | Code::LdInd => {
                    let base = if op.code == Code::LdInd {
                        regs[op.src as usize] as u32
                    } else {
                        0
                    };
                    let offset = u64::from(base.wrapping_add(op.imm as u32));
                    let len = u64::from(op.aux);
                    if packet.len < len || offset > packet.len - len {
                        // Linux: an out-of-bounds packet load ends the program with r0 = 0.
                        return (Ok(0), count);
                    }
                    let a = packet.start + offset;
                    // SAFETY: `[a, a + len)` lies inside the packet region (tested just above):
                    // the input, or a packet set through the unsafe `ExecState::set_packet`,
                    // whose caller promised the region contract for the run.
                    regs[0] = unsafe {
                        match op.aux {
                            1 => u64::from(racy::load_u8(a as *const u8)),
                            2 => u64::from(u16::from_be(racy::load_u16(a as *const u8))),
                            _ => u64::from(u32::from_be(racy::load_u32(a as *const u8))),
                        }
                    };
                }
                Code::Ja => branch!(op),
                Code::Jeq64I => jmp!(Eq, W64, imm, op),
                Code::Jeq64R => jmp!(Eq, W64, reg, op),
                Code::Jgt64I => jmp!(Gt, W64, imm, op),
                Code::Jgt64R => jmp!(Gt, W64, reg, op),
                Code::Jge64I => jmp!(Ge, W64, imm, op),
                Code::Jge64R => jmp!(Ge, W64, reg, op),
                Code::Jset64I => jmp!(Set, W64, imm, op),
                Code::Jset64R => jmp!(Set, W64, reg, op),
                Code::Jne64I => jmp!(Ne, W64, imm, op),
                Code::Jne64R => jmp!(Ne, W64, reg, op),
                Code::Jsgt64I => jmp!(Sgt, W64, imm, op),
                Code::Jsgt64R => jmp!(Sgt, W64, reg, op),
                Code::Jsge64I => jmp!(Sge, W64, imm, op),
                Code::Jsge64R => jmp!(Sge, W64, reg, op),
                Code::Jlt64I => jmp!(Lt, W64, imm, op),
                Code::Jlt64R => jmp!(Lt, W64, reg, op),
                Code::Jle64I => jmp!(Le, W64, imm, op),
                Code::Jle64R => jmp!(Le, W64, reg, op),
                Code::Jslt64I => jmp!(Slt, W64, imm, op),
                Code::Jslt64R => jmp!(Slt, W64, reg, op),
                Code::Jsle64I => jmp!(Sle, W64, imm, op),
                Code::Jsle64R => jmp!(Sle, W64, reg, op),
                Code::Jeq32I => jmp!(Eq, W32, imm, op),
                Code::Jeq32R => jmp!(Eq, W32, reg, op),
                Code::Jgt32I => jmp!(Gt, W32, imm, op),
                Code::Jgt32R => jmp!(Gt, W32, reg, op),
                Code::Jge32I => jmp!(Ge, W32, imm, op),
                Code::Jge32R => jmp!(Ge, W32, reg, op),
                Code::Jset32I => jmp!(Set, W32, imm, op),
                Code::Jset32R => jmp!(Set, W32, reg, op),
                Code::Jne32I => jmp!(Ne, W32, imm, op),
                Code::Jne32R => jmp!(Ne, W32, reg, op),
                Code::Jsgt32I => jmp!(Sgt, W32, imm, op),
                Code::Jsgt32R => jmp!(Sgt, W32, reg, op),
                Code::Jsge32I => jmp!(Sge, W32, imm, op),
                Code::Jsge32R => jmp!(Sge, W32, reg, op),
                Code::Jlt32I => jmp!(Lt, W32, imm, op),
                Code::Jlt32R => jmp!(Lt, W32, reg, op),
                Code::Jle32I => jmp!(Le, W32, imm, op),
                Code::Jle32R => jmp!(Le, W32, reg, op),
                Code::Jslt32I => jmp!(Slt, W32, imm, op),
                Code::Jslt32R => jmp!(Slt, W32, reg, op),
                Code::Jsle32I => jmp!(Sle, W32, imm, op),
                Code::Jsle32R => jmp!(Sle, W32, reg, op),
                Code::Call => {
                    let (id, ref func) = self.helpers[op.imm as usize];
                    if let Some(cb) = cb {
                        cb.enter(base + depth, regs[10], count, pc - 1);
                    }
                    let result = self.call_helper(mem, &**func, id, &regs, pc - 1, cb);
                    if let (true, Some(cb)) = (METER, cb) {
                        count = cb.count.get();
                    }
                    match result {
                        Ok((r0, None)) => regs[0] = r0,
                        Ok((_, Some(stop))) => return (Ok(stop), count),
                        Err(f) => fault!(f),
                    }
                }
                Code::CallPlain => {
                    // A plain helper cannot fail, stop the run or call back: no context, no
                    // panic catching (it must not panic; see `PlainHelperFn`).
                    let f = self.plain[op.imm as usize];
                    regs[0] = f(regs[1], regs[2], regs[3], regs[4], regs[5]);
                }
                Code::CallX => {
                    if METER && count > budget {
                        fault!(Fault::BudgetExhausted { pc: pc - 1, budget });
                    }
                    let id = regs[op.dst as usize];
                    let Some(helper) = u32::try_from(id).ok().and_then(|id| self.table.get(id))
                    else {
                        fault!(Fault::UnknownHelper { pc: pc - 1, id });
                    };
                    if let Some(cb) = cb {
                        cb.enter(base + depth, regs[10], count, pc - 1);
                    }
                    let result = self.call_helper(mem, &*helper.func, helper.id, &regs, pc - 1, cb);
                    if let (true, Some(cb)) = (METER, cb) {
                        count = cb.count.get();
                    }
                    match result {
                        Ok((r0, None)) => regs[0] = r0,
                        Ok((_, Some(stop))) => return (Ok(stop), count),
                        Err(f) => fault!(f),
                    }
                }
                Code::CallLocal => {
                    if METER && count > budget {
                        fault!(Fault::BudgetExhausted { pc: pc - 1, budget });
                    }
                    if base + depth + 1 >= MAX_FRAMES {
                        fault!(Fault::CallDepthExceeded {
                            pc: pc - 1,
                            max: MAX_FRAMES
                        });
                    }
                    frames[depth].write(Frame {
                        return_pc: pc,
                        saved: [regs[6], regs[7], regs[8], regs[9]],
                    });
                    depth += 1;
                    regs[10] -= FRAME_SIZE as u64;
                    pc = op.target as usize;
                }
                Code::Exit => {
                    if depth == 0 {
                        return (Ok(regs[0]), count);
                    }
                    depth -= 1;
                    // SAFETY: `depth` was just decremented from a level entered by `CallLocal`,
                    // which wrote `frames[depth]` before raising `depth` past it.
                    let f = unsafe { frames[depth].assume_init() };
                    regs[6..10].copy_from_slice(&f.saved);
                    regs[10] += FRAME_SIZE as u64;
                    pc = f.return_pc;
                }
                Code::Fault => {
                    fault!(Fault::Unsupported {
                        pc: pc - 1,
                        what: self.unsupported[op.imm as usize]
                    });
                }
            }
        }
    }

    /// Calls a helper with r1–r5, catching panics. Returns r0 and a stop request.
    #[inline(never)]
    fn call_helper(
        &self,
        mem: &RegionTable<'_>,
        func: &HelperFn,
        id: u32,
        regs: &[u64; 11],
        pc: usize,
        cb: Option<&Callbacks<'_>>,
    ) -> Result<(u64, Option<u64>), Fault> {
        let mut ctx = HelperContext::new(mem);
        let args = [regs[1], regs[2], regs[3], regs[4], regs[5]];
        match catch_unwind(AssertUnwindSafe(|| func(&mut ctx, args))) {
            Ok(Ok(r0)) => Ok((r0, ctx.stop_requested())),
            Ok(Err(HelperError::CallbackFailed)) if cb.is_some() => {
                Err(cb.and_then(|c| c.fault.take()).unwrap_or(Fault::Helper {
                    pc,
                    id,
                    error: HelperError::CallbackFailed,
                }))
            }
            Ok(Err(error)) => Err(Fault::Helper { pc, id, error }),
            Err(_) => Err(Fault::HelperPanicked { pc, id }),
        }
    }
}

/// Performs a 64-bit atomic operation (code from [`atomic_code`]) and returns the old value.
///
/// # Safety
/// `addr` must be 8-aligned and point to 8 writable bytes that are only accessed atomically or
/// by this run for the duration of the call.
unsafe fn atomic64(addr: u64, code: u8, src: u64, r0: u64) -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
    // SAFETY: guaranteed by the caller (aligned, live, writable).
    let cell = unsafe { AtomicU64::from_ptr(addr as *mut u64) };
    match code & ATOMIC_OP {
        0 => cell.fetch_add(src, SeqCst),
        1 => cell.fetch_or(src, SeqCst),
        2 => cell.fetch_and(src, SeqCst),
        3 => cell.fetch_xor(src, SeqCst),
        4 => cell.swap(src, SeqCst),
        _ => cell
            .compare_exchange(r0, src, SeqCst, SeqCst)
            .unwrap_or_else(|v| v),
    }
}

/// Performs a 32-bit atomic operation and returns the old value.
///
/// # Safety
/// As [`atomic64`], with 4-byte alignment and size.
unsafe fn atomic32(addr: u64, code: u8, src: u32, r0: u32) -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
    // SAFETY: guaranteed by the caller (aligned, live, writable).
    let cell = unsafe { AtomicU32::from_ptr(addr as *mut u32) };
    match code & ATOMIC_OP {
        0 => cell.fetch_add(src, SeqCst),
        1 => cell.fetch_or(src, SeqCst),
        2 => cell.fetch_and(src, SeqCst),
        3 => cell.fetch_xor(src, SeqCst),
        4 => cell.swap(src, SeqCst),
        _ => cell
            .compare_exchange(r0, src, SeqCst, SeqCst)
            .unwrap_or_else(|v| v),
    }
}
