//! Verifies every program of the ebpf-samples corpus (every program of every ELF object under
//! `../shared/ebpf-samples`), printing one row per program (time, verdict, the process's peak
//! resident memory so far) and a summary: median, p99 and maximum time per program, peak memory
//! (`VmHWM` of `/proc/self/status`).
//!
//! `cargo run --release -p apiary-benches --bin verify_corpus [-- OPTIONS]`
//!
//! - `--summary`: only the summary.
//! - `--reps N`: verify each program N times and keep the fastest (default 3).
//! - `--per-process`: verify each program in a child process of its own and report each
//!   program's own peak memory (slower; shows which program needs the most memory).
//! - `--one FILE SECTION FUNCTION`: verify one program and print `time_us vmhwm_kb verdict`.
//! - `--root DIR`: another corpus directory.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use apiary::platform::map_infos;
use apiary_benches::corpus::{default_root, objects};
use apiary_elf::Object;
use apiary_verifier::{verify, MapInfo, Platform, ProgramType};
use apiary_vm::{LoadOptions, Program};

/// One verifiable program of the corpus.
struct Job {
    file: String,
    section: String,
    function: String,
    program: Program,
    maps: Vec<MapInfo>,
    ptype: ProgramType,
}

/// Loads every program of the corpus; objects that do not load and programs that do not
/// decode are counted, not verified.
fn load_corpus(root: &Path) -> (Vec<Job>, usize) {
    let mut files = Vec::new();
    objects(root, root, &mut files);
    let mut jobs = Vec::new();
    let mut unloadable = 0;
    for file in files {
        let Some(obj) = std::fs::read(root.join(&file))
            .ok()
            .and_then(|b| apiary_elf::load(&b).ok())
        else {
            unloadable += 1;
            continue;
        };
        jobs.extend(jobs_of(&file, &obj, &mut unloadable));
    }
    (jobs, unloadable)
}

fn jobs_of(file: &str, obj: &Object, unloadable: &mut usize) -> Vec<Job> {
    let maps: Vec<MapInfo> = map_infos(obj);
    let mut out = Vec::new();
    for p in &obj.programs {
        match Program::new(p.insns.clone(), &LoadOptions::default()) {
            Ok(program) => out.push(Job {
                file: file.to_owned(),
                section: p.section.clone(),
                function: p.function.clone(),
                program,
                maps: maps.clone(),
                ptype: apiary::platform::choose_type(file, &p.section, None).verifier_type(),
            }),
            Err(_) => *unloadable += 1,
        }
    }
    out
}

