//! Malformed input must give an error, never a panic, hang or huge allocation: corpus objects
//! with flipped bits, overwritten bytes and truncations, plus targeted damage to the ELF header,
//! the section header table and the symbol table.

use std::sync::OnceLock;

use apiary_elf::Object;
use apiary_vm::{LoadOptions, Program};
use proptest::prelude::*;

/// Small objects covering legacy maps, BTF maps, map-in-map, global data, subprograms, RELA.
const FILES: &[&str] = &[
    "build/bpf2bpf.o",
    "build/global_variable.o",
    "build/map_in_map.o",
    "build/map_in_map_legacy.o",
    "build/twomaps_btf.o",
    "build/prog_array.o",
    "build/ringbuf_in_map.o",
    "linux/sockex1_kern.o",
    "linux/test_map_in_map_kern.o",
    "prototype-kernel/xdp_ddos01_blacklist_kern.o",
];

fn load_files() -> &'static [Vec<u8>] {
    static FILES_BYTES: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    FILES_BYTES.get_or_init(|| {
        FILES
            .iter()
            .filter_map(|f| apiary_testkit::shared::corpus(&format!("ebpf-samples/{f}")))
            .map(|path| std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
            .collect()
    })
}

/// Parses and, if that succeeds, checks every program: neither step may panic.
fn exercise(bytes: &[u8]) -> bool {
    match Object::parse(bytes) {
        Ok(obj) => {
            for p in &obj.programs {
                let _ = Program::new(p.insns.clone(), &LoadOptions::default());
            }
            true
        }
        Err(e) => {
            // Every error renders a message naming what went wrong.
            assert!(!e.to_string().is_empty());
            false
        }
    }
}

fn u64_at(b: &[u8], at: usize) -> usize {
    b.get(at..at + 8).map_or(0, |s| {
        u64::from_le_bytes(s.try_into().unwrap_or([0; 8])) as usize
    })
}

#[test]
fn truncations_are_errors() {
    let files = load_files();
    if files.is_empty() {
        return;
    }
    for bytes in files {
        // clang writes the section header table last, so every cut loses part of it.
        for len in (0..bytes.len()).step_by(7) {
            assert!(
                !exercise(&bytes[..len]),
                "truncated to {len} bytes but loaded"
            );
        }
    }
}

#[test]
fn header_and_table_damage() {
    let files = load_files();
    if files.is_empty() {
        return;
    }
    let (mut ok, mut rejected) = (0, 0);
    for bytes in files {
        // ELF header, every byte of every section header, and the first symbols.
        let shoff = u64_at(bytes, 0x28);
        let mut positions: Vec<usize> = (0..64).collect();
        positions.extend(shoff..bytes.len().min(shoff + 64 * 48));
        for pos in positions {
            for value in [0x00, 0xff, 0x80, 0x7f, 0x01] {
                let mut m = bytes.to_vec();
                if pos >= m.len() || m[pos] == value {
                    continue;
                }
                m[pos] = value;
                if exercise(&m) {
                    ok += 1;
                } else {
                    rejected += 1;
                }
            }
        }
    }
    println!("header/table mutations: {ok} still load, {rejected} rejected");
    assert!(rejected > 0);
}

#[test]
fn invalid_folder_never_panics() {
    let Some(dir) = apiary_testkit::shared::corpus("ebpf-samples/invalid") else {
        return;
    };
    let dir = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in dir.flatten() {
        let bytes = std::fs::read(entry.path()).expect("readable");
        exercise(&bytes);
        // Also every truncation of the fuzzer finds.
        for len in (0..bytes.len()).step_by(13) {
            exercise(&bytes[..len]);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_mutations_never_panic(
        file in 0..FILES.len(),
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..12),
        cut in proptest::option::of(any::<usize>()),
    ) {
        let files = load_files();
        if let Some(bytes) = files.get(file % files.len().max(1)) {
            let mut m = bytes.clone();
            for (pos, x) in flips {
                let len = m.len();
                m[pos % len] ^= x | 1;
            }
            if let Some(cut) = cut {
                m.truncate(cut % (m.len() + 1));
            }
            exercise(&m);
        }
    }
}
