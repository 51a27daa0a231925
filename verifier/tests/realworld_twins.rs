//! Unsafe twins of the acceptance rules added for the real-world corpus (issue 14,
//! `../shared/realworld`): each rule that lets a kernel-accepted program through comes with
//! programs just past it that must still be rejected.
//!
//! Classes:
//! - `void-subprog`: a subprogram may exit with r0 uninitialised (a `void` static function);
//!   reading that r0 in the caller, returning it from the main program or from a callback is
//!   still rejected.
//! - `btf-ptr`: 8-byte arguments of BTF-typed contexts, `bpf_get_current_task_btf` and 8-byte
//!   fields read through them may be loaded through (probe reads); stores, atomics, helper
//!   memory arguments through them, loads through plain numbers, through narrower reads, after
//!   non-constant arithmetic or in types whose context is not BTF-typed are rejected; and no
//!   such load is ever a proven access.
//! - `btf-helper-arg`: helpers that take a kernel object (`bpf_get_socket_cookie` from tracing
//!   programs) take a BTF pointer and nothing else.

mod common;

use apiary_verifier::platform::types::{SOCK_OPS, TRACING_ARGS};
use apiary_verifier::{verify, MapInfo, Platform, ProgramType};
use common::twins::{check, Case};
use common::{map, program};

const MAPS: &[MapInfo] = &[];

/// Map 0: socket local storage (`BPF_MAP_TYPE_SK_STORAGE`) of 8-byte values.
const SK_MAPS: &[MapInfo] = &[MapInfo {
    map_type: 24,
    key_size: 4,
    value_size: 8,
    max_entries: 0,
    flags: 1,
    readonly: false,
    last_nul: None,
}];

fn sock_ops() -> ProgramType {
    ProgramType::with_ctx("sock_ops", SOCK_OPS, false, false)
}

fn tracing() -> ProgramType {
    ProgramType::with_ctx("tracing", TRACING_ARGS, true, false)
}

fn case(
    name: &'static str,
    class: &'static str,
    ptype: ProgramType,
    unsafe_asm: &str,
    safe_asm: &str,
    expect: &'static str,
) -> Case {
    Case::new(name, class, ptype, MAPS, unsafe_asm, safe_asm, expect)
}

fn void_subprog() -> Vec<Case> {
    let k = ProgramType::kprobe;
    // `f` returns nothing on one path or on all.
    let void_f = "f:\nmov %r2, 1\nexit";
    let maybe_f = "f:\njeq %r1, 0, +1\nmov %r0, 1\nexit";
    vec![
        case(
            "main returns a void subprogram's r0",
            "void-subprog",
            k(),
            &format!("mov %r1, 1\ncall local f\nexit\n{void_f}"),
            &format!("mov %r1, 1\ncall local f\nmov %r0, 0\nexit\n{void_f}"),
            "UninitRegister",
        ),
        case(
            "caller computes with a void subprogram's r0",
            "void-subprog",
            k(),
            &format!("mov %r1, 1\ncall local f\nmov %r6, %r0\nadd %r6, 1\nmov %r0, 0\nexit\n{void_f}"),
            &format!("mov %r1, 1\ncall local f\nmov %r6, %r0\nmov %r0, 0\nexit\n{void_f}"),
            "UninitRegister",
        ),
        case(
            "caller tests r0 set on one path of the subprogram only",
            "void-subprog",
            k(),
            &format!("ldxdw %r1, [%r1+0]\ncall local f\njeq %r0, 0, +0\nmov %r0, 0\nexit\n{maybe_f}"),
            &format!("ldxdw %r1, [%r1+0]\ncall local f\nmov %r0, 0\nexit\n{maybe_f}"),
            "UninitRegister",
        ),
        case(
            "void subprogram called from a subprogram whose result is used",
            "void-subprog",
            k(),
            &format!("mov %r1, 1\ncall local g\nexit\ng:\ncall local f\nexit\n{void_f}"),
            &format!("mov %r1, 1\ncall local g\nexit\ng:\ncall local f\nmov %r0, 2\nexit\n{void_f}"),
            "UninitRegister",
        ),
        case(
            "bpf_loop callback returns nothing",
            "void-subprog",
            k(),
            "mov %r1, 4\nlddw %r2, code_addr cb\nmov %r3, 0\nmov %r4, 0\ncall 181\nmov %r0, 0\nexit\ncb:\nmov %r2, 1\nexit",
            "mov %r1, 4\nlddw %r2, code_addr cb\nmov %r3, 0\nmov %r4, 0\ncall 181\nmov %r0, 0\nexit\ncb:\nmov %r0, 0\nexit",
            "InvalidType",
        ),
    ]
}

