//! Random loops of the classes issue 15 (item 3) made provable, run when accepted: a bound the
//! loop reloads every trip (from a spill) under an ordering test, and an exit test on the square
//! of a stepped counter (`d * d <= n`). Whenever the verifier accepts one, the checked
//! interpreter must finish it on adversarial inputs (all zero, all 0xff, random) within a budget
//! the proof implies: counters start near the top of their width, where a wrong proof wraps and
//! never ends, or near zero under small bounds. Steps include ones that step over the bound and
//! `2^32` (where a square wraps to the same values forever); widths and conditions vary.

use std::sync::Arc;

use apiary_testkit::Coverage;
use apiary_verifier::{verify, Platform, ProgramType};
use apiary_vm::{
    asm, Environment, ExecConfig, Executable, HelperTable, Interpreter, LoadOptions, Program,
};
use proptest::prelude::*;

const MEM: usize = 16;
const BUDGET: u64 = 4_000_000;

/// Runs an accepted program on the inputs; `Err` names the failure. `Ok(true)` when accepted.
fn check(text: &str, inputs: &[Vec<u8>]) -> Result<bool, String> {
    let insns = asm::assemble(text).map_err(|e| format!("assemble: {e}\n{text}"))?;
    let program = Program::new(insns, &LoadOptions::default()).map_err(|e| e.to_string())?;
    let ptype = ProgramType::mem(Some(MEM as u64));
    if verify(&program, &Platform::empty(), &ptype, &[]).is_err() {
        return Ok(false);
    }
    let env = Environment::new(
        HelperTable::new(),
        ExecConfig {
            budget: Some(BUDGET),
        },
    );
    let exe = Interpreter::new(Arc::new(program), &env).map_err(|e| e.to_string())?;
    for input in inputs {
        let out = exe.run_once(&mut input.clone());
        if let Err(f) = out.result {
            return Err(format!("accepted loop did not finish: {f}\n{text}"));
        }
    }
    Ok(true)
}

fn inputs(random: Vec<u8>) -> Vec<Vec<u8>> {
    vec![vec![0; MEM], vec![0xff; MEM], random]
}

const LOADS: [&str; 4] = ["ldxb", "ldxh", "ldxw", "ldxdw"];
const MASKS: [Option<u32>; 5] = [
    None,
    Some(0xff),
    Some(0xfff),
    Some(0xffff),
    Some(0x7fff_ffff),
];

/// The mask for [`reloaded`]: a loop the rule may accept must also end within the budget, so
/// a bound above 16 bits is kept only where the rule must reject it (a step or a `<=` that can
/// wrap the counter past it); elsewhere (a wide bound under `<` with step 1 ends only after up to
/// 2^64 trips: proven, but not runnable) it is masked to 16 bits.
fn runnable_mask(load: usize, mask: usize, w32: bool, step: i32, le: bool) -> usize {
    let wide = matches!(MASKS[mask], None | Some(0x7fff_ffff)) && load >= 2;
    let must_reject = MASKS[mask].is_none()
        && match load {
            2 => w32 && (step >= 2 || le),
            _ => w32 || step >= 2 || le,
        };
    if wide && !must_reject {
        3
    } else {
        mask
    }
}

/// A counter against a bound spilled before the loop and reloaded on every trip.
fn reloaded(load: usize, mask: usize, high: bool, w32: bool, step: i32, le: bool) -> String {
    let mask = match MASKS[mask] {
        Some(m) => format!("and %r2, {m}\n"),
        None => String::new(),
    };
    // Near the top of the counter's width (a wrong proof wraps), or at a small input byte.
    let start = match (high, w32) {
        (true, false) => "lddw %r3, 0xfffffffffffffe00\nadd %r3, %r4\n",
        (true, true) => "mov %r3, -512\nadd32 %r3, %r4\n",
        (false, _) => "mov %r3, %r4\n",
    };
    let add = if w32 { "add32" } else { "add" };
    let jump = if le { "jle" } else { "jlt" };
    format!(
        "{} %r2, [%r1+0]\n{mask}stxdw [%r10-8], %r2\nldxb %r4, [%r1+8]\n{start}mov %r0, 0\n\
         loop:\nadd %r0, 1\n{add} %r3, {step}\nldxdw %r2, [%r10-8]\n{jump} %r3, %r2, loop\nexit\n",
        LOADS[load]
    )
}

