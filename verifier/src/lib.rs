//! apiary-verifier: an abstract-interpretation verifier for eBPF programs.
//!
//! [`verify`] proves, for a [`Program`] of a [`ProgramType`] on a [`Platform`] with the given
//! maps, that every run terminates, every memory access stays in a region that permits it, every
//! helper call matches its prototype and (for unprivileged types) no pointer leaks. It returns
//! [`Verified`] with facts the engines may use ([`apiary_vm::Facts`]) and the range of r0 at
//! exit, or the first [`Rejection`].
//!
//! Design (see `/work/shared/reference/VERIFIER.md` §6): mostly non-relational domains (known
//! bits plus signed/unsigned 64/32-bit ranges per scalar; pointers as region + offset, plus a
//! few linear relations `a - k·b ∈ [lo, hi]` between registers, [`domain::linrel`], so that a
//! pointer and a counter advanced together stay related; packet ranges
//! learned from `data_end` comparisons, kept through joins as facts guarded by a register or
//! spill when one path lacks them ([`domain::pkt_guard`]), with packet bases named alike on both
//! sides of a join ([`domain::pkt_rename`]); a byte-precise stack per frame whose spills keep
//! numbers through narrow and aligned variable-offset stores), a fixpoint over basic blocks in
//! weak topological order with threshold widening (ascending passes assume the accesses they
//! check, [`transfer::assume`]; an outermost loop whose invariant fails a check is run again
//! trip by trip, [`unroll_full`]), calls analysed per calling context, and termination proven
//! per loop from an induction variable (or a register related to one, or a progression from
//! known constants to a `!=` bound, [`termination_prog`]).

pub mod calls;
pub mod cfg;
pub mod domain;
pub mod error;
pub mod fixpoint;
pub mod partial;
pub mod platform;
pub mod termination;
pub mod termination_prog;
pub mod termination_rel;
pub mod transfer;
pub mod unroll;
pub mod unroll_full;
pub mod wto;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use apiary_vm::instruction::{Instruction, Lddw};
use apiary_vm::{Facts, Program};

pub use domain::Scalar;
pub use error::{RejectReason, Rejection};
pub use fixpoint::Counters;
pub use platform::{MapInfo, Platform, ProgramType};

/// Resource limits; exceeding one rejects the program with its own reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Instruction visits in all (with revisits).
    pub max_visits: u64,
    /// Ascending iterations of one loop.
    pub max_loop_iterations: u32,
    /// Calling contexts kept.
    pub max_contexts: usize,
    /// Basic blocks in one function.
    pub max_blocks: usize,
    /// Wall-clock time in milliseconds.
    pub max_millis: u64,
    /// States kept apart per block (path sensitivity; 1 joins every path).
    pub max_paths: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_visits: 20_000_000,
            max_loop_iterations: 200,
            max_contexts: 20_000,
            max_blocks: 200_000,
            max_millis: 30_000,
            max_paths: 32,
        }
    }
}

/// A range of 64-bit values (both views).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ValueRange {
    /// Unsigned bounds.
    pub umin: u64,
    /// Unsigned upper bound.
    pub umax: u64,
    /// Signed bounds.
    pub smin: i64,
    /// Signed upper bound.
    pub smax: i64,
    scalar: Scalar,
}

impl ValueRange {
    /// Every value.
    #[must_use]
    pub fn any() -> Self {
        Self::from(Scalar::TOP)
    }

    /// Whether `v` is in the range.
    #[must_use]
    pub fn contains(&self, v: u64) -> bool {
        self.scalar.contains(v)
    }
}

impl From<Scalar> for ValueRange {
    fn from(s: Scalar) -> Self {
        Self {
            umin: s.umin,
            umax: s.umax,
            smin: s.smin,
            smax: s.smax,
            scalar: s,
        }
    }
}

/// Counters and timing of one verification.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Instructions visited, with revisits.
    pub instructions_visited: u64,
    /// Loop iterations.
    pub iterations: u64,
    /// Calling contexts analysed.
    pub contexts: u64,
    /// Wall time.
    pub time: Duration,
}

/// A verified program.
#[derive(Clone, Debug)]
pub struct Verified {
    /// Facts for the engines.
    pub facts: Facts,
    /// The values r0 may hold at exit (every value when `None` reached exit: no exit reachable).
    pub r0: Option<ValueRange>,
    /// Counters.
    pub stats: Stats,
    /// Whether this is a partial proof ([`Options::partial`]): accesses not proven stay checked
    /// at run time, and termination was not proven.
    pub partial: bool,
}

