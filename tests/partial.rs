//! Checked mode with partial proofs against fully checked mode, on random programs.
//!
//! The generator writes `mem` programs over a 64-byte input whose accesses are a mix of what
//! the verifier proves (constant offsets in bounds, masked offsets, the frame) and what it
//! cannot (offsets past the input, variable offsets that may leave the frame, pointers filled
//! from slots a checked store may have overwritten, loops), with stores of pointers and wild
//! numbers into the stack through unproven addresses, atomics and bounded loops. Each program
//! is analysed partially (`Options::partial`: what cannot be proven stays checked); every
//! program the analysis accepts runs fully checked and with its proven accesses unchecked, on
//! the interpreter and the JIT, through the engine-agreement harness (r0 or fault with pc and
//! address, instruction count, input, stack). A wrong proof shows as a disagreement (or a
//! crash: the harness runs proven accesses unsandboxed). The library's own path
//! (`prepare_checked_with_proofs`: sandboxed, the input copied into the window) is compared with
//! the same path without facts (every access checked in the same layout) by how the run ends
//! (completes, or faults of the same kind at the same pc), for runs whose results do not depend
//! on addresses: two sandboxed engines have different windows, so numbers made from pointer
//! bits differ between them (values and memory are compared by the harness, at equal addresses). The test fails unless enough programs
//! mix proven and unproven accesses, so it cannot pass by proving nothing or everything.

use std::sync::Arc;

use apiary_engine::{prepare_checked_with_proofs, EngineKind, VerifiedProgram};
use apiary_testkit::Rng;
use apiary_testkit_engines::{Harness, Tally};
use apiary_verifier::{Options, Platform, ProgramType};
use apiary_vm::{asm, Environment, ExecConfig, Fault, HelperTable, LoadOptions, Program};

const SIZE: i64 = 64;
const PROGRAMS: usize = 3_000;
const INPUTS: usize = 3;

const SCALARS: [&str; 5] = ["%r0", "%r1", "%r2", "%r3", "%r4"];
const SIZES: [(&str, i64); 4] = [("b", 1), ("h", 2), ("w", 4), ("dw", 8)];
const CONDS: [&str; 6] = ["jeq", "jne", "jgt", "jlt", "jsge", "jsle"];

struct Gen {
    rng: Rng,
    out: Vec<String>,
    labels: usize,
}

