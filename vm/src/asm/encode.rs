//! Turns one mnemonic and its operands into instruction slots. Jump and call targets that name
//! labels cannot be encoded yet; they are returned as a [`Fixup`] for the second pass in
//! [`super::assemble`].

use super::error::{AsmError, OperandKind};
use super::mnemonic::Mnemonic;
use super::number::Number;
use super::operand::{looks_like_register, register, Operand, Value};
use crate::insn::Insn;
use crate::opcode::{self, alu, atomic, call_src, lddw_src};

/// Where a resolved displacement goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TargetField {
    /// The 16-bit `off` of the first slot (`ja`, conditional jumps).
    Off,
    /// The 32-bit `imm` of the first slot (`ja32`, `call local`, `lddw code_addr`).
    Imm,
}

/// A jump or call target as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Target<'a> {
    /// `+N`, `-N` or `N`: a displacement relative to the next slot.
    Relative(Number),
    /// A label name.
    Label(&'a str),
}

/// A displacement still to be filled in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Fixup<'a> {
    pub target: Target<'a>,
    pub field: TargetField,
    /// Column of the target operand.
    pub column: usize,
}

/// The slots of one instruction, and the target they still wait for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Encoded<'a> {
    /// One slot, or two for `lddw`.
    pub slots: Vec<Insn>,
    pub fixup: Option<Fixup<'a>>,
}

/// The instruction being encoded: its mnemonic and where it stands, for error messages.
struct Ctx<'m> {
    line: usize,
    column: usize,
    mnemonic: &'m str,
}

impl Ctx<'_> {
    fn count(&self, ops: &[Operand<'_>], expected: usize) -> Result<(), AsmError> {
        if ops.len() == expected {
            Ok(())
        } else {
            Err(self.count_error(ops, expected))
        }
    }

    fn count_error(&self, ops: &[Operand<'_>], expected: usize) -> AsmError {
        AsmError::OperandCount {
            line: self.line,
            column: self.column,
            mnemonic: self.mnemonic.to_owned(),
            expected,
            found: ops.len(),
        }
    }

    fn expected(&self, op: &Operand<'_>, expected: OperandKind) -> AsmError {
        AsmError::ExpectedOperand {
            line: self.line,
            column: op.column,
            expected,
            found: op.text.to_owned(),
        }
    }

    fn reg(&self, op: &Operand<'_>) -> Result<u8, AsmError> {
        match op.value {
            Value::Word(w) => register(w, self.line, op.column),
            _ => Err(self.expected(op, OperandKind::Register)),
        }
    }

    fn number<'n>(&self, op: &'n Operand<'_>) -> Result<&'n Number, AsmError> {
        match &op.value {
            Value::Number(n) => Ok(n),
            _ => Err(self.expected(op, OperandKind::Immediate)),
        }
    }

    fn imm32(&self, op: &Operand<'_>) -> Result<i32, AsmError> {
        self.number(op)?.imm32(self.line)
    }

    /// The second operand of an ALU or jump instruction: a register (X form) or an imm (K form).
    fn reg_or_imm(&self, op: &Operand<'_>) -> Result<Source, AsmError> {
        match &op.value {
            Value::Word(w) if looks_like_register(w) => {
                Ok(Source::Reg(register(w, self.line, op.column)?))
            }
            Value::Number(n) => Ok(Source::Imm(n.imm32(self.line)?)),
            _ => Err(self.expected(op, OperandKind::RegisterOrImmediate)),
        }
    }

    fn mem(&self, op: &Operand<'_>) -> Result<(u8, i16), AsmError> {
        match &op.value {
            Value::Memory { base, off } => {
                let off = match off {
                    Some(n) => n.off16(self.line)?,
                    None => 0,
                };
                Ok((*base, off))
            }
            _ => Err(self.expected(op, OperandKind::Memory)),
        }
    }

    fn target<'a>(&self, op: &Operand<'a>, field: TargetField) -> Result<Fixup<'a>, AsmError> {
        let target = match &op.value {
            Value::Number(n) => Target::Relative(n.clone()),
            Value::Word(w) if !looks_like_register(w) => Target::Label(w),
            _ => return Err(self.expected(op, OperandKind::Target)),
        };
        Ok(Fixup {
            target,
            field,
            column: op.column,
        })
    }
}

/// The second operand of an ALU or jump instruction.
enum Source {
    Reg(u8),
    Imm(i32),
}

impl Source {
    /// `(source bit, src field, imm field)`.
    fn fields(&self) -> (u8, u8, i32) {
        match *self {
            Source::Reg(r) => (opcode::SOURCE_X, r, 0),
            Source::Imm(i) => (opcode::SOURCE_K, 0, i),
        }
    }
}

fn one(insn: Insn) -> Encoded<'static> {
    Encoded {
        slots: vec![insn],
        fixup: None,
    }
}

