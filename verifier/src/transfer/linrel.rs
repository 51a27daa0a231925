//! How one instruction changes the linear relations of a state (see [`crate::domain::linrel`]).

use apiary_vm::instruction::{AluOp, Instruction, Operand, Width};

use crate::domain::linrel::{self, range};
use crate::domain::{State, Val};
use crate::termination;

/// What [`after`] needs from the state before an instruction: whether `dst` was a pointer and
/// the range of its value, and for `dst += src` the range of the number `src`.
#[derive(Clone, Copy, Debug)]
pub struct Pre {
    ptr: bool,
    lo: i128,
    hi: i128,
    src: Option<(i128, i128)>,
}

/// What [`after`] needs from the state before `ins`: for `dst ± imm` and `dst += src`, whether
/// `dst` was a pointer and the range of its value (and `src`'s).
#[must_use]
pub fn before(ins: &Instruction, s: &State) -> Option<Pre> {
    match *ins {
        Instruction::Alu {
            op: AluOp::Add | AluOp::Sub,
            width: Width::W64,
            dst,
            src: Operand::Imm(_),
        } if !s.rels.is_empty() => {
            let v = &s.regs[dst.index()];
            let (lo, hi) = range(v)?;
            Some(Pre {
                ptr: matches!(v, Val::Ptr(_)),
                lo,
                hi,
                src: None,
            })
        }
        Instruction::Alu {
            op: AluOp::Add | AluOp::Sub,
            width: Width::W64,
            dst,
            src: Operand::Reg(r),
        } if r != dst => {
            let v = &s.regs[dst.index()];
            let (lo, hi) = range(v)?;
            let Val::Scalar(x) = &s.regs[r.index()] else {
                return None;
            };
            Some(Pre {
                ptr: matches!(v, Val::Ptr(_)),
                lo,
                hi,
                src: Some((x.umin.into(), x.umax.into())),
            })
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
pub fn after(ins: &Instruction, s: &mut State, pre: Option<Pre>) {
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
            let exact = pre.is_some_and(|p| no_wrap(&p, now, c, c));
            if exact {
                linrel::shift(s, d, c);
            } else {
                linrel::forget(s, d);
            }
        }
        Instruction::Alu {
            op: op @ (AluOp::Add | AluOp::Sub),
            width: Width::W64,
            dst,
            src: Operand::Reg(r),
        } if r != dst => {
            let d = dst.index() as u8;
            let now = &s.regs[dst.index()];
            match (op, pre) {
                // A constant addend is a shift, as an immediate is.
                (
                    _,
                    Some(
                        p @ Pre {
                            src: Some((k, k2)), ..
                        },
                    ),
                ) if k == k2 => {
                    let k = if op == AluOp::Add { k } else { -k };
                    if no_wrap(&p, now, k, k) {
                        linrel::shift(s, d, k);
                    } else {
                        linrel::forget(s, d);
                    }
                }
                (
                    AluOp::Add,
                    Some(
                        p @ Pre {
                            src: Some((slo, shi)),
                            ..
                        },
                    ),
                ) if no_wrap(&p, now, slo, shi) => {
                    let k = (p.lo == p.hi).then_some(p.lo);
                    linrel::add_reg(s, d, r.index() as u8, k);
                }
                _ => linrel::forget(s, d),
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

/// Whether adding a value in `[clo, chi]` to the value `pre` describes gave `now` exactly: the
/// same reading (number, or tracked pointer) before and after, and no value of the ranges wraps
/// in it (unsigned for numbers; signed offsets for pointers, with a non-negative addend that
/// reads the same signed and unsigned).
fn no_wrap(pre: &Pre, now: &Val, clo: i128, chi: i128) -> bool {
    match (pre.ptr, now) {
        (false, Val::Scalar(_)) => pre.lo + clo >= 0 && pre.hi + chi <= i128::from(u64::MAX),
        (true, Val::Ptr(p)) if linrel::tracked(p) => {
            pre.src
                .is_none_or(|(lo, hi)| lo >= 0 && hi <= i128::from(i64::MAX))
                && pre.lo + clo >= i128::from(i64::MIN)
                && pre.hi + chi <= i128::from(i64::MAX)
        }
        _ => false,
    }
}
