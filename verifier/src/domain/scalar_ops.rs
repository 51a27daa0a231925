//! Transfer functions of ALU operations on [`Scalar`]s. Every result over-approximates the
//! concrete result of `apiary_vm::semantics::alu` for every pair of described inputs.

use apiary_vm::instruction::{AluOp, ByteOrder, Width};
use apiary_vm::semantics;

use super::scalar::Scalar;
use super::tnum::Tnum;

/// An interval in i128, wide enough for any 64-bit signed or unsigned bound.
type Iv = (i128, i128);

fn fits(iv: Iv, lo: i128, hi: i128) -> Option<Iv> {
    (iv.0 >= lo && iv.1 <= hi).then_some(iv)
}

/// Interval arithmetic for the operations where it is simple; `None` means "no bound".
fn interval(op: AluOp, a: Iv, b: Iv, lo: i128, hi: i128, unsigned: bool) -> Option<Iv> {
    let r = match op {
        AluOp::Add => (a.0 + b.0, a.1 + b.1),
        AluOp::Sub => (a.0 - b.1, a.1 - b.0),
        AluOp::Mul => {
            let p = [
                a.0.checked_mul(b.0)?,
                a.0.checked_mul(b.1)?,
                a.1.checked_mul(b.0)?,
                a.1.checked_mul(b.1)?,
            ];
            (*p.iter().min()?, *p.iter().max()?)
        }
        AluOp::Div if unsigned => {
            if b.0 > 0 {
                (a.0 / b.1, a.1 / b.0)
            } else {
                (0, a.1)
            }
        }
        AluOp::Mod if unsigned => {
            if b.0 > 0 {
                (0, a.1.min(b.1 - 1))
            } else {
                (0, a.1)
            }
        }
        AluOp::And if unsigned => (0, a.1.min(b.1)),
        AluOp::Or if unsigned => (a.0.max(b.0), hi),
        _ => return None,
    };
    fits(r, lo, hi)
}

fn shift_count(b: &Scalar, bits: u32) -> Option<u32> {
    b.as_const().map(|c| (c & u64::from(bits - 1)) as u32)
}

/// `dst op src` at `width`, where `src` already holds the operand value (an immediate
/// sign-extended for 64-bit operations).
#[must_use]
pub fn alu(op: AluOp, width: Width, a: &Scalar, b: &Scalar) -> Scalar {
    if let (Some(x), Some(y)) = (a.as_const(), b.as_const()) {
        return Scalar::constant(semantics::alu(op, width, x, y));
    }
    match width {
        Width::W64 => alu64(op, a, b),
        Width::W32 => alu32(op, a, b),
    }
}

fn alu64(op: AluOp, a: &Scalar, b: &Scalar) -> Scalar {
    const UMAX: i128 = u64::MAX as i128;
    const SMIN: i128 = i64::MIN as i128;
    const SMAX: i128 = i64::MAX as i128;
    let mut r = Scalar::TOP;
    let t = match op {
        AluOp::Add => a.t.add(b.t),
        AluOp::Sub => a.t.sub(b.t),
        AluOp::And => a.t.and(b.t),
        AluOp::Or => a.t.or(b.t),
        AluOp::Xor => a.t.xor(b.t),
        AluOp::Mul => a.t.mul(b.t),
        AluOp::Mov => return *b,
        AluOp::Movsx(bits) => return sign_extend(b, u32::from(bits)),
        AluOp::Lsh | AluOp::Rsh | AluOp::Arsh => return shift(op, a, b, 64),
        _ => Tnum::UNKNOWN,
    };
    r.t = t;
    let ua = (i128::from(a.umin), i128::from(a.umax));
    let ub = (i128::from(b.umin), i128::from(b.umax));
    if let Some((lo, hi)) = interval(op, ua, ub, 0, UMAX, true) {
        r.umin = lo as u64;
        r.umax = hi as u64;
    }
    let signed_op = match op {
        AluOp::Sdiv if a.smin >= 0 && b.smin > 0 => Some(AluOp::Div),
        AluOp::Smod if a.smin >= 0 && b.smin > 0 => Some(AluOp::Mod),
        AluOp::Add | AluOp::Sub | AluOp::Mul => Some(op),
        _ => None,
    };
    if let Some(sop) = signed_op {
        let sa = (i128::from(a.smin), i128::from(a.smax));
        let sb = (i128::from(b.smin), i128::from(b.smax));
        let uns = matches!(sop, AluOp::Div | AluOp::Mod);
        if let Some((lo, hi)) = interval(sop, sa, sb, SMIN, SMAX, uns) {
            r.smin = lo as i64;
            r.smax = hi as i64;
        }
    }
    if matches!(
        op,
        AluOp::Add | AluOp::Sub | AluOp::Mul | AluOp::And | AluOp::Or | AluOp::Xor
    ) {
        let low = alu32(op, a, b);
        r.u32min = low.u32min;
        r.u32max = low.u32max;
        r.s32min = low.s32min;
        r.s32max = low.s32max;
    }
    r.synced().unwrap_or(Scalar::TOP)
}

