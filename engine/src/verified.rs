//! Verified mode: engines that skip the run-time checks the verifier proved redundant.
//!
//! The engines' `with_facts` constructors are unsafe: they trust that the facts were proven for
//! the program they are given. This module is their only caller. It takes the facts only from a
//! [`VerifiedProgram`], which holds the program together with what the verifier proved about it
//! and can only be made by running the verifier on that program, so facts cannot be paired with
//! another program by mistake. What remains for the caller of [`prepare_verified`] to vouch
//! for is what the verifier assumed about the world around the program (helpers, maps,
//! context), which no type here can check.

use std::sync::Arc;

use apiary_jit::Jit;
use apiary_verifier::platform::CtxKind;
use apiary_verifier::{verify_with, MapInfo, Options, Platform, ProgramType, Rejection, Verified};
use apiary_vm::maps::{bind, BindError, MapTable};
use apiary_vm::window::Window;
use apiary_vm::{
    Confinement, Environment, ExecState, Executable, Facts, Fault, Interpreter, Outcome, Program,
};

use crate::sandbox::{window_for, Sandboxed};
use crate::{EngineKind, PrepareError};

/// A program together with the verifier's result for it. Made only by
/// [`VerifiedProgram::verify`] (or from one by [`VerifiedProgram::bind`], which keeps every
/// slot the facts index), so its facts are always those of its own program.
#[derive(Clone, Debug)]
pub struct VerifiedProgram {
    program: Arc<Program>,
    verified: Verified,
    /// `Some(n)` when the program was verified as a `mem` program of exactly `n` bytes: its
    /// engines then refuse inputs of any other length ([`ForInputLength`]).
    input_len: Option<u64>,
}

impl VerifiedProgram {
    /// Runs the verifier on `program` for `program_type` on `platform`, with `maps` the maps
    /// its `lddw` src 1/2/5/6 indices name.
    ///
    /// # Errors
    /// The verifier's [`Rejection`] (pc, instruction, reason, state).
    pub fn verify(
        program: Arc<Program>,
        platform: &Platform,
        program_type: &ProgramType,
        maps: &[MapInfo],
    ) -> Result<Self, Box<Rejection>> {
        Self::verify_with(program, platform, program_type, maps, &Options::default())
    }

    /// As [`VerifiedProgram::verify`], with the verifier's options (limits, the maps that maps
    /// of maps hold).
    ///
    /// # Errors
    /// The verifier's [`Rejection`].
    pub fn verify_with(
        program: Arc<Program>,
        platform: &Platform,
        program_type: &ProgramType,
        maps: &[MapInfo],
        options: &Options,
    ) -> Result<Self, Box<Rejection>> {
        let verified = verify_with(&program, platform, program_type, maps, options)
            .0
            .map_err(Box::new)?;
        let input_len = match program_type.ctx {
            CtxKind::Mem(len) => len,
            CtxKind::Struct(_) => None,
        };
        Ok(Self {
            program,
            verified,
            input_len,
        })
    }

    /// A program with *forged* facts: every load, store and atomic is treated as proven.
    ///
    /// This exists only to test the sandbox (sandboxed verified mode must keep even a program
    /// whose every proof is wrong inside its window) and is hidden from the documentation.
    ///
    /// # Safety
    /// Every access of the program runs unchecked: preparing it with
    /// [`prepare_verified_unsandboxed`] lets it read and write any host address. Only
    /// [`prepare_verified`] (sandboxed) keeps it confined.
    #[doc(hidden)]
    #[must_use]
    pub unsafe fn forged(program: Arc<Program>, input_len: Option<u64>) -> Self {
        let len = program.instructions().len();
        Self {
            program,
            verified: Verified {
                facts: Facts {
                    access_in_bounds: vec![true; len],
                },
                r0: None,
                stats: apiary_verifier::Stats::default(),
                partial: false,
            },
            input_len,
        }
    }

    /// The same program and proof with no access proven: every access checked, everything
    /// else (the sandbox window, the input copy, the length rule) as with the facts. For tests
    /// that isolate what the facts change. Dropping facts is always sound.
    #[doc(hidden)]
    #[must_use]
    pub fn without_facts(&self) -> Self {
        let mut v = self.clone();
        v.verified.facts.access_in_bounds.fill(false);
        v
    }

    /// The program that was verified.
    #[must_use]
    pub fn program(&self) -> &Arc<Program> {
        &self.program
    }

    /// What the verifier proved (facts, r0's range, counters).
    #[must_use]
    pub const fn verified(&self) -> &Verified {
        &self.verified
    }