impl Verified {
    /// How many loads, stores and atomics the program has, and how many of them are proven.
    #[must_use]
    pub fn proven_accesses(&self, program: &Program) -> (usize, usize) {
        let mut total = 0;
        let mut proven = 0;
        for (pc, ins) in program.instructions().iter().enumerate() {
            if matches!(
                ins,
                Instruction::Load { .. } | Instruction::Store { .. } | Instruction::Atomic { .. }
            ) {
                total += 1;
                proven += usize::from(self.facts.access_proven(pc));
            }
        }
        (proven, total)
    }
}

/// Options of [`verify_with`].
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Limits.
    pub limits: Limits,
    /// Record the abstract state before every instruction.
    pub log: bool,
    /// For maps of maps (`ARRAY_OF_MAPS`, `HASH_OF_MAPS`), by index in the map table: the
    /// description of the maps they hold. A lookup in a map of maps without one is rejected.
    pub inner_maps: Vec<(u32, MapInfo)>,
    /// A partial analysis for checked mode ([`partial`]): an access that cannot be proven is
    /// marked unproven (the engines check it at run time) instead of rejecting the program,
    /// and termination is not required. Other problems still reject.
    pub partial: bool,
}

/// Verifies `program`. See the crate documentation.
///
/// # Errors
/// The first problem found, as a [`Rejection`].
pub fn verify(
    program: &Program,
    platform: &Platform,
    program_type: &ProgramType,
    maps: &[MapInfo],
) -> Result<Verified, Rejection> {
    verify_with(program, platform, program_type, maps, &Options::default()).0
}

/// Verifies and returns the per-instruction abstract states as text (`--log`).
pub fn verify_log(
    program: &Program,
    platform: &Platform,
    program_type: &ProgramType,
    maps: &[MapInfo],
) -> (Result<Verified, Rejection>, String) {
    verify_log_with(program, platform, program_type, maps, &Options::default())
}

/// [`verify_log`] with options (maps of maps' inner maps, limits); the log is always on.
pub fn verify_log_with(
    program: &Program,
    platform: &Platform,
    program_type: &ProgramType,
    maps: &[MapInfo],
    options: &Options,
) -> (Result<Verified, Rejection>, String) {
    let options = Options {
        log: true,
        ..options.clone()
    };
    let (r, log) = verify_with(program, platform, program_type, maps, &options);
    let mut out = String::new();
    for (pc, ins) in program.instructions().iter().enumerate() {
        if *ins == Instruction::LddwTail {
            continue;
        }
        let slot = program.insns()[pc];
        let text = apiary_vm::disasm::format_instruction(ins, slot, pc);
        let st = log.get(pc).map_or("", String::as_str);
        out.push_str(&format!(
            "{pc:5}: {text}\n       {}\n",
            if st.is_empty() { "unreachable" } else { st }
        ));
    }
    (r, out)
}

/// Verification with options; also returns the per-slot log (empty without `options.log`).
pub fn verify_with(
    program: &Program,
    platform: &Platform,
    program_type: &ProgramType,
    maps: &[MapInfo],
    options: &Options,
) -> (Result<Verified, Rejection>, Vec<String>) {
    // The analysis recurses over the weak topological order and nested calls: run it on a
    // thread with a large stack so no program can overflow it.
    let job = || run(program, platform, program_type, maps, options);
    let res = std::thread::scope(|sc| {
        std::thread::Builder::new()
            .stack_size(256 << 20)
            .spawn_scoped(sc, job)
            .map(|h| h.join())
    });
    match res {
        Ok(Ok(r)) => r,
        _ => (
            Err(Rejection {
                pc: 0,
                instruction: String::new(),
                reason: RejectReason::StateLimit { limit: 0 },
                state: "analysis thread failed".into(),
            }),
            Vec::new(),
        ),
    }
}

