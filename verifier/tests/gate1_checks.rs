//! Gate 1: hand-written accept/reject pairs, one or more per check class; each rejection names
//! its expected reason variant.

use apiary_verifier::platform::map_type;
use apiary_verifier::{verify_log, MapInfo, Platform, ProgramType, RejectReason, Verified};

mod common;

use common::{map, mem8, program};

/// Map 0: hash; 1: read-only array; 2: ring buffer; 3: prog array.
fn maps() -> Vec<MapInfo> {
    vec![
        map(map_type::HASH, 4, 8, 16),
        MapInfo {
            readonly: true,
            last_nul: None,
            ..map(map_type::ARRAY, 4, 16, 1)
        },
        map(map_type::RINGBUF, 0, 0, 4096),
        map(map_type::PROG_ARRAY, 4, 4, 4),
    ]
}

#[track_caller]
fn accept(text: &str, t: ProgramType) -> Verified {
    common::accept(text, &t, &maps())
}

#[track_caller]
fn reject(text: &str, t: ProgramType, want: fn(&RejectReason) -> bool) {
    common::reject(text, &t, &maps(), want);
}

#[test]
fn uninitialised_registers() {
    accept("mov %r0, 1\nexit", mem8());
    reject("exit", mem8(), |r| {
        matches!(r, RejectReason::UninitRegister { reg: 0 })
    });
    reject("add %r0, %r3\nexit", mem8(), |r| {
        matches!(r, RejectReason::UninitRegister { .. })
    });
    // r1–r5 are clobbered by helper calls.
    reject(
        "call 5\nmov %r0, %r1\nadd %r0, 1\nexit",
        ProgramType::kprobe(),
        |r| matches!(r, RejectReason::UninitRegister { reg: 0 }),
    );
}

#[test]
fn r0_range_and_input_bounds() {
    let v = accept("ldxb %r0, [%r1+7]\nexit", mem8());
    let r = v.r0.expect("exit reachable");
    assert_eq!((r.umin, r.umax), (0, 255));
    assert!(v.facts.access_in_bounds[0]);
    reject("ldxb %r0, [%r1+8]\nexit", mem8(), |r| {
        matches!(r, RejectReason::OutOfBounds { .. })
    });
    reject("ldxdw %r0, [%r1+1]\nexit", mem8(), |r| {
        matches!(r, RejectReason::OutOfBounds { .. })
    });
}

#[test]
fn stack_bounds_and_init() {
    accept("stdw [%r10-8], 5\nldxdw %r0, [%r10-8]\nexit", mem8());
    reject("ldxdw %r0, [%r10-8]\nexit", mem8(), |r| {
        matches!(r, RejectReason::UninitStack { .. })
    });
    reject("stdw [%r10-520], 5\nmov %r0, 0\nexit", mem8(), |r| {
        matches!(r, RejectReason::OutOfBounds { .. })
    });
    reject("stdw [%r10+0], 5\nmov %r0, 0\nexit", mem8(), |r| {
        matches!(r, RejectReason::OutOfBounds { .. })
    });
    // A partial overwrite of a spilled pointer leaves unusable bytes, not a pointer.
    reject(
        "stxdw [%r10-8], %r1\nstb [%r10-8], 0\nldxdw %r2, [%r10-8]\nldxb %r0, [%r2+0]\nexit",
        mem8(),
        |r| {
            matches!(
                r,
                RejectReason::InvalidType { .. } | RejectReason::UninitStack { .. }
            )
        },
    );
    // A full spill keeps the pointer type.
    accept(
        "stxdw [%r10-8], %r1\nldxdw %r2, [%r10-8]\nldxb %r0, [%r2+0]\nexit",
        mem8(),
    );
}

