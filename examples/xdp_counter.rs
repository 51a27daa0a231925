//! (a) A packet counter keyed by IP protocol: `cargo run --example xdp_counter`.
//!
//! Loads `xdp_counter.o` (built from `xdp_counter.c`), runs it on a few frames on the
//! interpreter and the JIT, and prints the hash map the program filled.

#[path = "support/packets.rs"]
mod packets;

use std::sync::Arc;

use apiary::{Config, EngineKind, Instance, Module};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Parsed and verified once; each engine's instance prepares the programs for itself.
    let module = Arc::new(Module::from_elf(
        &Config::new(),
        include_bytes!("xdp_counter.o"),
    )?);
    let prog = module.find("count_by_protocol")?;
    let proto_counts = module.map("proto_counts")?;
    for engine in [EngineKind::Interp, EngineKind::Jit] {
        let instance = Instance::new(Arc::clone(&module), engine)?;
        let mut store = instance.store()?;
        for (proto, payload) in [(6, 20), (17, 8), (1, 8), (6, 200)] {
            let out = instance.run(&mut store, prog, &packets::ipv4(proto, 1, payload))?;
            println!(
                "{engine}: protocol {proto:3}: {}",
                out.action().unwrap_or("?")
            );
        }
        // `struct counters { u64 packets; u64 bytes; }` by `u32` protocol.
        let counts = instance.hash_map::<u32, [u64; 2]>(proto_counts)?;
        for (proto, [packets, bytes]) in counts.entries()? {
            println!("{engine}: protocol {proto:3}: {packets} packets, {bytes} bytes");
        }
    }
    Ok(())
}
