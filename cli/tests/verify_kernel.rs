//! `apiary verify` with the loader flags and the kernel oracle: `--kconfig FILE` gives
//! `__kconfig` externs their values, `--btf FILE` is the CO-RE target (a guarded relocation the
//! target cannot satisfy costs nothing, an unguarded one rejects its program alone, naming
//! CO-RE), and `--kernel` adds the running kernel's verdict through libbpf.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use apiary_testkit::elf::{
    btf, btf_ext_core, btf_info, build, rel, sym, Section, SHF_ALLOC_EXEC, SHT_PROGBITS, SHT_REL,
    SHT_STRTAB, SHT_SYMTAB,
};
use apiary_vm::insn::{insns_to_bytes, Insn};

fn apiary(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_apiary"))
        .args(args)
        .output()
        .expect("apiary runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A scratch directory for this test binary's files.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("apiary-verify-kernel-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir.join(name)
}

fn write(name: &str, bytes: &[u8]) -> PathBuf {
    let path = scratch(name);
    std::fs::write(&path, bytes).expect("write");
    path
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

const EXIT: Insn = Insn {
    op: 0x95,
    dst: 0,
    src: 0,
    off: 0,
    imm: 0,
};

#[test]
fn kconfig_file_gives_config_values() {
    // kprobe/f: r1 = &CONFIG_APIARY_TEST ll; r0 = *(u8 *)(r1 + 0); exit (a strong extern).
    let code = insns_to_bytes(&[
        Insn::new(0x18, 1, 0, 0, 0),
        Insn::new(0, 0, 0, 0, 0),
        Insn::new(0x71, 0, 1, 0, 0),
        EXIT,
    ]);
    let strtab = b"\0f\0CONFIG_APIARY_TEST\0".to_vec();
    let symtab = [
        sym(0, 0, 0, 0, 0),
        sym(1, 0x12, 1, 0, 32),
        sym(3, 0x10, 0, 0, 0),
    ]
    .concat();
    let object = build(&[
        Section::new("kprobe/f", SHT_PROGBITS, SHF_ALLOC_EXEC, code),
        Section {
            link: 4,
            info: 1,
            entsize: 16,
            ..Section::new(".relkprobe/f", SHT_REL, 0, rel(0, 2, 1))
        },
        Section::new("license", SHT_PROGBITS, 0x3, b"GPL\0".to_vec()),
        Section {
            link: 5,
            info: 1,
            entsize: 24,
            ..Section::new(".symtab", SHT_SYMTAB, 0, symtab)
        },
        Section::new(".strtab", SHT_STRTAB, 0, strtab),
    ]);
    let obj = write("kconfig.o", &object);
    let out = apiary(&["verify", s(&obj)]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("CONFIG_APIARY_TEST"), "{}", text(&out));

    let config = write(
        "config",
        b"# a kernel configuration\nCONFIG_APIARY_TEST=y\n",
    );
    let out = apiary(&["verify", s(&obj), "--kconfig", s(&config)]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("f: accepted"), "{}", text(&out));

    let out = apiary(&["verify", s(&obj), "--kconfig", "/nonexistent/config"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("error: /nonexistent/config"),
        "{}",
        text(&out)
    );
}

// Strings: 1 int, 5 s, 7 a, 9 d, 11 kprobe/x, 20 0:0, 24 0:1.
const STRS: &[u8] = b"\0int\0s\0a\0d\0kprobe/x\x000:0\x000:1\0";
const INT: u32 = 1;
const STRUCT: u32 = 4;

/// kprobe/x holds two programs reading the offset of `s.d`:
/// - guarded: `r0 = 0; r2 = exists(s.d); if r2 == 0 goto +1; r0 = offsetof(s.d); exit`
/// - unguarded: `r0 = offsetof(s.d); exit`
fn core_object() -> Vec<u8> {
    let local = btf(
        &[
            1,
            btf_info(INT, 0, false),
            4,
            (1 << 24) | 32,
            5,
            btf_info(STRUCT, 2, false),
            8,
            7,
            1,
            0,
            9,
            1,
            32,
        ],
        STRS,
    );
    let code = insns_to_bytes(&[
        Insn::new(0xb7, 0, 0, 0, 0),
        Insn::new(0xb7, 2, 0, 0, 1),
        Insn::new(0x15, 2, 0, 1, 0),
        Insn::new(0xb7, 0, 0, 0, 4),
        EXIT,
        Insn::new(0xb7, 0, 0, 0, 4),
        EXIT,
    ]);
    // (insn byte offset, type, access "0:1" = s.d, kind)
    let ext = btf_ext_core(11, &[[8, 2, 24, 2], [24, 2, 24, 0], [40, 2, 24, 0]]);
    let strtab = b"\0guarded\0unguarded\0".to_vec();
    let symtab = [
        sym(0, 0, 0, 0, 0),
        sym(1, 0x12, 1, 0, 40),
        sym(9, 0x12, 1, 40, 16),
    ]
    .concat();
    build(&[
        Section::new("kprobe/x", SHT_PROGBITS, SHF_ALLOC_EXEC, code),
        Section::new("license", SHT_PROGBITS, 0x3, b"GPL\0".to_vec()),
        Section {
            link: 5,
            info: 1,
            entsize: 24,
            ..Section::new(".symtab", SHT_SYMTAB, 0, symtab)
        },
        Section::new(".BTF", SHT_PROGBITS, 0, local),
        Section::new(".strtab", SHT_STRTAB, 0, strtab),
        Section::new(".BTF.ext", SHT_PROGBITS, 0, ext),
    ])
}

#[test]
fn btf_file_is_the_core_target() {
    let obj = write("core.o", &core_object());
    // A target where `s` has no `d`: the guarded read is dead code, the unguarded one poisoned.
    let without_d = write(
        "without_d.btf",
        &btf(
            &[
                1,
                btf_info(INT, 0, false),
                4,
                (1 << 24) | 32,
                5,
                btf_info(STRUCT, 1, false),
                4,
                7,
                1,
                0,
            ],
            STRS,
        ),
    );
    let out = apiary(&["verify", s(&obj), "--btf", s(&without_d)]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    assert!(t.contains("kprobe/x:guarded: accepted"), "{t}");
    assert!(
        t.contains("kprobe/x:unguarded: rejected at instruction 0: a CO-RE relocation"),
        "{t}"
    );
    // The object's own BTF (an ELF file with .BTF) satisfies both.
    let out = apiary(&["verify", s(&obj), "--btf", s(&obj)]);
    assert!(out.status.success(), "{}", text(&out));

    for bad in [
        "/nonexistent/vmlinux",
        s(&write("garbage.btf", b"not BTF at all")),
    ] {
        let out = apiary(&["verify", s(&obj), "--btf", bad]);
        assert_eq!(out.status.code(), Some(1), "{bad}: {}", text(&out));
        assert!(text(&out).starts_with("error: "), "{}", text(&out));
    }
    let raw = write("raw.asm", b"mov %r0, 0\nexit\n");
    let out = apiary(&["verify", s(&raw), "--btf", s(&obj)]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("error: --btf: applies to ELF objects only"),
        "{}",
        text(&out)
    );
}

#[test]
fn kernel_verdicts_are_shown_beside_apiarys() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let obj = repo.join("examples/xdp_counter.o");
    let out = apiary(&["verify", s(&obj), "--kernel", "--json"]);
    let t = text(&out);
    match apiary_conformance::kernel::libbpf::usable() {
        Ok(()) => {
            assert!(out.status.success(), "{t}");
            assert!(
                t.contains(r#""kernel":{"accepted":true,"reason":null}"#),
                "{t}"
            );
            let out = apiary(&["verify", s(&obj), "--kernel"]);
            let t = text(&out);
            assert!(
                t.starts_with("kernel: 0 of 1 kernel verdicts differ from apiary's"),
                "{t}"
            );
            assert!(t.contains("    kernel: accepted"), "{t}");
        }
        Err(why) => {
            assert!(
                !apiary_conformance::kernel::required(),
                "APIARY_REQUIRE_KERNEL=1 but the kernel cannot be used: {why}"
            );
            assert!(t.contains(r#""kernel":{"environment":"#), "{t}");
        }
    }
    let raw = write("raw2.asm", b"mov %r0, 0\nexit\n");
    let out = apiary(&["verify", s(&raw), "--kernel"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("error: --kernel: applies to ELF objects only"),
        "{}",
        text(&out)
    );
}
