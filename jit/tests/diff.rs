//! Hand-written differential tests: every instruction form and corner case, every fault kind,
//! on the interpreter and the JIT (plain and with constant blinding, metering on and off).

mod common;

use std::sync::Arc;

use apiary_jit::{Jit, JitOptions};
use apiary_testkit_engines::NoWorld;
use apiary_vm::fault::{Access, Fault, Unsupported};
use apiary_vm::memory::Region;
use apiary_vm::{Environment, ExecConfig, Executable, Insn};
use common::b::*;
use common::*;

const VALUES: [u64; 14] = [
    0,
    1,
    2,
    7,
    u64::MAX,
    (-7i64) as u64,
    i64::MIN as u64,
    i64::MAX as u64,
    0x8000_0000,
    0xffff_ffff,
    0xffff_ffff_8000_0000,
    63,
    64,
    0x1234_5678_9abc_def0,
];

const IMMS: [i32; 10] = [0, 1, -1, 2, 7, -7, 31, 63, i32::MIN, i32::MAX];

fn prog(parts: &[&[Insn]]) -> Vec<Insn> {
    parts.iter().flat_map(|p| p.iter().copied()).collect()
}

/// dst and src register pairs, including r0 and r3 (rax/rdx on x86, special for division).
const PAIRS: [(u8, u8); 8] = [
    (3, 4),
    (0, 4),
    (3, 0),
    (0, 3),
    (3, 3),
    (0, 0),
    (6, 2),
    (1, 9),
];

#[test]
fn alu_register_forms() {
    let mut runs = 0;
    for &op in &ALU_OPS {
        for w64 in [true, false] {
            for &(d, s) in &PAIRS {
                for &a in &VALUES {
                    for &bv in &[0u64, 1, u64::MAX, 7, 0x8000_0000, 64, 33, i64::MIN as u64] {
                        let ins = if w64 {
                            alu64_reg(op, d, s)
                        } else {
                            alu32_reg(op, d, s)
                        };
                        // Fill every register, run the op, fold every register into r0.
                        let mut v = Vec::new();
                        for r in 0..10u8 {
                            v.extend(lddw(
                                r,
                                0x1111_1111_1111_1111u64.wrapping_mul(u64::from(r) + 1),
                            ));
                        }
                        v.extend(lddw(d, a));
                        if s != d {
                            v.extend(lddw(s, bv));
                        }
                        v.push(ins);
                        for r in 1..10u8 {
                            v.push(alu64_imm(LSH, 0, 3));
                            v.push(alu64_reg(XOR, 0, r));
                        }
                        v.push(exit());
                        diff(&v, &[], &env(None));
                        runs += 1;
                    }
                }
            }
        }
    }
    assert!(runs > 1000);
}

#[test]
fn alu_immediate_forms_and_signed_division() {
    for &op in &ALU_OPS {
        for w64 in [true, false] {
            for d in [0u8, 3, 5, 6] {
                for &a in &VALUES {
                    for &imm in &IMMS {
                        let ins = if w64 {
                            alu64_imm(op, d, imm)
                        } else {
                            alu32_imm(op, d, imm)
                        };
                        let mut v = Vec::new();
                        v.extend(lddw(0, 0xdead_beef_0000_0001));
                        v.extend(lddw(3, 0xfeed_0000_0000_0003));
                        v.extend(lddw(d, a));
                        v.push(ins);
                        v.push(alu64_imm(LSH, 0, 1));
                        v.push(alu64_reg(XOR, 0, d));
                        v.push(alu64_reg(XOR, 0, 3));
                        v.push(exit());
                        diff(&v, &[], &env(None));
                    }
                }
            }
        }
    }
    for op in [DIV, MOD] {
        for w64 in [true, false] {
            for &(d, s) in &PAIRS {
                for &a in &VALUES {
                    for &bv in &[
                        0u64,
                        1,
                        u64::MAX,
                        (-7i64) as u64,
                        3,
                        0xffff_ffff,
                        i64::MIN as u64,
                    ] {
                        let mut v = Vec::new();
                        v.extend(lddw(0, 0x0102_0304_0506_0708));
                        v.extend(lddw(3, 0x1112_1314_1516_1718));
                        v.extend(lddw(d, a));
                        if s != d {
                            v.extend(lddw(s, bv));
                        }
                        v.push(salu(op, w64, d, Some(s), 0));
                        v.push(alu64_reg(XOR, 0, 3));
                        v.push(alu64_reg(XOR, 0, d));
                        v.push(exit());
                        diff(&v, &[], &env(None));
                    }
                    for &imm in &IMMS {
                        let mut v = Vec::new();
                        v.extend(lddw(3, 0x1112_1314_1516_1718));
                        v.extend(lddw(d, a));
                        v.push(salu(op, w64, d, None, imm));
                        v.push(alu64_reg(XOR, 0, d));
                        v.push(alu64_reg(XOR, 0, 3));
                        v.push(exit());
                        diff(&v, &[], &env(None));
                    }
                }
            }
        }
    }
}

