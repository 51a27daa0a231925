//! Termination proofs beyond a register stepped in place: an index advanced by copying
//! `index + c` back (relational induction), a loop whose value shrinks each trip (bounded
//! abstract unrolling), a counter tested through a 32-bit truncated copy; and twins that may
//! really not end, rejected.

use apiary_verifier::{verify, Platform, ProgramType, RejectReason};
use apiary_vm::{asm, LoadOptions, Program};

const CHECKSUM: &str = include_str!("../../examples/checksum.asm");

fn run(text: &str) -> Result<(), RejectReason> {
    let insns = asm::assemble(text).unwrap_or_else(|e| panic!("assemble: {e}\n{text}"));
    let p = Program::new(insns, &LoadOptions::all()).expect("load");
    verify(&p, &Platform::linux(), &ProgramType::mem(None), &[])
        .map(|_| ())
        .map_err(|r| r.reason)
}

#[track_caller]
fn unbounded(text: &str) {
    let r = run(text);
    assert!(
        matches!(r, Err(RejectReason::UnboundedLoop { .. })),
        "{r:?}\n{text}"
    );
}

#[test]
fn checksum_is_accepted() {
    assert_eq!(run(CHECKSUM), Ok(()));
}

#[test]
fn checksum_twins_that_may_not_end_are_rejected() {
    // The index is not advanced.
    let stuck = CHECKSUM.replace("    mov %r3, %r4\n", "    mov %r3, %r3\n");
    assert_ne!(stuck, CHECKSUM);
    unbounded(&stuck);
    // The index is copied from a value that is not `index + c`.
    let other = CHECKSUM.replace("    mov %r3, %r4\n", "    mov %r3, %r6\n");
    assert_ne!(other, CHECKSUM);
    unbounded(&other);
    // The fold keeps a high bit set: it never ends.
    let fold = CHECKSUM.replace(
        "    and %r0, 0xffff\n",
        "    and %r0, 0xffff\n    or %r0, 0x10000\n",
    );
    assert_ne!(fold, CHECKSUM);
    unbounded(&fold);
    // No mask at all: the sum only grows until it wraps.
    let grow = CHECKSUM.replace("    and %r0, 0xffff\n", "");
    unbounded(&grow);
}

const TRUNC: &str = "
    mov %r6, 0
loop:
    add %r6, 1
    mov %r1, %r6
    lsh %r1, 32
    rsh %r1, 32
    jne %r1, BOUND, loop
    mov %r0, 0
    exit
";

#[test]
fn counter_tested_through_a_truncated_copy() {
    assert_eq!(run(&TRUNC.replace("BOUND", "1000")), Ok(()));
    let mov32 = TRUNC.replace(
        "    mov %r1, %r6\n    lsh %r1, 32\n    rsh %r1, 32\n",
        "    mov32 %r1, %r6\n",
    );
    assert_eq!(run(&mov32.replace("BOUND", "1000")), Ok(()));
    // A bound past 32 bits is never met by the truncated copy.
    let far = TRUNC
        .replace(
            "    mov %r6, 0\n",
            "    mov %r6, 0\n    lddw %r7, 0x100000000\n",
        )
        .replace("BOUND", "%r7");
    unbounded(&far);
}

/// A 32-bit counter compared with `!=` to a 64-bit bound past its range wraps before meeting
/// it (this was accepted before).
#[test]
fn narrow_counter_never_meets_a_wide_bound() {
    unbounded(
        "
    lddw %r7, 0x200000000
    mov %r6, 0
loop:
    add32 %r6, 1
    jne %r6, %r7, loop
    mov %r0, 0
    exit
",
    );
    assert_eq!(
        run("
    mov %r7, 1000
    mov %r6, 0
loop:
    add32 %r6, 1
    jne %r6, %r7, loop
    mov %r0, 0
    exit
"),
        Ok(())
    );
}