    /// The facts the engines use.
    #[must_use]
    pub const fn facts(&self) -> &Facts {
        &self.verified.facts
    }

    /// The only input length runs may have, when the proof is for one length.
    #[must_use]
    pub const fn input_len(&self) -> Option<u64> {
        self.input_len
    }

    /// The program bound to `maps` ([`apiary_vm::maps::bind`]): map `lddw`s become handles and
    /// value addresses. Binding rewrites `lddw` immediates only, so every slot the facts index
    /// keeps its instruction and the facts carry over.
    ///
    /// # Errors
    /// [`BindError`] when the program names a map `maps` lacks or a value out of range.
    pub fn bind(&self, maps: &MapTable) -> Result<Self, BindError> {
        let bound = bind(&self.program, maps)?;
        Ok(Self {
            program: Arc::new(bound.program),
            verified: self.verified.clone(),
            input_len: self.input_len,
        })
    }
}

/// Prepares `verified`'s program for `kind` in **sandboxed** verified mode: the loads, stores
/// (and, in the interpreter, atomics) the facts mark as proven run without the region-table
/// check, confined to the environment's sandbox window ([`crate::sandbox`]): even a wrong
/// proof reaches only memory in the window, never the host's. The window is `env.window`
/// (every region must lie in it), or a private one when `env` has no regions. A program proven
/// for one input length is wrapped in [`ForInputLength`].
///
/// # Errors
/// [`PrepareError`] when the engine refuses the program; [`PrepareError::Sandbox`] when the
/// environment's regions are not in one window.
///
/// # Safety
/// The proof holds only in the world the verifier assumed, which the caller vouches for (a
/// world that differs makes the program misbehave, but inside its window only):
/// - `env`'s helpers implement the prototypes of the [`Platform`] the program was verified on
///   (for every id the program calls), and no other helper answers those ids;
/// - map `lddw`s are either still unbound with no map regions involved, or the program was
///   bound ([`VerifiedProgram::bind`]) to a table whose maps are those the [`MapInfo`]s
///   described, in that order, and their regions are among `env`'s;
/// - for a program type with a context structure, every run's input is a context of that type
///   as apiary builds it (at least the structure's size, packet pointers inside their region).
///   `mem` types need nothing: their input is any buffer, and a proof for one length is
///   enforced by [`ForInputLength`].
pub unsafe fn prepare_verified(
    kind: EngineKind,
    verified: &VerifiedProgram,
    env: &Environment,
) -> Result<Box<dyn Executable>, PrepareError> {
    let window = window_for(env)?;
    // SAFETY: the caller's contract is this function's; the window is the environment's (its
    // regions checked inside it) or a fresh private one, mapped read-write whole (read-zero
    // policy) and kept alive by the `Sandboxed` wrapper as long as the engine.
    unsafe { prepare_in(kind, verified, env, Some(window)) }
}

/// Prepares `verified`'s program in **unsandboxed** verified mode, for programs the embedder
/// trusts: proven accesses run unchecked at whatever address the program computes, so a wrong
/// proof (a verifier bug) can read or write any host memory. Prefer [`prepare_verified`].
///
/// # Errors
/// [`PrepareError`] when the engine refuses the program.
///
/// # Safety
/// As [`prepare_verified`], and the facts must be right: nothing confines a wrong one.
pub unsafe fn prepare_verified_unsandboxed(
    kind: EngineKind,
    verified: &VerifiedProgram,
    env: &Environment,
) -> Result<Box<dyn Executable>, PrepareError> {
    // SAFETY: the caller's contract.
    unsafe { prepare_in(kind, verified, env, None) }
}

