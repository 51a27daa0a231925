//! Issue 13: programs `apiary verify` accepted although they are unsafe, by class, each with its
//! safe twin (the smallest change that makes it safe), in the style of `unsafe_programs.rs`:
//! every unsafe program must be rejected with the expected [`RejectReason`] variant (a safety
//! reason, never a resource limit), every safe twin must be accepted.
//!
//! Classes:
//! - `callback-effects`: what a `bpf_loop` / `bpf_for_each_map_elem` callback does to state it
//!   shares with its caller (packet moved, ring-buffer record released) must reach the caller;
//! - `ctx-as-mem`: the context is not memory a helper may read or write;
//! - `const-str`: `ARG_PTR_TO_CONST_STR` arguments point into constant map values with a NUL;
//! - `null-size`: a NULL buffer for a nullable memory argument needs a size of 0;
//! - `ref-var-off`: a reference is never dropped on the null edge of a copy that may be 0 while
//!   the reservation is live (variable-offset spills, joins);
//! - `pointer-leak`: unprivileged types (xdp, tc, socket filters) put no address, nor bits of
//!   one, where the host can read it (r0, maps, the packet, context fields, ring-buffer
//!   records, helpers' scalar arguments); the leaks the platform soundness generator's
//!   address-leak oracle (`tests/platform_soundness.rs`) tries.

mod common;

use apiary_verifier::platform::map_type;
use apiary_verifier::{MapInfo, ProgramType};
use common::twins::{self, Case};

const fn map(map_type: u32, key_size: u32, value_size: u32, max_entries: u32) -> MapInfo {
    MapInfo {
        map_type,
        key_size,
        value_size,
        max_entries,
        flags: 0,
        readonly: false,
        last_nul: None,
    }
}

/// The maps every case sees, by `lddw` map index.
const MAPS: &[MapInfo] = &[
    // 0: hash, 4-byte key, 8-byte value.
    map(map_type::HASH, 4, 8, 16),
    // 1: read-only array of 16-byte values whose bytes are not known (no constant strings).
    MapInfo {
        readonly: true,
        ..map(map_type::ARRAY, 4, 16, 1)
    },
    // 2: ring buffer.
    map(map_type::RINGBUF, 0, 0, 4096),
    // 3: `.rodata`, 16 bytes, "abcdefg\0" then 8 bytes without a NUL.
    MapInfo {
        readonly: true,
        last_nul: Some(7),
        ..map(map_type::ARRAY, 4, 16, 1)
    },
    // 4: writable array, 64-byte values.
    map(map_type::ARRAY, 4, 64, 4),
    // 5: array, 8-byte values (for_each_map_elem).
    map(map_type::ARRAY, 4, 8, 4),
    // 6: perf event array.
    map(map_type::PERF_EVENT_ARRAY, 4, 4, 2),
];

fn case(
    name: &'static str,
    class: &'static str,
    ptype: ProgramType,
    unsafe_asm: impl Into<String>,
    safe_asm: impl Into<String>,
    expect: &'static str,
) -> Case {
    Case::new(name, class, ptype, MAPS, unsafe_asm, safe_asm, expect)
}

/// xdp/tc: r9 = ctx, r6 = data, r7 = data_end (fields at `d`/`e`), 14 bytes proven, then
/// `call` (which must leave r6, r7, r9 as they were, or invalidate them), then `after`, a
/// re-check of 14 bytes against r7, and a read of byte 13 through r6.
fn moved(d: u32, e: u32, call: &str, after: &str, cbs: &str) -> String {
    format!(
        "mov %r9, %r1
ldxw %r6, [%r9+{d}]
ldxw %r7, [%r9+{e}]
mov %r8, %r6
add %r8, 14
jgt %r8, %r7, drop
{call}
{after}
mov %r8, %r6
add %r8, 14
jgt %r8, %r7, drop
ldxb %r0, [%r6+13]
mov %r0, 2
exit
drop:
mov %r0, 1
exit
{cbs}"
    )
}

/// `bpf_loop(n, cb, ctx = r9, 0)`.
fn loop_call(n: u32) -> String {
    format!("mov %r1, {n}\nlddw %r2, code_addr cb\nmov %r3, %r9\nmov %r4, 0\ncall 181")
}

/// `bpf_for_each_map_elem(&map5, cb, ctx = r9, 0)`.
const FOR_EACH: &str =
    "lddw %r1, map_idx 5\nlddw %r2, code_addr cb\nmov %r3, %r9\nmov %r4, 0\ncall 164";

/// A callback `cb` calling `helper(ctx, delta)` with ctx in `ctx_reg`.
fn cb_moves(ctx_reg: u8, helper: u32, delta: i32) -> String {
    format!("cb:\nmov %r1, %r{ctx_reg}\nmov %r2, {delta}\ncall {helper}\nmov %r0, 0\nexit")
}

/// A callback `cb` that only reads its index (touches nothing shared).
const CB_IDLE: &str = "cb:\nmov %r0, 0\nexit";

/// Reload data/data_end from the context (after a call that may have moved the packet).
fn reload(d: u32, e: u32) -> String {
    format!("ldxw %r6, [%r9+{d}]\nldxw %r7, [%r9+{e}]")
}

/// kprobe: a ring-buffer record of 8 bytes in r6 (null-checked), `body`, exit 0.
fn record(body: &str, cbs: &str) -> String {
    format!(
        "lddw %r1, map_idx 2
mov %r2, 8
mov %r3, 0
call 131
mov %r6, %r0
jeq %r6, 0, out
{body}
out:
mov %r0, 0
exit
{cbs}"
    )
}

const SUBMIT_R6: &str = "mov %r1, %r6\nmov %r2, 0\ncall 132";

