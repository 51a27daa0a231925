//! The forward fixpoint: blocks are visited in weak topological order; a loop head joins its
//! predecessors, widens after one plain join, and when stable gets one narrowing pass. Checks
//! failing during the ascending iterations of a loop only cut that path ("soft"); the final pass
//! over every block, made with the final states, reports them ("hard"), which is sound because
//! that state is a post-fixpoint of the checked transfer functions.
//!
//! Calls are analysed per calling context and cached (callee, entry state).

use std::collections::{BTreeSet, HashMap};
use std::rc::Rc;
use std::time::Instant;

use apiary_vm::instruction::{Instruction, Reg};

use crate::cfg::Cfg;
use crate::domain::disjuncts::{self, Parts};
use crate::domain::{Scalar, State, Thresholds, Val};
use crate::error::{RejectReason, Rejection};
use crate::termination::{self, Candidate, LoopInfo};
use crate::transfer::{self, alu, assume, branch, mem, Env};
use crate::wto::{self, Elem};
use crate::Limits;

/// Per-function analysis data.
#[derive(Debug)]
pub struct FuncInfo {
    /// Blocks.
    pub cfg: Cfg,
    /// Their weak topological order.
    pub wto: Vec<Elem>,
    /// Loops.
    pub loops: Vec<LoopInfo>,
    /// Candidate exit tests by slot.
    pub cands: HashMap<usize, Candidate>,
}

pub(crate) struct Run {
    entry: State,
    pub(crate) over: Vec<Option<State>>,
    pub(crate) outs: Vec<[Parts; 2]>,
    exit: Option<State>,
    base_soft: u32,
}

/// Counters reported with the verdict.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Instructions visited (with revisits).
    pub visited: u64,
    /// Loop iterations (component passes).
    pub iterations: u64,
    /// Calling contexts analysed.
    pub contexts: u64,
}

/// The analysis of one program.
pub struct Analyzer<'a> {
    pub(crate) env: Env<'a>,
    pub(crate) funcs: HashMap<usize, Rc<FuncInfo>>,
    pub(crate) th: Thresholds,
    pub(crate) soft: u32,
    /// Per slot: 0 unvisited, 1 proven so far, 2 not proven.
    pub(crate) facts: Vec<u8>,
    pub(crate) log: Option<Vec<String>>,
    pub(crate) exit_r0: Option<Scalar>,
    pub(crate) exit_any: bool,
    pub(crate) cache: HashMap<(usize, State), (bool, Option<State>)>,
    pub(crate) counters: Counters,
    pub(crate) limits: Limits,
    pub(crate) start: Instant,
    pub(crate) cand_ok: HashMap<usize, bool>,
    /// Per exit test: proven by [`crate::termination_prog`] from the entry state of the loop's
    /// current final pass.
    pub(crate) prog_ok: HashMap<usize, bool>,
    /// Per square exit test ([`termination::square_entry`]): the entry state of the loop's
    /// current final pass starts the squared register below 2^32.
    pub(crate) square_entry: HashMap<usize, bool>,
    pub(crate) heads_reached: BTreeSet<usize>,
    /// Per loop head: proven by [`Analyzer::unroll`] in every final pass over it.
    pub(crate) unroll_ok: HashMap<usize, bool>,
    /// Loops being analysed (nested components, also across calls).
    pub(crate) nest: u32,
}

impl std::fmt::Debug for Analyzer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Analyzer")
            .field("counters", &self.counters)
            .finish_non_exhaustive()
    }
}

type Outs = [Option<State>; 2];

