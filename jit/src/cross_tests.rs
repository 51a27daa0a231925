//! Code generation for every backend on every host: no execution, but every encoding decision
//! (immediates, offsets, branch ranges) is exercised, so dynasm never sees an operand it
//! cannot encode and far branches always resolve. The host's own backend is also run by the
//! differential tests in `tests/`.

use std::sync::Arc;

use apiary_vm::memory::Region;
use apiary_vm::{Environment, ExecConfig, HelperTable, Insn, LoadOptions, Program};

use crate::unchecked_tests::materialises;
use crate::{compile_for, shared_for, Arch, CompileOptions, Compiled};

const ARCHS: [Arch; 2] = [Arch::X86_64, Arch::Aarch64];

fn helpers() -> HelperTable {
    let mut t = HelperTable::new();
    t.register(1, "one", |_, a| Ok(a[0]));
    t
}

fn env(budget: Option<u64>, regions: bool) -> Environment {
    let mut e = Environment::new(helpers(), ExecConfig { budget });
    if regions {
        // SAFETY: the region is only used to decide which checks are emitted; never accessed.
        e.regions = Arc::from(vec![unsafe { Region::from_raw(0x1000, 64, true) }]);
    }
    e
}

fn compile(arch: Arch, insns: &[Insn], env: &Environment, blind: bool) -> Compiled {
    let p = Program::new(insns.to_vec(), &LoadOptions::all()).expect("valid program");
    let opts = CompileOptions {
        blind_constants: blind,
        seed: 0x1234_5678,
        proven_safe: None,
        confine: None,
    };
    let shared = shared_for(&p, env);
    compile_for(arch, &p, &shared, env, &opts).expect("compiles")
}

/// Immediates around every encoding boundary, plus pseudo-random ones.
fn imms() -> Vec<i32> {
    let mut v = vec![
        0,
        1,
        -1,
        2,
        31,
        32,
        63,
        64,
        255,
        256,
        4095,
        4096,
        4097,
        -4095,
        -4096,
        -4097,
        0xfff000,
        0x1000000,
        0xffff,
        0x10000,
        0x7fff_ffff,
        i32::MIN,
        i32::MIN + 1,
        0x5555_5555,
        0x0f0f_0f0f,
        -0x100,
        0x1234_5678,
        -0x1234_5678,
    ];
    let mut x = 0x9e37_79b9u32;
    for _ in 0..24 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        v.push(x as i32);
    }
    v
}

pub(crate) fn every_form_program() -> Vec<Insn> {
    let imms = imms();
    let mut body = Vec::new();
    // ALU: every operation, both widths, immediate and register forms (signed div/mod too).
    for op in [
        0x00u8, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x90, 0xa0, 0xb0, 0xc0,
    ] {
        for class in [0x07u8, 0x04] {
            for &i in &imms {
                body.push(Insn::new(op | class, 3, 0, 0, i));
                if op == 0x30 || op == 0x90 {
                    body.push(Insn::new(op | class, 3, 0, 1, i));
                }
            }
            body.push(Insn::new(op | class | 0x08, 3, 4, 0, 0));
            body.push(Insn::new(op | class | 0x08, 0, 0, 0, 0));
        }
    }
    // Neg, endianness, movsx.
    for class in [0x87u8, 0x84] {
        body.push(Insn::new(class, 5, 0, 0, 0));
    }
    for bits in [16, 32, 64] {
        for op in [0xd4u8, 0xdc, 0xd7] {
            body.push(Insn::new(op, 6, 0, 0, bits));
        }
    }
    for (class, bits) in [
        (0xbfu8, 8i16),
        (0xbf, 16),
        (0xbf, 32),
        (0xbc, 8),
        (0xbc, 16),
    ] {
        body.push(Insn::new(class, 7, 2, bits, 0));
    }
    // lddw of boundary values.
    for &i in &imms {
        for hi in [0, -1, 0x1234, i] {
            body.push(Insn::new(0x18, 8, 0, 0, i));
            body.push(Insn::new(0, 0, 0, 0, hi));
        }
    }
    // Loads, stores, atomics at every kind of offset.
    let offs: [i16; 12] = [
        0,
        -8,
        8,
        255,
        256,
        -256,
        -257,
        4095,
        4096,
        -4096,
        i16::MIN,
        i16::MAX,
    ];
    for &off in &offs {
        for size in [0x00u8, 0x08, 0x10, 0x18] {
            body.push(Insn::new(0x61 | size, 2, 10, off, 0));
            body.push(Insn::new(0x63 | size, 10, 3, off, 0));
            for &i in &imms[..6] {
                body.push(Insn::new(0x62 | size, 10, 0, off, i));
            }
            if size != 0x18 {
                body.push(Insn::new(0x81 | size, 2, 1, off, 0));
            }
        }
        for op in [0, 1, 0x40, 0x41, 0x50, 0x51, 0xa0, 0xa1, 0xe1, 0xf1] {
            body.push(Insn::new(0xdb, 10, 4, off, op));
            body.push(Insn::new(0xc3, 10, 0, off, op));
        }
    }
    // Packet loads.
    for &i in &imms {
        for size in [0x00u8, 0x08, 0x10] {
            body.push(Insn::new(0x20 | size, 0, 0, 0, i));
            body.push(Insn::new(0x40 | size, 0, 3, 0, i));
        }
    }
    // Helper calls and callx.
    body.push(Insn::new(0x85, 0, 0, 0, 1));
    body.push(Insn::new(0x8d, 1, 0, 0, 0));
    // Conditional jumps over the next slot, every condition and width, forward and backward.
    let mut jumps = Vec::new();
    for cond in [
        0x10u8, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0xa0, 0xb0, 0xc0, 0xd0,
    ] {
        for class in [0x05u8, 0x06] {
            for &i in &imms {
                jumps.push(Insn::new(cond | class, 3, 0, 1, i));
                jumps.push(Insn::new(0xb7, 0, 0, 0, 1));
            }
            jumps.push(Insn::new(cond | class | 0x08, 3, 4, 1, 0));
            jumps.push(Insn::new(0xb7, 0, 0, 0, 1));
        }
    }
    let mut insns = vec![Insn::new(0xb7, 9, 0, 0, 0)];
    insns.extend(body);
    insns.extend(jumps);
    // A backward loop bounded by r9.
    insns.push(Insn::new(0x07, 9, 0, 0, 1));
    let back = -(insns.len() as i16);
    insns.push(Insn::new(0xa5, 9, 0, back, 3));
    insns.push(Insn::new(0x95, 0, 0, 0, 0));
    insns
}

