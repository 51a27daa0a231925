//! Shared pieces of the fuzz targets: running a program on the interpreter and the JIT and
//! comparing everything an engine must agree on (r0 or fault kind and pc, instruction count,
//! and the input buffer afterwards).

use std::sync::Arc;

use apiary_conformance::runner::{agree, Observation};
use apiary_conformance::{conformance_helpers, prepare, EngineKind, PrepareError};
use apiary_engine::{prepare_verified_unsandboxed, VerifiedProgram};
use apiary_verifier::{Platform, ProgramType};
use apiary_vm::insn::insns_from_bytes;
use apiary_vm::{
    Environment, ExecConfig, ExecState, Executable, HelperTable, LoadOptions, Program,
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
    let engines = [EngineKind::Interp, EngineKind::Jit]
        .map(|kind| (kind.to_string(), prepare(kind, Arc::clone(&program), &env)));
    assert_all_agree(&program, &engines, mem);
}

/// Runs every engine of `engines` (a refusal is an observation too) on `mem`, each on the
/// same input buffer and a zeroed stack at the same addresses (programs see host addresses in
/// r1 and r10, so only then must results agree exactly), and panics with every observation
/// unless all agree on r0 or fault, instruction count and the memory afterwards.
fn assert_all_agree(
    program: &Program,
    engines: &[(String, Result<Box<dyn Executable>, PrepareError>)],
    mem: &[u8],
) {
    let mut state = ExecState::new();
    let mut input = mem.to_vec();
    let seen: Vec<(&str, Observation, Vec<u8>)> = engines
        .iter()
        .map(|(name, exe)| {
            clear_stack(&mut state);
            input.copy_from_slice(mem);
            let o = match exe {
                Ok(exe) => Observation::Ran(exe.run(&mut state, &mut input)),
                Err(e) => Observation::Refused(e.clone()),
            };
            (name.as_str(), o, input.clone())
        })
        .collect();
    let Some((first_name, first, first_mem)) = seen.first() else {
        return;
    };
    for (name, o, m) in &seen[1..] {
        assert!(
            agree(first, o) && counts(first) == counts(o) && first_mem == m,
            "{first_name}: {first} mem {first_mem:02x?}\n{name}: {o} mem {m:02x?}\nprogram: {:?}",
            program.insns()
        );
    }
}

/// Runs `verified`'s program, which the verifier accepted as a `mem` program of `mem.len()`
/// bytes without helpers, on the checked interpreter, the checked JIT, and the interpreter and
/// JIT in verified mode (budget [`BUDGET`]), each on the same input at the same address and a
/// zeroed stack at the same address. Panics with every observation when any differs.
pub fn compare_verified(verified: &VerifiedProgram, mem: &[u8]) {
    let program = Arc::clone(verified.program());
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
    // SAFETY: the program was verified as a `mem` program on the empty platform (no helpers,
    // no maps), which is `env` (no helpers, no extra regions); a `mem` input is any buffer, and
    // the length of this proof is enforced by `prepare_verified`. Unsandboxed: the runs must
    // see the same stack and input addresses as the checked ones (sandboxed runs move both into
    // the window); the sandbox itself is tested by `tests/sandbox_forged.rs`.
    let interp_v = unsafe {
        prepare_verified_unsandboxed(apiary_engine::EngineKind::Interp, verified, &env)
    };
    // SAFETY: as above.
    let jit_v =
        unsafe { prepare_verified_unsandboxed(apiary_engine::EngineKind::Jit, verified, &env) };
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
    if let (Ok(i), Ok(j), Ok(iv), Ok(jv)) = (interp, jit, interp_v, jit_v) {
        let engines = [
            ("interp".to_owned(), Ok(i)),
            ("jit".to_owned(), Ok(j)),
            ("interp (verified)".to_owned(), Ok(iv)),
            ("jit (verified)".to_owned(), Ok(jv)),
        ];
        assert_all_agree(&program, &engines, mem);
    }
}

/// Memory size of the `mem` programs the verifier targets check.
pub const VERIFIED_MEM: usize = 16;

/// Splits fuzz input into [`VERIFIED_MEM`] bytes of memory and a program, and verifies the
/// program as a `mem` program of that size without helpers: `None` when the input is too short,
/// the program does not load, or the verifier rejects it.
pub fn accepted_mem_program(data: &[u8]) -> Option<(VerifiedProgram, &[u8])> {
    if data.len() < VERIFIED_MEM {
        return None;
    }
    let (mem, code) = data.split_at(VERIFIED_MEM);
    let code = &code[..code.len() - code.len() % 8];
    let insns = insns_from_bytes(code).ok()?;
    let program = Program::new(insns, &LoadOptions::default()).ok()?;
    let verified = VerifiedProgram::verify(
        Arc::new(program),
        &Platform::empty(),
        &ProgramType::mem(Some(VERIFIED_MEM as u64)),
        &[],
    )
    .ok()?;
    Some((verified, mem))
}
