//! Scalars: known bits plus signed and unsigned 64- and 32-bit ranges, kept mutually consistent
//! by [`Scalar::synced`]. Every component over-approximates the same set of values, so each may be
//! used to tighten the others.

use super::tnum::Tnum;

/// An abstract 64-bit scalar. The 32-bit ranges describe the low halves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub struct Scalar {
    pub t: Tnum,
    pub umin: u64,
    pub umax: u64,
    pub smin: i64,
    pub smax: i64,
    pub u32min: u32,
    pub u32max: u32,
    pub s32min: i32,
    pub s32max: i32,
}

impl Scalar {
    /// Every value.
    pub const TOP: Scalar = Scalar {
        t: Tnum::UNKNOWN,
        umin: 0,
        umax: u64::MAX,
        smin: i64::MIN,
        smax: i64::MAX,
        u32min: 0,
        u32max: u32::MAX,
        s32min: i32::MIN,
        s32max: i32::MAX,
    };

    /// Exactly `v`.
    #[must_use]
    pub const fn constant(v: u64) -> Self {
        Self {
            t: Tnum::constant(v),
            umin: v,
            umax: v,
            smin: v as i64,
            smax: v as i64,
            u32min: v as u32,
            u32max: v as u32,
            s32min: v as i32,
            s32max: v as i32,
        }
    }

    /// The unsigned range `[lo, hi]` (`lo <= hi`).
    #[must_use]
    pub fn urange(lo: u64, hi: u64) -> Self {
        Self {
            umin: lo,
            umax: hi,
            ..Self::TOP
        }
        .synced()
        .unwrap_or(Self::TOP)
    }

    /// The signed range `[lo, hi]` (`lo <= hi`).
    #[must_use]
    pub fn srange(lo: i64, hi: i64) -> Self {
        Self {
            smin: lo,
            smax: hi,
            ..Self::TOP
        }
        .synced()
        .unwrap_or(Self::TOP)
    }

    /// The value, if exactly one.
    #[must_use]
    pub const fn as_const(&self) -> Option<u64> {
        if self.t.is_const() {
            Some(self.t.value)
        } else if self.umin == self.umax {
            Some(self.umin)
        } else {
            None
        }
    }

    /// Whether `x` may be a value of this scalar.
    #[must_use]
    pub fn contains(&self, x: u64) -> bool {
        self.t.contains(x)
            && (self.umin..=self.umax).contains(&x)
            && (self.smin..=self.smax).contains(&(x as i64))
            && (self.u32min..=self.u32max).contains(&(x as u32))
            && (self.s32min..=self.s32max).contains(&(x as i32))
    }

    /// Whether every value of `self` is a value of `o`.
    #[must_use]
    pub fn leq(&self, o: &Self) -> bool {
        o.t.mask & self.t.mask == self.t.mask
            && (self.t.value & !o.t.mask) == o.t.value
            && self.umin >= o.umin
            && self.umax <= o.umax
            && self.smin >= o.smin
            && self.smax <= o.smax
            && self.u32min >= o.u32min
            && self.u32max <= o.u32max
            && self.s32min >= o.s32min
            && self.s32max <= o.s32max
    }

    /// The value zero-extended from its low 32 bits.
    #[must_use]
    pub fn low32(&self) -> Self {
        let t = self.t.truncate(32);
        Self {
            t,
            umin: u64::from(self.u32min),
            umax: u64::from(self.u32max),
            smin: i64::from(self.u32min),
            smax: i64::from(self.u32max),
            u32min: self.u32min,
            u32max: self.u32max,
            s32min: self.s32min,
            s32max: self.s32max,
        }
        .synced()
        .unwrap_or(Self::urange(0, u64::from(u32::MAX)))
    }

    /// Tightens every component from the others; `None` if no value remains.
    #[must_use]
    pub fn synced(mut self) -> Option<Self> {
        for _ in 0..3 {
            let before = self;
            self.step()?;
            if self == before {
                break;
            }
        }
        Some(self)
    }

