//! Verified mode against checked mode: a program the verifier accepts (type "mem" of 16 bytes,
//! no helpers) runs on the checked interpreter, the checked JIT, and the interpreter and JIT
//! prepared with the verifier's facts (proven accesses unchecked). Every run must agree: r0 or
//! fault, instruction count, and the memory afterwards. A wrong fact would show as a checked
//! fault that a verified engine does not report, or (built with the address sanitizer, as
//! `cargo fuzz` does) as an out-of-bounds access in the test process.
//! Input: 16 bytes of memory, then the program.
#![no_main]

use apiary_fuzz::compare_verified;
use apiary_verifier::{verify, Platform, ProgramType};
use apiary_vm::{insn::insns_from_bytes, LoadOptions, Program};
use libfuzzer_sys::fuzz_target;

const MEM: usize = 16;

fuzz_target!(|data: &[u8]| {
    if data.len() < MEM {
        return;
    }
    let (mem, code) = data.split_at(MEM);
    let code = &code[..code.len() - code.len() % 8];
    let Ok(insns) = insns_from_bytes(code) else {
        return;
    };
    let Ok(program) = Program::new(insns, &LoadOptions::default()) else {
        return;
    };
    let Ok(verified) = verify(
        &program,
        &Platform::empty(),
        &ProgramType::mem(Some(MEM as u64)),
        &[],
    ) else {
        return;
    };
    compare_verified(program, &verified.facts, mem);
});
