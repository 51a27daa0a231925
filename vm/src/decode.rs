//! Field-by-field decoding of one slot into an [`Instruction`]. Every field is checked: an
//! unused field must be zero, a register must exist, an immediate that selects a variant must
//! name one. Whole-program checks (jump targets landing on `lddw` tails, function boundaries)
//! live in [`crate::program`].

use crate::error::{Field, Group, LoadError};
use crate::insn::Insn;
use crate::instruction::{
    AluOp, AtomicOp, ByteOrder, Cond, Instruction, Lddw, Operand, PacketAddr, Reg, Size, Width,
};
use crate::opcode::{self, alu, atomic, call_src, jmp, lddw_src};

/// Which optional instruction groups a load accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoadOptions {
    /// Accept `callx` (0x8d): an indirect helper call, register in `dst` (uBPF semantics).
    pub callx: bool,
    /// Accept legacy `LD_ABS`/`LD_IND` packet loads.
    pub packet: bool,
    /// Accept Linux kfunc calls (`call` src = 2); engines fault if one is reached.
    pub kfunc: bool,
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self {
            callx: false,
            packet: true,
            kfunc: false,
        }
    }
}

impl LoadOptions {
    /// Every optional group enabled: the configuration of the conformance suite.
    #[must_use]
    pub const fn all() -> Self {
        Self {
            callx: true,
            packet: true,
            kfunc: true,
        }
    }
}

/// Context for decoding one slot.
struct Slot<'a> {
    insns: &'a [Insn],
    pc: usize,
    insn: Insn,
}

impl Slot<'_> {
    fn reserved(&self, field: Field, value: i64) -> LoadError {
        LoadError::ReservedField {
            pc: self.pc,
            op: self.insn.op,
            field,
            value,
        }
    }

    fn zero(&self, field: Field) -> Result<(), LoadError> {
        let value = match field {
            Field::Dst => i64::from(self.insn.dst),
            Field::Src => i64::from(self.insn.src),
            Field::Off => i64::from(self.insn.off),
            Field::Imm => i64::from(self.insn.imm),
            Field::Opcode => i64::from(self.insn.op),
        };
        if value == 0 {
            Ok(())
        } else {
            Err(self.reserved(field, value))
        }
    }

    fn reg(&self, field: Field) -> Result<Reg, LoadError> {
        let n = if field == Field::Src {
            self.insn.src
        } else {
            self.insn.dst
        };
        Reg::new(n).ok_or(LoadError::InvalidRegister {
            pc: self.pc,
            field,
            reg: n,
        })
    }

    /// The dst register, which this instruction writes: r10 is refused.
    fn dst_written(&self) -> Result<Reg, LoadError> {
        let r = self.reg(Field::Dst)?;
        if r == Reg::R10 {
            return Err(LoadError::WritesFramePointer { pc: self.pc });
        }
        Ok(r)
    }

    fn target(&self, displacement: i64) -> Result<usize, LoadError> {
        let target = self.pc as i64 + 1 + displacement;
        if target < 0 || target >= self.insns.len() as i64 {
            return Err(LoadError::TargetOutOfRange {
                pc: self.pc,
                target,
                len: self.insns.len(),
            });
        }
        Ok(target as usize)
    }

    fn unknown(&self) -> LoadError {
        LoadError::UnknownOpcode {
            pc: self.pc,
            op: self.insn.op,
        }
    }
}

/// Decodes the slot at `pc` of `insns`.
///
/// # Errors
/// Any [`LoadError`] that concerns this slot alone (plus its `lddw` tail and target range).
pub fn decode_at(
    insns: &[Insn],
    pc: usize,
    options: &LoadOptions,
) -> Result<Instruction, LoadError> {
    let insn = insns[pc];
    let s = Slot { insns, pc, insn };
    match insn.op & opcode::CLASS_MASK {
        opcode::CLASS_ALU => decode_alu(&s, Width::W32),
        opcode::CLASS_ALU64 => decode_alu(&s, Width::W64),
        opcode::CLASS_JMP => decode_jmp(&s, Width::W64, options),
        opcode::CLASS_JMP32 => decode_jmp(&s, Width::W32, options),
        opcode::CLASS_LDX => decode_ldx(&s),
        opcode::CLASS_ST => decode_st(&s),
        opcode::CLASS_STX => decode_stx(&s),
        _ => decode_ld(&s, options),
    }
}

