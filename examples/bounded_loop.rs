//! (e) A bounded loop: `cargo run --example bounded_loop` counts the set bits of a packet.

use std::sync::Arc;

use apiary::{Config, EngineKind, Instance, Module};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let module = Arc::new(Module::from_elf(
        &Config::new(),
        include_bytes!("bounded_loop.o"),
    )?);
    let prog = module.find("popcount")?;
    let bss = module.map(".bss")?;
    for engine in [EngineKind::Interp, EngineKind::Jit] {
        let instance = Instance::new(Arc::clone(&module), engine)?;
        let packet: Vec<u8> = (0u8..=255).collect();
        let out = instance.run(&mut instance.store()?, prog, &packet)?;
        // Global data is one array element of the section's size: raw bytes.
        let bits = instance
            .maps()
            .lookup(bss.index(), &0u32.to_le_bytes())?
            .unwrap_or_default();
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
