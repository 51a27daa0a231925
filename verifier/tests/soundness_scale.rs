//! Soundness at scale: a deterministic generator (seeded PRNG) of random `mem` programs with a
//! known input size: 32- and 64-bit ALU (division, modulo, shifts, byte swaps, sign
//! extension), stack and input loads and stores at constant and variable offsets (in and out
//! of bounds), forward branches, a bounded loop with a counter, local calls, loops walking the
//! input with a pointer and a counter advanced together (random start, stride, counter step,
//! bound and test, sometimes off by one or 32-bit: `domain::linrel`), and loops whose
//! `!=` exit test may or may not lie on the progression of its counter (`termination_prog`).
//!
//! Programs are generated until [`ACCEPTED_TARGET`] of them are accepted by the verifier (at
//! most [`MAX_ATTEMPTS`] tries). Each accepted one runs in the checked interpreter with a budget
//! larger than any of its loops can need, on several inputs of the declared size: it must not
//! fault, must not exhaust the budget, and must exit with r0 inside `Verified::r0`. The test
//! fails if fewer than [`MIN_SHARE_PERCENT`] % of the generated programs were accepted, so it
//! cannot pass by rejecting everything.
//!
//! `SOUNDNESS_SCALE_SEED` picks another seed; `SOUNDNESS_SCALE_TARGET` another target.

use std::sync::Arc;
use std::time::Instant;

use apiary_verifier::{verify, Platform, ProgramType};
use apiary_vm::{
    asm, Environment, ExecConfig, Executable, HelperTable, Interpreter, LoadOptions, Program,
};

/// Accepted programs required.
const ACCEPTED_TARGET: usize = 10_000;
/// Give up after this many generated programs.
const MAX_ATTEMPTS: usize = 60_000;
/// Minimum share of generated programs that must be accepted, in percent.
const MIN_SHARE_PERCENT: usize = 20;
/// Instruction budget per run: the loops run at most 8 times over a few dozen instructions.
const BUDGET: u64 = 1_000_000;
/// Inputs per accepted program.
const INPUTS: usize = 4;
/// Worker threads.
const THREADS: usize = 2;

/// splitmix64.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }
}

const ALU_OPS: &[&str] = &[
    "add", "sub", "mul", "div", "sdiv", "or", "and", "lsh", "rsh", "mod", "smod", "xor", "mov",
    "arsh",
];
const CONDS: &[&str] = &[
    "jeq", "jgt", "jge", "jlt", "jle", "jset", "jne", "jsgt", "jsge", "jslt", "jsle",
];
const SIZES: &[(&str, i64)] = &[("b", 1), ("h", 2), ("w", 4), ("dw", 8)];
const UNARY: &[&str] = &[
    "neg", "neg32", "be16", "be32", "be64", "le16", "le32", "le64", "bswap16", "bswap32", "bswap64",
];
const MOVSX: &[&str] = &[
    "movsx864",
    "movsx1664",
    "movsx3264",
    "movsx832",
    "movsx1632",
];

fn imm(rng: &mut Rng) -> i64 {
    match rng.below(4) {
        0 => *rng.pick(&[
            0,
            1,
            2,
            3,
            4,
            7,
            8,
            15,
            16,
            31,
            32,
            63,
            64,
            255,
            256,
            -1,
            -2,
            -8,
            0x7fff_ffff,
            -0x8000_0000,
            0xffff,
        ]),
        1 => rng.range(-64, 64),
        2 => rng.range(0, 40),
        _ => i64::from(rng.next() as i32),
    }
}

/// Registers the random items compute in (r6–r9 are reserved: address temporaries, the loop
/// counter and the input pointer).
fn reg(rng: &mut Rng) -> String {
    format!("%r{}", rng.below(6))
}

struct Gen<'a> {
    rng: &'a mut Rng,
    size: i64,
    out: Vec<String>,
    labels: usize,
}

