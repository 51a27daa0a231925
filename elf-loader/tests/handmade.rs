//! A hand-built object for the one relocation the corpus lacks: a callback address
//! (`lddw` + R_BPF_64_64 against a `.text` function, as `bpf_loop` callers have) together with
//! a helper call by name.

use apiary_elf::{Object, ProgramType};
use apiary_vm::insn::{insns_to_bytes, Insn};
use apiary_vm::{Instruction, LoadOptions, Program};

use apiary_testkit::elf::{
    build, rel, sym, Section, SHF_ALLOC_EXEC, SHT_PROGBITS, SHT_REL, SHT_STRTAB, SHT_SYMTAB,
};

/// A section with its link, info and entry size.
fn section(
    name: &str,
    kind: u32,
    flags: u64,
    data: Vec<u8>,
    link: u32,
    info: u32,
    entsize: u64,
) -> Section {
    Section {
        link,
        info,
        entsize,
        ..Section::new(name, kind, flags, data)
    }
}

#[test]
fn callback_address_and_helper_by_name() {
    // .text: static int cb(...) { return 0; }
    let text = insns_to_bytes(&[Insn::new(0xb7, 0, 0, 0, 0), Insn::new(0x95, 0, 0, 0, 0)]);
    // xdp: r2 = cb ll; r1 = 4; r3 = 0; r4 = 0; call bpf_loop; r0 = 2; exit
    let prog = insns_to_bytes(&[
        Insn::new(0x18, 2, 0, 0, 0),
        Insn::new(0, 0, 0, 0, 0),
        Insn::new(0xb7, 1, 0, 0, 4),
        Insn::new(0xb7, 3, 0, 0, 0),
        Insn::new(0xb7, 4, 0, 0, 0),
        Insn::new(0x85, 0, 1, 0, -1),
        Insn::new(0xb7, 0, 0, 0, 2),
        Insn::new(0x95, 0, 0, 0, 0),
    ]);
    let strtab = b"\0cb\0prog\0bpf_loop\0GPL\0".to_vec();
    // Section indices: 1 .text, 2 xdp, 3 .relxdp, 4 license, 5 .symtab, 6 .strtab.
    let symtab = [
        sym(0, 0, 0, 0, 0),
        sym(1, 0x02, 1, 0, 16), // cb: LOCAL FUNC in .text
        sym(4, 0x12, 2, 0, 64), // prog: GLOBAL FUNC in xdp
        sym(9, 0x10, 0, 0, 0),  // bpf_loop: GLOBAL NOTYPE, undefined
    ]
    .concat();
    let rels = [rel(0, 1, 1), rel(40, 3, 10)].concat();
    let bytes = build(&[
        section(".text", SHT_PROGBITS, SHF_ALLOC_EXEC, text, 0, 0, 0),
        section("xdp", SHT_PROGBITS, SHF_ALLOC_EXEC, prog, 0, 0, 0),
        section(".relxdp", SHT_REL, 0, rels, 5, 2, 16),
        section("license", SHT_PROGBITS, 0x3, b"GPL\0".to_vec(), 0, 0, 0),
        section(".symtab", SHT_SYMTAB, 0, symtab, 6, 2, 24),
        section(".strtab", SHT_STRTAB, 0, strtab, 0, 0, 0),
    ]);
    let obj = Object::parse(&bytes).expect("loads");
    assert_eq!(obj.license.as_deref(), Some("GPL"));
    assert_eq!(obj.programs.len(), 1, "{:?}", obj.programs);
    let p = obj.program("xdp", "prog").expect("program");
    assert_eq!(p.program_type, ProgramType::Xdp);
    assert_eq!(p.insns.len(), 10);
    let program = Program::new(p.insns.clone(), &LoadOptions::default()).expect("valid");
    let ins = program.instructions();
    assert!(
        matches!(
            ins[0],
            Instruction::LoadImm64 {
                value: apiary_vm::instruction::Lddw::CodeAddr(8),
                ..
            }
        ),
        "{:?}",
        ins[0]
    );
    assert_eq!(ins[5], Instruction::Call { helper: 181 });
    let starts: Vec<usize> = program.functions().iter().map(|f| f.start).collect();
    assert_eq!(starts, [0, 8]);
}