#[test]
fn corner_cases_of_division() {
    // sdiv INT_MIN / -1 = INT_MIN; smod INT_MIN % -1 = 0; by zero: 0 / dst unchanged.
    let r = diff_all(
        &prog(&[
            &lddw(0, i64::MIN as u64),
            &[salu(DIV, true, 0, None, -1), exit()],
        ]),
        &[],
    );
    assert_eq!(r.result, Ok(i64::MIN as u64));
    let r = diff_all(
        &prog(&[
            &lddw(0, i64::MIN as u64),
            &[salu(MOD, true, 0, None, -1), exit()],
        ]),
        &[],
    );
    assert_eq!(r.result, Ok(0));
    let r = diff_all(
        &[mov64(0, i32::MIN), salu(DIV, false, 0, None, -1), exit()],
        &[],
    );
    assert_eq!(r.result, Ok(0x8000_0000));
    let r = diff_all(
        &prog(&[
            &lddw(0, 0xffff_ffff_0000_0007),
            &[alu32_imm(MOD, 0, 0), exit()],
        ]),
        &[],
    );
    assert_eq!(r.result, Ok(7));
    let r = diff_all(
        &[mov64(0, 9), mov64(1, 0), alu64_reg(DIV, 0, 1), exit()],
        &[],
    );
    assert_eq!(r.result, Ok(0));
}

#[test]
fn movsx_neg_endian() {
    for &a in &VALUES {
        for &(d, s) in &PAIRS {
            for w64 in [true, false] {
                for bits in [8i16, 16, 32] {
                    if !w64 && bits == 32 {
                        continue;
                    }
                    let v = prog(&[
                        &lddw(d, 0x4242_4242_4242_4242),
                        &lddw(s, a),
                        &[movsx(w64, d, s, bits), movr(0, d), exit()],
                    ]);
                    diff(&v, &[], &env(None));
                }
                diff(
                    &prog(&[&lddw(d, a), &[neg(w64, d), movr(0, d), exit()]]),
                    &[],
                    &env(None),
                );
            }
            for bits in [16, 32, 64] {
                for f in [le, be, bswap] {
                    diff(
                        &prog(&[&lddw(d, a), &[f(d, bits), movr(0, d), exit()]]),
                        &[],
                        &env(None),
                    );
                }
            }
        }
    }
}

#[test]
fn shifts_by_zero_zero_extend() {
    for op in [LSH, RSH, ARSH] {
        let r = diff_all(
            &prog(&[&lddw(0, u64::MAX), &[alu32_imm(op, 0, 0), exit()]]),
            &[],
        );
        assert_eq!(r.result, Ok(0xffff_ffff));
        let r = diff_all(
            &prog(&[
                &lddw(0, u64::MAX),
                &[mov64(1, 32), alu32_reg(op, 0, 1), exit()],
            ]),
            &[],
        );
        assert_eq!(r.result, Ok(0xffff_ffff));
    }
}

#[test]
fn loads_and_stores_on_stack_and_input() {
    let input: Vec<u8> = (0..32u8).map(|i| i.wrapping_mul(37) ^ 0x80).collect();
    for &size in &SIZES {
        for off in [0i16, 1, 3, 8, 24] {
            // Loads from the input, zero- and sign-extending.
            diff_all(&[ldx(size, 0, 1, off), exit()], &input);
            if size != DW {
                diff_all(&[ldxs(size, 0, 1, off), exit()], &input);
            }
            // Stores to the input (register and immediate), then read back.
            diff_all(
                &[
                    lddw(3, 0x8182_8384_8586_8788)[0],
                    lddw(3, 0x8182_8384_8586_8788)[1],
                    stx(size, 1, off, 3),
                    ldx(DW, 0, 1, 0),
                    exit(),
                ],
                &input,
            );
            for imm in [-1, 0x7f, -0x80, 0x1234_5678] {
                diff_all(
                    &[st(size, 1, off, imm), ldx(DW, 0, 1, off & !7), exit()],
                    &input,
                );
            }
        }
        for off in [-8i16, -16, -512, -4096] {
            for src in [1u8, 2, 6] {
                let v = prog(&[
                    &lddw(src, 0xf1f2_f3f4_f5f6_f7f8),
                    &[stx(size, 10, off, src), ldx(DW, 0, 10, off), exit()],
                ]);
                diff_all(&v, &[]);
            }
            if size != DW {
                diff_all(
                    &[st(size, 10, off, -2), ldxs(size, 0, 10, off), exit()],
                    &[],
                );
            }
        }
    }
}

