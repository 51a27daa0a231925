//! The whole object path on arbitrary bytes, as `apiary run` takes an object: ELF parse, maps
//! created from the object's definitions, programs relocated, loaded, verified (in verified
//! mode) and compiled (JIT), then each program run once on a small packet with a tiny budget.
//! Nothing may panic, abort or overrun: every hostile field must come back as an error.
//!
//! Run with `-rss_limit_mb=2048`: a map definition may ask for any size, and the loader must
//! refuse what it cannot hold rather than allocate it.
#![no_main]

use apiary::object::{LoadedObject, ObjectOptions};
use std::sync::LazyLock;

use apiary::EngineKind;
use apiary_testkit::packet::{Eth, Ipv4, Packet, Udp};
use libfuzzer_sys::fuzz_target;

/// An Ethernet + IPv4 + UDP frame of 64 bytes: enough for packet programs to get past their
/// bounds checks.
static PACKET: LazyLock<Vec<u8>> = LazyLock::new(|| {
    Packet::new()
        .eth(Eth::default())
        .ipv4(Ipv4::default())
        .udp(Udp {
            sport: 1024,
            dport: 53,
        })
        .payload(&[0; 64 - 42])
        .build()
});

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
