//! The ELF loader on arbitrary bytes: never panics; every program section it returns either
//! loads as a `Program` or is refused with an error.
#![no_main]

use apiary_vm::{LoadOptions, Program};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(object) = apiary_elf::load(data) {
        for section in &object.programs {
            let _ = Program::new(section.insns.clone(), &LoadOptions::all());
        }
    }
});
