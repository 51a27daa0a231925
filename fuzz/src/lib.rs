//! Shared pieces of the fuzz targets: running a program on every engine through the
//! engine-agreement harness (`apiary-testkit-engines`: the same input and stack at the same
//! addresses; r0 or fault, instruction count, input and stack compared).

use std::sync::Arc;

use apiary_engine::helpers::conformance_helpers;
use apiary_engine::VerifiedProgram;
use apiary_testkit_engines::Harness;
use apiary_verifier::{Platform, ProgramType};
use apiary_vm::insn::insns_from_bytes;
use apiary_vm::{Environment, ExecConfig, HelperTable, LoadOptions, Program};

/// Budget for fuzzed runs: small, so looping programs end quickly.
pub const BUDGET: u64 = 10_000;

/// Runs `program` on the interpreter, the JIT and the JIT with constant blinding (checked mode,
/// budget [`BUDGET`], the conformance helpers) through the harness. Panics with every run when
/// they differ.
pub fn compare_engines(program: Program, mem: &[u8]) {
    let program = Arc::new(program);
    let env = Environment::new(
        conformance_helpers(),
        ExecConfig {
            budget: Some(BUDGET),
        },
    );
    Harness::checked(&program, &env)
        .blinded_jit(&program, &env)
        .run(mem)
        .assert_agree(&format_args!("program: {:?}", program.insns()));
}

/// Runs `verified`'s program, which the verifier accepted as a `mem` program of `mem.len()`
/// bytes without helpers, on the checked interpreter and JIT and on both in verified mode
/// (budget [`BUDGET`]) through the harness. The verifier accepts calls it proved unreachable,
/// to helpers the environment lacks; the engines refuse such programs at load, and must then
/// all refuse alike. Panics with every run when they differ.
pub fn compare_verified(verified: &VerifiedProgram, mem: &[u8]) {
    let program = Arc::clone(verified.program());
    let env = Environment::new(
        HelperTable::new(),
        ExecConfig {
            budget: Some(BUDGET),
        },
    );
    // SAFETY: the program was verified as a `mem` program on the empty platform (no helpers,
    // no maps), which is `env` (no helpers, no extra regions); a `mem` input is any buffer, and
    // the length of this proof is enforced by `prepare_verified`.
    let harness = unsafe { Harness::checked(&program, &env).verified(verified, &env) };
    harness
        .run(mem)
        .assert_agree(&format_args!("program: {:?}", program.insns()));
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