fn alu_operand(s: &Slot<'_>) -> Result<Operand, LoadError> {
    if s.insn.op & opcode::SOURCE_MASK == opcode::SOURCE_X {
        s.zero(Field::Imm)?;
        Ok(Operand::Reg(s.reg(Field::Src)?))
    } else {
        s.zero(Field::Src)?;
        Ok(Operand::Imm(s.insn.imm))
    }
}

fn decode_alu(s: &Slot<'_>, width: Width) -> Result<Instruction, LoadError> {
    let code = s.insn.op & opcode::CODE_MASK;
    let is_x = s.insn.op & opcode::SOURCE_MASK == opcode::SOURCE_X;
    match code {
        alu::NEG => {
            if is_x {
                return Err(s.unknown());
            }
            s.zero(Field::Src)?;
            s.zero(Field::Off)?;
            s.zero(Field::Imm)?;
            return Ok(Instruction::Neg {
                width,
                dst: s.dst_written()?,
            });
        }
        alu::END => {
            let order = match (width, is_x) {
                (Width::W32, false) => ByteOrder::ToLe,
                (Width::W32, true) => ByteOrder::ToBe,
                (Width::W64, false) => ByteOrder::Swap,
                (Width::W64, true) => return Err(s.unknown()),
            };
            s.zero(Field::Src)?;
            s.zero(Field::Off)?;
            if !matches!(s.insn.imm, 16 | 32 | 64) {
                return Err(s.reserved(Field::Imm, i64::from(s.insn.imm)));
            }
            return Ok(Instruction::Endian {
                order,
                bits: s.insn.imm as u8,
                dst: s.dst_written()?,
            });
        }
        0xe0 | 0xf0 => return Err(s.unknown()),
        _ => {}
    }
    let off = s.insn.off;
    let op = match (code, off) {
        (alu::ADD, 0) => AluOp::Add,
        (alu::SUB, 0) => AluOp::Sub,
        (alu::MUL, 0) => AluOp::Mul,
        (alu::DIV, 0) => AluOp::Div,
        (alu::DIV, 1) => AluOp::Sdiv,
        (alu::OR, 0) => AluOp::Or,
        (alu::AND, 0) => AluOp::And,
        (alu::LSH, 0) => AluOp::Lsh,
        (alu::RSH, 0) => AluOp::Rsh,
        (alu::MOD, 0) => AluOp::Mod,
        (alu::MOD, 1) => AluOp::Smod,
        (alu::XOR, 0) => AluOp::Xor,
        (alu::MOV, 0) => AluOp::Mov,
        (alu::MOV, 8 | 16) if is_x => AluOp::Movsx(off as u8),
        (alu::MOV, 32) if is_x && width == Width::W64 => AluOp::Movsx(32),
        (alu::ARSH, 0) => AluOp::Arsh,
        _ => return Err(s.reserved(Field::Off, i64::from(off))),
    };
    let src = alu_operand(s)?;
    Ok(Instruction::Alu {
        op,
        width,
        dst: s.dst_written()?,
        src,
    })
}

