//! Runs `.data` tests on one or several engines and judges them.
//!
//! Per test: parse, assemble (or take the raw slots), load with [`LoadOptions::all`] (callx
//! on), prepare each selected engine, run each through the engine-agreement harness
//! (`apiary-testkit-engines`: the same input buffer and stack, at the same addresses, restored
//! before each engine) under an instruction budget (so a looping test ends), and compare the
//! full 64-bit r0.
//!
//! Verdict rules (they mirror the official runner, see CONFORMANCE.md §3.3):
//! - a test with `-- error` passes when assembling, loading, preparing or running fails;
//! - otherwise a parse, assembly, load or prepare failure is an [`Verdict::Error`], and a
//!   wrong value or a fault is a [`Verdict::Failed`];
//! - with several engines the observations (r0, or fault kind and pc, and the instruction
//!   count, and between apiary's engines the input and stack afterwards) must be identical,
//!   else the test is a [`Verdict::Disagreement`], counted as failed.
//!
//! The kernel oracle is judged the same way, with three differences (see [`agree`]): it reports
//! no instruction count, so counts are compared only between engines that report them; its
//! verifier rejecting a program agrees with the other engines faulting or refusing (a verifier
//! is there to refuse what could fault); and a program under a documented exclusion
//! ([`crate::kernel::EXCLUSIONS`]) is not run on it (its verdict is "skipped for kernel").

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use apiary_testkit_engines::{agree as testkit_agree, Harness, Refusal, Seen};
use apiary_vm::{Environment, ExecConfig, Fault, HelperError, Insn, LoadOptions, Outcome, Program};
use thiserror::Error;

use crate::data::{self, Expected, Parsed, TestCase};
use crate::engine::{prepare_for_input, EngineKind, EngineSelection, PrepareError};
use crate::helpers::conformance_helpers;

/// Default instruction budget: far above any conformance test, small enough to stop a loop in
/// well under a second.
pub const DEFAULT_BUDGET: u64 = 10_000_000;

/// How to run tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunConfig {
    /// The engines to run and cross-check.
    pub engines: EngineSelection,
    /// Instruction budget per run.
    pub budget: u64,
    /// Load options (the suite needs callx).
    pub load_options: LoadOptions,
}

impl Default for RunConfig {
    fn default() -> Self {
        Self {
            engines: EngineSelection::default(),
            budget: DEFAULT_BUDGET,
            load_options: LoadOptions::all(),
        }
    }
}

impl RunConfig {
    /// The default configuration with these engines.
    #[must_use]
    pub fn with_engines(engines: EngineSelection) -> Self {
        Self {
            engines,
            ..Self::default()
        }
    }

    /// The environment every test runs in: the conformance helpers and the budget.
    #[must_use]
    pub fn environment(&self) -> Environment {
        Environment::new(
            conformance_helpers(),
            ExecConfig {
                budget: Some(self.budget),
            },
        )
    }
}

/// Why a directory could not be listed.
#[derive(Debug, Error)]
pub enum RunError {
    /// The directory could not be read.
    #[error("{dir}: cannot list test files: {source}")]
    ListDir {
        /// The directory.
        dir: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// The judgement of one test (on one engine, or combined over engines).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The expectation was met.
    Passed,
    /// The program ran but gave the wrong value, faulted, or succeeded where an error was expected.
    Failed {
        /// What the test expected (`0x2`, or `an error (<text>)`).
        expected: String,
        /// What happened (`0x3`, or the fault).
        got: String,
    },
    /// The test could not be run: parse, assembly, load or prepare error.
    Error {
        /// What went wrong, naming file, line or instruction.
        message: String,
    },
    /// Skipped, as the official runner would.
    Skipped {
        /// Why.
        reason: String,
    },
    /// Engines observed different things (counted as a failure).
    Disagreement {
        /// Each engine's observation.
        details: String,
    },
}

impl Verdict {
    /// `passed`, `failed`, `error`, `skipped` or `disagreement`.
    #[must_use]
    pub const fn kind(&self) -> &'static str {
        match self {
            Verdict::Passed => "passed",
            Verdict::Failed { .. } => "failed",
            Verdict::Error { .. } => "error",
            Verdict::Skipped { .. } => "skipped",
            Verdict::Disagreement { .. } => "disagreement",
        }
    }

