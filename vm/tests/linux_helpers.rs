//! Programs calling the Linux helpers on the interpreter: map loops, ring buffers consumed by
//! the host, tail calls (empty-slot fall-through and the 33 limit), probe_read bounds,
//! trace_printk / snprintf output, atomics on map values from several threads, per-CPU slots,
//! maps of maps, binding errors.

use std::sync::Arc;
use std::thread;

use apiary_vm::asm::assemble;
use apiary_vm::linux;
use apiary_vm::maps::{bind, map_flags, map_type, BindError, MapSpec, MapTable};
use apiary_vm::memory::{RegionTable, MAX_TAIL_CALLS};
use apiary_vm::{
    Access, ExecState, Executable, Fault, HelperContext, HelperError, Interpreter, LoadOptions,
    Program, ProgramSet, Region,
};

mod common {
    pub mod linux;
}

use common::linux::{call_bpf_loop, setup, Setup, LOOP_SUM};

impl Setup {
    fn program(&self, text: &str) -> Arc<Interpreter> {
        let insns = assemble(text).expect("assembles");
        let program = Program::new(insns, &LoadOptions::all()).expect("loads");
        let bound = bind(&program, &self.table).expect("binds");
        let env = self.env(Some(10_000_000));
        Arc::new(Interpreter::new(Arc::new(bound.program), &env).expect("prepares"))
    }
}

fn ok(out: apiary_vm::Outcome) -> u64 {
    out.result.expect("runs")
}

/// Assembly storing `bytes` (NUL-padded to 8) at `[r10 - off]` upwards.
fn stack_bytes(bytes: &[u8], off: i32) -> String {
    let mut text = String::new();
    for (i, chunk) in bytes.chunks(8).enumerate() {
        let mut word = [0u8; 8];
        word[..chunk.len()].copy_from_slice(chunk);
        let at = -off + 8 * i as i32;
        text += &format!(
            "lddw %r1, {:#x}\nstxdw [%r10{at:+}], %r1\n",
            u64::from_le_bytes(word)
        );
    }
    if bytes.len() & 7 == 0 {
        text += &format!("stdw [%r10{:+}], 0\n", -off + bytes.len() as i32);
    }
    text
}

const FAIL: &str = "fail:\nmov %r0, -1\nexit\n";

#[test]
fn map_lookup_update_delete_loop() {
    for kind in [map_type::HASH, map_type::LRU_HASH] {
        let s = setup(&[MapSpec::new("squares", kind, 4, 8, 16)]);
        let prog = s.program(&format!(
            "mov %r6, 0
            ins:
            stxw [%r10-4], %r6
            mov %r7, %r6
            mul %r7, %r6
            stxdw [%r10-16], %r7
            lddw %r1, map_idx 0
            mov %r2, %r10
            add %r2, -4
            mov %r3, %r10
            add %r3, -16
            mov %r4, 1
            call 2
            jne %r0, 0, fail
            add %r6, 1
            jlt %r6, 10, ins
            mov %r6, 0
            mov %r8, 0
            sum:
            stxw [%r10-4], %r6
            lddw %r1, map_idx 0
            mov %r2, %r10
            add %r2, -4
            call 1
            jeq %r0, 0, fail
            ldxdw %r1, [%r0]
            add %r8, %r1
            add %r6, 1
            jlt %r6, 10, sum
            mov %r6, 0
            del:
            stxw [%r10-4], %r6
            lddw %r1, map_idx 0
            mov %r2, %r10
            add %r2, -4
            call 3
            jne %r0, 0, fail
            add %r6, 2
            jlt %r6, 10, del
            stw [%r10-4], 0
            lddw %r1, map_idx 0
            mov %r2, %r10
            add %r2, -4
            call 3
            jne %r0, -2, fail
            stw [%r10-4], 0
            lddw %r1, map_idx 0
            mov %r2, %r10
            add %r2, -4
            call 1
            jne %r0, 0, fail
            stw [%r10-4], 1
            lddw %r1, map_idx 0
            mov %r2, %r10
            add %r2, -4
            mov %r3, %r10
            add %r3, -16
            mov %r4, 1
            call 2
            jne %r0, -17, fail
            mov %r0, %r8
            exit
            {FAIL}"
        ));
        assert_eq!(ok(prog.run_once(&mut [])), 285);
        let mut keys: Vec<u32> = s
            .table
            .keys(0)
            .expect("keys")
            .iter()
            .map(|k| u32::from_le_bytes(k[..4].try_into().expect("4")))
            .collect();
        keys.sort_unstable();
        assert_eq!(keys, vec![1, 3, 5, 7, 9]);
        assert_eq!(
            s.table.lookup(0, &7u32.to_le_bytes()).expect("ok"),
            Some(49u64.to_le_bytes().to_vec())
        );
        // A second run fails its NOEXIST inserts of the odd keys.
        assert_eq!(ok(prog.run_once(&mut [])), u64::MAX);
    }
}

