//! Verified mode against checked mode: a program the verifier accepts (type "mem" of 16 bytes,
//! no helpers) runs on the checked interpreter, the checked JIT, and the interpreter and JIT
//! prepared with the verifier's facts (proven accesses unchecked). Every run must agree: r0 or
//! fault, instruction count, and the memory afterwards. A wrong fact would show as a checked
//! fault that a verified engine does not report, or (built with the address sanitizer, as
//! `cargo fuzz` does) as an out-of-bounds access in the test process.
//! Input: 16 bytes of memory, then the program.
#![no_main]

use apiary_fuzz::{accepted_mem_program, compare_verified};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some((verified, mem)) = accepted_mem_program(data) {
        compare_verified(&verified, mem);
    }
});
