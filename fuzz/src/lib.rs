//! Shared pieces of the fuzz targets: running a program on the interpreter and the JIT and
//! comparing everything an engine must agree on (r0 or fault kind and pc, instruction count,
//! and the input buffer afterwards).

use std::sync::Arc;

use apiary_conformance::runner::{agree, Observation};
use apiary_conformance::{conformance_helpers, prepare, EngineKind, PrepareError};
use apiary_vm::{Environment, ExecConfig, ExecState, Executable, Program};

/// Budget for fuzzed runs: small, so looping programs end quickly.
pub const BUDGET: u64 = 10_000;

fn counts(o: &Observation) -> Option<u64> {
    match o {
        Observation::Ran(out) => out.instructions,
        Observation::Refused(_) => None,
    }
}

/// Zeroes the stack of `state`, so the next run starts as on a fresh state, at the same address.
fn clear_stack(state: &mut ExecState) {
    let region = state.stack_region();
    // SAFETY: `region` was just made from an exclusive borrow of `state`'s stack
    // (`Region::writable`): `region.len` bytes at `region.start` are live, writable, and no
    // reference to them exists while `state` is borrowed mutably here.
    unsafe { std::ptr::write_bytes(region.start as *mut u8, 0, region.len as usize) };
}

/// Runs `program` on the interpreter and the JIT (checked mode, budget [`BUDGET`]) with the same
/// input, at the same address, and the same (zeroed) stack, at the same address: programs see
/// host addresses (r1, r10), so only then must every result agree exactly. Panics with both
/// observations when they differ.
pub fn compare_engines(program: Program, mem: &[u8]) {
    let program = Arc::new(program);
    let env = Environment::new(
        conformance_helpers(),
        ExecConfig {
            budget: Some(BUDGET),
        },
    );
    let run = |kind, state: &mut ExecState, input: &mut [u8]| {
        let exe: Result<Box<dyn Executable>, PrepareError> =
            prepare(kind, Arc::clone(&program), &env);
        match exe {
            Ok(exe) => Observation::Ran(exe.run(state, input)),
            Err(e) => Observation::Refused(e),
        }
    };
    let mut state = ExecState::new();
    let mut input = mem.to_vec();
    let interp = run(EngineKind::Interp, &mut state, &mut input);
    let interp_mem = input.clone();
    clear_stack(&mut state);
    input.copy_from_slice(mem);
    let jit = run(EngineKind::Jit, &mut state, &mut input);
    assert!(
        agree(&interp, &jit) && counts(&interp) == counts(&jit) && interp_mem == input,
        "interp: {interp} mem {interp_mem:02x?}\njit: {jit} mem {input:02x?}\nprogram: {:?}",
        program.insns()
    );
}
