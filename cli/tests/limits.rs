//! Hostile objects: every map kind with `max_entries`, `value_size` or `key_size` 0xffffffff
//! (legacy `maps` and BTF `.maps`, with and without `BPF_F_NO_PREALLOC`), a huge `.bss`, an
//! over-long program. Each is refused with a precise error before anything is allocated, and
//! the CLI exits 1 with the message while staying small. A legitimate 128 MiB array loads,
//! runs and dumps. Objects are written here, byte by byte, so the test runs everywhere. (In the
//! CLI's crate, which has the `apiary` binary; the library's checks are exercised here too.)

use std::io::Read;
use std::process::{Command, Stdio};

use apiary::object::{LoadedObject, ObjectError, ObjectOptions};
use apiary_elf::ElfError;
use apiary_testkit::elf::{
    build, sym, u32s, Section, SHT_NOBITS, SHT_PROGBITS, SHT_STRTAB, SHT_SYMTAB,
};
use apiary_vm::maps::{map_flags, map_type, MapError, MapOptions};

const HUGE: u32 = 0xffff_ffff;
const GIB: u64 = 1 << 30;

/// One map definition: type, key size, value size, max entries, flags.
#[derive(Clone, Copy)]
struct Def {
    map_type: u32,
    key: u32,
    value: u32,
    max: u32,
    flags: u32,
}

const fn def(map_type: u32, key: u32, value: u32, max: u32, flags: u32) -> Def {
    Def {
        map_type,
        key,
        value,
        max,
        flags,
    }
}

