//! The value semantics of ALU, byte-order and jump instructions (ISA.md §5), as pure functions.
//! The interpreter calls them with constant operations (so they fold into each arm), and tests
//! and the JITs' reference checks use them as the single statement of what each operation does.

use crate::instruction::{AluOp, ByteOrder, Cond, Width};

/// A 64-bit ALU operation. Shift counts are masked to 6 bits; division by zero gives 0 and modulo
/// by zero leaves `dst`; signed `MIN / -1` gives `MIN` and `MIN % -1` gives 0.
#[inline(always)]
#[must_use]
pub fn alu64(op: AluOp, dst: u64, src: u64) -> u64 {
    match op {
        AluOp::Add => dst.wrapping_add(src),
        AluOp::Sub => dst.wrapping_sub(src),
        AluOp::Mul => dst.wrapping_mul(src),
        AluOp::Div => dst.checked_div(src).unwrap_or(0),
        AluOp::Sdiv => {
            if src == 0 {
                0
            } else {
                (dst as i64).wrapping_div(src as i64) as u64
            }
        }
        AluOp::Or => dst | src,
        AluOp::And => dst & src,
        AluOp::Lsh => dst << (src & 63),
        AluOp::Rsh => dst >> (src & 63),
        AluOp::Mod => dst.checked_rem(src).unwrap_or(dst),
        AluOp::Smod => {
            if src == 0 {
                dst
            } else {
                (dst as i64).wrapping_rem(src as i64) as u64
            }
        }
        AluOp::Xor => dst ^ src,
        AluOp::Mov => src,
        AluOp::Movsx(bits) => sign_extend(src, bits),
        AluOp::Arsh => ((dst as i64) >> (src & 63)) as u64,
    }
}

/// A 32-bit ALU operation on the low halves; the caller zero-extends the result.
#[inline(always)]
#[must_use]
pub fn alu32(op: AluOp, dst: u32, src: u32) -> u32 {
    match op {
        AluOp::Add => dst.wrapping_add(src),
        AluOp::Sub => dst.wrapping_sub(src),
        AluOp::Mul => dst.wrapping_mul(src),
        AluOp::Div => dst.checked_div(src).unwrap_or(0),
        AluOp::Sdiv => {
            if src == 0 {
                0
            } else {
                (dst as i32).wrapping_div(src as i32) as u32
            }
        }
        AluOp::Or => dst | src,
        AluOp::And => dst & src,
        AluOp::Lsh => dst << (src & 31),
        AluOp::Rsh => dst >> (src & 31),
        AluOp::Mod => dst.checked_rem(src).unwrap_or(dst),
        AluOp::Smod => {
            if src == 0 {
                dst
            } else {
                (dst as i32).wrapping_rem(src as i32) as u32
            }
        }
        AluOp::Xor => dst ^ src,
        AluOp::Mov => src,
        AluOp::Movsx(bits) => sign_extend(u64::from(src), bits) as u32,
        AluOp::Arsh => ((dst as i32) >> (src & 31)) as u32,
    }
}

/// Any ALU operation at the given width, with the source already taken from a register or the
/// immediate (sign-extended for 64-bit), and the 32-bit result zero-extended.
#[inline(always)]
#[must_use]
pub fn alu(op: AluOp, width: Width, dst: u64, src: u64) -> u64 {
    match width {
        Width::W64 => alu64(op, dst, src),
        Width::W32 => u64::from(alu32(op, dst as u32, src as u32)),
    }
}

/// Sign-extends the low `bits` (8, 16 or 32) bits of `v` to 64 bits.
#[inline(always)]
#[must_use]
pub fn sign_extend(v: u64, bits: u8) -> u64 {
    match bits {
        8 => v as u8 as i8 as i64 as u64,
        16 => v as u16 as i16 as i64 as u64,
        32 => v as u32 as i32 as i64 as u64,
        _ => v,
    }
}

/// Byte-order conversion of the low `bits` bits (16, 32 or 64), on a little-endian host:
/// `ToLe` truncates, `ToBe` and `Swap` swap; upper bits are cleared.
#[inline(always)]
#[must_use]
pub fn endian(order: ByteOrder, bits: u8, v: u64) -> u64 {
    let swap = !matches!(order, ByteOrder::ToLe) ^ cfg!(target_endian = "big");
    match (bits, swap) {
        (16, false) => v & 0xffff,
        (16, true) => u64::from((v as u16).swap_bytes()),
        (32, false) => v & 0xffff_ffff,
        (32, true) => u64::from((v as u32).swap_bytes()),
        (_, false) => v,
        (_, true) => v.swap_bytes(),
    }
}

