//! The `.data` parser on arbitrary text: never panics; a parsed test's program assembles or
//! fails with an error (never a panic).
#![no_main]

use apiary_conformance::{parse_str, Parsed};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(Parsed::Test(case)) = parse_str("fuzz.data", &text) {
        let _ = apiary_conformance::assemble::slots(&case.program);
    }
});
