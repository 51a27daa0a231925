//! A structured program generator (`arbitrary`): instructions drawn from the valid opcodes with
//! registers in range and short jumps, so most inputs load → interpreter vs JIT.
#![no_main]

use apiary_vm::{Insn, LoadOptions, Program};
use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;

/// Every opcode byte RFC 9669 (plus callx) defines.
const OPCODES: &[u8] = &[
    // ALU64 / ALU32, K and X
    0x07, 0x0f, 0x17, 0x1f, 0x27, 0x2f, 0x37, 0x3f, 0x47, 0x4f, 0x57, 0x5f, 0x67, 0x6f, 0x77, 0x7f,
    0x87, 0x97, 0x9f, 0xa7, 0xaf, 0xb7, 0xbf, 0xc7, 0xcf, 0xd7, 0x04, 0x0c, 0x14, 0x1c, 0x24, 0x2c,
    0x34, 0x3c, 0x44, 0x4c, 0x54, 0x5c, 0x64, 0x6c, 0x74, 0x7c, 0x84, 0x94, 0x9c, 0xa4, 0xac, 0xb4,
    0xbc, 0xc4, 0xcc, 0xd4, 0xdc, // loads, stores, sign-extending loads, atomics
    0x61, 0x69, 0x71, 0x79, 0x81, 0x89, 0x91, 0x62, 0x6a, 0x72, 0x7a, 0x63, 0x6b, 0x73, 0x7b, 0xc3,
    0xdb, 0x18, // jumps (64 and 32), ja, ja32, call, exit, callx
    0x05, 0x06, 0x15, 0x1d, 0x25, 0x2d, 0x35, 0x3d, 0x45, 0x4d, 0x55, 0x5d, 0x65, 0x6d, 0x75, 0x7d,
    0xa5, 0xad, 0xb5, 0xbd, 0xc5, 0xcd, 0xd5, 0xdd, 0x16, 0x1e, 0x26, 0x2e, 0x36, 0x3e, 0x46, 0x4e,
    0x56, 0x5e, 0x66, 0x6e, 0x76, 0x7e, 0xa6, 0xae, 0xb6, 0xbe, 0xc6, 0xce, 0xd6, 0xde, 0x85, 0x95,
    0x8d,
];

#[derive(Arbitrary, Debug)]
struct Ins {
    op: u8,
    dst: u8,
    src: u8,
    /// Small offsets: jump distances and stack/input displacements.
    off: i8,
    imm: i32,
    /// Pick a field-valid shape for ops with special fields.
    variant: u8,
}

#[derive(Arbitrary, Debug)]
struct Input {
    insns: Vec<Ins>,
    mem: Vec<u8>,
}

fn encode(i: &Ins) -> Vec<Insn> {
    let op = OPCODES[usize::from(i.op) % OPCODES.len()];
    let dst = i.dst % 11;
    let src = i.src % 11;
    let off = i16::from(i.off);
    match op {
        0x18 => vec![
            Insn::new(op, dst, 0, 0, i.imm),
            Insn::new(0, 0, 0, 0, i.imm.rotate_left(7)),
        ],
        0xc3 | 0xdb => {
            let imms = [0x00, 0x40, 0x50, 0xa0, 0x01, 0x41, 0x51, 0xa1, 0xe1, 0xf1];
            let imm = imms[usize::from(i.variant) % imms.len()];
            vec![Insn::new(op, dst, src, off, imm)]
        }
        0xd4 | 0xdc | 0xd7 => {
            vec![Insn::new(
                op,
                dst,
                0,
                0,
                [16, 32, 64][usize::from(i.variant) % 3],
            )]
        }
        0x85 => vec![Insn::new(op, 0, 0, 0, i32::from(i.variant % 8))],
        0x95 => vec![Insn::new(op, 0, 0, 0, 0)],
        0x8d => vec![Insn::new(op, dst, 0, 0, 0)],
        0x05 => vec![Insn::new(op, 0, 0, off, 0)],
        0x06 => vec![Insn::new(op, 0, 0, 0, i32::from(i.off))],
        // sdiv/smod (off 1) and movsx (off 8/16/32) variants
        0x3f | 0x37 | 0x9f | 0x97 | 0x3c | 0x34 | 0x9c | 0x94 => {
            let o = i16::from(i.variant % 2);
            let (s, imm) = if op & 0x08 != 0 { (src, 0) } else { (0, i.imm) };
            vec![Insn::new(op, dst, s, o, imm)]
        }
        0xbf | 0xbc => {
            let offs: &[i16] = if op == 0xbf {
                &[0, 8, 16, 32]
            } else {
                &[0, 8, 16]
            };
            vec![Insn::new(
                op,
                dst,
                src,
                offs[usize::from(i.variant) % offs.len()],
                0,
            )]
        }
        _ if op & 0x07 == 0x04 || op & 0x07 == 0x07 => {
            // other ALU: K form has no src, X form no imm
            if op & 0x08 != 0 {
                vec![Insn::new(op, dst, src, 0, 0)]
            } else {
                vec![Insn::new(op, dst, 0, 0, i.imm)]
            }
        }
        _ if op & 0x07 == 0x05 || op & 0x07 == 0x06 => {
            if op & 0x08 != 0 {
                vec![Insn::new(op, dst, src, off, 0)]
            } else {
                vec![Insn::new(op, dst, 0, off, i.imm)]
            }
        }
        0x62 | 0x6a | 0x72 | 0x7a => vec![Insn::new(op, dst, 0, off, i.imm)],
        _ => vec![Insn::new(op, dst, src, off, 0)],
    }
}

fuzz_target!(|input: Input| {
    let mut insns: Vec<Insn> = input.insns.iter().take(256).flat_map(encode).collect();
    insns.push(Insn::new(0x95, 0, 0, 0, 0));
    let Ok(program) = Program::new(insns, &LoadOptions::all()) else {
        return;
    };
    let mem: Vec<u8> = input.mem.into_iter().take(256).collect();
    apiary_fuzz::compare_engines(program, &mem);
});
