//! Linear relations between two registers, `val(a) - k·val(b) ∈ [lo, hi]`, or three,
//! `val(a) - val(b) - val(c) ∈ [lo, hi]`.
//!
//! The other domains are non-relational, so a loop that advances a pointer and a counter
//! together (`p += 8; i += 1; while i < n`) loses the fact that `p` is `8·i` from its start, and
//! the access through `p` is rejected although every trip is in bounds. A relation keeps it.
//!
//! **Meaning.** `val` of a number is its *unsigned* value, of a pointer into a region with a
//! plain offset ([`tracked`]) its *signed* offset; the relation holds over the mathematical
//! integers (no wrap-around), which is why every rule that moves a value checks, on the state
//! before the instruction, that no value of its range wraps in that reading.
//!
//! **Where relations come from.**
//! - `mov dst, src` (64-bit): `dst - src ∈ [0, 0]`, and every relation of `src` is copied to
//!   `dst` (the two hold the same value).
//! - At a join (`lines`), typically of a loop's entry state with the state after its first
//!   trip: when both registers are constants in both states, the line through the two points
//!   is a relation that holds in both, so it holds in their join.
//!
//! - `dst += src` (64-bit, `src` a number, no wrap in `dst`'s reading, checked on the ranges
//!   before): a `dst` that held a constant `K` gives `dst - src ∈ [K, K]`; a relation
//!   `dst - b ∈ [lo, hi]` (`k = 1`) becomes the three-register `dst - b - src ∈ [lo, hi]`
//!   (`b - dst` likewise, negated). This is how a record walk keeps its bound: the next offset
//!   is the record's pointer plus a length read from the record (`next = p + n + 2`), and once
//!   `next <= len` and `n >= 14` are tested, `p <= len - 16` follows.
//!
//! **How they move.** `dst ± c` (64-bit immediate, no wrap in `dst`'s reading, checked on the
//! range before) shifts `dst`'s relations by `c` (`k·c` when `dst` is the second register).
//! Any other write to a register forgets its relations; calls forget all of them (the callee's
//! registers are another frame's).
//!
//! **How they are used.** After a branch refines a register, [`tighten`] meets each side of a
//! relation with what the other side and the relation allow (`a ∈ k·b + [lo, hi]`,
//! `b ∈ (a − [lo, hi]) / k`, rounded inwards): each concrete state satisfies the relation, so
//! no concrete value is lost; an empty meet means the edge cannot be taken.
//!
//! **Joins.** A relation known on one side is checked against the other side's own relation
//! or, failing that, the bound its intervals imply; the result is the hull of both (it holds in
//! each state, so in their union). Widening keeps a relation only if the new bound lies within
//! the old one, so relations never grow during the ascending iterations and the set can only
//! shrink: together with the widened intervals this terminates.

use super::scalar::Scalar;
use super::value::{Ptr, Region, Val};
use super::State;

/// Most relations kept in one state.
pub const MAX_RELS: usize = 12;
/// Largest coefficient `|k|` a loop-head line may have.
pub const MAX_K: i64 = 1 << 16;

/// No third register in a [`Rel`].
pub const NONE: u8 = u8::MAX;

/// `val(a) - k·val(b) - val(c) ∈ [lo, hi]` over the integers (see the module comment); `c` is
/// [`NONE`] in a two-register relation (then `val(c)` reads as 0), and `k` is 1 when it is not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Rel {
    /// First register.
    pub a: u8,
    /// Second register.
    pub b: u8,
    /// Third register, subtracted (or [`NONE`]).
    pub c: u8,
    /// Coefficient of the second register (never 0).
    pub k: i64,
    /// Lower bound of `val(a) - k·val(b)`.
    pub lo: i64,
    /// Upper bound.
    pub hi: i64,
}

impl Rel {
    /// The relation in its canonical orientation: with `|k| = 1` the lower register first, so
    /// that a relation and its mirror image are one entry.
    #[must_use]
    pub fn new(a: u8, b: u8, k: i64, lo: i128, hi: i128) -> Option<Self> {
        if a == b || k == 0 || a > 9 || b > 9 || lo > hi {
            return None;
        }
        let (a, b, lo, hi) = match k {
            1 if a > b => (b, a, -hi, -lo),
            -1 if a > b => (b, a, lo, hi),
            _ => (a, b, lo, hi),
        };
        Some(Self {
            a,
            b,
            c: NONE,
            k,
            lo: i64::try_from(lo).ok()?,
            hi: i64::try_from(hi).ok()?,
        })
    }

