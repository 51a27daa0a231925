//! Termination of loops without an induction register, by bounded abstract unrolling.
//!
//! From the loop-head invariant `S0` (the state of the final pass, which covers every head state
//! reachable in this calling context), trips of the loop are run with the checked transfer
//! functions and no join with earlier trips: from a head state `S`, the states arriving back at
//! the head (through the loop's own edges only) are joined into `T(S)`, which covers every
//! concrete head state one trip after any concrete state of `S`. Paths cut by a failing check
//! are impossible in an accepted program (the final pass checks the same instructions on the
//! invariant, which covers them). If `T(S)` makes no progress (`S ⊑ T(S)`), `S` is split in two
//! on the unsigned range of a register the loop reads; the pieces cover `S`. The loop is proven
//! when every piece of this finite tree reaches a state with no path back to the head: then no
//! concrete execution from `S0` makes more trips than the height of the tree.
//!
//! This proves loops such as the end-around-carry fold of an Internet checksum
//! (`r6 = r0 >> 16; if r6 == 0 exit; r0 = (r0 & 0xffff) + r6`), whose value shrinks each trip.

use crate::domain::{Scalar, State, Val};
use crate::fixpoint::{Analyzer, FuncInfo, Run};
use crate::wto::Elem;

/// Most trips run for one loop.
const MAX_TRIPS: u32 = 160;
/// Most instructions visited by the trips of one loop.
const MAX_VISITS: u64 = 40_000;

/// Registers read anywhere in the loop (the ones worth splitting on).
fn loop_reads(an: &Analyzer<'_>, f: &FuncInfo, members: &[usize]) -> [bool; 11] {
    let mut out = [false; 11];
    for &b in members {
        let blk = &f.cfg.blocks[b];
        for ins in &an.env.program.instructions()[blk.start..blk.end] {
            for r in ins.reads().iter() {
                out[r.index()] = true;
            }
        }
    }
    out
}

/// Splits `s` in two on the widest unsigned range of a scalar register in `regs`.
fn split(s: &State, regs: &[bool; 11]) -> Option<(State, State)> {
    let (i, x) = (0..10)
        .filter(|&i| regs[i])
        .filter_map(|i| match &s.regs[i] {
            Val::Scalar(x) if x.umin < x.umax => Some((i, *x)),
            _ => None,
        })
        .max_by_key(|(_, x)| x.umax - x.umin)?;
    let mid = x.umin + (x.umax - x.umin) / 2;
    let piece = |lo: u64, hi: u64| {
        let v = x.meet(&Scalar::urange(lo, hi))?;
        let mut t = s.clone();
        t.regs[i] = Val::Scalar(v);
        Some(t)
    };
    Some((piece(x.umin, mid)?, piece(mid + 1, x.umax)?))
}

impl Analyzer<'_> {
    /// Whether the loop with head block `h` provably ends from the head state `s0` (see the
    /// module comment). Leaves `run` as it found it.
    pub(crate) fn unroll(
        &mut self,
        f: &FuncInfo,
        run: &mut Run,
        h: usize,
        body: &[Elem],
        members: &[usize],
        s0: State,
    ) -> bool {
        let saved = (run.over.clone(), run.outs.clone(), self.counters);
        let regs = loop_reads(self, f, members);
        self.soft += 1;
        let mut s0 = s0;
        s0.guards.clear();
        let mut work = vec![s0];
        let mut trips = 0u32;
        let ok = loop {
            let Some(s) = work.pop() else { break true };
            trips += 1;
            if trips > MAX_TRIPS || self.counters.visited - saved.2.visited > MAX_VISITS {
                break false;
            }
            run.over[h] = Some(s.clone());
            if self.vertex(f, run, h).is_err() || self.elems(f, run, body).is_err() {
                break false;
            }
            let mut back: Option<State> = None;
            for &(p, e) in &f.cfg.blocks[h].preds {
                if !members.contains(&p) {
                    continue;
                }
                for o in run.outs[p][e].states() {
                    back = Some(match back {
                        None => o.clone(),
                        Some(a) => a.join(o, None),
                    });
                }
            }
            let Some(mut back) = back else { continue };
            // Guarded packet facts only refine a trip; without them the trips' states form
            // the finite-height tree the proof explores (dropping them is sound).
            back.guards.clear();
            if back.join(&s, None) == back {
                match split(&s, &regs) {
                    Some((a, b)) => work.extend([a, b]),
                    None => break false,
                }
            } else {
                work.push(back);
            }
        };
        self.soft -= 1;
        (run.over, run.outs, self.counters) = saved;
        ok
    }
}
