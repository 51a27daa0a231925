//! Guarded packet facts ([`crate::domain::pkt_guard`]) across one instruction.
//!
//! A guard says "the bound holds unless register `r` is in U". When `r` is rewritten as a
//! function of itself (`r = f(r)`: ALU with a fixed source, negation, byte swap), the bound
//! holds unless the new `r` is in `f(U)`, which the scalar transfer over-approximates; a copy
//! (`d = r`, `d = zext32(r)`) guards the same bound by `d`. Compilers zero-extend a 32-bit
//! return code (`lsh 32; rsh 32`) between the bound test and its use, so this keeps the
//! guard alive. Any other write to `r` drops its guards.

use apiary_vm::instruction::{AluOp, Instruction, Operand, Width};

use super::operand;
use crate::domain::pkt_guard::{Guard, MAX_GUARDS};
use crate::domain::scalar_ops;
use crate::domain::{Scalar, State};
use crate::termination;

/// What [`after`] needs from the state before `ins`: the source operand's value (`None` when
/// no guard could be carried).
#[must_use]
pub fn before(ins: &Instruction, s: &State) -> Option<Scalar> {
    if s.guards.is_empty() {
        return None;
    }
    match *ins {
        Instruction::Alu { width, src, .. } => operand(s, src, width)
            .ok()
            .and_then(|v| v.scalar().copied()),
        _ => None,
    }
}

/// Updates the guards of `s` (the state after `ins`; `src`: from [`before`]).
pub fn after(ins: &Instruction, s: &mut State, src: Option<Scalar>) {
    if s.guards.is_empty() {
        return;
    }
    let dst_scalar = |s: &State, d: u8| s.regs[usize::from(d)].scalar().is_some();
    let carried: Vec<Guard> = match *ins {
        // A copy: the copy guards the bound too.
        Instruction::Alu {
            op: AluOp::Mov,
            width: Width::W64,
            dst,
            src: Operand::Reg(r),
        } => s
            .guards
            .iter()
            .filter(|g| g.reg == r.number() && r != dst)
            .map(|g| Guard {
                reg: dst.number(),
                ..*g
            })
            .collect(),
        // `dst = f(src register)`: zero/sign extension of the source.
        Instruction::Alu {
            op: op @ (AluOp::Mov | AluOp::Movsx(_)),
            width,
            dst,
            src: Operand::Reg(r),
        } => s
            .guards
            .iter()
            .filter(|g| g.reg == r.number())
            .map(|g| Guard {
                reg: dst.number(),
                unless: scalar_ops::alu(op, width, &Scalar::TOP, &g.unless),
                ..*g
            })
            .collect(),
        Instruction::Alu {
            op: AluOp::Mov | AluOp::Movsx(_),
            ..
        } => Vec::new(),
        // `dst = dst op src` with the source's value known before.
        Instruction::Alu { op, width, dst, .. } => match src {
            Some(v) => s
                .guards
                .iter()
                .filter(|g| g.reg == dst.number())
                .map(|g| Guard {
                    unless: scalar_ops::alu(op, width, &g.unless, &v),
                    ..*g
                })
                .collect(),
            None => Vec::new(),
        },
        Instruction::Neg { width, dst } => s
            .guards
            .iter()
            .filter(|g| g.reg == dst.number())
            .map(|g| Guard {
                unless: scalar_ops::neg(width, &g.unless),
                ..*g
            })
            .collect(),
        Instruction::Endian { order, bits, dst } => s
            .guards
            .iter()
            .filter(|g| g.reg == dst.number())
            .map(|g| Guard {
                unless: scalar_ops::endian(order, bits, &g.unless),
                ..*g
            })
            .collect(),
        _ => Vec::new(),
    };
    let mut written = Vec::new();
    termination::written(ins, &mut written);
    s.guards
        .retain(|g| !written.iter().any(|r| r.number() == g.reg));
    for g in carried {
        if dst_scalar(s, g.reg) && s.guards.len() < MAX_GUARDS && !s.guards.contains(&g) {
            s.guards.push(g);
        }
    }
}
