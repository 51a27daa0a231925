//! (e) A bounded loop: `cargo run --example bounded_loop` counts the set bits of a packet.

use apiary::object::{LoadedObject, ObjectOptions};
use apiary::EngineKind;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    for engine in [EngineKind::Interp, EngineKind::Jit] {
        let mut obj = LoadedObject::load(
            include_bytes!("bounded_loop.o"),
            &ObjectOptions::for_engine(engine),
        )?;
        let prog = obj.program("popcount")?;
        let packet: Vec<u8> = (0u8..=255).collect();
        let out = obj.run(prog, &packet)?;
        let bits = obj.lookup(".bss", &0u32.to_le_bytes())?.unwrap_or_default();
        println!(
            "{engine}: {:?} bits, {} after {} instructions",
            bits.first()
                .map(|_| u32::from_le_bytes([bits[0], bits[1], bits[2], bits[3]])),
            out.action().unwrap_or("?"),
            out.outcome.instructions.unwrap_or(0)
        );
    }
    Ok(())
}
