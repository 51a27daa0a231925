//! What aarch64 can encode, as pure functions (compiled and unit-tested on every host): add/sub
//! 12-bit immediates, logical (bitmask) immediates, scaled load/store offsets, the
//! movz/movn/movk/orr plan that materialises any constant, condition codes and the branch-range
//! rules. The emitter asks these before every immediate or branch it hands to dynasm, which
//! panics on an unencodable operand.

/// A 12-bit unsigned immediate, optionally shifted left by 12 (add/sub/cmp/cmn forms).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Imm12 {
    pub value: u32,
    pub lsl12: bool,
}

/// `v` as an add/sub immediate, if it is one.
pub(crate) const fn imm12(v: u64) -> Option<Imm12> {
    if v < 4096 {
        Some(Imm12 {
            value: v as u32,
            lsl12: false,
        })
    } else if v & 0xfff == 0 && v >> 12 < 4096 {
        Some(Imm12 {
            value: (v >> 12) as u32,
            lsl12: true,
        })
    } else {
        None
    }
}

/// How to add a constant (already reduced to the operation width) to a register.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AddImm {
    /// `add d, n, #imm`
    Add(Imm12),
    /// `sub d, n, #imm` (the negated constant fits)
    Sub(Imm12),
    /// Neither fits: materialise the constant and add registers.
    Reg,
}

/// Truncates `v` to the operation width (32 or 64 bits).
pub(crate) const fn at_width(v: u64, w64: bool) -> u64 {
    if w64 {
        v
    } else {
        v & 0xffff_ffff
    }
}

/// How to add `v` (taken modulo the width) with one instruction, if possible.
pub(crate) fn add_imm(v: u64, w64: bool) -> AddImm {
    let v = at_width(v, w64);
    if let Some(i) = imm12(v) {
        return AddImm::Add(i);
    }
    match imm12(at_width(v.wrapping_neg(), w64)) {
        Some(i) => AddImm::Sub(i),
        None => AddImm::Reg,
    }
}

/// Whether `v` (at the width) is a logical (bitmask) immediate for and/orr/eor/tst.
pub(crate) fn logical_imm(v: u64, w64: bool) -> bool {
    if w64 {
        dynasmrt::aarch64::encode_logical_immediate_64bit(v).is_some()
    } else {
        u32::try_from(v)
            .ok()
            .and_then(dynasmrt::aarch64::encode_logical_immediate_32bit)
            .is_some()
    }
}

/// Whether `off` is an encodable unsigned scaled offset for an `ldr`/`str` of `size` bytes
/// (a multiple of the size, at most 4095 units).
pub(crate) const fn scaled_offset(off: i64, size: u64) -> bool {
    off >= 0 && (off as u64).is_multiple_of(size) && (off as u64) / size < 4096
}

/// Whether `off` is an encodable scaled offset of an `ldp`/`stp` of 8-byte registers.
pub(crate) const fn pair_offset(off: i64) -> bool {
    off % 8 == 0 && off >= -512 && off <= 504
}

/// One instruction of a constant materialisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MovOp {
    /// `movz d, #imm, lsl #shift`: d = imm << shift.
    Z(u16, u8),
    /// `movn d, #imm, lsl #shift`: d = !(imm << shift) (at the width).
    N(u16, u8),
    /// `movk d, #imm, lsl #shift`: replace 16 bits.
    K(u16, u8),
    /// `orr d, zr, #value`: a logical immediate.
    Orr(u64),
}

/// The shortest of movz+movk*, movn+movk* or a single `orr` that puts `v` (at the width) in a
/// register: at most 2 instructions for 32 bits, 4 for 64.
pub(crate) fn mov_plan(v: u64, w64: bool) -> Vec<MovOp> {
    let v = at_width(v, w64);
    let chunks = if w64 { 4 } else { 2 };
    let chunk = |i: u32| ((v >> (16 * i)) & 0xffff) as u16;
    let zeros = (0..chunks).filter(|&i| chunk(i) == 0).count();
    let ones = (0..chunks).filter(|&i| chunk(i) == 0xffff).count();
    let nonzero = chunks as usize - zeros;
    let nonones = chunks as usize - ones;
    if nonzero.min(nonones) > 1 && v != 0 && v != at_width(u64::MAX, w64) && logical_imm(v, w64) {
        return vec![MovOp::Orr(v)];
    }
    let mut plan = Vec::with_capacity(chunks as usize);
    if nonones < nonzero {
        // movn the first chunk that is not all ones, movk the others that are not.
        for i in 0..chunks {
            let c = chunk(i);
            if c == 0xffff {
                continue;
            }
            if plan.is_empty() {
                plan.push(MovOp::N(!c, (16 * i) as u8));
            } else {
                plan.push(MovOp::K(c, (16 * i) as u8));
            }
        }
        if plan.is_empty() {
            plan.push(MovOp::N(0, 0));
        }
    } else {
        for i in 0..chunks {
            let c = chunk(i);
            if c == 0 {
                continue;
            }
            if plan.is_empty() {
                plan.push(MovOp::Z(c, (16 * i) as u8));
            } else {
                plan.push(MovOp::K(c, (16 * i) as u8));
            }
        }
        if plan.is_empty() {
            plan.push(MovOp::Z(0, 0));
        }
    }
    plan
}

