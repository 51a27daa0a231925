//! The C examples of `examples/` (committed objects) run end to end: loaded with their maps,
//! verified, run on the interpreter and on the JIT where the JIT supports them, with the
//! expected r0, packets and map contents.

mod common;

use apiary::object::{LoadedObject, ObjectError, ObjectOptions};
use apiary::{ContextKind, EngineKind};
use common::{arp, globals_hash, ipv4, le64, object, ICMP, TCP, UDP};

const XDP_DROP: u64 = 1;
const XDP_PASS: u64 = 2;
const XDP_TX: u64 = 3;

/// An engine and whether the object is loaded in verified mode.
#[derive(Clone, Copy, Debug)]
struct Setup {
    engine: EngineKind,
    verified: bool,
}

impl std::fmt::Display for Setup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mode = if self.verified { "verified" } else { "checked" };
        write!(f, "{} ({mode})", self.engine)
    }
}

/// Every engine, in checked and in verified mode: each example must behave the same in all.
fn setups() -> Vec<Setup> {
    EngineKind::ALL
        .iter()
        .flat_map(|&engine| [false, true].map(|verified| Setup { engine, verified }))
        .collect()
}

fn load(name: &str, setup: Setup) -> LoadedObject {
    let options = ObjectOptions {
        verified: setup.verified,
        ..ObjectOptions::for_engine(setup.engine)
    };
    let o = LoadedObject::load(&object(name), &options)
        .unwrap_or_else(|e| panic!("{name} on {setup}: {e}"));
    for i in 0..o.len() {
        let verdict = o.verify(i).expect("program exists");
        assert!(
            verdict.is_ok(),
            "{name}: {} rejected: {:?}",
            o.program_name(i).unwrap_or_default(),
            verdict.err()
        );
        assert_eq!(o.program_error(i), None, "{name} on {setup}");
        if setup.verified {
            let (proven, accesses) = o.proven_accesses(i).expect("verified");
            assert!(
                proven > 0 && proven <= accesses,
                "{name} on {setup}: {proven} of {accesses} accesses proven"
            );
        }
    }
    o
}

fn run(o: &mut LoadedObject, program: &str, input: &[u8]) -> u64 {
    let index = o.program(program).expect("program");
    let out = o.run(index, input).expect("runs");
    out.outcome
        .result
        .unwrap_or_else(|f| panic!("{program} faulted: {f}"))
}

#[test]
fn xdp_counter_counts_by_protocol() {
    for engine in setups() {
        let mut o = load("xdp_counter", engine);
        assert_eq!(
            o.context(0),
            Some(ContextKind::Xdp),
            "the section name makes it XDP"
        );
        let packets = [
            (ipv4(TCP, 1, 20), XDP_PASS),
            (ipv4(UDP, 1, 8), XDP_PASS),
            (ipv4(ICMP, 1, 8), XDP_DROP),
            (ipv4(TCP, 2, 100), XDP_PASS),
            (arp(), XDP_PASS),
            (vec![0u8; 20], XDP_PASS),
        ];
        for (p, action) in &packets {
            let index = o.program("count_by_protocol").expect("program");
            let out = o.run(index, p).expect("runs");
            assert_eq!(out.r0(), Some(*action), "{engine}");
            assert_eq!(
                out.action(),
                Some(if *action == XDP_DROP {
                    "XDP_DROP"
                } else {
                    "XDP_PASS"
                })
            );
            assert_eq!(&out.data, p, "the packet is returned unchanged");
        }
        let mut counts: Vec<(u32, u64, u64)> = o
            .entries("proto_counts")
            .expect("entries")
            .iter()
            .map(|(k, v)| (le64(k) as u32, le64(&v[..8]), le64(&v[8..])))
            .collect();
        counts.sort_unstable();
        assert_eq!(
            counts,
            vec![(1, 1, 42), (6, 2, 54 + 134), (17, 1, 42)],
            "{engine}"
        );
    }
}

