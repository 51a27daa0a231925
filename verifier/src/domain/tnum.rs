//! Tristate numbers ("known bits"): `value` holds the known bits, `mask` the unknown ones. A
//! concrete `x` is described iff `x & !mask == value`. Operations follow the published sound
//! tnum algorithms (Vishwanathan et al., CGO'22), written from their definitions.

/// A set of 64-bit values described by known and unknown bits. Invariant: `value & mask == 0`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Tnum {
    /// Bits known to be one.
    pub value: u64,
    /// Bits whose value is unknown.
    pub mask: u64,
}

impl Tnum {
    /// Every value.
    pub const UNKNOWN: Tnum = Tnum {
        value: 0,
        mask: u64::MAX,
    };

    /// Exactly `v`.
    #[must_use]
    pub const fn constant(v: u64) -> Self {
        Self { value: v, mask: 0 }
    }

    /// Whether exactly one value is described.
    #[must_use]
    pub const fn is_const(self) -> bool {
        self.mask == 0
    }

    /// Whether `x` is described.
    #[must_use]
    pub const fn contains(self, x: u64) -> bool {
        x & !self.mask == self.value
    }

    /// The smallest tnum holding every value of `[min, max]`.
    #[must_use]
    pub fn range(min: u64, max: u64) -> Self {
        let chi = min ^ max;
        let bits = 64 - chi.leading_zeros();
        if bits >= 64 {
            return Self::UNKNOWN;
        }
        let delta = (1u64 << bits) - 1;
        Self {
            value: min & !delta,
            mask: delta,
        }
    }

    /// Sum.
    #[must_use]
    #[allow(clippy::should_implement_trait)]
    pub fn add(self, o: Self) -> Self {
        let sm = self.mask.wrapping_add(o.mask);
        let sv = self.value.wrapping_add(o.value);
        let sigma = sm.wrapping_add(sv);
        let chi = sigma ^ sv;
        let mu = chi | self.mask | o.mask;
        Self {
            value: sv & !mu,
            mask: mu,
        }
    }

    /// Difference.
    #[must_use]
    #[allow(clippy::should_implement_trait)]
    pub fn sub(self, o: Self) -> Self {
        let dv = self.value.wrapping_sub(o.value);
        let alpha = dv.wrapping_add(self.mask);
        let beta = dv.wrapping_sub(o.mask);
        let chi = alpha ^ beta;
        let mu = chi | self.mask | o.mask;
        Self {
            value: dv & !mu,
            mask: mu,
        }
    }

    /// Bitwise and.
    #[must_use]
    pub fn and(self, o: Self) -> Self {
        let alpha = self.value | self.mask;
        let beta = o.value | o.mask;
        let v = self.value & o.value;
        Self {
            value: v,
            mask: alpha & beta & !v,
        }
    }

    /// Bitwise or.
    #[must_use]
    pub fn or(self, o: Self) -> Self {
        let v = self.value | o.value;
        let mu = self.mask | o.mask;
        Self {
            value: v,
            mask: mu & !v,
        }
    }

    /// Bitwise exclusive or.
    #[must_use]
    pub fn xor(self, o: Self) -> Self {
        let v = self.value ^ o.value;
        let mu = self.mask | o.mask;
        Self {
            value: v & !mu,
            mask: mu,
        }
    }

    /// Product (wrapping), as the published sound tnum multiplication: the known product of the
    /// known parts, plus, for each bit of `self` that is one or unknown, `o` shifted there
    /// with its bits made unknown (only its unknown bits when that bit of `self` is a known
    /// one). It keeps what matters for alignment: a product of a multiple of 2^i and a
    /// multiple of 2^j has its i + j low bits known zero (`idx * 80` is a multiple of 16).
    #[must_use]
    #[allow(clippy::should_implement_trait)]
    pub fn mul(self, o: Self) -> Self {
        let known = self.value.wrapping_mul(o.value);
        let mut unknown = Self::constant(0);
        let (mut a, mut b) = (self, o);
        while a.value != 0 || a.mask != 0 {
            if a.value & 1 == 1 {
                unknown = unknown.add(Self {
                    value: 0,
                    mask: b.mask,
                });
            } else if a.mask & 1 == 1 {
                unknown = unknown.add(Self {
                    value: 0,
                    mask: b.value | b.mask,
                });
            }
            a = a.rsh(1);
            b = b.lsh(1);
        }
        Self::constant(known).add(unknown)
    }

    /// Left shift by a known count (< 64).
    #[must_use]
    pub fn lsh(self, s: u32) -> Self {
        Self {
            value: self.value << s,
            mask: self.mask << s,
        }
    }