    /// `val(a) - val(b) - val(c) ∈ [lo, hi]`, `b` and `c` in canonical order.
    #[must_use]
    pub fn new3(a: u8, b: u8, c: u8, lo: i128, hi: i128) -> Option<Self> {
        if a == b || a == c || b == c || a > 9 || b > 9 || c > 9 || lo > hi {
            return None;
        }
        Some(Self {
            a,
            b: b.min(c),
            c: b.max(c),
            k: 1,
            lo: i64::try_from(lo).ok()?,
            hi: i64::try_from(hi).ok()?,
        })
    }

    /// The same registers with other bounds.
    fn with_bounds(&self, lo: i128, hi: i128) -> Option<Self> {
        if self.ternary() {
            Self::new3(self.a, self.b, self.c, lo, hi)
        } else {
            Self::new(self.a, self.b, self.k, lo, hi)
        }
    }

    /// Whether this relation has a third register.
    #[must_use]
    pub const fn ternary(&self) -> bool {
        self.c != NONE
    }

    fn key(&self) -> (u8, u8, u8, i64) {
        (self.a, self.b, self.c, self.k)
    }

    fn mentions(&self, r: u8) -> bool {
        self.a == r || self.b == r || (self.ternary() && self.c == r)
    }

    fn regs_ok(&self, regs: &[Val; 11]) -> bool {
        range(&regs[usize::from(self.a)]).is_some()
            && range(&regs[usize::from(self.b)]).is_some()
            && (!self.ternary() || range(&regs[usize::from(self.c)]).is_some())
    }
}

/// Pointers whose offset is a plain offset from the start of one object. Packet pointers have
/// their own symbolic bases and are left to that machinery; stack pointers are left out too:
/// a loop filling the stack through a moving pointer needs the strong updates of a trip-by-trip
/// run ([`crate::unroll_full`], which a failing invariant triggers), not a relational invariant
/// whose variable-offset stores leave the slots possibly uninitialised after the loop.
#[must_use]
pub fn tracked(p: &Ptr) -> bool {
    p.null.is_none()
        && matches!(
            p.region,
            Region::Input { .. } | Region::MapValue { .. } | Region::Ringbuf { .. }
        )
}

/// The range of `val(v)`: unsigned value of a number, signed offset of a tracked pointer.
#[must_use]
pub fn range(v: &Val) -> Option<(i128, i128)> {
    match v {
        Val::Scalar(x) => Some((x.umin.into(), x.umax.into())),
        Val::Ptr(p) if tracked(p) => Some((p.off.smin.into(), p.off.smax.into())),
        _ => None,
    }
}

/// The bound of `r`'s expression implied by the intervals of `s`.
fn derived_rel(s: &State, r: &Rel) -> Option<(i128, i128)> {
    let (lo, hi) = derived(s, r.a, r.b, r.k)?;
    if !r.ternary() {
        return Some((lo, hi));
    }
    let (clo, chi) = range(&s.regs[usize::from(r.c)])?;
    Some((lo - chi, hi - clo))
}

/// The bound of `a - k·b` implied by the intervals of `s`.
fn derived(s: &State, a: u8, b: u8, k: i64) -> Option<(i128, i128)> {
    let (alo, ahi) = range(&s.regs[usize::from(a)])?;
    let (blo, bhi) = range(&s.regs[usize::from(b)])?;
    let k = i128::from(k);
    let (klo, khi) = if k > 0 {
        (k * blo, k * bhi)
    } else {
        (k * bhi, k * blo)
    };
    Some((alo - khi, ahi - klo))
}

/// The bound of `r`'s expression in `s`: its own relation, else the intervals'.
fn bound(s: &State, r: &Rel) -> Option<(i128, i128)> {
    match s.rels.iter().find(|q| q.key() == r.key()) {
        Some(q) => Some((q.lo.into(), q.hi.into())),
        None => derived_rel(s, r),
    }
}

