//! The decoded, typed form of an instruction. Produced only by [`crate::decode`], after every
//! field has been checked, so later stages (interpreter, JITs, verifier, disassembler) match on
//! meaning, never on opcode bits.

use std::fmt;

use crate::fault::Unsupported;

/// A register number, 0..=10. Constructed only by the decoder or [`Reg::new`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reg(u8);

impl Reg {
    /// R0: return value.
    pub const R0: Reg = Reg(0);
    /// R1: first argument / context pointer.
    pub const R1: Reg = Reg(1);
    /// R2: second argument / input length.
    pub const R2: Reg = Reg(2);
    /// R10: read-only frame pointer.
    pub const R10: Reg = Reg(10);
    /// Number of registers.
    pub const COUNT: usize = 11;

    /// A register by number; `None` above 10.
    #[must_use]
    pub const fn new(n: u8) -> Option<Reg> {
        if n <= 10 {
            Some(Reg(n))
        } else {
            None
        }
    }

    /// The register number.
    #[must_use]
    pub const fn index(self) -> usize {
        self.0 as usize
    }

    /// The register number as a byte.
    #[must_use]
    pub const fn number(self) -> u8 {
        self.0
    }
}

impl fmt::Display for Reg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "%r{}", self.0)
    }
}

/// Operand width of ALU and JMP instructions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Width {
    /// 32-bit: operate on the low halves; ALU results are zero-extended.
    W32,
    /// 64-bit.
    W64,
}

/// Second operand of an ALU, JMP or store instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operand {
    /// A register.
    Reg(Reg),
    /// The 32-bit immediate (sign-extended for 64-bit operations).
    Imm(i32),
}

/// Binary ALU operations (the `code` nibble, plus `off` for the signed and sign-extending forms).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AluOp {
    Add,
    Sub,
    Mul,
    /// Unsigned division; division by zero gives 0.
    Div,
    /// Signed division (`off = 1`); by zero gives 0; `MIN / -1` gives `MIN`.
    Sdiv,
    Or,
    And,
    /// Left shift, count masked to the width.
    Lsh,
    /// Logical right shift, count masked.
    Rsh,
    /// Unsigned modulo; by zero leaves dst (32-bit: zero-extended).
    Mod,
    /// Signed modulo (`off = 1`); by zero leaves dst; `MIN % -1` gives 0.
    Smod,
    Xor,
    Mov,
    /// Sign-extending move of the low 8, 16 or 32 bits of the source register.
    Movsx(u8),
    /// Arithmetic right shift, count masked.
    Arsh,
}

/// Byte-order operations (`END` code).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ByteOrder {
    /// 0xd4: convert to little-endian (truncate on a little-endian host).
    ToLe,
    /// 0xdc: convert to big-endian.
    ToBe,
    /// 0xd7: unconditional byte swap (v4).
    Swap,
}

/// Access size of loads, stores and atomics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Size {
    B,
    H,
    W,
    DW,
}

impl Size {
    /// Size in bytes.
    #[must_use]
    pub const fn bytes(self) -> u8 {
        match self {
            Size::B => 1,
            Size::H => 2,
            Size::W => 4,
            Size::DW => 8,
        }
    }
}

/// Atomic read-modify-write operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AtomicOp {
    Add,
    Or,
    And,
    Xor,
    /// Exchange (always fetches).
    Xchg,
    /// Compare with r0 and exchange; the old value lands in r0.
    Cmpxchg,
}

/// Jump conditions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cond {
    Eq,
    Gt,
    Ge,
    Set,
    Ne,
    Sgt,
    Sge,
    Lt,
    Le,
    Slt,
    Sle,
}

/// What an `lddw` loads (its `src` field, ISA.md §6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Lddw {
    /// src 0: a 64-bit constant.
    Imm(u64),
    /// src 1: a map by file descriptor / handle.
    MapFd(i32),
    /// src 2: the address of a map value plus an offset.
    MapValue { map: i32, offset: i32 },
    /// src 3: a platform variable's address.
    VarAddr(i32),
    /// src 4: the address of the function starting at this slot.
    CodeAddr(usize),
    /// src 5: a map by index in the program's map table.
    MapIdx(i32),
    /// src 6: a map value by index plus an offset.
    MapIdxValue { map: i32, offset: i32 },
}

