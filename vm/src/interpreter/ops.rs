//! The interpreter's lowered form: one operation code per (operation, width, operand kind).

use crate::instruction::AtomicOp;

/// Operation codes of the lowered form. `I`/`R` = immediate/register source.
///
/// One byte, so that an [`Op`] is 16 bytes (four per cache line) and the run loop's `match`
/// compiles to one jump table indexed by this byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(super) enum Code {
    Add64I,
    Add64R,
    Sub64I,
    Sub64R,
    Mul64I,
    Mul64R,
    Div64I,
    Div64R,
    Sdiv64I,
    Sdiv64R,
    Or64I,
    Or64R,
    And64I,
    And64R,
    Lsh64I,
    Lsh64R,
    Rsh64I,
    Rsh64R,
    Mod64I,
    Mod64R,
    Smod64I,
    Smod64R,
    Xor64I,
    Xor64R,
    Mov64I,
    Mov64R,
    Arsh64I,
    Arsh64R,
    Movsx64,
    Add32I,
    Add32R,
    Sub32I,
    Sub32R,
    Mul32I,
    Mul32R,
    Div32I,
    Div32R,
    Sdiv32I,
    Sdiv32R,
    Or32I,
    Or32R,
    And32I,
    And32R,
    Lsh32I,
    Lsh32R,
    Rsh32I,
    Rsh32R,
    Mod32I,
    Mod32R,
    Smod32I,
    Smod32R,
    Xor32I,
    Xor32R,
    Mov32I,
    Mov32R,
    Arsh32I,
    Arsh32R,
    Movsx32,
    Neg64,
    Neg32,
    Trunc16,
    Trunc32,
    Swap16,
    Swap32,
    Swap64,
    Nop,
    LdxB,
    LdxH,
    LdxW,
    LdxDW,
    LdxsB,
    LdxsH,
    LdxsW,
    StB,
    StH,
    StW,
    StDW,
    StxB,
    StxH,
    StxW,
    StxDW,
    Atomic32,
    Atomic64,
    LoadImm,
    LdAbs,
    LdInd,
    Ja,
    Jeq64I,
    Jeq64R,
    Jgt64I,
    Jgt64R,
    Jge64I,
    Jge64R,
    Jset64I,
    Jset64R,
    Jne64I,
    Jne64R,
    Jsgt64I,
    Jsgt64R,
    Jsge64I,
    Jsge64R,
    Jlt64I,
    Jlt64R,
    Jle64I,
    Jle64R,
    Jslt64I,
    Jslt64R,
    Jsle64I,
    Jsle64R,
    Jeq32I,
    Jeq32R,
    Jgt32I,
    Jgt32R,
    Jge32I,
    Jge32R,
    Jset32I,
    Jset32R,
    Jne32I,
    Jne32R,
    Jsgt32I,
    Jsgt32R,
    Jsge32I,
    Jsge32R,
    Jlt32I,
    Jlt32R,
    Jle32I,
    Jle32R,
    Jslt32I,
    Jslt32R,
    Jsle32I,
    Jsle32R,
    Call,
    /// A plain helper ([`PlainHelperFn`]), `imm` indexing `Interpreter::plain`.
    CallPlain,
    CallLocal,
    CallX,
    Exit,
    Fault,
}

/// One lowered slot, 16 bytes.
///
/// - `dst`, `src`: registers ([`R`]); the run loop indexes its 16-entry register file with
///   [`reg`], so no register access is bounds-checked at run time;
/// - `imm`: the operand value for `I` codes (already extended for the width), the constant of
///   `LoadImm`, the store value of `St*`, the helper-table index of `Call`, the packet offset of
///   `LdAbs`/`LdInd`, the index into the unsupported list for `Fault`;
/// - `arg`: the offset of a load, store or atomic ([`Op::off`], sign-extended at lowering), or
///   the target slot of a jump or local call ([`Op::target`]): no instruction has both;
/// - `aux`: `Movsx*` width; atomic operation ([`atomic_code`]); packet size in bytes;
///   1 on a backward jump (a budget check point).
#[derive(Clone, Copy, Debug)]
#[repr(C)]
pub(super) struct Op {
    pub(super) code: Code,
    pub(super) dst: R,
    pub(super) src: R,
    pub(super) aux: u8,
    pub(super) arg: u32,
    pub(super) imm: u64,
}

const _: () = assert!(size_of::<Op>() == 16);

impl Op {
    /// The memory offset of a load, store or atomic, as the value added to the base register.
    #[inline(always)]
    pub(super) const fn off(&self) -> u64 {
        self.arg as i32 as i64 as u64
    }

    /// The target slot of a jump or local call.
    #[inline(always)]
    pub(super) const fn target(&self) -> usize {
        self.arg as usize
    }

    /// Sets the memory offset.
    pub(super) fn set_off(&mut self, off: i16) {
        self.arg = i32::from(off) as u32;
    }

    /// Sets the target slot (`Program::new` keeps slot indices far below `u32::MAX`).
    pub(super) fn set_target(&mut self, target: usize) {
        self.arg = target as u32;
    }
}

/// A register number of the lowered form. An enum of 16 values rather than a `u8`, so the
/// compiler knows every register index is below 16 and drops the bounds check of every access
/// to the run loop's 16-entry register file (and needs no mask): `Program::new` checked that
/// registers are at most 10, so r11–r15 never occur.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(super) enum R {
    R0,
    R1,
    R2,
    R3,
    R4,
    R5,
    R6,
    R7,
    R8,
    R9,
    R10,
    R11,
    R12,
    R13,
    R14,
    R15,
}

impl R {
    const ALL: [R; REGS] = [
        R::R0,
        R::R1,
        R::R2,
        R::R3,
        R::R4,
        R::R5,
        R::R6,
        R::R7,
        R::R8,
        R::R9,
        R::R10,
        R::R11,
        R::R12,
        R::R13,
        R::R14,
        R::R15,
    ];

    /// Register `n` (at most 10 from a decoded program; the low four bits are kept).
    pub(super) const fn of(n: u8) -> R {
        Self::ALL[(n & 15) as usize]
    }
}

/// The index of register `r` in the run loop's register file.
#[inline(always)]
pub(super) const fn reg(r: R) -> usize {
    r as usize
}

/// Size of the run loop's register file: r0–r10, padded to a power of two for [`reg`].
pub(super) const REGS: usize = 16;

pub(super) const ATOMIC_FETCH: u8 = 0x80;

pub(super) fn atomic_code(op: AtomicOp, fetch: bool) -> u8 {
    let base = match op {
        AtomicOp::Add => 0,
        AtomicOp::Or => 1,
        AtomicOp::And => 2,
        AtomicOp::Xor => 3,
        AtomicOp::Xchg => 4,
        AtomicOp::Cmpxchg => 5,
    };
    base | if fetch { ATOMIC_FETCH } else { 0 }
}

/// `aux` bit of a load or store whose bounds a verifier proved (verified mode).
pub(super) const PROVEN: u8 = 0x01;
/// `aux` bit of an atomic whose bounds a verifier proved (the low bits hold the operation).
pub(super) const ATOMIC_PROVEN: u8 = 0x40;
/// `aux` bits of an atomic holding the operation ([`atomic_code`]).
pub(super) const ATOMIC_OP: u8 = 0x3f;