    /// Logical right shift by a known count (< 64).
    #[must_use]
    pub fn rsh(self, s: u32) -> Self {
        Self {
            value: self.value >> s,
            mask: self.mask >> s,
        }
    }

    /// Arithmetic right shift of the 64-bit value by a known count (< 64).
    #[must_use]
    pub fn arsh(self, s: u32) -> Self {
        Self {
            value: ((self.value as i64) >> s) as u64,
            mask: ((self.mask as i64) >> s) as u64,
        }
    }

    /// The low `bits` bits (upper bits known zero).
    #[must_use]
    pub fn truncate(self, bits: u32) -> Self {
        if bits >= 64 {
            return self;
        }
        let m = (1u64 << bits) - 1;
        Self {
            value: self.value & m,
            mask: self.mask & m,
        }
    }

    /// Sign extension of the low `bits` bits.
    #[must_use]
    pub fn sign_extend(self, bits: u32) -> Self {
        if bits >= 64 {
            return self;
        }
        let sh = 64 - bits;
        Self {
            value: ((self.value << sh) as i64 >> sh) as u64,
            mask: ((self.mask << sh) as i64 >> sh) as u64,
        }
        .normalized()
    }

    fn normalized(self) -> Self {
        Self {
            value: self.value & !self.mask,
            mask: self.mask,
        }
    }

    /// Least upper bound: every value of either.
    #[must_use]
    pub fn union(self, o: Self) -> Self {
        let mu = self.mask | o.mask | (self.value ^ o.value);
        Self {
            value: self.value & !mu,
            mask: mu,
        }
    }

    /// Greatest lower bound; `None` if the two disagree on a known bit.
    #[must_use]
    pub fn intersect(self, o: Self) -> Option<Self> {
        let known_both = !self.mask & !o.mask;
        if (self.value ^ o.value) & known_both != 0 {
            return None;
        }
        let v = self.value | o.value;
        let mu = self.mask & o.mask;
        Some(Self {
            value: v & !mu,
            mask: mu,
        })
    }

    /// Smallest and largest unsigned value.
    #[must_use]
    pub const fn umin(self) -> u64 {
        self.value
    }

    /// Largest unsigned value.
    #[must_use]
    pub const fn umax(self) -> u64 {
        self.value | self.mask
    }

    /// Smallest signed value.
    #[must_use]
    pub const fn smin(self) -> i64 {
        (self.value | (self.mask & (1 << 63))) as i64
    }

    /// Largest signed value.
    #[must_use]
    pub const fn smax(self) -> i64 {
        (self.value | (self.mask & !(1 << 63))) as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_and_range() {
        let a = Tnum::range(0, 3);
        let b = Tnum::constant(4);
        let s = a.add(b);
        for x in 0..4u64 {
            assert!(s.contains(x + 4));
        }
        assert!(Tnum::range(5, 5).is_const());
        assert_eq!(Tnum::UNKNOWN.union(Tnum::constant(1)), Tnum::UNKNOWN);
        assert!(Tnum::constant(1).intersect(Tnum::constant(2)).is_none());
    }

    #[test]
    fn mul_keeps_alignment() {
        let idx = Tnum::range(0, 9);
        let p = idx.mul(Tnum::constant(80));
        assert_eq!(p.value & 0xf, 0);
        assert_eq!(p.mask & 0xf, 0, "{p:?}");
        for x in 0..10u64 {
            assert!(p.contains(x * 80));
        }
    }

    /// A member of `t` chosen by the bits of `pick`.
    fn member(t: Tnum, pick: u64) -> u64 {
        t.value | (pick & t.mask)
    }

    fn tnum_of(v: u64, m: u64) -> Tnum {
        Tnum {
            value: v & !m,
            mask: m,
        }
    }

    proptest::proptest! {
        /// Soundness: the product of any members is a member of the product.
        #[test]
        fn mul_is_sound(av: u64, am: u64, bv: u64, bm: u64, pa: u64, pb: u64, narrow: bool) {
            // Narrow masks too, so that mostly-known operands are tried.
            let (am, bm) = if narrow { (am & 0xff, bm & 0x0f0f) } else { (am, bm) };
            let (a, b) = (tnum_of(av, am), tnum_of(bv, bm));
            let (x, y) = (member(a, pa), member(b, pb));
            let p = a.mul(b);
            proptest::prop_assert!(p.contains(x.wrapping_mul(y)), "{a:?} * {b:?} = {p:?} misses {x} * {y}");
        }
    }
}
