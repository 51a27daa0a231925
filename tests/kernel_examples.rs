//! The map examples run both in apiary and in the Linux kernel on the same packets: the maps are
//! created in the kernel from the same definitions (global data with its initial bytes), the
//! programs loaded with their map references patched to descriptors, run with
//! `BPF_PROG_TEST_RUN`; r0, the packet afterwards and every map's contents must match.
//!
//! Where this process may not load BPF programs the tests print a NOTICE and pass, unless
//! `APIARY_REQUIRE_KERNEL=1` (set in CI), which makes unavailability a failure.

mod common;

use std::os::fd::OwnedFd;

use apiary::object::{LoadedObject, ObjectOptions};
use apiary::EngineKind;
use apiary_elf::Object;
use apiary_vm::maps::map_type;
use common::kernel::{self, KMap};
use common::{arp, ipv4, object, ICMP, TCP, UDP};

const PROG_TYPE_SOCKET_FILTER: u32 = 1;
const PROG_TYPE_XDP: u32 = 6;

/// One example loaded in both places.
struct Both {
    apiary: LoadedObject,
    object: Object,
    maps: Vec<KMap>,
    progs: Vec<Option<OwnedFd>>,
}

impl Both {
    fn new(name: &str, prog_type: u32) -> Self {
        let bytes = object(name);
        let object = Object::parse(&bytes).expect("parses");
        let apiary = LoadedObject::from_object(
            object.clone(),
            &ObjectOptions::for_engine(EngineKind::Interp),
        )
        .expect("loads in apiary");
        let maps = kernel::create_maps(&object).expect("kernel maps");
        let license = object.license.clone().unwrap_or_else(|| "GPL".into());
        let progs = object
            .programs
            .iter()
            .map(|p| {
                let insns = kernel::patch(&p.insns, &maps);
                Some(
                    kernel::prog_load(prog_type, &insns, &license, &p.function)
                        .unwrap_or_else(|e| panic!("{name}:{}: kernel load: {e}", p.function)),
                )
            })
            .collect();
        Self {
            apiary,
            object,
            maps,
            progs,
        }
    }

    fn fd(&self, program: &str) -> &OwnedFd {
        let i = self.apiary.program(program).expect("program");
        self.progs[i].as_ref().expect("loaded")
    }

    fn set_tail_call(&self, map: &str, slot: u32, program: &str) {
        self.apiary
            .set_tail_call(map, slot, program)
            .expect("apiary slot");
        let m = self.apiary.map_index(map).expect("map");
        kernel::set_prog(&self.maps[m], slot, self.fd(program)).expect("kernel slot");
    }

    /// Runs `program` on `packet` in both; r0 and the packet afterwards must agree.
    fn run(&mut self, program: &str, packet: &[u8], compare_packet: bool) -> u64 {
        let index = self.apiary.program(program).expect("program");
        let ours = self.apiary.run(index, packet).expect("apiary runs");
        let r0 = ours
            .outcome
            .result
            .unwrap_or_else(|f| panic!("apiary faulted: {f}"));
        let (retval, data) = kernel::test_run(self.fd(program), packet).expect("test run");
        assert_eq!(
            u64::from(retval),
            r0 & 0xffff_ffff,
            "{program}: r0 differs on {packet:02x?}"
        );
        if compare_packet {
            assert_eq!(data, ours.data, "{program}: packet differs");
        }
        r0
    }

    /// Every map's contents must agree (ring buffers: the records, consumed on both sides).
    fn compare_maps(&self) {
        let mut compared = 0;
        for (i, def) in self.object.maps.iter().enumerate() {
            let k = &self.maps[i];
            match def.map_type {
                map_type::PROG_ARRAY => {}
                map_type::RINGBUF => {
                    let ours = self.apiary.ringbuf_records(&def.name).expect("ours");
                    let theirs = k.ringbuf_records().expect("kernel ring");
                    assert_eq!(ours, theirs, "ring buffer {}", def.name);
                    compared += ours.len();
                }
                _ => {
                    let mut ours = self
                        .apiary
                        .maps()
                        .keys(i)
                        .expect("keys")
                        .into_iter()
                        .map(|key| {
                            let v = self.apiary.maps().lookup(i, &key).expect("lookup");
                            (key, v.expect("present"))
                        })
                        .collect::<Vec<_>>();
                    ours.sort();
                    let theirs = k.entries().expect("kernel entries");
                    assert_eq!(ours, theirs, "map {} ({})", def.name, i);
                    compared += ours.len();
                }
            }
        }
        assert!(compared > 0, "nothing was compared");
    }
}

fn traffic() -> Vec<Vec<u8>> {
    vec![
        ipv4(TCP, 1, 20),
        ipv4(UDP, 2, 8),
        ipv4(ICMP, 3, 8),
        ipv4(TCP, 4, 100),
        arp(),
        ipv4(UDP, 5, 300),
        vec![0u8; 14],
    ]
}

#[test]
fn xdp_counter_matches_the_kernel() {
    if !kernel::available("xdp_counter") {
        return;
    }
    let mut b = Both::new("xdp_counter", PROG_TYPE_XDP);
    for p in traffic() {
        b.run("count_by_protocol", &p, true);
    }
    b.compare_maps();
}

#[test]
fn ringbuf_events_match_the_kernel() {
    if !kernel::available("ringbuf_events") {
        return;
    }
    let mut b = Both::new("ringbuf_events", PROG_TYPE_XDP);
    for p in traffic() {
        b.run("produce_events", &p, true);
    }
    b.compare_maps();
}

#[test]
fn globals_match_the_kernel() {
    if !kernel::available("globals") {
        return;
    }
    let mut b = Both::new("globals", PROG_TYPE_XDP);
    for p in traffic() {
        b.run("hash_packet", &p, true);
    }
    b.compare_maps();
}

#[test]
fn bounded_loop_matches_the_kernel() {
    if !kernel::available("bounded_loop") {
        return;
    }
    let mut b = Both::new("bounded_loop", PROG_TYPE_XDP);
    for p in traffic() {
        b.run("popcount", &p, true);
    }
    b.compare_maps();
}

#[test]
fn tail_dispatch_matches_the_kernel() {
    if !kernel::available("tail_dispatch") {
        return;
    }
    let mut b = Both::new("tail_dispatch", PROG_TYPE_XDP);
    b.set_tail_call("handlers", u32::from(TCP), "handle_tcp");
    b.set_tail_call("handlers", u32::from(UDP), "handle_udp");
    for p in traffic() {
        b.run("dispatch", &p, true);
    }
    b.set_tail_call("handlers", u32::from(ICMP), "handle_icmp");
    for p in traffic() {
        b.run("dispatch", &p, true);
    }
    b.compare_maps();
}

#[test]
fn socket_filter_matches_the_kernel() {
    if !kernel::available("socket_filter") {
        return;
    }
    let mut b = Both::new("socket_filter", PROG_TYPE_SOCKET_FILTER);
    for p in traffic() {
        b.run("keep_tcp", &p, false);
    }
    b.compare_maps();
}
