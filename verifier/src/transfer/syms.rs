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
