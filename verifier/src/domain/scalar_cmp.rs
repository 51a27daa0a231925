//! Refinement of scalars by a conditional jump: the values for which the condition holds.

use apiary_vm::instruction::{Cond, Width};

use super::scalar::Scalar;
use super::tnum::Tnum;

/// The condition that holds on the fall-through edge of a jump on `cond`.
#[must_use]
pub const fn negate(cond: Cond) -> Cond {
    match cond {
        Cond::Eq => Cond::Ne,
        Cond::Ne => Cond::Eq,
        Cond::Gt => Cond::Le,
        Cond::Le => Cond::Gt,
        Cond::Ge => Cond::Lt,
        Cond::Lt => Cond::Ge,
        Cond::Sgt => Cond::Sle,
        Cond::Sle => Cond::Sgt,
        Cond::Sge => Cond::Slt,
        Cond::Slt => Cond::Sge,
        // `Set` has no negation among the conditions; callers treat it specially.
        Cond::Set => Cond::Set,
    }
}

/// `a cond b` ⇔ `b swapped(cond) a`.
#[must_use]
pub const fn swap(cond: Cond) -> Cond {
    match cond {
        Cond::Gt => Cond::Lt,
        Cond::Lt => Cond::Gt,
        Cond::Ge => Cond::Le,
        Cond::Le => Cond::Ge,
        Cond::Sgt => Cond::Slt,
        Cond::Slt => Cond::Sgt,
        Cond::Sge => Cond::Sle,
        Cond::Sle => Cond::Sge,
        c => c,
    }
}

/// Interval view of one width and signedness, in i128.
#[derive(Clone, Copy)]
struct View {
    lo: i128,
    hi: i128,
}

fn get(s: &Scalar, width: Width, signed: bool) -> View {
    let (lo, hi) = match (width, signed) {
        (Width::W64, false) => (i128::from(s.umin), i128::from(s.umax)),
        (Width::W64, true) => (i128::from(s.smin), i128::from(s.smax)),
        (Width::W32, false) => (i128::from(s.u32min), i128::from(s.u32max)),
        (Width::W32, true) => (i128::from(s.s32min), i128::from(s.s32max)),
    };
    View { lo, hi }
}

fn set(s: &mut Scalar, width: Width, signed: bool, v: View) -> Option<()> {
    if v.lo > v.hi {
        return None;
    }
    match (width, signed) {
        (Width::W64, false) => {
            s.umin = v.lo as u64;
            s.umax = v.hi as u64;
        }
        (Width::W64, true) => {
            s.smin = v.lo as i64;
            s.smax = v.hi as i64;
        }
        (Width::W32, false) => {
            s.u32min = v.lo as u32;
            s.u32max = v.hi as u32;
        }
        (Width::W32, true) => {
            s.s32min = v.lo as i32;
            s.s32max = v.hi as i32;
        }
    }
    Some(())
}

