//! Interpreter speed: time per run, reported by criterion also as executed instructions per
//! second (`Throughput::Elements`), from which ns per instruction follows.

use apiary_benches::{executed_instructions, input_for, program, ALL};
use apiary_vm::{Environment, ExecState, Executable, Interpreter};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn interpreter(c: &mut Criterion) {
    let mut group = c.benchmark_group("interpreter");
    for p in ALL {
        let interp = Interpreter::new(program(&p), &Environment::default()).expect("prepared");
        let mut input = input_for(&p);
        let mut state = ExecState::new();
        group.throughput(Throughput::Elements(executed_instructions(&p)));
        group.bench_function(p.name, |b| {
            b.iter(|| interp.run(&mut state, std::hint::black_box(&mut input)).result)
        });
    }
    group.finish();
}

criterion_group!(benches, interpreter);
criterion_main!(benches);
