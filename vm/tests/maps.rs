//! Map semantics through the host API: Linux flags and errnos, full maps, LRU eviction, ring
//! buffer order and wrap-around, LPM longest match, queue/stack overwrite, maps of maps, and
//! concurrent updates.

use std::collections::HashSet;
use std::sync::Arc;
use std::thread;

use apiary_vm::maps::{
    map_flags, map_type, update_flags, Errno, MapError, MapOptions, MapSpec, MapTable,
};

fn table(specs: &[MapSpec]) -> MapTable {
    MapTable::from_specs(
        specs,
        MapOptions {
            nr_slots: 4,
            perf_ring_bytes: 64,
            ..MapOptions::default()
        },
    )
    .expect("maps")
}

fn errno(r: Result<impl std::fmt::Debug, MapError>) -> Errno {
    match r {
        Err(MapError::Op { errno, .. }) => errno,
        other => panic!("expected an errno, got {other:?}"),
    }
}

fn k(i: u32) -> [u8; 4] {
    i.to_le_bytes()
}

fn v8(x: u64) -> [u8; 8] {
    x.to_le_bytes()
}

#[test]
fn array_semantics() {
    let t = table(&[
        MapSpec::new("a", map_type::ARRAY, 4, 12, 3),
        MapSpec::new("ro", map_type::ARRAY, 4, 8, 1)
            .with_initial(vec![1, 2, 3])
            .read_only(),
    ]);
    // Preallocated and zeroed: every valid index has a value.
    assert_eq!(t.lookup(0, &k(2)).expect("ok"), Some(vec![0; 12]));
    assert_eq!(t.lookup(0, &k(3)).expect("ok"), None);
    t.update(0, &k(1), &[7; 12], update_flags::ANY)
        .expect("update");
    t.update(0, &k(1), &[8; 12], update_flags::EXIST)
        .expect("update");
    assert_eq!(t.lookup(0, &k(1)).expect("ok"), Some(vec![8; 12]));
    assert_eq!(
        errno(t.update(0, &k(1), &[0; 12], update_flags::NOEXIST)),
        Errno::Exists
    );
    assert_eq!(
        errno(t.update(0, &k(3), &[0; 12], update_flags::ANY)),
        Errno::TooBig
    );
    assert_eq!(errno(t.update(0, &k(0), &[0; 12], 3)), Errno::Invalid);
    t.update(0, &k(0), &[0; 12], update_flags::F_LOCK)
        .expect("F_LOCK accepted");
    assert_eq!(errno(t.delete(0, &k(0))), Errno::Invalid);
    assert!(matches!(
        t.update(0, &[0; 8], &[0; 12], 0),
        Err(MapError::KeySize { .. })
    ));
    assert_eq!(
        t.keys(0).expect("keys"),
        vec![k(0).to_vec(), k(1).to_vec(), k(2).to_vec()]
    );
    // Element stride is 16 (12 rounded up to 8): values are 8-aligned.
    let map = t.get(0).expect("map");
    assert_eq!(
        map.value_addr(1).expect("addr") - map.value_addr(0).expect("addr"),
        16
    );
    assert_eq!(map.value_addr(0).expect("addr") % 8, 0);
    // Global data: initial bytes, and a read-only region for programs.
    assert_eq!(
        t.lookup(1, &k(0)).expect("ok"),
        Some(vec![1, 2, 3, 0, 0, 0, 0, 0])
    );
    let regions = t.get(1).expect("map").regions();
    assert!(!regions[0].writable);
    assert!(t.get(0).expect("map").regions()[0].writable);
    // Bad definitions.
    assert!(MapTable::from_specs(
        &[MapSpec::new("x", map_type::ARRAY, 8, 4, 1)],
        MapOptions::default()
    )
    .is_err());
    assert!(MapTable::from_specs(
        &[MapSpec::new("x", map_type::ARRAY, 4, 0, 1)],
        MapOptions::default()
    )
    .is_err());
    assert!(matches!(
        MapTable::from_specs(&[MapSpec::new("x", 7, 4, 4, 1)], MapOptions::default()),
        Err(MapError::UnsupportedType { map_type: 7, .. })
    ));
}

