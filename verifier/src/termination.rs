//! Termination: every loop (WTO component) must have an exit test on an induction register that
//! changes by a constant step on every trip, with the test on every trip and a bound that the
//! register cannot jump over without wrapping. The syntactic part is found here; the bound is
//! checked against the abstract state at the test ([`candidate_ok`]).

use std::collections::{HashMap, HashSet};

use apiary_vm::instruction::{AluOp, Cond, Instruction, Lddw, Operand, Reg, RegSet, Width};
use apiary_vm::semantics::imm_value;
use apiary_vm::Program;

use crate::cfg::Cfg;
use crate::domain::scalar_cmp::{negate, swap};
use crate::domain::State;
use crate::termination_rel;
use crate::wto::{nodes, Elem};

/// A loop: its head slot and the slots of its candidate exit tests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoopInfo {
    /// First slot of the head block.
    pub head_pc: usize,
    /// Candidate exit tests.
    pub tests: Vec<usize>,
}

/// A candidate exit test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// The induction register.
    pub ind: Reg,
    /// Its constant step per trip.
    pub step: i64,
    /// Width of the steps.
    pub add_w: Width,
    /// The condition under which the loop continues, induction register on the left.
    pub stay: Cond,
    /// Width of the comparison.
    pub cmp_w: Width,
    /// The bound.
    pub bound: Operand,
    /// When the tested register is not stepped itself: the register stepped in place that it
    /// must equal plus a constant at the test (a relation of the state there, see
    /// [`crate::domain::linrel`]).
    pub via: Option<Reg>,
    /// For a loop without inner loops or side entries: whether the step comes before the test
    /// on every trip (`Some(true)`) or after it (`Some(false)`), for
    /// [`crate::termination_prog`].
    pub prog: Option<bool>,
    /// When the tested register is the square `(base + c)²` of a register stepped in place
    /// (`d * d <= n`): `(base, c)`, proven by [`square_ok`] with [`square_entry`].
    pub square: Option<(Reg, i64)>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Write {
    Step(i64, Width),
    Other,
}

/// The registers `ins` writes as a verifier following the kernel sees them: what it may write
/// plus what Linux leaves undefined (r1–r5 after calls and legacy packet loads), from the one
/// def/use of [`Instruction`].
pub fn written(ins: &Instruction, out: &mut Vec<Reg>) {
    out.extend(kernel_writes(ins).iter());
}

fn kernel_writes(ins: &Instruction) -> RegSet {
    ins.may_write().union(ins.linux_scratch())
}

/// The writes of `ins` ([`written`]), `add`/`sub` of an immediate as a constant step.
fn writes(ins: &Instruction, out: &mut Vec<(Reg, Write)>) {
    match *ins {
        Instruction::Alu {
            op: AluOp::Add,
            width,
            dst,
            src: Operand::Imm(c),
        } => out.push((dst, Write::Step(i64::from(c), width))),
        Instruction::Alu {
            op: AluOp::Sub,
            width,
            dst,
            src: Operand::Imm(c),
        } => out.push((dst, Write::Step(-i64::from(c), width))),
        _ => out.extend(kernel_writes(ins).iter().map(|r| (r, Write::Other))),
    }
}

/// The writes of the instructions in slots `start..end` (one block). Within the block, a
/// register loaded with a constant (`lddw`, `mov imm`) and not written since makes
/// `add dst, reg` / `sub dst, reg` (64-bit) a constant step, like an immediate: the register
/// holds exactly that constant when the step runs.
fn block_writes(program: &Program, start: usize, end: usize, out: &mut Vec<(Reg, Write)>) {
    let mut consts: [Option<i64>; 11] = [None; 11];
    for ins in &program.instructions()[start..end] {
        let mut w = Vec::new();
        match *ins {
            Instruction::Alu {
                op: op @ (AluOp::Add | AluOp::Sub),
                width: Width::W64,
                dst,
                src: Operand::Reg(r),
            } if r != dst && consts[r.index()].is_some() => {
                let k = consts[r.index()].and_then(|k| {
                    if op == AluOp::Add {
                        Some(k)
                    } else {
                        k.checked_neg()
                    }
                });
                // `i64::MIN` has no magnitude in `i64`: not a step.
                w.push(match k {
                    Some(k) if k != 0 && k != i64::MIN => (dst, Write::Step(k, Width::W64)),
                    _ => (dst, Write::Other),
                });
            }
            _ => writes(ins, &mut w),
        }
        for (r, _) in &w {
            consts[r.index()] = None;
        }
        match *ins {
            Instruction::LoadImm64 {
                dst,
                value: Lddw::Imm(v),
            } => consts[dst.index()] = Some(v as i64),
            Instruction::Alu {
                op: AluOp::Mov,
                width: Width::W64,
                dst,
                src: Operand::Imm(i),
            } => consts[dst.index()] = Some(i64::from(i)),
            _ => {}
        }
        out.extend(w);
    }
}

