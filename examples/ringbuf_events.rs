//! (b) Events through a ring buffer, read by the host: `cargo run --example ringbuf_events`.

#[path = "support/packets.rs"]
mod packets;

use apiary::object::{LoadedObject, ObjectOptions};
use apiary::EngineKind;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut obj = LoadedObject::load(
        include_bytes!("ringbuf_events.o"),
        &ObjectOptions::for_engine(EngineKind::Jit),
    )?;
    let prog = obj.program("produce_events")?;
    for (proto, src) in [(6, 1), (17, 2), (1, 3)] {
        obj.run(prog, &packets::ipv4(proto, src, 16))?;
    }
    // A frame that is not IPv4: its reserved record is discarded.
    obj.run(prog, &[0u8; 14])?;
    for record in obj.ringbuf_records("events")? {
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
