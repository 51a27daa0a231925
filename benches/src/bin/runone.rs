//! Runs one benchmark program on one engine a given number of times (for `callgrind.sh`):
//!
//! ```sh
//! cargo run --release -p apiary-benches [--features peers] --bin runone -- PROGRAM ENGINE RUNS
//! ```
//!
//! Prints r0. Preparation happens once, before the runs.

use apiary_benches::engines::{prepare, EngineId};
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
    let (Some(p), Some(e), Ok(runs)) = (
        by_name(program),
        EngineId::from_name(engine),
        runs.parse::<u64>(),
    ) else {
        usage()
    };
    let mut input = (p.input)();
    let mut runner = prepare(e, &p, input.len()).unwrap_or_else(|why| {
        eprintln!("{program} on {engine}: n/a ({why})");
        std::process::exit(1)
    });
    let mut r0 = 0;
    for _ in 0..runs {
        r0 = runner
            .run(std::hint::black_box(&mut input))
            .unwrap_or_else(|why| {
                eprintln!("{program} on {engine}: {why}");
                std::process::exit(1)
            });
    }
    println!("{r0:#x}");
}