impl Gen<'_> {
    fn emit(&mut self, s: String) {
        self.out.push(s);
    }

    fn label(&mut self) -> String {
        self.labels += 1;
        format!("L{}", self.labels)
    }

    /// One random straight-line item; `callee` restricts it to what a callee may do.
    fn item(&mut self, callee: bool) {
        let r = &mut *self.rng;
        let k = r.below(100);
        let n = self.size;
        let line = match k {
            // ALU with an immediate.
            0..=24 => {
                let op = *r.pick(ALU_OPS);
                let w = if r.chance(35) { "32" } else { "" };
                let mut v = imm(r);
                if matches!(op, "lsh" | "rsh" | "arsh") {
                    v = v.rem_euclid(if w.is_empty() { 64 } else { 32 });
                }
                format!("{op}{w} {}, {v}", reg(r))
            }
            // ALU with a register.
            25..=39 => {
                let op = *r.pick(ALU_OPS);
                let w = if r.chance(35) { "32" } else { "" };
                format!("{op}{w} {}, {}", reg(r), reg(r))
            }
            // Unary and sign extension.
            40..=44 => {
                if r.chance(60) {
                    format!("{} {}", r.pick(UNARY), reg(r))
                } else {
                    format!("{} {}, {}", r.pick(MOVSX), reg(r), reg(r))
                }
            }
            // Stack store (the callee's frame is zeroed over [-16, 0)).
            45..=51 => {
                let (sz, b) = *r.pick(SIZES);
                let lo = if callee { -16 } else { -64 };
                let off = r.range(lo - 1, -b + 1);
                if r.chance(50) {
                    format!("st{sz} [%r10{off:+}], {}", imm(r))
                } else {
                    format!("stx{sz} [%r10{off:+}], {}", reg(r))
                }
            }
            // Stack load.
            52..=58 => {
                let (sz, b) = *r.pick(SIZES);
                let lo = if callee { -16 } else { -64 };
                let off = r.range(lo - 1, -b + 1);
                let s = if b < 8 && r.chance(20) { "s" } else { "" };
                format!("ldx{s}{sz} {}, [%r10{off:+}]", reg(r))
            }
            _ if callee => format!("add {}, {}", reg(r), imm(r)),
            // Input load or store at a constant offset.
            59..=70 => {
                let (sz, b) = *r.pick(SIZES);
                let off = r.range(-1, n - b + 1);
                match r.below(3) {
                    0 => format!("st{sz} [%r9{off:+}], {}", imm(r)),
                    1 => format!("stx{sz} [%r9{off:+}], {}", reg(r)),
                    _ => format!("ldx{sz} {}, [%r9{off:+}]", reg(r)),
                }
            }
            // Input access at a variable offset: r7 = r9 + f(rA).
            71..=84 => {
                let (sz, b) = *r.pick(SIZES);
                let a = reg(r);
                let mut s = format!("mov %r6, {a}\n");
                match r.below(4) {
                    0 => s.push_str(&format!("and %r6, {}\n", r.below(n as u64 + 4))),
                    1 => s.push_str(&format!("mod %r6, {}\n", r.range(1, n + 2))),
                    2 => s.push_str(&format!("and32 %r6, {}\n", r.below(64))),
                    _ => {}
                }
                s.push_str("mov %r7, %r9\nadd %r7, %r6\n");
                let off = r.range(-1, 2).min(n - b);
                if r.chance(60) {
                    s.push_str(&format!("ldx{sz} {}, [%r7{off:+}]", reg(r)));
                } else {
                    s.push_str(&format!("stx{sz} [%r7{off:+}], {}", reg(r)));
                }
                s
            }
            // Stack access at a variable offset.
            85..=89 => {
                let (sz, b) = *r.pick(SIZES);
                let a = reg(r);
                let mask = *r.pick(&[7, 15, 31, 63, 56]);
                let base = -64 + (8 - b).min(r.range(0, 2));
                let mut s = format!(
                    "mov %r6, {a}\nand %r6, {mask}\nmov %r7, %r10\nadd %r7, {base}\nadd %r7, %r6\n"
                );
                if r.chance(50) {
                    s.push_str(&format!("ldx{sz} {}, [%r7+0]", reg(r)));
                } else {
                    s.push_str(&format!("stx{sz} [%r7+0], {}", reg(r)));
                }
                s
            }
            // Input access at an offset guarded by a comparison (either edge).
            90..=96 => {
                let (sz, b) = *r.pick(SIZES);
                let a = reg(r);
                let c = *r.pick(CONDS);
                let w = if r.chance(25) { "32" } else { "" };
                let bound = if r.chance(70) {
                    r.range(-2, n + 2)
                } else {
                    imm(r)
                };
                self.labels += 2;
                let (l1, l2) = (format!("G{}", self.labels), format!("H{}", self.labels));
                let access = format!(
                    "mov %r7, %r9\nadd %r7, %r6\nldx{sz} {}, [%r7{:+}]",
                    reg(r),
                    r.range(-1, 1).min(n - b)
                );
                if r.chance(50) {
                    format!("mov %r6, {a}\n{c}{w} %r6, {bound}, {l1}\n{access}\n{l1}:")
                } else {
                    format!(
                        "mov %r6, {a}\n{c}{w} %r6, {bound}, {l1}\nja {l2}\n{l1}:\n{access}\n{l2}:"
                    )
                }
            }
            // A new input byte into a register.
            _ => format!("ldxb {}, [%r9+{}]", reg(r), r.below(n as u64)),
        };
        self.emit(line);
    }

    fn branch(&mut self, target: &str) {
        let r = &mut *self.rng;
        let c = *r.pick(CONDS);
        let w = if r.chance(30) { "32" } else { "" };
        let line = if r.chance(55) {
            format!("{c}{w} {}, {}, {target}", reg(r), imm(r))
        } else {
            format!("{c}{w} {}, {}, {target}", reg(r), reg(r))
        };
        self.emit(line);
    }

    /// A block of `len` items with forward branches to labels inside it or to `end`.
    fn block(&mut self, len: usize, callee: bool, calls: bool, end: &str) {
        let mut pending: Vec<(usize, String)> = Vec::new();
        for i in 0..len {
            pending.retain(|(at, l)| {
                if *at == i {
                    self.out.push(format!("{l}:"));
                    false
                } else {
                    true
                }
            });
            let k = self.rng.below(100);
            if k < 14 {
                let at = i + 1 + self.rng.below((len - i) as u64) as usize;
                let l = if at >= len {
                    end.to_owned()
                } else {
                    let l = self.label();
                    pending.push((at, l.clone()));
                    l
                };
                self.branch(&l);
            } else if k < 18 && calls {
                self.emit("call local f".into());
                // r1–r5 are clobbered by the call: give them values again.
                for x in 1..=5 {
                    let v = imm(self.rng);
                    self.emit(format!("mov %r{x}, {v}"));
                }
            } else {
                self.item(callee);
            }
        }
        for (_, l) in pending {
            self.out.push(format!("{l}:"));
        }
    }
}

