//! Platform-wide soundness generator (issue 13): seeded random programs for the packet
//! program types (`xdp`, `sched_cls`, `socket_filter`) with maps (array, hash, ring buffer,
//! `.rodata`), helpers of each argument kind (map keys and values, nullable memory with sizes,
//! constant strings, ring-buffer records), callbacks (`bpf_loop`, `bpf_for_each_map_elem`)
//! that may move the packet or release the caller's record, packet-moving helpers, and spills
//! at constant and variable stack offsets. The generator is biased toward edges: accesses one
//! byte past what a check proves, missing null checks, stale packet pointers, NULL buffers with
//! sizes, strings past their NUL, records copied and zeroed.
//!
//! Every program the verifier accepts runs on several packets in the checked interpreter, and
//! in the interpreter and the JIT prepared with the verifier's facts (verified mode: proven
//! accesses unchecked), each with its own maps and packet buffer. Oracles:
//! - the checked run must not fault (a fault is an access the verifier wrongly proved, or a
//!   helper argument it wrongly accepted);
//! - no ring-buffer reservation may be outstanding after a run;
//! - verified and checked runs agree: r0, packet bytes, array and hash contents, ring-buffer
//!   records (and, between the interpreters, the instruction count);
//! - no address-dependent result: the program types here may not leak pointers (the verifier
//!   treats them as unprivileged), so a second checked world whose every region lies elsewhere
//!   (its own context buffer and packet frame, a separate mapping; maps and stack allocated
//!   after heap padding of a random, not page-multiple size) must give byte-identical r0,
//!   packet, maps and records. The generator tries leaks on purpose (pointers into r0, maps,
//!   the packet, context fields, records, helpers' scalar arguments, via arithmetic, partial
//!   spills, comparisons). The packet frame's offset within its page is the same in both
//!   worlds, so a leak of only those 12 bits would go unseen; the stack and maps move by
//!   non-page amounts. [`address_leak_oracle_sees_pointer_leaks`] shows the oracle sees the
//!   leaks a privileged type may make.
//!
//! The kernel gives a second opinion where it can (root, the program type, each helper probed
//! per type, else counted as skipped): every accepted program is loaded with the same maps
//! (made once in the kernel; `.rodata` read-only and frozen) and, when it has subprograms or
//! callbacks, minimal BTF function information. A kernel rejection of a program apiary accepts
//! is grouped by the kernel log's reason and must be either precision told apart mechanically
//! ([`apiary_precision`]: the kernel's rejected instruction is unreachable in apiary, or
//! reached only where the packet would exceed any packet) or a policy listed in
//! [`KERNEL_STRICTER`]; any other reason fails the test as a possible unsoundness. Note that the
//! kernel stops at its first error, so a policy difference early in a program hides the rest.
//!
//! The test fails if fewer than [`MIN_ACCEPTED`] programs were accepted (it must not pass by
//! rejecting everything). `PLATFORM_SOUNDNESS_SEED` picks another seed,
//! `PLATFORM_SOUNDNESS_PROGRAMS` another count, `PLATFORM_SOUNDNESS_KERNEL=0` skips the
//! kernel (long runs). `triage_one_program` (ignored) shows apiary's states and the kernel's
//! log for one program.
//!
//! Long run (issue 13): `PLATFORM_SOUNDNESS_KERNEL=0 PLATFORM_SOUNDNESS_SEED=<s>
//! PLATFORM_SOUNDNESS_PROGRAMS=<n> nice -n 19 <release test binary> accepted --nocapture`,
//! seeds 101 and 202 with 4,000,000 programs each and 303 with 3,000,000: 1,592,428 accepted,
//! no fault, outstanding reservation, address-dependent result or verified/checked difference.
//! Kernel comparison, seed 778, 300,000 programs: 38,071 accepted programs compared, 6,482
//! refused by the kernel, all policy or precision.

mod common;

use apiary_testkit::Rng;
use std::collections::BTreeMap;
use std::sync::Arc;

use apiary_conformance::kernel::probe;
use apiary_conformance::kernel::sys::{self, KernelMap, ProgSpec};

use apiary::context::{ContextBuffer, ContextKind};
use apiary::{prepare, prepare_verified, EngineKind, VerifiedProgram};
use apiary_verifier::{verify, MapInfo, Platform, ProgramType, RejectReason};
use apiary_vm::linux::{self, LinuxOptions};
use apiary_vm::maps::{bind, map_type, MapOptions, MapSpec, MapTable};
use apiary_vm::{asm, Environment, ExecConfig, ExecState, Executable, Insn, LoadOptions, Program};

/// Programs generated (the CI slice).
const PROGRAMS: usize = 75_000;
/// At least this many must be accepted.
const MIN_ACCEPTED: usize = 10_000;
/// Instruction budget per run.
const BUDGET: u64 = 200_000;

/// The `.rodata` string map's bytes: "abcdefg\0" then 8 bytes without a NUL.
const RODATA: &[u8; 16] = b"abcdefg\0XXXXXXXX";

fn specs() -> Vec<MapSpec> {
    vec![
        MapSpec::new("array", map_type::ARRAY, 4, 16, 4),
        MapSpec::new("hash", map_type::HASH, 4, 8, 8),
        MapSpec::new("ring", map_type::RINGBUF, 0, 0, 4096),
        MapSpec::new(".rodata", map_type::ARRAY, 4, 16, 1)
            .with_initial(RODATA.to_vec())
            .read_only(),
    ]
}

fn infos() -> Vec<MapInfo> {
    specs()
        .iter()
        .map(|s| MapInfo {
            map_type: s.map_type,
            key_size: s.key_size,
            value_size: s.value_size,
            max_entries: s.max_entries,
            flags: s.flags,
            readonly: s.read_only,
            last_nul: s
                .read_only
                .then(|| s.initial.iter().rposition(|&b| b == 0).map(|i| i as u32))
                .flatten(),
        })
        .collect()
}

/// A program type under test.
#[derive(Clone, Copy)]
struct Kind {
    ty: ProgramType,
    ctx: ContextKind,
    data: u32,
    end: u32,
    xdp: bool,
}

const VALUE: [u32; 2] = [16, 8];

/// A packet access `size` bytes at `off` through r6, loaded or stored.
fn access(g: &mut Rng, base: &str, off: i64) -> String {
    let (sfx, n) = g.pick(&[("b", 1), ("h", 2), ("w", 4), ("dw", 8)]);
    let off = off - if g.chance(70) { n } else { 0 };
    if g.chance(50) {
        format!("ldx{sfx} %r0, [{base}{off:+}]\n")
    } else {
        format!("st{sfx} [{base}{off:+}], 1\n")
    }
}

/// Reload of r6 = data, r7 = data_end (most of the time: otherwise whatever they hold).
fn reload(g: &mut Rng, k: Kind) -> String {
    if g.chance(85) {
        format!("ldxw %r6, [%r9+{}]\nldxw %r7, [%r9+{}]\n", k.data, k.end)
    } else {
        String::new()
    }
}