fn btf_ptr() -> Vec<Case> {
    let t = tracing;
    // r2 = the first argument (a `struct task_struct *`), then `body`.
    let arg = |body: &str| format!("ldxdw %r2, [%r1+0]\n{body}\nmov %r0, 0\nexit");
    let read = "ldxw %r3, [%r2+1428]";
    vec![
        case(
            "load through a plain number",
            "btf-ptr",
            t(),
            "mov %r2, 4096\nldxw %r3, [%r2+16]\nmov %r0, 0\nexit",
            &arg("ldxw %r3, [%r2+16]"),
            "InvalidType",
        ),
        case(
            "load through a 4-byte context read",
            "btf-ptr",
            t(),
            "ldxw %r2, [%r1+0]\nldxw %r3, [%r2+16]\nmov %r0, 0\nexit",
            &arg(read),
            "InvalidType",
        ),
        case(
            "load through an 8-byte field of a kprobe context (not BTF-typed)",
            "btf-ptr",
            ProgramType::kprobe(),
            &arg(read),
            &arg("mov %r3, %r2"),
            "InvalidType",
        ),
        case(
            "store through a BTF pointer",
            "btf-ptr",
            t(),
            &arg("stw [%r2+16], 0"),
            &arg("ldxw %r3, [%r2+16]"),
            "InvalidType",
        ),
        case(
            "store of a register through a BTF pointer",
            "btf-ptr",
            t(),
            &arg("mov %r3, 1\nstxdw [%r2+8], %r3"),
            &arg("mov %r3, 1\nstxdw [%r10-8], %r3"),
            "InvalidType",
        ),
        case(
            "atomic add through a BTF pointer",
            "btf-ptr",
            t(),
            &arg("mov %r3, 1\nlock add [%r2+8], %r3"),
            &arg("mov %r3, 1\nstxdw [%r10-8], %r3\nlock add [%r10-8], %r3"),
            "InvalidType",
        ),
        case(
            "load after adding an unknown number",
            "btf-ptr",
            t(),
            &arg("ldxdw %r4, [%r1+8]\nadd %r2, %r4\nldxw %r3, [%r2+0]"),
            &arg("add %r2, 1424\nldxw %r3, [%r2+4]"),
            "InvalidType",
        ),
        case(
            "load after multiplying",
            "btf-ptr",
            t(),
            &arg("mul %r2, 2\nldxw %r3, [%r2+0]"),
            &arg("sub %r2, 8\nldxw %r3, [%r2+8]"),
            "InvalidType",
        ),
        case(
            "a 4-byte field read through a BTF pointer is a number",
            "btf-ptr",
            t(),
            &arg("ldxw %r2, [%r2+8]\nldxw %r3, [%r2+0]"),
            &arg("ldxdw %r2, [%r2+8]\nldxw %r3, [%r2+0]"),
            "InvalidType",
        ),
        case(
            "BTF pointer as a helper's memory argument (probe_read_kernel's destination)",
            "btf-ptr",
            t(),
            &arg("mov %r1, %r2\nmov %r3, 0\nmov %r2, 8\ncall 113"),
            &arg("mov %r3, %r2\nmov %r1, %r10\nadd %r1, -8\nmov %r2, 8\ncall 113"),
            "HelperArg",
        ),
        case(
            "bpf_get_current_task's number is not a BTF pointer",
            "btf-ptr",
            t(),
            "call 35\nldxw %r3, [%r0+1428]\nmov %r0, 0\nexit",
            "call 158\nldxw %r3, [%r0+1428]\nmov %r0, 0\nexit",
            "InvalidType",
        ),
        case(
            "after a null test a BTF pointer is still one, a number still a number",
            "btf-ptr",
            t(),
            &arg("ldxw %r4, [%r1+8]\njeq %r4, 0, +1\nldxw %r3, [%r4+0]"),
            &arg("ldxdw %r4, [%r1+8]\njeq %r4, 0, +1\nldxw %r3, [%r4+0]"),
            "InvalidType",
        ),
    ]
}