    /// The explanation, if any.
    #[must_use]
    pub fn message(&self) -> Option<String> {
        match self {
            Verdict::Passed => None,
            Verdict::Failed { expected, got } => Some(format!("expected {expected}, got {got}")),
            Verdict::Error { message } => Some(message.clone()),
            Verdict::Skipped { reason } => Some(reason.clone()),
            Verdict::Disagreement { details } => Some(format!("engines disagree: {details}")),
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind())?;
        if let Some(m) = self.message() {
            write!(f, ": {m}")?;
        }
        Ok(())
    }
}

/// What one engine did with a loaded program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Observation {
    /// The engine refused the program.
    Refused(PrepareError),
    /// The engine ran it.
    Ran(Outcome),
}

impl Observation {
    /// Whether the engine did not take part because of a documented kernel exclusion.
    #[must_use]
    pub const fn is_excluded(&self) -> bool {
        matches!(
            self,
            Observation::Refused(PrepareError::KernelExcluded { .. })
        )
    }

    /// What must be equal between engines: the outcome with host addresses removed (engines run
    /// on different copies of the memory), or the load error behind a refusal (without the
    /// engine's name).
    #[must_use]
    pub fn comparable(&self) -> Comparable {
        match self {
            Observation::Ran(o) => Comparable::Ran(Outcome {
                result: o.result.map_err(without_addresses),
                instructions: o.instructions,
            }),
            Observation::Refused(e) => Comparable::Refused(e.load_error().cloned()),
        }
    }
}

/// The engine-independent part of an [`Observation`], see [`Observation::comparable`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Comparable {
    /// Refused, for this load error (`None`: an engine-specific reason).
    Refused(Option<apiary_vm::LoadError>),
    /// Ran, with fault addresses zeroed.
    Ran(Outcome),
}

impl fmt::Display for Observation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Observation::Refused(e) => write!(f, "refused: {e}"),
            // As the harness prints a run.
            Observation::Ran(o) => Seen::Ran(*o).fmt(f),
        }
    }
}

/// A fault with its host addresses zeroed (they differ between runs on different buffers).
fn without_addresses(f: Fault) -> Fault {
    match f {
        Fault::OutOfBounds {
            pc, len, access, ..
        } => Fault::OutOfBounds {
            pc,
            addr: 0,
            len,
            access,
        },
        Fault::MisalignedAtomic { pc, len, .. } => Fault::MisalignedAtomic { pc, addr: 0, len },
        Fault::Helper {
            pc,
            id,
            error: HelperError::OutOfBounds { len, access, .. },
        } => Fault::Helper {
            pc,
            id,
            error: HelperError::OutOfBounds {
                addr: 0,
                len,
                access,
            },
        },
        other => other,
    }
}

/// Runs a loaded program on each engine through the engine-agreement harness
/// (`apiary-testkit-engines`): one input buffer and one stack, at the same addresses, for every
/// engine. Engines are prepared knowing the input length, so the kernel verifier's verdict is a
/// refusal here.
#[must_use]
pub fn execute(
    program: &Arc<Program>,
    mem: &[u8],
    engines: &[EngineKind],
    env: &Environment,
) -> Vec<(EngineKind, Observation)> {
    execute_compared(program, mem, engines, env).0
}

/// Each engine's observation, and the details when they disagree.
pub type Compared = (Vec<(EngineKind, Observation)>, Option<String>);

