//! Termination of a loop whose exit test is `ind != bound`, with `ind` stepped by a constant
//! `d` (any size, not just 1) and known constants for `ind` on entry and for the bound: the
//! values the test sees form one arithmetic progression, and the loop ends when it reaches the
//! bound. Clang compiles `for (i = 1; i <= N; i++) ... i * K ...` this way (the multiple
//! `i * K` becomes the induction register, stepped by `K` and compared with `(N + 1) * K`).
//!
//! Why it is sound. The rule applies only to loops without inner loops and entered only at
//! their head ([`crate::termination::Candidate::prog`]): every trip runs each block at most
//! once, the single step of `ind` is on every cycle, so it runs exactly once per trip, and the
//! test, also on every cycle, runs exactly once per trip. Either every path from the head to
//! the test runs the step or none does (a path without it to the test and one without it back
//! to the head would make a cycle without it), so on trip `n` (from 0) the test sees
//! `s0 + (n + e)·d` modulo the width, with `e` 1 or 0 accordingly and `s0` the value on entry.
//! The bound is not written in the loop. If `bound - s0 = m·d` over the integers with
//! `m >= e`, trip `m - e` sees exactly the bound and leaves (if nothing left before): at most
//! `m - e + 1` trips ([`MAX_TRIPS`] at most). The entry values come from the state entering the loop in a final pass,
//! which covers every concrete entry.

use std::collections::HashSet;

use apiary_vm::instruction::{Cond, Operand, Reg, Width};
use apiary_vm::semantics::imm_value;
use apiary_vm::Program;

use crate::cfg::Cfg;
use crate::domain::State;
use crate::termination::{written, Candidate};

/// Most trips the rule accepts. A bound the progression reaches only after wrapping around
/// (`s0 = 1`, step 2, bound `u64::MAX`: 2^63 trips) terminates too, but no one means that
/// loop; like Linux's instruction budget, the rule stands for loops that end in practice.
pub const MAX_TRIPS: i128 = 1 << 24;

/// For the exit test ending block `test` of a loop without inner loops: whether the single
/// step of `ind` comes before the test on every trip (`Some(true)`) or after it
/// (`Some(false)`); `None` when the step is not found in one block.
#[must_use]
pub fn step_first(
    program: &Program,
    cfg: &Cfg,
    head: usize,
    body: &HashSet<usize>,
    test: usize,
    ind: Reg,
) -> Option<bool> {
    let writes_ind = |b: usize| {
        let blk = &cfg.blocks[b];
        program.instructions()[blk.start..blk.end]
            .iter()
            .any(|ins| {
                let mut w = Vec::new();
                written(ins, &mut w);
                w.contains(&ind)
            })
    };
    let steps: Vec<usize> = body.iter().copied().filter(|&b| writes_ind(b)).collect();
    let [step] = steps[..] else { return None };
    // The test is the block's last instruction, after a step in the same block.
    if step == head || step == test {
        return Some(true);
    }
    // Is the test reachable from the head without the step block?
    let mut seen = HashSet::new();
    let mut work = vec![head];
    while let Some(b) = work.pop() {
        if b == test {
            return Some(false);
        }
        if !seen.insert(b) {
            continue;
        }
        for &s in &cfg.blocks[b].succs {
            if s != step && s != head && body.contains(&s) {
                work.push(s);
            }
        }
    }
    Some(true)
}

/// Whether the progression argument (module comment) proves the loop of candidate `c` from
/// `entry`, the state entering its head.
#[must_use]
pub fn proves(c: &Candidate, entry: &State) -> bool {
    let Some(e) = c.prog else { return false };
    if c.stay != Cond::Ne || c.add_w != c.cmp_w || c.via.is_some() {
        return false;
    }
    let konst = |r: Reg| {
        entry.regs[r.index()]
            .scalar()
            .and_then(crate::domain::Scalar::as_const)
    };
    let Some(s0) = konst(c.ind) else { return false };
    let bound = match c.bound {
        Operand::Imm(i) => imm_value(i, c.cmp_w),
        Operand::Reg(r) => match konst(r) {
            Some(v) => v,
            None => return false,
        },
    };
    let (s0, bound) = match c.cmp_w {
        Width::W64 => (i128::from(s0), i128::from(bound)),
        Width::W32 => (i128::from(s0 as u32), i128::from(bound as u32)),
    };
    let d = i128::from(c.step);
    let diff = bound - s0;
    d != 0 && diff % d == 0 && (i128::from(e)..=MAX_TRIPS).contains(&(diff / d))
}
