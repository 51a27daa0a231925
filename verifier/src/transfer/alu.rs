//! ALU instructions: scalar arithmetic and the pointer arithmetic that is defined
//! (pointer ± number at 64 bits; pointer − pointer within one region).

use apiary_vm::instruction::{AluOp, ByteOrder, Operand, Reg, Width};

use super::{operand, read, type_name};
use crate::domain::scalar_ops;
use crate::domain::value::ANON_PKT;
use crate::domain::{Ptr, Region, Scalar, State, Val};
use crate::error::RejectReason;

fn scalar_of(v: &Val, reg: u8) -> Result<Scalar, RejectReason> {
    v.scalar()
        .copied()
        .ok_or_else(|| RejectReason::InvalidType {
            reg,
            expected: "number",
            found: type_name(v),
        })
}

fn arith(detail: String) -> RejectReason {
    RejectReason::PointerArithmetic { detail }
}

/// `dst = dst op src`.
///
/// # Errors
/// Uninitialised operands, arithmetic on pointers that is not defined.
pub fn alu(
    pc: usize,
    s: &mut State,
    op: AluOp,
    width: Width,
    dst: Reg,
    src: Operand,
) -> Result<(), RejectReason> {
    if let (AluOp::Mov, Width::W64, Operand::Reg(r)) = (op, width, src) {
        // Copies are checked lazily: an uninitialised value may be moved, not used.
        s.regs[dst.index()] = s.regs[r.index()];
        return Ok(());
    }
    let b = operand(s, src, width)?;
    let src_no = match src {
        Operand::Reg(r) => r.number(),
        Operand::Imm(_) => dst.number(),
    };
    if op == AluOp::Mov && width == Width::W64 {
        s.regs[dst.index()] = b;
        return Ok(());
    }
    if matches!(op, AluOp::Mov | AluOp::Movsx(_)) {
        let bs = scalar_of(&b, src_no)?;
        s.regs[dst.index()] = Val::Scalar(scalar_ops::alu(op, width, &Scalar::TOP, &bs));
        return Ok(());
    }
    let a = read(s, dst)?;
    let result = match (&a, &b) {
        // A BTF pointer moved by a constant (a field's address, `&task->comm`) is still one, as
        // Linux keeps `PTR_TO_BTF_ID` with a constant offset; any other arithmetic makes it a
        // plain number.
        (Val::Kernel(x), Val::Scalar(y))
            if width == Width::W64
                && matches!(op, AluOp::Add | AluOp::Sub)
                && y.as_const().is_some() =>
        {
            Val::Kernel(scalar_ops::alu(op, width, x, y))
        }
        (
            Val::Scalar(x) | Val::PacketLen(x) | Val::Kernel(x),
            Val::Scalar(y) | Val::PacketLen(y) | Val::Kernel(y),
        ) => Val::Scalar(scalar_ops::alu(op, width, x, y)),
        (Val::Ptr(p), Val::Scalar(y) | Val::PacketLen(y) | Val::Kernel(y))
            if width == Width::W64 =>
        {
            match op {
                AluOp::Add => ptr_add(pc, s, p, y, src_reg(src), false)?,
                AluOp::Sub => ptr_add(pc, s, p, y, src_reg(src), true)?,
                _ => return Err(arith(format!("{op:?} on {}", type_name(&a)))),
            }
        }
        (Val::Scalar(x) | Val::PacketLen(x) | Val::Kernel(x), Val::Ptr(p))
            if width == Width::W64 && op == AluOp::Add =>
        {
            ptr_add(pc, s, p, x, Some(dst), false)?
        }
        (Val::Ptr(p), Val::Ptr(q)) if op == AluOp::Sub => match (ptr_diff(p, q)?, width) {
            // The low half of the difference.
            (Val::Scalar(d) | Val::PacketLen(d), Width::W32) => {
                Val::Scalar(scalar_ops::alu(AluOp::Mov, Width::W32, &Scalar::TOP, &d))
            }
            (v, _) => v,
        },
        _ => {
            if !a.is_pointer() {
                scalar_of(&a, dst.number())?;
            }
            return Err(arith(format!(
                "{op:?} {width:?} of {} and {}",
                type_name(&a),
                type_name(&b)
            )));
        }
    };
    s.regs[dst.index()] = result;
    Ok(())
}

fn src_reg(src: Operand) -> Option<Reg> {
    match src {
        Operand::Reg(r) => Some(r),
        Operand::Imm(_) => None,
    }
}