/// What a plan leaves in the register (a model of the instructions, for tests).
#[cfg(test)]
pub(crate) fn eval_plan(plan: &[MovOp], w64: bool) -> u64 {
    let mut r = 0u64;
    for op in plan {
        r = match *op {
            MovOp::Z(i, s) => u64::from(i) << s,
            MovOp::N(i, s) => !(u64::from(i) << s),
            MovOp::K(i, s) => (r & !(0xffffu64 << s)) | (u64::from(i) << s),
            MovOp::Orr(v) => v,
        };
        r = at_width(r, w64);
    }
    r
}

/// aarch64 condition codes used after `cmp`/`tst`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum A64Cond {
    Eq,
    Ne,
    Hi,
    Hs,
    Lo,
    Ls,
    Gt,
    Ge,
    Lt,
    Le,
}

impl A64Cond {
    /// The condition that holds exactly when `self` does not.
    pub(crate) const fn invert(self) -> Self {
        match self {
            A64Cond::Eq => A64Cond::Ne,
            A64Cond::Ne => A64Cond::Eq,
            A64Cond::Hi => A64Cond::Ls,
            A64Cond::Ls => A64Cond::Hi,
            A64Cond::Hs => A64Cond::Lo,
            A64Cond::Lo => A64Cond::Hs,
            A64Cond::Gt => A64Cond::Le,
            A64Cond::Le => A64Cond::Gt,
            A64Cond::Ge => A64Cond::Lt,
            A64Cond::Lt => A64Cond::Ge,
        }
    }

    /// The condition of an eBPF jump after `cmp dst, src` (or `tst` for `jset`).
    pub(crate) const fn of(c: apiary_vm::instruction::Cond) -> Self {
        use apiary_vm::instruction::Cond;
        match c {
            Cond::Eq => A64Cond::Eq,
            Cond::Ne | Cond::Set => A64Cond::Ne,
            Cond::Gt => A64Cond::Hi,
            Cond::Ge => A64Cond::Hs,
            Cond::Lt => A64Cond::Lo,
            Cond::Le => A64Cond::Ls,
            Cond::Sgt => A64Cond::Gt,
            Cond::Sge => A64Cond::Ge,
            Cond::Slt => A64Cond::Lt,
            Cond::Sle => A64Cond::Le,
        }
    }

    /// Whether the condition holds for the NZCV flags of `a - b` (a model, for tests).
    #[cfg(test)]
    pub(crate) fn holds_after_cmp(self, a: u64, b: u64) -> bool {
        let (r, borrow) = a.overflowing_sub(b);
        let n = (r as i64) < 0;
        let z = r == 0;
        let c = !borrow;
        let v = (a as i64).overflowing_sub(b as i64).1;
        match self {
            A64Cond::Eq => z,
            A64Cond::Ne => !z,
            A64Cond::Hi => c && !z,
            A64Cond::Hs => c,
            A64Cond::Lo => !c,
            A64Cond::Ls => !c || z,
            A64Cond::Gt => !z && n == v,
            A64Cond::Ge => n == v,
            A64Cond::Lt => n != v,
            A64Cond::Le => z || n != v,
        }
    }
}

/// Reach of `b.cond`, `cbz` and `cbnz` (imm19 words): from -1 MiB to 1 MiB - 4.
pub(crate) const BCOND_MIN: i64 = -(1 << 20);
/// See [`BCOND_MIN`].
pub(crate) const BCOND_MAX: i64 = (1 << 20) - 4;

