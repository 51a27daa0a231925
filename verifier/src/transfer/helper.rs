//! Helper calls: each argument is checked against the prototype, memory arguments against
//! their regions; then r0 is typed by the return kind and r1–r5 are clobbered.

use apiary_vm::instruction::Reg;

use super::mem::{check, Kind};
use super::{invalidate, type_name, Env};
use crate::domain::stack::FRAME;
use crate::domain::{Ptr, Region, Scalar, State, Val};
use crate::error::RejectReason;
use crate::platform::helpers::{Arg, CallbackKind, HelperProto, Ret};
use crate::platform::map_type;

/// What the argument checks found that the call's effect needs.
#[derive(Clone, Copy, Debug, Default)]
pub struct ArgInfo {
    /// The first map argument (index).
    pub map: Option<u32>,
    /// A callback target and how it is called.
    pub callback: Option<(usize, CallbackKind)>,
}

fn bad(proto: &HelperProto, arg: usize, detail: String) -> RejectReason {
    RejectReason::HelperArg {
        helper: proto.name,
        arg: arg as u8 + 1,
        detail,
    }
}

/// Checks the arguments of a call to `proto`, and applies their effects on memory (written
/// buffers become initialised, released references disappear).
///
/// # Errors
/// The first argument that does not match.
pub fn check_args(
    env: &Env<'_>,
    s: &mut State,
    proto: &HelperProto,
) -> Result<ArgInfo, RejectReason> {
    let mut info = ArgInfo::default();
    for i in 0..5 {
        let kind = proto.args[i];
        if kind == Arg::None {
            continue;
        }
        let reg = i as u8 + 1;
        let v = s.regs[i + 1];
        if !v.is_init() {
            return Err(RejectReason::UninitRegister { reg });
        }
        let next = s.regs.get(i + 2).copied().unwrap_or(Val::Uninit);
        match kind {
            Arg::None => {}
            Arg::Anything => {
                if v.scalar().is_none() && !env.privileged() {
                    return Err(RejectReason::PointerLeak {
                        detail: "pointer passed as a number to a helper",
                    });
                }
            }
            Arg::AnyPointer => {}
            Arg::BtfPtr => {
                if !matches!(v, Val::Kernel(_)) {
                    return Err(bad(
                        proto,
                        i,
                        format!("expected a BTF pointer, found {}", type_name(&v)),
                    ));
                }
            }
            Arg::Map(allowed) => {
                let m = match v {
                    Val::MapPtr(m)
                    | Val::Ptr(Ptr {
                        region: Region::InnerMap { map: m },
                        null: None,
                        ..
                    }) if map_offset_zero(&v) => m,
                    _ => {
                        return Err(bad(
                            proto,
                            i,
                            format!("expected a map, found {}", type_name(&v)),
                        ))
                    }
                };
                let (_, mi) = env.map(i64::from(m))?;
                if !allowed.is_empty() && !allowed.contains(&mi.map_type) {
                    return Err(bad(
                        proto,
                        i,
                        format!("map type {} not allowed", mi.map_type),
                    ));
                }
                info.map.get_or_insert(m);
            }
            Arg::MapValueOrNull if v.scalar().is_some_and(|z| z.as_const() == Some(0)) => {}
            Arg::MapKey | Arg::MapValue | Arg::MapValueOut | Arg::MapValueOrNull => {
                let m = info
                    .map
                    .ok_or_else(|| bad(proto, i, "no map argument before".into()))?;
                let (_, mi) = env.map(i64::from(m))?;
                let n = if kind == Arg::MapKey {
                    mi.key_size
                } else {
                    mi.value_size
                };
                let k = if kind == Arg::MapValueOut {
                    Kind::Write
                } else {
                    Kind::Read
                };
                mem_arg(env, s, proto, i, &v, Scalar::constant(u64::from(n)), k)?;
            }
            Arg::Mem | Arg::MemOrNull | Arg::MemOut | Arg::MemInOut => {
                let size = next.scalar().copied().ok_or_else(|| {
                    bad(
                        proto,
                        i + 1,
                        format!("size must be a number, found {}", type_name(&next)),
                    )
                })?;
                let null_ok =
                    kind == Arg::MemOrNull && v.scalar().is_some_and(|z| z.as_const() == Some(0));
                if null_ok {
                    // The helper skips a NULL buffer only when its size is 0 (Linux allows a
                    // zero-byte access to NULL and nothing more): a non-zero size would have it
                    // read or write at address 0 onward.
                    if size.umax != 0 {
                        return Err(bad(
                            proto,
                            i + 1,
                            format!(
                                "buffer is NULL but its size [{}, {}] may be non-zero",
                                size.umin, size.umax
                            ),
                        ));
                    }
                } else {
                    let k = match kind {
                        Arg::MemOut => Kind::Write,
                        Arg::MemInOut => Kind::Atomic,
                        _ => Kind::Read,
                    };
                    mem_arg(env, s, proto, i, &v, size, k)?;
                }
            }
            Arg::Size | Arg::SizeOrZero => {
                let z = v
                    .scalar()
                    .ok_or_else(|| bad(proto, i, "size must be a number".into()))?;
                if z.smin < 0 || (kind == Arg::Size && z.umin == 0) {
                    return Err(bad(
                        proto,
                        i,
                        format!(
                            "size [{}, {}] may be {}",
                            z.smin,
                            z.smax,
                            if z.smin < 0 { "negative" } else { "zero" }
                        ),
                    ));
                }
            }
            Arg::Ctx => match v {
                Val::Ptr(Ptr {
                    region: Region::Ctx,
                    off,
                    null: None,
                }) if off.as_const() == Some(0) => {}
                _ => {
                    return Err(bad(
                        proto,
                        i,
                        format!("expected ctx, found {}", type_name(&v)),
                    ))
                }
            },
            Arg::Callback => {
                let Val::Func(t) = v else {
                    return Err(bad(
                        proto,
                        i,
                        format!("expected a function, found {}", type_name(&v)),
                    ));
                };
                if let Some(cb) = proto.callback {
                    info.callback = Some((t, cb));
                }
            }
            Arg::RingbufRecord => match v {
                Val::Ptr(Ptr {
                    region: Region::Ringbuf { ref_id, .. },
                    off,
                    null: None,
                }) if off.as_const() == Some(0) => {
                    s.refs.retain(|&r| r != ref_id);
                    invalidate(
                        s,
                        |x| matches!(x, Val::Ptr(Ptr { region: Region::Ringbuf { ref_id: r, .. }, .. }) if *r == ref_id),
                    );
                }
                _ => {
                    return Err(bad(
                        proto,
                        i,
                        format!("expected a ring-buffer record, found {}", type_name(&v)),
                    ))
                }
            },
            Arg::Str => {
                mem_arg(env, s, proto, i, &v, Scalar::constant(1), Kind::Read)?;
            }
            Arg::ConstStr => const_str(proto, i, &v)?,
        }
    }
    Ok(info)
}

