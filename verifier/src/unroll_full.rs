//! A second chance for a loop whose invariant is too weak: run its trips one by one.
//!
//! The loop-head invariant is non-relational, so a loop that walks a pointer together with a
//! counter (`p -= 8; *p = 0; i++; while i < 64`) gets an invariant with no relation between
//! them, and the access is rejected although every trip is in bounds. When the final pass
//! over an outermost loop fails a check, the loop is run trip by trip from its entry state,
//! with every check enforced and no join with earlier trips (as Linux explores it): trip k's
//! head state covers every concrete state after k trips. If some trip sends no state back to
//! the head, every execution leaves the loop within that many trips, every trip passed every
//! check, and the states leaving the loop in all trips are exactly what follows it; the loop
//! also terminates. Otherwise (a check fails, or the trip or visit budget runs out) the first
//! error stands.
//!
//! Only loops outside every other loop's analysis are run this way: inside an enclosing
//! loop's ascending passes a failing check only cuts a path, and a final pass that then
//! succeeded by unrolling would feed the enclosing loop states its invariant never covered.

use crate::domain::disjuncts::Parts;
use crate::domain::State;
use crate::fixpoint::{Analyzer, FuncInfo, Run};
use crate::wto::Elem;

/// Most trips run.
pub const MAX_TRIPS: u32 = 128;
/// Most instructions visited by all the trips of one loop.
pub const MAX_VISITS: u64 = 100_000;
/// Budgets of the first try, before any invariant is computed (see `Analyzer::unroll_first`).
pub const FIRST_TRIPS: u32 = 16;
/// Most instructions visited by the first try.
pub const FIRST_VISITS: u64 = 16_000;

impl Analyzer<'_> {
    /// Runs the loop with head block `h` trip by trip from `entry` (see the module comment).
    /// On `true`, the edges leaving the loop hold the states of every trip and the loop is
    /// recorded as terminating; on `false`, `run` is left in an unspecified state (the caller
    /// reports its first error).
    pub(crate) fn unroll_fully(
        &mut self,
        f: &FuncInfo,
        run: &mut Run,
        h: usize,
        body: &[Elem],
        members: &[usize],
        entry: State,
    ) -> bool {
        self.unroll_within(f, run, h, body, members, entry, MAX_TRIPS, MAX_VISITS)
    }

    /// A first try of [`Analyzer::unroll_fully`] on an outermost loop, within small budgets,
    /// before its invariant is sought. A loop of a few trips whose body branches a lot (bcc's
    /// `ksnoop`: 6 trips, a dozen flag tests each) costs far less run trip by trip than
    /// ascending passes over every path until the invariant stabilises, which may then fail
    /// anyway (a counter and an offset advancing by unrelated strides) and fall back to the
    /// trips. The result is the same analysis the second chance would make, so it is as sound;
    /// on failure everything it recorded is undone and the loop is analysed as before.
    pub(crate) fn unroll_first(
        &mut self,
        f: &FuncInfo,
        run: &mut Run,
        h: usize,
        body: &[Elem],
        members: &[usize],
        entry: State,
    ) -> bool {
        let saved = (
            self.facts.clone(),
            self.cand_ok.clone(),
            self.unroll_ok.clone(),
        );
        if self.unroll_within(f, run, h, body, members, entry, FIRST_TRIPS, FIRST_VISITS) {
            return true;
        }
        (self.facts, self.cand_ok, self.unroll_ok) = saved;
        for &m in members {
            run.outs[m] = [Parts::default(), Parts::default()];
            run.over[m] = None;
        }
        false
    }

    #[allow(clippy::too_many_arguments)]
    fn unroll_within(
        &mut self,
        f: &FuncInfo,
        run: &mut Run,
        h: usize,
        body: &[Elem],
        members: &[usize],
        entry: State,
        max_trips: u32,
        max_visits: u64,
    ) -> bool {
        // Edges leaving the loop, and edges back to its head.
        let mut exits: Vec<(usize, usize)> = Vec::new();
        for (b, blk) in f.cfg.blocks.iter().enumerate() {
            if members.contains(&b) {
                continue;
            }
            exits.extend(blk.preds.iter().filter(|(p, _)| members.contains(p)));
        }
        let backs: Vec<(usize, usize)> = f.cfg.blocks[h]
            .preds
            .iter()
            .filter(|(p, _)| members.contains(p))
            .copied()
            .collect();
        let mut out: Vec<Parts> = vec![Parts::default(); exits.len()];
        let start = self.counters.visited;
        let mut s = entry;
        for _ in 0..max_trips {
            for &m in members {
                run.outs[m] = [Parts::default(), Parts::default()];
                run.over[m] = None;
            }
            run.over[h] = Some(s);
            if self.vertex(f, run, h).is_err() || self.elems(f, run, body).is_err() {
                return false;
            }
            self.counters.iterations += 1;
            if self.counters.visited - start > max_visits {
                return false;
            }
            for (k, &(p, e)) in exits.iter().enumerate() {
                out[k].extend(&mut run.outs[p][e], true);
            }
            let mut back: Option<State> = None;
            for &(p, e) in &backs {
                for o in run.outs[p][e].states() {
                    back = Some(match back {
                        None => o.clone(),
                        Some(a) => a.join(o, None),
                    });
                }
            }
            match back {
                Some(b) => s = b,
                None => {
                    for &m in members {
                        run.outs[m] = [Parts::default(), Parts::default()];
                        run.over[m] = None;
                    }
                    for (k, &(p, e)) in exits.iter().enumerate() {
                        run.outs[p][e] = std::mem::take(&mut out[k]);
                    }
                    let pc = f.cfg.blocks[h].start;
                    self.unroll_ok.entry(pc).or_insert(true);
                    return true;
                }
            }
        }
        false
    }
}