/// `bpf_loop(1, cb, ctx = r6 (the record), 0)`.
const LOOP_REC: &str = "mov %r1, 1\nlddw %r2, code_addr cb\nmov %r3, %r6\nmov %r4, 0\ncall 181";

/// A callback submitting the record it receives in `reg`.
fn cb_submits(reg: u8) -> String {
    format!("cb:\nmov %r1, %r{reg}\nmov %r2, 0\ncall 132\nmov %r0, 0\nexit")
}

/// A callback writing into the record it receives in `reg`.
fn cb_writes(reg: u8) -> String {
    format!("cb:\nstdw [%r{reg}+0], 7\nmov %r0, 0\nexit")
}

/// xdp: `body` with r6 = ctx, an 8-byte zero at r10-16 and key 0 at r10-4, exit 0.
fn xdp_ctx(body: &str) -> String {
    format!("mov %r6, %r1\nstdw [%r10-16], 0\nstw [%r10-4], 0\n{body}\nmov %r0, 0\nexit")
}

/// `bpf_strncmp(stack[-16..-8], 8, <str>)` with the str pointer built by `s2` into r3, in a
/// kprobe (r1 = ctx at entry), the 8 compared bytes zeroed.
fn strncmp(s2: &str) -> String {
    format!(
        "mov %r9, %r1\nstdw [%r10-16], 0\n{s2}\nmov %r1, %r10\nadd %r1, -16\nmov %r2, 8\ncall 182\nmov %r0, 0\nexit"
    )
}

/// `bpf_snprintf(stack[-32..-16], 16, <fmt in r3>, <data r4>, <size r5>)`, data = 8 zero bytes
/// at r10-8 unless `args` overrides r4/r5.
fn snprintf(fmt: &str, args: &str) -> String {
    format!(
        "stdw [%r10-8], 0\n{fmt}\nmov %r4, %r10\nadd %r4, -8\nmov %r5, 8\n{args}\nmov %r1, %r10\nadd %r1, -32\nmov %r2, 16\ncall 165\nmov %r0, 0\nexit"
    )
}

/// tc: `bpf_csum_diff(from r1, n r2, to r3, m r4, seed 0)` after `args`; stack r10-8 and
/// r10-16 hold zeros.
fn csum(args: &str) -> String {
    format!("stdw [%r10-8], 0\nstdw [%r10-16], 0\n{args}\nmov %r5, 0\ncall 28\nexit")
}

/// kprobe: a record in r6, a zeroed pair of slots at r10-16 and r10-8, r7 = r10-16 + (random
/// & 8), then `body`.
fn var_slot(body: &str) -> String {
    record(
        &format!(
            "stdw [%r10-16], 0\nstdw [%r10-8], 0\ncall 7\nand %r0, 8\nmov %r7, %r10\nadd %r7, -16\nadd %r7, %r0\n{body}"
        ),
        "",
    )
}