impl Gen<'_> {
    /// A loop reading the input through a pointer (r7) advanced with a counter (r6).
    fn walk(&mut self) {
        let stride = *self.rng.pick(&[1i64, 2, 4, 8, 16]);
        let width = *self.rng.pick(&[1i64, 2, 4, 8]);
        let sz = match width {
            1 => "b",
            2 => "h",
            4 => "w",
            _ => "dw",
        };
        let start = *self.rng.pick(&[0i64, 0, 0, 1, stride]);
        let c0 = *self.rng.pick(&[0i64, 0, 0, 1, -1]);
        let cstep = *self.rng.pick(&[1i64, 1, 1, 2]);
        let trips = (self.size - start - width).max(0) / stride + 1;
        let bound = c0 + cstep * trips + self.rng.range(-1, 1);
        let dst = reg(self.rng);
        self.emit("mov %r7, %r9".into());
        self.emit(format!("add %r7, {start}"));
        self.emit(format!("mov %r6, {c0}"));
        self.emit("walk:".into());
        self.emit(format!("ldx{sz} {dst}, [%r7+0]"));
        self.emit(format!("add %r7, {stride}"));
        let add = if self.rng.chance(15) { "add32" } else { "add" };
        self.emit(format!("{add} %r6, {cstep}"));
        let j = *self
            .rng
            .pick(&["jlt", "jlt", "jle", "jne", "jslt", "jlt32", "jne32"]);
        if self.rng.chance(30) {
            self.emit(format!("mov %r8, {bound}"));
            self.emit(format!("{j} %r6, %r8, walk"));
        } else {
            self.emit(format!("{j} %r6, {bound}, walk"));
        }
    }

    /// A loop leaving when its counter (r6), stepped by a constant, equals a bound that may or
    /// may not lie on its progression.
    fn progression(&mut self) {
        let s0 = self.rng.range(0, 10);
        let d = *self.rng.pick(&[1i64, 2, 3, 5, -2, 2_654_435_761]);
        // A bound behind the start is reached only after wrapping around (2^63 trips and
        // more): the verifier proves termination, not a trip count, so a step of 1 (which the
        // `<=`-style rule accepts whatever the bound) only gets bounds ahead.
        let m = if d.abs() >= 2 {
            self.rng.range(-1, 20)
        } else {
            self.rng.range(0, 20)
        };
        let bound = s0.wrapping_add(d.wrapping_mul(m)) + self.rng.range(0, 1);
        self.emit(format!("lddw %r6, {s0}"));
        self.emit(format!("lddw %r8, {:#x}", bound as u64));
        self.emit("prog:".into());
        if self.rng.chance(50) {
            self.emit(format!("lddw %r7, {:#x}", d as u64));
            self.emit("add %r6, %r7".into());
        } else if let Ok(d) = i32::try_from(d) {
            self.emit(format!("add %r6, {d}"));
        } else {
            self.emit(format!("lddw %r7, {:#x}", d as u64));
            self.emit("add %r6, %r7".into());
        }
        self.emit("jne %r6, %r8, prog".into());
    }
}