/// How two states' relations combine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Least upper bound: every relation either side has, with the hull of the bounds.
    Join,
    /// Widening of the first (old) state: its relations whose bound the second keeps.
    Widen,
    /// A loop head joined with a state coming back: the head's relations (hull), the lines
    /// through constants of both, and the returning state's relations only while the head
    /// holds constants they move (`fresh_at_head`), so that the inclusion test
    /// `head.join_at_head(back) == head` can succeed.
    Head,
}

/// The relations of the join of `x` and `y`, whose registers are `regs`.
#[must_use]
pub fn join(x: &State, y: &State, regs: &[Val; 11], mode: Mode) -> Vec<Rel> {
    if mode == Mode::Widen && x.rels.is_empty() {
        return Vec::new();
    }
    let ok = |r: &Rel| r.regs_ok(regs);
    let mut out: Vec<Rel> = Vec::new();
    for r in x.rels.iter().filter(|r| ok(r)) {
        let Some((olo, ohi)) = bound(y, r) else {
            continue;
        };
        if mode == Mode::Widen {
            if olo >= i128::from(r.lo) && ohi <= i128::from(r.hi) {
                out.push(*r);
            }
        } else if let Some(n) = r.with_bounds(olo.min(r.lo.into()), ohi.max(r.hi.into())) {
            out.push(n);
        }
    }
    if mode != Mode::Widen {
        for r in y.rels.iter().filter(|r| ok(r)) {
            if x.rels.iter().any(|q| q.key() == r.key()) {
                continue;
            }
            if mode == Mode::Head && !fresh_at_head(x, y, r) {
                continue;
            }
            if let Some((olo, ohi)) = derived_rel(x, r) {
                if let Some(n) = r.with_bounds(olo.min(r.lo.into()), ohi.max(r.hi.into())) {
                    out.push(n);
                }
            }
        }
    }
    lines(x, y, regs, &mut out);
    out.truncate(MAX_RELS);
    out
}

/// Whether the head `x` may take the relation `r` of the returning state `y`: only while the
/// head holds constants in both registers and `y` moves one of them (so the join changes the
/// head's intervals anyway, and a head whose registers stopped being constants never takes
/// one: the ascending iterations still end).
fn fresh_at_head(x: &State, y: &State, r: &Rel) -> bool {
    if r.ternary() {
        return false;
    }
    let (a, b) = (usize::from(r.a), usize::from(r.b));
    match (constant(&x.regs[a]), constant(&x.regs[b])) {
        (Some(ca), Some(cb)) => {
            range(&y.regs[a]) != Some((ca, ca)) || range(&y.regs[b]) != Some((cb, cb))
        }
        _ => false,
    }
}

fn constant(v: &Val) -> Option<i128> {
    range(v).and_then(|(lo, hi)| (lo == hi).then_some(lo))
}

/// Lines through two points: registers `a`, `b` constant in both states, at `(a0, b0)` and
/// `(a1, b1)` with `b0 != b1` and `a1 - a0` a multiple `k` of `b1 - b0`: `a - k·b` is the same
/// constant in both states. (Both states hold one value per register, so the relation holds
/// in each, and in their join.)
fn lines(x: &State, y: &State, regs: &[Val; 11], out: &mut Vec<Rel>) {
    let pts: Vec<(u8, i128, i128)> = (0..10u8)
        .filter_map(|r| {
            let i = usize::from(r);
            range(&regs[i])?;
            Some((r, constant(&x.regs[i])?, constant(&y.regs[i])?))
        })
        .collect();
    for &(a, a0, a1) in &pts {
        for &(b, b0, b1) in &pts {
            if a == b || b0 == b1 || a0 == a1 || out.len() >= MAX_RELS {
                continue;
            }
            let (da, db) = (a1 - a0, b1 - b0);
            if da % db != 0 {
                continue;
            }
            let k = da / db;
            if k.abs() > i128::from(MAX_K) {
                continue;
            }
            let c = a0 - k * b0;
            if let Some(r) = Rel::new(a, b, k as i64, c, c) {
                if !out.iter().any(|q| q.key() == r.key()) {
                    out.push(r);
                }
            }
        }
    }
}

fn floor_div(x: i128, k: i128) -> i128 {
    let q = x / k;
    if x % k != 0 && ((x < 0) != (k < 0)) {
        q - 1
    } else {
        q
    }
}

fn ceil_div(x: i128, k: i128) -> i128 {
    -floor_div(-x, k)
}