#[test]
fn ringbuf_events_reach_the_host() {
    for engine in setups() {
        let mut o = load("ringbuf_events", engine);
        assert_eq!(run(&mut o, "produce_events", &ipv4(TCP, 7, 20)), XDP_PASS);
        assert_eq!(run(&mut o, "produce_events", &arp()), XDP_PASS);
        assert_eq!(run(&mut o, "produce_events", &ipv4(UDP, 9, 8)), XDP_PASS);
        let records = o.ringbuf_records("events").expect("ring buffer");
        assert_eq!(records.len(), 2, "{engine}: the ARP record was discarded");
        let decoded: Vec<(u64, u32, [u8; 4], u8, u8)> = records
            .iter()
            .map(|r| {
                assert_eq!(r.len(), 24);
                (
                    le64(&r[0..8]),
                    le64(&r[8..12]) as u32,
                    [r[12], r[13], r[14], r[15]],
                    r[16],
                    r[17],
                )
            })
            .collect();
        assert_eq!(
            decoded,
            vec![
                (0, 54, [10, 0, 0, 7], TCP, 64),
                (1, 42, [10, 0, 0, 9], UDP, 64)
            ]
        );
        assert!(o.ringbuf_records("events").expect("empty").is_empty());
        assert_eq!(
            o.lookup(".bss", &0u32.to_le_bytes()).expect("bss"),
            Some(2u64.to_le_bytes().to_vec())
        );
    }
}

#[test]
fn tail_calls_dispatch_by_protocol() {
    for engine in setups() {
        tail_calls_on(engine);
    }
}

fn tail_calls_on(engine: Setup) {
    let mut o = load("tail_dispatch", engine);
    o.set_tail_call("handlers", u32::from(TCP), "handle_tcp")
        .expect("slot");
    o.set_tail_call("handlers", u32::from(UDP), "handle_udp")
        .expect("slot");
    // ICMP has no handler: the tail call fails and the dispatcher continues.
    assert_eq!(run(&mut o, "dispatch", &ipv4(TCP, 1, 20)), XDP_PASS);
    assert_eq!(run(&mut o, "dispatch", &ipv4(UDP, 1, 8)), XDP_DROP);
    assert_eq!(run(&mut o, "dispatch", &ipv4(UDP, 2, 8)), XDP_DROP);
    assert_eq!(run(&mut o, "dispatch", &ipv4(ICMP, 1, 8)), XDP_PASS);
    o.set_tail_call("handlers", u32::from(ICMP), "handle_icmp")
        .expect("slot");
    assert_eq!(run(&mut o, "dispatch", &ipv4(ICMP, 1, 8)), XDP_TX);
    let hits: Vec<u64> = o
        .entries("hits")
        .expect("hits")
        .iter()
        .map(|(_, v)| le64(v))
        .collect();
    assert_eq!(hits, vec![1, 1, 2, 1]);
    let index = o.program("dispatch").expect("program");
    let out = o.run(index, &ipv4(TCP, 1, 20)).expect("runs");
    let count = out.outcome.instructions.expect("metered");
    assert!(count > 10, "counts are summed over the chain: {count}");

    assert!(matches!(
        o.set_tail_call("hits", 0, "handle_tcp"),
        Err(ObjectError::WrongMapKind { .. })
    ));
    assert!(matches!(
        o.set_tail_call("handlers", 999, "handle_tcp"),
        Err(ObjectError::ProgArraySlot { .. })
    ));
    assert!(matches!(
        o.set_tail_call("handlers", 1, "nope"),
        Err(ObjectError::NoSuchProgram { .. })
    ));
}