/// Whether a conditional jump is taken. For 32-bit jumps only the low halves are compared.
#[inline(always)]
#[must_use]
pub fn condition(cond: Cond, width: Width, a: u64, b: u64) -> bool {
    match width {
        Width::W64 => condition64(cond, a, b),
        Width::W32 => condition32(cond, a as u32, b as u32),
    }
}

#[inline(always)]
fn condition64(cond: Cond, a: u64, b: u64) -> bool {
    match cond {
        Cond::Eq => a == b,
        Cond::Gt => a > b,
        Cond::Ge => a >= b,
        Cond::Set => a & b != 0,
        Cond::Ne => a != b,
        Cond::Sgt => (a as i64) > (b as i64),
        Cond::Sge => (a as i64) >= (b as i64),
        Cond::Lt => a < b,
        Cond::Le => a <= b,
        Cond::Slt => (a as i64) < (b as i64),
        Cond::Sle => (a as i64) <= (b as i64),
    }
}

#[inline(always)]
fn condition32(cond: Cond, a: u32, b: u32) -> bool {
    match cond {
        Cond::Eq => a == b,
        Cond::Gt => a > b,
        Cond::Ge => a >= b,
        Cond::Set => a & b != 0,
        Cond::Ne => a != b,
        Cond::Sgt => (a as i32) > (b as i32),
        Cond::Sge => (a as i32) >= (b as i32),
        Cond::Lt => a < b,
        Cond::Le => a <= b,
        Cond::Slt => (a as i32) < (b as i32),
        Cond::Sle => (a as i32) <= (b as i32),
    }
}

/// The 64-bit value an immediate stands for at `width`: sign-extended for 64-bit operations,
/// the raw 32 bits (zero-extended) for 32-bit ones.
#[inline(always)]
#[must_use]
pub const fn imm_value(imm: i32, width: Width) -> u64 {
    match width {
        Width::W64 => imm as i64 as u64,
        Width::W32 => imm as u32 as u64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corner_cases_of_isa_section_5() {
        assert_eq!(
            alu64(AluOp::Sdiv, i64::MIN as u64, u64::MAX),
            i64::MIN as u64
        );
        assert_eq!(alu64(AluOp::Smod, i64::MIN as u64, u64::MAX), 0);
        assert_eq!(alu32(AluOp::Sdiv, 0x8000_0000, u32::MAX), 0x8000_0000);
        assert_eq!(alu32(AluOp::Smod, 0x8000_0000, u32::MAX), 0);
        assert_eq!(alu64(AluOp::Mod, 7, 0), 7);
        assert_eq!(alu(AluOp::Mod, Width::W32, 0xffff_ffff_0000_0007, 0), 7);
        assert_eq!(alu64(AluOp::Div, 7, 0), 0);
        assert_eq!(alu64(AluOp::Lsh, 1, 65), 2);
        assert_eq!(alu32(AluOp::Arsh, 0x8000_0000, 35), 0xf000_0000);
        assert_eq!(alu64(AluOp::Smod, (-13i64) as u64, 3), (-1i64) as u64);
        assert_eq!(alu64(AluOp::Smod, 13, (-3i64) as u64), 1);
        assert_eq!(alu64(AluOp::Sdiv, (-10i64) as u64, 3), (-3i64) as u64);
        assert_eq!(alu(AluOp::Movsx(8), Width::W32, 0, 0x80), 0xffff_ff80);
        assert_eq!(
            alu64(AluOp::Movsx(32), 0, 0x8000_0000),
            0xffff_ffff_8000_0000
        );
        assert_eq!(endian(ByteOrder::ToLe, 16, 0x1122_3344), 0x3344);
        assert_eq!(endian(ByteOrder::ToBe, 16, 0x1122_3344), 0x4433);
        assert_eq!(
            endian(ByteOrder::Swap, 64, 0x0102_0304_0506_0708),
            0x0807_0605_0403_0201
        );
        assert!(condition(
            Cond::Gt,
            Width::W64,
            u64::MAX,
            imm_value(-2, Width::W64)
        ));
        assert!(!condition(Cond::Sgt, Width::W32, 0x1_0000_0000, 1));
    }
}