/// Meets `v` with `val ∈ [lo, hi]`: `None` when empty, else whether it changed.
fn meet(v: &mut Val, lo: i128, hi: i128) -> Option<bool> {
    let (vlo, vhi) = range(v)?;
    if lo <= vlo && hi >= vhi {
        return Some(false);
    }
    let (lo, hi) = (lo.max(vlo), hi.min(vhi));
    if lo > hi {
        return None;
    }
    match v {
        Val::Scalar(x) => {
            *x = x.meet(&Scalar::urange(
                u64::try_from(lo).ok()?,
                u64::try_from(hi).ok()?,
            ))?;
        }
        Val::Ptr(p) => {
            p.off = p.off.meet(&Scalar::srange(
                i64::try_from(lo).ok()?,
                i64::try_from(hi).ok()?,
            ))?;
        }
        _ => return Some(false),
    }
    Some(true)
}

/// Narrows the registers of `s` by its relations (see the module comment); `None` when they
/// contradict each other (no concrete state).
pub fn tighten(s: &mut State) -> Option<()> {
    if s.rels.is_empty() {
        return Some(());
    }
    for _ in 0..2 {
        let mut changed = false;
        for i in 0..s.rels.len() {
            let r = s.rels[i];
            if r.ternary() {
                changed |= tighten3(s, &r)?;
                continue;
            }
            let (ai, bi) = (usize::from(r.a), usize::from(r.b));
            let (Some((alo, ahi)), Some((blo, bhi))) = (range(&s.regs[ai]), range(&s.regs[bi]))
            else {
                continue;
            };
            let k = i128::from(r.k);
            let (lo, hi) = (i128::from(r.lo), i128::from(r.hi));
            let (klo, khi) = if k > 0 {
                (k * blo, k * bhi)
            } else {
                (k * bhi, k * blo)
            };
            changed |= meet(&mut s.regs[ai], klo + lo, khi + hi)?;
            let (nlo, nhi) = (alo - hi, ahi - lo);
            let (b_lo, b_hi) = if k > 0 {
                (ceil_div(nlo, k), floor_div(nhi, k))
            } else {
                (ceil_div(nhi, k), floor_div(nlo, k))
            };
            changed |= meet(&mut s.regs[bi], b_lo, b_hi)?;
        }
        if !changed {
            break;
        }
    }
    Some(())
}

/// [`tighten`] for a three-register relation `a - b - c ∈ [lo, hi]`.
fn tighten3(s: &mut State, r: &Rel) -> Option<bool> {
    let (ai, bi, ci) = (usize::from(r.a), usize::from(r.b), usize::from(r.c));
    let (Some((alo, ahi)), Some((blo, bhi)), Some((clo, chi))) =
        (range(&s.regs[ai]), range(&s.regs[bi]), range(&s.regs[ci]))
    else {
        return Some(false);
    };
    let (lo, hi) = (i128::from(r.lo), i128::from(r.hi));
    let mut changed = meet(&mut s.regs[ai], blo + clo + lo, bhi + chi + hi)?;
    changed |= meet(&mut s.regs[bi], alo - chi - hi, ahi - clo - lo)?;
    changed |= meet(&mut s.regs[ci], alo - bhi - hi, ahi - blo - lo)?;
    Some(changed)
}

/// `dst` became `dst + src` exactly (a number `src`, no wrap; `dst_const`: `dst`'s value
/// before when it was one): the relations of the module comment, replacing `dst`'s.
pub fn add_reg(s: &mut State, dst: u8, src: u8, dst_const: Option<i128>) {
    let mut add: Vec<Rel> = Vec::new();
    if let Some(k) = dst_const {
        add.extend(Rel::new(dst, src, 1, k, k));
    }
    for q in s
        .rels
        .iter()
        .filter(|q| !q.ternary() && q.k == 1 && !q.mentions(src))
    {
        if q.a == dst {
            add.extend(Rel::new3(dst, q.b, src, q.lo.into(), q.hi.into()));
        } else if q.b == dst {
            add.extend(Rel::new3(
                dst,
                q.a,
                src,
                -i128::from(q.hi),
                -i128::from(q.lo),
            ));
        }
    }
    forget(s, dst);
    for n in add {
        if s.rels.len() >= MAX_RELS {
            break;
        }
        if !s.rels.iter().any(|q| q.key() == n.key()) {
            s.rels.push(n);
        }
    }
}

