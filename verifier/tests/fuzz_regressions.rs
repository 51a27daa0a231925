//! Programs found by the `verifier_soundness` fuzz target (fuzz/regressions/): each must be
//! rejected or accepted with an r0 range holding what the checked interpreter returns; a
//! reachable `exit` must never be reported unreachable.

use std::sync::Arc;

use apiary_verifier::{
    verify, verify_log, verify_with, Limits, Options, Platform, ProgramType, RejectReason, Verified,
};
use apiary_vm::{
    asm, Environment, ExecConfig, Executable, HelperTable, Interpreter, LoadOptions, Program,
};

fn program(text: &str) -> Program {
    let insns = asm::assemble(text).unwrap_or_else(|e| panic!("assemble: {e}\n{text}"));
    Program::new(insns, &LoadOptions::all()).unwrap_or_else(|e| panic!("load: {e}\n{text}"))
}

fn mem16() -> ProgramType {
    ProgramType::mem(Some(16))
}

fn verify16(text: &str) -> Result<Verified, RejectReason> {
    verify(&program(text), &Platform::empty(), &mem16(), &[]).map_err(|r| r.reason)
}

/// Runs `text` on the checked interpreter with the input 00 01 .. 0f; r0 or the fault.
fn interp(text: &str) -> Result<u64, String> {
    let env = Environment::new(
        HelperTable::new(),
        ExecConfig {
            budget: Some(1_000_000),
        },
    );
    let exe = Interpreter::new(Arc::new(program(text)), &env).expect("interpreter");
    let mut input: Vec<u8> = (0..16).collect();
    exe.run_once(&mut input).result.map_err(|f| f.to_string())
}

/// The fuzz target's property, for one program.
#[track_caller]
fn sound(text: &str) -> Option<Verified> {
    let v = verify16(text).ok()?;
    match interp(text) {
        Ok(r0) => {
            let Some(range) = v.r0 else {
                let (_, log) = verify_log(&program(text), &Platform::empty(), &mem16(), &[]);
                panic!("exit reported unreachable, interpreter returned {r0:#x}\n{text}\n{log}");
            };
            assert!(range.contains(r0), "r0 {r0:#x} outside {range:?}\n{text}");
        }
        Err(f) => panic!("accepted program faulted: {f}\n{text}"),
    }
    Some(v)
}

const EXIT_UNREACHABLE: &str = "mov %r0, 0
mov %r3, 0
jge %r3, %r2, +6
mov %r4, %r1
add %r1, %r3
ldxb %r5, [%r4]
sub32 %r0, 1536
add %r3, 16318465
ja -7
exit";

/// `fuzz/regressions/verifier_soundness-exit-unreachable.asm`: the loop exits in its first
/// trip (r3 jumps from 0 past r2 = 16). The ascending passes cut the path at the load (r1, the
/// pointer itself, advances by the widened r3), so the narrowed head held only the first trip and
/// the final pass never saw r3 = 16318465 at the test: `exit` was judged unreachable. The loop
/// is now passed again from its post-fixpoint head when the final pass brings back a state the
/// narrowed head does not cover, which reports the load (the verdict is a rejection).
#[test]
fn exit_after_a_large_step_is_reachable() {
    assert_eq!(interp(EXIT_UNREACHABLE), Ok(0xffff_fa00));
    sound(EXIT_UNREACHABLE);
    for max_paths in [1, 2, 32] {
        let options = Options {
            limits: Limits {
                max_paths,
                ..Limits::default()
            },
            ..Options::default()
        };
        let (r, _) = verify_with(
            &program(EXIT_UNREACHABLE),
            &Platform::empty(),
            &mem16(),
            &[],
            &options,
        );
        if let Ok(v) = r {
            let range = v.r0.expect("exit reachable");
            assert!(range.contains(0xffff_fa00), "{range:?}");
        }
    }
}

/// The dropped path with an unsafe access on it: a store above the stack top after the loop.
#[test]
fn unsafe_access_after_the_loop_is_rejected() {
    let text = EXIT_UNREACHABLE.replace("exit", "stb [%r10+8], 0\nexit");
    assert!(interp(&text).is_err(), "the store faults at run time");
    assert!(verify16(&text).is_err(), "accepted:\n{text}");
}

/// A twin whose body is safe in the widened state (a copy of the pointer advances, not the
/// pointer): accepted, r0 covers the first trip's value, and the store after the loop is found.
#[test]
fn loop_exit_after_a_large_step_is_analysed() {
    let safe = "mov %r0, 0
mov %r3, 0
loop:
jge %r3, %r2, out
mov %r4, %r1
add %r4, %r3
ldxb %r5, [%r4]
sub32 %r0, 1536
add %r3, 16318465
ja loop
out:
exit";
    let v = sound(safe).expect("accepted");
    assert!(v.r0.is_some_and(|r| r.contains(0xffff_fa00)));
    let text = safe.replace("out:\nexit", "out:\nstb [%r10+8], 0\nexit");
    match verify16(&text) {
        Err(RejectReason::OutOfBounds { .. }) => {}
        other => panic!("{other:?}\n{text}"),
    }
}

/// Found by `verifier_soundness`: the `jge` jumps to the `ja` that closes the loop, entering it
/// at a block after its head (an irreducible loop). The head's own entry edge is infeasible
/// (r3 starts past r2), so the component was skipped as unreachable and the load at
/// input + 0x2000000 never checked.
const SECOND_ENTRY: &str = "mov %r0, 4
mov %r3, 0x2000000
jge %r3, %r2, +6
mov %r4, %r1
add %r4, %r3
ldxb %r5, [%r4]
add %r0, %r5
add %r3, 1
add32 %r0, 0
ja -7
exit";

#[test]
fn loop_entered_after_its_head_is_analysed() {
    assert!(interp(SECOND_ENTRY).is_err(), "the load faults");
    match verify16(SECOND_ENTRY) {
        Err(RejectReason::OutOfBounds { .. }) => {}
        other => panic!("{other:?}"),
    }
}

/// A bounded irreducible loop entered only at its second block: accepted, with the exit and
/// r0 found; with an unsafe store after the loop, rejected.
#[test]
fn irreducible_loop_entered_only_at_its_second_block() {
    let safe = "mov %r0, 0
mov %r3, 0
mov %r6, 7
jeq %r6, 7, mid
top:
add %r0, 1
mid:
add %r3, 1
jlt %r3, 16, top
exit";
    assert_eq!(interp(safe), Ok(15));
    let v = sound(safe).expect("accepted");
    assert!(v.r0.is_some_and(|r| r.contains(15)));
    let text = safe.replace("\nexit", "\nstb [%r10+8], 0\nexit");
    assert!(interp(&text).is_err());
    match verify16(&text) {
        Err(RejectReason::OutOfBounds { .. }) => {}
        other => panic!("{other:?}\n{text}"),
    }
    // Without a test on the loop it never ends: rejected as unbounded.
    let endless = safe.replace("jlt %r3, 16, top", "ja top");
    assert!(matches!(
        verify16(&endless),
        Err(RejectReason::UnboundedLoop { .. })
    ));
}