/// A bound check of `K` bytes through r6 and an access near `K`.
fn packet_segment(g: &mut Rng, k: Kind, n: usize, reload_first: bool) -> String {
    let bound = g.pick(&[1i64, 2, 8, 14, 20, 34, 40]);
    let off = bound + g.pick(&[0i64, 0, 0, 1, -1]);
    let mut t = if reload_first {
        reload(g, k)
    } else {
        String::new()
    };
    t.push_str(&format!(
        "mov %r2, %r6\nadd %r2, {bound}\njgt %r2, %r7, p{n}\n{}p{n}:\n",
        access(g, "%r6", off)
    ));
    t
}

/// Six tests of bits of r8, each zeroing one of r0-r5 or not (clobbered: r0-r5): 64 paths of
/// different register types, more than the verifier keeps apart, so the states are joined.
fn fork(g: &mut Rng) -> String {
    if g.chance(50) {
        return String::new();
    }
    (0..6)
        .map(|i| format!("jset %r8, {}, +1\nmov %r{i}, 0\n", 1 << (i + 1)))
        .collect()
}

/// A lookup in the array or hash map with a key, a null check (usually) and an access.
fn lookup_segment(g: &mut Rng, n: usize) -> String {
    let m = g.below(2) as usize;
    let key = if g.chance(30) {
        "stxw [%r10-4], %r8\n".to_string()
    } else {
        format!("stw [%r10-4], {}\n", g.pick(&[0, 1, 3, 4]))
    };
    let check = if g.chance(90) {
        format!("jeq %r0, 0, l{n}\n")
    } else {
        String::new()
    };
    let var = if g.chance(25) {
        format!(
            "mov %r3, %r8\nand %r3, {}\nadd %r0, %r3\n",
            g.pick(&[1, 3, 7, 8, 15])
        )
    } else {
        String::new()
    };
    let off = i64::from(VALUE[m]) + g.pick(&[0i64, 0, 1, -8, -15]);
    if g.chance(25) {
        // The result copied, the copy zeroed on one path, paths joined, the copy tested, the
        // original used: as a pointer where the copy is not null, as a number (0, if the test
        // told) where it is.
        let test = g.pick(&["%r7", "%r6"]);
        let f = fork(g);
        return format!(
            "{key}lddw %r1, map_idx {m}\nmov %r2, %r10\nadd %r2, -4\ncall 1\nmov %r6, %r0\nmov %r7, %r0\njset %r8, 1, +1\nmov %r7, 0\n{f}jeq {test}, 0, z{n}\nmov %r0, %r6\n{}ja l{n}\nz{n}:\nstdw [%r10-8], 0\nmov %r1, %r10\nadd %r1, -8\nadd %r1, %r6\nstb [%r1+0], 1\nl{n}:\n",
            access(g, "%r0", off)
        );
    }
    format!(
        "{key}lddw %r1, map_idx {m}\nmov %r2, %r10\nadd %r2, -4\ncall 1\n{check}{var}{}l{n}:\n",
        access(g, "%r0", off)
    )
}

/// A ring-buffer record in r6: written, maybe handed to a callback or spilled at a variable
/// offset, then submitted or discarded (or not, or twice).
fn ringbuf_segment(g: &mut Rng, n: usize, cbs: &mut String) -> String {
    let size = g.pick(&[8i64, 16]);
    let mut t =
        format!("lddw %r1, map_idx 2\nmov %r2, {size}\nmov %r3, 0\ncall 131\nmov %r6, %r0\n");
    let checked = g.chance(90);
    if checked {
        t.push_str(&format!("jeq %r6, 0, rb{n}\n"));
    }
    let off = size + g.pick(&[-8i64, -8, -7, 0]);
    if checked || g.chance(20) {
        t.push_str(&format!("stdw [%r6{off:+}], 7\n"));
    }
    match g.below(6) {
        0 => {
            // A callback receives the record and submits it, writes it, or does nothing.
            let body = g.pick(&[
                "mov %r1, %r2\nmov %r2, 0\ncall 132\n",
                "stdw [%r2+0], 3\n",
                "jne %r1, 1, +3\nmov %r1, %r2\nmov %r2, 0\ncall 133\n",
                "",
            ]);
            t.push_str(&format!(
                "mov %r1, {}\nlddw %r2, code_addr rcb{n}\nmov %r3, %r6\nmov %r4, 0\ncall 181\n",
                g.pick(&[1, 2])
            ));
            cbs.push_str(&format!("rcb{n}:\n{body}mov %r0, 0\nexit\n"));
        }
        1 => {
            // Spilled at a variable (aligned) offset, a slot reloaded and tested.
            let slot = g.pick(&["-16", "-8"]);
            let use_copy = g.chance(50);
            t.push_str(&format!(
                "stdw [%r10-16], 0\nstdw [%r10-8], 0\nmov %r3, %r8\nand %r3, 8\nmov %r4, %r10\nadd %r4, -16\nadd %r4, %r3\nstxdw [%r4+0], %r6\nldxdw %r5, [%r10{slot}]\njeq %r5, 0, rb{n}\n"
            ));
            if use_copy {
                t.push_str("mov %r6, %r5\n");
            }
        }
        2 => {
            // A copy zeroed on one path, the paths maybe joined.
            let f = fork(g);
            t.push_str(&format!(
                "mov %r7, %r6\njset %r8, 1, +1\nmov %r7, 0\n{f}jeq %r7, 0, rb{n}\nmov %r6, %r7\n"
            ));
        }
        3 => {
            // Handed to a callback through a stack slot of the caller.
            let body = g.pick(&[
                "ldxdw %r1, [%r2+0]\nmov %r2, 0\ncall 132\n",
                "ldxdw %r1, [%r2+0]\nstdw [%r1+0], 5\n",
                "stdw [%r2+0], 0\n",
            ]);
            t.push_str(&format!(
                "stxdw [%r10-24], %r6\nmov %r1, 1\nlddw %r2, code_addr rcb{n}\nmov %r3, %r10\nadd %r3, -24\nmov %r4, 0\ncall 181\n"
            ));
            if g.chance(50) {
                t.push_str("ldxdw %r6, [%r10-24]\n");
            }
            cbs.push_str(&format!("rcb{n}:\n{body}mov %r0, 0\nexit\n"));
        }
        _ => {}
    }
    match g.below(10) {
        0 => {}
        1 => t.push_str("mov %r1, %r6\nmov %r2, 0\ncall 132\nmov %r1, %r6\nmov %r2, 0\ncall 133\n"),
        2 => t.push_str("mov %r1, %r6\nmov %r2, 0\ncall 132\nstdw [%r6+0], 1\n"),
        3..=6 => t.push_str("mov %r1, %r6\nmov %r2, 0\ncall 132\n"),
        _ => t.push_str("mov %r1, %r6\nmov %r2, 0\ncall 133\n"),
    }
    t.push_str(&format!("rb{n}:\n"));
    t
}

/// A helper that moves the packet (xdp) or may (tc: `skb_store_bytes`), with the context in
/// `ctx`; in a callback, `ctx` is its context argument.
fn mover(g: &mut Rng, k: Kind, ctx: &str) -> String {
    if k.xdp {
        let (id, delta) = g.pick(&[(44, 8), (44, -8), (65, -4), (65, 4), (65, -60)]);
        format!("mov %r1, {ctx}\nmov %r2, {delta}\ncall {id}\n")
    } else {
        format!(
            "mov %r1, {ctx}\nstdw [%r10-8], 0\nmov %r3, %r10\nadd %r3, -8\nmov %r2, 0\nmov %r4, 1\nmov %r5, 0\ncall 9\n"
        )
    }
}