/// Whether every path from `head` back to `head` inside `body` passes through `cut`.
fn every_cycle_hits(cfg: &Cfg, head: usize, body: &HashSet<usize>, cut: &HashSet<usize>) -> bool {
    if cut.contains(&head) {
        return true;
    }
    let mut seen = HashSet::new();
    let mut work: Vec<usize> = cfg.blocks[head].succs.clone();
    while let Some(b) = work.pop() {
        if b == head {
            return false;
        }
        if !body.contains(&b) || cut.contains(&b) || !seen.insert(b) {
            continue;
        }
        work.extend(cfg.blocks[b].succs.iter().copied());
    }
    true
}

/// Loops of a function and their candidate exit tests (keyed by slot).
#[must_use]
pub fn find_loops(
    program: &Program,
    cfg: &Cfg,
    wto: &[Elem],
) -> (Vec<LoopInfo>, HashMap<usize, Candidate>) {
    let mut loops = Vec::new();
    let mut cands = HashMap::new();
    let mut work: Vec<&Elem> = wto.iter().collect();
    while let Some(e) = work.pop() {
        let Elem::Component(h, body) = e else {
            continue;
        };
        work.extend(body.iter());
        let mut list = Vec::new();
        nodes(e, &mut list);
        let set: HashSet<usize> = list.iter().copied().collect();
        let mut w = Vec::new();
        for &b in &list {
            let blk = &cfg.blocks[b];
            block_writes(program, blk.start, blk.end, &mut w);
        }
        // No inner loop and no entry but the head: every trip runs each block at most once.
        let simple = body.iter().all(|x| matches!(x, Elem::Vertex(_)))
            && list
                .iter()
                .all(|&m| m == *h || cfg.blocks[m].preds.iter().all(|(p, _)| set.contains(p)));
        let mut info = LoopInfo {
            head_pc: cfg.blocks[*h].start,
            tests: Vec::new(),
        };
        let mut trip = None;
        for &b in &list {
            let c = candidate(program, cfg, *h, &set, b, &w)
                .map(|mut c| {
                    if simple {
                        c.prog =
                            crate::termination_prog::step_first(program, cfg, *h, &set, b, c.ind);
                    }
                    c
                })
                .or_else(|| {
                    let t =
                        trip.get_or_insert_with(|| termination_rel::trip(program, cfg, *h, &set));
                    rel_candidate(program, cfg, *h, &set, b, &w, t)
                        .or_else(|| square_candidate(program, cfg, *h, &set, b, &w, t))
                })
                .or_else(|| via_candidate(program, cfg, *h, &set, b, &w));
            if let Some(c) = c {
                let pc = cfg.blocks[b].last;
                info.tests.push(pc);
                cands.insert(pc, c);
            }
        }
        loops.push(info);
    }
    (loops, cands)
}

/// Whether `bound` may be the bound of an exit test that stays while `ind stay bound`.
///
/// A bound register the loop writes (reloaded from a spill, recomputed after a call) is fine for
/// an ordering test: [`candidate_ok`] checks the range of the bound in the state at the test,
/// which covers every visit, so the induction register stays below (above) that range's extreme
/// on every trip it stays, whatever the bound is on that trip. A `!=` test needs the bound to
/// hold still (the register could step over a bound that moves), so there it must not be
/// written in the loop.
fn bound_usable(bound: Operand, stay: Cond, w: &[(Reg, Write)]) -> bool {
    match bound {
        Operand::Imm(_) => true,
        Operand::Reg(r) => stay != Cond::Ne || !w.iter().any(|(x, _)| *x == r),
    }
}

/// One reading of an exit test: induction register, condition to stay, bound.
type Reading = (Reg, Cond, Operand);