#[test]
fn every_form_and_immediate_encodes_on_every_backend() {
    let insns = every_form_program();
    for arch in ARCHS {
        for budget in [None, Some(1000)] {
            for regions in [false, true] {
                for blind in [false, true] {
                    let c = compile(arch, &insns, &env(budget, regions), blind);
                    assert_eq!(c.offsets.len(), insns.len() + 1);
                }
            }
        }
    }
}

/// `n` slots: a conditional jump over 32,000 memory-access slots (over 1 MiB of aarch64
/// code), a conditional backward loop as long, and fault stubs several MiB after the accesses
/// they belong to. The same shape as `tests/diff.rs`'s run of it.
pub(crate) fn far_program(n: usize) -> Vec<Insn> {
    let span = 32_000i16;
    let mut v = vec![
        Insn::new(0xb7, 0, 0, 0, 0),       // mov r0, 0
        Insn::new(0xb7, 6, 0, 0, 1),       // mov r6, 1
        Insn::new(0x15, 2, 0, span, 0x77), // jeq r2, 0x77, +span
    ];
    while v.len() < n - 2 {
        v.push(match v.len() % 4 {
            0 => Insn::new(0x07, 0, 0, 0, 1), // add r0, 1
            // Below the current frame (in the stack, but checked: in-frame accesses are not).
            1 => Insn::new(0x7b, 10, 0, -520, 0), // stxdw [r10-520], r0
            2 => Insn::new(0xdb, 10, 6, -520, 0), // atomic add [r10-520], r6
            _ => Insn::new(0x79, 0, 10, -520, 0), // ldxdw r0, [r10-520]
        });
    }
    v.push(Insn::new(0xa5, 0, 0, -span, 3 * n as i32)); // jlt r0, 3n, -span
    v.push(Insn::new(0x95, 0, 0, 0, 0));
    v
}

#[test]
fn two_hundred_thousand_slots_compile_with_far_branches() {
    let insns = far_program(200_000);
    assert!(Program::new(insns.clone(), &LoadOptions::all()).is_ok());
    for arch in ARCHS {
        let start = std::time::Instant::now();
        let c = compile(arch, &insns, &env(Some(1 << 40), false), false);
        let took = start.elapsed();
        eprintln!(
            "{arch:?}: {} slots, {} bytes of code, compiled in {took:?}",
            insns.len(),
            c.code.len()
        );
        if arch == Arch::Aarch64 {
            // Far beyond the ±1 MiB reach of b.cond.
            assert!(c.code.len() > 4 << 20, "{} bytes", c.code.len());
            // The jump at slot 2 spans over 1 MiB: an inverted b.cond over one word, then b.
            let words: Vec<u32> = c.code[c.offsets[2]..c.offsets[3]]
                .chunks_exact(4)
                .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
                .collect();
            let span = c.offsets[2 + 32_000 + 1] - c.offsets[2];
            assert!(span > 1 << 20, "span {span}");
            assert!(
                words.windows(2).any(|w| w[0] & 0xff00_0010 == 0x5400_0000
                    && (w[0] >> 5) & 0x7_ffff == 2
                    && w[1] & 0xfc00_0000 == 0x1400_0000),
                "no far branch in {words:08x?}"
            );
        }
        // No time bound here (a loaded or emulated host is slow; speed belongs to benches/,
        // `benches/callgrind.sh compile`): the time is printed only.
    }
}

