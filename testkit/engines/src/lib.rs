//! The engine-agreement harness: every engine runs the same program on the same input, at the
//! same address, with the same zeroed stack, at the same address (programs see host addresses
//! in r1 and r10, so only then must everything agree exactly), and the whole state afterwards
//! is compared: r0 or the fault (kind, pc and address), the instruction count when metering,
//! the input buffer, the stack, and any other memory the caller names (maps).
//!
//! In the spirit of sbpf's `test_utils`: one place says what "the engines agree" means, and
//! every differential test (the jit's hand-written tests, the fuzz targets, the conformance
//! runner, the benchmarks' agreement test, verified mode against checked mode) uses it.
//!
//! - [`Harness`]: the engines taking part (apiary's own, prepared here or by the caller, and
//!   oracles such as the Linux kernel, whose instruction count and memory are not compared);
//! - [`Harness::run`] / [`Harness::run_with`]: one comparison, an [`Agreement`];
//! - [`agree`]: the rule between two engines' [`Seen`];
//! - [`Tally`]: what a suite compared, recorded as [`apiary_testkit::Coverage`]; it fails when
//!   nothing was compared.

use std::fmt;
use std::sync::Arc;

use apiary_engine::{
    prepare, prepare_verified_unsandboxed, EngineKind, PrepareError, VerifiedProgram,
};
use apiary_jit::{Jit, JitError, JitOptions};
use apiary_testkit::Coverage;
use apiary_vm::{Environment, ExecState, Executable, Outcome, Program};

/// Why an engine did not run a program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The engine refused to load it: agrees with another engine refusing for the same reason
    /// (the load error's text, without the engine's name).
    Load(String),
    /// An oracle's verifier rejected it: agrees with any other engine's refusal or fault,
    /// never with a value.
    Rejected(String),
    /// The engine does not take part (a documented exclusion): compared with nothing.
    Excluded(String),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Load(m) => write!(f, "refused: {m}"),
            Refusal::Rejected(m) => write!(f, "rejected: {m}"),
            Refusal::Excluded(m) => write!(f, "excluded: {m}"),
        }
    }
}

impl From<&PrepareError> for Refusal {
    fn from(e: &PrepareError) -> Self {
        Refusal::Load(
            e.load_error()
                .map_or_else(|| e.to_string(), ToString::to_string),
        )
    }
}

impl From<&JitError> for Refusal {
    fn from(e: &JitError) -> Self {
        Refusal::Load(e.to_string())
    }
}

/// What one engine did with the program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seen {
    /// It did not run it.
    Refused(Refusal),
    /// It ran it.
    Ran(Outcome),
}

impl Seen {
    /// Whether this is a refusal or a fault (what an oracle's rejection agrees with).
    #[must_use]
    pub const fn failed(&self) -> bool {
        matches!(
            self,
            Seen::Refused(_) | Seen::Ran(Outcome { result: Err(_), .. })
        )
    }

    /// Whether the engine takes part in the comparison.
    #[must_use]
    pub const fn takes_part(&self) -> bool {
        !matches!(self, Seen::Refused(Refusal::Excluded(_)))
    }
}

impl fmt::Display for Seen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Seen::Refused(r) => r.fmt(f),
            Seen::Ran(o) => {
                match o.result {
                    Ok(r0) => write!(f, "r0 = {r0:#x}")?,
                    Err(fault) => write!(f, "fault: {fault}")?,
                }
                if let Some(n) = o.instructions {
                    write!(f, " after {n} instructions")?;
                }
                Ok(())
            }
        }
    }
}

/// Whether two engines' [`Seen`] agree. An oracle's rejection agrees with any refusal or
/// fault; refusals agree when their reasons are the same; runs agree when r0 or the fault is
/// the same and, when `counts`, so is the instruction count (both `None` when metering is off:
/// one engine counting and the other not is a disagreement too).
#[must_use]
pub fn agree(a: &Seen, b: &Seen, counts: bool) -> bool {
    let rejected = |s: &Seen| matches!(s, Seen::Refused(Refusal::Rejected(_)));
    if rejected(a) || rejected(b) {
        return a.failed() && b.failed();
    }
    match (a, b) {
        (Seen::Ran(x), Seen::Ran(y)) => {
            x.result == y.result && (!counts || x.instructions == y.instructions)
        }
        (Seen::Refused(x), Seen::Refused(y)) => x == y,
        _ => false,
    }
}

