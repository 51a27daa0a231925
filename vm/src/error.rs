//! Load-time errors: why a byte string is not a valid program. Every variant names the
//! instruction index (`pc`, counted in 8-byte slots) and the offending field or value.

use std::fmt;
use thiserror::Error;

/// An instruction field, as named in error messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Field {
    /// The destination register nibble.
    Dst,
    /// The source register nibble.
    Src,
    /// The 16-bit offset.
    Off,
    /// The 32-bit immediate.
    Imm,
    /// The opcode byte.
    Opcode,
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Field::Dst => "dst register",
            Field::Src => "src register",
            Field::Off => "offset",
            Field::Imm => "immediate",
            Field::Opcode => "opcode",
        })
    }
}

/// An optional instruction group that a program may need but the load options leave off.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Group {
    /// `callx` (0x8d), an extension outside RFC 9669.
    Callx,
    /// Legacy `LD_ABS`/`LD_IND` packet loads.
    Packet,
    /// Linux kfunc calls (`call` with src = 2).
    Kfunc,
}

impl fmt::Display for Group {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Group::Callx => "callx",
            Group::Packet => "packet",
            Group::Kfunc => "kfunc",
        })
    }
}

/// Why a program could not be loaded. These are all input errors (never bugs in apiary).
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum LoadError {
    /// The program has no instruction.
    #[error("program is empty")]
    Empty,
    /// The byte length is not a multiple of the 8-byte slot size.
    #[error("program length {len} is not a multiple of 8 bytes")]
    TrailingBytes { len: usize },
    /// More slots than apiary accepts (jump targets are kept in 32 bits).
    #[error("program has {slots} instructions, more than the limit of {max}")]
    TooLong { slots: usize, max: usize },
    /// The opcode byte names no instruction.
    #[error("instruction {pc}: unknown opcode {op:#04x}")]
    UnknownOpcode { pc: usize, op: u8 },
    /// A field that must be zero (or one of a fixed set of values) holds something else.
    #[error("instruction {pc}: opcode {op:#04x} has an invalid {field} {value} (reserved field must be zero or a listed value)")]
    ReservedField {
        pc: usize,
        op: u8,
        field: Field,
        value: i64,
    },
    /// A register field above r10.
    #[error("instruction {pc}: invalid {field} r{reg}")]
    InvalidRegister { pc: usize, field: Field, reg: u8 },
    /// The instruction would write the read-only frame pointer.
    #[error("instruction {pc}: writes r10, the read-only frame pointer")]
    WritesFramePointer { pc: usize },
    /// An `lddw` in the last slot, without its second half.
    #[error("instruction {pc}: lddw is missing its second slot")]
    LddwTruncated { pc: usize },
    /// The second slot of an `lddw` has a non-zero opcode, register or offset.
    #[error("instruction {pc}: second slot of lddw has a non-zero {field}")]
    LddwBadTail { pc: usize, field: Field },
    /// A jump or call whose target lies outside the program.
    #[error("instruction {pc}: target {target} is outside the program (0..{len})")]
    TargetOutOfRange { pc: usize, target: i64, len: usize },
    /// A jump or call into the second slot of an `lddw`.
    #[error("instruction {pc}: target {target} is the second slot of an lddw")]
    TargetInsideLddw { pc: usize, target: usize },
    /// A jump from one function into another.
    #[error("instruction {pc}: jump to {target} leaves the function starting at {function}")]
    JumpAcrossFunctions {
        pc: usize,
        target: usize,
        function: usize,
    },
    /// The last instruction of a function can fall through past its end.
    #[error("instruction {pc}: function starting at {function} does not end with exit or an unconditional jump")]
    FallsThrough { pc: usize, function: usize },
    /// A call to a helper id the environment does not provide.
    #[error("instruction {pc}: call to unknown helper {id}")]
    UnknownHelper { pc: usize, id: u32 },
    /// A call to a helper the platform defines but this environment cannot provide (a Linux
    /// helper that means nothing in userspace: kernel sockets, cgroups, LSM hooks, ...).
    #[error("instruction {pc}: helper {name} ({id}) is not available in userspace")]
    HelperUnavailable {
        pc: usize,
        id: u32,
        name: &'static str,
    },
    /// An instruction of an optional group that the load options leave disabled.
    #[error("instruction {pc}: opcode {op:#04x} needs the {group} group, which is disabled")]
    GroupDisabled { pc: usize, op: u8, group: Group },
}

impl LoadError {
    /// The instruction index the error points at, if it is about one instruction.
    #[must_use]
    pub const fn pc(&self) -> Option<usize> {
        match self {
            LoadError::Empty | LoadError::TrailingBytes { .. } | LoadError::TooLong { .. } => None,
            LoadError::UnknownOpcode { pc, .. }
            | LoadError::ReservedField { pc, .. }
            | LoadError::InvalidRegister { pc, .. }
            | LoadError::WritesFramePointer { pc }
            | LoadError::LddwTruncated { pc }
            | LoadError::LddwBadTail { pc, .. }
            | LoadError::TargetOutOfRange { pc, .. }
            | LoadError::TargetInsideLddw { pc, .. }
            | LoadError::JumpAcrossFunctions { pc, .. }
            | LoadError::FallsThrough { pc, .. }
            | LoadError::UnknownHelper { pc, .. }
            | LoadError::HelperUnavailable { pc, .. }
            | LoadError::GroupDisabled { pc, .. } => Some(*pc),
        }
    }
}
