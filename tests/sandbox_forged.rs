//! Sandboxed verified mode against wrong proofs (issue 17): random straight-line programs with
//! wild addresses (far writes, null reads, stack underflow by megabytes, input overruns, writes
//! aimed at host canaries, atomics) run with *forged* facts (every access "proven") on the
//! interpreter and the JIT, sandboxed. The process must survive, and host memory outside the
//! window must stay untouched: canary allocations made around the window and the maps are
//! checked after every batch.
//!
//! A control run proves the harness can fail: the same kind of program, unsandboxed, does
//! overwrite a canary.
//!
//! `APIARY_SANDBOX_PROGRAMS=N` sets the programs per setup (default 25,000: with four setups,
//! 10⁵ programs in a `cargo test`). `.ci/arm64.sh` runs 50,000 per setup under qemu-aarch64
//! (10⁵ on the aarch64 JIT); each raw program gets a fresh private window, so this is also the
//! workload that showed qemu-user's growth over fresh reservations (see `window/tests/resident.rs`).

use std::sync::Arc;

use apiary_engine::{prepare_verified, prepare_verified_unsandboxed, EngineKind, VerifiedProgram};
use apiary_testkit::{Coverage, Rng};
use apiary_vm::asm::assemble;
use apiary_vm::maps::{map_type, MapOptions, MapSpec, MapTable};
use apiary_vm::window::{Placement, Window};
use apiary_vm::{Environment, ExecConfig, ExecState, HelperTable, LoadOptions, Program};

/// Host allocations whose bytes no sandboxed program may change.
struct Canaries {
    bufs: Vec<Vec<u8>>,
}

const CANARY_LEN: usize = 64 * 1024;

impl Canaries {
    fn new(n: usize, seed: u8) -> Self {
        let bufs = (0..n)
            .map(|i| vec![seed.wrapping_add(i as u8) | 1; CANARY_LEN])
            .collect();
        Self { bufs }
    }

    fn addrs(&self) -> Vec<u64> {
        self.bufs.iter().map(|b| b.as_ptr() as u64).collect()
    }

    fn intact(&self) -> bool {
        self.bufs.iter().all(|b| {
            let v = b[0];
            // Volatile reads: the compiler must not assume the bytes unchanged.
            b.iter()
                .enumerate()
                // SAFETY: `p` points into the live buffer.
                .all(|(i, _)| unsafe { std::ptr::read_volatile(b.as_ptr().add(i)) } == v)
        })
    }
}

/// One random program: registers loaded with wild values, then loads, stores and atomics
/// through them, then `exit`.
fn program(rng: &mut Rng, targets: &[u64]) -> String {
    let mut t = String::new();
    let reg = |rng: &mut Rng| rng.below(9) + 1; // r1..r9
    for _ in 0..4 + rng.below(5) {
        let d = reg(rng);
        match rng.below(9) {
            // A host canary (or near one): the writes a verifier bug would aim at the host.
            0 | 1 => {
                let a = rng.pick(targets) + rng.below(CANARY_LEN as u64);
                t += &format!("lddw %r{d}, {a:#x}\n");
            }
            // Null and near-null.
            2 => t += &format!("lddw %r{d}, {:#x}\n", rng.below(0x2000)),
            // Stack underflow by megabytes, or past its top.
            3 => {
                let mb = rng.below(64) << 20;
                t += &format!("mov %r{d}, %r10\nsub %r{d}, {mb}\n");
            }
            4 => t += &format!("mov %r{d}, %r10\nadd %r{d}, {}\n", rng.below(1 << 16)),
            // Input overruns, far and near.
            5 => t += &format!("mov %r{d}, %r1\nadd %r{d}, {}\n", rng.below(1 << 20)),
            // Anywhere at all.
            6 => t += &format!("lddw %r{d}, {:#x}\n", rng.next_u64()),
            7 => t += &format!("lddw %r{d}, {:#x}\n", u64::MAX - rng.below(16)),
            _ => {
                let s = reg(rng);
                t += &format!("add %r{d}, %r{s}\n");
            }
        }
    }
    for _ in 0..4 + rng.below(12) {
        let b = reg(rng);
        let s = reg(rng);
        let off = rng.below(0x10000) as i64 - 0x8000;
        let sz = rng.pick(&["b", "h", "w", "dw"]);
        match rng.below(6) {
            0 | 1 => t += &format!("ldx{sz} %r{s}, [%r{b}{off:+}]\n"),
            2 | 3 => t += &format!("stx{sz} [%r{b}{off:+}], %r{s}\n"),
            4 => t += &format!("st{sz} [%r{b}{off:+}], {}\n", rng.below(1000)),
            _ => {
                let w = rng.pick(&["32", "64"]);
                let op = rng.pick(&["add", "or", "xchg", "cmpxchg", "fetch add"]);
                let off = off & !7;
                t += &format!("lock {op}{w} [%r{b}{off:+}], %r{s}\n");
            }
        }
    }
    t += "mov %r0, 0\nexit\n";
    t
}

