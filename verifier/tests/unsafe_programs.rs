//! Hand-written unsafe programs, each with its safe twin (the smallest change that makes it
//! safe). Every unsafe program must be rejected with the expected [`RejectReason`] variant (the
//! variant is compared, not the message), every safe twin must be accepted.
//!
//! Cases the verifier gets wrong stay in the table with a flag:
//! - [`twins::Flag::KnownUnsound`]: the unsafe program is accepted (a soundness bug) or is rejected only
//!   for an unrelated reason;
//! - [`twins::Flag::KnownGap`]: the safe twin is rejected (a precision gap).
//!
//! Flagged cases are printed loudly and do not fail the test; a flagged case that now behaves
//! as it should is reported as fixed (remove the flag). Unflagged cases that misbehave fail it.

mod common;

use apiary_verifier::platform::map_type;
use apiary_verifier::{MapInfo, ProgramType};
use common::twins::{self, Case};

/// Minimum number of cases in the table.
const MIN_CASES: usize = 216;
/// Most cases flagged [`twins::Flag::KnownGap`] (none at present: a new gap needs a reason).
const MAX_KNOWN_GAPS: usize = 0;

const fn map(map_type: u32, key_size: u32, value_size: u32, max_entries: u32, ro: bool) -> MapInfo {
    MapInfo {
        map_type,
        key_size,
        value_size,
        max_entries,
        flags: 0,
        readonly: ro,
        last_nul: None,
    }
}

