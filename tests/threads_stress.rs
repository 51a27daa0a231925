//! One object's maps shared by programs running on 4 threads at once, on the interpreter, the
//! JIT, and both mixed: atomic adds counted exactly, hash updates / lookups / deletes, LRU
//! churn, per-CPU slots, ring buffer reserve/submit with a host consumer running concurrently
//! (every record consumed exactly once, contents intact), and host reads racing with program
//! atomics. Everything is checked after the threads join.
//!
//! The test works at the engine level, below the embedding API: one shared [`MapTable`], one
//! prepared program per engine shared by every thread (`Executable: Send + Sync`), one
//! [`ExecState`] per thread, and the two engines mixed on one table. `tests/module.rs` runs
//! an object the embedders' way (one `Instance`, a `Store` per thread).

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;

use apiary_jit::Jit;
use apiary_vm::asm::assemble;
use apiary_vm::linux::{self, LinuxOptions};
use apiary_vm::maps::{bind, map_type, update_flags, MapOptions, MapSpec, MapTable};
use apiary_vm::{ExecConfig, ExecState, Executable, Interpreter, LoadOptions, Program};

const THREADS: u32 = 4;
/// Runs per thread.
const RUNS: u32 = 3000;
const LRU_CAPACITY: u32 = 16;
/// Distinct LRU keys per thread (more than the map holds: inserts evict).
const LRU_KEYS: u32 = 50;

/// Map indices (`map_idx N` in the program).
mod m {
    pub const HASH: usize = 0;
    pub const LRU: usize = 1;
    pub const ARRAY: usize = 2;
    pub const PERCPU_ARRAY: usize = 3;
    pub const PERCPU_HASH: usize = 4;
    pub const RING: usize = 5;
}

/// Array slots: 0 = 64-bit atomic counter, 1 = 32-bit atomic counter, 2 = ring buffer
/// reservations that failed, 3 = ticket dispenser (`lock fetch add`).
const SHARED_KEY: u32 = 1;
const PERCPU_HASH_KEY: u32 = 7;
const OWN_KEY_BASE: u32 = 100;

/// `call 1` (lookup) of the u32 key `key` (an immediate) in map `map`; jumps to `fail` when
/// absent; leaves the value pointer in r0.
fn lookup(map: usize, key: u32) -> String {
    format!(
        "stw [%r10-4], {key}
        lddw %r1, map_idx {map}
        mov %r2, %r10
        add %r2, -4
        call 1
        jeq %r0, 0, fail
"
    )
}

/// The program: r1 points at `[tid: u32, iter: u32]`; returns 0, or -1 at the first failed
/// check.
fn program_text() -> String {
    let mut t = String::from(
        "mov %r6, %r1
        ldxw %r7, [%r6+0]
        ldxw %r8, [%r6+4]
",
    );
    // Array: 64-bit and 32-bit atomic adds.
    t += &lookup(m::ARRAY, 0);
    t += "mov %r1, 1\nlock add [%r0], %r1\n";
    t += &lookup(m::ARRAY, 1);
    t += "mov %r1, 1\nlock add32 [%r0], %r1\n";
    // Hash: atomic add on the shared key.
    t += &lookup(m::HASH, SHARED_KEY);
    t += "mov %r1, 1\nlock add [%r0], %r1\n";
    // Hash: this thread's own key: insert (value = iter), look up, delete, look up again.
    t += &format!(
        "mov %r1, %r7
        add %r1, {OWN_KEY_BASE}
        stxw [%r10-4], %r1
        stxdw [%r10-16], %r8
        lddw %r1, map_idx {h}
        mov %r2, %r10
        add %r2, -4
        mov %r3, %r10
        add %r3, -16
        mov %r4, {noexist}
        call 2
        jne %r0, 0, fail
        lddw %r1, map_idx {h}
        mov %r2, %r10
        add %r2, -4
        call 1
        jeq %r0, 0, fail
        ldxdw %r1, [%r0]
        jne %r1, %r8, fail
        lddw %r1, map_idx {h}
        mov %r2, %r10
        add %r2, -4
        call 3
        jne %r0, 0, fail
        lddw %r1, map_idx {h}
        mov %r2, %r10
        add %r2, -4
        call 1
        jne %r0, 0, fail
",
        h = m::HASH,
        noexist = update_flags::NOEXIST,
    );
    // LRU: key = tid * 1000 + iter % LRU_KEYS, value = key * 3; then a lookup (which may miss:
    // other threads evict, and a hit may already show a reused slot, as on Linux).
    t += &format!(
        "mov %r1, %r8
        mod %r1, {LRU_KEYS}
        mov %r2, %r7
        mul %r2, 1000
        add %r1, %r2
        stxw [%r10-4], %r1
        mul %r1, 3
        stxdw [%r10-16], %r1
        lddw %r1, map_idx {lru}
        mov %r2, %r10
        add %r2, -4
        mov %r3, %r10
        add %r3, -16
        mov %r4, 0
        call 2
        jne %r0, 0, fail
        lddw %r1, map_idx {lru}
        mov %r2, %r10
        add %r2, -4
        call 1
        jeq %r0, 0, lru_miss
        ldxdw %r1, [%r0]
        lru_miss:
",
        lru = m::LRU,
    );
    // Per-CPU array and hash: plain (non-atomic) increments of this slot's value.
    t += &lookup(m::PERCPU_ARRAY, 0);
    t += "ldxdw %r1, [%r0]\nadd %r1, 1\nstxdw [%r0], %r1\n";
    t += &lookup(m::PERCPU_HASH, PERCPU_HASH_KEY);
    t += "ldxdw %r1, [%r0]\nadd %r1, 1\nstxdw [%r0], %r1\n";
    // A ticket, then a ring buffer record [tid, iter, ticket]; a full ring is counted.
    t += &lookup(m::ARRAY, 3);
    t += &format!(
        "mov %r1, 1
        lock fetch add [%r0], %r1
        stxdw [%r10-24], %r1
        lddw %r1, map_idx {ring}
        mov %r2, 16
        mov %r3, 0
        call 131
        jeq %r0, 0, ring_full
        stxw [%r0+0], %r7
        stxw [%r0+4], %r8
        ldxdw %r1, [%r10-24]
        stxdw [%r0+8], %r1
        mov %r1, %r0
        mov %r2, 0
        call 132
        ja done
        ring_full:
",
        ring = m::RING,
    );
    t += &lookup(m::ARRAY, 2);
    t += "mov %r1, 1\nlock add [%r0], %r1\n";
    t += "done:\nmov %r0, 0\nexit\nfail:\nmov %r0, -1\nexit\n";
    t
}

