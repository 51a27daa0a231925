//! A hand-built object for the one relocation the corpus lacks: a callback address
//! (`lddw` + R_BPF_64_64 against a `.text` function, as `bpf_loop` callers have) together with
//! a helper call by name.

use apiary_elf::{Object, ProgramType};
use apiary_vm::insn::{insns_to_bytes, Insn};
use apiary_vm::{Instruction, LoadOptions, Program};

const SHT_PROGBITS: u32 = 1;
const SHT_SYMTAB: u32 = 2;
const SHT_STRTAB: u32 = 3;
const SHT_REL: u32 = 9;
const SHF_ALLOC_EXEC: u64 = 0x2 | 0x4;

struct Sec {
    name: &'static str,
    kind: u32,
    flags: u64,
    data: Vec<u8>,
    link: u32,
    info: u32,
    entsize: u64,
}

fn sym(name: u32, info: u8, shndx: u16, value: u64, size: u64) -> Vec<u8> {
    let mut s = Vec::new();
    s.extend_from_slice(&name.to_le_bytes());
    s.push(info);
    s.push(0);
    s.extend_from_slice(&shndx.to_le_bytes());
    s.extend_from_slice(&value.to_le_bytes());
    s.extend_from_slice(&size.to_le_bytes());
    s
}

fn rel(offset: u64, sym: u64, kind: u64) -> Vec<u8> {
    [offset.to_le_bytes(), ((sym << 32) | kind).to_le_bytes()].concat()
}

/// Lays out an ELF64 little-endian EM_BPF relocatable object; section 0 is added.
fn build(sections: &[Sec]) -> Vec<u8> {
    let mut shstr = vec![0u8];
    let mut names = Vec::new();
    for s in sections {
        names.push(shstr.len() as u32);
        shstr.extend_from_slice(s.name.as_bytes());
        shstr.push(0);
    }
    let shstr_name = shstr.len() as u32;
    shstr.extend_from_slice(b".shstrtab\0");
    let mut body = Vec::new();
    let mut offsets = Vec::new();
    for data in sections.iter().map(|s| &s.data).chain([&shstr]) {
        while body.len() % 8 != 0 {
            body.push(0);
        }
        offsets.push(64 + body.len() as u64);
        body.extend_from_slice(data);
    }
    while body.len() % 8 != 0 {
        body.push(0);
    }
    let shnum = sections.len() as u16 + 2;
    let mut out = Vec::new();
    out.extend_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    out.extend_from_slice(&1u16.to_le_bytes()); // ET_REL
    out.extend_from_slice(&247u16.to_le_bytes()); // EM_BPF
    out.extend_from_slice(&1u32.to_le_bytes());
    out.extend_from_slice(&0u64.to_le_bytes()); // entry
    out.extend_from_slice(&0u64.to_le_bytes()); // phoff
    out.extend_from_slice(&(64 + body.len() as u64).to_le_bytes()); // shoff
    out.extend_from_slice(&0u32.to_le_bytes());
    for v in [64u16, 0, 0, 64, shnum, shnum - 1] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(&body);
    out.extend_from_slice(&[0u8; 64]);
    let header = |name: u32,
                  kind: u32,
                  flags: u64,
                  offset: u64,
                  size: u64,
                  link: u32,
                  info: u32,
                  entsize: u64| {
        let mut h = Vec::new();
        h.extend_from_slice(&name.to_le_bytes());
        h.extend_from_slice(&kind.to_le_bytes());
        h.extend_from_slice(&flags.to_le_bytes());
        h.extend_from_slice(&0u64.to_le_bytes());
        h.extend_from_slice(&offset.to_le_bytes());
        h.extend_from_slice(&size.to_le_bytes());
        h.extend_from_slice(&link.to_le_bytes());
        h.extend_from_slice(&info.to_le_bytes());
        h.extend_from_slice(&8u64.to_le_bytes());
        h.extend_from_slice(&entsize.to_le_bytes());
        h
    };
    for (i, s) in sections.iter().enumerate() {
        out.extend(header(
            names[i],
            s.kind,
            s.flags,
            offsets[i],
            s.data.len() as u64,
            s.link,
            s.info,
            s.entsize,
        ));
    }
    out.extend(header(
        shstr_name,
        SHT_STRTAB,
        0,
        offsets[sections.len()],
        shstr.len() as u64,
        0,
        0,
        0,
    ));
    out
}

