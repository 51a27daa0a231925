//! Map creation under [`Limits`]: every kind refuses a hostile definition before allocating,
//! the per-table budget sums the maps, allocation failures are errors, and hash indexes grow
//! with use rather than with `max_entries`.

use apiary_vm::maps::{create_map, map_flags, map_type, MapError, MapMemory, MapOptions, MapSpec};
use apiary_vm::{Limits, MapTable};

const HUGE: u32 = u32::MAX;

fn options() -> MapOptions {
    MapOptions {
        nr_slots: 4,
        perf_ring_bytes: 4096,
        limits: Limits::default(),
        window: None,
    }
}

fn too_large(spec: &MapSpec) -> (String, u64, u64) {
    match create_map(spec, &options()) {
        Err(MapError::TooLarge {
            name, asked, limit, ..
        }) => (name, asked, limit),
        Err(e) => panic!("{}: not TooLarge: {e}", spec.name),
        Ok(_) => panic!("{}: created", spec.name),
    }
}

#[test]
fn every_kind_refuses_huge_definitions() {
    let gib = 1u64 << 30;
    let h = u64::from(HUGE);
    let nopre = map_flags::NO_PREALLOC;
    let cases = [
        (
            MapSpec::new("array", map_type::ARRAY, 4, 8, HUGE),
            8 * h,
            gib,
        ),
        (
            MapSpec::new("hash", map_type::HASH, 4, 8, HUGE),
            64 * h,
            gib,
        ),
        (
            MapSpec::new("hash-np", map_type::HASH, 4, 8, HUGE).with_flags(nopre),
            64 * h,
            gib,
        ),
        (MapSpec::new("hash-key", map_type::HASH, HUGE, 8, 1), h, 512),
        (
            MapSpec::new("lru", map_type::LRU_HASH, 4, HUGE, 1),
            h,
            4 << 20,
        ),
        (
            MapSpec::new("pcpu", map_type::PERCPU_ARRAY, 4, 8, HUGE),
            32 * h,
            gib,
        ),
        (
            MapSpec::new("pcpu-hash", map_type::PERCPU_HASH, 4, 40000, 1),
            40000,
            32 << 10,
        ),
        (
            MapSpec::new("perf", map_type::PERF_EVENT_ARRAY, 4, 4, HUGE),
            4160 * h,
            gib,
        ),
        (
            MapSpec::new("lpm", map_type::LPM_TRIE, 8, 8, HUGE).with_flags(nopre),
            64 * h,
            gib,
        ),
        (
            MapSpec::new("progs", map_type::PROG_ARRAY, 4, 4, HUGE),
            4 * h,
            gib,
        ),
        (
            MapSpec::new("aom", map_type::ARRAY_OF_MAPS, 4, 4, HUGE).with_inner(MapSpec::new(
                "i",
                map_type::ARRAY,
                4,
                4,
                1,
            )),
            4 * h,
            gib,
        ),
        (
            MapSpec::new("hom", map_type::HASH_OF_MAPS, 4, 4, HUGE).with_inner(MapSpec::new(
                "i",
                map_type::ARRAY,
                4,
                4,
                1,
            )),
            64 * h,
            gib,
        ),
        (
            MapSpec::new("hom-key", map_type::HASH_OF_MAPS, HUGE, 4, 1),
            h,
            512,
        ),
        (
            MapSpec::new("queue", map_type::QUEUE, 0, 8, HUGE),
            24 * h,
            gib,
        ),
        (
            MapSpec::new("stack", map_type::STACK, 0, HUGE, 1),
            h,
            4 << 20,
        ),
        (
            MapSpec::new("ring", map_type::RINGBUF, 0, 0, 1 << 31),
            1 << 31,
            256 << 20,
        ),
    ];
    for (spec, asked, limit) in cases {
        assert_eq!(
            too_large(&spec),
            (spec.name.clone(), asked, limit),
            "{}",
            spec.name
        );
    }
}

#[test]
fn entry_limit_is_configurable() {
    let mut o = options();
    o.limits.max_entries = 100;
    let Err(e) = create_map(&MapSpec::new("a", map_type::ARRAY, 4, 8, 101), &o) else {
        panic!("created");
    };
    assert_eq!(
        e.to_string(),
        "map \"a\": max_entries 101 exceeds the entry limit of 100 entries"
    );
}

#[test]
fn table_budget_counts_earlier_maps_and_unlimited_lifts_it() {
    let big = MapSpec::new("big", map_type::ARRAY, 4, 4096, 150_000); // ~586 MiB
    let mut t = MapTable::new(options());
    t.create(&big).expect("first fits");
    assert_eq!(t.reserved(), 4096 * 150_000);
    let e = t.create(&big).expect_err("second does not");
    assert!(
        e.to_string()
            .contains("on top of 614400000 bytes of earlier maps"),
        "{e}"
    );
    assert_eq!(t.len(), 1);
    let mut o = options();
    o.limits = Limits::unlimited();
    let mut t = MapTable::new(o);
    t.create(&big).expect("first");
    t.create(&big).expect("second, unlimited");
}

#[test]
fn map_memory_allocation_failure_is_an_error() {
    assert!(MapMemory::zeroed(usize::MAX).is_err());
    assert!(MapMemory::zeroed(usize::MAX - 3).is_err());
    assert!(MapMemory::zeroed(isize::MAX as usize).is_err());
    assert_eq!(MapMemory::zeroed(0).expect("tiny").len(), 0);
}

#[test]
fn hash_index_grows_with_use_and_reuses_slots() {
    // 2^24 entries: the slab is reserved (lazily committed); the index starts empty.
    let mut t = MapTable::new(options());
    let h = t
        .create(
            &MapSpec::new("h", map_type::HASH, 4, 8, 1 << 24).with_flags(map_flags::NO_PREALLOC),
        )
        .expect("created");
    for i in 0u32..10_000 {
        t.update(h, &i.to_le_bytes(), &u64::from(i).to_le_bytes(), 0)
            .expect("insert");
    }
    for i in (0u32..10_000).step_by(2) {
        t.delete(h, &i.to_le_bytes()).expect("delete");
    }
    for i in 20_000u32..25_000 {
        t.update(h, &i.to_le_bytes(), &u64::from(i).to_le_bytes(), 0)
            .expect("reinsert");
    }
    assert_eq!(t.keys(h).expect("keys").len(), 10_000);
    assert_eq!(
        t.lookup(h, &24_999u32.to_le_bytes()).expect("lookup"),
        Some(24_999u64.to_le_bytes().to_vec())
    );
}

#[test]
fn lru_evicts_across_lazily_allocated_chunks() {
    let mut t = MapTable::new(options());
    let n = 10_000u32; // more than one chunk of referenced bits
    let h = t
        .create(&MapSpec::new("lru", map_type::LRU_HASH, 4, 8, n))
        .expect("created");
    for i in 0..3 * n {
        t.update(h, &i.to_le_bytes(), &u64::from(i).to_le_bytes(), 0)
            .expect("LRU inserts never fail");
    }
    let keys = t.keys(h).expect("keys");
    assert_eq!(keys.len(), n as usize);
    assert!(t
        .lookup(h, &(3 * n - 1).to_le_bytes())
        .expect("lookup")
        .is_some());
}