impl<'a> Analyzer<'a> {
    /// A fresh analysis.
    #[must_use]
    pub fn new(env: Env<'a>, limits: Limits, log: bool) -> Self {
        let mut imms = Vec::new();
        for ins in env.program.instructions() {
            match ins {
                Instruction::Alu {
                    src: apiary_vm::instruction::Operand::Imm(i),
                    ..
                }
                | Instruction::Jump {
                    src: apiary_vm::instruction::Operand::Imm(i),
                    ..
                } => imms.push(i64::from(*i)),
                _ => {}
            }
        }
        for m in env.maps {
            imms.extend([i64::from(m.value_size), i64::from(m.max_entries)]);
        }
        let n = env.program.len();
        Self {
            env,
            funcs: HashMap::new(),
            th: Thresholds::new(imms),
            soft: 0,
            facts: vec![0; n],
            log: log.then(|| vec![String::new(); n]),
            exit_r0: None,
            exit_any: false,
            cache: HashMap::new(),
            counters: Counters::default(),
            limits,
            start: Instant::now(),
            cand_ok: HashMap::new(),
            prog_ok: HashMap::new(),
            square_entry: HashMap::new(),
            heads_reached: BTreeSet::new(),
            unroll_ok: HashMap::new(),
            nest: 0,
        }
    }

    pub(crate) fn rejection(&self, pc: usize, reason: RejectReason, s: &State) -> Rejection {
        let ins = self.env.program.instructions();
        let instruction = match (ins.get(pc), self.env.program.insns().get(pc)) {
            (Some(i), Some(slot)) => apiary_vm::disasm::format_instruction(i, *slot, pc),
            _ => String::new(),
        };
        Rejection {
            pc,
            instruction,
            reason,
            state: s.describe(),
        }
    }

    fn func(&mut self, start: usize) -> Result<Rc<FuncInfo>, RejectReason> {
        if let Some(f) = self.funcs.get(&start) {
            return Ok(Rc::clone(f));
        }
        let f = self
            .env
            .program
            .functions()
            .iter()
            .find(|f| f.start == start)
            .copied()
            .ok_or(RejectReason::Unsupported {
                what: format!("call to {start}, not a function start"),
            })?;
        let cfg = Cfg::build(self.env.program, f);
        if cfg.blocks.len() > self.limits.max_blocks {
            return Err(RejectReason::StateLimit {
                limit: self.limits.max_blocks,
            });
        }
        let succs: Vec<Vec<usize>> = cfg.blocks.iter().map(|b| b.succs.clone()).collect();
        let wto = wto::build(&succs);
        let (loops, cands) = termination::find_loops(self.env.program, &cfg, &wto);
        let info = Rc::new(FuncInfo {
            cfg,
            wto,
            loops,
            cands,
        });
        self.funcs.insert(start, Rc::clone(&info));
        Ok(info)
    }

    /// Analyses the function at `start` from `entry`; the join of its exit states.
    ///
    /// # Errors
    /// The first hard check failure, or a limit.
    pub fn analyze(&mut self, start: usize, entry: State) -> Result<Option<State>, Rejection> {
        let f = self
            .func(start)
            .map_err(|e| self.rejection(start, e, &entry))?;
        self.counters.contexts += 1;
        let n = f.cfg.blocks.len();
        let mut run = Run {
            entry,
            over: vec![None; n],
            outs: vec![[Parts::default(), Parts::default()]; n],
            exit: None,
            base_soft: self.soft,
        };
        self.top(&f, &mut run)?;
        Ok(run.exit)
    }

