//! The one interface every execution engine implements (interpreter, x86-64 JIT, arm64 JIT,
//! the kernel oracle), so that tests, the conformance runner, the CLI, benches and fuzzers are
//! written once and run everywhere.

use std::sync::Arc;

use crate::error::LoadError;
use crate::fault::Fault;
use crate::helpers::HelperTable;
use crate::instruction::Instruction;
use crate::memory::{ExecState, Region};
use crate::program::Program;

/// Run-time settings fixed when a program is prepared for an engine.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExecConfig {
    /// Instruction budget. `None` turns metering off (no count is kept). With `Some(n)`, every
    /// executed instruction counts one (an `lddw` counts one), and a run whose count exceeds `n`
    /// when it takes a backward jump or makes a call (local call or `callx`) stops with
    /// [`Fault::BudgetExhausted`] at that instruction.
    pub budget: Option<u64>,
}

/// Everything outside the program that an engine binds it to.
#[derive(Clone, Debug, Default)]
pub struct Environment {
    /// The helpers `call` may reach.
    pub helpers: Arc<HelperTable>,
    /// Regions the program may access besides its stack and input (maps, global data). Each must
    /// satisfy the contract of [`crate::memory`] for as long as the prepared program lives.
    pub regions: Arc<[Region]>,
    /// Metering.
    pub config: ExecConfig,
    /// The sandbox window every region lies in, when the program's memory was allocated in one
    /// (maps through `MapOptions::window`). Sandboxed verified mode confines unchecked
    /// accesses to it; `None` with no regions: the engine makes a private window.
    pub window: Option<Arc<apiary_window::Window>>,
}

impl Environment {
    /// An environment with these helpers, no extra regions and the given config.
    #[must_use]
    pub fn new(helpers: HelperTable, config: ExecConfig) -> Self {
        Self {
            helpers: Arc::new(helpers),
            regions: Arc::from(Vec::new()),
            config,
            window: None,
        }
    }

    /// Checks that every helper the program calls by id exists.
    ///
    /// # Errors
    /// [`LoadError::UnknownHelper`] naming the first call to a missing helper, or
    /// [`LoadError::HelperUnavailable`] when the table marks it as not available here.
    pub fn check_helpers(&self, program: &Program) -> Result<(), LoadError> {
        // The decoding pass found whether there is any call to check.
        if !program.summary().helper_calls {
            return Ok(());
        }
        for (pc, ins) in program.instructions().iter().enumerate() {
            if let Instruction::Call { helper } = *ins {
                if self.helpers.get(helper).is_none() {
                    return Err(match self.helpers.unavailable(helper) {
                        Some(name) => LoadError::HelperUnavailable {
                            pc,
                            id: helper,
                            name,
                        },
                        None => LoadError::UnknownHelper { pc, id: helper },
                    });
                }
            }
        }
        Ok(())
    }
}

/// The result of one run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// r0 at the final `exit`, or the fault that stopped the run.
    pub result: Result<u64, Fault>,
    /// Instructions executed, including a faulting one; `None` when metering is off.
    pub instructions: Option<u64>,
}

/// A program prepared for one engine, ready to run any number of times, from any thread.
pub trait Executable: Send + Sync {
    /// Short engine name (`interp`, `jit`, ...), as used on the command line.
    fn engine_name(&self) -> &'static str;

    /// The program this was prepared from.
    fn program(&self) -> &Program;

    /// Runs once: r1 = address of `input` (0 if it is empty), r2 = its length, r10 = top of the
    /// stack in `state`.
    fn run(&self, state: &mut ExecState, input: &mut [u8]) -> Outcome;

    /// The sandbox window this program's unchecked accesses are confined to (sandboxed
    /// verified mode), if any. An embedder that places each run's input in it
    /// ([`ExecState::window_input`]) saves the copy in and out of the window per run.
    fn window(&self) -> Option<&Arc<apiary_window::Window>> {
        None
    }

    /// Runs once with a fresh [`ExecState`].
    fn run_once(&self, input: &mut [u8]) -> Outcome {
        self.run(&mut ExecState::new(), input)
    }
}

/// [`ProgramSet::run`] was given an entry that is not one of the set's programs.
#[derive(Clone, Copy, Debug, thiserror::Error, PartialEq, Eq)]
#[error("no program {index} in a set of {programs}")]
pub struct NoSuchProgram {
    /// The requested entry.
    pub index: usize,
    /// Programs in the set.
    pub programs: usize,
}

/// Several prepared programs of one object, linked by tail calls: `bpf_tail_call` through a
/// `PROG_ARRAY` whose slots hold indices into this set.
///
/// [`ProgramSet::run`] runs the entry program; whenever a run ends with a tail call pending in
/// the state's [`crate::RunControl`] (the helper records it and stops the run), it runs the
/// target with the same input, up to [`crate::memory::MAX_TAIL_CALLS`] tail calls per chain (the
/// helper fails the next one and the program continues, as on Linux). Instruction counts are
/// summed over the chain. Engines must build their region table with
/// [`crate::memory::RegionTable::with_control`] for tail calls to work (the interpreter does).
#[derive(Clone, Default)]
pub struct ProgramSet {
    programs: Vec<Arc<dyn Executable>>,
}

impl std::fmt::Debug for ProgramSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProgramSet")
            .field(
                "programs",
                &self
                    .programs
                    .iter()
                    .map(|p| p.engine_name())
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl ProgramSet {
    /// A set of programs; program `i` is the one a prog-array value `i` names.
    #[must_use]
    pub fn new(programs: Vec<Arc<dyn Executable>>) -> Self {
        Self { programs }
    }

    /// Adds a program and returns its index.
    pub fn push(&mut self, program: Arc<dyn Executable>) -> usize {
        self.programs.push(program);
        self.programs.len() - 1
    }

    /// Number of programs.
    #[must_use]
    pub fn len(&self) -> usize {
        self.programs.len()
    }

    /// Whether the set is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.programs.is_empty()
    }

    /// Program `index`.
    #[must_use]
    pub fn get(&self, index: usize) -> Option<&Arc<dyn Executable>> {
        self.programs.get(index)
    }

    /// Runs program `entry` and the chain of tail calls it makes.
    ///
    /// # Errors
    /// [`NoSuchProgram`] when `entry` is out of range.
    pub fn run(
        &self,
        entry: usize,
        state: &mut ExecState,
        input: &mut [u8],
    ) -> Result<Outcome, NoSuchProgram> {
        let Some(mut program) = self.programs.get(entry) else {
            return Err(NoSuchProgram {
                index: entry,
                programs: self.programs.len(),
            });
        };
        let count = u32::try_from(self.programs.len()).unwrap_or(u32::MAX);
        state.control().begin_chain(count);
        let mut instructions: Option<u64> = None;
        loop {
            let out = program.run(state, input);
            instructions = match (instructions, out.instructions) {
                (Some(a), Some(b)) => Some(a.saturating_add(b)),
                (a, b) => a.or(b),
            };
            let next = state.control().take_tail_call();
            match (out.result, next.and_then(|n| self.programs.get(n as usize))) {
                (Ok(_), Some(target)) => program = target,
                _ => {
                    state.control().end_chain();
                    return Ok(Outcome {
                        result: out.result,
                        instructions,
                    });
                }
            }
        }
    }
}