#[test]
fn hash_semantics() {
    let t = table(&[MapSpec::new("h", map_type::HASH, 8, 8, 4)]);
    let key = |i: u64| i.to_le_bytes();
    assert_eq!(
        errno(t.update(0, &key(1), &v8(1), update_flags::EXIST)),
        Errno::NoEntry
    );
    t.update(0, &key(1), &v8(10), update_flags::NOEXIST)
        .expect("insert");
    assert_eq!(
        errno(t.update(0, &key(1), &v8(11), update_flags::NOEXIST)),
        Errno::Exists
    );
    t.update(0, &key(1), &v8(12), update_flags::EXIST)
        .expect("update");
    assert_eq!(t.lookup(0, &key(1)).expect("ok"), Some(v8(12).to_vec()));
    let map = Arc::clone(t.get(0).expect("map"));
    let addr = map.lookup(&key(1), 0).expect("present");
    for i in 2..=4 {
        t.update(0, &key(i), &v8(i), 0).expect("insert");
    }
    // Full: a new key fails with E2BIG; updating an existing one still works.
    assert_eq!(errno(t.update(0, &key(5), &v8(5), 0)), Errno::TooBig);
    t.update(0, &key(4), &v8(40), 0).expect("existing key");
    // Value pointers stay put while other keys come and go.
    assert_eq!(map.lookup(&key(1), 0), Some(addr));
    let region = map.regions()[0];
    assert!(region.contains(addr, 8));
    t.delete(0, &key(2)).expect("delete");
    assert_eq!(errno(t.delete(0, &key(2))), Errno::NoEntry);
    t.update(0, &key(5), &v8(5), 0).expect("slot reused");
    assert!(region.contains(map.lookup(&key(5), 0).expect("present"), 8));
    let keys: HashSet<Vec<u8>> = t.keys(0).expect("keys").into_iter().collect();
    let want: HashSet<Vec<u8>> = [1u64, 3, 4, 5].iter().map(|i| key(*i).to_vec()).collect();
    assert_eq!(keys, want);
    // get_next_key of an absent key restarts from the first key.
    assert_eq!(
        t.next_key(0, Some(&key(99))).expect("ok"),
        t.next_key(0, None).expect("ok")
    );
}

#[test]
fn percpu_semantics() {
    let t = table(&[
        MapSpec::new("pa", map_type::PERCPU_ARRAY, 4, 4, 2),
        MapSpec::new("ph", map_type::PERCPU_HASH, 4, 4, 2),
    ]);
    for index in 0..2 {
        let map = Arc::clone(t.get(index).expect("map"));
        // Host update with one value fills every slot.
        t.update(index, &k(1), &[1, 0, 0, 0], 0)
            .expect("host update");
        // Program updates write their slot only.
        map.update(&k(1), &[9, 0, 0, 0], 0, Some(2))
            .expect("program update");
        let per_slot = t
            .lookup_per_slot(index, &k(1))
            .expect("ok")
            .expect("present");
        assert_eq!(
            per_slot,
            vec![
                vec![1, 0, 0, 0],
                vec![1, 0, 0, 0],
                vec![9, 0, 0, 0],
                vec![1, 0, 0, 0]
            ]
        );
        // Slot copies are distinct, 8-byte strided, and slot ids wrap modulo nr_slots.
        let a0 = map.lookup(&k(1), 0).expect("present");
        assert_eq!(map.lookup(&k(1), 1), Some(a0 + 8));
        assert_eq!(map.lookup(&k(1), 6), Some(a0 + 16));
        // Host update with every slot's value (stride 8).
        let mut all = vec![0u8; 32];
        for s in 0..4 {
            all[s * 8] = s as u8 + 20;
        }
        t.update(index, &k(1), &all, 0).expect("all slots");
        let per_slot = t
            .lookup_per_slot(index, &k(1))
            .expect("ok")
            .expect("present");
        assert_eq!(per_slot[3], vec![23, 0, 0, 0]);
    }
    // A new per-CPU hash element created by a program has zeroed other slots.
    let ph = Arc::clone(t.get(1).expect("map"));
    ph.update(&k(7), &[5, 0, 0, 0], 0, Some(1)).expect("insert");
    let per_slot = t.lookup_per_slot(1, &k(7)).expect("ok").expect("present");
    assert_eq!(
        per_slot,
        vec![vec![0; 4], vec![5, 0, 0, 0], vec![0; 4], vec![0; 4]]
    );
    assert_eq!(errno(t.update(1, &k(8), &[0; 4], 0)), Errno::TooBig);
}