impl Lddw {
    /// The `src` field value of this form.
    #[must_use]
    pub const fn src(&self) -> u8 {
        match self {
            Lddw::Imm(_) => 0,
            Lddw::MapFd(_) => 1,
            Lddw::MapValue { .. } => 2,
            Lddw::VarAddr(_) => 3,
            Lddw::CodeAddr(_) => 4,
            Lddw::MapIdx(_) => 5,
            Lddw::MapIdxValue { .. } => 6,
        }
    }
}

/// Legacy packet-load addressing (`packet` group).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PacketAddr {
    /// `LD_ABS`: packet offset is `imm`.
    Abs,
    /// `LD_IND`: packet offset is `src + imm`.
    Ind(Reg),
}

/// A decoded instruction. Jump and call targets are absolute slot indices, already checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Instruction {
    /// `dst = dst op src` (or `dst = src` for moves).
    Alu {
        op: AluOp,
        width: Width,
        dst: Reg,
        src: Operand,
    },
    /// `dst = -dst`.
    Neg { width: Width, dst: Reg },
    /// Byte-order conversion or swap of the low `bits` (16, 32 or 64) bits.
    Endian {
        order: ByteOrder,
        bits: u8,
        dst: Reg,
    },
    /// `dst = *(size *)(src + off)`, zero- or sign-extended.
    Load {
        size: Size,
        sign_extend: bool,
        dst: Reg,
        src: Reg,
        off: i16,
    },
    /// `*(size *)(dst + off) = src` (an immediate is sign-extended first for `DW`).
    Store {
        size: Size,
        dst: Reg,
        off: i16,
        src: Operand,
    },
    /// Atomic read-modify-write on `*(size *)(dst + off)`.
    Atomic {
        size: Size,
        op: AtomicOp,
        fetch: bool,
        dst: Reg,
        src: Reg,
        off: i16,
    },
    /// `lddw`: occupies this slot and the next.
    LoadImm64 { dst: Reg, value: Lddw },
    /// Legacy `LD_ABS`/`LD_IND`: r0 = network-order value from the packet.
    LoadPacket {
        size: Size,
        addr: PacketAddr,
        imm: i32,
    },
    /// Unconditional jump (`ja` with 16-bit or `gotol` with 32-bit displacement).
    Ja { target: usize },
    /// Conditional jump.
    Jump {
        cond: Cond,
        width: Width,
        dst: Reg,
        src: Operand,
        target: usize,
    },
    /// Helper call by id.
    Call { helper: u32 },
    /// Local (bpf-to-bpf) call.
    CallLocal { target: usize },
    /// Linux kfunc call by BTF id; `module` is the `off` field (a BTF object index).
    CallKfunc { btf_id: i32, module: i16 },
    /// Indirect helper call through a register (0x8d, register in `dst`): an extension.
    CallX { reg: Reg },
    /// Return to the caller frame or the host.
    Exit,
    /// The second slot of an `lddw`; never executed, never a jump target.
    LddwTail,
}

impl Instruction {
    /// Number of slots the instruction occupies.
    #[must_use]
    pub const fn slots(&self) -> usize {
        match self {
            Instruction::LoadImm64 { .. } => 2,
            _ => 1,
        }
    }

