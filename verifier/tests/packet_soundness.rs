//! Packet soundness at scale: a seeded generator of XDP programs built from the shapes the
//! packet rules were made for (bound tests of `data + offset + k` turned into return codes,
//! the code rewritten, copied, spilled and refilled, sites merged and paths joined past the
//! path bound, then tests of the code and loads at offsets near the bound). Every accepted
//! program runs in a small concrete XDP machine (`data`, `data_end` and the context fields as
//! numbers, a 512-byte stack, the packet) on packets of many lengths: no access may leave the
//! packet, the stack or the context.
//!
//! `PACKET_SOUNDNESS_SEED` picks another seed, `PACKET_SOUNDNESS_PROGRAMS` another count.

use apiary_testkit::Rng;
use apiary_verifier::{verify, Platform, ProgramType};
use apiary_vm::instruction::{Instruction, Operand, Reg};
use apiary_vm::semantics;
use apiary_vm::{asm, LoadOptions, Program};

/// Programs generated.
const PROGRAMS: usize = 6_000;
/// Packets each accepted program runs on.
const RUNS: usize = 24;
/// At least this share of the programs must be accepted, in percent.
const MIN_SHARE_PERCENT: usize = 20;

const DATA: u64 = 0x1000_0000;
const CTX: u64 = 0x2000_0000;
const STACK_TOP: u64 = 0x3000_0000;

/// One site: r4 = data + offset, r6 = `good` when `r4 + k <= data_end`, `bad` otherwise.
fn site(g: &mut Rng, n: usize, out: &mut String) {
    let src = g.pick(&["%r5", "%r9", "14", "34", "%r5"]);
    let k = 1 + g.below(8);
    let good = g.pick(&["0", "0", "1"]);
    let bad = g.pick(&["-22", "-22", "1", "0", "2"]);
    let cmp = g.pick(&["jgt %r0, %r3", "jge %r0, %r3", "jlt %r3, %r0"]);
    out.push_str(&format!(
        "mov %r4, %r2\nadd %r4, {src}\nmov %r0, %r4\nadd %r0, {k}\n{cmp}, bad{n}\nmov %r6, {good}\nja join{n}\nbad{n}:\nmov %r6, {bad}\njoin{n}:\n"
    ));
}

fn program(g: &mut Rng) -> String {
    let mask = g.pick(&["255", "7", "15", "0", "63"]);
    let mask2 = g.pick(&["255", "31", "0"]);
    let mut t = format!(
        "ldxw %r2, [%r1+0]\nldxw %r3, [%r1+4]\nldxw %r5, [%r1+12]\nand %r5, {mask}\nldxw %r9, [%r1+20]\nand %r9, {mask2}\nldxw %r7, [%r1+16]\nmov %r8, 0\nmov %r6, 0\nmov %r4, %r2\n"
    );
    let segments = 1 + g.below(5);
    for n in 0..segments as usize {
        match g.below(9) {
            0 | 1 => site(g, n, &mut t),
            2 => {
                // Two sites merged.
                t.push_str(&format!("jset %r7, {}, alt{n}\n", 1 << g.below(8)));
                site(g, 100 + n, &mut t);
                t.push_str(&format!("ja end{n}\nalt{n}:\n"));
                site(g, 200 + n, &mut t);
                t.push_str(&format!("end{n}:\n"));
            }
            3 => {
                // Enough branches that the paths are joined.
                for i in 0..6 {
                    t.push_str(&format!("jset %r7, {}, +1\nadd %r8, {}\n", 1 << i, 1 << i));
                }
            }
            4 => {
                let op = g.pick(&[
                    "lsh %r6, 32",
                    "rsh %r6, 32",
                    "arsh %r6, 32",
                    "mov32 %r6, %r6",
                    "and %r6, 1",
                    "and %r6, 2",
                    "add %r6, 22",
                    "add32 %r6, 22",
                    "xor %r6, 1",
                    "neg %r6",
                    "mov %r0, %r6\nmov %r6, %r0",
                    "mov32 %r0, %r6\nmov %r6, %r0",
                    "mov %r6, 0",
                ]);
                t.push_str(op);
                t.push('\n');
            }
            5 => {
                let between = g.pick(&[
                    "",
                    "stdw [%r10-8], 0\n",
                    "stw [%r10-8], 0\nstw [%r10-4], 0\n",
                    "stdw [%r10-16], 0\n",
                    "stb [%r10-1], 0\n",
                    "mov %r0, %r10\nadd %r0, -16\nadd %r0, %r5\nstdw [%r0+0], 0\n",
                ]);
                t.push_str(&format!(
                    "stxdw [%r10-8], %r6\n{between}ldxdw %r6, [%r10-8]\n"
                ));
            }
            6 | 7 => {
                let test = g.pick(&[
                    "jne %r6, 0, drop",
                    "jne32 %r6, 0, drop",
                    "jeq %r6, 0, drop",
                    "jne %r6, 1, drop",
                    "jsgt %r6, -1, drop",
                    "jslt %r6, 0, drop",
                    "jgt %r6, 0, drop",
                    "jset %r6, 1, drop",
                ]);
                t.push_str(test);
                t.push('\n');
            }
            _ => {}
        }
    }
    let size = g.pick(&["b", "h", "w", "dw"]);
    let off = g.below(10) as i64 - 2;
    t.push_str(&format!(
        "ldx{size} %r0, [%r4{off:+}]\nmov %r0, 0\nexit\ndrop:\nmov %r0, 1\nexit\n"
    ));
    t
}

