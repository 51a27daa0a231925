//! The abstract machine state at one program point: registers, the stack of every live call
//! frame, the proven packet range, and the live references (ring-buffer reservations).

use std::fmt::Write as _;
use std::rc::Rc;

use super::linrel::{self, Rel};
use super::pkt_guard::{self, Guard};
use super::pkt_rename;
use super::scalar::Scalar;
use super::scalar::Thresholds;
use super::stack::Stack;
use super::value::{Ptr, Region, Val, ANON_NULL};

/// One call frame.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Frame {
    /// Its stack.
    pub stack: Rc<Stack>,
    /// The caller's r6–r9, restored at `exit` (unused for the entry frame).
    pub saved: [Val; 4],
    /// For a callback's frame: the context argument the helper passes it (the caller's r3),
    /// kept here so that what the callback does to it (a record released, a packet moved)
    /// reaches the next invocation. Uninit otherwise.
    pub cb_ctx: Val,
    /// First slot of the function (or callback) the frame belongs to.
    pub func: usize,
}

/// The abstract state.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct State {
    /// r0–r10.
    pub regs: [Val; 11],
    /// Call frames, the current one last.
    pub frames: Vec<Frame>,
    /// Bytes from `data` proven to lie before `data_end`.
    pub pkt: u64,
    /// Bytes from `data_meta` proven to lie before `data`.
    pub meta: u64,
    /// For variable-offset packet pointers: `base(id) + k <= data_end` is proven.
    pub pkt_ids: Vec<(u32, i64)>,
    /// Packet facts that hold unless a register holds certain values (see
    /// [`super::pkt_guard`]).
    pub guards: Vec<Guard>,
    /// Live references (ring-buffer records) that must be released before exit.
    pub refs: Vec<u32>,
    /// Per register, a symbolic value `V(id) + delta` shared by copies of one number (so that a
    /// packet pointer built from it and one built from `it + k` have the same base).
    pub syms: [Option<(u32, i64)>; 11],
    /// Linear relations between registers (see [`super::linrel`]).
    pub rels: Vec<Rel>,
}

impl State {
    /// An entry state: registers uninitialised except r10, one empty frame.
    #[must_use]
    pub fn entry() -> Self {
        let mut regs = [Val::Uninit; 11];
        regs[10] = Val::Ptr(Ptr {
            region: Region::Stack { frame: 0 },
            off: Scalar::constant(512),
            null: None,
        });
        Self {
            regs,
            frames: vec![Frame {
                stack: Stack::new(),
                saved: [Val::Uninit; 4],
                cb_ctx: Val::Uninit,
                func: 0,
            }],
            pkt: 0,
            meta: 0,
            pkt_ids: Vec::new(),
            guards: Vec::new(),
            refs: Vec::new(),
            syms: [None; 11],
            rels: Vec::new(),
        }
    }

    /// Index of the current frame.
    #[must_use]
    pub fn depth(&self) -> usize {
        self.frames.len() - 1
    }

    /// The stack of `frame`, for writing.
    pub fn stack_mut(&mut self, frame: u8) -> Option<&mut Stack> {
        self.frames
            .get_mut(usize::from(frame))
            .map(|f| Rc::make_mut(&mut f.stack))
    }

    /// The stack of `frame`.
    #[must_use]
    pub fn stack(&self, frame: u8) -> Option<&Stack> {
        self.frames.get(usize::from(frame)).map(|f| &*f.stack)
    }

    /// Proven bound for packet base `id`.
    #[must_use]
    pub fn pkt_bound(&self, id: u32) -> Option<i64> {
        if id == 0 {
            return Some(self.pkt as i64);
        }
        self.pkt_ids.iter().find(|(i, _)| *i == id).map(|&(_, k)| k)
    }

    /// Records `base(id) + k <= data_end`.
    pub fn learn_pkt(&mut self, id: u32, k: i64) {
        if id == 0 {
            self.pkt = self.pkt.max(k.max(0) as u64);
            return;
        }
        match self.pkt_ids.iter_mut().find(|(i, _)| *i == id) {
            Some(e) => e.1 = e.1.max(k),
            None => {
                self.pkt_ids.push((id, k));
                self.pkt_ids.sort_unstable();
            }
        }
    }