    fn step(&mut self) -> Option<()> {
        // Known bits → ranges.
        self.umin = self.umin.max(self.t.umin());
        self.umax = self.umax.min(self.t.umax());
        self.smin = self.smin.max(self.t.smin());
        self.smax = self.smax.min(self.t.smax());
        let t32 = self.t.truncate(32);
        self.u32min = self.u32min.max(t32.umin() as u32);
        self.u32max = self.u32max.min(t32.umax() as u32);
        let s32lo = (t32.value | (t32.mask & 0x8000_0000)) as u32 as i32;
        let s32hi = (t32.value | (t32.mask & 0x7fff_ffff)) as u32 as i32;
        self.s32min = self.s32min.max(s32lo);
        self.s32max = self.s32max.min(s32hi);
        // Signed ↔ unsigned, 64-bit.
        if (self.umin as i64) <= (self.umax as i64) && (self.umin >> 63) == (self.umax >> 63) {
            self.smin = self.smin.max(self.umin as i64);
            self.smax = self.smax.min(self.umax as i64);
        }
        if (self.smin >= 0) == (self.smax >= 0) {
            self.umin = self.umin.max(self.smin as u64);
            self.umax = self.umax.min(self.smax as u64);
        }
        // Signed ↔ unsigned, 32-bit.
        if (self.u32min >> 31) == (self.u32max >> 31) {
            self.s32min = self.s32min.max(self.u32min as i32);
            self.s32max = self.s32max.min(self.u32max as i32);
        }
        if (self.s32min >= 0) == (self.s32max >= 0) {
            self.u32min = self.u32min.max(self.s32min as u32);
            self.u32max = self.u32max.min(self.s32max as u32);
        }
        // 64 → 32: equal upper halves bound the low halves.
        if self.umin >> 32 == self.umax >> 32 {
            self.u32min = self.u32min.max(self.umin as u32);
            self.u32max = self.u32max.min(self.umax as u32);
        }
        if self.smin >> 32 == self.smax >> 32 {
            self.u32min = self.u32min.max(self.smin as u32);
            self.u32max = self.u32max.min(self.smax as u32);
        }
        // 32 → 64 when the upper half is known.
        if self.t.mask >> 32 == 0 {
            let hi = self.t.value & !0xffff_ffff;
            self.umin = self.umin.max(hi | u64::from(self.u32min));
            self.umax = self.umax.min(hi | u64::from(self.u32max));
        }
        // Ranges → known bits.
        if self.umin > self.umax
            || self.smin > self.smax
            || self.u32min > self.u32max
            || self.s32min > self.s32max
        {
            return None;
        }
        self.t = self.t.intersect(Tnum::range(self.umin, self.umax))?;
        let low = Tnum::range(u64::from(self.u32min), u64::from(self.u32max));
        let low = Tnum {
            value: low.value,
            mask: low.mask | !0xffff_ffff,
        };
        self.t = self.t.intersect(low)?;
        if (self.smin as u64 >> 63) == (self.smax as u64 >> 63) {
            self.t = self
                .t
                .intersect(Tnum::range(self.smin as u64, self.smax as u64))?;
        }
        Some(())
    }

    /// Least upper bound.
    #[must_use]
    pub fn join(&self, o: &Self) -> Self {
        Self {
            t: self.t.union(o.t),
            umin: self.umin.min(o.umin),
            umax: self.umax.max(o.umax),
            smin: self.smin.min(o.smin),
            smax: self.smax.max(o.smax),
            u32min: self.u32min.min(o.u32min),
            u32max: self.u32max.max(o.u32max),
            s32min: self.s32min.min(o.s32min),
            s32max: self.s32max.max(o.s32max),
        }
    }

