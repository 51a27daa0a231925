//! Hand-written cases: one per syntax form, and one per error variant.

use super::{asm, one};
use crate::asm::{assemble, AsmError, OperandKind};
use crate::insn::Insn;

fn err(text: &str) -> AsmError {
    match assemble(text) {
        Ok(insns) => panic!("{text:?} assembled to {insns:?}"),
        Err(e) => e,
    }
}

#[test]
fn alu_forms() {
    assert_eq!(one("add %r1, %r2"), Insn::new(0x0f, 1, 2, 0, 0));
    assert_eq!(one("add64 r1, 5"), Insn::new(0x07, 1, 0, 0, 5));
    assert_eq!(one("add32 %r1, -3"), Insn::new(0x04, 1, 0, 0, -3));
    assert_eq!(one("mov32 %r0, 0xffffffff"), Insn::new(0xb4, 0, 0, 0, -1));
    assert_eq!(
        one("mov %r0, -0x80000000"),
        Insn::new(0xb7, 0, 0, 0, i32::MIN)
    );
    assert_eq!(one("sdiv32 %r1, %r2"), Insn::new(0x3c, 1, 2, 1, 0));
    assert_eq!(one("smod %r1, 7"), Insn::new(0x97, 1, 0, 1, 7));
    assert_eq!(one("neg %r3"), Insn::new(0x87, 3, 0, 0, 0));
    assert_eq!(one("neg32 %r3"), Insn::new(0x84, 3, 0, 0, 0));
    assert_eq!(one("arsh32 %r3, 1"), Insn::new(0xc4, 3, 0, 0, 1));
    assert_eq!(one("movsx832 %r0, %r1"), Insn::new(0xbc, 0, 1, 8, 0));
    assert_eq!(one("movsx3264 %r0, %r1"), Insn::new(0xbf, 0, 1, 32, 0));
    assert_eq!(one("le16 %r0"), Insn::new(0xd4, 0, 0, 0, 16));
    assert_eq!(one("be64 %r0"), Insn::new(0xdc, 0, 0, 0, 64));
    assert_eq!(one("bswap32 %r0"), Insn::new(0xd7, 0, 0, 0, 32));
    assert_eq!(one("swap16 %r0"), Insn::new(0xd7, 0, 0, 0, 16));
}

#[test]
fn memory_forms() {
    assert_eq!(one("ldxb %r0, [%r1+2]"), Insn::new(0x71, 0, 1, 2, 0));
    assert_eq!(one("ldxdw %r0, [%r10-8]"), Insn::new(0x79, 0, 10, -8, 0));
    assert_eq!(one("ldxh %r0, [%r1]"), Insn::new(0x69, 0, 1, 0, 0));
    assert_eq!(one("ldxw %r0, [%r1+0x10]"), Insn::new(0x61, 0, 1, 16, 0));
    assert_eq!(
        one("ldxsb %r0, [%r1-32768]"),
        Insn::new(0x91, 0, 1, i16::MIN, 0)
    );
    assert_eq!(
        one("ldxsw %r0, [%r1 + 32767]"),
        Insn::new(0x81, 0, 1, i16::MAX, 0)
    );
    assert_eq!(one("stb [%r1+2], 0x11"), Insn::new(0x72, 1, 0, 2, 0x11));
    assert_eq!(one("stdw [%r10-16], -1"), Insn::new(0x7a, 10, 0, -16, -1));
    assert_eq!(one("stxh [%r1+4], %r2"), Insn::new(0x6b, 1, 2, 4, 0));
    assert_eq!(one("lock add [%r10-8], %r1"), Insn::new(0xdb, 10, 1, -8, 0));
    assert_eq!(
        one("lock fetch or32 [%r10-4], %r3"),
        Insn::new(0xc3, 10, 3, -4, 0x41)
    );
    assert_eq!(one("lock and64 [%r1], %r2"), Insn::new(0xdb, 1, 2, 0, 0x50));
    assert_eq!(
        one("lock fetch xor [%r1], %r2"),
        Insn::new(0xdb, 1, 2, 0, 0xa1)
    );
    assert_eq!(
        one("lock xchg32 [%r1], %r2"),
        Insn::new(0xc3, 1, 2, 0, 0xe1)
    );
    assert_eq!(
        one("lock cmpxchg [%r1], %r2"),
        Insn::new(0xdb, 1, 2, 0, 0xf1)
    );
    assert_eq!(one("xaddw [%r1+4], %r2"), Insn::new(0xc3, 1, 2, 4, 0));
    assert_eq!(one("xadddw [%r1+4], %r2"), Insn::new(0xdb, 1, 2, 4, 0));
    assert_eq!(one("ldabsh 12"), Insn::new(0x28, 0, 0, 0, 12));
    assert_eq!(one("ldindw %r3, -4"), Insn::new(0x40, 0, 3, 0, -4));
}

