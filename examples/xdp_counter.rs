//! (a) A packet counter keyed by IP protocol: `cargo run --example xdp_counter`.
//!
//! Loads `xdp_counter.o` (built from `xdp_counter.c`), runs it on a few frames on the
//! interpreter and the JIT, and prints the hash map the program filled.

#[path = "support/packets.rs"]
mod packets;

use apiary::object::{LoadedObject, ObjectOptions};
use apiary::EngineKind;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    for engine in [EngineKind::Interp, EngineKind::Jit] {
        let mut obj = LoadedObject::load(
            include_bytes!("xdp_counter.o"),
            &ObjectOptions::for_engine(engine),
        )?;
        let prog = obj.program("count_by_protocol")?;
        for (proto, payload) in [(6, 20), (17, 8), (1, 8), (6, 200)] {
            let out = obj.run(prog, &packets::ipv4(proto, 1, payload))?;
            println!(
                "{engine}: protocol {proto:3}: {}",
                out.action().unwrap_or("?")
            );
        }
        for (key, value) in obj.entries("proto_counts")? {
            println!(
                "{engine}: protocol {:3}: {} packets, {} bytes",
                packets::le(&key),
                packets::le(&value[..8]),
                packets::le(&value[8..])
            );
        }
    }
    Ok(())
}