    /// Starts a new symbolic value `id` (the previous one of that id is forgotten everywhere).
    pub fn fresh_sym(&mut self, id: u32) {
        self.pkt_ids.retain(|(i, _)| *i != id);
        self.guards.retain(|g| g.id != id);
        for s in &mut self.syms {
            if s.is_some_and(|(i, _)| i == id) {
                *s = None;
            }
        }
        let stale = |v: &Val| matches!(v, Val::Ptr(Ptr { region: Region::Packet { id: i, .. }, .. }) if *i == id);
        if self.any_value(stale) {
            self.map_values(|v| match v {
                Val::Ptr(p) if stale(v) => Val::Ptr(Ptr {
                    region: Region::Packet {
                        id: super::value::ANON_PKT,
                        dlo: 0,
                        dhi: 0,
                    },
                    ..*p
                }),
                other => *other,
            });
        }
    }

    /// Applies `f` (pure) to every register and spilled value of every frame (including saved
    /// ones); a stack is copied only when `f` changes one of its spills.
    pub fn map_values(&mut self, mut f: impl FnMut(&Val) -> Val) {
        for r in &mut self.regs {
            *r = f(r);
        }
        for fr in &mut self.frames {
            for r in &mut fr.saved {
                *r = f(r);
            }
            fr.cb_ctx = f(&fr.cb_ctx);
            if fr.stack.spills().any(|(_, v)| f(v) != *v) {
                Rc::make_mut(&mut fr.stack).map_spills(&mut f);
            }
        }
    }

    /// Every value in the state.
    pub fn any_value(&self, mut pred: impl FnMut(&Val) -> bool) -> bool {
        self.regs.iter().any(&mut pred)
            || self.frames.iter().any(|fr| {
                fr.saved.iter().any(&mut pred)
                    || pred(&fr.cb_ctx)
                    || fr.stack.spills().any(|(_, v)| pred(v))
            })
    }

    /// Least upper bound (`widen` with thresholds when given). Both states must have the same
    /// frame depth (they do: states are joined within one function context).
    #[must_use]
    pub fn join(&self, o: &Self, th: Option<&Thresholds>) -> Self {
        let mode = if th.is_some() {
            linrel::Mode::Widen
        } else {
            linrel::Mode::Join
        };
        self.join_mode(o, th, mode)
    }

    fn join_mode(&self, o: &Self, th: Option<&Thresholds>, mode: linrel::Mode) -> Self {
        if let Some((a, b)) = pkt_rename::align(self, o) {
            return a
                .as_ref()
                .unwrap_or(self)
                .join_named(b.as_ref().unwrap_or(o), th, mode);
        }
        self.join_named(o, th, mode)
    }

    /// [`State::join`] of states whose packet bases are named alike.
    fn join_named(&self, o: &Self, th: Option<&Thresholds>, mode: linrel::Mode) -> Self {
        let jv = |a: &Val, b: &Val| {
            if let Some(v) = join_with_zero(a, b, o).or_else(|| join_with_zero(b, a, self)) {
                return v;
            }
            match th {
                Some(th) => a.widen(b, th),
                None => a.join(b),
            }
        };
        let mut regs = [Val::Uninit; 11];
        for (i, r) in regs.iter_mut().enumerate() {
            *r = jv(&self.regs[i], &o.regs[i]);
        }
        let frames = self
            .frames
            .iter()
            .zip(o.frames.iter())
            .map(|(a, b)| {
                let stack = if Rc::ptr_eq(&a.stack, &b.stack) || a.stack == b.stack {
                    Rc::clone(&a.stack)
                } else {
                    Rc::new(a.stack.join_by(&b.stack, jv))
                };
                let mut saved = [Val::Uninit; 4];
                for (i, s) in saved.iter_mut().enumerate() {
                    *s = jv(&a.saved[i], &b.saved[i]);
                }
                Frame {
                    stack,
                    saved,
                    cb_ctx: jv(&a.cb_ctx, &b.cb_ctx),
                    func: a.func,
                }
            })
            .collect();
        let pkt_ids = self
            .pkt_ids
            .iter()
            .filter_map(|&(id, k)| {
                o.pkt_ids
                    .iter()
                    .find(|(j, _)| *j == id)
                    .map(|&(_, l)| (id, k.min(l)))
            })
            .collect();
        let guards = pkt_guard::join(self, o, th.is_some());
        let mut refs = self.refs.clone();
        refs.extend(o.refs.iter().copied());
        refs.sort_unstable();
        refs.dedup();
        let mut syms = self.syms;
        for (i, x) in syms.iter_mut().enumerate() {
            if *x != o.syms[i] {
                *x = None;
            }
        }
        let rels = linrel::join(self, o, &regs, mode);
        let mut out = Self {
            regs,
            frames,
            pkt: self.pkt.min(o.pkt),
            meta: self.meta.min(o.meta),
            pkt_ids,
            guards,
            refs,
            syms,
            rels,
        };
        // The relations hold in the result, so they may narrow its (widened) intervals; this
        // keeps a widened pointer within what its relation to a widened counter allows.
        if mode != linrel::Mode::Join && !out.rels.is_empty() {
            let mut t = out.clone();
            if linrel::tighten(&mut t).is_some() {
                out = t;
            }
        }
        out
    }