/// Encodes one instruction.
pub(crate) fn encode<'a>(
    mnemonic: Mnemonic,
    name: &str,
    ops: &[Operand<'a>],
    line: usize,
    column: usize,
) -> Result<Encoded<'a>, AsmError> {
    let cx = Ctx {
        line,
        column,
        mnemonic: name,
    };
    match mnemonic {
        Mnemonic::Alu { class, code, off } => {
            cx.count(ops, 2)?;
            let dst = cx.reg(&ops[0])?;
            let (x, src, imm) = cx.reg_or_imm(&ops[1])?.fields();
            Ok(one(Insn::new(class | code | x, dst, src, off, imm)))
        }
        Mnemonic::Movsx { class, bits } => {
            cx.count(ops, 2)?;
            let (dst, src) = (cx.reg(&ops[0])?, cx.reg(&ops[1])?);
            Ok(one(Insn::new(
                class | alu::MOV | opcode::SOURCE_X,
                dst,
                src,
                bits,
                0,
            )))
        }
        Mnemonic::Neg { class } => {
            cx.count(ops, 1)?;
            Ok(one(Insn::new(class | alu::NEG, cx.reg(&ops[0])?, 0, 0, 0)))
        }
        Mnemonic::Endian { op, bits } => {
            cx.count(ops, 1)?;
            Ok(one(Insn::new(op, cx.reg(&ops[0])?, 0, 0, bits)))
        }
        Mnemonic::Load { op } => {
            cx.count(ops, 2)?;
            let dst = cx.reg(&ops[0])?;
            let (src, off) = cx.mem(&ops[1])?;
            Ok(one(Insn::new(op, dst, src, off, 0)))
        }
        Mnemonic::StoreImm { op } => {
            cx.count(ops, 2)?;
            let (dst, off) = cx.mem(&ops[0])?;
            Ok(one(Insn::new(op, dst, 0, off, cx.imm32(&ops[1])?)))
        }
        Mnemonic::StoreReg { op } | Mnemonic::Xadd { op } => {
            cx.count(ops, 2)?;
            let (dst, off) = cx.mem(&ops[0])?;
            // xadd is `lock add` without fetch: imm = atomic::ADD = 0, same as a plain store.
            Ok(one(Insn::new(op, dst, cx.reg(&ops[1])?, off, 0)))
        }
        Mnemonic::Lock => encode_lock(&cx, ops),
        Mnemonic::Lddw => encode_lddw(&cx, ops),
        Mnemonic::LdAbs { op } => {
            cx.count(ops, 1)?;
            Ok(one(Insn::new(op, 0, 0, 0, cx.imm32(&ops[0])?)))
        }
        Mnemonic::LdInd { op } => {
            cx.count(ops, 2)?;
            let src = cx.reg(&ops[0])?;
            Ok(one(Insn::new(op, 0, src, 0, cx.imm32(&ops[1])?)))
        }
        Mnemonic::Ja | Mnemonic::Ja32 => {
            cx.count(ops, 1)?;
            let (op, field) = if mnemonic == Mnemonic::Ja {
                (opcode::JA, TargetField::Off)
            } else {
                (opcode::JA32, TargetField::Imm)
            };
            let fixup = cx.target(&ops[0], field)?;
            Ok(Encoded {
                slots: vec![Insn::new(op, 0, 0, 0, 0)],
                fixup: Some(fixup),
            })
        }
        Mnemonic::Jump { class, code } => {
            cx.count(ops, 3)?;
            let dst = cx.reg(&ops[0])?;
            let (x, src, imm) = cx.reg_or_imm(&ops[1])?.fields();
            let fixup = cx.target(&ops[2], TargetField::Off)?;
            Ok(Encoded {
                slots: vec![Insn::new(class | code | x, dst, src, 0, imm)],
                fixup: Some(fixup),
            })
        }
        Mnemonic::Call => encode_call(&cx, ops),
        Mnemonic::Callx => {
            cx.count(ops, 1)?;
            Ok(one(Insn::new(opcode::CALLX, cx.reg(&ops[0])?, 0, 0, 0)))
        }
        Mnemonic::Exit => {
            cx.count(ops, 0)?;
            Ok(one(Insn::new(opcode::EXIT, 0, 0, 0, 0)))
        }
        Mnemonic::Raw => {
            cx.count(ops, 1)?;
            Ok(one(Insn::from_u64(cx.number(&ops[0])?.imm64(line)?)))
        }
    }
}

/// The keyword operand at `ops[i]`, if it is that word.
fn keyword<'a>(ops: &[Operand<'a>], i: usize) -> Option<&'a str> {
    match ops.get(i).map(|o| &o.value) {
        Some(Value::Word(w)) => Some(w),
        _ => None,
    }
}

