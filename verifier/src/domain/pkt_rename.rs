//! Packet bases named differently on two joined paths.
//!
//! A packet pointer `data + V(id) + delta` names its variable part by the slot that created it,
//! so two paths that each check and build a pointer at their own site (compilers merge the
//! common tail of two such sites) meet with the same register based on `V(i)` on one side and
//! `V(j)` on the other; their join forgot the base (`ANON_PKT`) and with it the bound. The
//! names are only names: when `i` appears nowhere on the second path and `j` nowhere on the
//! first, renaming `j` to `i` throughout the second state (pointers, packet facts, guards and
//! symbolic numbers) gives an equivalent state whose join keeps the base and the smaller bound.
//! Likewise a pointer `data + c` (a constant offset, base 0) on one path meeting `data + V(j)`
//! on the other is `data + V(j) + (c - v)` for `V(j) = v` on its path, where the bound proven
//! for `data` gives one for `V(j)`; `j` must then be unused on that path.

use super::pkt_guard::{Guard, MAX_GUARDS};
use super::state::State;
use super::value::{Ptr, Region, Val, ANON_PKT};

/// The packet base of `v` (0: `data` itself), if it has one.
fn base(v: &Val) -> Option<u32> {
    match v {
        Val::Ptr(Ptr {
            region: Region::Packet { id, .. },
            ..
        }) if *id != ANON_PKT => Some(*id),
        _ => None,
    }
}

/// Every variable base or symbolic-value id `s` mentions.
fn ids(s: &State, out: &mut Vec<u32>) {
    let mut add = |v: &Val| {
        if let Some(i) = base(v).filter(|&i| i != 0) {
            out.push(i);
        }
        false
    };
    s.any_value(&mut add);
    out.extend(s.pkt_ids.iter().map(|&(i, _)| i));
    out.extend(s.guards.iter().map(|g| g.id));
    out.extend(s.syms.iter().flatten().map(|&(i, _)| i));
}

/// Pairs (base in `a`, base in `b`) that differ at the same place (registers and spills).
fn pairs(a: &State, b: &State, out: &mut Vec<(u32, u32)>) {
    let mut add = |x: &Val, y: &Val| {
        if let (Some(i), Some(j)) = (base(x), base(y)) {
            if i != j {
                out.push((i, j));
            }
        }
    };
    for (x, y) in a.regs.iter().zip(&b.regs) {
        add(x, y);
    }
    for (fa, fb) in a.frames.iter().zip(&b.frames) {
        for (x, y) in fa.saved.iter().zip(&fb.saved) {
            add(x, y);
        }
        for ((oa, x), (ob, y)) in fa.stack.spills().zip(fb.stack.spills()) {
            if oa == ob {
                add(x, y);
            }
        }
    }
}

/// Renames base `from` to `to` throughout `s`.
fn rename(s: &mut State, from: u32, to: u32) {
    s.map_values(|v| match v {
        Val::Ptr(p) => match p.region {
            Region::Packet { id, dlo, dhi } if id == from => Val::Ptr(Ptr {
                region: Region::Packet { id: to, dlo, dhi },
                ..*p
            }),
            _ => *v,
        },
        other => *other,
    });
    for e in &mut s.pkt_ids {
        if e.0 == from {
            e.0 = to;
        }
    }
    s.pkt_ids.sort_unstable();
    for g in &mut s.guards {
        if g.id == from {
            g.id = to;
        }
    }
    for (i, _) in s.syms.iter_mut().flatten() {
        if *i == from {
            *i = to;
        }
    }
}

/// In `s`, the `data`-based pointers of the registers where `other` holds a pointer based on
/// `id` become based on `id` too, with `V(id) = c` chosen so that the first one gets the same
/// constant part as in `other`; `s`'s facts about `data` become facts about that base.
fn lift(s: &mut State, other: &State, id: u32) {
    let mut c: Option<i64> = None;
    for r in 0..11 {
        let (Val::Ptr(p), Val::Ptr(q)) = (s.regs[r], other.regs[r]) else {
            continue;
        };
        let (Region::Packet { id: 0, .. }, Region::Packet { id: j, dlo, .. }) =
            (p.region, q.region)
        else {
            continue;
        };
        if j != id {
            continue;
        }
        let c = *c.get_or_insert(p.off.smin.saturating_sub(dlo));
        let (Some(lo), Some(hi)) = (p.off.smin.checked_sub(c), p.off.smax.checked_sub(c)) else {
            continue;
        };
        s.regs[r] = Val::Ptr(Ptr {
            region: Region::Packet {
                id,
                dlo: lo,
                dhi: hi,
            },
            ..p
        });
    }
    let Some(c) = c else { return };
    if let Some(k) = (s.pkt.min(i64::MAX as u64) as i64).checked_sub(c) {
        if s.pkt > 0 {
            s.learn_pkt(id, k);
        }
    }
    let lifted: Vec<Guard> = s
        .guards
        .iter()
        .filter(|g| g.id == 0)
        .filter_map(|g| {
            Some(Guard {
                id,
                k: g.k.checked_sub(c)?,
                ..*g
            })
        })
        .collect();
    for g in lifted {
        if s.guards.len() < MAX_GUARDS && !s.guards.contains(&g) {
            s.guards.push(g);
        }
    }
}

