//! Packet facts that hold on some paths only, kept through a join as implications on a
//! register.
//!
//! Compiled code often turns a packet bound test into a number and tests the number later
//! (Cilium's `revalidate_data`: `if (data + off + k > data_end) ret = -22; else ret = 0; ...
//! if (ret != 0) goto drop; load [data + off]`). The join after the first test keeps the bound
//! only where both paths proved it, so the load is rejected although every path that reaches it
//! passed the test. A [`Guard`] keeps the fact through the join as "the bound holds unless the
//! register holds one of the values it had on the paths without the bound"; a later test that
//! excludes those values (here `ret != 0`) makes the bound unconditional again ([`promote`]).
//!
//! Soundness: a guard is created at a join with the values of its register on the side lacking
//! the fact as the excluded values (chosen so that they do not cover the other side's, else the
//! guard could never be used); it is dropped when
//! its register is written (unless as a function of itself or a copy, see
//! [`crate::transfer::guards`]), when packet facts are reset (helpers that move
//! the packet), when its base id is renamed, and across call frames. Refining the register
//! only removes states, so the implication survives every branch.

use std::fmt;

use super::scalar::Scalar;
use super::state::State;
use super::value::ScalarText;

/// At most this many guards per state (extra ones are dropped, which only loses precision).
pub const MAX_GUARDS: usize = 16;
/// At most this many registers guard one fact when a join creates guards.
const REGS_PER_FACT: usize = 2;

/// Where a guard's number lives: registers 0–9 as themselves, the 8-byte stack slot `i` of
/// frame `f` as [`SLOTS_AT`]` + 64 f + i` (a spilled guard register, see
/// [`crate::transfer::guards`]).
pub type Loc = u16;
/// The first stack-slot [`Loc`].
pub const SLOTS_AT: Loc = 16;

/// The [`Loc`] of stack slot `slot` (of 64) of frame `frame`.
#[must_use]
pub fn slot_loc(frame: u8, slot: usize) -> Loc {
    SLOTS_AT + u16::from(frame) * 64 + (slot as u16 & 63)
}

/// The number at `at` in `s`, if it holds one.
#[must_use]
pub fn value_at(s: &State, at: Loc) -> Option<&Scalar> {
    if at < SLOTS_AT {
        return s.regs.get(usize::from(at))?.scalar();
    }
    let (frame, slot) = ((at - SLOTS_AT) / 64, (at - SLOTS_AT) % 64);
    s.stack(u8::try_from(frame).ok()?)?
        .spill(usize::from(slot))?
        .scalar()
}

/// `base(id) + k <= data_end` holds in every concrete state whose number at `at` (a register
/// or a spill) is outside `unless` (`id` 0: `data + k <= data_end`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Guard {
    /// Packet base (see [`State::pkt_ids`]); 0 for `data`.
    pub id: u32,
    /// Bytes proven after the base.
    pub k: i64,
    /// Where the number is.
    pub at: Loc,
    /// Its values on the paths where the bound may not hold.
    pub unless: Scalar,
}

impl fmt::Display for Guard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "pkt_base{}+{}<=end unless ", self.id, self.k)?;
        if self.at < SLOTS_AT {
            write!(f, "r{}", self.at)?;
        } else {
            let (fr, i) = ((self.at - SLOTS_AT) / 64, (self.at - SLOTS_AT) % 64);
            write!(f, "stack[{fr}][{}]", i64::from(i) * 8 - 512)?;
        }
        write!(f, " in {}", ScalarText(&self.unless))
    }
}

/// The bound a state proves unconditionally for base `id` (0 when none).
fn bound(s: &State, id: u32) -> Option<i64> {
    s.pkt_bound(id)
}

/// Every unconditional packet fact of `s`, as (id, k).
fn facts(s: &State) -> impl Iterator<Item = (u32, i64)> + '_ {
    let data = (s.pkt > 0).then_some((0, s.pkt.min(i64::MAX as u64) as i64));
    data.into_iter().chain(s.pkt_ids.iter().copied())
}

