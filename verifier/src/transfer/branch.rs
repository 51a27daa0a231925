//! Conditional jumps: the state on each edge, refined by the condition; `None` for an edge
//! that cannot be taken. Null tests refine every copy of a pointer; packet comparisons against
//! `data_end` raise the proven packet range.

use apiary_vm::instruction::{Cond, Operand, Reg, Width};

use super::{operand, read, type_name, Env};
use crate::domain::pkt_guard;
use crate::domain::scalar_cmp::{negate, refine, swap};
use crate::domain::value::{ANON_NULL, ANON_PKT};
use crate::domain::{Ptr, Region, Scalar, State, Val};
use crate::error::RejectReason;

/// The (fall-through, taken) states of `if dst cond src`.
///
/// # Errors
/// Uninitialised operands, comparisons involving pointers that are not allowed.
pub fn branch(
    env: &Env<'_>,
    pc: usize,
    s: &State,
    cond: Cond,
    width: Width,
    dst: Reg,
    src: Operand,
) -> Result<(Option<State>, Option<State>), RejectReason> {
    let a = read(s, dst)?;
    let b = operand(s, src, width)?;
    let src_reg = match src {
        Operand::Reg(r) => Some(r),
        Operand::Imm(_) => None,
    };
    if let (Some(x), Some(y)) = (a.scalar(), b.scalar()) {
        let edge = |holds: bool| -> Option<State> {
            let (nx, ny) = refine(cond, width, x, y, holds)?;
            let mut t = s.clone();
            set_scalar(&mut t, dst, &a, nx, width);
            refine_copies(&mut t, dst, &nx)?;
            if let Some(r) = src_reg {
                set_scalar(&mut t, r, &b, ny, width);
                refine_copies(&mut t, r, &ny)?;
                if width == Width::W64 {
                    let ec = if holds { Some(cond) } else { negated(cond) };
                    if let Some(ec) = ec {
                        learn_len(pc, &mut t, dst, &a, r, &b, ec);
                        crate::domain::linrel::learn_order(
                            &mut t,
                            dst.index() as u8,
                            r.index() as u8,
                            ec,
                        );
                    }
                }
            }
            crate::domain::linrel::tighten(&mut t)?;
            pkt_guard::promote(&mut t);
            Some(t)
        };
        return Ok((edge(false), edge(true)));
    }
    if width == Width::W32 {
        // The low halves of a pointer say nothing about it: a 32-bit test is no null test
        // and no packet bound. Unprivileged types may not compare pointers that way at all;
        // privileged ones may, learning nothing, except for a null test of a possibly-null
        // pointer (its 'null' edge would hold a non-null pointer).
        let maybe_null = |v: &Val| matches!(v, Val::Ptr(p) if p.null.is_some());
        let zero = |v: &Val| v.scalar().is_some_and(|z| z.as_const() == Some(0));
        let null_test = (maybe_null(&a) && zero(&b)) || (maybe_null(&b) && zero(&a));
        if !env.privileged() || null_test {
            return Err(RejectReason::PointerComparison {
                detail: "32-bit comparison of a pointer".into(),
            });
        }
        return Ok((Some(s.clone()), Some(s.clone())));
    }
    // Orient: pointer on the left.
    let (p_reg, pv, other_reg, ov, c) = if matches!(a, Val::Ptr(_)) || b.scalar().is_some() {
        (Some(dst), a, src_reg, b, cond)
    } else {
        (src_reg, b, Some(dst), a, swap(cond))
    };
    let edge_cond = |holds: bool| {
        if holds {
            Some(c)
        } else if c == Cond::Set {
            None
        } else {
            Some(negate(c))
        }
    };
    match (&pv, &ov) {
        (Val::Ptr(p), Val::Scalar(z))
            if z.as_const() == Some(0) && matches!(c, Cond::Eq | Cond::Ne) =>
        {
            let edge = |holds: bool| -> Option<State> {
                let is_null = edge_cond(holds) == Some(Cond::Eq);
                null_edge(s, p_reg, p, is_null)
            };
            Ok((edge(false), edge(true)))
        }
        // Map handles and function addresses are never null.
        (Val::MapPtr(_) | Val::Func(_), Val::Scalar(z))
            if z.as_const() == Some(0) && matches!(c, Cond::Eq | Cond::Ne) =>
        {
            let edge = |holds: bool| (edge_cond(holds) != Some(Cond::Eq)).then(|| s.clone());
            Ok((edge(false), edge(true)))
        }
        (Val::Ptr(p), Val::Ptr(q)) => {
            let edge = |holds: bool| -> Option<State> {
                let mut t = s.clone();
                if let Some(ec) = edge_cond(holds) {
                    learn_packet(&mut t, p, q, ec);
                }
                Some(t)
            };
            if !env.privileged() && !comparable(&p.region, &q.region) {
                return Err(RejectReason::PointerComparison {
                    detail: format!("{} with {}", type_name(&pv), type_name(&ov)),
                });
            }
            Ok((edge(false), edge(true)))
        }
        _ => {
            if !env.privileged() {
                return Err(RejectReason::PointerComparison {
                    detail: format!("{} with {}", type_name(&pv), type_name(&ov)),
                });
            }
            let _ = other_reg;
            Ok((Some(s.clone()), Some(s.clone())))
        }
    }
}