fn decode_jmp(s: &Slot<'_>, width: Width, options: &LoadOptions) -> Result<Instruction, LoadError> {
    let code = s.insn.op & opcode::CODE_MASK;
    let is_x = s.insn.op & opcode::SOURCE_MASK == opcode::SOURCE_X;
    let cond = match code {
        jmp::JA => {
            if is_x {
                return Err(s.unknown());
            }
            s.zero(Field::Dst)?;
            s.zero(Field::Src)?;
            let displacement = if width == Width::W64 {
                s.zero(Field::Imm)?;
                i64::from(s.insn.off)
            } else {
                s.zero(Field::Off)?;
                i64::from(s.insn.imm)
            };
            return Ok(Instruction::Ja {
                target: s.target(displacement)?,
            });
        }
        jmp::CALL if width == Width::W64 => return decode_call(s, is_x, options),
        jmp::EXIT if width == Width::W64 && !is_x => {
            s.zero(Field::Dst)?;
            s.zero(Field::Src)?;
            s.zero(Field::Off)?;
            s.zero(Field::Imm)?;
            return Ok(Instruction::Exit);
        }
        jmp::JEQ => Cond::Eq,
        jmp::JGT => Cond::Gt,
        jmp::JGE => Cond::Ge,
        jmp::JSET => Cond::Set,
        jmp::JNE => Cond::Ne,
        jmp::JSGT => Cond::Sgt,
        jmp::JSGE => Cond::Sge,
        jmp::JLT => Cond::Lt,
        jmp::JLE => Cond::Le,
        jmp::JSLT => Cond::Slt,
        jmp::JSLE => Cond::Sle,
        _ => return Err(s.unknown()),
    };
    let src = alu_operand(s)?;
    let dst = s.reg(Field::Dst)?;
    Ok(Instruction::Jump {
        cond,
        width,
        dst,
        src,
        target: s.target(i64::from(s.insn.off))?,
    })
}

fn decode_call(s: &Slot<'_>, is_x: bool, options: &LoadOptions) -> Result<Instruction, LoadError> {
    if is_x {
        if !options.callx {
            return Err(LoadError::GroupDisabled {
                pc: s.pc,
                op: s.insn.op,
                group: Group::Callx,
            });
        }
        s.zero(Field::Src)?;
        s.zero(Field::Off)?;
        s.zero(Field::Imm)?;
        return Ok(Instruction::CallX {
            reg: s.reg(Field::Dst)?,
        });
    }
    s.zero(Field::Dst)?;
    match s.insn.src {
        call_src::HELPER => {
            s.zero(Field::Off)?;
            Ok(Instruction::Call {
                helper: s.insn.imm as u32,
            })
        }
        call_src::LOCAL => {
            s.zero(Field::Off)?;
            Ok(Instruction::CallLocal {
                target: s.target(i64::from(s.insn.imm))?,
            })
        }
        call_src::KFUNC => {
            if !options.kfunc {
                return Err(LoadError::GroupDisabled {
                    pc: s.pc,
                    op: s.insn.op,
                    group: Group::Kfunc,
                });
            }
            Ok(Instruction::CallKfunc {
                btf_id: s.insn.imm,
                module: s.insn.off,
            })
        }
        other => Err(s.reserved(Field::Src, i64::from(other))),
    }
}

fn size_of(op: u8) -> Size {
    match op & opcode::SIZE_MASK {
        opcode::SIZE_W => Size::W,
        opcode::SIZE_H => Size::H,
        opcode::SIZE_B => Size::B,
        _ => Size::DW,
    }
}

fn decode_ldx(s: &Slot<'_>) -> Result<Instruction, LoadError> {
    let size = size_of(s.insn.op);
    let sign_extend = match s.insn.op & opcode::MODE_MASK {
        opcode::MODE_MEM => false,
        opcode::MODE_MEMSX if size != Size::DW => true,
        _ => return Err(s.unknown()),
    };
    s.zero(Field::Imm)?;
    let src = s.reg(Field::Src)?;
    Ok(Instruction::Load {
        size,
        sign_extend,
        dst: s.dst_written()?,
        src,
        off: s.insn.off,
    })
}

fn decode_st(s: &Slot<'_>) -> Result<Instruction, LoadError> {
    if s.insn.op & opcode::MODE_MASK != opcode::MODE_MEM {
        return Err(s.unknown());
    }
    s.zero(Field::Src)?;
    let dst = s.reg(Field::Dst)?;
    Ok(Instruction::Store {
        size: size_of(s.insn.op),
        dst,
        off: s.insn.off,
        src: Operand::Imm(s.insn.imm),
    })
}

