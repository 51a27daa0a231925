//! Transfer functions: how one instruction changes the abstract state, with its safety checks.
//! Control flow (jumps, calls, exit) is driven by [`crate::fixpoint`]; the modules here handle
//! the straight-line parts and the refinement of jump edges.

pub mod alu;
pub mod assume;
pub mod branch;
pub mod guards;
pub mod helper;
pub mod linrel;
pub mod mem;
pub mod syms;

use std::cell::RefCell;
use std::collections::BTreeMap;

use apiary_vm::instruction::{Lddw, Operand, Reg, Width};
use apiary_vm::semantics::imm_value;
use apiary_vm::Program;

use crate::domain::{Ptr, Region, Scalar, State, Val};
use crate::error::RejectReason;
use crate::platform::{CtxKind, MapInfo, Platform, ProgramType};

/// Everything fixed for one verification.
#[derive(Debug)]
pub struct Env<'a> {
    /// The program.
    pub program: &'a Program,
    /// Helpers.
    pub platform: &'a Platform,
    /// Program type.
    pub ptype: &'a ProgramType,
    /// Maps (the program's, then inner map descriptions).
    pub maps: &'a [MapInfo],
    /// (map of maps, index of its inner map description) pairs.
    pub inner: &'a [(u32, u32)],
    /// Per function (by first slot), the deepest stack byte its frame uses (bytes below r10).
    pub stack_use: RefCell<BTreeMap<usize, i64>>,
    /// `Some` for a partial analysis (checked mode, [`crate::partial`]): accesses it cannot
    /// prove stay checked instead of rejecting the program.
    pub partial: Option<crate::partial::Mode>,
    /// Whether a partial analysis let a store, atomic or helper write stay checked (so it may
    /// have written the context).
    pub wrote_unproven: std::cell::Cell<bool>,
}

impl Env<'_> {
    /// Whether pointer leaks are allowed.
    #[must_use]
    pub fn privileged(&self) -> bool {
        self.ptype.privileged
    }

    /// Records that the frame of function `func` uses `depth` bytes below its r10.
    pub fn note_stack(&self, func: usize, depth: i64) {
        let mut m = self.stack_use.borrow_mut();
        let e = m.entry(func).or_insert(0);
        *e = (*e).max(depth);
    }

    /// Map `index`, or an error.
    ///
    /// # Errors
    /// [`RejectReason::InvalidMap`].
    pub fn map(&self, index: i64) -> Result<(u32, &MapInfo), RejectReason> {
        let (i, m) = usize::try_from(index)
            .ok()
            .and_then(|i| self.maps.get(i).map(|m| (i, m)))
            .ok_or(RejectReason::InvalidMap { index })?;
        // Maps of the same shape are interchangeable for every check: name them by the first
        // one, so that a join of two such map pointers stays precise.
        let shape = |j: usize, x: &MapInfo| {
            (
                x.map_type,
                x.key_size,
                x.value_size,
                x.readonly,
                x.last_nul,
                self.inner_of(j as u32).map(|k| self.maps[k as usize]),
            )
        };
        let key = shape(i, m);
        let first = self
            .maps
            .iter()
            .enumerate()
            .position(|(j, x)| shape(j, x) == key)
            .unwrap_or(i);
        Ok((first as u32, &self.maps[first]))
    }

    /// The index of the inner map description of map of maps `m`.
    #[must_use]
    pub fn inner_of(&self, m: u32) -> Option<u32> {
        self.inner
            .iter()
            .find(|(o, _)| *o == m)
            .map(|&(_, i)| i)
            .filter(|&i| (i as usize) < self.maps.len())
    }

    /// The region of a value of map `m`.
    ///
    /// # Errors
    /// [`RejectReason::InvalidMap`].
    pub fn value_region(&self, m: u32) -> Result<Region, RejectReason> {
        let (_, info) = self.map(i64::from(m))?;
        Ok(Region::MapValue {
            size: info.value_size,
            ro: info.readonly,
            nul: if info.readonly { info.last_nul } else { None },
        })
    }

    /// The entry state of the program type.
    #[must_use]
    pub fn entry_state(&self) -> State {
        let mut s = State::entry();
        match self.ptype.ctx {
            CtxKind::Struct(_) => {
                s.regs[1] = Val::Ptr(Ptr {
                    region: Region::Ctx,
                    off: Scalar::constant(0),
                    null: None,
                });
            }
            CtxKind::Mem(Some(n)) => {
                s.regs[1] = Val::Ptr(Ptr {
                    region: Region::Input { size: n },
                    off: Scalar::constant(0),
                    null: None,
                });
                s.regs[2] = Val::constant(n);
            }
            CtxKind::Mem(None) => {
                s.regs[1] = Val::Ptr(Ptr {
                    region: Region::Packet {
                        id: 0,
                        dlo: 0,
                        dhi: 0,
                    },
                    off: Scalar::constant(0),
                    null: None,
                });
                s.regs[2] = Val::PacketLen(Scalar::urange(0, i64::MAX as u64));
            }
        }
        s
    }
}

