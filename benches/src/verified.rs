//! apiary's engines in verified mode, for the benchmarks: the program is verified as a `mem`
//! program for its benchmark's input length, and the accesses the verifier proved in bounds
//! run without run-time checks. This is the like-for-like comparison with rbpf's and uBPF's
//! JITs, which check no access at all.
//!
//! The engines come from the library's factory (`apiary_engine::prepare_verified`), which puts
//! the length check of a proof for one length in front of the program (the same guard
//! `Runtime::load_verified_for_len` gets): a run with another length is refused unrun.

use std::sync::Arc;

use apiary_engine::{
    prepare, prepare_checked_with_proofs, prepare_verified, prepare_verified_unsandboxed,
    verify_for_checked, EngineKind, VerifiedProgram,
};
use apiary_verifier::platform::{Arg, HelperProto};
use apiary_verifier::{Options, Platform, ProgramType};
use apiary_vm::{ExecState, Executable, Program};

use crate::environment;

/// A program prepared in verified mode for inputs of one length.
pub struct VerifiedRunner {
    exe: Box<dyn Executable>,
    len: usize,
}

impl std::fmt::Debug for VerifiedRunner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifiedRunner")
            .field("engine", &self.exe.engine_name())
            .field("len", &self.len)
            .finish()
    }
}

/// The platform the benchmark programs are verified on: helper 1 is [`crate::helper`], a pure
/// function of five numbers returning a number.
pub(crate) fn platform() -> Platform {
    let mut p = Platform::empty();
    p.set_helper(1, HelperProto::new("bench_helper", &[Arg::Anything; 5]));
    p
}

/// Verifies `program` as a `mem` program of `len` bytes on [`platform`].
///
/// # Errors
/// The verifier's rejection, as text.
pub(crate) fn verify(program: Arc<Program>, len: usize) -> Result<VerifiedProgram, String> {
    let ptype = ProgramType::mem(Some(len as u64));
    VerifiedProgram::verify(program, &platform(), &ptype, &[])
        .map_err(|r| format!("verifier: instruction {}: {}", r.pc, r.reason))
}

/// The partial analysis of `program` as a `mem` program of `len` bytes on [`platform`]
/// (`Options::partial`: what it cannot prove stays checked).
///
/// # Errors
/// The analysis's rejection, as text.
pub(crate) fn verify_partial(program: Arc<Program>, len: usize) -> Result<VerifiedProgram, String> {
    let ptype = ProgramType::mem(Some(len as u64));
    let options = Options {
        partial: true,
        ..Options::default()
    };
    VerifiedProgram::verify_with(program, &platform(), &ptype, &[], &options)
        .map_err(|r| format!("verifier: instruction {}: {}", r.pc, r.reason))
}

/// The proof checked mode uses for `program` run on `len` bytes: the complete one when the
/// verifier accepts it, else the partial analysis (`apiary_engine::verify_for_checked`).
///
/// # Errors
/// Both analyses rejected the program (it runs fully checked), as text.
pub fn proof_for_checked(program: Arc<Program>, len: usize) -> Result<VerifiedProgram, String> {
    let ptype = ProgramType::mem(Some(len as u64));
    // No wall-clock limit: under valgrind (`callgrind.sh`) the analysis is slow, and a verdict
    // that depends on time would change what is measured between two runs.
    let mut options = Options::default();
    options.limits.max_millis = u64::MAX;
    verify_for_checked(program, &platform(), &ptype, &[], &options)
        .map_err(|r| format!("verifier: instruction {}: {}", r.pc, r.reason))
}

/// `program` in checked mode for `engine`, as the library runs it: the accesses the verifier
/// proves (completely, or in its partial analysis) for inputs of `len` bytes run unchecked in
/// the sandbox window, the others checked; fully checked when neither analysis succeeds, or
/// when `APIARY_BENCH_NO_PROOFS` is set (to measure the difference).
///
/// # Errors
/// The engine's refusal, as text.
pub(crate) fn checked(
    engine: EngineKind,
    program: Arc<Program>,
    len: usize,
) -> Result<Box<dyn Executable>, String> {
    let env = environment(None);
    if std::env::var_os("APIARY_BENCH_NO_PROOFS").is_some() {
        // Checked mode as it was before proofs reached it: every access checked (the "before"
        // of `benches/callgrind.sh`, in the same binary).
        return prepare(engine, program, &env).map_err(|e| e.to_string());
    }
    match proof_for_checked(Arc::clone(&program), len) {
        // SAFETY: as in `VerifiedRunner::with_sandbox`: helper 1 only, as `platform` declares
        // it; no maps or regions; a `mem` input; runs of another length run fully checked.
        Ok(v) => unsafe { prepare_checked_with_proofs(engine, &v, &env) },
        Err(_) => prepare(engine, program, &env),
    }
    .map_err(|e| e.to_string())
}

impl VerifiedRunner {
    /// Verifies `program` for inputs of `len` bytes and prepares it for `engine`.
    ///
    /// # Errors
    /// The verifier's rejection or the engine's refusal, as text ("n/a" in the report).
    pub fn new(engine: EngineKind, program: Arc<Program>, len: usize) -> Result<Self, String> {
        Self::with_sandbox(engine, program, len, true)
    }

    /// As [`VerifiedRunner::new`], sandboxed (the library's default: proven accesses confined
    /// to the program's window, the input copied into it per run) or not.
    ///
    /// # Errors
    /// As [`VerifiedRunner::new`].
    pub fn with_sandbox(
        engine: EngineKind,
        program: Arc<Program>,
        len: usize,
        sandboxed: bool,
    ) -> Result<Self, String> {
        let verified = verify(program, len)?;
        let env = environment(None);
        // SAFETY: `environment` registers helper 1 only, as `platform` declares it (a pure
        // function of five numbers returning a number, touching no memory); no maps, no extra
        // regions; the input of a `mem` program is any buffer, and its length is enforced by
        // `prepare_verified` for this proof of `len` bytes.
        let exe = unsafe {
            if sandboxed {
                prepare_verified(engine, &verified, &env)
            } else {
                prepare_verified_unsandboxed(engine, &verified, &env)
            }
        }
        .map_err(|e| e.to_string())?;
        Ok(Self { exe, len })
    }

    /// The program's sandbox window, when it runs sandboxed.
    #[must_use]
    pub fn window(&self) -> Option<&Arc<apiary_vm::window::Window>> {
        self.exe.window()
    }

    /// Runs on `input`: r0, or the fault (an input of another length is refused unrun).
    ///
    /// # Errors
    /// The fault, or the length mismatch, as text.
    #[inline]
    pub fn run(&self, state: &mut ExecState, input: &mut [u8]) -> Result<u64, String> {
        self.exe.run(state, input).result.map_err(|f| f.to_string())
    }
}