#[derive(Clone, Copy, Debug)]
enum Engine {
    Interp,
    Jit,
}

fn table() -> Arc<MapTable> {
    let specs = [
        MapSpec::new("hash", map_type::HASH, 4, 8, 64),
        MapSpec::new("lru", map_type::LRU_HASH, 4, 8, LRU_CAPACITY),
        MapSpec::new("array", map_type::ARRAY, 4, 8, 4),
        MapSpec::new("pc_array", map_type::PERCPU_ARRAY, 4, 8, 1),
        MapSpec::new("pc_hash", map_type::PERCPU_HASH, 4, 8, 4),
        MapSpec::new("ring", map_type::RINGBUF, 0, 0, 1 << 16),
    ];
    let options = MapOptions {
        nr_slots: THREADS,
        perf_ring_bytes: 4096,
        ..MapOptions::default()
    };
    let table = MapTable::from_specs(&specs, options).expect("maps");
    table
        .update(
            m::HASH,
            &SHARED_KEY.to_le_bytes(),
            &[0; 8],
            update_flags::ANY,
        )
        .expect("shared key");
    table
        .update(
            m::PERCPU_HASH,
            &PERCPU_HASH_KEY.to_le_bytes(),
            &[0; 8],
            update_flags::ANY,
        )
        .expect("per-cpu key");
    Arc::new(table)
}

fn u64_at(table: &MapTable, map: usize, key: u32) -> u64 {
    let v = table
        .lookup(map, &key.to_le_bytes())
        .expect("lookup")
        .expect("present");
    u64::from_le_bytes(v[..8].try_into().expect("8 bytes"))
}

