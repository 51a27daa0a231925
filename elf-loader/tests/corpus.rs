//! The ebpf-samples corpus as the loader's oracle: every `safe` program must load and pass
//! `Program::new`; `invalid-elf` rows and malformed files must be rejected with an error.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use apiary_elf::{ElfError, Object};
use apiary_vm::{LoadOptions, Program};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/ebpf-samples");

fn corpus() -> Option<PathBuf> {
    let dir = PathBuf::from(CORPUS);
    if dir.join("expected.tsv").is_file() {
        Some(dir)
    } else {
        println!("NOTICE: ../shared/ebpf-samples not found; corpus test not run");
        None
    }
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

#[test]
fn invalid_folder_is_rejected() {
    let Some(dir) = corpus() else { return };
    let safe_files: BTreeSet<String> = rows(&dir)
        .into_iter()
        .filter(|r| r.truth == "safe")
        .map(|r| r.file)
        .collect();
    for entry in std::fs::read_dir(dir.join("invalid")).expect("invalid/ readable") {
        let path = entry.expect("dir entry").path();
        let bytes = std::fs::read(&path).expect("readable");
        let name = format!(
            "invalid/{}",
            path.file_name().and_then(|n| n.to_str()).unwrap_or("")
        );
        match Object::parse(&bytes) {
            Err(e) => println!("{name}: rejected ({}): {e}", e.kind()),
            Ok(obj) => println!(
                "{name}: LOADED (safe row: {}) programs {:?}",
                safe_files.contains(&name),
                obj.programs
                    .iter()
                    .map(|p| (&p.section, &p.function))
                    .collect::<Vec<_>>()
            ),
        }
    }
}
