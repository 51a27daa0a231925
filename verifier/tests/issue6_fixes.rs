//! Regressions of issue 6's review: loops bounded by the `mem` input length (the examples),
//! 32-bit null tests, per-type helper rules and the combined stack of a call chain.

use apiary_verifier::platform::{map_type, Arg, HelperProto};
use apiary_verifier::{verify, verify_log, MapInfo, Platform, ProgramType, RejectReason};
use apiary_vm::{asm, LoadOptions, Program};

fn program(text: &str) -> Program {
    let insns = asm::assemble(text).unwrap_or_else(|e| panic!("assemble: {e}\n{text}"));
    Program::new(insns, &LoadOptions::all()).unwrap_or_else(|e| panic!("load: {e}\n{text}"))
}

const MAPS: &[MapInfo] = &[MapInfo {
    map_type: map_type::ARRAY,
    key_size: 4,
    value_size: 64,
    max_entries: 4,
    flags: 0,
    readonly: false,
    last_nul: None,
}];

fn run_on(text: &str, t: &ProgramType, p: &Platform) -> Result<(), RejectReason> {
    verify(&program(text), p, t, MAPS)
        .map(|_| ())
        .map_err(|r| r.reason)
}

fn run(text: &str, t: &ProgramType) -> Result<(), RejectReason> {
    run_on(text, t, &Platform::linux())
}

/// The `mem` type of `apiary run` and `apiary verify`: r1 the input, r2 its length.
fn input() -> ProgramType {
    ProgramType::mem(None)
}

#[track_caller]
fn accept(text: &str, t: &ProgramType) {
    if let Err(r) = run(text, t) {
        let (_, log) = verify_log(&program(text), &Platform::linux(), t, MAPS);
        panic!("rejected: {r}\n{text}\n{log}");
    }
}

#[track_caller]
fn reject(text: &str, t: &ProgramType, want: fn(&RejectReason) -> bool) {
    match run(text, t) {
        Ok(()) => panic!("accepted:\n{text}"),
        Err(r) => assert!(want(&r), "wrong reason {r:?}\n{text}"),
    }
}

fn oob(r: &RejectReason) -> bool {
    matches!(r, RejectReason::OutOfBounds { .. })
}

const SUM_BYTES: &str = include_str!("../../examples/sum_bytes.asm");
const CHECKSUM: &str = include_str!("../../examples/checksum.asm");

#[test]
fn sum_bytes_example_is_accepted() {
    accept(SUM_BYTES, &input());
}

#[test]
fn sum_bytes_off_by_one_is_rejected() {
    let bad = SUM_BYTES.replace("jge %r3, %r2, done", "jgt %r3, %r2, done");
    assert_ne!(bad, SUM_BYTES);
    reject(&bad, &input(), oob);
}

#[test]
fn length_bound_in_every_orientation() {
    let body = "mov %r4, %r1\nadd %r4, %r3\nldxb %r5, [%r4+0]\nadd %r0, %r5\nadd %r3, 1\nja loop\ndone:\nexit";
    let prog = |test: &str| format!("mov %r0, 0\nmov %r3, 0\nloop:\n{test}\n{body}");
    for ok in [
        "jge %r3, %r2, done",
        "jle %r2, %r3, done",
        "jsge %r3, %r2, done",
        "jlt %r3, %r2, +1\nja done",
        "jgt %r2, %r3, +1\nja done",
    ] {
        accept(&prog(ok), &input());
    }
    for bad in [
        "jgt %r3, %r2, done",
        "jlt %r2, %r3, done",
        "jle %r3, %r2, +1\nja done",
        // A 32-bit comparison says nothing about the 64-bit index.
        "jge32 %r3, %r2, done",
    ] {
        reject(&prog(bad), &input(), |r| {
            matches!(r, RejectReason::OutOfBounds { .. })
        });
    }
    // Reading one byte past the checked index.
    let past = prog("jge %r3, %r2, done").replace("[%r4+0]", "[%r4+1]");
    reject(&past, &input(), oob);
    // The index changed after the test.
    let moved = prog("jge %r3, %r2, done").replace("mov %r4, %r1\n", "add %r3, 1\nmov %r4, %r1\n");
    reject(&moved, &input(), oob);
    // The bound proven for one copy of the index does not carry to a different number.
    let other = prog("jge %r3, %r2, done").replace("add %r4, %r3", "add %r4, %r0");
    reject(&other, &input(), oob);
}

/// The checksum's word loop (two bytes per step, `r3 + 2 <= len`) and tail byte are proven in
/// bounds, and both loops end (see `termination_proofs.rs`).
#[test]
fn checksum_example_reads_in_bounds() {
    accept(CHECKSUM, &input());
    // Checking for one byte but reading two.
    let bad = CHECKSUM.replace("    add %r4, 2\n", "    add %r4, 1\n");
    assert_ne!(bad, CHECKSUM);
    reject(&bad, &input(), oob);
    // Reading the tail byte without the check.
    let bad = CHECKSUM.replace("    jge %r3, %r2, fold\n", "");
    assert_ne!(bad, CHECKSUM);
    reject(&bad, &input(), oob);
}

