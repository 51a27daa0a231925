//! (d) `.rodata`/`.data`/`.bss` globals and bpf-to-bpf calls: `cargo run --example globals`.
//! The host changes a `.rodata` constant between runs, as libbpf lets a loader do.

#[path = "support/packets.rs"]
mod packets;

use apiary::object::{LoadedObject, ObjectOptions};
use apiary::EngineKind;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut obj = LoadedObject::load(
        include_bytes!("globals.o"),
        &ObjectOptions::for_engine(EngineKind::Jit),
    )?;
    let prog = obj.program("hash_packet")?;
    let key = 0u32.to_le_bytes();
    for prefix in [16u32, 4] {
        if let Some(mut rodata) = obj.lookup(".rodata", &key)? {
            rodata[4..8].copy_from_slice(&prefix.to_le_bytes());
            obj.update(".rodata", &key, &rodata, 0)?;
        }
        let out = obj.run(prog, &packets::ipv4(6, 1, 20))?;
        println!("prefix {prefix}: {}", out.action().unwrap_or("?"));
    }
    for dump in obj.dump_maps() {
        print!("{dump}");
    }
    Ok(())
}