/// A callback (`bpf_loop` or `bpf_for_each_map_elem` over the array) that may move the
/// packet, then a packet access through r6/r7 as they were (stale) or reloaded.
fn callback_segment(g: &mut Rng, k: Kind, n: usize, cbs: &mut String) -> String {
    let each = g.chance(35);
    let ctx_reg = if each { "%r4" } else { "%r2" };
    let body = match g.below(6) {
        0 | 1 => mover(g, k, ctx_reg),
        4 => {
            // A nested bpf_loop whose callback moves the packet.
            let inner = mover(g, k, "%r2");
            cbs.push_str(&format!("icb{n}:\n{inner}mov %r0, 0\nexit\n"));
            format!(
                "mov %r3, {ctx_reg}\nmov %r1, 2\nlddw %r2, code_addr icb{n}\nmov %r4, 0\ncall 181\n"
            )
        }
        5 => {
            // A local function that moves the packet.
            let inner = mover(g, k, "%r1");
            cbs.push_str(&format!("fn{n}:\n{inner}mov %r0, 0\nexit\n"));
            format!("mov %r1, {ctx_reg}\ncall local fn{n}\n")
        }
        2 => format!(
            "{}jne %r1, 1, +{}\n{}",
            if each { "ldxw %r1, [%r2+0]\n" } else { "" },
            if k.xdp { 3 } else { 8 },
            mover(g, k, ctx_reg)
        ),
        _ => String::new(),
    };
    cbs.push_str(&format!("cb{n}:\n{body}mov %r0, 0\nexit\n"));
    let mut t = reload(g, k);
    t.push_str(&format!("mov %r2, %r6\nadd %r2, 14\njgt %r2, %r7, c{n}\n"));
    if each {
        t.push_str(&format!(
            "lddw %r1, map_idx 0\nlddw %r2, code_addr cb{n}\nmov %r3, %r9\nmov %r4, 0\ncall 164\n"
        ));
    } else {
        t.push_str(&format!(
            "mov %r1, {}\nlddw %r2, code_addr cb{n}\nmov %r3, %r9\nmov %r4, 0\ncall 181\n",
            g.pick(&[1, 2, 4])
        ));
    }
    if g.chance(60) {
        t.push_str(&format!(
            "ldxw %r6, [%r9+{}]\nldxw %r7, [%r9+{}]\n",
            k.data, k.end
        ));
    }
    t.push_str(&packet_segment(g, k, 1000 + n, false));
    t.push_str(&format!("c{n}:\n"));
    t
}

/// `bpf_csum_diff` with NULL or stack buffers and sizes (0 with NULL, or not), or the context.
fn csum_segment(g: &mut Rng) -> String {
    let from = g.pick(&["mov %r1, 0", "mov %r1, %r10\nadd %r1, -16", "mov %r1, %r9"]);
    let to = g.pick(&["mov %r3, 0", "mov %r3, %r10\nadd %r3, -8"]);
    let n = g.pick(&[0, 4, 8]);
    let m = g.pick(&[0, 4, 8]);
    format!(
        "stdw [%r10-16], 0\nstdw [%r10-8], 0\n{from}\nmov %r2, {n}\n{to}\nmov %r4, {m}\nmov %r5, 0\ncall 28\n"
    )
}

/// `bpf_map_update_elem` of the hash map with a value from the stack, the context or the
/// packet.
fn update_segment(g: &mut Rng, n: usize) -> String {
    let value = g.pick(&[
        "mov %r3, %r10\nadd %r3, -16",
        "mov %r3, %r9",
        "mov %r3, %r6\nmov %r5, %r6\nadd %r5, 8\njgt %r5, %r7, PLACE",
    ]);
    let value = value.replace("PLACE", &format!("u{n}"));
    format!(
        "stdw [%r10-16], 0\nstw [%r10-4], 1\n{value}\nlddw %r1, map_idx 1\nmov %r2, %r10\nadd %r2, -4\nmov %r4, 0\ncall 2\nu{n}:\n"
    )
}

/// `bpf_strncmp(stack, 8, <string>)`: in the `.rodata` value at a constant offset, or on the
/// stack.
fn strncmp_segment(g: &mut Rng) -> String {
    let s2 = if g.chance(80) {
        format!("lddw %r3, map_idx_value 3, {}", g.pick(&[0, 4, 7, 8, 15]))
    } else {
        "mov %r3, %r10\nadd %r3, -8".to_string()
    };
    format!(
        "stdw [%r10-16], 0\nstdw [%r10-8], 0\n{s2}\nmov %r1, %r10\nadd %r1, -16\nmov %r2, 8\ncall 182\n"
    )
}

/// A hash value looked up, its key deleted, the old pointer written (the slab keeps it); or a
/// lookup keyed by packet bytes (checked, or not).
fn map_misc_segment(g: &mut Rng, k: Kind, n: usize) -> String {
    if g.chance(50) {
        format!(
            "stw [%r10-4], {}\nlddw %r1, map_idx 1\nmov %r2, %r10\nadd %r2, -4\ncall 1\njeq %r0, 0, m{n}\nmov %r6, %r0\nlddw %r1, map_idx 1\nmov %r2, %r10\nadd %r2, -4\ncall 3\nstdw [%r6+0], 9\nm{n}:\n",
            g.pick(&[0, 1])
        )
    } else {
        let bound = g.pick(&[4, 3, 8]);
        format!(
            "{}mov %r2, %r6\nadd %r2, {bound}\njgt %r2, %r7, m{n}\nlddw %r1, map_idx {}\nmov %r2, %r6\ncall 1\nm{n}:\n",
            reload(g, k),
            g.pick(&[0, 1])
        )
    }
}

/// A packet pointer spilled at a constant offset, the packet maybe moved, the spill reloaded
/// and used; or (xdp) the metadata grown and accessed.
fn spill_segment(g: &mut Rng, k: Kind, n: usize) -> String {
    if k.xdp && g.chance(40) {
        let delta = g.pick(&[-4, -8, 4]);
        let need = g.pick(&[4, 8, 9]);
        return format!(
            "mov %r1, %r9\nmov %r2, {delta}\ncall 54\nldxw %r6, [%r9+0]\nldxw %r5, [%r9+8]\nmov %r2, %r5\nadd %r2, {need}\njgt %r2, %r6, s{n}\nldxw %r0, [%r5+{}]\ns{n}:\n",
            need - 4
        );
    }
    let mut t = reload(g, k);
    t.push_str(&format!(
        "mov %r2, %r6\nadd %r2, 14\njgt %r2, %r7, s{n}\nstxdw [%r10-32], %r6\n"
    ));
    if g.chance(50) {
        t.push_str(&mover(g, k, "%r9"));
    }
    let off = g.pick(&[13, 12, 14]);
    t.push_str(&format!(
        "ldxdw %r3, [%r10-32]\nldxb %r0, [%r3+{off}]\ns{n}:\n"
    ));
    t
}

