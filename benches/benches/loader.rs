//! The ELF loader on the largest Cilium object of `../shared/ebpf-samples/cilium`: parse,
//! collect maps and BTF, relocate and link every program (`apiary_elf::Object::parse`).
//!
//! `cargo bench -p apiary-benches --bench loader`. Skipped with a notice when the corpus is
//! absent. (The whole load into a runnable set, maps created and programs prepared, is timed by
//! the root crate's `tests/loader_speed.rs`.)

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn largest_cilium_object() -> Option<PathBuf> {
    let dir = apiary_testkit::shared::corpus("ebpf-samples/cilium")?;
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "o"))
        .max_by_key(|e| (e.metadata().map_or(0, |m| m.len()), e.file_name()))
        .map(|e| e.path())
}

fn loader(c: &mut Criterion) {
    let Some(path) = largest_cilium_object() else {
        return;
    };
    let Ok(bytes) = std::fs::read(&path) else {
        println!(
            "NOTICE: {} unreadable; loader bench skipped",
            path.display()
        );
        return;
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    match apiary_elf::Object::parse(&bytes) {
        Ok(o) => println!(
            "{name}: {} bytes, {} programs, {} maps, {} linked slots",
            bytes.len(),
            o.programs.len(),
            o.maps.len(),
            o.programs.iter().map(|p| p.insns.len()).sum::<usize>()
        ),
        Err(e) => {
            println!("NOTICE: {name} does not load ({e}); loader bench skipped");
            return;
        }
    }
    let mut group = c.benchmark_group("loader");
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.bench_function(format!("parse/{name}"), |b| {
        b.iter(|| apiary_elf::Object::parse(black_box(&bytes)));
    });
    group.finish();
}

criterion_group!(benches, loader);
criterion_main!(benches);