#[test]
fn callback_address_and_helper_by_name() {
    // .text: static int cb(...) { return 0; }
    let text = insns_to_bytes(&[Insn::new(0xb7, 0, 0, 0, 0), Insn::new(0x95, 0, 0, 0, 0)]);
    // xdp: r2 = cb ll; r1 = 4; r3 = 0; r4 = 0; call bpf_loop; r0 = 2; exit
    let prog = insns_to_bytes(&[
        Insn::new(0x18, 2, 0, 0, 0),
        Insn::new(0, 0, 0, 0, 0),
        Insn::new(0xb7, 1, 0, 0, 4),
        Insn::new(0xb7, 3, 0, 0, 0),
        Insn::new(0xb7, 4, 0, 0, 0),
        Insn::new(0x85, 0, 1, 0, -1),
        Insn::new(0xb7, 0, 0, 0, 2),
        Insn::new(0x95, 0, 0, 0, 0),
    ]);
    let strtab = b"\0cb\0prog\0bpf_loop\0GPL\0".to_vec();
    // Section indices: 1 .text, 2 xdp, 3 .relxdp, 4 license, 5 .symtab, 6 .strtab.
    let symtab = [
        sym(0, 0, 0, 0, 0),
        sym(1, 0x02, 1, 0, 16), // cb: LOCAL FUNC in .text
        sym(4, 0x12, 2, 0, 64), // prog: GLOBAL FUNC in xdp
        sym(9, 0x10, 0, 0, 0),  // bpf_loop: GLOBAL NOTYPE, undefined
    ]
    .concat();
    let rels = [rel(0, 1, 1), rel(40, 3, 10)].concat();
    let bytes = build(&[
        Sec {
            name: ".text",
            kind: SHT_PROGBITS,
            flags: SHF_ALLOC_EXEC,
            data: text,
            link: 0,
            info: 0,
            entsize: 0,
        },
        Sec {
            name: "xdp",
            kind: SHT_PROGBITS,
            flags: SHF_ALLOC_EXEC,
            data: prog,
            link: 0,
            info: 0,
            entsize: 0,
        },
        Sec {
            name: ".relxdp",
            kind: SHT_REL,
            flags: 0,
            data: rels,
            link: 5,
            info: 2,
            entsize: 16,
        },
        Sec {
            name: "license",
            kind: SHT_PROGBITS,
            flags: 0x3,
            data: b"GPL\0".to_vec(),
            link: 0,
            info: 0,
            entsize: 0,
        },
        Sec {
            name: ".symtab",
            kind: SHT_SYMTAB,
            flags: 0,
            data: symtab,
            link: 6,
            info: 2,
            entsize: 24,
        },
        Sec {
            name: ".strtab",
            kind: SHT_STRTAB,
            flags: 0,
            data: strtab,
            link: 0,
            info: 0,
            entsize: 0,
        },
    ]);
    let obj = Object::parse(&bytes).expect("loads");
    assert_eq!(obj.license.as_deref(), Some("GPL"));
    assert_eq!(obj.programs.len(), 1, "{:?}", obj.programs);
    let p = obj.program("xdp", "prog").expect("program");
    assert_eq!(p.program_type, ProgramType::Xdp);
    assert_eq!(p.insns.len(), 10);
    let program = Program::new(p.insns.clone(), &LoadOptions::default()).expect("valid");
    let ins = program.instructions();
    assert!(
        matches!(
            ins[0],
            Instruction::LoadImm64 {
                value: apiary_vm::instruction::Lddw::CodeAddr(8),
                ..
            }
        ),
        "{:?}",
        ins[0]
    );
    assert_eq!(ins[5], Instruction::Call { helper: 181 });
    let starts: Vec<usize> = program.functions().iter().map(|f| f.start).collect();
    assert_eq!(starts, [0, 8]);
}
