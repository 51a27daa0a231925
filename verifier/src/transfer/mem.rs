//! Loads, stores and atomics: the pointer must be dereferenceable, the access inside its region
//! with the right permission, and stack bytes read must be initialised.

use apiary_vm::instruction::{AtomicOp, Operand, Reg, Size};

use super::{read, type_name, Env};
use crate::domain::stack::{StackError, FRAME};
use crate::domain::value::ANON_PKT;
use crate::domain::{Ptr, Region, Scalar, State, Val};
use crate::error::RejectReason;
use crate::platform::CtxKind;

/// How memory is touched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Read.
    Read,
    /// Write.
    Write,
    /// Atomic read-modify-write.
    Atomic,
}

/// The checked target of an access.
#[derive(Clone, Copy, Debug)]
pub struct Target {
    /// The pointer.
    pub ptr: Ptr,
    /// Smallest and largest start offset.
    pub lo: i64,
    /// Largest start offset.
    pub hi: i64,
    /// Whether the engines' region tables cover this region (stack, input, packet, map value).
    pub table_region: bool,
}

fn oob(region: &'static str, lo: i64, hi: i64, size: i64, limit: i64) -> RejectReason {
    RejectReason::OutOfBounds {
        region,
        lo,
        hi,
        size: size.max(0) as u64,
        limit,
    }
}

/// Checks that `[ptr + off + lo_delta, ...)` of `size` bytes (`size_max` at most) is inside the
/// region of the pointer held in `reg`, with permission `kind`.
///
/// # Errors
/// The failed check.
pub fn check(
    env: &Env<'_>,
    s: &State,
    reg: u8,
    v: &Val,
    off: i64,
    size: i64,
    kind: Kind,
) -> Result<Target, RejectReason> {
    let p = match v {
        Val::Uninit => return Err(RejectReason::UninitRegister { reg }),
        Val::Ptr(p) => *p,
        _ => {
            return Err(RejectReason::InvalidType {
                reg,
                expected: "pointer",
                found: type_name(v),
            })
        }
    };
    if p.null.is_some() {
        return Err(RejectReason::NullDereference { reg });
    }
    let (lo, hi) = (
        p.off.smin.saturating_add(off),
        p.off.smax.saturating_add(off),
    );
    let within = |limit: i64, name: &'static str| {
        if lo >= 0 && hi.saturating_add(size) <= limit {
            Ok(())
        } else {
            Err(oob(name, lo, hi, size, limit))
        }
    };
    let writes = kind != Kind::Read;
    let table_region = match p.region {
        Region::Stack { frame } => {
            if usize::from(frame) > s.depth() {
                return Err(RejectReason::InvalidType {
                    reg,
                    expected: "live stack frame",
                    found: "stale stack".into(),
                });
            }
            within(FRAME, "stack")?;
            if let Some(f) = s.frames.get(usize::from(frame)) {
                env.note_stack(f.func, FRAME - lo);
            }
            true
        }
        Region::Ctx => {
            let CtxKind::Struct(d) = env.ptype.ctx else {
                return Err(RejectReason::InvalidType {
                    reg,
                    expected: "pointer",
                    found: "ctx".into(),
                });
            };
            within(i64::from(d.size), "ctx")?;
            if lo != hi {
                return Err(RejectReason::CtxAccess {
                    offset: lo,
                    size: size as u8,
                });
            }
            if writes {
                let ok = d
                    .writable
                    .iter()
                    .any(|&(a, b)| lo >= i64::from(a) && lo + size <= i64::from(b));
                if !ok || kind == Kind::Atomic {
                    return Err(RejectReason::CtxAccess {
                        offset: lo,
                        size: size as u8,
                    });
                }
            }
            false
        }
        Region::Packet { id, dlo: _, dhi } => {
            if lo < 0 {
                return Err(oob("packet", lo, hi, size, s.pkt as i64));
            }
            let by_base = id != 0
                && id != ANON_PKT
                && s.pkt_bound(id)
                    .is_some_and(|k| dhi.saturating_add(off).saturating_add(size) <= k);
            if !by_base {
                within(s.pkt as i64, "packet")?;
            }
            if kind == Kind::Atomic {
                return Err(RejectReason::Atomic {
                    detail: "atomic on packet data".into(),
                });
            }
            true
        }
        Region::PacketMeta => {
            within(s.meta as i64, "packet meta")?;
            false
        }
        Region::PacketEnd | Region::InnerMap { .. } => {
            return Err(RejectReason::InvalidType {
                reg,
                expected: "dereferenceable pointer",
                found: type_name(v),
            })
        }
        Region::MapValue { size: n, ro, .. } => {
            within(i64::from(n), "map value")?;
            if writes && ro {
                return Err(RejectReason::ReadOnly {
                    region: "map value",
                });
            }
            true
        }
        Region::Ringbuf { size: n, .. } => {
            within(n as i64, "ringbuf record")?;
            false
        }
        Region::Input { size: n } => {
            within(n as i64, "input")?;
            true
        }
    };
    Ok(Target {
        ptr: p,
        lo,
        hi,
        table_region,
    })
}

