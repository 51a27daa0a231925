//! Random kernel differential: thousands of generated programs the kernel verifier must accept
//! (`apiary_conformance::kernel::gen`), each run on the interpreter, the JIT and the kernel on
//! the same input. r0 and the input buffer afterwards must be identical everywhere (and the
//! instruction counts of the interpreter and the JIT). A program the kernel rejects is a
//! generator bug: more than a small fraction fails the test.
//!
//! Where the kernel oracle is unavailable the interpreter/JIT half still runs and the kernel
//! half prints a NOTICE, unless `APIARY_REQUIRE_KERNEL=1` makes that a failure. The counts are
//! recorded in `target/apiary-coverage/kernel_random.txt` (`.ci/coverage-summary`).

mod common;

use common::kernel_coverage;

use std::sync::Arc;

use apiary_conformance::engine::{prepare_for_input, EngineKind, PrepareError};
use apiary_conformance::kernel::gen::{generate, Rng, Shape};
use apiary_conformance::kernel::{self, KernelError};
use apiary_vm::disasm;
use apiary_vm::{Environment, ExecConfig, HelperTable, LoadOptions, Outcome, Program};

/// The generator's seed: the run is reproducible, and a failure names the program number.
const SEED: u64 = 0x00a9_1a27;
/// Programs the kernel must run (the issue asks for at least 5,000).
const PROGRAMS: u64 = 6000;
/// At most this many per mille may be rejected by the kernel verifier.
const MAX_REJECTED_PER_MILLE: u64 = 5;

fn listing(program: &Program) -> String {
    let mut out = String::new();
    let insns = program.insns();
    let mut pc = 0;
    while pc < insns.len() {
        let (text, slots) = disasm::format_slot(insns, pc, program.options());
        out.push_str(&format!("{pc:4}: {text}\n"));
        pc += slots.max(1);
    }
    out
}

fn run(
    kind: EngineKind,
    program: &Arc<Program>,
    env: &Environment,
    input: &[u8],
) -> Result<(Outcome, Vec<u8>), PrepareError> {
    let exe = prepare_for_input(kind, Arc::clone(program), env, Some(input.len()))?;
    let mut mem = input.to_vec();
    let outcome = exe.run_once(&mut mem);
    Ok((outcome, mem))
}

#[test]
fn kernel_random_differential() {
    let coverage = kernel_coverage("kernel_random");
    let kernel_ok = coverage.is_some();
    let env = Environment::new(
        HelperTable::new(),
        ExecConfig {
            budget: Some(1 << 20),
        },
    );
    let mut rng = Rng::new(SEED);
    let (mut ran_in_kernel, mut rejected, mut agreed) = (0u64, 0u64, 0u64);
    let mut rejections = Vec::new();
    let mut disagreements = Vec::new();
    let mut total = 0u64;
    while ran_in_kernel < PROGRAMS && total < PROGRAMS * 2 {
        total += 1;
        let shape = Shape {
            items: 8 + rng.below(32),
            depth: 1 + rng.below(3) as u32,
        };
        let g = generate(&mut rng, shape);
        let program = match Program::new(g.insns.clone(), &LoadOptions::default()) {
            Ok(p) => Arc::new(p),
            Err(e) => panic!("program {total} does not load: {e}"),
        };
        let interp = match run(EngineKind::Interp, &program, &env, &g.input) {
            Ok(r) => r,
            Err(e) => panic!("interp: {e}"),
        };
        assert!(
            interp.0.result.is_ok(),
            "program {total} faults on the interpreter: {:?}\n{}",
            interp.0,
            listing(&program)
        );
        let jit = match run(EngineKind::Jit, &program, &env, &g.input) {
            Ok(r) => r,
            Err(e) => panic!("jit: {e}"),
        };
        if jit != interp {
            disagreements.push(format!(
                "program {total}: interp {:?} vs jit {:?}\n{}",
                interp,
                jit,
                listing(&program)
            ));
        }
        if !kernel_ok {
            if total >= PROGRAMS {
                break;
            }
            continue;
        }
        match run(EngineKind::Kernel, &program, &env, &g.input) {
            Ok((outcome, mem)) => {
                ran_in_kernel += 1;
                if outcome.result != interp.0.result || mem != interp.1 {
                    disagreements.push(format!(
                        "program {total} (input {:02x?}): interp {:?} mem {:02x?} vs kernel {:?} mem {:02x?}\n{}",
                        g.input, interp.0.result, interp.1, outcome.result, mem, listing(&program)
                    ));
                } else {
                    agreed += 1;
                }
            }
            Err(PrepareError::Kernel {
                error: KernelError::Rejected { log, .. },
            }) => {
                rejected += 1;
                if rejections.len() < 3 {
                    rejections.push(format!(
                        "program {total}: {}\n{}",
                        kernel::log_tail(&log, 6),
                        listing(&program)
                    ));
                }
            }
            Err(e) => panic!("program {total}: {e}"),
        }
    }
    assert!(
        disagreements.is_empty(),
        "{} disagreements:\n{}",
        disagreements.len(),
        disagreements
            .iter()
            .take(3)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    let Some(mut coverage) = coverage else {
        return;
    };
    coverage.add_compared(agreed);
    coverage.add_skipped("rejected by the kernel verifier (generator)", rejected);
    assert!(
        rejected * 1000 <= total * MAX_REJECTED_PER_MILLE,
        "{rejected} of {total} generated programs rejected by the kernel verifier (generator bug):\n{}",
        rejections.join("\n")
    );
    assert!(
        ran_in_kernel >= PROGRAMS,
        "only {ran_in_kernel} programs ran in the kernel"
    );
    coverage.finish();
}
