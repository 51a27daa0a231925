//! Prints what apiary-elf makes of an object file: maps, programs, license.
//! Usage: `cargo run -p apiary-elf --example elfdump -- FILE.o`

use apiary_elf::Object;

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: elfdump FILE.o");
        std::process::exit(2);
    };
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(1);
        }
    };
    match Object::parse(&bytes) {
        Err(e) => {
            eprintln!("{path}: error ({}): {e}", e.kind());
            std::process::exit(1);
        }
        Ok(obj) => {
            println!("license: {:?}", obj.license);
            for (i, m) in obj.maps.iter().enumerate() {
                println!(
                    "map {i}: {} type {} key {} value {} max {} flags {:#x} pinning {} kind {:?} inner {:?} inner_index {:?} initial {} bytes",
                    m.name, m.map_type, m.key_size, m.value_size, m.max_entries, m.flags, m.pinning, m.kind,
                    m.inner.as_ref().map(|i| (i.map_type, i.key_size, i.value_size, i.max_entries)),
                    m.inner_index, m.initial.len()
                );
            }
            for p in &obj.programs {
                println!(
                    "program {} / {}: {:?}, {} slots, maps {:?}",
                    p.section,
                    p.function,
                    p.program_type,
                    p.insns.len(),
                    p.maps_used
                );
            }
        }
    }
}