/// An `ARG_PTR_TO_CONST_STR` argument: a non-null pointer into a constant map value (read-only,
/// bytes known), at a constant offset inside it with a NUL at or after that offset, as Linux's
/// `check_reg_const_str` requires. Anything else (stack, packet, a writable or unknown value, a
/// variable offset) could hold no NUL before the end of its region, and the helper reads until
/// one.
fn const_str(proto: &HelperProto, i: usize, v: &Val) -> Result<(), RejectReason> {
    let Val::Ptr(Ptr {
        region:
            Region::MapValue {
                size,
                ro: true,
                nul: Some(last),
            },
        off,
        null: None,
    }) = *v
    else {
        return Err(bad(
            proto,
            i,
            format!(
                "expected a constant string (read-only map value), found {}",
                type_name(v)
            ),
        ));
    };
    match off.as_const() {
        Some(o) if o < u64::from(size) && o <= u64::from(last) => Ok(()),
        Some(o) => Err(bad(
            proto,
            i,
            format!("no NUL between offset {o} and the end of the constant value"),
        )),
        None => Err(bad(proto, i, "constant string at a variable offset".into())),
    }
}

/// Map handles carry no offset; an inner map pointer must be at offset 0.
fn map_offset_zero(v: &Val) -> bool {
    match v {
        Val::Ptr(p) => p.off.as_const() == Some(0),
        _ => true,
    }
}

