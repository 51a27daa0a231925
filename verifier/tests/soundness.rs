//! Soundness property: random small programs (ALU, stack and input accesses, forward branches,
//! bounded loops). Whenever the verifier accepts one, the checked interpreter must not fault on
//! random inputs of the declared size, and r0 must lie in the computed range.

use std::sync::Arc;

use apiary_verifier::{verify, Platform, ProgramType};
use apiary_vm::{
    asm, Environment, ExecConfig, Executable, HelperTable, Interpreter, LoadOptions, Program,
};
use proptest::prelude::*;

const MEM: usize = 16;

fn line(kind: u8, a: u8, b: u8, imm: i32, off: i16, rest: usize) -> String {
    let r = |x: u8| format!("%r{}", x % 6);
    let ops = [
        "add", "sub", "mul", "div", "or", "and", "lsh", "rsh", "mod", "xor", "mov", "arsh",
    ];
    let conds = [
        "jeq", "jgt", "jge", "jlt", "jle", "jset", "jne", "jsgt", "jsge", "jslt", "jsle",
    ];
    let sizes = ["b", "h", "w", "dw"];
    let op = ops[usize::from(a) % ops.len()];
    let w = if b.is_multiple_of(3) { "32" } else { "" };
    match kind % 12 {
        0 | 1 => format!("{op}{w} {}, {imm}", r(a)),
        2 | 3 => format!("{op}{w} {}, {}", r(a), r(b)),
        4 => format!(
            "ldx{} {}, [%r10{:+}]",
            sizes[usize::from(b) % 4],
            r(a),
            -8 * (i16::from(b % 8) + 1) + (off % 8).abs()
        ),
        5 => format!(
            "stx{} [%r10{:+}], {}",
            sizes[usize::from(a) % 4],
            -8 * (i16::from(b % 8) + 1),
            r(a)
        ),
        6 => format!("ldx{} %r0, [%r9{:+}]", sizes[usize::from(b) % 4], off % 18),
        7 => format!(
            "ldx{} {}, [%r9{:+}]",
            sizes[usize::from(a) % 4],
            r(a),
            off.rem_euclid(16)
        ),
        8 => format!(
            "st{} [%r9{:+}], {imm}",
            sizes[usize::from(b) % 4],
            off.rem_euclid(16)
        ),
        9 | 10 => {
            let skip = usize::from(b) % (rest + 1);
            if a.is_multiple_of(2) {
                format!(
                    "{}{w} {}, {imm}, +{skip}",
                    conds[usize::from(a) % conds.len()],
                    r(b)
                )
            } else {
                format!(
                    "{}{w} {}, {}, +{skip}",
                    conds[usize::from(b) % conds.len()],
                    r(a),
                    r(b)
                )
            }
        }
        _ => format!("neg {}", r(a)),
    }
}

fn build(items: &[(u8, u8, u8, i32, i16)], with_loop: bool) -> String {
    let mut text = String::from("mov %r9, %r1\nmov %r0, 0\nmov %r1, 0\nmov %r2, 1\nmov %r3, 2\nmov %r4, 3\nmov %r5, 4\nstdw [%r10-8], 0\nstdw [%r10-16], 7\n");
    if with_loop {
        text.push_str("mov %r8, 0\nloop:\n");
    }
    let n = items.len();
    for (i, &(k, a, b, imm, off)) in items.iter().enumerate() {
        text.push_str(&line(k, a, b, imm, off, n - i));
        text.push('\n');
    }
    if with_loop {
        text.push_str("add %r8, 1\njlt %r8, 5, loop\n");
    }
    text.push_str("exit\n");
    text
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, ..ProptestConfig::default() })]

    #[test]
    fn accepted_programs_do_not_fault(
        items in prop::collection::vec((any::<u8>(), any::<u8>(), any::<u8>(), -40i32..300, any::<i16>()), 1..14),
        with_loop in any::<bool>(),
        inputs in prop::collection::vec(prop::collection::vec(any::<u8>(), MEM), 4),
    ) {
        let text = build(&items, with_loop);
        let Ok(insns) = asm::assemble(&text) else { return Ok(()) };
        let Ok(program) = Program::new(insns, &LoadOptions::default()) else { return Ok(()) };
        let ptype = ProgramType::mem(Some(MEM as u64));
        let res = verify(&program, &Platform::empty(), &ptype, &[]);
        if std::env::var("SOUND_DEBUG").is_ok() { println!("VERDICT {}", match &res { Ok(_) => "ok".to_string(), Err(r) => format!("{:?}", r.reason).chars().take(30).collect() }); }
        let Ok(v) = res else { return Ok(()) };
        let env = Environment::new(HelperTable::new(), ExecConfig { budget: Some(100_000) });
        let exe = Interpreter::new(Arc::new(program), &env).map_err(|e| TestCaseError::fail(e.to_string()))?;
        for mut input in inputs {
            let out = exe.run_once(&mut input);
            match out.result {
                Ok(r0) => {
                    let range = v.r0.ok_or_else(|| TestCaseError::fail("exit unreachable but reached"))?;
                    prop_assert!(range.contains(r0), "r0 {r0:#x} outside {range:?}\n{text}");
                }
                Err(f) => prop_assert!(false, "accepted program faulted: {f}\n{text}"),
            }
        }
    }
}
