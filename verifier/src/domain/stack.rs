//! One call frame's 512-byte stack as 64 slots of 8 bytes. A slot is either a full 8-byte
//! spill of an abstract value (pointers keep their type) or raw bytes with an init bitmap and a
//! known-zero bitmap. Partially overwriting a spill turns it into bytes.

use std::cell::Cell;
use std::hash::{Hash, Hasher};
use std::rc::Rc;

use super::disjuncts::Fx;
use apiary_vm::instruction::{AluOp, Width};

use super::scalar::{Scalar, Thresholds};
use super::scalar_ops;
use super::value::Val;

/// Bytes per frame.
pub const FRAME: i64 = 512;
const SLOTS: usize = 64;

/// One 8-byte slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Slot {
    /// Raw bytes: bit i of `init` says byte i was written; bit i of `zero` that it is zero.
    Bytes { init: u8, zero: u8 },
    /// A spilled 8-byte value.
    Spill(Val),
}

const EMPTY: Slot = Slot::Bytes { init: 0, zero: 0 };

/// Why a stack read failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StackError {
    /// The byte at this frame offset may be uninitialised.
    Uninit(i64),
    /// The byte at this offset belongs to a spilled pointer and is read as a number.
    PointerBytes(i64),
}

/// A frame's stack.
#[derive(Clone, Debug)]
pub struct Stack {
    slots: [Slot; SLOTS],
    /// Hash of `slots`, computed on demand (0: not yet); states are compared and hashed far
    /// more often than their stacks change.
    hash: Cell<u64>,
}

impl Default for Stack {
    fn default() -> Self {
        Self {
            slots: [EMPTY; SLOTS],
            hash: Cell::new(0),
        }
    }
}

impl Stack {
    fn content_hash(&self) -> u64 {
        let h = self.hash.get();
        if h != 0 {
            return h;
        }
        let mut fx = Fx::default();
        for (i, s) in self.slots.iter().enumerate() {
            match s {
                Slot::Bytes { init: 0, zero: 0 } => {}
                Slot::Bytes { init, zero } => {
                    fx.write_u64((i as u64) << 16 | u64::from(*init) << 8 | u64::from(*zero));
                }
                Slot::Spill(v) => {
                    fx.write_u64(i as u64 | 1 << 32);
                    v.hash(&mut fx);
                }
            }
        }
        let h = fx.finish().max(1);
        self.hash.set(h);
        h
    }
}

impl PartialEq for Stack {
    fn eq(&self, o: &Self) -> bool {
        let (a, b) = (self.hash.get(), o.hash.get());
        if a != 0 && b != 0 && a != b {
            return false;
        }
        self.slots == o.slots
    }
}

impl Eq for Stack {}

impl Hash for Stack {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.content_hash());
    }
}

fn const_bytes(v: &Val) -> Option<u64> {
    v.scalar().and_then(Scalar::as_const)
}

fn zero_mask(v: u64) -> u8 {
    (0..8)
        .filter(|i| (v >> (8 * i)) & 0xff == 0)
        .fold(0u8, |m, i| m | (1 << i))
}

impl Slot {
    fn to_bytes(self) -> (u8, u8) {
        match self {
            Slot::Bytes { init, zero } => (init, zero),
            Slot::Spill(v) => match const_bytes(&v) {
                Some(c) => (0xff, zero_mask(c)),
                None if v.scalar().is_some() => (0xff, 0),
                None => (0, 0),
            },
        }
    }
}

impl Stack {
    /// A fresh, uninitialised stack.
    #[must_use]
    pub fn new() -> Rc<Self> {
        Rc::new(Self::default())
    }

    /// The slot holding byte `off` (`0 <= off < 512`).
    fn slot(&self, off: i64) -> &Slot {
        &self.slots[(off as usize / 8).min(SLOTS - 1)]
    }