/// Refines `a` and `b` assuming `a cond b` holds (`holds = true`) or fails. Returns `None`
/// when that is impossible.
#[must_use]
pub fn refine(
    cond: Cond,
    width: Width,
    a: &Scalar,
    b: &Scalar,
    holds: bool,
) -> Option<(Scalar, Scalar)> {
    let (mut a, mut b) = (*a, *b);
    if cond == Cond::Set {
        refine_set(width, &mut a, &b, holds)?;
        return Some((a.synced()?, b));
    }
    let cond = if holds { cond } else { negate(cond) };
    let signed = matches!(cond, Cond::Sgt | Cond::Sge | Cond::Slt | Cond::Sle);
    let (va, vb) = (get(&a, width, signed), get(&b, width, signed));
    match cond {
        Cond::Eq => {
            let m = View {
                lo: va.lo.max(vb.lo),
                hi: va.hi.min(vb.hi),
            };
            set(&mut a, width, false, m)?;
            set(&mut b, width, false, m)?;
            let (ta, tb) = match width {
                Width::W64 => (a.t, b.t),
                Width::W32 => (a.t.truncate(32), b.t.truncate(32)),
            };
            let t = ta.intersect(tb)?;
            let keep_hi = |x: Tnum| match width {
                Width::W64 => t,
                Width::W32 => Tnum {
                    value: (x.value & !0xffff_ffff) | t.value,
                    mask: (x.mask & !0xffff_ffff) | t.mask,
                },
            };
            a.t = keep_hi(a.t);
            b.t = keep_hi(b.t);
            // Signed views must agree too.
            let (sa, sb) = (get(&a, width, true), get(&b, width, true));
            let sm = View {
                lo: sa.lo.max(sb.lo),
                hi: sa.hi.min(sb.hi),
            };
            set(&mut a, width, true, sm)?;
            set(&mut b, width, true, sm)?;
        }
        Cond::Ne => {
            for signed in [false, true] {
                let (va, vb) = (get(&a, width, signed), get(&b, width, signed));
                if va.lo == va.hi && vb.lo == vb.hi && va.lo == vb.lo {
                    return None;
                }
                if vb.lo == vb.hi {
                    let mut n = va;
                    if n.lo == vb.lo {
                        n.lo += 1;
                    }
                    if n.hi == vb.lo {
                        n.hi -= 1;
                    }
                    set(&mut a, width, signed, n)?;
                }
                if va.lo == va.hi {
                    let mut n = get(&b, width, signed);
                    if n.lo == va.lo {
                        n.lo += 1;
                    }
                    if n.hi == va.lo {
                        n.hi -= 1;
                    }
                    set(&mut b, width, signed, n)?;
                }
            }
        }
        Cond::Lt | Cond::Slt => {
            set(
                &mut a,
                width,
                signed,
                View {
                    lo: va.lo,
                    hi: va.hi.min(vb.hi - 1),
                },
            )?;
            set(
                &mut b,
                width,
                signed,
                View {
                    lo: vb.lo.max(va.lo + 1),
                    hi: vb.hi,
                },
            )?;
        }
        Cond::Le | Cond::Sle => {
            set(
                &mut a,
                width,
                signed,
                View {
                    lo: va.lo,
                    hi: va.hi.min(vb.hi),
                },
            )?;
            set(
                &mut b,
                width,
                signed,
                View {
                    lo: vb.lo.max(va.lo),
                    hi: vb.hi,
                },
            )?;
        }
        Cond::Gt | Cond::Sgt => {
            set(
                &mut a,
                width,
                signed,
                View {
                    lo: va.lo.max(vb.lo + 1),
                    hi: va.hi,
                },
            )?;
            set(
                &mut b,
                width,
                signed,
                View {
                    lo: vb.lo,
                    hi: vb.hi.min(va.hi - 1),
                },
            )?;
        }
        Cond::Ge | Cond::Sge => {
            set(
                &mut a,
                width,
                signed,
                View {
                    lo: va.lo.max(vb.lo),
                    hi: va.hi,
                },
            )?;
            set(
                &mut b,
                width,
                signed,
                View {
                    lo: vb.lo,
                    hi: vb.hi.min(va.hi),
                },
            )?;
        }
        Cond::Set => {}
    }
    Some((a.synced()?, b.synced()?))
}

fn refine_set(width: Width, a: &mut Scalar, b: &Scalar, holds: bool) -> Option<()> {
    let Some(c) = b.as_const() else {
        return Some(());
    };
    let c = if width == Width::W32 {
        c & 0xffff_ffff
    } else {
        c
    };
    if holds {
        // Some bit of c is one: impossible if all of them are known zero.
        if (a.t.value | a.t.mask) & c == 0 {
            return None;
        }
        if c.count_ones() == 1 {
            a.t = a.t.intersect(Tnum { value: c, mask: !c })?;
        }
    } else {
        if a.t.value & c != 0 {
            return None;
        }
        a.t = Tnum {
            value: a.t.value & !c,
            mask: a.t.mask & !c,
        };
    }
    Some(())
}

/// Whether `a cond b` is certainly true (`Some(true)`), certainly false, or unknown.
#[must_use]
pub fn decide(cond: Cond, width: Width, a: &Scalar, b: &Scalar) -> Option<bool> {
    match (
        refine(cond, width, a, b, true),
        refine(cond, width, a, b, false),
    ) {
        (None, Some(_)) => Some(false),
        (Some(_), None) => Some(true),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use apiary_vm::semantics::condition;

    #[test]
    fn refine_is_sound_on_samples() {
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
            Cond::Set,
        ];
        let vals = [
            0u64,
            1,
            5,
            10,
            0x7fff_ffff,
            0x8000_0000,
            u64::MAX,
            u64::MAX - 3,
            1 << 63,
        ];
        for &c in &conds {
            for w in [Width::W32, Width::W64] {
                for &x in &vals {
                    for &y in &vals {
                        let a = Scalar::urange(x.min(y), x.max(y));
                        let b = Scalar::constant(y);
                        for v in [x.min(y), x.max(y)] {
                            let holds = condition(c, w, v, y);
                            let r = refine(c, w, &a, &b, holds);
                            let (ra, _) =
                                r.unwrap_or_else(|| panic!("{c:?} {w:?} {v} {y} infeasible"));
                            assert!(ra.contains(v), "{c:?} {w:?} {v} {y} {holds}: {ra:?}");
                        }
                    }
                }
            }
        }
    }
}
