//! Constants: encodable immediates where [`super::encode`] allows, else movz/movn/movk plans.

use dynasmrt::{dynasm, DynasmApi};

use super::*;

impl Gen<'_> {
    /// Puts `v` (at the width) into `d`.
    pub(super) fn mov_const(&mut self, w64: bool, d: u32, v: u64) {
        for op in mov_plan(v, w64) {
            match (op, w64) {
                (MovOp::Orr(x), true) => a64!(self.ops ; orr XSP(d), xzr, #x),
                (MovOp::Orr(x), false) => a64!(self.ops ; orr WSP(d), wzr, #x as u32),
                (MovOp::Z(i, s), true) => self.movz(d, i, s),
                (MovOp::N(i, s), true) => self.movn(d, i, s),
                (MovOp::K(i, s), true) => self.movk(d, i, s),
                (MovOp::Z(i, s), false) => {
                    let i = u32::from(i);
                    if s == 0 {
                        a64!(self.ops ; movz W(d), #i);
                    } else {
                        a64!(self.ops ; movz W(d), #i, lsl #16);
                    }
                }
                (MovOp::N(i, s), false) => {
                    let i = u32::from(i);
                    if s == 0 {
                        a64!(self.ops ; movn W(d), #i);
                    } else {
                        a64!(self.ops ; movn W(d), #i, lsl #16);
                    }
                }
                (MovOp::K(i, s), false) => {
                    let i = u32::from(i);
                    if s == 0 {
                        a64!(self.ops ; movk W(d), #i);
                    } else {
                        a64!(self.ops ; movk W(d), #i, lsl #16);
                    }
                }
            }
        }
    }

    pub(super) fn movz(&mut self, d: u32, i: u16, s: u8) {
        let i = u32::from(i);
        match s {
            0 => a64!(self.ops ; movz X(d), #i),
            16 => a64!(self.ops ; movz X(d), #i, lsl #16),
            32 => a64!(self.ops ; movz X(d), #i, lsl #32),
            _ => a64!(self.ops ; movz X(d), #i, lsl #48),
        }
    }

    pub(super) fn movn(&mut self, d: u32, i: u16, s: u8) {
        let i = u32::from(i);
        match s {
            0 => a64!(self.ops ; movn X(d), #i),
            16 => a64!(self.ops ; movn X(d), #i, lsl #16),
            32 => a64!(self.ops ; movn X(d), #i, lsl #32),
            _ => a64!(self.ops ; movn X(d), #i, lsl #48),
        }
    }

    pub(super) fn movk(&mut self, d: u32, i: u16, s: u8) {
        let i = u32::from(i);
        match s {
            0 => a64!(self.ops ; movk X(d), #i),
            16 => a64!(self.ops ; movk X(d), #i, lsl #16),
            32 => a64!(self.ops ; movk X(d), #i, lsl #32),
            _ => a64!(self.ops ; movk X(d), #i, lsl #48),
        }
    }

    /// `d = n + v` at the width; `v` goes through T0 when it is no add/sub immediate (so `n`
    /// must not be T0 then).
    pub(super) fn add_const(&mut self, w64: bool, d: u32, n: u32, v: u64) {
        match (add_imm(v, w64), w64) {
            (AddImm::Add(i), true) if i.value == 0 && d == n => {}
            (AddImm::Add(i), true) => {
                let x = i.value;
                if i.lsl12 {
                    a64!(self.ops ; add XSP(d), XSP(n), #x, lsl #12);
                } else {
                    a64!(self.ops ; add XSP(d), XSP(n), #x);
                }
            }
            (AddImm::Add(i), false) => {
                let x = i.value;
                if i.lsl12 {
                    a64!(self.ops ; add WSP(d), WSP(n), #x, lsl #12);
                } else {
                    a64!(self.ops ; add WSP(d), WSP(n), #x);
                }
            }
            (AddImm::Sub(i), true) => {
                let x = i.value;
                if i.lsl12 {
                    a64!(self.ops ; sub XSP(d), XSP(n), #x, lsl #12);
                } else {
                    a64!(self.ops ; sub XSP(d), XSP(n), #x);
                }
            }
            (AddImm::Sub(i), false) => {
                let x = i.value;
                if i.lsl12 {
                    a64!(self.ops ; sub WSP(d), WSP(n), #x, lsl #12);
                } else {
                    a64!(self.ops ; sub WSP(d), WSP(n), #x);
                }
            }
            (AddImm::Reg, true) => {
                self.mov_const(true, T0, v);
                a64!(self.ops ; add X(d), X(n), x10);
            }
            (AddImm::Reg, false) => {
                self.mov_const(false, T0, v);
                a64!(self.ops ; add W(d), W(n), w10);
            }
        }
    }

    /// Flags of `d - v` at the width (`cmp`, `cmn` or a register compare through T0).
    pub(super) fn cmp_const(&mut self, w64: bool, d: u32, v: u64) {
        match (add_imm(v, w64), w64) {
            (AddImm::Add(i), true) => {
                let x = i.value;
                if i.lsl12 {
                    a64!(self.ops ; cmp XSP(d), #x, lsl #12);
                } else {
                    a64!(self.ops ; cmp XSP(d), #x);
                }
            }
            (AddImm::Add(i), false) => {
                let x = i.value;
                if i.lsl12 {
                    a64!(self.ops ; cmp WSP(d), #x, lsl #12);
                } else {
                    a64!(self.ops ; cmp WSP(d), #x);
                }
            }
            (AddImm::Sub(i), true) => {
                let x = i.value;
                if i.lsl12 {
                    a64!(self.ops ; cmn XSP(d), #x, lsl #12);
                } else {
                    a64!(self.ops ; cmn XSP(d), #x);
                }
            }
            (AddImm::Sub(i), false) => {
                let x = i.value;
                if i.lsl12 {
                    a64!(self.ops ; cmn WSP(d), #x, lsl #12);
                } else {
                    a64!(self.ops ; cmn WSP(d), #x);
                }
            }
            (AddImm::Reg, true) => {
                self.mov_const(true, T0, v);
                a64!(self.ops ; cmp X(d), x10);
            }
            (AddImm::Reg, false) => {
                self.mov_const(false, T0, v);
                a64!(self.ops ; cmp W(d), w10);
            }
        }
    }
}
