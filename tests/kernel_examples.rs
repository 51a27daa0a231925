//! The map examples run both in apiary and in the Linux kernel on the same packets: the maps are
//! created in the kernel from the same definitions (global data with its initial bytes), the
//! programs loaded with their map references patched to descriptors, run with
//! `BPF_PROG_TEST_RUN`; r0, the packet afterwards and every map's contents must match.
//!
//! Where this process may not load BPF programs the tests print a NOTICE and pass, unless
//! `APIARY_REQUIRE_KERNEL=1` (set in CI), which makes unavailability a failure. An example
//! needing a program type, helper or map type this kernel does not support is skipped with
//! the reason (kernels differ from host to host); each test records its counts in
//! `target/apiary-coverage/` (`.ci/coverage-summary`).

mod common;

use std::os::fd::OwnedFd;

use apiary::object::{LoadedObject, ObjectOptions};
use apiary::EngineKind;
use apiary_elf::Object;
use apiary_testkit::Coverage;
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
    /// Runs compared with the kernel.
    compared: u64,
}

/// Runs `body` on example `name` loaded in both places, recording what was compared, or the
/// reason the kernel could not take part.
fn example(name: &str, prog_type: u32, body: impl FnOnce(&mut Both)) {
    let mut coverage = Coverage::new(&format!("kernel_examples.{name}"));
    if let Some(why) = kernel::unavailable(name) {
        coverage.skip(why);
        coverage.finish();
        return;
    }
    let mut coverage = coverage.expect_comparisons(true);
    match Both::new(name, prog_type) {
        Ok(mut both) => {
            body(&mut both);
            both.compare_maps();
            coverage.add_compared(both.compared);
        }
        Err(why) => coverage.skip(why),
    }
    coverage.finish();
}

impl Both {
    /// Loads example `name` in apiary and the kernel; `Err` with the reason where this kernel
    /// does not support a program type, helper or map type it needs.
    fn new(name: &str, prog_type: u32) -> Result<Self, String> {
        let bytes = object(name);
        let object = Object::parse(&bytes).expect("parses");
        for def in &object.maps {
            if let Some(why) = kernel::unsupported_map(def.map_type) {
                return Err(why);
            }
        }
        for p in &object.programs {
            if let Some(why) = kernel::unsupported(prog_type, &p.insns) {
                return Err(why);
            }
        }
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
        Ok(Self {
            apiary,
            object,
            maps,
            progs,
            compared: 0,
        })
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
        self.compared += 1;
        r0
    }

    /// Every map's contents must agree (ring buffers: the records, consumed on both sides).
    fn compare_maps(&mut self) {
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
        self.compared += 1;
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
    example("xdp_counter", PROG_TYPE_XDP, |b| {
        for p in traffic() {
            b.run("count_by_protocol", &p, true);
        }
    });
}

#[test]
fn ringbuf_events_match_the_kernel() {
    example("ringbuf_events", PROG_TYPE_XDP, |b| {
        for p in traffic() {
            b.run("produce_events", &p, true);
        }
    });
}

#[test]
fn globals_match_the_kernel() {
    example("globals", PROG_TYPE_XDP, |b| {
        for p in traffic() {
            b.run("hash_packet", &p, true);
        }
    });
}

#[test]
fn bounded_loop_matches_the_kernel() {
    example("bounded_loop", PROG_TYPE_XDP, |b| {
        for p in traffic() {
            b.run("popcount", &p, true);
        }
    });
}

#[test]
fn tail_dispatch_matches_the_kernel() {
    example("tail_dispatch", PROG_TYPE_XDP, |b| {
        b.set_tail_call("handlers", u32::from(TCP), "handle_tcp");
        b.set_tail_call("handlers", u32::from(UDP), "handle_udp");
        for p in traffic() {
            b.run("dispatch", &p, true);
        }
        b.set_tail_call("handlers", u32::from(ICMP), "handle_icmp");
        for p in traffic() {
            b.run("dispatch", &p, true);
        }
    });
}

#[test]
fn socket_filter_matches_the_kernel() {
    example("socket_filter", PROG_TYPE_SOCKET_FILTER, |b| {
        for p in traffic() {
            b.run("keep_tcp", &p, false);
        }
    });
}