#[test]
fn pointer_arithmetic() {
    accept("mov %r2, %r1\nadd %r2, 4\nldxw %r0, [%r2+0]\nexit", mem8());
    reject("mul %r1, 2\nmov %r0, 0\nexit", mem8(), |r| {
        matches!(r, RejectReason::PointerArithmetic { .. })
    });
    reject("add32 %r1, 2\nmov %r0, 0\nexit", mem8(), |r| {
        matches!(r, RejectReason::PointerArithmetic { .. })
    });
    reject(
        "mov %r2, %r10\nadd %r2, %r1\nmov %r0, 0\nexit",
        mem8(),
        |r| matches!(r, RejectReason::PointerArithmetic { .. }),
    );
    // Pointer difference in one region is a number.
    let v = accept(
        "mov %r2, %r1\nadd %r2, 6\nsub %r2, %r1\nmov %r0, %r2\nexit",
        mem8(),
    );
    assert_eq!(v.r0.map(|r| (r.umin, r.umax)), Some((6, 6)));
}

#[test]
fn context_fields() {
    accept("ldxw %r0, [%r1+12]\nexit", ProgramType::xdp());
    reject("ldxw %r0, [%r1+24]\nexit", ProgramType::xdp(), |r| {
        matches!(r, RejectReason::OutOfBounds { .. })
    });
    reject(
        "stw [%r1+12], 0\nmov %r0, 0\nexit",
        ProgramType::xdp(),
        |r| matches!(r, RejectReason::CtxAccess { .. }),
    );
    reject("ldxh %r0, [%r1+0]\nexit", ProgramType::xdp(), |r| {
        matches!(r, RejectReason::CtxAccess { .. })
    });
}

const PACKET_OK: &str = "
    ldxw %r2, [%r1+0]
    ldxw %r3, [%r1+4]
    mov %r4, %r2
    add %r4, 14
    jgt %r4, %r3, drop
    ldxh %r0, [%r2+12]
    exit
drop:
    mov %r0, 1
    exit
";

#[test]
fn packet_bounds() {
    let v = accept(PACKET_OK, ProgramType::xdp());
    assert!(v.facts.access_in_bounds[5]);
    reject(
        &PACKET_OK.replace("[%r2+12]", "[%r2+13]"),
        ProgramType::xdp(),
        |r| {
            matches!(
                r,
                RejectReason::OutOfBounds {
                    region: "packet",
                    ..
                }
            )
        },
    );
    reject(
        "ldxw %r2, [%r1+0]\nldxb %r0, [%r2+0]\nexit",
        ProgramType::xdp(),
        |r| matches!(r, RejectReason::OutOfBounds { .. }),
    );
    // A packet-moving helper forgets the proven range.
    let realloc = PACKET_OK.replace(
        "ldxh %r0, [%r2+12]",
        "mov %r6, %r2\nmov %r2, 0\ncall 44\nldxh %r0, [%r6+12]",
    );
    reject(&realloc, ProgramType::xdp(), |r| {
        matches!(r, RejectReason::UninitRegister { .. })
    });
    // The unknown-length mem type learns the length from comparisons with r2.
    accept(
        "jlt %r2, 4, +2\nldxw %r0, [%r1+0]\nexit\nmov %r0, 0\nexit",
        ProgramType::mem(None),
    );
    reject(
        "jlt %r2, 3, +2\nldxw %r0, [%r1+0]\nexit\nmov %r0, 0\nexit",
        ProgramType::mem(None),
        |r| matches!(r, RejectReason::OutOfBounds { .. }),
    );
}

const LOOKUP: &str = "
    stw [%r10-4], 0
    lddw %r1, map_idx 0
    mov %r2, %r10
    add %r2, -4
    call 1
    jeq %r0, 0, out
    ldxdw %r0, [%r0+0]
    exit
out:
    mov %r0, 0
    exit
";

