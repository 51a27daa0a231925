//! The whole object path on arbitrary bytes, as `apiary run` takes an object: ELF parse, maps
//! created from the object's definitions, programs relocated, loaded, verified (in verified
//! mode) and compiled (JIT), then each program run once on a small packet with a tiny budget.
//! Nothing may panic, abort or overrun: every hostile field must come back as an error.
//!
//! Run with `-rss_limit_mb=2048`: a map definition may ask for any size, and the loader must
//! refuse what it cannot hold rather than allocate it.
#![no_main]

use std::sync::{Arc, LazyLock};

use apiary::{Config, EngineKind, Instance, Module, Store};
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
    // Each module is parsed (and verified) once; the run goes through an instance and a store
    // as embedders' runs do.
    for (engine, verified) in [(EngineKind::Interp, false), (EngineKind::Jit, true)] {
        let config = Config::new()
            .with_budget(Some(10_000))
            .with_verified(verified)
            .with_stores(1);
        let Ok(module) = Module::from_elf(&config, data) else {
            return;
        };
        let module = Arc::new(module);
        let Ok(instance) = Instance::new(Arc::clone(&module), engine) else {
            return;
        };
        let Ok(mut store) = Store::new(&instance) else {
            return;
        };
        for prog in module.programs() {
            let _ = instance.run(&mut store, prog, &PACKET);
        }
    }
});