#[test]
fn atomics_every_operation() {
    for w64 in [true, false] {
        for &op in &ATOMICS {
            for src in [0u8, 1, 2, 3, 6] {
                for &(init, val, r0) in &[
                    (5u64, 3u64, 5u64),
                    (u64::MAX, 0x8000_0001, 7),
                    (0xf0f0_f0f0_f0f0_f0f0, 0x0ff0, 0xf0f0_f0f0_f0f0_f0f0),
                ] {
                    let size = if w64 { DW } else { W };
                    let mut v = Vec::new();
                    v.extend(lddw(4, init));
                    v.push(stx(DW, 10, -16, 4));
                    v.extend(lddw(0, r0));
                    if src != 0 {
                        v.extend(lddw(src, val));
                    }
                    v.push(atomic(w64, 10, -16, src, op));
                    v.push(ldx(size, 5, 10, -16));
                    v.push(alu64_imm(LSH, 0, 1));
                    v.push(alu64_reg(XOR, 0, 5));
                    v.push(alu64_imm(LSH, 0, 1));
                    v.push(alu64_reg(XOR, 0, src));
                    v.push(alu64_imm(LSH, 0, 1));
                    v.push(ldx(DW, 5, 10, -16));
                    v.push(alu64_reg(XOR, 0, 5));
                    v.push(exit());
                    diff_all(&v, &[]);
                    // Same on the input buffer.
                    let mut v2 = v.clone();
                    for insn in &mut v2 {
                        if insn.dst == 10 && insn.op != 0x18 {
                            insn.dst = 1;
                            insn.off = 8;
                        }
                        if insn.src == 10 {
                            insn.src = 1;
                            insn.off = 8;
                        }
                    }
                    let mut ok = true;
                    if src == 1 {
                        ok = false; // r1 is the base pointer in the input variant
                    }
                    if ok {
                        diff_all(&v2, &[0u8; 24]);
                    }
                }
            }
        }
    }
}

#[test]
fn lddw_and_packet_loads() {
    for v in [
        0u64,
        1,
        u64::MAX,
        0x8000_0000,
        0xffff_ffff,
        0x1_0000_0000,
        (-5i64) as u64,
        0x1234_5678_9abc_def0,
    ] {
        let r = diff_all(&prog(&[&lddw(0, v), &[exit()]]), &[]);
        assert_eq!(r.result, Ok(v));
    }
    let input: Vec<u8> = (1..=16).collect();
    for &size in &[W, H, B] {
        for imm in [0, 1, 12, 13, 14, 15, 16, -1, i32::MAX] {
            diff_all(&[mov64(0, 99), ld_abs(size, imm), exit()], &input);
            diff_all(
                &[mov64(0, 99), mov64(6, 3), ld_ind(size, 6, imm), exit()],
                &input,
            );
            diff_all(&[mov64(0, 99), ld_abs(size, imm), exit()], &[]);
        }
        // LD_IND offset arithmetic wraps at 32 bits.
        diff_all(
            &prog(&[&lddw(6, 0x1_0000_0002), &[ld_ind(size, 6, -1), exit()]]),
            &input,
        );
        diff_all(
            &prog(&[&lddw(6, 0xffff_ffff), &[ld_ind(size, 6, 2), exit()]]),
            &input,
        );
    }
}

#[test]
fn conditional_jumps() {
    let vals = [
        0u64,
        1,
        u64::MAX,
        0x8000_0000,
        0x1_0000_0000,
        (-2i64) as u64,
        0x7fff_ffff,
        5,
    ];
    for &cond in &CONDS {
        for w64 in [true, false] {
            for &a in &vals {
                for &bv in &vals {
                    let v = prog(&[
                        &lddw(3, a),
                        &lddw(4, bv),
                        &[
                            jmp_reg(cond, w64, 3, 4, 2),
                            mov64(0, 1),
                            exit(),
                            mov64(0, 2),
                            exit(),
                        ],
                    ]);
                    diff(&v, &[], &env(None));
                }
                for &imm in &[0, 1, -1, -2, i32::MIN, i32::MAX, 5] {
                    let v = prog(&[
                        &lddw(3, a),
                        &[
                            jmp_imm(cond, w64, 3, imm, 2),
                            mov64(0, 1),
                            exit(),
                            mov64(0, 2),
                            exit(),
                        ],
                    ]);
                    diff(&v, &[], &env(None));
                }
            }
        }
    }
}

#[test]
fn ja_gotol_and_loops_with_budget() {
    // A counted loop: r0 = sum 0..10, backward conditional jump.
    let looped = [
        mov64(0, 0),
        mov64(1, 0),
        alu64_reg(ADD, 0, 1),
        alu64_imm(ADD, 1, 1),
        jmp_imm(JLT, true, 1, 10, -3),
        exit(),
    ];
    let r = diff_all(&looped, &[]);
    assert_eq!(r.result, Ok(45));
    for budget in 0..40 {
        diff(&looped, &[], &env(Some(budget)));
    }
    let fwd = [
        mov64(0, 1),
        ja(1),
        mov64(0, 2),
        gotol(1),
        mov64(0, 3),
        exit(),
    ];
    assert_eq!(diff_all(&fwd, &[]).result, Ok(1));
    // Infinite loop through `ja -1` and `gotol -1`: only the budget ends it.
    let spin = [mov64(0, 1), alu64_imm(ADD, 0, 1), ja(-2)];
    for budget in [0, 1, 2, 3, 10, 101] {
        let r = diff(&spin, &[], &env(Some(budget)));
        assert_eq!(r.result, Err(Fault::BudgetExhausted { pc: 2, budget }));
    }
    let spin32 = [mov64(0, 1), gotol(-1)];
    let r = diff(&spin32, &[], &env(Some(7)));
    assert!(matches!(
        r.result,
        Err(Fault::BudgetExhausted { pc: 1, .. })
    ));
}

