//! Benchmark programs shared by the criterion benches, the report tool and the tests: the one
//! source of truth for what is measured.
//!
//! Every program is written in C (`benches/programs/<name>.c`) and compiled twice:
//!
//! - for eBPF by `benches/programs/build.sh` (clang `-target bpfel -mcpu=v3 -O2`), the bytecode
//!   of section `prog` extracted to `<name>.bin` and committed (embedded here with
//!   `include_bytes!`, so nothing here needs clang);
//! - for the host by `build.rs` (the `cc` crate), called as the native twin `apiary_bench_<name>`.
//!
//! Entry convention: `u64 prog(u8 *mem, u64 len)`: r1 = input address, r2 = input length.
//! [`engines`] prepares a program for every engine (apiary interpreter and JIT, native, and with
//! the `peers` feature rbpf and uBPF, interpreter and JIT each).

use std::sync::Arc;

use apiary_testkit::packet::{
    Eth, Icmp, Ipv4, Ipv6, Layer, Packet, Tcp, Udp, Vlan, ETH_P_ARP, IPPROTO_ICMP, IPPROTO_ICMPV6,
    IPPROTO_TCP, IPPROTO_UDP,
};
use apiary_vm::insn::insns_from_bytes;
use apiary_vm::{
    Environment, ExecConfig, Executable, HelperTable, Interpreter, LoadOptions, Program,
};

pub mod corpus;
pub mod engines;
pub mod generated;
pub mod verified;

/// A native twin: the program's C source compiled for the host.
pub type NativeFn = unsafe extern "C" fn(mem: *mut u8, len: u64) -> u64;

/// One benchmark program.
#[derive(Clone, Copy, Debug)]
pub struct BenchProgram {
    /// Short name used in benchmark ids (also the C file's name).
    pub name: &'static str,
    /// What it exercises.
    pub description: &'static str,
    /// The eBPF bytecode (`programs/<name>.bin`).
    pub bytecode: &'static [u8],
    /// The native twin.
    pub native: NativeFn,
    /// The input every engine runs on.
    pub input: fn() -> Vec<u8>,
}

mod native {
    extern "C" {
        pub fn apiary_bench_call_overhead(mem: *mut u8, len: u64) -> u64;
        pub fn apiary_bench_alu_loop(mem: *mut u8, len: u64) -> u64;
        pub fn apiary_bench_alu32_loop(mem: *mut u8, len: u64) -> u64;
        pub fn apiary_bench_mem_loop(mem: *mut u8, len: u64) -> u64;
        pub fn apiary_bench_checksum(mem: *mut u8, len: u64) -> u64;
        pub fn apiary_bench_parser(mem: *mut u8, len: u64) -> u64;
        pub fn apiary_bench_bsearch(mem: *mut u8, len: u64) -> u64;
        pub fn apiary_bench_div_loop(mem: *mut u8, len: u64) -> u64;
        pub fn apiary_bench_helper_loop(mem: *mut u8, len: u64) -> u64;
        pub fn apiary_bench_str_compare(mem: *mut u8, len: u64) -> u64;
        pub fn apiary_bench_byte_copy(mem: *mut u8, len: u64) -> u64;
        pub fn apiary_bench_switch64(mem: *mut u8, len: u64) -> u64;
        pub fn apiary_bench_trial_div(mem: *mut u8, len: u64) -> u64;
        pub fn apiary_bench_log2_array(mem: *mut u8, len: u64) -> u64;
        pub fn apiary_bench_flow_table(mem: *mut u8, len: u64) -> u64;
        pub fn apiary_bench_percpu_counters(mem: *mut u8, len: u64) -> u64;
        pub fn apiary_bench_helper_hash(mem: *mut u8, len: u64) -> u64;
        pub fn apiary_bench_xdp_filter(mem: *mut u8, len: u64) -> u64;
        pub fn apiary_bench_helper(a: u64, b: u64, c: u64, d: u64, e: u64) -> u64;
    }
}

macro_rules! program {
    ($name:ident, $native:ident, $input:expr, $desc:literal) => {
        BenchProgram {
            name: stringify!($name),
            description: $desc,
            bytecode: include_bytes!(concat!("../programs/", stringify!($name), ".bin")),
            native: native::$native,
            input: $input,
        }
    };
}

