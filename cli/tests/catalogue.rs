//! `apiary verify` and `apiary run` choose a program's type the same way (issue 12 item 3):
//! for every section name of libbpf's table (hand-built objects), for a section libbpf does
//! not know, under `--type`, and for every program of `../shared/realworld` and
//! `../shared/ebpf-samples`. verify reports the type in its JSON (`"type"`), run with
//! `--stats` (`type = ...`, printed before anything runs).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use apiary_linux::{Match, ProgramType, SECTION_DEFS};
use apiary_testkit::elf::{
    build, sym, Section, SHF_ALLOC_EXEC, SHT_PROGBITS, SHT_STRTAB, SHT_SYMTAB,
};
use apiary_testkit::shared::corpus;
use apiary_testkit::Coverage;

/// 64 zero bytes as hex: a packet with an Ethernet header for packet types, no larger than
/// any context structure.
fn input() -> String {
    "00".repeat(64)
}

/// An object with one program `prog` (`r0 = 0; exit`) in section `section`.
fn object(section: &str) -> Vec<u8> {
    let code = [
        [0xb7, 0, 0, 0, 0, 0, 0, 0], // r0 = 0
        [0x95, 0, 0, 0, 0, 0, 0, 0], // exit
    ]
    .concat();
    let mut symtab = Section::new(
        ".symtab",
        SHT_SYMTAB,
        0,
        [sym(0, 0, 0, 0, 0), sym(1, 0x12, 1, 0, code.len() as u64)].concat(),
    );
    symtab.link = 4;
    symtab.info = 1;
    symtab.entsize = 24;
    build(&[
        Section::new(section, SHT_PROGBITS, SHF_ALLOC_EXEC, code),
        Section::new("license", SHT_PROGBITS, 0x3, b"GPL\0".to_vec()),
        symtab,
        Section::new(".strtab", SHT_STRTAB, 0, b"\0prog\0".to_vec()),
    ])
}

fn apiary(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_apiary"))
        .args(args)
        .output()
        .expect("apiary runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The string value after `"key":` at or after `from` in `json`, and where it ends.
fn string_after(json: &str, key: &str, from: usize) -> Option<(String, usize)> {
    let pat = format!("\"{key}\":");
    let at = from + json[from..].find(&pat)? + pat.len();
    let rest = json[at..].trim_start();
    let start = at + (json[at..].len() - rest.len());
    let mut chars = rest.strip_prefix('"')?.char_indices();
    let mut value = String::new();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((value, start + 1 + i + 1)),
            '\\' => {
                if let Some((_, e)) = chars.next() {
                    value.push(e);
                }
            }
            c => value.push(c),
        }
    }
    None
}

/// `(section, function) -> type` from `apiary verify FILE --json [extra]`, or `None` when the
/// object does not load.
fn verify_types(path: &Path, extra: &[&str]) -> Option<BTreeMap<(String, String), String>> {
    let file = path.to_str().expect("utf-8 path");
    let (_, out, _) = apiary(&[&["verify", file, "--json"], extra].concat());
    if !out.trim_start().starts_with('[') {
        return None;
    }
    let mut types = BTreeMap::new();
    let mut at = 0;
    while let Some((section, next)) = string_after(&out, "section", at) {
        let (function, next) = string_after(&out, "function", next).expect("function");
        let (ty, next) = string_after(&out, "type", next).expect("type");
        types.insert((section, function), ty);
        at = next;
    }
    Some(types)
}

/// The type `apiary run FILE --section S --function F --stats [extra]` reports.
fn run_type(path: &Path, section: &str, function: &str, extra: &[&str]) -> Option<String> {
    let file = path.to_str().expect("utf-8 path");
    let mem = input();
    let args = [
        "run",
        file,
        "--section",
        section,
        "--function",
        function,
        "--unverified",
        "--stats",
        "--mem",
        &mem,
    ];
    let (_, out, _) = apiary(&[&args[..], extra].concat());
    out.lines()
        .find_map(|l| l.strip_prefix("type = "))
        .map(str::to_owned)
}

/// A section name each table row matches.
fn example_section(pattern: &str, matching: Match) -> String {
    match matching {
        Match::Exact => pattern.to_owned(),
        Match::Plus => format!("{pattern}/target"),
        Match::Slash => format!("{pattern}target"),
    }
}

#[test]
fn both_commands_choose_the_table_type_for_every_section_name() {
    let dir = std::env::temp_dir().join(format!("apiary-catalogue-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut cases: Vec<(String, Vec<&str>, &str)> = SECTION_DEFS
        .iter()
        .map(|d| {
            let section = example_section(d.pattern, d.matching);
            let expected = ProgramType::from_section(&section).name();
            (section, Vec::new(), expected)
        })
        .collect();
    // A section libbpf does not know, and `--type` over a known one.
    cases.push(("from-netdev".to_owned(), Vec::new(), "unspec"));
    cases.push(("kprobe/f".to_owned(), vec!["--type", "xdp"], "xdp"));
    cases.push(("xdp".to_owned(), vec!["--type", "cgroup_skb"], "cgroup_skb"));
    cases.push(("2/1".to_owned(), vec!["--type", "tc"], "sched_cls"));
    let mut compared = 0;
    for (i, (section, extra, expected)) in cases.iter().enumerate() {
        let path = dir.join(format!("s{i}.o"));
        std::fs::write(&path, object(section)).expect("write object");
        let verified = verify_types(&path, extra).unwrap_or_else(|| panic!("{section} loads"));
        let key = (section.clone(), "prog".to_owned());
        assert_eq!(
            verified.get(&key).map(String::as_str),
            Some(*expected),
            "{section} {extra:?}"
        );
        let ran = run_type(&path, section, "prog", extra);
        assert_eq!(ran.as_deref(), Some(*expected), "{section} {extra:?}");
        compared += 1;
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(compared > SECTION_DEFS.len());
}

#[test]
fn both_commands_choose_the_same_type_for_every_corpus_program() {
    let mut cov = Coverage::new("catalogue: verify and run choose one type (corpora)");
    for name in ["realworld", "ebpf-samples"] {
        let Some(root) = corpus(name) else {
            cov.skip(format!("{name}: corpus not found"));
            continue;
        };
        let tsv = std::fs::read_to_string(root.join("expected.tsv")).expect("expected.tsv");
        let mut files: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
        for line in tsv.lines().skip(1) {
            let cols: Vec<&str> = line.split('\t').collect();
            if let [file, section, function, ..] = cols[..] {
                files
                    .entry(file.to_owned())
                    .or_default()
                    .push((section.to_owned(), function.to_owned()));
            }
        }
        for (file, programs) in files {
            let path: PathBuf = root.join(&file);
            let Some(verified) = verify_types(&path, &[]) else {
                cov.skip("object does not load");
                continue;
            };
            // One run per section: the type depends on the file and section only.
            let mut seen = BTreeMap::new();
            for (section, function) in programs {
                let Some(ty) = verified.get(&(section.clone(), function.clone())) else {
                    cov.skip("program not listed by verify");
                    continue;
                };
                if let Some(previous) = seen.insert(section.clone(), ty.clone()) {
                    assert_eq!(&previous, ty, "{file} {section}: one type per section");
                    continue;
                }
                let ran = run_type(&path, &section, &function, &[]);
                assert_eq!(ran.as_ref(), Some(ty), "{file} {section}:{function}");
                cov.compared();
            }
        }
    }
    cov.finish();
}
