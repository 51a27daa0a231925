//! Prints the benchmark results as markdown: ns per run per program and engine with the ratio
//! to native, the geometric mean per engine, per-call overhead, interpreter ns per executed
//! instruction, JIT compile time per 1,000 instructions, and the project's targets.
//!
//! ```sh
//! cargo bench -p apiary-benches --features peers
//! cargo run --release -p apiary-benches --features peers --bin report [CRITERION_DIR]
//! ```
//!
//! Reads `<CRITERION_DIR>/**/new/{benchmark,estimates}.json` (default: `$CARGO_TARGET_DIR/criterion`,
//! else `target/criterion` of the workspace). Figures are criterion's median estimate.
//! Built with `peers`, it also says why an engine has no figure for a program ("n/a: reason").

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use apiary_benches::engines::{check_all, EngineId};
use apiary_benches::{executed_instructions, ALL};
use serde_json::Value;

/// (group, function, value) → median ns.
type Results = BTreeMap<(String, String, String), f64>;

fn criterion_dir() -> PathBuf {
    if let Some(arg) = std::env::args_os().nth(1) {
        return PathBuf::from(arg);
    }
    if let Some(t) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(t).join("criterion");
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/criterion")
}

fn read_json(path: &Path) -> Option<Value> {
    serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()
}

fn collect(dir: &Path, out: &mut Results) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if !path.is_dir() {
            continue;
        }
        if path.file_name().is_some_and(|n| n == "new") {
            let (Some(bench), Some(est)) = (
                read_json(&path.join("benchmark.json")),
                read_json(&path.join("estimates.json")),
            ) else {
                continue;
            };
            let s = |v: &Value| v.as_str().unwrap_or_default().to_owned();
            let key = (
                s(&bench["group_id"]),
                s(&bench["function_id"]),
                s(&bench["value_str"]),
            );
            if let Some(ns) = est["median"]["point_estimate"].as_f64() {
                out.insert(key, ns);
            }
        } else {
            collect(&path, out);
        }
    }
}

fn fmt_ns(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.1} µs", ns / 1e3)
    } else {
        format!("{ns:.1} ns")
    }
}