/// `r0 = 1; exit`: the per-call cost of entering and leaving an engine.
pub const CALL_OVERHEAD: BenchProgram = program!(
    call_overhead,
    apiary_bench_call_overhead,
    Vec::new,
    "r0 = 1; exit (per-call cost)"
);
/// A tight 64-bit ALU loop (100,000 iterations).
pub const ALU_LOOP: BenchProgram = program!(
    alu_loop,
    apiary_bench_alu_loop,
    small_input,
    "64-bit ALU loop, 100k iterations"
);
/// A 32-bit-heavy loop (alu32 and jmp32, 50,000 iterations).
pub const ALU32_LOOP: BenchProgram = program!(
    alu32_loop,
    apiary_bench_alu32_loop,
    small_input,
    "32-bit ALU loop, 50k iterations"
);
/// Sums the 64-bit words of a 64 KiB input.
pub const MEM_LOOP: BenchProgram = program!(
    mem_loop,
    apiary_bench_mem_loop,
    mem_input,
    "sum of u64 words, 64 KiB"
);
/// RFC 1071 checksum of a 1500-byte input.
pub const CHECKSUM: BenchProgram = program!(
    checksum,
    apiary_bench_checksum,
    checksum_input,
    "RFC 1071 checksum, 1500 bytes"
);
/// A branchy Ethernet/VLAN/IPv4/IPv6/ARP/UDP/TCP/ICMP parser over 256 frames.
pub const PARSER: BenchProgram = program!(
    parser,
    apiary_bench_parser,
    parser_input,
    "packet parser, 256 frames"
);
/// 1,000 binary searches in a sorted array of 4,096 u32.
pub const BSEARCH: BenchProgram = program!(
    bsearch,
    apiary_bench_bsearch,
    bsearch_input,
    "1000 binary searches, 4096 u32"
);
/// 64- and 32-bit division and modulo (20,000 iterations).
pub const DIV_LOOP: BenchProgram = program!(
    div_loop,
    apiary_bench_div_loop,
    small_input,
    "div/mod loop, 20k iterations"
);
/// 10,000 calls of helper 1.
pub const HELPER_LOOP: BenchProgram = program!(
    helper_loop,
    apiary_bench_helper_loop,
    small_input,
    "10k helper calls"
);

/// Byte-wise compare of two 32 KiB halves up to a late difference, then to the end.
pub const STR_COMPARE: BenchProgram = program!(
    str_compare,
    apiary_bench_str_compare,
    str_compare_input,
    "byte-wise compare, 2 x 32 KiB"
);
/// Byte-by-byte copy of 16 KiB.
pub const BYTE_COPY: BenchProgram = program!(
    byte_copy,
    apiary_bench_byte_copy,
    copy_input,
    "byte-by-byte copy, 16 KiB"
);
/// A dense 64-way switch over 4 KiB of bytes (a compare tree in eBPF).
pub const SWITCH64: BenchProgram = program!(
    switch64,
    apiary_bench_switch64,
    switch_input,
    "64-way switch over 4 KiB"
);
/// Trial-division prime count below 6,000.
pub const TRIAL_DIV: BenchProgram = program!(
    trial_div,
    apiary_bench_trial_div,
    small_input,
    "trial division, primes < 6000"
);
/// Integer log2 of 8,192 u64.
pub const LOG2_ARRAY: BenchProgram = program!(
    log2_array,
    apiary_bench_log2_array,
    log2_input,
    "log2 of 8192 u64"
);
/// A 512-entry hash table in the input: lookup and update per packet, 4,096 packets.
pub const FLOW_TABLE: BenchProgram = program!(
    flow_table,
    apiary_bench_flow_table,
    flow_input,
    "hash lookup/update, 4096 packets"
);
/// Per-CPU packet and byte counters (4 CPUs x 64 classes), 8,192 events.
pub const PERCPU_COUNTERS: BenchProgram = program!(
    percpu_counters,
    apiary_bench_percpu_counters,
    percpu_input,
    "per-CPU counters, 8192 events"
);
/// Two helper calls per 32-byte record, 1,024 records.
pub const HELPER_HASH: BenchProgram = program!(
    helper_hash,
    apiary_bench_helper_hash,
    helper_hash_input,
    "2048 helper calls on packet words"
);
/// XDP-style drop/pass/tx decisions over the parser's 256-frame mix (echo replies rewritten).
pub const XDP_FILTER: BenchProgram = program!(
    xdp_filter,
    apiary_bench_xdp_filter,
    parser_input,
    "XDP filter, 256 frames"
);

/// All programs, in report order.
pub const ALL: [BenchProgram; 18] = [
    CALL_OVERHEAD,
    ALU_LOOP,
    ALU32_LOOP,
    MEM_LOOP,
    CHECKSUM,
    PARSER,
    BSEARCH,
    DIV_LOOP,
    HELPER_LOOP,
    STR_COMPARE,
    BYTE_COPY,
    SWITCH64,
    TRIAL_DIV,
    LOG2_ARRAY,
    FLOW_TABLE,
    PERCPU_COUNTERS,
    HELPER_HASH,
    XDP_FILTER,
];