/// The exit test ending block `b`, if it leaves the loop on one edge and is on every cycle: the
/// ways to read it as `ind stay bound` (induction register on the left).
fn exit_test(
    program: &Program,
    cfg: &Cfg,
    head: usize,
    body: &HashSet<usize>,
    b: usize,
) -> Option<(Width, Vec<Reading>)> {
    let blk = &cfg.blocks[b];
    let Instruction::Jump {
        cond,
        width,
        dst,
        src,
        ..
    } = program.instructions()[blk.last]
    else {
        return None;
    };
    if blk.succs.len() != 2 || cond == Cond::Set {
        return None;
    }
    let (fall_in, taken_in) = (body.contains(&blk.succs[0]), body.contains(&blk.succs[1]));
    if fall_in == taken_in {
        return None;
    }
    let stay = if taken_in { cond } else { negate(cond) };
    let mut options = vec![(dst, stay, src)];
    if let Operand::Reg(r) = src {
        options.push((r, swap(stay), Operand::Reg(dst)));
    }
    let test_cut: HashSet<usize> = [b].into_iter().collect();
    if !every_cycle_hits(cfg, head, body, &test_cut) {
        return None;
    }
    Some((width, options))
}

fn up_dir(up: bool, stay: Cond) -> bool {
    matches!(
        (up, stay),
        (true, Cond::Lt | Cond::Le | Cond::Slt | Cond::Sle | Cond::Ne)
            | (
                false,
                Cond::Gt | Cond::Ge | Cond::Sgt | Cond::Sge | Cond::Ne
            )
    )
}

/// An exit test on a register recomputed each trip from one stepped by a constant (see
/// [`termination_rel`]).
fn rel_candidate(
    program: &Program,
    cfg: &Cfg,
    head: usize,
    body: &HashSet<usize>,
    b: usize,
    w: &[(Reg, Write)],
    trip: &termination_rel::Trip,
) -> Option<Candidate> {
    let (width, options) = exit_test(program, cfg, head, body, b)?;
    for (ind, stay, bound) in options {
        if !bound_usable(bound, stay, w) {
            continue;
        }
        let Some((d, trunc)) = termination_rel::induction(trip, b, ind) else {
            continue;
        };
        if !up_dir(d > 0, stay) {
            continue;
        }
        return Some(Candidate {
            ind,
            step: d,
            add_w: if trunc { Width::W32 } else { Width::W64 },
            stay,
            cmp_w: width,
            bound,
            via: None,
            prog: None,
            square: None,
        });
    }
    None
}

/// An exit test `t <= bound` (or `<`) on the square of a register stepped up by a constant
/// (`for (d = 3; d * d <= n; d += 2)`), see [`square_ok`].
fn square_candidate(
    program: &Program,
    cfg: &Cfg,
    head: usize,
    body: &HashSet<usize>,
    b: usize,
    w: &[(Reg, Write)],
    trip: &termination_rel::Trip,
) -> Option<Candidate> {
    let (width, options) = exit_test(program, cfg, head, body, b)?;
    if width != Width::W64 {
        return None;
    }
    for (t, stay, bound) in options {
        if !matches!(stay, Cond::Lt | Cond::Le) || !bound_usable(bound, stay, w) {
            continue;
        }
        let Some((base, c, d)) = termination_rel::square(trip, b, t) else {
            continue;
        };
        let Some(base) = Reg::new(base) else { continue };
        return Some(Candidate {
            ind: t,
            step: d,
            add_w: Width::W64,
            stay,
            cmp_w: width,
            bound,
            via: None,
            prog: None,
            square: Some((base, c)),
        });
    }
    None
}

/// Whether a square candidate's base, on entry to the loop (`entry`, the state entering its
/// head in a final pass, which covers every concrete entry), gives `base + c < 2^32` with no
/// wrap-around: the first square the test sees is then exact.
#[must_use]
pub fn square_entry(c: &Candidate, entry: &State) -> bool {
    let Some((base, k)) = c.square else {
        return false;
    };
    let Some(x) = entry.regs[base.index()].scalar() else {
        return false;
    };
    let (lo, hi) = (
        i128::from(x.umin) + i128::from(k),
        i128::from(x.umax) + i128::from(k),
    );
    lo >= 0 && hi < 1 << 32
}

