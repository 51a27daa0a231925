//! Shared pieces of the fuzz targets: running a program on the interpreter and the JIT and
//! comparing everything an engine must agree on (r0 or fault kind and pc, instruction count,
//! and the input buffer afterwards).

use std::sync::Arc;

use apiary_conformance::runner::{agree, Observation};
use apiary_conformance::{conformance_helpers, prepare, EngineKind, PrepareError};
use apiary_verifier::{verify, Platform, ProgramType, Verified};
use apiary_vm::insn::insns_from_bytes;
use apiary_vm::{
    Environment, ExecConfig, ExecState, Executable, Facts, HelperTable, Interpreter, LoadOptions,
    Program,
};

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

/// Runs `program`, which the verifier accepted with `facts` as a `mem` program of `mem.len()`
/// bytes without helpers, on the checked interpreter, the checked JIT, and the interpreter and
/// JIT in verified mode (budget [`BUDGET`]), each on the same input at the same address and a
/// zeroed stack at the same address. Panics with every observation when any differs.
pub fn compare_verified(program: Program, facts: &Facts, mem: &[u8]) {
    let program = Arc::new(program);
    let env = Environment::new(
        HelperTable::new(),
        ExecConfig {
            budget: Some(BUDGET),
        },
    );
    // The verifier accepts calls it proved unreachable, to helpers `env` lacks; the engines
    // refuse such programs at load (every call site must name a known helper). All four must
    // then refuse alike.
    let interp = prepare(EngineKind::Interp, Arc::clone(&program), &env);
    let jit = prepare(EngineKind::Jit, Arc::clone(&program), &env);
    // SAFETY: `facts` come from the verifier run on this very program as a `mem` program of
    // `mem.len()` bytes with no helpers, which is `env` (no helpers, no extra regions), and
    // every run below gets an input of exactly `mem.len()` bytes.
    let interp_v = unsafe { Interpreter::with_facts(Arc::clone(&program), &env, facts) };
    // SAFETY: as above.
    let jit_v = unsafe { apiary_jit::Jit::with_facts(Arc::clone(&program), &env, facts) };
    let refused = [
        interp.is_err(),
        jit.is_err(),
        interp_v.is_err(),
        jit_v.is_err(),
    ];
    if refused.iter().any(|&r| r) {
        assert!(
            refused.iter().all(|&r| r),
            "engines disagree on loading a verified program (refused: interp, jit, interp \
             verified, jit verified = {refused:?})\nprogram: {:?}",
            program.insns()
        );
        return;
    }
    let mut engines: Vec<(&str, Box<dyn Executable>)> = Vec::new();
    if let (Ok(i), Ok(j), Ok(iv), Ok(jv)) = (interp, jit, interp_v, jit_v) {
        engines.push(("interp", i));
        engines.push(("jit", j));
        engines.push(("interp (verified)", Box::new(iv)));
        engines.push(("jit (verified)", Box::new(jv)));
    }
    let mut state = ExecState::new();
    let mut input = mem.to_vec();
    let mut seen: Vec<(&str, Observation, Vec<u8>)> = Vec::new();
    for (name, exe) in &engines {
        clear_stack(&mut state);
        input.copy_from_slice(mem);
        let out = Observation::Ran(exe.run(&mut state, &mut input));
        seen.push((name, out, input.clone()));
    }
    let (_, first, first_mem) = &seen[0];
    for (name, o, m) in &seen[1..] {
        assert!(
            agree(first, o) && counts(first) == counts(o) && first_mem == m,
            "{}: {first} mem {first_mem:02x?}\n{name}: {o} mem {m:02x?}\nprogram: {:?}",
            seen[0].0,
            program.insns()
        );
    }
}

/// Memory size of the `mem` programs the verifier targets check.
pub const VERIFIED_MEM: usize = 16;

/// Splits fuzz input into [`VERIFIED_MEM`] bytes of memory and a program, and verifies the
/// program as a `mem` program of that size without helpers: `None` when the input is too short,
/// the program does not load, or the verifier rejects it.
pub fn accepted_mem_program(data: &[u8]) -> Option<(Program, Verified, &[u8])> {
    if data.len() < VERIFIED_MEM {
        return None;
    }
    let (mem, code) = data.split_at(VERIFIED_MEM);
    let code = &code[..code.len() - code.len() % 8];
    let insns = insns_from_bytes(code).ok()?;
    let program = Program::new(insns, &LoadOptions::default()).ok()?;
    let verified = verify(
        &program,
        &Platform::empty(),
        &ProgramType::mem(Some(VERIFIED_MEM as u64)),
        &[],
    )
    .ok()?;
    Some((program, verified, mem))
}