/// A random program for an input of `size` bytes.
fn generate(rng: &mut Rng, size: i64) -> String {
    let mut g = Gen {
        rng,
        size,
        out: Vec::new(),
        labels: 0,
    };
    g.emit("mov %r9, %r1".into());
    for x in 0..=5 {
        let v = imm(g.rng);
        g.emit(format!("mov %r{x}, {v}"));
    }
    for off in (8..=64).step_by(8) {
        if g.rng.chance(90) {
            let v = imm(g.rng);
            g.emit(format!("stdw [%r10-{off}], {v}"));
        }
    }
    if g.rng.chance(20) {
        g.walk();
    }
    if g.rng.chance(10) {
        g.progression();
    }
    let calls = g.rng.chance(25);
    let len = g.rng.range(3, 20) as usize;
    if g.rng.chance(40) {
        let bound = g.rng.range(1, 8);
        g.emit("mov %r8, 0".into());
        g.emit("loop:".into());
        g.block(len, false, calls, "tail");
        g.emit("tail:".into());
        g.emit("add %r8, 1".into());
        g.emit(format!("jlt %r8, {bound}, loop"));
    } else {
        g.block(len, false, calls, "end");
        g.emit("end:".into());
    }
    g.emit("exit".into());
    if calls {
        g.emit("f:".into());
        g.emit("stdw [%r10-8], 0".into());
        g.emit("stdw [%r10-16], 0".into());
        g.emit("mov %r0, %r1".into());
        let n = g.rng.range(1, 6) as usize;
        g.block(n, true, false, "fend");
        g.emit("fend:".into());
        g.emit("exit".into());
    }
    g.out.join("\n")
}

#[derive(Default)]
struct Tally {
    generated: usize,
    accepted: usize,
    /// Accepted programs with a loop, a local call, a variable-offset input access.
    with_loop: usize,
    /// Accepted programs with a pointer-and-counter loop, a progression loop.
    with_walk: usize,
    with_prog: usize,
    with_call: usize,
    with_variable: usize,
    runs: usize,
    failures: Vec<String>,
}