/// The packet region of `p + y` for a variable `y` held in `reg`: based on `y`'s symbolic value
/// (created here if it has none).
fn variable_packet(pc: usize, s: &mut State, p: &Ptr, reg: Option<Reg>) -> Region {
    let anon = Region::Packet {
        id: ANON_PKT,
        dlo: 0,
        dhi: 0,
    };
    let Some(r) = reg else { return anon };
    let (k, d) = match s.syms[r.index()] {
        Some(x) => x,
        None => {
            let k = (pc as u32).wrapping_add(1).min(ANON_PKT - 1);
            s.fresh_sym(k);
            s.syms[r.index()] = Some((k, 0));
            (k, 0)
        }
    };
    match p.region {
        Region::Packet { id: 0, .. } => {
            match (p.off.smin.checked_add(d), p.off.smax.checked_add(d)) {
                (Some(lo), Some(hi)) => Region::Packet {
                    id: k,
                    dlo: lo,
                    dhi: hi,
                },
                _ => anon,
            }
        }
        _ => anon,
    }
}

fn ptr_add(
    pc: usize,
    s: &mut State,
    p: &Ptr,
    y: &Scalar,
    reg: Option<Reg>,
    sub: bool,
) -> Result<Val, RejectReason> {
    if p.null.is_some() {
        return Err(arith("arithmetic on a possibly-null pointer".into()));
    }
    if matches!(p.region, Region::PacketEnd | Region::InnerMap { .. }) {
        return Err(arith(format!("arithmetic on {}", type_name(&Val::Ptr(*p)))));
    }
    let op = if sub { AluOp::Sub } else { AluOp::Add };
    let off = scalar_ops::alu(op, Width::W64, &p.off, y);
    let region = match p.region {
        Region::Packet { id, dlo, dhi } => match y.as_const() {
            Some(c) => {
                let c = if sub {
                    (c as i64).wrapping_neg()
                } else {
                    c as i64
                };
                if id == 0 {
                    Region::Packet {
                        id: 0,
                        dlo: 0,
                        dhi: 0,
                    }
                } else {
                    match (dlo.checked_add(c), dhi.checked_add(c)) {
                        (Some(lo), Some(hi)) => Region::Packet {
                            id,
                            dlo: lo,
                            dhi: hi,
                        },
                        _ => Region::Packet {
                            id: ANON_PKT,
                            dlo: 0,
                            dhi: 0,
                        },
                    }
                }
            }
            None if sub => Region::Packet {
                id: ANON_PKT,
                dlo: 0,
                dhi: 0,
            },
            None => variable_packet(pc, s, p, reg),
        },
        r => r,
    };
    Ok(Val::Ptr(Ptr {
        region,
        off,
        null: None,
    }))
}

fn same_region(a: &Region, b: &Region) -> bool {
    match (a, b) {
        (
            Region::Packet { .. } | Region::PacketEnd | Region::PacketMeta,
            Region::Packet { .. } | Region::PacketEnd | Region::PacketMeta,
        ) => true,
        _ => a == b,
    }
}

fn ptr_diff(p: &Ptr, q: &Ptr) -> Result<Val, RejectReason> {
    if !same_region(&p.region, &q.region) || p.null.is_some() || q.null.is_some() {
        return Err(arith(format!(
            "difference of pointers into different regions ({:?}, {:?})",
            p.region, q.region
        )));
    }
    // `data_end - data` is the packet length: comparing it bounds the packet.
    if p.region == Region::PacketEnd
        && matches!(q.region, Region::Packet { id: 0, .. })
        && q.off.as_const() == Some(0)
        && p.off.as_const() == Some(0)
    {
        return Ok(Val::PacketLen(Scalar::urange(0, i64::MAX as u64)));
    }
    let packetish = |r: &Region| matches!(r, Region::PacketEnd | Region::PacketMeta);
    if packetish(&p.region) || packetish(&q.region) || p.region != q.region {
        // Offsets are relative to different bases (data_end, data_meta, variable parts).
        return Ok(Val::TOP);
    }
    Ok(Val::Scalar(scalar_ops::alu(
        AluOp::Sub,
        Width::W64,
        &p.off,
        &q.off,
    )))
}

/// `dst = -dst`.
///
/// # Errors
/// Uninitialised or pointer operand.
pub fn neg(s: &mut State, width: Width, dst: Reg) -> Result<(), RejectReason> {
    let a = read(s, dst)?;
    let x = scalar_of(&a, dst.number()).map_err(|_| arith("negation of a pointer".into()))?;
    s.regs[dst.index()] = Val::Scalar(scalar_ops::neg(width, &x));
    Ok(())
}

/// Byte-order conversion.
///
/// # Errors
/// Uninitialised or pointer operand.
pub fn endian(s: &mut State, order: ByteOrder, bits: u8, dst: Reg) -> Result<(), RejectReason> {
    let a = read(s, dst)?;
    let x = scalar_of(&a, dst.number()).map_err(|_| arith("byte swap of a pointer".into()))?;
    s.regs[dst.index()] = Val::Scalar(scalar_ops::endian(order, bits, &x));
    Ok(())
}