/// On the edge where the 64-bit unsigned test `a cond b` holds (numbers both, refined
/// already): `a - b ∈ [1, ∞)` for `>`, and so on, met with what the intervals allow (so that
/// the bound fits). A length checked against a remaining size (`if (plen > rest) drop`) keeps
/// the order for when either is refined later, and through [`tighten`] the pointer related to
/// `rest`.
pub fn learn_order(s: &mut State, a: u8, b: u8, cond: apiary_vm::instruction::Cond) {
    use apiary_vm::instruction::Cond;
    if a == b || a > 9 || b > 9 {
        return;
    }
    let (Val::Scalar(_), Val::Scalar(_)) = (&s.regs[usize::from(a)], &s.regs[usize::from(b)])
    else {
        return;
    };
    let Some((dlo, dhi)) = derived(s, a, b, 1) else {
        return;
    };
    let (lo, hi) = match cond {
        Cond::Gt => (dlo.max(1), dhi),
        Cond::Ge => (dlo.max(0), dhi),
        Cond::Lt => (dlo, dhi.min(-1)),
        Cond::Le => (dlo, dhi.min(0)),
        _ => return,
    };
    let Some(mut n) = Rel::new(a, b, 1, lo, hi) else {
        return;
    };
    if let Some(i) = s.rels.iter().position(|q| q.key() == n.key()) {
        let q = s.rels[i];
        match Rel::new(n.a, n.b, 1, n.lo.max(q.lo).into(), n.hi.min(q.hi).into()) {
            Some(m) => n = m,
            None => return,
        }
        s.rels[i] = n;
    } else if s.rels.len() < MAX_RELS {
        s.rels.push(n);
    }
}

/// Forgets every relation of register `r`, keeping what they imply together about the other
/// registers: two relations in which `r` has opposite signs add up to one without it
/// (`a - r ∈ I` and `r - b ∈ J` give `a - b ∈ I + J`; likewise with a third register), kept
/// when it is again a relation of this domain. Both held before the write, so their sum does,
/// and it does not mention `r`. A pointer's bound survives the register it was related to
/// being reused (`rest >= plen`, then `rest` overwritten: the pointer is now related to `plen`).
pub fn forget(s: &mut State, r: u8) {
    if !s.rels.iter().any(|q| q.mentions(r)) {
        return;
    }
    let mut add: Vec<Rel> = Vec::new();
    for (i, x) in s.rels.iter().enumerate() {
        let Some(fx) = form(x) else { continue };
        let Some(cx) = coef(&fx, r) else { continue };
        for y in &s.rels[i + 1..] {
            let Some(fy) = form(y) else { continue };
            if coef(&fy, r) != Some(-cx) {
                continue;
            }
            let mut terms: Vec<(u8, i8)> = Vec::new();
            for &(reg, c) in fx.iter().chain(fy.iter()) {
                match terms.iter_mut().find(|(t, _)| *t == reg) {
                    Some((_, k)) => *k += c,
                    None => terms.push((reg, c)),
                }
            }
            terms.retain(|&(_, c)| c != 0);
            let (lo, hi) = (
                i128::from(x.lo) + i128::from(y.lo),
                i128::from(x.hi) + i128::from(y.hi),
            );
            let pos: Vec<u8> = terms.iter().filter(|t| t.1 == 1).map(|t| t.0).collect();
            let neg: Vec<u8> = terms.iter().filter(|t| t.1 == -1).map(|t| t.0).collect();
            if pos.len() + neg.len() != terms.len() {
                continue;
            }
            let n = match (&pos[..], &neg[..]) {
                ([p], [n]) => Rel::new(*p, *n, 1, lo, hi),
                ([p], [n1, n2]) => Rel::new3(*p, *n1, *n2, lo, hi),
                ([p1, p2], [n]) => Rel::new3(*n, *p1, *p2, -hi, -lo),
                _ => None,
            };
            add.extend(n);
        }
    }
    s.rels.retain(|q| !q.mentions(r));
    for n in add {
        if s.rels.len() >= MAX_RELS {
            break;
        }
        if !s.rels.iter().any(|q| q.key() == n.key()) {
            s.rels.push(n);
        }
    }
}