/// Runs the scenario with thread `i` on `engines[i % len]`, then checks every map.
fn stress(engines: &[Engine]) {
    let table = table();
    let insns = assemble(&program_text()).expect("assembles");
    let program = Program::new(insns, &LoadOptions::all()).expect("loads");
    let bound = Arc::new(bind(&program, &table).expect("binds").program);
    let env = linux::environment(
        &table,
        &LinuxOptions::default(),
        ExecConfig { budget: None },
    );
    let interp: Arc<dyn Executable> =
        Arc::new(Interpreter::new(Arc::clone(&bound), &env).expect("prepares"));
    let jit: Arc<dyn Executable> = Arc::new(Jit::new(bound, &env).expect("compiles"));

    let done = Arc::new(AtomicBool::new(false));
    let ring = {
        let table = Arc::clone(&table);
        let done = Arc::clone(&done);
        // The host consumer, racing with the producers; it also reads counters programs are
        // incrementing (host copies racing with program atomics) and checks they never go back.
        thread::spawn(move || {
            let rb = table.ringbuf(m::RING).expect("ring");
            let mut records = Vec::new();
            let (mut last_array, mut last_hash) = (0, 0);
            while !done.load(Ordering::Acquire) {
                rb.consume(|r| records.push(r.to_vec()));
                let a = u64_at(&table, m::ARRAY, 0);
                let h = u64_at(&table, m::HASH, SHARED_KEY);
                assert!(a >= last_array && h >= last_hash, "a counter went back");
                (last_array, last_hash) = (a, h);
                thread::yield_now();
            }
            rb.consume(|r| records.push(r.to_vec()));
            records
        })
    };
    let workers: Vec<_> = (0..THREADS)
        .map(|tid| {
            let exe = match engines[tid as usize % engines.len()] {
                Engine::Interp => Arc::clone(&interp),
                Engine::Jit => Arc::clone(&jit),
            };
            thread::spawn(move || {
                let mut state = ExecState::with_slot(tid);
                for iter in 0..RUNS {
                    let mut input = [tid.to_le_bytes(), iter.to_le_bytes()].concat();
                    let out = exe.run(&mut state, &mut input);
                    assert_eq!(out.result, Ok(0), "thread {tid} run {iter}");
                }
            })
        })
        .collect();
    for w in workers {
        w.join().expect("worker");
    }
    done.store(true, Ordering::Release);
    let records = ring.join().expect("consumer");

    let total = u64::from(THREADS * RUNS);
    // Atomic counters: exact.
    assert_eq!(u64_at(&table, m::ARRAY, 0), total, "64-bit atomic adds");
    assert_eq!(u64_at(&table, m::ARRAY, 1), total, "32-bit atomic adds");
    assert_eq!(
        u64_at(&table, m::HASH, SHARED_KEY),
        total,
        "hash atomic adds"
    );
    assert_eq!(u64_at(&table, m::ARRAY, 3), total, "tickets");
    // The hash holds only the shared key again (every own key was deleted).
    assert_eq!(
        table.keys(m::HASH).expect("keys"),
        vec![SHARED_KEY.to_le_bytes().to_vec()]
    );
    // LRU: never over capacity, and every entry holds its key's value.
    let lru_keys = table.keys(m::LRU).expect("keys");
    assert!(!lru_keys.is_empty() && lru_keys.len() <= LRU_CAPACITY as usize);
    for k in lru_keys {
        let key = u32::from_le_bytes(k[..4].try_into().expect("4 bytes"));
        assert!(key % 1000 < LRU_KEYS && key / 1000 < THREADS, "key {key}");
        assert_eq!(u64_at(&table, m::LRU, key), u64::from(key) * 3, "lru {key}");
    }
    // Per-CPU: each thread's slot counted exactly its own runs.
    for (map, key) in [(m::PERCPU_ARRAY, 0), (m::PERCPU_HASH, PERCPU_HASH_KEY)] {
        let slots = table
            .lookup_per_slot(map, &key.to_le_bytes())
            .expect("lookup")
            .expect("present");
        let want = vec![u64::from(RUNS).to_le_bytes().to_vec(); THREADS as usize];
        assert_eq!(slots, want, "per-cpu map {map}");
    }
    // Ring buffer: one record per successful reservation, each consumed once, intact.
    let rb = table.ringbuf(m::RING).expect("ring");
    assert_eq!(rb.corrupted(), 0);
    assert!(
        rb.drain().is_empty(),
        "records left after the final consume"
    );
    let full = u64_at(&table, m::ARRAY, 2);
    assert_eq!(records.len() as u64 + full, total, "records + full ring");
    assert!(!records.is_empty());
    eprintln!(
        "{engines:?}: {} records consumed, {full} reservations found the ring full",
        records.len()
    );
    let mut runs = HashSet::new();
    let mut tickets = HashSet::new();
    for r in &records {
        assert_eq!(r.len(), 16);
        let tid = u32::from_le_bytes(r[0..4].try_into().expect("4"));
        let iter = u32::from_le_bytes(r[4..8].try_into().expect("4"));
        let ticket = u64::from_le_bytes(r[8..16].try_into().expect("8"));
        assert!(tid < THREADS && iter < RUNS, "record {r:?}");
        assert!(ticket < total, "ticket {ticket}");
        assert!(runs.insert((tid, iter)), "record of run {tid}/{iter} twice");
        assert!(tickets.insert(ticket), "ticket {ticket} twice");
    }
    // Records of one thread arrive in its run order (one producer lock, FIFO consumption).
    for tid in 0..THREADS {
        let iters: Vec<u32> = records
            .iter()
            .filter(|r| r[0..4] == tid.to_le_bytes())
            .map(|r| u32::from_le_bytes(r[4..8].try_into().expect("4")))
            .collect();
        assert!(iters.windows(2).all(|w| w[0] < w[1]), "thread {tid} order");
    }
}

#[test]
fn four_threads_on_the_interpreter() {
    stress(&[Engine::Interp]);
}

#[test]
fn four_threads_on_the_jit() {
    stress(&[Engine::Jit]);
}

#[test]
fn four_threads_on_both_engines_at_once() {
    stress(&[Engine::Interp, Engine::Jit]);
}
