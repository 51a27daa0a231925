//! What the interpreter's Linux-helper tests (`vm/tests/linux_helpers.rs`) and the JIT's
//! differential ones (`jit/tests/linux.rs`) share: the map table and trace buffer a program runs
//! against, a `bpf_loop` program both check, and the assembly of a `bpf_loop` call. The JIT's
//! tests include this file by path, so that apiary-vm exports no scaffolding made only for tests.

#![allow(dead_code)]

use std::sync::{Arc, Mutex};

use apiary_vm::linux::{self, LinuxOptions, TraceSink};
use apiary_vm::maps::{MapOptions, MapSpec, MapTable};
use apiary_vm::{Environment, ExecConfig};

/// The maps of a test and the Linux helpers' options, with `bpf_trace_printk` output collected.
pub struct Setup {
    pub table: Arc<MapTable>,
    /// What the program printed, one entry per `bpf_trace_printk`.
    pub trace: Arc<Mutex<Vec<String>>>,
    pub options: LinuxOptions,
}

/// Maps made from `specs` (4 per-CPU slots, 4 KiB perf rings).
pub fn setup(specs: &[MapSpec]) -> Setup {
    let table = Arc::new(
        MapTable::from_specs(
            specs,
            MapOptions {
                nr_slots: 4,
                perf_ring_bytes: 4096,
                ..MapOptions::default()
            },
        )
        .expect("maps"),
    );
    let (sink, trace) = TraceSink::buffer();
    Setup {
        table,
        trace,
        options: LinuxOptions { trace: sink },
    }
}

impl Setup {
    /// The Linux helpers on these maps, with an instruction budget.
    pub fn env(&self, budget: Option<u64>) -> Environment {
        linux::environment(&self.table, &self.options, ExecConfig { budget })
    }
}

/// `r1 = nr_loops, r2 = cb, r3 = 0, r4 = 0; call bpf_loop` (helper 181): a `bpf_loop` call
/// with the callback at label `cb` and no context.
pub fn call_bpf_loop(nr_loops: u32) -> String {
    format!("mov %r1, {nr_loops}\nlddw %r2, code_addr cb\nmov %r3, 0\nmov %r4, 0\ncall 181")
}

/// `bpf_loop(10, cb, &sum, 0)` where the callback adds its index to `sum` and stops after
/// index 5: returns the iteration count (6) in the high half of r0 and the sum (15) in the
/// low half. 7 instructions before the call, 6 callbacks of 5 and one of 7, 4 after.
pub const LOOP_SUM: &str = "stdw [%r10-8], 0
    mov %r1, 10
    lddw %r2, code_addr cb
    mov %r3, %r10
    add %r3, -8
    mov %r4, 0
    call 181
    ldxdw %r1, [%r10-8]
    lsh %r0, 32
    or %r0, %r1
    exit
    cb:
    ldxdw %r3, [%r2]
    add %r3, %r1
    stxdw [%r2], %r3
    mov %r0, 0
    jne %r1, 5, cont
    mov %r0, 1
    cont:
    exit";