/// The value of a register, which must be initialised.
///
/// # Errors
/// [`RejectReason::UninitRegister`].
pub fn read(s: &State, r: Reg) -> Result<Val, RejectReason> {
    let v = s.regs[r.index()];
    if v.is_init() {
        Ok(v)
    } else {
        Err(RejectReason::UninitRegister { reg: r.number() })
    }
}

/// The value of an operand at `width`.
///
/// # Errors
/// As [`read`].
pub fn operand(s: &State, src: Operand, width: Width) -> Result<Val, RejectReason> {
    match src {
        Operand::Reg(r) => read(s, r),
        Operand::Imm(i) => Ok(Val::constant(imm_value(i, width))),
    }
}

/// A short name of a value's type, for messages.
#[must_use]
pub fn type_name(v: &Val) -> String {
    match v {
        Val::Uninit => "uninit".into(),
        Val::Scalar(_) | Val::PacketLen(_) => "number".into(),
        Val::Kernel(_) => "ptr_to_btf_id".into(),
        Val::MapPtr(_) => "map_ptr".into(),
        Val::Func(_) => "func".into(),
        Val::Ptr(p) => match p.region {
            Region::Ctx => "ctx".into(),
            Region::Stack { .. } => "stack".into(),
            Region::Packet { .. } => "packet".into(),
            Region::PacketEnd => "packet_end".into(),
            Region::PacketMeta => "packet_meta".into(),
            Region::MapValue { .. } => if p.null.is_some() {
                "map_value_or_null"
            } else {
                "map_value"
            }
            .into(),
            Region::Ringbuf { .. } => if p.null.is_some() {
                "ringbuf_record_or_null"
            } else {
                "ringbuf_record"
            }
            .into(),
            Region::Input { .. } => "input".into(),
            Region::InnerMap { .. } => if p.null.is_some() {
                "map_ptr_or_null"
            } else {
                "map_ptr"
            }
            .into(),
        },
    }
}

/// `lddw`.
///
/// # Errors
/// [`RejectReason::InvalidMap`] or [`RejectReason::Unsupported`].
pub fn load_imm64(env: &Env<'_>, s: &mut State, dst: Reg, value: Lddw) -> Result<(), RejectReason> {
    let v = match value {
        Lddw::Imm(v) => Val::constant(v),
        Lddw::MapFd(i) | Lddw::MapIdx(i) => Val::MapPtr(env.map(i64::from(i))?.0),
        Lddw::MapValue { map, offset } | Lddw::MapIdxValue { map, offset } => {
            let (idx, info) = env.map(i64::from(map))?;
            if offset < 0 || i64::from(offset) >= i64::from(info.value_size).max(1) {
                return Err(RejectReason::OutOfBounds {
                    region: "map value",
                    lo: i64::from(offset),
                    hi: i64::from(offset),
                    size: 0,
                    limit: i64::from(info.value_size),
                });
            }
            Val::Ptr(Ptr {
                region: env.value_region(idx)?,
                off: Scalar::constant(offset as u64),
                null: None,
            })
        }
        Lddw::VarAddr(_) => {
            return Err(RejectReason::Unsupported {
                what: "lddw platform variable".into(),
            })
        }
        Lddw::CodeAddr(t) => Val::Func(t),
    };
    s.regs[dst.index()] = v;
    Ok(())
}

/// Replaces every value satisfying `pred` by uninit (invalidated pointers).
pub fn invalidate(s: &mut State, pred: impl Fn(&Val) -> bool) {
    if s.any_value(&pred) {
        s.map_values(|v| if pred(v) { Val::Uninit } else { *v });
    }
}