fn mem_arg(
    env: &Env<'_>,
    s: &mut State,
    proto: &HelperProto,
    i: usize,
    v: &Val,
    size: Scalar,
    kind: Kind,
) -> Result<(), RejectReason> {
    if size.smin < 0 {
        return Err(bad(
            proto,
            i + 1,
            format!("size [{}, {}] may be negative", size.smin, size.smax),
        ));
    }
    // The context is a kernel (here: host) structure whose fields include addresses: a helper
    // taking memory (`ARG_PTR_TO_MEM`, map keys and values) must not read it (a copy into a map
    // leaks them) nor write it (its fields are checked one by one, on direct stores only). Only
    // `Arg::Ctx` takes the context.
    if let Val::Ptr(Ptr {
        region: Region::Ctx,
        ..
    }) = v
    {
        return Err(bad(
            proto,
            i,
            "the context is not memory a helper may access".into(),
        ));
    }
    let max = size.smax;
    let t = check(env, s, i as u8 + 1, v, 0, max, kind).map_err(|e| match e {
        RejectReason::OutOfBounds { .. }
        | RejectReason::NullDereference { .. }
        | RejectReason::InvalidType { .. } => bad(proto, i, e.to_string()),
        other => other,
    })?;
    if let Region::Stack { frame } = t.ptr.region {
        if kind != Kind::Write {
            if let Some(st) = s.stack(frame) {
                st.check_init(t.lo, t.hi - t.lo + max, env.privileged())
                    .map_err(|_| bad(proto, i, "reads uninitialised stack".into()))?;
            }
        }
        if kind != Kind::Read {
            let exact = t.lo == t.hi;
            if let Some(st) = s.stack_mut(frame) {
                let min = if exact {
                    size.umin.min(FRAME as u64) as i64
                } else {
                    0
                };
                st.havoc(t.lo, min, t.hi - t.lo + max);
            }
        }
    } else if kind != Kind::Read
        && !matches!(
            t.ptr.region,
            Region::MapValue { .. }
                | Region::Packet { .. }
                | Region::Input { .. }
                | Region::Ringbuf { .. }
        )
    {
        return Err(bad(proto, i, "memory is not writable".into()));
    }
    Ok(())
}

/// The effect of the call after the arguments were checked: r0, clobbered r1–r5, packet
/// invalidation, new references.
///
/// # Errors
/// A reservation made again while the previous one from the same call is still live, or a
/// ring-buffer size that is not a constant.
pub fn finish(
    env: &Env<'_>,
    s: &mut State,
    pc: usize,
    proto: &HelperProto,
    info: &ArgInfo,
) -> Result<(), RejectReason> {
    let id = (pc as u32).wrapping_add(1);
    let r0 = match proto.ret {
        Ret::Scalar => Val::TOP,
        Ret::BtfPtr => Val::Kernel(Scalar::TOP),
        Ret::Range(lo, hi) => Val::Scalar(Scalar::urange(lo, hi)),
        Ret::MapValueOrNull => {
            let m = info.map.ok_or_else(|| bad(proto, 0, "no map".into()))?;
            let (_, mi) = env.map(i64::from(m))?;
            invalidate(s, |v| matches!(v, Val::Ptr(p) if p.null == Some(id)));
            let region = if matches!(
                mi.map_type,
                map_type::ARRAY_OF_MAPS | map_type::HASH_OF_MAPS
            ) {
                let inner = env.inner_of(m).ok_or_else(|| RejectReason::Unsupported {
                    what: "lookup in a map of maps without a description of its inner maps".into(),
                })?;
                Region::InnerMap {
                    map: env.map(i64::from(inner))?.0,
                }
            } else {
                env.value_region(m)?
            };
            Val::Ptr(Ptr {
                region,
                off: Scalar::constant(0),
                null: Some(id),
            })
        }
        Ret::RingbufOrNull => {
            let size = s.regs[2]
                .scalar()
                .and_then(Scalar::as_const)
                .ok_or_else(|| bad(proto, 1, "size must be a constant".into()))?;
            if s.refs.contains(&id) {
                return Err(RejectReason::UnreleasedReference { id });
            }
            invalidate(s, |v| matches!(v, Val::Ptr(p) if p.null == Some(id)));
            s.refs.push(id);
            s.refs.sort_unstable();
            Val::Ptr(Ptr {
                region: Region::Ringbuf { size, ref_id: id },
                off: Scalar::constant(0),
                null: Some(id),
            })
        }
    };
    if proto.reallocates_packet {
        invalidate(s, |v| {
            matches!(
                v,
                Val::Ptr(Ptr {
                    region: Region::Packet { .. } | Region::PacketEnd | Region::PacketMeta,
                    ..
                })
            )
        });
        s.pkt = 0;
        s.meta = 0;
        s.pkt_ids.clear();
        s.guards.clear();
        // A length measured before is stale.
        s.map_values(|v| match v {
            Val::PacketLen(x) => Val::Scalar(*x),
            other => *other,
        });
    }
    for r in 1..=5 {
        s.regs[r] = Val::Uninit;
    }
    s.regs[Reg::R0.index()] = r0;
    Ok(())
}
