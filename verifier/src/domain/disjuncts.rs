//! A bounded disjunction of states: a block outside loop heads keeps up to
//! [`crate::Limits::max_paths`] states instead of their join, so that a value whose type or offset depends on the path
//! (a pointer to one of two buffers, a pointer or null, ...) keeps its meaning until the paths
//! meet a test that tells them apart. Beyond the bound, states of the same register types are
//! joined first, then everything.

use std::hash::{Hash, Hasher};

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
        Val::Kernel(_) => 30,
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

/// A fast, non-cryptographic hasher (FxHash's multiply-rotate) for duplicate detection.
#[derive(Default)]
pub(crate) struct Fx(u64);

impl Hasher for Fx {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for c in bytes.chunks(8) {
            let mut w = [0u8; 8];
            w[..c.len()].copy_from_slice(c);
            self.write_u64(u64::from_le_bytes(w));
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.write_u64(u64::from(i));
    }
    fn write_u32(&mut self, i: u32) {
        self.write_u64(u64::from(i));
    }
    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0.rotate_left(5) ^ i).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64);
    }
}

fn hash(s: &State) -> u64 {
    let mut h = Fx::default();
    s.hash(&mut h);
    h.finish()
}

/// A set of distinct states, in insertion order, with their hashes (duplicates are found by
/// hash first: a state is compared in full only with states of the same hash).
#[derive(Clone, Debug, Default)]
pub struct Parts {
    states: Vec<State>,
    hashes: Vec<u64>,
}

impl Parts {
    fn has(&self, h: u64, s: &State) -> bool {
        self.hashes
            .iter()
            .zip(&self.states)
            .any(|(&g, t)| g == h && t == s)
    }

    /// Adds `s` unless it is there already.
    pub fn push(&mut self, s: State) {
        let h = hash(&s);
        if !self.has(h, &s) {
            // States are large (about 1.5 KiB): grow by more than one at a time.
            if self.states.len() == self.states.capacity() {
                self.states.reserve(self.states.len().max(4));
            }
            self.states.push(s);
            self.hashes.push(h);
        }
    }

    /// Adds the states of `o` not there already (copies, or moved when `take`).
    pub fn extend(&mut self, o: &mut Parts, take: bool) {
        if self.states.is_empty() && take {
            std::mem::swap(self, o);
            return;
        }
        self.states.reserve(o.states.len());
        self.hashes.reserve(o.states.len());
        if take {
            for (s, h) in o.states.drain(..).zip(o.hashes.drain(..)) {
                if !self.has(h, &s) {
                    self.states.push(s);
                    self.hashes.push(h);
                }
            }
        } else {
            for (s, &h) in o.states.iter().zip(&o.hashes) {
                if !self.has(h, s) {
                    self.states.push(s.clone());
                    self.hashes.push(h);
                }
            }
        }
    }

    /// The states.
    #[must_use]
    pub fn states(&self) -> &[State] {
        &self.states
    }

    /// The states, by value.
    #[must_use]
    pub fn into_states(self) -> Vec<State> {
        self.states
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
