//! (c) A dispatcher using tail calls, its prog array filled by the host:
//! `cargo run --example tail_dispatch`. Tail calls run on the interpreter (the JIT has no run
//! control yet and refuses the dispatcher).

#[path = "support/packets.rs"]
mod packets;

use apiary::{Config, EngineKind, Instance, Module};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let module = Module::from_elf(&Config::new(), include_bytes!("tail_dispatch.o"))?;
    let dispatch = module.find("dispatch")?;
    let (tcp, udp) = (module.find("handle_tcp")?, module.find("handle_udp")?);
    let (handlers, hits) = (module.map("handlers")?, module.map("hits")?);
    let instance = Instance::new(module, EngineKind::Interp)?;
    // Tail-call targets by handle.
    let slots = instance.prog_array(handlers)?;
    slots.set(6, tcp)?;
    slots.set(17, udp)?;
    let mut store = instance.store()?;
    for proto in [6, 17, 1, 6] {
        let out = instance.run(&mut store, dispatch, &packets::ipv4(proto, 1, 8))?;
        println!("protocol {proto:3}: {}", out.action().unwrap_or("?"));
    }
    let hits = instance.array::<u64>(hits)?;
    for (slot, name) in ["unhandled", "tcp", "udp", "icmp"].iter().enumerate() {
        println!("{name:9}: {}", hits.get(slot as u32)?.unwrap_or(0));
    }
    Ok(())
}