/// One code section `sec` (index 1) with its relocations (index 2), a `.text` (index 3), the
/// symbol table (4) and string table (5).
fn object_with(
    sec: &str,
    code: &[Insn],
    text: &[Insn],
    symbols: &[u8],
    rels: &[u8],
    strtab: &[u8],
) -> Vec<u8> {
    let first_global = 1u32;
    build(&[
        section(
            sec,
            SHT_PROGBITS,
            SHF_ALLOC_EXEC,
            insns_to_bytes(code),
            0,
            0,
            0,
        ),
        section(&format!(".rel{sec}"), SHT_REL, 0, rels.to_vec(), 4, 1, 16),
        section(
            ".text",
            SHT_PROGBITS,
            SHF_ALLOC_EXEC,
            insns_to_bytes(text),
            0,
            0,
            0,
        ),
        section(
            ".symtab",
            SHT_SYMTAB,
            0,
            symbols.to_vec(),
            5,
            first_global,
            24,
        ),
        section(".strtab", SHT_STRTAB, 0, strtab.to_vec(), 0, 0, 0),
    ])
}

const EXIT: Insn = Insn::new(0x95, 0, 0, 0, 0);
const MOV0: Insn = Insn::new(0xb7, 0, 0, 0, 0);

#[test]
fn static_functions_of_program_sections_are_programs() {
    // tc: global `main`, static `tail` (a tail-call target); .text: static `sub`, global `g`.
    let strtab = b"\0main\0tail\0sub\0g\0";
    let symbols = [
        sym(0, 0, 0, 0, 0),
        sym(1, 0x12, 1, 0, 16),   // main: GLOBAL FUNC
        sym(6, 0x02, 1, 16, 16),  // tail: LOCAL FUNC in tc
        sym(11, 0x02, 3, 0, 16),  // sub: LOCAL FUNC in .text
        sym(15, 0x12, 3, 16, 16), // g: GLOBAL FUNC in .text
    ]
    .concat();
    let bytes = object_with(
        "tc",
        &[MOV0, EXIT, MOV0, EXIT],
        &[MOV0, EXIT, MOV0, EXIT],
        &symbols,
        &[],
        strtab,
    );
    let obj = Object::parse(&bytes).expect("loads");
    let names: Vec<_> = obj
        .programs
        .iter()
        .map(|p| format!("{}:{}", p.section, p.function))
        .collect();
    assert!(names.contains(&"tc:main".to_owned()), "{names:?}");
    assert!(
        names.contains(&"tc:tail".to_owned()),
        "a static function of a program section is a program: {names:?}"
    );
    assert!(
        !names.iter().any(|n| n.ends_with(":sub")),
        "a static .text function is a subprogram: {names:?}"
    );
    assert!(obj
        .programs
        .iter()
        .all(|p| p.section != "tc" || p.program_type == ProgramType::SchedCls));
}