fn cases() -> Vec<Case> {
    let xdp = ProgramType::xdp();
    let tc = ProgramType::sched_cls();
    let kp = ProgramType::kprobe();
    let (xd, xe) = (0, 4);
    let (sd, se) = (76, 80);
    vec![
        // ------------------------------------------------------------ callback effects
        case(
            "bpf_loop callback moves the packet end (xdp_adjust_tail), caller re-checks stale end",
            "callback-effects",
            xdp,
            moved(xd, xe, &loop_call(1), "", &cb_moves(2, 65, -4)),
            moved(xd, xe, &loop_call(1), &reload(xd, xe), &cb_moves(2, 65, -4)),
            "UninitRegister",
        ),
        case(
            "bpf_loop callback moves the packet start (xdp_adjust_head)",
            "callback-effects",
            xdp,
            moved(xd, xe, &loop_call(4), "", &cb_moves(2, 44, 8)),
            moved(xd, xe, &loop_call(4), &reload(xd, xe), &cb_moves(2, 44, 8)),
            "UninitRegister",
        ),
        case(
            "for_each_map_elem callback moves the packet (ctx in r4)",
            "callback-effects",
            xdp,
            moved(xd, xe, FOR_EACH, "", &cb_moves(4, 65, -4)),
            moved(xd, xe, FOR_EACH, &reload(xd, xe), &cb_moves(4, 65, -4)),
            "UninitRegister",
        ),
        case(
            "for_each_map_elem callback that does not move the packet keeps the caller's pointers",
            "callback-effects",
            xdp,
            moved(xd, xe, FOR_EACH, "mov %r6, 0", "cb:\nmov %r0, 0\nexit"),
            moved(xd, xe, FOR_EACH, "", "cb:\nmov %r0, 0\nexit"),
            "PointerComparison",
        ),
        case(
            "tc: bpf_loop callback pulls data (skb_pull_data)",
            "callback-effects",
            tc,
            moved(sd, se, &loop_call(1), "", &cb_moves(2, 39, 0)),
            moved(sd, se, &loop_call(1), &reload(sd, se), &cb_moves(2, 39, 0)),
            "UninitRegister",
        ),
        case(
            "tc: bpf_loop callback changes the tail (skb_change_tail), only on some indices",
            "callback-effects",
            tc,
            moved(
                sd,
                se,
                &loop_call(8),
                "",
                "cb:\njne %r1, 3, +4\nmov %r1, %r2\nmov %r2, 20\nmov %r3, 0\ncall 38\nmov %r0, 0\nexit",
            ),
            moved(
                sd,
                se,
                &loop_call(8),
                &reload(sd, se),
                "cb:\njne %r1, 3, +4\nmov %r1, %r2\nmov %r2, 20\nmov %r3, 0\ncall 38\nmov %r0, 0\nexit",
            ),
            "UninitRegister",
        ),
        case(
            "nested callbacks: the inner one moves the packet",
            "callback-effects",
            xdp,
            moved(
                xd,
                xe,
                &loop_call(2),
                "",
                "cb:\nmov %r3, %r2\nmov %r1, 2\nlddw %r2, code_addr cb2\nmov %r4, 0\ncall 181\nmov %r0, 0\nexit\ncb2:\nmov %r1, %r2\nmov %r2, -4\ncall 65\nmov %r0, 0\nexit",
            ),
            moved(
                xd,
                xe,
                &loop_call(2),
                &reload(xd, xe),
                "cb:\nmov %r3, %r2\nmov %r1, 2\nlddw %r2, code_addr cb2\nmov %r4, 0\ncall 181\nmov %r0, 0\nexit\ncb2:\nmov %r1, %r2\nmov %r2, -4\ncall 65\nmov %r0, 0\nexit",
            ),
            "UninitRegister",
        ),
        case(
            "callback moves the packet through a local function it calls",
            "callback-effects",
            xdp,
            moved(
                xd,
                xe,
                &loop_call(1),
                "",
                "cb:\nmov %r1, %r2\ncall local f\nmov %r0, 0\nexit\nf:\nmov %r2, -4\ncall 65\nmov %r0, 0\nexit",
            ),
            moved(
                xd,
                xe,
                &loop_call(1),
                &reload(xd, xe),
                "cb:\nmov %r1, %r2\ncall local f\nmov %r0, 0\nexit\nf:\nmov %r2, -4\ncall 65\nmov %r0, 0\nexit",
            ),
            "UninitRegister",
        ),
        case(
            "callback moves the packet, caller re-checks spilled stale pointers",
            "callback-effects",
            xdp,
            moved(
                xd,
                xe,
                &format!("stxdw [%r10-8], %r6\nstxdw [%r10-16], %r7\n{}", loop_call(1)),
                "ldxdw %r6, [%r10-8]\nldxdw %r7, [%r10-16]",
                &cb_moves(2, 65, -4),
            ),
            moved(
                xd,
                xe,
                &format!("stxdw [%r10-8], %r6\nstxdw [%r10-16], %r7\n{}", loop_call(1)),
                &format!("{}\nldxdw %r1, [%r10-8]", reload(xd, xe)).replace("ldxdw %r1, [%r10-8]", ""),
                &cb_moves(2, 65, -4),
            ),
            "UninitStack",
        ),
        case(
            "callback that moves nothing: the caller's checked pointers stay valid",
            "callback-effects",
            xdp,
            moved(xd, xe, &loop_call(3), "ldxb %r0, [%r6+14]", CB_IDLE),
            moved(xd, xe, &loop_call(3), "", CB_IDLE),
            "OutOfBounds",
        ),
        case(
            "bpf_loop callback submits the caller's record: double submit",
            "callback-effects",
            kp,
            record(&format!("{LOOP_REC}\n{SUBMIT_R6}"), &cb_submits(2)),
            record(&format!("{LOOP_REC}\n{SUBMIT_R6}"), &cb_writes(2)),
            "UninitRegister",
        ),
        case(
            "bpf_loop callback submits the caller's record: write after submit",
            "callback-effects",
            kp,
            record(
                &format!("{LOOP_REC}\nstdw [%r6+0], 1\nmov %r1, %r6\nmov %r2, 0\ncall 133"),
                &cb_submits(2),
            ),
            record(
                &format!("{LOOP_REC}\nstdw [%r6+0], 1\nmov %r1, %r6\nmov %r2, 0\ncall 133"),
                &cb_writes(2),
            ),
            "UninitRegister",
        ),
        case(
            "for_each_map_elem callback discards the caller's record (ctx in r4)",
            "callback-effects",
            kp,
            record(
                &format!("lddw %r1, map_idx 5\nlddw %r2, code_addr cb\nmov %r3, %r6\nmov %r4, 0\ncall 164\n{SUBMIT_R6}"),
                "cb:\nmov %r1, %r4\nmov %r2, 0\ncall 133\nmov %r0, 0\nexit",
            ),
            record(
                &format!("lddw %r1, map_idx 5\nlddw %r2, code_addr cb\nmov %r3, %r6\nmov %r4, 0\ncall 164\n{SUBMIT_R6}"),
                "cb:\nstdw [%r4+0], 1\nmov %r0, 0\nexit",
            ),
            "UninitRegister",
        ),
        case(
            "callback submits the record it loads from the caller's stack",
            "callback-effects",
            kp,
            record(
                &format!("stxdw [%r10-8], %r6\nmov %r1, 1\nlddw %r2, code_addr cb\nmov %r3, %r10\nadd %r3, -8\nmov %r4, 0\ncall 181\n{SUBMIT_R6}"),
                "cb:\nldxdw %r1, [%r2+0]\nmov %r2, 0\ncall 132\nmov %r0, 0\nexit",
            ),
            record(
                &format!("stxdw [%r10-8], %r6\nmov %r1, 1\nlddw %r2, code_addr cb\nmov %r3, %r10\nadd %r3, -8\nmov %r4, 0\ncall 181\n{SUBMIT_R6}"),
                "cb:\nldxdw %r1, [%r2+0]\nstdw [%r1+0], 3\nmov %r0, 0\nexit",
            ),
            // The second invocation would load the record the first one submitted.
            "UninitStack",
        ),
        case(
            "callback submits the caller's record on some indices only",
            "callback-effects",
            kp,
            record(
                &format!("mov %r1, 4\nlddw %r2, code_addr cb\nmov %r3, %r6\nmov %r4, 0\ncall 181\n{SUBMIT_R6}"),
                "cb:\njne %r1, 2, +3\nmov %r1, %r2\nmov %r2, 0\ncall 132\nmov %r0, 0\nexit",
            ),
            record(
                &format!("mov %r1, 4\nlddw %r2, code_addr cb\nmov %r3, %r6\nmov %r4, 0\ncall 181\n{SUBMIT_R6}"),
                "cb:\njne %r1, 2, +2\nmov %r1, %r2\nstdw [%r1+0], 1\nmov %r0, 0\nexit",
            ),
            "UninitRegister",
        ),
        case(
            "callback submits the record it receives, on every invocation",
            "callback-effects",
            kp,
            record(
                "mov %r1, 2\nlddw %r2, code_addr cb\nmov %r3, %r6\nmov %r4, 0\ncall 181",
                &cb_submits(2),
            ),
            record(
                &format!("mov %r1, 2\nlddw %r2, code_addr cb\nmov %r3, %r6\nmov %r4, 0\ncall 181\n{SUBMIT_R6}"),
                &cb_writes(2),
            ),
            // The second invocation receives the record the first one submitted.
            "UninitRegister",
        ),
        case(
            "for_each_map_elem callback discards the record it receives, on every element",
            "callback-effects",
            kp,
            record(
                "lddw %r1, map_idx 5\nlddw %r2, code_addr cb\nmov %r3, %r6\nmov %r4, 0\ncall 164",
                "cb:\nmov %r1, %r4\nmov %r2, 0\ncall 133\nmov %r0, 0\nexit",
            ),
            record(
                &format!("lddw %r1, map_idx 5\nlddw %r2, code_addr cb\nmov %r3, %r6\nmov %r4, 0\ncall 164\n{SUBMIT_R6}"),
                "cb:\nstdw [%r4+0], 1\nmov %r0, 0\nexit",
            ),
            "UninitRegister",
        ),
        case(
            "callback reserves a record and keeps it",
            "callback-effects",
            kp,
            "mov %r1, 1\nlddw %r2, code_addr cb\nmov %r3, 0\nmov %r4, 0\ncall 181\nmov %r0, 0\nexit\ncb:\nlddw %r1, map_idx 2\nmov %r2, 8\nmov %r3, 0\ncall 131\nmov %r0, 0\nexit",
            "mov %r1, 1\nlddw %r2, code_addr cb\nmov %r3, 0\nmov %r4, 0\ncall 181\nmov %r0, 0\nexit\ncb:\nlddw %r1, map_idx 2\nmov %r2, 8\nmov %r3, 0\ncall 131\njeq %r0, 0, +3\nmov %r1, %r0\nmov %r2, 0\ncall 132\nmov %r0, 0\nexit",
            "UnreleasedReference",
        ),
        // ------------------------------------------------------------ ctx as helper memory
        case(
            "map_update_elem copies the context (value)",
            "ctx-as-mem",
            xdp,
            xdp_ctx("lddw %r1, map_idx 0\nmov %r2, %r10\nadd %r2, -4\nmov %r3, %r6\nmov %r4, 0\ncall 2"),
            xdp_ctx("lddw %r1, map_idx 0\nmov %r2, %r10\nadd %r2, -4\nmov %r3, %r10\nadd %r3, -16\nmov %r4, 0\ncall 2"),
            "HelperArg",
        ),
        case(
            "map_update_elem with the context as key",
            "ctx-as-mem",
            xdp,
            xdp_ctx("lddw %r1, map_idx 0\nmov %r2, %r6\nmov %r3, %r10\nadd %r3, -16\nmov %r4, 0\ncall 2"),
            xdp_ctx("lddw %r1, map_idx 0\nmov %r2, %r10\nadd %r2, -4\nmov %r3, %r10\nadd %r3, -16\nmov %r4, 0\ncall 2"),
            "HelperArg",
        ),
        case(
            "map_lookup_elem with the context (at an offset) as key",
            "ctx-as-mem",
            xdp,
            xdp_ctx("lddw %r1, map_idx 0\nmov %r2, %r6\nadd %r2, 4\ncall 1"),
            xdp_ctx("lddw %r1, map_idx 0\nmov %r2, %r10\nadd %r2, -4\ncall 1"),
            "HelperArg",
        ),
        case(
            "ringbuf_output of the context",
            "ctx-as-mem",
            xdp,
            xdp_ctx("lddw %r1, map_idx 2\nmov %r2, %r6\nmov %r3, 8\nmov %r4, 0\ncall 130"),
            xdp_ctx("lddw %r1, map_idx 2\nmov %r2, %r10\nadd %r2, -16\nmov %r3, 8\nmov %r4, 0\ncall 130"),
            "HelperArg",
        ),
        case(
            "perf_event_output of the context as data",
            "ctx-as-mem",
            xdp,
            xdp_ctx("mov %r1, %r6\nlddw %r2, map_idx 6\nmov %r3, 0\nmov %r4, %r6\nmov %r5, 16\ncall 25"),
            xdp_ctx("mov %r1, %r6\nlddw %r2, map_idx 6\nmov %r3, 0\nmov %r4, %r10\nadd %r4, -16\nmov %r5, 8\ncall 25"),
            "HelperArg",
        ),
        case(
            "tc: skb_store_bytes from the context into the packet",
            "ctx-as-mem",
            tc,
            xdp_ctx("mov %r1, %r6\nmov %r2, 0\nmov %r3, %r6\nadd %r3, 76\nmov %r4, 8\nmov %r5, 0\ncall 9"),
            xdp_ctx("mov %r1, %r6\nmov %r2, 0\nmov %r3, %r10\nadd %r3, -16\nmov %r4, 8\nmov %r5, 0\ncall 9"),
            "HelperArg",
        ),
        case(
            "tc: skb_load_bytes into the context (writes the host structure)",
            "ctx-as-mem",
            tc,
            xdp_ctx("mov %r1, %r6\nmov %r2, 0\nmov %r3, %r6\nmov %r4, 8\ncall 26"),
            xdp_ctx("mov %r1, %r6\nmov %r2, 0\nmov %r3, %r10\nadd %r3, -16\nmov %r4, 8\ncall 26"),
            "HelperArg",
        ),
        case(
            "tc: csum_diff over the context",
            "ctx-as-mem",
            tc,
            xdp_ctx("mov %r1, %r6\nadd %r1, 76\nmov %r2, 8\nmov %r3, 0\nmov %r4, 0\nmov %r5, 0\ncall 28"),
            xdp_ctx("mov %r1, %r10\nadd %r1, -16\nmov %r2, 8\nmov %r3, 0\nmov %r4, 0\nmov %r5, 0\ncall 28"),
            "HelperArg",
        ),
        case(
            "trace_printk of the context",
            "ctx-as-mem",
            xdp,
            xdp_ctx("mov %r1, %r6\nmov %r2, 8\ncall 6"),
            xdp_ctx("mov %r1, %r10\nadd %r1, -16\nmov %r2, 8\ncall 6"),
            "HelperArg",
        ),
        case(
            "kprobe: probe_read_kernel into the context",
            "ctx-as-mem",
            kp,
            "mov %r6, %r1\nmov %r1, %r6\nmov %r2, 8\nmov %r3, 0\ncall 113\nmov %r0, 0\nexit",
            "mov %r6, %r1\nmov %r1, %r10\nadd %r1, -8\nmov %r2, 8\nmov %r3, 0\ncall 113\nmov %r0, 0\nexit",
            "HelperArg",
        ),
        // ------------------------------------------------------------ constant strings
        case(
            "strncmp: string past the value's last NUL",
            "const-str",
            kp,
            strncmp("lddw %r3, map_idx_value 3, 8"),
            strncmp("lddw %r3, map_idx_value 3, 0"),
            "HelperArg",
        ),
        case(
            "strncmp: string on the stack",
            "const-str",
            kp,
            strncmp("stdw [%r10-8], 0\nmov %r3, %r10\nadd %r3, -8"),
            strncmp("lddw %r3, map_idx_value 3, 7"),
            "HelperArg",
        ),
        case(
            "strncmp: read-only value whose bytes are unknown",
            "const-str",
            kp,
            strncmp("lddw %r3, map_idx_value 1, 0"),
            strncmp("lddw %r3, map_idx_value 3, 2"),
            "HelperArg",
        ),
        case(
            "strncmp: writable map value",
            "const-str",
            kp,
            strncmp("stw [%r10-4], 0\nlddw %r1, map_idx 4\nmov %r2, %r10\nadd %r2, -4\ncall 1\njeq %r0, 0, +5\nmov %r3, %r0"),
            strncmp("stw [%r10-4], 0\nlddw %r1, map_idx 4\nmov %r2, %r10\nadd %r2, -4\ncall 1\njeq %r0, 0, +6\nlddw %r3, map_idx_value 3, 0"),
            "HelperArg",
        ),
        case(
            "strncmp: variable offset into the constant value",
            "const-str",
            kp,
            strncmp("call 7\nand %r0, 7\nlddw %r3, map_idx_value 3, 0\nadd %r3, %r0"),
            strncmp("call 7\nand %r0, 7\nlddw %r3, map_idx_value 3, 0\nadd %r3, 7"),
            "HelperArg",
        ),
        case(
            "xdp strncmp: string in the packet",
            "const-str",
            xdp,
            "ldxw %r2, [%r1+0]\nldxw %r3, [%r1+4]\nmov %r4, %r2\nadd %r4, 8\njgt %r4, %r3, out\nmov %r3, %r2\nstdw [%r10-16], 0\nmov %r1, %r10\nadd %r1, -16\nmov %r2, 8\ncall 182\nout:\nmov %r0, 0\nexit",
            "ldxw %r2, [%r1+0]\nldxw %r3, [%r1+4]\nmov %r4, %r2\nadd %r4, 8\njgt %r4, %r3, out\nlddw %r3, map_idx_value 3, 0\nstdw [%r10-16], 0\nmov %r1, %r10\nadd %r1, -16\nmov %r2, 8\ncall 182\nout:\nmov %r0, 0\nexit",
            "HelperArg",
        ),
        case(
            "snprintf: format on the stack",
            "const-str",
            kp,
            snprintf("stdw [%r10-40], 0\nmov %r3, %r10\nadd %r3, -40", ""),
            snprintf("lddw %r3, map_idx_value 3, 0", ""),
            "HelperArg",
        ),
        case(
            "snprintf: format in a read-only value without a known NUL",
            "const-str",
            kp,
            snprintf("lddw %r3, map_idx_value 1, 4", ""),
            snprintf("lddw %r3, map_idx_value 3, 4", ""),
            "HelperArg",
        ),
        case(
            "snprintf: format at the end of the constant value, past its NUL",
            "const-str",
            kp,
            snprintf("lddw %r3, map_idx_value 3, 15", ""),
            snprintf("lddw %r3, map_idx_value 3, 6", ""),
            "HelperArg",
        ),
        // ------------------------------------------------------------ NULL with a size
        case(
            "tc csum_diff(NULL, 8, to, 8)",
            "null-size",
            tc,
            csum("mov %r1, 0\nmov %r2, 8\nmov %r3, %r10\nadd %r3, -8\nmov %r4, 8"),
            csum("mov %r1, 0\nmov %r2, 0\nmov %r3, %r10\nadd %r3, -8\nmov %r4, 8"),
            "HelperArg",
        ),
        case(
            "tc csum_diff(from, 8, NULL, 4)",
            "null-size",
            tc,
            csum("mov %r1, %r10\nadd %r1, -8\nmov %r2, 8\nmov %r3, 0\nmov %r4, 4"),
            csum("mov %r1, %r10\nadd %r1, -8\nmov %r2, 8\nmov %r3, 0\nmov %r4, 0"),
            "HelperArg",
        ),
        case(
            "xdp csum_diff(NULL, size in [0, 8], ...)",
            "null-size",
            xdp,
            csum("call 7\nmov %r2, %r0\nand %r2, 8\nmov %r1, 0\nmov %r3, %r10\nadd %r3, -8\nmov %r4, 8"),
            csum("call 7\nmov %r2, %r0\nand %r2, 0\nmov %r1, 0\nmov %r3, %r10\nadd %r3, -8\nmov %r4, 8"),
            "HelperArg",
        ),
        case(
            "snprintf: NULL data with a size",
            "null-size",
            kp,
            snprintf("lddw %r3, map_idx_value 3, 0", "mov %r4, 0\nmov %r5, 8"),
            snprintf("lddw %r3, map_idx_value 3, 0", "mov %r4, 0\nmov %r5, 0"),
            "HelperArg",
        ),
        case(
            "trace_vprintk: NULL data with a size",
            "null-size",
            kp,
            "stdw [%r10-8], 0\nmov %r1, %r10\nadd %r1, -8\nmov %r2, 8\nmov %r3, 0\nmov %r4, 16\ncall 177\nmov %r0, 0\nexit",
            "stdw [%r10-8], 0\nmov %r1, %r10\nadd %r1, -8\nmov %r2, 8\nmov %r3, 0\nmov %r4, 0\ncall 177\nmov %r0, 0\nexit",
            "HelperArg",
        ),
        // ------------------------------------------------------------ references, ambiguous 0
        // The runs of six `jset %rN, 2..64, +1` / `mov %rK, 0` after a copy is zeroed on one path
        // make 64 paths of different register types, more than the analysis keeps apart
        // (`Limits::max_paths`): the copy is the join of the pointer and 0.
        case(
            "record spilled at a variable offset: the null edge of a slot that was 0",
            "ref-var-off",
            kp,
            var_slot("stxdw [%r7+0], %r6\nldxdw %r8, [%r10-16]\njeq %r8, 0, out\nmov %r1, %r8\nmov %r2, 0\ncall 132"),
            var_slot("stxdw [%r7+0], %r6\nldxdw %r8, [%r10-16]\njeq %r8, 0, +4\nmov %r1, %r8\nmov %r2, 0\ncall 132\nja out\nmov %r1, %r6\nmov %r2, 0\ncall 132"),
            "UnreleasedReference",
        ),
        case(
            "record spilled at a variable offset: the other candidate slot",
            "ref-var-off",
            kp,
            var_slot("stxdw [%r7+0], %r6\nldxdw %r8, [%r10-8]\njne %r8, 0, +1\nja out\nmov %r1, %r8\nmov %r2, 0\ncall 132"),
            var_slot("stxdw [%r7+0], %r6\nldxdw %r8, [%r10-8]\njne %r8, 0, +4\nmov %r1, %r6\nmov %r2, 0\ncall 132\nja out\nmov %r1, %r8\nmov %r2, 0\ncall 132"),
            "UnreleasedReference",
        ),
        case(
            "zero stored at a variable offset over the spilled record",
            "ref-var-off",
            kp,
            var_slot("stxdw [%r10-8], %r6\nmov %r9, 0\nstxdw [%r7+0], %r9\nldxdw %r8, [%r10-8]\njeq %r8, 0, out\nmov %r1, %r8\nmov %r2, 0\ncall 132"),
            var_slot("stxdw [%r10-8], %r6\nmov %r9, 0\nstxdw [%r7+0], %r9\nldxdw %r8, [%r10-8]\njeq %r8, 0, +4\nmov %r1, %r8\nmov %r2, 0\ncall 132\nja out\nmov %r1, %r6\nmov %r2, 0\ncall 132"),
            "UnreleasedReference",
        ),
        case(
            "a copy zeroed on one path while the record stays live",
            "ref-var-off",
            kp,
            record(
                "call 7\nmov %r9, %r0\nmov %r7, %r6\njset %r9, 1, +1\nmov %r7, 0\njset %r9, 2, +1\nmov %r0, 0\njset %r9, 4, +1\nmov %r1, 0\njset %r9, 8, +1\nmov %r2, 0\njset %r9, 16, +1\nmov %r3, 0\njset %r9, 32, +1\nmov %r4, 0\njset %r9, 64, +1\nmov %r5, 0\njeq %r7, 0, out\nmov %r1, %r7\nmov %r2, 0\ncall 132",
                "",
            ),
            record(
                "call 7\nmov %r9, %r0\nmov %r7, %r6\njset %r9, 1, +1\nmov %r7, 0\njset %r9, 2, +1\nmov %r0, 0\njset %r9, 4, +1\nmov %r1, 0\njset %r9, 8, +1\nmov %r2, 0\njset %r9, 16, +1\nmov %r3, 0\njset %r9, 32, +1\nmov %r4, 0\njset %r9, 64, +1\nmov %r5, 0\njeq %r7, 0, +4\nmov %r1, %r7\nmov %r2, 0\ncall 132\nja out\nmov %r1, %r6\nmov %r2, 0\ncall 132",
                "",
            ),
            "UnreleasedReference",
        ),
        case(
            "record tested again after a join with its failed reservation",
            "ref-var-off",
            kp,
            "lddw %r1, map_idx 2\nmov %r2, 8\nmov %r3, 0\ncall 131\nmov %r6, %r0\njeq %r6, 0, skip\nstdw [%r6+0], 1\nskip:\njeq %r6, 0, out\nstdw [%r6+0], 2\nout:\nmov %r0, 0\nexit",
            "lddw %r1, map_idx 2\nmov %r2, 8\nmov %r3, 0\ncall 131\nmov %r6, %r0\njeq %r6, 0, skip\nstdw [%r6+0], 1\nskip:\njeq %r6, 0, out\nmov %r1, %r6\nmov %r2, 0\ncall 132\nout:\nmov %r0, 0\nexit",
            "UnreleasedReference",
        ),
        case(
            "conditional reservation, tested after the join",
            "ref-var-off",
            kp,
            "call 7\nmov %r6, 0\njset %r0, 1, join\nlddw %r1, map_idx 2\nmov %r2, 8\nmov %r3, 0\ncall 131\nmov %r6, %r0\njoin:\njeq %r6, 0, out\nstdw [%r6+0], 2\nout:\nmov %r0, 0\nexit",
            "call 7\nmov %r6, 0\njset %r0, 1, join\nlddw %r1, map_idx 2\nmov %r2, 8\nmov %r3, 0\ncall 131\nmov %r6, %r0\njoin:\njeq %r6, 0, out\nmov %r1, %r6\nmov %r2, 0\ncall 132\nout:\nmov %r0, 0\nexit",
            "UnreleasedReference",
        ),
        case(
            "conditional reservation null-checked before the join, tested again after it",
            "ref-var-off",
            kp,
            "call 7\nmov %r6, 0\njset %r0, 1, join\nlddw %r1, map_idx 2\nmov %r2, 8\nmov %r3, 0\ncall 131\nmov %r6, %r0\njeq %r6, 0, join\nstdw [%r6+0], 1\njoin:\njeq %r6, 0, out\nstdw [%r6+0], 2\nout:\nmov %r0, 0\nexit",
            "call 7\nmov %r6, 0\njset %r0, 1, join\nlddw %r1, map_idx 2\nmov %r2, 8\nmov %r3, 0\ncall 131\nmov %r6, %r0\njeq %r6, 0, join\nstdw [%r6+0], 1\njoin:\njeq %r6, 0, out\nmov %r1, %r6\nmov %r2, 0\ncall 132\nout:\nmov %r0, 0\nexit",
            "UnreleasedReference",
        ),
        case(
            "unchecked lookup result copied, the copy zeroed on one path: its null test refines the original",
            "ref-var-off",
            xdp,
            "call 7\nmov %r8, %r0\nstw [%r10-4], 0\nlddw %r1, map_idx 4\nmov %r2, %r10\nadd %r2, -4\ncall 1\njeq %r0, 0, out\nmov %r9, %r0\nlddw %r1, map_idx 0\nmov %r2, %r10\nadd %r2, -4\ncall 1\nmov %r6, %r0\nmov %r7, %r0\njset %r8, 1, +1\nmov %r7, 0\njset %r8, 2, +1\nmov %r0, 0\njset %r8, 4, +1\nmov %r1, 0\njset %r8, 8, +1\nmov %r2, 0\njset %r8, 16, +1\nmov %r3, 0\njset %r8, 32, +1\nmov %r4, 0\njset %r8, 64, +1\nmov %r5, 0\njne %r7, 0, out\nadd %r9, %r6\nstb [%r9+0], 1\nout:\nmov %r0, 0\nexit",
            "call 7\nmov %r8, %r0\nstw [%r10-4], 0\nlddw %r1, map_idx 4\nmov %r2, %r10\nadd %r2, -4\ncall 1\njeq %r0, 0, out\nmov %r9, %r0\nlddw %r1, map_idx 0\nmov %r2, %r10\nadd %r2, -4\ncall 1\nmov %r6, %r0\nmov %r7, %r0\njset %r8, 1, +1\nmov %r7, 0\njset %r8, 2, +1\nmov %r0, 0\njset %r8, 4, +1\nmov %r1, 0\njset %r8, 8, +1\nmov %r2, 0\njset %r8, 16, +1\nmov %r3, 0\njset %r8, 32, +1\nmov %r4, 0\njset %r8, 64, +1\nmov %r5, 0\njne %r6, 0, out\nadd %r9, %r6\nstb [%r9+0], 1\nout:\nmov %r0, 0\nexit",
            "PointerArithmetic",
        ),
        case(
            "unchecked reservation copied, the copy zeroed on one path: its null test releases the record",
            "ref-var-off",
            kp,
            "call 7\nmov %r8, %r0\nlddw %r1, map_idx 2\nmov %r2, 8\nmov %r3, 0\ncall 131\nmov %r6, %r0\nmov %r7, %r0\njset %r8, 1, +1\nmov %r7, 0\njset %r8, 2, +1\nmov %r0, 0\njset %r8, 4, +1\nmov %r1, 0\njset %r8, 8, +1\nmov %r2, 0\njset %r8, 16, +1\nmov %r3, 0\njset %r8, 32, +1\nmov %r4, 0\njset %r8, 64, +1\nmov %r5, 0\njeq %r7, 0, out\nmov %r1, %r7\nmov %r2, 0\ncall 132\nout:\nmov %r0, 0\nexit",
            "call 7\nmov %r8, %r0\nlddw %r1, map_idx 2\nmov %r2, 8\nmov %r3, 0\ncall 131\nmov %r6, %r0\nmov %r7, %r0\njset %r8, 1, +1\nmov %r7, 0\njset %r8, 2, +1\nmov %r0, 0\njset %r8, 4, +1\nmov %r1, 0\njset %r8, 8, +1\nmov %r2, 0\njset %r8, 16, +1\nmov %r3, 0\njset %r8, 32, +1\nmov %r4, 0\njset %r8, 64, +1\nmov %r5, 0\njeq %r6, 0, out\nmov %r1, %r6\nmov %r2, 0\ncall 132\nout:\nmov %r0, 0\nexit",
            "UnreleasedReference",
        ),
        case(
            "unchecked reservation spilled at a variable offset: the slot's null test releases the record",
            "ref-var-off",
            kp,
            "stdw [%r10-16], 0\nstdw [%r10-8], 0\ncall 7\nand %r0, 8\nmov %r7, %r10\nadd %r7, -16\nadd %r7, %r0\nlddw %r1, map_idx 2\nmov %r2, 8\nmov %r3, 0\ncall 131\nmov %r6, %r0\nstxdw [%r7+0], %r6\nldxdw %r8, [%r10-16]\njeq %r8, 0, out\nmov %r1, %r8\nmov %r2, 0\ncall 132\nout:\nmov %r0, 0\nexit",
            "stdw [%r10-16], 0\nstdw [%r10-8], 0\ncall 7\nand %r0, 8\nmov %r7, %r10\nadd %r7, -16\nadd %r7, %r0\nlddw %r1, map_idx 2\nmov %r2, 8\nmov %r3, 0\ncall 131\nmov %r6, %r0\nstxdw [%r7+0], %r6\nldxdw %r8, [%r10-16]\njeq %r6, 0, out\nmov %r1, %r6\nmov %r2, 0\ncall 132\nout:\nmov %r0, 0\nexit",
            "UnreleasedReference",
        ),
        case(
            "stack address in r0",
            "pointer-leak",
            xdp,
            "mov %r0, %r10\nexit",
            "mov %r0, %r10\nsub %r0, %r10\nexit",
            "PointerLeak",
        ),
        case(
            "context address stored in a map value",
            "pointer-leak",
            xdp,
            xdp_ctx("lddw %r1, map_idx 4\nmov %r2, %r10\nadd %r2, -4\ncall 1\njeq %r0, 0, +1\nstxdw [%r0+0], %r6"),
            xdp_ctx("lddw %r1, map_idx 4\nmov %r2, %r10\nadd %r2, -4\ncall 1\njeq %r0, 0, +1\nstdw [%r0+0], 0"),
            "PointerLeak",
        ),
        case(
            "packet address stored in the packet",
            "pointer-leak",
            xdp,
            "ldxw %r6, [%r1+0]\nldxw %r7, [%r1+4]\nmov %r2, %r6\nadd %r2, 8\njgt %r2, %r7, +1\nstxdw [%r6+0], %r6\nmov %r0, 0\nexit",
            "ldxw %r6, [%r1+0]\nldxw %r7, [%r1+4]\nmov %r2, %r6\nadd %r2, 8\njgt %r2, %r7, +3\nmov %r3, %r7\nsub %r3, %r6\nstxdw [%r6+0], %r3\nmov %r0, 0\nexit",
            "PointerLeak",
        ),
        case(
            "low half of a spilled stack address read back",
            "pointer-leak",
            xdp,
            "stxdw [%r10-8], %r10\nldxw %r0, [%r10-8]\nexit",
            "stxdw [%r10-8], %r10\nldxdw %r0, [%r10-8]\nmov %r0, 0\nexit",
            "PointerLeak",
        ),
        case(
            "stack address spilled, the slot handed to bpf_ringbuf_output",
            "pointer-leak",
            xdp,
            "stxdw [%r10-8], %r10\nlddw %r1, map_idx 2\nmov %r2, %r10\nadd %r2, -8\nmov %r3, 8\nmov %r4, 0\ncall 130\nmov %r0, 0\nexit",
            "stdw [%r10-8], 0\nlddw %r1, map_idx 2\nmov %r2, %r10\nadd %r2, -8\nmov %r3, 8\nmov %r4, 0\ncall 130\nmov %r0, 0\nexit",
            "HelperArg",
        ),
        case(
            "stack address as bpf_csum_diff's seed",
            "pointer-leak",
            tc,
            "stdw [%r10-8], 0\nmov %r1, %r10\nadd %r1, -8\nmov %r2, 8\nmov %r3, 0\nmov %r4, 0\nmov %r5, %r10\ncall 28\nexit",
            "stdw [%r10-8], 0\nmov %r1, %r10\nadd %r1, -8\nmov %r2, 8\nmov %r3, 0\nmov %r4, 0\nmov %r5, 7\ncall 28\nexit",
            "PointerLeak",
        ),
        case(
            "stack address stored in a socket buffer's mark",
            "pointer-leak",
            tc,
            "stxw [%r1+8], %r10\nmov %r0, 0\nexit",
            "stw [%r1+8], 1\nmov %r0, 0\nexit",
            "PointerLeak",
        ),
        case(
            "stack and context addresses compared, the outcome in r0",
            "pointer-leak",
            xdp,
            "mov %r0, 1\njgt %r10, %r1, +1\nmov %r0, 2\nexit",
            "mov %r0, 1\nmov %r2, %r10\njgt %r10, %r2, +1\nmov %r0, 2\nexit",
            "PointerComparison",
        ),
    ]
}

#[test]
fn issue13_unsafe_programs_rejected_safe_twins_accepted() {
    twins::check(&cases(), 0);
}