    /// The top level of the function's weak topological order. Each state on an edge is read
    /// only by the edge's target, so a block outside every loop (visited once) takes the states
    /// of its incoming edges, and the edges into a loop are freed once the loop is done: only
    /// the frontier of the analysis stays in memory.
    fn top(&mut self, f: &FuncInfo, run: &mut Run) -> Result<(), Rejection> {
        for e in &f.wto {
            match e {
                Elem::Vertex(v) => self.vertex_with(f, run, *v, true)?,
                Elem::Component(h, body) => {
                    self.component(f, run, *h, body, e)?;
                    let mut members = Vec::new();
                    wto::nodes(e, &mut members);
                    for m in members {
                        for &(p, i) in &f.cfg.blocks[m].preds {
                            run.outs[p][i] = Parts::default();
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// The states flowing into block `b` (its loop-head state when it has one), at most
    /// `max` of them; `take`: move them out of the incoming edges (read for the last time).
    fn pre_parts(f: &FuncInfo, run: &mut Run, b: usize, max: usize, take: bool) -> Vec<State> {
        if let Some(s) = &run.over[b] {
            return vec![s.clone()];
        }
        let mut parts = Parts::default();
        if b == 0 {
            parts.push(run.entry.clone());
        }
        for &(p, e) in &f.cfg.blocks[b].preds {
            parts.extend(&mut run.outs[p][e], take);
        }
        let mut parts = parts.into_states();
        disjuncts::bound(&mut parts, max);
        parts
    }

    /// The join of every state flowing into block `b` from its predecessors.
    fn pre(f: &FuncInfo, run: &Run, b: usize) -> Option<State> {
        let mut acc: Option<State> = (b == 0).then(|| run.entry.clone());
        for &(p, e) in &f.cfg.blocks[b].preds {
            for o in run.outs[p][e].states() {
                acc = Some(match acc {
                    None => o.clone(),
                    Some(a) => a.join(o, None),
                });
            }
        }
        acc
    }

    pub(crate) fn vertex(
        &mut self,
        f: &FuncInfo,
        run: &mut Run,
        v: usize,
    ) -> Result<(), Rejection> {
        self.vertex_with(f, run, v, false)
    }

    fn vertex_with(
        &mut self,
        f: &FuncInfo,
        run: &mut Run,
        v: usize,
        take: bool,
    ) -> Result<(), Rejection> {
        let mut outs: [Parts; 2] = [Parts::default(), Parts::default()];
        for s in Self::pre_parts(f, run, v, self.limits.max_paths, take) {
            let [a, b] = self.block(f, run, v, s)?;
            for (i, o) in [a, b].into_iter().enumerate() {
                if let Some(o) = o {
                    outs[i].push(o);
                }
            }
        }
        run.outs[v] = outs;
        Ok(())
    }

    pub(crate) fn elems(
        &mut self,
        f: &FuncInfo,
        run: &mut Run,
        elems: &[Elem],
    ) -> Result<(), Rejection> {
        for e in elems {
            match e {
                Elem::Vertex(v) => self.vertex(f, run, *v)?,
                Elem::Component(h, body) => self.component(f, run, *h, body, e)?,
            }
        }
        Ok(())
    }

    fn component(
        &mut self,
        f: &FuncInfo,
        run: &mut Run,
        h: usize,
        body: &[Elem],
        e: &Elem,
    ) -> Result<(), Rejection> {
        self.nest += 1;
        let r = self.component_in(f, run, h, body, e);
        self.nest -= 1;
        r
    }

    fn component_in(
        &mut self,
        f: &FuncInfo,
        run: &mut Run,
        h: usize,
        body: &[Elem],
        e: &Elem,
    ) -> Result<(), Rejection> {
        let mut members = Vec::new();
        wto::nodes(e, &mut members);
        for &m in &members {
            run.outs[m] = [Parts::default(), Parts::default()];
            run.over[m] = None;
        }
        let entered = Self::pre(f, run, h);
        // An outermost loop of a few trips is first run trip by trip, within small budgets
        // (`unroll_first`); the loop is then done, recorded as reached and terminating.
        if self.soft == 0 && self.nest == 1 {
            if let Some(s) = entered.clone() {
                if self.unroll_first(f, run, h, body, &members, s) {
                    self.heads_reached.insert(f.cfg.blocks[h].start);
                    return Ok(());
                }
            }
        }
        let mut head = match entered.clone() {
            Some(s) => s,
            None => {
                // An irreducible loop may be entered at another member while its head is not
                // (yet) reached: pass once with no state at the head. Every cycle of the
                // component goes through the head, so if that pass brings nothing back to it,
                // it was the whole analysis of the component; otherwise iterate from there.
                self.vertex(f, run, h)?;
                self.elems(f, run, body)?;
                match Self::pre(f, run, h) {
                    Some(s) => s,
                    None => return Ok(()),
                }
            }
        };
        self.soft += 1;
        let mut iter = 0u32;
        let result = loop {
            run.over[h] = Some(head.clone());
            if let Err(e) = self
                .vertex(f, run, h)
                .and_then(|()| self.elems(f, run, body))
            {
                break Err(e);
            }
            self.counters.iterations += 1;
            let new = Self::pre(f, run, h).unwrap_or_else(|| head.clone());
            let joined = head.join_at_head(&new);
            if joined == head {
                break Ok(new);
            }
            iter += 1;
            if iter > self.limits.max_loop_iterations {
                let pc = f.cfg.blocks[h].start;
                break Err(self.rejection(
                    pc,
                    RejectReason::IterationLimit {
                        limit: u64::from(self.limits.max_loop_iterations),
                    },
                    &head,
                ));
            }
            head = if iter <= 1 {
                joined
            } else {
                head.join(&joined, Some(&self.th))
            };
        };
        self.soft -= 1;
        let narrowed = result?;
        if self.soft == 0 {
            let pc = f.cfg.blocks[h].start;
            self.heads_reached.insert(pc);
            for l in f.loops.iter().filter(|l| l.head_pc == pc) {
                for t in &l.tests {
                    if let Some(c) = f.cands.get(t) {
                        let ok = entered
                            .as_ref()
                            .is_some_and(|s| crate::termination_prog::proves(c, s));
                        self.prog_ok.insert(*t, ok);
                        let sq = entered
                            .as_ref()
                            .is_some_and(|s| termination::square_entry(c, s));
                        self.square_entry.insert(*t, sq);
                    }
                }
            }
        }
        // An outermost loop whose final pass fails gets a second chance trip by trip
        // (`unroll_fully`): keep what the final pass would otherwise leave behind.
        let retry = match entered {
            Some(s) if self.soft == 0 && self.nest == 1 => Some((
                s,
                self.facts.clone(),
                self.cand_ok.clone(),
                self.unroll_ok.clone(),
            )),
            _ => None,
        };
        match self.final_passes(f, run, h, body, &members, narrowed, head) {
            Err(e) if !e.reason.is_limit() => match retry {
                Some((entry, facts, cand_ok, unroll_ok)) => {
                    self.facts = facts;
                    self.cand_ok = cand_ok;
                    self.unroll_ok = unroll_ok;
                    if self.unroll_fully(f, run, h, body, &members, entry) {
                        Ok(())
                    } else {
                        Err(e)
                    }
                }
                None => Err(e),
            },
            r => r,
        }
    }

    /// The checked passes over a loop from its invariant.
    #[allow(clippy::too_many_arguments)]
    fn final_passes(
        &mut self,
        f: &FuncInfo,
        run: &mut Run,
        h: usize,
        body: &[Elem],
        members: &[usize],
        narrowed: State,
        head: State,
    ) -> Result<(), Rejection> {
        run.over[h] = Some(narrowed.clone());
        self.vertex(f, run, h)?;
        self.elems(f, run, body)?;
        // The narrowed head is an invariant only if the final pass, which may follow paths the
        // ascending passes cut at a failed check, brings nothing new back to it. Otherwise pass
        // once more from the post-fixpoint `head`: that pass repeats the last ascending one, so
        // it either reports the check that cut a path or brings back a state within `head`.
        let back = Self::pre(f, run, h);
        if back.is_some_and(|b| narrowed.join_at_head(&b) != narrowed) {
            run.over[h] = Some(head);
            self.vertex(f, run, h)?;
            self.elems(f, run, body)?;
        }
        if self.soft == 0 {
            self.unroll_final(f, run, h, body, members);
        }
        Ok(())
    }

    /// In a final pass over the loop at `h`: unless its exit tests are proven so far, try
    /// [`Analyzer::unroll`] from the head state of the pass. A loop counts as proven by
    /// unrolling only if every final pass over it proved it.
    fn unroll_final(&mut self, f: &FuncInfo, run: &mut Run, h: usize, body: &[Elem], m: &[usize]) {
        let pc = f.cfg.blocks[h].start;
        let by_tests = f
            .loops
            .iter()
            .any(|l| l.head_pc == pc && l.tests.iter().any(|t| self.cand_ok.get(t) == Some(&true)));
        let ok = !by_tests
            && match run.over[h].clone() {
                Some(s0) => self.unroll(f, run, h, body, m, s0),
                None => true,
            };
        *self.unroll_ok.entry(pc).or_insert(true) &= ok;
    }

    fn check_budget(&self, pc: usize, s: &State) -> Result<(), Rejection> {
        if self.counters.visited > self.limits.max_visits {
            return Err(self.rejection(
                pc,
                RejectReason::IterationLimit {
                    limit: self.limits.max_visits,
                },
                s,
            ));
        }
        if self.counters.visited.is_multiple_of(1024) {
            let ms = self.start.elapsed().as_millis() as u64;
            if ms > self.limits.max_millis {
                return Err(self.rejection(
                    pc,
                    RejectReason::Timeout {
                        millis: self.limits.max_millis,
                    },
                    s,
                ));
            }
        }
        Ok(())
    }

    fn block(
        &mut self,
        f: &FuncInfo,
        run: &mut Run,
        b: usize,
        mut s: State,
    ) -> Result<Outs, Rejection> {
        let blk = &f.cfg.blocks[b];
        let hard = self.soft == 0;
        macro_rules! tri {
            ($pc:expr, $e:expr) => {
                match $e {
                    Ok(x) => x,
                    Err(reason) => {
                        if self.soft > 0 && !reason.is_limit() {
                            return Ok([None, None]);
                        }
                        return Err(self.rejection($pc, reason, &s));
                    }
                }
            };
        }
        let mut shifted = None;
        for pc in blk.start..blk.end {
            let ins = self.env.program.instructions()[pc];
            if ins == Instruction::LddwTail {
                continue;
            }
            self.counters.visited += 1;
            self.check_budget(pc, &s)?;
            if hard {
                if let Some(log) = &mut self.log {
                    log[pc] = s.describe();
                }
            }
            let pre_syms = s.syms;
            let pre_fits = transfer::syms::fits32(&ins, &s);
            let guard_src = transfer::guards::before(&ins, &s);
            let pre_rel = transfer::linrel::before(&ins, &s);
            let env = &self.env;
            let mut fact: Option<bool> = None;
            match ins {
                Instruction::Alu {
                    op,
                    width,
                    dst,
                    src,
                } => tri!(pc, alu::alu(pc, &mut s, op, width, dst, src)),
                Instruction::Neg { width, dst } => tri!(pc, alu::neg(&mut s, width, dst)),
                Instruction::Endian { order, bits, dst } => {
                    tri!(pc, alu::endian(&mut s, order, bits, dst))
                }
                Instruction::Load {
                    size,
                    sign_extend,
                    dst,
                    src,
                    off,
                } => {
                    let mut r = mem::load(env, &mut s, size, sign_extend, dst, src, off);
                    if self.soft > 0 && assume::in_bounds(&mut s, &r, src, off) {
                        r = mem::load(env, &mut s, size, sign_extend, dst, src, off);
                    }
                    fact = Some(tri!(pc, r));
                }
                Instruction::Store {
                    size,
                    dst,
                    off,
                    src,
                } => {
                    let mut r = mem::store(env, &mut s, size, dst, off, src);
                    if self.soft > 0 && assume::in_bounds(&mut s, &r, dst, off) {
                        r = mem::store(env, &mut s, size, dst, off, src);
                    }
                    fact = Some(tri!(pc, r));
                }
                Instruction::Atomic {
                    size,
                    op,
                    fetch,
                    dst,
                    src,
                    off,
                } => {
                    fact = Some(tri!(
                        pc,
                        mem::atomic(env, &mut s, size, op, fetch, dst, src, off)
                    ));
                }
                Instruction::LoadImm64 { dst, value } => {
                    tri!(pc, transfer::load_imm64(env, &mut s, dst, value))
                }
                Instruction::LoadPacket { addr, size, .. } => {
                    tri!(pc, self.legacy_packet(&mut s, addr, size))
                }
                Instruction::Ja { .. } => return Ok([Some(s), None]),
                Instruction::Jump {
                    cond,
                    width,
                    dst,
                    src,
                    ..
                } => {
                    if hard {
                        if let Some(c) = f.cands.get(&pc) {
                            let ok = termination::candidate_ok(c, &s)
                                || self.prog_ok.get(&pc) == Some(&true)
                                || termination::square_ok(
                                    c,
                                    &s,
                                    self.square_entry.get(&pc) == Some(&true),
                                );
                            let e = self.cand_ok.entry(pc).or_insert(true);
                            *e &= ok;
                        }
                    }
                    let (fall, taken) =
                        tri!(pc, branch::branch(&self.env, pc, &s, cond, width, dst, src));
                    return Ok([fall, taken]);
                }
                Instruction::Exit => {
                    tri!(pc, self.exit(run, &s));
                    return Ok([None, None]);
                }
                Instruction::Call { helper } => {
                    if !tri!(pc, self.helper_call(pc, helper, &mut s)) {
                        return Ok([None, None]);
                    }
                }
                Instruction::CallLocal { target } => match self.call_local(pc, target, &s)? {
                    Some(n) => s = n,
                    None => return Ok([None, None]),
                },
                Instruction::CallX { .. } => tri!(
                    pc,
                    Err(RejectReason::Unsupported {
                        what: "callx".into()
                    })
                ),
                Instruction::CallKfunc { .. } => tri!(
                    pc,
                    Err(RejectReason::Unsupported {
                        what: "kfunc call".into()
                    })
                ),
                Instruction::LddwTail => {}
            }
            transfer::linrel::after(&ins, &mut s, pre_rel);
            transfer::syms::update_syms(pc, &ins, &mut s, &pre_syms);
            transfer::guards::after(&ins, &mut s, guard_src);
            shifted = transfer::syms::truncation(pc, &ins, &mut s, &pre_syms, pre_fits, shifted);
            if hard {
                if let Some(ok) = fact {
                    let cell = &mut self.facts[pc];
                    *cell = if ok && *cell != 2 { 1 } else { 2 };
                }
            }
        }
        Ok([Some(s), None])
    }

    pub(crate) fn record_exit(&mut self, v: &Val) {
        match v.scalar() {
            Some(x) => self.exit_r0 = Some(self.exit_r0.map_or(*x, |r| r.join(x))),
            None => self.exit_any = true,
        }
    }

    /// `exit`. Only the main program's r0 must be initialised here (Linux checks r0 at the exit
    /// of the main program and of callbacks, whose result the callback rule checks in
    /// `calls`): a subprogram may return nothing (a `void` static function), so its r0 goes
    /// back to the caller as it is, and an uninitialised r0 is rejected only where the caller
    /// reads it.
    fn exit(&mut self, run: &mut Run, s: &State) -> Result<(), RejectReason> {
        if s.depth() == 0 {
            let r0 = transfer::read(s, Reg::R0)?;
            if r0.scalar().is_none() && !self.env.privileged() {
                return Err(RejectReason::PointerLeak {
                    detail: "pointer returned in r0",
                });
            }
            if let Some(&id) = s.refs.first() {
                return Err(RejectReason::UnreleasedReference { id });
            }
            if self.soft == 0 {
                self.record_exit(&r0);
            }
        }
        if self.soft == run.base_soft {
            run.exit = Some(match run.exit.take() {
                None => s.clone(),
                Some(e) => e.join(s, None),
            });
        }
        Ok(())
    }
}

impl Analyzer<'_> {
    /// After the analysis: every loop head reached in a final pass needs a proven exit test.
    ///
    /// # Errors
    /// [`RejectReason::UnboundedLoop`] naming the loop head.
    pub fn check_termination(&self) -> Result<(), Rejection> {
        for f in self.funcs.values() {
            for l in &f.loops {
                if !self.heads_reached.contains(&l.head_pc) {
                    continue;
                }
                let proven = l
                    .tests
                    .iter()
                    .any(|t| self.cand_ok.get(t).copied() == Some(true));
                let proven = proven || self.unroll_ok.get(&l.head_pc) == Some(&true);
                if !proven {
                    return Err(self.rejection(
                        l.head_pc,
                        RejectReason::UnboundedLoop { head: l.head_pc },
                        &State::entry(),
                    ));
                }
            }
        }
        Ok(())
    }
}