    /// The join of a loop head `self` with a state flowing back to it, keeping only guards
    /// the head has (a guard is a constraint: dropping it is sound, and keeps the head's
    /// guards a decreasing sequence, so that the iteration stabilises). `x.join_at_head(y) == x`
    /// is the inclusion test of `y` in `x` wherever a loop or unrolling needs one.
    #[must_use]
    pub fn join_at_head(&self, back: &Self) -> Self {
        let mut j = self.join_mode(back, None, linrel::Mode::Head);
        j.guards.retain(|g| self.guards.contains(g));
        j
    }

    /// Text of the live registers, the current frame's stack and the packet facts.
    #[must_use]
    pub fn describe(&self) -> String {
        let mut out = String::new();
        for (i, r) in self.regs.iter().enumerate() {
            if r.is_init() {
                let _ = write!(out, "r{i}={r}; ");
            }
        }
        if self.pkt > 0 {
            let _ = write!(out, "packet_size>={}; ", self.pkt);
        }
        for (id, k) in &self.pkt_ids {
            let _ = write!(out, "pkt_base{id}+{k}<=end; ");
        }
        for g in &self.guards {
            let _ = write!(out, "{g}; ");
        }
        for r in &self.rels {
            if r.ternary() {
                let _ = write!(out, "r{}-r{}-r{} in [{}, {}]; ", r.a, r.b, r.c, r.lo, r.hi);
            } else {
                let _ = write!(out, "r{}-{}*r{} in [{}, {}]; ", r.a, r.k, r.b, r.lo, r.hi);
            }
        }
        if !self.refs.is_empty() {
            let _ = write!(out, "refs={:?}; ", self.refs);
        }
        if let Some(f) = self.frames.last() {
            let s = f.stack.describe();
            if !s.is_empty() {
                let _ = write!(out, "stack:{s}");
            }
        }
        out.trim_end().to_owned()
    }
}

/// The join of a possibly-null pointer `a` with `b` = 0 from state `bs`: whether the result
/// may share a null id (so that its null test refines every copy, and for a ring-buffer
/// record, releases the reservation on the null edge) depends on `bs`, which the value join
/// cannot see. It may when the 0 is what that id's null means on `bs`'s side: no value of `bs`
/// still carries the id (its other copies were refined to 0, or the call was not made there)
/// and, for a record, its reservation is not live there. Then on both sides every value with
/// the id is null exactly when the others are. A non-null record so joined takes its
/// reservation's id (null there exactly when the reservation is not live). Otherwise the 0 may
/// sit beside a live copy (a register zeroed on one path, a slot a variable-offset spill
/// missed): the nullness is anonymous and its test refines one register, releasing nothing.
/// `None`: not such a pair.
fn join_with_zero(a: &Val, b: &Val, bs: &State) -> Option<Val> {
    let Val::Ptr(p) = a else { return None };
    if b.scalar().and_then(Scalar::as_const) != Some(0) {
        return None;
    }
    // The id the joined value would share.
    let id = match p.region {
        Region::Ringbuf { ref_id, .. } => match p.null {
            None => ref_id,
            Some(n) if n == ref_id => n,
            Some(_) => ANON_NULL,
        },
        Region::MapValue { .. } | Region::InnerMap { .. } => p.null?,
        _ => return None,
    };
    let live = id == ANON_NULL
        || bs.refs.contains(&id)
        || bs.any_value(|v| matches!(v, Val::Ptr(q) if q.null == Some(id)));
    Some(Val::Ptr(Ptr {
        null: Some(if live { ANON_NULL } else { id }),
        ..*p
    }))
}