#[test]
fn lru_evicts_unused_entries_and_never_fails() {
    let t = table(&[MapSpec::new("lru", map_type::LRU_HASH, 4, 8, 8)]);
    let map = Arc::clone(t.get(0).expect("map"));
    for i in 0..8 {
        t.update(0, &k(i), &v8(u64::from(i)), update_flags::NOEXIST)
            .expect("insert");
    }
    // Use the first half.
    for i in 0..4 {
        assert!(map.lookup(&k(i), 0).is_some());
    }
    // Four more inserts: never E2BIG; the unused half goes.
    for i in 100..104 {
        t.update(0, &k(i), &v8(u64::from(i)), 0)
            .expect("insert evicts");
    }
    for i in 0..4 {
        assert!(
            t.lookup(0, &k(i)).expect("ok").is_some(),
            "recently used key {i} evicted"
        );
    }
    for i in 4..8 {
        assert!(
            t.lookup(0, &k(i)).expect("ok").is_none(),
            "unused key {i} kept"
        );
    }
    for i in 100..104 {
        assert!(t.lookup(0, &k(i)).expect("ok").is_some());
    }
    // Many more inserts than capacity always succeed and the size stays bounded.
    for i in 1000..2000 {
        t.update(0, &k(i), &v8(0), 0).expect("insert");
    }
    assert_eq!(t.keys(0).expect("keys").len(), 8);
    assert_eq!(
        errno(t.update(0, &k(5000), &v8(0), update_flags::EXIST)),
        Errno::NoEntry
    );
}

#[test]
fn ringbuf_order_discard_and_busy_records() {
    let t = table(&[MapSpec::new("rb", map_type::RINGBUF, 0, 0, 4096)]);
    let rb = t.ringbuf(0).expect("ring");
    let a = rb.reserve(5).expect("room");
    let b = rb.reserve(8).expect("room");
    let c = rb.reserve(3).expect("room");
    assert_eq!(a % 8, 0);
    assert_eq!(b - a, 16); // 8-byte header + 5 bytes rounded to 8
                           // Write the samples through the region (as a program would).
    let region = t.get(0).expect("map").regions()[0];
    assert!(region.contains(a, 5) && region.contains(c, 3));
    rb.commit(b, false).expect("submit b");
    assert!(
        rb.drain().is_empty(),
        "a is still reserved: nothing is consumable"
    );
    rb.commit(a, false).expect("submit a");
    rb.commit(c, true).expect("discard c");
    assert_eq!(rb.commit(a, false), Err(Errno::Invalid), "double submit");
    assert_eq!(rb.commit(a + 1, false), Err(Errno::Invalid), "not a sample");
    let records = rb.drain();
    assert_eq!(records.iter().map(Vec::len).collect::<Vec<_>>(), vec![5, 8]);
    assert_eq!(rb.query(0), 0);
    assert_eq!(rb.query(1), 4096);
    rb.output(b"hello").expect("output");
    assert_eq!(rb.query(0), 16);
    assert_eq!(rb.drain(), vec![b"hello".to_vec()]);
    // Bad definitions.
    assert!(MapTable::from_specs(
        &[MapSpec::new("rb", map_type::RINGBUF, 0, 0, 1000)],
        MapOptions::default()
    )
    .is_err());
}

#[test]
fn ringbuf_full_and_wrap_around() {
    let t = table(&[MapSpec::new("rb", map_type::RINGBUF, 0, 0, 64)]);
    let rb = t.ringbuf(0).expect("ring");
    rb.output(&[1; 20]).expect("32 bytes");
    rb.output(&[2; 20]).expect("32 bytes");
    assert_eq!(rb.output(&[3; 1]), Err(Errno::Again), "full");
    assert!(rb.reserve(57).is_none(), "larger than the ring");
    assert_eq!(rb.consume_max(1, |r| assert_eq!(r, &[1; 20])), 1);
    // The second record is still there; make room at the start (positions wrap).
    let mut seen = Vec::new();
    rb.output(&[4; 20])
        .expect("fits at offset 0 after wrapping");
    rb.consume(|r| seen.push(r.to_vec()));
    assert_eq!(seen, vec![vec![2; 20], vec![4; 20]]);
    // Now at offset 32: 16 bytes, then a 20-byte sample needs 32 > 16 left before the end, so a
    // padding record fills the end and the sample starts at offset 0, contiguous.
    rb.output(&[5; 8]).expect("16 bytes at 32");
    rb.output(&[6; 20]).expect("padding + 32 bytes at 0");
    assert_eq!(rb.query(3) - rb.query(2), 16 + 16 + 32);
    let mut seen = Vec::new();
    rb.consume(|r| seen.push(r.to_vec()));
    assert_eq!(seen, vec![vec![5; 8], vec![6; 20]]);
    assert_eq!(rb.query(0), 0);
}

