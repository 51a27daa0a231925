//! A generated program for JIT compile-time benchmarks: straight-line ALU code mixed with
//! forward conditional jumps, stack stores and loads, and `lddw`. Every engine accepts it
//! (no helpers, no backward jumps, no local calls) and it terminates, so its result can be
//! cross-checked too.

use crate::Lcg;

fn slot(op: u8, dst: u8, src: u8, off: i16, imm: i32) -> [u8; 8] {
    let o = off.to_le_bytes();
    let i = imm.to_le_bytes();
    [op, dst | (src << 4), o[0], o[1], i[0], i[1], i[2], i[3]]
}

/// A program of exactly `slots` instruction slots (at least 32), deterministic for a seed.
#[must_use]
pub fn generated_program(slots: usize, seed: u64) -> Vec<u8> {
    assert!(slots >= 32, "too small");
    let mut rng = Lcg::new(seed);
    let mut code: Vec<[u8; 8]> = Vec::with_capacity(slots);
    // Initialise r0..r9 and eight stack slots so every later read is defined.
    for r in 0..10u8 {
        code.push(slot(0xb7, r, 0, 0, rng.next_u32() as i32)); // mov64 imm
    }
    for j in 1..=8i16 {
        code.push(slot(0x7b, 10, (j % 10) as u8, -8 * j, 0)); // stxdw [r10 - 8j], rj
    }
    let body_end = slots - 1; // the final exit
    while code.len() < body_end {
        let left = body_end - code.len();
        let dst = rng.below(10) as u8;
        let src = rng.below(10) as u8;
        let imm = rng.next_u32() as i32;
        let ins = match rng.below(16) {
            0 => slot(0x0f, dst, src, 0, 0),               // add64 reg
            1 => slot(0x07, dst, 0, 0, imm),               // add64 imm
            2 => slot(0xaf, dst, src, 0, 0),               // xor64 reg
            3 => slot(0xa4, dst, 0, 0, imm),               // xor32 imm
            4 => slot(0x2f, dst, src, 0, 0),               // mul64 reg
            5 => slot(0x67, dst, 0, 0, (imm & 63).max(1)), // lsh64 imm
            6 => slot(0x77, dst, 0, 0, (imm & 63).max(1)), // rsh64 imm
            7 => slot(0x0c, dst, src, 0, 0),               // add32 reg
            8 => slot(0xbc, dst, src, 0, 0),               // mov32 reg
            9 => slot(0x5f, dst, src, 0, 0),               // and64 reg
            10 => slot(0x1f, dst, src, 0, 0),              // sub64 reg
            11 => slot(0x7b, 10, src, -8 * (1 + (imm & 7) as i16), 0), // stxdw
            12 => slot(0x79, dst, 10, -8 * (1 + (imm & 7) as i16), 0), // ldxdw
            13 | 14 if left > 4 => {
                // A forward conditional jump over 1..=3 slots (never into an lddw tail: lddw
                // is only emitted where no jump can land inside it, see below).
                let over = 1 + rng.below(3) as i16;
                let op = [0x25, 0x2d, 0x15, 0x5d, 0xa6, 0x16][rng.below(6) as usize];
                let ins = if op & 0x08 != 0 {
                    slot(op, dst, src, over, 0)
                } else {
                    slot(op, dst, 0, over, imm)
                };
                code.push(ins);
                // Fill the jumped-over slots with simple ALU so targets stay in range.
                for _ in 0..over {
                    let d = rng.below(10) as u8;
                    code.push(slot(0x07, d, 0, 0, rng.next_u32() as i32));
                }
                continue;
            }
            _ if left >= 2 => {
                // lddw: two slots.
                let hi = rng.next_u32() as i32;
                code.push(slot(0x18, dst, 0, 0, imm));
                code.push(slot(0, 0, 0, 0, hi));
                continue;
            }
            _ => slot(0xbf, dst, src, 0, 0), // mov64 reg
        };
        code.push(ins);
    }
    code.truncate(body_end);
    code.push(slot(0x95, 0, 0, 0, 0)); // exit
    code.concat()
}

#[cfg(test)]
mod tests {
    use super::generated_program;

    #[test]
    fn exact_length() {
        for n in [32, 100, 256, 1000, 10_000] {
            assert_eq!(generated_program(n, 1).len(), n * 8);
        }
    }
}