/// An attempt to leak a pointer (stack, context, packet, map value) as a number: into r0, the
/// packet, a map value, a hash map, a ring-buffer record, a context field or a helper's scalar
/// argument, after arithmetic that makes it a number, through a spill read back in part, or
/// through a comparison; or a near miss that is no leak (a packet length from two packet
/// pointers, a pointer stored and reloaded whole).
fn leak_segment(g: &mut Rng, k: Kind, n: usize) -> String {
    let mut t = reload(g, k);
    let src = g.pick(&["%r10", "%r9", "%r6", "%r7"]);
    t.push_str(&format!("mov %r2, {src}\n"));
    t.push_str(g.pick(&[
        "",
        "",
        "and %r2, 4095\n",
        "mov32 %r2, %r2\n",
        "lsh %r2, 1\n",
        "rsh %r2, 12\n",
        "sub %r2, %r9\n",
        "sub %r2, %r10\n",
        "sub %r2, %r6\n",
        "neg %r2\n",
        "xor %r2, 1\n",
        "or %r2, 0\n",
        "mul %r2, 1\n",
        "div %r2, 1\n",
        "add %r2, %r2\n",
        "add32 %r2, 0\n",
        "arsh %r2, 1\n",
        "be32 %r2\n",
        "mov %r3, %r7\nsub %r3, %r6\nmov %r2, %r3\n",
        // A spill read back in part (the low half), or whole.
        "stxdw [%r10-32], %r2\nldxw %r2, [%r10-32]\n",
        "stxdw [%r10-32], %r2\nldxw %r2, [%r10-28]\n",
        "stxdw [%r10-32], %r2\nldxb %r2, [%r10-31]\n",
        "stxdw [%r10-32], %r2\nldxdw %r2, [%r10-32]\n",
        // A pointer stored in part.
        "stdw [%r10-32], 0\nstxw [%r10-32], %r2\nldxdw %r2, [%r10-32]\n",
    ]));
    let sink = match g.below(12) {
        // r0 at exit (on one path).
        0 => format!("jset %r8, 1, lk{n}\nmov %r0, %r2\nexit\n"),
        // A comparison deciding r0.
        1 => format!(
            "mov %r0, 1\n{} lk{n}\nmov %r0, 2\nexit\n",
            g.pick(&[
                "jgt %r2, 0x7fff0000,",
                "jgt %r2, %r9,",
                "jset %r2, 8,",
                "jgt %r10, %r9,",
            ])
        ),
        // A map value.
        2 | 3 => format!(
            "stxdw [%r10-40], %r2\nstw [%r10-4], {}\nlddw %r1, map_idx 0\nmov %r2, %r10\nadd %r2, -4\ncall 1\njeq %r0, 0, lk{n}\nldxdw %r2, [%r10-40]\n{}\n",
            g.pick(&[0, 1]),
            g.pick(&[
                "stxdw [%r0+0], %r2",
                "stxw [%r0+4], %r2",
                "stxb [%r0+8], %r2",
                "lock add [%r0+8], %r2",
                "lock xchg [%r0+0], %r2\nstxdw [%r0+8], %r2",
            ])
        ),
        // The packet.
        4 => format!(
            "mov %r3, %r6\nadd %r3, 8\njgt %r3, %r7, lk{n}\n{}\n",
            g.pick(&["stxdw [%r6+0], %r2", "stxw [%r6+4], %r2"])
        ),
        // A context field (socket buffers: mark, cb[0]).
        5 if !k.xdp => format!("{}\n", g.pick(&["stxw [%r9+8], %r2", "stxw [%r9+48], %r2"])),
        // Through helpers reading memory: a hash value, a ring-buffer record, a checksum, a
        // string comparison.
        5..=7 => format!(
            "stxdw [%r10-16], %r2\nstdw [%r10-8], 0\nstw [%r10-20], 2\n{}",
            g.pick(&[
                "lddw %r1, map_idx 1\nmov %r2, %r10\nadd %r2, -20\nmov %r3, %r10\nadd %r3, -16\nmov %r4, 0\ncall 2\n",
                "lddw %r1, map_idx 2\nmov %r2, %r10\nadd %r2, -16\nmov %r3, 8\nmov %r4, 0\ncall 130\n",
                "mov %r1, 0\nmov %r2, 0\nmov %r3, %r10\nadd %r3, -16\nmov %r4, 8\nmov %r5, 0\ncall 28\nstxw [%r10-20], %r0\nlddw %r1, map_idx 1\nmov %r2, %r10\nadd %r2, -20\nmov %r3, %r10\nadd %r3, -8\nmov %r4, 0\ncall 2\n",
                "mov %r1, %r10\nadd %r1, -16\nmov %r2, 8\nlddw %r3, map_idx_value 3, 0\ncall 182\nmov %r8, %r0\n",
            ])
        ),
        // A ring-buffer record written and submitted.
        8 => format!(
            "mov %r7, %r2\nlddw %r1, map_idx 2\nmov %r2, 8\nmov %r3, 0\ncall 131\njeq %r0, 0, lk{n}\nstxdw [%r0+0], %r7\nmov %r1, %r0\nmov %r2, 0\ncall 132\n"
        ),
        // A helper's scalar argument: a checksum seed, a loop count, a reservation size.
        9 => format!(
            "{}\nmov %r8, %r0\n",
            g.pick(&[
                "mov %r5, %r2\nstdw [%r10-8], 0\nmov %r1, 0\nmov %r2, 0\nmov %r3, %r10\nadd %r3, -8\nmov %r4, 8\ncall 28",
                "mov %r1, %r2\nand %r1, 7\nlddw %r2, code_addr lkcb\nmov %r3, 0\nmov %r4, 0\ncall 181",
            ])
        ),
        // A mover's delta.
        10 if k.xdp => "and %r2, 4\nmov %r1, %r9\ncall 44\n".to_string(),
        10 => "and %r2, 4\nmov %r1, %r9\nstdw [%r10-8], 0\nmov %r3, %r10\nadd %r3, -8\nmov %r4, 1\nmov %r5, 0\ncall 9\n".to_string(),
        // Stored whole on the stack and reloaded whole: no leak.
        _ => "stxdw [%r10-48], %r2\nldxdw %r2, [%r10-48]\n".to_string(),
    };
    t.push_str(&sink);
    t.push_str(&format!("lk{n}:\n"));
    t
}

fn generate(g: &mut Rng, k: Kind) -> String {
    let mut t = format!(
        "mov %r9, %r1\nldxw %r6, [%r9+{}]\nldxw %r7, [%r9+{}]\nmov %r8, 0\nmov %r2, %r6\nadd %r2, 1\njgt %r2, %r7, +1\nldxb %r8, [%r6+0]\n",
        k.data, k.end
    );
    let mut cbs = String::new();
    for n in 0..1 + g.below(4) as usize {
        let seg = match g.below(13) {
            12 => leak_segment(g, k, n),
            10 => map_misc_segment(g, k, n),
            11 => spill_segment(g, k, n),
            0 | 1 => packet_segment(g, k, n, true),
            2 => lookup_segment(g, n),
            3 | 4 => ringbuf_segment(g, n, &mut cbs),
            5 | 6 => callback_segment(g, k, n, &mut cbs),
            7 => {
                let mut s = mover(g, k, "%r9");
                let again = g.chance(70);
                s.push_str(&packet_segment(g, k, 2000 + n, again));
                s
            }
            8 => {
                if g.chance(50) {
                    csum_segment(g)
                } else {
                    strncmp_segment(g)
                }
            }
            9 => {
                let mut s = reload(g, k);
                s.push_str(&update_segment(g, n));
                s
            }
            _ => unreachable!(),
        };
        t.push_str(&seg);
    }
    t.push_str(&format!("mov %r0, {}\nexit\n{cbs}", g.below(3)));
    if t.contains("code_addr lkcb") {
        t.push_str("lkcb:\nmov %r0, 0\nexit\n");
    }
    t
}

