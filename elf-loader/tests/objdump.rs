//! Relocations checked against `llvm-objdump -dr`, and subprogram linking checked by hand.
//!
//! For every relocation objdump lists in a program section, the loaded program must carry the
//! resolution: a map symbol → `lddw` src 5 naming a map of that name; a global data section →
//! src 6 naming that section's map; an undefined symbol on a call → that helper's Linux id.

use std::path::{Path, PathBuf};
use std::process::Command;

use apiary_elf::Object;
use apiary_vm::linux_helpers::helper_id;
use apiary_vm::opcode::{lddw_src, CALL, LDDW};
use apiary_vm::{LoadOptions, Program};

const OBJDUMP: &str = "/usr/bin/llvm-objdump";

fn corpus_file(name: &str) -> Option<PathBuf> {
    apiary_testkit::shared::corpus(&format!("ebpf-samples/{name}"))
}

/// (section, byte offset, relocation type, symbol) for every relocation objdump prints.
fn objdump_relocations(path: &Path) -> Option<Vec<(String, u64, String, String)>> {
    let out = Command::new(OBJDUMP).arg("-dr").arg(path).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut section = String::new();
    let mut relocs = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("Disassembly of section ") {
            section = rest.trim_end_matches(':').to_string();
        } else if line.contains("R_BPF_") {
            let mut parts = line.split_whitespace();
            let (Some(offset), Some(kind), Some(symbol)) =
                (parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            let offset = u64::from_str_radix(offset.trim_end_matches(':'), 16).ok()?;
            relocs.push((
                section.clone(),
                offset,
                kind.to_string(),
                symbol.to_string(),
            ));
        }
    }
    Some(relocs)
}

#[test]
fn relocations_match_objdump() {
    if !Path::new(OBJDUMP).exists() {
        // A host tool, not shared data: a skip everywhere, but one the coverage summary shows.
        println!("NOTICE: {OBJDUMP} not found; objdump cross-check not run");
        let mut c = apiary_testkit::Coverage::new("elf_objdump_relocations");
        c.skip(format!("{OBJDUMP} not installed"));
        c.finish();
        return;
    }
    let files = [
        "build/externalfunction.o",
        "build/global_variable.o",
        "build/twomaps_btf.o",
        "build/map_in_map.o",
        "linux/sockex1_kern.o",
        "linux/tracex2_kern.o",
        "cilium/bpf_lxc.o",
    ];
    let mut checked = 0;
    for file in files {
        let Some(path) = corpus_file(file) else {
            return;
        };
        let obj = Object::parse(&std::fs::read(&path).expect("readable")).expect("loads");
        let relocs = objdump_relocations(&path).expect("objdump runs");
        for (section, offset, kind, symbol) in relocs {
            // Only sections holding exactly one program whose entry starts the section: there
            // section slots and program slots coincide.
            let programs: Vec<_> = obj
                .programs
                .iter()
                .filter(|p| p.section == section)
                .collect();
            let [program] = programs.as_slice() else {
                continue;
            };
            let slot = (offset / 8) as usize;
            let insn = program.insns[slot];
            let at = format!("{file} {section}+{offset:#x} {kind} {symbol}");
            match kind.as_str() {
                "R_BPF_64_64" => {
                    assert_eq!(insn.op, LDDW, "{at}");
                    let map = &obj.maps[usize::try_from(insn.imm).expect("index")];
                    if symbol.starts_with(".data")
                        || symbol.starts_with(".rodata")
                        || symbol.starts_with(".bss")
                    {
                        assert_eq!(insn.src, lddw_src::MAP_IDX_VALUE, "{at}");
                        assert_eq!(map.name, symbol, "{at}");
                    } else if insn.src == lddw_src::MAP_IDX {
                        assert_eq!(map.name, symbol, "{at}");
                    } else {
                        // A named global variable: its map is a data section.
                        assert_eq!(insn.src, lddw_src::MAP_IDX_VALUE, "{at}");
                    }
                    assert!(program.maps_used.contains(&(insn.imm as usize)), "{at}");
                }
                "R_BPF_64_32" if helper_id(&symbol).is_some() => {
                    assert_eq!((insn.op, insn.src), (CALL, 0), "{at}");
                    assert_eq!(Some(insn.imm as u32), helper_id(&symbol), "{at}");
                }
                _ => continue,
            }
            checked += 1;
        }
    }
    println!("checked {checked} relocations against llvm-objdump");
    assert!(checked > 100, "only {checked} relocations checked");
}

