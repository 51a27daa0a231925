//! Tests of the crate-private compile options: unchecked mode (per-slot "proven safe" facts)
//! and constant blinding's effect on the emitted bytes.

use std::sync::Arc;

use apiary_vm::fault::{Access, Fault};
use apiary_vm::{
    Environment, ExecConfig, Executable, HelperTable, Insn, Interpreter, LoadOptions, Program,
};

use crate::{CompileOptions, Jit, JitOptions};

fn program(insns: &[Insn]) -> Arc<Program> {
    Arc::new(Program::new(insns.to_vec(), &LoadOptions::all()).expect("valid program"))
}

fn env(budget: Option<u64>) -> Environment {
    Environment::new(HelperTable::new(), ExecConfig { budget })
}

/// stxdw [r10-8], r1; ldxdw r0, [r10-8]; ldxb r2, [r1+0]; add r0, r2; exit
fn stack_program() -> Vec<Insn> {
    vec![
        Insn::new(0x7b, 10, 1, -8, 0),
        Insn::new(0x79, 0, 10, -8, 0),
        Insn::new(0x71, 2, 1, 0, 0),
        Insn::new(0x0f, 0, 2, 0, 0),
        Insn::new(0x95, 0, 0, 0, 0),
    ]
}

#[test]
fn unchecked_accesses_skip_checks_and_agree() {
    let p = program(&stack_program());
    for budget in [None, Some(100)] {
        let e = env(budget);
        let checked = Jit::new(Arc::clone(&p), &e).expect("compiles");
        let opts = CompileOptions {
            proven_safe: Some(vec![true; p.len()]),
            ..CompileOptions::default()
        };
        let unchecked = Jit::compile(Arc::clone(&p), &e, &opts).expect("compiles");
        assert!(unchecked.code_size() < checked.code_size());
        assert!(unchecked.instruction_code(2).len() < checked.instruction_code(2).len());
        let interp = Interpreter::new(Arc::clone(&p), &e).expect("loads");
        let mut input = [7u8, 1, 2];
        let expected = interp.run_once(&mut input);
        assert_eq!(unchecked.run_once(&mut input), expected);
        assert_eq!(checked.run_once(&mut input), expected);
    }
}

