//! Compiles the generated compile-time benchmark program (`generated_program(SLOTS, 0x5eed)`,
//! as `benches/engines.rs`'s `jit_compile` group) with apiary's JIT a given number of times,
//! for instruction counts under callgrind (`benches/callgrind.sh compile`):
//!
//! ```sh
//! cargo run --release -p apiary-benches --bin compileone -- SLOTS RUNS [jit|decode]
//! ```
//!
//! `jit` (the default) times what the criterion bench times: bytecode → `Program::new` →
//! `Jit::new`; `decode` stops after `Program::new` (to tell the two apart). Prints the code size.

use std::hint::black_box;

use apiary_benches::generated::generated_program;
use apiary_benches::{decode, environment};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = || -> ! {
        eprintln!("usage: compileone SLOTS RUNS [jit|decode]");
        std::process::exit(2)
    };
    let (Some(Ok(slots)), Some(Ok(runs))) = (
        args.first().map(|s| s.parse::<usize>()),
        args.get(1).map(|s| s.parse::<u64>()),
    ) else {
        usage()
    };
    let jit = match args.get(2).map(String::as_str) {
        None | Some("jit") => true,
        Some("decode") => false,
        Some(_) => usage(),
    };
    let code = generated_program(slots.max(32), 0x5eed);
    let env = environment(None);
    let mut size = 0;
    for _ in 0..runs {
        let program = decode("generated", black_box(&code));
        if jit {
            let compiled = apiary_jit::Jit::new(program, &env).expect("compiles");
            size = black_box(compiled.code_size());
        } else {
            size = black_box(program.len());
        }
    }
    println!("{size}");
}