fn scalar(s: &State, r: usize) -> Option<&Scalar> {
    s.regs[r].scalar()
}

/// Whether `x` contains every value of `y`.
fn covers(x: &Scalar, y: &Scalar) -> bool {
    x.join(y) == *x
}

/// Guards of the join of `a` and `b` (`widen`: a loop head, where only guards both sides
/// share are kept, so that the iteration stays finite).
#[must_use]
pub fn join(a: &State, b: &State, widen: bool) -> Vec<Guard> {
    if widen {
        return a
            .guards
            .iter()
            .filter(|g| b.guards.contains(g))
            .copied()
            .collect();
    }
    if a.guards.is_empty() && b.guards.is_empty() && a.pkt == b.pkt && a.pkt_ids == b.pkt_ids {
        return Vec::new();
    }
    let mut out: Vec<Guard> = Vec::new();
    let push = |g: Guard, out: &mut Vec<Guard>| {
        if out.len() < MAX_GUARDS && !out.contains(&g) {
            out.push(g);
        }
    };
    for (x, y) in [(a, b), (b, a)] {
        // A fact `x` proves and `y` does not.
        for (id, k) in facts(x) {
            if bound(y, id).is_some_and(|l| l >= k) {
                continue;
            }
            let mut from_guard = false;
            for g in y.guards.iter().filter(|g| g.id == id && g.k >= k) {
                push(Guard { k, ..*g }, &mut out);
                from_guard = true;
            }
            if from_guard {
                continue;
            }
            // Registers whose values on `y`'s side do not cover those on `x`'s (a later test
            // may then exclude `y`'s): a constant on `y`'s side (a return code) first, then
            // registers told apart.
            let mut regs: Vec<((bool, bool, usize), Scalar)> = (0..10)
                .filter_map(|r| {
                    let (vx, vy) = (scalar(x, r)?, scalar(y, r)?);
                    (!covers(vy, vx)).then(|| {
                        let key = (vy.as_const().is_none(), vx.meet(vy).is_some(), r);
                        (key, *vy)
                    })
                })
                .collect();
            regs.sort_unstable_by_key(|&(key, _)| key);
            for &((_, _, r), unless) in regs.iter().take(REGS_PER_FACT) {
                push(
                    Guard {
                        id,
                        k,
                        at: r as Loc,
                        unless,
                    },
                    &mut out,
                );
            }
        }
        // A guard of `x`: `y` proves the fact, shares the guard, or adds its values.
        for g in &x.guards {
            let unless = if bound(y, g.id).is_some_and(|l| l >= g.k) {
                Some(g.unless)
            } else if let Some(h) = y
                .guards
                .iter()
                .find(|h| h.id == g.id && h.at == g.at && h.k >= g.k)
            {
                Some(g.unless.join(&h.unless))
            } else {
                value_at(y, g.at).map(|v| g.unless.join(v))
            };
            let Some(unless) = unless else { continue };
            // Useless when the joined register lies wholly inside `unless`.
            let joined = match (value_at(x, g.at), value_at(y, g.at)) {
                (Some(p), Some(q)) => p.join(q),
                _ => continue,
            };
            if !covers(&unless, &joined) {
                push(Guard { unless, ..*g }, &mut out);
            }
        }
    }
    out
}

/// Makes unconditional every guarded fact whose register no longer holds an excluded value.
pub fn promote(s: &mut State) {
    if s.guards.is_empty() {
        return;
    }
    let excluded: Vec<bool> = s
        .guards
        .iter()
        .map(|g| g.at < SLOTS_AT && value_at(s, g.at).is_some_and(|v| v.meet(&g.unless).is_none()))
        .collect();
    let learned: Vec<(u32, i64)> = s
        .guards
        .iter()
        .zip(&excluded)
        .filter(|(_, &e)| e)
        .map(|(g, _)| (g.id, g.k))
        .collect();
    let mut i = 0;
    s.guards.retain(|_| {
        i += 1;
        !excluded[i - 1]
    });
    for (id, k) in learned {
        s.learn_pkt(id, k);
    }
}
