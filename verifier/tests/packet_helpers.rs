//! The prototypes of the packet helpers apiary implements: packet-moving helpers invalidate
//! packet pointers checked before the call (Linux's `bpf_helper_changes_pkt_data`), the others
//! leave them usable.

use apiary_verifier::{verify, Platform, ProgramType};
use apiary_vm::{asm, LoadOptions, Program};

fn verdict(text: &str, t: &ProgramType) -> bool {
    let insns = asm::assemble(text).unwrap_or_else(|e| panic!("assemble: {e}\n{text}"));
    let program =
        Program::new(insns, &LoadOptions::all()).unwrap_or_else(|e| panic!("load: {e}\n{text}"));
    verify(&program, &Platform::linux(), t, &[]).is_ok()
}

/// A program that checks 14 packet bytes, keeps a pointer to them in r7, runs `call`
/// (with r6 = ctx) and then, if `after`, reads through the kept pointer.
fn program(data: u32, end: u32, call: &str, after: bool) -> String {
    let read = if after { "ldxb %r0, [%r7+0]" } else { "" };
    format!(
        "mov %r6, %r1
ldxw %r2, [%r6+{data}]
ldxw %r3, [%r6+{end}]
mov %r4, %r2
add %r4, 14
jgt %r4, %r3, drop
mov %r7, %r2
ldxb %r0, [%r7+0]
{call}
{read}
mov %r0, 0
exit
drop:
mov %r0, 1
exit"
    )
}

/// A call of helper `id` with r1 = ctx, scalar arguments, and an 8-byte stack buffer in r3/r4
/// when `buffer`.
fn call(id: u32, buffer: bool) -> String {
    let (r3, r4) = if buffer {
        ("mov %r3, %r10\nadd %r3, -8", "mov %r4, 8")
    } else {
        ("mov %r3, 0", "mov %r4, 0")
    };
    format!("stdw [%r10-8], 0\nmov %r1, %r6\nmov %r2, 0\n{r3}\n{r4}\nmov %r5, 0\ncall {id}")
}

#[test]
fn skb_helpers_that_change_the_packet_invalidate_packet_pointers() {
    let tc = ProgramType::sched_cls();
    // skb_store_bytes, l3/l4_csum_replace, clone_redirect, vlan push/pop, change_tail,
    // pull_data, change_head, adjust_room, change_proto.
    for (id, buffer) in [
        (9, true),
        (10, false),
        (11, false),
        (13, false),
        (18, false),
        (19, false),
        (31, false),
        (38, false),
        (39, false),
        (43, false),
        (50, false),
    ] {
        let c = call(id, buffer);
        assert!(verdict(&program(76, 80, &c, false), &tc), "helper {id}");
        assert!(!verdict(&program(76, 80, &c, true), &tc), "helper {id}");
    }
    // skb_load_bytes, get_hash_recalc, jiffies64, redirect and csum_diff keep them.
    for (id, buffer) in [(26, true), (34, false), (118, false)] {
        let c = call(id, buffer);
        assert!(verdict(&program(76, 80, &c, true), &tc), "helper {id}");
    }
    let redirect = "mov %r1, 1\nmov %r2, 0\ncall 23";
    assert!(verdict(&program(76, 80, redirect, true), &tc));
    let diff = "mov %r1, 0\nmov %r2, 0\nmov %r3, 0\nmov %r4, 0\nmov %r5, 0\ncall 28";
    assert!(verdict(&program(76, 80, diff, true), &tc));
}

#[test]
fn xdp_moves_invalidate_packet_pointers() {
    let xdp = ProgramType::xdp();
    for id in [44, 54, 65] {
        let c = call(id, false);
        assert!(verdict(&program(0, 4, &c, false), &xdp), "helper {id}");
        assert!(!verdict(&program(0, 4, &c, true), &xdp), "helper {id}");
    }
    let redirect = "mov %r1, 1\nmov %r2, 0\ncall 23";
    assert!(verdict(&program(0, 4, redirect, true), &xdp));
}
