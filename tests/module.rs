//! The embedding API: one [`Module`] (parsed and verified once) shared by instances of every
//! engine; one [`Instance`] serving 8 threads at once, each with its own [`Store`], over shared
//! maps; typed handles and map views; the store/instance pairing and the context pool's bound.

mod common;

use std::sync::Arc;

use apiary::bytemuck;
use apiary::{Config, EngineKind, Instance, Module, ObjectError, ProgramId, Store};
use apiary_testkit::Coverage;
use common::{ipv4, object, ICMP, TCP, UDP};

const XDP_DROP: u64 = 1;
const XDP_PASS: u64 = 2;
const THREADS: usize = 8;
const RUNS: usize = 300;

/// `struct counters` of `examples/xdp_counter.c`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
struct Counters {
    packets: u64,
    bytes: u64,
}

// SAFETY: two u64s, no padding, every bit pattern valid.
unsafe impl bytemuck::Zeroable for Counters {}
// SAFETY: as above; `Copy` and `'static`.
unsafe impl bytemuck::Pod for Counters {}

/// The packet run `run` of thread `thread` sends: protocol and payload vary with both.
fn packet(thread: usize, run: usize) -> (u8, Vec<u8>) {
    let proto = [TCP, UDP, ICMP][(thread + run) % 3];
    (proto, ipv4(proto, thread as u8, (run * 7 + thread) % 200))
}

/// Runs `count_by_protocol` from 8 threads on one instance and checks each run's r0 and
/// packet, and that the shared hash map's counters are the sums over all runs.
fn eight_threads(module: &Arc<Module>, engine: EngineKind, coverage: &mut Coverage) {
    let instance = Instance::new(Arc::clone(module), engine).expect("instance");
    let prog = module.find("count_by_protocol").expect("program");
    let counts = instance
        .hash_map::<u32, Counters>(module.map("proto_counts").expect("map"))
        .expect("view");
    // The program inserts a missing key with BPF_NOEXIST, which loses a packet when two
    // threads miss at once (as on Linux): the host creates the keys first.
    for proto in [TCP, UDP, ICMP] {
        counts
            .insert(&u32::from(proto), &Counters::default(), 0)
            .expect("insert");
    }
    let runs: usize = std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|thread| {
                let instance = &instance;
                s.spawn(move || {
                    let mut store = Store::with_slot(instance, thread as u32).expect("store");
                    for run in 0..RUNS {
                        let (proto, input) = packet(thread, run);
                        let out = instance.run(&mut store, prog, &input).expect("runs");
                        let want = if proto == ICMP { XDP_DROP } else { XDP_PASS };
                        assert_eq!(out.r0(), Some(want), "{engine} thread {thread} run {run}");
                        assert_eq!(out.data, input, "{engine} thread {thread} run {run}");
                    }
                    RUNS
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("thread")).sum()
    });
    assert_eq!(runs, THREADS * RUNS);
    for proto in [TCP, UDP, ICMP] {
        let mut want = Counters::default();
        for thread in 0..THREADS {
            for run in 0..RUNS {
                let (p, input) = packet(thread, run);
                if p == proto {
                    want.packets += 1;
                    want.bytes += input.len() as u64;
                }
            }
        }
        let got = counts.get(&u32::from(proto)).expect("lookup");
        assert_eq!(got, Some(want), "{engine}: protocol {proto}");
    }
    coverage.add_compared(runs as u64);
}

#[test]
fn one_instance_serves_eight_threads() {
    let mut coverage = Coverage::new("module-eight-threads").expect_comparisons(true);
    let bytes = object("xdp_counter");
    for verified in [true, false] {
        let config = Config::new().with_verified(verified);
        // One module, verified once, shared by both engines' instances.
        let module = Arc::new(Module::from_elf(&config, &bytes).expect("module"));
        if verified {
            let prog = module.find("count_by_protocol").expect("program");
            assert!(module.verify(prog).is_ok(), "the example verifies");
        }
        for &engine in EngineKind::ALL {
            eight_threads(&module, engine, &mut coverage);
        }
    }
    coverage.finish();
}