#[test]
fn maps_and_null_checks() {
    let v = accept(LOOKUP, ProgramType::xdp());
    assert!(v.facts.access_in_bounds[7]);
    reject(
        &LOOKUP.replace("jeq %r0, 0, out", "ja out2\nout2:"),
        ProgramType::xdp(),
        |r| matches!(r, RejectReason::NullDereference { .. }),
    );
    reject(
        &LOOKUP.replace("[%r0+0]", "[%r0+1]"),
        ProgramType::xdp(),
        |r| {
            matches!(
                r,
                RejectReason::OutOfBounds {
                    region: "map value",
                    ..
                }
            )
        },
    );
    // Key not initialised.
    reject(
        &LOOKUP.replace("stw [%r10-4], 0", "mov %r0, 0"),
        ProgramType::xdp(),
        |r| matches!(r, RejectReason::HelperArg { .. }),
    );
    // Read-only global data.
    accept(
        "lddw %r1, map_idx_value 1, 0\nldxdw %r0, [%r1+8]\nexit",
        ProgramType::xdp(),
    );
    reject(
        "lddw %r1, map_idx_value 1, 0\nstdw [%r1+0], 1\nmov %r0, 0\nexit",
        ProgramType::xdp(),
        |r| matches!(r, RejectReason::ReadOnly { .. }),
    );
    reject(
        "lddw %r1, map_idx 9\nmov %r0, 0\nexit",
        ProgramType::xdp(),
        |r| matches!(r, RejectReason::InvalidMap { .. }),
    );
}

#[test]
fn helper_prototypes() {
    reject("call 999\nmov %r0, 0\nexit", ProgramType::xdp(), |r| {
        matches!(r, RejectReason::UnknownHelper { id: 999 })
    });
    // Map of the wrong type.
    reject(
        &LOOKUP.replace("map_idx 0", "map_idx 2"),
        ProgramType::xdp(),
        |r| matches!(r, RejectReason::HelperArg { .. }),
    );
    // tail_call needs a program array.
    accept(
        "lddw %r2, map_idx 3\nmov %r3, 0\ncall 12\nmov %r0, 0\nexit",
        ProgramType::xdp(),
    );
    reject(
        "lddw %r2, map_idx 0\nmov %r3, 0\ncall 12\nmov %r0, 0\nexit",
        ProgramType::xdp(),
        |r| matches!(r, RejectReason::HelperArg { .. }),
    );
}

#[test]
fn pointer_leaks() {
    reject("mov %r0, %r10\nexit", ProgramType::xdp(), |r| {
        matches!(r, RejectReason::PointerLeak { .. })
    });
    accept("mov %r0, %r10\nexit", ProgramType::kprobe());
    let store_ptr = LOOKUP.replace("ldxdw %r0, [%r0+0]", "stxdw [%r0+0], %r10\nmov %r0, 0");
    reject(&store_ptr, ProgramType::xdp(), |r| {
        matches!(r, RejectReason::PointerLeak { .. })
    });
    accept(&store_ptr, ProgramType::kprobe());
    reject(
        "jgt %r1, 5, +0\nmov %r0, 0\nexit",
        ProgramType::xdp(),
        |r| matches!(r, RejectReason::PointerComparison { .. }),
    );
}

const RINGBUF: &str = "
    lddw %r1, map_idx 2
    mov %r2, 8
    mov %r3, 0
    call 131
    jeq %r0, 0, out
    stdw [%r0+0], 1
    mov %r1, %r0
    mov %r2, 0
    call 132
out:
    mov %r0, 0
    exit
";

#[test]
fn references() {
    accept(RINGBUF, ProgramType::kprobe());
    reject(
        &RINGBUF.replace("call 132", "mov %r0, 0"),
        ProgramType::kprobe(),
        |r| matches!(r, RejectReason::UnreleasedReference { .. }),
    );
    reject(
        &RINGBUF.replace("stdw [%r0+0], 1", "stdw [%r0+8], 1"),
        ProgramType::kprobe(),
        |r| matches!(r, RejectReason::OutOfBounds { .. }),
    );
}