/// The square rule, at the test in state `s`, `entry_ok` from [`square_entry`]. The tested
/// value is `y²` (64-bit, wrapping) with `y = base + c` moving up by exactly `d` per trip. Let
/// `B` be the largest value the loop stays for (the bound's maximum at the test, less one for
/// `<`) and `r = ⌊√B⌋`. While `y < 2^32` its square is exact, so the loop stays only if
/// `y <= r`. `y` starts below `2^32` (`entry_ok`) and, if `r + d < 2^32`, each trip that stays
/// leaves `y <= r + d < 2^32`: by induction every square the test sees is exact, `y` rises by
/// `d` without wrapping, and the loop leaves after at most `r / d + 1` trips. A bound that may
/// reach `(2^32 - 1)²` or a step of `2^32` (where `y²` wraps to the same values forever) fails.
#[must_use]
pub fn square_ok(c: &Candidate, s: &State, entry_ok: bool) -> bool {
    if c.square.is_none() || !entry_ok || c.step <= 0 {
        return false;
    }
    let bound_max = match c.bound {
        Operand::Imm(i) => imm_value(i, Width::W64),
        Operand::Reg(r) => match s.regs[r.index()].scalar() {
            Some(b) => b.umax,
            None => return false,
        },
    };
    let stay_max = match c.stay {
        Cond::Le => i128::from(bound_max),
        Cond::Lt => i128::from(bound_max) - 1,
        _ => return false,
    };
    if stay_max < 0 {
        return true;
    }
    let r = i128::from(u64::try_from(stay_max).map_or(u64::MAX, u64::isqrt));
    r + i128::from(c.step) < 1 << 32
}

/// An exit test on a register that is not stepped, compared while it equals a register
/// stepped in place plus a constant (checked on the state at the test by [`candidate_ok`]):
/// it then moves by exactly that register's step every trip (64-bit steps and comparison
/// only: the relation is one of 64-bit values).
fn via_candidate(
    program: &Program,
    cfg: &Cfg,
    head: usize,
    body: &HashSet<usize>,
    b: usize,
    w: &[(Reg, Write)],
) -> Option<Candidate> {
    let (width, options) = exit_test(program, cfg, head, body, b)?;
    if width != Width::W64 {
        return None;
    }
    for (tested, stay, bound) in options {
        if !bound_usable(bound, stay, w) {
            continue;
        }
        for i in 0..10u8 {
            let Some(ind) = Reg::new(i) else { continue };
            if ind == tested {
                continue;
            }
            let Some((step, Width::W64)) = stepped(program, cfg, head, body, w, ind) else {
                continue;
            };
            if !up_dir(step > 0, stay) {
                continue;
            }
            return Some(Candidate {
                ind: tested,
                step,
                add_w: Width::W64,
                stay,
                cmp_w: width,
                bound,
                via: Some(ind),
                prog: None,
                square: None,
            });
        }
    }
    None
}

/// Whether `ind` is stepped in place by one constant on every cycle of the loop, at a single
/// site: its signed step and width.
fn stepped(
    program: &Program,
    cfg: &Cfg,
    head: usize,
    body: &HashSet<usize>,
    w: &[(Reg, Write)],
    ind: Reg,
) -> Option<(i64, Width)> {
    let steps: Vec<Write> = w
        .iter()
        .filter(|(x, _)| *x == ind)
        .map(|(_, k)| *k)
        .collect();
    let [Write::Step(step, add_w)] = steps[..] else {
        return None;
    };
    if step == 0 {
        return None;
    }
    let inc_blocks = blocks_writing(program, cfg, body, ind);
    every_cycle_hits(cfg, head, body, &inc_blocks).then_some((step, add_w))
}

/// The blocks of `body` with an instruction that writes `reg`.
fn blocks_writing(program: &Program, cfg: &Cfg, body: &HashSet<usize>, reg: Reg) -> HashSet<usize> {
    body.iter()
        .copied()
        .filter(|&x| {
            let bl = &cfg.blocks[x];
            let mut v = Vec::new();
            for ins in &program.instructions()[bl.start..bl.end] {
                writes(ins, &mut v);
            }
            v.iter().any(|(r, _)| *r == reg)
        })
        .collect()
}

