//! Runs one benchmark program on one engine a given number of times (for `callgrind.sh`):
//!
//! ```sh
//! cargo run --release -p apiary-benches [--features peers] --bin runone -- PROGRAM ENGINE RUNS
//! ```
//!
//! Prints r0. Preparation happens once, before the runs.
//!
//! `ENGINE@window` (for a sandboxed verified engine, or a checked one running with proofs) puts the input in the program's sandbox
//! window, as an embedder that allocates its buffers there does: the runs then cost no copy in
//! and out of the window, which is what `callgrind.sh sandbox` compares with unsandboxed.

use apiary_benches::engines::{prepare, EngineId, Runner};
use apiary_benches::{by_name, ALL};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = || -> ! {
        let programs: Vec<_> = ALL.iter().map(|p| p.name).collect();
        let engines: Vec<_> = EngineId::ALL
            .iter()
            .filter(|e| e.built())
            .map(|e| e.name())
            .collect();
        eprintln!(
            "usage: runone PROGRAM ENGINE RUNS\n  programs: {}\n  engines: {}",
            programs.join(" "),
            engines.join(" ")
        );
        std::process::exit(2)
    };
    let [program, engine, runs] = args.as_slice() else {
        usage()
    };
    let (engine_name, in_window) = match engine.strip_suffix("@window") {
        Some(name) => (name, true),
        None => (engine.as_str(), false),
    };
    let (Some(p), Some(e), Ok(runs)) = (
        by_name(program),
        EngineId::from_name(engine_name),
        runs.parse::<u64>(),
    ) else {
        usage()
    };
    let mut input = (p.input)();
    let mut runner = prepare(e, &p, input.len()).unwrap_or_else(|why| {
        eprintln!("{program} on {engine}: n/a ({why})");
        std::process::exit(1)
    });
    // Kept alive through the runs: the input's block of the window.
    let mut block = None;
    let input: &mut [u8] = if in_window {
        let window = match &runner {
            Runner::ApiaryVerified(v, _) => v.window(),
            // Checked mode with proofs runs in a window too.
            Runner::ApiaryInterp(e, _) | Runner::ApiaryJit(e, _) => e.window(),
            _ => None,
        };
        let Some(window) = window else {
            eprintln!("{engine}: @window needs a sandboxed engine");
            std::process::exit(2)
        };
        let a = block.insert(window.alloc(input.len()).unwrap_or_else(|why| {
            eprintln!("{program} on {engine}: {why}");
            std::process::exit(1)
        }));
        // SAFETY: the allocation is `input.len()` committed, zeroed, read-write bytes of the
        // window owned by `a`, which lives (in `block`) until the end of `main`; nothing else
        // refers to them but the program's runs below, through this slice.
        let copy = unsafe { std::slice::from_raw_parts_mut(a.ptr().as_ptr(), input.len()) };
        copy.copy_from_slice(&input);
        copy
    } else {
        &mut input
    };
    let mut r0 = 0;
    for _ in 0..runs {
        r0 = runner
            .run(std::hint::black_box(&mut *input))
            .unwrap_or_else(|why| {
                eprintln!("{program} on {engine}: {why}");
                std::process::exit(1)
            });
    }
    println!("{r0:#x}");
}
