//! Engine selection: which execution engines a run uses, and how a [`Program`] is prepared for
//! each. Everything else (runner, plugin, CLI) goes through [`prepare`], so adding an engine
//! (the JIT) is one enum variant, one entry in [`EngineKind::ALL`] and one match arm.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use apiary_jit::{Jit, JitError};
use apiary_vm::{Environment, Executable, Interpreter, LoadError, Program};
use thiserror::Error;

/// One execution engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EngineKind {
    /// The checked interpreter of `apiary-vm`.
    Interp,
    /// The JIT of `apiary-jit` for this host (checked mode).
    Jit,
}

impl EngineKind {
    /// Every engine built into this binary, in reporting order.
    pub const ALL: &'static [EngineKind] = &[EngineKind::Interp, EngineKind::Jit];

    /// The command-line name (`interp`, later `jit`).
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

/// Which engines a run uses: one, or all of them (then their results are cross-checked).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EngineSelection {
    /// Just this engine.
    One(EngineKind),
    /// Every engine in [`EngineKind::ALL`], compared with each other.
    All,
}

impl EngineSelection {
    /// The engines selected.
    #[must_use]
    pub fn engines(self) -> Vec<EngineKind> {
        match self {
            EngineSelection::One(k) => vec![k],
            EngineSelection::All => EngineKind::ALL.to_vec(),
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
        EngineKind::ALL
            .iter()
            .find(|k| k.name() == s)
            .map(|&k| EngineSelection::One(k))
            .ok_or_else(|| UnknownEngine {
                name: s.to_owned(),
                available: EngineKind::ALL
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
            PrepareError::Jit(_) => None,
        }
    }
}

/// Prepares `program` for `kind` in `env`. The single place that knows every engine.
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
            Err(JitError::Load(error)) => Err(PrepareError::Load {
                engine: kind,
                error,
            }),
            Err(e) => Err(PrepareError::Jit(Arc::new(e))),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for &k in EngineKind::ALL {
            assert_eq!(
                k.name().parse::<EngineSelection>(),
                Ok(EngineSelection::One(k))
            );
        }
        assert_eq!("all".parse::<EngineSelection>(), Ok(EngineSelection::All));
        let e = "warp".parse::<EngineSelection>();
        assert!(e.is_err_and(|e| e.to_string().contains("interp")));
    }
}
