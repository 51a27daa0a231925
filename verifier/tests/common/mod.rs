//! Shared by the hand-written verifier tests (gate 1, precision): assembling a program, map
//! descriptions, and accept/reject checks against the Linux helpers that print the verifier's
//! log when an expected acceptance fails.

#![allow(dead_code)]

pub mod twins;

use apiary_verifier::{verify, verify_log, MapInfo, Platform, ProgramType, RejectReason, Verified};
use apiary_vm::{asm, LoadOptions, Program};

/// Assembles and loads `text` (all ISA extensions); panics with the text on failure.
pub fn program(text: &str) -> Program {
    let insns = asm::assemble(text).unwrap_or_else(|e| panic!("assemble: {e}\n{text}"));
    Program::new(insns, &LoadOptions::all()).unwrap_or_else(|e| panic!("load: {e}\n{text}"))
}

/// A `mem` program over an 8-byte buffer.
pub fn mem8() -> ProgramType {
    ProgramType::mem(Some(8))
}

/// A writable map without flags.
pub fn map(map_type: u32, key_size: u32, value_size: u32, max_entries: u32) -> MapInfo {
    MapInfo {
        map_type,
        key_size,
        value_size,
        max_entries,
        ..MapInfo::default()
    }
}

/// The verdict on `text` as a program of type `t` with the Linux helpers and `maps`.
pub fn run(text: &str, t: &ProgramType, maps: &[MapInfo]) -> Result<Verified, RejectReason> {
    verify(&program(text), &Platform::linux(), t, maps).map_err(|r| r.reason)
}

/// `text` must be accepted; on rejection, panics with the reason and the verifier's log.
#[track_caller]
pub fn accept(text: &str, t: &ProgramType, maps: &[MapInfo]) -> Verified {
    match run(text, t, maps) {
        Ok(v) => v,
        Err(r) => {
            let (_, log) = verify_log(&program(text), &Platform::linux(), t, maps);
            panic!("rejected: {r}\n{text}\n{log}")
        }
    }
}

/// `text` must be rejected for a reason `want` recognises.
#[track_caller]
pub fn reject(text: &str, t: &ProgramType, maps: &[MapInfo], want: fn(&RejectReason) -> bool) {
    match run(text, t, maps) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(r) => assert!(want(&r), "wrong reason {r:?}\n{text}"),
    }
}