/// As [`execute`], with the harness's comparison of the whole state: `Some(details)` when
/// apiary's engines that ran differ in r0, fault (addresses included), instruction count,
/// input or stack afterwards, or any engine disagrees as [`disagreement`] judges.
#[must_use]
pub fn execute_compared(
    program: &Arc<Program>,
    mem: &[u8],
    engines: &[EngineKind],
    env: &Environment,
) -> Compared {
    let mut harness = Harness::new();
    let mut refused = Vec::with_capacity(engines.len());
    for &kind in engines {
        let prepared = prepare_for_input(kind, Arc::clone(program), env, Some(mem.len()));
        let (exe, err) = match prepared {
            Ok(exe) => (Ok(exe), None),
            Err(e) => (Err(refusal(&e)), Some(e)),
        };
        harness = if kind.library().is_some() {
            harness.engine(kind.name(), exe)
        } else {
            harness.oracle(kind.name(), exe)
        };
        refused.push((kind, err));
    }
    let agreement = harness.run(mem);
    let observations: Vec<(EngineKind, Observation)> = refused
        .into_iter()
        .zip(&agreement.runs)
        .map(|((kind, err), run)| {
            let obs = match (err, &run.seen) {
                (Some(e), _) => Observation::Refused(e),
                (None, Seen::Ran(o)) => Observation::Ran(*o),
                (None, Seen::Refused(_)) => {
                    unreachable!("the harness runs every engine that was prepared")
                }
            };
            (kind, obs)
        })
        .collect();
    let details = disagreement(&observations).or_else(|| agreement.disagreement());
    (observations, details)
}

/// The harness's view of a refusal: a kernel exclusion does not take part, a kernel verifier
/// rejection agrees with any failure, other refusals compare by their load error.
fn refusal(e: &PrepareError) -> Refusal {
    match e {
        PrepareError::KernelExcluded { excluded } => Refusal::Excluded(excluded.to_string()),
        e if e.is_kernel_rejection() => Refusal::Rejected(e.to_string()),
        e => Refusal::Load(
            e.load_error()
                .map_or_else(|| e.to_string(), ToString::to_string),
        ),
    }
}

/// Whether two engines' observations agree: the harness's rule ([`testkit_agree`]) on their
/// host-address-free forms (observations made apart, on different buffers, as the CLI makes
/// them, differ in fault addresses only), with instruction counts compared when both engines
/// report one (the kernel does not). A kernel verifier rejection agrees with any fault or
/// refusal of the other engine, never with a value.
#[must_use]
pub fn agree(a: &Observation, b: &Observation) -> bool {
    let seen = |o: &Observation| match o {
        Observation::Ran(out) => Seen::Ran(Outcome {
            result: out.result.map_err(without_addresses),
            instructions: out.instructions,
        }),
        Observation::Refused(e) => Seen::Refused(refusal(e)),
    };
    let counts = |o: &Observation| {
        matches!(
            o,
            Observation::Ran(Outcome {
                instructions: Some(_),
                ..
            })
        )
    };
    testkit_agree(&seen(a), &seen(b), counts(a) && counts(b))
}

/// `None` when every engine observed the same thing (see [`agree`]; engines skipped by a kernel
/// exclusion do not take part); otherwise a line listing each observation.
#[must_use]
pub fn disagreement(observations: &[(EngineKind, Observation)]) -> Option<String> {
    let taking_part: Vec<&Observation> = observations
        .iter()
        .map(|(_, o)| o)
        .filter(|o| !o.is_excluded())
        .collect();
    let all_agree = taking_part
        .iter()
        .enumerate()
        .all(|(i, a)| taking_part[i + 1..].iter().all(|b| agree(a, b)));
    if all_agree {
        return None;
    }
    Some(
        observations
            .iter()
            .map(|(k, o)| format!("{k}: {o}"))
            .collect::<Vec<_>>()
            .join("; "),
    )
}