/// The programs of the wider suite (issue 15 part 1): the kinds of programs users run.
pub const WIDER: [&str; 9] = [
    "str_compare",
    "byte_copy",
    "switch64",
    "trial_div",
    "log2_array",
    "flow_table",
    "percpu_counters",
    "helper_hash",
    "xdp_filter",
];

/// The program with this name.
#[must_use]
pub fn by_name(name: &str) -> Option<BenchProgram> {
    ALL.into_iter().find(|p| p.name == name)
}

/// Helper id 1 of every engine: what `programs/helper.c` computes natively.
#[must_use]
pub const fn helper(a: u64, b: u64, c: u64, d: u64, e: u64) -> u64 {
    (a ^ (b << 7))
        .wrapping_mul(0x9e37_79b9_7f4a_7c15)
        .wrapping_add(c)
        .wrapping_add(d ^ e)
}

/// The native helper (`programs/helper.c`), for checking it against [`helper`].
#[must_use]
pub fn native_helper(a: u64, b: u64, c: u64, d: u64, e: u64) -> u64 {
    // SAFETY: a pure C function of five integers (programs/helper.c).
    unsafe { native::apiary_bench_helper(a, b, c, d, e) }
}

/// apiary's helper table for the benchmarks: helper 1 = [`helper`].
#[must_use]
pub fn helper_table() -> HelperTable {
    let mut table = HelperTable::new();
    table.register_plain(1, "bench_helper", plain_helper);
    table
}

/// [`helper`] as a plain helper (engines call it directly; it cannot panic).
extern "C" fn plain_helper(a: u64, b: u64, c: u64, d: u64, e: u64) -> u64 {
    helper(a, b, c, d, e)
}

/// The environment apiary's engines are prepared with (helper 1, no metering unless `budget`).
#[must_use]
pub fn environment(budget: Option<u64>) -> Environment {
    Environment::new(helper_table(), ExecConfig { budget })
}

/// Decodes eBPF bytecode into an apiary program.
///
/// # Panics
/// If the bytecode is malformed (a bug in the committed `.bin` or the generator).
#[must_use]
pub fn decode(name: &str, bytecode: &[u8]) -> Arc<Program> {
    let insns = insns_from_bytes(bytecode).unwrap_or_else(|e| panic!("{name}: {e}"));
    Arc::new(Program::new(insns, &LoadOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}")))
}

/// The decoded program.
#[must_use]
pub fn program(p: &BenchProgram) -> Arc<Program> {
    decode(p.name, p.bytecode)
}

/// Number of eBPF instruction slots in the program.
#[must_use]
pub const fn slots(p: &BenchProgram) -> usize {
    p.bytecode.len() / 8
}

/// Runs the native twin on `input`.
#[must_use]
pub fn run_native(p: &BenchProgram, input: &mut [u8]) -> u64 {
    // SAFETY: every program reads (and writes) only `mem[0..len)` — each access is checked
    // against `len` in the C source, and the eBPF build of the same source runs under apiary's
    // checked engines in the tests without a fault — and all its loops are bounded.
    unsafe { (p.native)(input.as_mut_ptr(), input.len() as u64) }
}

/// Instructions one run executes (measured with metering on), for per-instruction figures.
///
/// # Panics
/// If the program faults (a bug in the program).
#[must_use]
pub fn executed_instructions(p: &BenchProgram) -> u64 {
    let interp = Interpreter::new(program(p), &environment(Some(u64::MAX)))
        .unwrap_or_else(|e| panic!("{}: {e}", p.name));
    let out = interp.run_once(&mut (p.input)());
    assert!(out.result.is_ok(), "{}: {:?}", p.name, out.result);
    out.instructions.unwrap_or(0)
}

/// A small deterministic generator (64-bit LCG, high bits).
#[derive(Clone, Debug)]
pub struct Lcg(u64);

impl Lcg {
    /// A generator from a seed.
    #[must_use]
    pub const fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 32 pseudo-random bits.
    pub fn next_u32(&mut self) -> u32 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 32) as u32
    }

    /// A value in `0..n`.
    pub fn below(&mut self, n: u32) -> u32 {
        self.next_u32() % n
    }
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + 3) as u8).collect()
}

fn small_input() -> Vec<u8> {
    pattern(16)
}

fn mem_input() -> Vec<u8> {
    pattern(65536)
}

fn checksum_input() -> Vec<u8> {
    pattern(1500)
}

