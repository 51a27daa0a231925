#![deny(missing_docs)]
//! apiary-engine: the engines a program runs on, behind one factory the library owns.
//!
//! - [`EngineKind`]: apiary's own engines (the interpreter and the JIT). The Linux kernel
//!   oracle is not one of them: it belongs to the test harness (`apiary-conformance`), whose
//!   engine list wraps these kinds and adds it.
//! - [`prepare`]: a program in checked mode (every access checked against the run's regions).
//! - [`VerifiedProgram`] and [`prepare_verified`]: verified mode. A [`VerifiedProgram`] can only
//!   be made by running the verifier on that very program, so the facts an engine trusts can
//!   never be paired with another program; [`prepare_verified`] is the one place that calls
//!   the engines' unsafe `with_facts`.
//! - [`helpers`]: the conformance helpers 0–5, the implementations of the prototypes of
//!   `apiary_verifier::Platform::conformance` (used by `apiary::Runtime::load_verified` and by
//!   the conformance runner).
//!
//! Adding an engine is one variant of [`EngineKind`], one entry in [`EngineKind::ALL`] and one
//! arm in each of [`prepare`] and [`prepare_verified`].

pub mod helpers;
pub mod partial;
pub mod sandbox;
mod verified;

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use apiary_jit::{Jit, JitError};
use apiary_vm::{Environment, Executable, Interpreter, LoadError, Program};
use thiserror::Error;

pub use partial::{prepare_checked_with_proofs, verify_for_checked};
pub use sandbox::Sandboxed;
pub use verified::{
    prepare_verified, prepare_verified_unsandboxed, ForInputLength, VerifiedProgram,
};

/// One of apiary's engines.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EngineKind {
    /// The interpreter of `apiary-vm`.
    Interp,
    /// The JIT of `apiary-jit` for this host.
    Jit,
}

impl EngineKind {
    /// Every engine, in reporting order.
    pub const ALL: &'static [EngineKind] = &[EngineKind::Interp, EngineKind::Jit];

    /// The command-line name (`interp`, `jit`).
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            EngineKind::Interp => "interp",
            EngineKind::Jit => "jit",
        }
    }
}

impl fmt::Display for EngineKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An engine name that is not one of [`EngineKind::ALL`].
#[derive(Clone, Debug, Error, PartialEq, Eq)]
#[error("unknown engine {name:?} (available: interp, jit)")]
pub struct UnknownEngine {
    /// The name given.
    pub name: String,
}

impl FromStr for EngineKind {
    type Err = UnknownEngine;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EngineKind::ALL
            .iter()
            .copied()
            .find(|k| k.name() == s)
            .ok_or_else(|| UnknownEngine { name: s.to_owned() })
    }
}

/// Why a program could not be prepared for an engine.
#[derive(Clone, Debug, Error)]
pub enum PrepareError {
    /// The engine refused the program (for example a call to a helper the environment lacks).
    #[error("{engine}: {error}")]
    Load {
        /// The engine.
        engine: EngineKind,
        /// What it refused.
        error: LoadError,
    },
    /// The JIT could not compile the program for a reason other than a load error.
    #[error("jit: {0}")]
    Jit(Arc<JitError>),
    /// Sandboxed verified mode could not confine the program: the environment's regions are
    /// not all in one sandbox window, or no window could be mapped.
    #[error("sandbox: {reason}")]
    Sandbox {
        /// What is wrong.
        reason: String,
    },
}

/// Refusals compare by engine and load error; JIT failures (which carry I/O errors, not
/// comparable themselves) compare by their message.
impl PartialEq for PrepareError {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (
                PrepareError::Load {
                    engine: a,
                    error: e,
                },
                PrepareError::Load {
                    engine: b,
                    error: f,
                },
            ) => a == b && e == f,
            (PrepareError::Jit(a), PrepareError::Jit(b)) => a.to_string() == b.to_string(),
            (PrepareError::Sandbox { reason: a }, PrepareError::Sandbox { reason: b }) => a == b,
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
            PrepareError::Load { error, .. } => Some(error),
            PrepareError::Jit(_) | PrepareError::Sandbox { .. } => None,
        }
    }

    fn from_jit(error: JitError) -> Self {
        match error {
            JitError::Load(error) => PrepareError::Load {
                engine: EngineKind::Jit,
                error,
            },
            e => PrepareError::Jit(Arc::new(e)),
        }
    }
}

/// Prepares `program` for `kind` in `env`, in checked mode.
///
/// # Errors
/// [`PrepareError`] when the engine refuses the program.
pub fn prepare(
    kind: EngineKind,
    program: Arc<Program>,
    env: &Environment,
) -> Result<Box<dyn Executable>, PrepareError> {
    match kind {
        EngineKind::Interp => match Interpreter::new(program, env) {
            Ok(i) => Ok(Box::new(i)),
            Err(error) => Err(PrepareError::Load {
                engine: kind,
                error,
            }),
        },
        EngineKind::Jit => match Jit::new(program, env) {
            Ok(j) => Ok(Box::new(j)),
            Err(e) => Err(PrepareError::from_jit(e)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for &k in EngineKind::ALL {
            assert_eq!(k.name().parse::<EngineKind>(), Ok(k));
        }
        let e = "kernel".parse::<EngineKind>();
        assert!(e.is_err_and(|e| e.to_string().contains("interp, jit")));
    }
}