#[test]
fn local_calls_frames_and_depth() {
    // main: r6 = 6, r1 = 1; call f; r0 += r6 (must still be 6) + r1; exit
    // f: r6 = 100; r0 = r10 (frame pointer one frame down); store at r10-8; exit
    let v = [
        mov64(6, 6),
        mov64(1, 1),
        call_local(4),
        alu64_reg(ADD, 0, 6),
        alu64_reg(ADD, 0, 1),
        alu64_reg(SUB, 0, 10),
        exit(),
        mov64(6, 100),
        movr(0, 10),
        stx(DW, 10, -8, 0),
        mov64(1, 5),
        exit(),
    ];
    let r = diff_all(&v, &[]);
    assert_eq!(r.result, Ok((-512i64 + 6 + 5) as u64));
    // Unbounded recursion: CallDepthExceeded at the call, after 7 nested calls.
    let rec = [
        mov64(0, 0),
        call_local(1),
        exit(),
        alu64_imm(ADD, 0, 1),
        call_local(-2),
        exit(),
    ];
    let r = diff_all(&rec, &[]);
    assert_eq!(r.result, Err(Fault::CallDepthExceeded { pc: 4, max: 8 }));
    // Recursion with a budget: budget fault at the call.
    for budget in [0, 1, 2, 5, 9, 20] {
        diff(&rec, &[], &env(Some(budget)));
    }
    // Calling slot 0 (the entry function) recursively, depth-limited by a counter in r6.
    let self_call = [
        alu64_imm(ADD, 7, 1),
        jmp_imm(JGE, true, 7, 5, 2),
        call_local(-3),
        alu64_imm(ADD, 0, 1),
        movr(0, 7),
        exit(),
    ];
    diff_all(&self_call, &[]);
}

#[test]
fn helpers_preserve_r1_to_r5_and_return_r0() {
    let mut v = Vec::new();
    for r in 1..=9u8 {
        v.extend(lddw(r, 0x0101_0101_0101_0101u64.wrapping_mul(u64::from(r))));
    }
    v.push(call(H_MIX as i32));
    for r in 1..=9u8 {
        v.push(alu64_imm(LSH, 0, 5));
        v.push(alu64_reg(XOR, 0, r));
    }
    v.push(exit());
    diff_all(&v, &[]);
    // callx with a known id in a register, and the same via every register.
    for reg in 0..=9u8 {
        let v = [mov64(reg, H_MIX as i32), mov64(1, 3), callx(reg), exit()];
        diff_all(&v, &[]);
    }
}

#[test]
fn helper_stop_error_panic_and_memory() {
    // stop mid-block: count must match.
    for r1 in [2, 3] {
        let v = [
            mov64(0, 9),
            mov64(1, r1),
            call(H_STOP as i32),
            mov64(0, 1),
            mov64(0, 2),
            exit(),
        ];
        let r = diff_all(&v, &[]);
        assert_eq!(r.result, if r1 == 3 { Ok(3) } else { Ok(2) });
        let v = [mov64(1, r1), call(H_FAIL as i32), mov64(0, 1), exit()];
        diff_all(&v, &[]);
    }
    let r = diff_all(&[mov64(1, 1), call(H_FAIL as i32), exit()], &[]);
    assert!(matches!(
        r.result,
        Err(Fault::Helper {
            pc: 1,
            id: H_FAIL,
            ..
        })
    ));
    let r = diff_all(
        &[mov64(0, 1), call(H_PANIC as i32), mov64(0, 2), exit()],
        &[],
    );
    assert_eq!(r.result, Err(Fault::HelperPanicked { pc: 1, id: H_PANIC }));
    // Helpers reaching memory: input (ok), stack (ok), out of bounds (helper error).
    let input: Vec<u8> = (0..16).collect();
    diff_all(&[mov64(2, 16), call(H_SUM as i32), exit()], &input);
    diff_all(&[mov64(2, 17), call(H_SUM as i32), exit()], &input);
    diff_all(
        &[
            mov64(2, 8),
            mov64(3, 0xab),
            call(H_FILL as i32),
            ldx(DW, 0, 1, 0),
            exit(),
        ],
        &input,
    );
    diff_all(
        &[
            movr(1, 10),
            alu64_imm(ADD, 1, -8),
            mov64(2, 8),
            mov64(3, 0x11),
            call(H_FILL as i32),
            ldx(DW, 0, 10, -8),
            exit(),
        ],
        &[],
    );
    diff_all(
        &[movr(1, 10), mov64(2, 1), call(H_FILL as i32), exit()],
        &[],
    );
}