/// The maps every case sees, by `lddw` map index.
const MAPS: &[MapInfo] = &[
    // 0: hash, 4-byte key, 8-byte value.
    map(map_type::HASH, 4, 8, 16, false),
    // 1: read-only global data (`.rodata`), 16 bytes.
    map(map_type::ARRAY, 4, 16, 1, true),
    // 2: ring buffer.
    map(map_type::RINGBUF, 0, 0, 4096, false),
    // 3: program array.
    map(map_type::PROG_ARRAY, 4, 4, 4, false),
    // 4: writable array, 64-byte values.
    map(map_type::ARRAY, 4, 64, 4, false),
    // 5: perf event array.
    map(map_type::PERF_EVENT_ARRAY, 4, 4, 2, false),
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

fn mem(n: u64) -> ProgramType {
    ProgramType::mem(Some(n))
}

/// A program with a `map_lookup_elem(map, &key)` and `body` on the non-null path (r0 = value).
fn lookup(map: u32, body: &str) -> String {
    format!(
        "stw [%r10-4], 0
lddw %r1, map_idx {map}
mov %r2, %r10
add %r2, -4
call 1
jeq %r0, 0, out
{body}
out:
mov %r0, 0
exit"
    )
}

/// xdp: r2 = data, r3 = data_end, 14 bytes proven (`drop` exits with 1), then `body`.
fn packet(len: u32, body: &str) -> String {
    format!(
        "ldxw %r2, [%r1+0]
ldxw %r3, [%r1+4]
mov %r4, %r2
add %r4, {len}
jgt %r4, %r3, drop
{body}
mov %r0, 0
exit
drop:
mov %r0, 1
exit"
    )
}

/// kprobe: a ring-buffer reservation of 8 bytes in r0 (null-checked), then `body`.
fn ringbuf(body: &str) -> String {
    format!(
        "lddw %r1, map_idx 2
mov %r2, 8
mov %r3, 0
call 131
jeq %r0, 0, out
{body}
out:
mov %r0, 0
exit"
    )
}

/// A chain of `n` nested local calls from the entry (n + 1 frames at the deepest point).
fn call_chain(n: usize) -> String {
    let mut s = String::from("call local f1\nexit\n");
    for i in 1..=n {
        if i < n {
            s.push_str(&format!("f{i}:\ncall local f{}\nexit\n", i + 1));
        } else {
            s.push_str(&format!("f{i}:\nmov %r0, 0\nexit\n"));
        }
    }
    s
}

/// A program writing one byte at `r1 + (input value transformed by prelude)`, input of 256
/// bytes: `prelude` must leave the offset in r2.
fn input_index(prelude: &str) -> String {
    format!(
        "{prelude}
mov %r3, %r1
add %r3, %r2
ldxb %r0, [%r3+0]
exit
out:
mov %r0, 0
exit"
    )
}

/// xdp: the test of `data + var + check` against `data_end` turned into a number (r6 = 0 when
/// it holds, `bad` when not, as Cilium's `revalidate_data` does), then enough branches on
/// another input that the paths are joined (more than `max_paths`), `between`, `test` of r6
/// jumping to `drop`, and `load` through r2 = data + var.
fn revalidate(check: u32, bad: i32, between: &str, test: &str, load: &str) -> String {
    let fork: String = (0..6)
        .map(|i| format!("jset %r7, {}, +1\nadd %r8, {}\n", 1 << i, 1 << i))
        .collect();
    format!(
        "ldxw %r2, [%r1+0]
ldxw %r3, [%r1+4]
ldxw %r5, [%r1+12]
ldxw %r7, [%r1+16]
and %r5, 255
add %r2, %r5
mov %r4, %r2
add %r4, {check}
mov %r8, 0
jgt %r4, %r3, bad
mov %r6, 0
ja join
bad:
mov %r6, {bad}
join:
{fork}{between}
{test}
{load}
mov %r0, 0
exit
drop:
mov %r0, 1
exit"
    )
}

/// xdp: two sites each build r4 = data + a variable (or constant) offset and test `r4 + 4`
/// against `data_end` (`site1` replaces the first site's test of r6 = r4 + 4, `site2` the whole
/// second site), meet, branch enough that their paths are joined, then `load` through r4.
fn two_sites(site1: &str, site2: &str, load: &str) -> String {
    let fork: String = (0..6)
        .map(|i| format!("jset %r8, {}, +1\nadd %r0, {}\n", 1 << i, 1 << i))
        .collect();
    format!(
        "ldxw %r2, [%r1+0]
ldxw %r3, [%r1+4]
ldxw %r5, [%r1+12]
and %r5, 255
ldxw %r8, [%r1+16]
mov %r9, %r8
and %r9, 255
mov %r0, 0
jset %r8, 128, site2
mov %r4, %r2
add %r4, %r5
mov %r6, %r4
{site1}
jgt %r6, %r3, drop
ja join
site2:
{site2}
join:
{fork}{load}
mov %r0, 0
exit
drop:
mov %r0, 1
exit"
    )
}

#[allow(clippy::too_many_lines)]
fn cases() -> Vec<Case> {
    let mut v = base_cases();
    v.extend(relational_loops());
    v
}

fn base_cases() -> Vec<Case> {
    let xdp = ProgramType::xdp();
    let skb = ProgramType::socket_filter();
    let kp = ProgramType::kprobe();
    let m8 = mem(8);
    let m256 = mem(256);
    let pkt_ok = packet(14, "ldxh %r5, [%r2+12]");
    vec![
        // ---------------------------------------------------------------- uninit registers
        case("r0 never written", "uninit-reg", m8, "exit", "mov %r0, 0\nexit", "UninitRegister"),
        case(
            "uninit ALU source",
            "uninit-reg",
            m8,
            "mov %r0, 0\nadd %r0, %r7\nexit",
            "mov %r0, 0\nmov %r7, 1\nadd %r0, %r7\nexit",
            "UninitRegister",
        ),
        case(
            "r1-r5 clobbered by a helper call",
            "uninit-reg",
            kp,
            "mov %r3, 5\ncall 5\nmov %r0, %r3\nadd %r0, 1\nexit",
            "mov %r6, 5\ncall 5\nmov %r0, %r6\nadd %r0, 1\nexit",
            "UninitRegister",
        ),
        case(
            "uninit comparison operand",
            "uninit-reg",
            m8,
            "mov %r0, 0\njeq %r3, 0, +1\nmov %r0, 1\nexit",
            "mov %r0, 0\nmov %r3, 0\njeq %r3, 0, +1\nmov %r0, 1\nexit",
            "UninitRegister",
        ),
        case(
            "initialised on one path only",
            "uninit-reg",
            m8,
            "ldxb %r2, [%r1+0]\njeq %r2, 0, +1\nmov %r6, 1\nmov %r0, %r6\nadd %r0, 0\nexit",
            "ldxb %r2, [%r1+0]\nmov %r6, 0\njeq %r2, 0, +1\nmov %r6, 1\nmov %r0, %r6\nadd %r0, 0\nexit",
            "UninitRegister",
        ),
        case(
            "uninit store source",
            "uninit-reg",
            m8,
            "stxdw [%r1+0], %r7\nmov %r0, 0\nexit",
            "mov %r7, 0\nstxdw [%r1+0], %r7\nmov %r0, 0\nexit",
            "UninitRegister",
        ),
        case(
            "uninit base pointer",
            "uninit-reg",
            m8,
            "ldxb %r0, [%r6+0]\nexit",
            "mov %r6, %r1\nldxb %r0, [%r6+0]\nexit",
            "UninitRegister",
        ),
        case(
            "callee reads its own r6 (not inherited)",
            "uninit-reg",
            m8,
            "mov %r6, 1\ncall local f\nexit\nf:\nmov %r0, %r6\nadd %r0, 1\nexit",
            "mov %r1, 1\ncall local f\nexit\nf:\nmov %r0, %r1\nadd %r0, 1\nexit",
            "UninitRegister",
        ),
        // ---------------------------------------------------------------- uninit stack
        case(
            "stack slot never written",
            "uninit-stack",
            m8,
            "ldxdw %r0, [%r10-8]\nexit",
            "stdw [%r10-8], 0\nldxdw %r0, [%r10-8]\nexit",
            "UninitStack",
        ),
        case(
            "stack slot half written",
            "uninit-stack",
            m8,
            "stw [%r10-8], 0\nldxdw %r0, [%r10-8]\nexit",
            "stw [%r10-8], 0\nstw [%r10-4], 0\nldxdw %r0, [%r10-8]\nexit",
            "UninitStack",
        ),
        case(
            "stack written on one path only",
            "uninit-stack",
            m8,
            "ldxb %r2, [%r1+0]\njeq %r2, 0, +1\nstdw [%r10-8], 1\nldxdw %r0, [%r10-8]\nexit",
            "ldxb %r2, [%r1+0]\nstdw [%r10-8], 0\njeq %r2, 0, +1\nstdw [%r10-8], 1\nldxdw %r0, [%r10-8]\nexit",
            "UninitStack",
        ),
        case(
            "variable-offset stack read reaching an unwritten slot",
            "uninit-stack",
            m8,
            "ldxb %r2, [%r1+0]\nand %r2, 15\nmov %r3, %r10\nadd %r3, -16\nadd %r3, %r2\nstdw [%r10-16], 0\nldxb %r0, [%r3+0]\nexit",
            "ldxb %r2, [%r1+0]\nand %r2, 7\nmov %r3, %r10\nadd %r3, -16\nadd %r3, %r2\nstdw [%r10-16], 0\nldxb %r0, [%r3+0]\nexit",
            "UninitStack",
        ),
        case(
            "callee reads caller's unwritten stack",
            "uninit-stack",
            m8,
            "mov %r1, %r10\nadd %r1, -8\ncall local f\nexit\nf:\nldxdw %r0, [%r1+0]\nexit",
            "stdw [%r10-8], 3\nmov %r1, %r10\nadd %r1, -8\ncall local f\nexit\nf:\nldxdw %r0, [%r1+0]\nexit",
            "UninitStack",
        ),
        // ---------------------------------------------------------------- stack bounds
        case(
            "store below r10-512",
            "stack-oob",
            m8,
            "stdw [%r10-520], 0\nmov %r0, 0\nexit",
            "stdw [%r10-512], 0\nmov %r0, 0\nexit",
            "OutOfBounds",
        ),
        case(
            "store at r10",
            "stack-oob",
            m8,
            "stb [%r10+0], 0\nmov %r0, 0\nexit",
            "stb [%r10-1], 0\nmov %r0, 0\nexit",
            "OutOfBounds",
        ),
        case(
            "store straddling r10",
            "stack-oob",
            m8,
            "stw [%r10-2], 0\nmov %r0, 0\nexit",
            "stw [%r10-4], 0\nmov %r0, 0\nexit",
            "OutOfBounds",
        ),
        case(
            "load straddling the stack bottom",
            "stack-oob",
            m8,
            "stdw [%r10-512], 1\nldxdw %r0, [%r10-516]\nexit",
            "stdw [%r10-512], 1\nldxdw %r0, [%r10-512]\nexit",
            "OutOfBounds",
        ),
        case(
            "variable offset below the frame",
            "stack-oob",
            m8,
            "ldxh %r2, [%r1+0]\nand %r2, 1023\nmov %r3, %r10\nsub %r3, %r2\nstb [%r3-1], 0\nmov %r0, 0\nexit",
            "ldxh %r2, [%r1+0]\nand %r2, 511\nmov %r3, %r10\nsub %r3, %r2\nstb [%r3-1], 0\nmov %r0, 0\nexit",
            "OutOfBounds",
        ),
        case(
            "loop index one past a stack buffer",
            "stack-oob",
            m8,
            "mov %r1, 0\nloop:\nmov %r2, %r10\nadd %r2, -64\nadd %r2, %r1\nstb [%r2+0], 0\nadd %r1, 1\njle %r1, 64, loop\nmov %r0, 0\nexit",
            "mov %r1, 0\nloop:\nmov %r2, %r10\nadd %r2, -64\nadd %r2, %r1\nstb [%r2+0], 0\nadd %r1, 1\njlt %r1, 64, loop\nmov %r0, 0\nexit",
            "OutOfBounds",
        ),
        // ---------------------------------------------------------------- context
        case(
            "xdp ctx read past the structure",
            "ctx",
            xdp,
            "ldxw %r0, [%r1+24]\nexit",
            "ldxw %r0, [%r1+20]\nexit",
            "OutOfBounds",
        ),
        case(
            "kprobe ctx read at a negative offset",
            "ctx",
            kp,
            "ldxdw %r0, [%r1-8]\nexit",
            "ldxdw %r0, [%r1+8]\nexit",
            "OutOfBounds",
        ),
        case(
            "xdp data read with the wrong width",
            "ctx",
            xdp,
            "ldxh %r2, [%r1+0]\nmov %r0, 2\nexit",
            "ldxw %r2, [%r1+0]\nmov %r0, 2\nexit",
            "CtxAccess",
        ),
        case(
            "xdp data read as 64 bits",
            "ctx",
            xdp,
            "ldxdw %r2, [%r1+0]\nmov %r0, 2\nexit",
            "ldxw %r2, [%r1+0]\nmov %r0, 2\nexit",
            "CtxAccess",
        ),
        case(
            "write to read-only kprobe ctx",
            "ctx",
            kp,
            "stdw [%r1+0], 0\nmov %r0, 0\nexit",
            "ldxdw %r2, [%r1+0]\nmov %r0, 0\nexit",
            "CtxAccess",
        ),
        case(
            "write to read-only xdp ctx field",
            "ctx",
            xdp,
            "stw [%r1+12], 0\nmov %r0, 2\nexit",
            "ldxw %r2, [%r1+12]\nmov %r0, 2\nexit",
            "CtxAccess",
        ),
        case(
            "write to __sk_buff data",
            "ctx",
            skb,
            "stw [%r1+76], 0\nmov %r0, 0\nexit",
            "stw [%r1+8], 0\nmov %r0, 0\nexit",
            "CtxAccess",
        ),
        case(
            "write to __sk_buff data_end",
            "ctx",
            skb,
            "stw [%r1+80], 0\nmov %r0, 0\nexit",
            "stw [%r1+84], 0\nmov %r0, 0\nexit",
            "CtxAccess",
        ),
        case(
            "ctx access at a variable offset",
            "ctx",
            skb,
            "ldxw %r2, [%r1+0]\nand %r2, 4\nadd %r1, %r2\nldxw %r0, [%r1+0]\nexit",
            "ldxw %r2, [%r1+0]\nand %r2, 4\nadd %r1, 4\nldxw %r0, [%r1+0]\nexit",
            "CtxAccess",
        ),
        case(
            "write to read-only tracepoint ctx",
            "ctx",
            ProgramType::tracepoint(),
            "stw [%r1+8], 0\nmov %r0, 0\nexit",
            "ldxw %r2, [%r1+8]\nmov %r0, 0\nexit",
            "CtxAccess",
        ),
        // ---------------------------------------------------------------- packet
        case(
            "packet read without a bound check",
            "packet",
            xdp,
            "ldxw %r2, [%r1+0]\nldxb %r0, [%r2+0]\nexit",
            "ldxw %r2, [%r1+0]\nldxw %r3, [%r1+4]\nmov %r4, %r2\nadd %r4, 1\njgt %r4, %r3, +2\nldxb %r0, [%r2+0]\nexit\nmov %r0, 1\nexit",
            "OutOfBounds",
        ),
        case(
            "packet read beyond the proven bound",
            "packet",
            xdp,
            pkt_ok.replace("[%r2+12]", "[%r2+13]"),
            pkt_ok.clone(),
            "OutOfBounds",
        ),
        case(
            "packet read at a negative offset",
            "packet",
            xdp,
            packet(14, "ldxb %r5, [%r2-1]"),
            packet(14, "ldxb %r5, [%r2+0]"),
            "OutOfBounds",
        ),
        case(
            "packet access on the failing side of the check",
            "packet",
            xdp,
            "ldxw %r2, [%r1+0]\nldxw %r3, [%r1+4]\nmov %r4, %r2\nadd %r4, 14\njle %r4, %r3, drop\nldxh %r0, [%r2+12]\nexit\ndrop:\nmov %r0, 1\nexit",
            "ldxw %r2, [%r1+0]\nldxw %r3, [%r1+4]\nmov %r4, %r2\nadd %r4, 14\njgt %r4, %r3, drop\nldxh %r0, [%r2+12]\nexit\ndrop:\nmov %r0, 1\nexit",
            "OutOfBounds",
        ),
        case(
            "pointer advanced past the proven bound",
            "packet",
            xdp,
            packet(14, "add %r2, 14\nldxb %r5, [%r2+0]"),
            packet(14, "add %r2, 14\nldxb %r5, [%r2-1]"),
            "OutOfBounds",
        ),
        case(
            "bound proven on another variable-offset pointer",
            "packet",
            xdp,
            "ldxw %r2, [%r1+0]\nldxw %r3, [%r1+4]\nldxw %r5, [%r1+12]\nldxw %r6, [%r1+16]\nand %r5, 255\nand %r6, 255\nmov %r4, %r2\nadd %r4, %r5\nmov %r7, %r4\nadd %r7, 1\njgt %r7, %r3, drop\nmov %r8, %r2\nadd %r8, %r6\nldxb %r0, [%r8+0]\nexit\ndrop:\nmov %r0, 1\nexit",
            "ldxw %r2, [%r1+0]\nldxw %r3, [%r1+4]\nldxw %r5, [%r1+12]\nldxw %r6, [%r1+16]\nand %r5, 255\nand %r6, 255\nmov %r4, %r2\nadd %r4, %r5\nmov %r7, %r4\nadd %r7, 1\njgt %r7, %r3, drop\nmov %r8, %r2\nadd %r8, %r6\nldxb %r0, [%r4+0]\nexit\ndrop:\nmov %r0, 1\nexit",
            "OutOfBounds",
        ),
        case(
            "variable-offset access wider than its check",
            "packet",
            xdp,
            "ldxw %r2, [%r1+0]\nldxw %r3, [%r1+4]\nldxw %r5, [%r1+12]\nand %r5, 255\nadd %r2, %r5\nmov %r4, %r2\nadd %r4, 2\njgt %r4, %r3, drop\nldxw %r0, [%r2+0]\nexit\ndrop:\nmov %r0, 1\nexit",
            "ldxw %r2, [%r1+0]\nldxw %r3, [%r1+4]\nldxw %r5, [%r1+12]\nand %r5, 255\nadd %r2, %r5\nmov %r4, %r2\nadd %r4, 2\njgt %r4, %r3, drop\nldxh %r0, [%r2+0]\nexit\ndrop:\nmov %r0, 1\nexit",
            "OutOfBounds",
        ),
        case(
            "bound checked with the index register reassigned",
            "packet",
            xdp,
            "ldxw %r2, [%r1+0]\nldxw %r3, [%r1+4]\nldxw %r5, [%r1+12]\nand %r5, 255\nmov %r4, %r2\nadd %r4, %r5\nmov %r7, %r4\nadd %r7, 1\njgt %r7, %r3, drop\nldxw %r5, [%r1+16]\nand %r5, 255\nmov %r8, %r2\nadd %r8, %r5\nldxb %r0, [%r8+0]\nexit\ndrop:\nmov %r0, 1\nexit",
            "ldxw %r2, [%r1+0]\nldxw %r3, [%r1+4]\nldxw %r5, [%r1+12]\nand %r5, 255\nmov %r4, %r2\nadd %r4, %r5\nmov %r7, %r4\nadd %r7, 1\njgt %r7, %r3, drop\nldxw %r6, [%r1+16]\nand %r6, 255\nmov %r8, %r2\nadd %r8, %r5\nldxb %r0, [%r8+0]\nexit\ndrop:\nmov %r0, 1\nexit",
            "OutOfBounds",
        ),
        case(
            "packet pointer used after xdp_adjust_head",
            "packet",
            xdp,
            packet(14, "mov %r6, %r2\nmov %r2, 0\ncall 44\nldxb %r5, [%r6+0]"),
            packet(14, "mov %r6, %r2\nmov %r2, 0\nldxb %r5, [%r6+0]\ncall 44"),
            "UninitRegister",
        ),
        case(
            "socket filter packet read without a check",
            "packet",
            skb,
            "ldxw %r2, [%r1+76]\nldxb %r0, [%r2+0]\nexit",
            "ldxw %r2, [%r1+76]\nldxw %r3, [%r1+80]\nmov %r4, %r2\nadd %r4, 1\njgt %r4, %r3, +2\nldxb %r0, [%r2+0]\nexit\nmov %r0, 0\nexit",
            "OutOfBounds",
        ),
        case(
            "data_meta read without a check",
            "packet",
            xdp,
            "ldxw %r2, [%r1+8]\nldxw %r3, [%r1+0]\nldxb %r0, [%r2+0]\nexit",
            "ldxw %r2, [%r1+8]\nldxw %r3, [%r1+0]\nmov %r4, %r2\nadd %r4, 1\njgt %r4, %r3, +2\nldxb %r0, [%r2+0]\nexit\nmov %r0, 0\nexit",
            "OutOfBounds",
        ),
        case(
            "32-bit packet bound comparison",
            "packet",
            xdp,
            "ldxw %r2, [%r1+0]\nldxw %r3, [%r1+4]\nmov %r4, %r2\nadd %r4, 1\njgt32 %r4, %r3, +2\nldxb %r0, [%r2+0]\nexit\nmov %r0, 0\nexit",
            "ldxw %r2, [%r1+0]\nldxw %r3, [%r1+4]\nmov %r4, %r2\nadd %r4, 1\njgt %r4, %r3, +2\nldxb %r0, [%r2+0]\nexit\nmov %r0, 0\nexit",
            "PointerComparison",
        ),
        // ---------------------------------------------------------------- map values
        case(
            "map value used without a null check",
            "map-value",
            xdp,
            lookup(0, "ja +0").replace("jeq %r0, 0, out", "ldxdw %r5, [%r0+0]\njeq %r0, 0, out"),
            lookup(0, "ldxdw %r5, [%r0+0]"),
            "NullDereference",
        ),
        case(
            "map value overrun",
            "map-value",
            xdp,
            lookup(0, "ldxdw %r5, [%r0+1]"),
            lookup(0, "ldxdw %r5, [%r0+0]"),
            "OutOfBounds",
        ),
        case(
            "map value underrun",
            "map-value",
            xdp,
            lookup(4, "ldxb %r5, [%r0-1]"),
            lookup(4, "ldxb %r5, [%r0+0]"),
            "OutOfBounds",
        ),
        case(
            "map value at a possibly negative variable offset",
            "map-value",
            xdp,
            lookup(4, "ldxb %r5, [%r0+0]\nand %r5, 63\nsub %r5, 8\nadd %r0, %r5\nldxb %r5, [%r0+0]"),
            lookup(4, "ldxb %r5, [%r0+0]\nand %r5, 63\nadd %r0, %r5\nldxb %r5, [%r0+0]"),
            "OutOfBounds",
        ),
        case(
            "map value at a variable offset past the end",
            "map-value",
            xdp,
            lookup(4, "ldxb %r5, [%r0+0]\nand %r5, 127\nadd %r0, %r5\nldxb %r5, [%r0+0]"),
            lookup(4, "ldxb %r5, [%r0+0]\nand %r5, 63\nadd %r0, %r5\nldxb %r5, [%r0+0]"),
            "OutOfBounds",
        ),
        case(
            "null check on the other lookup's result",
            "map-value",
            xdp,
            "stw [%r10-4], 0\nlddw %r1, map_idx 0\nmov %r2, %r10\nadd %r2, -4\ncall 1\nmov %r6, %r0\nlddw %r1, map_idx 0\nmov %r2, %r10\nadd %r2, -4\ncall 1\njeq %r0, 0, out\nldxdw %r5, [%r6+0]\nout:\nmov %r0, 0\nexit",
            "stw [%r10-4], 0\nlddw %r1, map_idx 0\nmov %r2, %r10\nadd %r2, -4\ncall 1\nmov %r6, %r0\nlddw %r1, map_idx 0\nmov %r2, %r10\nadd %r2, -4\ncall 1\njeq %r6, 0, out\nldxdw %r5, [%r6+0]\nout:\nmov %r0, 0\nexit",
            "NullDereference",
        ),
        case(
            "arithmetic on a map value before the null check",
            "map-value",
            xdp,
            lookup(4, "ja +0").replace("jeq %r0, 0, out", "add %r0, 8\njeq %r0, 0, out"),
            lookup(4, "add %r0, 8"),
            "PointerArithmetic",
        ),
        case(
            "store into read-only global data",
            "map-value",
            xdp,
            "lddw %r1, map_idx_value 1, 0\nstdw [%r1+0], 1\nmov %r0, 0\nexit",
            "lddw %r1, map_idx_value 4, 0\nstdw [%r1+0], 1\nmov %r0, 0\nexit",
            "ReadOnly",
        ),
        case(
            "store into a looked-up read-only value",
            "map-value",
            xdp,
            lookup(1, "stdw [%r0+0], 1"),
            lookup(1, "ldxdw %r5, [%r0+0]"),
            "ReadOnly",
        ),
        case(
            "global data address past the value",
            "map-value",
            xdp,
            "lddw %r1, map_idx_value 1, 16\nmov %r0, 0\nexit",
            "lddw %r1, map_idx_value 1, 15\nmov %r0, 0\nexit",
            "OutOfBounds",
        ),
        case(
            "invalid map index",
            "map-value",
            xdp,
            "lddw %r1, map_idx 6\nmov %r0, 0\nexit",
            "lddw %r1, map_idx 5\nmov %r0, 0\nexit",
            "InvalidMap",
        ),
        // ---------------------------------------------------------------- pointer arithmetic
        case(
            "pointer multiplied",
            "ptr-arith",
            m8,
            "mul %r1, 2\nmov %r0, 0\nexit",
            "add %r1, 2\nmov %r0, 0\nexit",
            "PointerArithmetic",
        ),
        case(
            "pointer plus pointer",
            "ptr-arith",
            m8,
            "mov %r2, %r10\nadd %r2, %r1\nmov %r0, 0\nexit",
            "mov %r2, %r10\nadd %r2, -8\nmov %r0, 0\nexit",
            "PointerArithmetic",
        ),
        case(
            "32-bit ALU on a pointer",
            "ptr-arith",
            m8,
            "add32 %r1, 2\nldxb %r0, [%r1+0]\nexit",
            "add %r1, 2\nldxb %r0, [%r1+0]\nexit",
            "PointerArithmetic",
        ),
        case(
            "difference of pointers into different regions",
            "ptr-arith",
            m8,
            "mov %r2, %r10\nsub %r2, %r1\nmov %r0, %r2\nexit",
            "mov %r2, %r1\nadd %r2, 4\nsub %r2, %r1\nmov %r0, %r2\nexit",
            "PointerArithmetic",
        ),
        case(
            "pointer masked",
            "ptr-arith",
            m8,
            "and %r1, -8\nldxb %r0, [%r1+0]\nexit",
            "add %r1, 0\nldxb %r0, [%r1+0]\nexit",
            "PointerArithmetic",
        ),
        case(
            "pointer negated",
            "ptr-arith",
            m8,
            "neg %r1\nmov %r0, 0\nexit",
            "mov %r2, %r1\nsub %r2, %r1\nneg %r2\nmov %r0, 0\nexit",
            "PointerArithmetic",
        ),
        case(
            "pointer byte-swapped",
            "ptr-arith",
            m8,
            "be16 %r1\nmov %r0, 0\nexit",
            "mov %r2, 1\nbe16 %r2\nmov %r0, 0\nexit",
            "PointerArithmetic",
        ),
        case(
            "pointer shifted",
            "ptr-arith",
            m8,
            "lsh %r1, 1\nmov %r0, 0\nexit",
            "mov %r2, 1\nlsh %r2, 1\nmov %r0, 0\nexit",
            "PointerArithmetic",
        ),
        case(
            "arithmetic on packet_end",
            "ptr-arith",
            xdp,
            "ldxw %r3, [%r1+4]\nadd %r3, -1\nmov %r0, 0\nexit",
            "ldxw %r3, [%r1+0]\nadd %r3, -1\nmov %r0, 0\nexit",
            "PointerArithmetic",
        ),
        case(
            "division by a pointer",
            "ptr-arith",
            m8,
            "mov %r0, 10\ndiv %r0, %r1\nexit",
            "mov %r0, 10\ndiv %r0, %r2\nexit",
            "PointerArithmetic",
        ),
        case(
            "modulo by a pointer",
            "ptr-arith",
            m8,
            "mov %r0, 10\nmod %r0, %r10\nexit",
            "mov %r0, 10\nmod %r0, %r2\nexit",
            "PointerArithmetic",
        ),
        case(
            "32-bit division by a pointer",
            "ptr-arith",
            m8,
            "mov %r0, 10\ndiv32 %r0, %r1\nexit",
            "mov %r0, 10\ndiv32 %r0, %r2\nexit",
            "PointerArithmetic",
        ),
        // ---------------------------------------------------------------- pointer leaks
        case(
            "stack pointer stored into a map value",
            "ptr-leak",
            xdp,
            lookup(0, "stxdw [%r0+0], %r10"),
            lookup(0, "mov %r6, 0\nstxdw [%r0+0], %r6"),
            "PointerLeak",
        ),
        case(
            "stack pointer returned from xdp",
            "ptr-leak",
            xdp,
            "mov %r0, %r10\nexit",
            "mov %r0, %r10\nsub %r0, %r10\nexit",
            "PointerLeak",
        ),
        case(
            "ctx pointer returned from a socket filter",
            "ptr-leak",
            skb,
            "mov %r0, %r1\nexit",
            "ldxw %r0, [%r1+0]\nexit",
            "PointerLeak",
        ),
        case(
            "map value pointer returned from xdp",
            "ptr-leak",
            xdp,
            lookup(0, "exit"),
            lookup(0, "mov %r0, 2\nexit"),
            "PointerLeak",
        ),
        case(
            "pointer stored into the packet",
            "ptr-leak",
            xdp,
            packet(14, "stxdw [%r2+0], %r10"),
            packet(14, "mov %r5, 0\nstxdw [%r2+0], %r5"),
            "PointerLeak",
        ),
        case(
            "pointer passed as a number to a helper",
            "ptr-leak",
            xdp,
            "mov %r1, %r10\nmov %r2, 0\ncall 23\nmov %r0, 0\nexit",
            "mov %r1, 1\nmov %r2, 0\ncall 23\nmov %r0, 0\nexit",
            "PointerLeak",
        ),
        case(
            "partial spill of a pointer",
            "ptr-leak",
            xdp,
            "stxw [%r10-8], %r1\nmov %r0, 0\nexit",
            "stxdw [%r10-8], %r1\nmov %r0, 0\nexit",
            "PointerLeak",
        ),
        case(
            "reading part of a spilled pointer",
            "ptr-leak",
            xdp,
            "stxdw [%r10-8], %r1\nldxw %r0, [%r10-8]\nexit",
            "stxdw [%r10-8], %r1\nldxdw %r2, [%r10-8]\nmov %r0, 2\nexit",
            "PointerLeak",
        ),
        case(
            "pointer compared with a number",
            "ptr-leak",
            xdp,
            "mov %r0, 0\njgt %r1, 5, +1\nmov %r0, 1\nexit",
            "mov %r0, 0\nmov %r2, 3\njgt %r2, 5, +1\nmov %r0, 1\nexit",
            "PointerComparison",
        ),
        case(
            "pointer stored into a ring-buffer record",
            "ptr-leak",
            xdp,
            ringbuf("stxdw [%r0+0], %r10\nmov %r1, %r0\nmov %r2, 0\ncall 132"),
            ringbuf("stdw [%r0+0], 0\nmov %r1, %r0\nmov %r2, 0\ncall 132"),
            "PointerLeak",
        ),
        // ---------------------------------------------------------------- helper arguments
        case(
            "lookup in a ring buffer",
            "helper-arg",
            xdp,
            lookup(2, "ldxb %r5, [%r0+0]"),
            lookup(0, "ldxb %r5, [%r0+0]"),
            "HelperArg",
        ),
        case(
            "lookup key not initialised",
            "helper-arg",
            xdp,
            lookup(0, "ldxb %r5, [%r0+0]").replace("stw [%r10-4], 0", "stw [%r10-8], 0"),
            lookup(0, "ldxb %r5, [%r0+0]"),
            "HelperArg",
        ),
        case(
            "lookup key partly outside the stack",
            "helper-arg",
            xdp,
            lookup(0, "ldxb %r5, [%r0+0]").replace("add %r2, -4", "add %r2, -2"),
            lookup(0, "ldxb %r5, [%r0+0]"),
            "HelperArg",
        ),
        case(
            "lookup key is a number",
            "helper-arg",
            xdp,
            lookup(0, "ldxb %r5, [%r0+0]").replace("mov %r2, %r10", "mov %r2, 64"),
            lookup(0, "ldxb %r5, [%r0+0]"),
            "HelperArg",
        ),
        case(
            "map argument is a number",
            "helper-arg",
            xdp,
            lookup(0, "ldxb %r5, [%r0+0]").replace("lddw %r1, map_idx 0", "mov %r1, 0"),
            lookup(0, "ldxb %r5, [%r0+0]"),
            "HelperArg",
        ),
        case(
            "update value not initialised",
            "helper-arg",
            xdp,
            "stw [%r10-4], 0\nlddw %r1, map_idx 0\nmov %r2, %r10\nadd %r2, -4\nmov %r3, %r10\nadd %r3, -16\nmov %r4, 0\ncall 2\nmov %r0, 0\nexit",
            "stw [%r10-4], 0\nstdw [%r10-16], 0\nlddw %r1, map_idx 0\nmov %r2, %r10\nadd %r2, -4\nmov %r3, %r10\nadd %r3, -16\nmov %r4, 0\ncall 2\nmov %r0, 0\nexit",
            "HelperArg",
        ),
        case(
            "negative size",
            "helper-arg",
            kp,
            "mov %r1, %r10\nadd %r1, -16\nmov %r2, -8\nmov %r3, 0\ncall 4\nmov %r0, 0\nexit",
            "mov %r1, %r10\nadd %r1, -16\nmov %r2, 8\nmov %r3, 0\ncall 4\nmov %r0, 0\nexit",
            "HelperArg",
        ),
        case(
            "size larger than the buffer",
            "helper-arg",
            kp,
            "mov %r1, %r10\nadd %r1, -16\nmov %r2, 32\nmov %r3, 0\ncall 4\nmov %r0, 0\nexit",
            "mov %r1, %r10\nadd %r1, -16\nmov %r2, 16\nmov %r3, 0\ncall 4\nmov %r0, 0\nexit",
            "HelperArg",
        ),
        case(
            "unbounded variable size",
            "helper-arg",
            kp,
            "ldxdw %r2, [%r1+0]\nmov %r1, %r10\nadd %r1, -16\nmov %r3, 0\ncall 4\nmov %r0, 0\nexit",
            "ldxdw %r2, [%r1+0]\nand %r2, 15\nmov %r1, %r10\nadd %r1, -16\nmov %r3, 0\ncall 4\nmov %r0, 0\nexit",
            "HelperArg",
        ),
        case(
            "zero size where a positive size is required",
            "helper-arg",
            kp,
            "stdw [%r10-8], 0\nmov %r1, %r10\nadd %r1, -8\nmov %r2, 0\ncall 6\nmov %r0, 0\nexit",
            "stdw [%r10-8], 0\nmov %r1, %r10\nadd %r1, -8\nmov %r2, 8\ncall 6\nmov %r0, 0\nexit",
            "HelperArg",
        ),
        case(
            "stack pointer where the ctx is required",
            "helper-arg",
            skb,
            "mov %r1, %r10\ncall 17\nmov %r0, 0\nexit",
            "call 17\nmov %r0, 0\nexit",
            "HelperArg",
        ),
        case(
            "ctx pointer with an offset where the ctx is required",
            "helper-arg",
            skb,
            "add %r1, 4\ncall 17\nmov %r0, 0\nexit",
            "add %r1, 0\ncall 17\nmov %r0, 0\nexit",
            "HelperArg",
        ),
        case(
            "unknown helper id",
            "helper-arg",
            xdp,
            "call 9999\nmov %r0, 0\nexit",
            "call 5\nmov %r0, 0\nexit",
            "UnknownHelper",
        ),
        case(
            "kernel-memory read from a socket filter (helper not allowed for the type)",
            "helper-arg",
            skb,
            "mov %r1, %r10\nadd %r1, -8\nmov %r2, 8\nmov %r3, 0\ncall 4\nmov %r0, 0\nexit",
            "mov %r1, %r10\nadd %r1, -8\nmov %r2, 8\nmov %r3, 0\ncall 7\nmov %r0, 0\nexit",
            "HelperNotAllowed",
        ),
        case(
            "skb helper called from xdp (helper not allowed for the type)",
            "helper-arg",
            xdp,
            "call 17\nmov %r0, 0\nexit",
            "call 7\nmov %r0, 0\nexit",
            "HelperNotAllowed",
        ),
        case(
            "helper writes into read-only data",
            "helper-arg",
            kp,
            "lddw %r1, map_idx_value 1, 0\nmov %r2, 8\nmov %r3, 0\ncall 4\nmov %r0, 0\nexit",
            "lddw %r1, map_idx_value 4, 0\nmov %r2, 8\nmov %r3, 0\ncall 4\nmov %r0, 0\nexit",
            "ReadOnly",
        ),
        case(
            "tail call through a hash map",
            "helper-arg",
            xdp,
            "lddw %r2, map_idx 0\nmov %r3, 0\ncall 12\nmov %r0, 0\nexit",
            "lddw %r2, map_idx 3\nmov %r3, 0\ncall 12\nmov %r0, 0\nexit",
            "HelperArg",
        ),
        case(
            "helper argument not initialised",
            "helper-arg",
            kp,
            "mov %r1, %r10\nadd %r1, -8\nmov %r2, 8\ncall 4\nmov %r0, 0\nexit",
            "mov %r1, %r10\nadd %r1, -8\nmov %r2, 8\nmov %r3, 0\ncall 4\nmov %r0, 0\nexit",
            "UninitRegister",
        ),
        case(
            "perf_event_output through a hash map",
            "helper-arg",
            kp,
            "stdw [%r10-8], 0\nlddw %r2, map_idx 0\nmov %r3, 0\nmov %r4, %r10\nadd %r4, -8\nmov %r5, 8\ncall 25\nmov %r0, 0\nexit",
            "stdw [%r10-8], 0\nlddw %r2, map_idx 5\nmov %r3, 0\nmov %r4, %r10\nadd %r4, -8\nmov %r5, 8\ncall 25\nmov %r0, 0\nexit",
            "HelperArg",
        ),
        // ---------------------------------------------------------------- references
        case(
            "reservation leaked on one path",
            "ringbuf",
            kp,
            ringbuf("jeq %r7, 0, out\nmov %r1, %r0\nmov %r2, 0\ncall 132")
                .replace("lddw %r1, map_idx 2", "ldxdw %r7, [%r1+0]\nlddw %r1, map_idx 2"),
            ringbuf("jeq %r7, 0, +0\nmov %r1, %r0\nmov %r2, 0\ncall 132")
                .replace("lddw %r1, map_idx 2", "ldxdw %r7, [%r1+0]\nlddw %r1, map_idx 2"),
            "UnreleasedReference",
        ),
        case(
            "reservation never released",
            "ringbuf",
            kp,
            ringbuf("stdw [%r0+0], 1"),
            ringbuf("stdw [%r0+0], 1\nmov %r1, %r0\nmov %r2, 0\ncall 133"),
            "UnreleasedReference",
        ),
        case(
            "double submit",
            "ringbuf",
            kp,
            ringbuf("mov %r6, %r0\nmov %r1, %r6\nmov %r2, 0\ncall 132\nmov %r1, %r6\nmov %r2, 0\ncall 132"),
            ringbuf("mov %r6, %r0\nmov %r1, %r6\nmov %r2, 0\ncall 132"),
            "UninitRegister",
        ),
        case(
            "use after submit",
            "ringbuf",
            kp,
            ringbuf("mov %r6, %r0\nmov %r1, %r6\nmov %r2, 0\ncall 132\nstdw [%r6+0], 1"),
            ringbuf("mov %r6, %r0\nstdw [%r6+0], 1\nmov %r1, %r6\nmov %r2, 0\ncall 132"),
            "UninitRegister",
        ),
        case(
            "submit without a null check",
            "ringbuf",
            kp,
            ringbuf("ja +0").replace("jeq %r0, 0, out", "mov %r1, %r0\nmov %r2, 0\ncall 132"),
            ringbuf("mov %r1, %r0\nmov %r2, 0\ncall 132"),
            "HelperArg",
        ),
        case(
            "submit of an offset record",
            "ringbuf",
            kp,
            ringbuf("mov %r1, %r0\nadd %r1, 4\nmov %r2, 0\ncall 132"),
            ringbuf("mov %r1, %r0\nadd %r1, 0\nmov %r2, 0\ncall 132"),
            "HelperArg",
        ),
        case(
            "record written past its size",
            "ringbuf",
            kp,
            ringbuf("stw [%r0+6], 1\nmov %r1, %r0\nmov %r2, 0\ncall 132"),
            ringbuf("stw [%r0+4], 1\nmov %r1, %r0\nmov %r2, 0\ncall 132"),
            "OutOfBounds",
        ),
        case(
            "reservation leaked through a tail call",
            "ringbuf",
            ProgramType::sched_cls(),
            ringbuf("mov %r6, %r0\nmov %r1, %r9\nlddw %r2, map_idx 3\nmov %r3, 0\ncall 12\nmov %r1, %r6\nmov %r2, 0\ncall 132")
                .replace("lddw %r1, map_idx 2", "mov %r9, %r1\nlddw %r1, map_idx 2"),
            ringbuf("mov %r6, %r0\nmov %r1, %r6\nmov %r2, 0\ncall 132\nmov %r1, %r9\nlddw %r2, map_idx 3\nmov %r3, 0\ncall 12")
                .replace("lddw %r1, map_idx 2", "mov %r9, %r1\nlddw %r1, map_idx 2"),
            "UnreleasedReference",
        ),
        case(
            "submit of a stack pointer",
            "ringbuf",
            kp,
            "stdw [%r10-8], 0\nmov %r1, %r10\nadd %r1, -8\nmov %r2, 0\ncall 132\nmov %r0, 0\nexit",
            "stdw [%r10-8], 0\nmov %r1, %r10\nadd %r1, -8\nmov %r2, 0\ncall 5\nmov %r0, 0\nexit",
            "HelperArg",
        ),
        // ---------------------------------------------------------------- termination
        case(
            "infinite loop",
            "loop",
            m8,
            "mov %r0, 0\nloop:\nja loop",
            "mov %r0, 0\nmov %r1, 0\nloop:\nadd %r1, 1\njlt %r1, 10, loop\nexit",
            "UnboundedLoop",
        ),
        case(
            "loop counter never advances",
            "loop",
            m8,
            "mov %r0, 0\nmov %r1, 0\nloop:\nadd %r1, 0\njlt %r1, 10, loop\nexit",
            "mov %r0, 0\nmov %r1, 0\nloop:\nadd %r1, 1\njlt %r1, 10, loop\nexit",
            "UnboundedLoop",
        ),
        case(
            "loop counter reset in the body",
            "loop",
            m8,
            "mov %r0, 0\nmov %r1, 0\nloop:\nmov %r1, 0\nadd %r1, 1\njlt %r1, 10, loop\nexit",
            "mov %r0, 0\nmov %r1, 0\nloop:\nadd %r1, 1\njlt %r1, 10, loop\nexit",
            "UnboundedLoop",
        ),
        case(
            "loop tests a register it never changes",
            "loop",
            m8,
            "mov %r0, 0\nmov %r1, 0\nmov %r2, 0\nloop:\nadd %r1, 1\njlt %r2, 10, loop\nexit",
            "mov %r0, 0\nmov %r1, 0\nmov %r2, 0\nloop:\nadd %r1, 1\njlt %r1, 10, loop\nexit",
            "UnboundedLoop",
        ),
        case(
            "loop step may be zero",
            "loop",
            m8,
            "ldxb %r3, [%r1+0]\nand %r3, 1\nmov %r0, 0\nmov %r1, 0\nloop:\nadd %r1, %r3\njlt %r1, 10, loop\nexit",
            "ldxb %r3, [%r1+0]\nor %r3, 1\nmov %r0, 0\nmov %r1, 0\nloop:\nadd %r1, %r3\njlt %r1, 10, loop\nexit",
            "UnboundedLoop",
        ),
        case(
            "inner loop never ends",
            "loop",
            m8,
            "mov %r0, 0\nmov %r1, 0\nouter:\nmov %r2, 0\ninner:\nadd %r0, 1\njlt %r2, 4, inner\nadd %r1, 1\njlt %r1, 4, outer\nexit",
            "mov %r0, 0\nmov %r1, 0\nouter:\nmov %r2, 0\ninner:\nadd %r2, 1\njlt %r2, 4, inner\nadd %r1, 1\njlt %r1, 4, outer\nexit",
            "UnboundedLoop",
        ),
        case(
            "infinite loop in a callee",
            "loop",
            m8,
            "call local f\nexit\nf:\nmov %r0, 0\nmov %r1, 5\nloop:\njgt %r1, 1, loop\nexit",
            "call local f\nexit\nf:\nmov %r0, 0\nmov %r1, 5\nloop:\nsub %r1, 1\njgt %r1, 1, loop\nexit",
            "UnboundedLoop",
        ),
        // ---------------------------------------------------------------- calls
        case(
            "call depth above 8 frames",
            "calls",
            m8,
            call_chain(8),
            call_chain(7),
            "CallDepth",
        ),
        case(
            "direct recursion",
            "calls",
            m8,
            "call local f\nexit\nf:\nmov %r0, 0\ncall local f\nexit",
            "call local f\nexit\nf:\nmov %r0, 0\nexit",
            "Recursion",
        ),
        case(
            "mutual recursion",
            "calls",
            m8,
            "call local f\nexit\nf:\ncall local g\nexit\ng:\nmov %r0, 0\ncall local f\nexit",
            "call local f\nexit\nf:\ncall local g\nexit\ng:\nmov %r0, 0\nexit",
            "Recursion",
        ),
        case(
            "combined stack of two frames above 512 bytes",
            "calls",
            m8,
            "stdw [%r10-512], 0\ncall local f\nexit\nf:\nstdw [%r10-512], 0\nmov %r0, 0\nexit",
            "stdw [%r10-256], 0\ncall local f\nexit\nf:\nstdw [%r10-256], 0\nmov %r0, 0\nexit",
            "CombinedStack",
        ),
        case(
            "callee returns a pointer into its own frame",
            "calls",
            m8,
            "call local f\nldxdw %r0, [%r0+0]\nexit\nf:\nstdw [%r10-8], 1\nmov %r0, %r10\nadd %r0, -8\nexit",
            "mov %r1, %r10\nadd %r1, -8\ncall local f\nldxdw %r0, [%r0+0]\nexit\nf:\nstdw [%r1+0], 1\nmov %r0, %r1\nexit",
            "UninitRegister",
        ),
        case(
            "callee exits with r0 uninitialised",
            "calls",
            m8,
            "call local f\nexit\nf:\nexit",
            "call local f\nexit\nf:\nmov %r0, 0\nexit",
            "UninitRegister",
        ),
        case(
            "bpf_loop callback returns a pointer",
            "calls",
            kp,
            "mov %r1, 4\nlddw %r2, code_addr cb\nmov %r3, 0\nmov %r4, 0\ncall 181\nmov %r0, 0\nexit\ncb:\nmov %r0, %r10\nexit",
            "mov %r1, 4\nlddw %r2, code_addr cb\nmov %r3, 0\nmov %r4, 0\ncall 181\nmov %r0, 0\nexit\ncb:\nmov %r0, 0\nexit",
            "InvalidType",
        ),
        // ---------------------------------------------------------------- exit
        case(
            "r0 uninitialised on one exit path",
            "exit",
            m8,
            "ldxb %r2, [%r1+0]\njeq %r2, 0, +1\nmov %r0, 1\nexit",
            "ldxb %r2, [%r1+0]\nmov %r0, 0\njeq %r2, 0, +1\nmov %r0, 1\nexit",
            "UninitRegister",
        ),
        case(
            "packet pointer returned from xdp",
            "exit",
            xdp,
            "ldxw %r0, [%r1+0]\nexit",
            "ldxw %r0, [%r1+12]\nexit",
            "PointerLeak",
        ),
        // ---------------------------------------------------------------- atomics
        case(
            "atomic add on read-only data",
            "atomic",
            xdp,
            "lddw %r1, map_idx_value 1, 0\nmov %r2, 1\nlock add [%r1+0], %r2\nmov %r0, 0\nexit",
            "lddw %r1, map_idx_value 4, 0\nmov %r2, 1\nlock add [%r1+0], %r2\nmov %r0, 0\nexit",
            "ReadOnly",
        ),
        case(
            "atomic add on a writable ctx field",
            "atomic",
            skb,
            "mov %r2, 1\nlock add32 [%r1+8], %r2\nmov %r0, 0\nexit",
            "mov %r2, 1\nstw [%r1+8], 1\nmov %r0, 0\nexit",
            "CtxAccess",
        ),
        case(
            "atomic with a pointer operand",
            "atomic",
            m8,
            "stdw [%r10-8], 0\nlock add [%r10-8], %r1\nmov %r0, 0\nexit",
            "stdw [%r10-8], 0\nlock add [%r10-8], %r2\nmov %r0, 0\nexit",
            "Atomic",
        ),
        case(
            "atomic on packet data",
            "atomic",
            xdp,
            packet(14, "mov %r5, 1\nlock add32 [%r2+0], %r5"),
            packet(14, "mov %r5, 1\nstw [%r10-8], 0\nlock add32 [%r10-8], %r5"),
            "Atomic",
        ),
        case(
            "misaligned atomic",
            "atomic",
            m8,
            "stdw [%r10-16], 0\nstdw [%r10-8], 0\nmov %r1, 1\nlock add [%r10-12], %r1\nmov %r0, 0\nexit",
            "stdw [%r10-16], 0\nstdw [%r10-8], 0\nmov %r1, 1\nlock add [%r10-16], %r1\nmov %r0, 0\nexit",
            "Atomic",
        ),
        case(
            "atomic on uninitialised stack",
            "atomic",
            m8,
            "mov %r1, 1\nlock add [%r10-8], %r1\nmov %r0, 0\nexit",
            "stdw [%r10-8], 0\nmov %r1, 1\nlock add [%r10-8], %r1\nmov %r0, 0\nexit",
            "UninitStack",
        ),
        case(
            "cmpxchg with a pointer comparand",
            "atomic",
            m8,
            "stdw [%r10-8], 0\nmov %r0, %r10\nmov %r1, 1\nlock cmpxchg [%r10-8], %r1\nmov %r0, 0\nexit",
            "stdw [%r10-8], 0\nmov %r0, 0\nmov %r1, 1\nlock cmpxchg [%r10-8], %r1\nmov %r0, 0\nexit",
            "Atomic",
        ),
        // ---------------------------------------------------------------- types
        case(
            "dereference of a number",
            "types",
            m8,
            "mov %r2, 100\nldxb %r0, [%r2+0]\nexit",
            "mov %r2, %r1\nldxb %r0, [%r2+0]\nexit",
            "InvalidType",
        ),
        case(
            "dereference of a map handle",
            "types",
            xdp,
            "lddw %r2, map_idx 4\nldxb %r0, [%r2+0]\nexit",
            "lddw %r2, map_idx_value 4, 0\nldxb %r0, [%r2+0]\nexit",
            "InvalidType",
        ),
        case(
            "dereference of packet_end",
            "types",
            xdp,
            "ldxw %r3, [%r1+4]\nldxb %r0, [%r3-1]\nexit",
            pkt_ok.replace("ldxh %r5, [%r2+12]", "ldxb %r5, [%r4-1]"),
            "InvalidType",
        ),
        case(
            "spilled pointer overwritten at a variable offset",
            "types",
            m8,
            "stdw [%r10-16], 0\nstxdw [%r10-8], %r1\nldxb %r2, [%r1+0]\nand %r2, 8\nmov %r3, %r10\nadd %r3, -16\nadd %r3, %r2\nstdw [%r3+0], 0\nldxdw %r4, [%r10-8]\nldxb %r0, [%r4+0]\nexit",
            "stdw [%r10-16], 0\nstxdw [%r10-8], %r1\nldxb %r2, [%r1+0]\nand %r2, 0\nmov %r3, %r10\nadd %r3, -16\nadd %r3, %r2\nstdw [%r3+0], 0\nldxdw %r4, [%r10-8]\nldxb %r0, [%r4+0]\nexit",
            // The slot is forgotten (may be the pointer or the number): read as uninitialised.
            "UninitStack",
        ),
        // ---------------------------------------------------------------- probes
        case(
            "32-bit null test of a map value (kprobe)",
            "map-value",
            kp,
            lookup(4, "ja +0").replace("jeq %r0, 0, out", "jeq32 %r0, 0, null\nja out\nnull:\nmov %r2, %r10\nadd %r2, %r0\nstb [%r2-1], 0"),
            lookup(4, "ja +0").replace("jeq %r0, 0, out", "jeq %r0, 0, null\nja out\nnull:\nmov %r2, %r10\nadd %r2, %r0\nstb [%r2-1], 0"),
            "PointerComparison",
        ),
        case(
            "narrow stack read of a wider spilled number",
            "bounds",
            mem(16),
            input_index("lddw %r2, 0xff00\nstxdw [%r10-8], %r2\nldxb %r2, [%r10-7]"),
            input_index("lddw %r2, 0xff00\nstxdw [%r10-8], %r2\nldxb %r2, [%r10-8]"),
            "OutOfBounds",
        ),
        case(
            "narrow store into a spilled number",
            "bounds",
            m256,
            input_index("stdw [%r10-8], -1\nldxb %r2, [%r1+0]\nstxw [%r10-8], %r2\nldxdw %r2, [%r10-8]"),
            input_index("stdw [%r10-8], 0\nldxb %r2, [%r1+0]\nstxw [%r10-8], %r2\nldxdw %r2, [%r10-8]"),
            "OutOfBounds",
        ),
        case(
            "narrow store into the upper half of a zeroed slot",
            "bounds",
            m256,
            input_index("stdw [%r10-8], 0\nldxb %r2, [%r1+0]\nstxw [%r10-4], %r2\nldxdw %r2, [%r10-8]"),
            input_index("stdw [%r10-8], 0\nldxb %r2, [%r1+0]\nstxw [%r10-8], %r2\nldxdw %r2, [%r10-8]"),
            "OutOfBounds",
        ),
        case(
            "narrow store into a zeroed slot with one byte set after",
            "bounds",
            m256,
            input_index("stdw [%r10-8], 0\nstb [%r10-1], 1\nldxb %r2, [%r1+0]\nstxw [%r10-8], %r2\nldxdw %r2, [%r10-8]"),
            input_index("stdw [%r10-8], 0\nstb [%r10-1], 0\nldxb %r2, [%r1+0]\nstxw [%r10-8], %r2\nldxdw %r2, [%r10-8]"),
            "OutOfBounds",
        ),
        case(
            "narrow store into a zeroed slot, index one past the end",
            "bounds",
            m256,
            input_index("stdw [%r10-8], 0\nldxb %r2, [%r1+0]\nadd %r2, 1\nstxh [%r10-8], %r2\nldxdw %r2, [%r10-8]"),
            input_index("stdw [%r10-8], 0\nldxb %r2, [%r1+0]\nstxh [%r10-8], %r2\nldxdw %r2, [%r10-8]"),
            "OutOfBounds",
        ),
        case(
            "packet index related to the checked one on one path only",
            "packet",
            xdp,
            "ldxw %r2, [%r1+0]\nldxw %r3, [%r1+4]\nldxw %r5, [%r1+12]\nand %r5, 255\nldxw %r6, [%r1+16]\nand %r6, 255\nldxw %r9, [%r1+20]\njeq %r9, 0, +1\nmov %r6, %r5\nmov %r4, %r2\nadd %r4, %r5\nmov %r7, %r4\nadd %r7, 1\njgt %r7, %r3, drop\nmov %r8, %r2\nadd %r8, %r6\nldxb %r0, [%r8+0]\nexit\ndrop:\nmov %r0, 1\nexit",
            "ldxw %r2, [%r1+0]\nldxw %r3, [%r1+4]\nldxw %r5, [%r1+12]\nand %r5, 255\nldxw %r6, [%r1+16]\nand %r6, 255\nldxw %r9, [%r1+20]\njeq %r9, 0, +0\nmov %r6, %r5\nmov %r4, %r2\nadd %r4, %r5\nmov %r7, %r4\nadd %r7, 1\njgt %r7, %r3, drop\nmov %r8, %r2\nadd %r8, %r6\nldxb %r0, [%r8+0]\nexit\ndrop:\nmov %r0, 1\nexit",
            "OutOfBounds",
        ),
        case(
            "callee leaks a pointer to its frame through the caller's stack",
            "calls",
            m8,
            "mov %r1, %r10\nadd %r1, -8\ncall local f\nldxdw %r2, [%r10-8]\nldxb %r0, [%r2+0]\nexit\nf:\nstdw [%r10-8], 7\nmov %r3, %r10\nadd %r3, -8\nstxdw [%r1+0], %r3\nmov %r0, 0\nexit",
            "mov %r1, %r10\nadd %r1, -8\ncall local f\nldxdw %r2, [%r10-8]\nldxb %r0, [%r2+0]\nexit\nf:\nstdw [%r10-8], 7\nmov %r3, %r1\nadd %r3, 0\nstxdw [%r1+0], %r3\nmov %r0, 0\nexit",
            "UninitStack",
        ),
        case(
            "callee writes past the caller's frame",
            "stack-oob",
            m8,
            "mov %r1, %r10\nadd %r1, -8\ncall local f\nexit\nf:\nstb [%r1+8], 0\nmov %r0, 0\nexit",
            "mov %r1, %r10\nadd %r1, -8\ncall local f\nexit\nf:\nstb [%r1+7], 0\nmov %r0, 0\nexit",
            "OutOfBounds",
        ),
        case(
            "bpf_loop callback writes past its context buffer",
            "calls",
            kp,
            "stdw [%r10-8], 0\nmov %r1, 4\nlddw %r2, code_addr cb\nmov %r3, %r10\nadd %r3, -8\nmov %r4, 0\ncall 181\nmov %r0, 0\nexit\ncb:\nstb [%r2+8], 1\nmov %r0, 0\nexit",
            "stdw [%r10-8], 0\nmov %r1, 4\nlddw %r2, code_addr cb\nmov %r3, %r10\nadd %r3, -8\nmov %r4, 0\ncall 181\nmov %r0, 0\nexit\ncb:\nstb [%r2+7], 1\nmov %r0, 0\nexit",
            "OutOfBounds",
        ),
        case(
            "for_each_map_elem callback writes past the value",
            "calls",
            kp,
            "lddw %r1, map_idx 0\nlddw %r2, code_addr cb\nmov %r3, 0\nmov %r4, 0\ncall 164\nmov %r0, 0\nexit\ncb:\nstdw [%r3+1], 1\nmov %r0, 0\nexit",
            "lddw %r1, map_idx 0\nlddw %r2, code_addr cb\nmov %r3, 0\nmov %r4, 0\ncall 164\nmov %r0, 0\nexit\ncb:\nstdw [%r3+0], 1\nmov %r0, 0\nexit",
            "OutOfBounds",
        ),
        case(
            "legacy packet load with r6 not the ctx",
            "ctx",
            skb,
            "mov %r6, %r10\nldabsb 0\nexit",
            "mov %r6, %r1\nldabsb 0\nexit",
            "InvalidType",
        ),
        case(
            "legacy packet load in xdp",
            "ctx",
            xdp,
            "mov %r6, %r1\nldabsb 0\nexit",
            "mov %r6, %r1\nldxw %r0, [%r6+12]\nexit",
            "Unsupported",
        ),
        case(
            "8-byte ctx store straddling data",
            "ctx",
            skb,
            "stdw [%r1+72], 0\nmov %r0, 0\nexit",
            "stw [%r1+72], 0\nmov %r0, 0\nexit",
            "CtxAccess",
        ),
        case(
            "ctx read overlapping data",
            "ctx",
            skb,
            "ldxw %r2, [%r1+74]\nmov %r0, 0\nexit",
            "ldxh %r2, [%r1+74]\nmov %r0, 0\nexit",
            "CtxAccess",
        ),
        case(
            "map value as a too large helper buffer",
            "map-value",
            kp,
            lookup(0, "mov %r1, %r0\nmov %r2, 9\nmov %r3, 0\ncall 4"),
            lookup(0, "mov %r1, %r0\nmov %r2, 8\nmov %r3, 0\ncall 4"),
            "HelperArg",
        ),
        case(
            "reservation with a variable size",
            "ringbuf",
            kp,
            ringbuf("mov %r1, %r0\nmov %r2, 0\ncall 132").replace(
                "lddw %r1, map_idx 2\nmov %r2, 8",
                "ldxdw %r2, [%r1+0]\nand %r2, 8\nlddw %r1, map_idx 2",
            ),
            ringbuf("mov %r1, %r0\nmov %r2, 0\ncall 132"),
            "HelperArg",
        ),
        case(
            "null test of a copy of one of two joined lookups",
            "map-value",
            xdp,
            "ldxw %r9, [%r1+12]\nstw [%r10-4], 0\nlddw %r1, map_idx 0\nmov %r2, %r10\nadd %r2, -4\ncall 1\nmov %r6, %r0\njeq %r9, 0, join\nlddw %r1, map_idx 0\nmov %r2, %r10\nadd %r2, -4\ncall 1\njoin:\njeq %r6, 0, out\nldxdw %r5, [%r0+0]\nout:\nmov %r0, 0\nexit",
            "ldxw %r9, [%r1+12]\nstw [%r10-4], 0\nlddw %r1, map_idx 0\nmov %r2, %r10\nadd %r2, -4\ncall 1\nmov %r6, %r0\njeq %r9, 0, join\nlddw %r1, map_idx 0\nmov %r2, %r10\nadd %r2, -4\ncall 1\njoin:\njeq %r0, 0, out\nldxdw %r5, [%r0+0]\nout:\nmov %r0, 0\nexit",
            "NullDereference",
        ),
        case(
            "packet bound kept through a join by a tested number, one byte short",
            "packet",
            xdp,
            revalidate(3, -22, "", "jne32 %r6, 0, drop", "ldxw %r0, [%r2+0]"),
            revalidate(4, -22, "", "jne32 %r6, 0, drop", "ldxw %r0, [%r2+0]"),
            "OutOfBounds",
        ),
        case(
            "packet bound guard register overwritten before its test",
            "packet",
            xdp,
            revalidate(4, -22, "mov %r6, 0", "jne %r6, 0, drop", "ldxw %r0, [%r2+0]"),
            revalidate(4, -22, "mov %r9, 0", "jne %r6, 0, drop", "ldxw %r0, [%r2+0]"),
            "OutOfBounds",
        ),
        case(
            "packet bound guard tested the wrong way",
            "packet",
            xdp,
            revalidate(4, -22, "", "jeq %r6, 0, drop", "ldxw %r0, [%r2+0]"),
            revalidate(4, -22, "", "jne %r6, 0, drop", "ldxw %r0, [%r2+0]"),
            "OutOfBounds",
        ),
        case(
            "packet bound guard register equal on both paths",
            "packet",
            xdp,
            revalidate(4, 0, "", "jne %r6, 0, drop", "ldxw %r0, [%r2+0]"),
            revalidate(4, 1, "", "jne %r6, 0, drop", "ldxw %r0, [%r2+0]"),
            "OutOfBounds",
        ),
        case(
            "packet bound guard register zero-extended, one byte short",
            "packet",
            xdp,
            revalidate(3, -22, "lsh %r6, 32\nrsh %r6, 32", "jne %r6, 0, drop", "ldxw %r0, [%r2+0]"),
            revalidate(4, -22, "lsh %r6, 32\nrsh %r6, 32", "jne %r6, 0, drop", "ldxw %r0, [%r2+0]"),
            "OutOfBounds",
        ),
        case(
            "packet bound guard register masked to the passing value",
            "packet",
            xdp,
            revalidate(4, -22, "and %r6, 1", "jne %r6, 0, drop", "ldxw %r0, [%r2+0]"),
            revalidate(4, -22, "and %r6, 2", "jne %r6, 0, drop", "ldxw %r0, [%r2+0]"),
            "OutOfBounds",
        ),
        case(
            "packet bound guard copied and shifted onto the passing value",
            "packet",
            xdp,
            revalidate(4, -22, "mov32 %r9, %r6\nadd32 %r9, 22", "jne %r9, 0, drop", "ldxw %r0, [%r2+0]"),
            revalidate(4, -22, "mov %r9, %r6\nadd %r9, 22", "jne %r9, 22, drop", "ldxw %r0, [%r2+0]"),
            "OutOfBounds",
        ),
        case(
            "packet bound guard register reloaded from the stack",
            "packet",
            xdp,
            revalidate(
                4,
                -22,
                "stdw [%r10-8], 0\nldxdw %r6, [%r10-8]",
                "jne %r6, 0, drop",
                "ldxw %r0, [%r2+0]",
            ),
            revalidate(
                4,
                -22,
                "stxdw [%r10-8], %r6\nldxdw %r6, [%r10-8]",
                "jne %r6, 0, drop",
                "ldxw %r0, [%r2+0]",
            ),
            "OutOfBounds",
        ),
        case(
            "packet bound guard spilled through a stack pointer with a huge offset range",
            "stack-oob",
            xdp,
            revalidate(
                4,
                -22,
                "ldxw %r9, [%r1+12]\nlsh %r9, 32\nmov %r7, %r10\nadd %r7, %r9\nstxdw [%r7+8], %r6",
                "jne %r6, 0, drop",
                "ldxw %r0, [%r2+0]",
            ),
            revalidate(
                4,
                -22,
                "mov %r9, -16\nmov %r7, %r10\nadd %r7, %r9\nstxdw [%r7+8], %r6",
                "jne %r6, 0, drop",
                "ldxw %r0, [%r2+0]",
            ),
            "OutOfBounds",
        ),
        case(
            "packet bound guard spilled, slot overwritten before the fill",
            "packet",
            xdp,
            revalidate(
                4,
                -22,
                "stxdw [%r10-8], %r6\nstdw [%r10-8], 0\nldxdw %r6, [%r10-8]",
                "jne %r6, 0, drop",
                "ldxw %r0, [%r2+0]",
            ),
            revalidate(
                4,
                -22,
                "stxdw [%r10-8], %r6\nstdw [%r10-16], 0\nldxdw %r6, [%r10-8]",
                "jne %r6, 0, drop",
                "ldxw %r0, [%r2+0]",
            ),
            "OutOfBounds",
        ),
        case(
            "packet bound guard spilled, slot zeroed by two narrow stores",
            "packet",
            xdp,
            revalidate(
                4,
                -22,
                "stxdw [%r10-8], %r6\nstw [%r10-8], 0\nstw [%r10-4], 0\nldxdw %r6, [%r10-8]",
                "jne %r6, 0, drop",
                "ldxw %r0, [%r2+0]",
            ),
            revalidate(
                4,
                -22,
                "stxdw [%r10-8], %r6\nstw [%r10-16], 0\nstw [%r10-12], 0\nldxdw %r6, [%r10-8]",
                "jne %r6, 0, drop",
                "ldxw %r0, [%r2+0]",
            ),
            "OutOfBounds",
        ),
        case(
            "packet bound guard spilled, slot maybe overwritten at a variable offset",
            "packet",
            xdp,
            revalidate(
                4,
                -22,
                "stxdw [%r10-8], %r6\nldxw %r9, [%r1+12]\nand %r9, 8\nmov %r7, %r10\nadd %r7, -16\nadd %r7, %r9\nstdw [%r7+0], 0\nldxdw %r6, [%r10-8]",
                "jne %r6, 0, drop",
                "ldxw %r0, [%r2+0]",
            ),
            revalidate(
                4,
                -22,
                "stxdw [%r10-8], %r6\nldxw %r9, [%r1+12]\nand %r9, 8\nmov %r7, %r10\nadd %r7, -32\nadd %r7, %r9\nstdw [%r7+0], 0\nldxdw %r6, [%r10-8]",
                "jne %r6, 0, drop",
                "ldxw %r0, [%r2+0]",
            ),
            "OutOfBounds",
        ),
        case(
            "packet bases of two sites joined, one site a byte short",
            "packet",
            xdp,
            two_sites("add %r6, 4", "mov %r4, %r2\nadd %r4, %r9\nmov %r6, %r4\nadd %r6, 3\njgt %r6, %r3, drop", "ldxw %r7, [%r4+0]"),
            two_sites("add %r6, 4", "mov %r4, %r2\nadd %r4, %r9\nmov %r6, %r4\nadd %r6, 4\njgt %r6, %r3, drop", "ldxw %r7, [%r4+0]"),
            "OutOfBounds",
        ),
        case(
            "packet bases of two sites joined, load a byte past both",
            "packet",
            xdp,
            two_sites("add %r6, 4", "mov %r4, %r2\nadd %r4, %r9\nmov %r6, %r4\nadd %r6, 4\njgt %r6, %r3, drop", "ldxw %r7, [%r4+1]"),
            two_sites("add %r6, 5", "mov %r4, %r2\nadd %r4, %r9\nmov %r6, %r4\nadd %r6, 5\njgt %r6, %r3, drop", "ldxw %r7, [%r4+1]"),
            "OutOfBounds",
        ),
        case(
            "variable and constant packet offsets joined, constant site a byte short",
            "packet",
            xdp,
            two_sites("add %r6, 4", "mov %r4, %r2\nadd %r4, 14\nmov %r6, %r4\nadd %r6, 3\njgt %r6, %r3, drop", "ldxw %r7, [%r4+0]"),
            two_sites("add %r6, 4", "mov %r4, %r2\nadd %r4, 14\nmov %r6, %r4\nadd %r6, 4\njgt %r6, %r3, drop", "ldxw %r7, [%r4+0]"),
            "OutOfBounds",
        ),
        case(
            "variable and constant packet offsets joined, variable site a byte short",
            "packet",
            xdp,
            two_sites("add %r6, 3", "mov %r4, %r2\nadd %r4, 14\nmov %r6, %r4\nadd %r6, 4\njgt %r6, %r3, drop", "ldxw %r7, [%r4+0]"),
            two_sites("add %r6, 4", "mov %r4, %r2\nadd %r4, 14\nmov %r6, %r4\nadd %r6, 4\njgt %r6, %r3, drop", "ldxw %r7, [%r4+0]"),
            "OutOfBounds",
        ),
        case(
            "packet bound learned on one path only",
            "packet",
            xdp,
            "ldxw %r2, [%r1+0]\nldxw %r3, [%r1+4]\nmov %r4, %r2\nadd %r4, 14\njgt %r4, %r3, join\nmov %r0, 0\njoin:\nldxb %r0, [%r2+13]\nexit",
            "ldxw %r2, [%r1+0]\nldxw %r3, [%r1+4]\nmov %r4, %r2\nadd %r4, 14\njgt %r4, %r3, drop\nmov %r0, 0\njoin:\nldxb %r0, [%r2+13]\nexit\ndrop:\nmov %r0, 1\nexit",
            "OutOfBounds",
        ),
        case(
            "stack pointer walked past the frame in a loop",
            "stack-oob",
            m8,
            "mov %r2, %r10\nmov %r1, 0\nloop:\nadd %r2, -8\nstdw [%r2+0], 0\nadd %r1, 1\njlt %r1, 65, loop\nmov %r0, 0\nexit",
            "mov %r2, %r10\nmov %r1, 0\nloop:\nadd %r2, -8\nstdw [%r2+0], 0\nadd %r1, 1\njlt %r1, 64, loop\nmov %r0, 0\nexit",
            "OutOfBounds",
        ),
        case(
            "stack walked by a loop bounded by an input, one slot too many",
            "stack-oob",
            m8,
            "ldxb %r3, [%r1+0]\nand %r3, 127\nmov %r2, %r10\nmov %r1, 0\nloop:\nadd %r2, -8\nstdw [%r2+0], 0\nadd %r1, 1\njlt %r1, %r3, loop\nmov %r0, 0\nexit",
            "ldxb %r3, [%r1+0]\nand %r3, 63\nmov %r2, %r10\nmov %r1, 0\nloop:\nadd %r2, -8\nstdw [%r2+0], 0\nadd %r1, 1\njlt %r1, %r3, loop\nmov %r0, 0\nexit",
            "OutOfBounds",
        ),
        case(
            "stack filled by a loop that may stop early, read past the first slot",
            "uninit-stack",
            m8,
            "ldxb %r6, [%r1+0]\nmov %r2, %r10\nmov %r1, 0\nloop:\nadd %r2, -8\nstdw [%r2+0], 0\njeq %r6, 7, done\nadd %r1, 1\njlt %r1, 64, loop\ndone:\nldxdw %r0, [%r10-16]\nexit",
            "ldxb %r6, [%r1+0]\nmov %r2, %r10\nmov %r1, 0\nloop:\nadd %r2, -8\nstdw [%r2+0], 0\njeq %r6, 7, done\nadd %r1, 1\njlt %r1, 64, loop\ndone:\nldxdw %r0, [%r10-8]\nexit",
            "UninitStack",
        ),
        case(
            "loop counter advanced on one path only",
            "loop",
            m8,
            "ldxb %r5, [%r1+0]\nmov %r0, 0\nmov %r1, 0\nloop:\njeq %r5, 0, +1\nadd %r1, 1\njlt %r1, 10, loop\nexit",
            "ldxb %r5, [%r1+0]\nmov %r0, 0\nmov %r1, 0\nloop:\njeq %r5, 0, +0\nadd %r1, 1\njlt %r1, 10, loop\nexit",
            "UnboundedLoop",
        ),
        case(
            "loop steps over its exit value",
            "loop",
            m8,
            "mov %r0, 0\nmov %r1, 0\nloop:\nadd32 %r1, 2\njne32 %r1, 5, loop\nexit",
            "mov %r0, 0\nmov %r1, 0\nloop:\nadd32 %r1, 2\njlt32 %r1, 5, loop\nexit",
            "UnboundedLoop",
        ),
        case(
            "signed loop counter counting away from its bound",
            "loop",
            m8,
            "mov %r0, 0\nmov %r1, 10\nloop:\nadd %r1, 1\njsgt %r1, -5, loop\nexit",
            "mov %r0, 0\nmov %r1, 10\nloop:\nsub %r1, 1\njsgt %r1, -5, loop\nexit",
            "UnboundedLoop",
        ),
        case(
            "callee overwrites a caller's stack slot used as an index",
            "calls",
            mem(16),
            "stdw [%r10-8], 0\nmov %r6, %r1\nmov %r1, %r10\nadd %r1, -8\ncall local f\nldxdw %r2, [%r10-8]\nadd %r6, %r2\nldxb %r0, [%r6+0]\nexit\nf:\nstdw [%r1+0], 1000\nmov %r0, 0\nexit",
            "stdw [%r10-8], 0\nmov %r6, %r1\nmov %r1, %r10\nadd %r1, -8\ncall local f\nldxdw %r2, [%r10-8]\nadd %r6, %r2\nldxb %r0, [%r6+0]\nexit\nf:\nstdw [%r1+0], 10\nmov %r0, 0\nexit",
            "OutOfBounds",
        ),
        case(
            "callee result depends on the calling context",
            "calls",
            mem(16),
            "mov %r6, %r1\nmov %r1, 1\ncall local f\nmov %r1, 100\ncall local f\nadd %r6, %r0\nldxb %r0, [%r6+0]\nexit\nf:\nmov %r0, %r1\nexit",
            "mov %r6, %r1\nmov %r1, 100\ncall local f\nmov %r1, 1\ncall local f\nadd %r6, %r0\nldxb %r0, [%r6+0]\nexit\nf:\nmov %r0, %r1\nexit",
            "OutOfBounds",
        ),
        case(
            "bpf_loop callback overwrites a slot used as an index",
            "calls",
            kp,
            "stdw [%r10-8], 0\nstdw [%r10-16], 0\nmov %r1, 4\nlddw %r2, code_addr cb\nmov %r3, %r10\nadd %r3, -8\nmov %r4, 0\ncall 181\nldxdw %r6, [%r10-8]\nmov %r7, %r10\nadd %r7, -16\nadd %r7, %r6\nstb [%r7+0], 0\nmov %r0, 0\nexit\ncb:\nstdw [%r2+0], 100\nmov %r0, 0\nexit",
            "stdw [%r10-8], 0\nstdw [%r10-16], 0\nmov %r1, 4\nlddw %r2, code_addr cb\nmov %r3, %r10\nadd %r3, -8\nmov %r4, 0\ncall 181\nldxdw %r6, [%r10-8]\nmov %r7, %r10\nadd %r7, -16\nadd %r7, %r6\nstb [%r7+0], 0\nmov %r0, 0\nexit\ncb:\nstdw [%r2+0], 3\nmov %r0, 0\nexit",
            "OutOfBounds",
        ),
        case(
            "helper-filled buffer used as an index",
            "helper-arg",
            kp,
            "stdw [%r10-8], 0\nmov %r1, %r10\nadd %r1, -8\nmov %r2, 8\nmov %r3, 0\ncall 4\nldxdw %r6, [%r10-8]\nmov %r7, %r10\nadd %r7, -16\nadd %r7, %r6\nstb [%r7+0], 0\nmov %r0, 0\nexit",
            "stdw [%r10-8], 0\nmov %r1, %r10\nadd %r1, -8\nmov %r2, 8\nmov %r3, 0\ncall 4\nldxdw %r6, [%r10-8]\nand %r6, 7\nmov %r7, %r10\nadd %r7, -16\nadd %r7, %r6\nstb [%r7+0], 0\nmov %r0, 0\nexit",
            "OutOfBounds",
        ),
        case(
            "spilled index overwritten at a variable offset",
            "bounds",
            mem(16),
            "ldxb %r6, [%r1+0]\nand %r6, 7\nstxdw [%r10-16], %r6\nstxdw [%r10-8], %r6\nldxb %r2, [%r1+1]\nand %r2, 8\nmov %r3, %r10\nadd %r3, -16\nadd %r3, %r2\nstdw [%r3+0], 1000\nldxdw %r6, [%r10-16]\nadd %r1, %r6\nldxb %r0, [%r1+0]\nexit",
            "ldxb %r6, [%r1+0]\nand %r6, 7\nstxdw [%r10-16], %r6\nstxdw [%r10-8], %r6\nldxb %r2, [%r1+1]\nand %r2, 8\nmov %r3, %r10\nadd %r3, -16\nadd %r3, %r2\nstdw [%r3+0], 10\nldxdw %r6, [%r10-16]\nadd %r1, %r6\nldxb %r0, [%r1+0]\nexit",
            "OutOfBounds",
        ),
        case(
            "spilled index overwritten at a variable offset, one past the end",
            "bounds",
            mem(16),
            "ldxb %r6, [%r1+0]\nand %r6, 7\nstxdw [%r10-16], %r6\nstxdw [%r10-8], %r6\nldxb %r2, [%r1+1]\nand %r2, 8\nmov %r3, %r10\nadd %r3, -16\nadd %r3, %r2\nstdw [%r3+0], 16\nldxdw %r6, [%r10-8]\nadd %r1, %r6\nldxb %r0, [%r1+0]\nexit",
            "ldxb %r6, [%r1+0]\nand %r6, 7\nstxdw [%r10-16], %r6\nstxdw [%r10-8], %r6\nldxb %r2, [%r1+1]\nand %r2, 8\nmov %r3, %r10\nadd %r3, -16\nadd %r3, %r2\nstdw [%r3+0], 15\nldxdw %r6, [%r10-8]\nadd %r1, %r6\nldxb %r0, [%r1+0]\nexit",
            "OutOfBounds",
        ),
        case(
            "spilled index overwritten at a misaligned variable offset",
            "bounds",
            mem(16),
            "ldxb %r6, [%r1+0]\nand %r6, 7\nstxdw [%r10-24], %r6\nstxdw [%r10-16], %r6\nstxdw [%r10-8], %r6\nldxb %r2, [%r1+1]\nand %r2, 4\nmov %r3, %r10\nadd %r3, -24\nadd %r3, %r2\nstdw [%r3+0], 1\nldxdw %r6, [%r10-16]\nadd %r1, %r6\nldxb %r0, [%r1+0]\nexit",
            "ldxb %r6, [%r1+0]\nand %r6, 7\nstxdw [%r10-24], %r6\nstxdw [%r10-16], %r6\nstxdw [%r10-8], %r6\nldxb %r2, [%r1+1]\nand %r2, 8\nmov %r3, %r10\nadd %r3, -24\nadd %r3, %r2\nstdw [%r3+0], 1\nldxdw %r6, [%r10-16]\nadd %r1, %r6\nldxb %r0, [%r1+0]\nexit",
            "OutOfBounds",
        ),
        case(
            "spilled map value maybe zeroed by a variable-offset store",
            "map-value",
            kp,
            lookup(4, "stxdw [%r10-16], %r0\nldxb %r2, [%r0+0]\nand %r2, 8\nmov %r3, %r10\nadd %r3, -16\nadd %r3, %r2\nstdw [%r3+0], 0\nldxdw %r4, [%r10-16]\nldxb %r5, [%r4+0]"),
            lookup(4, "stxdw [%r10-16], %r0\nldxb %r2, [%r0+0]\nand %r2, 8\nmov %r3, %r10\nadd %r3, -16\nadd %r3, %r2\nstdw [%r3+0], 0\nldxdw %r4, [%r10-16]\njeq %r4, 0, out\nldxb %r5, [%r4+0]"),
            "NullDereference",
        ),
        case(
            "two reservations, one leaked",
            "ringbuf",
            kp,
            "lddw %r1, map_idx 2\nmov %r2, 8\nmov %r3, 0\ncall 131\nmov %r6, %r0\nlddw %r1, map_idx 2\nmov %r2, 8\nmov %r3, 0\ncall 131\nmov %r7, %r0\njeq %r6, 0, +3\nmov %r1, %r6\nmov %r2, 0\ncall 132\njeq %r7, 0, +3\nmov %r1, %r6\nmov %r2, 0\nja +0\nmov %r0, 0\nexit",
            "lddw %r1, map_idx 2\nmov %r2, 8\nmov %r3, 0\ncall 131\nmov %r6, %r0\nlddw %r1, map_idx 2\nmov %r2, 8\nmov %r3, 0\ncall 131\nmov %r7, %r0\njeq %r6, 0, +3\nmov %r1, %r6\nmov %r2, 0\ncall 132\njeq %r7, 0, +3\nmov %r1, %r7\nmov %r2, 0\ncall 132\nmov %r0, 0\nexit",
            "UnreleasedReference",
        ),
        case(
            "packet length computed before a resize",
            "packet",
            xdp,
            "mov %r6, %r1\nldxw %r2, [%r6+0]\nldxw %r3, [%r6+4]\nmov %r5, %r3\nsub %r5, %r2\nmov %r7, %r5\nmov %r1, %r6\nmov %r2, 8\ncall 44\nldxw %r2, [%r6+0]\nldxw %r3, [%r6+4]\nmov %r5, %r7\njlt %r5, 14, drop\nldxh %r0, [%r2+12]\nexit\ndrop:\nmov %r0, 1\nexit",
            "mov %r6, %r1\nldxw %r2, [%r6+0]\nldxw %r3, [%r6+4]\nmov %r5, %r3\nsub %r5, %r2\nmov %r7, %r5\nmov %r1, %r6\nmov %r2, 8\ncall 44\nldxw %r2, [%r6+0]\nldxw %r3, [%r6+4]\nmov %r5, %r3\nsub %r5, %r2\njlt %r5, 14, drop\nldxh %r0, [%r2+12]\nexit\ndrop:\nmov %r0, 1\nexit",
            "OutOfBounds",
        ),
        // ---------------------------------------------------------------- scalar bounds
        case(
            "index bounded by a 32-bit test only",
            "bounds",
            m256,
            input_index("ldxdw %r2, [%r1+0]\njgt32 %r2, 255, out"),
            input_index("ldxdw %r2, [%r1+0]\njgt %r2, 255, out"),
            "OutOfBounds",
        ),
        case(
            "index bounded by a signed test only",
            "bounds",
            m256,
            input_index("ldxdw %r2, [%r1+0]\njsgt %r2, 255, out"),
            input_index("ldxdw %r2, [%r1+0]\njgt %r2, 255, out"),
            "OutOfBounds",
        ),
        case(
            "index low 32 bits bounded signed",
            "bounds",
            m256,
            input_index("ldxdw %r2, [%r1+0]\njsgt32 %r2, 255, out\njslt32 %r2, 0, out"),
            input_index("ldxdw %r2, [%r1+0]\njsgt %r2, 255, out\njslt %r2, 0, out"),
            "OutOfBounds",
        ),
        case(
            "index decremented below zero",
            "bounds",
            m256,
            input_index("ldxb %r2, [%r1+0]\nsub %r2, 1"),
            input_index("ldxb %r2, [%r1+0]\njeq %r2, 0, out\nsub %r2, 1"),
            "OutOfBounds",
        ),
        case(
            "index modulo a possibly zero divisor",
            "bounds",
            m256,
            input_index("ldxb %r3, [%r1+1]\nldxdw %r2, [%r1+8]\nmod %r2, %r3"),
            input_index("ldxb %r3, [%r1+1]\nor %r3, 1\nldxdw %r2, [%r1+8]\nmod %r2, %r3"),
            "OutOfBounds",
        ),
        case(
            "index by signed modulo",
            "bounds",
            m256,
            input_index("ldxdw %r2, [%r1+0]\nsmod %r2, 200"),
            input_index("ldxdw %r2, [%r1+0]\nmod %r2, 200"),
            "OutOfBounds",
        ),
        case(
            "index by signed division",
            "bounds",
            m256,
            input_index("ldxdw %r2, [%r1+0]\nlddw %r4, 0x100000000000000\nsdiv %r2, %r4"),
            input_index("ldxdw %r2, [%r1+0]\nlddw %r4, 0x100000000000000\ndiv %r2, %r4"),
            "OutOfBounds",
        ),
        case(
            "index sign-extended by arsh",
            "bounds",
            m256,
            input_index("ldxb %r2, [%r1+0]\nlsh %r2, 56\narsh %r2, 56"),
            input_index("ldxb %r2, [%r1+0]\nlsh %r2, 56\nrsh %r2, 56"),
            "OutOfBounds",
        ),
        case(
            "index sign-extended by movsx",
            "bounds",
            m256,
            input_index("ldxb %r2, [%r1+0]\nmovsx864 %r2, %r2"),
            input_index("ldxb %r2, [%r1+0]\nmov %r2, %r2"),
            "OutOfBounds",
        ),
        case(
            "index from a sign-extending load",
            "bounds",
            m256,
            input_index("ldxsb %r2, [%r1+0]"),
            input_index("ldxb %r2, [%r1+0]"),
            "OutOfBounds",
        ),
        case(
            "index byte-swapped to big endian",
            "bounds",
            m256,
            input_index("ldxb %r2, [%r1+0]\nbe16 %r2"),
            input_index("ldxb %r2, [%r1+0]\nle16 %r2"),
            "OutOfBounds",
        ),
        case(
            "index negated",
            "bounds",
            m256,
            input_index("ldxb %r2, [%r1+0]\nneg %r2"),
            input_index("ldxb %r2, [%r1+0]\nneg %r2\nneg %r2"),
            "OutOfBounds",
        ),
        case(
            "index bounded by jset on the wrong bit",
            "bounds",
            mem(128),
            input_index("ldxb %r2, [%r1+0]\njset %r2, 0x40, out"),
            input_index("ldxb %r2, [%r1+0]\njset %r2, 0x80, out"),
            "OutOfBounds",
        ),
        case(
            "index equal-tested on the wrong edge",
            "bounds",
            mem(4),
            input_index("ldxb %r2, [%r1+0]\njeq %r2, 3, out"),
            input_index("ldxb %r2, [%r1+0]\njne %r2, 3, out"),
            "OutOfBounds",
        ),
        case(
            "mov32 of -1 is 0xffffffff",
            "bounds",
            m256,
            input_index("mov32 %r2, -1\nadd %r2, 1"),
            input_index("mov %r2, -1\nadd %r2, 1"),
            "OutOfBounds",
        ),
        case(
            "32-bit add wraps to a large index",
            "bounds",
            m256,
            input_index("ldxb %r2, [%r1+0]\nadd32 %r2, -1"),
            input_index("ldxb %r2, [%r1+0]\nadd32 %r2, 0"),
            "OutOfBounds",
        ),
        case(
            "64-bit multiply overflow",
            "bounds",
            m256,
            input_index("ldxw %r2, [%r1+0]\nmul %r2, 0x10000000\nrsh %r2, 32"),
            input_index("ldxw %r2, [%r1+0]\nmul %r2, 0x10000000\nrsh %r2, 56"),
            "OutOfBounds",
        ),
        case(
            "loop bound read from input without a cap",
            "bounds",
            mem(16),
            "ldxb %r2, [%r1+0]\nmov %r0, 0\nmov %r3, 0\nloop:\nmov %r4, %r1\nadd %r4, %r3\nldxb %r5, [%r4+0]\nadd %r0, %r5\nadd %r3, 1\njlt %r3, %r2, loop\nexit",
            "ldxb %r2, [%r1+0]\nand %r2, 15\nmov %r0, 0\nmov %r3, 0\nloop:\nmov %r4, %r1\nadd %r4, %r3\nldxb %r5, [%r4+0]\nadd %r0, %r5\nadd %r3, 1\njlt %r3, %r2, loop\nexit",
            "OutOfBounds",
        ),
    ]
}

/// A loop summing the 256 words of a 2048-byte input with a pointer and a counter advanced
/// together (too many trips to run one by one): `pre` before the loop, `step` the pointer and
/// counter steps, `test` the exit test.
fn words_loop(pre: &str, step: &str, test: &str) -> String {
    format!(
        "mov %r2, 256\nmov %r0, 0\nmov %r3, 0\n{pre}loop:\nldxdw %r4, [%r1+0]\nadd %r0, %r4\n{step}{test}\nexit"
    )
}

/// Loops proven through linear relations between registers (`domain::linrel`) and through a
/// trip count from constants (`termination_prog`): each rule's ways to go wrong.
fn relational_loops() -> Vec<Case> {
    let m = mem(2048);
    let both = "add %r1, 8\nadd %r3, 1\n";
    let test = "jlt %r3, %r2, loop";
    vec![
        case(
            "pointer and counter: one trip too many",
            "relational",
            m,
            words_loop("", both, "jle %r3, %r2, loop"),
            words_loop("", both, test),
            "OutOfBounds",
        ),
        case(
            "pointer and counter: wrong stride",
            "relational",
            m,
            words_loop("", "add %r1, 16\nadd %r3, 1\n", test),
            words_loop("", both, test),
            "OutOfBounds",
        ),
        case(
            "pointer and counter: pointer starts one word in",
            "relational",
            m,
            words_loop("add %r1, 8\n", both, test),
            words_loop("", both, test),
            "OutOfBounds",
        ),
        case(
            "pointer and counter: pointer advanced twice on one path",
            "relational",
            m,
            words_loop("", "add %r1, 8\njset %r4, 1, +1\nadd %r1, 8\nadd %r3, 1\n", test),
            words_loop("", "add %r1, 8\njset %r4, 1, +1\nadd %r1, 0\nadd %r3, 1\n", test),
            "OutOfBounds",
        ),
        case(
            "pointer and counter: counter not advanced on one path",
            "relational",
            m,
            words_loop("", "add %r1, 8\njset %r4, 1, +1\nadd %r3, 1\n", test),
            words_loop("", "add %r1, 8\njset %r4, 1, +0\nadd %r3, 1\n", test),
            "OutOfBounds",
        ),
        case(
            "pointer and counter: bound from an unrelated register",
            "relational",
            m,
            words_loop("ldxdw %r5, [%r1+8]\n", both, "jlt %r3, %r5, loop"),
            words_loop(
                "ldxdw %r5, [%r1+8]\njle %r5, 256, +1\nmov %r5, 256\n",
                both,
                "jlt %r3, %r5, loop",
            ),
            "OutOfBounds",
        ),
        case(
            "pointer and counter: counter wraps around on the first trip",
            "relational",
            m,
            words_loop("mov %r3, -1\n", both, test),
            words_loop("mov %r3, 0\n", both, test),
            "OutOfBounds",
        ),
        case(
            "pointer and counter: 32-bit counter wraps around on the first trip",
            "relational",
            m,
            words_loop("lddw %r3, 0xffffffff\n", "add %r1, 8\nadd32 %r3, 1\n", test),
            words_loop("", both, test),
            "OutOfBounds",
        ),
        case(
            "pointer and counter: 32-bit test one trip too many",
            "relational",
            m,
            words_loop("", "add %r1, 8\nadd32 %r3, 1\n", "jlt32 %r3, 257, loop"),
            words_loop("", both, test),
            "OutOfBounds",
        ),
        case(
            "pointer and counter: copy of the counter tested on one path only",
            "relational",
            m,
            "ldxb %r5, [%r1+0]\nmov %r0, 0\nmov %r3, 0\nmov %r6, 0\nloop:\nadd %r3, 1\njeq %r5, 0, +1\nmov %r6, %r3\nadd %r6, 1\njlt %r6, 1000, loop\nexit",
            "ldxb %r5, [%r1+0]\nmov %r0, 0\nmov %r3, 0\nmov %r6, 0\nloop:\nadd %r3, 1\njeq %r5, 0, +0\nmov %r6, %r3\nadd %r6, 1\njlt %r6, 1000, loop\nexit",
            "UnboundedLoop",
        ),
        case(
            "progression: bound of the wrong parity",
            "relational",
            m,
            "mov %r0, 0\nmov %r7, 0\nloop:\nadd %r7, 2\njne %r7, 20001, loop\nexit",
            "mov %r0, 0\nmov %r7, 0\nloop:\nadd %r7, 2\njne %r7, 20000, loop\nexit",
            "UnboundedLoop",
        ),
        case(
            "progression: step in a register, bound not a multiple",
            "relational",
            m,
            "mov %r0, 0\nlddw %r7, 2654435761\nlddw %r6, 53091369655762\nloop:\nlddw %r1, 2654435761\nadd %r7, %r1\njne %r7, %r6, loop\nexit",
            "mov %r0, 0\nlddw %r7, 2654435761\nlddw %r6, 53091369655761\nloop:\nlddw %r1, 2654435761\nadd %r7, %r1\njne %r7, %r6, loop\nexit",
            "UnboundedLoop",
        ),
        case(
            "progression: stepped past the bound before the first test",
            "relational",
            m,
            "mov %r0, 0\nmov %r7, 10\nloop:\nadd %r7, 2\njne %r7, 10, loop\nexit",
            "mov %r0, 0\nmov %r7, 8\nloop:\nadd %r7, 2\njne %r7, 10, loop\nexit",
            "UnboundedLoop",
        ),
        case(
            "progression: unknown start",
            "relational",
            m,
            "ldxb %r7, [%r1+0]\nmov %r0, 0\nloop:\nadd %r7, 2\njne %r7, 1000, loop\nexit",
            "ldxb %r7, [%r1+0]\nand %r7, 0\nmov %r0, 0\nloop:\nadd %r7, 2\njne %r7, 1000, loop\nexit",
            "UnboundedLoop",
        ),
        case(
            "progression: 32-bit step never reaches a 64-bit bound",
            "relational",
            m,
            "mov %r0, 0\nmov %r7, 0\nlddw %r6, 0x100000000\nloop:\nadd32 %r7, 2\njne %r7, %r6, loop\nexit",
            "mov %r0, 0\nmov %r7, 0\nlddw %r6, 0x100000000\nloop:\nadd32 %r7, 2\njne32 %r7, 40000, loop\nexit",
            "UnboundedLoop",
        ),
        case(
            "progression: bound reached only after wrapping around (2^63 trips)",
            "relational",
            m,
            "mov %r0, 0\nmov %r7, 1\nlddw %r6, 0xffffffffffffffff\nloop:\nadd %r7, 2\njne %r7, %r6, loop\nexit",
            "mov %r0, 0\nmov %r7, 1\nlddw %r6, 0xfffff\nloop:\nadd %r7, 2\njne %r7, %r6, loop\nexit",
            "UnboundedLoop",
        ),
        case(
            "progression: step of i64::MIN in a register",
            "relational",
            m,
            "mov %r0, 0\nmov %r7, 0\nloop:\nlddw %r1, 0x8000000000000000\nadd %r7, %r1\njne %r7, 1, loop\nexit",
            "mov %r0, 0\nmov %r7, 0\nloop:\nlddw %r1, 0x8000000000000000\nadd %r7, %r1\njne %r7, 0, loop\nexit",
            "UnboundedLoop",
        ),
        case(
            "progression: bound register changed in the loop",
            "relational",
            m,
            "mov %r0, 0\nmov %r7, 0\nmov %r6, 20000\nloop:\nadd %r7, 2\nadd %r6, 2\njne %r7, %r6, loop\nexit",
            "mov %r0, 0\nmov %r7, 0\nmov %r6, 20000\nloop:\nadd %r7, 2\nadd %r0, 2\njne %r7, %r6, loop\nexit",
            "UnboundedLoop",
        ),
    ]
}

#[test]
fn unsafe_programs_are_rejected_and_safe_twins_accepted() {
    let cases = cases();
    assert!(
        cases.len() >= MIN_CASES,
        "only {} cases (want >= {MIN_CASES})",
        cases.len()
    );
    twins::check(&cases, MAX_KNOWN_GAPS);
}