fn candidate(
    program: &Program,
    cfg: &Cfg,
    head: usize,
    body: &HashSet<usize>,
    b: usize,
    w: &[(Reg, Write)],
) -> Option<Candidate> {
    let (width, options) = exit_test(program, cfg, head, body, b)?;
    for (ind, stay, bound) in options {
        if !bound_usable(bound, stay, w) {
            continue;
        }
        let steps: Vec<Write> = w
            .iter()
            .filter(|(x, _)| *x == ind)
            .map(|(_, k)| *k)
            .collect();
        let Some(Write::Step(first, add_w)) = steps.first().copied() else {
            continue;
        };
        let consistent = steps.iter().all(|k| matches!(k, Write::Step(c, wd) if *wd == add_w && *c != 0 && (*c > 0) == (first > 0)));
        if !consistent {
            continue;
        }
        let up = first > 0;
        if !up_dir(up, stay) {
            continue;
        }
        let inc_blocks = blocks_writing(program, cfg, body, ind);
        if !every_cycle_hits(cfg, head, body, &inc_blocks) {
            continue;
        }
        let step = steps
            .iter()
            .filter_map(|k| match k {
                Write::Step(c, _) => Some(c.abs()),
                Write::Other => None,
            })
            .max()
            .unwrap_or(1);
        // With several steps on one trip the register moves by their sum; bounding by the
        // largest single step is not enough, so only one step site is accepted per trip.
        if steps.len() != 1 {
            continue;
        }
        return Some(Candidate {
            ind,
            step: if up { step } else { -step },
            add_w,
            stay,
            cmp_w: width,
            bound,
            via: None,
            prog: None,
            square: None,
        });
    }
    None
}

/// Whether the candidate's bound keeps the induction register from wrapping past it, in state
/// `s` at the test.
#[must_use]
pub fn candidate_ok(c: &Candidate, s: &State) -> bool {
    if c.square.is_some() {
        // Needs the entry state too: [`square_ok`].
        return false;
    }
    if let Some(v) = c.via {
        let (t, v) = (c.ind.index() as u8, v.index() as u8);
        let exact = s.rels.iter().any(|r| {
            !r.ternary()
                && r.k == 1
                && r.lo == r.hi
                && ((r.a, r.b) == (t, v) || (r.a, r.b) == (v, t))
        });
        if !exact {
            return false;
        }
    }
    let Some(ind) = s.regs[c.ind.index()].scalar() else {
        return false;
    };
    let bound = match c.bound {
        Operand::Imm(i) => crate::domain::Scalar::constant(imm_value(i, c.cmp_w)),
        Operand::Reg(r) => match s.regs[r.index()].scalar() {
            Some(b) => *b,
            None => return false,
        },
    };
    let (bu, bs, iu) = match c.cmp_w {
        Width::W64 => (
            (i128::from(bound.umin), i128::from(bound.umax)),
            (i128::from(bound.smin), i128::from(bound.smax)),
            (i128::from(ind.umin), i128::from(ind.umax)),
        ),
        Width::W32 => (
            (i128::from(bound.u32min), i128::from(bound.u32max)),
            (i128::from(bound.s32min), i128::from(bound.s32max)),
            (i128::from(ind.u32min), i128::from(ind.u32max)),
        ),
    };
    let (ucap, smin_cap, smax_cap): (i128, i128, i128) = match (c.add_w, c.cmp_w) {
        (Width::W64, Width::W64) => (
            i128::from(u64::MAX),
            i128::from(i64::MIN),
            i128::from(i64::MAX),
        ),
        (Width::W32, Width::W64) => (i128::from(u32::MAX), 0, i128::from(u32::MAX)),
        _ => (
            i128::from(u32::MAX),
            i128::from(i32::MIN),
            i128::from(i32::MAX),
        ),
    };
    let d = i128::from(c.step.unsigned_abs());
    match c.stay {
        Cond::Lt => bu.1 - 1 + d <= ucap,
        Cond::Le => bu.1 + d <= ucap,
        Cond::Slt => bs.1 - 1 + d <= smax_cap,
        Cond::Sle => bs.1 + d <= smax_cap,
        Cond::Gt => bu.0 + 1 - d >= 0,
        Cond::Ge => bu.0 - d >= 0,
        Cond::Sgt => bs.0 + 1 - d >= smin_cap,
        Cond::Sge => bs.0 - d >= smin_cap,
        Cond::Ne => {
            d == 1
                && if c.step > 0 {
                    // The bound must be reachable: a step narrower than the comparison wraps
                    // below a bound past its range.
                    iu.1 <= bu.0 && bu.1 <= ucap
                } else {
                    iu.0 >= bu.1
                }
        }
        _ => false,
    }
}