#[test]
fn every_fault_kind_on_both_engines() {
    let input = [0u8; 8];
    let cases: Vec<(Vec<Insn>, Fault)> = vec![
        (
            vec![ldx(DW, 0, 10, 0), exit()],
            Fault::OutOfBounds {
                pc: 0,
                addr: 0,
                len: 8,
                access: Access::Read,
            },
        ),
        (
            vec![mov64(0, 1), stx(W, 1, 6, 0), exit()],
            Fault::OutOfBounds {
                pc: 1,
                addr: 0,
                len: 4,
                access: Access::Write,
            },
        ),
        (
            vec![mov64(0, 1), atomic(true, 10, -12, 0, A_ADD), exit()],
            Fault::MisalignedAtomic {
                pc: 1,
                addr: 0,
                len: 8,
            },
        ),
        (
            vec![mov64(3, 0x1234), callx(3), exit()],
            Fault::UnknownHelper { pc: 1, id: 0x1234 },
        ),
        (
            vec![mov64(0, 0), kfunc(77), exit()],
            Fault::Unsupported {
                pc: 1,
                what: Unsupported::Kfunc { btf_id: 77 },
            },
        ),
    ];
    for (v, expected) in cases {
        let r = diff_all(&v, &input);
        let got = r.result.expect_err("faults");
        assert_eq!(
            std::mem::discriminant(&got),
            std::mem::discriminant(&expected),
            "{got:?}"
        );
        assert_eq!(got.pc(), expected.pc());
    }
    for src in 1..=6u8 {
        let v = prog(&[&[mov64(0, 1)], &lddw_pseudo(2, src, 3), &[exit()]]);
        if let Ok(p) = apiary_vm::Program::new(v.clone(), &apiary_vm::LoadOptions::all()) {
            let _ = p;
            let r = diff_all(&v, &input);
            assert!(
                matches!(r.result, Err(Fault::Unsupported { pc: 1, .. })),
                "{r:?}"
            );
        }
    }
    // Null pointer, below and above the stack, misaligned 32-bit atomic, address wrap-around.
    diff_all(&[mov64(1, 0), ldx(B, 0, 1, 0), exit()], &input);
    diff_all(&[ldx(B, 0, 10, -4097), exit()], &input);
    diff_all(&[ldx(B, 0, 10, -4096), exit()], &input);
    diff_all(&[st(W, 10, -2, 1), exit()], &input);
    diff_all(
        &[st(W, 10, -4, 1), atomic(false, 10, -2, 0, A_ADD), exit()],
        &input,
    );
    diff_all(
        &prog(&[&lddw(3, u64::MAX), &[ldx(DW, 0, 3, 0), exit()]]),
        &input,
    );
    diff_all(
        &prog(&[&lddw(3, u64::MAX - 2), &[ldx(B, 0, 3, 5), exit()]]),
        &input,
    );
    diff_all(&[ldx(B, 0, 1, 8), exit()], &input);
    diff_all(&[ldx(B, 0, 1, 7), exit()], &input);
    diff_all(&[ldx(B, 0, 1, -1), exit()], &input);
}

#[test]
fn counts_at_faults_mid_block() {
    // A fault in the middle of a long block: the count must only include executed slots.
    for k in 0..6 {
        let mut v: Vec<Insn> = (0..k).map(|i| mov64(0, i)).collect();
        v.push(ldx(DW, 0, 1, 0)); // input is empty: out of bounds
        v.extend((0..5).map(|i| mov64(0, i)));
        v.push(exit());
        let r = diff(&v, &[], &env(Some(1000)));
        assert_eq!(r.instructions, Some(k as u64 + 1));
    }
    // LD_ABS out of bounds mid-block ends with r0 = 0 and an exact count.
    let r = diff(
        &[mov64(0, 5), ld_abs(W, 100), mov64(0, 7), exit()],
        &[1, 2],
        &env(Some(100)),
    );
    assert_eq!((r.result, r.instructions), (Ok(0), Some(2)));
    // lddw counts like the interpreter.
    diff(
        &prog(&[&lddw(0, 1), &lddw(0, 2), &[exit()]]),
        &[],
        &env(Some(100)),
    );
}

