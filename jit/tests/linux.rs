//! Differential tests of Linux-helper features on the JIT against the interpreter: tail calls
//! (`ProgramSet`, `bpf_tail_call`) and callbacks (`bpf_loop`), including faults and budget
//! exhaustion inside callbacks, and the frame limit.

use std::sync::{Arc, Mutex};

use apiary_jit::Jit;
use apiary_vm::asm::assemble;
use apiary_vm::linux::{self, LinuxOptions, TraceSink};
use apiary_vm::maps::{bind, map_type, MapOptions, MapSpec, MapTable};
use apiary_vm::{
    Environment, ExecConfig, ExecState, Executable, Interpreter, LoadOptions, Outcome, Program,
    ProgramSet,
};

struct Setup {
    table: Arc<MapTable>,
    options: LinuxOptions,
    _trace: Arc<Mutex<Vec<String>>>,
}

fn setup(specs: &[MapSpec]) -> Setup {
    let table = Arc::new(
        MapTable::from_specs(
            specs,
            MapOptions {
                nr_slots: 4,
                perf_ring_bytes: 4096,
            },
        )
        .expect("maps"),
    );
    let (sink, trace) = TraceSink::buffer();
    Setup {
        table,
        options: LinuxOptions { trace: sink },
        _trace: trace,
    }
}

impl Setup {
    fn env(&self, budget: Option<u64>) -> Environment {
        linux::environment(&self.table, &self.options, ExecConfig { budget })
    }

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

/// Runs on both engines (fresh states) and requires identical outcomes; returns it.
fn agree(s: &Setup, text: &str, budget: Option<u64>, input: &[u8]) -> Outcome {
    let (i, j) = s.both(text, budget);
    let mut a = input.to_vec();
    let mut b = input.to_vec();
    let oi = i.run(&mut ExecState::new(), &mut a);
    let oj = j.run(&mut ExecState::new(), &mut b);
    assert_eq!(oi, oj, "interp vs jit on:\n{text}");
    assert_eq!(a, b, "memory");
    oi
}

const LOOP_SUM: &str = "stdw [%r10-8], 0
    mov %r1, 10
    lddw %r2, code_addr cb
    mov %r3, %r10
    add %r3, -8
    mov %r4, 0
    call 181
    ldxdw %r1, [%r10-8]
    lsh %r0, 32
    or %r0, %r1
    exit
    cb:
    ldxdw %r3, [%r2]
    add %r3, %r1
    stxdw [%r2], %r3
    mov %r0, 0
    jne %r1, 5, cont
    mov %r0, 1
    cont:
    exit";

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
    let looping_cb = "mov %r1, 4
        lddw %r2, code_addr cb
        mov %r3, 0
        mov %r4, 0
        call 181
        exit
        cb:
        mov %r0, 0
        mov %r6, 3
        again:
        add %r6, -1
        jne %r6, 0, again
        exit";
    for budget in [None, Some(10), Some(25), Some(33), Some(1000)] {
        agree(&s, looping_cb, budget, &[]);
    }
}

#[test]
fn callback_faults_are_the_runs() {
    let s = setup(&[]);
    // Out of bounds inside the callback.
    let out = agree(
        &s,
        "mov %r1, 3
        lddw %r2, code_addr cb
        mov %r3, 0
        mov %r4, 0
        call 181
        exit
        cb:
        mov %r0, 0
        ldxdw %r0, [%r1]
        exit",
        Some(1000),
        &[1, 2, 3],
    );
    assert!(out.result.is_err());
    // Not a code address: an invalid argument.
    let out = agree(
        &s,
        "mov %r1, 3
        mov %r2, 12345
        mov %r3, 0
        mov %r4, 0
        call 181
        exit",
        None,
        &[],
    );
    assert!(out.result.is_err());
    // Nested callbacks run out of frames.
    let out = agree(
        &s,
        "mov %r1, 1
        lddw %r2, code_addr cb
        mov %r3, 0
        mov %r4, 0
        call 181
        exit
        cb:
        stdw [%r10-8], 1
        mov %r1, 1
        lddw %r2, code_addr cb
        mov %r3, 0
        mov %r4, 0
        call 181
        exit",
        Some(100_000),
        &[],
    );
    assert!(out.result.is_err());
    // Local calls inside callbacks share the frame limit.
    agree(
        &s,
        "mov %r1, 2
        lddw %r2, code_addr cb
        mov %r3, 0
        mov %r4, 0
        call 181
        exit
        cb:
        call local f
        exit
        f:
        mov %r0, 0
        stdw [%r10-512], 7
        exit",
        Some(1000),
        &[],
    );
    // The callback's stack frame is below the caller's: writes through r10 land there.
    agree(
        &s,
        "mov %r6, %r10
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
        exit",
        None,
        &[],
    );
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