fn run(
    program: &Program,
    platform: &Platform,
    ptype: &ProgramType,
    maps: &[MapInfo],
    options: &Options,
) -> (Result<Verified, Rejection>, Vec<String>) {
    let start = Instant::now();
    if let Err(r) = check_calls(program) {
        return (Err(r), Vec::new());
    }
    // Inner map descriptions go after the program's maps; `inner` links them.
    let mut all_maps = maps.to_vec();
    let mut inner = Vec::new();
    for (outer, info) in &options.inner_maps {
        if (*outer as usize) < maps.len() && !inner.iter().any(|(o, _)| o == outer) {
            inner.push((*outer, all_maps.len() as u32));
            all_maps.push(*info);
        }
    }
    let analyse = |mode: Option<partial::Mode>| {
        let env = transfer::Env {
            program,
            platform,
            ptype,
            maps: &all_maps,
            inner: &inner,
            stack_use: std::cell::RefCell::default(),
            partial: mode,
            wrote_unproven: std::cell::Cell::new(false),
        };
        let entry = env.entry_state();
        let mut a = fixpoint::Analyzer::new(env, options.limits, options.log);
        let res = a
            .analyze(0, entry)
            .and_then(|_| {
                if mode.is_some() {
                    Ok(())
                } else {
                    a.check_termination()
                }
            })
            .and_then(|()| calls::check_stack_chains(program, &a.env.stack_use.borrow()));
        (a, res)
    };
    let mode = options.partial.then(partial::Mode::default);
    let (mut a, mut res) = analyse(mode);
    // A partial analysis that let a write stay checked may have let it write the context: run
    // again without trusting the context's packet fields (only types that have them).
    let ctx_pkt = match ptype.ctx {
        platform::CtxKind::Struct(d) => d.data.is_some() || d.end.is_some() || d.meta.is_some(),
        platform::CtxKind::Mem(_) => false,
    };
    if mode.is_some() && ctx_pkt && a.env.wrote_unproven.get() {
        (a, res) = analyse(Some(partial::Mode {
            ctx_untrusted: true,
        }));
    }
    let log = a.log.take().unwrap_or_default();
    let out = res.map(|()| {
        let facts = Facts {
            access_in_bounds: a.facts.iter().map(|&f| f == 1).collect(),
        };
        let r0 = if a.exit_any {
            Some(ValueRange::any())
        } else {
            a.exit_r0.map(ValueRange::from)
        };
        Verified {
            facts,
            r0,
            stats: Stats {
                instructions_visited: a.counters.visited,
                iterations: a.counters.iterations,
                contexts: a.counters.contexts,
                time: start.elapsed(),
            },
            partial: options.partial,
        }
    });
    (out, log)
}

/// Static call-graph checks: no recursion (including through callbacks).
fn check_calls(program: &Program) -> Result<(), Rejection> {
    let funcs = program.functions();
    let func_of = |pc: usize| {
        funcs
            .iter()
            .position(|f| f.start <= pc && pc < f.end)
            .unwrap_or(0)
    };
    let mut edges: HashMap<usize, Vec<(usize, usize)>> = HashMap::new();
    for (pc, ins) in program.instructions().iter().enumerate() {
        let t = match ins {
            Instruction::CallLocal { target }
            | Instruction::LoadImm64 {
                value: Lddw::CodeAddr(target),
                ..
            } => *target,
            _ => continue,
        };
        edges.entry(func_of(pc)).or_default().push((func_of(t), pc));
    }
    // Depth-first search for a cycle.
    let n = funcs.len();
    let mut color = vec![0u8; n];
    let mut stack: Vec<(usize, usize)> = Vec::new();
    for root in 0..n {
        if color[root] != 0 {
            continue;
        }
        color[root] = 1;
        stack.push((root, 0));
        while let Some(&mut (v, ref mut i)) = stack.last_mut() {
            let list = edges.get(&v).map_or(&[][..], Vec::as_slice);
            if let Some(&(w, pc)) = list.get(*i) {
                *i += 1;
                match color[w] {
                    0 => {
                        color[w] = 1;
                        stack.push((w, 0));
                    }
                    1 => {
                        let ins = program.instructions()[pc];
                        return Err(Rejection {
                            pc,
                            instruction: apiary_vm::disasm::format_instruction(
                                &ins,
                                program.insns()[pc],
                                pc,
                            ),
                            reason: RejectReason::Recursion {
                                function: funcs[w].start,
                            },
                            state: String::new(),
                        });
                    }
                    _ => {}
                }
            } else {
                color[v] = 2;
                stack.pop();
            }
        }
    }
    Ok(())
}