#[test]
fn extra_regions_read_write_and_permissions() {
    let mut extra = Extra::new(64, 0x5a);
    let (ro_addr, rw_addr) = extra.addrs();
    let mut env = env(Some(10_000));
    env.regions = extra.regions();
    let env_off = Environment {
        window: None,
        config: ExecConfig { budget: None },
        ..env.clone()
    };
    for e in [&env, &env_off] {
        let programs: Vec<Vec<Insn>> = vec![
            prog(&[&lddw(3, ro_addr), &[mov64(0, 1), ldx(DW, 0, 3, 8), exit()]]),
            prog(&[&lddw(3, ro_addr), &[mov64(0, 1), st(B, 3, 8, 1), exit()]]),
            prog(&[&lddw(3, ro_addr), &[ldx(DW, 0, 3, 57), exit()]]),
            prog(&[
                &lddw(3, rw_addr),
                &[mov64(2, 9), stx(DW, 3, 56, 2), ldx(DW, 0, 3, 56), exit()],
            ]),
            prog(&[
                &lddw(3, rw_addr),
                &[
                    mov64(2, 9),
                    atomic(true, 3, 16, 2, A_ADD | A_FETCH),
                    ldx(DW, 0, 3, 16),
                    exit(),
                ],
            ]),
            prog(&[
                &lddw(3, rw_addr),
                &[mov64(2, 9), atomic(true, 3, 17, 2, A_ADD), exit()],
            ]),
            prog(&[&lddw(3, rw_addr), &[mov64(2, 9), stx(DW, 3, 64, 2), exit()]]),
            prog(&[
                &lddw(1, rw_addr),
                &[
                    mov64(2, 64),
                    mov64(3, 0x33),
                    call(H_FILL as i32),
                    ldx(B, 0, 1, 63),
                    exit(),
                ],
            ]),
        ];
        for v in programs {
            // Registers r0-r5 must survive the slow path.
            let mut w = vec![
                mov64(0, 11),
                mov64(1, 12),
                mov64(2, 13),
                mov64(4, 14),
                mov64(5, 15),
            ];
            w.extend(v[..v.len() - 1].iter().copied());
            for r in 1..=5u8 {
                w.push(alu64_imm(LSH, 0, 4));
                w.push(alu64_reg(XOR, 0, r));
            }
            w.push(exit());
            for prog_v in [&v, &w] {
                let p = program(prog_v);
                for blind in [false, true] {
                    diff_with(
                        &p,
                        &[1, 2, 3],
                        e,
                        JitOptions {
                            blind_constants: blind,
                        },
                        &mut extra,
                    )
                    .expect("same stack");
                }
            }
        }
    }
}

#[test]
fn entry_registers() {
    let input = [1u8, 2, 3];
    let r = diff_all(&[movr(0, 1), exit()], &input);
    let _ = r;
    diff_all(&[movr(0, 2), exit()], &input);
    diff_all(&[movr(0, 1), exit()], &[]);
    for r in 3..=9 {
        diff_all(&[movr(0, r), exit()], &input);
    }
}

#[test]
fn unknown_helper_is_a_load_error() {
    let p = program(&[call(999), exit()]);
    assert!(matches!(
        Jit::new(p, &env(None)),
        Err(apiary_jit::JitError::Load(_))
    ));
}

#[test]
fn instruction_offsets_cover_the_body() {
    let p = program(&prog(&[
        &[mov64(0, 1)],
        &lddw(1, 5),
        &[alu64_reg(ADD, 0, 1), exit()],
    ]));
    let jit = Jit::new(p, &env(Some(5))).expect("compiles");
    let offs = jit.instruction_offsets();
    assert_eq!(offs.len(), 5 + 1);
    assert!(offs.windows(2).all(|w| w[0] <= w[1]));
    assert!(jit.instruction_code(0).len() > 3);
    assert!(jit.instruction_code(2).is_empty()); // lddw tail
    assert!(*offs.last().expect("nonempty") <= jit.code_size());
    assert_eq!(jit.code().len(), jit.code_size());
}

#[test]
fn no_mapping_is_writable_and_executable() {
    let p = program(&[mov64(0, 1), exit()]);
    let jits: Vec<Jit> = (0..4)
        .map(|_| Jit::new(Arc::clone(&p), &env(None)).expect("compiles"))
        .collect();
    let maps = std::fs::read_to_string("/proc/self/maps").expect("procfs");
    for line in maps.lines() {
        let perms = line.split_whitespace().nth(1).unwrap_or("");
        assert!(
            !perms.starts_with("rwx"),
            "writable and executable mapping: {line}"
        );
    }
    // The code really is mapped executable somewhere.
    let addr = jits[0].code().as_ptr() as u64;
    let exec = maps.lines().any(|l| {
        let mut it = l.split_whitespace();
        let range = it.next().unwrap_or("");
        let perms = it.next().unwrap_or("");
        let mut r = range
            .split('-')
            .map(|x| u64::from_str_radix(x, 16).unwrap_or(0));
        let (a, b) = (r.next().unwrap_or(0), r.next().unwrap_or(0));
        a <= addr && addr < b && perms.contains('x') && !perms.contains('w')
    });
    assert!(exec);
    assert_eq!(jits[0].run_once(&mut []).result, Ok(1));
}