/// A relation with unit coefficients as its terms: `(register, ±1)`.
fn form(q: &Rel) -> Option<Vec<(u8, i8)>> {
    match (q.ternary(), q.k) {
        (true, _) => Some(vec![(q.a, 1), (q.b, -1), (q.c, -1)]),
        (false, 1) => Some(vec![(q.a, 1), (q.b, -1)]),
        _ => None,
    }
}

fn coef(f: &[(u8, i8)], r: u8) -> Option<i8> {
    f.iter().find(|t| t.0 == r).map(|t| t.1)
}

/// `val(r)` became `val(r) + c` exactly (no wrap): shifts `r`'s relations.
pub fn shift(s: &mut State, r: u8, c: i128) {
    let rels = std::mem::take(&mut s.rels);
    s.rels = rels
        .into_iter()
        .filter_map(|q| {
            let d = if q.a == r {
                c
            } else if q.b == r {
                -i128::from(q.k) * c
            } else if q.ternary() && q.c == r {
                -c
            } else {
                return Some(q);
            };
            Some(Rel {
                lo: i64::try_from(i128::from(q.lo) + d).ok()?,
                hi: i64::try_from(i128::from(q.hi) + d).ok()?,
                ..q
            })
        })
        .collect();
}

/// `dst` now holds a copy of `src` (`dst`'s old relations already forgotten): `dst - src = 0`
/// and `src`'s relations for `dst`.
pub fn copy(s: &mut State, dst: u8, src: u8) {
    if range(&s.regs[usize::from(dst)]).is_none() {
        return;
    }
    let mut add: Vec<Rel> = Vec::new();
    for q in &s.rels {
        let n = if q.ternary() {
            if q.a == src {
                Rel::new3(dst, q.b, q.c, q.lo.into(), q.hi.into())
            } else if q.b == src {
                Rel::new3(q.a, dst, q.c, q.lo.into(), q.hi.into())
            } else if q.c == src {
                Rel::new3(q.a, q.b, dst, q.lo.into(), q.hi.into())
            } else {
                None
            }
        } else if q.a == src {
            Rel::new(dst, q.b, q.k, q.lo.into(), q.hi.into())
        } else if q.b == src {
            Rel::new(q.a, dst, q.k, q.lo.into(), q.hi.into())
        } else {
            None
        };
        add.extend(n);
    }
    add.extend(Rel::new(dst, src, 1, 0, 0));
    for n in add {
        if s.rels.len() >= MAX_RELS {
            break;
        }
        if !s.rels.iter().any(|q| q.key() == n.key()) {
            s.rels.push(n);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(vals: &[(usize, u64)]) -> State {
        let mut s = State::entry();
        for &(r, v) in vals {
            s.regs[r] = Val::constant(v);
        }
        s
    }

    #[test]
    fn line_through_two_points() {
        let x = st(&[(1, 0), (3, 0)]);
        let y = st(&[(1, 8), (3, 1)]);
        let j = x.join_at_head(&y);
        assert!(j.rels.contains(&Rel {
            a: 1,
            b: 3,
            c: NONE,
            k: 8,
            lo: 0,
            hi: 0
        }));
    }

    #[test]
    fn tighten_both_ways() {
        let mut s = st(&[]);
        s.regs[1] = Val::Scalar(Scalar::urange(0, 1000));
        s.regs[3] = Val::Scalar(Scalar::urange(0, 10));
        s.rels.push(Rel {
            a: 1,
            b: 3,
            c: NONE,
            k: 8,
            lo: 0,
            hi: 0,
        });
        assert!(tighten(&mut s).is_some());
        assert_eq!(s.regs[1].scalar().map(|x| x.umax), Some(80));
        s.regs[1] = Val::Scalar(Scalar::urange(0, 20));
        assert!(tighten(&mut s).is_some());
        assert_eq!(s.regs[3].scalar().map(|x| x.umax), Some(2));
        s.regs[1] = Val::Scalar(Scalar::urange(3, 7));
        assert!(tighten(&mut s).is_none());
    }

    #[test]
    fn widening_drops_a_growing_bound() {
        let mut x = st(&[(1, 0), (3, 0)]);
        x.rels.extend(Rel::new(1, 3, 1, 0, 0));
        let mut y = x.clone();
        y.rels[0].hi = 1;
        let th = crate::domain::Thresholds::new([]);
        assert!(x.join(&y, Some(&th)).rels.is_empty());
        assert_eq!(x.join(&y, None).rels[0].hi, 1);
    }
}
