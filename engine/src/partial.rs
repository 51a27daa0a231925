//! Checked mode with proofs: the accesses a verifier proved run unchecked (confined to the
//! sandbox window, as in verified mode), every other access keeps its run-time check.
//!
//! The proof is the verifier's complete one when it accepts the program, otherwise its partial
//! analysis ([`apiary_verifier::partial`]), which marks what it cannot prove as unproven
//! instead of rejecting. When even that fails (a type error the engines do not check, a helper
//! call it cannot follow, a limit), the program runs fully checked, as without proofs. Checked
//! mode must run every program it ran before, with the same results: a proof for one input
//! length is used only for runs of that length, other runs go to a fully checked engine.

use std::sync::Arc;

use apiary_verifier::{MapInfo, Options, Platform, ProgramType, Rejection};
use apiary_vm::{Environment, Executable, Program};

use crate::{prepare, prepare_verified, EngineKind, ForInputLength, PrepareError, VerifiedProgram};

/// The proof checked mode uses for `program`: the verifier's complete proof when it accepts
/// the program, else its partial analysis.
///
/// # Errors
/// The partial analysis's rejection: the program must run fully checked.
pub fn verify_for_checked(
    program: Arc<Program>,
    platform: &Platform,
    program_type: &ProgramType,
    maps: &[MapInfo],
    options: &Options,
) -> Result<VerifiedProgram, Box<Rejection>> {
    let strict = Options {
        partial: false,
        ..options.clone()
    };
    if let Ok(v) =
        VerifiedProgram::verify_with(Arc::clone(&program), platform, program_type, maps, &strict)
    {
        return Ok(v);
    }
    let partial = Options {
        partial: true,
        ..options.clone()
    };
    VerifiedProgram::verify_with(program, platform, program_type, maps, &partial)
}

/// Prepares `verified`'s program for `kind` in **checked mode with proofs**: the accesses its
/// facts prove run unchecked and confined to the sandbox window ([`prepare_verified`]), every
/// other access is checked. A proof for one input length serves runs of that length; runs of
/// any other length go to the program prepared fully checked ([`prepare`]), so no run is
/// refused that checked mode would run.
///
/// # Errors
/// As [`prepare_verified`] and [`prepare`].
///
/// # Safety
/// As [`prepare_verified`]: `env`'s helpers implement the prototypes the program was verified
/// with, its maps are those described, and a context type's runs get its context.
pub unsafe fn prepare_checked_with_proofs(
    kind: EngineKind,
    verified: &VerifiedProgram,
    env: &Environment,
) -> Result<Box<dyn Executable>, PrepareError> {
    // SAFETY: the caller's contract is `prepare_verified`'s.
    let proven = unsafe { prepare_verified(kind, verified, env) }?;
    Ok(match verified.input_len() {
        Some(len) => Box::new(ForInputLength::or_else(
            proven,
            len,
            prepare(kind, Arc::clone(verified.program()), env)?,
        )),
        None => proven,
    })
}