#[test]
fn blinded_aarch64_code_never_materialises_the_constants() {
    let magic: i32 = 0x1bad_b002;
    let wide: u64 = 0x0123_4567_89ab_cdef;
    let insns = vec![
        Insn::new(0xb7, 0, 0, 0, magic),
        Insn::new(0x07, 0, 0, 0, magic),
        Insn::new(0x7a, 10, 0, -8, magic),
        Insn::new(0x55, 0, 0, 0, magic),
        Insn::new(0x18, 3, 0, 0, wide as u32 as i32),
        Insn::new(0, 0, 0, 0, (wide >> 32) as u32 as i32),
        Insn::new(0x0f, 0, 3, 0, 0),
        Insn::new(0x95, 0, 0, 0, 0),
    ];
    let e = env(None, false);
    let plain = compile(Arch::Aarch64, &insns, &e, false);
    let blinded = compile(Arch::Aarch64, &insns, &e, true);
    assert!(materialises(
        &plain.code,
        magic as u32 as u64,
        4,
        Arch::Aarch64
    ));
    assert!(materialises(&plain.code, wide, 8, Arch::Aarch64));
    assert!(!materialises(
        &blinded.code,
        magic as u32 as u64,
        4,
        Arch::Aarch64
    ));
    assert!(!materialises(&blinded.code, wide, 8, Arch::Aarch64));
}

/// x18 (the aarch64 platform register) appears in no generated instruction: checked on the
/// register fields of every word (a conservative over-approximation: immediates may look
/// like register 18 too, so only instructions whose fields are all registers are checked).
#[test]
fn aarch64_code_never_names_x18() {
    let insns = vec![
        Insn::new(0xbf, 0, 1, 0, 0),
        Insn::new(0x0f, 0, 2, 0, 0),
        Insn::new(0x2f, 6, 9, 0, 0),
        Insn::new(0x9f, 7, 8, 0, 0),
        Insn::new(0x7b, 10, 9, -16, 0),
        Insn::new(0xdb, 10, 6, -16, 0xf1),
        Insn::new(0x85, 0, 0, 0, 1),
        Insn::new(0x95, 0, 0, 0, 0),
    ];
    let c = compile(Arch::Aarch64, &insns, &env(Some(100), true), false);
    for w in c.code.chunks_exact(4) {
        let w = u32::from_le_bytes([w[0], w[1], w[2], w[3]]);
        // Data-processing (register) class: op0 bits 25..28 = x101.
        if (w >> 25) & 0x7 == 0x5 {
            for field in [w & 31, (w >> 5) & 31, (w >> 16) & 31] {
                assert_ne!(field, 18, "instruction {w:#010x} names x18");
            }
        }
        // Loads and stores (op0 = x1x0): Rt and Rn.
        if (w >> 25) & 0x5 == 0x4 {
            assert_ne!(w & 31, 18, "instruction {w:#010x} names x18");
            assert_ne!((w >> 5) & 31, 18, "instruction {w:#010x} names x18");
        }
    }
}

/// Generated code per eBPF slot on the benchmark programs, for both backends (printed with
/// `--nocapture`; the bounds only catch gross regressions).
#[test]
fn code_size_per_slot_on_benchmark_programs() {
    let programs: [(&str, &[u8]); 9] = [
        (
            "call_overhead",
            include_bytes!("../../benches/programs/call_overhead.bin"),
        ),
        (
            "alu_loop",
            include_bytes!("../../benches/programs/alu_loop.bin"),
        ),
        (
            "alu32_loop",
            include_bytes!("../../benches/programs/alu32_loop.bin"),
        ),
        (
            "mem_loop",
            include_bytes!("../../benches/programs/mem_loop.bin"),
        ),
        (
            "checksum",
            include_bytes!("../../benches/programs/checksum.bin"),
        ),
        (
            "parser",
            include_bytes!("../../benches/programs/parser.bin"),
        ),
        (
            "bsearch",
            include_bytes!("../../benches/programs/bsearch.bin"),
        ),
        (
            "div_loop",
            include_bytes!("../../benches/programs/div_loop.bin"),
        ),
        (
            "helper_loop",
            include_bytes!("../../benches/programs/helper_loop.bin"),
        ),
    ];
    for (name, bytes) in programs {
        let insns = apiary_vm::insn::insns_from_bytes(bytes).expect("bytecode");
        for arch in ARCHS {
            for budget in [None, Some(1 << 40)] {
                let e = env(budget, false);
                let start = std::time::Instant::now();
                let c = compile(arch, &insns, &e, false);
                let took = start.elapsed();
                let body = c.offsets[insns.len()] - c.offsets[0];
                let per_slot = body as f64 / insns.len() as f64;
                eprintln!(
                    "{name:>14} {arch:?} metering={:<5} slots={:>4} body={:>6} B ({per_slot:.1} B/slot{}) total={:>6} B compile={took:?}",
                    budget.is_some(),
                    insns.len(),
                    body,
                    if arch == Arch::Aarch64 {
                        format!(", {:.1} insn/slot", per_slot / 4.0)
                    } else {
                        String::new()
                    },
                    c.code.len(),
                );
                assert!(
                    per_slot < 64.0,
                    "{name} {arch:?}: {per_slot} bytes per slot"
                );
            }
        }
    }
}