fn main() {
    let dir = criterion_dir();
    let mut results = Results::new();
    collect(&dir, &mut results);
    if results.is_empty() {
        eprintln!(
            "no criterion results under {} (run `cargo bench -p apiary-benches [--features peers]` first)",
            dir.display()
        );
        std::process::exit(1);
    }
    let run = |program: &str, engine: EngineId| {
        results
            .get(&(
                format!("run/{program}"),
                engine.name().to_owned(),
                String::new(),
            ))
            .copied()
    };
    let engines: Vec<EngineId> = EngineId::ALL
        .into_iter()
        .filter(|&e| ALL.iter().any(|p| run(p.name, e).is_some()))
        .collect();
    let mut out = String::new();
    let mut notes = Vec::new();

    // Main table.
    let _ = writeln!(out, "## ns per run (median; × native)\n");
    let _ = write!(out, "| program | slots | executed |");
    for e in &engines {
        let _ = write!(out, " {e} |");
    }
    let _ = write!(out, "\n| --- | ---: | ---: |");
    for _ in &engines {
        let _ = write!(out, " ---: |");
    }
    out.push('\n');
    let mut ratios: BTreeMap<EngineId, Vec<f64>> = BTreeMap::new();
    let mut executed = BTreeMap::new();
    for p in ALL {
        let n = executed_instructions(&p);
        executed.insert(p.name, n);
        let native = run(p.name, EngineId::Native);
        let _ = write!(
            out,
            "| {} | {} | {} |",
            p.name,
            apiary_benches::slots(&p),
            n
        );
        let mut reasons: Option<Vec<_>> = None;
        for &e in &engines {
            match run(p.name, e) {
                Some(ns) => {
                    let ratio = native.map(|nat| ns / nat);
                    if let (Some(r), true) = (ratio, p.name != "call_overhead") {
                        ratios.entry(e).or_default().push(r);
                    }
                    match ratio {
                        Some(r) if e != EngineId::Native => {
                            let _ = write!(out, " {} ({r:.1}×) |", fmt_ns(ns));
                        }
                        _ => {
                            let _ = write!(out, " {} |", fmt_ns(ns));
                        }
                    }
                }
                None => {
                    let checked = reasons.get_or_insert_with(|| check_all(&p));
                    let why = checked
                        .iter()
                        .find(|c| c.engine == e)
                        .and_then(|c| c.runner.as_ref().err().cloned())
                        .unwrap_or_else(|| "not measured".to_owned());
                    notes.push(format!("{} on {e}: {why}", p.name));
                    let _ = write!(out, " n/a |");
                }
            }
        }
        out.push('\n');
    }
    let _ = write!(out, "| **geomean × native** (excl. call_overhead) | | |");
    for &e in &engines {
        match ratios.get(&e) {
            Some(v) if !v.is_empty() => {
                let g = (v.iter().map(|r| r.ln()).sum::<f64>() / v.len() as f64).exp();
                let _ = write!(out, " {g:.2}× ({} progs) |", v.len());
            }
            _ => {
                let _ = write!(out, " — |");
            }
        }
    }
    out.push('\n');
    for n in &notes {
        let _ = writeln!(out, "\nn/a: {n}");
    }

    // Per-call overhead and per-instruction cost.
    let _ = writeln!(
        out,
        "\n## Per-call overhead (`r0 = 1; exit`) and ns per executed instruction\n"
    );
    let _ = writeln!(
        out,
        "| engine | per call | per call − native | alu_loop ns/insn | mem_loop ns/insn |"
    );
    let _ = writeln!(out, "| --- | ---: | ---: | ---: | ---: |");
    let native_call = run("call_overhead", EngineId::Native);
    for &e in &engines {
        let call = run("call_overhead", e);
        let per_insn = |name: &str| {
            run(name, e).map_or_else(
                || "n/a".to_owned(),
                |ns| format!("{:.3}", ns / executed[name] as f64),
            )
        };
        let _ = writeln!(
            out,
            "| {e} | {} | {} | {} | {} |",
            call.map_or_else(|| "n/a".to_owned(), fmt_ns),
            match (call, native_call) {
                (Some(c), Some(n)) => format!("{:.1} ns", c - n),
                _ => "n/a".to_owned(),
            },
            per_insn("alu_loop"),
            per_insn("mem_loop"),
        );
    }

    // Compile time.
    let compile: Vec<_> = results
        .iter()
        .filter(|((g, _, _), _)| g == "jit_compile")
        .map(|((_, f, v), ns)| (f.clone(), v.parse::<u64>().unwrap_or(0), *ns))
        .collect();
    if !compile.is_empty() {
        let _ = writeln!(out, "\n## JIT compile time (bytecode → runnable; generated straight-line + branchy program)\n");
        let _ = writeln!(out, "| engine | slots | time | per 1,000 instructions |");
        let _ = writeln!(out, "| --- | ---: | ---: | ---: |");
        for (f, slots, ns) in &compile {
            let _ = writeln!(
                out,
                "| {f} | {slots} | {} | {} |",
                fmt_ns(*ns),
                fmt_ns(ns * 1000.0 / *slots as f64)
            );
        }
    }

    // Sandbox cost: verified sandboxed vs unsandboxed vs checked, per program.
    let mut sandbox_ratios: Vec<(&str, Vec<f64>, Vec<f64>)> = Vec::new();
    for (label, checked, sandboxed, unsandboxed) in [
        (
            "interp",
            EngineId::ApiaryInterp,
            EngineId::ApiaryInterpVerified,
            EngineId::ApiaryInterpUnsandboxed,
        ),
        (
            "jit",
            EngineId::ApiaryJit,
            EngineId::ApiaryJitVerified,
            EngineId::ApiaryJitUnsandboxed,
        ),
    ] {
        let rows: Vec<_> = ALL
            .iter()
            .filter_map(|p| {
                Some((
                    p.name,
                    run(p.name, checked)?,
                    run(p.name, sandboxed)?,
                    run(p.name, unsandboxed)?,
                ))
            })
            .collect();
        if rows.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "\n## Sandbox cost, {label}: verified sandboxed vs unsandboxed vs checked (ns per run)\n"
        );
        let _ = writeln!(
            out,
            "| program | checked | verified unsandboxed | verified sandboxed | sandboxed ÷ unsandboxed | sandboxed ÷ checked |"
        );
        let _ = writeln!(out, "| --- | ---: | ---: | ---: | ---: | ---: |");
        let (mut over_unsandboxed, mut over_checked) = (Vec::new(), Vec::new());
        for (name, c, s, u) in rows {
            let _ = writeln!(
                out,
                "| {name} | {} | {} | {} | {:.3}× | {:.3}× |",
                fmt_ns(c),
                fmt_ns(u),
                fmt_ns(s),
                s / u,
                s / c
            );
            over_unsandboxed.push(s / u);
            over_checked.push(s / c);
        }
        let g = |v: &[f64]| (v.iter().map(|r| r.ln()).sum::<f64>() / v.len() as f64).exp();
        let _ = writeln!(
            out,
            "| **geomean** | | | | {:.3}× | {:.3}× |",
            g(&over_unsandboxed),
            g(&over_checked)
        );
        sandbox_ratios.push((label, over_unsandboxed, over_checked));
    }

    // Targets.
    let _ = writeln!(out, "\n## Targets\n");
    for (label, over_unsandboxed, over_checked) in &sandbox_ratios {
        let g = (over_unsandboxed.iter().map(|r| r.ln()).sum::<f64>()
            / over_unsandboxed.len() as f64)
            .exp();
        let _ = writeln!(
            out,
            "- sandboxed verified {label} ≤ 5% geomean over unsandboxed: {} ({:+.1}%)",
            verdict(g <= 1.05),
            (g - 1.0) * 100.0
        );
        let slower = over_checked.iter().filter(|&&r| r > 1.0).count();
        let _ = writeln!(
            out,
            "- sandboxed verified {label} never slower than checked: {} ({slower} of {} programs slower)",
            verdict(slower == 0),
            over_checked.len()
        );
    }
    for (ours_id, label) in [
        (EngineId::ApiaryJit, "apiary JIT (checked)"),
        (EngineId::ApiaryJitVerified, "apiary JIT (verified)"),
    ] {
        let mut slower = Vec::new();
        for p in ALL {
            let Some(ours) = run(p.name, ours_id) else {
                continue;
            };
            for peer in [EngineId::UbpfJit, EngineId::RbpfJit] {
                if let Some(theirs) = run(p.name, peer) {
                    if ours >= theirs {
                        slower.push(format!(
                            "{} ({} vs {peer} {})",
                            p.name,
                            fmt_ns(ours),
                            fmt_ns(theirs)
                        ));
                    }
                }
            }
        }
        let _ = writeln!(
            out,
            "- {label} faster than uBPF's and rbpf's JIT on every program: {}",
            if slower.is_empty() {
                "met".to_owned()
            } else {
                format!("MISSED on {}", slower.join(", "))
            }
        );
    }
    if let Some(c) = run("call_overhead", EngineId::ApiaryJit) {
        let _ = writeln!(
            out,
            "- apiary JIT per-call overhead ≤ 5 ns: {} ({})",
            verdict(c <= 5.0),
            fmt_ns(c)
        );
    }
    if let Some((_, slots, ns)) = compile
        .iter()
        .filter(|(f, _, _)| f == "apiary_jit")
        .max_by_key(|(_, s, _)| *s)
    {
        let per = ns * 1000.0 / *slots as f64;
        let _ = writeln!(
            out,
            "- apiary JIT compile ≤ 30 µs per 1,000 instructions: {} ({})",
            verdict(per <= 30_000.0),
            fmt_ns(per)
        );
    }
    for name in ["alu_loop", "mem_loop"] {
        if let Some(ns) = run(name, EngineId::ApiaryInterp) {
            let per = ns / executed[name] as f64;
            let _ = writeln!(
                out,
                "- apiary interpreter ≤ 3.5 ns per executed instruction ({name}): {} ({per:.2} ns)",
                verdict(per <= 3.5)
            );
        }
    }
    print!("{out}");
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "MISSED"
    }
}