fn decode_stx(s: &Slot<'_>) -> Result<Instruction, LoadError> {
    let size = size_of(s.insn.op);
    match s.insn.op & opcode::MODE_MASK {
        opcode::MODE_MEM => {
            s.zero(Field::Imm)?;
            let dst = s.reg(Field::Dst)?;
            let src = s.reg(Field::Src)?;
            Ok(Instruction::Store {
                size,
                dst,
                off: s.insn.off,
                src: Operand::Reg(src),
            })
        }
        opcode::MODE_ATOMIC if matches!(size, Size::W | Size::DW) => {
            let imm = s.insn.imm;
            let (op, fetch) = match imm {
                atomic::XCHG => (AtomicOp::Xchg, true),
                atomic::CMPXCHG => (AtomicOp::Cmpxchg, true),
                _ => {
                    let fetch = imm & atomic::FETCH != 0;
                    let op = match imm & !atomic::FETCH {
                        atomic::ADD => AtomicOp::Add,
                        atomic::OR => AtomicOp::Or,
                        atomic::AND => AtomicOp::And,
                        atomic::XOR => AtomicOp::Xor,
                        _ => return Err(s.reserved(Field::Imm, i64::from(imm))),
                    };
                    (op, fetch)
                }
            };
            let dst = s.reg(Field::Dst)?;
            let src = s.reg(Field::Src)?;
            if fetch && op != AtomicOp::Cmpxchg && src == Reg::R10 {
                return Err(LoadError::WritesFramePointer { pc: s.pc });
            }
            Ok(Instruction::Atomic {
                size,
                op,
                fetch,
                dst,
                src,
                off: s.insn.off,
            })
        }
        _ => Err(s.unknown()),
    }
}

fn decode_ld(s: &Slot<'_>, options: &LoadOptions) -> Result<Instruction, LoadError> {
    let size = size_of(s.insn.op);
    match s.insn.op & opcode::MODE_MASK {
        opcode::MODE_IMM if size == Size::DW => decode_lddw(s),
        mode @ (opcode::MODE_ABS | opcode::MODE_IND) if size != Size::DW => {
            if !options.packet {
                return Err(LoadError::GroupDisabled {
                    pc: s.pc,
                    op: s.insn.op,
                    group: Group::Packet,
                });
            }
            s.zero(Field::Dst)?;
            s.zero(Field::Off)?;
            let addr = if mode == opcode::MODE_ABS {
                s.zero(Field::Src)?;
                PacketAddr::Abs
            } else {
                PacketAddr::Ind(s.reg(Field::Src)?)
            };
            Ok(Instruction::LoadPacket {
                size,
                addr,
                imm: s.insn.imm,
            })
        }
        _ => Err(s.unknown()),
    }
}

fn decode_lddw(s: &Slot<'_>) -> Result<Instruction, LoadError> {
    s.zero(Field::Off)?;
    let Some(&tail) = s.insns.get(s.pc + 1) else {
        return Err(LoadError::LddwTruncated { pc: s.pc });
    };
    for (field, value) in [
        (Field::Opcode, tail.op),
        (Field::Dst, tail.dst),
        (Field::Src, tail.src),
        (Field::Off, u8::from(tail.off != 0)),
    ] {
        if value != 0 {
            return Err(LoadError::LddwBadTail { pc: s.pc, field });
        }
    }
    let dst = s.dst_written()?;
    let imm = s.insn.imm;
    let next = tail.imm;
    let value = match s.insn.src {
        lddw_src::IMM64 => Lddw::Imm((u64::from(next as u32) << 32) | u64::from(imm as u32)),
        lddw_src::MAP_FD => Lddw::MapFd(imm),
        lddw_src::MAP_VALUE => Lddw::MapValue {
            map: imm,
            offset: next,
        },
        lddw_src::VAR_ADDR => Lddw::VarAddr(imm),
        lddw_src::CODE_ADDR => Lddw::CodeAddr(s.target(i64::from(imm))?),
        lddw_src::MAP_IDX => Lddw::MapIdx(imm),
        lddw_src::MAP_IDX_VALUE => Lddw::MapIdxValue {
            map: imm,
            offset: next,
        },
        other => return Err(s.reserved(Field::Src, i64::from(other))),
    };
    // Only the pseudo forms that carry an offset may use the second immediate.
    if !matches!(
        value,
        Lddw::Imm(_) | Lddw::MapValue { .. } | Lddw::MapIdxValue { .. }
    ) && next != 0
    {
        return Err(LoadError::LddwBadTail {
            pc: s.pc,
            field: Field::Imm,
        });
    }
    Ok(Instruction::LoadImm64 { dst, value })
}