fn socket_storage() -> Vec<Case> {
    // sk_storage_get(map 0, sk, value, flags), sk from `sk_from` (r6 = ctx).
    let get = |sk_from: &str, value: &str| {
        format!(
            "mov %r6, %r1\n{sk_from}\njne %r2, 0, +2\nmov %r0, 1\nexit\nlddw %r1, map_idx 0\n{value}\nmov %r4, 1\ncall 107\nmov %r0, 1\nexit"
        )
    };
    let sk = "ldxdw %r2, [%r6+184]";
    let null = "mov %r3, 0";
    let on_stack = "stdw [%r10-8], 0\nmov %r3, %r10\nadd %r3, -8";
    let c = |name, unsafe_asm: String, safe_asm: String, expect| {
        Case::new(
            name,
            "sk-storage",
            sock_ops(),
            SK_MAPS,
            unsafe_asm,
            safe_asm,
            expect,
        )
    };
    vec![
        c(
            "sk_storage_get of bpf_sock_ops.skb_data (a number)",
            get("ldxdw %r2, [%r6+192]", null),
            get(sk, null),
            "HelperArg",
        ),
        c(
            "sk_storage_get of a 4-byte read of bpf_sock_ops.sk",
            get("ldxw %r2, [%r6+184]", null),
            get(sk, on_stack),
            "HelperArg",
        ),
        c(
            "sk_storage_get's initial value a non-null number",
            get(sk, "mov %r3, 8"),
            get(sk, on_stack),
            "HelperArg",
        ),
        c(
            "sk_storage_get's initial value shorter than the map's values",
            get(sk, "stw [%r10-4], 0\nmov %r3, %r10\nadd %r3, -4"),
            get(sk, on_stack),
            "HelperArg",
        ),
        c(
            "sk_storage_get's initial value uninitialised",
            get(sk, "mov %r3, %r10\nadd %r3, -16"),
            get(sk, on_stack),
            "HelperArg",
        ),
        c(
            "store through bpf_sock_ops.sk",
            "ldxdw %r2, [%r1+184]\njeq %r2, 0, +1\nstw [%r2+0], 1\nmov %r0, 1\nexit".into(),
            "ldxdw %r2, [%r1+184]\njeq %r2, 0, +1\nldxw %r3, [%r2+0]\nmov %r0, 1\nexit".into(),
            "InvalidType",
        ),
    ]
}

fn seq_file() -> Vec<Case> {
    // An `iter` program: ctx->meta (8 bytes at 0), meta->seq (8 bytes at 0).
    let write = |seq: &str| {
        format!("ldxdw %r2, [%r1+0]\n{seq}\nstdw [%r10-8], 7\nmov %r2, %r10\nadd %r2, -8\nmov %r3, 8\ncall 127\nmov %r0, 0\nexit")
    };
    let seq = "ldxdw %r1, [%r2+0]";
    vec![
        case(
            "seq_write to a plain number",
            "btf-helper-arg",
            tracing(),
            &write("mov %r1, 4096"),
            &write(seq),
            "HelperArg",
        ),
        case(
            "seq_write to the context",
            "btf-helper-arg",
            tracing(),
            &write(""),
            &write(seq),
            "HelperArg",
        ),
        case(
            "seq_write of more bytes than the buffer",
            "btf-helper-arg",
            tracing(),
            &write(seq).replace("mov %r3, 8", "mov %r3, 16"),
            &write(seq),
            "HelperArg",
        ),
        case(
            "get_task_stack of bpf_get_current_task's number",
            "btf-helper-arg",
            tracing(),
            "call 35\nmov %r1, %r0\nmov %r2, %r10\nadd %r2, -64\nmov %r3, 64\nmov %r4, 0\ncall 141\nmov %r0, 0\nexit",
            "call 158\nmov %r1, %r0\nmov %r2, %r10\nadd %r2, -64\nmov %r3, 64\nmov %r4, 0\ncall 141\nmov %r0, 0\nexit",
            "HelperArg",
        ),
    ]
}