impl Gen {
    fn s(&mut self) -> &'static str {
        SCALARS[self.rng.below(SCALARS.len() as u64) as usize]
    }

    fn size(&mut self) -> (&'static str, i64) {
        SIZES[self.rng.below(4) as usize]
    }

    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.rng.below((hi - lo + 1) as u64) as i64
    }

    fn emit(&mut self, s: String) {
        self.out.push(s);
    }

    fn item(&mut self) {
        let k = self.rng.below(100);
        match k {
            // Input at a constant offset, sometimes past either end.
            0..=17 => {
                let (sz, n) = self.size();
                let off = if self.rng.chance(85) {
                    self.range(0, SIZE - n)
                } else {
                    self.range(-8, SIZE + 8)
                };
                let r = self.s();
                if self.rng.chance(60) {
                    self.emit(format!("ldx{sz} {r}, [%r6{off:+}]"));
                } else {
                    self.emit(format!("stx{sz} [%r6{off:+}], {r}"));
                }
            }
            // The frame at a constant offset.
            18..=29 => {
                let (sz, n) = self.size();
                let off = -(self.range(1, 128 / n) * n);
                let r = self.s();
                if self.rng.chance(50) {
                    self.emit(format!("ldx{sz} {r}, [%r10{off:+}]"));
                } else {
                    self.emit(format!("stx{sz} [%r10{off:+}], {r}"));
                }
            }
            // Input at a masked offset (proven when the mask keeps it inside).
            30..=39 => {
                let mask = [31, 63, 127, 255][self.rng.below(4) as usize];
                let r = self.s();
                let d = self.s();
                self.emit(format!("mov %r8, {r}"));
                self.emit(format!("and %r8, {mask}"));
                self.emit("add %r8, %r6".into());
                if self.rng.chance(60) {
                    self.emit(format!("ldxb {d}, [%r8+0]"));
                } else {
                    self.emit(format!("stxb [%r8+0], {d}"));
                }
            }
            // The stack at a masked offset from r10 - 64: may leave the frame (unproven), and
            // may overwrite the slots holding the spilled input pointer.
            40..=49 => {
                let mask = [63, 127][self.rng.below(2) as usize];
                let r = self.s();
                self.emit("mov %r9, %r10".into());
                self.emit("add %r9, -64".into());
                self.emit(format!("mov %r8, {r}"));
                self.emit(format!("and %r8, {mask}"));
                self.emit("and %r8, -8".into());
                self.emit("add %r9, %r8".into());
                let v = match self.rng.below(3) {
                    0 => "%r6",
                    1 => "%r7",
                    _ => self.s(),
                };
                if self.rng.chance(70) {
                    self.emit(format!("stxdw [%r9+0], {v}"));
                } else {
                    let d = self.s();
                    self.emit(format!("ldxdw {d}, [%r9+0]"));
                }
            }
            // A pointer spilled, or a fill of that slot and an access through it.
            50..=61 => {
                let slot = -8 * self.range(1, 4);
                if self.rng.chance(40) {
                    self.emit(format!("stxdw [%r10{slot:+}], %r6"));
                } else {
                    let off = self.range(0, SIZE - 1);
                    let d = self.s();
                    self.emit(format!("ldxdw %r8, [%r10{slot:+}]"));
                    if self.rng.chance(50) {
                        self.emit(format!("ldxb {d}, [%r8{off:+}]"));
                    } else {
                        self.emit(format!("stxb [%r8{off:+}], {d}"));
                    }
                }
            }
            // Atomics on the input or the frame.
            62..=66 => {
                let r = self.s();
                let op = ["add", "or", "xchg", "xor"][self.rng.below(4) as usize];
                let target = if self.rng.chance(50) {
                    format!("[%r6{:+}]", 8 * self.range(-1, SIZE / 8))
                } else {
                    format!("[%r10{:+}]", -8 * self.range(1, 16))
                };
                self.emit(format!("lock {op} {target}, {r}"));
            }
            // A wild number as a pointer (usually faults in both).
            67..=68 => {
                let d = self.s();
                self.emit(format!("ldxb {d}, [%r7+0]"));
            }
            // Arithmetic on the numbers.
            69..=89 => {
                let op = ["add", "sub", "xor", "and", "or", "mul", "rsh", "lsh"]
                    [self.rng.below(8) as usize];
                let d = self.s();
                if self.rng.chance(50) {
                    let v = if matches!(op, "rsh" | "lsh") {
                        self.range(0, 63)
                    } else {
                        self.range(-300, 300)
                    };
                    self.emit(format!("{op} {d}, {v}"));
                } else if !matches!(op, "rsh" | "lsh") {
                    let s = self.s();
                    self.emit(format!("{op} {d}, {s}"));
                }
            }
            // A forward branch over a few items.
            _ => {
                self.labels += 1;
                let l = format!("L{}", self.labels);
                let c = CONDS[self.rng.below(CONDS.len() as u64) as usize];
                let r = self.s();
                let v = self.range(-5, 300);
                self.emit(format!("{c} {r}, {v}, {l}"));
                for _ in 0..self.range(1, 4) {
                    self.item();
                }
                self.emit(format!("{l}:"));
            }
        }
    }

    fn program(&mut self) -> String {
        self.out.clear();
        self.emit("mov %r6, %r1".into());
        for (i, r) in SCALARS.iter().enumerate() {
            self.emit(format!("ldxdw {r}, [%r6+{}]", 8 * i));
        }
        let wild = [0u64, 0x1000, 0xdead_0000, 1 << 40][self.rng.below(4) as usize];
        self.emit(format!("lddw %r7, {wild:#x}"));
        for slot in 1..=16 {
            self.emit(format!("stdw [%r10-{}], 0", 8 * slot));
        }
        self.emit("stxdw [%r10-8], %r6".into());
        for _ in 0..self.range(6, 24) {
            if self.rng.chance(8) {
                // A bounded loop: r5 counts, the body leaves r5 alone.
                self.labels += 1;
                let l = format!("L{}", self.labels);
                self.emit("mov %r5, 0".into());
                self.emit(format!("{l}:"));
                for _ in 0..self.range(1, 4) {
                    self.item();
                }
                self.emit("add %r5, 1".into());
                let n = self.range(2, 6);
                self.emit(format!("jlt %r5, {n}, {l}"));
            } else {
                self.item();
            }
        }
        self.emit("exit".into());
        self.out.join("\n")
    }
}

/// The fully checked interpreter's result on `input` (written in place).
fn checked_run(program: &Arc<Program>, env: &Environment, input: &mut [u8]) -> Result<u64, Fault> {
    let exe =
        apiary_engine::prepare(EngineKind::Interp, Arc::clone(program), env).expect("prepares");
    exe.run_once(input).result
}

/// The same r0, or faults of the same kind at the same pc (addresses differ in the window).
fn same_end(a: &Result<u64, Fault>, b: &Result<u64, Fault>) -> bool {
    match (a, b) {
        (Ok(x), Ok(y)) => x == y,
        (Err(x), Err(y)) => {
            std::mem::discriminant(x) == std::mem::discriminant(y) && x.pc() == y.pc()
        }
        _ => false,
    }
}

