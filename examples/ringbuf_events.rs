//! (b) Events through a ring buffer, read by the host: `cargo run --example ringbuf_events`.

#[path = "support/packets.rs"]
mod packets;

use apiary::{Config, EngineKind, Instance, Module};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let module = Module::from_elf(&Config::new(), include_bytes!("ringbuf_events.o"))?;
    let prog = module.find("produce_events")?;
    let events = module.map("events")?;
    let instance = Instance::new(module, EngineKind::Jit)?;
    let mut store = instance.store()?;
    for (proto, src) in [(6, 1), (17, 2), (1, 3)] {
        instance.run(&mut store, prog, &packets::ipv4(proto, src, 16))?;
    }
    // A frame that is not IPv4: its reserved record is discarded.
    instance.run(&mut store, prog, &[0u8; 14])?;
    for record in instance.ring_buf(events)?.drain() {
        println!(
            "event #{}: {} bytes from {}.{}.{}.{}, protocol {}, ttl {}",
            packets::le(&record[0..8]),
            packets::le(&record[8..12]),
            record[12],
            record[13],
            record[14],
            record[15],
            record[16],
            record[17]
        );
    }
    Ok(())
}