/// `lock [fetch] op[32|64] [%dst+off], %src`.
fn encode_lock<'a>(cx: &Ctx<'_>, ops: &[Operand<'a>]) -> Result<Encoded<'a>, AsmError> {
    let fetch = keyword(ops, 0) == Some("fetch");
    let rest = &ops[usize::from(fetch)..];
    let expected = 3 + usize::from(fetch);
    let (Some(op_word), 3) = (rest.first(), rest.len()) else {
        return Err(cx.count_error(ops, expected));
    };
    let name = match op_word.value {
        Value::Word(w) => w,
        _ => return Err(cx.expected(op_word, OperandKind::AtomicOp)),
    };
    let (base, size) = match (name.strip_suffix("32"), name.strip_suffix("64")) {
        (Some(b), _) => (b, opcode::SIZE_W),
        (_, Some(b)) => (b, opcode::SIZE_DW),
        _ => (name, opcode::SIZE_DW),
    };
    let fetch_bit = if fetch { atomic::FETCH } else { 0 };
    let imm = match base {
        "add" => atomic::ADD | fetch_bit,
        "or" => atomic::OR | fetch_bit,
        "and" => atomic::AND | fetch_bit,
        "xor" => atomic::XOR | fetch_bit,
        "xchg" => atomic::XCHG,
        "cmpxchg" => atomic::CMPXCHG,
        _ => return Err(cx.expected(op_word, OperandKind::AtomicOp)),
    };
    let (dst, off) = cx.mem(&rest[1])?;
    let src = cx.reg(&rest[2])?;
    Ok(one(Insn::new(
        opcode::CLASS_STX | opcode::MODE_ATOMIC | size,
        dst,
        src,
        off,
        imm,
    )))
}

/// `lddw %dst, imm64`, or a pseudo form `lddw %dst, <kind> <imm> [, <next_imm>]`.
fn encode_lddw<'a>(cx: &Ctx<'_>, ops: &[Operand<'a>]) -> Result<Encoded<'a>, AsmError> {
    if ops.len() < 2 {
        return Err(cx.count_error(ops, 2));
    }
    let dst = cx.reg(&ops[0])?;
    let pair = |src: u8, imm: i32, next: i32| {
        vec![
            Insn::new(opcode::LDDW, dst, src, 0, imm),
            Insn::new(0, 0, 0, 0, next),
        ]
    };
    let kind = match &ops[1].value {
        Value::Number(n) => {
            cx.count(ops, 2)?;
            let v = n.imm64(cx.line)?;
            return Ok(Encoded {
                slots: pair(lddw_src::IMM64, v as u32 as i32, (v >> 32) as u32 as i32),
                fixup: None,
            });
        }
        Value::Word(w) => *w,
        Value::Memory { .. } => return Err(cx.expected(&ops[1], OperandKind::Immediate)),
    };
    let (src, with_offset) = match kind {
        "map_fd" => (lddw_src::MAP_FD, false),
        "map_value" => (lddw_src::MAP_VALUE, true),
        "var_addr" => (lddw_src::VAR_ADDR, false),
        "code_addr" => (lddw_src::CODE_ADDR, false),
        "map_idx" => (lddw_src::MAP_IDX, false),
        "map_idx_value" => (lddw_src::MAP_IDX_VALUE, true),
        _ => return Err(cx.expected(&ops[1], OperandKind::LddwKind)),
    };
    cx.count(ops, if with_offset { 4 } else { 3 })?;
    if src == lddw_src::CODE_ADDR {
        let fixup = cx.target(&ops[2], TargetField::Imm)?;
        return Ok(Encoded {
            slots: pair(src, 0, 0),
            fixup: Some(fixup),
        });
    }
    let imm = cx.imm32(&ops[2])?;
    let next = if with_offset { cx.imm32(&ops[3])? } else { 0 };
    Ok(Encoded {
        slots: pair(src, imm, next),
        fixup: None,
    })
}

/// `call imm`, `call local <target>`, `call runtime imm [, module]`, `call [helper] %reg`.
fn encode_call<'a>(cx: &Ctx<'_>, ops: &[Operand<'a>]) -> Result<Encoded<'a>, AsmError> {
    let call = |src: u8, off: i16, imm: i32| Insn::new(opcode::CALL, 0, src, off, imm);
    match keyword(ops, 0) {
        Some("local") => {
            cx.count(ops, 2)?;
            let fixup = cx.target(&ops[1], TargetField::Imm)?;
            Ok(Encoded {
                slots: vec![call(call_src::LOCAL, 0, 0)],
                fixup: Some(fixup),
            })
        }
        Some("runtime") => {
            if !matches!(ops.len(), 2 | 3) {
                return Err(cx.count_error(ops, 2));
            }
            let module = match ops.get(2) {
                Some(op) => cx.number(op)?.off16(cx.line)?,
                None => 0,
            };
            Ok(one(call(call_src::KFUNC, module, cx.imm32(&ops[1])?)))
        }
        Some("helper") => {
            cx.count(ops, 2)?;
            Ok(one(Insn::new(opcode::CALLX, cx.reg(&ops[1])?, 0, 0, 0)))
        }
        Some(w) if looks_like_register(w) => {
            cx.count(ops, 1)?;
            Ok(one(Insn::new(opcode::CALLX, cx.reg(&ops[0])?, 0, 0, 0)))
        }
        _ => {
            cx.count(ops, 1)?;
            Ok(one(call(call_src::HELPER, 0, cx.imm32(&ops[0])?)))
        }
    }
}
