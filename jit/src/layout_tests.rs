//! Generated-code layout snapshots, for changes that must not change the code (compile-time
//! work): every benchmark program, the every-form program and a 70,000-slot far-branch program,
//! on both backends, in 32 option combinations (metering, extra regions, blinding with a fixed
//! seed, unchecked, confined), as one line each of entry offsets, code size and a hash of the
//! per-slot offsets. Code bytes are not compared: they hold host addresses (trampolines).
//!
//! The snapshot is committed (`jit/tests/data/layout.txt`) and the test fails when the
//! generated layout differs from it, so a change meant to keep the code (compile speed,
//! refactoring) proves it did. A change that improves the code on purpose regenerates it with
//! `APIARY_BLESS=1 cargo test -p apiary-jit --lib layout` and commits the diff, which shows
//! every program and option combination whose code changed. It runs on x86-64 hosts only: the
//! helper addresses the x86-64 backend embeds (and so its instruction lengths) depend on the
//! host's address layout.

use std::fmt::Write as _;
use std::sync::Arc;

use apiary_vm::memory::Region;
use apiary_vm::{Confinement, Environment, ExecConfig, HelperTable, LoadOptions, Program};

use crate::cross_tests::{every_form_program, far_program};
use crate::{compile_for, shared_for, Arch, CompileOptions};

fn env(budget: Option<u64>, regions: bool) -> Environment {
    let mut t = HelperTable::new();
    t.register(1, "one", |_, a| Ok(a[0]));
    let mut e = Environment::new(t, ExecConfig { budget });
    if regions {
        // SAFETY: the region is only used to decide which checks are emitted; never accessed.
        e.regions = Arc::from(vec![unsafe { Region::from_raw(0x1000, 64, true) }]);
    }
    e
}

/// FNV-1a over the per-slot offsets: stable across Rust releases, unlike `DefaultHasher`.
fn offsets_hash(offsets: &[usize]) -> u64 {
    offsets
        .iter()
        .flat_map(|&o| (o as u64).to_le_bytes())
        .fold(0xcbf2_9ce4_8422_2325, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
}

#[test]
#[cfg_attr(
    any(miri, not(target_arch = "x86_64")),
    ignore = "the snapshot is of an x86-64 host's layout"
)]
fn layout() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/layout.txt");
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../benches/programs");
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .expect("benches/programs")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "bin"))
        .collect();
    names.sort();
    let mut programs: Vec<(String, Vec<apiary_vm::Insn>)> = names
        .iter()
        .map(|p| {
            let bytes = std::fs::read(p).expect("read");
            let insns = apiary_vm::insn::insns_from_bytes(&bytes).expect("bytecode");
            (
                p.file_name()
                    .expect("a file")
                    .to_string_lossy()
                    .into_owned(),
                insns,
            )
        })
        .collect();
    programs.push(("every_form".into(), every_form_program()));
    programs.push(("far".into(), far_program(70_000)));
    let mut out = String::new();
    let mut compiled = 0;
    for (name, insns) in &programs {
        let p = Program::new(insns.clone(), &LoadOptions::all()).expect("valid");
        for arch in [Arch::X86_64, Arch::Aarch64] {
            for bits in 0..32u32 {
                let e = env((bits & 1 != 0).then_some(1 << 40), bits & 2 != 0);
                let unchecked = bits & 8 != 0;
                let opts = CompileOptions {
                    blind_constants: bits & 4 != 0,
                    seed: 0x1234_5678,
                    proven_safe: unchecked.then(|| {
                        p.instructions()
                            .iter()
                            .map(|i| !matches!(i, apiary_vm::Instruction::Atomic { .. }))
                            .collect()
                    }),
                    confine: (bits & 16 != 0).then_some(Confinement {
                        base: 1 << 32,
                        mask: (1 << 26) - 1,
                    }),
                };
                let shared = shared_for(&p, &e);
                let c = compile_for(arch, &p, &shared, &e, &opts).expect("compiles");
                writeln!(
                    out,
                    "{name} {arch:?} {bits:2}: entry {} callback {} size {} needs {} offsets {:016x}",
                    c.entry,
                    c.callback_entry,
                    c.code.len(),
                    c.needs,
                    offsets_hash(&c.offsets)
                )
                .expect("write");
                compiled += 1;
            }
        }
    }
    assert!(compiled > 0);
    if std::env::var_os("APIARY_BLESS").is_some() {
        std::fs::write(path, &out).expect("write snapshot");
        return;
    }
    let committed = std::fs::read_to_string(path).expect("jit/tests/data/layout.txt");
    let changed: Vec<_> = committed
        .lines()
        .zip(out.lines())
        .filter(|(a, b)| a != b)
        .map(|(a, b)| format!("  was {a}\n  now {b}"))
        .take(20)
        .collect();
    assert!(
        changed.is_empty() && committed.lines().count() == out.lines().count(),
        "the generated code's layout changed ({compiled} compiled; first differences below); if \
         that is intended, run `APIARY_BLESS=1 cargo test -p apiary-jit --lib layout` and commit \
         jit/tests/data/layout.txt\n{}",
        changed.join("\n")
    );
}
