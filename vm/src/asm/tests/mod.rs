//! Assembler tests: hand-written syntax cases, the bpf_conformance corpus, fuzzing for panics,
//! and the disassemble → assemble round trip.

mod conformance;
mod fuzz;
mod roundtrip;
mod syntax;

use super::assemble;
use crate::insn::Insn;

/// Assembles `text`, panicking with the error (test helper).
fn asm(text: &str) -> Vec<Insn> {
    match assemble(text) {
        Ok(insns) => insns,
        Err(e) => panic!("{text:?}: {e}"),
    }
}

/// Assembles a single line into its single slot.
fn one(text: &str) -> Insn {
    match asm(text)[..] {
        [insn] => insn,
        ref other => panic!("{text:?}: expected one slot, got {other:?}"),
    }
}
