//! The def/use of `Instruction` (`reads`, `writes`, `may_write`) against the interpreter: each
//! instruction form runs between a prologue that sets r0–r9 to random values and an epilogue
//! that dumps r0–r9 and a stack word into the input buffer. Then
//! - every register outside `may_write` keeps its value;
//! - changing a register outside `reads` changes nothing else (not the outcome, not another
//!   register, not memory), and a register in `writes` ends with the same value whatever it
//!   held before.
//!
//! A def/use that misses a read, a write, or claims a write the instruction does not always
//! make fails here.

use std::sync::Arc;

use apiary_testkit::{Coverage, Rng};
use apiary_vm::opcode::*;
use apiary_vm::{
    Environment, ExecConfig, ExecState, Executable, HelperTable, Insn, Instruction, Interpreter,
    LoadOptions, Program, Reg,
};

/// The stack word memory operations use: `[r10 + MEM]`.
const MEM: i16 = -128;
/// What the program returns when it reaches the dump (a packet load out of bounds ends the
/// run early with 0).
const DONE: u64 = 0x600d;
/// Input bytes: r0–r9, the stack word, and room for packet loads.
const INPUT: usize = 96;

fn lddw(dst: u8, v: u64) -> [Insn; 2] {
    [
        Insn::new(LDDW, dst, 0, 0, v as u32 as i32),
        Insn::new(0, 0, 0, 0, (v >> 32) as u32 as i32),
    ]
}

fn stx(base: u8, src: u8, off: i16) -> Insn {
    Insn::new(CLASS_STX | MODE_MEM | SIZE_DW, base, src, off, 0)
}

fn ldx(dst: u8, base: u8, off: i16) -> Insn {
    Insn::new(CLASS_LDX | MODE_MEM | SIZE_DW, dst, base, off, 0)
}

/// The program: set the stack word and r0–r9 to `init`, run `under` (slots from `at`), dump.
/// `under` may end with a local function after the dump (`callee`).
fn program(init: &[u64; 11], under: &[Insn], callee: &[Insn]) -> (Vec<Insn>, usize) {
    let mut p = vec![stx(10, 1, -8)];
    p.extend(lddw(0, init[10]));
    p.push(stx(10, 0, MEM));
    for r in 0..10 {
        p.extend(lddw(r, init[r as usize]));
    }
    let at = p.len();
    p.extend_from_slice(under);
    for r in 0..10u8 {
        p.push(stx(10, r, -16 - 8 * i16::from(r)));
    }
    p.push(ldx(0, 10, -8));
    for r in 0..10u8 {
        p.push(ldx(1, 10, -16 - 8 * i16::from(r)));
        p.push(stx(0, 1, 8 * i16::from(r)));
    }
    p.push(ldx(1, 10, MEM));
    p.push(stx(0, 1, 80));
    p.push(Insn::new(CLASS_ALU64 | alu::MOV, 0, 0, 0, DONE as i32));
    p.push(Insn::new(EXIT, 0, 0, 0, 0));
    p.extend_from_slice(callee);
    (p, at)
}

/// A run's observable result: the outcome and the dumped registers and stack word.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    result: String,
    regs: [u64; 11],
}

fn run(insns: Vec<Insn>, packet: &[u8; INPUT]) -> Seen {
    let program = Arc::new(Program::new(insns, &LoadOptions::all()).expect("valid program"));
    let mut helpers = HelperTable::new();
    helpers.register(1, "mix", |_, a| {
        Ok(a[0]
            .wrapping_mul(3)
            .wrapping_add(a[1].rotate_left(7))
            .wrapping_add(a[2] ^ 0x55)
            .wrapping_add(a[3].wrapping_mul(11))
            .wrapping_add(a[4] >> 3))
    });
    let env = Environment::new(helpers, ExecConfig { budget: None });
    let interp = Interpreter::new(program, &env).expect("prepared");
    let mut input = *packet;
    let out = interp.run(&mut ExecState::new(), &mut input);
    let mut regs = [0u64; 11];
    for (i, r) in regs.iter_mut().enumerate() {
        let b: [u8; 8] = input[8 * i..8 * i + 8].try_into().expect("8 bytes");
        *r = u64::from_le_bytes(b);
    }
    Seen {
        result: format!("{:?}", out.result),
        regs,
    }
}

fn one(v: &mut Vec<(Vec<Insn>, Vec<Insn>)>, i: Insn) {
    v.push((vec![i], Vec::new()));
}

