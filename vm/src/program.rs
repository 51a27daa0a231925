//! [`Program`]: a decoded instruction sequence whose every field, target and function boundary
//! has been checked. It is the only way into the engines, the verifier and the JITs, which may
//! therefore rely on its invariants (listed on [`Program`]).

use crate::decode::{decode_at, decode_run, LoadOptions, Marks};
use crate::error::LoadError;
use crate::insn::{insns_from_bytes, Insn};
use crate::instruction::{Instruction, Lddw};

/// Largest accepted program, in slots. Targets are kept as `u32` by the engines.
pub const MAX_SLOTS: usize = 1 << 24;

/// A function of the program: the slots `start..end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Function {
    /// First slot (0 for the entry function, otherwise a local-call or `lddw` src=4 target).
    pub start: usize,
    /// One past the last slot.
    pub end: usize,
}

/// What the decoding pass found about the whole program, for later stages (the JITs' run
/// paths, the environment's helper check), so that none walks the program again.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Some slot is a helper call by id ([`Instruction::Call`]).
    pub helper_calls: bool,
    /// Some slot is a `callx`.
    pub callx: bool,
    /// Some slot is a legacy packet load.
    pub packet_loads: bool,
}

/// A checked program.
///
/// Invariants, established by [`Program::new`]:
/// - `instructions()[pc]` decodes slot `pc`; the second slot of an `lddw` is
///   [`Instruction::LddwTail`] and is never a jump, call or code-address target;
/// - every register field is valid and no instruction writes r10;
/// - every jump stays inside its function; every local call and code address names a function start;
/// - the last slot of every function is `exit`, `ja` or `gotol`, so execution never runs off a function.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Program {
    insns: Vec<Insn>,
    instructions: Vec<Instruction>,
    functions: Vec<Function>,
    /// Bit `pc % 64` of word `pc / 64`: some jump targets slot `pc`.
    jump_targets: Vec<u64>,
    /// Same layout: slot `pc` follows a jump, `exit`, local call or `callx`.
    follows_control: Vec<u64>,
    /// Same layout: slot `pc` is a helper call.
    helper_call_bits: Vec<u64>,
    summary: Summary,
    options: LoadOptions,
}

impl Program {
    /// Decodes and checks `insns`.
    ///
    /// # Errors
    /// The first problem found, in slot order, as a [`LoadError`] naming the slot and field.
    pub fn new(insns: Vec<Insn>, options: &LoadOptions) -> Result<Self, LoadError> {
        if insns.is_empty() {
            return Err(LoadError::Empty);
        }
        if insns.len() > MAX_SLOTS {
            return Err(LoadError::TooLong {
                slots: insns.len(),
                max: MAX_SLOTS,
            });
        }
        let len = insns.len();
        // Filled with tails so that a decoded `lddw` needs no second write; every other slot
        // is overwritten below.
        let mut instructions = vec![Instruction::LddwTail; len];
        let mut marks = Marks::new(len);
        // Whether a local call or code address makes more than one function.
        let mut one_function = true;
        let (mut callx, mut packet_loads) = (false, false);
        let mut pc = 0;
        // Runs of common slots go through the fast loop; each slot it leaves goes through the
        // full decoder, which either decodes it or returns the error.
        loop {
            pc = decode_run(&insns, pc, &mut instructions, &mut marks);
            if pc >= len {
                break;
            }
            let ins = decode_at(&insns, pc, options)?;
            instructions[pc] = ins;
            match ins {
                Instruction::Ja { target } | Instruction::Jump { target, .. } => {
                    marks.mark_target(target);
                    marks.mark_ends_block(pc);
                }
                Instruction::Exit => marks.mark_ends_block(pc),
                Instruction::LoadImm64 { value, .. } => {
                    one_function &= !matches!(value, Lddw::CodeAddr(_));
                    pc += 1;
                    marks.mark_tail(pc);
                }
                Instruction::CallLocal { .. } => {
                    one_function = false;
                    marks.mark_ends_block(pc);
                }
                Instruction::Call { .. } => marks.mark_call(pc),
                Instruction::CallX { .. } => {
                    callx = true;
                    marks.mark_ends_block(pc);
                }
                Instruction::LoadPacket { .. } => packet_loads = true,
                _ => {}
            }
            pc += 1;
        }
        // The common case, checked from the marks: one function, no jump into an `lddw`, and a
        // last slot that does not fall through. Anything else goes through the general checks,
        // which find the same first error in the same order.
        let functions = if one_function
            && !marks.target_in_tail()
            && matches!(
                instructions.last(),
                Some(Instruction::Exit | Instruction::Ja { .. })
            ) {
            vec![Function { start: 0, end: len }]
        } else {
            let functions = find_functions(&instructions)?;
            check_control_flow(&instructions, &functions)?;
            functions
        };
        let summary = Summary {
            helper_calls: marks.calls.iter().any(|&w| w != 0),
            callx,
            packet_loads,
        };
        Ok(Self {
            insns,
            instructions,
            functions,
            jump_targets: marks.targets,
            follows_control: {
                let mut f = marks.follows;
                // The one bit past the last slot (a final jump or exit's successor).
                if let Some(w) = f.get_mut(len / 64) {
                    *w &= !(1 << (len % 64));
                }
                f.truncate(len.div_ceil(64));
                f
            },
            helper_call_bits: marks.calls,
            summary,
            options: *options,
        })
    }