#[test]
fn globals_and_local_calls() {
    for engine in setups() {
        let mut o = load("globals", engine);
        let key = 0u32.to_le_bytes();
        let rodata = o.lookup(".rodata", &key).expect("rodata").expect("value");
        let (seed, prefix) = (le64(&rodata[0..4]) as u32, le64(&rodata[4..8]) as u32);
        assert_eq!((seed, prefix), (2_166_136_261, 16));
        let mut total = 1000u64;
        for (i, p) in [ipv4(TCP, 1, 20), ipv4(UDP, 3, 8), arp()]
            .iter()
            .enumerate()
        {
            let h = globals_hash(seed, prefix, p);
            let expected = if h & 1 == 1 { XDP_PASS } else { XDP_DROP };
            assert_eq!(run(&mut o, "hash_packet", p), expected, "{engine}");
            total += u64::from(h & 0xff);
            let bss = o.lookup(".bss", &key).expect("bss").expect("value");
            assert_eq!(le64(&bss[0..4]) as u32, h, "last_hash");
            assert_eq!(le64(&bss[8..16]), i as u64 + 1, "calls");
            let data = o.lookup(".data", &key).expect("data").expect("value");
            assert_eq!(le64(&data), total, "total");
        }
        // The host may change .rodata (as libbpf does before loading); programs may not.
        let mut new = rodata.clone();
        new[4..8].copy_from_slice(&4u32.to_le_bytes());
        o.update(".rodata", &key, &new, 0).expect("host write");
        let p = ipv4(TCP, 1, 20);
        let h = globals_hash(seed, 4, &p);
        run(&mut o, "hash_packet", &p);
        let bss = o.lookup(".bss", &key).expect("bss").expect("value");
        assert_eq!(le64(&bss[0..4]) as u32, h);
        assert!(o
            .dump_maps()
            .iter()
            .any(|d| d.spec.name == ".rodata" && d.spec.program_read_only()));
    }
}

#[test]
fn bounded_loop_counts_bits() {
    for engine in setups() {
        let mut o = load("bounded_loop", engine);
        for p in [ipv4(TCP, 1, 20), ipv4(UDP, 255, 300), vec![0xff; 14]] {
            let bits: u32 = p.iter().take(256).map(|b| b.count_ones()).sum();
            let expected = if bits & 1 == 1 { XDP_DROP } else { XDP_PASS };
            assert_eq!(run(&mut o, "popcount", &p), expected, "{engine}");
            let bss = o
                .lookup(".bss", &0u32.to_le_bytes())
                .expect("bss")
                .expect("value");
            assert_eq!(le64(&bss) as u32, bits, "{engine}");
        }
    }
}

#[test]
fn socket_filter_reads_the_packet_with_ld_abs() {
    for engine in setups() {
        socket_filter_on(engine);
    }
}

fn socket_filter_on(engine: Setup) {
    let mut o = load("socket_filter", engine);
    assert_eq!(o.context(0), Some(ContextKind::SkBuff { l2: false }));
    // The filter sees the packet from the IP header: keeps TCP (its length), drops the rest.
    assert_eq!(run(&mut o, "keep_tcp", &ipv4(TCP, 1, 20)), 40);
    assert_eq!(run(&mut o, "keep_tcp", &ipv4(UDP, 1, 8)), 0);
    assert_eq!(run(&mut o, "keep_tcp", &ipv4(TCP, 1, 0)), 20);
    // A frame too short for the IP protocol byte: LD_ABS out of bounds ends the run with 0.
    assert_eq!(run(&mut o, "keep_tcp", &[0u8; 16]), 0);
    let seen: Vec<(u32, u64)> = o
        .entries("seen")
        .expect("entries")
        .iter()
        .map(|(k, v)| (le64(k) as u32, le64(v)))
        .filter(|&(_, n)| n != 0)
        .collect();
    assert_eq!(seen, vec![(6, 2), (17, 1)]);
    assert!(matches!(
        o.run(0, &[0u8; 4]),
        Err(ObjectError::Context { .. })
    ));
}

#[test]
fn packets_live_below_4g_and_reads_past_the_end_fault() {
    let mut o = load(
        "xdp_counter",
        Setup {
            engine: EngineKind::Interp,
            verified: false,
        },
    );
    // Too large a packet is an error, not a panic.
    assert!(matches!(
        o.run(0, &vec![0u8; 70_000]),
        Err(ObjectError::Context { .. })
    ));
    // An empty packet runs (the program's bounds check sends it on).
    assert_eq!(run(&mut o, "count_by_protocol", &[]), XDP_PASS);
}