/// The forms under test: `(slots at the test point, callee slots)`. Registers are drawn from
/// r0–r9; memory operations use `[r10 + MEM]`; jumps go to the next slot.
fn forms(rng: &mut Rng) -> Vec<(Vec<Insn>, Vec<Insn>)> {
    let mut v: Vec<(Vec<Insn>, Vec<Insn>)> = Vec::new();
    let reg = |rng: &mut Rng| rng.below(10) as u8;
    let imm = |rng: &mut Rng| {
        let any = rng.next_u64() as i32;
        rng.pick(&[0, 1, -1, 3, 31, 63, 0x7fff_ffff, any])
    };
    for class in [CLASS_ALU64, CLASS_ALU] {
        for op in [
            alu::ADD,
            alu::SUB,
            alu::MUL,
            alu::DIV,
            alu::OR,
            alu::AND,
            alu::LSH,
            alu::RSH,
            alu::MOD,
            alu::XOR,
            alu::MOV,
            alu::ARSH,
        ] {
            let offs: &[i16] = match op {
                alu::DIV | alu::MOD => &[0, 1],
                alu::MOV => &[0, 8, 16, 32],
                _ => &[0],
            };
            for &off in offs {
                let k_off = if op == alu::MOV { 0 } else { off };
                one(&mut v, Insn::new(class | op, reg(rng), 0, k_off, imm(rng)));
                if !(op == alu::MOV && off == 32 && class == CLASS_ALU) {
                    one(
                        &mut v,
                        Insn::new(class | op | SOURCE_X, reg(rng), reg(rng), off, 0),
                    );
                }
            }
        }
        one(&mut v, Insn::new(class | alu::NEG, reg(rng), 0, 0, 0));
    }
    for bits in [16, 32, 64] {
        one(
            &mut v,
            Insn::new(CLASS_ALU | alu::END, reg(rng), 0, 0, bits),
        );
        one(
            &mut v,
            Insn::new(CLASS_ALU | alu::END | SOURCE_X, reg(rng), 0, 0, bits),
        );
        one(
            &mut v,
            Insn::new(CLASS_ALU64 | alu::END, reg(rng), 0, 0, bits),
        );
    }
    for size in [SIZE_B, SIZE_H, SIZE_W, SIZE_DW] {
        one(
            &mut v,
            Insn::new(CLASS_LDX | MODE_MEM | size, reg(rng), 10, MEM, 0),
        );
        if size != SIZE_DW {
            one(
                &mut v,
                Insn::new(CLASS_LDX | MODE_MEMSX | size, reg(rng), 10, MEM, 0),
            );
        }
        one(
            &mut v,
            Insn::new(CLASS_STX | MODE_MEM | size, 10, reg(rng), MEM, 0),
        );
        one(
            &mut v,
            Insn::new(CLASS_ST | MODE_MEM | size, 10, 0, MEM, imm(rng)),
        );
    }
    for size in [SIZE_W, SIZE_DW] {
        for op in [
            atomic::ADD,
            atomic::OR,
            atomic::AND,
            atomic::XOR,
            atomic::ADD | atomic::FETCH,
            atomic::OR | atomic::FETCH,
            atomic::AND | atomic::FETCH,
            atomic::XOR | atomic::FETCH,
            atomic::XCHG,
            atomic::CMPXCHG,
        ] {
            one(
                &mut v,
                Insn::new(CLASS_STX | MODE_ATOMIC | size, 10, reg(rng), MEM, op),
            );
        }
    }
    let [a, b] = lddw(reg(rng), rng.next_u64());
    v.push((vec![a, b], Vec::new()));
    for size in [SIZE_B, SIZE_H, SIZE_W] {
        v.push((
            vec![Insn::new(
                CLASS_LD | MODE_ABS | size,
                0,
                0,
                0,
                rng.below(80) as i32,
            )],
            Vec::new(),
        ));
        v.push((
            vec![Insn::new(
                CLASS_LD | MODE_IND | size,
                0,
                reg(rng),
                0,
                rng.below(80) as i32,
            )],
            Vec::new(),
        ));
    }
    for class in [CLASS_JMP, CLASS_JMP32] {
        for op in [
            jmp::JEQ,
            jmp::JGT,
            jmp::JGE,
            jmp::JSET,
            jmp::JNE,
            jmp::JSGT,
            jmp::JSGE,
            jmp::JLT,
            jmp::JLE,
            jmp::JSLT,
            jmp::JSLE,
        ] {
            v.push((
                vec![Insn::new(class | op, reg(rng), 0, 0, imm(rng))],
                Vec::new(),
            ));
            v.push((
                vec![Insn::new(class | op | SOURCE_X, reg(rng), reg(rng), 0, 0)],
                Vec::new(),
            ));
        }
    }
    v.push((vec![Insn::new(JA, 0, 0, 0, 0)], Vec::new()));
    v.push((vec![Insn::new(CALL, 0, 0, 0, 1)], Vec::new()));
    v.push((vec![Insn::new(CALLX, reg(rng), 0, 0, 0)], Vec::new()));
    // A local call to a function that reads r0–r9 and writes r0–r5 (r6–r9 come back).
    let mut callee = Vec::new();
    for r in 1..10 {
        callee.push(Insn::new(CLASS_ALU64 | alu::XOR | SOURCE_X, 0, r, 0, 0));
    }
    for r in 1..6 {
        callee.push(Insn::new(CLASS_ALU64 | alu::ADD | SOURCE_X, r, 0, 0, 0));
    }
    for r in 6..10 {
        callee.push(Insn::new(CLASS_ALU64 | alu::MOV, r, 0, 0, 7));
    }
    callee.push(Insn::new(EXIT, 0, 0, 0, 0));
    v.push((vec![Insn::new(CALL, 0, 1, 0, 0)], callee));
    v
}