    /// Greatest lower bound; `None` when empty.
    #[must_use]
    pub fn meet(&self, o: &Self) -> Option<Self> {
        Self {
            t: self.t.intersect(o.t)?,
            umin: self.umin.max(o.umin),
            umax: self.umax.min(o.umax),
            smin: self.smin.max(o.smin),
            smax: self.smax.min(o.smax),
            u32min: self.u32min.max(o.u32min),
            u32max: self.u32max.min(o.u32max),
            s32min: self.s32min.max(o.s32min),
            s32max: self.s32max.min(o.s32max),
        }
        .synced()
    }

    /// Widening of `self` (old) by `new` (already joined with old): a bound that moved jumps to
    /// the next threshold, or to the type limit.
    #[must_use]
    pub fn widen(&self, new: &Self, th: &Thresholds) -> Self {
        let up_u = |o: u64, n: u64| if n > o { th.up_u(n) } else { o };
        let dn_u = |o: u64, n: u64| if n < o { th.down_u(n) } else { o };
        let up_s = |o: i64, n: i64| if n > o { th.up_s(n) } else { o };
        let dn_s = |o: i64, n: i64| if n < o { th.down_s(n) } else { o };
        let w = Self {
            t: self.t.union(new.t),
            umin: dn_u(self.umin, new.umin),
            umax: up_u(self.umax, new.umax),
            smin: dn_s(self.smin, new.smin),
            smax: up_s(self.smax, new.smax),
            u32min: dn_u(u64::from(self.u32min), u64::from(new.u32min)) as u32,
            u32max: up_u(u64::from(self.u32max), u64::from(new.u32max)).min(u64::from(u32::MAX))
                as u32,
            s32min: dn_s(i64::from(self.s32min), i64::from(new.s32min)).max(i64::from(i32::MIN))
                as i32,
            s32max: up_s(i64::from(self.s32max), i64::from(new.s32max)).min(i64::from(i32::MAX))
                as i32,
        };
        w.synced().unwrap_or(Self::TOP)
    }
}

/// Widening thresholds: sorted candidate bounds.
#[derive(Clone, Debug, Default)]
pub struct Thresholds {
    unsigned: Vec<u64>,
    signed: Vec<i64>,
}

impl Thresholds {
    /// Thresholds from program immediates plus the fixed set.
    #[must_use]
    pub fn new(immediates: impl IntoIterator<Item = i64>) -> Self {
        let mut signed: Vec<i64> = vec![
            0,
            1,
            512,
            i64::from(i32::MAX),
            i64::from(u32::MAX),
            i64::from(i32::MIN),
            -512,
        ];
        for v in immediates {
            signed.extend([v, v.saturating_add(1), v.saturating_sub(1)]);
        }
        signed.sort_unstable();
        signed.dedup();
        let mut unsigned: Vec<u64> = signed.iter().map(|&v| v as u64).collect();
        unsigned.extend([u64::from(u32::MAX), i64::MAX as u64]);
        unsigned.sort_unstable();
        unsigned.dedup();
        Self { unsigned, signed }
    }

    fn up_u(&self, n: u64) -> u64 {
        self.unsigned
            .iter()
            .copied()
            .find(|&t| t >= n)
            .unwrap_or(u64::MAX)
    }

    fn down_u(&self, n: u64) -> u64 {
        self.unsigned
            .iter()
            .rev()
            .copied()
            .find(|&t| t <= n)
            .unwrap_or(0)
    }

    fn up_s(&self, n: i64) -> i64 {
        self.signed
            .iter()
            .copied()
            .find(|&t| t >= n)
            .unwrap_or(i64::MAX)
    }

    fn down_s(&self, n: i64) -> i64 {
        self.signed
            .iter()
            .rev()
            .copied()
            .find(|&t| t <= n)
            .unwrap_or(i64::MIN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sync_is_consistent() {
        let s = Scalar::urange(0, 255);
        assert_eq!(s.smax, 255);
        assert_eq!(s.u32max, 255);
        assert!(s.contains(200));
        assert!(!s.contains(256));
        let n = Scalar::srange(-1, 1);
        assert!(n.contains(u64::MAX));
        assert!(n.contains(1));
        assert_eq!(Scalar::constant(7).as_const(), Some(7));
    }
}
