//! Compares, conditional branches and the budget test.

use apiary_vm::instruction::{Cond, Operand, Reg, Width};
use dynasmrt::{dynasm, DynamicLabel, DynasmApi, DynasmLabelApi};

use super::*;

/// x86 condition codes used by jumps.
#[derive(Clone, Copy)]
pub(super) enum X86Cond {
    E,
    Ne,
    A,
    Ae,
    B,
    Be,
    G,
    Ge,
    L,
    Le,
}

impl From<Cond> for X86Cond {
    fn from(c: Cond) -> Self {
        match c {
            Cond::Eq => X86Cond::E,
            Cond::Ne | Cond::Set => X86Cond::Ne,
            Cond::Gt => X86Cond::A,
            Cond::Ge => X86Cond::Ae,
            Cond::Lt => X86Cond::B,
            Cond::Le => X86Cond::Be,
            Cond::Sgt => X86Cond::G,
            Cond::Sge => X86Cond::Ge,
            Cond::Slt => X86Cond::L,
            Cond::Sle => X86Cond::Le,
        }
    }
}

pub(super) trait Negate {
    fn negate_x86(self) -> X86Cond;
}

impl Negate for Cond {
    fn negate_x86(self) -> X86Cond {
        match X86Cond::from(self) {
            X86Cond::E => X86Cond::Ne,
            X86Cond::Ne => X86Cond::E,
            X86Cond::A => X86Cond::Be,
            X86Cond::Ae => X86Cond::B,
            X86Cond::B => X86Cond::Ae,
            X86Cond::Be => X86Cond::A,
            X86Cond::G => X86Cond::Le,
            X86Cond::Ge => X86Cond::L,
            X86Cond::L => X86Cond::Ge,
            X86Cond::Le => X86Cond::G,
        }
    }
}

impl Gen<'_> {
    pub(super) fn compare_flags(&mut self, cond: Cond, width: Width, dst: Reg, src: Operand) {
        let d = h(dst);
        let s = self.operand(width, src);
        macro_rules! cmpop {
            ($mn:ident) => {
                match (width, s) {
                    (Width::W64, Src::Reg(s)) => x64!(self.ops ; $mn Rq(d), Rq(s)),
                    (Width::W32, Src::Reg(s)) => x64!(self.ops ; $mn Rd(d), Rd(s)),
                    (Width::W64, Src::Imm(i)) => x64!(self.ops ; $mn Rq(d), i),
                    (Width::W32, Src::Imm(i)) => x64!(self.ops ; $mn Rd(d), i),
                }
            };
        }
        if cond == Cond::Set {
            cmpop!(test);
        } else {
            cmpop!(cmp);
        }
    }

    /// Faults with `BudgetExhausted` at `pc` if the count exceeds the budget.
    pub(super) fn budget_test(&mut self, pc: usize) {
        let l = fault(self, pc, exit::BUDGET, false);
        self.needs |= needs::METER;
        x64!(self.ops
            ; mov r11, [r12 + CTX_COUNT]
            ; cmp r11, [r12 + CTX_BUDGET]
            ; ja =>l
        );
    }

    pub(super) fn jcc(&mut self, c: X86Cond, l: DynamicLabel) {
        match c {
            X86Cond::E => x64!(self.ops ; je =>l),
            X86Cond::Ne => x64!(self.ops ; jne =>l),
            X86Cond::A => x64!(self.ops ; ja =>l),
            X86Cond::Ae => x64!(self.ops ; jae =>l),
            X86Cond::B => x64!(self.ops ; jb =>l),
            X86Cond::Be => x64!(self.ops ; jbe =>l),
            X86Cond::G => x64!(self.ops ; jg =>l),
            X86Cond::Ge => x64!(self.ops ; jge =>l),
            X86Cond::L => x64!(self.ops ; jl =>l),
            X86Cond::Le => x64!(self.ops ; jle =>l),
        }
    }
}