/// Memory outside the input and the stack that the engines share (maps, a packet frame): put
/// back before each engine runs, read after.
pub trait World {
    /// Restores the memory as it was before the first engine ran.
    fn reset(&mut self) {}
    /// The memory's bytes after a run (compared between apiary's engines).
    fn snapshot(&mut self) -> Vec<u8> {
        Vec::new()
    }
}

/// No memory beyond the input and the stack.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoWorld;

impl World for NoWorld {}

/// One engine taking part.
struct Engine {
    name: String,
    exe: Result<Arc<dyn Executable>, Refusal>,
    /// An oracle (the kernel): its r0, fault-or-not and refusals are compared, not its
    /// instruction count (it reports none) nor memory (it runs on its own copy).
    oracle: bool,
}

/// The engines a comparison runs (see the crate documentation).
#[derive(Default)]
pub struct Harness {
    engines: Vec<Engine>,
}

impl fmt::Debug for Harness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.engines.iter().map(|e| &e.name))
            .finish()
    }
}

impl Harness {
    /// No engine yet.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an apiary engine, prepared (or refused) by the caller.
    #[must_use]
    pub fn engine(
        self,
        name: impl Into<String>,
        exe: Result<Box<dyn Executable>, Refusal>,
    ) -> Self {
        self.shared_engine(name, exe.map(Arc::from))
    }

    /// Adds an apiary engine the caller shares (a program also used in a `ProgramSet`).
    #[must_use]
    pub fn shared_engine(
        mut self,
        name: impl Into<String>,
        exe: Result<Arc<dyn Executable>, Refusal>,
    ) -> Self {
        self.engines.push(Engine {
            name: name.into(),
            exe,
            oracle: false,
        });
        self
    }

    /// Adds an oracle (see [`Refusal::Rejected`]): its instruction count and memory are not
    /// compared.
    #[must_use]
    pub fn oracle(
        mut self,
        name: impl Into<String>,
        exe: Result<Box<dyn Executable>, Refusal>,
    ) -> Self {
        self.engines.push(Engine {
            name: name.into(),
            exe: exe.map(Arc::from),
            oracle: true,
        });
        self
    }

    /// Adds `kind` in checked mode, prepared by the library's factory.
    #[must_use]
    pub fn checked_engine(
        self,
        kind: EngineKind,
        program: &Arc<Program>,
        env: &Environment,
    ) -> Self {
        let exe = prepare(kind, Arc::clone(program), env).map_err(|e| Refusal::from(&e));
        self.engine(kind.name(), exe)
    }

    /// Every engine of the library in checked mode ([`EngineKind::ALL`]).
    #[must_use]
    pub fn checked(program: &Arc<Program>, env: &Environment) -> Self {
        EngineKind::ALL
            .iter()
            .fold(Self::new(), |h, &k| h.checked_engine(k, program, env))
    }

    /// Adds the JIT compiled with constant blinding (its code differs from the plain JIT's in
    /// every immediate: it must compute the same).
    #[must_use]
    pub fn blinded_jit(self, program: &Arc<Program>, env: &Environment) -> Self {
        let options = JitOptions {
            blind_constants: true,
        };
        let exe = Jit::with_options(Arc::clone(program), env, options)
            .map(|j| Box::new(j) as Box<dyn Executable>)
            .map_err(|e| match e {
                JitError::Load(l) => Refusal::Load(l.to_string()),
                e => Refusal::from(&e),
            });
        self.engine("jit (blinded)", exe)
    }

    /// Adds every engine of the library in verified mode, trusting `verified`'s facts.
    ///
    /// # Safety
    /// As [`apiary_engine::prepare_verified`]: `env` must be the environment `verified` was proven against
    /// (its helpers behave as the platform's prototypes say, its maps are the ones described)
    /// and every input the harness runs must be one the program type allows.
    #[must_use]
    pub unsafe fn verified(mut self, verified: &VerifiedProgram, env: &Environment) -> Self {
        for &kind in EngineKind::ALL {
            // SAFETY: the caller's contract is `prepare_verified`'s. Unsandboxed: the harness
            // compares the input and stack at the addresses every engine shares, which a
            // sandboxed engine would move into its window (`tests/sandbox_forged.rs` and
            // `tests/sandbox_objects.rs` test the sandbox itself).
            let exe = unsafe { prepare_verified_unsandboxed(kind, verified, env) };
            self = self.engine(
                format!("{kind} (verified)"),
                exe.map_err(|e| Refusal::from(&e)),
            );
        }
        self
    }

