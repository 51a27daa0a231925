//! Guarded packet facts ([`crate::domain::pkt_guard`]) across one instruction.
//!
//! A guard says "the bound holds unless the number at `at` is in U". When a register is
//! rewritten as a function of itself (`r = f(r)`: ALU with a fixed source, negation, byte swap),
//! the bound holds unless the new `r` is in `f(U)`, which the scalar transfer over-approximates;
//! a copy (`d = r`, `d = zext32(r)`) guards the same bound by `d`. Compilers zero-extend a
//! 32-bit return code (`lsh 32; rsh 32`) between the bound test and its use, so this keeps the
//! guard alive. An 8-byte spill of a guarded register to an aligned stack slot guards the bound
//! by the slot, and an 8-byte fill from that slot by the filled register. Any other write to a
//! register drops its guards; any store that may touch a slot, any call (helpers write through
//! stack pointers) drops the slot's.

use apiary_vm::instruction::{AluOp, Instruction, Operand, Reg, Size, Width};

use super::operand;
use crate::domain::pkt_guard::{slot_loc, Guard, Loc, MAX_GUARDS, SLOTS_AT};
use crate::domain::scalar_ops;
use crate::domain::{Ptr, Region, Scalar, State, Val};
use crate::termination;

/// What [`after`] needs from the state before an instruction.
#[derive(Clone, Copy, Debug, Default)]
pub struct Pre {
    /// The ALU source operand's value.
    src: Option<Scalar>,
    /// The exact aligned 8-byte stack slot a load or store accesses.
    slot: Option<Loc>,
    /// For a store or atomic through a stack pointer: its frame and the byte range it may
    /// write (`None` inside: any byte of that frame).
    touched: Option<(u8, Option<(i64, i64)>)>,
}

/// The stack target of an access through `base + off` of `size` bytes.
fn stack_target(s: &State, base: Reg, off: i16, size: Size) -> Option<(u8, Option<(i64, i64)>)> {
    let Val::Ptr(Ptr {
        region: Region::Stack { frame },
        off: o,
        ..
    }) = s.regs[base.index()]
    else {
        return None;
    };
    let lo = o.smin.checked_add(i64::from(off));
    let hi = o
        .smax
        .checked_add(i64::from(off))
        .and_then(|h| h.checked_add(i64::from(size.bytes())));
    Some((frame, lo.zip(hi)))
}

/// The slot of an exact, aligned 8-byte access.
fn exact_slot(t: Option<(u8, Option<(i64, i64)>)>, size: Size) -> Option<Loc> {
    let (frame, Some((lo, hi))) = t? else {
        return None;
    };
    (size == Size::DW && hi.checked_sub(lo) == Some(8) && lo % 8 == 0 && (0..512).contains(&lo))
        .then(|| slot_loc(frame, (lo / 8) as usize))
}

/// What [`after`] needs from the state before `ins`.
#[must_use]
pub fn before(ins: &Instruction, s: &State) -> Pre {
    if s.guards.is_empty() {
        return Pre::default();
    }
    match *ins {
        Instruction::Alu { width, src, .. } => Pre {
            src: operand(s, src, width)
                .ok()
                .and_then(|v| v.scalar().copied()),
            ..Pre::default()
        },
        Instruction::Load { size, src, off, .. } => Pre {
            slot: exact_slot(stack_target(s, src, off, size), size),
            ..Pre::default()
        },
        Instruction::Store { size, dst, off, .. } => {
            let t = stack_target(s, dst, off, size);
            Pre {
                slot: exact_slot(t, size),
                touched: t,
                ..Pre::default()
            }
        }
        Instruction::Atomic { size, dst, off, .. } => Pre {
            touched: stack_target(s, dst, off, size),
            ..Pre::default()
        },
        _ => Pre::default(),
    }
}

/// Whether slot location `at` may be written by a store that touched `t`.
fn hit(at: Loc, t: (u8, Option<(i64, i64)>)) -> bool {
    if at < SLOTS_AT {
        return false;
    }
    let (frame, slot) = ((at - SLOTS_AT) / 64, i64::from((at - SLOTS_AT) % 64));
    if frame != u16::from(t.0) {
        return false;
    }
    match t.1 {
        Some((lo, hi)) => lo < slot * 8 + 8 && slot * 8 < hi,
        None => true,
    }
}

/// The guards of `s` at `from`, moved to `to` with `f` applied to their excluded values.
fn carry(s: &State, from: Loc, to: Loc, f: impl Fn(&Scalar) -> Scalar) -> Vec<Guard> {
    s.guards
        .iter()
        .filter(|g| g.at == from)
        .map(|g| Guard {
            at: to,
            unless: f(&g.unless),
            ..*g
        })
        .collect()
}

/// Updates the guards of `s` (the state after `ins`; `pre`: from [`before`]).
pub fn after(ins: &Instruction, s: &mut State, pre: Pre) {
    if s.guards.is_empty() {
        return;
    }
    let reg = |r: Reg| Loc::from(r.number());
    let same = |x: &Scalar| *x;
    let carried: Vec<Guard> = match *ins {
        // A copy: the copy guards the bound too.
        Instruction::Alu {
            op: AluOp::Mov,
            width: Width::W64,
            dst,
            src: Operand::Reg(r),
        } if r != dst => carry(s, reg(r), reg(dst), same),
        // `dst = f(src register)`: zero/sign extension of the source.
        Instruction::Alu {
            op: op @ (AluOp::Mov | AluOp::Movsx(_)),
            width,
            dst,
            src: Operand::Reg(r),
        } => carry(s, reg(r), reg(dst), |u| {
            scalar_ops::alu(op, width, &Scalar::TOP, u)
        }),
        Instruction::Alu {
            op: AluOp::Mov | AluOp::Movsx(_),
            ..
        } => Vec::new(),
        // `dst = dst op src` with the source's value known before.
        Instruction::Alu { op, width, dst, .. } => match pre.src {
            Some(v) => carry(s, reg(dst), reg(dst), |u| scalar_ops::alu(op, width, u, &v)),
            None => Vec::new(),
        },
        Instruction::Neg { width, dst } => {
            carry(s, reg(dst), reg(dst), |u| scalar_ops::neg(width, u))
        }
        Instruction::Endian { order, bits, dst } => carry(s, reg(dst), reg(dst), |u| {
            scalar_ops::endian(order, bits, u)
        }),
        // A fill of a guarded slot.
        Instruction::Load { dst, .. } => match pre.slot {
            Some(at) => carry(s, at, reg(dst), same),
            None => Vec::new(),
        },
        // A spill of a guarded register.
        Instruction::Store {
            src: Operand::Reg(r),
            ..
        } => match pre.slot {
            Some(at) => carry(s, reg(r), at, same),
            None => Vec::new(),
        },
        _ => Vec::new(),
    };
    let mut written = Vec::new();
    termination::written(ins, &mut written);
    let call = matches!(
        ins,
        Instruction::Call { .. }
            | Instruction::CallLocal { .. }
            | Instruction::CallKfunc { .. }
            | Instruction::CallX { .. }
    );
    s.guards.retain(|g| {
        !(written.iter().any(|r| reg(*r) == g.at)
            || (call && g.at >= SLOTS_AT)
            || pre.touched.is_some_and(|t| hit(g.at, t)))
    });
    for g in carried {
        let holds = crate::domain::pkt_guard::value_at(s, g.at).is_some();
        if holds && s.guards.len() < MAX_GUARDS && !s.guards.contains(&g) {
            s.guards.push(g);
        }
    }
}