fn stack_err(e: StackError) -> RejectReason {
    match e {
        StackError::Uninit(b) => RejectReason::UninitStack { offset: b - FRAME },
        StackError::PointerBytes(_) => RejectReason::PointerLeak {
            detail: "reading part of a spilled pointer",
        },
    }
}

fn sized_scalar(size: Size, sign_extend: bool) -> Val {
    let bits = u32::from(size.bytes()) * 8;
    if sign_extend && bits < 64 {
        let half = 1i64 << (bits - 1);
        Val::Scalar(Scalar::srange(-half, half - 1))
    } else if bits >= 64 {
        Val::TOP
    } else {
        Val::Scalar(Scalar::urange(0, (1u64 << bits) - 1))
    }
}

/// `dst = *(size *)(src + off)`. Returns whether the access is proven inside a table region.
///
/// # Errors
/// The failed check.
pub fn load(
    env: &Env<'_>,
    s: &mut State,
    size: Size,
    sign_extend: bool,
    dst: Reg,
    src: Reg,
    off: i16,
) -> Result<bool, RejectReason> {
    let v = read(s, src)?;
    if let Val::Kernel(_) = v {
        // A probe read through a BTF pointer ([`Val::Kernel`]): never proven, so the engines
        // check it at run time. What it reads is a number, or (8 bytes: a pointer field, as far
        // as apiary knows without the kernel's BTF) possibly another BTF pointer.
        s.regs[dst.index()] = if size == Size::DW {
            Val::Kernel(Scalar::TOP)
        } else {
            sized_scalar(size, sign_extend)
        };
        return Ok(false);
    }
    let n = i64::from(size.bytes());
    let t = check(env, s, src.number(), &v, i64::from(off), n, Kind::Read)?;
    let val = match t.ptr.region {
        Region::Stack { frame } => {
            let st = s.stack(frame).ok_or(RejectReason::UninitStack {
                offset: t.lo - FRAME,
            })?;
            let got = st
                .read(t.lo, t.hi, size.bytes(), env.privileged())
                .map_err(stack_err)?;
            match (got, sign_extend) {
                (Val::Scalar(x), true) if size != Size::DW => {
                    let bits = u32::from(size.bytes()) * 8;
                    let w = crate::domain::scalar_ops::alu(
                        apiary_vm::instruction::AluOp::Movsx(size.bytes() * 8),
                        apiary_vm::instruction::Width::W64,
                        &Scalar::TOP,
                        &x,
                    );
                    let _ = bits;
                    Val::Scalar(w)
                }
                (g, _) => g,
            }
        }
        Region::Ctx if size == Size::DW && (btf_typed(env) || kernel_field(env, t.lo)) => {
            Val::Kernel(Scalar::TOP)
        }
        Region::Ctx => ctx_load(env, t.lo, size)?,
        _ => sized_scalar(size, sign_extend),
    };
    s.regs[dst.index()] = val;
    Ok(t.table_region)
}

/// Whether the program type's context holds BTF-typed arguments (Linux's tracing, LSM,
/// `struct_ops` and extension programs: `tp_btf`, `fentry`/`fexit`/`fmod_ret`, `iter`, `lsm`,
/// ...): each 8-byte slot may be a kernel pointer ([`Val::Kernel`]).
fn btf_typed(env: &Env<'_>) -> bool {
    matches!(env.ptype.name, "tracing" | "lsm" | "struct_ops" | "ext")
}

/// Context fields that hold a kernel object pointer in a context that is otherwise not
/// BTF-typed: `bpf_sock_ops.sk` (offset 184, Linux's `PTR_TO_SOCKET_OR_NULL`), read-only in
/// apiary's descriptor. Its value is a [`Val::Kernel`], for the helpers that take a socket
/// (`bpf_sk_storage_get`) and for probe reads through it.
fn kernel_field(env: &Env<'_>, off: i64) -> bool {
    env.ptype.name == "sock_ops" && off == 184
}

fn ctx_load(env: &Env<'_>, off: i64, size: Size) -> Result<Val, RejectReason> {
    let CtxKind::Struct(d) = env.ptype.ctx else {
        return Ok(sized_scalar(size, false));
    };
    let field = |f: Option<u32>| f.is_some_and(|o| i64::from(o) == off);
    // A context an unproven store may have written holds numbers, not trusted packet pointers.
    if env.partial.is_some_and(|m| m.ctx_untrusted) {
        return Ok(sized_scalar(size, false));
    }
    let special = [(d.data, 0), (d.end, 1), (d.meta, 2)];
    for (f, which) in special {
        if let Some(o) = f {
            let fo = i64::from(o);
            if off < fo + 4 && fo < off + i64::from(size.bytes()) {
                if !field(f) || size != Size::W {
                    return Err(RejectReason::CtxAccess {
                        offset: off,
                        size: size.bytes(),
                    });
                }
                let region = match which {
                    0 => Region::Packet {
                        id: 0,
                        dlo: 0,
                        dhi: 0,
                    },
                    1 => Region::PacketEnd,
                    _ => Region::PacketMeta,
                };
                return Ok(Val::Ptr(Ptr {
                    region,
                    off: Scalar::constant(0),
                    null: None,
                }));
            }
        }
    }
    Ok(sized_scalar(size, false))
}

