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
pub mod kconfig;
pub mod lowmem;
pub mod object;
pub mod platform;
pub mod sandbox;
pub mod source;
pub mod verified_mode;

use std::sync::Arc;

pub use apiary_engine::{
    prepare, prepare_verified, prepare_verified_unsandboxed, EngineKind, PrepareError,
    VerifiedProgram,
};
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
    Prepare(#[from] PrepareError),
    /// The program failed its load-time checks.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// The verifier rejected the program.
    #[error("verifier: {0}")]
    Rejected(Box<apiary_verifier::Rejection>),
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

    /// Verifies `insns` as a `mem` program (r1 = input of any length, r2 = that length) on the
    /// conformance platform, then prepares it in verified mode: the accesses the verifier
    /// proved in bounds run without run-time checks. The helpers are the conformance helpers
    /// (ids 0–5), whose prototypes the verifier knows; this runtime's own helper table is not
    /// used, since the proof holds only for the prototypes it was made with.
    ///
    /// # Errors
    /// [`Error::Load`], [`Error::Rejected`] (with pc, instruction, reason and state), or
    /// [`Error::Prepare`].
    pub fn load_verified(&self, insns: Vec<Insn>) -> Result<Box<dyn Executable>, Error> {
        self.verify_and_prepare(insns, None)
    }

    /// As [`Runtime::load_verified`], for inputs of exactly `len` bytes: more programs are
    /// proven safe (accesses need no bounds check against r2), and runs with any other input
    /// length are refused with [`Fault::InputLength`].
    ///
    /// # Errors
    /// As [`Runtime::load_verified`].
    pub fn load_verified_for_len(
        &self,
        insns: Vec<Insn>,
        len: u64,
    ) -> Result<Box<dyn Executable>, Error> {
        // `prepare_verified` puts the length check in front of a program proven for one length.
        self.verify_and_prepare(insns, Some(len))
    }

    fn verify_and_prepare(
        &self,
        insns: Vec<Insn>,
        len: Option<u64>,
    ) -> Result<Box<dyn Executable>, Error> {
        let program = Arc::new(Program::new(insns, &self.options)?);
        let verified = VerifiedProgram::verify(
            program,
            &apiary_verifier::Platform::conformance(),
            &apiary_verifier::ProgramType::mem(len),
            &[],
        )
        .map_err(Error::Rejected)?;
        let env = Environment::new(apiary_engine::helpers::conformance_helpers(), self.config);
        // SAFETY: the environment is the one the proof assumed: the conformance helpers
        // implement `Platform::conformance`'s prototypes and are the only helpers; no maps and
        // no extra regions; a `mem` program's input is any buffer (its length, when the proof
        // is for one, is enforced by `prepare_verified`).
        Ok(unsafe { prepare_verified(self.engine, &verified, &env) }?)
    }
}
