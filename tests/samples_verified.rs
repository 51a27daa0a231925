//! Verified mode against checked mode on the real objects of `../shared/ebpf-samples`: every
//! program the verifier accepts (and apiary can prepare) runs on a set of packets in checked
//! mode on the interpreter and in verified mode on the interpreter and the JIT. r0 or the
//! fault, the packet or context afterwards, and every map must agree after each run. A
//! verifier that proves an access it should not would show here as a fault in checked mode
//! that verified mode does not report.
//!
//! Programs calling helpers whose results differ from run to run (clocks, random numbers) are
//! left out and counted, as are those `expected.tsv` calls unsafe (they leak pointers into
//! maps, whose values differ from engine to engine); the test fails when too few programs ran.
//!
//! Each object is verified once per context tried: the verified module serves the probe and
//! both engines' instances.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use apiary::{Config, ContextKind, EngineKind, Instance, Module, ProgramId, RunOutput, Store};
use apiary_vm::instruction::Instruction;
use apiary_vm::{LoadOptions, Program};
use common::{arp, ipv4, ICMP, TCP, UDP};

/// Linux helpers whose results are not repeatable: ktime_get_ns (5), get_prandom_u32 (7),
/// jiffies64 (118), ktime_get_boot_ns (125), ktime_get_coarse_ns (160), ktime_get_tai_ns (208).
const UNREPEATABLE_HELPERS: [i32; 6] = [5, 7, 118, 125, 160, 208];

/// The contexts programs are tried in: their section's, then tc's, then XDP's.
const CONTEXTS: [Option<ContextKind>; 3] = [
    None,
    Some(ContextKind::SkBuff { l2: true }),
    Some(ContextKind::Xdp),
];

/// Fewest programs that must run on every setup for the comparison to mean anything (135 ran
/// once apiary had the packet helpers; 105 before).
const MIN_COMPARED: usize = 130;

fn samples() -> Option<PathBuf> {
    apiary_testkit::shared::corpus("ebpf-samples")
}

fn objects(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| Some(e.ok()?.path())).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            objects(&p, out);
        } else if p.extension().is_some_and(|x| x == "o") {
            out.push(p);
        }
    }
}

/// `(file, section, function)` of the programs `expected.tsv` marks unsafe.
fn known_unsafe(dir: &Path) -> Vec<(String, String, String)> {
    let text = std::fs::read_to_string(dir.join("expected.tsv")).unwrap_or_default();
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            let unsafe_row = f.get(4)?.starts_with("unsafe");
            unsafe_row.then(|| (f[0].to_owned(), f[1].to_owned(), f[2].to_owned()))
        })
        .collect()
}

fn repeatable(insns: &[apiary_vm::Insn]) -> bool {
    let Ok(program) = Program::new(insns.to_vec(), &LoadOptions::default()) else {
        return false;
    };
    !program.instructions().iter().any(|i| {
        matches!(i, Instruction::Call { helper } if UNREPEATABLE_HELPERS.contains(&(*helper as i32)))
    })
}

/// The inputs every program runs on, in order (maps carry state from one run to the next).
fn inputs() -> Vec<Vec<u8>> {
    let mut random = Vec::with_capacity(128);
    let mut x: u32 = 0x1234_5678;
    for _ in 0..128 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        random.push(x as u8);
    }
    vec![
        ipv4(TCP, 1, 40),
        ipv4(UDP, 2, 16),
        ipv4(ICMP, 3, 8),
        arp(),
        ipv4(TCP, 1, 0),
        vec![0u8; 14],
        random,
        Vec::new(),
    ]
}

/// What one run left: the outcome (or why it could not run), the data, and every map.
fn observe(o: &mut (Instance, Store), id: ProgramId, input: &[u8]) -> String {
    let (instance, store) = o;
    let run: Result<RunOutput, String> = instance.run(store, id, input).map_err(|e| e.to_string());
    let maps: Vec<String> = instance
        .dump_maps()
        .iter()
        .map(ToString::to_string)
        .collect();
    match run {
        Ok(out) => format!(
            "{:?} data {:02x?} maps {maps:?}",
            out.outcome.result, out.data
        ),
        Err(e) => format!("error {e} maps {maps:?}"),
    }
}