#[test]
fn stores_belong_to_their_instance_and_the_pool_is_bounded() {
    let config = Config::new().with_stores(2);
    let module = Arc::new(Module::from_elf(&config, &object("xdp_counter")).expect("module"));
    let a = Instance::new(Arc::clone(&module), EngineKind::Interp).expect("a");
    let b = Instance::new(Arc::clone(&module), EngineKind::Interp).expect("b");
    let prog = module.find("count_by_protocol").expect("program");
    let mut store_b = b.store().expect("store");
    assert!(matches!(
        a.run(&mut store_b, prog, &ipv4(TCP, 1, 10)),
        Err(ObjectError::WrongStore)
    ));
    let first = a.store().expect("first");
    let second = a.store().expect("second");
    let third = a.store();
    assert!(matches!(
        third,
        Err(ObjectError::NoFreeContext { stores: 2 })
    ));
    drop(first);
    let mut again = a.store().expect("a buffer came back");
    let out = a.run(&mut again, prog, &ipv4(UDP, 1, 10)).expect("runs");
    assert_eq!(out.r0(), Some(XDP_PASS));
    drop(second);
    // Instances are independent: b's maps saw nothing of a's run.
    let key = 17u32;
    let b_counts = b
        .hash_map::<u32, [u64; 2]>(module.map("proto_counts").expect("map"))
        .expect("view");
    assert_eq!(b_counts.get(&key).expect("lookup"), None);
    assert_eq!(
        a.hash_map::<u32, [u64; 2]>(module.map("proto_counts").expect("map"))
            .expect("view")
            .get(&key)
            .expect("lookup"),
        Some([1, 10 + 34])
    );
}

#[test]
fn handles_and_views_are_checked() {
    let module = Module::from_elf(&Config::new(), &object("xdp_counter")).expect("module");
    let instance = Instance::new(module, EngineKind::Interp).expect("instance");
    let map = instance.module().map("proto_counts").expect("map");
    assert!(matches!(
        instance.hash_map::<u64, Counters>(map),
        Err(ObjectError::WrongMapSize {
            what: "key",
            expected: 4,
            found: 8,
            ..
        })
    ));
    assert!(matches!(
        instance.hash_map::<u32, u64>(map),
        Err(ObjectError::WrongMapSize {
            what: "value",
            expected: 16,
            found: 8,
            ..
        })
    ));
    assert!(matches!(
        instance.array::<Counters>(map),
        Err(ObjectError::WrongMapKind {
            wanted: "array",
            ..
        })
    ));
    assert!(matches!(
        instance.ring_buf(apiary::MapId(7)),
        Err(ObjectError::NoMapIndex { index: 7 })
    ));
    let mut store = instance.store().expect("store");
    let err = instance
        .run(&mut store, ProgramId(3), &[])
        .expect_err("no such program");
    assert!(matches!(err, ObjectError::NoProgramIndex { index: 3 }));
    assert_ne!(err.code(), 0);
}

