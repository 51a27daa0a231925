//! Verifier speed over the whole ebpf-samples corpus (every program of every ELF object under
//! `../shared/ebpf-samples`; if the directory is absent, a notice and no benchmark).
//!
//! `cargo bench -p apiary-benches --bench verifier`
//!
//! Before criterion runs, every program is verified (fastest of 3) and the median, p99 and
//! maximum time per program are printed, then the peak memory of a fresh process verifying the
//! whole corpus (the `verify_corpus` binary, `VmHWM`). Criterion then times
//! `verifier/corpus` (one iteration verifies every program; throughput in programs) and the
//! slowest programs one by one (`verifier/program/<name>`).

use std::hint::black_box;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use apiary::platform::map_infos;
use apiary_benches::corpus::{corpus_root, objects};
use apiary_verifier::{verify, MapInfo, Platform, ProgramType};
use apiary_vm::{LoadOptions, Program};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

struct Job {
    name: String,
    program: Program,
    maps: Vec<MapInfo>,
    ptype: ProgramType,
}

fn corpus(root: &Path) -> Vec<Job> {
    let mut files = Vec::new();
    objects(root, root, &mut files);
    let mut jobs = Vec::new();
    for file in files {
        let Some(obj) = std::fs::read(root.join(&file))
            .ok()
            .and_then(|b| apiary_elf::load(&b).ok())
        else {
            continue;
        };
        let maps: Vec<MapInfo> = map_infos(&obj);
        for p in &obj.programs {
            if let Ok(program) = Program::new(p.insns.clone(), &LoadOptions::default()) {
                jobs.push(Job {
                    name: format!("{file} {}/{}", p.section, p.function),
                    program,
                    maps: maps.clone(),
                    ptype: apiary::platform::choose_type(&file, &p.section, None).verifier_type(),
                });
            }
        }
    }
    jobs
}

fn run(job: &Job, platform: &Platform) -> bool {
    verify(
        black_box(&job.program),
        platform,
        &job.ptype,
        black_box(&job.maps),
    )
    .is_ok()
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Per-program times (fastest of 3), sorted slowest first.
fn report(jobs: &[Job], platform: &Platform) -> Vec<(Duration, usize)> {
    let mut times: Vec<(Duration, usize)> = jobs
        .iter()
        .enumerate()
        .map(|(i, j)| {
            let best = (0..3)
                .map(|_| {
                    let t = Instant::now();
                    run(j, platform);
                    t.elapsed()
                })
                .min()
                .unwrap_or_default();
            (best, i)
        })
        .collect();
    times.sort_by_key(|t| std::cmp::Reverse(t.0));
    let mut sorted: Vec<Duration> = times.iter().map(|t| t.0).collect();
    sorted.sort();
    let accepted = jobs.iter().filter(|j| run(j, platform)).count();
    println!(
        "verifier corpus: {} programs ({accepted} accepted): median {:?}, p99 {:?}, max {:?} ({})",
        jobs.len(),
        pct(&sorted, 0.5),
        pct(&sorted, 0.99),
        sorted[sorted.len() - 1],
        jobs[times[0].1].name
    );
    // Peak memory in a fresh process (this one also holds criterion's state).
    match Command::new(env!("CARGO_BIN_EXE_verify_corpus"))
        .args(["--summary", "--reps", "1"])
        .output()
    {
        Ok(out) => {
            for line in String::from_utf8_lossy(&out.stdout).lines() {
                if line.starts_with("peak memory") {
                    println!("verifier corpus: {line}");
                }
            }
        }
        Err(e) => println!("verifier corpus: peak memory not measured ({e})"),
    }
    times
}

fn bench(c: &mut Criterion) {
    let Some(root) = corpus_root() else {
        return;
    };
    let jobs = corpus(&root);
    if jobs.is_empty() {
        println!("NOTICE: no programs under {}", root.display());
        return;
    }
    let platform = Platform::linux();
    let times = report(&jobs, &platform);

    let mut group = c.benchmark_group("verifier");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    group.throughput(Throughput::Elements(jobs.len() as u64));
    group.bench_function("corpus", |b| {
        b.iter(|| jobs.iter().filter(|j| run(j, &platform)).count());
    });
    group.throughput(Throughput::Elements(1));
    for &(_, i) in times.iter().take(3) {
        let j = &jobs[i];
        let id = format!("program/{}", j.name.replace(['/', ' '], "_"));
        group.bench_function(id, |b| b.iter(|| run(j, &platform)));
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
