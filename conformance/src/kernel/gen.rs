//! Random programs the kernel verifier accepts, for differential runs of the interpreter, the
//! JIT and the kernel ([`crate::kernel::KernelEngine`]).
//!
//! The programs use the oracle's ABI (r1 = input, r2 = its length; the verifier knows the
//! length as a constant) and keep every rule the verifier checks:
//! - r6 = input pointer and r7 = input length for the whole program (copied first), r8 = loop
//!   counter, r9 = the only register that ever holds a derived input pointer; r0–r5 are the
//!   data registers, all set to constants before anything reads them;
//! - input accesses sit behind an explicit bounds check `if r7 < off + size goto skip` (the
//!   verifier decides it from the constant length, the engines at run time), at constant
//!   offsets (a pointer with a variable offset gets a fresh packet id and no proven range, so
//!   the verifier would need `data_end`, which apiary's ABI does not give);
//! - stack accesses are at constant, naturally aligned offsets within 64 bytes of r10, all of
//!   which are initialised first; atomics (every op, 32 and 64 bit, fetch or not) go to the
//!   stack only, to the 32 bytes nearest r10, where registers are never stored (only
//!   immediates and atomics write there), and a 32-bit `cmpxchg` is preceded by `mov32 r0, r0`.
//!   Both rules keep clear of two Linux 6.18 wrong results the differential found (reproducers
//!   and analysis in `fuzz/regressions/README.md`);
//! - no division or modulo by an immediate 0, shift immediates in range, `movsx` only in the
//!   forms Linux accepts;
//! - forward jumps only, except bounded loops: `r8` counts from 0 to a constant bound.
//!
//! The generator is deterministic for a seed ([`Rng`]), so a failure names a reproducible case.

use apiary_vm::Insn;

