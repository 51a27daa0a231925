//! Architecture-independent bookkeeping shared by every backend: basic-block leaders, the
//! instruction-count cost of each block (for metering), the per-slot fix-up applied when a run
//! stops in the middle of a block, and the static description of every fault site.

use apiary_vm::fault::Access;
use apiary_vm::instruction::{Instruction, RegSet, Size};
use apiary_vm::program::Program;

/// The metering cost of the second slot of an `lddw`: none, an `lddw` counts one (as
/// [`apiary_vm::ExecConfig`] documents and the interpreter does).
pub(crate) const LDDW_TAIL_COST: u32 = 0;

/// The metering cost of slot `pc`.
fn slot_cost(ins: &Instruction) -> u32 {
    match ins {
        Instruction::LddwTail => LDDW_TAIL_COST,
        _ => 1,
    }
}

/// Block structure of a program, without a pass over it: from the decoder's bit sets
/// ([`Program::jump_target_bits`], [`Program::follows_control_bits`],
/// [`Program::helper_call_bits`]) and the function starts, a word at a time. Metering's
/// per-slot costs are the one part that needs the whole program, so they are computed only
/// when metering.
#[derive(Debug, Clone)]
pub(crate) struct Blocks {
    /// Bit `pc % 64` of word `pc / 64`: slot 0, every function start and every jump target
    /// (the slots some code jumps or calls to: the only ones that need a label up front).
    pub entries: Vec<u64>,
    /// Same layout: the leaders, [`Blocks::entries`] and every slot after a jump, local call,
    /// `callx` or `exit` (the budget check points, so that the counter is exact when they test
    /// it) and, when helper calls end blocks (callbacks enabled), after every helper call (so
    /// that it is exact when a helper runs a callback).
    pub leaders: Vec<u64>,
    /// Metering only (else empty): at a leader, the cost of the whole block; elsewhere 0.
    pub cost: Vec<u32>,
    /// Metering only (else empty): for every slot, the cost of the slots after it in its
    /// block. A run that stops at `pc` (fault, helper stop, out-of-bounds packet load)
    /// subtracts this from the counter, because the whole block was counted on entry.
    pub remaining: Vec<u32>,
}

impl Blocks {
    /// See [`Blocks::entries`] and [`Blocks::leaders`].
    pub(crate) fn new(program: &Program, calls_end_blocks: bool, metering: bool) -> Self {
        let mut entries = program.jump_target_bits().to_vec();
        entries[0] |= 1;
        for f in program.functions() {
            entries[f.start / 64] |= 1 << (f.start % 64);
        }
        let follows = program.follows_control_bits();
        let calls = program.helper_call_bits();
        let mut carry = 0;
        let leaders = entries
            .iter()
            .zip(follows)
            .zip(calls)
            .map(|((&e, &f), &c)| {
                let mut l = e | f;
                if calls_end_blocks {
                    // The slot after each call: the bits moved up by one, across words.
                    l |= (c << 1) | carry;
                    carry = c >> 63;
                }
                l
            })
            .collect();
        let mut blocks = Self {
            entries,
            leaders,
            cost: Vec::new(),
            remaining: Vec::new(),
        };
        if metering {
            blocks.costs(program.instructions());
        }
        blocks
    }

    /// Whether a basic block starts at slot `pc`.
    #[inline(always)]
    pub(crate) fn is_leader(&self, pc: usize) -> bool {
        self.leaders[pc / 64] >> (pc % 64) & 1 != 0
    }

    /// Block costs for metering: one backward pass accumulating the cost of the rest of each
    /// block.
    fn costs(&mut self, ins: &[Instruction]) {
        let n = ins.len();
        let mut cost = vec![0u32; n];
        let mut remaining = vec![0u32; n];
        let mut acc = 0u32;
        for pc in (0..n).rev() {
            remaining[pc] = acc;
            acc += slot_cost(&ins[pc]);
            if self.is_leader(pc) {
                cost[pc] = acc;
                acc = 0;
            }
        }
        self.cost = cost;
        self.remaining = remaining;
    }
}

/// What several compile stages need to know about the whole program (mostly the decoding
/// pass's [`apiary_vm::program::Summary`]), so that each does not walk the program again.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Scan {
    /// The program calls helpers (`call` or `callx`).
    pub calls: bool,
    /// The program has legacy packet loads.
    pub packet_loads: bool,
    /// Bit `r` set: some slot names register `r` in its raw dst or src field (conservative:
    /// the registers a program may touch).
    pub regs_named: u16,
}

/// The program's [`Scan`]: the decoding summary, and one tight loop over the raw slots for
/// the registers named (folded into the decoder's loop it cost as much, and slowed it).
pub(crate) fn scan(program: &Program) -> Scan {
    let s = program.summary();
    let mut regs_named = 0u16;
    for raw in program.insns() {
        regs_named |= (1 << (raw.dst & 15)) | (1 << (raw.src & 15));
    }
    Scan {
        calls: s.helper_calls || s.callx,
        packet_loads: s.packet_loads,
        regs_named,
    }
}