#[test]
fn verified_runs_match_checked_runs_on_the_samples() {
    let Some(dir) = samples() else {
        return;
    };
    let mut files = Vec::new();
    objects(&dir, &mut files);
    let unsafe_rows = known_unsafe(&dir);
    let setups = [
        (EngineKind::Interp, false),
        (EngineKind::Interp, true),
        (EngineKind::Jit, true),
    ];
    let (mut compared, mut unrepeatable, mut refused, mut skipped_unsafe) = (0, 0, 0, 0usize);
    let mut proven = (0usize, 0usize);
    let mut reasons = std::collections::BTreeMap::new();
    for path in &files {
        let Ok(bytes) = std::fs::read(path) else {
            continue;
        };
        let module = |verified, context| {
            let config = Config {
                verified,
                context,
                stores: 1,
                // Up to nine of these instances are alive at once, and sandboxed instances with
                // packet contexts need their (Cilium-sized: 1 GiB) window below 4 GiB, which
                // holds three. This suite compares proofs with checked runs; the sandbox's
                // equivalence on objects is `tests/sandbox_objects.rs`'s.
                unsandboxed: true,
                ..Config::default()
            };
            Module::from_elf(&config, &bytes).ok().map(Arc::new)
        };
        let instance = |module: &Arc<Module>, engine| {
            let instance = Instance::new(Arc::clone(module), engine).ok()?;
            let store = Store::new(&instance).ok()?;
            Some((instance, store))
        };
        // The section's own context first; sections apiary does not know (Cilium's "2/1",
        // PREVAIL's "test") may be tc or XDP programs, as `apiary run --type` would say.
        let probes: Vec<(Option<ContextKind>, Arc<Module>, Instance)> = CONTEXTS
            .iter()
            .filter_map(|&c| {
                let m = module(true, c)?;
                let (i, _) = instance(&m, EngineKind::Interp)?;
                Some((c, m, i))
            })
            .collect();
        let Some((_, first, _)) = probes.first() else {
            continue;
        };
        let mut sessions: [Option<Vec<(Instance, Store)>>; CONTEXTS.len()] = Default::default();
        for id in first.programs() {
            let index = id.index();
            let Some((context, verified, probe)) = probes
                .iter()
                .find(|(_, _, p)| p.program_error(id).is_none())
            else {
                let texts: Vec<String> = probes
                    .iter()
                    .filter_map(|(_, _, p)| Some(p.program_error(id)?.to_string()))
                    .collect();
                let missing = texts.iter().find_map(|t| {
                    let (_, id) = t.split_once("unknown helper ")?;
                    Some(id.to_owned())
                });
                let text = texts.first().cloned().unwrap_or_default();
                let key = if let Some(id) = missing {
                    format!("helper {id}, which apiary lacks")
                } else if text.starts_with("verifier:") {
                    "rejected by the verifier in every context tried".to_owned()
                } else {
                    text
                };
                *reasons.entry(key).or_insert(0usize) += 1;
                refused += 1;
                continue;
            };
            let section = &verified.object().programs[index];
            let file = path
                .strip_prefix(&dir)
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_default();
            let row = (file, section.section.clone(), section.function.clone());
            if unsafe_rows.contains(&row) {
                skipped_unsafe += 1;
                continue;
            }
            if !repeatable(&section.insns) {
                unrepeatable += 1;
                continue;
            }
            if let Some((n, all)) = probe.proven_accesses(id) {
                proven = (proven.0 + n, proven.1 + all);
            }
            let name = verified.name(id).unwrap_or_default();
            // One set of instances per context, shared by its programs: every setup sees the
            // same runs in the same order, so the maps stay comparable. The verified setups
            // share the module verified for the probe.
            let slot = CONTEXTS.iter().position(|c| c == context).unwrap_or(0);
            let loaded = sessions[slot].get_or_insert_with(|| {
                setups
                    .iter()
                    .map(|&(engine, is_verified)| {
                        let m = if is_verified {
                            Arc::clone(verified)
                        } else {
                            module(false, *context).expect("parsed once already")
                        };
                        instance(&m, engine).expect("instantiated once already")
                    })
                    .collect()
            });
            for input in inputs() {
                let seen: Vec<String> = loaded.iter_mut().map(|o| observe(o, id, &input)).collect();
                for (s, setup) in seen.iter().zip(&setups).skip(1) {
                    assert_eq!(
                        s,
                        &seen[0],
                        "{} {name} on {setup:?} differs from checked interp on input {input:02x?}",
                        path.display()
                    );
                }
            }
            compared += 1;
        }
    }
    eprintln!(
        "{compared} programs compared on {} inputs (verified interp and JIT vs checked \
         interp); {unrepeatable} left out for clocks or random numbers, {skipped_unsafe} as \
         unsafe; {refused} not runnable in verified mode; {} of {} memory accesses proven",
        inputs().len(),
        proven.0,
        proven.1
    );
    for (reason, n) in &reasons {
        eprintln!("  {n:4} not runnable: {reason}");
    }
    assert!(
        compared >= MIN_COMPARED,
        "only {compared} sample programs compared (at least {MIN_COMPARED} expected)"
    );
}
