//! Ascending iterations assume what they check (as PREVAIL does): an access out of bounds
//! narrows its pointer to the in-bounds offsets instead of cutting the whole path.
//!
//! Why this is sound: states computed while a loop's invariant is being searched for ("soft"
//! passes, [`crate::fixpoint`]) are only candidates. The final pass re-runs every instruction
//! from the candidate with every check enforced and checks that what comes back to the head
//! is included in it, so a candidate that is not an invariant, or on which a check fails, is
//! never accepted. Narrowing only changes which candidate is found: a loop whose counter was
//! widened past its bound keeps the part of its pointer's range that can be in bounds (and,
//! through [`crate::domain::linrel`], the matching part of the counter), so the iteration can
//! find the invariant that the loop test would have given.

use apiary_vm::instruction::Reg;

use crate::domain::linrel::{self, tracked};
use crate::domain::{Scalar, State, Val};
use crate::error::RejectReason;

/// After an access through `base` with offset `off` failed with `r`: if it was out of bounds
/// of an object of fixed size, narrows `base` to the offsets in bounds (and what its relations
/// imply). Returns whether the access should be tried again; `false` leaves `s` to be cut.
pub fn in_bounds<T>(s: &mut State, r: &Result<T, RejectReason>, base: Reg, off: i16) -> bool {
    let Err(RejectReason::OutOfBounds { size, limit, .. }) = r else {
        return false;
    };
    let Val::Ptr(mut p) = s.regs[base.index()] else {
        return false;
    };
    if !tracked(&p) {
        return false;
    }
    let (Ok(size), off) = (i64::try_from(*size), i64::from(off)) else {
        return false;
    };
    let (lo, hi) = (-off, limit.saturating_sub(size).saturating_sub(off));
    if lo > hi {
        return false;
    }
    let Some(n) = p.off.meet(&Scalar::srange(lo, hi)) else {
        return false;
    };
    if n == p.off {
        return false;
    }
    p.off = n;
    s.regs[base.index()] = Val::Ptr(p);
    linrel::tighten(s).is_some()
}