#[test]
fn large_programs_compile_in_linear_time_with_far_jumps() {
    // 200k slots: a forward jump over the whole body and a long backward loop.
    let n = 200_000;
    let mut v = vec![
        mov64(0, 0),
        mov64(6, 0),
        jmp_imm(JEQ, true, 6, 1, (n - 1) as i16 & 0x7fff),
    ];
    v.truncate(2);
    v.push(gotol(n as i32 - 3 + 1)); // to the exit
    while v.len() < n + 1 {
        v.push(alu64_imm(ADD, 0, 1));
    }
    v.push(exit());
    let p = program(&v);
    // Compile speed is measured in benches/ (`benches/callgrind.sh compile`), not asserted here.
    let jit = Jit::new(Arc::clone(&p), &env(Some(10))).expect("compiles");
    let interp = apiary_vm::Interpreter::new(p, &env(Some(10))).expect("loads");
    assert_eq!(jit.run_once(&mut []), interp.run_once(&mut []));
    // A loop whose backward gotol spans the whole body.
    let mut w = vec![mov64(0, 0)];
    while w.len() < n {
        w.push(alu64_imm(ADD, 0, 1));
    }
    let len = w.len() as i32;
    w.push(jmp_imm(JGT, true, 0, 3 * n as i32, 1));
    w.push(gotol(-len));
    w.push(exit());
    let p = program(&w);
    let jit = Jit::new(Arc::clone(&p), &env(Some(u64::MAX))).expect("compiles");
    let interp = apiary_vm::Interpreter::new(p, &env(Some(u64::MAX))).expect("loads");
    assert_eq!(jit.run_once(&mut []), interp.run_once(&mut []));
}

#[test]
fn runs_concurrently_from_many_threads() {
    let looped = [
        mov64(0, 0),
        mov64(1, 0),
        alu64_reg(ADD, 0, 1),
        alu64_imm(ADD, 1, 1),
        jmp_imm(JLT, true, 1, 1000, -3),
        exit(),
    ];
    let jit = Arc::new(Jit::new(program(&looped), &env(Some(100_000))).expect("compiles"));
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let jit = Arc::clone(&jit);
            std::thread::spawn(move || {
                (0..200).all(|_| jit.run_once(&mut []).result == Ok(499_500))
            })
        })
        .collect();
    for h in handles {
        assert!(h.join().expect("thread"));
    }
}

#[test]
fn far_conditional_branches_in_200k_slots_run() {
    // 200k slots: a conditional jump over 32,000 memory-access slots (more than the ±1 MiB a
    // single aarch64 b.cond reaches), a conditional backward loop as long, and fault stubs
    // megabytes after the checks that branch to them. Taken and not taken, against the
    // interpreter.
    let n = 200_000;
    let span = 32_000i16;
    let mut v = vec![mov64(0, 0), mov64(6, 1), jmp_imm(JEQ, true, 2, 0x77, span)];
    while v.len() < n - 2 {
        v.push(match v.len() % 4 {
            0 => alu64_imm(ADD, 0, 1),
            1 => stx(DW, 10, -8, 0),
            2 => atomic(true, 10, -8, 6, A_ADD),
            _ => ldx(DW, 0, 10, -8),
        });
    }
    v.push(jmp_imm(JLT, true, 0, 3 * n as i32, -span));
    v.push(exit());
    let p = program(&v);
    for budget in [None, Some(1 << 30), Some(100_000)] {
        let e = env(budget);
        let jit = Jit::new(Arc::clone(&p), &e).expect("compiles");
        let interp = apiary_vm::Interpreter::new(Arc::clone(&p), &e).expect("loads");
        // r2 = input length: 0x77 takes the first jump, anything else falls through.
        for len in [0usize, 0x77] {
            let mut a = vec![0u8; len];
            let mut b = vec![0u8; len];
            assert_eq!(jit.run_once(&mut a), interp.run_once(&mut b), "len {len}");
        }
    }
}