/// How [`decode_fast`] handles an opcode: the common, fully determined forms, with their
/// operation already picked out of the opcode byte. Everything else is [`Fast::Slow`].
#[derive(Clone, Copy)]
enum Fast {
    /// Left to [`decode_at`]: rare forms, and every form that needs `off`, `src` or the load
    /// options to choose a variant.
    Slow,
    /// ALU with an immediate operand and `off = 0`.
    AluK(AluOp, Width),
    /// ALU with a register operand and `off = 0`.
    AluX(AluOp, Width),
    /// Conditional jump against the immediate.
    JumpK(Cond, Width),
    /// Conditional jump against a register.
    JumpX(Cond, Width),
    /// `ja` (16-bit displacement in `off`).
    Ja,
    /// `gotol` (32-bit displacement in `imm`).
    Ja32,
    /// `call` 0x85; only the helper form (src = 0) is fast.
    Call,
    /// `exit`.
    Exit,
    /// `ldx` in `MEM` or `MEMSX` mode (the flag says sign-extending).
    Ldx(Size, bool),
    /// `st` in `MEM` mode.
    St(Size),
    /// `stx` in `MEM` mode.
    Stx(Size),
    /// `lddw` 0x18; only the 64-bit constant form (src = 0) is fast.
    Lddw,
}

const fn size_const(op: u8) -> Size {
    match op & opcode::SIZE_MASK {
        opcode::SIZE_W => Size::W,
        opcode::SIZE_H => Size::H,
        opcode::SIZE_B => Size::B,
        _ => Size::DW,
    }
}

/// The [`Fast`] form of one opcode byte; mirrors the opcode dispatch of [`decode_at`].
const fn classify(op: u8) -> Fast {
    let class = op & opcode::CLASS_MASK;
    let code = op & opcode::CODE_MASK;
    let is_x = op & opcode::SOURCE_MASK == opcode::SOURCE_X;
    match class {
        opcode::CLASS_ALU | opcode::CLASS_ALU64 => {
            let width = if class == opcode::CLASS_ALU64 {
                Width::W64
            } else {
                Width::W32
            };
            let aop = match code {
                alu::ADD => AluOp::Add,
                alu::SUB => AluOp::Sub,
                alu::MUL => AluOp::Mul,
                alu::DIV => AluOp::Div,
                alu::OR => AluOp::Or,
                alu::AND => AluOp::And,
                alu::LSH => AluOp::Lsh,
                alu::RSH => AluOp::Rsh,
                alu::MOD => AluOp::Mod,
                alu::XOR => AluOp::Xor,
                alu::MOV => AluOp::Mov,
                alu::ARSH => AluOp::Arsh,
                _ => return Fast::Slow,
            };
            if is_x {
                Fast::AluX(aop, width)
            } else {
                Fast::AluK(aop, width)
            }
        }
        opcode::CLASS_JMP | opcode::CLASS_JMP32 => {
            let jmp64 = class == opcode::CLASS_JMP;
            let width = if jmp64 { Width::W64 } else { Width::W32 };
            let cond = match code {
                jmp::JA if !is_x => return if jmp64 { Fast::Ja } else { Fast::Ja32 },
                jmp::CALL if jmp64 && !is_x => return Fast::Call,
                jmp::EXIT if jmp64 && !is_x => return Fast::Exit,
                jmp::JEQ => Cond::Eq,
                jmp::JGT => Cond::Gt,
                jmp::JGE => Cond::Ge,
                jmp::JSET => Cond::Set,
                jmp::JNE => Cond::Ne,
                jmp::JSGT => Cond::Sgt,
                jmp::JSGE => Cond::Sge,
                jmp::JLT => Cond::Lt,
                jmp::JLE => Cond::Le,
                jmp::JSLT => Cond::Slt,
                jmp::JSLE => Cond::Sle,
                _ => return Fast::Slow,
            };
            if is_x {
                Fast::JumpX(cond, width)
            } else {
                Fast::JumpK(cond, width)
            }
        }
        opcode::CLASS_LDX => {
            let size = size_const(op);
            match op & opcode::MODE_MASK {
                opcode::MODE_MEM => Fast::Ldx(size, false),
                opcode::MODE_MEMSX if !matches!(size, Size::DW) => Fast::Ldx(size, true),
                _ => Fast::Slow,
            }
        }
        opcode::CLASS_ST if op & opcode::MODE_MASK == opcode::MODE_MEM => Fast::St(size_const(op)),
        opcode::CLASS_STX if op & opcode::MODE_MASK == opcode::MODE_MEM => {
            Fast::Stx(size_const(op))
        }
        _ if op == opcode::LDDW => Fast::Lddw,
        _ => Fast::Slow,
    }
}