/// `BPF_F_RDONLY_PROG`.
const RDONLY_PROG: u32 = 1 << 7;

/// The kernel verifier as a second opinion: the test's maps made in the kernel once (the
/// `.rodata` map read-only for programs and frozen, so its bytes are constant strings), and
/// each program apiary accepts loaded with its map references patched to their descriptors.
struct Kernel {
    maps: Vec<KernelMap>,
    /// BTF describing functions ([`sys::func_btf`]), for the function information the kernel
    /// wants with subprograms and callbacks; `None` where it refuses the BTF.
    btf: Option<std::os::fd::OwnedFd>,
}

/// What the kernel said of one program.
enum Opinion {
    /// Not asked: this kernel lacks the program type or a helper the program calls for it, or
    /// BTF for its functions (why).
    Skipped(String),
    Accepts,
    /// Rejected: the verifier log's reason line, and the log.
    Rejects(String, String),
}

impl Kernel {
    /// `None` (after a NOTICE) where this process cannot use the kernel or make the maps.
    fn new() -> Option<Self> {
        if common::kernel::unavailable("platform_soundness").is_some() {
            return None;
        }
        let maps: std::io::Result<Vec<KernelMap>> = specs()
            .iter()
            .map(|s| {
                let map = KernelMap::create(&sys::MapSpec {
                    map_type: s.map_type,
                    key_size: s.key_size,
                    value_size: s.value_size,
                    max_entries: s.max_entries,
                    flags: s.flags | if s.read_only { RDONLY_PROG } else { 0 },
                    name: &s.name,
                })?;
                if !s.initial.is_empty() {
                    let mut value = s.initial.clone();
                    value.resize(s.value_size as usize, 0);
                    map.update(&0u32.to_le_bytes(), &value)?;
                }
                if s.read_only {
                    map.freeze()?;
                }
                Ok(map)
            })
            .collect();
        match maps {
            Ok(maps) => {
                let btf = sys::btf_load(&sys::func_btf())
                    .map_err(|f| {
                        eprintln!(
                            "NOTICE: platform_soundness: the kernel refuses the function BTF ({}); programs with functions are skipped\n{}",
                            f.error, f.log
                        );
                    })
                    .ok();
                Some(Self { maps, btf })
            }
            Err(e) => {
                assert!(
                    !apiary_conformance::kernel::required(),
                    "APIARY_REQUIRE_KERNEL=1 but the kernel refuses the test's maps: {e}"
                );
                eprintln!("NOTICE: platform_soundness: kernel comparison skipped: maps: {e}");
                None
            }
        }
    }

    fn judge(&self, prog_type: u32, insns: &[Insn]) -> Opinion {
        if let Err(e) = probe::case(prog_type, &probe::helpers_called(insns)) {
            return Opinion::Skipped(e.to_string());
        }
        let mut patched = insns.to_vec();
        for slot in &mut patched {
            if slot.op != apiary_vm::opcode::LDDW {
                continue;
            }
            use apiary_vm::opcode::lddw_src;
            slot.src = match slot.src {
                lddw_src::MAP_IDX => lddw_src::MAP_FD,
                lddw_src::MAP_IDX_VALUE => lddw_src::MAP_VALUE,
                _ => continue,
            };
            slot.imm = std::os::fd::AsRawFd::as_raw_fd(&self.maps[slot.imm as usize]);
        }
        let spec = ProgSpec {
            prog_type,
            expected_attach_type: if prog_type == probe::PROG_TYPE_XDP {
                sys::ATTACH_XDP
            } else {
                0
            },
            insns: &patched,
            license: c"GPL",
            name: "apiary_sound",
        };
        // Functions start at slot 0 and at every target of a local call or a code address.
        let mut starts = vec![0u32];
        for (i, slot) in insns.iter().enumerate() {
            let local_call = slot.op == 0x85 && slot.src == 1;
            let code_addr = slot.op == apiary_vm::opcode::LDDW
                && slot.src == apiary_vm::opcode::lddw_src::CODE_ADDR;
            if local_call || code_addr {
                starts.push((i as i64 + 1 + i64::from(slot.imm)) as u32);
            }
        }
        starts.sort_unstable();
        starts.dedup();
        let funcs: Vec<sys::FuncInfo> = starts
            .iter()
            .map(|&insn_off| sys::FuncInfo {
                insn_off,
                type_id: sys::FUNC_TYPE_ID,
            })
            .collect();
        let with = match &self.btf {
            _ if funcs.len() == 1 => None,
            Some(b) => Some((b, &funcs[..])),
            // Subprograms without BTF: the kernel would refuse them for that alone.
            None => return Opinion::Skipped("the kernel refuses the function BTF".into()),
        };
        match sys::prog_load_with_funcs(&spec, with, 1 << 20) {
            Ok(_) => Opinion::Accepts,
            Err(f) => Opinion::Rejects(reason(&f.log, &f.error), f.log),
        }
    }
}

/// The kernel log's reason for a rejection, numbers and register names generalised so that
/// rejections group: the last line before the "processed N insns" summary.
fn reason(log: &str, error: &std::io::Error) -> String {
    let lines: Vec<&str> = log.lines().filter(|l| !l.trim().is_empty()).collect();
    let at = lines
        .iter()
        .rposition(|l| l.starts_with("processed "))
        .unwrap_or(lines.len());
    let line = at
        .checked_sub(1)
        .and_then(|i| lines.get(i))
        .map_or_else(|| format!("(no log: {error})"), |l| (*l).to_string());
    let mut out = String::new();
    let mut prev_digit = false;
    for c in line.chars() {
        if c.is_ascii_digit() {
            if !prev_digit {
                out.push('N');
            }
            prev_digit = true;
        } else {
            out.push(c);
            prev_digit = false;
        }
    }
    out
}

/// The slot the kernel's log shows last before its error (the instruction it rejected).
fn kernel_pc(log: &str) -> Option<usize> {
    log.lines()
        .rev()
        .find_map(|l| l.split_once(": (")?.0.parse().ok())
}

/// Packets never exceed this (apiary's largest packet and an XDP frame's tail room), so a path
/// on which the verifier learned a larger packet size (from `data_end - data` compared with a
/// constant) is never taken.
const PACKET_BOUND: u64 = (apiary::context::MAX_PACKET + 4096) as u64;

