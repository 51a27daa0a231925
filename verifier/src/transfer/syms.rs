//! Symbolic values shared by copies of one number (see [`crate::domain::State::syms`]).

use apiary_vm::instruction::{Instruction, Reg};

use crate::domain::State;
use crate::termination;

/// Symbolic values after an instruction: copies and constant steps keep them; any other write
/// forgets them.
pub fn update_syms(pc: usize, ins: &Instruction, s: &mut State, pre: &[Option<(u32, i64)>; 11]) {
    use apiary_vm::instruction::{AluOp, Operand, Width};
    let mut written = Vec::new();
    termination::written(ins, &mut written);
    for r in &written {
        s.syms[r.index()] = None;
    }
    let scalar = |s: &State, r: Reg| s.regs[r.index()].scalar().is_some();
    match *ins {
        Instruction::Alu {
            op: AluOp::Mov,
            width: Width::W64,
            dst,
            src: Operand::Reg(r),
        } if scalar(s, dst) => {
            let sym = match pre[r.index()] {
                Some(x) => x,
                None => {
                    // Name the copied number, so that both copies stay related.
                    let k = (pc as u32)
                        .wrapping_add(1)
                        .min(crate::domain::value::ANON_PKT - 1);
                    s.fresh_sym(k);
                    (k, 0)
                }
            };
            s.syms[r.index()] = Some(sym);
            s.syms[dst.index()] = Some(sym);
        }
        Instruction::Alu {
            op: op @ (AluOp::Add | AluOp::Sub),
            width: Width::W64,
            dst,
            src: Operand::Imm(c),
        } if scalar(s, dst) => {
            let c = if op == AluOp::Add {
                i64::from(c)
            } else {
                -i64::from(c)
            };
            s.syms[dst.index()] =
                pre[dst.index()].and_then(|(k, d)| d.checked_add(c).map(|d| (k, d)));
        }
        _ => {}
    }
}

/// Whether `ins` is `lsh dst, 32` or `mov32 dst, src` of a number that fits in 32 bits (in the
/// state before it).
#[must_use]
pub fn fits32(ins: &Instruction, s: &State) -> bool {
    use apiary_vm::instruction::{AluOp, Operand, Width};
    let fits = |r: Reg| {
        s.regs[r.index()]
            .scalar()
            .is_some_and(|x| x.umax <= u64::from(u32::MAX))
    };
    match *ins {
        Instruction::Alu {
            op: AluOp::Lsh,
            width: Width::W64,
            dst,
            src: Operand::Imm(32),
        } => fits(dst),
        Instruction::Alu {
            op: AluOp::Mov,
            width: Width::W32,
            dst,
            src: Operand::Reg(r),
        } => r != dst && fits(r),
        _ => false,
    }
}

/// Zero-extensions of a number that fits in 32 bits are the number itself: `mov32 dst, src`
/// and `lsh dst, 32` directly followed by `rsh dst, 32` keep the symbolic value (`fits`: from
/// [`fits32`] before `ins`; `shifted`: what the previous instruction returned). Returns the
/// register and symbolic value of a `lsh` awaiting its `rsh`.
pub fn truncation(
    pc: usize,
    ins: &Instruction,
    s: &mut State,
    pre: &[Option<(u32, i64)>; 11],
    fits: bool,
    shifted: Option<(Reg, (u32, i64))>,
) -> Option<(Reg, (u32, i64))> {
    use apiary_vm::instruction::{AluOp, Operand, Width};
    match *ins {
        Instruction::Alu {
            op: AluOp::Lsh,
            width: Width::W64,
            dst,
            src: Operand::Imm(32),
        } if fits => pre[dst.index()].map(|k| (dst, k)),
        Instruction::Alu {
            op: AluOp::Rsh,
            width: Width::W64,
            dst,
            src: Operand::Imm(32),
        } => {
            if let Some((r, k)) = shifted {
                if r == dst && s.regs[dst.index()].scalar().is_some() {
                    s.syms[dst.index()] = Some(k);
                }
            }
            None
        }
        Instruction::Alu {
            op: AluOp::Mov,
            width: Width::W32,
            dst,
            src: Operand::Reg(r),
        } if fits && s.regs[dst.index()].scalar().is_some() => {
            let k = pre[r.index()].unwrap_or_else(|| {
                let k = (pc as u32)
                    .wrapping_add(1)
                    .min(crate::domain::value::ANON_PKT - 1);
                s.fresh_sym(k);
                (k, 0)
            });
            s.syms[r.index()] = Some(k);
            s.syms[dst.index()] = Some(k);
            None
        }
        _ => None,
    }
}