#[test]
fn ringbuf_many_producers_one_consumer() {
    let t = Arc::new(table(&[MapSpec::new("rb", map_type::RINGBUF, 0, 0, 1024)]));
    // Miri (`.ci/miri.sh`) runs a few records per producer: enough to interleave, fast enough.
    const PER: u32 = if cfg!(miri) { 40 } else { 2000 };
    let producers: Vec<_> = (0..4u32)
        .map(|p| {
            let t = Arc::clone(&t);
            thread::spawn(move || {
                let rb = t.ringbuf(0).expect("ring");
                for seq in 0..PER {
                    let mut rec = [0u8; 12];
                    rec[..4].copy_from_slice(&p.to_le_bytes());
                    rec[4..8].copy_from_slice(&seq.to_le_bytes());
                    while rb.output(&rec).is_err() {
                        thread::yield_now();
                    }
                }
            })
        })
        .collect();
    let rb = t.ringbuf(0).expect("ring");
    let mut next = [0u32; 4];
    let mut total = 0;
    while total < 4 * PER {
        total += rb.consume(|r| {
            let p = u32::from_le_bytes(r[..4].try_into().expect("4")) as usize;
            let seq = u32::from_le_bytes(r[4..8].try_into().expect("4"));
            assert_eq!(r.len(), 12);
            assert_eq!(seq, next[p], "producer {p} out of order");
            next[p] += 1;
        }) as u32;
        thread::yield_now();
    }
    for h in producers {
        h.join().expect("producer");
    }
    assert_eq!(next, [PER; 4]);
    assert_eq!(rb.corrupted(), 0);
}

#[test]
fn perf_event_array_rings() {
    let t = table(&[MapSpec::new("perf", map_type::PERF_EVENT_ARRAY, 4, 4, 0)]);
    let perf = t.perf_events(0).expect("perf");
    assert_eq!(perf.rings(), 4, "one ring per slot when max_entries is 0");
    perf.output(0xffff_ffff, 2, b"on slot 2")
        .expect("current cpu");
    perf.output(1, 2, b"on ring 1").expect("index");
    assert_eq!(perf.output(9, 0, b"x"), Err(Errno::TooBig));
    assert_eq!(perf.output(1 << 60, 0, b"x"), Err(Errno::Invalid));
    assert_eq!(perf.drain(2), vec![b"on slot 2".to_vec()]);
    assert_eq!(perf.drain_all(), vec![(1, b"on ring 1".to_vec())]);
    // 64-byte rings: the fourth 20-byte record is lost.
    for _ in 0..3 {
        perf.output(0, 0, &[0; 20]).expect("room");
    }
    assert_eq!(perf.output(0, 0, &[0; 20]), Err(Errno::NoSpace));
    assert_eq!(perf.lost(0), 1);
    assert_eq!(perf.drain(0).len(), 3);
}

#[test]
fn prog_array_slots() {
    let t = table(&[MapSpec::new("progs", map_type::PROG_ARRAY, 4, 4, 4)]);
    t.update(0, &k(1), &k(7), 0).expect("set");
    let progs = t.prog_array(0).expect("prog array");
    assert_eq!(progs.get(1), Some(7));
    assert_eq!(progs.get(0), None);
    assert_eq!(progs.get(4), None);
    assert_eq!(
        errno(t.update(0, &k(1), &k(8), update_flags::NOEXIST)),
        Errno::Exists
    );
    assert_eq!(errno(t.update(0, &k(4), &k(8), 0)), Errno::TooBig);
    assert_eq!(t.lookup(0, &k(1)).expect("ok"), Some(k(7).to_vec()));
    t.delete(0, &k(1)).expect("clear");
    assert_eq!(errno(t.delete(0, &k(1))), Errno::NoEntry);
    // Programs cannot look slots up or write them.
    let map = t.get(0).expect("map");
    assert_eq!(map.lookup(&k(1), 0), None);
    assert_eq!(map.update(&k(1), &k(1), 0, Some(0)), Err(Errno::Invalid));
}

