//! Benchmark programs shared by the criterion benches: each is assembly text plus the input it
//! runs on, so every engine (and later every peer runtime) runs exactly the same bytecode.

use std::sync::Arc;

use apiary_vm::{asm, Environment, ExecConfig, Executable, HelperTable, Interpreter, LoadOptions, Program};

/// One benchmark program.
#[derive(Clone, Copy, Debug)]
pub struct BenchProgram {
    /// Short name used in benchmark ids.
    pub name: &'static str,
    /// Assembly in the bpf_conformance syntax.
    pub asm: &'static str,
    /// Input length in bytes (filled with a fixed pattern by [`input_for`]).
    pub input_len: usize,
}

/// A tight 64-bit ALU loop: 100,000 iterations of six ALU instructions and a compare.
pub const ALU_LOOP: BenchProgram = BenchProgram {
    name: "alu_loop",
    asm: "
        mov %r0, 0
        mov %r1, 100000
    loop:
        add %r0, %r1
        xor %r0, 0x5a5a
        lsh %r0, 1
        rsh %r0, 1
        mul %r0, 3
        sub %r1, 1
        jne %r1, 0, loop
        exit",
    input_len: 0,
};

/// A memory loop: sums the 64-bit words of a 64 KiB input.
pub const MEM_LOOP: BenchProgram = BenchProgram {
    name: "mem_loop",
    asm: "
        mov %r0, 0
        mov %r3, %r1
        add %r3, %r2
    loop:
        ldxdw %r4, [%r1]
        add %r0, %r4
        add %r1, 8
        jlt %r1, %r3, loop
        exit",
    input_len: 65536,
};

/// The smallest program: the per-call cost of entering and leaving an engine.
pub const CALL_OVERHEAD: BenchProgram = BenchProgram {
    name: "call_overhead",
    asm: "
        mov %r0, 1
        exit",
    input_len: 0,
};

/// All programs, in report order.
pub const ALL: [BenchProgram; 3] = [ALU_LOOP, MEM_LOOP, CALL_OVERHEAD];

/// The deterministic input for a program.
#[must_use]
pub fn input_for(p: &BenchProgram) -> Vec<u8> {
    (0..p.input_len).map(|i| (i * 7 + 3) as u8).collect()
}

/// Assembles and decodes a benchmark program.
///
/// # Panics
/// If the program text is invalid (a bug in this file).
#[must_use]
pub fn program(p: &BenchProgram) -> Arc<Program> {
    let insns = asm::assemble(p.asm).unwrap_or_else(|e| panic!("{}: {e}", p.name));
    Arc::new(Program::new(insns, &LoadOptions::default()).unwrap_or_else(|e| panic!("{}: {e}", p.name)))
}

/// Instructions one run executes (measured with metering on), for per-instruction figures.
///
/// # Panics
/// If the program faults (a bug in this file).
#[must_use]
pub fn executed_instructions(p: &BenchProgram) -> u64 {
    let env = Environment::new(HelperTable::new(), ExecConfig { budget: Some(u64::MAX) });
    let interp = Interpreter::new(program(p), &env).unwrap_or_else(|e| panic!("{}: {e}", p.name));
    let out = interp.run_once(&mut input_for(p));
    assert!(out.result.is_ok(), "{}: {:?}", p.name, out.result);
    out.instructions.unwrap_or(0)
}
