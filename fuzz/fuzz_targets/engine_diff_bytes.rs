//! Raw bytes → `Program::new` (every optional group on) → interpreter vs JIT.
//! Input layout: one byte of input length (mod 64), that many input bytes, then the program.
#![no_main]

use apiary_vm::{insn::insns_from_bytes, LoadOptions, Program};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&n, rest)) = data.split_first() else {
        return;
    };
    let n = usize::from(n % 64).min(rest.len());
    let (mem, code) = rest.split_at(n);
    let code = &code[..code.len() - code.len() % 8];
    let Ok(insns) = insns_from_bytes(code) else {
        return;
    };
    let Ok(program) = Program::new(insns, &LoadOptions::all()) else {
        return;
    };
    apiary_fuzz::compare_engines(program, mem);
});
