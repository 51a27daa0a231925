//! ALU operations, byte swaps and 64-bit constants (with blinding).

use apiary_vm::instruction::{AluOp, ByteOrder, Operand, Width};
use dynasmrt::{dynasm, DynasmApi};

use super::*;

/// A register-or-immediate operand after blinding: immediates are already at the width.
#[derive(Clone, Copy)]
pub(super) enum Src {
    Reg(u32),
    Imm(u64),
}

impl Gen<'_> {
    /// Puts the blinded immediate (`imm` at the width) into T0: `(imm ^ key) ^ key`.
    pub(super) fn blinded_imm_to_t0(&mut self, w64: bool, v: u64) {
        let key = at_width(self.lw.next_key64(), w64);
        self.mov_const(w64, T0, v ^ key);
        self.mov_const(w64, T1, key);
        if w64 {
            a64!(self.ops ; eor x10, x10, x11);
        } else {
            a64!(self.ops ; eor w10, w10, w11);
        }
    }

    /// Resolves an operand, blinding immediates into T0 when asked.
    pub(super) fn operand(&mut self, width: Width, src: Operand) -> Src {
        match src {
            Operand::Reg(r) => Src::Reg(h(r)),
            Operand::Imm(i) => {
                let v = imm_value(i, width);
                if self.lw.opts.blind_constants {
                    self.blinded_imm_to_t0(width == Width::W64, v);
                    Src::Reg(T0)
                } else {
                    Src::Imm(v)
                }
            }
        }
    }

    /// The operand in a register: immediates go to T0.
    pub(super) fn operand_reg(&mut self, width: Width, src: Operand) -> u32 {
        match self.operand(width, src) {
            Src::Reg(r) => r,
            Src::Imm(v) => {
                self.mov_const(width == Width::W64, T0, v);
                T0
            }
        }
    }

    pub(super) fn alu_op(&mut self, op: AluOp, width: Width, d: u32, src: Operand) {
        let w64 = width == Width::W64;
        macro_rules! reg3 {
            ($mn:ident, $s:expr) => {
                if w64 {
                    a64!(self.ops ; $mn X(d), X(d), X($s))
                } else {
                    a64!(self.ops ; $mn W(d), W(d), W($s))
                }
            };
        }
        match op {
            AluOp::Add | AluOp::Sub => match self.operand(width, src) {
                Src::Imm(v) => {
                    let v = if op == AluOp::Sub {
                        v.wrapping_neg()
                    } else {
                        v
                    };
                    self.add_const(w64, d, d, v);
                }
                Src::Reg(s) if op == AluOp::Add => reg3!(add, s),
                Src::Reg(s) => reg3!(sub, s),
            },
            AluOp::Or | AluOp::And | AluOp::Xor => {
                let s = match self.operand(width, src) {
                    Src::Imm(v) if logical_imm(v, w64) => {
                        match (op, w64) {
                            (AluOp::Or, true) => a64!(self.ops ; orr XSP(d), X(d), #v),
                            (AluOp::And, true) => a64!(self.ops ; and XSP(d), X(d), #v),
                            (_, true) => a64!(self.ops ; eor XSP(d), X(d), #v),
                            (AluOp::Or, false) => a64!(self.ops ; orr WSP(d), W(d), #v as u32),
                            (AluOp::And, false) => {
                                a64!(self.ops ; and WSP(d), W(d), #v as u32)
                            }
                            (_, false) => a64!(self.ops ; eor WSP(d), W(d), #v as u32),
                        }
                        return;
                    }
                    Src::Imm(v) => {
                        self.mov_const(w64, T0, v);
                        T0
                    }
                    Src::Reg(s) => s,
                };
                match op {
                    AluOp::Or => reg3!(orr, s),
                    AluOp::And => reg3!(and, s),
                    _ => reg3!(eor, s),
                }
            }
            AluOp::Mul => {
                let s = self.operand_reg(width, src);
                reg3!(mul, s);
            }
            AluOp::Mov => match src {
                Operand::Reg(r) => {
                    let s = h(r);
                    if w64 {
                        a64!(self.ops ; mov X(d), X(s));
                    } else {
                        a64!(self.ops ; mov W(d), W(s));
                    }
                }
                Operand::Imm(i) => {
                    let v = imm_value(i, width);
                    if self.lw.opts.blind_constants {
                        self.blinded_imm_to_t0(w64, v);
                        if w64 {
                            a64!(self.ops ; mov X(d), x10);
                        } else {
                            a64!(self.ops ; mov W(d), w10);
                        }
                    } else {
                        self.mov_const(w64, d, v);
                    }
                }
            },
            AluOp::Movsx(bits) => {
                let Operand::Reg(r) = src else {
                    return self.alu_op(AluOp::Mov, width, d, src);
                };
                let s = h(r);
                match (w64, bits) {
                    (true, 8) => a64!(self.ops ; sxtb X(d), W(s)),
                    (true, 16) => a64!(self.ops ; sxth X(d), W(s)),
                    (true, 32) => a64!(self.ops ; sxtw X(d), W(s)),
                    (false, 8) => a64!(self.ops ; sxtb W(d), W(s)),
                    (false, 16) => a64!(self.ops ; sxth W(d), W(s)),
                    (false, _) => a64!(self.ops ; mov W(d), W(s)),
                    (true, _) => a64!(self.ops ; mov X(d), X(s)),
                }
            }
            AluOp::Lsh | AluOp::Rsh | AluOp::Arsh => self.shift(op, width, d, src),
            AluOp::Div | AluOp::Mod | AluOp::Sdiv | AluOp::Smod => {
                self.divide(op, width, d, src);
            }
        }
    }

    /// Shifts: the hardware masks register counts to the width, as eBPF does.
    pub(super) fn shift(&mut self, op: AluOp, width: Width, d: u32, src: Operand) {
        let w64 = width == Width::W64;
        match src {
            Operand::Imm(i) => {
                let c = (i as u32) & if w64 { 63 } else { 31 };
                match (op, w64) {
                    (AluOp::Lsh, true) => a64!(self.ops ; lsl X(d), X(d), #c),
                    (AluOp::Rsh, true) => a64!(self.ops ; lsr X(d), X(d), #c),
                    (_, true) => a64!(self.ops ; asr X(d), X(d), #c),
                    (AluOp::Lsh, false) => a64!(self.ops ; lsl W(d), W(d), #c),
                    (AluOp::Rsh, false) => a64!(self.ops ; lsr W(d), W(d), #c),
                    (_, false) => a64!(self.ops ; asr W(d), W(d), #c),
                }
            }
            Operand::Reg(r) => {
                let s = h(r);
                match (op, w64) {
                    (AluOp::Lsh, true) => a64!(self.ops ; lslv X(d), X(d), X(s)),
                    (AluOp::Rsh, true) => a64!(self.ops ; lsrv X(d), X(d), X(s)),
                    (_, true) => a64!(self.ops ; asrv X(d), X(d), X(s)),
                    (AluOp::Lsh, false) => a64!(self.ops ; lslv W(d), W(d), W(s)),
                    (AluOp::Rsh, false) => a64!(self.ops ; lsrv W(d), W(d), W(s)),
                    (_, false) => a64!(self.ops ; asrv W(d), W(d), W(s)),
                }
            }
        }
    }

    /// Division and modulo. aarch64 `udiv`/`sdiv` never trap and already give eBPF's results
    /// (x / 0 = 0, MIN / -1 = MIN); modulo is `d - (d / s) * s` (`msub`), which leaves `d` for
    /// s = 0 (zero-extended at 32 bits) and gives 0 for MIN % -1.
    pub(super) fn divide(&mut self, op: AluOp, width: Width, d: u32, src: Operand) {
        let w64 = width == Width::W64;
        let s = self.operand_reg(width, src);
        match (op, w64) {
            (AluOp::Div, true) => a64!(self.ops ; udiv X(d), X(d), X(s)),
            (AluOp::Div, false) => a64!(self.ops ; udiv W(d), W(d), W(s)),
            (AluOp::Sdiv, true) => a64!(self.ops ; sdiv X(d), X(d), X(s)),
            (AluOp::Sdiv, false) => a64!(self.ops ; sdiv W(d), W(d), W(s)),
            (AluOp::Mod, true) => {
                a64!(self.ops ; udiv x11, X(d), X(s) ; msub X(d), x11, X(s), X(d))
            }
            (AluOp::Mod, false) => {
                a64!(self.ops ; udiv w11, W(d), W(s) ; msub W(d), w11, W(s), W(d))
            }
            (_, true) => a64!(self.ops ; sdiv x11, X(d), X(s) ; msub X(d), x11, X(s), X(d)),
            (_, false) => a64!(self.ops ; sdiv w11, W(d), W(s) ; msub W(d), w11, W(s), W(d)),
        }
    }

    pub(super) fn endian(&mut self, order: ByteOrder, bits: u8, d: u32) {
        match (order, bits) {
            (ByteOrder::ToLe, 16) => a64!(self.ops ; uxth W(d), W(d)),
            (ByteOrder::ToLe, 32) => a64!(self.ops ; mov W(d), W(d)),
            (ByteOrder::ToLe, _) => {}
            (_, 16) => a64!(self.ops ; rev16 W(d), W(d) ; uxth W(d), W(d)),
            (_, 32) => a64!(self.ops ; rev W(d), W(d)),
            (_, _) => a64!(self.ops ; rev X(d), X(d)),
        }
    }

    pub(super) fn imm64(&mut self, d: u32, v: u64) {
        if self.lw.opts.blind_constants {
            self.blinded_imm_to_t0(true, v);
            a64!(self.ops ; mov X(d), x10);
        } else {
            self.mov_const(true, d, v);
        }
    }
}
