//! The ebpf-samples corpus as the loader's oracle: every `safe` program must load and pass
//! `Program::new`; `invalid-elf` rows and malformed files must be rejected with an error.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use apiary_elf::{ElfError, Object};
use apiary_vm::{LoadOptions, Program};

fn corpus() -> Option<PathBuf> {
    apiary_testkit::shared::corpus("ebpf-samples/expected.tsv")?;
    apiary_testkit::shared::corpus("ebpf-samples")
}

struct Row {
    file: String,
    section: String,
    function: String,
    truth: String,
}

fn rows(dir: &Path) -> Vec<Row> {
    let text = std::fs::read_to_string(dir.join("expected.tsv")).expect("expected.tsv readable");
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let get = |i: usize| f.get(i).copied().unwrap_or("").to_string();
            Row {
                file: get(0),
                section: get(1),
                function: get(2),
                truth: get(4),
            }
        })
        .collect()
}

const OPTIONS: LoadOptions = LoadOptions {
    callx: false,
    packet: true,
    kfunc: false,
};

#[test]
fn expected_tsv_rows() {
    let Some(dir) = corpus() else { return };
    let rows = rows(&dir);
    let mut loaded: BTreeMap<String, Result<Object, ElfError>> = BTreeMap::new();
    for r in &rows {
        loaded.entry(r.file.clone()).or_insert_with(|| {
            let bytes = std::fs::read(dir.join(&r.file)).expect("corpus file readable");
            Object::parse(&bytes)
        });
    }
    let mut failures = Vec::new();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for r in &rows {
        let outcome = match &loaded[&r.file] {
            Err(e) => Err(format!("load: {e}")),
            Ok(obj) => match obj.program(&r.section, &r.function) {
                None => Err(format!(
                    "no program; have {:?}",
                    obj.programs
                        .iter()
                        .map(|p| (&p.section, &p.function))
                        .collect::<Vec<_>>()
                )),
                Some(p) => Program::new(p.insns.clone(), &OPTIONS)
                    .map(|_| ())
                    .map_err(|e| format!("Program::new: {e}")),
            },
        };
        let key = format!(
            "{} {}",
            r.truth,
            if outcome.is_ok() { "ok" } else { "rejected" }
        );
        *counts.entry(key).or_default() += 1;
        match (r.truth.as_str(), &outcome) {
            ("safe", Err(e)) => {
                failures.push(format!("{} {} {}: {e}", r.file, r.section, r.function))
            }
            ("invalid-elf", Ok(())) => failures.push(format!(
                "{} {} {}: loaded but invalid-elf",
                r.file, r.section, r.function
            )),
            (_, Err(e)) => println!("(not safe) {} {} {}: {e}", r.file, r.section, r.function),
            _ => {}
        }
    }
    println!("row outcomes: {counts:#?}");
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    for result in loaded.values() {
        *kinds
            .entry(result.as_ref().map_or_else(ElfError::kind, |_| "loaded"))
            .or_default() += 1;
    }
    println!("files: {kinds:?}");
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Files in `invalid/` that load, and why that is right. Every other file there must be
/// rejected by the loader or by `Program::new`.
const INVALID_BUT_LOADABLE: &[(&str, &str)] = &[
    (
        "c049438cf649269921736e7306231385350dea58",
        "damage only in a debug section's name; expected.tsv: safe",
    ),
    (
        "ef2e42c0bfcf4dab6b9c3926759365b6dfa73634",
        "damage only in debug sections; expected.tsv: safe",
    ),
    (
        "af99e766f6ba44fd7f2135c3e325c817224b99a3",
        "damage only in a non-code section's name; expected.tsv: unknown",
    ),
    (
        "dac31099c3bb5b6395908c82cc8540e77a6a1849",
        "well-formed ELF and bytecode; unsafe memory use is the verifier's to reject",
    ),
    (
        "timeout-29db93548c671165313b314d4f83a3eefa24df37",
        "well-formed; made PREVAIL time out, the verifier's concern",
    ),
];

#[test]
fn invalid_folder_is_rejected() {
    let Some(dir) = corpus() else { return };
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    let mut wrongly_loaded = Vec::new();
    for entry in std::fs::read_dir(dir.join("invalid")).expect("invalid/ readable") {
        let path = entry.expect("dir entry").path();
        let bytes = std::fs::read(&path).expect("readable");
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_string();
        let verdict = match Object::parse(&bytes) {
            Err(e) => {
                println!("invalid/{name}: rejected ({}): {e}", e.kind());
                e.kind().to_string()
            }
            Ok(obj) => {
                let bad = obj
                    .programs
                    .iter()
                    .find_map(|p| Program::new(p.insns.clone(), &OPTIONS).err());
                match bad {
                    Some(e) => {
                        println!("invalid/{name}: loads, Program::new rejects: {e}");
                        "program-invalid".to_string()
                    }
                    None if INVALID_BUT_LOADABLE.iter().any(|(f, _)| *f == name) => {
                        "loads (expected)".to_string()
                    }
                    None => {
                        wrongly_loaded.push(name.clone());
                        "LOADED".to_string()
                    }
                }
            }
        };
        *kinds.entry(verdict).or_default() += 1;
    }
    println!("invalid/: {kinds:?}");
    assert!(
        wrongly_loaded.is_empty(),
        "malformed files loaded: {wrongly_loaded:?}"
    );
}

/// iproute2 map records name a map-of-maps' inner template by its `id` field (`inner_id`), not
/// by `inner_idx` (the slot an inner map goes in): Cilium's Maglev outer maps hold 4078-byte
/// arrays, not the map that happens to sit at index `inner_idx`.
#[test]
fn iproute2_inner_map_by_id() {
    let Some(dir) = corpus() else { return };
    let bytes =
        std::fs::read(dir.join("cilium/bpf_xdp_dsr_linux.o")).expect("corpus file readable");
    let obj = apiary_elf::load(&bytes).expect("cilium object loads");
    let outer: Vec<_> = obj
        .maps
        .iter()
        .filter(|m| {
            m.name.starts_with("cilium_lb4_maglev") || m.name.starts_with("cilium_lb6_maglev")
        })
        .filter(|m| m.map_type == apiary_elf::maps::MAP_TYPE_HASH_OF_MAPS)
        .collect();
    assert_eq!(outer.len(), 2, "two Maglev outer maps");
    for m in outer {
        let inner = m.inner.as_deref().expect("inner template");
        assert_eq!((inner.map_type, inner.value_size), (2, 4078), "{}", m.name);
        let i = m.inner_index.expect("inner index");
        assert!(obj.maps[i].name.contains("maglev"), "{}", obj.maps[i].name);
    }
}