#[test]
fn lddw_forms() {
    assert_eq!(
        asm("lddw %r0, 0x1122334455667788"),
        vec![
            Insn::from_u64(0x5566_7788_0000_0018),
            Insn::from_u64(0x1122_3344_0000_0000)
        ]
    );
    assert_eq!(
        asm("lddw %r1, -1"),
        vec![Insn::new(0x18, 1, 0, 0, -1), Insn::new(0, 0, 0, 0, -1)]
    );
    assert_eq!(
        asm("lddw %r1, 2147483648"),
        vec![Insn::new(0x18, 1, 0, 0, i32::MIN), Insn::new(0, 0, 0, 0, 0)]
    );
    assert_eq!(
        asm("lddw %r1, map_fd 3"),
        vec![Insn::new(0x18, 1, 1, 0, 3), Insn::new(0, 0, 0, 0, 0)]
    );
    assert_eq!(
        asm("lddw %r1, map_idx_value 3, 8"),
        vec![Insn::new(0x18, 1, 6, 0, 3), Insn::new(0, 0, 0, 0, 8)]
    );
    assert_eq!(
        asm("lddw %r1, code_addr f\nexit\nf:\nexit"),
        vec![
            Insn::new(0x18, 1, 4, 0, 2),
            Insn::new(0, 0, 0, 0, 0),
            Insn::new(0x95, 0, 0, 0, 0),
            Insn::new(0x95, 0, 0, 0, 0)
        ]
    );
}

#[test]
fn jumps_and_labels() {
    // lddw counts two slots: `exit` is at slot 4, the jne at slot 0.
    let insns = asm("jne %r0, %r1, exit\nlddw %r0, 1\nja +0\nexit\n");
    assert_eq!(insns[0], Insn::new(0x5d, 0, 1, 3, 0));
    assert_eq!(insns[3], Insn::new(0x05, 0, 0, 0, 0));
    let insns =
        asm("start: mov %r0, 0\nloop:\n  jeq32 %r0, 10, done\n  add %r0, 1\n  ja loop\ndone: exit");
    assert_eq!(insns[1], Insn::new(0x16, 0, 0, 2, 10));
    assert_eq!(insns[3], Insn::new(0x05, 0, 0, -3, 0));
    assert_eq!(asm("ja32 -5\nexit")[0], Insn::new(0x06, 0, 0, 0, -5));
    assert_eq!(asm("gotol 70000\nexit")[0], Insn::new(0x06, 0, 0, 0, 70000));
    // An explicit `exit` label wins over the implicit one.
    let insns = asm("ja exit\nexit\nexit:\nexit");
    assert_eq!(insns[0].off, 1);
    // Jump forward by a bare number, backward with a sign.
    assert_eq!(
        asm("jset %r1, 0x80, 2\nexit")[0],
        Insn::new(0x45, 1, 0, 2, 0x80)
    );
}

#[test]
fn calls() {
    assert_eq!(one("call 5"), Insn::new(0x85, 0, 0, 0, 5));
    assert_eq!(one("call 0xffffffff"), Insn::new(0x85, 0, 0, 0, -1));
    assert_eq!(one("call %r2"), Insn::new(0x8d, 2, 0, 0, 0));
    assert_eq!(one("call helper %r3"), Insn::new(0x8d, 3, 0, 0, 0));
    assert_eq!(one("callx %r4"), Insn::new(0x8d, 4, 0, 0, 0));
    assert_eq!(one("call runtime 12"), Insn::new(0x85, 0, 2, 0, 12));
    assert_eq!(one("call runtime 12, 3"), Insn::new(0x85, 0, 2, 3, 12));
    assert_eq!(
        asm("call local f\nexit\nf: exit")[0],
        Insn::new(0x85, 0, 1, 0, 1)
    );
    assert_eq!(one("call local -1"), Insn::new(0x85, 0, 1, 0, -1));
}

#[test]
fn layout_and_comments() {
    assert_eq!(asm("\n  # only a comment\n\n"), vec![]);
    assert_eq!(asm("mov %r0, 1 # trailing\r\nexit\r\n").len(), 2);
    assert_eq!(one("mov %r0,%r1,"), Insn::new(0xbf, 0, 1, 0, 0));
    assert_eq!(one("\tmov\t%r0 ,  2"), Insn::new(0xb7, 0, 0, 0, 2));
    assert_eq!(
        one(".raw 0x5566778800000018"),
        Insn::new(0x18, 0, 0, 0, 0x5566_7788)
    );
}