/// The result of one test.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestReport {
    /// The file name.
    pub name: String,
    /// Each engine's own verdict, in selection order.
    pub per_engine: Vec<(EngineKind, Verdict)>,
    /// The combined verdict: the engines' common verdict, or a disagreement.
    pub verdict: Verdict,
}

/// Judges one engine's observation against the expectation.
fn judge(expected: &Expected, obs: &Observation) -> Verdict {
    let wanted = || match (&expected.error, expected.result) {
        (Some(e), _) => format!("an error ({e})"),
        (None, Some(r)) => format!("{r:#x}"),
        (None, None) => "nothing".to_owned(),
    };
    match obs {
        Observation::Refused(PrepareError::KernelExcluded { excluded }) => Verdict::Skipped {
            reason: format!("skipped for kernel: {}", excluded.exclusion.reason),
        },
        Observation::Refused(e) if expected.error.is_none() => Verdict::Error {
            message: e.to_string(),
        },
        Observation::Ran(Outcome {
            result: Err(fault), ..
        }) if expected.error.is_none() => Verdict::Failed {
            expected: wanted(),
            got: format!("fault: {fault}"),
        },
        Observation::Refused(_) | Observation::Ran(Outcome { result: Err(_), .. }) => {
            Verdict::Passed
        }
        Observation::Ran(Outcome { result: Ok(r0), .. }) => {
            if expected.error.is_none() && expected.result == Some(*r0) {
                Verdict::Passed
            } else {
                Verdict::Failed {
                    expected: wanted(),
                    got: format!("{r0:#x}"),
                }
            }
        }
    }
}

/// The same verdict on every engine.
fn everywhere(engines: &[EngineKind], name: &str, verdict: Verdict) -> TestReport {
    TestReport {
        name: name.to_owned(),
        per_engine: engines.iter().map(|&k| (k, verdict.clone())).collect(),
        verdict,
    }
}

/// Loads a test's program: assembly or raw slots, then [`Program::new`].
///
/// # Errors
/// A message naming the file and the line (assembly) or instruction (load).
pub fn load_test(case: &TestCase, options: &LoadOptions) -> Result<Program, String> {
    let slots: Vec<Insn> = crate::assemble::slots(&case.program)
        .map_err(|e| format!("{}: assembly error at {e}", case.name))?;
    Program::new(slots, options).map_err(|e| format!("{}: load error: {e}", case.name))
}

/// Loads a test and runs it on the selected engines, without judging: the load error text, or
/// each engine's observation. Useful to check *why* an error test fails.
///
/// # Errors
/// The assembly or load error, as from [`load_test`].
pub fn observe(
    case: &TestCase,
    config: &RunConfig,
) -> Result<Vec<(EngineKind, Observation)>, String> {
    Ok(observe_compared(case, config)?.0)
}

/// As [`observe`], with [`execute_compared`]'s verdict on the whole state.
fn observe_compared(case: &TestCase, config: &RunConfig) -> Result<Compared, String> {
    let program = Arc::new(load_test(case, &config.load_options)?);
    Ok(execute_compared(
        &program,
        &case.mem,
        &config.engines.engines(),
        &config.environment(),
    ))
}

/// Runs one parsed test.
#[must_use]
pub fn run_case(case: &TestCase, config: &RunConfig) -> TestReport {
    let engines = config.engines.engines();
    let (observations, details) = match observe_compared(case, config) {
        Ok(o) => o,
        Err(message) => {
            let v = if case.expected.error.is_some() {
                Verdict::Passed
            } else {
                Verdict::Error { message }
            };
            return everywhere(&engines, &case.name, v);
        }
    };
    let per_engine: Vec<_> = observations
        .iter()
        .map(|(k, o)| (*k, judge(&case.expected, o)))
        .collect();
    // The combined verdict: that of the first engine taking part (an excluded kernel does not),
    // or the skip when no engine took part.
    let verdict = match details {
        Some(details) => Verdict::Disagreement { details },
        None => observations
            .iter()
            .zip(&per_engine)
            .find(|((_, o), _)| !o.is_excluded())
            .or_else(|| observations.iter().zip(&per_engine).next())
            .map_or(Verdict::Passed, |(_, (_, v))| v.clone()),
    };
    TestReport {
        name: case.name.clone(),
        per_engine,
        verdict,
    }
}

