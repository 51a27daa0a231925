//! Engine selection for the test harness: apiary's own engines ([`apiary_engine::EngineKind`],
//! prepared by [`apiary_engine::prepare`], the library's factory) plus the Linux kernel as an
//! oracle. Everything here (runner, plugin, the CLI's raw-program runs) goes through
//! [`prepare`]; a new apiary engine needs one variant here and one in `apiary-engine`.
//!
//! The kernel oracle ([`EngineKind::Kernel`]) is not in [`EngineKind::ALL`]: `all` includes it
//! only where this process can load BPF programs ([`crate::kernel::available`], probed once),
//! and `kernel` selects it alone (failing at prepare time, distinctly, where it is unavailable).

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use apiary_vm::{Environment, Executable, LoadError, Program};
use thiserror::Error;

use crate::kernel::{self, Excluded, KernelEngine, KernelError};

/// One execution engine: one of apiary's ([`apiary_engine::EngineKind`]) or the kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EngineKind {
    /// The checked interpreter of `apiary-vm` ([`apiary_engine::EngineKind::Interp`]).
    Interp,
    /// The JIT of `apiary-jit` for this host, checked mode ([`apiary_engine::EngineKind::Jit`]).
    Jit,
    /// The running Linux kernel (`BPF_PROG_TEST_RUN`), where this process may load programs.
    Kernel,
}

impl EngineKind {
    /// Every engine built into this binary and always usable, in reporting order.
    pub const ALL: &'static [EngineKind] = &[EngineKind::Interp, EngineKind::Jit];

    /// Every engine that can be named, including those that depend on the host (the kernel).
    pub const KNOWN: &'static [EngineKind] =
        &[EngineKind::Interp, EngineKind::Jit, EngineKind::Kernel];

    /// The command-line name (`interp`, `jit`, `kernel`).
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            EngineKind::Interp => "interp",
            EngineKind::Jit => "jit",
            EngineKind::Kernel => "kernel",
        }
    }

    /// The library's engine this is, or `None` for the kernel oracle.
    #[must_use]
    pub const fn library(self) -> Option<apiary_engine::EngineKind> {
        match self {
            EngineKind::Interp => Some(apiary_engine::EngineKind::Interp),
            EngineKind::Jit => Some(apiary_engine::EngineKind::Jit),
            EngineKind::Kernel => None,
        }
    }

    /// The engines usable in this process: [`EngineKind::ALL`], plus the kernel when it is
    /// available (probed once per process).
    #[must_use]
    pub fn available() -> Vec<EngineKind> {
        let mut v = EngineKind::ALL.to_vec();
        if kernel::available() {
            v.push(EngineKind::Kernel);
        }
        v
    }
}

impl From<apiary_engine::EngineKind> for EngineKind {
    fn from(kind: apiary_engine::EngineKind) -> Self {
        match kind {
            apiary_engine::EngineKind::Interp => EngineKind::Interp,
            apiary_engine::EngineKind::Jit => EngineKind::Jit,
        }
    }
}

impl fmt::Display for EngineKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which engines a run uses: one, or all of them (then their results are cross-checked).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EngineSelection {
    /// Just this engine.
    One(EngineKind),
    /// Every available engine ([`EngineKind::available`]), compared with each other.
    All,
}

impl EngineSelection {
    /// The engines selected.
    #[must_use]
    pub fn engines(self) -> Vec<EngineKind> {
        match self {
            EngineSelection::One(k) => vec![k],
            EngineSelection::All => EngineKind::available(),
        }
    }

    /// The command-line name (`all` or the engine's name).
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            EngineSelection::One(k) => k.name(),
            EngineSelection::All => "all",
        }
    }
}

impl Default for EngineSelection {
    fn default() -> Self {
        EngineSelection::One(EngineKind::Interp)
    }
}

/// An engine name that is not known or not built in.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
#[error("unknown engine {name:?} (available: {available}, all)")]
pub struct UnknownEngine {
    /// The name given.
    pub name: String,
    /// The names accepted.
    pub available: String,
}

