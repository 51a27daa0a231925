//! Abstract register values: a type and, per type, a numeric part.

use std::fmt;

use super::scalar::{Scalar, Thresholds};

/// Identifier shared by copies of one possibly-null pointer (a null test refines them all).
pub type NullId = u32;
/// Null id of pointers whose copies are not tracked (a join produced them).
pub const ANON_NULL: NullId = u32::MAX;
/// Packet base id of pointers whose variable part is not tracked.
pub const ANON_PKT: u32 = u32::MAX;

/// Which memory a pointer points into.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Region {
    /// The program context (`ctx`).
    Ctx,
    /// The stack of call frame `frame` (offsets within `[0, 512)`; r10 is 512).
    Stack { frame: u8 },
    /// Packet data. `id` names the variable part added to `data` (0: none, offset is from data);
    /// `delta` is the constant part added after it.
    Packet { id: u32, dlo: i64, dhi: i64 },
    /// `data_end`.
    PacketEnd,
    /// `data_meta`.
    PacketMeta,
    /// A value of a map whose values are `size` bytes (`ro`: read-only to the program; `nul`:
    /// the value's bytes are constant and the last NUL is at this offset, see
    /// `MapInfo::last_nul`). Values of different maps are told apart only by what the checks
    /// need, so that joins stay precise.
    MapValue {
        size: u32,
        ro: bool,
        nul: Option<u32>,
    },
    /// A ring-buffer record of `size` bytes, holding reference `ref_id`.
    Ringbuf { size: u64, ref_id: u32 },
    /// The input buffer of the `mem` program type, of known size.
    Input { size: u64 },
    /// A map held in a map of maps (index in the map table of its description): usable only
    /// as a map argument, at offset 0.
    InnerMap { map: u32 },
}

/// A pointer: region, offset, and an optional null id (possibly null).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Ptr {
    /// Region.
    pub region: Region,
    /// Offset from the region start.
    pub off: Scalar,
    /// `Some(id)` while the pointer may be null.
    pub null: Option<NullId>,
}

/// An abstract register or spilled value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Val {
    /// Not initialised, or not usable (conflicting types met at a join).
    Uninit,
    /// A number.
    Scalar(Scalar),
    /// A number known to equal the packet length (refines the packet range when compared).
    PacketLen(Scalar),
    /// A pointer.
    Ptr(Ptr),
    /// A map handle (index in the map table).
    MapPtr(u32),
    /// The address of the function starting at this slot.
    Func(usize),
    /// A number that may be a kernel pointer of a BTF type (Linux's `PTR_TO_BTF_ID`): an
    /// 8-byte argument of a BTF-typed context (`tp_btf`, `fentry`/`fexit`, `lsm`, `iter`,
    /// `struct_ops`), `bpf_get_current_task_btf`'s result, or an 8-byte field read through
    /// one. Linux knows from BTF which of these are pointers and turns loads through them into
    /// probe reads (`BPF_PROBE_MEM`: a fault reads 0). apiary does not read the kernel's BTF;
    /// it keeps such a value a number for every other use (arithmetic, comparisons, stores,
    /// helper arguments that take anything) and, in addition, lets the program *load* through
    /// it. Those loads are never proven ([`apiary_vm::Facts`] leave them checked), so the
    /// engines check them at run time against the run's regions: in userspace no kernel object
    /// is mapped, and such a load faults unless it lands in a region the run may read. Stores,
    /// atomics and memory arguments of helpers through it are rejected, as Linux rejects them
    /// for untrusted BTF pointers.
    Kernel(Scalar),
}

impl Val {
    /// A known number.
    #[must_use]
    pub const fn constant(v: u64) -> Self {
        Val::Scalar(Scalar::constant(v))
    }

    /// An unknown number.
    pub const TOP: Val = Val::Scalar(Scalar::TOP);

    /// The numeric value, for scalars.
    #[must_use]
    pub const fn scalar(&self) -> Option<&Scalar> {
        match self {
            Val::Scalar(s) | Val::PacketLen(s) | Val::Kernel(s) => Some(s),
            _ => None,
        }
    }

    /// Whether this is initialised.
    #[must_use]
    pub const fn is_init(&self) -> bool {
        !matches!(self, Val::Uninit)
    }

    /// Whether this is a pointer-like value (anything but a number or uninit).
    #[must_use]
    pub const fn is_pointer(&self) -> bool {
        matches!(self, Val::Ptr(_) | Val::MapPtr(_) | Val::Func(_))
    }

    /// Least upper bound.
    #[must_use]
    pub fn join(&self, o: &Self) -> Self {
        self.combine(o, |a, b| a.join(b))
    }

    /// Widening of `self` (old) with `new`.
    #[must_use]
    pub fn widen(&self, new: &Self, th: &Thresholds) -> Self {
        self.combine(new, |a, b| a.widen(&a.join(b), th))
    }