/// Whether a conditional branch at byte offset `from` reaches `to`.
pub(crate) const fn bcond_reaches(from: usize, to: usize) -> bool {
    let d = to as i64 - from as i64;
    d % 4 == 0 && d >= BCOND_MIN && d <= BCOND_MAX
}

/// Branch relaxation: after a first emission with every conditional branch short, a branch
/// whose distance was `d` bytes may stay short in the second emission, where some branches
/// become two instructions. No span can more than double (each instruction becomes at most
/// two), so `2 * d` must reach.
pub(crate) const fn stays_short(from: usize, to: usize) -> bool {
    let d = to as i64 - from as i64;
    let d2 = 2 * d;
    d2 >= BCOND_MIN && d2 <= BCOND_MAX
}

#[cfg(test)]
mod tests {
    use super::*;
    use apiary_vm::instruction::{Cond, Width};
    use apiary_vm::semantics::condition;

    fn rng(seed: &mut u64) -> u64 {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        *seed
    }

    #[test]
    fn imm12_accepts_exactly_the_encodable_values() {
        assert_eq!(
            imm12(0),
            Some(Imm12 {
                value: 0,
                lsl12: false
            })
        );
        assert_eq!(imm12(4095).map(|i| i.value), Some(4095));
        assert_eq!(
            imm12(4096),
            Some(Imm12 {
                value: 1,
                lsl12: true
            })
        );
        assert_eq!(imm12(4097), None);
        assert_eq!(
            imm12(0xfff000).map(|i| (i.value, i.lsl12)),
            Some((0xfff, true))
        );
        assert_eq!(imm12(0x1000000), None);
        assert_eq!(imm12(u64::MAX), None);
    }

    #[test]
    fn add_imm_uses_sub_for_negative_constants() {
        assert_eq!(
            add_imm((-8i64) as u64, true),
            AddImm::Sub(Imm12 {
                value: 8,
                lsl12: false
            })
        );
        assert_eq!(
            add_imm(0xffff_fff8, false),
            AddImm::Sub(Imm12 {
                value: 8,
                lsl12: false
            })
        );
        // 32-bit: the upper half is ignored.
        assert_eq!(add_imm(0x1_0000_0005, false), add_imm(5, false));
        assert_eq!(add_imm(0x1234_5678, true), AddImm::Reg);
        assert_eq!(add_imm(i64::MIN as u64, true), AddImm::Reg);
        assert_eq!(add_imm(0x8000_0000, false), AddImm::Reg);
        // Every i16 offset is add, sub or a register add, and the first two compute it.
        for off in i16::MIN..=i16::MAX {
            let v = i64::from(off) as u64;
            let base = 0x1000_0000u64;
            let got = match add_imm(v, true) {
                AddImm::Add(i) => base + (u64::from(i.value) << if i.lsl12 { 12 } else { 0 }),
                AddImm::Sub(i) => base - (u64::from(i.value) << if i.lsl12 { 12 } else { 0 }),
                AddImm::Reg => base.wrapping_add(v),
            };
            assert_eq!(got, base.wrapping_add(v), "offset {off}");
        }
    }

    #[test]
    fn logical_immediates() {
        for (v, w64, ok) in [
            (0u64, true, false),
            (u64::MAX, true, false),
            (0xff, true, true),
            (0x5555_5555_5555_5555, true, true),
            (0xffff_0000_ffff_0000, true, true),
            (0x1234, true, false),
            (7, true, true),
            (0xffff_ffff, false, false),
            (0xffff_fffe, false, true),
            (0x0f0f_0f0f, false, true),
            (0x8000_0000, false, true),
            (0x8000_0001, false, true),
            (0x8000_0002, false, false),
        ] {
            assert_eq!(logical_imm(v, w64), ok, "{v:#x} w64={w64}");
        }
    }

    #[test]
    fn load_store_offsets() {
        assert!(scaled_offset(0, 8));
        assert!(scaled_offset(8 * 4095, 8));
        assert!(!scaled_offset(8 * 4096, 8));
        assert!(!scaled_offset(4, 8));
        assert!(!scaled_offset(-8, 8));
        assert!(scaled_offset(4095, 1));
        assert!(pair_offset(-512) && pair_offset(504) && !pair_offset(512) && !pair_offset(12));
        // Every context field the backend addresses is a plain scaled offset.
        for off in [
            crate::runtime::CTX_ARGS + 32,
            crate::runtime::CTX_SAVE + 48,
            crate::runtime::CTX_RET,
            crate::runtime::CTX_INIT_R10,
        ] {
            assert!(scaled_offset(i64::from(off), 8));
            assert!(pair_offset(i64::from(off)));
        }
    }

