//! Basic blocks of one function. A conditional jump ends a block with two edges: edge 0 falls
//! through, edge 1 is taken. Calls do not end blocks (callees are analysed at the call).

use apiary_vm::instruction::Instruction;
use apiary_vm::program::Function;
use apiary_vm::Program;

/// A basic block: slots `start..end`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    /// First slot.
    pub start: usize,
    /// One past the last slot.
    pub end: usize,
    /// Slot of the last instruction (the jump or exit, if any).
    pub last: usize,
    /// Successor blocks by edge (0: fall through / unconditional target, 1: taken).
    pub succs: Vec<usize>,
    /// Predecessors as (block, edge index).
    pub preds: Vec<(usize, usize)>,
}

/// The blocks of a function; block 0 is its entry.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cfg {
    /// Blocks in slot order.
    pub blocks: Vec<Block>,
}

impl Cfg {
    /// Builds the blocks of `f`.
    #[must_use]
    pub fn build(program: &Program, f: Function) -> Self {
        let ins = program.instructions();
        let mut leader = vec![false; f.end - f.start + 1];
        leader[0] = true;
        let mut mark = |pc: usize| {
            if pc >= f.start && pc < f.end {
                leader[pc - f.start] = true;
            }
        };
        for (pc, i) in ins.iter().enumerate().take(f.end).skip(f.start) {
            match *i {
                Instruction::Jump { target, .. } | Instruction::Ja { target } => {
                    mark(target);
                    mark(pc + 1);
                }
                Instruction::Exit => mark(pc + 1),
                _ => {}
            }
        }
        let starts: Vec<usize> = (f.start..f.end)
            .filter(|&pc| leader[pc - f.start] && ins[pc] != Instruction::LddwTail)
            .collect();
        let index_of = |pc: usize| starts.binary_search(&pc).ok();
        let mut blocks: Vec<Block> = Vec::with_capacity(starts.len());
        for (i, &start) in starts.iter().enumerate() {
            let end = starts.get(i + 1).copied().unwrap_or(f.end);
            let mut last = end - 1;
            if ins[last] == Instruction::LddwTail && last > start {
                last -= 1;
            }
            let succs = match ins[last] {
                Instruction::Jump { target, .. } => [index_of(end), index_of(target)]
                    .into_iter()
                    .flatten()
                    .collect(),
                Instruction::Ja { target } => index_of(target).into_iter().collect(),
                Instruction::Exit => Vec::new(),
                _ => index_of(end).into_iter().collect(),
            };
            blocks.push(Block {
                start,
                end,
                last,
                succs,
                preds: Vec::new(),
            });
        }
        for b in 0..blocks.len() {
            for e in 0..blocks[b].succs.len() {
                let s = blocks[b].succs[e];
                blocks[s].preds.push((b, e));
            }
        }
        Self { blocks }
    }
}