/// # Safety
/// As [`prepare_verified`]; with `window`, it must be mapped read-write whole.
unsafe fn prepare_in(
    kind: EngineKind,
    verified: &VerifiedProgram,
    env: &Environment,
    window: Option<Arc<Window>>,
) -> Result<Box<dyn Executable>, PrepareError> {
    let program = Arc::clone(&verified.program);
    let facts = &verified.verified.facts;
    let confine = window
        .as_deref()
        .map_or(Confinement::NONE, Confinement::window);
    let exe: Box<dyn Executable> = match kind {
        EngineKind::Interp => {
            // SAFETY: the facts are the verifier's for this very program (a `VerifiedProgram`
            // is only made by verifying its own program, and binding keeps the slots they
            // index) or forged by a caller who took `forged`'s contract; the environment and
            // the inputs are the caller's contract, stated above, which together are
            // `Interpreter::with_facts`'s contract. The confinement is the identity or a window
            // mapped whole, which `Sandboxed` keeps alive. Input lengths are enforced below.
            let interp = unsafe { Interpreter::with_facts_confined(program, env, facts, confine) };
            Box::new(interp.map_err(|error| PrepareError::Load {
                engine: kind,
                error,
            })?)
        }
        EngineKind::Jit => {
            // SAFETY: as for the interpreter: `Jit::with_facts_confined` has the same contract.
            let jit = unsafe { Jit::with_facts_confined(program, env, facts, confine) };
            Box::new(jit.map_err(PrepareError::from_jit)?)
        }
    };
    // Sandboxed engines check the input length themselves (one wrapper per run, not two).
    Ok(match (window, verified.input_len) {
        (Some(w), Some(len)) => Box::new(Sandboxed::for_input_len(exe, w, len)),
        (Some(w), None) => Box::new(Sandboxed::new(exe, w)),
        (None, Some(len)) => Box::new(ForInputLength::new(exe, len)),
        (None, None) => exe,
    })
}

/// A program verified for inputs of exactly one length. Runs with any other length are refused
/// with [`Fault::InputLength`] before the program starts, since the proof says nothing about
/// them, or, in checked mode with proofs ([`crate::prepare_checked_with_proofs`]), handed to
/// the same program prepared without facts.
pub struct ForInputLength {
    inner: Box<dyn Executable>,
    len: u64,
    otherwise: Option<Box<dyn Executable>>,
}

impl ForInputLength {
    /// Wraps an executable prepared with facts that hold for inputs of `len` bytes.
    #[must_use]
    pub fn new(inner: Box<dyn Executable>, len: u64) -> Self {
        Self {
            inner,
            len,
            otherwise: None,
        }
    }

    /// As [`ForInputLength::new`], but runs of any other length go to `otherwise` (the same
    /// program prepared fully checked) instead of being refused.
    #[must_use]
    pub fn or_else(inner: Box<dyn Executable>, len: u64, otherwise: Box<dyn Executable>) -> Self {
        Self {
            inner,
            len,
            otherwise: Some(otherwise),
        }
    }
}

impl std::fmt::Debug for ForInputLength {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ForInputLength")
            .field("engine", &self.inner.engine_name())
            .field("len", &self.len)
            .field("otherwise_checked", &self.otherwise.is_some())
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

    fn window(&self) -> Option<&Arc<Window>> {
        self.inner.window()
    }