/// The condition on the not-taken edge (`None` for `Set`, whose negation is no condition).
fn negated(c: Cond) -> Option<Cond> {
    (c != Cond::Set).then(|| negate(c))
}

/// `x ec y` holds (64-bit) on this edge, one of them the packet length and the other a number
/// `V(k) + d`: learn `data + V(k) + d (+1 when strict) <= data_end`, which bounds packet
/// pointers built from copies of that number (a symbolic value is created for it if needed).
fn learn_len(pc: usize, t: &mut State, x_reg: Reg, x: &Val, y_reg: Reg, y: &Val, ec: Cond) {
    // Normalise to `n rel len`.
    let (n_reg, rel) = match (x, y) {
        (Val::Scalar(_), Val::PacketLen(_)) => (x_reg, ec),
        (Val::PacketLen(_), Val::Scalar(_)) => (y_reg, swap(ec)),
        _ => return,
    };
    let Some(n) = t.regs[n_reg.index()].scalar().copied() else {
        return;
    };
    let strict = match rel {
        Cond::Lt => 1,
        Cond::Le | Cond::Eq => 0,
        // Signed comparisons bound the number only when it is known non-negative (the length
        // is below 2^63).
        Cond::Slt if n.smin >= 0 => 1,
        Cond::Sle if n.smin >= 0 => 0,
        _ => return,
    };
    let (k, d) = match t.syms[n_reg.index()] {
        Some(sym) => sym,
        None => {
            let k = (pc as u32).wrapping_add(1).min(ANON_PKT - 1);
            t.fresh_sym(k);
            t.syms[n_reg.index()] = Some((k, 0));
            (k, 0)
        }
    };
    if let Some(b) = d.checked_add(strict) {
        t.learn_pkt(k, b);
    }
}

fn comparable(a: &Region, b: &Region) -> bool {
    let pk = |r: &Region| {
        matches!(
            r,
            Region::Packet { .. } | Region::PacketEnd | Region::PacketMeta
        )
    };
    (pk(a) && pk(b)) || std::mem::discriminant(a) == std::mem::discriminant(b)
}

fn set_scalar(t: &mut State, r: Reg, old: &Val, new: Scalar, width: Width) {
    let len = matches!(old, Val::PacketLen(_));
    t.regs[r.index()] = match old {
        Val::PacketLen(_) => Val::PacketLen(new),
        // A null test keeps a BTF pointer one.
        Val::Kernel(_) => Val::Kernel(new),
        _ => Val::Scalar(new),
    };
    if len {
        let known = match width {
            Width::W64 => Some(new.umin),
            Width::W32 if new.umax <= u64::from(u32::MAX) => Some(new.umin),
            Width::W32 => None,
        };
        if let Some(k) = known {
            t.pkt = t.pkt.max(k.min(i64::MAX as u64));
        }
    }
}

