//! Compiles the native twins of the benchmark programs: the same C files as the eBPF programs
//! (`programs/*.c`), built for the host into one static library. Each defines
//! `apiary_bench_<name>(u8 *mem, u64 len)`; `programs/helper.c` defines the native helper.

use std::path::Path;

fn main() {
    let dir = Path::new("programs");
    println!("cargo:rerun-if-changed=programs/bench.h");
    // The directory too: a program added (or removed) changes its mtime, which the per-file
    // lines below, written by an earlier run, cannot see.
    println!("cargo:rerun-if-changed=programs");
    let mut build = cc::Build::new();
    build
        .opt_level(2)
        .flag_if_supported("-fno-strict-aliasing")
        .flag_if_supported("-Wno-unused-parameter")
        .warnings(true)
        .include(dir);
    let mut sources: Vec<_> = std::fs::read_dir(dir)
        .expect("benches/programs exists")
        .map(|e| e.expect("readable directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "c"))
        .collect();
    sources.sort();
    for src in &sources {
        println!("cargo:rerun-if-changed={}", src.display());
        build.file(src);
    }
    build.compile("apiary_bench_native");
}