/// Bit mask of r1–r5 (bit `i` = eBPF register `ri`).
pub(crate) const ARGS_MASK: u16 = RegSet::ARGS.bits();

/// For every slot: the subset of r1–r5 ([`ARGS_MASK`] bits) that may be read after the slot
/// before being overwritten (backward liveness over the whole program). An `exit` of the entry
/// function ends the run (when no local call targets slot 0: callbacks never start at slot 0)
/// and reads nothing; any other `exit` is assumed to read every register (a local call's
/// caller sees r1–r5 as the callee left them). The result over-approximates: a register
/// reported dead is dead on every path.
pub(crate) fn live_args_out(program: &Program) -> Vec<u16> {
    let ins = program.instructions();
    let n = ins.len();
    let entry_end = if ins
        .iter()
        .any(|i| matches!(i, Instruction::CallLocal { target: 0 }))
    {
        0
    } else {
        program.functions().first().map_or(0, |f| f.end)
    };
    let ud: Vec<(u16, u16)> = ins
        .iter()
        .map(|i| (i.reads().bits(), i.writes().bits()))
        .collect();
    let mut live_in = vec![0u16; n];
    let mut live_out = vec![0u16; n];
    loop {
        let mut changed = false;
        for pc in (0..n).rev() {
            let next = |t: usize| live_in.get(t).copied().unwrap_or(ARGS_MASK);
            let out = match ins[pc] {
                Instruction::Ja { target } => next(target),
                Instruction::Jump { target, .. } => next(target) | next(pc + 1),
                Instruction::Exit if pc < entry_end => 0,
                Instruction::Exit | Instruction::CallKfunc { .. } => ARGS_MASK,
                _ => next(pc + 1),
            };
            let (u, d) = ud[pc];
            let inn = (u | (out & !d)) & ARGS_MASK;
            if out != live_out[pc] || inn != live_in[pc] {
                live_out[pc] = out;
                live_in[pc] = inn;
                changed = true;
            }
        }
        if !changed {
            return live_out;
        }
    }
}

/// The registers (bit `i` = `ri`) the program may read before writing them, on the path from
/// slot 0: those the entry must zero. The path is followed while it is straight-line; at the
/// first jump, call or exit every register not yet written counts as read.
pub(crate) fn read_before_written(program: &Program) -> u16 {
    let mut written = 0u16;
    let mut read = 0u16;
    for ins in program.instructions() {
        read |= ins.reads().bits() & !written;
        written |= ins.writes().bits();
        if matches!(
            ins,
            Instruction::Ja { .. }
                | Instruction::Jump { .. }
                | Instruction::Exit
                | Instruction::Call { .. }
                | Instruction::CallX { .. }
                | Instruction::CallLocal { .. }
                | Instruction::CallKfunc { .. }
        ) {
            return read | (0x7ff & !written);
        }
    }
    read | (0x7ff & !written)
}

/// Length and access kind of the memory operation at a slot (for `Fault::OutOfBounds`).
pub(crate) fn access_of(ins: &Instruction) -> Option<(u8, Access)> {
    match *ins {
        Instruction::Load { size, .. } => Some((size.bytes(), Access::Read)),
        Instruction::Store { size, .. } | Instruction::Atomic { size, .. } => {
            Some((size.bytes(), Access::Write))
        }
        _ => None,
    }
}

/// Index of a size in per-size tables (1, 2, 4, 8 bytes → 0..4).
pub(crate) const fn size_index(size: Size) -> usize {
    match size {
        Size::B => 0,
        Size::H => 1,
        Size::W => 2,
        Size::DW => 3,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use apiary_vm::{Insn, LoadOptions};

    #[test]
    fn blocks_end_at_jumps_and_calls() {
        // 0: mov r0, 0; 1: jeq r0, 0, +1; 2: mov r0, 1; 3: lddw (2 slots); 5: exit
        let insns = vec![
            Insn::new(0xb7, 0, 0, 0, 0),
            Insn::new(0x15, 0, 0, 1, 0),
            Insn::new(0xb7, 0, 0, 0, 1),
            Insn::new(0x18, 0, 0, 0, 5),
            Insn::new(0, 0, 0, 0, 0),
            Insn::new(0x95, 0, 0, 0, 0),
        ];
        let p = Program::new(insns, &LoadOptions::default()).expect("valid");
        let b = Blocks::new(&p, false, true);
        let leaders: Vec<bool> = (0..p.len()).map(|pc| b.is_leader(pc)).collect();
        assert_eq!(leaders, vec![true, false, true, true, false, false]);
        assert_eq!(b.cost[0], 2);
        assert_eq!(b.cost[2], 1);
        assert_eq!(b.cost[3], 2 + LDDW_TAIL_COST);
        assert_eq!(b.remaining[0], 1);
        assert_eq!(b.remaining[3], 1 + LDDW_TAIL_COST);
        assert_eq!(b.remaining[5], 0);
    }
}
