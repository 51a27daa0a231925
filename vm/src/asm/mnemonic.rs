//! Mnemonic names and the opcode bits they stand for. This is the one table mapping spelling to
//! encoding; operand shapes are the business of [`super::encode`].

use crate::opcode::{self, alu, jmp};

/// A recognised mnemonic, with the opcode bits fixed by its spelling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mnemonic {
    /// Binary ALU op: `class | code`, plus the `off` that distinguishes `sdiv`/`smod`/`movsx`.
    Alu { class: u8, code: u8, off: i16 },
    /// `movsx{8,16,32}{32,64}`: MOV from a register only.
    Movsx { class: u8, bits: i16 },
    /// `neg`, `neg32`.
    Neg { class: u8 },
    /// `le`/`be`/`bswap`: full opcode and the width in `imm`.
    Endian { op: u8, bits: i32 },
    /// `ldx{b,h,w,dw}` and `ldxs{b,h,w}`: full opcode.
    Load { op: u8 },
    /// `st{b,h,w,dw}`: full opcode.
    StoreImm { op: u8 },
    /// `stx{b,h,w,dw}`: full opcode.
    StoreReg { op: u8 },
    /// `xadd{w,dw}`: legacy atomic add, full opcode.
    Xadd { op: u8 },
    /// `lock ...`: atomic; the operation follows as operands.
    Lock,
    /// `lddw`.
    Lddw,
    /// `ldabs{b,h,w}`: full opcode.
    LdAbs { op: u8 },
    /// `ldind{b,h,w}`: full opcode.
    LdInd { op: u8 },
    /// `ja` (16-bit `off`).
    Ja,
    /// `ja32` / `gotol` (32-bit displacement in `imm`).
    Ja32,
    /// Conditional jump: `class | code`.
    Jump { class: u8, code: u8 },
    /// `call` in all its forms.
    Call,
    /// `callx %reg`.
    Callx,
    /// `exit`.
    Exit,
    /// `.raw <u64>`: one slot given as the little-endian u64 of a `.data` `-- raw` section.
    Raw,
}

const ALU_OPS: [(&str, u8, i16); 15] = [
    ("add", alu::ADD, 0),
    ("sub", alu::SUB, 0),
    ("mul", alu::MUL, 0),
    ("div", alu::DIV, 0),
    ("sdiv", alu::DIV, 1),
    ("or", alu::OR, 0),
    ("and", alu::AND, 0),
    ("lsh", alu::LSH, 0),
    ("rsh", alu::RSH, 0),
    ("mod", alu::MOD, 0),
    ("smod", alu::MOD, 1),
    ("xor", alu::XOR, 0),
    ("mov", alu::MOV, 0),
    ("arsh", alu::ARSH, 0),
    // `neg` is handled separately (one operand), listed here only to share the suffix logic.
    ("neg", alu::NEG, 0),
];

const JUMP_OPS: [(&str, u8); 11] = [
    ("jeq", jmp::JEQ),
    ("jgt", jmp::JGT),
    ("jge", jmp::JGE),
    ("jset", jmp::JSET),
    ("jne", jmp::JNE),
    ("jsgt", jmp::JSGT),
    ("jsge", jmp::JSGE),
    ("jlt", jmp::JLT),
    ("jle", jmp::JLE),
    ("jslt", jmp::JSLT),
    ("jsle", jmp::JSLE),
];

/// Size suffixes of loads and stores.
const SIZES: [(&str, u8); 4] = [
    ("b", opcode::SIZE_B),
    ("h", opcode::SIZE_H),
    ("w", opcode::SIZE_W),
    ("dw", opcode::SIZE_DW),
];

/// Splits the ALU width suffix: none or `64` → ALU64, `32` → ALU.
fn alu_class(name: &str) -> (&str, u8) {
    if let Some(base) = name.strip_suffix("32") {
        (base, opcode::CLASS_ALU)
    } else if let Some(base) = name.strip_suffix("64") {
        (base, opcode::CLASS_ALU64)
    } else {
        (name, opcode::CLASS_ALU64)
    }
}

fn size_suffix(name: &str, prefix: &str) -> Option<u8> {
    let suffix = name.strip_prefix(prefix)?;
    SIZES
        .iter()
        .find(|(s, _)| *s == suffix)
        .map(|&(_, size)| size)
}

fn endian(name: &str) -> Option<Mnemonic> {
    let (base, bits) = [("16", 16), ("32", 32), ("64", 64)]
        .iter()
        .find_map(|&(s, bits)| name.strip_suffix(s).map(|b| (b, bits)))?;
    let op = match base {
        "le" => opcode::CLASS_ALU | alu::END | opcode::SOURCE_K,
        "be" => opcode::CLASS_ALU | alu::END | opcode::SOURCE_X,
        "bswap" | "swap" => opcode::CLASS_ALU64 | alu::END,
        _ => return None,
    };
    Some(Mnemonic::Endian { op, bits })
}

fn movsx(name: &str) -> Option<Mnemonic> {
    let rest = name.strip_prefix("movsx")?;
    let (bits, rest) = [("8", 8), ("16", 16), ("32", 32)]
        .iter()
        .find_map(|&(s, bits)| rest.strip_prefix(s).map(|r| (bits, r)))?;
    let class = match rest {
        "32" => opcode::CLASS_ALU,
        "64" => opcode::CLASS_ALU64,
        _ => return None,
    };
    Some(Mnemonic::Movsx { class, bits })
}