/// `a` and `b` with their packet bases named alike where that is a pure renaming (see the
/// module comment); `None` when there is nothing to do or it would be ambiguous.
#[must_use]
pub fn align(a: &State, b: &State) -> Option<(Option<State>, Option<State>)> {
    // Fast path: no register holds differently named bases.
    let differ = a
        .regs
        .iter()
        .zip(&b.regs)
        .any(|(x, y)| match (base(x), base(y)) {
            (Some(i), Some(j)) => i != j,
            _ => false,
        });
    if !differ {
        return None;
    }
    let mut ps = Vec::new();
    pairs(a, b, &mut ps);
    ps.sort_unstable();
    ps.dedup();
    // One-to-one, and each new name unused on the side that takes it.
    let one_to_one = ps
        .iter()
        .all(|&(i, j)| ps.iter().all(|&(k, l)| (k == i) == (l == j)));
    if !one_to_one {
        return None;
    }
    let (mut ia, mut ib) = (Vec::new(), Vec::new());
    ids(a, &mut ia);
    ids(b, &mut ib);
    if ps
        .iter()
        .any(|&(i, j)| (i != 0 && ib.contains(&i)) || (j != 0 && ia.contains(&j)))
    {
        return None;
    }
    let (mut na, mut nb) = (None::<State>, None::<State>);
    for &(i, j) in &ps {
        match (i, j) {
            (0, j) => lift(na.get_or_insert_with(|| a.clone()), b, j),
            (i, 0) => lift(nb.get_or_insert_with(|| b.clone()), a, i),
            (i, j) => rename(nb.get_or_insert_with(|| b.clone()), j, i),
        }
    }
    Some((na, nb))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Scalar;

    fn pkt(id: u32, off: u64) -> Val {
        Val::Ptr(Ptr {
            region: Region::Packet { id, dlo: 0, dhi: 0 },
            off: Scalar::constant(off),
            null: None,
        })
    }

    #[test]
    fn swapped_names_are_not_renamed() {
        let mut a = State::entry();
        let mut b = State::entry();
        (a.regs[4], a.regs[5]) = (pkt(5, 0), pkt(7, 0));
        (b.regs[4], b.regs[5]) = (pkt(7, 0), pkt(5, 0));
        assert!(align(&a, &b).is_none());
        let j = a.join(&b, None);
        assert!(matches!(
            j.regs[4],
            Val::Ptr(Ptr {
                region: Region::Packet { id: ANON_PKT, .. },
                ..
            })
        ));
    }

    #[test]
    fn a_name_unused_on_the_other_side_is_renamed_with_the_smaller_bound() {
        let mut a = State::entry();
        let mut b = State::entry();
        a.regs[4] = pkt(5, 0);
        a.learn_pkt(5, 4);
        b.regs[4] = pkt(7, 0);
        b.learn_pkt(7, 2);
        let j = a.join(&b, None);
        assert!(matches!(
            j.regs[4],
            Val::Ptr(Ptr {
                region: Region::Packet { id: 5, .. },
                ..
            })
        ));
        assert_eq!(j.pkt_bound(5), Some(2));
    }

    #[test]
    fn a_name_used_on_the_other_side_is_not_renamed() {
        let mut a = State::entry();
        let mut b = State::entry();
        a.regs[4] = pkt(5, 0);
        a.learn_pkt(5, 4);
        b.regs[4] = pkt(7, 0);
        b.learn_pkt(7, 4);
        b.learn_pkt(5, 100);
        assert!(align(&a, &b).is_none());
        assert_eq!(a.join(&b, None).pkt_bound(5), Some(4));
    }

    #[test]
    fn a_constant_offset_is_lifted_onto_the_other_base() {
        let mut a = State::entry();
        let mut b = State::entry();
        a.regs[4] = pkt(0, 14);
        a.learn_pkt(0, 17);
        b.regs[4] = pkt(7, 20);
        b.learn_pkt(7, 4);
        let j = a.join(&b, None);
        let Val::Ptr(p) = j.regs[4] else {
            panic!("not a pointer")
        };
        assert_eq!(
            p.region,
            Region::Packet {
                id: 7,
                dlo: 0,
                dhi: 0
            }
        );
        assert_eq!(j.pkt_bound(7), Some(3));
    }
}