    /// How many engines were added.
    #[must_use]
    pub fn len(&self) -> usize {
        self.engines.len()
    }

    /// Whether no engine was added.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.engines.is_empty()
    }

    /// Runs every engine on `input` (see [`Harness::run_with`]).
    #[must_use]
    pub fn run(&self, input: &[u8]) -> Agreement {
        self.run_with(input, &mut NoWorld)
    }

    /// Runs every engine on `input`: one [`ExecState`] whose stack is zeroed before each run
    /// (same address, same bytes), one input buffer restored before each run, `world` reset
    /// before each run and read after it.
    #[must_use]
    pub fn run_with(&self, input: &[u8], world: &mut dyn World) -> Agreement {
        let mut state = ExecState::new();
        let mut buf = input.to_vec();
        let runs = self
            .engines
            .iter()
            .map(|e| {
                buf.copy_from_slice(input);
                state.clear_stack();
                world.reset();
                let seen = match &e.exe {
                    Ok(exe) => Seen::Ran(exe.run(&mut state, &mut buf)),
                    Err(r) => Seen::Refused(r.clone()),
                };
                Run {
                    engine: e.name.clone(),
                    oracle: e.oracle,
                    seen,
                    input: buf.clone(),
                    stack: stack_bytes(&mut state),
                    world: world.snapshot(),
                }
            })
            .collect();
        Agreement { runs }
    }
}

/// A copy of `state`'s stack.
fn stack_bytes(state: &mut ExecState) -> Vec<u8> {
    let region = state.stack_region();
    // SAFETY: `region` was just made from an exclusive borrow of `state`'s stack
    // (`Region::writable`): `region.len` bytes at `region.start` are live and initialised, and
    // nothing writes them while `state` stays borrowed here; the bytes are copied out at once.
    unsafe { std::slice::from_raw_parts(region.start as *const u8, region.len as usize) }.to_vec()
}

/// One engine's run: what it did and the memory afterwards.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Run {
    /// The engine's name.
    pub engine: String,
    /// Whether it is an oracle (memory and instruction count not compared).
    pub oracle: bool,
    /// What it did.
    pub seen: Seen,
    /// The input buffer afterwards.
    pub input: Vec<u8>,
    /// The stack afterwards.
    pub stack: Vec<u8>,
    /// The caller's [`World`] afterwards.
    pub world: Vec<u8>,
}

/// Whether two runs agree: [`agree`] on what they did (instruction counts between apiary's
/// engines), and, between apiary's engines that ran, the same input, stack and world after.
#[must_use]
pub fn runs_agree(a: &Run, b: &Run) -> bool {
    let both_ours = !a.oracle && !b.oracle;
    let ran = matches!(a.seen, Seen::Ran(_)) && matches!(b.seen, Seen::Ran(_));
    agree(&a.seen, &b.seen, both_ours)
        && (!(both_ours && ran) || (a.input == b.input && a.stack == b.stack && a.world == b.world))
}

/// Every engine's run on one input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Agreement {
    /// In the order the engines were added.
    pub runs: Vec<Run>,
}

impl Agreement {
    /// The runs of the engines taking part (not excluded).
    pub fn taking_part(&self) -> impl Iterator<Item = &Run> {
        self.runs.iter().filter(|r| r.seen.takes_part())
    }

    /// How many engines took part: a comparison needs two.
    #[must_use]
    pub fn participants(&self) -> usize {
        self.taking_part().count()
    }