/// Why apiary may accept a program whose instruction `pc` the kernel rejects, when it is a
/// matter of precision: apiary proves `pc` unreachable (a pointer difference it knows, such as
/// `ctx - ctx` = 0, decided a branch), or reaches it only on paths where the packet would be
/// larger than any packet (`data_end - data`, which apiary relates to the packet size, was
/// compared with a constant beyond [`PACKET_BOUND`]). `None`: apiary reaches `pc` on a
/// feasible path (a real difference, to be fixed or listed).
///
/// Also precision: the kernel refuses a packet access at a constant offset (`id=0`) beyond the
/// range it proved, where apiary knows the packet is at least as long as the access needs from
/// a test of `data_end - data` (such as `jset` of a bit of the length), which the kernel does
/// not relate to the packet range. `kernel_log` is the kernel's log.
fn apiary_precision(
    program: &Program,
    ty: &ProgramType,
    pc: usize,
    kernel_log: &str,
) -> Option<&'static str> {
    let (_, log) = apiary_verifier::verify_log(program, &Platform::linux(), ty, &infos());
    let mut lines = log.lines();
    while let Some(l) = lines.next() {
        if l.trim_start().starts_with(&format!("{pc}: ")) {
            let state = lines.next().unwrap_or("").trim();
            if state == "unreachable" {
                return Some("precision: the kernel rejects an instruction apiary proves unreachable (a branch apiary decides from a pointer difference it knows, e.g. ctx - ctx = 0)");
            }
            let known = state
                .split("packet_size>=")
                .skip(1)
                .filter_map(|t| {
                    let n: String = t.chars().take_while(char::is_ascii_digit).collect();
                    n.parse::<u64>().ok()
                })
                .max()
                .unwrap_or(0);
            if known > PACKET_BOUND {
                return Some("precision: the kernel rejects an instruction apiary reaches only where data_end - data exceeded any packet's size (apiary relates the difference to the packet size; the kernel does not)");
            }
            let needs = packet_access_end(kernel_log)?;
            return (needs <= known).then_some("precision: the kernel refuses a packet access at a constant offset that apiary proves from the packet length it learned by testing data_end - data (e.g. jset of a length bit); the kernel does not relate the difference to the packet range");
        }
    }
    None
}

/// From the kernel's "invalid access to packet, off=O size=S, R#(id=0,...)" (a packet pointer
/// with a constant offset): O + S, the length the access needs.
fn packet_access_end(log: &str) -> Option<u64> {
    let line = log
        .lines()
        .rev()
        .find(|l| l.starts_with("invalid access to packet, off="))?;
    if !line.contains("(id=0,") {
        return None;
    }
    let num = |key: &str| -> Option<u64> {
        let t = line.split(key).nth(1)?;
        t.chars()
            .take_while(char::is_ascii_digit)
            .collect::<String>()
            .parse()
            .ok()
    };
    Some(num("off=")? + num("size=")?)
}

/// The kernel's reason when a socket filter reads `__sk_buff` `data` or `data_end`.
const SOCKET_PACKET: &str = "invalid bpf_context access off=N size=N";

/// Rejections by the kernel of programs apiary accepts that are policy, not safety: (how the
/// kernel's generalised reason ends, why the kernel is stricter). Any other
/// reason fails the test: it is an unsoundness to fix (and a twin in
/// `verifier/tests/unsafe/issue13/`) or a policy to list here.
const KERNEL_STRICTER: &[(&str, &str)] = &[
    (
        "type=ctx expected=fp",
        "policy: a callback's context argument (bpf_loop, for_each_map_elem) may be any pointer in apiary, whose type the callback inherits (Frame::cb_ctx); Linux takes the stack or NULL",
    ),
    (
        "type=ringbuf_mem expected=fp",
        "policy: as above, a ring-buffer record as a callback's context, released or not by the callback (tracked as a reference)",
    ),
    (
        SOCKET_PACKET,
        "policy: apiary gives socket filters direct packet access (__sk_buff data/data_end); Linux only to tc and other skb types (such programs are judged again as tc classifiers)",
    ),
];

/// What one run leaves.
#[derive(Debug, PartialEq, Eq)]
struct RunResult {
    /// r0, or the fault.
    r0: Result<u64, String>,
    instructions: Option<u64>,
    /// The packet afterwards.
    packet: Vec<u8>,
    /// Ring-buffer bytes not consumable after the run (a reservation left outstanding).
    outstanding: u64,
    /// The array map's values.
    array: Vec<u8>,
    /// The hash map's entries, sorted by key.
    hash: Vec<(Vec<u8>, Vec<u8>)>,
    /// The ring-buffer records submitted, oldest first.
    records: Vec<Vec<u8>>,
}

impl RunResult {
    /// What must not depend on the engine: everything but the instruction count.
    fn observable(&self) -> impl PartialEq + '_ {
        (
            &self.r0,
            &self.packet,
            self.outstanding,
            &self.array,
            &self.hash,
            &self.records,
        )
    }
}

/// The engines compared.
#[derive(Clone, Copy, Debug)]
enum Engine {
    Interp,
    Jit,
}

/// One engine's world: maps, packet buffer, environment, prepared program.
struct World {
    table: Arc<MapTable>,
    buffer: ContextBuffer,
    exe: Box<dyn Executable>,
    state: ExecState,
    /// Heap blocks allocated before this world's maps and stack, to place them elsewhere.
    _padding: Vec<Vec<u8>>,
}

impl World {
    /// `pad`: bytes of heap allocated before the maps and before the stack (with the other
    /// worlds alive, every region of this one lies elsewhere; padding also moves the heap
    /// regions by amounts that are not multiples of a page).
    fn new(
        program: &Program,
        engine: Engine,
        verified: Option<&VerifiedProgram>,
        pad: usize,
    ) -> Option<Self> {
        let mut padding = vec![vec![1u8; pad]];
        // Verified worlds are sandboxed (the default): maps and packet buffer in one window
        // below 4 GiB (the context's packet fields are 32-bit), as `LoadedObject` makes them.
        let window = verified.map(|_| {
            apiary_vm::window::Window::sandbox(1 << 24, apiary_vm::window::Placement::Below4G)
                .expect("a sandbox window below 4 GiB")
        });
        let options = MapOptions {
            window: window.clone(),
            ..MapOptions::default()
        };
        let table = Arc::new(MapTable::from_specs(&specs(), options).ok()?);
        let bound = bind(program, &table).ok()?;
        let buffer = ContextBuffer::new_in(window.as_ref()).expect("memory below 4 GiB");
        let mut regions = table.regions();
        regions.extend(buffer.packet_region());
        let env = Environment {
            window,
            helpers: Arc::new(linux::helpers(&table, &LinuxOptions::default())),
            regions: Arc::from(regions),
            config: ExecConfig {
                budget: Some(BUDGET),
            },
        };
        padding.push(vec![1u8; pad / 2 + 8]);
        let state = ExecState::new();
        let program = Arc::new(bound.program);
        let kind = match engine {
            Engine::Interp => EngineKind::Interp,
            Engine::Jit => EngineKind::Jit,
        };
        let exe = match verified {
            None => prepare(kind, program, &env).ok()?,
            Some(verified) => {
                // Bound to this table: binding changes no instruction the facts index.
                let bound = verified.bind(&table).ok()?;
                // SAFETY: verified for this program type on `Platform::linux` with `infos()`,
                // the maps `specs()` makes for this table in the same order; `env` holds the
                // Linux helpers, this world's maps and packet region, and every run below gets
                // this world's context over a packet placed by its buffer.
                unsafe { prepare_verified(kind, &bound, &env) }.expect("prepares sandboxed")
            }
        };
        Some(Self {
            table,
            buffer,
            exe,
            state,
            _padding: padding,
        })
    }

