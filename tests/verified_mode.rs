//! Verified mode against checked mode: every `.data` program the verifier accepts gives the
//! same r0, fault, instruction count, input and stack when its proven accesses run unchecked
//! (the engine-agreement harness, `apiary-testkit-engines`). Also the cheap
//! soundness check the verifier's facts must pass: no accepted program faults on its input.

use std::path::Path;
use std::sync::Arc;

use apiary::{EngineKind, LoadOptions, Runtime};
use apiary_conformance::assemble::slots;
use apiary_conformance::data::{parse_file, Parsed};
use apiary_conformance::helpers::conformance_helpers;
use apiary_testkit_engines::{Harness, Tally};
use apiary_vm::{Environment, ExecConfig, Program};

const BUDGET: u64 = 10_000_000;

/// Runs every test of `dir` in checked mode (interpreter and JIT) and in verified mode (the
/// runtime's interpreter and JIT) through the engine-agreement harness; returns (accepted by
/// the verifier, total run). Every accepted program must agree on everything and not fault.
fn compare_dir(dir: &Path, suite: &str) -> (usize, usize) {
    let runtimes = [EngineKind::Interp, EngineKind::Jit].map(|engine| {
        Runtime::new(engine)
            .with_budget(BUDGET)
            .with_options(LoadOptions::all())
    });
    let env = Environment::new(
        conformance_helpers(),
        ExecConfig {
            budget: Some(BUDGET),
        },
    );
    let mut tally = Tally::new(suite);
    let (mut accepted, mut total) = (0, 0);
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("test dir")
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    for path in files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "data"))
    {
        let Ok(Parsed::Test(case)) = parse_file(path) else {
            continue;
        };
        if case.expected.error.is_some() {
            continue;
        }
        let Ok(insns) = slots(&case.program) else {
            continue;
        };
        let Ok(program) = Program::new(insns.clone(), &LoadOptions::all()) else {
            continue;
        };
        total += 1;
        let mut harness = Harness::checked(&Arc::new(program), &env);
        let mut refused = None;
        for runtime in &runtimes {
            match runtime.load_verified_for_len(insns.clone(), case.mem.len() as u64) {
                Ok(v) => harness = harness.engine(format!("{} (verified)", v.engine_name()), Ok(v)),
                Err(e) => refused = Some(e),
            }
        }
        if let Some(e) = refused {
            eprintln!("  not verified: {}: {e}", case.name);
            tally.skip("not verified");
            continue;
        }
        accepted += 1;
        let agreement = harness.run(&case.mem);
        agreement.assert_agree(&path.display());
        tally.add(&agreement);
        let result = agreement.outcome().map(|o| o.result);
        assert!(
            matches!(result, Some(Ok(_))),
            "{}: accepted program faulted: {result:?}",
            path.display()
        );
    }
    eprintln!("{}", tally.finish());
    (accepted, total)
}

#[test]
fn own_tests_agree_in_verified_mode() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance/tests/data");
    let (accepted, total) = compare_dir(&dir, "verified_mode_own");
    eprintln!("own .data tests: {accepted} of {total} accepted and identical in verified mode");
    assert!(accepted > 100, "only {accepted} of {total} accepted");
}

#[test]
fn official_suite_agrees_in_verified_mode() {
    let Some(dir) = apiary_testkit::shared::corpus("bpf_conformance/tests") else {
        return;
    };
    let (accepted, total) = compare_dir(&dir, "verified_mode_official");
    eprintln!("official suite: {accepted} of {total} accepted and identical in verified mode");
    assert!(accepted >= 300, "only {accepted} of {total} accepted");
}

#[test]
fn other_input_lengths_are_refused() {
    let runtime = Runtime::new(EngineKind::Interp).with_budget(BUDGET);
    let insns = apiary_vm::asm::assemble("ldxdw %r0, [%r1+8]\nexit").expect("assembles");
    let exe = runtime
        .load_verified_for_len(insns.clone(), 16)
        .expect("verified for 16 bytes");
    assert_eq!(
        exe.run_once(&mut [7u8; 16]).result,
        Ok(0x0707_0707_0707_0707)
    );
    assert_eq!(
        exe.run_once(&mut [0u8; 8]).result,
        Err(apiary_vm::Fault::InputLength {
            expected: 16,
            actual: 8
        })
    );
    // With no length known, the unguarded access is not proven and the program is rejected.
    assert!(matches!(
        runtime.load_verified(insns),
        Err(apiary::Error::Rejected(_))
    ));
}