#[test]
fn thirty_two_bit_pointer_tests_learn_nothing() {
    let kp = ProgramType::kprobe();
    let base = "stw [%r10-4], 0\nlddw %r1, map_idx 0\nmov %r2, %r10\nadd %r2, -4\ncall 1\n";
    // A 32-bit null test of a possibly-null pointer is rejected.
    reject(
        &format!("{base}jne32 %r0, 0, +1\nexit\nldxb %r0, [%r0+0]\nexit"),
        &kp,
        |r| matches!(r, RejectReason::PointerComparison { .. }),
    );
    // After a full null test, a 32-bit comparison of the pointer is allowed (privileged) and
    // refines nothing.
    accept(
        &format!("{base}jeq %r0, 0, +4\njeq32 %r0, 7, +1\nldxb %r1, [%r0+0]\nmov %r0, 0\nexit\nmov %r0, 0\nexit"),
        &kp,
    );
    // Unprivileged types may not compare pointers at 32 bits at all.
    reject(
        "ldxw %r2, [%r1+0]\nldxw %r3, [%r1+4]\njgt32 %r2, %r3, +0\nmov %r0, 0\nexit",
        &ProgramType::xdp(),
        |r| matches!(r, RejectReason::PointerComparison { .. }),
    );
}

fn not_allowed(r: &RejectReason) -> bool {
    matches!(r, RejectReason::HelperNotAllowed { .. })
}

#[test]
fn helpers_are_checked_per_program_type() {
    let call = |id: u32| {
        format!("mov %r1, %r10\nadd %r1, -8\nmov %r2, 8\nmov %r3, 0\ncall {id}\nmov %r0, 0\nexit")
    };
    // probe_read: tracing only.
    for t in [
        ProgramType::kprobe(),
        ProgramType::tracepoint(),
        ProgramType::perf_event(),
    ] {
        accept(&call(4), &t);
    }
    for t in [
        ProgramType::socket_filter(),
        ProgramType::sched_cls(),
        ProgramType::xdp(),
    ] {
        reject(&call(4), &t, not_allowed);
    }
    // get_cgroup_classid: skb types only.
    let classid = "call 17\nmov %r0, 0\nexit";
    accept(classid, &ProgramType::sched_cls());
    reject(classid, &ProgramType::xdp(), not_allowed);
    reject(classid, &ProgramType::kprobe(), not_allowed);
    // xdp_adjust_head: XDP only.
    let adjust = "mov %r2, 0\ncall 44\nmov %r0, 0\nexit";
    accept(adjust, &ProgramType::xdp());
    reject(adjust, &ProgramType::sched_cls(), not_allowed);
    // Base helpers for every type.
    for t in [
        ProgramType::xdp(),
        ProgramType::socket_filter(),
        ProgramType::kprobe(),
    ] {
        accept("call 7\nmov %r0, 0\nexit", &t);
        accept("call 5\nmov %r0, 0\nexit", &t);
    }
    // A helper the embedder registers is callable from every type; the mem type has no rules.
    let mut p = Platform::linux();
    p.set_helper(
        4,
        HelperProto::new("host_read", &[Arg::MemOut, Arg::Size, Arg::Anything]),
    );
    assert_eq!(run_on(&call(4), &ProgramType::xdp(), &p), Ok(()));
    accept(&call(4), &ProgramType::mem(Some(8)));
}

#[test]
fn combined_stack_of_a_call_chain() {
    let m = ProgramType::mem(Some(8));
    let combined = |r: &RejectReason| matches!(r, RejectReason::CombinedStack { .. });
    let chain = |a: i32, b: i32, c: i32| {
        format!(
            "stdw [%r10-{a}], 0\ncall local f\nmov %r0, 0\nexit\n\
             f:\nstdw [%r10-{b}], 0\ncall local g\nexit\n\
             g:\nstdw [%r10-{c}], 0\nmov %r0, 0\nexit"
        )
    };
    accept(&chain(256, 128, 128), &m);
    reject(&chain(256, 136, 128), &m, combined);
    reject(&chain(8, 8, 512), &m, combined);
    // A frame used through a pointer derived from r10 counts as well.
    let derived = "mov %r1, %r10\nadd %r1, -400\nstdw [%r1+0], 0\ncall local f\nexit\n\
                   f:\nmov %r2, %r10\nadd %r2, -200\nstdw [%r2+0], 0\nmov %r0, 0\nexit";
    reject(derived, &m, combined);
    // Two callees side by side do not add up.
    let siblings = "stdw [%r10-256], 0\ncall local f\ncall local g\nmov %r0, 0\nexit\n\
                    f:\nstdw [%r10-256], 0\nmov %r0, 0\nexit\ng:\nstdw [%r10-256], 0\nmov %r0, 0\nexit";
    accept(siblings, &m);
    // A bpf_loop callback's frame sits on its caller's.
    let kp = ProgramType::kprobe();
    let cb = |d: i32| {
        format!(
            "stdw [%r10-256], 0\nmov %r1, 4\nlddw %r2, code_addr cb\nmov %r3, 0\nmov %r4, 0\n\
             call 181\nmov %r0, 0\nexit\ncb:\nstdw [%r10-{d}], 0\nmov %r0, 0\nexit"
        )
    };
    accept(&cb(256), &kp);
    reject(&cb(264), &kp, combined);
}