    /// Decodes raw little-endian bytes (a multiple of 8) and checks them.
    ///
    /// # Errors
    /// As [`Program::new`], plus [`LoadError::TrailingBytes`] / [`LoadError::Empty`].
    pub fn from_bytes(bytes: &[u8], options: &LoadOptions) -> Result<Self, LoadError> {
        Self::new(insns_from_bytes(bytes)?, options)
    }

    /// The raw slots, as loaded.
    #[must_use]
    pub fn insns(&self) -> &[Insn] {
        &self.insns
    }

    /// The decoded slots, indexed by pc.
    #[must_use]
    pub fn instructions(&self) -> &[Instruction] {
        &self.instructions
    }

    /// Number of slots.
    #[must_use]
    pub fn len(&self) -> usize {
        self.instructions.len()
    }

    /// Always false: a program has at least one instruction.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.instructions.is_empty()
    }

    /// The functions, sorted by start; the first is the entry function.
    #[must_use]
    pub fn functions(&self) -> &[Function] {
        &self.functions
    }

    /// Whether some jump (`ja`, `gotol` or a conditional jump) targets slot `pc` (false past
    /// the end).
    #[must_use]
    pub fn is_jump_target(&self, pc: usize) -> bool {
        self.jump_targets
            .get(pc / 64)
            .is_some_and(|w| w >> (pc % 64) & 1 != 0)
    }

    /// The jump targets as a bit set: bit `pc % 64` of word `pc / 64` (see
    /// [`Program::is_jump_target`]); `len().div_ceil(64)` words.
    #[must_use]
    pub fn jump_target_bits(&self) -> &[u64] {
        &self.jump_targets
    }

    /// The slots that follow a jump, `exit`, local call or `callx` (where a basic block must
    /// start), as a bit set laid out as [`Program::jump_target_bits`].
    #[must_use]
    pub fn follows_control_bits(&self) -> &[u64] {
        &self.follows_control
    }

    /// The helper calls (`call` by id), as a bit set laid out as
    /// [`Program::jump_target_bits`].
    #[must_use]
    pub fn helper_call_bits(&self) -> &[u64] {
        &self.helper_call_bits
    }

    /// What the decoding pass found about the whole program.
    #[must_use]
    pub fn summary(&self) -> Summary {
        self.summary
    }

    /// The options the program was loaded with.
    #[must_use]
    pub fn options(&self) -> &LoadOptions {
        &self.options
    }
}

fn find_functions(instructions: &[Instruction]) -> Result<Vec<Function>, LoadError> {
    let mut starts = vec![0usize];
    for (pc, ins) in instructions.iter().enumerate() {
        let target = match ins {
            Instruction::CallLocal { target }
            | Instruction::LoadImm64 {
                value: Lddw::CodeAddr(target),
                ..
            } => *target,
            _ => continue,
        };
        if instructions[target] == Instruction::LddwTail {
            return Err(LoadError::TargetInsideLddw { pc, target });
        }
        starts.push(target);
    }
    starts.sort_unstable();
    starts.dedup();
    let mut functions = Vec::with_capacity(starts.len());
    for (i, &start) in starts.iter().enumerate() {
        let end = starts.get(i + 1).copied().unwrap_or(instructions.len());
        functions.push(Function { start, end });
    }
    Ok(functions)
}