fn atomic_alignment() -> Vec<Case> {
    // r1 = input + (byte & 7) * 80: a multiple of 16 (the product's known low bits).
    let at = |off: i32, size: &str| {
        format!(
            "ldxb %r2, [%r1+0]\nand %r2, 7\nmul %r2, 80\nadd %r1, %r2\nmov %r3, 1\nlock add{size} [%r1+{off}], %r3\nmov %r0, 0\nexit"
        )
    };
    let m = || ProgramType::mem(Some(1024));
    vec![
        case(
            "32-bit atomic at index * 80 + 2",
            "atomic-align",
            m(),
            &at(2, "32"),
            &at(4, "32"),
            "Atomic",
        ),
        case(
            "64-bit atomic at index * 80 + 4",
            "atomic-align",
            m(),
            &at(4, ""),
            &at(8, ""),
            "Atomic",
        ),
        case(
            "64-bit atomic at index * 20 (a multiple of 4 only)",
            "atomic-align",
            m(),
            "ldxb %r2, [%r1+0]\nand %r2, 7\nmul %r2, 20\nadd %r1, %r2\nmov %r3, 1\nlock add [%r1+0], %r3\nmov %r0, 0\nexit",
            "ldxb %r2, [%r1+0]\nand %r2, 7\nmul %r2, 24\nadd %r1, %r2\nmov %r3, 1\nlock add [%r1+0], %r3\nmov %r0, 0\nexit",
            "Atomic",
        ),
    ]
}

fn btf_helper_arg() -> Vec<Case> {
    let t = tracing;
    vec![
        case(
            "get_socket_cookie of a plain number",
            "btf-helper-arg",
            t(),
            "mov %r1, 4096\ncall 46\nmov %r0, 0\nexit",
            "ldxdw %r1, [%r1+0]\ncall 46\nmov %r0, 0\nexit",
            "HelperArg",
        ),
        case(
            "get_socket_cookie of a stack pointer",
            "btf-helper-arg",
            t(),
            "stdw [%r10-8], 0\nmov %r1, %r10\nadd %r1, -8\ncall 46\nmov %r0, 0\nexit",
            "ldxdw %r1, [%r1+8]\ncall 46\nmov %r0, 0\nexit",
            "HelperArg",
        ),
    ]
}

#[test]
fn realworld_twins() {
    let mut cases = void_subprog();
    cases.extend(btf_ptr());
    cases.extend(btf_helper_arg());
    cases.extend(atomic_alignment());
    cases.extend(socket_storage());
    cases.extend(seq_file());
    check(&cases, 0);
}

/// A load through a BTF pointer is a probe read: the verifier accepts it but never proves it,
/// so the engines keep checking it at run time (in userspace no kernel object is mapped). If
/// this failed, verified mode would run an unchecked load at an arbitrary address.
#[test]
fn btf_loads_are_never_proven() {
    let text = "ldxdw %r2, [%r1+0]\nldxw %r3, [%r2+16]\nldxdw %r4, [%r2+8]\nldxb %r5, [%r4+0]\nstdw [%r10-8], 1\nldxdw %r0, [%r10-8]\nmov %r0, 0\nexit";
    let p = program(text);
    let v = verify(&p, &Platform::linux(), &tracing(), MAPS).expect("accepted");
    let mut compared = 0;
    for pc in [1, 2, 3] {
        assert!(!v.facts.access_proven(pc), "load at {pc} marked proven");
        compared += 1;
    }
    // The context and stack accesses of the same program are proven as before.
    assert!(v.facts.access_proven(5), "stack load not proven");
    assert_eq!(compared, 3);
    let _ = map;
}