    /// What an engine reports if it reaches this instruction and cannot give it a meaning
    /// (kfunc calls, `lddw` pseudo forms with nothing bound), or `None` for ordinary instructions.
    /// Every engine uses this one definition, so they fault identically.
    #[must_use]
    pub const fn unsupported(&self) -> Option<Unsupported> {
        match *self {
            Instruction::CallKfunc { btf_id, .. } => Some(Unsupported::Kfunc { btf_id }),
            Instruction::LoadImm64 { value, .. } => match value {
                Lddw::Imm(_) => None,
                Lddw::CodeAddr(target) => Some(Unsupported::CodeAddress { target }),
                Lddw::MapFd(imm) | Lddw::VarAddr(imm) | Lddw::MapIdx(imm) => {
                    Some(Unsupported::LddwPseudo {
                        src: value.src(),
                        imm,
                    })
                }
                Lddw::MapValue { map, .. } | Lddw::MapIdxValue { map, .. } => {
                    Some(Unsupported::LddwPseudo {
                        src: value.src(),
                        imm: map,
                    })
                }
            },
            _ => None,
        }
    }

    /// Whether this is a jump (conditional or not) to another slot of the same function.
    #[must_use]
    pub const fn is_branch(&self) -> bool {
        matches!(self, Instruction::Ja { .. } | Instruction::Jump { .. })
    }
}

/// A set of eBPF registers r0–r10 (bit `i` = `ri`): what an instruction reads or writes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct RegSet(u16);

impl RegSet {
    /// No register.
    pub const EMPTY: RegSet = RegSet(0);
    /// r0–r10.
    pub const ALL: RegSet = RegSet(0x7ff);
    /// r1–r5: helper and function arguments.
    pub const ARGS: RegSet = RegSet(0b11_1110);
    /// r0–r5: the registers a call may change (result and arguments).
    pub const CALLER_SAVED: RegSet = RegSet(0b11_1111);

    /// The set of one register.
    #[must_use]
    pub const fn of(r: Reg) -> RegSet {
        RegSet(1 << r.0)
    }

    /// The set from a mask (bit `i` = `ri`; bits above r10 are dropped).
    #[must_use]
    pub const fn from_bits(bits: u16) -> RegSet {
        RegSet(bits & 0x7ff)
    }

    /// The mask (bit `i` = `ri`).
    #[must_use]
    pub const fn bits(self) -> u16 {
        self.0
    }

    /// Whether `r` is in the set.
    #[must_use]
    pub const fn contains(self, r: Reg) -> bool {
        self.0 & (1 << r.0) != 0
    }

    /// Whether the set is empty.
    #[must_use]
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Both sets.
    #[must_use]
    pub const fn union(self, other: RegSet) -> RegSet {
        RegSet(self.0 | other.0)
    }

    /// This set without `other`'s registers.
    #[must_use]
    pub const fn minus(self, other: RegSet) -> RegSet {
        RegSet(self.0 & !other.0)
    }

    /// The registers in ascending order.
    pub fn iter(self) -> impl Iterator<Item = Reg> {
        (0..Reg::COUNT as u8)
            .filter(move |&i| self.0 & (1 << i) != 0)
            .map(Reg)
    }
}

impl std::ops::BitOr for RegSet {
    type Output = RegSet;
    fn bitor(self, rhs: RegSet) -> RegSet {
        self.union(rhs)
    }
}

impl std::ops::BitOrAssign for RegSet {
    fn bitor_assign(&mut self, rhs: RegSet) {
        *self = self.union(rhs);
    }
}

impl Operand {
    /// The register an operand reads, if any.
    #[must_use]
    pub const fn regs(self) -> RegSet {
        match self {
            Operand::Reg(r) => RegSet::of(r),
            Operand::Imm(_) => RegSet::EMPTY,
        }
    }
}