/// A small deterministic random source (SplitMix64).
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed`.
    #[must_use]
    pub const fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// True with probability `num / den`.
    pub fn chance(&mut self, num: u64, den: u64) -> bool {
        self.below(den) < num
    }

    /// One element of a non-empty slice.
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }

    /// An interesting 32-bit immediate: small, boundary or random.
    pub fn imm(&mut self) -> i32 {
        match self.below(6) {
            0 => self.below(16) as i32,
            1 => -(self.below(16) as i32),
            2 => self.pick(&[i32::MIN, i32::MAX, -1, 0x7fff, 0x8000, 0xffff, 0x80, 0xff]),
            _ => self.next_u64() as i32,
        }
    }
}

/// A generated test: the program's slots and its input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Generated {
    /// The program.
    pub insns: Vec<Insn>,
    /// The input (r1 / r2).
    pub input: Vec<u8>,
}

/// Registers with fixed roles.
const PTR: u8 = 6;
const LEN: u8 = 7;
const COUNTER: u8 = 8;
/// Kept at 0 (set before use like every register; reserved for derived pointers).
const TMP_PTR: u8 = 9;
/// Data registers.
const DATA: [u8; 6] = [0, 1, 2, 3, 4, 5];
/// Bytes of stack the programs use (all initialised at the start).
const STACK_BYTES: i16 = 64;
/// Largest input generated.
const MAX_INPUT: u64 = 64;

// Opcode pieces (RFC 9669 §3, §4).
const ALU32: u8 = 0x04;
const ALU64: u8 = 0x07;
const JMP: u8 = 0x05;
const JMP32: u8 = 0x06;
const K: u8 = 0x00;
const X: u8 = 0x08;

const SIZES: [(u8, i16); 4] = [(0x10, 1), (0x08, 2), (0x00, 4), (0x18, 8)];

/// How programs are shaped.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    /// Items (instructions or small constructs) in the top-level block.
    pub items: u64,
    /// Nesting depth of conditional blocks.
    pub depth: u32,
}

impl Default for Shape {
    fn default() -> Self {
        Self {
            items: 24,
            depth: 2,
        }
    }
}

struct Gen<'a> {
    rng: &'a mut Rng,
    shape: Shape,
    in_loop: bool,
}

/// Generates one program and its input.
#[must_use]
pub fn generate(rng: &mut Rng, shape: Shape) -> Generated {
    let len = if rng.chance(1, 8) {
        0
    } else {
        rng.below(MAX_INPUT + 1)
    };
    let input: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
    let mut g = Gen {
        rng,
        shape,
        in_loop: false,
    };
    let mut insns = vec![mov64(PTR, 1), mov64(LEN, 2)];
    for r in DATA {
        insns.extend(g.constant(r));
    }
    insns.push(movi(COUNTER, 0));
    insns.push(movi(TMP_PTR, 0));
    for slot in 1..=STACK_BYTES / 8 {
        let v = g.rng.imm();
        insns.push(Insn::new(0x62 | 0x18, 10, 0, -8 * slot, v)); // stdw [r10-8k], imm
    }
    let n = g.shape.items;
    insns.extend(g.block(n, 0));
    if g.rng.chance(1, 2) {
        let r = g.data();
        insns.push(mov64(0, r));
    }
    insns.push(Insn::new(0x95, 0, 0, 0, 0));
    Generated { insns, input }
}

fn mov64(dst: u8, src: u8) -> Insn {
    Insn::new(ALU64 | X | 0xb0, dst, src, 0, 0)
}

fn movi(dst: u8, imm: i32) -> Insn {
    Insn::new(ALU64 | K | 0xb0, dst, 0, 0, imm)
}

/// A jump offset from the slot after the jump to `target_len` slots further.
fn off(n: usize) -> i16 {
    i16::try_from(n).unwrap_or(i16::MAX)
}

impl Gen<'_> {
    fn data(&mut self) -> u8 {
        self.rng.pick(&DATA)
    }

    fn constant(&mut self, r: u8) -> Vec<Insn> {
        if self.rng.chance(1, 3) {
            let v = self.rng.next_u64();
            vec![
                Insn::new(0x18, r, 0, 0, v as i32),
                Insn::new(0, 0, 0, 0, (v >> 32) as i32),
            ]
        } else {
            let op = if self.rng.chance(1, 2) { ALU64 } else { ALU32 };
            vec![Insn::new(op | K | 0xb0, r, 0, 0, self.rng.imm())]
        }
    }

    fn block(&mut self, items: u64, depth: u32) -> Vec<Insn> {
        let mut out = Vec::new();
        for _ in 0..items {
            out.extend(self.item(depth));
        }
        out
    }

    fn item(&mut self, depth: u32) -> Vec<Insn> {
        match self.rng.below(20) {
            0..=7 => vec![self.alu()],
            8 => self.constant_item(),
            9 => vec![self.endian()],
            10 | 11 => self.packet_access(),
            12 => self.packet_access(),
            13 | 14 => vec![self.stack_access()],
            15 => self.atomic(),
            16 | 17 if depth < self.shape.depth => self.if_skip(depth),
            18 if depth < self.shape.depth => self.if_else(depth),
            19 if !self.in_loop && depth < self.shape.depth => self.bounded_loop(depth),
            _ => vec![self.alu()],
        }
    }

    fn constant_item(&mut self) -> Vec<Insn> {
        let r = self.data();
        self.constant(r)
    }

    fn alu(&mut self) -> Insn {
        let dst = self.data();
        let wide = self.rng.chance(1, 2);
        let class = if wide { ALU64 } else { ALU32 };
        let bits: i32 = if wide { 64 } else { 32 };
        // (code, signed-variant allowed)
        let code = self.rng.pick(&[
            0x00u8, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80, 0x90, 0xa0, 0xb0, 0xc0,
        ]);
        if code == 0x80 {
            return Insn::new(class | 0x80, dst, 0, 0, 0); // neg
        }
        let signed = matches!(code, 0x30 | 0x90) && self.rng.chance(1, 2);
        let off = i16::from(signed);
        if self.rng.chance(1, 2) {
            // Register operand.
            let src = self.data();
            if code == 0xb0 && self.rng.chance(1, 3) {
                // movsx: 8/16/32 for 64-bit, 8/16 for 32-bit.
                let from = if wide {
                    self.rng.pick(&[8i16, 16, 32])
                } else {
                    self.rng.pick(&[8i16, 16])
                };
                return Insn::new(class | X | 0xb0, dst, src, from, 0);
            }
            Insn::new(class | X | code, dst, src, off, 0)
        } else {
            let mut imm = self.rng.imm();
            match code {
                0x30 | 0x90 if imm == 0 => imm = 1 + self.rng.below(7) as i32,
                0x60 | 0x70 | 0xc0 => imm = self.rng.below(bits as u64) as i32,
                _ => {}
            }
            Insn::new(class | K | code, dst, 0, off, imm)
        }
    }

    fn endian(&mut self) -> Insn {
        let dst = self.data();
        let bits = self.rng.pick(&[16, 32, 64]);
        let op = self.rng.pick(&[0xd4u8, 0xdc, 0xd7]); // le, be, bswap
        Insn::new(op, dst, 0, 0, bits)
    }

    fn size(&mut self) -> (u8, i16) {
        self.rng.pick(&SIZES)
    }

    /// `if r7 < off + size goto +1; ldx/st/stx [r6 + off]`.
    fn packet_access(&mut self) -> Vec<Insn> {
        let (sz, bytes) = self.size();
        let o = self.rng.below(MAX_INPUT + 8) as i16;
        let access = self.memory_op(sz, PTR, o, false);
        vec![
            Insn::new(JMP | K | 0xa0, LEN, 0, 1, i32::from(o + bytes)), // jlt r7, K, +1
            access,
        ]
    }

    /// A load, store-immediate or store-register of size `sz` at `[base + off]`.
    fn memory_op(&mut self, sz: u8, base: u8, off: i16, stack: bool) -> Insn {
        let r = self.data();
        match self.rng.below(if stack { 3 } else { 4 }) {
            0 => {
                // ldx, sign-extending (ldxs, v4) for B/H/W half the time
                if sz != 0x18 && self.rng.chance(1, 2) {
                    Insn::new(0x81 | sz, r, base, off, 0)
                } else {
                    Insn::new(0x61 | sz, r, base, off, 0)
                }
            }
            1 => Insn::new(0x62 | sz, base, 0, off, self.rng.imm()),
            _ => Insn::new(0x63 | sz, base, r, off, 0),
        }
    }

    /// An aligned offset in `[-(base + span), -base)`.
    fn stack_offset(&mut self, bytes: i16, base: i16, span: i16) -> i16 {
        let slots = span / bytes;
        -base - bytes * (1 + self.rng.below(slots as u64) as i16)
    }

    fn stack_access(&mut self) -> Insn {
        let (sz, bytes) = self.size();
        let half = STACK_BYTES / 2;
        if self.rng.chance(1, 2) {
            // Anything, in the far half.
            let o = self.stack_offset(bytes, half, half);
            self.memory_op(sz, 10, o, true)
        } else {
            // Loads and immediate stores only, in the atomics' half.
            let o = self.stack_offset(bytes, 0, half);
            let r = self.data();
            if self.rng.chance(1, 2) {
                Insn::new(0x61 | sz, r, 10, o, 0)
            } else {
                Insn::new(0x62 | sz, 10, 0, o, self.rng.imm())
            }
        }
    }

    fn atomic(&mut self) -> Vec<Insn> {
        let (sz, bytes) = self.rng.pick(&[(0x00u8, 4i16), (0x18, 8)]);
        let o = self.stack_offset(bytes, 0, STACK_BYTES / 2);
        let src = self.data();
        // add, or, and, xor (each with or without fetch), xchg, cmpxchg
        let imm = self
            .rng
            .pick(&[0x00, 0x40, 0x50, 0xa0, 0x01, 0x41, 0x51, 0xa1, 0xe1, 0xf1]);
        let mut out = Vec::new();
        if imm == 0xf1 && sz == 0x00 {
            // Linux 6.18 may leave r0's upper half after a successful 32-bit cmpxchg.
            out.push(Insn::new(ALU32 | X | 0xb0, 0, 0, 0, 0));
        }
        if imm == 0xf1 && src == 0 {
            // cmpxchg compares with r0 and writes r0: use another source.
            out.push(Insn::new(0xc3 | sz, 10, 1, o, imm));
            return out;
        }
        out.push(Insn::new(0xc3 | sz, 10, src, o, imm));
        out
    }

    fn condition(&mut self) -> Insn {
        let class = if self.rng.chance(1, 2) { JMP } else { JMP32 };
        let code = self.rng.pick(&[
            0x10u8, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0xa0, 0xb0, 0xc0, 0xd0,
        ]);
        let dst = self.data();
        if self.rng.chance(1, 2) {
            let src = self.data();
            Insn::new(class | X | code, dst, src, 0, 0)
        } else {
            Insn::new(class | K | code, dst, 0, 0, self.rng.imm())
        }
    }

    fn with_offset(mut jump: Insn, n: usize) -> Insn {
        jump.off = off(n);
        jump
    }

    fn sub_block(&mut self, depth: u32) -> Vec<Insn> {
        let n = 1 + self.rng.below(4);
        self.block(n, depth + 1)
    }

    fn if_skip(&mut self, depth: u32) -> Vec<Insn> {
        let body = self.sub_block(depth);
        let cond = self.condition();
        let mut out = vec![Self::with_offset(cond, body.len())];
        out.extend(body);
        out
    }

    fn if_else(&mut self, depth: u32) -> Vec<Insn> {
        let then = self.sub_block(depth);
        let other = self.sub_block(depth);
        let cond = self.condition();
        let mut out = vec![Self::with_offset(cond, then.len() + 1)];
        out.extend(then);
        out.push(Insn::new(JMP, 0, 0, off(other.len()), 0)); // ja over the else part
        out.extend(other);
        out
    }

    /// `r8 = 0; loop: body; r8 += 1; if r8 < bound goto loop`.
    fn bounded_loop(&mut self, depth: u32) -> Vec<Insn> {
        self.in_loop = true;
        let body = self.sub_block(depth);
        self.in_loop = false;
        let bound = 1 + self.rng.below(6) as i32;
        let mut out = vec![movi(COUNTER, 0)];
        let start = out.len();
        out.extend(body);
        out.push(Insn::new(ALU64 | K, COUNTER, 0, 0, 1));
        let back = out.len() + 1 - start; // slots from after the jump back to `start`
        out.push(Insn::new(JMP | K | 0xa0, COUNTER, 0, -off(back), bound));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use apiary_vm::{LoadOptions, Program};

    #[test]
    fn generated_programs_load() {
        let mut rng = Rng::new(1);
        for _ in 0..2000 {
            let g = generate(&mut rng, Shape::default());
            if let Err(e) = Program::new(g.insns.clone(), &LoadOptions::default()) {
                panic!("{e}: {:?}", g.insns);
            }
        }
    }
}
