//! Gate 3: the ebpf-samples corpus against `expected.tsv`. No known-bad row may be accepted;
//! accepted `safe` and `unknown` rows are counted (floors asserted below), and the time per
//! program is recorded.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use apiary::platform::{inner_maps, map_infos};
use apiary_elf::Object;
use apiary_verifier::{verify_with, Options, Platform};
use apiary_vm::{LoadOptions, Program};

/// Floors reached by this verifier (`safe`: 252 of 252; `unknown`: 48 of 54).
const SAFE_FLOOR: usize = 252;
const UNKNOWN_FLOOR: usize = 48;

#[test]
fn ebpf_samples_verdicts() {
    let Some(root) = apiary_testkit::shared::corpus("ebpf-samples/expected.tsv")
        .and_then(|_| apiary_testkit::shared::corpus("ebpf-samples"))
    else {
        return;
    };
    let table = std::fs::read_to_string(root.join("expected.tsv")).expect("expected.tsv");
    let platform = Platform::linux();
    let mut objects: HashMap<String, Option<Object>> = HashMap::new();
    let mut counts: HashMap<(String, bool), usize> = HashMap::new();
    let mut bad_accepted = Vec::new();
    let mut safe_rejected = Vec::new();
    let mut total_time = Duration::ZERO;
    let mut max_time = (Duration::ZERO, String::new());
    let only = std::env::var("GATE3_ONLY").ok();
    for line in table.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let [file, section, function, _prevail, truth] = cols[..] else {
            continue;
        };
        if only.as_deref().is_some_and(|o| !line.contains(o)) {
            continue;
        }
        let obj = objects.entry(file.to_owned()).or_insert_with(|| {
            std::fs::read(root.join(file))
                .ok()
                .and_then(|b| apiary_elf::load(&b).ok())
        });
        let name = format!("{file} {section}/{function}");
        let start = Instant::now();
        let verdict: Result<(), String> = match obj
            .as_ref()
            .and_then(|o| o.program(section, function).map(|p| (o, p)))
        {
            None => Err("load failed".into()),
            Some((o, p)) => match Program::new(p.insns.clone(), &LoadOptions::default()) {
                Err(e) => Err(format!("decode: {e}")),
                Ok(prog) => {
                    let maps = map_infos(o);
                    let options = Options {
                        inner_maps: inner_maps(o),
                        ..Options::default()
                    };
                    let ptype = apiary::platform::type_for_object(file, section);
                    verify_with(&prog, &platform, &ptype, &maps, &options)
                        .0
                        .map(|_| ())
                        .map_err(|r| r.to_string())
                }
            },
        };
        let t = start.elapsed();
        total_time += t;
        if t > max_time.0 {
            max_time = (t, name.clone());
        }
        let accepted = verdict.is_ok();
        *counts.entry((truth.to_owned(), accepted)).or_default() += 1;
        match (truth, &verdict) {
            ("unsafe" | "unsafe-or-invalid" | "invalid-elf", Ok(())) => bad_accepted.push(name),
            ("safe", Err(e)) => safe_rejected.push(format!("{name}: {e}")),
            ("unknown", Err(e)) if std::env::var("GATE3_VERBOSE").is_ok() => {
                println!("  unknown rejected {name}: {e}")
            }
            _ => {}
        }
    }
    let get = |t: &str, a: bool| counts.get(&(t.to_owned(), a)).copied().unwrap_or(0);
    for t in [
        "safe",
        "unknown",
        "unsafe",
        "unsafe-or-invalid",
        "invalid-elf",
    ] {
        println!(
            "gate 3: {t:18} accepted {:4} rejected {:4}",
            get(t, true),
            get(t, false)
        );
    }
    println!(
        "gate 3: total time {total_time:?}, max {:?} ({})",
        max_time.0, max_time.1
    );
    for s in &safe_rejected {
        println!("  safe rejected {s}");
    }
    for b in &bad_accepted {
        println!("  BAD ACCEPTED {b}");
    }
    assert!(
        bad_accepted.is_empty(),
        "known-bad programs accepted: {bad_accepted:?}"
    );
    for t in ["unsafe", "unsafe-or-invalid", "invalid-elf"] {
        assert_eq!(get(t, true), 0, "{t} programs accepted");
    }
    if only.is_none() {
        assert!(
            get("safe", true) >= SAFE_FLOOR,
            "safe accepted below floor {SAFE_FLOOR}"
        );
        assert!(
            get("unknown", true) >= UNKNOWN_FLOOR,
            "unknown accepted below floor {UNKNOWN_FLOOR}"
        );
    }
}