#[test]
fn array_lookup_of_bad_index_is_null_and_bad_handle_faults() {
    let s = setup(&[MapSpec::new("a", map_type::ARRAY, 4, 8, 2)]);
    let prog = s.program(
        "stw [%r10-4], 2
        lddw %r1, map_idx 0
        mov %r2, %r10
        add %r2, -4
        call 1
        exit",
    );
    assert_eq!(ok(prog.run_once(&mut [])), 0);
    let prog = s.program(
        "stw [%r10-4], 0
        mov %r1, 12345
        mov %r2, %r10
        add %r2, -4
        call 1
        exit",
    );
    assert!(matches!(
        prog.run_once(&mut []).result,
        Err(Fault::Helper {
            id: 1,
            error: HelperError::InvalidArgument {
                index: 1,
                value: 12345
            },
            ..
        })
    ));
    // A key pointer outside every region faults.
    let prog = s.program(
        "lddw %r1, map_idx 0
        mov %r2, 8
        call 1
        exit",
    );
    assert!(matches!(
        prog.run_once(&mut []).result,
        Err(Fault::Helper {
            error: HelperError::OutOfBounds {
                addr: 8,
                len: 4,
                access: Access::Read
            },
            ..
        })
    ));
}

#[test]
fn ringbuf_reserve_submit_consumed_by_host() {
    let s = setup(&[MapSpec::new("events", map_type::RINGBUF, 0, 0, 4096)]);
    let prog = s.program(&format!(
        "lddw %r1, map_idx 0
        mov %r2, 16
        mov %r3, 0
        call 131
        jeq %r0, 0, fail
        mov %r6, %r0
        lddw %r1, 0x1122334455667788
        stxdw [%r6], %r1
        stdw [%r6+8], 42
        mov %r1, %r6
        mov %r2, 0
        call 132
        lddw %r1, map_idx 0
        mov %r2, 4
        mov %r3, 0
        call 131
        jeq %r0, 0, fail
        stw [%r0], 99
        mov %r1, %r0
        mov %r2, 0
        call 133
        stdw [%r10-8], 7
        lddw %r1, map_idx 0
        mov %r2, %r10
        add %r2, -8
        mov %r3, 8
        mov %r4, 0
        call 130
        jne %r0, 0, fail
        lddw %r1, map_idx 0
        mov %r2, 0
        call 134
        exit
        {FAIL}"
    ));
    // 24 (16-byte sample) + 16 (discarded 4-byte sample) + 16 (8-byte output).
    assert_eq!(ok(prog.run_once(&mut [])), 56);
    assert_eq!(ok(prog.run_once(&mut [])), 112);
    let records = s.table.ringbuf(0).expect("ring").drain();
    let mut first = 0x1122_3344_5566_7788u64.to_le_bytes().to_vec();
    first.extend_from_slice(&42u64.to_le_bytes());
    let second = 7u64.to_le_bytes().to_vec();
    assert_eq!(records, vec![first.clone(), second.clone(), first, second]);

    // Submitting something that is not a reserved sample faults.
    let bad = s.program(
        "mov %r1, %r10
        add %r1, -8
        mov %r2, 0
        call 132
        exit",
    );
    assert!(matches!(
        bad.run_once(&mut []).result,
        Err(Fault::Helper {
            id: 132,
            error: HelperError::InvalidArgument { .. },
            ..
        })
    ));
}

