//! Memory accesses: the inline bounds checks (with check elision inside a block: covered
//! windows and hull checks with out-of-line block copies), loads, stores, atomics and legacy
//! packet loads.

use apiary_vm::instruction::{AtomicOp, Operand, PacketAddr, Reg, Size, Width};
use dynasmrt::{dynasm, DynamicLabel, DynasmApi, DynasmLabelApi};

use super::*;

/// Longest block copy (slots) behind a hull check.
pub(super) const COPY_MAX: usize = 64;

/// The out-of-line part of a checked access whose inline test (the likely region) failed:
/// test the other region, then the slow path or the fault.
pub(super) struct Secondary {
    pub(super) label: DynamicLabel,
    pub(super) ok: DynamicLabel,
    pub(super) fault: DynamicLabel,
    /// Test the stack (else the input).
    pub(super) stack: bool,
    pub(super) stack_bound: i32,
    pub(super) input_bound_off: i32,
    /// The slow region check, if the environment has extra regions.
    pub(super) slow: Option<DynamicLabel>,
    /// `(base, off)` when the address must first be computed into r11.
    pub(super) addr: Option<(u8, i32)>,
}

/// A copy of the rest of a block from slot `start` (to `end`, the next leader) emitted out of
/// line with individual checks, run when the block's hull check fails.
pub(super) struct Copy {
    pub(super) label: DynamicLabel,
    pub(super) start: usize,
    pub(super) end: usize,
    /// The windows checked before `start` in the block.
    pub(super) windows: Vec<Window>,
}

/// A window `[base + lo, base + hi)` checked earlier in the current block, for an access that
/// writes (`write`) or only reads.
#[derive(Clone, Copy)]
pub(super) struct Window {
    pub(super) base: u8,
    pub(super) lo: i32,
    pub(super) hi: i32,
    pub(super) write: bool,
}

