//! Disassemble → assemble gives back the same slots: per instruction (a sweep over every opcode
//! byte and a property test over structured random slots), over whole conformance programs, and
//! over arbitrary raw slots through `.raw` lines.

use std::collections::BTreeSet;
use std::fs;

use proptest::prelude::*;

use crate::asm::assemble;
use crate::decode::{decode_at, LoadOptions};
use crate::disasm::{disassemble, disassemble_insns, format_instruction};
use crate::insn::Insn;
use crate::program::Program;

/// Where the instruction under test sits in its slice: jumps of up to ±`PAD` slots stay inside.
const PAD: usize = 40;

/// Places `insn` (and an lddw tail `next`) at slot `PAD` of a slice of `exit`s, decodes it and,
/// when it decodes, checks that its text reassembles to the same slots. Returns whether it did.
fn roundtrip_one(insn: Insn, next: i32) -> Result<bool, String> {
    let exit = Insn::new(0x95, 0, 0, 0, 0);
    let mut insns = vec![exit; 2 * PAD + 2];
    insns[PAD] = insn;
    insns[PAD + 1] = Insn::new(0, 0, 0, 0, next);
    let Ok(instruction) = decode_at(&insns, PAD, &LoadOptions::all()) else {
        return Ok(false);
    };
    let text = format_instruction(&instruction, insn, PAD);
    let expected = &insns[PAD..PAD + instruction.slots()];
    match assemble(&text) {
        Ok(got) if got == expected => Ok(true),
        Ok(got) => Err(format!("{text:?}: {expected:?} reassembled to {got:?}")),
        Err(e) => Err(format!(
            "{text:?} (from {expected:?}) does not assemble: {e}"
        )),
    }
}

const OFFS: [i16; 10] = [0, 1, -1, 8, 16, 32, 5, -(PAD as i16), i16::MIN, i16::MAX];
const IMMS: [i32; 18] = [
    0,
    1,
    -1,
    16,
    32,
    64,
    0x40,
    0x41,
    0x50,
    0x51,
    0xa0,
    0xa1,
    0xe1,
    0xf1,
    i32::MIN,
    i32::MAX,
    20,
    -20,
];

/// Every opcode byte against a grid of field values: every accepted slot round-trips, and the
/// accepted opcodes are exactly the 125 RFC 9669 opcode bytes plus callx (0x8d).
#[test]
fn every_opcode_roundtrips() {
    let mut accepted = BTreeSet::new();
    for op in 0..=255u8 {
        for dst in [0, 1, 10, 11] {
            for src in [0, 1, 2, 3, 4, 5, 6, 10, 11] {
                for off in OFFS {
                    for imm in IMMS {
                        match roundtrip_one(Insn::new(op, dst, src, off, imm), imm.wrapping_mul(3))
                        {
                            Ok(true) => {
                                accepted.insert(op);
                            }
                            Ok(false) => {}
                            Err(e) => panic!("{e}"),
                        }
                    }
                }
            }
        }
    }
    assert_eq!(accepted.len(), 126, "accepted opcodes: {accepted:x?}");
}

/// Valid opcode-ish bytes: built from class, mode/code, size and source bits.
fn opcode() -> impl Strategy<Value = u8> {
    prop_oneof![
        any::<u8>(),
        (0u8..16, 0u8..8).prop_map(|(code, class)| (code << 4) | class | 0x08),
        (0u8..16, 0u8..8).prop_map(|(code, class)| (code << 4) | class)
    ]
}

fn field_off() -> impl Strategy<Value = i16> {
    prop_oneof![
        Just(0i16),
        -(PAD as i16)..PAD as i16,
        prop::sample::select(&OFFS[..]),
        any::<i16>()
    ]
}

fn field_imm() -> impl Strategy<Value = i32> {
    prop_oneof![
        Just(0i32),
        -(PAD as i32)..PAD as i32,
        prop::sample::select(&IMMS[..]),
        any::<i32>()
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(5000))]

    /// Structured random slots: whatever decodes, reassembles.
    #[test]
    fn random_instructions_roundtrip(
        op in opcode(),
        dst in prop_oneof![0u8..=10, 0u8..16],
        src in prop_oneof![Just(0u8), 0u8..=10, 0u8..16],
        off in field_off(),
        imm in field_imm(),
        next in field_imm(),
    ) {
        if let Err(e) = roundtrip_one(Insn::new(op, dst, src, off, imm), next) {
            return Err(TestCaseError::fail(e));
        }
    }

    /// Arbitrary slots, valid or not, survive `disassemble_insns` → `assemble` exactly.
    #[test]
    fn raw_slots_roundtrip(words in prop::collection::vec(any::<u64>(), 0..16), valid in prop::collection::vec((opcode(), 0u8..=10, field_imm()), 0..16)) {
        let mut insns: Vec<Insn> = words.into_iter().map(Insn::from_u64).collect();
        insns.extend(valid.into_iter().map(|(op, dst, imm)| Insn::new(op, dst, 0, 0, imm)));
        let text = disassemble_insns(&insns);
        prop_assert_eq!(assemble(&text), Ok(insns), "{}", text);
    }
}

/// Whole conformance programs: assemble, load, disassemble, reassemble.
#[test]
fn conformance_programs_roundtrip() {
    let Some(dir) = apiary_testkit::shared::corpus("bpf_conformance/tests") else {
        return;
    };
    let entries = fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut loaded = 0;
    for path in entries.filter_map(Result::ok).map(|e| e.path()) {
        let Ok(text) = fs::read_to_string(&path) else {
            continue;
        };
        // Everything between `-- asm` and the next directive; the assembler skips comments.
        let asm: String = text
            .lines()
            .skip_while(|l| !l.contains("-- asm"))
            .skip(1)
            .take_while(|l| !l.split('#').next().unwrap_or("").contains("--"))
            .map(|l| format!("{l}\n"))
            .collect();
        let insns = assemble(&asm).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let Ok(program) = Program::new(insns, &LoadOptions::all()) else {
            continue;
        };
        loaded += 1;
        let listing = disassemble(&program);
        let again = assemble(&listing).unwrap_or_else(|e| {
            panic!(
                "{}: listing does not assemble: {e}\n{listing}",
                path.display()
            )
        });
        assert_eq!(again, program.insns(), "{}:\n{listing}", path.display());
    }
    assert!(loaded > 250, "only {loaded} conformance programs loaded");
}