/// Parses and runs one file.
#[must_use]
pub fn run_file(path: &Path, config: &RunConfig) -> TestReport {
    let engines = config.engines.engines();
    match data::parse_file(path) {
        Ok(Parsed::Test(case)) => run_case(&case, config),
        Ok(Parsed::Skipped { name, reason }) => {
            everywhere(&engines, &name, Verdict::Skipped { reason })
        }
        Err(e) => {
            let name = path.file_name().map_or_else(
                || path.display().to_string(),
                |n| n.to_string_lossy().into(),
            );
            everywhere(
                &engines,
                &name,
                Verdict::Error {
                    message: e.to_string(),
                },
            )
        }
    }
}

/// The `*.data` files directly in `dir` (not recursive), sorted, as the official runner does.
///
/// # Errors
/// [`RunError::ListDir`] when the directory cannot be read.
pub fn list_tests(dir: &Path) -> Result<Vec<PathBuf>, RunError> {
    let err = |source| RunError::ListDir {
        dir: dir.to_owned(),
        source,
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(err)? {
        let path = entry.map_err(err)?.path();
        if path.extension().is_some_and(|e| e == "data") && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Runs the given files in order.
#[must_use]
pub fn run_files(files: &[PathBuf], config: &RunConfig) -> RunReport {
    RunReport {
        selection: config.engines,
        tests: files.iter().map(|f| run_file(f, config)).collect(),
    }
}

/// Runs every `*.data` file in `dir`.
///
/// # Errors
/// [`RunError::ListDir`] when the directory cannot be read.
pub fn run_directory(dir: &Path, config: &RunConfig) -> Result<RunReport, RunError> {
    Ok(run_files(&list_tests(dir)?, config))
}

/// Counts of verdicts for one engine (or `all`, combined).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Engine name, or `all` for the combined verdicts.
    pub engine: String,
    /// Tests that passed.
    pub passed: usize,
    /// Tests that failed (including disagreements between engines).
    pub failed: usize,
    /// Tests that could not be run.
    pub errors: usize,
    /// Tests skipped.
    pub skipped: usize,
}

impl Summary {
    fn count<'a>(engine: &str, verdicts: impl Iterator<Item = &'a Verdict>) -> Self {
        let mut s = Summary {
            engine: engine.to_owned(),
            ..Summary::default()
        };
        for v in verdicts {
            match v {
                Verdict::Passed => s.passed += 1,
                Verdict::Failed { .. } | Verdict::Disagreement { .. } => s.failed += 1,
                Verdict::Error { .. } => s.errors += 1,
                Verdict::Skipped { .. } => s.skipped += 1,
            }
        }
        s
    }

    /// Tests that ran (everything but skips), as the official runner counts them.
    #[must_use]
    pub const fn ran(&self) -> usize {
        self.passed + self.failed + self.errors
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: passed {} out of {} tests ({} failed, {} errors, {} skipped)",
            self.engine,
            self.passed,
            self.ran(),
            self.failed,
            self.errors,
            self.skipped
        )
    }
}

/// The results of a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunReport {
    /// The engines that were selected.
    pub selection: EngineSelection,
    /// One report per test, in run order.
    pub tests: Vec<TestReport>,
}

impl RunReport {
    /// One summary per engine, from each engine's own verdicts.
    #[must_use]
    pub fn engine_summaries(&self) -> Vec<Summary> {
        self.selection
            .engines()
            .into_iter()
            .map(|k| {
                let verdicts = self
                    .tests
                    .iter()
                    .filter_map(move |t| t.per_engine.iter().find(|(e, _)| *e == k));
                Summary::count(k.name(), verdicts.map(|(_, v)| v))
            })
            .collect()
    }