/// A concrete XDP machine for the instructions the generator emits.
struct Machine<'a> {
    packet: &'a [u8],
    fields: [u32; 3],
    stack: [u8; 512],
}

impl Machine<'_> {
    fn mem(&mut self, addr: u64, len: u64, store: Option<u64>) -> Result<u64, String> {
        let end = DATA + self.packet.len() as u64;
        let within =
            |lo: u64, hi: u64| addr >= lo && addr.checked_add(len).is_some_and(|e| e <= hi);
        if within(DATA, end) {
            let i = (addr - DATA) as usize;
            let mut v = 0u64;
            for b in 0..len as usize {
                v |= u64::from(self.packet[i + b]) << (8 * b);
            }
            return Ok(v);
        }
        if within(STACK_TOP - 512, STACK_TOP) {
            let i = (addr - (STACK_TOP - 512)) as usize;
            if let Some(v) = store {
                for b in 0..len as usize {
                    self.stack[i + b] = (v >> (8 * b)) as u8;
                }
                return Ok(0);
            }
            let mut v = 0u64;
            for b in 0..len as usize {
                v |= u64::from(self.stack[i + b]) << (8 * b);
            }
            return Ok(v);
        }
        if within(CTX, CTX + 24) && store.is_none() && len == 4 && (addr - CTX).is_multiple_of(4) {
            return Ok(match addr - CTX {
                0 | 8 => DATA,
                4 => end,
                o => u64::from(self.fields[(o / 4 - 3) as usize]),
            });
        }
        Err(format!(
            "access of {len} bytes at {addr:#x} (packet of {} bytes)",
            self.packet.len()
        ))
    }

    fn run(&mut self, p: &Program) -> Result<u64, String> {
        let mut r = [0u64; 11];
        r[1] = CTX;
        r[10] = STACK_TOP;
        let ins = p.instructions();
        let mut pc = 0;
        for _ in 0..10_000 {
            let get = |r: &[u64; 11], o: Operand, w| match o {
                Operand::Reg(x) => r[x.index()],
                Operand::Imm(i) => semantics::imm_value(i, w),
            };
            match ins[pc] {
                Instruction::Alu {
                    op,
                    width,
                    dst,
                    src,
                } => {
                    r[dst.index()] = semantics::alu(op, width, r[dst.index()], get(&r, src, width))
                }
                Instruction::Neg { width, dst } => {
                    r[dst.index()] = semantics::alu(
                        apiary_vm::instruction::AluOp::Sub,
                        width,
                        0,
                        r[dst.index()],
                    );
                }
                Instruction::Load {
                    size,
                    dst,
                    src,
                    off,
                    ..
                } => {
                    let a = r[src.index()].wrapping_add(off as i64 as u64);
                    r[dst.index()] = self.mem(a, u64::from(size.bytes()), None)?;
                }
                Instruction::Store {
                    size,
                    dst,
                    off,
                    src,
                } => {
                    let a = r[dst.index()].wrapping_add(off as i64 as u64);
                    let v = get(&r, src, apiary_vm::instruction::Width::W64);
                    self.mem(a, u64::from(size.bytes()), Some(v))?;
                }
                Instruction::Ja { target } => {
                    pc = target;
                    continue;
                }
                Instruction::Jump {
                    cond,
                    width,
                    dst,
                    src,
                    target,
                } => {
                    if semantics::condition(cond, width, r[dst.index()], get(&r, src, width)) {
                        pc = target;
                        continue;
                    }
                }
                Instruction::Exit => return Ok(r[Reg::R0.index()]),
                other => return Err(format!("unexpected {other:?}")),
            }
            pc += 1;
        }
        Err("budget".into())
    }
}

#[test]
fn accepted_packet_programs_stay_in_bounds() {
    let seed: u64 = std::env::var("PACKET_SOUNDNESS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x005e_ed9a_c4e7);
    let programs: usize = std::env::var("PACKET_SOUNDNESS_PROGRAMS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(PROGRAMS);
    let mut g = Rng::new(seed);
    let (mut accepted, mut failures) = (0usize, Vec::new());
    for _ in 0..programs {
        let text = program(&mut g);
        let insns = asm::assemble(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        let p =
            Program::new(insns, &LoadOptions::default()).unwrap_or_else(|e| panic!("{e}\n{text}"));
        let Ok(_) = verify(&p, &Platform::linux(), &ProgramType::xdp(), &[]) else {
            continue;
        };
        accepted += 1;
        for _ in 0..RUNS {
            let len = match g.below(3) {
                0 => g.below(64),
                1 => g.below(300),
                _ => 30 + g.below(30),
            } as usize;
            let packet: Vec<u8> = (0..len).map(|_| g.next_u64() as u8).collect();
            let fields = [
                g.next_u64() as u32,
                g.next_u64() as u32,
                g.next_u64() as u32,
            ];
            let mut m = Machine {
                packet: &packet,
                fields,
                stack: [0; 512],
            };
            if let Err(e) = m.run(&p) {
                failures.push(format!("{e} (fields {fields:x?})\n{text}"));
                break;
            }
        }
    }
    println!(
        "packet soundness: {programs} programs, {accepted} accepted, {} failures",
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "accepted programs left bounds:\n{}",
        failures.join("\n---\n")
    );
    assert!(
        accepted * 100 >= programs * MIN_SHARE_PERCENT,
        "only {accepted} of {programs} accepted"
    );
}