/// Generates and checks programs from `seed` until `target` are accepted or `attempts` tried.
fn worker(seed: u64, target: usize, attempts: usize) -> Tally {
    let mut rng = Rng(seed);
    let mut t = Tally::default();
    let env = Environment::new(
        HelperTable::new(),
        ExecConfig {
            budget: Some(BUDGET),
        },
    );
    let platform = Platform::empty();
    while t.accepted < target && t.generated < attempts {
        let size = *rng.pick(&[8i64, 16, 32, 1024]);
        let text = generate(&mut rng, size);
        t.generated += 1;
        let insns = asm::assemble(&text).unwrap_or_else(|e| panic!("assemble: {e}\n{text}"));
        let Ok(program) = Program::new(insns, &LoadOptions::default()) else {
            continue;
        };
        let ptype = ProgramType::mem(Some(size as u64));
        let Ok(v) = verify(&program, &platform, &ptype, &[]) else {
            continue;
        };
        t.accepted += 1;
        t.with_loop += usize::from(text.contains("loop:"));
        t.with_walk += usize::from(text.contains("walk:"));
        t.with_prog += usize::from(text.contains("prog:"));
        t.with_call += usize::from(text.contains("call local"));
        t.with_variable += usize::from(text.contains("add %r7, %r6"));
        let exe = Interpreter::new(Arc::new(program), &env).expect("interpreter");
        for i in 0..INPUTS {
            let mut input: Vec<u8> = match i {
                0 => vec![0; size as usize],
                1 => vec![0xff; size as usize],
                _ => (0..size).map(|_| rng.next() as u8).collect(),
            };
            let before = input.clone();
            let out = exe.run_once(&mut input);
            t.runs += 1;
            let problem = match out.result {
                Ok(r0) => match v.r0 {
                    Some(range) if range.contains(r0) => None,
                    Some(range) => Some(format!("r0 {r0:#x} outside {range:?}")),
                    None => Some("exit reached but the verifier saw no exit".into()),
                },
                Err(f) => Some(format!("fault: {f}")),
            };
            if let Some(p) = problem {
                if t.failures.len() < 10 {
                    t.failures
                        .push(format!("{p}\ninput {before:02x?}\n---\n{text}\n---"));
                }
            }
        }
    }
    t
}

#[test]
fn ten_thousand_accepted_programs_run_without_faults() {
    let seed: u64 = std::env::var("SOUNDNESS_SCALE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x00a9_1a12_5eed);
    let target: usize = std::env::var("SOUNDNESS_SCALE_TARGET")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(ACCEPTED_TARGET);
    let start = Instant::now();
    let per = target.div_ceil(THREADS);
    let tallies: Vec<Tally> = std::thread::scope(|sc| {
        let hs: Vec<_> = (0..THREADS as u64)
            .map(|i| {
                sc.spawn(move || {
                    worker(
                        seed ^ (i.wrapping_mul(0x1000_0000_01b3)),
                        per,
                        MAX_ATTEMPTS / THREADS,
                    )
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().expect("worker")).collect()
    });
    let mut all = Tally::default();
    for t in tallies {
        all.generated += t.generated;
        all.accepted += t.accepted;
        all.runs += t.runs;
        all.with_loop += t.with_loop;
        all.with_walk += t.with_walk;
        all.with_prog += t.with_prog;
        all.with_call += t.with_call;
        all.with_variable += t.with_variable;
        all.failures.extend(t.failures);
    }
    let share = all.accepted * 100 / all.generated.max(1);
    println!(
        "soundness at scale: seed {seed:#x}: {} generated, {} accepted ({share}%), {} runs, {} failures, {:.1} s",
        all.generated,
        all.accepted,
        all.runs,
        all.failures.len(),
        start.elapsed().as_secs_f64()
    );
    println!(
        "  accepted with a loop: {}, with a local call: {}, with a variable-offset access: {}, \
         with a pointer-and-counter loop: {}, with a progression loop: {}",
        all.with_loop, all.with_call, all.with_variable, all.with_walk, all.with_prog
    );
    assert!(
        all.with_walk > 0 && all.with_prog > 0,
        "no accepted program has the new loop shapes"
    );
    assert!(
        all.failures.is_empty(),
        "accepted programs misbehaved:\n{}",
        all.failures.join("\n")
    );
    assert!(
        share >= MIN_SHARE_PERCENT,
        "only {share}% of generated programs accepted (floor {MIN_SHARE_PERCENT}%)"
    );
    assert!(
        all.accepted >= target,
        "only {} programs accepted in {} attempts (want {target})",
        all.accepted,
        all.generated
    );
}