/// Peak resident set size of this process in KiB (`VmHWM`), 0 where unavailable.
fn vmhwm_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// Fastest of `reps` verifications, and the verdict.
fn time_one(job: &Job, platform: &Platform, reps: usize) -> (Duration, bool) {
    let mut best = Duration::MAX;
    let mut ok = false;
    for _ in 0..reps.max(1) {
        let start = Instant::now();
        let r = verify(&job.program, platform, &job.ptype, &job.maps);
        best = best.min(start.elapsed());
        ok = r.is_ok();
    }
    (best, ok)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |f: &str| args.iter().any(|a| a == f);
    let value = |f: &str| {
        args.iter()
            .position(|a| a == f)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let root = value("--root").map_or_else(default_root, PathBuf::from);
    let reps: usize = value("--reps").and_then(|v| v.parse().ok()).unwrap_or(3);
    let platform = Platform::linux();

    if let Some(i) = args.iter().position(|a| a == "--one") {
        let (Some(file), Some(section), Some(function)) =
            (args.get(i + 1), args.get(i + 2), args.get(i + 3))
        else {
            eprintln!("--one FILE SECTION FUNCTION");
            std::process::exit(2);
        };
        let obj = std::fs::read(root.join(file))
            .ok()
            .and_then(|b| apiary_elf::load(&b).ok());
        let mut bad = 0;
        let job = obj.as_ref().and_then(|o| {
            jobs_of(file, o, &mut bad)
                .into_iter()
                .find(|j| &j.section == section && &j.function == function)
        });
        let Some(job) = job else {
            eprintln!("no such program");
            std::process::exit(2);
        };
        let (t, ok) = time_one(&job, &platform, reps);
        println!(
            "{:.1} {} {}",
            us(t),
            vmhwm_kb(),
            if ok { "accepted" } else { "rejected" }
        );
        return;
    }

    if !root.is_dir() {
        println!("NOTICE: {} absent; nothing to verify", root.display());
        return;
    }
    let base_kb = vmhwm_kb();
    let (jobs, unloadable) = load_corpus(&root);
    if jobs.is_empty() {
        println!("NOTICE: no programs under {}", root.display());
        return;
    }
    let loaded_kb = vmhwm_kb();
    let summary = flag("--summary");
    let per_process = flag("--per-process");
    let exe = std::env::current_exe().ok();
    let mut times = Vec::with_capacity(jobs.len());
    let mut accepted = 0;
    let mut peak_each = (0u64, String::new());
    if !summary {
        println!(
            "{:>10} {:>10} {:8} program",
            "time_us",
            if per_process { "hwm_kb" } else { "hwm_kb*" },
            "verdict"
        );
    }
    for job in &jobs {
        let name = format!("{} {}/{}", job.file, job.section, job.function);
        let (t, ok, hwm) = match (&exe, per_process) {
            (Some(exe), true) => {
                let out = Command::new(exe)
                    .args(["--root", &root.to_string_lossy(), "--reps"])
                    .arg(reps.to_string())
                    .args(["--one", &job.file, &job.section, &job.function])
                    .output()
                    .expect("child");
                let text = String::from_utf8_lossy(&out.stdout).into_owned();
                let mut f = text.split_whitespace();
                let t: f64 = f.next().and_then(|v| v.parse().ok()).unwrap_or(0.0);
                let hwm: u64 = f.next().and_then(|v| v.parse().ok()).unwrap_or(0);
                let ok = f.next() == Some("accepted");
                (Duration::from_secs_f64(t / 1e6), ok, hwm)
            }
            _ => {
                let (t, ok) = time_one(job, &platform, reps);
                (t, ok, vmhwm_kb())
            }
        };
        if hwm > peak_each.0 {
            peak_each = (hwm, name.clone());
        }
        accepted += usize::from(ok);
        times.push((t, name.clone()));
        if !summary {
            println!(
                "{:10.1} {hwm:10} {:8} {name}",
                us(t),
                if ok { "accepted" } else { "rejected" }
            );
        }
    }
    let mut sorted: Vec<Duration> = times.iter().map(|(t, _)| *t).collect();
    sorted.sort();
    let total: Duration = sorted.iter().sum();
    let slowest = times
        .iter()
        .max_by_key(|(t, _)| *t)
        .map(|(_, n)| n.clone())
        .unwrap_or_default();
    let peak_kb = if per_process { peak_each.0 } else { vmhwm_kb() };
    println!(
        "programs {} (accepted {accepted}, rejected {}; {unloadable} objects/programs not loadable)",
        jobs.len(),
        jobs.len() - accepted
    );
    println!(
        "time per program: median {:.1} us, p99 {:.1} us, max {:.1} us ({slowest}), total {:.1} ms",
        us(percentile(&sorted, 0.5)),
        us(percentile(&sorted, 0.99)),
        us(*sorted.last().unwrap_or(&Duration::ZERO)),
        total.as_secs_f64() * 1e3
    );
    if per_process {
        println!(
            "peak memory (VmHWM, one process per program): max {:.1} MB ({})",
            peak_kb as f64 / 1024.0,
            peak_each.1
        );
    } else {
        println!(
            "peak memory (VmHWM of this process): {:.1} MB (at start {:.1} MB, after loading the corpus {:.1} MB)",
            peak_kb as f64 / 1024.0,
            base_kb as f64 / 1024.0,
            loaded_kb as f64 / 1024.0
        );
    }
    let ok_median = percentile(&sorted, 0.5) < Duration::from_millis(1);
    let ok_max = sorted
        .last()
        .is_none_or(|m| *m < Duration::from_millis(100));
    let ok_peak = peak_kb < 50 * 1024;
    println!(
        "targets: median < 1 ms {}, max < 100 ms {}, peak < 50 MB {}",
        if ok_median { "met" } else { "MISSED" },
        if ok_max { "met" } else { "MISSED" },
        if ok_peak { "met" } else { "MISSED" }
    );
}
