//! Precision rules added for the ebpf-samples corpus, each with programs that would be unsafe
//! if the rule were too loose (they must stay rejected).

use apiary_verifier::platform::map_type;
use apiary_verifier::{
    verify_with, Limits, MapInfo, Options, Platform, ProgramType, RejectReason, Verified,
};

mod common;

use common::{map, mem8, program};

/// Map 0: hash; 1: array; 2: read-only array.
fn maps() -> Vec<MapInfo> {
    vec![
        map(map_type::HASH, 4, 8, 16),
        map(map_type::ARRAY, 4, 16, 1),
        MapInfo {
            readonly: true,
            last_nul: None,
            ..map(map_type::ARRAY, 4, 32, 1)
        },
    ]
}

#[track_caller]
fn accept(text: &str, t: &ProgramType) -> Verified {
    common::accept(text, t, &maps())
}

#[track_caller]
fn reject(text: &str, t: &ProgramType, want: fn(&RejectReason) -> bool) {
    common::reject(text, t, &maps(), want);
}

/// A loop whose later iterations write below the stack: the ascending passes cut that path,
/// so the narrowed head state (only the first iteration) is not an invariant.
#[test]
fn narrowing_after_a_cut_path_is_not_trusted() {
    let oob = "mov %r1, 0\nloop:\njgt %r1, 100, out\nmov %r2, %r10\nadd %r2, -8\nmov %r3, %r1\n\
               lsh %r3, 3\nsub %r2, %r3\nstdw [%r2+0], 0\nadd %r1, 1\nja loop\nout:\nmov %r0, 0\nexit";
    reject(oob, &mem8(), |r| {
        matches!(r, RejectReason::OutOfBounds { .. })
    });
    // The same walk within the stack is fine.
    accept(&oob.replace("100", "60"), &mem8());
}

/// `r6` points into map 0's value (8 bytes) or map `M`'s (16, or 32 read-only), by the input.
const TWO_VALUES: &str = "
    ldxw %r7, [%r1+12]
    stw [%r10-4], 0
    lddw %r1, map_idx 0
    mov %r2, %r10
    add %r2, -4
    call 1
    jeq %r0, 0, out
    mov %r6, %r0
    jeq %r7, 0, join
    lddw %r1, map_idx M
    mov %r2, %r10
    add %r2, -4
    call 1
    jeq %r0, 0, out
    mov %r6, %r0
join:
    ACCESS
    mov %r0, 0
    exit
out:
    mov %r0, 0
    exit
";

/// Values of different maps join to the smaller size, read-only if either is.
#[test]
fn map_values_of_different_maps_join() {
    let t = ProgramType::xdp();
    let prog = |m: &str, access: &str| TWO_VALUES.replace('M', m).replace("ACCESS", access);
    accept(&prog("1", "ldxdw %r1, [%r6+0]"), &t);
    accept(&prog("1", "stdw [%r6+0], 1"), &t);
    let oob = |r: &RejectReason| matches!(r, RejectReason::OutOfBounds { .. });
    reject(&prog("1", "ldxdw %r1, [%r6+8]"), &t, oob);
    reject(&prog("2", "ldxdw %r1, [%r6+8]"), &t, oob);
    accept(&prog("2", "ldxdw %r1, [%r6+0]"), &t);
    reject(&prog("2", "stdw [%r6+0], 1"), &t, |r| {
        matches!(r, RejectReason::ReadOnly { .. })
    });
}

/// A block keeps the states of its incoming paths apart (up to a bound): a register set on one
/// path only is usable where a later test excludes the other path.
#[test]
fn paths_kept_apart_until_a_test_separates_them() {
    let prog = |second: &str| {
        format!(
            "ldxb %r7, [%r1+0]\njeq %r7, 0, skip\nmov %r6, 5\nskip:\n{second}\n\
             mov %r0, %r6\nexit\nout:\nmov %r0, 0\nexit"
        )
    };
    let v = accept(&prog("jeq %r7, 0, out"), &mem8());
    assert_eq!(v.r0.map(|r| (r.umin, r.umax)), Some((0, 5)));
    // With every path joined, r6 is unusable.
    let options = Options {
        limits: Limits {
            max_paths: 1,
            ..Limits::default()
        },
        ..Options::default()
    };
    let joined = verify_with(
        &program(&prog("jeq %r7, 0, out")),
        &Platform::linux(),
        &mem8(),
        &maps(),
        &options,
    );
    assert!(joined.0.is_err());
    // A test that does not exclude the path where r6 is unset (caught at use: the exit).
    reject(&prog("jeq %r7, 1, out"), &mem8(), |r| {
        matches!(r, RejectReason::UninitRegister { .. })
    });
    reject(&prog("jgt %r7, 0, out"), &mem8(), |r| {
        matches!(r, RejectReason::UninitRegister { .. })
    });
}

