//! Relational induction for termination: exit tests whose register is not stepped in place but
//! recomputed each trip from a register that is.
//!
//! One trip of a loop is run over a tiny symbolic domain: each register is `x + c` (`x` a
//! register's value at the head, `c` a constant, 64-bit wrapping arithmetic), possibly seen
//! through a zero-extension to 32 bits (`mov32`, or `lsh 32` then `rsh 32`), or unknown. Copies
//! (`mov`), constant steps (`add`/`sub` of an immediate) and those truncations keep the
//! relation; every other write forgets it. The paths of the loop body are joined (a register
//! keeps its relation only if every path agrees).
//!
//! If, on every path back to the head, `x` becomes `x + d` (`d != 0`), and at the exit test the
//! tested register is `x + c` on every path, the tested value moves by exactly `d` per trip
//! (truncated: by `d` modulo 2^32), like a register stepped in place; [`crate::termination::candidate_ok`]
//! then checks the bound as for such a register. A truncated value is checked as a 32-bit
//! step (its wrap-around is at 2^32).

use std::collections::HashSet;

use apiary_vm::instruction::{AluOp, Instruction, Operand, Reg, Width};
use apiary_vm::Program;

use crate::cfg::Cfg;

/// A register's value relative to the head of the loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sym {
    /// Unknown.
    Top,
    /// `base + c`, zero-extended from 32 bits when `trunc`.
    Rel {
        /// Register whose value at the head this is based on.
        base: u8,
        /// Constant offset (wrapping).
        c: i64,
        /// Seen through a zero-extension from 32 bits.
        trunc: bool,
    },
    /// `(base + c)²` (64-bit, wrapping): `mul r, r` of a register that is `base + c`, or
    /// `mul r, s` of two registers that both are (see [`square`]).
    Square {
        /// Register whose value at the head this is based on.
        base: u8,
        /// Constant offset (wrapping).
        c: i64,
    },
    /// `(base + c) << 32`, waiting for a `rsh 32`.
    Shifted {
        /// Register whose value at the head this is based on.
        base: u8,
        /// Constant offset (wrapping).
        c: i64,
    },
}

type Env = [Sym; 11];

fn join(a: &mut Env, b: &Env) -> bool {
    let mut changed = false;
    for (x, y) in a.iter_mut().zip(b) {
        if x != y && *x != Sym::Top {
            *x = Sym::Top;
            changed = true;
        }
    }
    changed
}

fn step(ins: &Instruction, env: &mut Env) {
    let prev = *env;
    let mut w = Vec::new();
    crate::termination::written(ins, &mut w);
    for r in w {
        env[r.index()] = Sym::Top;
    }
    let Instruction::Alu {
        op,
        width,
        dst,
        src,
    } = *ins
    else {
        return;
    };
    let d = dst.index();
    env[d] = match (op, width, src, prev[d]) {
        (AluOp::Mov, Width::W64, Operand::Reg(r), _) => prev[r.index()],
        (AluOp::Mov, Width::W32, Operand::Reg(r), _) => match prev[r.index()] {
            Sym::Rel { base, c, .. } => Sym::Rel {
                base,
                c,
                trunc: true,
            },
            _ => Sym::Top,
        },
        (
            AluOp::Add | AluOp::Sub,
            Width::W64,
            Operand::Imm(k),
            Sym::Rel {
                base,
                c,
                trunc: false,
            },
        ) => {
            let k = if op == AluOp::Add {
                i64::from(k)
            } else {
                -i64::from(k)
            };
            Sym::Rel {
                base,
                c: c.wrapping_add(k),
                trunc: false,
            }
        }
        (
            AluOp::Mul,
            Width::W64,
            Operand::Reg(r),
            Sym::Rel {
                base,
                c,
                trunc: false,
            },
        ) if prev[r.index()] == prev[d] => Sym::Square { base, c },
        (AluOp::Lsh, Width::W64, Operand::Imm(32), Sym::Rel { base, c, .. }) => {
            Sym::Shifted { base, c }
        }
        (AluOp::Rsh, Width::W64, Operand::Imm(32), Sym::Shifted { base, c }) => Sym::Rel {
            base,
            c,
            trunc: true,
        },
        _ => Sym::Top,
    };
}

/// The one-trip relations of a loop.
#[derive(Debug)]
pub struct Trip {
    /// Per block of the body: the relations at the end of the block (before its jump).
    pub at_end: Vec<Option<Env>>,
    /// The relations arriving back at the head (`None`: no path back).
    pub back: Option<Env>,
}

/// Runs one trip of the loop with head `head` and blocks `body` symbolically.
#[must_use]
pub fn trip(program: &Program, cfg: &Cfg, head: usize, body: &HashSet<usize>) -> Trip {
    let n = cfg.blocks.len();
    let mut input: Vec<Option<Env>> = vec![None; n];
    let mut at_end: Vec<Option<Env>> = vec![None; n];
    let mut back: Option<Env> = None;
    let mut id = [Sym::Top; 11];
    for (i, x) in id.iter_mut().enumerate() {
        *x = Sym::Rel {
            base: i as u8,
            c: 0,
            trunc: false,
        };
    }
    input[head] = Some(id);
    let mut work = vec![head];
    while let Some(b) = work.pop() {
        let Some(mut env) = input[b] else { continue };
        let blk = &cfg.blocks[b];
        for ins in &program.instructions()[blk.start..blk.end] {
            step(ins, &mut env);
        }
        at_end[b] = Some(env);
        for &s in &blk.succs {
            let slot = if s == head {
                &mut back
            } else if body.contains(&s) {
                &mut input[s]
            } else {
                continue;
            };
            let changed = match slot {
                None => {
                    *slot = Some(env);
                    true
                }
                Some(old) => join(old, &env),
            };
            if changed && s != head {
                work.push(s);
            }
        }
    }
    Trip { at_end, back }
}

/// For the tested register `t` at the end of block `b`: its per-trip step and whether it is
/// truncated to 32 bits, if it moves by a constant nonzero step every trip.
#[must_use]
pub fn induction(trip: &Trip, b: usize, t: Reg) -> Option<(i64, bool)> {
    let Sym::Rel { base, trunc, .. } = trip.at_end[b]?[t.index()] else {
        return None;
    };
    let d = trip_step(trip, base)?;
    let limit = if trunc { i64::from(i32::MAX) } else { i64::MAX };
    (d != 0 && d.unsigned_abs() <= limit.unsigned_abs()).then_some((d, trunc))
}

/// The constant a loop register `base` is stepped by every trip (64-bit, no truncation), if it
/// is.
fn trip_step(trip: &Trip, base: u8) -> Option<i64> {
    let Sym::Rel {
        base: b2,
        c: d,
        trunc: false,
    } = trip.back?[usize::from(base)]
    else {
        return None;
    };
    (b2 == base).then_some(d)
}

/// For the tested register `t` at the end of block `b`: `(base, c, d)` when it is the square
/// `(base + c)²` of a register `base` stepped by `d > 0` (64-bit, no truncation) every trip.
#[must_use]
pub fn square(trip: &Trip, b: usize, t: Reg) -> Option<(u8, i64, i64)> {
    let Sym::Square { base, c } = trip.at_end[b]?[t.index()] else {
        return None;
    };
    let d = trip_step(trip, base)?;
    (d > 0).then_some((base, c, d))
}
