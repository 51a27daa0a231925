//! The one list of programs the kernel oracle does not judge: places where Linux refuses (or
//! gives a different meaning to) what RFC 9669 and apiary define. Each entry is matched on the
//! program's decoded instructions (one instruction, or the control-flow or call graph they
//! form), never on a file name, and carries the reason. The runner
//! skips the kernel for a matching program ("skipped for kernel: \<reason\>") and still runs and
//! cross-checks every other engine.
//!
//! Everything else the kernel verifier rejects is reported as a refusal with its log, and is
//! compatible only with a fault or refusal of the other engines (see `runner::agree`).

use apiary_vm::instruction::{AluOp, Instruction, Lddw, Operand, Width};
use apiary_vm::memory::MAX_FRAMES;
use apiary_vm::Program;

/// One documented divergence.
#[derive(Debug)]
pub struct Exclusion {
    /// Short stable identifier.
    pub id: &'static str,
    /// Why Linux cannot be compared on such programs.
    pub reason: &'static str,
    /// The first slot that puts a program under this exclusion, if any.
    pub matches: fn(&Program) -> Option<usize>,
}

/// A matched exclusion: which entry, and the first instruction that triggered it.
#[derive(Clone, Copy, Debug)]
pub struct Excluded {
    /// The entry.
    pub exclusion: &'static Exclusion,
    /// The slot of the first matching instruction.
    pub pc: usize,
}

impl std::fmt::Display for Excluded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} (instruction {}): {}",
            self.exclusion.id, self.pc, self.exclusion.reason
        )
    }
}

fn div_by_constant_zero(ins: &Instruction) -> bool {
    matches!(
        ins,
        Instruction::Alu {
            op: AluOp::Div | AluOp::Mod | AluOp::Sdiv | AluOp::Smod,
            src: Operand::Imm(0),
            ..
        }
    )
}

fn shift_immediate_out_of_range(ins: &Instruction) -> bool {
    match *ins {
        Instruction::Alu {
            op: AluOp::Lsh | AluOp::Rsh | AluOp::Arsh,
            width,
            src: Operand::Imm(k),
            ..
        } => {
            let bits = if width == Width::W32 { 32 } else { 64 };
            !(0..bits).contains(&k)
        }
        _ => false,
    }
}

fn callx(ins: &Instruction) -> bool {
    matches!(ins, Instruction::CallX { .. })
}

fn helper_call(ins: &Instruction) -> bool {
    matches!(ins, Instruction::Call { .. })
}

fn kfunc_call(ins: &Instruction) -> bool {
    matches!(ins, Instruction::CallKfunc { .. })
}

fn lddw_pseudo(ins: &Instruction) -> bool {
    matches!(ins, Instruction::LoadImm64 { value, .. } if !matches!(value, Lddw::Imm(_)))
}

fn legacy_packet_load(ins: &Instruction) -> bool {
    matches!(ins, Instruction::LoadPacket { .. })
}

/// The first instruction satisfying `pred`.
fn first(program: &Program, pred: fn(&Instruction) -> bool) -> Option<usize> {
    program.instructions().iter().position(pred)
}

/// The slots reachable from the entry, following jumps (both ways of a conditional one) and
/// local calls, as the kernel's `check_cfg` does.
fn reachable(program: &Program) -> Vec<bool> {
    let ins = program.instructions();
    let mut seen = vec![false; ins.len()];
    let mut todo = vec![0usize];
    while let Some(pc) = todo.pop() {
        if pc >= ins.len() || seen[pc] {
            continue;
        }
        seen[pc] = true;
        match ins[pc] {
            Instruction::Exit => {}
            Instruction::Ja { target } => todo.push(target),
            Instruction::Jump { target, .. } => todo.extend([pc + 1, target]),
            Instruction::CallLocal { target } => todo.extend([pc + 1, target]),
            Instruction::LoadImm64 { value, .. } => {
                if pc + 1 < ins.len() {
                    seen[pc + 1] = true;
                }
                if let Lddw::CodeAddr(target) = value {
                    todo.push(target);
                }
                todo.push(pc + 2);
            }
            _ => todo.push(pc + 1),
        }
    }
    seen
}