/// Def/use: which registers an instruction reads and writes, as apiary's engines run it (the
/// one definition the JIT's liveness, the verifier's termination proofs and its unrolling
/// use). Helper calls (`call`, `callx`) read r1–r5 and write only r0: apiary keeps r1–r5
/// across them; what Linux leaves undefined instead is [`Instruction::linux_scratch`].
impl Instruction {
    /// The registers the instruction may read (over-approximated: a read on some path counts).
    /// A local call (and a kfunc call, which no engine runs) reads every register: the callee
    /// sees r0–r10 as the caller left them.
    #[must_use]
    pub const fn reads(&self) -> RegSet {
        match *self {
            Instruction::Alu {
                op: AluOp::Mov | AluOp::Movsx(_),
                src,
                ..
            } => src.regs(),
            Instruction::Alu { dst, src, .. }
            | Instruction::Jump { dst, src, .. }
            | Instruction::Store { dst, src, .. } => RegSet::of(dst).union(src.regs()),
            Instruction::Neg { dst, .. } | Instruction::Endian { dst, .. } => RegSet::of(dst),
            Instruction::Load { src, .. } => RegSet::of(src),
            // `cmpxchg` compares with r0.
            Instruction::Atomic {
                op: AtomicOp::Cmpxchg,
                dst,
                src,
                ..
            } => RegSet::of(dst)
                .union(RegSet::of(src))
                .union(RegSet::of(Reg::R0)),
            Instruction::Atomic { dst, src, .. } => RegSet::of(dst).union(RegSet::of(src)),
            Instruction::LoadPacket {
                addr: PacketAddr::Ind(r),
                ..
            } => RegSet::of(r),
            Instruction::LoadPacket {
                addr: PacketAddr::Abs,
                ..
            }
            | Instruction::LoadImm64 { .. }
            | Instruction::Ja { .. }
            | Instruction::LddwTail => RegSet::EMPTY,
            Instruction::Call { .. } => RegSet::ARGS,
            Instruction::CallX { reg } => RegSet::ARGS.union(RegSet::of(reg)),
            Instruction::CallLocal { .. } | Instruction::CallKfunc { .. } => RegSet::ALL,
            Instruction::Exit => RegSet::of(Reg::R0),
        }
    }

    /// The registers every normal completion of the instruction writes (under-approximated:
    /// a write only some paths make is left out). A local call writes none for sure: the
    /// callee may leave r0–r5 as they were.
    #[must_use]
    pub const fn writes(&self) -> RegSet {
        match *self {
            Instruction::Alu { dst, .. }
            | Instruction::Neg { dst, .. }
            | Instruction::Endian { dst, .. }
            | Instruction::Load { dst, .. }
            | Instruction::LoadImm64 { dst, .. } => RegSet::of(dst),
            // `cmpxchg` returns the old value in r0; other fetching forms and `xchg` in `src`.
            Instruction::Atomic {
                op: AtomicOp::Cmpxchg,
                ..
            } => RegSet::of(Reg::R0),
            Instruction::Atomic {
                op: AtomicOp::Xchg,
                src,
                ..
            } => RegSet::of(src),
            Instruction::Atomic {
                fetch: true, src, ..
            } => RegSet::of(src),
            Instruction::Atomic { fetch: false, .. } => RegSet::EMPTY,
            Instruction::LoadPacket { .. }
            | Instruction::Call { .. }
            | Instruction::CallX { .. } => RegSet::of(Reg::R0),
            Instruction::CallLocal { .. }
            | Instruction::CallKfunc { .. }
            | Instruction::Store { .. }
            | Instruction::Ja { .. }
            | Instruction::Jump { .. }
            | Instruction::Exit
            | Instruction::LddwTail => RegSet::EMPTY,
        }
    }

    /// The registers the instruction may write (over-approximated): [`Instruction::writes`]
    /// plus r0–r5 for a local or kfunc call (the callee's r6–r9 are restored, r10 is
    /// read-only).
    #[must_use]
    pub const fn may_write(&self) -> RegSet {
        match *self {
            Instruction::CallLocal { .. } | Instruction::CallKfunc { .. } => RegSet::CALLER_SAVED,
            _ => self.writes(),
        }
    }

    /// The registers Linux leaves undefined after the instruction where apiary keeps them:
    /// r1–r5 after every call and legacy packet load. A verifier that follows the kernel
    /// treats them as written.
    #[must_use]
    pub const fn linux_scratch(&self) -> RegSet {
        match *self {
            Instruction::Call { .. }
            | Instruction::CallX { .. }
            | Instruction::CallLocal { .. }
            | Instruction::CallKfunc { .. }
            | Instruction::LoadPacket { .. } => RegSet::ARGS,
            _ => RegSet::EMPTY,
        }
    }
}