impl Gen<'_> {
    /// The end of `pc`'s block if it is at most [`COPY_MAX`] slots on.
    pub(super) fn short_block_end(&self, pc: usize) -> Option<usize> {
        let n = self.lw.program.len();
        let limit = (pc + 1 + COPY_MAX).min(n);
        (pc + 1..limit)
            .find(|&q| self.lw.is_leader(q))
            .or((limit == n).then_some(n))
    }

    /// Emits the pending block copies (see [`Copy`]): each from its access to the end of its
    /// block with every check individual, then on to the next block.
    pub(super) fn emit_copies(&mut self) {
        let copies = std::mem::take(&mut self.copies);
        self.no_hull = true;
        for c in copies {
            x64!(self.ops ; =>c.label);
            self.windows = c.windows;
            for q in c.start..c.end {
                lower_slot(self, q);
                self.after_slot(q);
            }
            if c.end < self.lw.program.len() {
                let next = self.lw.labels[c.end];
                x64!(self.ops ; jmp =>next);
            }
        }
        self.windows.clear();
    }

    /// The window `[lo, lo + size)` (size 2, 4 or 8) covering the checked loads and stores on
    /// `base` from `pc` to the end of its block, before `base` may change: `None` when fewer
    /// than two accesses or more than 8 bytes.
    pub(super) fn hull(&self, pc: usize, base: Reg, off: i32, len: u8) -> Option<(i32, u8, usize)> {
        // Copies are short and add up to at most the program's length: compile time and code
        // size stay linear.
        let end = self.short_block_end(pc)?;
        if end - pc > self.copy_budget {
            return None;
        }
        let (mut lo, mut hi, mut members) = (off, off + i32::from(len), 1);
        for q in pc + 1..end {
            if self.lw.ins(q - 1).may_write().contains(base) {
                break;
            }
            let (b, o) = match self.lw.ins(q) {
                Instruction::Load { src, off, .. } => (src, off),
                Instruction::Store { dst, off, .. } => (dst, off),
                _ => continue,
            };
            let Some(c) = self.lw.mem_check(q) else {
                continue;
            };
            if b != base || !c.bounds {
                continue;
            }
            lo = lo.min(i32::from(o));
            hi = hi.max(i32::from(o) + i32::from(c.len));
            members += 1;
        }
        let size = match hi - lo {
            _ if members < 2 => return None,
            1 | 2 => 2,
            3 | 4 => 4,
            5..=8 => 8,
            _ => return None,
        };
        Some((lo, size, end))
    }

    /// Tests a block's hull window (see [`Gen::hull`]) against the input: on failure the
    /// block's copy with individual checks runs instead, so faults stay those of the
    /// individual accesses.
    pub(super) fn hull_check(&mut self, pc: usize, base: Reg, (lo, size, end): (i32, u8, usize)) {
        let b = h(base);
        let copy = self.new_label();
        if end < self.lw.program.len() {
            // The copy returns to the next leader: it needs a label there.
            crate::driver::slot_label(self, end);
        }
        self.copy_budget -= end - pc;
        self.copies.push(Copy {
            label: copy,
            start: pc,
            end,
            windows: self.windows.clone(),
        });
        // The input is writable: the window covers stores too.
        self.windows.push(Window {
            base: base.index() as u8,
            lo,
            hi: lo + i32::from(size),
            write: true,
        });
        self.needs |= needs::STACK | needs::INPUT;
        let bound_off = input_bound_offset(size_of_len(size));
        x64!(self.ops
            ; lea r10, [Rq(b) + lo]
            ; sub r10, [r12 + CTX_INPUT_START]
            ; cmp r10, [r12 + bound_off]
            ; jae =>copy
        );
    }

    /// Whether an earlier check in this block already covered `[base + off, + len)` for this
    /// access kind (the window lies in one region, so any window inside it does too).
    pub(super) fn covered(&self, base: Reg, off: i32, len: u8, write: bool) -> bool {
        let end = off + i32::from(len);
        self.windows.iter().any(|w| {
            w.base == base.index() as u8 && w.lo <= off && end <= w.hi && (w.write || !write)
        })
    }

    /// The bounds (and alignment) test of the access at `pc` to `[base + off]`; with `direct`
    /// the address is not in r11 yet (see [`Gen::check_direct`]).
    pub(super) fn check(&mut self, pc: usize, check: MemCheck, base: Reg, off: i32, direct: bool) {
        let b = h(base);
        let covered = check.bounds && self.covered(base, off, check.len, check.write);
        let hull = (direct && check.bounds && !covered && !check.r10_base && !self.no_hull)
            .then(|| self.hull(pc, base, off, check.len))
            .flatten();
        if covered {
            // Elided: a check earlier in the block, on the same unchanged base, covers it.
        } else if let Some(hull) = hull {
            self.hull_check(pc, base, hull);
        } else if check.bounds {
            self.windows.push(Window {
                base: base.index() as u8,
                lo: off,
                hi: off + i32::from(check.len),
                write: check.write,
            });
            // The inline test reads one region, the out-of-line one the other.
            self.needs |= needs::STACK | needs::INPUT;
            let ok = self.new_label();
            let fault = fault(self, pc, exit::OUT_OF_BOUNDS, true);
            let second = self.new_label();
            let stack_bound = check.stack_bound as i32;
            let bound_off = check.input_bound_off;
            if direct {
                x64!(self.ops ; lea r10, [Rq(b) + off]);
            } else {
                x64!(self.ops ; mov r10, r11);
            }
            if check.r10_base {
                x64!(self.ops
                    ; sub r10, [r12 + CTX_STACK_START]
                    ; cmp r10, stack_bound
                    ; jae =>second
                );
            } else {
                x64!(self.ops
                    ; sub r10, [r12 + CTX_INPUT_START]
                    ; cmp r10, [r12 + bound_off]
                    ; jae =>second
                );
            }
            let slow = if self.lw.extra_regions {
                let slow = self.new_label();
                self.lw.cold.push(Cold::Slow {
                    label: slow,
                    ok,
                    fault,
                    len: check.len,
                    write: check.write,
                });
                Some(slow)
            } else {
                None
            };
            self.checks.push(Secondary {
                label: second,
                ok,
                fault,
                addr: direct.then_some((b, off)),
                stack: !check.r10_base,
                stack_bound,
                input_bound_off: bound_off,
                slow,
            });
            x64!(self.ops ; =>ok);
        }
        if check.align {
            let mis = fault(self, pc, exit::MISALIGNED, true);
            let mask = i32::from(check.len) - 1;
            x64!(self.ops ; test r11d, mask ; jnz =>mis);
        }
    }

    /// The access `op` itself, after any check: loads and stores address `[b + o]`, atomics
    /// `[r11]` (already computed).
    pub(super) fn access_at(&mut self, b: u8, o: i32, op: MemOp) {
        match op {
            MemOp::Load {
                size,
                sign_extend,
                dst,
            } => {
                let d = h(dst);
                match (size, sign_extend) {
                    (Size::B, false) => x64!(self.ops ; movzx Rd(d), BYTE [Rq(b) + o]),
                    (Size::H, false) => x64!(self.ops ; movzx Rd(d), WORD [Rq(b) + o]),
                    (Size::W, false) => x64!(self.ops ; mov Rd(d), DWORD [Rq(b) + o]),
                    (Size::DW, _) => x64!(self.ops ; mov Rq(d), QWORD [Rq(b) + o]),
                    (Size::B, true) => x64!(self.ops ; movsx Rq(d), BYTE [Rq(b) + o]),
                    (Size::H, true) => x64!(self.ops ; movsx Rq(d), WORD [Rq(b) + o]),
                    (Size::W, true) => x64!(self.ops ; movsxd Rq(d), DWORD [Rq(b) + o]),
                }
            }
            MemOp::Store { size, src } => self.store(size, src, b, o),
            MemOp::Atomic {
                size,
                op,
                fetch,
                src,
            } => self.atomic(size, op, fetch, h(src)),
        }
    }

    /// A confined load or store at `[rb + r11]` (`rb` the window base register, r11 the
    /// masked address); atomics go through [`Gen::access_at`] on `[r11]`.
    pub(super) fn access_indexed(&mut self, rb: u8, op: MemOp) {
        match op {
            MemOp::Load {
                size,
                sign_extend,
                dst,
            } => {
                let d = h(dst);
                match (size, sign_extend) {
                    (Size::B, false) => x64!(self.ops ; movzx Rd(d), BYTE [Rq(rb) + r11]),
                    (Size::H, false) => x64!(self.ops ; movzx Rd(d), WORD [Rq(rb) + r11]),
                    (Size::W, false) => x64!(self.ops ; mov Rd(d), DWORD [Rq(rb) + r11]),
                    (Size::DW, _) => x64!(self.ops ; mov Rq(d), QWORD [Rq(rb) + r11]),
                    (Size::B, true) => x64!(self.ops ; movsx Rq(d), BYTE [Rq(rb) + r11]),
                    (Size::H, true) => x64!(self.ops ; movsx Rq(d), WORD [Rq(rb) + r11]),
                    (Size::W, true) => x64!(self.ops ; movsxd Rq(d), DWORD [Rq(rb) + r11]),
                }
            }
            MemOp::Store { size, src } => {
                let s = match src {
                    Operand::Imm(i) if self.lw.opts.blind_constants => {
                        self.blinded_imm_to_rcx(Width::W64, i);
                        RCX
                    }
                    Operand::Imm(i) => {
                        match size {
                            Size::B => x64!(self.ops ; mov BYTE [Rq(rb) + r11], i as i8),
                            Size::H => x64!(self.ops ; mov WORD [Rq(rb) + r11], i as i16),
                            Size::W => x64!(self.ops ; mov DWORD [Rq(rb) + r11], i),
                            Size::DW => x64!(self.ops ; mov QWORD [Rq(rb) + r11], i),
                        }
                        return;
                    }
                    Operand::Reg(r) => h(r),
                };
                match size {
                    // Byte stores go through cl: no REX-dependent byte-register encodings.
                    Size::B => x64!(self.ops ; mov ecx, Rd(s) ; mov BYTE [Rq(rb) + r11], cl),
                    Size::H => x64!(self.ops ; mov WORD [Rq(rb) + r11], Rw(s)),
                    Size::W => x64!(self.ops ; mov DWORD [Rq(rb) + r11], Rd(s)),
                    Size::DW => x64!(self.ops ; mov QWORD [Rq(rb) + r11], Rq(s)),
                }
            }
            MemOp::Atomic { .. } => {
                x64!(self.ops ; add r11, Rq(rb));
                self.access_at(R11, 0, op);
            }
        }
    }

    /// Stores `src` to `[b + o]` (checked).
    pub(super) fn store(&mut self, size: Size, src: Operand, b: u8, o: i32) {
        match src {
            Operand::Imm(i) if self.lw.opts.blind_constants => {
                self.blinded_imm_to_rcx(Width::W64, i);
                self.store_reg(size, RCX, b, o);
            }
            Operand::Imm(i) => match size {
                Size::B => x64!(self.ops ; mov BYTE [Rq(b) + o], i as i8),
                Size::H => x64!(self.ops ; mov WORD [Rq(b) + o], i as i16),
                Size::W => x64!(self.ops ; mov DWORD [Rq(b) + o], i),
                Size::DW => x64!(self.ops ; mov QWORD [Rq(b) + o], i),
            },
            Operand::Reg(r) => self.store_reg(size, h(r), b, o),
        }
    }

    pub(super) fn store_reg(&mut self, size: Size, s: u8, b: u8, o: i32) {
        match size {
            // Byte stores go through cl: no REX-dependent byte-register encodings.
            Size::B => x64!(self.ops ; mov ecx, Rd(s) ; mov BYTE [Rq(b) + o], cl),
            Size::H => x64!(self.ops ; mov WORD [Rq(b) + o], Rw(s)),
            Size::W => x64!(self.ops ; mov DWORD [Rq(b) + o], Rd(s)),
            Size::DW => x64!(self.ops ; mov QWORD [Rq(b) + o], Rq(s)),
        }
    }

    /// Atomic read-modify-write on `[r11]` (checked and aligned).
    pub(super) fn atomic(&mut self, size: Size, op: AtomicOp, fetch: bool, s: u8) {
        let w64 = size == Size::DW;
        match (op, fetch) {
            (AtomicOp::Add, false) => {
                if w64 {
                    x64!(self.ops ; lock add QWORD [r11], Rq(s));
                } else {
                    x64!(self.ops ; lock add DWORD [r11], Rd(s));
                }
            }
            (AtomicOp::Or, false) => {
                if w64 {
                    x64!(self.ops ; lock or QWORD [r11], Rq(s));
                } else {
                    x64!(self.ops ; lock or DWORD [r11], Rd(s));
                }
            }
            (AtomicOp::And, false) => {
                if w64 {
                    x64!(self.ops ; lock and QWORD [r11], Rq(s));
                } else {
                    x64!(self.ops ; lock and DWORD [r11], Rd(s));
                }
            }
            (AtomicOp::Xor, false) => {
                if w64 {
                    x64!(self.ops ; lock xor QWORD [r11], Rq(s));
                } else {
                    x64!(self.ops ; lock xor DWORD [r11], Rd(s));
                }
            }
            (AtomicOp::Add, true) => {
                if w64 {
                    x64!(self.ops ; mov rcx, Rq(s) ; lock xadd QWORD [r11], rcx ; mov Rq(s), rcx);
                } else {
                    x64!(self.ops ; mov ecx, Rd(s) ; lock xadd DWORD [r11], ecx ; mov Rd(s), ecx);
                }
            }
            (AtomicOp::Xchg, _) => {
                if w64 {
                    x64!(self.ops ; mov rcx, Rq(s) ; xchg QWORD [r11], rcx ; mov Rq(s), rcx);
                } else {
                    x64!(self.ops ; mov ecx, Rd(s) ; xchg DWORD [r11], ecx ; mov Rd(s), ecx);
                }
            }
            (AtomicOp::Cmpxchg, _) => {
                if w64 {
                    x64!(self.ops ; lock cmpxchg QWORD [r11], Rq(s));
                } else {
                    x64!(self.ops ; lock cmpxchg DWORD [r11], Rd(s) ; mov eax, eax);
                }
            }
            (AtomicOp::Or | AtomicOp::And | AtomicOp::Xor, true) => {
                // A cmpxchg loop: r10 = operand, rax = old (r0 parked in the save area).
                if w64 {
                    x64!(self.ops ; mov r10, Rq(s) ; mov [r12 + CTX_SAVE], rax ; mov rax, QWORD [r11] ; retry:);
                    match op {
                        AtomicOp::Or => x64!(self.ops ; mov rcx, rax ; or rcx, r10),
                        AtomicOp::And => x64!(self.ops ; mov rcx, rax ; and rcx, r10),
                        _ => x64!(self.ops ; mov rcx, rax ; xor rcx, r10),
                    }
                    x64!(self.ops ; lock cmpxchg QWORD [r11], rcx ; jnz <retry);
                    if s == RAX {
                        // r0 is the fetch destination: it keeps the old value.
                    } else {
                        x64!(self.ops ; mov Rq(s), rax ; mov rax, [r12 + CTX_SAVE]);
                    }
                } else {
                    x64!(self.ops ; mov r10d, Rd(s) ; mov [r12 + CTX_SAVE], rax ; mov eax, DWORD [r11] ; retry:);
                    match op {
                        AtomicOp::Or => x64!(self.ops ; mov ecx, eax ; or ecx, r10d),
                        AtomicOp::And => x64!(self.ops ; mov ecx, eax ; and ecx, r10d),
                        _ => x64!(self.ops ; mov ecx, eax ; xor ecx, r10d),
                    }
                    x64!(self.ops ; lock cmpxchg DWORD [r11], ecx ; jnz <retry);
                    if s == RAX {
                        x64!(self.ops ; mov eax, eax);
                    } else {
                        x64!(self.ops ; mov Rd(s), eax ; mov rax, [r12 + CTX_SAVE]);
                    }
                }
            }
        }
    }

    /// Legacy packet loads: r0 = big-endian value at input offset (32-bit wrapping).
    pub(super) fn packet(&mut self, pc: usize, size: Size, addr: PacketAddr, imm: i32) {
        match addr {
            PacketAddr::Abs => x64!(self.ops ; mov r11d, imm),
            PacketAddr::Ind(r) => {
                let s = h(r);
                x64!(self.ops ; mov r11d, Rd(s) ; add r11d, imm);
            }
        }
        let end = self.new_label();
        self.lw.cold.push(Cold::PacketEnd { label: end, pc });
        let bound_off = packet_bound_offset(size);
        x64!(self.ops
            ; cmp r11, [r12 + bound_off]
            ; jae =>end
            ; add r11, [r12 + CTX_PACKET_START]
        );
        match size {
            Size::B => x64!(self.ops ; movzx eax, BYTE [r11]),
            Size::H => x64!(self.ops ; movzx eax, WORD [r11] ; rol ax, 8),
            _ => x64!(self.ops ; mov eax, DWORD [r11] ; bswap eax),
        }
    }
}