fn null_edge(s: &State, reg: Option<Reg>, p: &Ptr, is_null: bool) -> Option<State> {
    let Some(id) = p.null else {
        // A non-null pointer is never equal to 0.
        return (!is_null).then(|| s.clone());
    };
    let mut t = s.clone();
    // A null record means the reservation failed (nothing to release) only when the pointer's
    // nullness is the reservation's own (null id = reference id, shared by every copy of the
    // call's result). A pointer made by a join with some 0 (`ANON_NULL`: a path where the
    // register was zeroed, a slot a variable-offset spill may have missed) may be 0 while the
    // reservation is live in another copy: its null edge must keep the reference.
    let release = match p.region {
        Region::Ringbuf { ref_id, .. } if is_null && id == ref_id => Some(ref_id),
        _ => None,
    };
    let refine = |v: &Val| match v {
        Val::Ptr(q) if q.null == Some(id) && id != ANON_NULL => {
            if is_null {
                Val::constant(0)
            } else {
                Val::Ptr(Ptr { null: None, ..*q })
            }
        }
        other => *other,
    };
    if id == ANON_NULL {
        if let Some(r) = reg {
            t.regs[r.index()] = if is_null {
                Val::constant(0)
            } else {
                Val::Ptr(Ptr { null: None, ..*p })
            };
        }
    } else {
        t.map_values(refine);
    }
    if let Some(rid) = release {
        t.refs.retain(|&x| x != rid);
    }
    Some(t)
}

/// `p ec q` holds on this edge: learn packet facts.
fn learn_packet(t: &mut State, p: &Ptr, q: &Ptr, ec: Cond) {
    // Normalise to `x rel end` with x a packet pointer, rel in {Lt, Le}.
    let (x, rel) = match (p.region, q.region, ec) {
        (Region::Packet { .. }, Region::PacketEnd, Cond::Lt | Cond::Le | Cond::Eq) => (p, ec),
        (Region::PacketEnd, Region::Packet { .. }, Cond::Gt | Cond::Ge | Cond::Eq) => (q, swap(ec)),
        (Region::PacketMeta, Region::Packet { .. }, Cond::Lt | Cond::Le)
            if q.off.as_const() == Some(0) =>
        {
            let k = p.off.smin + i64::from(ec == Cond::Lt);
            if k > 0 {
                t.meta = t.meta.max(k as u64);
            }
            return;
        }
        (Region::Packet { .. }, Region::PacketMeta, Cond::Gt | Cond::Ge)
            if p.off.as_const() == Some(0) =>
        {
            let k = q.off.smin + i64::from(ec == Cond::Gt);
            if k > 0 {
                t.meta = t.meta.max(k as u64);
            }
            return;
        }
        _ => return,
    };
    let strict = i64::from(rel == Cond::Lt);
    if let Region::Packet { id, dlo, .. } = x.region {
        if x.off.smin >= 0 {
            t.learn_pkt(0, x.off.smin + strict);
        }
        if id != 0 && id != ANON_PKT {
            t.learn_pkt(id, dlo + strict);
        }
    }
}

/// Registers holding the same symbolic value as `r` hold the same number: narrow them to `v`
/// too (`None`: the edge is infeasible).
fn refine_copies(t: &mut State, r: Reg, v: &Scalar) -> Option<()> {
    let Some(k) = t.syms[r.index()] else {
        return Some(());
    };
    for i in 0..11 {
        if i == r.index() || t.syms[i] != Some(k) {
            continue;
        }
        if let Val::Scalar(x) = t.regs[i] {
            t.regs[i] = Val::Scalar(x.meet(v)?);
        }
    }
    Some(())
}