/// What an object holds.
#[derive(Default)]
struct Spec {
    legacy: Vec<(&'static str, Def)>,
    btf: Vec<(&'static str, Def)>,
    bss: Option<u64>,
    /// Instructions of the one program (`r0 = 0` repeated, then `exit`); at least 2.
    insns: usize,
}

/// BTF for `.maps`: one `struct { int (*type)[T]; int (*key_size)[K]; ... }` variable per map.
fn btf(maps: &[(&'static str, Def)]) -> Vec<u8> {
    let mut strings =
        b"\0int\0.maps\0type\0key_size\0value_size\0max_entries\0map_flags\0".to_vec();
    let member_names = [11u32, 16, 25, 36, 48];
    let mut types: Vec<u32> = Vec::new();
    // 1: int
    types.extend([1, 1 << 24, 4, 32]);
    let mut next_id = 2u32;
    let mut vars = Vec::new();
    for (name, d) in maps {
        let mut ptrs = Vec::new();
        for n in [d.map_type, d.key, d.value, d.max, d.flags] {
            // ARRAY of int, index int, n elements; then PTR to it.
            types.extend([0, 3 << 24, 0, 1, 1, n]);
            types.extend([0, 2 << 24, next_id]);
            ptrs.push(next_id + 1);
            next_id += 2;
        }
        let st = next_id;
        types.extend([0, (4 << 24) | 5, 40]);
        for (i, p) in ptrs.iter().enumerate() {
            types.extend([member_names[i], *p, i as u32 * 64]);
        }
        let name_off = strings.len() as u32;
        strings.extend_from_slice(name.as_bytes());
        strings.push(0);
        types.extend([name_off, 14 << 24, st, 1]);
        vars.push(st + 1);
        next_id += 2;
    }
    types.extend([5, (15 << 24) | vars.len() as u32, 40 * vars.len() as u32]);
    for (i, v) in vars.iter().enumerate() {
        types.extend([*v, i as u32 * 40, 40]);
    }
    let type_bytes = u32s(&types);
    let mut out = Vec::new();
    out.extend_from_slice(&0xeb9f_u16.to_le_bytes());
    out.extend_from_slice(&[1, 0]);
    out.extend(u32s(&[
        24,
        0,
        type_bytes.len() as u32,
        type_bytes.len() as u32,
        strings.len() as u32,
    ]));
    out.extend(type_bytes);
    out.extend(strings);
    out
}

fn program(insns: usize) -> Vec<u8> {
    let mut code = Vec::with_capacity(insns * 8);
    for _ in 1..insns.max(2) {
        code.extend_from_slice(&[0xb7, 0, 0, 0, 0, 0, 0, 0]); // r0 = 0
    }
    code.extend_from_slice(&[0x95, 0, 0, 0, 0, 0, 0, 0]); // exit
    code
}

/// Writes the object: 1 xdp, 2 license, then maps, .maps + .BTF, .bss, .symtab, .strtab.
fn object(spec: &Spec) -> Vec<u8> {
    let code = program(spec.insns);
    let mut strtab = b"\0prog\0".to_vec();
    let mut name_of = |n: &str| {
        let at = strtab.len() as u32;
        strtab.extend_from_slice(n.as_bytes());
        strtab.push(0);
        at
    };
    let mut secs = vec![
        Section::new("xdp", SHT_PROGBITS, 0x6, code.clone()),
        Section::new("license", SHT_PROGBITS, 0x3, b"GPL\0".to_vec()),
    ];
    let mut symbols = vec![sym(0, 0, 0, 0, 0), sym(1, 0x12, 1, 0, code.len() as u64)];
    if !spec.legacy.is_empty() {
        let index = secs.len() as u16 + 1;
        let mut data = Vec::new();
        for (i, (name, d)) in spec.legacy.iter().enumerate() {
            data.extend(u32s(&[d.map_type, d.key, d.value, d.max, d.flags]));
            symbols.push(sym(name_of(name), 0x11, index, i as u64 * 20, 20));
        }
        secs.push(Section::new("maps", SHT_PROGBITS, 0x3, data));
    }
    if !spec.btf.is_empty() {
        let index = secs.len() as u16 + 1;
        for (i, (name, _)) in spec.btf.iter().enumerate() {
            symbols.push(sym(name_of(name), 0x11, index, i as u64 * 40, 40));
        }
        secs.push(Section::new(
            ".maps",
            SHT_PROGBITS,
            0x3,
            vec![0; 40 * spec.btf.len()],
        ));
        secs.push(Section::new(".BTF", SHT_PROGBITS, 0, btf(&spec.btf)));
    }
    if let Some(size) = spec.bss {
        let mut s = Section::new(".bss", SHT_NOBITS, 0x3, Vec::new());
        s.size = Some(size);
        secs.push(s);
    }
    let strtab_index = secs.len() as u32 + 2;
    let mut symtab = Section::new(".symtab", SHT_SYMTAB, 0, symbols.concat());
    symtab.link = strtab_index;
    symtab.info = 1;
    symtab.entsize = 24;
    secs.push(symtab);
    secs.push(Section::new(".strtab", SHT_STRTAB, 0, strtab));
    build(&secs)
}

fn options() -> ObjectOptions {
    ObjectOptions {
        maps: MapOptions {
            nr_slots: 4,
            ..MapOptions::default()
        },
        ..ObjectOptions::default()
    }
}

fn load(spec: &Spec) -> Result<LoadedObject, ObjectError> {
    LoadedObject::load(&object(spec), &options())
}

fn map_error(spec: &Spec) -> MapError {
    match load(spec) {
        Err(ObjectError::Map { source, .. }) => source,
        Err(other) => panic!("not a map error: {other}"),
        Ok(_) => panic!("the hostile object loaded"),
    }
}

/// `(kind, definition, expected message)` for each hostile map.
fn hostile_maps() -> Vec<(&'static str, Def, String)> {
    let mem =
        |what: String| format!("{what} exceeds the per-object map memory limit of {GIB} bytes");
    let nopre = map_flags::NO_PREALLOC;
    vec![
        (
            "array max_entries",
            def(map_type::ARRAY, 4, 8, HUGE, 0),
            mem("max_entries 4294967295 × value_size 8 = 34359738360 bytes".into()),
        ),
        (
            "array value_size",
            def(map_type::ARRAY, 4, HUGE, 1, 0),
            mem(
                "max_entries 1 × value_size 4294967295 (padded to 4294967296) = 4294967296 bytes"
                    .into(),
            ),
        ),
        (
            "hash max_entries",
            def(map_type::HASH, 4, 8, HUGE, 0),
            mem(format!(
                "max_entries 4294967295 × 64 bytes per entry (value_size 8 + key_size 4 + 48 \
                 bytes of index, each padded to 8) = {} bytes",
                64 * u64::from(HUGE)
            )),
        ),
        (
            "hash max_entries, no prealloc",
            def(map_type::HASH, 4, 8, HUGE, nopre),
            mem(format!(
                "max_entries 4294967295 × 64 bytes per entry (value_size 8 + key_size 4 + 48 \
                 bytes of index, each padded to 8) = {} bytes",
                64 * u64::from(HUGE)
            )),
        ),
        (
            "hash value_size",
            def(map_type::HASH, 4, HUGE, 16, 0),
            "value_size 4294967295 exceeds the value size limit of 4194304 bytes".into(),
        ),
        (
            "hash value_size, no prealloc",
            def(map_type::HASH, 4, HUGE, 16, nopre),
            "value_size 4294967295 exceeds the value size limit of 4194304 bytes".into(),
        ),
        (
            "hash key_size",
            def(map_type::HASH, HUGE, 8, 16, 0),
            "key_size 4294967295 exceeds the key size limit of 512 bytes".into(),
        ),
        (
            "lru max_entries",
            def(map_type::LRU_HASH, 4, 8, HUGE, 0),
            mem(format!(
                "max_entries 4294967295 × 64 bytes per entry (value_size 8 + key_size 4 + 48 \
                 bytes of index, each padded to 8) = {} bytes",
                64 * u64::from(HUGE)
            )),
        ),
        (
            "lru value_size",
            def(map_type::LRU_HASH, 4, HUGE, 16, 0),
            "value_size 4294967295 exceeds the value size limit of 4194304 bytes".into(),
        ),
        (
            "percpu array max_entries",
            def(map_type::PERCPU_ARRAY, 4, 8, HUGE, 0),
            mem(format!(
                "max_entries 4294967295 × value_size 8 × 4 slots = {} bytes",
                32 * u64::from(HUGE)
            )),
        ),
        (
            "percpu array value_size",
            def(map_type::PERCPU_ARRAY, 4, HUGE, 1, 0),
            "value_size 4294967295 exceeds the per-CPU value size limit of 32768 bytes".into(),
        ),
        (
            "percpu hash max_entries, no prealloc",
            def(map_type::PERCPU_HASH, 4, 8, HUGE, nopre),
            mem(format!(
                "max_entries 4294967295 × 88 bytes per entry (value_size 8 × 4 slots + \
                 key_size 4 + 48 bytes of index, each padded to 8) = {} bytes",
                88 * u64::from(HUGE)
            )),
        ),
        (
            "percpu hash value_size",
            def(map_type::PERCPU_HASH, 4, HUGE, 16, 0),
            "value_size 4294967295 exceeds the per-CPU value size limit of 32768 bytes".into(),
        ),
        (
            "perf event array max_entries",
            def(map_type::PERF_EVENT_ARRAY, 4, 4, HUGE, 0),
            mem(format!(
                "4294967295 perf rings × (65536 bytes of records + 64 bytes of header) = {} bytes",
                65600 * u64::from(HUGE)
            )),
        ),
        (
            "lpm max_entries",
            def(map_type::LPM_TRIE, 8, 8, HUGE, nopre),
            mem(format!(
                "max_entries 4294967295 × 64 bytes per entry (value_size 8 + key_size 8 + 48 \
                 bytes of index, each padded to 8) = {} bytes",
                64 * u64::from(HUGE)
            )),
        ),
        (
            "lpm value_size",
            def(map_type::LPM_TRIE, 8, HUGE, 16, nopre),
            "value_size 4294967295 exceeds the value size limit of 4194304 bytes".into(),
        ),
        (
            "prog array max_entries",
            def(map_type::PROG_ARRAY, 4, 4, HUGE, 0),
            mem(format!(
                "max_entries 4294967295 × 4 bytes per slot = {} bytes",
                4 * u64::from(HUGE)
            )),
        ),
        (
            "queue max_entries",
            def(map_type::QUEUE, 0, 8, HUGE, 0),
            mem(format!(
                "max_entries 4294967295 × (value_size 8 + 16 bytes of index) = {} bytes",
                24 * u64::from(HUGE)
            )),
        ),
        (
            "ringbuf size",
            def(map_type::RINGBUF, 0, 0, 1 << 31, 0),
            "ring buffer size (max_entries) 2147483648 exceeds the ring buffer size limit of \
             268435456 bytes"
                .into(),
        ),
    ]
}

#[test]
fn hostile_legacy_maps_are_refused_by_name_and_size() {
    for (kind, d, message) in hostile_maps() {
        let spec = Spec {
            legacy: vec![("big", d)],
            ..Spec::default()
        };
        let e = map_error(&spec);
        assert!(matches!(e, MapError::TooLarge { .. }), "{kind}: {e:?}");
        assert_eq!(e.to_string(), format!("map \"big\": {message}"), "{kind}");
    }
}

#[test]
fn hostile_btf_maps_are_refused_by_name_and_size() {
    for (kind, d, message) in hostile_maps() {
        let spec = Spec {
            btf: vec![("huge", d)],
            ..Spec::default()
        };
        let e = map_error(&spec);
        assert!(matches!(e, MapError::TooLarge { .. }), "{kind}: {e:?}");
        assert_eq!(e.to_string(), format!("map \"huge\": {message}"), "{kind}");
    }
}

#[test]
fn maps_together_may_not_pass_the_per_object_budget() {
    // Two 768 MiB arrays: each fits alone, not both (nothing is allocated for the second).
    let half = def(map_type::ARRAY, 4, 8, 96 << 20, 0);
    let spec = Spec {
        legacy: vec![("a", half), ("b", half)],
        ..Spec::default()
    };
    let e = map_error(&spec);
    assert_eq!(
        e.to_string(),
        "map \"b\": max_entries 100663296 × value_size 8 = 805306368 bytes, on top of \
         805306368 bytes of earlier maps, exceeds the per-object map memory limit of \
         1073741824 bytes"
    );
}

#[test]
fn huge_bss_is_refused_before_any_allocation() {
    for size in [u64::from(HUGE), 1 << 40, 300 << 20] {
        let spec = Spec {
            bss: Some(size),
            ..Spec::default()
        };
        match load(&spec) {
            Err(ObjectError::Elf {
                source:
                    ElfError::SectionTooLarge {
                        section,
                        size: s,
                        limit,
                    },
            }) => {
                assert_eq!((section.as_str(), s, limit), (".bss", size, 256 << 20));
            }
            Err(other) => panic!("{size}: {other}"),
            Ok(_) => panic!("{size}: loaded"),
        }
    }
}

#[test]
fn over_long_program_is_refused() {
    let spec = Spec {
        insns: 1_000_001,
        ..Spec::default()
    };
    match load(&spec) {
        Err(ObjectError::Elf { source }) => assert_eq!(
            source.to_string(),
            "program prog in section xdp: 1000001 instructions exceed the limit of 1000000 \
             instructions per program"
        ),
        Err(other) => panic!("{other}"),
        Ok(_) => panic!("loaded"),
    }
}

#[test]
fn legitimate_maps_load() {
    let spec = Spec {
        legacy: vec![
            ("arr", def(map_type::ARRAY, 4, 64, 2 << 20, 0)), // 128 MiB
            ("h", def(map_type::HASH, 4, 8, 1 << 20, 0)),
            ("lru", def(map_type::LRU_HASH, 8, 8, 1 << 16, 0)),
            ("pa", def(map_type::PROG_ARRAY, 4, 4, 1 << 16, 0)),
            ("rb", def(map_type::RINGBUF, 0, 0, 1 << 24, 0)),
        ],
        btf: vec![("pc", def(map_type::PERCPU_ARRAY, 4, 8, 1024, 0))],
        bss: Some(1 << 20),
        insns: 2,
    };
    let mut loaded = load(&spec).expect("loads");
    let out = loaded.run(0, &[0; 64]).expect("runs");
    assert_eq!(out.r0(), Some(0));
    let h = loaded.map_index("h").expect("h");
    for i in 0u32..1000 {
        loaded
            .maps()
            .update(h, &i.to_le_bytes(), &u64::from(i).to_le_bytes(), 0)
            .expect("insert");
    }
    loaded
        .maps()
        .update(
            loaded.map_index("arr").expect("arr"),
            &7u32.to_le_bytes(),
            &[1; 64],
            0,
        )
        .expect("array update");
    let dumps: Vec<String> = loaded.dump_maps().iter().map(ToString::to_string).collect();
    assert!(
        dumps[0].starts_with(
            "map 0 arr (array, key 4 B, value 64 B, max 2097152): 2097152 entries (2097151 \
             all-zero not shown)\n  07 00 00 00: 01 01"
        ),
        "{}",
        dumps[0]
    );
}

/// Runs the CLI; returns (exit code, stdout, stderr, peak RSS in KiB) of the child.
// The child is reaped with `wait4` (for its own peak RSS), not `Child::wait`.
#[allow(clippy::zombie_processes)]
fn run_cli(args: &[&str]) -> (i32, String, String, i64) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_apiary"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn apiary");
    let mut err = child.stderr.take().expect("stderr");
    let err_thread = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let mut out = String::new();
    child
        .stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut out)
        .expect("read stdout");
    let stderr = err_thread.join().expect("stderr thread");
    let pid = libc::pid_t::try_from(child.id()).expect("pid");
    let mut status = 0;
    // SAFETY: an all-zero `rusage` is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our unreaped child; `status` and `usage` are valid for writes. The
    // child is reaped here, so `child` is never waited on (dropping it does not wait).
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid, "wait4");
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    (code, out, stderr, usage.ru_maxrss)
}