    #[test]
    fn mov_plans_build_every_constant_shortest_first() {
        let fixed = [
            0u64,
            1,
            0xffff,
            0x1_0000,
            u64::MAX,
            (-2i64) as u64,
            0xffff_ffff,
            0xffff_ffff_0000_0000,
            0x1234_5678_9abc_def0,
            0x5555_5555_5555_5555,
            i64::MIN as u64,
            i64::MAX as u64,
            0x8000_0000,
            0xffff_ffff_8000_0000,
        ];
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let random = (0..20_000).map(|_| {
            let r = rng(&mut seed);
            // Mix in runs of zero and one chunks.
            match r % 4 {
                0 => r,
                1 => r & 0xffff_0000_ffff,
                2 => r | 0xffff_0000_0000_ffff,
                _ => (r as i32) as i64 as u64,
            }
        });
        for v in fixed.into_iter().chain(random) {
            for w64 in [true, false] {
                let plan = mov_plan(v, w64);
                assert_eq!(eval_plan(&plan, w64), at_width(v, w64), "{v:#x} w64={w64}");
                assert!(plan.len() <= if w64 { 4 } else { 2 });
                assert!(!plan.is_empty());
                if let Some(MovOp::Orr(x)) = plan.first() {
                    assert!(logical_imm(*x, w64));
                }
            }
        }
        assert_eq!(mov_plan(0, true), vec![MovOp::Z(0, 0)]);
        assert_eq!(mov_plan(u64::MAX, true), vec![MovOp::N(0, 0)]);
        assert_eq!(mov_plan((-2i64) as u64, true), vec![MovOp::N(1, 0)]);
        assert_eq!(mov_plan(0xffff_fff0, false), vec![MovOp::N(0xf, 0)]);
        assert_eq!(mov_plan(0x0000_0001_0000_0000, true), vec![MovOp::Z(1, 32)]);
        assert_eq!(mov_plan(0x5555_5555_5555_5555, true).len(), 1);
    }

    #[test]
    fn conditions_match_ebpf_and_invert() {
        let conds = [
            Cond::Eq,
            Cond::Ne,
            Cond::Gt,
            Cond::Ge,
            Cond::Lt,
            Cond::Le,
            Cond::Sgt,
            Cond::Sge,
            Cond::Slt,
            Cond::Sle,
        ];
        let vals = [
            0u64,
            1,
            2,
            u64::MAX,
            i64::MIN as u64,
            i64::MAX as u64,
            0x8000_0000,
            (-7i64) as u64,
        ];
        for c in conds {
            let a = A64Cond::of(c);
            for &x in &vals {
                for &y in &vals {
                    assert_eq!(
                        a.holds_after_cmp(x, y),
                        condition(c, Width::W64, x, y),
                        "{c:?} {x:#x} {y:#x}"
                    );
                    assert_eq!(a.invert().holds_after_cmp(x, y), !a.holds_after_cmp(x, y));
                }
            }
        }
        assert_eq!(A64Cond::of(Cond::Set), A64Cond::Ne);
    }

    #[test]
    fn branch_ranges() {
        assert!(bcond_reaches(0, 0));
        assert!(bcond_reaches(0, (1 << 20) - 4));
        assert!(!bcond_reaches(0, 1 << 20));
        assert!(bcond_reaches(1 << 20, 0));
        assert!(!bcond_reaches((1 << 20) + 4, 0));
        assert!(!bcond_reaches(0, 2));
        // After relaxation, only half the reach is trusted.
        assert!(stays_short(0, (1 << 19) - 4));
        assert!(!stays_short(0, 1 << 19));
        assert!(stays_short(1 << 19, 0));
        assert!(!stays_short((1 << 19) + 4, 0));
        // Doubling any span of a first emission that stays short never leaves the range.
        let mut seed = 7u64;
        for _ in 0..10_000 {
            let from = (rng(&mut seed) % (1 << 24)) as usize & !3;
            let to = (rng(&mut seed) % (1 << 24)) as usize & !3;
            if stays_short(from, to) {
                assert!(bcond_reaches(2 * from, 2 * to));
                assert!(bcond_reaches(from, to));
            }
        }
    }
}
