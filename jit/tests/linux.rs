//! Differential tests of Linux-helper features on the JIT against the interpreter: tail calls
//! (`ProgramSet`, `bpf_tail_call`) and callbacks (`bpf_loop`), including faults and budget
//! exhaustion inside callbacks, and the frame limit.

use std::sync::Arc;

use apiary_jit::Jit;
use apiary_testkit_engines::Harness;
use apiary_vm::asm::assemble;
use apiary_vm::maps::{bind, map_type, MapSpec};
use apiary_vm::{ExecState, Executable, Interpreter, LoadOptions, Outcome, Program, ProgramSet};

#[path = "../../vm/tests/common/linux.rs"]
mod linux_common;

use linux_common::{call_bpf_loop, setup, Setup, LOOP_SUM};

impl Setup {
    /// The program on both engines: (interpreter, JIT).
    fn both(&self, text: &str, budget: Option<u64>) -> (Arc<dyn Executable>, Arc<dyn Executable>) {
        let insns = assemble(text).expect("assembles");
        let program = Program::new(insns, &LoadOptions::all()).expect("loads");
        let bound = Arc::new(bind(&program, &self.table).expect("binds").program);
        let env = self.env(budget);
        let interp = Interpreter::new(Arc::clone(&bound), &env).expect("prepares");
        let jit = Jit::new(bound, &env).expect("compiles");
        (Arc::new(interp), Arc::new(jit))
    }
}

/// Runs on both engines through the engine-agreement harness (same input and stack, the whole
/// state compared); returns the agreed outcome.
fn agree(s: &Setup, text: &str, budget: Option<u64>, input: &[u8]) -> Outcome {
    let (i, j) = s.both(text, budget);
    let a = Harness::new()
        .shared_engine("interp", Ok(i))
        .shared_engine("jit", Ok(j))
        .run(input);
    a.assert_agree(&text);
    a.outcome().expect("both ran")
}

/// Callbacks (both backends).
#[test]
fn bpf_loop_callbacks_agree() {
    let s = setup(&[]);
    for budget in [None, Some(10_000)] {
        let out = agree(&s, LOOP_SUM, budget, &[]);
        assert_eq!(out.result, Ok(6 << 32 | 15));
    }
    // Budget exhausted inside a callback (at a backward jump or call of the callback).
    for budget in [5, 8, 12, 20, 30, 40] {
        agree(&s, LOOP_SUM, Some(budget), &[]);
    }
    let looping_cb = format!(
        "{}
        exit
        cb:
        mov %r0, 0
        mov %r6, 3
        again:
        add %r6, -1
        jne %r6, 0, again
        exit",
        call_bpf_loop(4)
    );
    for budget in [None, Some(10), Some(25), Some(33), Some(1000)] {
        agree(&s, &looping_cb, budget, &[]);
    }
}

/// A program run on both engines, and whether its run must fail.
struct Case {
    what: &'static str,
    text: String,
    budget: Option<u64>,
    input: &'static [u8],
    fails: bool,
}

#[test]
fn callback_faults_are_the_runs() {
    let s = setup(&[]);
    let cases = [
        Case {
            what: "out of bounds inside the callback",
            text: format!(
                "{}\nexit\ncb:\nmov %r0, 0\nldxdw %r0, [%r1]\nexit",
                call_bpf_loop(3)
            ),
            budget: Some(1000),
            input: &[1, 2, 3],
            fails: true,
        },
        Case {
            what: "not a code address: an invalid argument",
            text: "mov %r1, 3\nmov %r2, 12345\nmov %r3, 0\nmov %r4, 0\ncall 181\nexit".to_owned(),
            budget: None,
            input: &[],
            fails: true,
        },
        Case {
            what: "nested callbacks run out of frames",
            text: format!(
                "{}\nexit\ncb:\nstdw [%r10-8], 1\n{}\nexit",
                call_bpf_loop(1),
                call_bpf_loop(1)
            ),
            budget: Some(100_000),
            input: &[],
            fails: true,
        },
        Case {
            what: "local calls inside callbacks share the frame limit",
            text: format!(
                "{}\nexit\ncb:\ncall local f\nexit\nf:\nmov %r0, 0\nstdw [%r10-512], 7\nexit",
                call_bpf_loop(2)
            ),
            budget: Some(1000),
            input: &[],
            fails: false,
        },
        Case {
            what: "the callback's stack frame is below the caller's: writes through r10 land there",
            text: "mov %r6, %r10
            stdw [%r10-8], 0
            mov %r1, 3
            lddw %r2, code_addr cb
            mov %r3, %r10
            add %r3, -8
            mov %r4, 0
            call 181
            ldxdw %r0, [%r10-8]
            exit
            cb:
            stxdw [%r10-8], %r10
            ldxdw %r3, [%r2]
            add %r3, 1
            stxdw [%r2], %r3
            mov %r0, 0
            exit"
                .to_owned(),
            budget: None,
            input: &[],
            fails: false,
        },
    ];
    for case in cases {
        let out = agree(&s, &case.text, case.budget, case.input);
        if case.fails {
            assert!(out.result.is_err(), "{}: {out:?}", case.what);
        }
    }
}

#[test]
fn tail_calls_agree() {
    let s = setup(&[MapSpec::new("progs", map_type::PROG_ARRAY, 4, 4, 4)]);
    let dispatcher = "mov %r6, %r1
        mov %r1, %r6
        lddw %r2, map_idx 0
        mov %r3, 1
        call 12
        exit";
    let target = "ldxb %r0, [%r1]\nexit";
    let looping = "mov %r6, %r1
        mov %r1, %r6
        lddw %r2, map_idx 0
        mov %r3, 2
        call 12
        add %r0, 100
        exit";
    let (d_i, d_j) = s.both(dispatcher, Some(100_000));
    let (t_i, t_j) = s.both(target, Some(100_000));
    let (l_i, l_j) = s.both(looping, Some(100_000));
    let interp = ProgramSet::new(vec![d_i, t_i, l_i]);
    let jit = ProgramSet::new(vec![d_j, t_j, l_j]);
    let run = |set: &ProgramSet, entry: usize| {
        let mut input = [7u8];
        set.run(entry, &mut ExecState::new(), &mut input)
            .expect("entry")
    };
    // Empty slot: the program continues.
    assert_eq!(run(&interp, 0), run(&jit, 0));
    s.table
        .update(0, &1u32.to_le_bytes(), &1u32.to_le_bytes(), 0)
        .expect("set");
    let out = run(&jit, 0);
    assert_eq!(out.result, Ok(7));
    assert_eq!(out, run(&interp, 0));
    // A chain of self tail calls stops after the limit.
    s.table
        .update(0, &2u32.to_le_bytes(), &2u32.to_le_bytes(), 0)
        .expect("set");
    assert_eq!(run(&interp, 2), run(&jit, 2));
}