#[test]
fn queue_and_stack() {
    let t = table(&[
        MapSpec::new("q", map_type::QUEUE, 0, 4, 3),
        MapSpec::new("s", map_type::STACK, 0, 4, 3),
    ]);
    for m in 0..2 {
        assert_eq!(t.pop(m).expect("ok"), None);
        for i in 1..=3 {
            t.push(m, &k(i), 0).expect("push");
        }
        assert_eq!(errno(t.push(m, &k(4), 0)), Errno::TooBig);
        // BPF_EXIST overwrites the oldest element.
        t.push(m, &k(4), update_flags::EXIST).expect("overwrite");
        assert_eq!(
            errno(t.push(m, &k(4), update_flags::NOEXIST)),
            Errno::Invalid
        );
    }
    // Queue: 2, 3, 4 (1 was overwritten), oldest first.
    assert_eq!(t.peek(0).expect("ok"), Some(k(2).to_vec()));
    let q: Vec<_> = (0..3)
        .map(|_| t.pop(0).expect("ok").expect("value"))
        .collect();
    assert_eq!(q, vec![k(2).to_vec(), k(3).to_vec(), k(4).to_vec()]);
    // Stack: newest first: 4, 3, 2.
    assert_eq!(t.peek(1).expect("ok"), Some(k(4).to_vec()));
    let s: Vec<_> = (0..3)
        .map(|_| t.pop(1).expect("ok").expect("value"))
        .collect();
    assert_eq!(s, vec![k(4).to_vec(), k(3).to_vec(), k(2).to_vec()]);
    assert_eq!(t.pop(1).expect("ok"), None);
    assert!(MapTable::from_specs(
        &[MapSpec::new("q", map_type::QUEUE, 4, 4, 3)],
        MapOptions::default()
    )
    .is_err());
}

fn lpm_key(len: u32, ip: [u8; 4]) -> Vec<u8> {
    let mut key = len.to_le_bytes().to_vec();
    key.extend_from_slice(&ip);
    key
}

#[test]
fn lpm_longest_prefix_match() {
    assert!(matches!(
        MapTable::from_specs(
            &[MapSpec::new("lpm", map_type::LPM_TRIE, 8, 4, 16)],
            MapOptions::default()
        ),
        Err(MapError::BadDefinition { .. })
    ));
    let t = table(&[
        MapSpec::new("lpm", map_type::LPM_TRIE, 8, 4, 16).with_flags(map_flags::NO_PREALLOC)
    ]);
    t.update(0, &lpm_key(8, [10, 0, 0, 0]), &k(1), 0)
        .expect("/8");
    t.update(0, &lpm_key(16, [10, 1, 0, 0]), &k(2), 0)
        .expect("/16");
    t.update(0, &lpm_key(24, [10, 1, 2, 99]), &k(3), 0)
        .expect("/24, host bits ignored");
    t.update(0, &lpm_key(0, [0, 0, 0, 0]), &k(4), 0)
        .expect("/0");
    t.update(0, &lpm_key(31, [192, 168, 0, 1]), &k(5), 0)
        .expect("/31");
    let find = |ip: [u8; 4]| t.lookup(0, &lpm_key(32, ip)).expect("ok");
    assert_eq!(find([10, 1, 2, 3]), Some(k(3).to_vec()));
    assert_eq!(find([10, 1, 9, 9]), Some(k(2).to_vec()));
    assert_eq!(find([10, 9, 9, 9]), Some(k(1).to_vec()));
    assert_eq!(find([11, 0, 0, 0]), Some(k(4).to_vec()));
    assert_eq!(find([192, 168, 0, 0]), Some(k(5).to_vec()));
    assert_eq!(find([192, 168, 0, 2]), Some(k(4).to_vec()));
    // A shorter lookup prefix limits the match.
    assert_eq!(
        t.lookup(0, &lpm_key(12, [10, 1, 2, 3])).expect("ok"),
        Some(k(1).to_vec())
    );
    assert_eq!(
        errno(t.update(0, &lpm_key(8, [10, 0, 0, 0]), &k(9), update_flags::NOEXIST)),
        Errno::Exists
    );
    assert_eq!(
        errno(t.update(0, &lpm_key(33, [10, 0, 0, 0]), &k(9), 0)),
        Errno::Invalid
    );
    t.delete(0, &lpm_key(16, [10, 1, 0, 0]))
        .expect("delete /16");
    assert_eq!(find([10, 1, 9, 9]), Some(k(1).to_vec()));
    assert_eq!(
        errno(t.delete(0, &lpm_key(16, [10, 1, 0, 0]))),
        Errno::NoEntry
    );
    assert_eq!(t.keys(0).expect("keys").len(), 4);
    // Pointers returned to programs lie in the slab region.
    let map = t.get(0).expect("map");
    let addr = map.lookup(&lpm_key(32, [10, 1, 2, 3]), 0).expect("match");
    assert!(map.regions()[0].contains(addr, 4));
}