fn memory(name: &str) -> Option<Mnemonic> {
    use opcode::{
        CLASS_LD, CLASS_LDX, CLASS_ST, CLASS_STX, MODE_ABS, MODE_ATOMIC, MODE_IND, MODE_MEM,
        MODE_MEMSX,
    };
    if let Some(size) = size_suffix(name, "ldxs").filter(|&s| s != opcode::SIZE_DW) {
        return Some(Mnemonic::Load {
            op: CLASS_LDX | MODE_MEMSX | size,
        });
    }
    if let Some(size) = size_suffix(name, "ldx") {
        return Some(Mnemonic::Load {
            op: CLASS_LDX | MODE_MEM | size,
        });
    }
    if let Some(size) = size_suffix(name, "stx") {
        return Some(Mnemonic::StoreReg {
            op: CLASS_STX | MODE_MEM | size,
        });
    }
    if let Some(size) = size_suffix(name, "st") {
        return Some(Mnemonic::StoreImm {
            op: CLASS_ST | MODE_MEM | size,
        });
    }
    if let Some(size) =
        size_suffix(name, "xadd").filter(|&s| matches!(s, opcode::SIZE_W | opcode::SIZE_DW))
    {
        return Some(Mnemonic::Xadd {
            op: CLASS_STX | MODE_ATOMIC | size,
        });
    }
    if let Some(size) = size_suffix(name, "ldabs").filter(|&s| s != opcode::SIZE_DW) {
        return Some(Mnemonic::LdAbs {
            op: CLASS_LD | MODE_ABS | size,
        });
    }
    if let Some(size) = size_suffix(name, "ldind").filter(|&s| s != opcode::SIZE_DW) {
        return Some(Mnemonic::LdInd {
            op: CLASS_LD | MODE_IND | size,
        });
    }
    None
}

/// Looks a mnemonic up by its spelling (case-sensitive, lower case).
pub(crate) fn lookup(name: &str) -> Option<Mnemonic> {
    match name {
        "lddw" => return Some(Mnemonic::Lddw),
        "ja" => return Some(Mnemonic::Ja),
        "ja32" | "gotol" => return Some(Mnemonic::Ja32),
        "call" => return Some(Mnemonic::Call),
        "callx" => return Some(Mnemonic::Callx),
        "exit" => return Some(Mnemonic::Exit),
        "lock" => return Some(Mnemonic::Lock),
        ".raw" => return Some(Mnemonic::Raw),
        _ => {}
    }
    if let Some(m) = endian(name)
        .or_else(|| movsx(name))
        .or_else(|| memory(name))
    {
        return Some(m);
    }
    let (base, class) = alu_class(name);
    if let Some(&(_, code, off)) = ALU_OPS.iter().find(|(n, _, _)| *n == base) {
        return Some(if code == alu::NEG {
            Mnemonic::Neg { class }
        } else {
            Mnemonic::Alu { class, code, off }
        });
    }
    // Jumps: none or `64` is JMP, `32` is JMP32 (the ALU suffix rule, with the JMP classes).
    let jump_class = if class == opcode::CLASS_ALU {
        opcode::CLASS_JMP32
    } else {
        opcode::CLASS_JMP
    };
    JUMP_OPS
        .iter()
        .find(|(n, _)| *n == base)
        .map(|&(_, code)| Mnemonic::Jump {
            class: jump_class,
            code,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings() {
        assert_eq!(
            lookup("add32"),
            Some(Mnemonic::Alu {
                class: 0x04,
                code: 0x00,
                off: 0
            })
        );
        assert_eq!(
            lookup("sdiv"),
            Some(Mnemonic::Alu {
                class: 0x07,
                code: 0x30,
                off: 1
            })
        );
        assert_eq!(
            lookup("smod64"),
            Some(Mnemonic::Alu {
                class: 0x07,
                code: 0x90,
                off: 1
            })
        );
        assert_eq!(lookup("neg32"), Some(Mnemonic::Neg { class: 0x04 }));
        assert_eq!(
            lookup("movsx3264"),
            Some(Mnemonic::Movsx {
                class: 0x07,
                bits: 32
            })
        );
        assert_eq!(
            lookup("be16"),
            Some(Mnemonic::Endian { op: 0xdc, bits: 16 })
        );
        assert_eq!(
            lookup("swap64"),
            Some(Mnemonic::Endian { op: 0xd7, bits: 64 })
        );
        assert_eq!(lookup("ldxsw"), Some(Mnemonic::Load { op: 0x81 }));
        assert_eq!(lookup("ldxdw"), Some(Mnemonic::Load { op: 0x79 }));
        assert_eq!(lookup("stdw"), Some(Mnemonic::StoreImm { op: 0x7a }));
        assert_eq!(lookup("stxb"), Some(Mnemonic::StoreReg { op: 0x73 }));
        assert_eq!(lookup("xadddw"), Some(Mnemonic::Xadd { op: 0xdb }));
        assert_eq!(lookup("ldabsh"), Some(Mnemonic::LdAbs { op: 0x28 }));
        assert_eq!(lookup("ldindb"), Some(Mnemonic::LdInd { op: 0x50 }));
        assert_eq!(
            lookup("jsle32"),
            Some(Mnemonic::Jump {
                class: 0x06,
                code: 0xd0
            })
        );
        assert_eq!(
            lookup("jset"),
            Some(Mnemonic::Jump {
                class: 0x05,
                code: 0x40
            })
        );
        for bad in [
            "ldxq",
            "ldxsdw",
            "movsx",
            "movsx6464",
            "ja64x",
            "le8",
            "",
            "xaddb",
            "ldabsdw",
            "add16",
        ] {
            assert_eq!(lookup(bad), None, "{bad}");
        }
    }
}