/// `for (y = entry; y * y <= n; y += step)`, the product 64- or 32-bit, the step one
/// immediate or three that add up.
fn square(load: usize, mask: usize, entry: u8, mul32: bool, steps: &[i32], strict: bool) -> String {
    let mask = match MASKS[mask] {
        Some(m) => format!("and %r2, {m}\n"),
        None => String::new(),
    };
    let entry = match entry % 3 {
        0 => "ldxb %r3, [%r1+8]\n".to_string(),
        1 => "ldxdw %r3, [%r1+8]\n".to_string(),
        _ => format!("mov %r3, {}\n", entry),
    };
    let mul = if mul32 { "mul32" } else { "mul" };
    let jump = if strict { "jge" } else { "jgt" };
    let adds: String = steps.iter().map(|s| format!("add %r3, {s}\n")).collect();
    format!(
        "{} %r2, [%r1+0]\n{mask}{entry}mov %r0, 0\nloop:\nmov %r6, %r3\n{mul} %r6, %r6\n\
         {jump} %r6, %r2, out\nadd %r0, 1\n{adds}ja loop\nout:\nexit\n",
        LOADS[load]
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn accepted_reloaded_bound_loops_finish(
        load in 0usize..4, mask in 0usize..5, high in any::<bool>(), w32 in any::<bool>(),
        step in prop::sample::select(vec![1i32, 2, 3, 7, 255, 256, 4096]),
        le in any::<bool>(),
        random in prop::collection::vec(any::<u8>(), MEM),
    ) {
        let mask = runnable_mask(load, mask, w32, step, le);
        let text = reloaded(load, mask, high, w32, step, le);
        check(&text, &inputs(random)).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn accepted_square_loops_finish(
        load in 0usize..4, mask in 0usize..5, entry in any::<u8>(), mul32 in any::<bool>(),
        steps in prop::sample::select(vec![
            vec![1i32], vec![2], vec![3], vec![255], vec![65536],
            vec![i32::MAX, i32::MAX, 2], vec![i32::MAX, 1], vec![i32::MAX, -i32::MAX, 2],
        ]),
        strict in any::<bool>(),
        random in prop::collection::vec(any::<u8>(), MEM),
    ) {
        let text = square(load, mask, entry, mul32, &steps, strict);
        check(&text, &inputs(random)).map_err(TestCaseError::fail)?;
    }
}

/// The generators reach both verdicts: the rules accept some programs and reject others (a
/// test whose every program is rejected would check nothing).
#[test]
fn both_generators_reach_both_verdicts() {
    let mut cov = Coverage::new("loop_rules_random");
    let mut seen = [[0u32; 2]; 2];
    let zero = vec![0u8; MEM];
    for load in 0..4 {
        for mask in 0..5 {
            for (i, step) in [1, 2, 3, 255].into_iter().enumerate() {
                let (w32, le) = (i % 2 == 1, i == 3);
                let mask = runnable_mask(load, mask, w32, step, le);
                let text = reloaded(load, mask, true, w32, step, le);
                let ok = check(&text, &inputs(zero.clone())).expect("reloaded");
                seen[0][usize::from(ok)] += 1;
                let text = square(load, mask, 0, i == 2, &[step], i == 1);
                let ok = check(&text, &inputs(zero.clone())).expect("square");
                seen[1][usize::from(ok)] += 1;
            }
        }
    }
    for (family, [rejected, accepted]) in ["reloaded", "square"].iter().zip(seen) {
        cov.add_compared(u64::from(accepted + rejected));
        assert!(
            accepted > 0 && rejected > 0,
            "{family}: {accepted} accepted, {rejected} rejected"
        );
    }
    cov.finish();
}