#[test]
fn unproven_accesses_stay_checked() {
    // Only slot 0 is proven; the input load at slot 2 must still fault on an empty input.
    let p = program(&stack_program());
    let e = env(Some(100));
    let mut proven = vec![false; p.len()];
    proven[0] = true;
    let opts = CompileOptions {
        proven_safe: Some(proven),
        ..CompileOptions::default()
    };
    let jit = Jit::compile(Arc::clone(&p), &e, &opts).expect("compiles");
    let out = jit.run_once(&mut []);
    assert_eq!(
        out.result,
        Err(Fault::OutOfBounds {
            pc: 2,
            addr: 0,
            len: 1,
            access: Access::Read
        })
    );
    assert_eq!(out.instructions, Some(3));
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Whether host code materialises `value` verbatim: its bytes on x86-64; on aarch64, a run of
/// movz/movk instructions carrying its 16-bit chunks (immediates are split across
/// instructions there).
pub(crate) fn materialises(code: &[u8], value: u64, bytes: usize, arch: crate::Arch) -> bool {
    match arch {
        crate::Arch::X86_64 => contains(code, &value.to_le_bytes()[..bytes]),
        crate::Arch::Aarch64 => {
            let words: Vec<u32> = code
                .chunks_exact(4)
                .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
                .collect();
            // movz/movk (32- and 64-bit): imm16 in bits 5..21, chunk index in bits 21..23.
            let mov = |w: u32| {
                let op = w & 0x7f80_0000;
                (op == 0x5280_0000 || op == 0x7280_0000)
                    .then_some((((w >> 5) & 0xffff) as u16, ((w >> 21) & 3) as usize))
            };
            let chunks: Vec<(u16, usize)> = (0..bytes / 2)
                .map(|i| ((value >> (16 * i)) as u16, i))
                .filter(|&(c, _)| c != 0)
                .collect();
            words.windows(chunks.len()).any(|w| {
                w.iter()
                    .zip(&chunks)
                    .all(|(&word, &chunk)| mov(word) == Some(chunk))
            })
        }
    }
}

#[test]
fn blinding_hides_immediates() {
    let magic: i32 = 0x1badb002;
    let wide: u64 = 0x0123_4567_89ab_cdef;
    let insns = vec![
        Insn::new(0xb7, 0, 0, 0, magic),              // mov r0, magic
        Insn::new(0x07, 0, 0, 0, magic),              // add r0, magic
        Insn::new(0x7a, 10, 0, -8, magic),            // stdw [r10-8], magic
        Insn::new(0x18, 3, 0, 0, wide as u32 as i32), // lddw r3, wide
        Insn::new(0, 0, 0, 0, (wide >> 32) as u32 as i32),
        Insn::new(0x0f, 0, 3, 0, 0), // add r0, r3
        Insn::new(0x95, 0, 0, 0, 0),
    ];
    let p = program(&insns);
    let e = env(None);
    let plain = Jit::new(Arc::clone(&p), &e).expect("compiles");
    let blinded = Jit::with_options(
        Arc::clone(&p),
        &e,
        JitOptions {
            blind_constants: true,
        },
    )
    .expect("compiles");
    let arch = crate::Arch::HOST.expect("a backend for the host");
    assert!(materialises(plain.code(), magic as u32 as u64, 4, arch));
    assert!(materialises(plain.code(), wide, 8, arch));
    assert!(!materialises(blinded.code(), magic as u32 as u64, 4, arch));
    assert!(!materialises(blinded.code(), wide, 8, arch));
    let expected = (magic as i64 as u64).wrapping_mul(2).wrapping_add(wide);
    assert_eq!(plain.run_once(&mut []).result, Ok(expected));
    assert_eq!(blinded.run_once(&mut []).result, Ok(expected));
}

/// Sandboxed verified mode: with every access "proven" (forged) and a confinement, wild loads
/// and stores land inside the window, never at the address computed (a host canary here).
/// Every way the code finds the window's base and masks: a high window (anywhere: a 64-bit
/// base, in a reserved register when the program leaves one of r6–r9 unnamed, else read from
/// the run context), a low one (below 4 GiB; below 2 GiB the base is the access's 32-bit
/// displacement on x86-64), and a 4 GiB window (the mask is a 32-bit address computation);
/// loads, stores and an atomic.
#[test]
fn confined_accesses_stay_in_the_window() {
    use apiary_vm::window::Placement;
    for all_named in [false, true] {
        confined_accesses_stay_in(Placement::Anywhere, 1 << 20, all_named);
        confined_accesses_stay_in(Placement::Below4G, 1 << 20, all_named);
        confined_accesses_stay_in(Placement::Anywhere, 1 << 32, all_named);
    }
}

fn confined_accesses_stay_in(
    placement: apiary_vm::window::Placement,
    size: usize,
    all_named: bool,
) {
    use apiary_vm::window::Window;
    use apiary_vm::Confinement;
    let window = Window::sandbox(size, placement).expect("window");
    // Naming r6–r9 leaves no register for the window base.
    let prefix = if all_named {
        "mov %r6, 0\nmov %r7, 0\nmov %r8, 0\nmov %r9, 0\n"
    } else {
        ""
    };
    let canary = [0x5au8; 64];
    let c = canary.as_ptr() as u64;
    for wild in [
        0u64,
        8,
        u64::MAX - 2,
        c,
        c + 8,
        window.base() + size as u64 + 16,
    ] {
        // The atomic at an 8-byte aligned address (arm64 atomics trap when misaligned); r0 is
        // 77 only if it added 1 to 76.
        let aligned = wild & !7;
        let text = format!(
            "{prefix}lddw %r5, {aligned:#x}\nstdw [%r5+8], 76\nmov %r4, 1\n\
             lock add [%r5+8], %r4\nldxdw %r3, [%r5+8]\n\
             lddw %r1, {wild:#x}\nstdw [%r1+3], 77\nldxdw %r0, [%r1+3]\nadd %r0, %r3\nsub %r0, 77\n\
             lddw %r2, {c:#x}\nstxdw [%r2+32], %r0\nstxb [%r2+2], %r0\n\
             ldxb %r3, [%r2+1]\nldxsw %r3, [%r2+8]\nexit\n"
        );
        let insns = apiary_vm::asm::assemble(&text).expect("assembles");
        let p = program(&insns);
        let opts = CompileOptions {
            proven_safe: Some(vec![true; p.len()]),
            confine: Some(Confinement::window(&window)),
            ..CompileOptions::default()
        };
        let jit = Jit::compile(Arc::clone(&p), &env(None), &opts).expect("compiles");
        assert_eq!(
            jit.run_once(&mut []).result,
            Ok(77),
            "{placement:?} {size:#x} {all_named} {wild:#x}"
        );
        let landed = window.confine(wild.wrapping_add(3));
        assert!(window.contains(landed, 8));
        // SAFETY: `landed..+8` is inside the live read-write window (the tail covers its end).
        let v = unsafe { std::ptr::read_unaligned(landed as *const u64) };
        assert_eq!(v, 77, "{wild:#x}: the store landed at its confined address");
        assert!(
            canary.iter().all(|&b| b == 0x5a),
            "{wild:#x}: host canary untouched"
        );
    }
}