#[test]
fn ringbuf_from_several_threads() {
    // Fewer runs under Miri (`.ci/miri.sh`), which interprets the interpreter.
    const RUNS: u64 = if cfg!(miri) { 8 } else { 500 };
    let s = setup(&[MapSpec::new("events", map_type::RINGBUF, 0, 0, 1 << 16)]);
    let prog = s.program(&format!(
        "mov %r6, %r1
        ldxdw %r7, [%r6]
        lddw %r1, map_idx 0
        mov %r2, 8
        mov %r3, 0
        call 131
        jeq %r0, 0, fail
        stxdw [%r0], %r7
        mov %r1, %r0
        mov %r2, 0
        call 132
        mov %r0, 0
        exit
        {FAIL}"
    ));
    let handles: Vec<_> = (0..4u64)
        .map(|t| {
            let prog = Arc::clone(&prog);
            thread::spawn(move || {
                let mut state = ExecState::new();
                for i in 0..RUNS {
                    let mut input = (t << 32 | i).to_le_bytes();
                    assert_eq!(prog.run(&mut state, &mut input).result, Ok(0));
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("thread");
    }
    let records = s.table.ringbuf(0).expect("ring").drain();
    assert_eq!(records.len() as u64, 4 * RUNS);
    let mut next = [0u64; 4];
    for r in records {
        let v = u64::from_le_bytes(r[..8].try_into().expect("8"));
        let t = (v >> 32) as usize;
        assert_eq!(v & 0xffff_ffff, next[t]);
        next[t] += 1;
    }
}

fn tail_call_setup() -> (Setup, ProgramSet) {
    let s = setup(&[
        MapSpec::new("progs", map_type::PROG_ARRAY, 4, 4, 4),
        MapSpec::new("count", map_type::ARRAY, 4, 8, 1),
    ]);
    let dispatcher = s.program(
        "mov %r6, %r1
        mov %r1, %r6
        lddw %r2, map_idx 0
        mov %r3, 1
        call 12
        exit",
    );
    let target = s.program("ldxb %r0, [%r1]\nexit");
    let looping = s.program(&format!(
        "mov %r6, %r1
        stw [%r10-4], 0
        lddw %r1, map_idx 1
        mov %r2, %r10
        add %r2, -4
        call 1
        jeq %r0, 0, fail
        mov %r1, 1
        lock add [%r0], %r1
        mov %r1, %r6
        lddw %r2, map_idx 0
        mov %r3, 2
        call 12
        mov %r7, %r0
        stw [%r10-4], 0
        lddw %r1, map_idx 1
        mov %r2, %r10
        add %r2, -4
        call 1
        jeq %r0, 0, fail
        ldxdw %r0, [%r0]
        lsh %r0, 32
        mov32 %r7, %r7
        or %r0, %r7
        exit
        {FAIL}"
    ));
    let set = ProgramSet::new(vec![dispatcher, target, looping]);
    (s, set)
}

#[test]
fn tail_call_empty_slot_falls_through() {
    let (s, set) = tail_call_setup();
    let mut state = ExecState::new();
    let out = set.run(0, &mut state, &mut [7]).expect("entry");
    assert_eq!(
        out.result,
        Ok((-2i64) as u64),
        "empty slot: -ENOENT, program continues"
    );
    // Fill slot 1 with program 1: the dispatcher's run ends in the tail call, the target sees the
    // same input, and instruction counts add up (5 + 2).
    s.table
        .update(0, &1u32.to_le_bytes(), &1u32.to_le_bytes(), 0)
        .expect("set");
    let out = set.run(0, &mut state, &mut [7]).expect("entry");
    assert_eq!(out.result, Ok(7));
    assert_eq!(out.instructions, Some(7));
    // A slot naming a program outside the set falls through too.
    s.table
        .update(0, &1u32.to_le_bytes(), &9u32.to_le_bytes(), 0)
        .expect("set");
    let out = set.run(0, &mut state, &mut [7]).expect("entry");
    assert_eq!(out.result, Ok((-2i64) as u64));
    // Outside a ProgramSet (a plain run), tail calls fail and the program continues.
    s.table
        .update(0, &1u32.to_le_bytes(), &1u32.to_le_bytes(), 0)
        .expect("set");
    let out = set.get(0).expect("program").run(&mut state, &mut [7]);
    assert_eq!(out.result, Ok((-2i64) as u64));
    assert!(set.run(5, &mut state, &mut []).is_err());
}

#[test]
fn tail_call_chain_stops_after_33() {
    let (s, set) = tail_call_setup();
    s.table
        .update(0, &2u32.to_le_bytes(), &2u32.to_le_bytes(), 0)
        .expect("set");
    let mut state = ExecState::new();
    let out = set.run(2, &mut state, &mut []).expect("entry");
    let r0 = out.result.expect("runs");
    // The entry run plus 33 tail calls; the 34th attempt fails with -E2BIG and falls through.
    assert_eq!(r0 >> 32, u64::from(MAX_TAIL_CALLS) + 1);
    assert_eq!(r0 as u32 as i32, -7);
    assert_eq!(
        s.table.lookup(1, &0u32.to_le_bytes()).expect("ok"),
        Some(34u64.to_le_bytes().to_vec())
    );
    // 13 instructions up to each tail call, 12 more after the failing one.
    assert_eq!(out.instructions, Some(34 * 13 + 12));
    // The chain state is reset for the next run.
    let out = set.run(2, &mut state, &mut []).expect("entry");
    assert_eq!(out.result.expect("runs") >> 32, 68);
}

#[test]
fn tail_call_without_control_cells_is_a_clear_error() {
    let s = setup(&[MapSpec::new("progs", map_type::PROG_ARRAY, 4, 4, 4)]);
    let helpers = linux::helpers(&s.table, &s.options);
    let mut stack = [0u8; 64];
    let regions = RegionTable::new(Region::writable(&mut stack), Region::writable(&mut []), &[]);
    let mut ctx = HelperContext::new(&regions);
    let tail_call = &helpers.get(12).expect("helper").func;
    assert_eq!(
        tail_call(&mut ctx, [0, MapTable::handle(0), 0, 0, 0]),
        Err(HelperError::NoRunControl { id: 12 })
    );
}

#[test]
fn probe_read_bounds() {
    let s = setup(&[]);
    let prog = s.program(&format!(
        "mov %r6, %r1
        mov %r1, %r10
        add %r1, -16
        mov %r2, 8
        mov %r3, %r6
        call 113
        jne %r0, 0, fail
        ldxdw %r7, [%r10-16]
        mov %r1, %r10
        add %r1, -16
        mov %r2, 8
        mov %r3, 16
        call 113
        jne %r0, -14, fail
        ldxdw %r9, [%r10-16]
        jne %r9, 0, fail
        stdw [%r10-16], 1
        mov %r1, %r10
        add %r1, -16
        mov %r2, 9
        mov %r3, %r6
        call 4
        jne %r0, -14, fail
        ldxdw %r9, [%r10-16]
        jne %r9, 0, fail
        mov %r0, %r7
        exit
        {FAIL}"
    ));
    let mut input = 0xdead_beefu64.to_le_bytes();
    assert_eq!(ok(prog.run_once(&mut input)), 0xdead_beef);
    // A bad destination is a fault, not an errno.
    let prog = s.program(
        "mov %r3, %r1
        mov %r1, 64
        mov %r2, 4
        call 112
        exit",
    );
    assert!(matches!(
        prog.run_once(&mut [0; 8]).result,
        Err(Fault::Helper {
            id: 112,
            error: HelperError::OutOfBounds {
                addr: 64,
                len: 4,
                access: Access::Write
            },
            ..
        })
    ));
}

#[test]
fn probe_read_str_lengths() {
    let s = setup(&[]);
    // Returns (length with NUL) << 32 | first 8 bytes copied, for a given size in input[0].
    let prog = s.program(
        "mov %r6, %r1
        ldxb %r2, [%r6]
        stdw [%r10-16], -1
        stdw [%r10-8], -1
        mov %r1, %r10
        add %r1, -16
        mov %r3, %r6
        add %r3, 1
        call 115
        lsh %r0, 32
        ldxw %r1, [%r10-16]
        or %r0, %r1
        exit",
    );
    let run = |size: u8| {
        let mut input = [size, b'h', b'i', b'!', 0, b'x', b'x', b'x'];
        ok(prog.run_once(&mut input))
    };
    assert_eq!(run(16), 4 << 32 | u64::from(u32::from_le_bytes(*b"hi!\0")));
    assert_eq!(
        run(3),
        3 << 32 | u64::from(u32::from_le_bytes([b'h', b'i', 0, 0xff]))
    );
    assert_eq!(
        run(1),
        1 << 32 | u64::from(u32::from_le_bytes([0, 0xff, 0xff, 0xff]))
    );
    assert_eq!(run(0), 0xffff_ffff);
}

#[test]
fn trace_printk_output() {
    let s = setup(&[]);
    // bpf_trace_printk(fmt, len, -5, 0x1234567890, "bees").
    let printk = |fmt: &[u8]| {
        s.program(&format!(
            "{}{}
            mov %r1, %r10
            add %r1, -64
            mov %r2, {}
            mov %r3, -5
            lddw %r4, 0x1234567890
            mov %r5, %r10
            add %r5, -24
            call 6
            exit",
            stack_bytes(fmt, 64),
            stack_bytes(b"bees", 24),
            fmt.len() + 1,
        ))
    };
    let prog = printk(b"n=%d u=%u x=%llx s=%s\n");
    let r0 = ok(prog.run_once(&mut []));
    // %u of -5 without `l` is 32-bit; %llx only has three arguments in trace_printk: the fourth
    // conversion has none, so the call fails with -EINVAL.
    assert_eq!(r0 as i64, -22);
    assert!(s.trace.lock().expect("lock").is_empty());

    let prog = printk(b"n=%d x=%llx s=%s\n");
    let expected = "n=-5 x=1234567890 s=bees\n";
    assert_eq!(ok(prog.run_once(&mut [])), expected.len() as u64);
    assert_eq!(*s.trace.lock().expect("lock"), vec![expected.to_owned()]);
}

#[test]
fn snprintf_and_strncmp() {
    let s = setup(&[]);
    let prog = s.program(&format!(
        "mov %r6, %r1
        {}
        stdw [%r10-96], 42
        stdw [%r10-88], 255
        mov %r1, %r6
        mov %r2, 12
        mov %r3, %r10
        add %r3, -64
        mov %r4, %r10
        add %r4, -96
        mov %r5, 16
        call 165
        exit",
        stack_bytes(b"v=%05d h=%#x", 64),
    ));
    let mut out = [0xaau8; 16];
    // Full string "v=00042 h=0xff" is 14 bytes: returns 15, writes 11 bytes + NUL.
    assert_eq!(ok(prog.run_once(&mut out)), 15);
    assert_eq!(&out[..12], b"v=00042 h=0\0");
    assert_eq!(out[12], 0xaa);

    // bpf_strncmp("beez", n, "bees"): the strings differ only at index 3.
    for (n, want) in [(4, 1), (3, 0)] {
        let prog = s.program(&format!(
            "{}{}
            mov %r1, %r10
            add %r1, -32
            mov %r2, {n}
            mov %r3, %r10
            add %r3, -16
            call 182
            exit",
            stack_bytes(b"beez", 32),
            stack_bytes(b"bees", 16),
        ));
        assert_eq!(ok(prog.run_once(&mut [])), want, "n = {n}");
    }
}

#[test]
#[cfg_attr(
    miri,
    ignore = "reads /proc and clocks, which Miri's isolation forbids"
)]
fn identity_and_time_helpers() {
    let s = setup(&[]);
    let pid = s.program("call 14\nexit");
    assert_eq!(
        ok(pid.run_once(&mut [])) >> 32,
        u64::from(std::process::id())
    );
    let cpu = s.program("call 8\nexit");
    assert_eq!(ok(cpu.run(&mut ExecState::with_slot(3), &mut [])), 3);
    let comm = s.program("mov %r2, 16\ncall 16\nexit");
    let mut buf = [0xffu8; 16];
    assert_eq!(ok(comm.run_once(&mut buf)), 0);
    let name = std::fs::read_to_string("/proc/self/comm").unwrap_or_default();
    let name = name.trim_end();
    assert_eq!(
        &buf[..name.len().min(15)],
        &name.as_bytes()[..name.len().min(15)]
    );
    assert!(buf[name.len().min(15)..].iter().all(|&b| b == 0));
    let time = s.program(
        "call 5
        mov %r6, %r0
        call 5
        sub %r0, %r6
        mov %r7, %r0
        call 125
        jeq %r0, 0, zero
        call 160
        jeq %r0, 0, zero
        mov %r0, %r7
        exit
        zero:
        mov %r0, -1
        exit",
    );
    assert!((ok(time.run_once(&mut [])) as i64) >= 0);
    let random = s.program("call 7\nexit");
    let values: std::collections::HashSet<u64> =
        (0..16).map(|_| ok(random.run_once(&mut []))).collect();
    assert!(values.len() > 1 && values.iter().all(|v| *v <= u64::from(u32::MAX)));
    let ids = s.program("call 15\nexit");
    let _ = ok(ids.run_once(&mut []));
}

#[test]
fn atomics_on_map_values_from_several_threads() {
    // Fewer runs under Miri (`.ci/miri.sh`), which interprets the interpreter.
    const RUNS: u64 = if cfg!(miri) { 3 } else { 250 };
    const LOOPS: u64 = if cfg!(miri) { 10 } else { 100 };
    let s = setup(&[
        MapSpec::new("counter", map_type::ARRAY, 4, 8, 1),
        MapSpec::new("hcounter", map_type::HASH, 4, 8, 4),
    ]);
    s.table
        .update(1, &5u32.to_le_bytes(), &0u64.to_le_bytes(), 0)
        .expect("insert");
    let prog = s.program(&format!(
        "mov %r6, 0
        again:
        stw [%r10-4], 0
        lddw %r1, map_idx 0
        mov %r2, %r10
        add %r2, -4
        call 1
        jeq %r0, 0, fail
        mov %r1, 1
        lock add [%r0], %r1
        stw [%r10-4], 5
        lddw %r1, map_idx 1
        mov %r2, %r10
        add %r2, -4
        call 1
        jeq %r0, 0, fail
        mov %r1, 2
        lock fetch add [%r0], %r1
        add %r6, 1
        jlt %r6, {LOOPS}, again
        mov %r0, 0
        exit
        {FAIL}"
    ));
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let prog = Arc::clone(&prog);
            thread::spawn(move || {
                let mut state = ExecState::new();
                for _ in 0..RUNS {
                    assert_eq!(prog.run(&mut state, &mut []).result, Ok(0));
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("thread");
    }
    assert_eq!(
        s.table.lookup(0, &0u32.to_le_bytes()).expect("ok"),
        Some((4 * RUNS * LOOPS).to_le_bytes().to_vec())
    );
    assert_eq!(
        s.table.lookup(1, &5u32.to_le_bytes()).expect("ok"),
        Some((8 * RUNS * LOOPS).to_le_bytes().to_vec())
    );
}

#[test]
fn percpu_values_follow_the_worker_slot() {
    let s = setup(&[MapSpec::new("pc", map_type::PERCPU_ARRAY, 4, 8, 1)]);
    let prog = s.program(&format!(
        "stw [%r10-4], 0
        lddw %r1, map_idx 0
        mov %r2, %r10
        add %r2, -4
        call 1
        jeq %r0, 0, fail
        ldxdw %r1, [%r0]
        add %r1, 1
        stxdw [%r0], %r1
        mov %r0, 0
        exit
        {FAIL}"
    ));
    let handles: Vec<_> = (0..4u32)
        .map(|slot| {
            let prog = Arc::clone(&prog);
            thread::spawn(move || {
                let mut state = ExecState::with_slot(slot);
                for _ in 0..(slot + 1) * 100 {
                    assert_eq!(prog.run(&mut state, &mut []).result, Ok(0));
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("thread");
    }
    let per_slot = s
        .table
        .lookup_per_slot(0, &0u32.to_le_bytes())
        .expect("ok")
        .expect("present");
    let counts: Vec<u64> = per_slot
        .iter()
        .map(|v| u64::from_le_bytes(v[..8].try_into().expect("8")))
        .collect();
    assert_eq!(counts, vec![100, 200, 300, 400]);
}

#[test]
fn map_in_map_perf_and_queue_from_programs() {
    let inner = MapSpec::new("inner", map_type::ARRAY, 4, 8, 2);
    let s = setup(&[
        MapSpec::new("outer", map_type::ARRAY_OF_MAPS, 4, 4, 1).with_inner(inner.clone()),
        inner,
        MapSpec::new("perf", map_type::PERF_EVENT_ARRAY, 4, 4, 0),
        MapSpec::new("q", map_type::QUEUE, 0, 8, 4),
    ]);
    s.table
        .update(1, &1u32.to_le_bytes(), &77u64.to_le_bytes(), 0)
        .expect("inner value");
    let prog = s.program(&format!(
        "stw [%r10-4], 0
        lddw %r1, map_idx 0
        mov %r2, %r10
        add %r2, -4
        call 1
        jeq %r0, 0, none
        mov %r1, %r0
        stw [%r10-4], 1
        mov %r2, %r10
        add %r2, -4
        call 1
        jeq %r0, 0, fail
        ldxdw %r0, [%r0]
        exit
        none:
        mov %r0, 1000
        exit
        {FAIL}"
    ));
    assert_eq!(ok(prog.run_once(&mut [])), 1000, "empty outer slot: NULL");
    s.table
        .update(0, &0u32.to_le_bytes(), &1u32.to_le_bytes(), 0)
        .expect("outer");
    assert_eq!(ok(prog.run_once(&mut [])), 77);

    let perf = s.program(
        "mov %r6, %r1
        stdw [%r10-8], 31
        mov %r1, %r6
        lddw %r2, map_idx 2
        lddw %r3, 0xffffffff
        mov %r4, %r10
        add %r4, -8
        mov %r5, 8
        call 25
        exit",
    );
    assert_eq!(ok(perf.run(&mut ExecState::with_slot(2), &mut [])), 0);
    assert_eq!(
        s.table.perf_events(2).expect("perf").drain(2),
        vec![31u64.to_le_bytes().to_vec()]
    );

    let queue = s.program(
        "mov %r6, 1
        push:
        stxdw [%r10-8], %r6
        lddw %r1, map_idx 3
        mov %r2, %r10
        add %r2, -8
        mov %r3, 0
        call 87
        add %r6, 1
        jle %r6, 5, push
        mov %r7, %r0
        lddw %r1, map_idx 3
        mov %r2, %r10
        add %r2, -16
        call 88
        jne %r0, 0, bad
        ldxdw %r0, [%r10-16]
        lsh %r7, 8
        or %r0, %r7
        exit
        bad:
        mov %r0, -1
        exit",
    );
    // Fifth push fails with -E2BIG (low byte 0xf9 after the shift); pop returns 1.
    assert_eq!(ok(queue.run_once(&mut [])), ((-7i64) as u64) << 8 | 1);
    assert_eq!(
        s.table.pop(3).expect("ok"),
        Some(2u64.to_le_bytes().to_vec())
    );
}

#[test]
fn binding_global_data_and_errors() {
    let s = setup(&[
        MapSpec::new(".rodata", map_type::ARRAY, 4, 8, 1)
            .with_initial(vec![1, 0, 0, 0, 42, 0, 0, 0])
            .read_only(),
        MapSpec::new(".data", map_type::ARRAY, 4, 8, 1),
        MapSpec::new("h", map_type::HASH, 4, 8, 1),
        MapSpec::new("lpm", map_type::LPM_TRIE, 8, 8, 1).with_flags(map_flags::NO_PREALLOC),
    ]);
    let prog = s.program(
        "lddw %r1, map_idx_value 0, 4
        ldxw %r0, [%r1]
        lddw %r2, map_value 1, 0
        stxdw [%r2], %r0
        exit",
    );
    assert_eq!(ok(prog.run_once(&mut [])), 42);
    assert_eq!(
        s.table.lookup(1, &0u32.to_le_bytes()).expect("ok"),
        Some(42u64.to_le_bytes().to_vec())
    );
    let write_ro = s.program(
        "lddw %r1, map_idx_value 0, 0
        stw [%r1], 1
        mov %r0, 0
        exit",
    );
    assert!(matches!(
        write_ro.run_once(&mut []).result,
        Err(Fault::OutOfBounds {
            access: Access::Write,
            ..
        })
    ));
    // map_fd and map_idx give the same handle.
    let handles = s.program(
        "lddw %r0, map_fd 2
        lddw %r1, map_idx 2
        sub %r0, %r1
        exit",
    );
    assert_eq!(ok(handles.run_once(&mut [])), 0);

    let bind_err = |text: &str| {
        let program =
            Program::new(assemble(text).expect("asm"), &LoadOptions::all()).expect("loads");
        bind(&program, &s.table).expect_err("refused")
    };
    assert_eq!(
        bind_err("mov %r0, 0\nlddw %r1, map_idx_value 2, 0\nexit"),
        BindError::NotAnArray {
            pc: 1,
            map: 2,
            map_type: map_type::HASH
        }
    );
    assert!(matches!(
        bind_err("lddw %r1, map_value 0, 8\nexit"),
        BindError::OffsetOutOfRange { offset: 8, .. }
    ));
    assert!(matches!(
        bind_err("lddw %r1, map_value 0, -1\nexit"),
        BindError::OffsetOutOfRange { offset: -1, .. }
    ));
    assert_eq!(
        bind_err("lddw %r1, map_idx 9\nexit"),
        BindError::UnknownMap { pc: 0, index: 9 }
    );
    assert!(matches!(
        bind_err("lddw %r1, map_fd -1\nexit"),
        BindError::UnknownMap { index: -1, .. }
    ));

    // An LPM lookup from a program.
    let mut key = 24u32.to_le_bytes().to_vec();
    key.extend_from_slice(&[10, 0, 0, 0]);
    s.table
        .update(3, &key, &5u64.to_le_bytes(), 0)
        .expect("insert");
    let lpm = s.program(&format!(
        "stw [%r10-8], 32
        lddw %r1, 0x0900000a
        stxw [%r10-4], %r1
        lddw %r1, map_idx 3
        mov %r2, %r10
        add %r2, -8
        call 1
        jeq %r0, 0, fail
        ldxdw %r0, [%r0]
        exit
        {FAIL}"
    ));
    assert_eq!(ok(lpm.run_once(&mut [])), 5);
}

#[test]
fn bpf_loop_callbacks() {
    let s = setup(&[]);
    let prog = s.program(LOOP_SUM);
    let out = prog.run_once(&mut []);
    // Stopped by the callback at i = 5: 6 iterations, sum 0 + ... + 5.
    assert_eq!(out.result, Ok(6 << 32 | 15));
    // Callback instructions count: 7 before the call, 5 * 6 + 7 in callbacks, 4 after.
    assert_eq!(out.instructions, Some(7 + 37 + 4));

    // A fault inside the callback is the run's fault, at the callback's instruction.
    let faulting = s.program(&format!(
        "{}
        exit
        cb:
        ldxdw %r0, [%r1]
        exit",
        call_bpf_loop(3)
    ));
    assert!(matches!(
        faulting.run_once(&mut []).result,
        Err(Fault::OutOfBounds {
            pc: 7,
            addr: 0,
            access: Access::Read,
            ..
        })
    ));
    // Something that is not a function's code address is refused.
    let forged = s.program(
        "mov %r1, 3
        mov %r2, 12345
        mov %r3, 0
        mov %r4, 0
        call 181
        exit",
    );
    assert!(matches!(
        forged.run_once(&mut []).result,
        Err(Fault::Helper {
            id: 181,
            error: HelperError::InvalidArgument {
                index: 2,
                value: 12345
            },
            ..
        })
    ));
    // Callbacks nest, each on a new frame, up to the frame limit.
    let call = call_bpf_loop(1);
    let nested = s.program(&format!("{call}\nexit\ncb:\n{call}\nexit"));
    assert!(matches!(
        nested.run_once(&mut []).result,
        Err(Fault::CallDepthExceeded { pc: 12, .. })
    ));
}

#[test]
fn for_each_map_elem_callbacks() {
    let s = setup(&[
        MapSpec::new("a", map_type::ARRAY, 4, 8, 4),
        MapSpec::new("h", map_type::HASH, 4, 8, 8),
    ]);
    for i in 0..4u32 {
        s.table
            .update(0, &i.to_le_bytes(), &u64::from(i + 1).to_le_bytes(), 0)
            .expect("array");
        s.table
            .update(1, &(i * 10).to_le_bytes(), &0u64.to_le_bytes(), 0)
            .expect("hash");
    }
    let sum = s.program(
        "stdw [%r10-8], 0
        lddw %r1, map_idx 0
        lddw %r2, code_addr cb
        mov %r3, %r10
        add %r3, -8
        mov %r4, 0
        call 164
        ldxdw %r1, [%r10-8]
        lsh %r0, 32
        or %r0, %r1
        exit
        cb:
        ldxw %r6, [%r2]
        ldxdw %r7, [%r3]
        add %r6, 1
        mul %r7, %r6
        ldxdw %r8, [%r4]
        add %r8, %r7
        stxdw [%r4], %r8
        mov %r0, 0
        exit",
    );
    assert_eq!(ok(sum.run_once(&mut [])), 4 << 32 | 30);
    // Deleting the current element from the callback.
    let drain = s.program(
        "lddw %r1, map_idx 1
        lddw %r2, code_addr cb
        mov %r3, 0
        mov %r4, 0
        call 164
        exit
        cb:
        call 3
        exit",
    );
    assert_eq!(ok(drain.run_once(&mut [])), 4);
    assert!(s.table.keys(1).expect("keys").is_empty());
}