    /// Runs on `packet`.
    fn run(&mut self, ctx: ContextKind, packet: &[u8]) -> RunResult {
        let (len, place) = self
            .buffer
            .prepare(ctx, packet, &mut self.state)
            .expect("packet fits");
        let out = self.exe.run(&mut self.state, self.buffer.context(len));
        let data = place
            .map(|p| self.buffer.packet(p, &self.state))
            .unwrap_or_default();
        self.buffer.finish(&mut self.state);
        let ring = self.table.ringbuf(2).expect("ring buffer");
        let records = ring.drain();
        let outstanding = ring.query(0);
        let mut array = Vec::new();
        for key in 0u32..4 {
            if let Ok(Some(v)) = self.table.lookup(0, &key.to_le_bytes()) {
                array.extend(v);
            }
        }
        let mut hash = Vec::new();
        for key in self.table.keys(1).expect("hash keys") {
            if let Ok(Some(v)) = self.table.lookup(1, &key) {
                hash.push((key, v));
            }
        }
        hash.sort();
        RunResult {
            r0: out.result.map_err(|f| format!("{f:?}")),
            instructions: out.instructions,
            packet: data,
            outstanding,
            array,
            hash,
            records,
        }
    }
}

fn packets(g: &mut Rng) -> Vec<Vec<u8>> {
    let mut lens = vec![14usize, 15, 34, 35, 41, 60];
    lens.push(14 + g.below(80) as usize);
    lens.into_iter()
        .map(|n| (0..n).map(|_| g.next_u64() as u8).collect())
        .collect()
}

