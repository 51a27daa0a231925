//! Stand-in for [`libbpf`](self) on targets where libbpf-sys's pregenerated bindings do not apply
//! (they are x86-64's): the same API, always reporting that the oracle is not built here.

use std::path::Path;

pub use super::libbpf_types::{LibbpfOptions, Outcome, ProgramOutcome, RelocatedProgram};

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