#[test]
fn maps_of_maps() {
    let inner = MapSpec::new("inner", map_type::ARRAY, 4, 8, 2);
    let t = table(&[
        MapSpec::new("outer", map_type::ARRAY_OF_MAPS, 4, 4, 2).with_inner(inner.clone()),
        MapSpec::new("houter", map_type::HASH_OF_MAPS, 4, 4, 2).with_inner(inner.clone()),
        inner,
        MapSpec::new("other", map_type::HASH, 4, 8, 2),
    ]);
    t.update(0, &k(1), &k(2), 0).expect("set inner");
    assert!(t.update(0, &k(0), &k(3), 0).is_err(), "template mismatch");
    assert!(t.update(0, &k(0), &k(9), 0).is_err(), "no such map");
    assert!(t.update(0, &k(0), &k(1), 0).is_err(), "no nesting");
    assert_eq!(t.get(0).expect("map").inner_map(&k(1)), Some(2));
    assert_eq!(t.get(0).expect("map").inner_map(&k(0)), None);
    t.update(1, &k(42), &k(2), 0).expect("set inner");
    assert_eq!(t.get(1).expect("map").inner_map(&k(42)), Some(2));
    t.update(1, &k(43), &k(2), 0).expect("second");
    assert_eq!(errno(t.update(1, &k(44), &k(2), 0)), Errno::TooBig);
    t.delete(1, &k(42)).expect("delete");
    assert_eq!(t.keys(1).expect("keys"), vec![k(43).to_vec()]);
}

#[test]
fn concurrent_hash_and_array_updates() {
    const PER: u32 = if cfg!(miri) { 20 } else { 1000 };
    let t = Arc::new(table(&[
        MapSpec::new("h", map_type::HASH, 4, 8, 4000),
        MapSpec::new("a", map_type::ARRAY, 4, 8, 4000),
    ]));
    let handles: Vec<_> = (0..4u32)
        .map(|p| {
            let t = Arc::clone(&t);
            thread::spawn(move || {
                for i in 0..PER {
                    let key = p * 1000 + i;
                    t.update(0, &k(key), &v8(u64::from(key) * 3), update_flags::NOEXIST)
                        .expect("insert");
                    t.update(1, &k(key), &v8(u64::from(key) * 5), 0)
                        .expect("array");
                    // Churn a shared key from every thread.
                    let _ = t.update(0, &k(9999), &v8(u64::from(p)), 0);
                    let _ = t.delete(0, &k(9999));
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("thread");
    }
    for key in (0..4).flat_map(|p| (0..PER).map(move |i| p * 1000 + i)) {
        assert_eq!(
            t.lookup(0, &k(key)).expect("ok"),
            Some(v8(u64::from(key) * 3).to_vec())
        );
        assert_eq!(
            t.lookup(1, &k(key)).expect("ok"),
            Some(v8(u64::from(key) * 5).to_vec())
        );
    }
    assert_eq!(t.lookup(0, &k(9999)).expect("ok"), None);
    assert_eq!(t.keys(0).expect("keys").len(), 4 * PER as usize);
}

#[test]
fn handles_are_validated() {
    let t = table(&[MapSpec::new("a", map_type::ARRAY, 4, 4, 1)]);
    let h = MapTable::handle(0);
    assert!(t.by_handle(h).is_some());
    assert!(t.by_handle(MapTable::handle(1)).is_none());
    assert!(t.by_handle(0).is_none());
    assert!(t.by_handle(h & 0xffff_ffff).is_none());
    assert_eq!(t.index_of("a"), Some(0));
    assert!(matches!(
        t.lookup(3, &k(0)),
        Err(MapError::NoSuchMap { index: 3 })
    ));
}
