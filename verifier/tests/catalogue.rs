//! The Linux catalogue in the verifier (issue 12 item 3): helper permissions come from the
//! catalogue's list, a Linux helper without a prototype is refused by name, and each
//! prototype added with the catalogue has an unsafe twin that must be rejected.

mod common;

use apiary_linux::helpers::id;
use apiary_linux::map_type;
use apiary_verifier::{ProgramType, RejectReason};
use common::{accept, map, reject};

fn xdp() -> ProgramType {
    ProgramType::xdp()
}

#[test]
fn permissions_follow_the_catalogue() {
    // `bpf_xdp_get_buff_len` is XDP's; a tc program may not call it.
    let text = "
        call 188
        exit";
    accept(text, &xdp(), &[]);
    reject(text, &ProgramType::sched_cls(), &[], |r| {
        matches!(r, RejectReason::HelperNotAllowed { id: 188, .. })
    });
    // `bpf_sys_bpf` only for `syscall` programs, with readable memory of the given size.
    let sys_bpf = "
        stdw [%r10-8], 0
        mov %r1, 0
        mov %r2, %r10
        add %r2, -8
        mov %r3, 8
        call 166
        exit";
    let syscall = ProgramType::linux(apiary_linux::ProgramType::Syscall);
    accept(sys_bpf, &syscall, &[]);
    reject(sys_bpf, &ProgramType::kprobe(), &[], |r| {
        matches!(r, RejectReason::HelperNotAllowed { id: 166, .. })
    });
    // Every catalogued helper with a prototype is allowed for some type, and `mem` (no Linux
    // type) may call every one.
    let linux = apiary_verifier::Platform::linux();
    for h in apiary_linux::HELPERS {
        if linux.helper(h.id).is_some() {
            assert!(linux.allowed("mem", h.id), "{}", h.name);
            assert!(
                h.allowed.iter().any(|t| linux.allowed(t.name(), h.id)),
                "{}",
                h.name
            );
        }
    }
}

#[test]
fn a_linux_helper_without_a_prototype_is_named() {
    // `bpf_find_vma` (180) takes a BTF task pointer and a callback apiary cannot type.
    let r = common::run("call 180\nexit", &ProgramType::kprobe(), &[]).expect_err("rejected");
    assert_eq!(
        r,
        RejectReason::NoPrototype {
            id: 180,
            helper: "bpf_find_vma"
        }
    );
    assert_eq!(
        r.to_string(),
        "helper bpf_find_vma (180) has no prototype in apiary"
    );
    // An id Linux does not have is unknown.
    let r = common::run("call 4000\nexit", &ProgramType::kprobe(), &[]).expect_err("rejected");
    assert_eq!(r, RejectReason::UnknownHelper { id: 4000 });
}

#[test]
fn xdp_store_bytes_reads_initialised_memory_only() {
    let call = |init: &str| {
        format!(
            "
        {init}
        mov %r2, 0
        mov %r3, %r10
        add %r3, -8
        mov %r4, 8
        call {}
        mov %r0, 2
        exit",
            id::XDP_STORE_BYTES
        )
    };
    accept(&call("stdw [%r10-8], 7"), &xdp(), &[]);
    // Twin: the buffer was never written.
    reject(&call(""), &xdp(), &[], |r| {
        matches!(r, RejectReason::HelperArg { .. })
    });
}

#[test]
fn map_lookup_percpu_elem_returns_a_value_or_null() {
    let maps = [map(map_type::PERCPU_ARRAY, 4, 8, 4)];
    let lookup = |check: &str| {
        format!(
            "
        stw [%r10-4], 0
        lddw %r1, map_idx 0
        mov %r2, %r10
        add %r2, -4
        mov %r3, 0
        call {}
        {check}
        ldxdw %r0, [%r0+0]
        exit
    out:
        mov %r0, 0
        exit",
            id::MAP_LOOKUP_PERCPU_ELEM
        )
    };
    accept(&lookup("jeq %r0, 0, out"), &xdp(), &maps);
    // Twin: the result is dereferenced when it is null.
    reject(&lookup("jne %r0, 0, out"), &xdp(), &maps, |r| {
        !matches!(
            r,
            RejectReason::HelperArg { .. } | RejectReason::UnknownHelper { .. }
        )
    });
    // Twin: a map that is not per-CPU.
    let hash = [map(map_type::HASH, 4, 8, 4)];
    reject(&lookup("jeq %r0, 0, out"), &xdp(), &hash, |r| {
        matches!(r, RejectReason::HelperArg { .. })
    });
}