    /// `None` when every engine taking part agrees with every other; otherwise a report of
    /// every run (what it did, and where memory differs from the first run's).
    #[must_use]
    pub fn disagreement(&self) -> Option<String> {
        let part: Vec<&Run> = self.taking_part().collect();
        let all = part
            .iter()
            .enumerate()
            .all(|(i, a)| part[i + 1..].iter().all(|b| runs_agree(a, b)));
        if all {
            return None;
        }
        let first = part
            .iter()
            .find(|r| !r.oracle && matches!(r.seen, Seen::Ran(_)));
        let lines: Vec<String> = self
            .runs
            .iter()
            .map(|r| {
                let mut line = format!("{}: {}", r.engine, r.seen);
                if let (Some(f), false, Seen::Ran(_)) = (first, r.oracle, &r.seen) {
                    for (what, x, y) in [
                        ("input", &f.input, &r.input),
                        ("stack", &f.stack, &r.stack),
                        ("world", &f.world, &r.world),
                    ] {
                        if let Some(at) = x.iter().zip(y.iter()).position(|(a, b)| a != b) {
                            line.push_str(&format!(
                                "; {what} differs from {}'s at byte {at} ({:#04x} vs {:#04x})",
                                f.engine, x[at], y[at]
                            ));
                        } else if x.len() != y.len() {
                            line.push_str(&format!("; {what} length {} vs {}", x.len(), y.len()));
                        }
                    }
                }
                line
            })
            .collect();
        Some(lines.join("\n"))
    }

    /// Panics with every run and `context` (the program, the input) unless all agree.
    #[track_caller]
    pub fn assert_agree(&self, context: &dyn fmt::Display) {
        if let Some(d) = self.disagreement() {
            panic!("engines disagree\n{d}\n{context}");
        }
    }

    /// The first apiary engine's outcome (the agreed one, after [`Agreement::assert_agree`]).
    #[must_use]
    pub fn outcome(&self) -> Option<Outcome> {
        self.runs.iter().find_map(|r| match (&r.seen, r.oracle) {
            (Seen::Ran(o), false) => Some(*o),
            _ => None,
        })
    }
}

/// What a differential suite compared: a comparison counts when two or more engines took
/// part; one with fewer is a recorded skip. [`Tally::finish`] writes the record (see
/// [`Coverage`]) and fails the test when nothing was compared.
#[derive(Debug)]
pub struct Tally {
    coverage: Coverage,
}

impl Tally {
    /// A tally for `suite` (the record's name).
    #[must_use]
    pub fn new(suite: &str) -> Self {
        Self {
            coverage: Coverage::new(suite).expect_comparisons(true),
        }
    }

    /// Counts `a` (compared, or skipped when fewer than two engines took part).
    pub fn add(&mut self, a: &Agreement) {
        if a.participants() >= 2 {
            self.coverage.compared();
        } else {
            self.coverage.skip("fewer than two engines took part");
        }
    }

    /// Counts a comparison made without an [`Agreement`] (the caller compared itself).
    pub fn skip(&mut self, reason: impl Into<String>) {
        self.coverage.skip(reason);
    }

    /// Comparisons counted so far.
    #[must_use]
    pub fn compared(&self) -> u64 {
        self.coverage.compared_count()
    }

