//! Every benchmark program on every engine, side by side in one run, plus JIT compile time.
//!
//! `cargo bench -p apiary-benches` (apiary + native), `--features peers` (adds rbpf and uBPF),
//! then `cargo run --release -p apiary-benches --bin report` for the markdown table.
//!
//! Before timing, each engine runs the program once and must return native's r0 (else the bench
//! panics); an engine that cannot run a program is skipped and printed as "n/a" with the reason.
//! Groups: `run/<program>/<engine>` (ns per run) and `jit_compile/<engine>/<slots>`.

use std::hint::black_box;
use std::time::Duration;

use apiary_benches::engines::{check_all, EngineId, Runner};
use apiary_benches::generated::generated_program;
use apiary_benches::{decode, environment, executed_instructions, ALL};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

fn runs(c: &mut Criterion) {
    for p in ALL {
        let mut group = c.benchmark_group(format!("run/{}", p.name));
        // Criterion's "elements" here are executed eBPF instructions (apiary's metered count),
        // so it also prints instructions per second.
        group.throughput(Throughput::Elements(executed_instructions(&p).max(1)));
        for checked in check_all(&p) {
            let engine = checked.engine;
            let mut runner = match checked.runner {
                Ok(r) => r,
                Err(why) => {
                    println!("run/{}/{engine}: n/a ({why})", p.name);
                    continue;
                }
            };
            let mut input = (p.input)();
            let input = &mut input[..];
            let id = engine.name();
            match &mut runner {
                Runner::ApiaryInterp(e, state) => {
                    group.bench_function(id, |b| {
                        b.iter(|| {
                            // r0 as a plain u64, as the peers return it: criterion then
                            // keeps the same 8 bytes from every engine.
                            e.run(state, black_box(&mut *input))
                                .result
                                .unwrap_or(u64::MAX)
                        })
                    });
                }
                Runner::ApiaryJit(e, state) => {
                    group.bench_function(id, |b| {
                        b.iter(|| {
                            // r0 as a plain u64, as the peers return it: criterion then
                            // keeps the same 8 bytes from every engine.
                            e.run(state, black_box(&mut *input))
                                .result
                                .unwrap_or(u64::MAX)
                        })
                    });
                }
                Runner::ApiaryVerified(e, state) => {
                    // Sandboxed: the input goes in the program's window, as an embedder avoiding
                    // the per-run copy in and out of it does (`ExecState::window_input`).
                    let windowed = e
                        .window()
                        .and_then(|w| state.window_input(w, input.len()).ok());
                    let input: &mut [u8] = match windowed {
                        Some(addr) => {
                            // SAFETY: `addr..+len` is a committed block of the window owned by
                            // `state` (which never touches it itself), alive until the state's
                            // next `window_input` call, which these runs do not make (their
                            // input already lies in the window).
                            let w = unsafe {
                                std::slice::from_raw_parts_mut(addr as *mut u8, input.len())
                            };
                            w.copy_from_slice(input);
                            w
                        }
                        None => input,
                    };
                    group.bench_function(id, |b| {
                        b.iter(|| e.run(state, black_box(&mut *input)).unwrap_or(u64::MAX))
                    });
                }
                #[cfg(feature = "peers")]
                Runner::Rbpf(e) => {
                    group.bench_function(id, |b| {
                        b.iter(|| e.run(black_box(&mut *input)).unwrap_or(u64::MAX))
                    });
                }
                #[cfg(feature = "peers")]
                Runner::Ubpf(e) => {
                    group.bench_function(id, |b| {
                        b.iter(|| e.run(black_box(&mut *input)).unwrap_or(u64::MAX))
                    });
                }
                Runner::Native(p) => {
                    let f = p.native;
                    group.bench_function(id, |b| {
                        b.iter(|| {
                            let mem = black_box(&mut *input);
                            // SAFETY: as `apiary_benches::run_native` (the program only touches
                            // `mem[..len]`); called directly to time nothing but the call.
                            unsafe { f(mem.as_mut_ptr(), mem.len() as u64) }
                        });
                    });
                }
            }
        }
        group.finish();
    }
}

/// JIT compile time, bytecode to runnable code, on generated straight-line + branchy programs:
/// 10,000 slots (apiary, uBPF; rbpf's JIT writes into one fixed 4 KiB page, too small for it)
/// and 256 slots (all three).
fn jit_compile(c: &mut Criterion) {
    let mut group = c.benchmark_group("jit_compile");
    for slots in [256usize, 10_000] {
        let code = generated_program(slots, 0x5eed);
        group.throughput(Throughput::Elements(slots as u64));
        // Cross-check the generated program once (results must agree).
        let expected = apiary_benches::engines::prepare_bytecode(
            EngineId::ApiaryInterp,
            "generated",
            &code,
            0,
        )
        .and_then(|mut r| r.run(&mut []))
        .expect("apiary runs the generated program");
        for engine in [EngineId::ApiaryJit, EngineId::RbpfJit, EngineId::UbpfJit] {
            if !engine.built() {
                continue;
            }
            match apiary_benches::engines::prepare_bytecode(engine, "generated", &code, 0)
                .and_then(|mut r| r.run(&mut []))
            {
                Ok(got) => assert_eq!(got, expected, "generated {slots}: {engine} disagrees"),
                Err(why) => {
                    println!("jit_compile/{engine}/{slots}: n/a ({why})");
                    continue;
                }
            }
            let id = BenchmarkId::new(engine.name(), slots);
            match engine {
                EngineId::ApiaryJit => {
                    let env = environment(None);
                    group.bench_function(id, |b| {
                        b.iter(|| {
                            apiary_jit::Jit::new(decode("generated", black_box(&code)), &env)
                                .expect("compiles")
                        });
                    });
                }
                #[cfg(feature = "peers")]
                EngineId::RbpfJit => {
                    group.bench_function(id, |b| {
                        b.iter(|| {
                            let mut vm =
                                rbpf::EbpfVmRaw::new(Some(black_box(&code))).expect("verifies");
                            vm.register_helper(1, |a, b, c, d, e| {
                                apiary_benches::helper(a, b, c, d, e)
                            })
                            .expect("registers");
                            vm.jit_compile().expect("compiles");
                            vm
                        });
                    });
                }
                #[cfg(feature = "peers")]
                EngineId::UbpfJit => {
                    group.bench_function(id, |b| {
                        b.iter(|| {
                            apiary_benches::engines::peers::Ubpf::new(black_box(&code), true)
                                .expect("compiles")
                        });
                    });
                }
                _ => {}
            }
        }
    }
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(50)
        .configure_from_args()
}

criterion_group! {
    name = benches;
    config = config();
    targets = runs, jit_compile
}
criterion_main!(benches);
