//! Rejections: where, which instruction, why (one variant per check class), and the state.

use std::fmt;

/// Why a program was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RejectReason {
    /// A register was read before it was written (or after a call clobbered it).
    #[error("r{reg} is not initialised")]
    UninitRegister { reg: u8 },
    /// A register holds the wrong kind of value for this use.
    #[error("r{reg} has type {found}, expected {expected}")]
    InvalidType {
        reg: u8,
        expected: &'static str,
        found: String,
    },
    /// A memory access may fall outside its region.
    #[error("{region} access at offset [{lo}, {hi}] of size {size} is outside [0, {limit})")]
    OutOfBounds {
        region: &'static str,
        lo: i64,
        hi: i64,
        size: u64,
        limit: i64,
    },
    /// A stack read may see uninitialised bytes.
    #[error("stack byte at offset {offset} may be uninitialised")]
    UninitStack { offset: i64 },
    /// A write to read-only memory.
    #[error("write to read-only {region}")]
    ReadOnly { region: &'static str },
    /// A context access that the program type does not allow.
    #[error("invalid context access at offset {offset} of size {size}")]
    CtxAccess { offset: i64, size: u8 },
    /// A possibly-null pointer was dereferenced or used.
    #[error("r{reg} may be null")]
    NullDereference { reg: u8 },
    /// Pointer arithmetic that is not defined.
    #[error("pointer arithmetic not allowed: {detail}")]
    PointerArithmetic { detail: String },
    /// A comparison of a pointer with something it cannot be compared with.
    #[error("pointer comparison not allowed: {detail}")]
    PointerComparison { detail: String },
    /// A pointer would leak to a place an unprivileged program may not put it.
    #[error("pointer leak: {detail}")]
    PointerLeak { detail: &'static str },
    /// An unknown helper id.
    #[error("unknown helper {id}")]
    UnknownHelper { id: u32 },
    /// A Linux helper apiary's verifier has no prototype for (so cannot check a call to).
    #[error("helper {helper} ({id}) has no prototype in apiary")]
    NoPrototype { id: u32, helper: &'static str },
    /// A helper the program type may not call.
    #[error("helper {id} ({helper}) may not be called by {program_type} programs")]
    HelperNotAllowed {
        id: u32,
        helper: &'static str,
        program_type: &'static str,
    },
    /// A helper argument does not match the prototype.
    #[error("helper {helper}: argument r{arg}: {detail}")]
    HelperArg {
        helper: &'static str,
        arg: u8,
        detail: String,
    },
    /// An instruction or feature the verifier does not support.
    #[error("unsupported: {what}")]
    Unsupported { what: String },
    /// A map reference that names no map.
    #[error("invalid map index {index}")]
    InvalidMap { index: i64 },
    /// A loop whose termination could not be proven.
    #[error("loop at {head} is not provably bounded")]
    UnboundedLoop { head: usize },
    /// A call cycle between functions.
    #[error("recursion through function at {function}")]
    Recursion { function: usize },
    /// Too many nested call frames.
    #[error("call depth {depth} exceeds {max}")]
    CallDepth { depth: usize, max: usize },
    /// The frames of a call chain use more stack than allowed in all.
    #[error("call chain uses {bytes} bytes of stack, more than {max} in all")]
    CombinedStack { bytes: i64, max: i64 },
    /// A reference (ring-buffer record) is not released on some path.
    #[error("reference {id} is not released")]
    UnreleasedReference { id: u32 },
    /// Atomic operation on memory that does not allow it, or misaligned.
    #[error("invalid atomic operation: {detail}")]
    Atomic { detail: String },
    /// The fixpoint needed more iterations than allowed.
    #[error("iteration limit {limit} exceeded")]
    IterationLimit { limit: u64 },
    /// Too many abstract states (call contexts).
    #[error("state limit {limit} exceeded")]
    StateLimit { limit: usize },
    /// The analysis took longer than allowed.
    #[error("time limit of {millis} ms exceeded")]
    Timeout { millis: u64 },
}

impl RejectReason {
    /// Whether this is a resource limit rather than a safety finding.
    #[must_use]
    pub const fn is_limit(&self) -> bool {
        matches!(
            self,
            Self::IterationLimit { .. } | Self::StateLimit { .. } | Self::Timeout { .. }
        )
    }
}

/// A rejected program: the first problem found.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct Rejection {
    /// Slot of the offending instruction.
    pub pc: usize,
    /// Its text.
    pub instruction: String,
    /// Why.
    pub reason: RejectReason,
    /// The relevant abstract state before the instruction.
    pub state: String,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.pc, self.instruction, self.reason)?;
        if !self.state.is_empty() {
            write!(f, " [{}]", self.state)?;
        }
        Ok(())
    }
}
