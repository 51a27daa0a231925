//! Assembler errors. Every variant carries the 1-based `line` and `column` of the offending
//! token, so a caller (CLI, conformance runner, editor) can point at the exact spot; the text of
//! the token is kept where it helps the message.

use std::fmt;
use thiserror::Error;

/// What kind of operand an instruction expected at some position (for error messages).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OperandKind {
    /// A register `%r0`..`%r10`.
    Register,
    /// A numeric immediate.
    Immediate,
    /// A memory operand `[%reg+off]`.
    Memory,
    /// A jump or call target: `+N`, `-N` or a label.
    Target,
    /// A register or an immediate.
    RegisterOrImmediate,
    /// An atomic operation name (`add`, `or`, `and`, `xor`, `xchg`, `cmpxchg`).
    AtomicOp,
    /// An `lddw` pseudo-source keyword (`map_fd`, `map_value`, ...).
    LddwKind,
}

impl fmt::Display for OperandKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OperandKind::Register => "a register",
            OperandKind::Immediate => "an immediate",
            OperandKind::Memory => "a memory operand [%reg+off]",
            OperandKind::Target => "a jump target (+N, -N or a label)",
            OperandKind::RegisterOrImmediate => "a register or an immediate",
            OperandKind::AtomicOp => "an atomic operation (add, or, and, xor, xchg, cmpxchg)",
            OperandKind::LddwKind => {
                "an lddw source (map_fd, map_value, var_addr, code_addr, map_idx, map_idx_value)"
            }
        })
    }
}

/// The field a numeric value has to fit in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValueRange {
    /// A 32-bit immediate: a signed decimal, or a hex bit pattern up to `0xffffffff`.
    Imm32,
    /// A 64-bit immediate: a signed decimal, or a hex bit pattern up to 2^64-1.
    Imm64,
    /// A signed 16-bit memory offset.
    Off16,
}

impl fmt::Display for ValueRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ValueRange::Imm32 => "32 bits (decimal -2147483648..=2147483647, hex up to 0xffffffff)",
            ValueRange::Imm64 => "64 bits (decimal as i64, hex up to 0xffffffffffffffff)",
            ValueRange::Off16 => "16 bits (-32768..=32767)",
        })
    }
}

/// `text` cut to 40 characters for a message: a token may be a megabyte long (a runaway
/// number or word), and the message must stay one readable line.
fn clip(text: &str) -> String {
    const KEEP: usize = 40;
    if text.chars().count() <= KEEP {
        text.to_owned()
    } else {
        let mut s: String = text.chars().take(KEEP).collect();
        s.push_str("...");
        s
    }
}

/// Why a text could not be assembled.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum AsmError {
    /// A character that starts no token.
    #[error("{line}:{column}: unexpected character {ch:?}")]
    UnexpectedChar {
        line: usize,
        column: usize,
        ch: char,
    },
    /// A token that makes no sense where it stands (a stray `]`, `:` or `,`).
    #[error("{line}:{column}: unexpected {:?}", clip(.token))]
    UnexpectedToken {
        line: usize,
        column: usize,
        token: String,
    },
    /// A number that is neither decimal nor `0x` hexadecimal.
    #[error("{line}:{column}: malformed number {:?}", clip(.token))]
    MalformedNumber {
        line: usize,
        column: usize,
        token: String,
    },
    /// The first word of an instruction names no instruction.
    #[error("{line}:{column}: unknown mnemonic {:?}", clip(.mnemonic))]
    UnknownMnemonic {
        line: usize,
        column: usize,
        mnemonic: String,
    },
    /// A register that does not exist (apiary has `%r0`..`%r10`).
    #[error("{line}:{column}: invalid register {:?} (expected %r0..%r10)", clip(.token))]
    BadRegister {
        line: usize,
        column: usize,
        token: String,
    },
    /// Too few or too many operands.
    #[error("{line}:{column}: {} takes {expected} operand(s), found {found}", clip(.mnemonic))]
    OperandCount {
        line: usize,
        column: usize,
        mnemonic: String,
        expected: usize,
        found: usize,
    },
    /// An operand of the wrong kind (a register where a memory operand belongs, ...).
    #[error("{line}:{column}: expected {expected}, found {:?}", clip(.found))]
    ExpectedOperand {
        line: usize,
        column: usize,
        expected: OperandKind,
        found: String,
    },
    /// An immediate that does not fit its field.
    #[error("{line}:{column}: immediate {} does not fit in {range}", clip(.token))]
    ImmediateOutOfRange {
        line: usize,
        column: usize,
        token: String,
        range: ValueRange,
    },
    /// A memory offset that does not fit in 16 signed bits.
    #[error("{line}:{column}: offset {} does not fit in {range}", clip(.token))]
    OffsetOutOfRange {
        line: usize,
        column: usize,
        token: String,
        range: ValueRange,
    },
    /// A memory operand that is not `[%reg]`, `[%reg+N]` or `[%reg-N]`.
    #[error("{line}:{column}: malformed memory operand near {:?} (expected [%reg+off])", clip(.found))]
    MalformedMemory {
        line: usize,
        column: usize,
        found: String,
    },
    /// A label that is defined nowhere.
    #[error("{line}:{column}: unknown label {:?}", clip(.label))]
    UnknownLabel {
        line: usize,
        column: usize,
        label: String,
    },
    /// A label defined twice.
    #[error("{line}:{column}: label {:?} already defined on line {first_line}", clip(.label))]
    DuplicateLabel {
        line: usize,
        column: usize,
        label: String,
        first_line: usize,
    },
    /// A label name that cannot be a label (for instance one starting with `%`).
    #[error("{line}:{column}: invalid label name {:?}", clip(.label))]
    InvalidLabel {
        line: usize,
        column: usize,
        label: String,
    },
    /// A jump or call displacement that does not fit its field (`off`: 16 bits, `imm`: 32 bits).
    #[error("{line}:{column}: displacement {displacement} does not fit in {bits} bits")]
    JumpOutOfRange {
        line: usize,
        column: usize,
        displacement: i128,
        bits: u8,
    },
}

impl AsmError {
    /// The 1-based line of the error.
    #[must_use]
    pub const fn line(&self) -> usize {
        self.position().0
    }

    /// The 1-based column of the offending token.
    #[must_use]
    pub const fn column(&self) -> usize {
        self.position().1
    }

    const fn position(&self) -> (usize, usize) {
        match self {
            AsmError::UnexpectedChar { line, column, .. }
            | AsmError::UnexpectedToken { line, column, .. }
            | AsmError::MalformedNumber { line, column, .. }
            | AsmError::UnknownMnemonic { line, column, .. }
            | AsmError::BadRegister { line, column, .. }
            | AsmError::OperandCount { line, column, .. }
            | AsmError::ExpectedOperand { line, column, .. }
            | AsmError::ImmediateOutOfRange { line, column, .. }
            | AsmError::OffsetOutOfRange { line, column, .. }
            | AsmError::MalformedMemory { line, column, .. }
            | AsmError::UnknownLabel { line, column, .. }
            | AsmError::DuplicateLabel { line, column, .. }
            | AsmError::InvalidLabel { line, column, .. }
            | AsmError::JumpOutOfRange { line, column, .. } => (*line, *column),
        }
    }
}