    /// Reads `size` bytes at a start offset in `[lo, hi]` (bounds already checked).
    /// `ptr_bytes_ok`: whether bytes of spilled pointers may be read as numbers (privileged).
    ///
    /// # Errors
    /// The first byte that is uninitialised or part of a pointer.
    pub fn read(&self, lo: i64, hi: i64, size: u8, ptr_bytes_ok: bool) -> Result<Val, StackError> {
        let size_i = i64::from(size);
        if lo == hi && lo % 8 == 0 && size == 8 {
            if let Slot::Spill(v) = self.slot(lo) {
                return Ok(*v);
            }
        }
        let mut all_zero = true;
        for b in lo..hi + size_i {
            let s = self.slot(b);
            let bit = 1u8 << (b % 8);
            if let Slot::Spill(v) = s {
                if v.is_pointer() && !ptr_bytes_ok {
                    return Err(StackError::PointerBytes(b));
                }
            }
            let (init, zero) = match s {
                Slot::Spill(v) if v.is_pointer() => (0xff, 0),
                other => other.to_bytes(),
            };
            if init & bit == 0 {
                return Err(StackError::Uninit(b));
            }
            all_zero &= zero & bit != 0;
        }
        if all_zero {
            return Ok(Val::constant(0));
        }
        if lo == hi && lo / 8 == (lo + size_i - 1) / 8 {
            if let Slot::Spill(v) = self.slot(lo) {
                if let Some(c) = const_bytes(v) {
                    let shifted = c >> (8 * (lo % 8));
                    let m = if size == 8 {
                        u64::MAX
                    } else {
                        (1u64 << (8 * size_i)) - 1
                    };
                    return Ok(Val::constant(shifted & m));
                }
            }
        }
        let max = if size == 8 {
            u64::MAX
        } else {
            (1u64 << (8 * size_i)) - 1
        };
        Ok(Val::Scalar(Scalar::urange(0, max)))
    }

    /// Writes `val` (`size` bytes) at a start offset in `[lo, hi]` (bounds already checked).
    pub fn write(&mut self, lo: i64, hi: i64, size: u8, val: &Val) {
        self.hash.set(0);
        let size_i = i64::from(size);
        if lo == hi && lo % 8 == 0 && size == 8 && val.is_init() {
            self.slots[(lo / 8) as usize] = Slot::Spill(*val);
            return;
        }
        let exact = lo == hi;
        let c = const_bytes(val);
        let uninit = !val.is_init();
        for b in lo..hi + size_i {
            let i = (b / 8) as usize;
            if i >= SLOTS {
                break;
            }
            let (mut init, mut zero) = self.slots[i].to_bytes();
            let bit = 1u8 << (b % 8);
            if uninit {
                if exact {
                    init &= !bit;
                }
                zero &= !bit;
            } else if exact {
                init |= bit;
                let byte = c.map(|c| (c >> (8 * (b - lo))) & 0xff);
                if byte == Some(0) {
                    zero |= bit;
                } else {
                    zero &= !bit;
                }
            } else {
                zero &= !bit;
            }
            self.slots[i] = Slot::Bytes { init, zero };
        }
        if exact {
            self.narrow_to_spill(lo, size, val);
        }
    }

    /// After an exact narrow store of a number into one slot whose other bytes are zero, the
    /// slot holds the number itself (truncated to the store and shifted to its place, little
    /// endian): keep it as a spill, so that an 8-byte read gets the number back instead of any
    /// 64-bit value (a `u32` written into a zeroed `u64`).
    fn narrow_to_spill(&mut self, lo: i64, size: u8, val: &Val) {
        let size_i = i64::from(size);
        let Some(v) = val.scalar() else { return };
        if size >= 8 || lo / 8 != (lo + size_i - 1) / 8 {
            return;
        }
        let i = (lo / 8) as usize;
        let Some(Slot::Bytes { init, zero }) = self.slots.get(i).copied() else {
            return;
        };
        let written = (((1u16 << size) - 1) << (lo % 8)) as u8;
        if init != 0xff || zero | written != 0xff {
            return;
        }
        let mask = Scalar::constant((1u64 << (8 * size_i)) - 1);
        let low = scalar_ops::alu(AluOp::And, Width::W64, v, &mask);
        let shift = Scalar::constant(8 * (lo % 8) as u64);
        let placed = scalar_ops::alu(AluOp::Lsh, Width::W64, &low, &shift);
        self.slots[i] = Slot::Spill(Val::Scalar(placed));
    }

    /// An 8-byte store of `val` at a variable start in `[lo, hi]`, every possible start a
    /// multiple of 8: each slot in range keeps its value or takes `val`, so it holds their
    /// join (the bytes view, which forgets both values, when the join is not a spill).
    pub fn write_one_of(&mut self, lo: i64, hi: i64, val: &Val) {
        if lo % 8 != 0 || hi % 8 != 0 || !val.is_init() || lo < 0 || hi + 8 > FRAME {
            self.write(lo, hi, 8, val);
            return;
        }
        self.hash.set(0);
        for i in (lo / 8) as usize..=(hi / 8) as usize {
            let old = match self.slots[i] {
                Slot::Spill(v) => Some(v),
                Slot::Bytes {
                    init: 0xff,
                    zero: 0xff,
                } => Some(Val::constant(0)),
                Slot::Bytes { .. } => None,
            };
            // A possibly-null pointer joined with the slot's old 0 (or the reverse) cannot share
            // the null id of the other copies: the slot may hold the 0 while they hold the
            // pointer, so its null test must refine it alone (and release nothing).
            let anon = |j: Val, o: &Val| match j {
                Val::Ptr(p)
                    if p.null.is_some() && (o.scalar().is_some() || val.scalar().is_some()) =>
                {
                    Val::Ptr(super::value::Ptr {
                        null: Some(super::value::ANON_NULL),
                        ..p
                    })
                }
                other => other,
            };
            let joined = old.map(|o| anon(o.join(val), &o)).filter(Val::is_init);
            self.slots[i] = match joined {
                Some(j) => Slot::Spill(j),
                // Old bytes stay initialised where they were; their values are forgotten.
                None => Slot::Bytes {
                    init: self.slots[i].to_bytes().0,
                    zero: 0,
                },
            };
        }
    }

