//! The types of the libbpf kernel oracle's API, shared by the x86-64 implementation
//! (`libbpf.rs`) and the stand-in for other targets (`libbpf_stub.rs`).

use std::path::Path;

/// The kernel's answer for one program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The kernel verifier accepted the program.
    Accepted,
    /// The kernel verifier rejected the program: the last meaningful lines of its log.
    Rejected {
        /// The reason (last meaningful verifier log lines, joined with ` | `).
        reason: String,
    },
    /// The load failed before the verifier ran, for a reason of this machine.
    Environment {
        /// What failed, as libbpf said it.
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

/// One program's outcome, named as libbpf names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProgramOutcome {
    /// The ELF section (`bpf_program__section_name`).
    pub section: String,
    /// The function (`bpf_program__name`).
    pub function: String,
    /// What the kernel said.
    pub outcome: Outcome,
}

/// What libbpf is given besides the object.
#[derive(Clone, Debug, Default)]
pub struct LibbpfOptions<'a> {
    /// A kernel configuration file (`CONFIG_X=y` lines) for `__kconfig` externs, over the host's.
    pub kconfig: Option<&'a Path>,
    /// A target BTF for CO-RE instead of `/sys/kernel/btf/vmlinux`.
    pub btf: Option<&'a Path>,
    /// Only these programs, as (section, function) (`None`: every program).
    pub only: Option<&'a [(String, String)]>,
}

/// One program's instructions as libbpf would load them (relocated: CO-RE applied, subprograms
/// appended, map references as file descriptors), raw 8-byte slots.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RelocatedProgram {
    /// The ELF section.
    pub section: String,
    /// The function.
    pub function: String,
    /// The slots, as `struct bpf_insn` bytes.
    pub insns: Vec<[u8; 8]>,
}