/// Bounds checks the x86-64 JIT elides (an earlier check in the block, on the same unchanged
/// base, covers the access) and the ones it must keep: a different or wider window, a write
/// after a read, a changed base (ALU, load, fetch atomic), a helper call in between.
#[test]
fn elided_checks_keep_faults() {
    let programs: Vec<Vec<Insn>> = vec![
        // Covered: [r1+4, +4) and [r1+7, +1) inside [r1+0, +8).
        vec![
            ldx(DW, 0, 1, 0),
            ldx(W, 3, 1, 4),
            ldx(B, 4, 1, 7),
            alu64_reg(ADD, 0, 3),
            alu64_reg(ADD, 0, 4),
            exit(),
        ],
        // Not covered: [r1+6, +4) sticks out of [r1+0, +8).
        vec![
            ldx(DW, 0, 1, 0),
            ldx(W, 3, 1, 6),
            alu64_reg(ADD, 0, 3),
            exit(),
        ],
        // A write after a read of the same window, and a read after a write.
        vec![
            ldx(W, 0, 1, 2),
            stx(H, 1, 2, 0),
            ldx(B, 3, 1, 3),
            alu64_reg(ADD, 0, 3),
            exit(),
        ],
        // The base changes between the accesses.
        vec![
            ldx(B, 0, 1, 0),
            alu64_imm(ADD, 1, 6),
            ldx(B, 3, 1, 0),
            alu64_reg(ADD, 0, 3),
            exit(),
        ],
        vec![ldx(DW, 1, 1, 0), ldx(B, 0, 1, 0), exit()],
        vec![
            mov64(2, 0),
            ldx(DW, 0, 1, 0),
            atomic(true, 1, 0, 1, A_ADD | A_FETCH),
            ldx(B, 0, 1, 0),
            exit(),
        ],
        // Another base: checked on its own (r2 is the length, not an address).
        vec![ldx(DW, 0, 1, 0), ldx(B, 3, 2, 0), exit()],
        // Hull checks: several accesses on one base in a block tested at once; when the hull
        // fails (near the end of the input, or rounded past it), the block's copy checks each.
        vec![
            ldx(B, 0, 1, 1),
            ldx(B, 3, 1, 0),
            alu64_imm(LSH, 0, 8),
            alu64_reg(OR, 0, 3),
            exit(),
        ],
        vec![
            ldx(B, 0, 1, 5),
            ldx(B, 3, 1, 4),
            stx(B, 1, 6, 0),
            ldx(B, 4, 1, 7),
            alu64_reg(ADD, 0, 3),
            alu64_reg(ADD, 0, 4),
            exit(),
        ],
        vec![
            ldx(B, 0, 1, 0),
            ldx(B, 3, 1, 2),
            alu64_reg(ADD, 0, 3),
            exit(),
        ],
        vec![
            ldx(H, 0, 1, 2),
            call(H_MIX as i32),
            ldx(B, 3, 1, 3),
            st(B, 1, 2, 9),
            alu64_reg(ADD, 0, 3),
            exit(),
        ],
        // A loop reading two bytes per iteration until a fault.
        vec![
            mov64(0, 0),
            ldx(B, 3, 1, 1),
            ldx(B, 4, 1, 0),
            alu64_reg(ADD, 0, 3),
            alu64_reg(ADD, 0, 4),
            alu64_imm(ADD, 1, 2),
            ja(-6),
        ],
        // A helper call between (r1 kept), then the covered access.
        vec![
            ldx(DW, 0, 1, 0),
            call(H_MIX as i32),
            ldx(B, 3, 1, 5),
            alu64_reg(ADD, 0, 3),
            exit(),
        ],
        // The covered access after a jump target: checked again.
        vec![
            ldx(DW, 0, 1, 0),
            jmp_imm(JEQ, true, 0, 12345, 0),
            ldx(B, 3, 1, 5),
            alu64_reg(ADD, 0, 3),
            exit(),
        ],
    ];
    let mut runs = 0;
    for v in &programs {
        for len in [0usize, 1, 3, 5, 6, 7, 8, 9, 10, 16] {
            let input: Vec<u8> = (0..len as u8).map(|i| i.wrapping_mul(29) ^ 0x35).collect();
            diff_all(v, &input);
            runs += 1;
        }
    }
    assert_eq!(runs, programs.len() * 10);
    // A write after a read of a read-only region's window faults.
    let ro: &'static mut [u8] = Box::leak(vec![0x5au8; 16].into_boxed_slice());
    let ro_addr = ro.as_ptr() as u64;
    let mut e = env(None);
    e.regions = Arc::from(vec![Region::readable(ro)]);
    let v = prog(&[
        &lddw(3, ro_addr),
        &[ldx(DW, 0, 3, 0), stx(B, 3, 1, 0), exit()],
    ]);
    let out = diff(&v, &[1, 2, 3], &e);
    assert!(
        matches!(out.result, Err(Fault::OutOfBounds { pc: 3, .. })),
        "{out:?}"
    );
}

/// Long blocks of input accesses (hull checks with block copies): the code grows linearly
/// with the program (copies are short and bounded in total), and the result agrees.
#[test]
fn long_blocks_of_input_accesses_stay_linear() {
    let size_of = |n: usize| {
        let mut v = vec![mov64(0, 0)];
        for k in 0..n {
            v.push(ldx(B, 3, 1, (k % 8) as i16));
            v.push(alu64_reg(ADD, 0, 3));
        }
        v.push(exit());
        let p = program(&v);
        let jit = Jit::new(Arc::clone(&p), &env(None)).expect("compiles");
        diff_with(
            &p,
            &[7u8; 8],
            &env(None),
            JitOptions::default(),
            &mut NoWorld,
        );
        jit.code_size()
    };
    let small = size_of(2_000);
    let large = size_of(8_000);
    assert!(large <= 4 * small + 4096, "{small} -> {large}");
}
