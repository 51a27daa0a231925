//! Lowering: a decoded [`Program`](crate::program::Program) into the interpreter's ops, once per prepare.

use std::sync::Arc;

use crate::fault::Unsupported;
use crate::helpers::{HelperFn, HelperTable, PlainHelperFn};
use crate::instruction::{
    AluOp, ByteOrder, Cond, Instruction, Lddw, Operand, PacketAddr, Size, Width,
};
use crate::memory::code_address;
use crate::semantics::imm_value;

use super::ops::*;

/// Marks a memory access as needing no region check.
pub(super) fn mark_proven(op: &mut Op) {
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

/// Ends `ops` with a sentinel and makes every transfer of control land inside them, so the run
/// loop can fetch `ops[pc]` without a bounds check (see `Interpreter::execute`).
///
/// `Program::new` already guarantees what this enforces (targets are slots of the program, an
/// `lddw` has its second slot, no function's last slot falls through); the guarantee is
/// restated here, where the unchecked fetch depends on it, rather than trusted from afar:
/// a target out of range is sent to the sentinel, an `lddw` without its second slot becomes
/// the sentinel, and falling through the last slot reaches the sentinel. The sentinel faults
/// (`Unsupported::CodeAddress` of the slot past the end): it cannot be reached from a decoded
/// program.
pub(super) fn seal(ops: &mut Vec<Op>, unsupported: &mut Vec<Unsupported>) {
    let n = ops.len();
    let sentinel = Op {
        code: Code::Fault,
        dst: R::R0,
        src: R::R0,
        aux: 0,
        arg: 0,
        imm: unsupported.len() as u64,
    };
    unsupported.push(Unsupported::CodeAddress { target: n });
    for (pc, op) in ops.iter_mut().enumerate() {
        let transfers = (Code::Ja as u8..=Code::Jsle32R as u8).contains(&(op.code as u8))
            || op.code == Code::CallLocal;
        if transfers && op.target() >= n {
            op.set_target(n);
        }
        if op.code == Code::LoadImm && pc + 1 >= n {
            *op = sentinel;
        }
    }
    ops.push(sentinel);
}

pub(super) struct Lowering<'a> {
    pub(super) helpers: Vec<(u32, Arc<HelperFn>)>,
    pub(super) plain: Vec<PlainHelperFn>,
    pub(super) unsupported: Vec<Unsupported>,
    pub(super) table: &'a HelperTable,
    pub(super) callbacks: bool,
}

impl Lowering<'_> {
    pub(super) fn lower(&mut self, pc: usize, ins: &Instruction) -> Op {
        let mut op = Op {
            code: Code::Nop,
            dst: R::R0,
            src: R::R0,
            aux: 0,
            arg: 0,
            imm: 0,
        };
        if let Instruction::LoadImm64 {
            dst,
            value: Lddw::CodeAddr(target),
        } = *ins
        {
            if self.callbacks {
                op.code = Code::LoadImm;
                op.dst = R::of(dst.number());
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
                op.dst = R::of(dst.number());
                let is_imm = match src {
                    Operand::Reg(r) => {
                        op.src = R::of(r.number());
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
                op.dst = R::of(dst.number());
                op.code = if width == Width::W64 {
                    Code::Neg64
                } else {
                    Code::Neg32
                };
            }
            Instruction::Endian { order, bits, dst } => {
                op.dst = R::of(dst.number());
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
                op.dst = R::of(dst.number());
                op.src = R::of(src.number());
                op.set_off(off);
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
                op.dst = R::of(dst.number());
                op.set_off(off);
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
                        op.src = R::of(s.number());
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
                op.dst = R::of(dst.number());
                op.src = R::of(src.number());
                op.set_off(off);
                op.aux = atomic_code(aop, fetch);
                op.code = if size == Size::W {
                    Code::Atomic32
                } else {
                    Code::Atomic64
                };
            }
            Instruction::LoadImm64 { dst, value } => {
                op.dst = R::of(dst.number());
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
                        op.src = R::of(r.number());
                        Code::LdInd
                    }
                };
            }
            Instruction::Ja { target } => {
                op.code = Code::Ja;
                op.set_target(target);
                op.aux = u8::from(target <= pc);
            }
            Instruction::Jump {
                cond,
                width,
                dst,
                src,
                target,
            } => {
                op.dst = R::of(dst.number());
                op.set_target(target);
                op.aux = u8::from(target <= pc);
                let is_imm = match src {
                    Operand::Reg(r) => {
                        op.src = R::of(r.number());
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
                op.set_target(target);
            }
            Instruction::CallKfunc { .. } => {}
            Instruction::CallX { reg } => {
                op.code = Code::CallX;
                op.dst = R::of(reg.number());
            }
            Instruction::Exit => op.code = Code::Exit,
            Instruction::LddwTail => op.code = Code::Nop,
        }
        op
    }

    pub(super) fn helper_index(&mut self, id: u32) -> u64 {
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

pub(super) fn alu_code(op: AluOp, width: Width, imm: bool) -> Code {
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

pub(super) fn jump_code(cond: Cond, width: Width, imm: bool) -> Code {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn op(code: Code, target: usize) -> Op {
        let mut op = Op {
            code,
            dst: R::R0,
            src: R::R0,
            aux: 0,
            arg: 0,
            imm: 0,
        };
        op.set_target(target);
        op
    }

    /// The run loop's unchecked fetch relies on these: a sentinel last, every target inside,
    /// no `lddw` whose second slot would be the sentinel.
    #[test]
    fn seal_keeps_every_transfer_inside() {
        let mut ops = vec![
            op(Code::Ja, 7),
            op(Code::Jeq64I, 3),
            op(Code::CallLocal, usize::MAX >> 40),
            op(Code::Jsle32R, 1),
            op(Code::LoadImm, 0),
        ];
        let mut unsupported = Vec::new();
        seal(&mut ops, &mut unsupported);
        assert_eq!(ops.len(), 6);
        let sentinel = ops[5];
        assert_eq!(sentinel.code, Code::Fault);
        assert_eq!(
            unsupported[sentinel.imm as usize],
            Unsupported::CodeAddress { target: 5 }
        );
        assert_eq!(ops[0].target(), 5, "out of range: to the sentinel");
        assert_eq!(ops[1].target(), 3, "in range: kept");
        assert_eq!(ops[2].target(), 5);
        assert_eq!(ops[3].target(), 1);
        assert_eq!(ops[4].code, Code::Fault, "an lddw without its second slot");
    }

    #[test]
    fn offsets_and_registers_round_trip() {
        let mut o = op(Code::LdxDW, 0);
        for off in [i16::MIN, -1, 0, 1, i16::MAX] {
            o.set_off(off);
            assert_eq!(o.off(), i64::from(off) as u64);
        }
        for n in 0..=10u8 {
            assert_eq!(reg(R::of(n)), usize::from(n));
        }
    }
}