#[test]
fn partial_proofs_agree_with_fully_checked_runs() {
    let env = Environment::new(
        HelperTable::new(),
        ExecConfig {
            budget: Some(100_000),
        },
    );
    let options = Options {
        partial: true,
        ..Options::default()
    };
    let ptype = ProgramType::mem(Some(SIZE as u64));
    let mut gen = Gen {
        rng: Rng::new(0x05ee_d9a2_71a1),
        out: Vec::new(),
        labels: 0,
    };
    let mut tally = Tally::new("partial proofs vs checked (random programs)");
    let (mut mixed, mut rejected, mut ran_past_unproven) = (0, 0, 0);
    let mut address_dependent = 0;
    for i in 0..PROGRAMS {
        let text = gen.program();
        let insns = asm::assemble(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        let program = Arc::new(Program::new(insns, &LoadOptions::default()).expect("loads"));
        let v = match VerifiedProgram::verify_with(
            Arc::clone(&program),
            &Platform::empty(),
            &ptype,
            &[],
            &options,
        ) {
            Ok(v) => v,
            Err(_) => {
                rejected += 1;
                tally.skip("partial analysis rejected");
                continue;
            }
        };
        let (proven, total) = v.verified().proven_accesses(&program);
        if proven > 0 && proven < total {
            mixed += 1;
        }
        // SAFETY: verified on the empty platform as a `mem` program of `SIZE` bytes: no helpers,
        // no maps, and `env` has none; every input below is `SIZE` bytes.
        let harness = unsafe { Harness::checked(&program, &env).verified(&v, &env) };
        // The library's path: sandboxed, the input copied into the window (so addresses differ
        // from the harness's: compared by r0, fault kind and pc, and the input after).
        let no_facts = v.without_facts();
        let sandboxed_checked: Vec<_> = EngineKind::ALL
            .iter()
            .map(|&kind| {
                // SAFETY: as above (no access proven).
                unsafe { prepare_checked_with_proofs(kind, &no_facts, &env) }.expect("prepares")
            })
            .collect();
        let sandboxed: Vec<_> = EngineKind::ALL
            .iter()
            .map(|&kind| {
                // SAFETY: as above.
                unsafe { prepare_checked_with_proofs(kind, &v, &env) }.expect("prepares")
            })
            .collect();
        for _ in 0..INPUTS {
            let input: Vec<u8> = (0..SIZE).map(|_| gen.rng.below(256) as u8).collect();
            let agreement = harness.run(&input);
            agreement.assert_agree(&format!("program {i}:\n{text}"));
            tally.add(&agreement);
            // `b` at another alignment: pointer bits seen as numbers differ from `a`'s.
            let want = sandboxed_checked[0].run_once(&mut input.clone()).result;
            let (mut a, mut b_buf) = (input.clone(), vec![0u8; input.len() + 64]);
            let b = &mut b_buf[40..40 + input.len()];
            b.copy_from_slice(&input);
            let first = checked_run(&program, &env, &mut a);
            // Programs whose results depend on addresses (a pointer's bytes stored or
            // returned) give other results at other addresses, fully checked too: those are
            // compared by the harness only.
            let moved = checked_run(&program, &env, b);
            if !(same_end(&moved, &first) && *b == a[..]) {
                address_dependent += 1;
                continue;
            }
            for exe in &sandboxed {
                let got = exe.run_once(&mut input.clone()).result;
                assert!(
                    same_end(&got, &want) || (got.is_ok() && want.is_ok()),
                    "program {i} on {} sandboxed with proofs: {got:?}, sandboxed fully checked: \
                     {want:?}\nproven: {:?}\n{text}",
                    exe.engine_name(),
                    (0..program.len())
                        .filter(|&pc| v.facts().access_proven(pc))
                        .collect::<Vec<_>>()
                );
            }
            if proven < total && agreement.outcome().is_some_and(|o| o.result.is_ok()) {
                ran_past_unproven += 1;
            }
        }
    }
    eprintln!(
        "{mixed} of {PROGRAMS} programs mix proven and unproven accesses; {rejected} rejected; \
         {ran_past_unproven} runs completed with unproven accesses; {address_dependent} runs \
         depend on addresses"
    );
    assert!(
        mixed * 3 >= PROGRAMS,
        "only {mixed} programs mix proven and unproven accesses"
    );
    assert!(
        ran_past_unproven * 10 >= PROGRAMS,
        "only {ran_past_unproven} runs got past unproven accesses"
    );
    eprintln!("{}", tally.finish());
}