#[test]
fn def_use_agrees_with_the_interpreter() {
    let mut cov = Coverage::new("vm::defuse");
    let mut rng = Rng::new(0xdef0_05e5);
    let done = format!("{:?}", Ok::<u64, ()>(DONE));
    for _round in 0..40 {
        for (under, callee) in forms(&mut rng) {
            // The local call's target is the first callee slot: fix its offset.
            let mut under = under;
            let probe = program(&[0; 11], &under, &callee);
            if !callee.is_empty() {
                let target = probe.0.len() - callee.len();
                under[0] = Insn::new(CALL, 0, 1, 0, (target - probe.1 - 1) as i32);
            }
            let (insns, at) = program(&[0; 11], &under, &callee);
            let p = Program::new(insns, &LoadOptions::all()).expect("valid program");
            let ins: Instruction = p.instructions()[at];
            let (reads, writes, may) = (ins.reads(), ins.writes(), ins.may_write());
            assert!(
                writes.minus(may).is_empty(),
                "{ins:?}: writes {writes:?} not within may_write {may:?}"
            );
            let mut init = [0u64; 11];
            for x in &mut init {
                *x = rng.next_u64();
            }
            // Sometimes r0 equals the stack word (a cmpxchg that exchanges).
            if rng.chance(50) {
                init[0] = init[10];
            }
            // Small values where the form needs them: a helper id for callx, a packet offset.
            if let Instruction::CallX { reg } = ins {
                init[reg.index()] = 1;
            }
            if let Instruction::LoadPacket {
                addr: apiary_vm::instruction::PacketAddr::Ind(r),
                ..
            } = ins
            {
                init[r.index()] = rng.below(8);
            }
            let mut packet = [0u8; INPUT];
            for b in &mut packet {
                *b = rng.next_u64() as u8;
            }
            let (insns, _) = program(&init, &under, &callee);
            let base = run(insns, &packet);
            for r in 0..10u8 {
                let reg = Reg::new(r).expect("register");
                if !may.contains(reg) && base.result == done {
                    assert_eq!(
                        base.regs[r as usize], init[r as usize],
                        "{ins:?}: r{r} changed but is not in may_write {may:?}"
                    );
                }
            }
            for r in 0..10u8 {
                let reg = Reg::new(r).expect("register");
                if reads.contains(reg) {
                    continue;
                }
                let mut other = init;
                other[r as usize] = rng.next_u64();
                let (insns, _) = program(&other, &under, &callee);
                let seen = run(insns, &packet);
                assert_eq!(
                    seen.result, base.result,
                    "{ins:?}: the outcome depends on r{r}, not in reads {reads:?}"
                );
                for (q, &got) in seen.regs.iter().enumerate() {
                    let expect = if q == r as usize && !writes.contains(reg) {
                        if base.result != done || may.contains(reg) {
                            continue;
                        }
                        other[q]
                    } else {
                        base.regs[q]
                    };
                    assert_eq!(
                        got, expect,
                        "{ins:?}: slot {q} depends on r{r} (reads {reads:?}, writes {writes:?})"
                    );
                }
                cov.compared();
            }
        }
    }
    println!("{}", cov.finish());
}
