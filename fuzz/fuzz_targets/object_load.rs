//! The whole object path on arbitrary bytes, as `apiary run` takes an object: ELF parse, maps
//! created from the object's definitions, programs relocated, loaded, verified (in verified
//! mode) and compiled (JIT), then each program run once on a small packet with a tiny budget.
//! Nothing may panic, abort or overrun: every hostile field must come back as an error.
//!
//! Run with `-rss_limit_mb=2048`: a map definition may ask for any size, and the loader must
//! refuse what it cannot hold rather than allocate it.
#![no_main]

use std::sync::Arc;

use apiary::{Config, EngineKind, Instance, Module, Store};
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
