//! Verified mode: preparing a program for an engine with the verifier's facts, so that proven
//! accesses run without run-time checks. The facts are only ever taken from
//! `apiary_verifier::verify` run on the same program and environment (see the callers).

use std::sync::Arc;

use apiary_conformance::engine::{prepare as prepare_checked, EngineKind, PrepareError};
use apiary_vm::{Environment, ExecState, Executable, Facts, Fault, Interpreter, Outcome, Program};

/// Prepares `program` for `engine` in verified mode (the interpreter and the JIT); the kernel
/// has its own verifier and is prepared as usual.
///
/// # Errors
/// [`PrepareError`] when the engine refuses the program.
pub fn prepare(
    engine: EngineKind,
    program: Arc<Program>,
    env: &Environment,
    facts: &Facts,
) -> Result<Box<dyn Executable>, PrepareError> {
    match engine {
        EngineKind::Interp => {
            // SAFETY: every caller passes the facts of `apiary_verifier::verify` for this very
            // program, verified for the program type and helpers `env` provides (see
            // `Runtime::load_verified`), which is `Interpreter::with_facts`'s contract.
            let interp = unsafe { Interpreter::with_facts(program, env, facts) };
            interp
                .map(|i| Box::new(i) as Box<dyn Executable>)
                .map_err(|error| PrepareError::Load { engine, error })
        }
        EngineKind::Jit => {
            // SAFETY: as for the interpreter above: the facts are the verifier's for this
            // program and environment, which is `Jit::with_facts`'s contract.
            let jit = unsafe { apiary_jit::Jit::with_facts(program, env, facts) };
            match jit {
                Ok(j) => Ok(Box::new(j) as Box<dyn Executable>),
                Err(apiary_jit::JitError::Load(error)) => Err(PrepareError::Load { engine, error }),
                Err(e) => Err(PrepareError::Jit(Arc::new(e))),
            }
        }
        other => prepare_checked(other, program, env),
    }
}

/// A program verified for inputs of exactly one length: runs with any other length are
/// refused with [`Fault::InputLength`] before the program starts, since the proof says nothing
/// about them.
pub struct ForInputLength {
    inner: Box<dyn Executable>,
    len: u64,
}

impl ForInputLength {
    /// Wraps an executable prepared with facts that hold for inputs of `len` bytes.
    #[must_use]
    pub fn new(inner: Box<dyn Executable>, len: u64) -> Self {
        Self { inner, len }
    }
}

impl std::fmt::Debug for ForInputLength {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ForInputLength")
            .field("engine", &self.inner.engine_name())
            .field("len", &self.len)
            .finish()
    }
}

impl Executable for ForInputLength {
    fn engine_name(&self) -> &'static str {
        self.inner.engine_name()
    }

    fn program(&self) -> &Program {
        self.inner.program()
    }

    fn run(&self, state: &mut ExecState, input: &mut [u8]) -> Outcome {
        let actual = input.len() as u64;
        if actual != self.len {
            return Outcome {
                result: Err(Fault::InputLength {
                    expected: self.len,
                    actual,
                }),
                instructions: None,
            };
        }
        self.inner.run(state, input)
    }
}
