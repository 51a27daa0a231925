//! The whole object path on arbitrary bytes, as `apiary run` takes an object: ELF parse, maps
//! created from the object's definitions, programs relocated, loaded, verified (in verified
//! mode) and compiled (JIT), then each program run once on a small packet with a tiny budget.
//! Nothing may panic, abort or overrun: every hostile field must come back as an error.
//!
//! Run with `-rss_limit_mb=2048`: a map definition may ask for any size, and the loader must
//! refuse what it cannot hold rather than allocate it.
#![no_main]

use apiary::object::{LoadedObject, ObjectOptions};
use apiary::EngineKind;
use libfuzzer_sys::fuzz_target;

/// An Ethernet + IPv4 + UDP frame's worth of bytes: enough for packet programs to get past
/// their bounds checks.
const PACKET: [u8; 64] = {
    let mut p = [0u8; 64];
    p[12] = 0x08;
    p[14] = 0x45;
    p[23] = 17;
    p
};

fuzz_target!(|data: &[u8]| {
    // Checked mode on the interpreter, verified mode on the JIT: the two ends of the options.
    for (engine, verified) in [(EngineKind::Interp, false), (EngineKind::Jit, true)] {
        let options = ObjectOptions {
            budget: Some(10_000),
            verified,
            ..ObjectOptions::for_engine(engine)
        };
        let Ok(mut object) = LoadedObject::load(data, &options) else {
            return;
        };
        for index in 0..object.len() {
            let _ = object.run(index, &PACKET);
        }
    }
});
