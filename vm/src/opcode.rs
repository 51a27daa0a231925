//! Opcode-byte building blocks (RFC 9669 §3–§5): instruction classes, ALU/JMP operation codes,
//! memory modes and sizes. The decoder in [`crate::decode`] combines them; nothing else should
//! pick opcodes apart by hand.

/// Instruction class: the low three bits of the opcode byte.
pub const CLASS_MASK: u8 = 0x07;
/// Non-standard load class (LDDW and the legacy packet loads).
pub const CLASS_LD: u8 = 0x00;
/// Register load from memory.
pub const CLASS_LDX: u8 = 0x01;
/// Store of an immediate.
pub const CLASS_ST: u8 = 0x02;
/// Store of a register (and the atomics).
pub const CLASS_STX: u8 = 0x03;
/// 32-bit arithmetic.
pub const CLASS_ALU: u8 = 0x04;
/// 64-bit jumps, calls and exit.
pub const CLASS_JMP: u8 = 0x05;
/// 32-bit jumps.
pub const CLASS_JMP32: u8 = 0x06;
/// 64-bit arithmetic.
pub const CLASS_ALU64: u8 = 0x07;

/// ALU/JMP source bit: 0 = immediate (`K`), 1 = register (`X`).
pub const SOURCE_MASK: u8 = 0x08;
/// Immediate operand.
pub const SOURCE_K: u8 = 0x00;
/// Register operand.
pub const SOURCE_X: u8 = 0x08;

/// ALU/JMP operation code: the high four bits.
pub const CODE_MASK: u8 = 0xf0;

/// ALU operation codes.
pub mod alu {
    pub const ADD: u8 = 0x00;
    pub const SUB: u8 = 0x10;
    pub const MUL: u8 = 0x20;
    pub const DIV: u8 = 0x30;
    pub const OR: u8 = 0x40;
    pub const AND: u8 = 0x50;
    pub const LSH: u8 = 0x60;
    pub const RSH: u8 = 0x70;
    pub const NEG: u8 = 0x80;
    pub const MOD: u8 = 0x90;
    pub const XOR: u8 = 0xa0;
    pub const MOV: u8 = 0xb0;
    pub const ARSH: u8 = 0xc0;
    pub const END: u8 = 0xd0;
}

/// JMP operation codes.
pub mod jmp {
    pub const JA: u8 = 0x00;
    pub const JEQ: u8 = 0x10;
    pub const JGT: u8 = 0x20;
    pub const JGE: u8 = 0x30;
    pub const JSET: u8 = 0x40;
    pub const JNE: u8 = 0x50;
    pub const JSGT: u8 = 0x60;
    pub const JSGE: u8 = 0x70;
    pub const CALL: u8 = 0x80;
    pub const EXIT: u8 = 0x90;
    pub const JLT: u8 = 0xa0;
    pub const JLE: u8 = 0xb0;
    pub const JSLT: u8 = 0xc0;
    pub const JSLE: u8 = 0xd0;
}

/// Load/store mode: the high three bits.
pub const MODE_MASK: u8 = 0xe0;
pub const MODE_IMM: u8 = 0x00;
pub const MODE_ABS: u8 = 0x20;
pub const MODE_IND: u8 = 0x40;
pub const MODE_MEM: u8 = 0x60;
pub const MODE_MEMSX: u8 = 0x80;
pub const MODE_ATOMIC: u8 = 0xc0;

/// Load/store size: bits 3–4.
pub const SIZE_MASK: u8 = 0x18;
pub const SIZE_W: u8 = 0x00;
pub const SIZE_H: u8 = 0x08;
pub const SIZE_B: u8 = 0x10;
pub const SIZE_DW: u8 = 0x18;

/// Atomic operation codes carried in `imm` of `{ATOMIC, W|DW, STX}`.
pub mod atomic {
    pub const ADD: i32 = 0x00;
    pub const OR: i32 = 0x40;
    pub const AND: i32 = 0x50;
    pub const XOR: i32 = 0xa0;
    pub const FETCH: i32 = 0x01;
    pub const XCHG: i32 = 0xe0 | FETCH;
    pub const CMPXCHG: i32 = 0xf0 | FETCH;
}

/// Whole opcode bytes that are referred to by name.
pub const LDDW: u8 = CLASS_LD | MODE_IMM | SIZE_DW;
pub const CALL: u8 = CLASS_JMP | jmp::CALL;
pub const CALLX: u8 = CLASS_JMP | jmp::CALL | SOURCE_X;
pub const EXIT: u8 = CLASS_JMP | jmp::EXIT;
pub const JA: u8 = CLASS_JMP | jmp::JA;
pub const JA32: u8 = CLASS_JMP32 | jmp::JA;

/// Source values of `call` (0x85).
pub mod call_src {
    /// Helper function by id in `imm`.
    pub const HELPER: u8 = 0;
    /// Local (bpf-to-bpf) function at `pc + 1 + imm`.
    pub const LOCAL: u8 = 1;
    /// Kernel function by BTF id (Linux kfunc).
    pub const KFUNC: u8 = 2;
}

/// Source values of `lddw` (RFC 9669 §5.4, ISA.md §6).
pub mod lddw_src {
    pub const IMM64: u8 = 0;
    pub const MAP_FD: u8 = 1;
    pub const MAP_VALUE: u8 = 2;
    pub const VAR_ADDR: u8 = 3;
    pub const CODE_ADDR: u8 = 4;
    pub const MAP_IDX: u8 = 5;
    pub const MAP_IDX_VALUE: u8 = 6;
}