#[test]
fn externs_resolve_as_libbpf_and_unlinkable_symbols_fail_one_program() {
    // kprobe/f holds six programs of 4 slots each (lddw + ldx/call + exit):
    //   kver:   r1 = LINUX_KERNEL_VERSION ll; r0 = *(u32 *)(r1 + 0); exit
    //   weakc:  r1 = CONFIG_WEAK ll (weak, no value: reads 0); r0 = *(u8 *)(r1 + 0); exit
    //   strongc: r1 = CONFIG_STRONG ll (strong, no value): fails
    //   ksym:   r1 = runqueues ll (strong __ksym): fails
    //   kfunc:  call bpf_task_acquire (strong kfunc); exit: fails
    //   weakk:  r1 = bpf_weak_fn ll; if r1 == 0 goto +1; call bpf_weak_fn; exit
    let lddw = |dst| [Insn::new(0x18, dst, 0, 0, 0), Insn::new(0, 0, 0, 0, 0)];
    let mut code = Vec::new();
    code.extend(lddw(1));
    code.extend([Insn::new(0x61, 0, 1, 0, 0), EXIT]); // 0: kver
    code.extend(lddw(1));
    code.extend([Insn::new(0x71, 0, 1, 0, 0), EXIT]); // 4: weakc
    code.extend(lddw(1));
    code.extend([Insn::new(0x71, 0, 1, 0, 0), EXIT]); // 8: strongc
    code.extend(lddw(1));
    code.extend([Insn::new(0x79, 0, 1, 0, 0), EXIT]); // 12: ksym
    code.extend([Insn::new(0x85, 0, 1, 0, -1), MOV0, MOV0, EXIT]); // 16: kfunc
    code.extend(lddw(1));
    code.extend([
        Insn::new(0x15, 1, 0, 1, 0),
        Insn::new(0x85, 0, 1, 0, -1),
        MOV0,
        EXIT,
    ]); // 20: weakk
    let strtab = b"\0kver\0weakc\0strongc\0ksym\0kfunc\0weakk\0LINUX_KERNEL_VERSION\0CONFIG_WEAK\0CONFIG_STRONG\0runqueues\0bpf_task_acquire\0bpf_weak_fn\0";
    let at = |name: &str| {
        let needle = [name.as_bytes(), b"\0"].concat();
        strtab
            .windows(needle.len())
            .position(|w| w == needle.as_slice())
            .expect("name") as u32
    };
    let symbols = [
        sym(0, 0, 0, 0, 0),
        sym(at("kver"), 0x12, 1, 0, 32),
        sym(at("weakc"), 0x12, 1, 32, 32),
        sym(at("strongc"), 0x12, 1, 64, 32),
        sym(at("ksym"), 0x12, 1, 96, 32),
        sym(at("kfunc"), 0x12, 1, 128, 32),
        sym(at("weakk"), 0x12, 1, 160, 48),
        sym(at("LINUX_KERNEL_VERSION"), 0x10, 0, 0, 0), // 7
        sym(at("CONFIG_WEAK"), 0x20, 0, 0, 0),          // 8
        sym(at("CONFIG_STRONG"), 0x10, 0, 0, 0),        // 9
        sym(at("runqueues"), 0x10, 0, 0, 0),            // 10
        sym(at("bpf_task_acquire"), 0x10, 0, 0, 0),     // 11
        sym(at("bpf_weak_fn"), 0x20, 0, 0, 0),          // 12
    ]
    .concat();
    let rels = [
        rel(0, 7, 1),
        rel(32, 8, 1),
        rel(64, 9, 1),
        rel(96, 10, 1),
        rel(128, 11, 10),
        rel(160, 12, 1),
        rel(184, 12, 10),
    ]
    .concat();
    let bytes = object_with("kprobe/f", &code, &[], &symbols, &rels, strtab);
    let mut options = apiary_elf::ParseOptions::default();
    options
        .kconfig
        .insert("LINUX_KERNEL_VERSION".into(), "0x061200".into());
    let obj = Object::parse_options(&bytes, &options)
        .expect("one unlinkable program does not fail the object");
    assert_eq!(obj.programs.len(), 6);
    let get = |f: &str| obj.program("kprobe/f", f).expect(f);
    // The .kconfig map holds LINUX_KERNEL_VERSION and the weak CONFIG_WEAK (0).
    let kconfig = obj
        .maps
        .iter()
        .position(|m| m.name == ".kconfig")
        .expect(".kconfig map");
    let map = &obj.maps[kconfig];
    assert_eq!(&map.initial[..4], &0x0006_1200u32.to_le_bytes());
    assert!(map.initial[4..].iter().all(|&b| b == 0));
    for f in ["kver", "weakc"] {
        let p = get(f);
        assert_eq!(p.link_error, None, "{f}");
        assert_eq!(
            (p.insns[0].src, p.insns[0].imm),
            (6, kconfig as i32),
            "{f}: a pointer into .kconfig"
        );
        assert_eq!(p.maps_used, vec![kconfig]);
    }
    for (f, symbol) in [
        ("strongc", "CONFIG_STRONG"),
        ("ksym", "runqueues"),
        ("kfunc", "bpf_task_acquire"),
    ] {
        let e = get(f)
            .link_error
            .clone()
            .unwrap_or_else(|| panic!("{f} links"));
        assert!(e.to_string().contains(symbol), "{f}: {e}");
        assert!(get(f).insns.is_empty());
    }
    // The weak kfunc's address is 0 and its call a kfunc call the guard makes dead code.
    let p = get("weakk");
    assert_eq!(p.link_error, None);
    assert_eq!((p.insns[0].src, p.insns[0].imm, p.insns[1].imm), (0, 0, 0));
    assert_eq!((p.insns[3].op, p.insns[3].src), (0x85, 2));
    let program = Program::new(
        p.insns.clone(),
        &LoadOptions {
            kfunc: true,
            ..LoadOptions::default()
        },
    );
    assert!(program.is_ok(), "{program:?}");
}