    fn combine(&self, o: &Self, f: impl Fn(&Scalar, &Scalar) -> Scalar) -> Self {
        if self == o {
            return *self;
        }
        match (self, o) {
            (Val::PacketLen(a), Val::PacketLen(b)) => Val::PacketLen(f(a, b)),
            (Val::Kernel(a), Val::Kernel(b)) => Val::Kernel(f(a, b)),
            (
                Val::Scalar(a) | Val::PacketLen(a) | Val::Kernel(a),
                Val::Scalar(b) | Val::PacketLen(b) | Val::Kernel(b),
            ) => Val::Scalar(f(a, b)),
            (Val::Ptr(p), Val::Ptr(q)) => join_ptr(p, q, &f).map_or(Val::Uninit, Val::Ptr),
            (Val::Ptr(p), Val::Scalar(s)) | (Val::Scalar(s), Val::Ptr(p))
                if s.as_const() == Some(0)
                    && matches!(
                        p.region,
                        Region::MapValue { .. } | Region::Ringbuf { .. } | Region::InnerMap { .. }
                    ) =>
            {
                Val::Ptr(Ptr {
                    null: Some(p.null.unwrap_or(ANON_NULL)),
                    ..*p
                })
            }
            _ => Val::Uninit,
        }
    }
}

fn join_ptr(p: &Ptr, q: &Ptr, f: &impl Fn(&Scalar, &Scalar) -> Scalar) -> Option<Ptr> {
    let null = match (p.null, q.null) {
        (None, None) => None,
        (Some(a), Some(b)) if a == b => Some(a),
        _ => Some(ANON_NULL),
    };
    let region = match (p.region, q.region) {
        (a, b) if a == b => a,
        (
            Region::MapValue {
                size: a,
                ro: x,
                nul: m,
            },
            Region::MapValue {
                size: b,
                ro: y,
                nul: n,
            },
        ) => Region::MapValue {
            size: a.min(b),
            ro: x || y,
            // Strings are constant in both values, with a NUL at or after the smaller offset.
            nul: m.zip(n).map(|(m, n)| m.min(n)),
        },
        (
            Region::Packet {
                id: i,
                dlo: a0,
                dhi: a1,
            },
            Region::Packet {
                id: j,
                dlo: b0,
                dhi: b1,
            },
        ) => {
            if i == j {
                Region::Packet {
                    id: i,
                    dlo: a0.min(b0),
                    dhi: a1.max(b1),
                }
            } else {
                Region::Packet {
                    id: ANON_PKT,
                    dlo: 0,
                    dhi: 0,
                }
            }
        }
        _ => return None,
    };
    Some(Ptr {
        region,
        off: f(&p.off, &q.off),
        null,
    })
}

impl fmt::Display for Val {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Val::Uninit => write!(f, "uninit"),
            Val::Scalar(s) => write!(f, "{}", ScalarText(s)),
            Val::PacketLen(s) => write!(f, "pkt_len {}", ScalarText(s)),
            Val::Kernel(s) => write!(f, "btf_ptr {}", ScalarText(s)),
            Val::MapPtr(m) => write!(f, "map_ptr({m})"),
            Val::Func(pc) => write!(f, "func({pc})"),
            Val::Ptr(p) => {
                match p.region {
                    Region::Ctx => write!(f, "ctx")?,
                    Region::Stack { frame } => write!(f, "stack[{frame}]")?,
                    Region::Packet { id, dlo, dhi } => {
                        if id == 0 {
                            write!(f, "packet")?;
                        } else {
                            write!(f, "packet(id {id} +[{dlo},{dhi}])")?;
                        }
                    }
                    Region::PacketEnd => write!(f, "packet_end")?,
                    Region::PacketMeta => write!(f, "packet_meta")?,
                    Region::MapValue { size, ro, .. } => {
                        write!(f, "map_value(size {size}{})", if ro { ", ro" } else { "" })?
                    }
                    Region::Ringbuf { size, ref_id } => {
                        write!(f, "ringbuf_record(size {size}, ref {ref_id})")?
                    }
                    Region::Input { size } => write!(f, "input(size {size})")?,
                    Region::InnerMap { map } => write!(f, "inner_map({map})")?,
                }
                if let Some(id) = p.null {
                    write!(f, "_or_null(id {id})")?;
                }
                write!(f, " off {}", ScalarText(&p.off))
            }
        }
    }
}

/// Compact text of a scalar.
#[derive(Debug)]
pub struct ScalarText<'a>(pub &'a Scalar);

impl fmt::Display for ScalarText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0;
        if let Some(c) = s.as_const() {
            return write!(f, "{}", c as i64);
        }
        write!(f, "u[{}, {}] s[{}, {}]", s.umin, s.umax, s.smin, s.smax)?;
        if s.t.mask != u64::MAX {
            write!(f, " bits {:#x}/{:#x}", s.t.value, s.t.mask)?;
        }
        Ok(())
    }
}
