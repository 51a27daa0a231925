//! A bounded disjunction of states: a block outside loop heads keeps up to
//! [`crate::Limits::max_paths`] states instead of their join, so that a value whose type or offset depends on the path
//! (a pointer to one of two buffers, a pointer or null, ...) keeps its meaning until the paths
//! meet a test that tells them apart. Beyond the bound, states of the same register types are
//! joined first, then everything.

use super::state::State;
use super::value::{Region, Val};

fn region_tag(r: &Region) -> u8 {
    match r {
        Region::Ctx => 0,
        Region::Stack { .. } => 1,
        Region::Packet { .. } => 2,
        Region::PacketEnd => 3,
        Region::PacketMeta => 4,
        Region::MapValue { .. } => 5,
        Region::Ringbuf { .. } => 6,
        Region::Input { .. } => 7,
        Region::InnerMap { .. } => 8,
    }
}

fn tag(v: &Val) -> u8 {
    match v {
        Val::Uninit => 0,
        Val::Scalar(_) | Val::PacketLen(_) => 1,
        Val::MapPtr(_) => 2,
        Val::Func(_) => 3,
        Val::Ptr(p) => 4 + 2 * region_tag(&p.region) + u8::from(p.null.is_some()),
    }
}

/// The register types of a state (the key under which states are joined first).
fn type_key(s: &State) -> [u8; 11] {
    let mut k = [0u8; 11];
    for (i, r) in s.regs.iter().enumerate() {
        k[i] = tag(r);
    }
    k
}

/// Adds `s` to `parts` (dropping duplicates).
pub fn push(parts: &mut Vec<State>, s: State) {
    if !parts.contains(&s) {
        parts.push(s);
    }
}

/// Brings `parts` within `max` states.
pub fn bound(parts: &mut Vec<State>, max: usize) {
    let max = max.max(1);
    if parts.len() <= max {
        return;
    }
    let mut grouped: Vec<([u8; 11], State)> = Vec::new();
    for s in parts.drain(..) {
        let k = type_key(&s);
        match grouped.iter_mut().find(|(g, _)| *g == k) {
            Some((_, acc)) => *acc = acc.join(&s, None),
            None => grouped.push((k, s)),
        }
    }
    parts.extend(grouped.into_iter().map(|(_, s)| s));
    if parts.len() > max {
        let mut it = parts.drain(..);
        if let Some(first) = it.next() {
            let all = it.fold(first, |a, s| a.join(&s, None));
            *parts = vec![all];
        }
    }
}

/// The join of every part.
#[must_use]
pub fn join_all(parts: &[State]) -> Option<State> {
    let (first, rest) = parts.split_first()?;
    Some(rest.iter().fold(first.clone(), |a, s| a.join(s, None)))
}