/// [`classify`] of every opcode byte, so the decoder dispatches on one table load.
static FAST: [Fast; 256] = {
    let mut table = [Fast::Slow; 256];
    let mut op = 0;
    while op < 256 {
        table[op] = classify(op as u8);
        op += 1;
    }
    table
};

/// What [`decode_run`] leaves for the whole-program checks: one bit per slot for the jump
/// targets, and one for the `lddw` tails (bit `pc % 64` of word `pc / 64`); and what the pass
/// finds for later stages, so that none of them walks the program again for it
/// ([`crate::program::Summary`]).
pub(crate) struct Marks {
    pub(crate) targets: Vec<u64>,
    pub(crate) tails: Vec<u64>,
    /// The helper calls (`call imm`, src 0).
    pub(crate) calls: Vec<u64>,
    /// The slots after a jump, `exit`, local call or `callx` (one more bit than slots: the
    /// last slot's successor is marked too).
    pub(crate) follows: Vec<u64>,
}

impl Marks {
    pub(crate) fn new(slots: usize) -> Self {
        let words = slots.div_ceil(64);
        Self {
            targets: vec![0; words],
            tails: vec![0; words],
            calls: vec![0; words],
            follows: vec![0; (slots + 1).div_ceil(64)],
        }
    }

    pub(crate) fn mark_target(&mut self, pc: usize) {
        mark(&mut self.targets, pc);
    }

    pub(crate) fn mark_tail(&mut self, pc: usize) {
        mark(&mut self.tails, pc);
    }

    pub(crate) fn mark_call(&mut self, pc: usize) {
        mark(&mut self.calls, pc);
    }

    /// Slot `pc` ends its block (see [`Marks::follows`]).
    pub(crate) fn mark_ends_block(&mut self, pc: usize) {
        mark(&mut self.follows, pc + 1);
    }

    /// Whether some jump target is an `lddw` tail.
    pub(crate) fn target_in_tail(&self) -> bool {
        self.targets
            .iter()
            .zip(&self.tails)
            .any(|(t, l)| t & l != 0)
    }
}

fn mark(bits: &mut [u64], pc: usize) {
    bits[pc / 64] |= 1 << (pc % 64);
}

