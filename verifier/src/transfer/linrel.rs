//! How one instruction changes the linear relations of a state (see [`crate::domain::linrel`]).

use apiary_vm::instruction::{AluOp, Instruction, Operand, Width};

use crate::domain::linrel::{self, range};
use crate::domain::{State, Val};
use crate::termination;

/// What [`after`] needs from the state before `ins`: for `dst ± imm`, whether `dst` was a
/// pointer and the range of its value.
#[must_use]
pub fn before(ins: &Instruction, s: &State) -> Option<(bool, i128, i128)> {
    match *ins {
        Instruction::Alu {
            op: AluOp::Add | AluOp::Sub,
            width: Width::W64,
            dst,
            src: Operand::Imm(_),
        } if !s.rels.is_empty() => {
            let v = &s.regs[dst.index()];
            let (lo, hi) = range(v)?;
            Some((matches!(v, Val::Ptr(_)), lo, hi))
        }
        _ => None,
    }
}

/// Updates the relations of `s` after `ins` (`pre` from [`before`]).
///
/// `dst ± c` keeps `dst`'s relations, shifted, only if `dst` has the same reading (number or
/// tracked pointer) before and after and no value of its range before wraps in that reading
/// (unsigned for numbers, signed offsets for pointers): then the new value is exactly the old
/// one plus `c` over the integers. A 64-bit copy relates the copy to the original. Every
/// other write forgets the written registers' relations.
pub fn after(ins: &Instruction, s: &mut State, pre: Option<(bool, i128, i128)>) {
    match *ins {
        Instruction::Alu {
            op: op @ (AluOp::Add | AluOp::Sub),
            width: Width::W64,
            dst,
            src: Operand::Imm(c),
        } => {
            if s.rels.is_empty() {
                return;
            }
            let d = dst.index() as u8;
            let c = if op == AluOp::Add {
                i128::from(c)
            } else {
                -i128::from(c)
            };
            let now = &s.regs[dst.index()];
            let exact = match (pre, now) {
                (Some((false, lo, hi)), Val::Scalar(_)) => {
                    lo + c >= 0 && hi + c <= i128::from(u64::MAX)
                }
                (Some((true, lo, hi)), Val::Ptr(p)) if linrel::tracked(p) => {
                    lo + c >= i128::from(i64::MIN) && hi + c <= i128::from(i64::MAX)
                }
                _ => false,
            };
            if exact {
                linrel::shift(s, d, c);
            } else {
                linrel::forget(s, d);
            }
        }
        Instruction::Alu {
            op: AluOp::Mov,
            width: Width::W64,
            dst,
            src: Operand::Reg(r),
        } => {
            if r != dst {
                linrel::forget(s, dst.index() as u8);
                linrel::copy(s, dst.index() as u8, r.index() as u8);
            }
        }
        _ => {
            if s.rels.is_empty() {
                return;
            }
            if matches!(ins, Instruction::CallLocal { .. }) {
                s.rels.clear();
                return;
            }
            let mut w = Vec::new();
            termination::written(ins, &mut w);
            for r in w {
                linrel::forget(s, r.index() as u8);
            }
        }
    }
}