#[test]
fn raw_programs_are_modules_too() {
    let config = Config::new();
    let module = Module::from_asm(&config, "mov %r0, %r2\nexit").expect("module");
    let prog = module.find("main").expect("main");
    assert!(module.verify(prog).is_ok());
    for &engine in EngineKind::ALL {
        let instance = Instance::new(
            Arc::new(Module::from_asm(&config, "mov %r0, %r2\nexit").expect("module")),
            engine,
        )
        .expect("instance");
        let out = instance
            .store()
            .and_then(|mut s| instance.run(&mut s, prog, &[1, 2, 3]));
        assert_eq!(out.expect("runs").r0(), Some(3), "{engine}");
    }
    // An unsafe twin: the verifier rejects a read past the input, and in verified mode it
    // cannot run; unverified it runs checked and faults.
    let oob = "ldxdw %r0, [%r1+8]\nexit";
    let module = Module::from_asm(&config, oob).expect("module");
    assert!(matches!(
        module.verify(prog),
        Err(ObjectError::Program {
            source: apiary::ProgramError::Rejected { .. },
            ..
        })
    ));
    let instance = Instance::new(module, EngineKind::Interp).expect("instance");
    let mut store = instance.store().expect("store");
    assert!(matches!(
        instance.run(&mut store, prog, &[0; 4]),
        Err(ObjectError::Program { .. })
    ));
    let unverified = Module::from_asm(&config.with_verified(false), oob).expect("module");
    let instance = Instance::new(unverified, EngineKind::Interp).expect("instance");
    let mut store = instance.store().expect("store");
    let out = instance.run(&mut store, prog, &[0; 4]).expect("runs");
    assert!(out.outcome.result.is_err(), "checked mode faults");
}

/// A module built from a hand-made object: one raw program over a per-CPU array.
fn per_cpu_module(config: &Config) -> Module {
    use apiary_elf::{MapDef, MapKind, Object, ProgramSection, ProgramType};
    let text = "stw [%r10-4], 0
        lddw %r1, map_idx 0
        mov %r2, %r10
        add %r2, -4
        call 1
        jeq %r0, 0, fail
        mov %r1, 1
        lock add [%r0], %r1
        call 8
        exit
        fail:
        mov %r0, -1
        exit";
    let insns = apiary::source::read_program(text.as_bytes(), apiary::source::Format::Asm)
        .expect("assembles");
    let object = Object {
        programs: vec![ProgramSection {
            section: "count".into(),
            function: "count".into(),
            program_type: ProgramType::Unspecified,
            insns,
            maps_used: vec![0],
            link_error: None,
        }],
        maps: vec![MapDef {
            name: "per_cpu".into(),
            map_type: apiary_vm::maps::map_type::PERCPU_ARRAY,
            key_size: 4,
            value_size: 8,
            max_entries: 1,
            flags: 0,
            inner: None,
            inner_index: None,
            pinning: 0,
            kind: MapKind::User,
            initial: Vec::new(),
        }],
        license: None,
    };
    Module::from_object(config, object).expect("module")
}

/// Each store runs as its own worker slot: `bpf_get_smp_processor_id` returns it, and the
/// per-CPU view shows each thread's count in its slot.
#[test]
fn stores_run_as_their_slots() {
    let slots = 4u32;
    let mut config = Config::new();
    config.maps.nr_slots = slots;
    // The hand-built section names no type (`unspec` would be a tc program): plain memory.
    config.program_type = Some(apiary::platform::TypeChoice::Mem);
    let module = Arc::new(per_cpu_module(&config));
    let prog = module.find("count").expect("program");
    let map = module.map("per_cpu").expect("map");
    assert!(module.verify(prog).is_ok(), "verified with its map");
    for &engine in EngineKind::ALL {
        let instance = Instance::new(Arc::clone(&module), engine).expect("instance");
        std::thread::scope(|s| {
            for slot in 0..slots {
                let instance = &instance;
                s.spawn(move || {
                    let mut store = Store::with_slot(instance, slot).expect("store");
                    for _ in 0..=slot {
                        let out = instance.run(&mut store, prog, &[]).expect("runs");
                        assert_eq!(out.r0(), Some(u64::from(slot)), "{engine}");
                    }
                });
            }
        });
        let counts = instance
            .per_cpu_array::<u64>(map)
            .expect("view")
            .get(0)
            .expect("lookup");
        let want: Vec<u64> = (1..=u64::from(slots)).collect();
        assert_eq!(counts, want, "{engine}");
        assert!(matches!(
            instance.array::<u64>(map),
            Err(ObjectError::WrongMapKind { .. })
        ));
    }
}