    /// A helper wrote unknown bytes: `[lo, lo + min_len)` surely, up to `lo + max_len` maybe.
    pub fn havoc(&mut self, lo: i64, min_len: i64, max_len: i64) {
        self.hash.set(0);
        for b in lo.max(0)..(lo + max_len).min(FRAME) {
            let i = (b / 8) as usize;
            let (mut init, mut zero) = self.slots[i].to_bytes();
            let bit = 1u8 << (b % 8);
            if b < lo + min_len {
                init |= bit;
            }
            zero &= !bit;
            self.slots[i] = Slot::Bytes { init, zero };
        }
    }

    /// Whether `[lo, lo + len)` is initialised; the first offending byte otherwise.
    ///
    /// # Errors
    /// As [`Stack::read`].
    pub fn check_init(&self, lo: i64, len: i64, ptr_bytes_ok: bool) -> Result<(), StackError> {
        for b in lo..lo + len {
            let s = self.slot(b);
            if let Slot::Spill(v) = s {
                if v.is_pointer() && !ptr_bytes_ok {
                    return Err(StackError::PointerBytes(b));
                }
                continue;
            }
            if s.to_bytes().0 & (1 << (b % 8)) == 0 {
                return Err(StackError::Uninit(b));
            }
        }
        Ok(())
    }

    /// Applies `f` to every spilled value.
    pub fn map_spills(&mut self, mut f: impl FnMut(&Val) -> Val) {
        self.hash.set(0);
        for s in &mut self.slots {
            if let Slot::Spill(v) = s {
                let n = f(v);
                *s = if n.is_init() { Slot::Spill(n) } else { EMPTY };
            }
        }
    }

    /// The value spilled in slot `i` (bytes `[8i, 8i + 8)`), if the slot holds one.
    #[must_use]
    pub fn spill(&self, i: usize) -> Option<&Val> {
        match self.slots.get(i)? {
            Slot::Spill(v) => Some(v),
            Slot::Bytes { .. } => None,
        }
    }

    /// Every spilled value.
    pub fn spills(&self) -> impl Iterator<Item = (i64, &Val)> {
        self.slots.iter().enumerate().filter_map(|(i, s)| match s {
            Slot::Spill(v) => Some((i as i64 * 8, v)),
            Slot::Bytes { .. } => None,
        })
    }

    /// Slot-wise join (`widen` with thresholds when given).
    #[must_use]
    pub fn join(&self, o: &Self, th: Option<&Thresholds>) -> Self {
        self.join_by(o, |x, y| match th {
            Some(th) => x.widen(y, th),
            None => x.join(y),
        })
    }

    /// Slot-wise join, spilled values joined by `jv` (the state's join, which knows more than
    /// the two values).
    #[must_use]
    pub fn join_by(&self, o: &Self, jv: impl Fn(&Val, &Val) -> Val) -> Self {
        let mut r = Self::default();
        for (i, (a, b)) in self.slots.iter().zip(o.slots.iter()).enumerate() {
            r.slots[i] = match (a, b) {
                _ if a == b => *a,
                (Slot::Spill(x), Slot::Spill(y)) => {
                    let v = jv(x, y);
                    if v.is_init() {
                        Slot::Spill(v)
                    } else {
                        EMPTY
                    }
                }
                _ => {
                    let (ia, za) = a.to_bytes();
                    let (ib, zb) = b.to_bytes();
                    Slot::Bytes {
                        init: ia & ib,
                        zero: za & zb,
                    }
                }
            };
        }
        r
    }

    /// Text of the initialised slots.
    #[must_use]
    pub fn describe(&self) -> String {
        let mut out = String::new();
        for (i, s) in self.slots.iter().enumerate() {
            let off = i as i64 * 8 - FRAME;
            match s {
                Slot::Spill(v) => out.push_str(&format!(" [{off}]={v}")),
                Slot::Bytes { init: 0, .. } => {}
                Slot::Bytes { init, zero } => out.push_str(&format!(
                    " [{off}]=bytes(init {init:#04x} zero {zero:#04x})"
                )),
            }
        }
        out
    }
}
