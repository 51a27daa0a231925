//! CO-RE relocations on a hand-built object (`.BTF` + `.BTF.ext`, as clang writes them) against
//! hand-built target BTFs: every value lands in its instruction, an unresolvable existence
//! check reads 0, an unresolvable access is poisoned (`call 0xbad2310`), and the object's own
//! BTF as target leaves the compile-time layout unchanged.

use std::sync::Arc;

use apiary_elf::co_re::POISON;
use apiary_elf::{Object, ParseOptions, TargetBtf};
use apiary_testkit::elf::{
    btf, btf_ext_core, btf_info as info, build, sym, Section, SHF_ALLOC_EXEC, SHT_PROGBITS,
    SHT_STRTAB, SHT_SYMTAB,
};
use apiary_vm::insn::{insns_to_bytes, Insn};

const INT: u32 = 1;
const STRUCT: u32 = 4;
const ENUM: u32 = 6;

// 1 int, 5 s, 7 a, 9 b, 11 d, 13 s___old, 21 e, 23 E1, 26 E2, 29 kprobe/x, 38 0:0, 42 1,
// 44 0:2, 48 0, 50 0:1.
const STRS: &[u8] =
    b"\0int\0s\0a\0b\0d\0s___old\0e\0E1\0E2\0kprobe/x\x000:0\x001\x000:2\x000\x000:1\0";

/// Local BTF: [1] int; [2] struct s___old { int a; int b; int d; }; [3] enum e { E1=1, E2=2 }.
fn local_btf() -> Vec<u8> {
    btf(
        &[
            1,
            info(INT, 0, false),
            4,
            1 << 24 | 32,
            13,
            info(STRUCT, 3, false),
            12,
            7,
            1,
            0,
            9,
            1,
            32,
            11,
            1,
            64,
            21,
            info(ENUM, 2, false),
            4,
            23,
            1,
            26,
            2,
        ],
        STRS,
    )
}

/// The CO-RE records: (instruction byte offset, type id, access string offset, kind).
const RELOS: [[u32; 4]; 6] = [
    [0, 2, 38, 0],   // ldxw r0, [r1 + s.a]       FIELD_BYTE_OFFSET
    [8, 2, 50, 0],   // ldxw r2, [r1 + s.b]       FIELD_BYTE_OFFSET
    [16, 3, 42, 11], // r3 = E2                   ENUMVAL_VALUE
    [24, 2, 44, 2],  // r4 = exists(s.d)          FIELD_EXISTS
    [32, 2, 48, 9],  // r5 = sizeof(struct s)     TYPE_SIZE
    [40, 2, 44, 0],  // r6 = offsetof(s.d)        FIELD_BYTE_OFFSET, unguarded
];

fn object() -> Vec<u8> {
    let prog = insns_to_bytes(&[
        Insn::new(0x61, 0, 1, 0, 0),
        Insn::new(0x61, 2, 1, 4, 0),
        Insn::new(0xb7, 3, 0, 0, 2),
        Insn::new(0xb7, 4, 0, 0, 1),
        Insn::new(0xb7, 5, 0, 0, 12),
        Insn::new(0xb7, 6, 0, 0, 8),
        Insn::new(0x95, 0, 0, 0, 0),
    ]);
    let ext = btf_ext_core(29, &RELOS);
    let symtab = [sym(0, 0, 0, 0, 0), sym(1, 0x12, 1, 0, 56)].concat();
    build(&[
        Section::new("kprobe/x", SHT_PROGBITS, SHF_ALLOC_EXEC, prog),
        Section::new("license", SHT_PROGBITS, 0x3, b"GPL\0".to_vec()),
        Section {
            link: 5,
            info: 1,
            entsize: 24,
            ..Section::new(".symtab", SHT_SYMTAB, 0, symtab)
        },
        Section::new(".BTF", SHT_PROGBITS, 0, local_btf()),
        Section::new(".strtab", SHT_STRTAB, 0, b"\0prog\0".to_vec()),
        Section::new(".BTF.ext", SHT_PROGBITS, 0, ext),
    ])
}

fn relocated(target: Option<Vec<u8>>) -> Vec<Insn> {
    let options = ParseOptions {
        target_btf: target.map(|t| Arc::new(TargetBtf::parse(t.into()).expect("target BTF"))),
        ..ParseOptions::default()
    };
    let obj = Object::parse_options(&object(), &options).expect("loads");
    let p = obj.program("kprobe/x", "prog").expect("program");
    assert!(p.link_error.is_none(), "{:?}", p.link_error);
    p.insns.clone()
}

#[test]
fn values_follow_the_target_layout() {
    // Target: struct s { long pad; int b; int a; } (no d), 16 bytes; enum e { E2 = 9 }.
    let target = btf(
        &[
            1,
            info(INT, 0, false),
            4,
            1 << 24 | 32,
            5,
            info(STRUCT, 2, false),
            16,
            9,
            1,
            64,
            7,
            1,
            96,
            21,
            info(ENUM, 1, false),
            4,
            26,
            9,
        ],
        STRS,
    );
    let insns = relocated(Some(target));
    assert_eq!(insns[0].off, 12, "s.a moved to byte 12");
    assert_eq!(insns[1].off, 8, "s.b moved to byte 8");
    assert_eq!(insns[2].imm, 9, "E2's value in the target");
    assert_eq!(insns[3].imm, 0, "s.d does not exist in the target");
    assert_eq!(insns[4].imm, 16, "the target's size");
    assert_eq!(
        (insns[5].op, insns[5].imm),
        (0x85, POISON),
        "an unresolvable access is poisoned"
    );
    assert_eq!(insns[6].op, 0x95);
}

#[test]
fn own_btf_as_target_is_the_identity() {
    let plain = relocated(None);
    // The object itself is an ELF file with `.BTF`: a valid `--btf` target.
    let own = relocated(Some(object()));
    assert_eq!(plain, own);
    assert_eq!(plain[0].off, 0);
    assert_eq!(plain[5].imm, 8);
}

#[test]
fn hostile_ext_sections_are_errors_not_panics() {
    let good = object();
    // Truncate or corrupt every byte of `.BTF.ext` in turn: parsing must return, never panic.
    let ext_at = good
        .windows(4)
        .rposition(|w| w == [0x9f, 0xeb, 1, 0])
        .expect(".BTF.ext header");
    let target = Arc::new(TargetBtf::parse(object().into()).expect("own BTF"));
    for i in ext_at..good.len().min(ext_at + 160) {
        for v in [0u8, 0xff, 0x7f] {
            let mut bytes = good.clone();
            bytes[i] = v;
            let options = ParseOptions {
                target_btf: Some(target.clone()),
                ..ParseOptions::default()
            };
            let _ = Object::parse_options(&bytes, &options);
        }
    }
    for garbage in [&b""[..], b"\x9f\xeb\x01\x00", b"\x7fELF", &[0xffu8; 64]] {
        assert!(TargetBtf::parse(garbage.to_vec().into()).is_err());
    }
}