    /// Writes the record and returns its line.
    ///
    /// # Panics
    /// When nothing was compared: a differential suite that compared nothing proves nothing.
    pub fn finish(self) -> String {
        let compared = self.coverage.compared_count();
        let line = self.coverage.finish();
        assert!(compared > 0, "{line}: no comparison ran");
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use apiary_vm::asm::assemble;
    use apiary_vm::{ExecConfig, Fault, HelperTable, LoadOptions};

    fn program(text: &str) -> Arc<Program> {
        let insns = assemble(text).expect("assembles");
        Arc::new(Program::new(insns, &LoadOptions::all()).expect("loads"))
    }

    fn env(budget: Option<u64>) -> Environment {
        Environment::new(HelperTable::new(), ExecConfig { budget })
    }

    fn all(p: &Arc<Program>, e: &Environment) -> Harness {
        Harness::checked(p, e).blinded_jit(p, e)
    }

    #[test]
    fn engines_agree_on_values_faults_memory_and_stack() {
        let p = program(
            "stdw [%r10-8], 0x55\nldxb %r2, [%r1+0]\nstxb [%r1+1], %r2\nmov %r0, %r10\nexit",
        );
        for budget in [None, Some(1000)] {
            let e = env(budget);
            let a = all(&p, &e).run(&[9, 0, 0]);
            assert_eq!(a.runs.len(), 3);
            a.assert_agree(&"store");
            assert_eq!(a.runs[0].input, vec![9, 9, 0]);
            assert_eq!(a.runs[0].stack[a.runs[0].stack.len() - 8], 0x55);
            assert_eq!(a.outcome().map(|o| o.instructions), Some(budget.map(|_| 5)));
        }
        // Out of bounds: the same fault, address included.
        let a = all(&p, &env(None)).run(&[]);
        a.assert_agree(&"fault");
        assert!(matches!(
            a.outcome().map(|o| o.result),
            Some(Err(Fault::OutOfBounds { .. }))
        ));
    }

    /// Each engine starts from the same zeroed stack and the same input: a program that reads
    /// what it then overwrites sees the same bytes on every engine.
    #[test]
    fn every_engine_starts_from_a_zeroed_stack_and_the_input() {
        let p = program(
            "ldxdw %r0, [%r10-8]\nstdw [%r10-8], 1\nldxb %r2, [%r1+0]\nadd %r0, %r2\n\
             stb [%r1+0], 9\nexit",
        );
        let a = all(&p, &env(None)).run(&[4]);
        a.assert_agree(&"stack and input");
        assert_eq!(a.outcome().map(|o| o.result), Some(Ok(4)));
        assert!(a.runs.iter().all(|r| r.input == [9]));
    }

    /// A run that differs in any part of the state is a disagreement: the harness can fail.
    #[test]
    fn any_difference_is_a_disagreement() {
        let ran = |r0: u64, n: Option<u64>| {
            Seen::Ran(Outcome {
                result: Ok(r0),
                instructions: n,
            })
        };
        let run = |name: &str, seen: Seen, input: Vec<u8>, stack: Vec<u8>, oracle: bool| Run {
            engine: name.to_owned(),
            oracle,
            seen,
            input,
            stack,
            world: Vec::new(),
        };
        let base = run("a", ran(1, Some(3)), vec![1], vec![0], false);
        let same = Agreement {
            runs: vec![
                base.clone(),
                Run {
                    engine: "b".into(),
                    ..base.clone()
                },
            ],
        };
        assert_eq!(same.disagreement(), None);
        for other in [
            run("b", ran(2, Some(3)), vec![1], vec![0], false),
            run("b", ran(1, Some(4)), vec![1], vec![0], false),
            run("b", ran(1, None), vec![1], vec![0], false),
            run("b", ran(1, Some(3)), vec![2], vec![0], false),
            run("b", ran(1, Some(3)), vec![1], vec![7], false),
            run(
                "b",
                Seen::Refused(Refusal::Load("x".into())),
                vec![1],
                vec![0],
                false,
            ),
            run(
                "k",
                Seen::Refused(Refusal::Rejected("v".into())),
                vec![],
                vec![],
                true,
            ),
            run("k", ran(2, None), vec![], vec![], true),
        ] {
            let a = Agreement {
                runs: vec![base.clone(), other.clone()],
            };
            assert!(a.disagreement().is_some(), "{other:?}");
        }
        // An oracle: no count, no memory; an exclusion does not take part.
        for other in [
            run("k", ran(1, None), vec![], vec![], true),
            run(
                "k",
                Seen::Refused(Refusal::Excluded("e".into())),
                vec![],
                vec![],
                true,
            ),
        ] {
            let a = Agreement {
                runs: vec![base.clone(), other],
            };
            assert_eq!(a.disagreement(), None);
        }
        let fault = Seen::Ran(Outcome {
            result: Err(Fault::BudgetExhausted { pc: 1, budget: 9 }),
            instructions: None,
        });
        assert!(agree(
            &fault,
            &Seen::Refused(Refusal::Rejected("v".into())),
            false
        ));
        assert!(!agree(
            &ran(0, None),
            &Seen::Refused(Refusal::Rejected("v".into())),
            false
        ));
    }

    #[test]
    fn the_world_is_reset_and_compared() {
        struct Cell(u8, Vec<u8>);
        impl World for Cell {
            fn reset(&mut self) {
                self.0 = 0;
            }
            fn snapshot(&mut self) -> Vec<u8> {
                self.0 += 1;
                self.1.push(self.0);
                vec![self.0]
            }
        }
        let p = program("mov %r0, 0\nexit");
        let mut w = Cell(0, Vec::new());
        let a = all(&p, &env(None)).run_with(&[], &mut w);
        assert_eq!(w.1, vec![1, 1, 1], "reset before each run");
        a.assert_agree(&"world");
    }

    #[test]
    #[should_panic(expected = "no comparison ran")]
    fn a_tally_of_nothing_fails() {
        let mut t = Tally::new("testkit-engines-empty");
        t.skip("nothing to do");
        let _ = t.finish();
    }
}