#[test]
fn errors_name_line_and_column() {
    assert_eq!(
        err("exit\n  ldxq %r0, %r1"),
        AsmError::UnknownMnemonic {
            line: 2,
            column: 3,
            mnemonic: "ldxq".into()
        }
    );
    assert_eq!(
        err("or %r0, %r50"),
        AsmError::BadRegister {
            line: 1,
            column: 9,
            token: "%r50".into()
        }
    );
    assert_eq!(
        err("mov %r11, 1"),
        AsmError::BadRegister {
            line: 1,
            column: 5,
            token: "%r11".into()
        }
    );
    assert_eq!(
        err("mov r11, 1"),
        AsmError::BadRegister {
            line: 1,
            column: 5,
            token: "r11".into()
        }
    );
    assert_eq!(
        err("lddw %r0"),
        AsmError::OperandCount {
            line: 1,
            column: 1,
            mnemonic: "lddw".into(),
            expected: 2,
            found: 1
        }
    );
    assert_eq!(
        err("exit %r0"),
        AsmError::OperandCount {
            line: 1,
            column: 1,
            mnemonic: "exit".into(),
            expected: 0,
            found: 1
        }
    );
    assert!(matches!(
        err("lock"),
        AsmError::OperandCount { found: 0, .. }
    ));
    assert!(matches!(
        err("lock or [%r10-8]"),
        AsmError::OperandCount { .. }
    ));
    assert!(matches!(
        err("lock nand [%r10-8], %r1"),
        AsmError::ExpectedOperand {
            expected: OperandKind::AtomicOp,
            ..
        }
    ));
    assert!(matches!(
        err("mov32 %r0, 2147483648"),
        AsmError::ImmediateOutOfRange { column: 12, .. }
    ));
    assert!(matches!(
        err("mov32 %r0, 0x100000000"),
        AsmError::ImmediateOutOfRange { .. }
    ));
    assert!(matches!(
        err("mov32 %r0, -0x80000001"),
        AsmError::ImmediateOutOfRange { .. }
    ));
    assert!(matches!(
        err("ldxb %r0, [%r1+0x10000]"),
        AsmError::OffsetOutOfRange { column: 15, .. }
    ));
    assert!(matches!(
        err("ldxb %r0, [%r1+32768]"),
        AsmError::OffsetOutOfRange { .. }
    ));
    assert!(matches!(
        err("ldxb %r0, %r1"),
        AsmError::ExpectedOperand {
            expected: OperandKind::Memory,
            column: 11,
            ..
        }
    ));
    assert!(matches!(
        err("ldxb %r0, [%r1 2]"),
        AsmError::MalformedMemory { column: 16, .. }
    ));
    assert_eq!(
        err("ja NOT_A_LABEL\nexit"),
        AsmError::UnknownLabel {
            line: 1,
            column: 4,
            label: "NOT_A_LABEL".into()
        }
    );
    assert_eq!(
        err("a:\nexit\na: exit"),
        AsmError::DuplicateLabel {
            line: 3,
            column: 1,
            label: "a".into(),
            first_line: 1
        }
    );
    assert!(matches!(err("%r1: exit"), AsmError::InvalidLabel { .. }));
    assert!(matches!(
        err("ja +32768"),
        AsmError::JumpOutOfRange { bits: 16, .. }
    ));
    assert!(matches!(
        err("ja32 +2147483648"),
        AsmError::JumpOutOfRange { bits: 32, .. }
    ));
    assert!(matches!(
        err("mov %r0, 12abc"),
        AsmError::MalformedNumber { column: 10, .. }
    ));
    assert!(matches!(
        err("mov %r0, @"),
        AsmError::UnexpectedChar { ch: '@', .. }
    ));
    assert!(matches!(
        err("] mov"),
        AsmError::UnexpectedToken { column: 1, .. }
    ));
    assert!(matches!(
        err("mov %r0, foo"),
        AsmError::ExpectedOperand {
            expected: OperandKind::RegisterOrImmediate,
            ..
        }
    ));
    assert!(matches!(
        err("jeq %r0, 1, %r2"),
        AsmError::ExpectedOperand {
            expected: OperandKind::Target,
            ..
        }
    ));
    assert!(matches!(
        err("lddw %r0, 0x10000000000000000"),
        AsmError::ImmediateOutOfRange { .. }
    ));
    assert!(matches!(
        err("lddw %r0, map_thing 1"),
        AsmError::ExpectedOperand {
            expected: OperandKind::LddwKind,
            ..
        }
    ));
    // A far label: 40000 slots away does not fit in `off`.
    let far = format!("ja end\n{}end: exit", "mov %r0, 0\n".repeat(40_000));
    assert!(matches!(
        err(&far),
        AsmError::JumpOutOfRange {
            line: 1,
            column: 4,
            bits: 16,
            ..
        }
    ));
    let e = err("mov %r0, 0\n  neg %r0, 1");
    assert_eq!((e.line(), e.column()), (2, 3));
}
