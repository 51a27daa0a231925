//! The Linux kernel as an oracle engine (`kernel`): programs are loaded with `BPF_PROG_LOAD` as
//! XDP programs and run with `BPF_PROG_TEST_RUN`, where this process may do so (root or
//! `CAP_BPF` + `CAP_NET_ADMIN`).
//!
//! - [`sys`]: the raw `bpf(2)` calls;
//! - [`oracle`](mod@oracle): [`KernelEngine`], the `Executable` (prologue, result map, availability probe);
//! - [`exclusions`]: the documented places where Linux and RFC 9669 part ways, matched on
//!   instructions, which the runner skips for the kernel;
//! - [`probe`]: what the running kernel supports (program types, helpers per type, test runs,
//!   map types), asked once per process, so that tests skip what a host cannot run;
//! - [`libbpf`]: the kernel's verdict per program of an ELF object, loaded with libbpf as
//!   users' tools load it (`apiary verify --kernel`);
//! - [`gen`]: a generator of random programs the kernel verifier accepts, for differential runs.

pub mod exclusions;
pub mod gen;
#[cfg(target_arch = "x86_64")]
pub mod libbpf;
#[cfg(not(target_arch = "x86_64"))]
#[path = "libbpf_stub.rs"]
pub mod libbpf;
mod libbpf_types;
pub mod oracle;
pub mod probe;
pub mod sys;

use thiserror::Error;

pub use exclusions::{kernel_exclusion, Excluded, Exclusion, EXCLUSIONS};
pub use oracle::{available, oracle, KernelEngine};

/// Why the kernel could not load or run a program.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum KernelError {
    /// This process cannot use the kernel oracle at all.
    #[error("kernel oracle unavailable: {reason}")]
    Unavailable {
        /// What failed (the probe step and the errno).
        reason: String,
    },
    /// The kernel verifier rejected the program.
    #[error("rejected by the kernel verifier (errno {errno}): {}", log_tail(.log, 3))]
    Rejected {
        /// The errno of `BPF_PROG_LOAD`.
        errno: i32,
        /// The verifier log (level 1).
        log: String,
    },
    /// The input is larger than an XDP test packet can be.
    #[error("input of {len} bytes is larger than the kernel oracle's maximum of {max}")]
    InputTooLarge {
        /// Input length.
        len: usize,
        /// The maximum.
        max: usize,
    },
    /// A `bpf(2)` call failed unexpectedly.
    #[error("{op} failed: {message}")]
    Syscall {
        /// The command.
        op: &'static str,
        /// The error.
        message: String,
    },
}

/// The last `n` non-empty lines of a verifier log, joined with ` | `.
#[must_use]
pub fn log_tail(log: &str, n: usize) -> String {
    let lines: Vec<&str> = log
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let start = lines.len().saturating_sub(n);
    let tail = lines[start..].join(" | ");
    if tail.is_empty() {
        "(no log)".to_owned()
    } else {
        tail
    }
}

/// Whether tests must treat an unavailable kernel as a failure (`APIARY_REQUIRE_KERNEL=1`, set
/// by CI on machines where the kernel oracle works).
#[must_use]
pub fn required() -> bool {
    std::env::var("APIARY_REQUIRE_KERNEL").is_ok_and(|v| v == "1")
}