#[test]
fn accepted_platform_programs_run_safely_and_alike() {
    let seed: u64 = std::env::var("PLATFORM_SOUNDNESS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x1313_5eed);
    let programs: usize = std::env::var("PLATFORM_SOUNDNESS_PROGRAMS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(PROGRAMS);
    let kinds = [
        Kind {
            ty: ProgramType::xdp(),
            ctx: ContextKind::Xdp,
            data: 0,
            end: 4,
            xdp: true,
        },
        Kind {
            ty: ProgramType::sched_cls(),
            ctx: ContextKind::SkBuff { l2: true },
            data: 76,
            end: 80,
            xdp: false,
        },
        Kind {
            ty: ProgramType::socket_filter(),
            ctx: ContextKind::SkBuff { l2: false },
            data: 76,
            end: 80,
            xdp: false,
        },
    ];
    let maps = infos();
    let platform = Platform::linux();
    let mut g = Rng::new(seed);
    let (mut accepted, mut runs) = (0usize, 0usize);
    let mut findings = Vec::new();
    // `PLATFORM_SOUNDNESS_KERNEL=0`: no kernel comparison (long runs).
    let kernel = if std::env::var("PLATFORM_SOUNDNESS_KERNEL").is_ok_and(|v| v == "0") {
        None
    } else {
        Kernel::new()
    };
    let mut compared = 0usize;
    let mut skipped: BTreeMap<String, usize> = BTreeMap::new();
    // Time verifying, comparing with the kernel and preparing worlds, running.
    let mut timing = [std::time::Duration::ZERO; 3];
    // Kernel rejections by reason: (count, first program).
    let mut disagreements: BTreeMap<String, (usize, String)> = BTreeMap::new();
    for i in 0..programs {
        if i > 0 && i % 250_000 == 0 {
            eprintln!("progress: {i} programs, {accepted} accepted, {runs} runs");
        }
        let k = kinds[i % kinds.len()];
        let text = generate(&mut g, k);
        let insns = asm::assemble(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        let Ok(program) = Program::new(insns.clone(), &LoadOptions::all()) else {
            continue;
        };
        let t0 = std::time::Instant::now();
        let verdict = VerifiedProgram::verify(Arc::new(program.clone()), &platform, &k.ty, &maps);
        timing[0] += t0.elapsed();
        let verified = match verdict {
            Ok(v) => v,
            // A resource limit is no verdict on programs this small, and a verifier panic
            // comes back as one (the analysis thread failed): a finding, not a rejection.
            Err(r)
                if matches!(
                    r.reason,
                    RejectReason::IterationLimit { .. }
                        | RejectReason::StateLimit { .. }
                        | RejectReason::Timeout { .. }
                ) =>
            {
                findings.push(format!(
                    "program {i} ({}): rejected for no safety reason: {r}\n{text}",
                    k.ty.name
                ));
                continue;
            }
            Err(_) => continue,
        };
        accepted += 1;
        let t1 = std::time::Instant::now();
        if let Some(kernel) = &kernel {
            let prog_type = match k.ctx {
                ContextKind::Xdp => probe::PROG_TYPE_XDP,
                ContextKind::SkBuff { l2: true } => probe::PROG_TYPE_SCHED_CLS,
                _ => probe::PROG_TYPE_SOCKET_FILTER,
            };
            let mut opinion = kernel.judge(prog_type, &insns);
            let mut label = k.ty.name;
            if prog_type == probe::PROG_TYPE_SOCKET_FILTER
                && matches!(&opinion, Opinion::Rejects(why, _) if why.ends_with(SOCKET_PACKET))
            {
                // Linux gives socket filters no direct packet access (apiary does): the same
                // program as a tc classifier (the same `__sk_buff`, direct packet access, more
                // context fields writable) is the closest judge the kernel has.
                opinion = kernel.judge(probe::PROG_TYPE_SCHED_CLS, &insns);
                label = "socket_filter (judged as sched_cls)";
            }
            match opinion {
                Opinion::Skipped(why) => *skipped.entry(why).or_default() += 1,
                Opinion::Accepts => compared += 1,
                Opinion::Rejects(why, log) => {
                    compared += 1;
                    let listed = KERNEL_STRICTER.iter().any(|(m, _)| why.ends_with(m));
                    let precision = if listed {
                        None
                    } else {
                        kernel_pc(&log).and_then(|pc| apiary_precision(&program, &k.ty, pc, &log))
                    };
                    let key = match precision {
                        Some(p) => format!("{label}: {why} => {p}"),
                        None => format!("{label}: {why}"),
                    };
                    disagreements.entry(key).or_insert((0, text.clone())).0 += 1;
                }
            }
        }
        // The leak oracle: a second checked world whose regions (stack, context and packet
        // frame, map memory) lie elsewhere; for a type that may not leak pointers, every
        // result must be the same.
        let pad = 8 * (1 + g.below(512) as usize);
        let worlds = [
            World::new(&program, Engine::Interp, None, 0),
            World::new(&program, Engine::Interp, Some(&verified), 0),
            World::new(&program, Engine::Jit, Some(&verified), 0),
            World::new(&program, Engine::Interp, None, pad),
        ];
        let [Some(mut checked), Some(mut fast), Some(mut jit), Some(mut moved)] = worlds else {
            findings.push(format!(
                "program {i} ({}): engines refuse it\n{text}",
                k.ty.name
            ));
            continue;
        };
        timing[1] += t1.elapsed();
        let t2 = std::time::Instant::now();
        for p in packets(&mut g) {
            runs += 1;
            // The checked run first: a program it shows unsound is not run unchecked (a wrong
            // fact could write host memory and end the test process without a report).
            let a = checked.run(k.ctx, &p);
            let what = if let Err(f) = &a.r0 {
                Some(format!("checked run faults: {f}"))
            } else if a.outstanding != 0 {
                Some(format!("{} ring-buffer bytes outstanding", a.outstanding))
            } else {
                let b = fast.run(k.ctx, &p);
                let c = jit.run(k.ctx, &p);
                let d = moved.run(k.ctx, &p);
                if a != b {
                    Some(format!(
                        "verified interpreter differs: checked {a:?}, verified {b:?}"
                    ))
                } else if a.observable() != c.observable() {
                    Some(format!("verified JIT differs: checked {a:?}, JIT {c:?}"))
                } else if !k.ty.privileged && a != d {
                    Some(format!(
                        "address-dependent result (pointer leak): {a:?}, regions moved {d:?}"
                    ))
                } else {
                    None
                }
            };
            if let Some(w) = what {
                eprintln!("FINDING: program {i}: {w}");
                findings.push(format!(
                    "program {i} ({}), packet of {} bytes: {w}\n{text}",
                    k.ty.name,
                    p.len()
                ));
                break;
            }
        }
        timing[2] += t2.elapsed();
        if findings.len() >= 5 {
            break;
        }
    }
    println!(
        "{programs} programs, {accepted} accepted, {runs} runs; time verifying {:?}, kernel and worlds {:?}, running {:?}",
        timing[0], timing[1], timing[2]
    );
    if kernel.is_some() {
        let total: usize = disagreements.values().map(|d| d.0).sum();
        println!(
            "kernel: {compared} compared, {} skipped, {total} rejected of those apiary accepts",
            skipped.values().sum::<usize>()
        );
        for (why, count) in &skipped {
            println!("  {count:6} skipped: {why}");
        }
    } else {
        println!("kernel: unavailable, {accepted} not compared");
    }
    for (why, (count, example)) in &disagreements {
        let policy = KERNEL_STRICTER
            .iter()
            .find(|(m, _)| why.ends_with(m))
            .map(|p| p.1);
        let precision = why.contains(" => precision: ");
        println!(
            "  {count:6} {why}{}",
            policy.map_or(String::new(), |p| format!("  [{p}]"))
        );
        if policy.is_none() && !precision {
            findings.push(format!(
                "the kernel rejects ({why}) {count} programs apiary accepts, a reason not in KERNEL_STRICTER; the first:\n{example}"
            ));
        }
    }
    assert!(findings.is_empty(), "{}", findings.join("\n\n"));
    assert!(
        accepted >= MIN_ACCEPTED.min(programs / 10),
        "only {accepted} of {programs} programs accepted"
    );
}

/// Triage of one program (`PLATFORM_SOUNDNESS_TEXT`: a file of its assembly,
/// `PLATFORM_SOUNDNESS_TYPE`: xdp, sched_cls or socket_filter): apiary's verdict and the
/// kernel's log.
#[test]
#[ignore = "triage tool"]
fn triage_one_program() {
    let Ok(path) = std::env::var("PLATFORM_SOUNDNESS_TEXT") else {
        return;
    };
    let text = std::fs::read_to_string(path).expect("program text");
    let ty = std::env::var("PLATFORM_SOUNDNESS_TYPE").unwrap_or_else(|_| "xdp".into());
    let (pt, kt) = match ty.as_str() {
        "sched_cls" => (ProgramType::sched_cls(), probe::PROG_TYPE_SCHED_CLS),
        "socket_filter" => (ProgramType::socket_filter(), probe::PROG_TYPE_SOCKET_FILTER),
        _ => (ProgramType::xdp(), probe::PROG_TYPE_XDP),
    };
    let insns = asm::assemble(&text).expect("assembles");
    let program = Program::new(insns.clone(), &LoadOptions::all()).expect("loads");
    let (verdict, log) = apiary_verifier::verify_log(&program, &Platform::linux(), &pt, &infos());
    println!("apiary: {:?}\n{log}", verdict.map(drop));
    if let Some(kernel) = Kernel::new() {
        let spec = ProgSpec {
            prog_type: kt,
            expected_attach_type: 0,
            insns: &insns,
            license: c"GPL",
            name: "triage",
        };
        if let Err(f) = sys::prog_load(&spec, 1 << 20) {
            println!(
                "raw load (attach type 0, no BTF, maps unpatched) fails: {}\n{}",
                f.error, f.log
            );
        }
        match kernel.judge(kt, &insns) {
            Opinion::Rejects(why, log) => println!("kernel rejects: {why}\n{log}"),
            Opinion::Accepts => println!("kernel accepts"),
            Opinion::Skipped(why) => println!("kernel: skipped: {why}"),
        }
    }
}

/// The address-leak oracle sees leaks: programs that put the stack, context or packet
/// address in r0, a map or the packet are rejected for XDP (unprivileged) and accepted for a
/// privileged type with XDP's context, where runs in two worlds with their regions elsewhere
/// give different results.
#[test]
fn address_leak_oracle_sees_pointer_leaks() {
    use apiary_verifier::platform::types::XDP_MD;
    let privileged = ProgramType::with_ctx("xdp_privileged", XDP_MD, true, false);
    let leaks = [
        "mov %r0, %r10\nexit\n",
        "mov %r0, %r1\nexit\n",
        "ldxw %r0, [%r1+0]\nexit\n",
        "mov %r9, %r1\nstw [%r10-4], 0\nlddw %r1, map_idx 0\nmov %r2, %r10\nadd %r2, -4\ncall 1\njeq %r0, 0, +1\nstxdw [%r0+0], %r10\nmov %r0, 0\nexit\n",
        "ldxw %r6, [%r1+0]\nldxw %r7, [%r1+4]\nmov %r2, %r6\nadd %r2, 8\njgt %r2, %r7, +1\nstxdw [%r6+0], %r6\nmov %r0, 0\nexit\n",
        "stxdw [%r10-8], %r10\nlddw %r1, map_idx 2\nmov %r2, %r10\nadd %r2, -8\nmov %r3, 8\nmov %r4, 0\ncall 130\nmov %r0, 0\nexit\n",
        "stxdw [%r10-8], %r10\nldxw %r0, [%r10-8]\nexit\n",
    ];
    let xdp = ProgramType::xdp();
    for text in leaks {
        let insns = asm::assemble(text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        let program = Program::new(insns, &LoadOptions::all()).expect("loads");
        let platform = Platform::linux();
        let maps = infos();
        assert!(
            verify(&program, &platform, &xdp, &maps).is_err(),
            "xdp may not leak:\n{text}"
        );
        if let Err(e) = verify(&program, &platform, &privileged, &maps) {
            panic!("a privileged type may leak: {e:?}\n{text}");
        }
        let mut here = World::new(&program, Engine::Interp, None, 0).expect("world");
        let mut there = World::new(&program, Engine::Interp, None, 4104).expect("world");
        let packet = [7u8; 60];
        let a = here.run(ContextKind::Xdp, &packet);
        let b = there.run(ContextKind::Xdp, &packet);
        assert!(a.r0.is_ok(), "{a:?}\n{text}");
        assert_ne!(a, b, "the oracle misses a leak:\n{text}");
    }
}