fn temp_object(name: &str, spec: &Spec) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("apiary-limits-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, object(spec)).expect("write object");
    path
}

/// Peak RSS allowed to the CLI on hostile input.
const RSS_CAP_KIB: i64 = 1 << 20;

#[test]
fn cli_refuses_hostile_objects_with_exit_1_and_small_rss() {
    let cases = [
        (
            "array.o",
            Spec {
                legacy: vec![("big", def(map_type::ARRAY, 4, 8, HUGE, 0))],
                ..Spec::default()
            },
            "map \"big\": max_entries 4294967295 × value_size 8 = 34359738360 bytes exceeds the \
             per-object map memory limit of 1073741824 bytes",
        ),
        (
            "prog_array.o",
            Spec {
                btf: vec![("jumps", def(map_type::PROG_ARRAY, 4, 4, HUGE, 0))],
                ..Spec::default()
            },
            "map \"jumps\": max_entries 4294967295 × 4 bytes per slot",
        ),
        (
            "bss.o",
            Spec {
                bss: Some(u64::from(HUGE)),
                ..Spec::default()
            },
            "section .bss: size 4294967295 bytes exceeds the global data section limit of \
             268435456 bytes",
        ),
    ];
    for (name, spec, message) in cases {
        let path = temp_object(name, &spec);
        let (code, _, stderr, rss) = run_cli(&["run", path.to_str().expect("utf-8 path")]);
        assert_eq!(code, 1, "{name}: {stderr}");
        assert!(stderr.contains(message), "{name}: {stderr}");
        assert!(rss < RSS_CAP_KIB, "{name}: peak RSS {rss} KiB");
    }
}

#[test]
fn cli_runs_and_dumps_a_128_mib_array_in_little_memory() {
    let spec = Spec {
        legacy: vec![("arr", def(map_type::ARRAY, 4, 64, 2 << 20, 0))],
        ..Spec::default()
    };
    let path = temp_object("legit.o", &spec);
    let (code, stdout, stderr, rss) = run_cli(&[
        "run",
        path.to_str().expect("utf-8 path"),
        "--mem",
        "00 00 00 00 00 00 00 00 00 00 00 00 00 00",
        "--dump-maps",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("map 0 arr (array, key 4 B, value 64 B, max 2097152): 2097152 entries"),
        "{stdout}"
    );
    // The array is 128 MiB of lazily committed zeroes: the process stays well below it.
    assert!(rss < 128 << 10, "peak RSS {rss} KiB");
}