/// Decodes slots from `pc` on into `out[pc]` (one entry per slot: an `lddw`'s tail is left as
/// it is, [`Instruction::LddwTail`] in [`Program::new`]), for as long as each is a common form
/// with every field valid; returns the pc of the first slot it leaves to [`decode_at`] (or
/// `insns.len()`). Jump targets and `lddw` tails are recorded in `marks`.
///
/// This is the decoder's hot loop, so it builds no error and calls nothing: what it rejects,
/// [`decode_at`] decodes again, giving the same instruction or the exact error. What it
/// accepts, [`decode_at`] accepts as the same instruction (tested exhaustively over opcodes and
/// field values), so the load-time behaviour is [`decode_at`]'s.
///
/// Not inlined: alone, the loop keeps its state in registers; inlined into [`Program::new`]'s
/// loop around the call to [`decode_at`], it was spilled to the stack on every slot.
///
/// [`Program::new`]: crate::Program::new
#[inline(never)]
pub(crate) fn decode_run(
    insns: &[Insn],
    mut pc: usize,
    out: &mut [Instruction],
    marks: &mut Marks,
) -> usize {
    let len = insns.len();
    // Same length as `insns`, so that indexing by a slot's pc needs no bounds check.
    let out = &mut out[..len];
    // A register read (r0..=r10) and a register written (r0..=r9).
    let read = |n: u8| if n <= 10 { Reg::new(n) } else { None };
    let written = |n: u8| if n < 10 { Reg::new(n) } else { None };
    // `pc + 1 + displacement` inside the program; a negative sum wraps to a huge value.
    let target = |pc: usize, displacement: i32| {
        let t = (pc as u64)
            .wrapping_add(1)
            .wrapping_add(i64::from(displacement) as u64);
        if t < len as u64 {
            Some(t as usize)
        } else {
            None
        }
    };
    while let Some(&insn) = insns.get(pc) {
        let (dst, src, off, imm) = (insn.dst, insn.src, insn.off, insn.imm);
        // Each arm pushes its own variant, so the stores are specialised per variant.
        macro_rules! emit {
            ($ins:expr) => {{
                out[pc] = $ins;
                pc += 1;
                continue;
            }};
        }
        macro_rules! jump {
            ($displacement:expr, $ins:expr) => {{
                let Some(target) = target(pc, $displacement) else {
                    break;
                };
                mark(&mut marks.targets, target);
                mark(&mut marks.follows, pc + 1);
                let build = $ins;
                emit!(build(target))
            }};
        }
        match FAST[usize::from(insn.op)] {
            Fast::AluK(op, width) if (off == 0) & (src == 0) => {
                let Some(dst) = written(dst) else { break };
                emit!(Instruction::Alu {
                    op,
                    width,
                    dst,
                    src: Operand::Imm(imm),
                })
            }
            Fast::AluX(op, width) if (off == 0) & (imm == 0) => {
                let (Some(dst), Some(src)) = (written(dst), read(src)) else {
                    break;
                };
                emit!(Instruction::Alu {
                    op,
                    width,
                    dst,
                    src: Operand::Reg(src),
                })
            }
            Fast::JumpK(cond, width) if src == 0 => {
                let Some(dst) = read(dst) else { break };
                jump!(i32::from(off), |target| Instruction::Jump {
                    cond,
                    width,
                    dst,
                    src: Operand::Imm(imm),
                    target,
                })
            }
            Fast::JumpX(cond, width) if imm == 0 => {
                let (Some(dst), Some(src)) = (read(dst), read(src)) else {
                    break;
                };
                jump!(i32::from(off), |target| Instruction::Jump {
                    cond,
                    width,
                    dst,
                    src: Operand::Reg(src),
                    target,
                })
            }
            Fast::Ja if ((dst | src) == 0) & (imm == 0) => {
                jump!(i32::from(off), |target| Instruction::Ja { target })
            }
            Fast::Ja32 if ((dst | src) == 0) & (off == 0) => {
                jump!(imm, |target| Instruction::Ja { target })
            }
            Fast::Call if ((dst | src) == 0) & (off == 0) => {
                mark(&mut marks.calls, pc);
                emit!(Instruction::Call { helper: imm as u32 })
            }
            Fast::Exit if ((dst | src) == 0) & ((i32::from(off) | imm) == 0) => {
                mark(&mut marks.follows, pc + 1);
                emit!(Instruction::Exit)
            }
            Fast::Ldx(size, sign_extend) if imm == 0 => {
                let (Some(dst), Some(src)) = (written(dst), read(src)) else {
                    break;
                };
                emit!(Instruction::Load {
                    size,
                    sign_extend,
                    dst,
                    src,
                    off,
                })
            }
            Fast::St(size) if src == 0 => {
                let Some(dst) = read(dst) else { break };
                emit!(Instruction::Store {
                    size,
                    dst,
                    off,
                    src: Operand::Imm(imm),
                })
            }
            Fast::Stx(size) if imm == 0 => {
                let (Some(dst), Some(src)) = (read(dst), read(src)) else {
                    break;
                };
                emit!(Instruction::Store {
                    size,
                    dst,
                    off,
                    src: Operand::Reg(src),
                })
            }
            Fast::Lddw if (off == 0) & (src == 0) => {
                let (Some(dst), Some(&tail)) = (written(dst), insns.get(pc + 1)) else {
                    break;
                };
                if (tail.op | tail.dst | tail.src) != 0 || tail.off != 0 {
                    break;
                }
                out[pc] = Instruction::LoadImm64 {
                    dst,
                    value: Lddw::Imm((u64::from(tail.imm as u32) << 32) | u64::from(imm as u32)),
                };
                mark(&mut marks.tails, pc + 1);
                pc += 2;
            }
            _ => break,
        }
    }
    pc
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Field values that hit every boundary the decoder tests: zero, the register limits,
    /// `off` values that pick variants, the `END` widths, atomic codes, and jump targets on
    /// both sides of the program's ends.
    const REGS: [u8; 6] = [0, 1, 9, 10, 11, 15];
    const OFFS: [i16; 9] = [0, 1, -1, 2, 8, 16, 32, -3, i16::MIN];
    const IMMS: [i32; 11] = [0, 1, -1, 2, 16, 32, 64, 0xe1, -3, i32::MIN, 0x40];

    /// Whatever `decode_run` accepts, `decode_at` decodes to the same instruction, with the
    /// same marks; every opcode byte, with every combination of the boundary field values, as
    /// the first slot and in the middle of a program, followed by every kind of `lddw` tail.
    #[test]
    fn fast_path_agrees_with_decode_at() {
        let tails = [
            Insn::new(0, 0, 0, 0, 7),
            Insn::new(0, 0, 0, 0, 0),
            Insn::new(1, 0, 0, 0, 0),
            Insn::new(0, 1, 0, 0, 0),
            Insn::new(0, 0, 1, 0, 0),
            Insn::new(0, 0, 0, 1, 0),
        ];
        let mut accepted = 0;
        for op in 0..=255u8 {
            for &dst in &REGS {
                for &src in &REGS {
                    for &off in &OFFS {
                        for &imm in &IMMS {
                            for &tail in &tails {
                                let insn = Insn::new(op, dst, src, off, imm);
                                for (insns, pc) in [
                                    (vec![insn, tail], 0),
                                    (vec![insn], 0),
                                    (vec![tail, tail, insn, tail, tail], 2),
                                ] {
                                    accepted += usize::from(check(&insns, pc));
                                }
                            }
                        }
                    }
                }
            }
        }
        assert!(accepted > 100_000, "{accepted}");
    }

    fn check(insns: &[Insn], pc: usize) -> bool {
        let len = insns.len();
        let mut out = vec![Instruction::LddwTail; len];
        let mut marks = Marks::new(len);
        // Stop after one slot: the slot after `pc` is a tail or padding.
        let end = decode_run(insns, pc, &mut out, &mut marks);
        if end == pc {
            return false;
        }
        let expected = decode_at(insns, pc, &LoadOptions::all())
            .unwrap_or_else(|e| panic!("fast path accepted {:?}: {e}", insns[pc]));
        assert_eq!(out[pc], expected, "{:?}", insns[pc]);
        let mut want = Marks::new(len);
        match expected {
            Instruction::Ja { target } | Instruction::Jump { target, .. } => {
                want.mark_target(target);
            }
            Instruction::LoadImm64 { .. } => want.mark_tail(pc + 1),
            _ => {}
        }
        // Later slots may have been decoded too; only this slot's marks are compared.
        let bit = |bits: &[u64], i: usize| bits[i / 64] >> (i % 64) & 1;
        for i in 0..len {
            if want.targets[i / 64] >> (i % 64) & 1 == 1 {
                assert_eq!(bit(&marks.targets, i), 1, "{:?}", insns[pc]);
            }
        }
        if expected.slots() == 2 {
            assert_eq!(bit(&marks.tails, pc + 1), 1);
        }
        true
    }
}
