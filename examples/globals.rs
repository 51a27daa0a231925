//! (d) `.rodata`/`.data`/`.bss` globals and bpf-to-bpf calls: `cargo run --example globals`.
//! The host changes a `.rodata` constant between runs, as libbpf lets a loader do.

#[path = "support/packets.rs"]
mod packets;

use apiary::{Config, EngineKind, Instance, Module};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let module = Module::from_elf(&Config::new(), include_bytes!("globals.o"))?;
    let prog = module.find("hash_packet")?;
    let rodata = module.map(".rodata")?.index();
    let instance = Instance::new(module, EngineKind::Jit)?;
    let mut store = instance.store()?;
    let maps = instance.maps();
    let key = 0u32.to_le_bytes();
    for prefix in [16u32, 4] {
        // `.rodata` is read-only for programs, not for the host.
        if let Some(mut bytes) = maps.lookup(rodata, &key)? {
            bytes[4..8].copy_from_slice(&prefix.to_le_bytes());
            maps.update(rodata, &key, &bytes, 0)?;
        }
        let out = instance.run(&mut store, prog, &packets::ipv4(6, 1, 20))?;
        println!("prefix {prefix}: {}", out.action().unwrap_or("?"));
    }
    for dump in instance.dump_maps() {
        print!("{dump}");
    }
    Ok(())
}
