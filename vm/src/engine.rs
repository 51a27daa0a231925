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
}

impl Environment {
    /// An environment with these helpers, no extra regions and the given config.
    #[must_use]
    pub fn new(helpers: HelperTable, config: ExecConfig) -> Self {
        Self {
            helpers: Arc::new(helpers),
            regions: Arc::from(Vec::new()),
            config,
        }
    }

    /// Checks that every helper the program calls by id exists.
    ///
    /// # Errors
    /// [`LoadError::UnknownHelper`] naming the first call to a missing helper.
    pub fn check_helpers(&self, program: &Program) -> Result<(), LoadError> {
        for (pc, ins) in program.instructions().iter().enumerate() {
            if let Instruction::Call { helper } = *ins {
                if self.helpers.get(helper).is_none() {
                    return Err(LoadError::UnknownHelper { pc, id: helper });
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

    /// Runs once with a fresh [`ExecState`].
    fn run_once(&self, input: &mut [u8]) -> Outcome {
        self.run(&mut ExecState::new(), input)
    }
}