impl FromStr for EngineSelection {
    type Err = UnknownEngine;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "all" {
            return Ok(EngineSelection::All);
        }
        EngineKind::KNOWN
            .iter()
            .find(|k| k.name() == s)
            .map(|&k| EngineSelection::One(k))
            .ok_or_else(|| UnknownEngine {
                name: s.to_owned(),
                available: EngineKind::KNOWN
                    .iter()
                    .map(|k| k.name())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }
}

/// Why a program could not be prepared for an engine.
#[derive(Clone, Debug, Error)]
pub enum PrepareError {
    /// The interpreter or the JIT could not take the program (the library's own error).
    #[error(transparent)]
    Engine(#[from] apiary_engine::PrepareError),
    /// The kernel oracle is unavailable, or its verifier rejected the program (the error
    /// carries the log), or a syscall failed.
    #[error("kernel: {error}")]
    Kernel {
        /// What went wrong.
        error: KernelError,
    },
    /// The program falls under a documented exclusion: Linux is not compared on it.
    #[error("skipped for kernel: {excluded}")]
    KernelExcluded {
        /// The exclusion and the instruction that triggered it.
        excluded: Excluded,
    },
}

/// Library refusals compare as the library's errors do; kernel exclusions by exclusion and pc.
impl PartialEq for PrepareError {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (PrepareError::Engine(a), PrepareError::Engine(b)) => a == b,
            (PrepareError::Kernel { error: a }, PrepareError::Kernel { error: b }) => a == b,
            (
                PrepareError::KernelExcluded { excluded: a },
                PrepareError::KernelExcluded { excluded: b },
            ) => a.exclusion.id == b.exclusion.id && a.pc == b.pc,
            _ => false,
        }
    }
}

impl Eq for PrepareError {}

impl PrepareError {
    /// The load error behind the refusal, if it is one: the part two engines refusing the same
    /// program for the same reason have in common.
    #[must_use]
    pub const fn load_error(&self) -> Option<&LoadError> {
        match self {
            PrepareError::Engine(apiary_engine::PrepareError::Load { error, .. }) => Some(error),
            PrepareError::Engine(
                apiary_engine::PrepareError::Jit(_) | apiary_engine::PrepareError::Sandbox { .. },
            )
            | PrepareError::Kernel { .. }
            | PrepareError::KernelExcluded { .. } => None,
        }
    }

    /// Whether this is the kernel verifier rejecting the program.
    #[must_use]
    pub const fn is_kernel_rejection(&self) -> bool {
        matches!(
            self,
            PrepareError::Kernel {
                error: KernelError::Rejected { .. }
            }
        )
    }
}

/// Prepares `program` for `kind` in `env`. The single place that knows every engine.
///
/// The kernel engine then loads the program on its first run (it is verified per input
/// length); use [`prepare_for_input`] to get a verifier rejection here instead.
///
/// # Errors
/// [`PrepareError`] when the engine refuses the program.
pub fn prepare(
    kind: EngineKind,
    program: Arc<Program>,
    env: &Environment,
) -> Result<Box<dyn Executable>, PrepareError> {
    prepare_for_input(kind, program, env, None)
}

/// As [`prepare`], knowing the length of the input the program will run on: the kernel engine
/// loads (and its verifier judges) the program now. The kernel refuses programs under a
/// documented exclusion ([`kernel::EXCLUSIONS`]) with [`PrepareError::KernelExcluded`].
///
/// # Errors
/// [`PrepareError`] when the engine refuses the program.
pub fn prepare_for_input(
    kind: EngineKind,
    program: Arc<Program>,
    env: &Environment,
    input_len: Option<usize>,
) -> Result<Box<dyn Executable>, PrepareError> {
    if let Some(apiary) = kind.library() {
        return Ok(apiary_engine::prepare(apiary, program, env)?);
    }
    // The kernel oracle.
    if let Some(excluded) = kernel::kernel_exclusion(&program) {
        return Err(PrepareError::KernelExcluded { excluded });
    }
    match KernelEngine::new(program, input_len) {
        Ok(k) => Ok(Box::new(k)),
        Err(error) => Err(PrepareError::Kernel { error }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for &k in EngineKind::KNOWN {
            assert_eq!(
                k.name().parse::<EngineSelection>(),
                Ok(EngineSelection::One(k))
            );
        }
        assert_eq!("all".parse::<EngineSelection>(), Ok(EngineSelection::All));
        let e = "warp".parse::<EngineSelection>();
        assert!(e.is_err_and(|e| e.to_string().contains("interp, jit, kernel")));
        assert!(!EngineKind::ALL.contains(&EngineKind::Kernel));
        assert_eq!(
            EngineSelection::All.engines().contains(&EngineKind::Kernel),
            kernel::available()
        );
    }
}
