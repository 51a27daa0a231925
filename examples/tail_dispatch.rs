//! (c) A dispatcher using tail calls, its prog array filled by the host:
//! `cargo run --example tail_dispatch`. Tail calls run on the interpreter (the JIT has no run
//! control yet and refuses the dispatcher).

#[path = "support/packets.rs"]
mod packets;

use apiary::object::{LoadedObject, ObjectOptions};
use apiary::EngineKind;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut obj = LoadedObject::load(
        include_bytes!("tail_dispatch.o"),
        &ObjectOptions::for_engine(EngineKind::Interp),
    )?;
    obj.set_tail_call("handlers", 6, "handle_tcp")?;
    obj.set_tail_call("handlers", 17, "handle_udp")?;
    let dispatch = obj.program("dispatch")?;
    for proto in [6, 17, 1, 6] {
        let out = obj.run(dispatch, &packets::ipv4(proto, 1, 8))?;
        println!("protocol {proto:3}: {}", out.action().unwrap_or("?"));
    }
    let names = ["unhandled", "tcp", "udp", "icmp"];
    for ((_, value), name) in obj.entries("hits")?.iter().zip(names) {
        println!("{name:9}: {}", packets::le(value));
    }
    Ok(())
}