/// `r1` points to the stack or into a map value (8 bytes) by the input: each access is checked
/// against both.
#[test]
fn a_pointer_of_two_types_is_checked_per_type() {
    let prog = |access: &str| {
        format!(
            "ldxw %r6, [%r1+12]\nstdw [%r10-8], 0\nstdw [%r10-16], 0\nstw [%r10-20], 0\n\
             lddw %r1, map_idx 0\nmov %r2, %r10\nadd %r2, -20\ncall 1\njeq %r0, 0, out\n\
             mov %r1, %r10\nadd %r1, -16\njeq %r6, 0, go\nmov %r1, %r0\ngo:\n{access}\n\
             mov %r0, 0\nexit\nout:\nmov %r0, 0\nexit"
        )
    };
    let t = ProgramType::xdp();
    accept(&prog("ldxdw %r2, [%r1+0]"), &t);
    accept(&prog("stdw [%r1+0], 3"), &t);
    reject(&prog("ldxdw %r2, [%r1+8]"), &t, |r| {
        matches!(
            r,
            RejectReason::OutOfBounds {
                region: "map value",
                ..
            }
        )
    });
    // A stack-only operation on a value that may be a map value.
    reject(&prog("stxdw [%r1+0], %r10"), &t, |r| {
        matches!(r, RejectReason::PointerLeak { .. })
    });
}

/// Map 3 is an array of maps whose inner maps are hashes with 4-byte keys and 12-byte values.
const OUTER_INNER: &str = "
    stw [%r10-4], 0
    lddw %r1, map_idx 3
    mov %r2, %r10
    add %r2, -4
    call 1
    NULL_TEST
    mov %r1, %r0
    INNER_ARITH
    mov %r2, %r10
    add %r2, -4
    call 1
    jeq %r0, 0, out
    ACCESS
out:
    mov %r0, 0
    exit
";

fn outer_inner(
    null_test: &str,
    arith: &str,
    access: &str,
    described: bool,
) -> Result<Verified, RejectReason> {
    let text = OUTER_INNER
        .replace("NULL_TEST", null_test)
        .replace("INNER_ARITH", arith)
        .replace("ACCESS", access);
    let mut all = maps();
    all.push(MapInfo {
        map_type: map_type::ARRAY_OF_MAPS,
        key_size: 4,
        value_size: 4,
        max_entries: 2,
        ..MapInfo::default()
    });
    let inner = MapInfo {
        map_type: map_type::HASH,
        key_size: 4,
        value_size: 12,
        max_entries: 8,
        ..MapInfo::default()
    };
    let options = Options {
        inner_maps: if described {
            vec![(3, inner)]
        } else {
            Vec::new()
        },
        ..Options::default()
    };
    let p = program(&text);
    verify_with(&p, &Platform::linux(), &ProgramType::xdp(), &all, &options)
        .0
        .map_err(|r| r.reason)
}

/// A lookup in a map of maps gives an inner map or null; the inner map's own lookups give its
/// values.
#[test]
fn maps_of_maps() {
    let ok = outer_inner("jeq %r0, 0, out", "", "ldxw %r1, [%r0+8]", true);
    assert!(ok.is_ok(), "{ok:?}");
    assert!(outer_inner("jeq %r0, 0, out", "", "stw [%r0+8], 1", true).is_ok());
    // Past the inner map's 12-byte value.
    assert!(matches!(
        outer_inner("jeq %r0, 0, out", "", "ldxw %r1, [%r0+12]", true),
        Err(RejectReason::OutOfBounds { .. })
    ));
    // The inner map may be null.
    assert!(matches!(
        outer_inner("", "", "ldxw %r1, [%r0+0]", true),
        Err(RejectReason::HelperArg { .. })
    ));
    // No arithmetic on, nor reads through, an inner map pointer.
    assert!(matches!(
        outer_inner("jeq %r0, 0, out", "add %r1, 8", "ldxw %r1, [%r0+0]", true),
        Err(RejectReason::PointerArithmetic { .. })
    ));
    assert!(matches!(
        outer_inner(
            "jeq %r0, 0, out",
            "ldxw %r3, [%r1+0]",
            "ldxw %r1, [%r0+0]",
            true
        ),
        Err(RejectReason::InvalidType { .. })
    ));
    // Without a description of the inner maps, the lookup is refused.
    assert!(matches!(
        outer_inner("jeq %r0, 0, out", "", "ldxw %r1, [%r0+0]", false),
        Err(RejectReason::Unsupported { .. })
    ));
}