    fn run(&self, state: &mut ExecState, input: &mut [u8]) -> Outcome {
        let actual = input.len() as u64;
        if actual == self.len {
            return self.inner.run(state, input);
        }
        match &self.otherwise {
            Some(checked) => checked.run(state, input),
            None => Outcome {
                result: Err(Fault::InputLength {
                    expected: self.len,
                    actual,
                }),
                instructions: None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use apiary_vm::asm::assemble;
    use apiary_vm::{ExecConfig, HelperTable, LoadOptions};

    fn verified(text: &str, len: Option<u64>) -> VerifiedProgram {
        let insns = assemble(text).expect("assembles");
        let program = Program::new(insns, &LoadOptions::default()).expect("loads");
        VerifiedProgram::verify(
            Arc::new(program),
            &Platform::empty(),
            &ProgramType::mem(len),
            &[],
        )
        .expect("verifies")
    }

    #[test]
    fn a_proof_for_one_length_refuses_other_lengths_on_every_engine() {
        let v = verified("ldxw %r0, [%r1+0]\nexit", Some(4));
        assert_eq!(v.input_len(), Some(4));
        assert!(v.facts().access_proven(0), "the load is proven in bounds");
        let env = Environment::new(HelperTable::new(), ExecConfig::default());
        for &kind in EngineKind::ALL {
            // SAFETY: verified on the empty platform as a `mem` program: no helpers, no maps,
            // and `env` has none; the input length is enforced by `prepare_verified`.
            let exe = unsafe { prepare_verified(kind, &v, &env) }.expect("prepares");
            assert_eq!(exe.run_once(&mut [1, 0, 0, 0]).result, Ok(1), "{kind}");
            assert_eq!(
                exe.run_once(&mut [1, 0]).result,
                Err(Fault::InputLength {
                    expected: 4,
                    actual: 2
                }),
                "{kind}"
            );
        }
    }

    /// Checked mode with proofs: a proof for one input length serves runs of that length, and
    /// runs of any other length go to the fully checked engine (which faults where the access
    /// is out of bounds) instead of being refused.
    #[test]
    fn a_proof_for_one_length_hands_other_lengths_to_the_checked_engine() {
        let v = verified("ldxw %r0, [%r1+0]\nexit", Some(4));
        let env = Environment::new(HelperTable::new(), ExecConfig::default());
        for &kind in EngineKind::ALL {
            // SAFETY: as above: the empty platform, a `mem` program, no helpers or maps.
            let exe =
                unsafe { crate::prepare_checked_with_proofs(kind, &v, &env) }.expect("prepares");
            assert_eq!(exe.run_once(&mut [1, 0, 0, 0]).result, Ok(1), "{kind}");
            assert_eq!(
                exe.run_once(&mut [2, 0, 0, 0, 9, 9]).result,
                Ok(2),
                "{kind}: a longer input runs checked"
            );
            assert!(
                matches!(
                    exe.run_once(&mut [1, 0]).result,
                    Err(Fault::OutOfBounds { pc: 0, .. })
                ),
                "{kind}: a shorter input faults in the checked engine, not as InputLength"
            );
        }
    }

    /// A heap input is copied into the window for the run, and back only when the program may
    /// write it: the writes of a storing program (directly, or by an atomic) reach the caller's
    /// buffer on every engine; a reading program sees its input and leaves it as it was.
    #[test]
    fn copied_inputs_come_back_when_the_program_writes_them() {
        let env = Environment::new(HelperTable::new(), ExecConfig::default());
        let cases: [(&str, [u8; 8], u64); 3] = [
            (
                "mov %r0, 7\nstxb [%r1+2], %r0\nexit",
                [0, 1, 7, 3, 4, 5, 6, 7],
                7,
            ),
            (
                "mov %r0, 5\nstxdw [%r10-8], %r0\nldxb %r0, [%r1+1]\nexit",
                [0, 1, 2, 3, 4, 5, 6, 7],
                1,
            ),
            (
                "mov %r2, 9\nlock add32 [%r1+4], %r2\nldxw %r0, [%r1+4]\nexit",
                [0, 1, 2, 3, 13, 5, 6, 7],
                0x0706_050d,
            ),
        ];
        for (text, after, r0) in cases {
            let v = verified(text, Some(8));
            for &kind in EngineKind::ALL {
                // SAFETY: as above: the empty platform, a `mem` program, no helpers or maps.
                let exe = unsafe { prepare_verified(kind, &v, &env) }.expect("prepares");
                let mut input = [0u8, 1, 2, 3, 4, 5, 6, 7];
                let window = exe.window().expect("sandboxed");
                assert!(!window.contains(input.as_ptr() as u64, 8), "a heap input");
                assert_eq!(exe.run_once(&mut input).result, Ok(r0), "{kind} {text}");
                assert_eq!(input, after, "{kind} {text}");
            }
        }
    }

    /// The copy-back decision, per class of instruction: stores and atomics through anything
    /// but the frame pointer and helper calls may write the input; loads, stack stores and
    /// arithmetic do not.
    #[test]
    fn which_programs_may_write_their_input() {
        let may = |text: &str| {
            let insns = assemble(text).expect("assembles");
            let program = Program::new(insns, &LoadOptions::default()).expect("loads");
            crate::sandbox::may_write_input(&program)
        };
        for text in [
            "stb [%r1+0], 1\nmov %r0, 0\nexit",
            "stxdw [%r2-8], %r1\nmov %r0, 0\nexit",
            "mov %r2, 1\nlock add [%r1+0], %r2\nmov %r0, 0\nexit",
            "call 1\nexit",
        ] {
            assert!(may(text), "{text}");
        }
        for text in [
            "ldxdw %r0, [%r1+0]\nexit",
            "stdw [%r10-8], 1\nstxdw [%r10-16], %r1\nldxdw %r0, [%r10-8]\nexit",
            "mov %r0, 1\nadd %r0, 2\nexit",
        ] {
            assert!(!may(text), "{text}");
        }
    }

    #[test]
    fn any_length_proofs_are_not_wrapped() {
        let v = verified("mov %r0, %r2\nexit", None);
        assert_eq!(v.input_len(), None);
        let env = Environment::new(HelperTable::new(), ExecConfig::default());
        // SAFETY: as above, for a proof that holds for every length.
        let exe = unsafe { prepare_verified(EngineKind::Interp, &v, &env) }.expect("prepares");
        assert_eq!(exe.run_once(&mut [0; 7]).result, Ok(7));
    }
}
