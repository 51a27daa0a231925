//! Prints the per-instruction abstract states of one ebpf-samples program:
//! `cargo run -p apiary-verifier --example dump -- FILE SECTION FUNCTION`.

use apiary::platform::{inner_maps, map_infos};
use apiary_verifier::{verify_with, Options, Platform};
use apiary_vm::{LoadOptions, Program};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, file, section, function] = &args[..] else {
        eprintln!("usage: dump FILE SECTION FUNCTION");
        return;
    };
    let root = apiary_testkit::shared::root().join("ebpf-samples");
    let bytes = match std::fs::read(root.join(file)) {
        Ok(b) => b,
        Err(e) => return eprintln!("{e}"),
    };
    let obj = match apiary_elf::load(&bytes) {
        Ok(o) => o,
        Err(e) => return eprintln!("{e}"),
    };
    let Some(p) = obj.program(section, function) else {
        return eprintln!("no such program");
    };
    let prog = match Program::new(p.insns.clone(), &LoadOptions::default()) {
        Ok(p) => p,
        Err(e) => return eprintln!("{e}"),
    };
    let maps = map_infos(&obj);
    let inner_maps = inner_maps(&obj);
    for (i, m) in maps.iter().enumerate() {
        println!("map {i}: {m:?}");
    }
    for (i, m) in &inner_maps {
        println!("inner map of map {i}: {m:?}");
    }
    let ptype = apiary::platform::choose_type(file, section, None).verifier_type();
    let options = Options {
        log: true,
        inner_maps,
        ..Options::default()
    };
    let (r, log) = verify_with(&prog, &Platform::linux(), &ptype, &maps, &options);
    for (pc, state) in log.iter().enumerate() {
        if let (Some(ins), Some(slot)) = (prog.instructions().get(pc), prog.insns().get(pc)) {
            let text = apiary_vm::disasm::format_instruction(ins, *slot, pc);
            println!("{pc:5}: {text}\n       {state}");
        }
    }
    match r {
        Ok(v) => println!("ACCEPTED r0={:?}", v.r0),
        Err(e) => println!("REJECTED {e}"),
    }
}
