//! Gate 3: the ebpf-samples corpus against `expected.tsv`. No known-bad row may be accepted,
//! and a known-bad row's rejection must carry a safety reason: a verifier panic or a resource
//! limit (iterations, states, time) is no proof that the program is unsafe, so it fails the
//! test (as does a panic on any row). Accepted `safe` and `unknown` rows are counted (floors
//! asserted below), and the time per program is recorded.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use apiary::platform::{inner_maps, map_infos};
use apiary_elf::Object;
use apiary_verifier::{verify_with, Options, Platform, RejectReason};
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
    // Rows rejected for no safety reason (a panic, a resource limit) and panics on any row.
    let mut no_reason = Vec::new();
    // Known-bad rows' rejections by reason kind.
    let mut bad_reasons: HashMap<String, usize> = HashMap::new();
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
        // `Err((message, kind))`; kind `None` when the rejection is no safety verdict.
        let verdict: Result<(), (String, Option<String>)> = match obj
            .as_ref()
            .and_then(|o| o.program(section, function).map(|p| (o, p)))
        {
            None => Err(("load failed".into(), Some("load failed".into()))),
            Some((o, p)) => match Program::new(p.insns.clone(), &LoadOptions::default()) {
                Err(e) => Err((format!("decode: {e}"), Some("decode".into()))),
                Ok(prog) => {
                    let maps = map_infos(o);
                    let options = Options {
                        inner_maps: inner_maps(o),
                        ..Options::default()
                    };
                    let ptype = apiary::platform::choose_type(file, section, None).verifier_type();
                    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        verify_with(&prog, &platform, &ptype, &maps, &options).0
                    }));
                    match run {
                        Err(_) => Err(("verifier panicked".into(), None)),
                        Ok(Ok(_)) => Ok(()),
                        Ok(Err(r)) => {
                            let limit = matches!(
                                r.reason,
                                RejectReason::IterationLimit { .. }
                                    | RejectReason::StateLimit { .. }
                                    | RejectReason::Timeout { .. }
                            );
                            let kind = format!("{:?}", r.reason);
                            let kind = kind
                                .split([' ', '{', '('])
                                .next()
                                .unwrap_or_default()
                                .to_owned();
                            Err((r.to_string(), (!limit).then_some(kind)))
                        }
                    }
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
        let known_bad = matches!(truth, "unsafe" | "unsafe-or-invalid" | "invalid-elf");
        if let Err((e, kind)) = &verdict {
            match kind {
                None if known_bad || e == "verifier panicked" => {
                    no_reason.push(format!("{truth} {name}: {e}"));
                }
                // An `unsafe` row is a valid object: refusing to load it says nothing of safety.
                Some(k) if truth == "unsafe" && (k == "load failed" || k == "decode") => {
                    no_reason.push(format!("{truth} {name}: {e}"));
                }
                Some(k) if known_bad => {
                    *bad_reasons.entry(format!("{truth}: {k}")).or_default() += 1
                }
                _ => {}
            }
        }
        match (truth, &verdict) {
            ("unsafe" | "unsafe-or-invalid" | "invalid-elf", Ok(())) => bad_accepted.push(name),
            ("safe", Err((e, _))) => safe_rejected.push(format!("{name}: {e}")),
            ("unknown", Err((e, _))) if std::env::var("GATE3_VERBOSE").is_ok() => {
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
    let mut reasons: Vec<_> = bad_reasons.iter().collect();
    reasons.sort();
    println!("gate 3: known-bad rows rejected by reason: {reasons:?}");
    assert!(
        no_reason.is_empty(),
        "rejected for no safety reason (a panic or a resource limit is no verdict): {no_reason:#?}"
    );
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
