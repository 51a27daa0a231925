//! Gate 2: the official bpf_conformance suite. Every test is verified with the `mem` program
//! type (input of the test's memory length); for every accepted program the interpreter must
//! not fault and the concrete r0 must lie in the verifier's r0 range.

use std::sync::Arc;

use apiary_conformance::{assemble, conformance_helpers, parse_file, Parsed};
use apiary_verifier::{verify, Platform, ProgramType};
use apiary_vm::{Environment, ExecConfig, Executable, Interpreter, LoadOptions, Program};

#[test]
fn conformance_r0_in_range() {
    let Some(dir) = apiary_testkit::shared::corpus("bpf_conformance/tests") else {
        return;
    };
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut files: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "data"))
        .collect();
    files.sort();
    let platform = Platform::conformance();
    let env = Environment::new(
        conformance_helpers(),
        ExecConfig {
            budget: Some(10_000_000),
        },
    );
    let (mut total, mut accepted, mut failures) = (0, 0, Vec::new());
    let mut rejected = Vec::new();
    for path in &files {
        let Ok(Parsed::Test(t)) = parse_file(path) else {
            continue;
        };
        let Ok(slots) = assemble::slots(&t.program) else {
            continue;
        };
        let Ok(program) = Program::new(slots, &LoadOptions::all()) else {
            continue;
        };
        if t.expected.error.is_some() {
            continue;
        }
        total += 1;
        let ptype = ProgramType::mem(Some(t.mem.len() as u64));
        match verify(&program, &platform, &ptype, &[]) {
            Err(r) => rejected.push(format!("{}: {r}", t.name)),
            Ok(v) => {
                accepted += 1;
                let program = Arc::new(program);
                let Ok(exe) = Interpreter::new(Arc::clone(&program), &env) else {
                    continue;
                };
                let mut mem = t.mem.clone();
                let out = exe.run_once(&mut mem);
                match out.result {
                    Ok(r0) => {
                        if let Some(range) = v.r0 {
                            if !range.contains(r0) {
                                failures.push(format!("{}: r0 {r0:#x} not in {range:?}", t.name));
                            }
                        } else {
                            failures.push(format!("{}: exited but no exit was reachable", t.name));
                        }
                    }
                    Err(f) => failures.push(format!("{}: accepted but faulted: {f}", t.name)),
                }
            }
        }
    }
    println!("gate 2: {accepted} of {total} conformance programs accepted");
    for r in &rejected {
        println!("  rejected {r}");
    }
    for f in &failures {
        println!("  FAILURE {f}");
    }
    assert!(failures.is_empty(), "{} soundness failures", failures.len());
    assert!(
        accepted * 10 >= total * 9,
        "only {accepted} of {total} accepted"
    );
}