/// The 32-bit operation; the result is zero-extended.
fn alu32(op: AluOp, a: &Scalar, b: &Scalar) -> Scalar {
    const UMAX: i128 = u32::MAX as i128;
    const SMIN: i128 = i32::MIN as i128;
    const SMAX: i128 = i32::MAX as i128;
    let (ta, tb) = (a.t.truncate(32), b.t.truncate(32));
    let t = match op {
        AluOp::Add => ta.add(tb).truncate(32),
        AluOp::Sub => ta.sub(tb).truncate(32),
        AluOp::And => ta.and(tb),
        AluOp::Or => ta.or(tb),
        AluOp::Xor => ta.xor(tb),
        AluOp::Mul => ta.mul(tb).truncate(32),
        AluOp::Mov => return b.low32(),
        AluOp::Movsx(bits) => return sign_extend(b, u32::from(bits)).low32(),
        AluOp::Lsh | AluOp::Rsh | AluOp::Arsh => return shift(op, &a.low32(), &b.low32(), 32),
        _ => Tnum::UNKNOWN.truncate(32),
    };
    let mut lo32 = (0u32, u32::MAX);
    let ua = (i128::from(a.u32min), i128::from(a.u32max));
    let ub = (i128::from(b.u32min), i128::from(b.u32max));
    if let Some((lo, hi)) = interval(op, ua, ub, 0, UMAX, true) {
        lo32 = (lo as u32, hi as u32);
    }
    let mut s32 = (i32::MIN, i32::MAX);
    if matches!(op, AluOp::Add | AluOp::Sub | AluOp::Mul) {
        let sa = (i128::from(a.s32min), i128::from(a.s32max));
        let sb = (i128::from(b.s32min), i128::from(b.s32max));
        if let Some((lo, hi)) = interval(op, sa, sb, SMIN, SMAX, false) {
            s32 = (lo as i32, hi as i32);
        }
    }
    let r = Scalar {
        t,
        umin: u64::from(lo32.0),
        umax: u64::from(lo32.1),
        smin: i64::from(lo32.0),
        smax: i64::from(lo32.1),
        u32min: lo32.0,
        u32max: lo32.1,
        s32min: s32.0,
        s32max: s32.1,
    };
    r.synced().unwrap_or(Scalar::urange(0, u64::from(u32::MAX)))
}

fn shift(op: AluOp, a: &Scalar, b: &Scalar, bits: u32) -> Scalar {
    let top = if bits == 32 {
        Scalar::urange(0, u64::from(u32::MAX))
    } else {
        Scalar::TOP
    };
    let Some(s) = shift_count(b, bits) else {
        return match op {
            AluOp::Rsh => Scalar::urange(0, a.umax),
            _ => top,
        };
    };
    let mut r = Scalar::TOP;
    match op {
        AluOp::Lsh => {
            r.t = a.t.lsh(s).truncate(bits);
            if s < 64 && a.umax.leading_zeros() >= s + (64 - bits) {
                r.umin = a.umin << s;
                r.umax = a.umax << s;
            }
        }
        AluOp::Rsh => {
            r.t = a.t.rsh(s);
            r.umin = a.umin >> s;
            r.umax = a.umax >> s;
        }
        _ => {
            if bits == 32 {
                let t = a.t.sign_extend(32).arsh(s).truncate(32);
                r.t = t;
                let lo = i64::from(a.s32min) >> s;
                let hi = i64::from(a.s32max) >> s;
                r.s32min = lo as i32;
                r.s32max = hi as i32;
                r.umax = u64::from(u32::MAX);
            } else {
                r.t = a.t.arsh(s);
                r.smin = a.smin >> s;
                r.smax = a.smax >> s;
            }
        }
    }
    if bits == 32 {
        r.umax = r.umax.min(u64::from(u32::MAX));
        r.umin = r.umin.min(r.umax);
    }
    r.synced().unwrap_or(top)
}

fn sign_extend(b: &Scalar, bits: u32) -> Scalar {
    if bits >= 64 {
        return *b;
    }
    let half = 1u64 << (bits - 1);
    if b.umax < half {
        return *b;
    }
    let lo = -(half as i64);
    let hi = half as i64 - 1;
    let mut r = Scalar::srange(lo, hi);
    if let Some(t) = r.t.intersect(b.t.sign_extend(bits)) {
        r.t = t;
    }
    r.synced().unwrap_or(Scalar::srange(lo, hi))
}

/// `-dst` at `width`.
#[must_use]
pub fn neg(width: Width, a: &Scalar) -> Scalar {
    alu(AluOp::Sub, width, &Scalar::constant(0), a)
}

/// Byte-order conversion of the low `bits` bits.
#[must_use]
pub fn endian(order: ByteOrder, bits: u8, a: &Scalar) -> Scalar {
    if let Some(c) = a.as_const() {
        return Scalar::constant(semantics::endian(order, bits, c));
    }
    let max = if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    let swap = !matches!(order, ByteOrder::ToLe) ^ cfg!(target_endian = "big");
    if swap {
        Scalar::urange(0, max)
    } else {
        alu(AluOp::And, Width::W64, a, &Scalar::constant(max))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sound_on_samples() {
        let vals = [
            0u64,
            1,
            2,
            7,
            255,
            256,
            0x7fff_ffff,
            0x8000_0000,
            u64::MAX,
            1 << 63,
            12345,
        ];
        let ops = [
            AluOp::Add,
            AluOp::Sub,
            AluOp::Mul,
            AluOp::Div,
            AluOp::Sdiv,
            AluOp::Mod,
            AluOp::Smod,
            AluOp::Or,
            AluOp::And,
            AluOp::Xor,
            AluOp::Lsh,
            AluOp::Rsh,
            AluOp::Arsh,
            AluOp::Movsx(8),
            AluOp::Movsx(32),
        ];
        for &op in &ops {
            for w in [Width::W32, Width::W64] {
                for &x in &vals {
                    for &y in &vals {
                        let a = Scalar::urange(x.min(y), x.max(y));
                        let b = Scalar::urange(y / 2, y);
                        for bx in [x.min(y), x.max(y)] {
                            let want = semantics::alu(op, w, bx, y);
                            let got = alu(op, w, &a, &b);
                            assert!(
                                got.contains(want),
                                "{op:?} {w:?} {bx} {y}: {got:?} lacks {want}"
                            );
                        }
                    }
                }
            }
        }
    }
}