/// A map handle compared with 0 is a (never taken) null test; other comparisons stay refused.
#[test]
fn map_handles_are_not_null() {
    let t = ProgramType::xdp();
    let prog = |test: &str| {
        format!(
            "lddw %r1, map_idx 0\n{test}\nstw [%r10-4], 0\nmov %r2, %r10\nadd %r2, -4\n\
             call 1\nmov %r0, 0\nexit\nout:\nmov %r0, 1\nexit"
        )
    };
    let v = accept(&prog("jeq %r1, 0, out"), &t);
    assert_eq!(v.r0.map(|r| (r.umin, r.umax)), Some((0, 0)));
    let v = accept(&prog("jne %r1, 0, out"), &t);
    assert_eq!(v.r0.map(|r| (r.umin, r.umax)), Some((1, 1)));
    let cmp = |r: &RejectReason| matches!(r, RejectReason::PointerComparison { .. });
    reject(&prog("jeq %r1, 5, out"), &t, cmp);
    reject(&prog("jgt %r1, 0, out"), &t, cmp);
    // Against a register known to hold 0: the same test.
    accept(&prog("mov %r3, 0\njeq %r1, %r3, out"), &t);
    // Against an unknown number.
    let unknown = prog("jeq %r1, %r3, out").replace(
        "lddw %r1, map_idx 0",
        "call 7\nmov %r3, %r0\nlddw %r1, map_idx 0",
    );
    reject(&unknown, &t, cmp);
}

/// `data_end - data` is the packet length: a test on it bounds the packet.
#[test]
fn packet_length_by_subtraction() {
    let prog = |min: &str, between: &str| {
        format!(
            "mov %r6, %r1\nldxw %r2, [%r6+0]\nldxw %r3, [%r6+4]\nmov %r7, %r3\nsub %r7, %r2\n\
             {between}\njlt %r7, {min}, out\nldxw %r2, [%r6+0]\nldxh %r0, [%r2+12]\nexit\n\
             out:\nmov %r0, 0\nexit"
        )
    };
    let t = ProgramType::xdp();
    accept(&prog("14", ""), &t);
    let oob = |r: &RejectReason| matches!(r, RejectReason::OutOfBounds { .. });
    reject(&prog("13", ""), &t, oob);
    // A length measured before the packet was resized says nothing about it.
    reject(&prog("14", "mov %r1, %r6\nmov %r2, 4\ncall 44"), &t, oob);
    // `data_end - (data + 1)` is not the length.
    reject(
        &prog("14", "").replace("sub %r7, %r2", "add %r2, 1\nsub %r7, %r2"),
        &t,
        oob,
    );
}

/// The 32-bit difference of two pointers into one region is the low half of their distance.
#[test]
fn pointer_difference_in_32_bits() {
    let t = ProgramType::xdp();
    let v = accept(
        "ldxw %r2, [%r1+0]\nmov %r3, %r2\nadd %r3, 14\nsub32 %r3, %r2\nmov %r0, %r3\nexit",
        &t,
    );
    assert_eq!(v.r0.map(|r| (r.umin, r.umax)), Some((14, 14)));
    // Different regions: refused, as in 64 bits.
    reject(
        "ldxw %r2, [%r1+0]\nmov %r3, %r10\nsub32 %r3, %r2\nmov %r0, 0\nexit",
        &t,
        |r| matches!(r, RejectReason::PointerArithmetic { .. }),
    );
    // A distance from data_end is not known: using it as an offset stays out of bounds.
    reject(
        "ldxw %r2, [%r1+0]\nldxw %r3, [%r1+4]\nsub32 %r3, %r2\nmov %r4, %r2\nadd %r4, %r3\n\
         ldxb %r0, [%r4+0]\nexit",
        &t,
        |r| matches!(r, RejectReason::OutOfBounds { .. }),
    );
}