fn unreachable_code(program: &Program) -> Option<usize> {
    reachable(program).iter().position(|&r| !r)
}

/// The local call that makes the deepest call chain, when the chain (entry function = frame 1)
/// exceeds `MAX_FRAMES - 1` frames; a recursive call counts as infinitely deep.
fn deep_call_chain(program: &Program) -> Option<usize> {
    let functions = program.functions();
    let ins = program.instructions();
    let index_of = |start: usize| functions.iter().position(|f| f.start == start);
    // depth[f]: frames used by a call chain starting in f (None: not computed yet).
    let mut depth: Vec<Option<usize>> = vec![None; functions.len()];
    let mut on_stack = vec![false; functions.len()];
    fn visit(
        f: usize,
        functions: &[apiary_vm::program::Function],
        ins: &[Instruction],
        index_of: &dyn Fn(usize) -> Option<usize>,
        depth: &mut Vec<Option<usize>>,
        on_stack: &mut Vec<bool>,
    ) -> usize {
        if let Some(d) = depth[f] {
            return d;
        }
        if on_stack[f] {
            return usize::MAX / 2; // recursion
        }
        on_stack[f] = true;
        let mut deepest = 1;
        for i in &ins[functions[f].start..functions[f].end] {
            if let Instruction::CallLocal { target } = *i {
                if let Some(g) = index_of(target) {
                    let d = visit(g, functions, ins, index_of, depth, on_stack);
                    deepest = deepest.max(d.saturating_add(1));
                }
            }
        }
        on_stack[f] = false;
        depth[f] = Some(deepest);
        deepest
    }
    let total = visit(0, functions, ins, &index_of, &mut depth, &mut on_stack);
    if total < MAX_FRAMES {
        return None;
    }
    ins.iter()
        .position(|i| matches!(i, Instruction::CallLocal { .. }))
}

/// The table. Order matters only for which reason is shown when several apply.
pub static EXCLUSIONS: &[Exclusion] = &[
    Exclusion {
        id: "div-by-constant-zero",
        reason: "Linux rejects div/mod by an immediate 0 at load (\"div by zero\"); \
                 RFC 9669 defines the result (0, or dst unchanged for mod)",
        matches: |p| first(p, div_by_constant_zero),
    },
    Exclusion {
        id: "shift-immediate-out-of-range",
        reason: "Linux rejects lsh/rsh/arsh by an immediate < 0 or >= the operand width \
                 (\"invalid shift\"); RFC 9669 masks the count",
        matches: |p| first(p, shift_immediate_out_of_range),
    },
    Exclusion {
        id: "callx",
        reason: "Linux has no callx (0x8d) for ordinary programs (\"unknown opcode 8d\")",
        matches: |p| first(p, callx),
    },
    Exclusion {
        id: "helper-call",
        reason: "helper ids are platform-defined: Linux's helper N (an XDP program's helpers) \
                 is not the conformance helper N, so results cannot be compared",
        matches: |p| first(p, helper_call),
    },
    Exclusion {
        id: "kfunc-call",
        reason: "kfunc calls name BTF ids of one kernel build; apiary defines no kfuncs",
        matches: |p| first(p, kfunc_call),
    },
    Exclusion {
        id: "lddw-pseudo",
        reason: "lddw src 1-6 (maps, variables, code addresses) refer to file descriptors, \
                 fd_array indices or callbacks that only the loader supplying them can give \
                 meaning to",
        matches: |p| first(p, lddw_pseudo),
    },
    Exclusion {
        id: "legacy-packet-load",
        reason: "LD_ABS/LD_IND exist only for program types with an skb context; the oracle \
                 loads XDP programs, whose verifier refuses them",
        matches: |p| first(p, legacy_packet_load),
    },
    Exclusion {
        id: "unreachable-code",
        reason: "Linux rejects programs with instructions no path reaches (\"unreachable \
                 insn\"); RFC 9669 gives them no meaning and apiary accepts them",
        matches: unreachable_code,
    },
    Exclusion {
        id: "call-depth",
        reason: "the oracle runs the program as a subprogram, so it has one frame less than \
                 Linux's 8 (MAX_CALL_FRAMES) while apiary gives it 8; Linux also rejects \
                 recursive calls outright",
        matches: deep_call_chain,
    },
];

