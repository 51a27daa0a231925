//! Compares, conditional branches (short or far, see the relaxation in [`super::compile`])
//! and the budget test.

use apiary_vm::instruction::{Cond, Operand, Reg, Width};
use dynasmrt::{dynasm, DynamicLabel, DynasmApi, DynasmLabelApi};

use super::*;

/// A conditional branch to a label that may be far away.
#[derive(Clone, Copy)]
pub(super) enum Test {
    /// `b.cond`
    Cond(A64Cond),
    /// `cbnz x`
    Nonzero(u32),
}

impl Gen<'_> {
    pub(super) fn compare_flags(&mut self, cond: Cond, width: Width, dst: Reg, src: Operand) {
        let d = h(dst);
        let w64 = width == Width::W64;
        let s = self.operand(width, src);
        if cond == Cond::Set {
            match s {
                Src::Imm(v) if logical_imm(v, w64) => {
                    if w64 {
                        a64!(self.ops ; tst X(d), #v);
                    } else {
                        a64!(self.ops ; tst W(d), #v as u32);
                    }
                }
                _ => {
                    let r = match s {
                        Src::Reg(r) => r,
                        Src::Imm(v) => {
                            self.mov_const(w64, T0, v);
                            T0
                        }
                    };
                    if w64 {
                        a64!(self.ops ; tst X(d), X(r));
                    } else {
                        a64!(self.ops ; tst W(d), W(r));
                    }
                }
            }
        } else {
            match s {
                Src::Imm(v) => self.cmp_const(w64, d, v),
                Src::Reg(r) if w64 => a64!(self.ops ; cmp X(d), X(r)),
                Src::Reg(r) => a64!(self.ops ; cmp W(d), W(r)),
            }
        }
    }

    /// Faults with `BudgetExhausted` at `pc` if the count exceeds the budget.
    pub(super) fn budget_test(&mut self, pc: usize) {
        let l = fault(self, pc, exit::BUDGET, false);
        a64!(self.ops ; cmp x25, x26);
        self.branch(Test::Cond(A64Cond::Hi), l);
    }

    /// A conditional branch to `target`, in the far form when the relaxation pass said so.
    pub(super) fn branch(&mut self, test: Test, target: DynamicLabel) {
        let seq = self.seq;
        self.seq += 1;
        let far = self
            .far
            .is_some_and(|f| f.get(seq).copied().unwrap_or(true));
        if far {
            let skip = self.new_label();
            match test {
                Test::Cond(c) => self.bcond(c.invert(), skip),
                Test::Nonzero(r) => a64!(self.ops ; cbz X(r), =>skip),
            }
            a64!(self.ops ; b =>target ; =>skip);
        } else {
            if self.far.is_none() {
                self.sites.push((self.ops.offset().0, target));
            }
            match test {
                Test::Cond(c) => self.bcond(c, target),
                Test::Nonzero(r) => a64!(self.ops ; cbnz X(r), =>target),
            }
        }
    }

    /// `b.cond` to a label known to be in reach.
    pub(super) fn bcond(&mut self, c: A64Cond, l: DynamicLabel) {
        match c {
            A64Cond::Eq => a64!(self.ops ; b.eq =>l),
            A64Cond::Ne => a64!(self.ops ; b.ne =>l),
            A64Cond::Hi => a64!(self.ops ; b.hi =>l),
            A64Cond::Hs => a64!(self.ops ; b.hs =>l),
            A64Cond::Lo => a64!(self.ops ; b.lo =>l),
            A64Cond::Ls => a64!(self.ops ; b.ls =>l),
            A64Cond::Gt => a64!(self.ops ; b.gt =>l),
            A64Cond::Ge => a64!(self.ops ; b.ge =>l),
            A64Cond::Lt => a64!(self.ops ; b.lt =>l),
            A64Cond::Le => a64!(self.ops ; b.le =>l),
        }
    }
}