/// `*(size *)(dst + off) = src`. Returns whether the access is proven inside a table region.
///
/// # Errors
/// The failed check.
pub fn store(
    env: &Env<'_>,
    s: &mut State,
    size: Size,
    dst: Reg,
    off: i16,
    src: Operand,
) -> Result<bool, RejectReason> {
    let val = match src {
        Operand::Reg(r) => s.regs[r.index()],
        Operand::Imm(i) => Val::constant(i as i64 as u64),
    };
    let v = read(s, dst)?;
    if !val.is_init()
        && !matches!(
            v,
            Val::Ptr(Ptr {
                region: Region::Stack { .. },
                ..
            })
        )
    {
        if let Operand::Reg(r) = src {
            return Err(RejectReason::UninitRegister { reg: r.number() });
        }
    }
    let n = i64::from(size.bytes());
    let t = check(env, s, dst.number(), &v, i64::from(off), n, Kind::Write)?;
    match t.ptr.region {
        Region::Stack { frame } => {
            if val.is_pointer()
                && (size != Size::DW || t.lo != t.hi || t.lo % 8 != 0)
                && !env.privileged()
            {
                return Err(RejectReason::PointerLeak {
                    detail: "partial or misaligned spill of a pointer",
                });
            }
            let stored = if val.is_pointer() && size != Size::DW {
                Val::TOP
            } else {
                val
            };
            // Every possible start 8-aligned: the store hits one whole slot of the range.
            let aligned = t.ptr.off.t.mask & 7 == 0
                && (t.ptr.off.t.value.wrapping_add(i64::from(off) as u64)) & 7 == 0;
            if let Some(st) = s.stack_mut(frame) {
                if size == Size::DW && t.lo != t.hi && aligned {
                    st.write_one_of(t.lo, t.hi, &stored);
                } else {
                    st.write(t.lo, t.hi, size.bytes(), &stored);
                }
            }
        }
        _ => {
            if val.is_pointer() && !env.privileged() {
                return Err(RejectReason::PointerLeak {
                    detail: "pointer stored outside the stack",
                });
            }
        }
    }
    Ok(t.table_region)
}

/// An atomic read-modify-write. Returns whether the access is proven inside a table region.
///
/// # Errors
/// The failed check.
#[allow(clippy::too_many_arguments)]
pub fn atomic(
    env: &Env<'_>,
    s: &mut State,
    size: Size,
    op: AtomicOp,
    fetch: bool,
    dst: Reg,
    src: Reg,
    off: i16,
) -> Result<bool, RejectReason> {
    let val = read(s, src)?;
    if val.scalar().is_none() {
        return Err(RejectReason::Atomic {
            detail: format!("operand r{} is a {}", src.number(), type_name(&val)),
        });
    }
    if op == AtomicOp::Cmpxchg {
        let r0 = read(s, Reg::R0)?;
        if r0.scalar().is_none() {
            return Err(RejectReason::Atomic {
                detail: "cmpxchg comparand r0 is not a number".into(),
            });
        }
    }
    if !matches!(size, Size::W | Size::DW) {
        return Err(RejectReason::Atomic {
            detail: "atomic access must be 4 or 8 bytes".into(),
        });
    }
    let v = read(s, dst)?;
    let n = i64::from(size.bytes());
    let t = check(env, s, dst.number(), &v, i64::from(off), n, Kind::Atomic)?;
    let aligned = {
        let total = crate::domain::scalar_ops::alu(
            apiary_vm::instruction::AluOp::Add,
            apiary_vm::instruction::Width::W64,
            &t.ptr.off,
            &Scalar::constant(i64::from(off) as u64),
        );
        total.t.value & (n as u64 - 1) == 0 && total.t.mask & (n as u64 - 1) == 0
    };
    match t.ptr.region {
        Region::Stack { .. } | Region::MapValue { .. } | Region::Input { .. } if aligned => {}
        Region::Stack { .. } | Region::MapValue { .. } | Region::Input { .. } => {
            return Err(RejectReason::Atomic {
                detail: "offset not naturally aligned".into(),
            })
        }
        _ => {
            return Err(RejectReason::Atomic {
                detail: format!("atomic on {}", type_name(&v)),
            })
        }
    }
    if let Region::Stack { frame } = t.ptr.region {
        let st = s.stack(frame).ok_or(RejectReason::UninitStack {
            offset: t.lo - FRAME,
        })?;
        st.read(t.lo, t.hi, size.bytes(), false)
            .map_err(stack_err)?;
        if let Some(st) = s.stack_mut(frame) {
            st.write(t.lo, t.hi, size.bytes(), &Val::TOP);
        }
    }
    let fetched = sized_scalar(size, false);
    if op == AtomicOp::Cmpxchg {
        s.regs[0] = fetched;
    } else if fetch || op == AtomicOp::Xchg {
        s.regs[src.index()] = fetched;
    }
    Ok(t.table_region)
}
