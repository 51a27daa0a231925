//! Stand-in for [`libbpf`](self) on targets where libbpf-sys's pregenerated bindings do not apply
//! (they are x86-64's): the same API, always reporting that the oracle is not built here.

use std::path::Path;

/// The kernel's answer for one program (see the x86-64 module).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Accepted by the kernel verifier.
    Accepted,
    /// Rejected by the kernel verifier.
    Rejected {
        /// Last meaningful verifier log lines.
        reason: String,
    },
    /// The load failed before the verifier ran.
    Environment {
        /// What failed.
        reason: String,
    },
}

impl Outcome {
    /// `Some(accepted)` for a verdict, `None` for an environment failure.
    #[must_use]
    pub fn accepted(&self) -> Option<bool> {
        match self {
            Self::Accepted => Some(true),
            Self::Rejected { .. } => Some(false),
            Self::Environment { .. } => None,
        }
    }
}

/// One program's outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProgramOutcome {
    /// The ELF section.
    pub section: String,
    /// The function.
    pub function: String,
    /// What the kernel said.
    pub outcome: Outcome,
}

/// What libbpf is given besides the object.
#[derive(Clone, Debug, Default)]
pub struct LibbpfOptions<'a> {
    /// A kernel configuration file.
    pub kconfig: Option<&'a Path>,
    /// A target BTF for CO-RE.
    pub btf: Option<&'a Path>,
    /// Only these programs, as (section, function) (`None`: every program).
    pub only: Option<&'a [(String, String)]>,
}

const WHY: &str = "the libbpf kernel oracle is built for x86-64 only";

/// Always an error here.
///
/// # Errors
/// Always: the oracle is not built for this target.
pub fn verdicts(_path: &Path, _options: &LibbpfOptions<'_>) -> Result<Vec<ProgramOutcome>, String> {
    Err(WHY.to_owned())
}

/// Always an error here.
///
/// # Errors
/// Always: the oracle is not built for this target.
pub fn usable() -> Result<(), String> {
    Err(WHY.to_owned())
}

/// One program's instructions as libbpf would load them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RelocatedProgram {
    /// The ELF section.
    pub section: String,
    /// The function.
    pub function: String,
    /// The slots, as `struct bpf_insn` bytes.
    pub insns: Vec<[u8; 8]>,
}

/// Always an error here.
///
/// # Errors
/// Always: the oracle is not built for this target.
pub fn relocated(
    _path: &Path,
    _options: &LibbpfOptions<'_>,
) -> Result<Vec<RelocatedProgram>, String> {
    Err(WHY.to_owned())
}