    /// The summary of the combined verdicts, named after the selection (`interp`, `all`).
    #[must_use]
    pub fn summary(&self) -> Summary {
        Summary::count(self.selection.name(), self.tests.iter().map(|t| &t.verdict))
    }

    /// Whether every test that ran passed on every engine, with no disagreement.
    #[must_use]
    pub fn all_passed(&self) -> bool {
        let s = self.summary();
        s.failed == 0 && s.errors == 0
    }

    /// A human-readable report: one `PASS|FAIL|ERROR|SKIP: name[: why]` line per test (in the
    /// official runner's style), then one summary line per engine and, for several engines, the
    /// combined line.
    #[must_use]
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for t in &self.tests {
            let tag = match t.verdict {
                Verdict::Passed => "PASS",
                Verdict::Failed { .. } | Verdict::Disagreement { .. } => "FAIL",
                Verdict::Error { .. } => "ERROR",
                Verdict::Skipped { .. } => "SKIP",
            };
            out.push_str(&format!("{tag}: {}", t.name));
            if let Some(m) = t.verdict.message() {
                out.push_str(&format!(": {m}"));
            }
            out.push('\n');
        }
        let engines = self.engine_summaries();
        for s in &engines {
            out.push_str(&format!("{s}\n"));
        }
        if engines.len() > 1 {
            out.push_str(&format!("{}\n", self.summary()));
        }
        out
    }

    /// The report as JSON: `{"engine", "passed", "failed", "errors", "skipped", "engines": [..],
    /// "tests": [..]}`. The top-level counts are the combined verdicts (`engine` is `all` when
    /// several engines ran); `engines` holds one summary object per engine; each test has
    /// `name`, `verdict`, optional `message`, and `engines` mapping engine name to verdict.
    #[must_use]
    pub fn to_json(&self) -> String {
        use crate::json::{array, object, Value};
        let summary_fields = |s: &Summary| {
            vec![
                ("engine", Value::Str(s.engine.clone())),
                ("passed", Value::Num(s.passed as u64)),
                ("failed", Value::Num(s.failed as u64)),
                ("errors", Value::Num(s.errors as u64)),
                ("skipped", Value::Num(s.skipped as u64)),
            ]
        };
        let mut top = summary_fields(&self.summary());
        top.push((
            "engines",
            array(
                self.engine_summaries()
                    .iter()
                    .map(|s| object(summary_fields(s))),
            ),
        ));
        top.push((
            "tests",
            array(self.tests.iter().map(|t| {
                let mut fields = vec![
                    ("name", Value::Str(t.name.clone())),
                    ("verdict", Value::Str(t.verdict.kind().to_owned())),
                ];
                if let Some(m) = t.verdict.message() {
                    fields.push(("message", Value::Str(m)));
                }
                let engines = t
                    .per_engine
                    .iter()
                    .map(|(k, v)| (k.name(), Value::Str(v.kind().to_owned())));
                fields.push(("engines", object(engines.collect())));
                object(fields)
            })),
        ));
        object(top).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Source;

    fn case(slots: Vec<Insn>, expected: Expected) -> TestCase {
        TestCase {
            name: "t.data".into(),
            mem: vec![1, 2, 3],
            program: Source::Raw(slots),
            expected,
        }
    }

    const EXIT: Insn = Insn::new(0x95, 0, 0, 0, 0);

    #[test]
    fn passes_fails_and_errors() {
        let mov42 = Insn::new(0xb7, 0, 0, 0, 42);
        let ok = Expected {
            result: Some(42),
            error: None,
        };
        let cfg = RunConfig::default();
        assert_eq!(
            run_case(&case(vec![mov42, EXIT], ok.clone()), &cfg).verdict,
            Verdict::Passed
        );
        let wrong = Expected {
            result: Some(43),
            error: None,
        };
        let v = run_case(&case(vec![mov42, EXIT], wrong), &cfg).verdict;
        assert_eq!(
            v,
            Verdict::Failed {
                expected: "0x2b".into(),
                got: "0x2a".into()
            }
        );
        // r2 is the memory length.
        let mov_r0_r2 = Insn::new(0xbf, 0, 2, 0, 0);
        let three = Expected {
            result: Some(3),
            error: None,
        };
        assert_eq!(
            run_case(&case(vec![mov_r0_r2, EXIT], three), &cfg).verdict,
            Verdict::Passed
        );
        // Load error: Error without `-- error`, Passed with it.
        let v = run_case(&case(vec![mov42], ok), &cfg).verdict;
        assert!(
            matches!(&v, Verdict::Error { message } if message.contains("instruction 0")),
            "{v:?}"
        );
        let err = Expected {
            result: None,
            error: Some("x".into()),
        };
        assert_eq!(
            run_case(&case(vec![mov42], err.clone()), &cfg).verdict,
            Verdict::Passed
        );
        // Success where an error is expected fails.
        assert!(matches!(
            run_case(&case(vec![mov42, EXIT], err), &cfg).verdict,
            Verdict::Failed { .. }
        ));
    }

    #[test]
    fn infinite_loop_hits_the_budget() {
        let ja_self = Insn::new(0x05, 0, 0, -1, 0);
        let cfg = RunConfig {
            budget: 1000,
            ..RunConfig::default()
        };
        let err = Expected {
            result: None,
            error: Some("budget".into()),
        };
        assert_eq!(
            run_case(&case(vec![ja_self], err), &cfg).verdict,
            Verdict::Passed
        );
        let ok = Expected {
            result: Some(0),
            error: None,
        };
        let v = run_case(&case(vec![ja_self], ok), &cfg).verdict;
        assert!(
            matches!(&v, Verdict::Failed { got, .. } if got.contains("budget")),
            "{v:?}"
        );
    }

    #[test]
    fn disagreement_ignores_addresses_but_not_pcs() {
        let oob = |pc, addr| {
            Observation::Ran(Outcome {
                result: Err(Fault::OutOfBounds {
                    pc,
                    addr,
                    len: 1,
                    access: apiary_vm::Access::Read,
                }),
                instructions: Some(3),
            })
        };
        let k = EngineKind::Interp;
        assert_eq!(disagreement(&[(k, oob(2, 100)), (k, oob(2, 200))]), None);
        assert!(disagreement(&[(k, oob(2, 100)), (k, oob(1, 100))]).is_some());
        let val = |r0, n| {
            Observation::Ran(Outcome {
                result: Ok(r0),
                instructions: Some(n),
            })
        };
        assert!(
            disagreement(&[(k, val(1, 5)), (k, val(1, 6))]).is_some(),
            "instruction counts differ"
        );
        assert_eq!(disagreement(&[(k, val(1, 5)), (k, val(1, 5))]), None);
    }

    #[test]
    fn summary_and_json() {
        let report = RunReport {
            selection: EngineSelection::One(EngineKind::Interp),
            tests: vec![
                everywhere(&[EngineKind::Interp], "a.data", Verdict::Passed),
                everywhere(
                    &[EngineKind::Interp],
                    "b\"c.data",
                    Verdict::Skipped {
                        reason: "no result".into(),
                    },
                ),
            ],
        };
        let s = report.summary();
        assert_eq!((s.passed, s.failed, s.errors, s.skipped), (1, 0, 0, 1));
        assert!(report.all_passed());
        let json = report.to_json();
        assert!(
            json.starts_with(r#"{"engine":"interp","passed":1,"failed":0,"errors":0,"skipped":1,"#),
            "{json}"
        );
        assert!(json.contains(r#""name":"b\"c.data""#), "{json}");
        assert!(report.to_text().contains("SKIP: b\"c.data: no result"));
    }
}
