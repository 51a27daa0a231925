//! apiary: a userspace eBPF runtime. This facade ties the crates together for embedders:
//! read a program ([`source`]), check it ([`Program`]), prepare it for an engine, run it.
//!
//! ```
//! use apiary::{Runtime, EngineKind};
//! let runtime = Runtime::new(EngineKind::Interp).with_budget(1_000_000);
//! let prog = runtime.load_asm("mov %r0, %r2\nexit").unwrap();
//! assert_eq!(prog.run_once(&mut [1, 2, 3]).result, Ok(3));
//! ```

pub mod context;
pub mod lowmem;
pub mod object;
pub mod platform;
pub mod source;

use std::sync::Arc;

pub use apiary_conformance::engine::{prepare, EngineKind};
pub use apiary_vm::{
    Environment, ExecConfig, ExecState, Executable, Fault, HelperTable, Insn, LoadError,
    LoadOptions, Outcome, Program,
};
use thiserror::Error;

pub use context::ContextKind;
pub use object::{LoadedObject, ObjectError, ObjectOptions, RunOutput};

/// Why a program could not be made ready to run.
#[derive(Debug, Error)]
pub enum Error {
    /// The program text or bytes could not be read.
    #[error(transparent)]
    Source(#[from] source::SourceError),
    /// The program failed its load-time checks, or the engine could not prepare it.
    #[error(transparent)]
    Prepare(#[from] apiary_conformance::engine::PrepareError),
    /// The program failed its load-time checks.
    #[error(transparent)]
    Load(#[from] LoadError),
}

/// Loads programs for one engine with one set of helpers, options and budget.
#[derive(Clone, Debug)]
pub struct Runtime {
    engine: EngineKind,
    options: LoadOptions,
    helpers: HelperTable,
    config: ExecConfig,
}

impl Runtime {
    /// A runtime for `engine`, no helpers, default load options, no budget.
    #[must_use]
    pub fn new(engine: EngineKind) -> Self {
        Self {
            engine,
            options: LoadOptions::default(),
            helpers: HelperTable::new(),
            config: ExecConfig::default(),
        }
    }

    /// Sets the instruction budget (metering on).
    #[must_use]
    pub fn with_budget(mut self, budget: u64) -> Self {
        self.config.budget = Some(budget);
        self
    }

    /// Sets the helpers programs may call.
    #[must_use]
    pub fn with_helpers(mut self, helpers: HelperTable) -> Self {
        self.helpers = helpers;
        self
    }

    /// Sets the optional instruction groups accepted at load.
    #[must_use]
    pub fn with_options(mut self, options: LoadOptions) -> Self {
        self.options = options;
        self
    }

    /// Checks `insns` and prepares them for the engine.
    ///
    /// # Errors
    /// [`Error::Load`] or [`Error::Prepare`].
    pub fn load(&self, insns: Vec<Insn>) -> Result<Box<dyn Executable>, Error> {
        let program = Arc::new(Program::new(insns, &self.options)?);
        let env = Environment::new(self.helpers.clone(), self.config);
        Ok(prepare(self.engine, program, &env)?)
    }

    /// Assembles, checks and prepares a program.
    ///
    /// # Errors
    /// As [`Runtime::load`], plus assembly errors with line and column.
    pub fn load_asm(&self, text: &str) -> Result<Box<dyn Executable>, Error> {
        self.load(source::read_program(text.as_bytes(), source::Format::Asm)?)
    }
}
