//! bytes → decode → disassemble → assemble → the same slots; and any text → `assemble` never
//! panics. The first byte selects the mode.
#![no_main]

use apiary_vm::{asm, disasm, insn::insns_from_bytes, LoadOptions, Program};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        let _ = asm::assemble(&String::from_utf8_lossy(rest));
        return;
    }
    let code = &rest[..rest.len() - rest.len() % 8];
    let Ok(insns) = insns_from_bytes(code) else {
        return;
    };
    let options = LoadOptions::all();
    if Program::new(insns.clone(), &options).is_err() {
        // Undecodable slots are still printed (not fatal) by the disassembler.
        let mut pc = 0;
        while pc < insns.len() {
            pc += disasm::format_slot(&insns, pc, &options).1.max(1);
        }
        return;
    }
    let mut text = String::new();
    let mut pc = 0;
    while pc < insns.len() {
        let (line, slots) = disasm::format_slot(&insns, pc, &options);
        text.push_str(&line);
        text.push('\n');
        pc += slots.max(1);
    }
    match asm::assemble(&text) {
        Ok(back) => assert_eq!(back, insns, "round trip changed the slots:\n{text}"),
        Err(e) => panic!("disassembly does not assemble: {e}\n{text}"),
    }
});