fn str_compare_input() -> Vec<u8> {
    let mut v = pattern(32768);
    let mut b = v.clone();
    // The first difference 7/8 of the way in, and a few more after it.
    for i in [28_672, 29_000, 30_001, 32_000] {
        b[i] ^= 0x5a;
    }
    v.append(&mut b);
    v
}

fn copy_input() -> Vec<u8> {
    pattern(32768)
}

fn switch_input() -> Vec<u8> {
    let mut rng = Lcg::new(64);
    (0..4096).map(|_| rng.next_u32() as u8).collect()
}

fn log2_input() -> Vec<u8> {
    let mut rng = Lcg::new(2);
    let mut out = Vec::with_capacity(8192 * 8);
    for _ in 0..8192 {
        // Every magnitude: a random value shifted right by a random amount (0 included).
        let v =
            (u64::from(rng.next_u32()) << 32 | u64::from(rng.next_u32())) >> rng.below(65).min(63);
        let v = if rng.below(64) == 0 { 0 } else { v };
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

fn flow_input() -> Vec<u8> {
    let mut rng = Lcg::new(5);
    let mut out = vec![0u8; 512 * 16];
    // 300 flows, skewed: a few heavy hitters and a long tail.
    let flows: Vec<[u8; 16]> = (0..300)
        .map(|_| {
            let mut f = [0u8; 16];
            f[..4].copy_from_slice(&(0x0a00_0000 | rng.below(1 << 16)).to_be_bytes());
            f[4..8].copy_from_slice(&(0xc0a8_0000 | rng.below(256)).to_be_bytes());
            f[8..10].copy_from_slice(&(rng.next_u32() as u16).to_be_bytes());
            f[10..12].copy_from_slice(&[80u16, 443, 53, 8080][rng.below(4) as usize].to_be_bytes());
            f[12] = [6, 17][rng.below(2) as usize];
            f
        })
        .collect();
    for _ in 0..4096 {
        let r = rng.below(300);
        let i = if rng.below(2) == 0 { r % 8 } else { r };
        out.extend_from_slice(&flows[i as usize]);
    }
    out
}

fn percpu_input() -> Vec<u8> {
    let mut rng = Lcg::new(9);
    let mut out = vec![0u8; 4 * 64 * 16];
    for _ in 0..8192 {
        let bytes = 64 + rng.below(1437) as u16;
        let [b0, b1] = bytes.to_be_bytes();
        let class = rng.below(64).min(rng.below(64)) as u8;
        let flags = u8::from(rng.below(32) == 0);
        out.extend_from_slice(&[rng.below(4) as u8, class, b0, b1, flags, 0, 0, 0]);
    }
    out
}

fn helper_hash_input() -> Vec<u8> {
    let mut rng = Lcg::new(11);
    (0..1024 * 32).map(|_| rng.next_u32() as u8).collect()
}

fn bsearch_input() -> Vec<u8> {
    let mut rng = Lcg::new(7);
    let mut v = 0u32;
    let mut out = Vec::with_capacity(4096 * 4);
    for _ in 0..4096 {
        v += 1 + rng.below(3);
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

/// Appends a frame as one parser record (2-byte big-endian length, then the bytes).
fn record(out: &mut Vec<u8>, frame: &[u8]) {
    out.extend_from_slice(&(frame.len() as u16).to_be_bytes());
    out.extend_from_slice(frame);
}

/// An Ethernet header with random addresses, 802.1Q-tagged with `vlan`, announcing `ethertype`
/// (`None`: the IP layer pushed next).
fn ethernet(ethertype: Option<u16>, vlan: Option<u16>, rng: &mut Lcg) -> Packet {
    let mut mac = [0u8; 12];
    mac.iter_mut().for_each(|b| *b = rng.next_u32() as u8);
    let mut eth = Eth {
        dst: mac[..6].try_into().unwrap_or_default(),
        src: mac[6..].try_into().unwrap_or_default(),
        ethertype,
    };
    match vlan {
        None => Packet::new().eth(eth),
        Some(tci) => {
            eth.ethertype = None;
            Packet::new()
                .eth(eth)
                .push(Layer::Vlan(Vlan { tci, ethertype }))
        }
    }
}

/// A transport header for `proto` (UDP to DNS, VXLAN or anywhere; TCP to 443 with assorted
/// flags; else an ICMP echo request) and `payload` random bytes.
fn l4_header(p: Packet, proto: u8, rng: &mut Lcg, payload: usize) -> Packet {
    let p = match proto {
        IPPROTO_UDP => {
            let sport = rng.next_u32() as u16;
            let dport = match rng.below(3) {
                0 => 53,
                1 => 4789,
                _ => rng.next_u32() as u16,
            };
            p.udp(Udp { sport, dport })
        }
        IPPROTO_TCP => p.tcp(Tcp {
            sport: rng.next_u32() as u16,
            dport: 443,
            seq: rng.next_u32(),
            ack: rng.next_u32(),
            flags: [0x02, 0x10, 0x18, 0x11, 0x14][rng.below(5) as usize],
            window: 0xffff,
        }),
        _ => p.icmp(Icmp {
            ty: 8,
            code: 0,
            rest: rng.next_u32().to_be_bytes(),
        }),
    };
    let bytes: Vec<u8> = (0..payload).map(|_| rng.next_u32() as u8).collect();
    p.payload(&bytes)
}

fn ipv4(p: Packet, proto: u8, options: bool, frag: u16, ttl: u8, rng: &mut Lcg) -> Packet {
    p.ipv4(Ipv4 {
        id: rng.next_u32() as u16,
        frag,
        ttl,
        proto: Some(proto),
        src: rng.next_u32().to_be_bytes(),
        dst: rng.next_u32().to_be_bytes(),
        options: if options {
            vec![1, 1, 1, 0]
        } else {
            Vec::new()
        },
        ..Ipv4::default()
    })
}

fn ipv6(p: Packet, next: u8, rng: &mut Lcg) -> Packet {
    let mut a = [0u8; 32];
    a.iter_mut().for_each(|b| *b = rng.next_u32() as u8);
    p.ipv6(Ipv6 {
        next: Some(next),
        src: a[..16].try_into().unwrap_or_default(),
        dst: a[16..].try_into().unwrap_or_default(),
        ..Ipv6::default()
    })
}

/// 256 frames of many kinds, each one parser record.
fn parser_input() -> Vec<u8> {
    let mut rng = Lcg::new(42);
    let mut out = Vec::new();
    for _ in 0..256 {
        let kind = rng.below(14);
        let payload = rng.below(48) as usize;
        let vlan = matches!(kind, 0 | 5 | 10).then(|| (rng.next_u32() & 0x0fff) as u16);
        let frame = match kind {
            0..=2 | 10 => {
                let f = ethernet(None, vlan, &mut rng);
                let f = ipv4(f, IPPROTO_UDP, false, 0x4000, 64, &mut rng);
                l4_header(f, IPPROTO_UDP, &mut rng, payload).build()
            }
            3 | 4 | 11 => {
                let f = ethernet(None, vlan, &mut rng);
                let ttl = 1 + (kind as u8 % 3) * 60;
                let f = ipv4(f, IPPROTO_TCP, kind == 11, 0, ttl, &mut rng);
                l4_header(f, IPPROTO_TCP, &mut rng, payload).build()
            }
            5 => {
                let f = ethernet(None, vlan, &mut rng);
                let f = ipv4(f, IPPROTO_ICMP, false, 0x2000 | 0x10, 64, &mut rng);
                l4_header(f, IPPROTO_ICMP, &mut rng, payload).build()
            }
            6..=8 => {
                let proto = [IPPROTO_UDP, IPPROTO_TCP, IPPROTO_ICMPV6][kind as usize - 6];
                let f = ipv6(ethernet(None, vlan, &mut rng), proto, &mut rng);
                l4_header(f, proto, &mut rng, payload).build()
            }
            9 => {
                let f = ethernet(Some(ETH_P_ARP), vlan, &mut rng);
                let mut arp = vec![0, 1, 8, 0, 6, 4, 0, 1 + (rng.below(3) as u8)];
                arp.extend((0..20).map(|_| rng.next_u32() as u8));
                f.payload(&arp).build()
            }
            12 => {
                // Truncated or malformed: a short frame, or IPv4 with a bad version.
                if rng.below(2) == 0 {
                    (0..rng.below(14)).map(|_| rng.next_u32() as u8).collect()
                } else {
                    let f = ethernet(None, vlan, &mut rng);
                    let l2 = if vlan.is_some() { 18 } else { 14 };
                    let f = ipv4(f, IPPROTO_UDP, false, 0, 64, &mut rng);
                    let mut f = l4_header(f, IPPROTO_UDP, &mut rng, payload).build();
                    f[l2] = 0x55;
                    f
                }
            }
            _ => {
                let f = ethernet(Some(0x88cc), vlan, &mut rng);
                let bytes: Vec<u8> = (0..payload).map(|_| rng.next_u32() as u8).collect();
                f.payload(&bytes).build()
            }
        };
        record(&mut out, &frame);
    }
    out
}