#[test]
fn atomics() {
    accept(
        "stdw [%r10-8], 0\nmov %r1, 1\nlock add [%r10-8], %r1\nmov %r0, 0\nexit",
        mem8(),
    );
    reject(
        "stdw [%r10-16], 0\nstdw [%r10-8], 0\nmov %r1, 1\nlock add [%r10-12], %r1\nmov %r0, 0\nexit",
        mem8(),
        |r| matches!(r, RejectReason::Atomic { .. }),
    );
    reject(
        "mov %r1, 1\nlock add [%r1+12], %r1\nmov %r0, 0\nexit",
        ProgramType::xdp(),
        |r| {
            matches!(
                r,
                RejectReason::InvalidType { .. } | RejectReason::Atomic { .. }
            )
        },
    );
    reject(
        "stdw [%r10-8], 0\nlock add [%r10-8], %r10\nmov %r0, 0\nexit",
        mem8(),
        |r| matches!(r, RejectReason::Atomic { .. }),
    );
}

#[test]
fn loops_terminate_or_are_rejected() {
    let bounded =
        "mov %r0, 0\nmov %r1, 0\nloop:\nadd %r0, %r1\nadd %r1, 1\njlt %r1, 10, loop\nexit";
    let v = accept(bounded, mem8());
    assert!(v.stats.iterations > 0);
    accept(
        "mov %r1, 10\nloop:\nsub %r1, 1\njgt %r1, 0, loop\nmov %r0, %r1\nexit",
        mem8(),
    );
    reject("mov %r0, 0\nloop:\nja loop", mem8(), |r| {
        matches!(r, RejectReason::UnboundedLoop { .. })
    });
    reject(
        "mov %r0, 0\nmov %r1, 0\nloop:\nadd %r1, 0\njlt %r1, 10, loop\nexit",
        mem8(),
        |r| matches!(r, RejectReason::UnboundedLoop { .. }),
    );
    // The bound comes from input: still bounded (the step cannot wrap past it).
    accept(
        "ldxb %r2, [%r1+0]\nmov %r0, 0\nloop:\nadd %r0, 1\njlt %r0, %r2, loop\nexit",
        mem8(),
    );
    // An array walk on the stack with a loop index.
    accept(
        "mov %r1, 0\nloop:\nmov %r2, %r10\nadd %r2, -64\nadd %r2, %r1\nstb [%r2+0], 0\nadd %r1, 1\njlt %r1, 64, loop\nmov %r0, 0\nexit",
        mem8(),
    );
}

#[test]
fn local_calls() {
    let ok = "mov %r1, 3\ncall local f\nexit\nf:\nmov %r0, %r1\nadd %r0, 1\nexit";
    let v = accept(ok, mem8());
    assert_eq!(v.r0.map(|r| (r.umin, r.umax)), Some((4, 4)));
    reject("call local f\nexit\nf:\ncall local f\nexit", mem8(), |r| {
        matches!(r, RejectReason::Recursion { .. })
    });
    // Callee-saved registers survive; r1–r5 do not.
    reject(
        "mov %r1, 3\ncall local f\nmov %r0, %r1\nadd %r0, 0\nexit\nf:\nmov %r0, 0\nexit",
        mem8(),
        |r| matches!(r, RejectReason::UninitRegister { .. }),
    );
    // The callee may write the caller's stack through a pointer.
    accept("mov %r1, %r10\nadd %r1, -8\ncall local f\nldxdw %r0, [%r10-8]\nexit\nf:\nstdw [%r1+0], 7\nmov %r0, 0\nexit", mem8());
}

#[test]
fn unsupported_features() {
    reject("mov %r2, 5\ncallx %r2\nexit", mem8(), |r| {
        matches!(r, RejectReason::Unsupported { .. })
    });
}

#[test]
fn log_shows_states() {
    let p = program(PACKET_OK);
    let (r, log) = verify_log(&p, &Platform::linux(), &ProgramType::xdp(), &maps());
    assert!(r.is_ok());
    assert!(log.contains("packet_size>=14"), "{log}");
}