#[test]
fn concrete_map_and_helper_relocations() {
    let Some(path) = corpus_file("build/externalfunction.o") else {
        return;
    };
    let obj = Object::parse(&std::fs::read(path).expect("readable")).expect("loads");
    let p = obj.program(".text", "func").expect("program");
    // objdump: `4: r1 = 0 ll  R_BPF_64_64 test_map` and `6: call -1  R_BPF_64_32 bpf_map_lookup_elem`.
    let map = obj
        .maps
        .iter()
        .position(|m| m.name == "test_map")
        .expect("test_map");
    assert_eq!(
        (p.insns[4].op, p.insns[4].src, p.insns[4].imm),
        (LDDW, lddw_src::MAP_IDX, map as i32)
    );
    assert_eq!(
        (p.insns[6].op, p.insns[6].src, p.insns[6].imm),
        (CALL, 0, 1)
    );

    let Some(path) = corpus_file("build/global_variable.o") else {
        return;
    };
    let obj = Object::parse(&std::fs::read(path).expect("readable")).expect("loads");
    let p = obj.program(".text", "func").expect("program");
    // `5: r2 = 4 ll  R_BPF_64_64 .bss`: the .bss map, offset 4 in the second slot.
    let bss = obj
        .maps
        .iter()
        .position(|m| m.name == ".bss")
        .expect(".bss map");
    assert_eq!(
        (p.insns[5].src, p.insns[5].imm, p.insns[6].imm),
        (lddw_src::MAP_IDX_VALUE, bss as i32, 4)
    );
    let rodata = obj
        .maps
        .iter()
        .find(|m| m.name == ".rodata")
        .expect(".rodata map");
    assert_eq!(
        (
            rodata.map_type,
            rodata.key_size,
            rodata.value_size,
            rodata.max_entries
        ),
        (2, 4, 4, 1)
    );
    assert!(matches!(rodata.kind, apiary_elf::MapKind::Rodata { .. }));
    let data = obj
        .maps
        .iter()
        .find(|m| m.name == ".data")
        .expect(".data map");
    assert_eq!(data.initial.len(), 40);
}

#[test]
fn subprograms_are_linked_with_fixed_displacements() {
    let Some(path) = corpus_file("build/bpf2bpf.o") else {
        return;
    };
    let obj = Object::parse(&std::fs::read(path).expect("readable")).expect("loads");
    // `test` func (37 slots) calls add2 at slots 7 and 9; add2 (8 slots) calls add1 twice.
    let p = obj.program("test", "func").expect("program");
    assert_eq!(p.insns.len(), 37 + 8 + 13);
    for call in [7, 9] {
        assert_eq!((p.insns[call].op, p.insns[call].src), (CALL, 1));
        assert_eq!(call as i64 + 1 + i64::from(p.insns[call].imm), 37);
    }
    for call in [37 + 4, 37 + 6] {
        assert_eq!((p.insns[call].op, p.insns[call].src), (CALL, 1));
        assert_eq!(call as i64 + 1 + i64::from(p.insns[call].imm), 45);
    }
    let program = Program::new(p.insns.clone(), &LoadOptions::default()).expect("valid");
    let starts: Vec<usize> = program.functions().iter().map(|f| f.start).collect();
    assert_eq!(starts, [0, 37, 45]);
    // `.text` functions are programs too: add2 links add1 after itself.
    let add2 = obj.program(".text", "add2").expect("add2");
    assert_eq!(add2.insns.len(), 8 + 13);
}
