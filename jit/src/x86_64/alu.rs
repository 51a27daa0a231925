//! ALU operations, byte swaps and constants (with blinding).

use apiary_vm::instruction::{AluOp, ByteOrder, Operand, Width};
use dynasmrt::{dynasm, DynasmApi, DynasmLabelApi};

use super::*;

/// A register-or-immediate operand after blinding has been resolved.
#[derive(Clone, Copy)]
pub(super) enum Src {
    Reg(u8),
    Imm(i32),
}

impl Gen<'_> {
    pub(super) fn next_key(&mut self) -> i32 {
        self.lw.next_key()
    }

    /// Puts the immediate (as `imm_value` at `width`) into rcx, blinded.
    pub(super) fn blinded_imm_to_rcx(&mut self, width: Width, imm: i32) {
        let key = self.next_key();
        let b = imm ^ key;
        match width {
            Width::W64 => x64!(self.ops ; mov rcx, b ; xor rcx, key),
            Width::W32 => x64!(self.ops ; mov ecx, b ; xor ecx, key),
        }
    }

    /// Resolves an operand, blinding immediates into rcx when asked.
    pub(super) fn operand(&mut self, width: Width, src: Operand) -> Src {
        match src {
            Operand::Reg(r) => Src::Reg(h(r)),
            Operand::Imm(i) if self.lw.opts.blind_constants => {
                self.blinded_imm_to_rcx(width, i);
                Src::Reg(RCX)
            }
            Operand::Imm(i) => Src::Imm(i),
        }
    }

    /// The most common ALU forms (add, sub, or, and, xor, mov; register or unblinded
    /// immediate source), encoded by hand: one small function with no dynasm expansion, where
    /// [`Gen::alu_general`]'s dozens of expansions make every call pay a large frame (the
    /// compile-time profile's biggest per-slot cost). Returns whether it emitted `op`.
    ///
    /// Encodings (Intel SDM vol. 2): `op r/m, r` = [REX] opcode ModRM(11, src, dst);
    /// `op r/m, imm` = [REX] 83 /digit ib when the immediate fits a byte, else 81 /digit id
    /// (both sign-extend, as eBPF's 64-bit immediates do; 32-bit forms zero-extend the
    /// result); `mov r/m64, imm32` = REX.W C7 /0 id; `mov r32, imm32` = [REX.B] B8+r id.
    #[inline]
    pub(super) fn alu_fast(&mut self, op: AluOp, width: Width, d: u8, src: Operand) -> bool {
        let w = u8::from(width == Width::W64) << 3;
        match src {
            Operand::Reg(r) => {
                let opcode = match op {
                    AluOp::Add => 0x01,
                    AluOp::Or => 0x09,
                    AluOp::And => 0x21,
                    AluOp::Sub => 0x29,
                    AluOp::Xor => 0x31,
                    AluOp::Mov => 0x89,
                    _ => return false,
                };
                let s = h(r);
                let rex = 0x40 | w | ((s >> 3) << 2) | (d >> 3);
                let modrm = 0xc0 | ((s & 7) << 3) | (d & 7);
                self.bytes_with_rex(rex, &[opcode, modrm]);
            }
            Operand::Imm(_) if self.lw.opts.blind_constants => return false,
            Operand::Imm(i) => {
                let rex = 0x40 | w | (d >> 3);
                let [i0, i1, i2, i3] = i.to_le_bytes();
                let digit = match op {
                    AluOp::Add => 0,
                    AluOp::Or => 1,
                    AluOp::And => 4,
                    AluOp::Sub => 5,
                    AluOp::Xor => 6,
                    AluOp::Mov if w != 0 => {
                        self.bytes_with_rex(rex, &[0xc7, 0xc0 | (d & 7), i0, i1, i2, i3]);
                        return true;
                    }
                    AluOp::Mov => {
                        self.bytes_with_rex(rex, &[0xb8 | (d & 7), i0, i1, i2, i3]);
                        return true;
                    }
                    _ => return false,
                };
                let modrm = 0xc0 | (digit << 3) | (d & 7);
                if let Ok(b) = i8::try_from(i) {
                    self.bytes_with_rex(rex, &[0x83, modrm, b as u8]);
                } else {
                    self.bytes_with_rex(rex, &[0x81, modrm, i0, i1, i2, i3]);
                }
            }
        }
        true
    }

    /// Emits `rex` (unless it is the empty prefix 0x40) then `rest`. Each caller's `rest` has
    /// a constant length, so the copies compile to a few stores (a slice of run-time length
    /// would be a `memcpy` call per instruction).
    #[inline(always)]
    pub(super) fn bytes_with_rex<const N: usize>(&mut self, rex: u8, rest: &[u8; N]) {
        if rex != 0x40 {
            self.ops.push(rex);
        }
        self.ops.extend(rest);
    }

    /// Every ALU form (see [`Gen::alu_fast`] for the common ones).
    #[inline(never)]
    pub(super) fn alu_general(&mut self, op: AluOp, width: Width, d: u8, src: Operand) {
        macro_rules! binop {
            ($mn:ident, $s:expr) => {
                match (width, $s) {
                    (Width::W64, Src::Reg(s)) => x64!(self.ops ; $mn Rq(d), Rq(s)),
                    (Width::W32, Src::Reg(s)) => x64!(self.ops ; $mn Rd(d), Rd(s)),
                    (Width::W64, Src::Imm(i)) => x64!(self.ops ; $mn Rq(d), i),
                    (Width::W32, Src::Imm(i)) => x64!(self.ops ; $mn Rd(d), i),
                }
            };
        }
        match op {
            AluOp::Add => {
                let s = self.operand(width, src);
                binop!(add, s);
            }
            AluOp::Sub => {
                let s = self.operand(width, src);
                binop!(sub, s);
            }
            AluOp::Or => {
                let s = self.operand(width, src);
                binop!(or, s);
            }
            AluOp::And => {
                let s = self.operand(width, src);
                binop!(and, s);
            }
            AluOp::Xor => {
                let s = self.operand(width, src);
                binop!(xor, s);
            }
            AluOp::Mul => match (width, self.operand(width, src)) {
                (Width::W64, Src::Reg(s)) => x64!(self.ops ; imul Rq(d), Rq(s)),
                (Width::W32, Src::Reg(s)) => x64!(self.ops ; imul Rd(d), Rd(s)),
                (Width::W64, Src::Imm(i)) => x64!(self.ops ; imul Rq(d), Rq(d), i),
                (Width::W32, Src::Imm(i)) => x64!(self.ops ; imul Rd(d), Rd(d), i),
            },
            AluOp::Mov => match src {
                Operand::Reg(r) => {
                    let s = h(r);
                    match width {
                        Width::W64 => x64!(self.ops ; mov Rq(d), Rq(s)),
                        Width::W32 => x64!(self.ops ; mov Rd(d), Rd(s)),
                    }
                }
                Operand::Imm(i) => {
                    if self.lw.opts.blind_constants {
                        let key = self.next_key();
                        let b = i ^ key;
                        match width {
                            Width::W64 => x64!(self.ops ; mov Rq(d), b ; xor Rq(d), key),
                            Width::W32 => x64!(self.ops ; mov Rd(d), b ; xor Rd(d), key),
                        }
                    } else {
                        match width {
                            Width::W64 => x64!(self.ops ; mov Rq(d), i),
                            Width::W32 => x64!(self.ops ; mov Rd(d), i),
                        }
                    }
                }
            },
            AluOp::Movsx(bits) => {
                let Operand::Reg(r) = src else {
                    return self.alu_general(AluOp::Mov, width, d, src);
                };
                let s = h(r);
                match (width, bits) {
                    (Width::W64, 8) => x64!(self.ops ; mov ecx, Rd(s) ; movsx Rq(d), cl),
                    (Width::W64, 16) => x64!(self.ops ; movsx Rq(d), Rw(s)),
                    (Width::W64, 32) => x64!(self.ops ; movsxd Rq(d), Rd(s)),
                    (Width::W32, 8) => x64!(self.ops ; mov ecx, Rd(s) ; movsx Rd(d), cl),
                    (Width::W32, 16) => x64!(self.ops ; movsx Rd(d), Rw(s)),
                    (Width::W32, _) => x64!(self.ops ; mov Rd(d), Rd(s)),
                    (Width::W64, _) => x64!(self.ops ; mov Rq(d), Rq(s)),
                }
            }
            AluOp::Lsh | AluOp::Rsh | AluOp::Arsh => self.shift(op, width, d, src),
            AluOp::Div | AluOp::Mod | AluOp::Sdiv | AluOp::Smod => self.divide(op, width, d, src),
        }
    }

    pub(super) fn shift(&mut self, op: AluOp, width: Width, d: u8, src: Operand) {
        match src {
            Operand::Imm(i) => {
                let mask = if width == Width::W64 { 63 } else { 31 };
                let c = (i & mask) as i8;
                if c == 0 {
                    // x86 leaves the register alone for a zero count: zero-extend explicitly.
                    if width == Width::W32 {
                        x64!(self.ops ; mov Rd(d), Rd(d));
                    }
                    return;
                }
                match (op, width) {
                    (AluOp::Lsh, Width::W64) => x64!(self.ops ; shl Rq(d), c),
                    (AluOp::Rsh, Width::W64) => x64!(self.ops ; shr Rq(d), c),
                    (_, Width::W64) => x64!(self.ops ; sar Rq(d), c),
                    (AluOp::Lsh, Width::W32) => x64!(self.ops ; shl Rd(d), c),
                    (AluOp::Rsh, Width::W32) => x64!(self.ops ; shr Rd(d), c),
                    (_, Width::W32) => x64!(self.ops ; sar Rd(d), c),
                }
            }
            Operand::Reg(r) => {
                let s = h(r);
                x64!(self.ops ; mov ecx, Rd(s));
                match (op, width) {
                    (AluOp::Lsh, Width::W64) => x64!(self.ops ; shl Rq(d), cl),
                    (AluOp::Rsh, Width::W64) => x64!(self.ops ; shr Rq(d), cl),
                    (_, Width::W64) => x64!(self.ops ; sar Rq(d), cl),
                    (AluOp::Lsh, Width::W32) => x64!(self.ops ; shl Rd(d), cl ; mov Rd(d), Rd(d)),
                    (AluOp::Rsh, Width::W32) => x64!(self.ops ; shr Rd(d), cl ; mov Rd(d), Rd(d)),
                    (_, Width::W32) => x64!(self.ops ; sar Rd(d), cl ; mov Rd(d), Rd(d)),
                }
            }
        }
    }

    /// Division and modulo, with eBPF's total semantics (x86 `div`/`idiv` would trap).
    pub(super) fn divide(&mut self, op: AluOp, width: Width, d: u8, src: Operand) {
        let signed = matches!(op, AluOp::Sdiv | AluOp::Smod);
        let is_mod = matches!(op, AluOp::Mod | AluOp::Smod);
        let w64 = width == Width::W64;
        // The divisor goes to rcx.
        match src {
            Operand::Reg(r) => {
                let s = h(r);
                if w64 {
                    x64!(self.ops ; mov rcx, Rq(s));
                } else {
                    x64!(self.ops ; mov ecx, Rd(s));
                }
            }
            Operand::Imm(i) if self.lw.opts.blind_constants => self.blinded_imm_to_rcx(width, i),
            Operand::Imm(i) => {
                if w64 {
                    x64!(self.ops ; mov rcx, i);
                } else {
                    x64!(self.ops ; mov ecx, i);
                }
            }
        }
        // Where the dividend lives once rax and rdx have been saved in r10 and r11.
        let dividend = match d {
            RAX => 10,
            RDX => 11,
            other => other,
        };
        if w64 {
            x64!(self.ops ; test rcx, rcx ; jz >zero);
        } else {
            x64!(self.ops ; test ecx, ecx ; jz >zero);
        }
        if signed {
            // x / -1 = -x (wrapping) and x % -1 = 0; `idiv` would trap on MIN / -1.
            match (w64, is_mod) {
                (true, false) => x64!(self.ops ; cmp rcx, -1 ; jne >normal ; neg Rq(d) ; jmp >done),
                (true, true) => {
                    x64!(self.ops ; cmp rcx, -1 ; jne >normal ; xor Rd(d), Rd(d) ; jmp >done)
                }
                (false, false) => {
                    x64!(self.ops ; cmp ecx, -1 ; jne >normal ; neg Rd(d) ; jmp >done)
                }
                (false, true) => {
                    x64!(self.ops ; cmp ecx, -1 ; jne >normal ; xor Rd(d), Rd(d) ; jmp >done)
                }
            }
        }
        x64!(self.ops
            ; normal:
            ; mov r10, rax
            ; mov r11, rdx
        );
        match (w64, signed) {
            (true, false) => x64!(self.ops ; mov rax, Rq(dividend) ; xor edx, edx ; div rcx),
            (true, true) => x64!(self.ops ; mov rax, Rq(dividend) ; cqo ; idiv rcx),
            (false, false) => x64!(self.ops ; mov eax, Rd(dividend) ; xor edx, edx ; div ecx),
            (false, true) => x64!(self.ops ; mov eax, Rd(dividend) ; cdq ; idiv ecx),
        }
        if is_mod {
            x64!(self.ops ; mov rcx, rdx);
        } else {
            x64!(self.ops ; mov rcx, rax);
        }
        x64!(self.ops ; mov rax, r10 ; mov rdx, r11);
        if w64 {
            x64!(self.ops ; mov Rq(d), rcx);
        } else {
            x64!(self.ops ; mov Rd(d), ecx);
        }
        x64!(self.ops ; jmp >done ; zero:);
        match (is_mod, w64) {
            (false, _) => x64!(self.ops ; xor Rd(d), Rd(d)),
            (true, true) => {}
            (true, false) => x64!(self.ops ; mov Rd(d), Rd(d)),
        }
        x64!(self.ops ; done:);
    }

    pub(super) fn endian(&mut self, order: ByteOrder, bits: u8, d: u8) {
        match (order, bits) {
            (ByteOrder::ToLe, 16) => x64!(self.ops ; movzx Rd(d), Rw(d)),
            (ByteOrder::ToLe, 32) => x64!(self.ops ; mov Rd(d), Rd(d)),
            (ByteOrder::ToLe, _) => {}
            (_, 16) => x64!(self.ops ; rol Rw(d), 8 ; movzx Rd(d), Rw(d)),
            (_, 32) => x64!(self.ops ; bswap Rd(d)),
            (_, _) => x64!(self.ops ; bswap Rq(d)),
        }
    }

    pub(super) fn imm64(&mut self, d: u8, v: u64) {
        if self.lw.opts.blind_constants {
            let key = self.lw.next_key64();
            let b = v ^ key;
            x64!(self.ops ; mov Rq(d), QWORD b as i64 ; mov r11, QWORD key as i64 ; xor Rq(d), r11);
        } else if let Ok(u) = u32::try_from(v) {
            x64!(self.ops ; mov Rd(d), u as i32);
        } else if let Ok(i) = i32::try_from(v as i64) {
            x64!(self.ops ; mov Rq(d), i);
        } else {
            x64!(self.ops ; mov Rq(d), QWORD v as i64);
        }
    }
}
