//! The partial analysis (`Options::partial`, checked mode): twins where a naive rule would
//! prove an access it must not. Each unsafe program has a store, atomic or call that the
//! analysis cannot prove and that, at run time, may write memory the analysis tracks (a spilled
//! pointer, a spilled bound, the context's packet fields, a caller's frame), or an atomic that
//! fetches an unknown value; the access marked `; <- checked` after it must come out unproven.
//! Its safe twin, without that write, must have the same access proven, so each pair shows the
//! forgetting is what makes the difference. Plus: what the partial analysis still rejects.

mod common;

use apiary_verifier::{verify_with, Options, Platform, ProgramType, Verified};
use common::program;

fn partial(text: &str, t: &ProgramType) -> Result<Verified, String> {
    let options = Options {
        partial: true,
        ..Options::default()
    };
    verify_with(&program(text), &Platform::linux(), t, &[], &options)
        .0
        .map_err(|r| format!("{}: {}", r.pc, r.reason))
}

/// The slot of the line marked `; <- checked` (lines are one slot each here).
fn marked(text: &str) -> usize {
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.trim_end().ends_with(':'))
        .position(|l| l.contains("; <- checked"))
        .expect("a marked access")
}

fn strip(text: &str) -> String {
    text.lines()
        .map(|l| l.split(';').next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `unsafe_text` has the marked access unproven, `safe_text` proven; both accepted partially.
#[track_caller]
fn twin(name: &str, t: &ProgramType, unsafe_text: &str, safe_text: &str) {
    for (text, want) in [(unsafe_text, false), (safe_text, true)] {
        let pc = marked(text);
        let v = partial(&strip(text), t).unwrap_or_else(|e| panic!("{name}: rejected {e}"));
        assert!(v.partial, "{name}");
        assert_eq!(
            v.facts.access_proven(pc),
            want,
            "{name}: access at {pc} should be {}:\n{text}",
            if want { "proven" } else { "unproven" }
        );
    }
}

#[test]
fn a_spilled_pointer_overwritten_by_a_checked_store_is_not_trusted() {
    twin(
        "spilled pointer",
        &ProgramType::mem(Some(8)),
        "stxdw [%r10-8], %r1
         ldxdw %r2, [%r1+0]
         stxdw [%r2+0], %r2
         ldxdw %r3, [%r10-8]
         ldxb %r0, [%r3+0] ; <- checked
         exit",
        "stxdw [%r10-8], %r1
         ldxdw %r2, [%r1+0]
         ldxdw %r3, [%r10-8]
         ldxb %r0, [%r3+0] ; <- checked
         exit",
    );
}

#[test]
fn a_spilled_bound_overwritten_by_a_checked_store_is_not_trusted() {
    twin(
        "spilled bound",
        &ProgramType::mem(Some(8)),
        "stdw [%r10-8], 4
         ldxdw %r2, [%r1+0]
         stxw [%r2+0], %r2
         ldxdw %r4, [%r10-8]
         add %r1, %r4
         ldxw %r0, [%r1+0] ; <- checked
         exit",
        "stdw [%r10-8], 4
         ldxdw %r2, [%r1+0]
         ldxdw %r4, [%r10-8]
         add %r1, %r4
         ldxw %r0, [%r1+0] ; <- checked
         exit",
    );
}

#[test]
fn a_checked_store_in_a_callee_forgets_the_callers_frame() {
    twin(
        "caller's frame",
        &ProgramType::mem(Some(8)),
        "stxdw [%r10-8], %r1
         ldxdw %r1, [%r1+0]
         call local f
         ldxdw %r3, [%r10-8]
         ldxb %r0, [%r3+0] ; <- checked
         exit
         f:
         stxdw [%r1+0], %r1
         mov %r0, 0
         exit",
        "stxdw [%r10-8], %r1
         ldxdw %r1, [%r1+0]
         call local f
         ldxdw %r3, [%r10-8]
         ldxb %r0, [%r3+0] ; <- checked
         exit
         f:
         stxdw [%r10-8], %r1
         mov %r0, 0
         exit",
    );
}

#[test]
fn a_checked_atomic_fetches_an_unknown_value_and_forgets_memory() {
    twin(
        "atomic fetch",
        &ProgramType::mem(Some(8)),
        "ldxdw %r2, [%r1+0]
         mov %r3, 4
         lock xchg [%r2+0], %r3
         add %r1, %r3
         ldxw %r0, [%r1+0] ; <- checked
         exit",
        "ldxdw %r2, [%r1+0]
         mov %r3, 4
         add %r1, %r3
         ldxw %r0, [%r1+0] ; <- checked
         exit",
    );
    twin(
        "atomic write",
        &ProgramType::mem(Some(8)),
        "stxdw [%r10-8], %r1
         ldxdw %r2, [%r1+0]
         mov %r3, 4
         lock add [%r2+0], %r3
         ldxdw %r3, [%r10-8]
         ldxb %r0, [%r3+0] ; <- checked
         exit",
        "stxdw [%r10-8], %r1
         ldxdw %r2, [%r1+0]
         mov %r3, 4
         ldxdw %r3, [%r10-8]
         ldxb %r0, [%r3+0] ; <- checked
         exit",
    );
}

/// The context copy is writable in checked mode (it is the run's input): after a checked store
/// anywhere, `data`/`data_end` read from it are numbers, so a packet access bounded by them is
/// not proven.
#[test]
fn a_checked_store_may_have_rewritten_the_context_packet_fields() {
    twin(
        "xdp context",
        &ProgramType::xdp(),
        "mov %r6, %r1
         ldxw %r7, [%r6+16]
         stxw [%r7+0], %r7
         ldxw %r2, [%r6+0]
         ldxw %r3, [%r6+4]
         mov %r4, %r2
         add %r4, 8
         mov %r0, 0
         jgt %r4, %r3, +1
         ldxdw %r0, [%r2+0] ; <- checked
         exit",
        "mov %r6, %r1
         ldxw %r7, [%r6+16]
         ldxw %r2, [%r6+0]
         ldxw %r3, [%r6+4]
         mov %r4, %r2
         add %r4, 8
         mov %r0, 0
         jgt %r4, %r3, +1
         ldxdw %r0, [%r2+0] ; <- checked
         exit",
    );
    // A store to a context field the type does not let programs write is checked too (the
    // engines allow it: the context copy is the input region).
    twin(
        "xdp context field written",
        &ProgramType::xdp(),
        "mov %r6, %r1
         ldxw %r2, [%r6+0]
         add %r2, 64
         stxw [%r6+4], %r2
         ldxw %r2, [%r6+0]
         ldxw %r3, [%r6+4]
         mov %r4, %r2
         add %r4, 8
         mov %r0, 0
         jgt %r4, %r3, +1
         ldxdw %r0, [%r2+0] ; <- checked
         exit",
        "mov %r6, %r1
         ldxw %r2, [%r6+0]
         add %r2, 64
         ldxw %r2, [%r6+0]
         ldxw %r3, [%r6+4]
         mov %r4, %r2
         add %r4, 8
         mov %r0, 0
         jgt %r4, %r3, +1
         ldxdw %r0, [%r2+0] ; <- checked
         exit",
    );
}

/// What the engines do not check at run time still rejects the partial analysis (the program
/// then runs fully checked): pointer arithmetic it cannot follow, unknown helpers. Loops need
/// no termination proof.
#[test]
fn what_is_not_checked_at_run_time_still_rejects() {
    let t = ProgramType::mem(Some(8));
    assert!(partial("call 9999\nexit", &t).is_err(), "unknown helper");
    assert!(
        partial("mov %r2, %r1\nmul %r2, %r1\nmov %r0, 0\nexit", &t).is_err(),
        "pointer multiplication"
    );
    let spin = "mov %r0, 0\nl:\nldxb %r2, [%r1+0]\njne %r2, 7, l\nexit";
    assert!(
        verify_with(
            &program(spin),
            &Platform::linux(),
            &t,
            &[],
            &Options::default()
        )
        .0
        .is_err(),
        "not provably bounded"
    );
    let v = partial(spin, &t).expect("termination is not required");
    assert!(v.facts.access_proven(1));
}