/// The first exclusion `program` falls under (by table order), with the first matching slot.
#[must_use]
pub fn kernel_exclusion(program: &Program) -> Option<Excluded> {
    EXCLUSIONS
        .iter()
        .find_map(|exclusion| (exclusion.matches)(program).map(|pc| Excluded { exclusion, pc }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use apiary_vm::{Insn, LoadOptions};

    fn prog(insns: &[Insn]) -> Program {
        match Program::new(insns.to_vec(), &LoadOptions::all()) {
            Ok(p) => p,
            Err(e) => panic!("{e}"),
        }
    }

    const EXIT: Insn = Insn::new(0x95, 0, 0, 0, 0);

    #[test]
    fn matches_on_instructions() {
        let id = |insns: &[Insn]| kernel_exclusion(&prog(insns)).map(|e| e.exclusion.id);
        assert_eq!(id(&[Insn::new(0xb7, 0, 0, 0, 1), EXIT]), None);
        // div32 imm 0, mod64 imm 0; div by a register is fine.
        assert_eq!(
            id(&[Insn::new(0x34, 0, 0, 0, 0), EXIT]),
            Some("div-by-constant-zero")
        );
        assert_eq!(
            id(&[Insn::new(0x97, 0, 0, 0, 0), EXIT]),
            Some("div-by-constant-zero")
        );
        assert_eq!(id(&[Insn::new(0x3f, 0, 1, 0, 0), EXIT]), None);
        // lsh32 by 32 and arsh64 by -1 are out of range; lsh32 by 31 and rsh64 by 63 are not.
        assert_eq!(
            id(&[Insn::new(0x64, 0, 0, 0, 32), EXIT]),
            Some("shift-immediate-out-of-range")
        );
        assert_eq!(
            id(&[Insn::new(0xc7, 0, 0, 0, -1), EXIT]),
            Some("shift-immediate-out-of-range")
        );
        assert_eq!(id(&[Insn::new(0x64, 0, 0, 0, 31), EXIT]), None);
        assert_eq!(id(&[Insn::new(0x77, 0, 0, 0, 63), EXIT]), None);
        assert_eq!(id(&[Insn::new(0x8d, 2, 0, 0, 0), EXIT]), Some("callx"));
        assert_eq!(
            id(&[Insn::new(0x85, 0, 0, 0, 5), EXIT]),
            Some("helper-call")
        );
        let e = kernel_exclusion(&prog(&[
            Insn::new(0xb7, 0, 0, 0, 1),
            Insn::new(0x85, 0, 0, 0, 1),
            EXIT,
        ]));
        assert_eq!(e.map(|e| e.pc), Some(1));
        // Dead code after exit.
        assert_eq!(
            id(&[EXIT, Insn::new(0xb7, 0, 0, 0, 1), EXIT]),
            Some("unreachable-code")
        );
        // Both ways of a conditional jump are reachable.
        let cond = [
            Insn::new(0xb7, 0, 0, 0, 1),
            Insn::new(0x15, 0, 0, 1, 0),
            EXIT,
            EXIT,
        ];
        assert_eq!(id(&cond), None);
    }

    #[test]
    fn call_chains() {
        // f0 calls f1 calls f2 ...: n functions = n frames.
        let chain = |n: usize| {
            let mut v = Vec::new();
            for i in 0..n {
                if i + 1 < n {
                    v.push(Insn::new(0x85, 0, 1, 0, 1));
                }
                v.push(EXIT);
                let _ = i;
            }
            v
        };
        let id = |insns: &[Insn]| kernel_exclusion(&prog(insns)).map(|e| e.exclusion.id);
        assert_eq!(id(&chain(7)), None);
        assert_eq!(id(&chain(8)), Some("call-depth"));
        // Recursion: call -1 (itself).
        let rec = [Insn::new(0x85, 0, 1, 0, -1), EXIT];
        assert_eq!(id(&rec), Some("call-depth"));
    }
}
