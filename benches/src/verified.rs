//! apiary's engines in verified mode, for the benchmarks: the program is verified as a `mem`
//! program for its benchmark's input length, and the accesses the verifier proved in bounds
//! run without run-time checks. This is the like-for-like comparison with rbpf's and uBPF's
//! JITs, which check no access at all.
//!
//! The proof holds for inputs of exactly the verified length, so [`VerifiedRunner::run`]
//! refuses any other length before the program starts (one comparison per call, the same guard
//! `apiary::verified_mode::ForInputLength` puts in front of `Runtime::load_verified_for_len`).

use std::sync::Arc;

use apiary_jit::Jit;
use apiary_verifier::platform::{Arg, HelperProto};
use apiary_verifier::{verify, Platform, ProgramType};
use apiary_vm::{ExecState, Executable, Facts, Interpreter, Program};

use crate::environment;

/// Which engine runs the verified program.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VerifiedEngine {
    /// The interpreter (`Interpreter::with_facts`).
    Interp,
    /// The JIT (`Jit::with_facts`).
    Jit,
}

enum Prepared {
    Interp(Interpreter),
    Jit(Jit),
}

/// A program prepared in verified mode for inputs of one length.
pub struct VerifiedRunner {
    exe: Prepared,
    len: usize,
}

impl std::fmt::Debug for VerifiedRunner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let engine = match self.exe {
            Prepared::Interp(_) => VerifiedEngine::Interp,
            Prepared::Jit(_) => VerifiedEngine::Jit,
        };
        f.debug_struct("VerifiedRunner")
            .field("engine", &engine)
            .field("len", &self.len)
            .finish()
    }
}

/// The platform the benchmark programs are verified on: helper 1 is [`crate::helper`], a pure
/// function of five numbers returning a number.
fn platform() -> Platform {
    let mut p = Platform::empty();
    p.set_helper(1, HelperProto::new("bench_helper", &[Arg::Anything; 5]));
    p
}

impl VerifiedRunner {
    /// Verifies `program` for inputs of `len` bytes and prepares it for `engine`.
    ///
    /// # Errors
    /// The verifier's rejection or the engine's refusal, as text ("n/a" in the report).
    pub fn new(engine: VerifiedEngine, program: Arc<Program>, len: usize) -> Result<Self, String> {
        let ptype = ProgramType::mem(Some(len as u64));
        let verified = verify(&program, &platform(), &ptype, &[])
            .map_err(|r| format!("verifier: instruction {}: {}", r.pc, r.reason))?;
        let facts: Facts = verified.facts;
        let env = environment(None);
        let exe = match engine {
            // SAFETY: the facts are the verifier's for this very program, as a `mem` program of
            // `len` bytes with helper 1 as `environment` registers it (a pure function of five
            // numbers, as `platform` declares); `run` only passes inputs of `len` bytes.
            VerifiedEngine::Interp => unsafe { Interpreter::with_facts(program, &env, &facts) }
                .map(Prepared::Interp)
                .map_err(|e| e.to_string())?,
            // SAFETY: as for the interpreter.
            VerifiedEngine::Jit => unsafe { Jit::with_facts(program, &env, &facts) }
                .map(Prepared::Jit)
                .map_err(|e| e.to_string())?,
        };
        Ok(Self { exe, len })
    }

    /// Runs on `input`: r0, or the fault (an input of another length is refused unrun).
    ///
    /// # Errors
    /// The fault, or the length mismatch, as text.
    #[inline]
    pub fn run(&self, state: &mut ExecState, input: &mut [u8]) -> Result<u64, String> {
        if input.len() != self.len {
            return Err(format!(
                "verified for {}-byte inputs, given {}",
                self.len,
                input.len()
            ));
        }
        let outcome = match &self.exe {
            Prepared::Interp(i) => i.run(state, input),
            Prepared::Jit(j) => j.run(state, input),
        };
        outcome.result.map_err(|f| f.to_string())
    }
}
