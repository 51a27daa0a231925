//! Memory accesses at x9: address, bounds and alignment checks, loads, stores, atomics and
//! legacy packet loads.

use apiary_vm::instruction::{AtomicOp, Operand, PacketAddr, Reg, Size, Width};
use dynasmrt::{dynasm, DynasmApi, DynasmLabelApi};

use super::*;

impl Gen<'_> {
    /// Computes `base + off` into x9.
    pub(super) fn address(&mut self, base: Reg, off: i16) {
        let b = h(base);
        let off = i64::from(off) as u64;
        if off == 0 {
            a64!(self.ops ; mov x9, X(b));
        } else {
            self.add_const(true, ADDR, b, off);
        }
    }

    /// The bounds and alignment tests of the access of slot `pc` at x9, as `check` says.
    pub(super) fn check(&mut self, pc: usize, check: MemCheck) {
        if check.bounds {
            let ok = self.new_label();
            let fault = fault(self, pc, exit::OUT_OF_BOUNDS, true);
            a64!(self.ops ; sub x11, x9, x27);
            self.cmp_const(true, T1, check.stack_bound);
            let bound = ctx(check.input_bound_off);
            a64!(self.ops
                ; b.lo =>ok
                ; sub x10, x9, x28
                ; ldr x11, [x24, #bound]
                ; cmp x10, x11
            );
            let bad = if self.lw.extra_regions {
                let slow = self.new_label();
                self.lw.cold.push(Cold::Slow {
                    label: slow,
                    ok,
                    fault,
                    len: check.len,
                    write: check.write,
                });
                slow
            } else {
                fault
            };
            self.branch(Test::Cond(A64Cond::Hs), bad);
            a64!(self.ops ; =>ok);
        }
        if check.align {
            let mis = fault(self, pc, exit::MISALIGNED, true);
            let mask = u64::from(check.len) - 1;
            a64!(self.ops ; tst x9, #mask);
            self.branch(Test::Cond(A64Cond::Ne), mis);
        }
    }

    /// The access `op` itself at `[x9]`, after any check.
    pub(super) fn access_x9(&mut self, op: MemOp) {
        match op {
            MemOp::Load {
                size,
                sign_extend,
                dst,
            } => {
                let d = h(dst);
                match (size, sign_extend) {
                    (Size::B, false) => a64!(self.ops ; ldrb W(d), [x9]),
                    (Size::H, false) => a64!(self.ops ; ldrh W(d), [x9]),
                    (Size::W, false) => a64!(self.ops ; ldr W(d), [x9]),
                    (Size::DW, _) => a64!(self.ops ; ldr X(d), [x9]),
                    (Size::B, true) => a64!(self.ops ; ldrsb X(d), [x9]),
                    (Size::H, true) => a64!(self.ops ; ldrsh X(d), [x9]),
                    (Size::W, true) => a64!(self.ops ; ldrsw X(d), [x9]),
                }
            }
            MemOp::Store { size, src } => self.store(size, src),
            MemOp::Atomic {
                size,
                op,
                fetch,
                src,
            } => self.atomic(size, op, fetch, h(src)),
        }
    }

    pub(super) fn store(&mut self, size: Size, src: Operand) {
        let s = match src {
            Operand::Imm(i) if self.lw.opts.blind_constants => {
                self.blinded_imm_to_t0(true, imm_value(i, Width::W64));
                T0
            }
            // Zero is stored from the zero register.
            Operand::Imm(0) => 31,
            Operand::Imm(i) => {
                self.mov_const(true, T0, imm_value(i, Width::W64));
                T0
            }
            Operand::Reg(r) => h(r),
        };
        if s == 31 {
            match size {
                Size::B => a64!(self.ops ; strb wzr, [x9]),
                Size::H => a64!(self.ops ; strh wzr, [x9]),
                Size::W => a64!(self.ops ; str wzr, [x9]),
                Size::DW => a64!(self.ops ; str xzr, [x9]),
            }
            return;
        }
        match size {
            Size::B => a64!(self.ops ; strb W(s), [x9]),
            Size::H => a64!(self.ops ; strh W(s), [x9]),
            Size::W => a64!(self.ops ; str W(s), [x9]),
            Size::DW => a64!(self.ops ; str X(s), [x9]),
        }
    }

    /// Atomic read-modify-write on `[x9]` (checked and aligned): exclusive-monitor loops with
    /// acquire-release ordering. x10 = old value, x12 = new value, w11 = store status.
    pub(super) fn atomic(&mut self, size: Size, op: AtomicOp, fetch: bool, s: u32) {
        let w64 = size == Size::DW;
        match op {
            AtomicOp::Add | AtomicOp::Or | AtomicOp::And | AtomicOp::Xor => {
                if w64 {
                    a64!(self.ops ; retry: ; ldaxr x10, [x9]);
                    match op {
                        AtomicOp::Add => a64!(self.ops ; add x12, x10, X(s)),
                        AtomicOp::Or => a64!(self.ops ; orr x12, x10, X(s)),
                        AtomicOp::And => a64!(self.ops ; and x12, x10, X(s)),
                        _ => a64!(self.ops ; eor x12, x10, X(s)),
                    }
                    a64!(self.ops ; stlxr w11, x12, [x9] ; cbnz w11, <retry);
                    if fetch {
                        a64!(self.ops ; mov X(s), x10);
                    }
                } else {
                    a64!(self.ops ; retry: ; ldaxr w10, [x9]);
                    match op {
                        AtomicOp::Add => a64!(self.ops ; add w12, w10, W(s)),
                        AtomicOp::Or => a64!(self.ops ; orr w12, w10, W(s)),
                        AtomicOp::And => a64!(self.ops ; and w12, w10, W(s)),
                        _ => a64!(self.ops ; eor w12, w10, W(s)),
                    }
                    a64!(self.ops ; stlxr w11, w12, [x9] ; cbnz w11, <retry);
                    if fetch {
                        a64!(self.ops ; mov W(s), w10);
                    }
                }
            }
            AtomicOp::Xchg => {
                if w64 {
                    a64!(self.ops
                        ; retry:
                        ; ldaxr x10, [x9]
                        ; stlxr w11, X(s), [x9]
                        ; cbnz w11, <retry
                        ; mov X(s), x10
                    );
                } else {
                    a64!(self.ops
                        ; retry:
                        ; ldaxr w10, [x9]
                        ; stlxr w11, W(s), [x9]
                        ; cbnz w11, <retry
                        ; mov W(s), w10
                    );
                }
            }
            AtomicOp::Cmpxchg => {
                // r0 = old value whether or not the exchange happened.
                if w64 {
                    a64!(self.ops
                        ; retry:
                        ; ldaxr x10, [x9]
                        ; cmp x10, x0
                        ; b.ne >differ
                        ; stlxr w11, X(s), [x9]
                        ; cbnz w11, <retry
                        ; b >done
                        ; differ:
                        ; clrex
                        ; done:
                        ; mov x0, x10
                    );
                } else {
                    a64!(self.ops
                        ; retry:
                        ; ldaxr w10, [x9]
                        ; cmp w10, w0
                        ; b.ne >differ
                        ; stlxr w11, W(s), [x9]
                        ; cbnz w11, <retry
                        ; b >done
                        ; differ:
                        ; clrex
                        ; done:
                        ; mov w0, w10
                    );
                }
            }
        }
    }

    /// Legacy packet loads: r0 = big-endian value at input offset (32-bit wrapping).
    pub(super) fn packet(&mut self, pc: usize, size: Size, addr: PacketAddr, imm: i32) {
        match addr {
            PacketAddr::Abs => self.mov_const(false, ADDR, u64::from(imm as u32)),
            PacketAddr::Ind(r) => self.add_const(false, ADDR, h(r), u64::from(imm as u32)),
        }
        let end = self.new_label();
        self.lw.cold.push(Cold::PacketEnd { label: end, pc });
        let bound = ctx(packet_bound_offset(size));
        a64!(self.ops
            ; ldr x10, [x24, #bound]
            ; cmp x9, x10
        );
        self.branch(Test::Cond(A64Cond::Hs), end);
        a64!(self.ops
            ; ldr x10, [x24, #ctx(CTX_PACKET_START)]
            ; add x9, x9, x10
        );
        match size {
            Size::B => a64!(self.ops ; ldrb w0, [x9]),
            Size::H => a64!(self.ops ; ldrh w0, [x9] ; rev16 w0, w0),
            _ => a64!(self.ops ; ldr w0, [x9] ; rev w0, w0),
        }
    }
}