fn forged(text: &str) -> VerifiedProgram {
    let insns = assemble(text).expect("assembles");
    let program = Program::new(insns, &LoadOptions::default()).expect("loads");
    // SAFETY: forged facts are only ever prepared sandboxed here (except the control, whose
    // program writes only to this test's own canary).
    unsafe { VerifiedProgram::forged(Arc::new(program), None) }
}

fn programs_per_setup() -> u64 {
    std::env::var("APIARY_SANDBOX_PROGRAMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(25_000)
}

#[test]
fn forged_proofs_stay_in_the_window() {
    let before = Canaries::new(8, 0x40);
    // An environment with maps in a window (as objects have) ...
    let window = Window::sandbox(1 << 24, Placement::Anywhere).expect("window");
    let table = MapTable::from_specs(
        &[
            MapSpec::new("a", map_type::ARRAY, 4, 64, 16),
            MapSpec::new("h", map_type::HASH, 8, 16, 64),
        ],
        MapOptions {
            window: Some(Arc::clone(&window)),
            ..MapOptions::default()
        },
    )
    .expect("maps");
    let maps_env = Environment {
        helpers: Arc::new(HelperTable::new()),
        regions: Arc::from(table.regions()),
        config: ExecConfig {
            budget: Some(10_000),
        },
        window: Some(Arc::clone(&window)),
    };
    // ... and one without regions (raw programs: a private window).
    let raw_env = Environment::new(HelperTable::new(), ExecConfig::default());
    let after = Canaries::new(8, 0x80);
    let mut targets = before.addrs();
    targets.extend(after.addrs());
    let region_addrs: Vec<u64> = table.regions().iter().map(|r| r.start).collect();
    targets.extend(&region_addrs);

    let n = programs_per_setup();
    let mut coverage = Coverage::new("sandbox_forged").expect_comparisons(true);
    let mut rng = Rng::new(0x5a4d_b0c5);
    for (env_name, env) in [("maps", &maps_env), ("raw", &raw_env)] {
        for &kind in EngineKind::ALL {
            let mut state = ExecState::new();
            for i in 0..n {
                let text = program(&mut rng, &targets);
                let v = forged(&text);
                // SAFETY: sandboxed: the forged facts reach only the window (what this tests).
                let exe = unsafe { prepare_verified(kind, &v, env) }.expect("prepares");
                let mut input = vec![0x11u8; rng.below(300) as usize];
                let out = exe.run(&mut state, &mut input);
                // Wild programs may fault (checked atomics, misalignment); never crash.
                let _ = out.result;
                coverage.compared();
                if i % 1000 == 999 || i + 1 == n {
                    assert!(
                        before.intact() && after.intact(),
                        "{env_name}/{kind}: host canary changed by program {i}:\n{text}"
                    );
                }
            }
        }
    }
    drop(table);
    assert_eq!(window.in_use(), 0, "every map block returned to the window");
    eprintln!("{}", coverage.finish());
}

/// The harness can fail: unsandboxed, a forged store to a canary lands (on every engine).
#[test]
fn unsandboxed_forged_stores_do_reach_the_host() {
    for &kind in EngineKind::ALL {
        let canary = Canaries::new(1, 0x22);
        let at = canary.addrs()[0] + 100;
        let v = forged(&format!(
            "lddw %r1, {at:#x}\nstdw [%r1+0], 7\nmov %r0, 0\nexit\n"
        ));
        let env = Environment::new(HelperTable::new(), ExecConfig::default());
        // SAFETY: the forged store writes 8 bytes inside this test's own live canary buffer.
        let exe = unsafe { prepare_verified_unsandboxed(kind, &v, &env) }.expect("prepares");
        assert_eq!(exe.run_once(&mut []).result, Ok(0));
        assert!(
            !canary.intact(),
            "{kind}: the control store reached the canary"
        );
        // Sandboxed, the same program leaves it alone.
        let canary = Canaries::new(1, 0x22);
        let at = canary.addrs()[0] + 100;
        let v = forged(&format!(
            "lddw %r1, {at:#x}\nstdw [%r1+0], 7\nmov %r0, 0\nexit\n"
        ));
        // SAFETY: sandboxed.
        let exe = unsafe { prepare_verified(kind, &v, &env) }.expect("prepares");
        assert_eq!(exe.run_once(&mut []).result, Ok(0));
        assert!(
            canary.intact(),
            "{kind}: sandboxed, the canary is untouched"
        );
    }
}