fn check_control_flow(
    instructions: &[Instruction],
    functions: &[Function],
) -> Result<(), LoadError> {
    for f in functions {
        for pc in f.start..f.end {
            let target = match instructions[pc] {
                Instruction::Ja { target } | Instruction::Jump { target, .. } => target,
                _ => continue,
            };
            if target < f.start || target >= f.end {
                return Err(LoadError::JumpAcrossFunctions {
                    pc,
                    target,
                    function: f.start,
                });
            }
            if instructions[target] == Instruction::LddwTail {
                return Err(LoadError::TargetInsideLddw { pc, target });
            }
        }
        let last = f.end - 1;
        if !matches!(
            instructions[last],
            Instruction::Exit | Instruction::Ja { .. }
        ) {
            return Err(LoadError::FallsThrough {
                pc: last,
                function: f.start,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The load as it was before the fast path: `decode_at` on every slot, then the general
    /// whole-program checks. [`Program::new`] must agree with it on every input.
    fn reference(
        insns: &[Insn],
        options: &LoadOptions,
    ) -> Result<(Vec<Instruction>, Vec<Function>), LoadError> {
        if insns.is_empty() {
            return Err(LoadError::Empty);
        }
        let mut instructions = Vec::with_capacity(insns.len());
        let mut pc = 0;
        while pc < insns.len() {
            let ins = decode_at(insns, pc, options)?;
            instructions.push(ins);
            if ins.slots() == 2 {
                instructions.push(Instruction::LddwTail);
            }
            pc += ins.slots();
        }
        let functions = find_functions(&instructions)?;
        check_control_flow(&instructions, &functions)?;
        Ok((instructions, functions))
    }

    /// The summary and jump targets, recomputed slot by slot from the decoded program.
    fn check_summary(p: &Program) {
        let mut want = Summary::default();
        let mut targets = vec![false; p.len()];
        let mut follows = vec![false; p.len() + 1];
        let mut calls = vec![false; p.len()];
        for (pc, ins) in p.instructions().iter().enumerate() {
            follows[pc + 1] = matches!(
                ins,
                Instruction::Ja { .. }
                    | Instruction::Jump { .. }
                    | Instruction::Exit
                    | Instruction::CallLocal { .. }
                    | Instruction::CallX { .. }
            );
            calls[pc] = matches!(ins, Instruction::Call { .. });
            match *ins {
                Instruction::Call { .. } => want.helper_calls = true,
                Instruction::CallX { .. } => want.callx = true,
                Instruction::LoadPacket { .. } => want.packet_loads = true,
                Instruction::Ja { target } | Instruction::Jump { target, .. } => {
                    targets[target] = true;
                }
                _ => {}
            }
        }
        assert_eq!(p.summary(), want, "{:?}", p.insns());
        for (pc, &t) in targets.iter().enumerate() {
            assert_eq!(p.is_jump_target(pc), t, "slot {pc} of {:?}", p.insns());
        }
        let bit = |bits: &[u64], pc: usize| bits[pc / 64] >> (pc % 64) & 1 != 0;
        for pc in 0..p.len() {
            assert_eq!(bit(p.follows_control_bits(), pc), follows[pc], "{pc}");
            assert_eq!(bit(p.helper_call_bits(), pc), calls[pc], "{pc}");
        }
        assert_eq!(p.follows_control_bits().len(), p.len().div_ceil(64));
        assert_eq!(p.helper_call_bits().len(), p.len().div_ceil(64));
        assert!(
            p.follows_control_bits()
                .iter()
                .enumerate()
                .all(|(w, &b)| (w * 64..w * 64 + 64)
                    .all(|pc| pc < p.len() || b >> (pc % 64) & 1 == 0))
        );
        assert!(!p.is_jump_target(p.len()));
        assert_eq!(p.jump_target_bits().len(), p.len().div_ceil(64));
    }

    /// Random short programs from a small alphabet of valid and almost-valid slots (jumps
    /// forwards and backwards, into `lddw` tails, local calls, bad registers, bad tails), so
    /// that every error and every whole-program check is reached often.
    #[test]
    fn agrees_with_reference_on_random_programs() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let mut errors = 0;
        for _ in 0..200_000 {
            let len = 1 + next(12) as usize;
            let insns: Vec<Insn> = (0..len)
                .map(|_| {
                    let reg = [0, 1, 9, 10, 11][next(5) as usize];
                    let off = next(9) as i16 - 4;
                    match next(14) {
                        0 => Insn::new(0x07, reg, 0, 0, 3),
                        1 => Insn::new(0xbf, reg, [0, 2, 10, 12][next(4) as usize], 0, 0),
                        2 => Insn::new(0x15, reg, 0, off, 0),
                        3 => Insn::new(0x5d, 1, reg, off, 0),
                        4 => Insn::new(0x05, 0, 0, off, 0),
                        5 => Insn::new(0x06, 0, 0, 0, i32::from(off)),
                        6 | 7 => Insn::new(0x95, 0, 0, 0, 0),
                        8 => Insn::new(0x18, reg, [0, 0, 4][next(3) as usize], 0, i32::from(off)),
                        9 => Insn::new(0, 0, 0, 0, 1),
                        10 => Insn::new(0x85, 0, [0, 1, 1][next(3) as usize], 0, i32::from(off)),
                        11 => Insn::new(0x79, reg, 10, -8, 0),
                        12 => Insn::new(0x7b, 10, reg, -8, 0),
                        _ => Insn::new(next(256) as u8, reg, 0, 0, 0),
                    }
                })
                .collect();
            for options in [LoadOptions::default(), LoadOptions::all()] {
                let want = reference(&insns, &options);
                let program = Program::new(insns.clone(), &options);
                if let Ok(p) = &program {
                    check_summary(p);
                }
                let got = program.map(|p| (p.instructions().to_vec(), p.functions().to_vec()));
                assert_eq!(got, want, "{insns:?}");
                errors += usize::from(want.is_err());
            }
        }
        assert!(errors > 1000 && errors < 390_000, "{errors}");
    }
}
