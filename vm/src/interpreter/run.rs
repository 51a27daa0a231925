//! The run loop: one `match` on the lowered op code (a jump table), and the atomics.

use std::mem::MaybeUninit;
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::fault::{Access, Fault, HelperError};
use crate::helpers::{HelperContext, HelperFn};
use crate::instruction::{AluOp, ByteOrder, Cond, Width};
use crate::memory::{RegionTable, FRAME_SIZE, MAX_FRAMES};
use crate::racy;
use crate::semantics::{alu32, alu64, condition, endian};

use super::ops::*;
use super::{Callbacks, Entry, Interpreter};

/// A saved caller frame.
#[derive(Clone, Copy)]
pub(super) struct Frame {
    pub(super) return_pc: usize,
    pub(super) saved: [u64; 4],
}

impl Interpreter {
    /// The run loop. `METER` selects counting; `budget` is only consulted when metering.
    #[allow(clippy::too_many_lines)]
    pub(super) fn execute<const METER: bool>(
        &self,
        mem: &RegionTable<'_>,
        budget: u64,
        entry: Entry<'_>,
        cb: Option<&Callbacks<'_>>,
    ) -> (Result<u64, Fault>, u64) {
        // Legacy packet loads read the packet (the input unless the state names another).
        let packet = mem.packet();
        // The register file is the caller's (no copy in or out at a run's start).
        let regs = entry.regs;
        // Uninitialised: a slot is written by the call that enters it before the matching exit
        // reads it, so a run pays nothing for frames it never uses.
        let mut frames = [const { MaybeUninit::<Frame>::uninit() }; MAX_FRAMES];
        let base = entry.depth;
        let mut depth = 0usize;
        let mut count = entry.count;
        let ops = &self.ops[..];
        // `ops` ends with `seal`'s sentinel, so it is never empty; an entry past it (never made:
        // entries are slot 0 or a function start) runs the sentinel, which faults.
        let start = ops.as_ptr();
        // The next op to run. A pointer rather than an index: the fetch is then one load, with
        // no bounds check (see the SAFETY note at the fetch); every pointer step is a
        // `wrapping_add`, so only the fetch itself is unsafe.
        let mut ip = start.wrapping_add(entry.pc.min(ops.len() - 1));
        // The slot index of the op being run (`ip` has moved past it), for faults and frames.
        macro_rules! here {
            () => {
                (ip as usize - start as usize) / size_of::<Op>() - 1
            };
        }

        macro_rules! fault {
            ($f:expr) => {
                return (Err($f), count)
            };
        }
        macro_rules! addr {
            ($base:expr, $off:expr) => {
                regs[reg($base)].wrapping_add($off)
            };
        }
        let confine = self.confine;
        // A proven access is confined (identity outside sandboxed mode); others are checked.
        macro_rules! check {
            ($proven:expr, $addr:ident, $len:expr, $access:expr) => {
                if $proven {
                    $addr = confine.apply($addr);
                } else if !mem.check($addr, $len, $access) {
                    fault!(Fault::OutOfBounds {
                        pc: here!(),
                        addr: $addr,
                        len: $len as u8,
                        access: $access
                    });
                }
            };
        }
        macro_rules! load {
            ($f:ident, $size:expr, $op:expr) => {{
                let mut a = addr!($op.src, $op.off());
                check!($op.aux & PROVEN != 0, a, $size, Access::Read);
                // SAFETY: `check` proved `[a, a + size)` lies in a readable region (or, in
                // verified mode, the verifier did: the contract of `with_facts`; sandboxed, `a`
                // was confined into the window, mapped read-write whole: the contract of
                // `with_facts_confined`); by the region table's contract (memory.rs) that is live
                // memory no Rust reference touches now.
                // Programs on other threads may write it (shared maps), so the load is a
                // racy-tolerant atomic one (`crate::racy`).
                unsafe { racy::$f(a as *const u8) }
            }};
        }
        macro_rules! store {
            ($f:ident, $ty:ty, $op:expr, $v:expr) => {{
                let mut a = addr!($op.dst, $op.off());
                check!(
                    $op.aux & PROVEN != 0,
                    a,
                    std::mem::size_of::<$ty>() as u64,
                    Access::Write
                );
                // SAFETY: as for `load!`, and the region is writable.
                unsafe { racy::$f(a as *mut u8, $v as $ty) }
            }};
        }
        macro_rules! alu64i {
            ($o:ident, $op:expr) => {
                regs[reg($op.dst)] = alu64(AluOp::$o, regs[reg($op.dst)], $op.imm)
            };
        }
        macro_rules! alu64r {
            ($o:ident, $op:expr) => {
                regs[reg($op.dst)] = alu64(AluOp::$o, regs[reg($op.dst)], regs[reg($op.src)])
            };
        }
        macro_rules! alu32i {
            ($o:ident, $op:expr) => {
                regs[reg($op.dst)] =
                    u64::from(alu32(AluOp::$o, regs[reg($op.dst)] as u32, $op.imm as u32))
            };
        }
        macro_rules! alu32r {
            ($o:ident, $op:expr) => {
                regs[reg($op.dst)] = u64::from(alu32(
                    AluOp::$o,
                    regs[reg($op.dst)] as u32,
                    regs[reg($op.src)] as u32,
                ))
            };
        }
        macro_rules! branch {
            ($op:expr) => {{
                if METER && $op.aux != 0 && count > budget {
                    fault!(Fault::BudgetExhausted {
                        pc: here!(),
                        budget
                    });
                }
                ip = start.wrapping_add($op.target());
            }};
        }
        macro_rules! jmp {
            ($c:ident, $w:ident, imm, $op:expr) => {
                if condition(Cond::$c, Width::$w, regs[reg($op.dst)], $op.imm) {
                    branch!($op)
                }
            };
            ($c:ident, $w:ident, reg, $op:expr) => {
                if condition(Cond::$c, Width::$w, regs[reg($op.dst)], regs[reg($op.src)]) {
                    branch!($op)
                }
            };
        }

        loop {
            // SAFETY: `ip` points at one of `ops` (`start + i`, `i < ops.len()`) on every
            // iteration: on entry (clamped above); after an op that falls through, because the
            // sentinel `seal` appended is the last op and never falls through (it faults), so
            // `i + 1 <= ops.len() - 1`; after an `lddw` (`i + 2`), because `seal` turned any
            // `lddw` in the last real slot into the sentinel; after a jump or local call,
            // because `seal` sent every target past the real slots to the sentinel; after an
            // exit, because the return slot follows a local call, which is not the sentinel.
            // `ops` is borrowed, unmodified, for the whole run.
            let op = unsafe { &*ip };
            ip = ip.wrapping_add(1);
            if METER {
                count += 1;
            }
            match op.code {
                Code::Add64I => alu64i!(Add, op),
                Code::Add64R => alu64r!(Add, op),
                Code::Sub64I => alu64i!(Sub, op),
                Code::Sub64R => alu64r!(Sub, op),
                Code::Mul64I => alu64i!(Mul, op),
                Code::Mul64R => alu64r!(Mul, op),
                Code::Div64I => alu64i!(Div, op),
                Code::Div64R => alu64r!(Div, op),
                Code::Sdiv64I => alu64i!(Sdiv, op),
                Code::Sdiv64R => alu64r!(Sdiv, op),
                Code::Or64I => alu64i!(Or, op),
                Code::Or64R => alu64r!(Or, op),
                Code::And64I => alu64i!(And, op),
                Code::And64R => alu64r!(And, op),
                Code::Lsh64I => alu64i!(Lsh, op),
                Code::Lsh64R => alu64r!(Lsh, op),
                Code::Rsh64I => alu64i!(Rsh, op),
                Code::Rsh64R => alu64r!(Rsh, op),
                Code::Mod64I => alu64i!(Mod, op),
                Code::Mod64R => alu64r!(Mod, op),
                Code::Smod64I => alu64i!(Smod, op),
                Code::Smod64R => alu64r!(Smod, op),
                Code::Xor64I => alu64i!(Xor, op),
                Code::Xor64R => alu64r!(Xor, op),
                Code::Mov64I => regs[reg(op.dst)] = op.imm,
                Code::Mov64R => regs[reg(op.dst)] = regs[reg(op.src)],
                Code::Arsh64I => alu64i!(Arsh, op),
                Code::Arsh64R => alu64r!(Arsh, op),
                Code::Movsx64 => {
                    regs[reg(op.dst)] = alu64(AluOp::Movsx(op.aux), 0, regs[reg(op.src)]);
                }
                Code::Add32I => alu32i!(Add, op),
                Code::Add32R => alu32r!(Add, op),
                Code::Sub32I => alu32i!(Sub, op),
                Code::Sub32R => alu32r!(Sub, op),
                Code::Mul32I => alu32i!(Mul, op),
                Code::Mul32R => alu32r!(Mul, op),
                Code::Div32I => alu32i!(Div, op),
                Code::Div32R => alu32r!(Div, op),
                Code::Sdiv32I => alu32i!(Sdiv, op),
                Code::Sdiv32R => alu32r!(Sdiv, op),
                Code::Or32I => alu32i!(Or, op),
                Code::Or32R => alu32r!(Or, op),
                Code::And32I => alu32i!(And, op),
                Code::And32R => alu32r!(And, op),
                Code::Lsh32I => alu32i!(Lsh, op),
                Code::Lsh32R => alu32r!(Lsh, op),
                Code::Rsh32I => alu32i!(Rsh, op),
                Code::Rsh32R => alu32r!(Rsh, op),
                Code::Mod32I => alu32i!(Mod, op),
                Code::Mod32R => alu32r!(Mod, op),
                Code::Smod32I => alu32i!(Smod, op),
                Code::Smod32R => alu32r!(Smod, op),
                Code::Xor32I => alu32i!(Xor, op),
                Code::Xor32R => alu32r!(Xor, op),
                Code::Mov32I => regs[reg(op.dst)] = op.imm,
                Code::Mov32R => regs[reg(op.dst)] = u64::from(regs[reg(op.src)] as u32),
                Code::Arsh32I => alu32i!(Arsh, op),
                Code::Arsh32R => alu32r!(Arsh, op),
                Code::Movsx32 => {
                    regs[reg(op.dst)] =
                        u64::from(alu32(AluOp::Movsx(op.aux), 0, regs[reg(op.src)] as u32));
                }
                Code::Neg64 => regs[reg(op.dst)] = regs[reg(op.dst)].wrapping_neg(),
                Code::Neg32 => {
                    regs[reg(op.dst)] = u64::from((regs[reg(op.dst)] as u32).wrapping_neg())
                }
                Code::Trunc16 => regs[reg(op.dst)] = endian(ByteOrder::ToLe, 16, regs[reg(op.dst)]),
                Code::Trunc32 => regs[reg(op.dst)] = endian(ByteOrder::ToLe, 32, regs[reg(op.dst)]),
                Code::Swap16 => {
                    regs[reg(op.dst)] = u64::from((regs[reg(op.dst)] as u16).swap_bytes())
                }
                Code::Swap32 => {
                    regs[reg(op.dst)] = u64::from((regs[reg(op.dst)] as u32).swap_bytes())
                }
                Code::Swap64 => regs[reg(op.dst)] = regs[reg(op.dst)].swap_bytes(),
                Code::Nop => {}
                Code::LdxB => regs[reg(op.dst)] = u64::from(load!(load_u8, 1, op)),
                Code::LdxH => regs[reg(op.dst)] = u64::from(load!(load_u16, 2, op)),
                Code::LdxW => regs[reg(op.dst)] = u64::from(load!(load_u32, 4, op)),
                Code::LdxDW => regs[reg(op.dst)] = load!(load_u64, 8, op),
                Code::LdxsB => regs[reg(op.dst)] = load!(load_u8, 1, op) as i8 as i64 as u64,
                Code::LdxsH => regs[reg(op.dst)] = load!(load_u16, 2, op) as i16 as i64 as u64,
                Code::LdxsW => regs[reg(op.dst)] = load!(load_u32, 4, op) as i32 as i64 as u64,
                Code::StB => store!(store_u8, u8, op, op.imm),
                Code::StH => store!(store_u16, u16, op, op.imm),
                Code::StW => store!(store_u32, u32, op, op.imm),
                Code::StDW => store!(store_u64, u64, op, op.imm),
                Code::StxB => store!(store_u8, u8, op, regs[reg(op.src)]),
                Code::StxH => store!(store_u16, u16, op, regs[reg(op.src)]),
                Code::StxW => store!(store_u32, u32, op, regs[reg(op.src)]),
                Code::StxDW => store!(store_u64, u64, op, regs[reg(op.src)]),
                Code::Atomic32 | Code::Atomic64 => {
                    let wide = op.code == Code::Atomic64;
                    let len: u8 = if wide { 8 } else { 4 };
                    let mut a = addr!(op.dst, op.off());
                    check!(
                        op.aux & ATOMIC_PROVEN != 0,
                        a,
                        u64::from(len),
                        Access::Write
                    );
                    if a & (u64::from(len) - 1) != 0 {
                        fault!(Fault::MisalignedAtomic {
                            pc: here!(),
                            addr: a,
                            len
                        });
                    }
                    let src = regs[reg(op.src)];
                    let old = if wide {
                        // SAFETY: `[a, a + 8)` is in a writable region (checked above) and 8-aligned.
                        unsafe { atomic64(a, op.aux, src, regs[0]) }
                    } else {
                        // SAFETY: `[a, a + 4)` is in a writable region (checked above) and 4-aligned.
                        unsafe { u64::from(atomic32(a, op.aux, src as u32, regs[0] as u32)) }
                    };
                    if op.aux & ATOMIC_OP == 5 {
                        regs[0] = old;
                    } else if op.aux & ATOMIC_FETCH != 0 {
                        regs[reg(op.src)] = old;
                    }
                }
                Code::LoadImm => {
                    regs[reg(op.dst)] = op.imm;
                    // The second slot is part of this instruction: skip it (an lddw counts one).
                    ip = ip.wrapping_add(1);
                }
                Code::LdAbs | Code::LdInd => {
                    let base = if op.code == Code::LdInd {
                        regs[reg(op.src)] as u32
                    } else {
                        0
                    };
                    let offset = u64::from(base.wrapping_add(op.imm as u32));
                    let len = u64::from(op.aux);
                    if packet.len < len || offset > packet.len - len {
                        // Linux: an out-of-bounds packet load ends the program with r0 = 0.
                        return (Ok(0), count);
                    }
                    let a = packet.start + offset;
                    // SAFETY: `[a, a + len)` lies inside the packet region (tested just above):
                    // the input, or a packet set through the unsafe `ExecState::set_packet`,
                    // whose caller promised the region contract for the run.
                    regs[0] = unsafe {
                        match op.aux {
                            1 => u64::from(racy::load_u8(a as *const u8)),
                            2 => u64::from(u16::from_be(racy::load_u16(a as *const u8))),
                            _ => u64::from(u32::from_be(racy::load_u32(a as *const u8))),
                        }
                    };
                }
                Code::Ja => branch!(op),
                Code::Jeq64I => jmp!(Eq, W64, imm, op),
                Code::Jeq64R => jmp!(Eq, W64, reg, op),
                Code::Jgt64I => jmp!(Gt, W64, imm, op),
                Code::Jgt64R => jmp!(Gt, W64, reg, op),
                Code::Jge64I => jmp!(Ge, W64, imm, op),
                Code::Jge64R => jmp!(Ge, W64, reg, op),
                Code::Jset64I => jmp!(Set, W64, imm, op),
                Code::Jset64R => jmp!(Set, W64, reg, op),
                Code::Jne64I => jmp!(Ne, W64, imm, op),
                Code::Jne64R => jmp!(Ne, W64, reg, op),
                Code::Jsgt64I => jmp!(Sgt, W64, imm, op),
                Code::Jsgt64R => jmp!(Sgt, W64, reg, op),
                Code::Jsge64I => jmp!(Sge, W64, imm, op),
                Code::Jsge64R => jmp!(Sge, W64, reg, op),
                Code::Jlt64I => jmp!(Lt, W64, imm, op),
                Code::Jlt64R => jmp!(Lt, W64, reg, op),
                Code::Jle64I => jmp!(Le, W64, imm, op),
                Code::Jle64R => jmp!(Le, W64, reg, op),
                Code::Jslt64I => jmp!(Slt, W64, imm, op),
                Code::Jslt64R => jmp!(Slt, W64, reg, op),
                Code::Jsle64I => jmp!(Sle, W64, imm, op),
                Code::Jsle64R => jmp!(Sle, W64, reg, op),
                Code::Jeq32I => jmp!(Eq, W32, imm, op),
                Code::Jeq32R => jmp!(Eq, W32, reg, op),
                Code::Jgt32I => jmp!(Gt, W32, imm, op),
                Code::Jgt32R => jmp!(Gt, W32, reg, op),
                Code::Jge32I => jmp!(Ge, W32, imm, op),
                Code::Jge32R => jmp!(Ge, W32, reg, op),
                Code::Jset32I => jmp!(Set, W32, imm, op),
                Code::Jset32R => jmp!(Set, W32, reg, op),
                Code::Jne32I => jmp!(Ne, W32, imm, op),
                Code::Jne32R => jmp!(Ne, W32, reg, op),
                Code::Jsgt32I => jmp!(Sgt, W32, imm, op),
                Code::Jsgt32R => jmp!(Sgt, W32, reg, op),
                Code::Jsge32I => jmp!(Sge, W32, imm, op),
                Code::Jsge32R => jmp!(Sge, W32, reg, op),
                Code::Jlt32I => jmp!(Lt, W32, imm, op),
                Code::Jlt32R => jmp!(Lt, W32, reg, op),
                Code::Jle32I => jmp!(Le, W32, imm, op),
                Code::Jle32R => jmp!(Le, W32, reg, op),
                Code::Jslt32I => jmp!(Slt, W32, imm, op),
                Code::Jslt32R => jmp!(Slt, W32, reg, op),
                Code::Jsle32I => jmp!(Sle, W32, imm, op),
                Code::Jsle32R => jmp!(Sle, W32, reg, op),
                Code::Call => {
                    let (id, ref func) = self.helpers[op.imm as usize];
                    if let Some(cb) = cb {
                        cb.enter(base + depth, regs[10], count, here!());
                    }
                    let result = self.call_helper(mem, &**func, id, regs, here!(), cb);
                    if let (true, Some(cb)) = (METER, cb) {
                        count = cb.count.get();
                    }
                    match result {
                        Ok((r0, None)) => regs[0] = r0,
                        Ok((_, Some(stop))) => return (Ok(stop), count),
                        Err(f) => fault!(f),
                    }
                }
                Code::CallPlain => {
                    // A plain helper cannot fail, stop the run or call back: no context, no
                    // panic catching (it must not panic; see `PlainHelperFn`).
                    let f = self.plain[op.imm as usize];
                    regs[0] = f(regs[1], regs[2], regs[3], regs[4], regs[5]);
                }
                Code::CallX => {
                    if METER && count > budget {
                        fault!(Fault::BudgetExhausted {
                            pc: here!(),
                            budget
                        });
                    }
                    let id = regs[reg(op.dst)];
                    let Some(helper) = u32::try_from(id).ok().and_then(|id| self.table.get(id))
                    else {
                        fault!(Fault::UnknownHelper { pc: here!(), id });
                    };
                    if let Some(cb) = cb {
                        cb.enter(base + depth, regs[10], count, here!());
                    }
                    let result = self.call_helper(mem, &*helper.func, helper.id, regs, here!(), cb);
                    if let (true, Some(cb)) = (METER, cb) {
                        count = cb.count.get();
                    }
                    match result {
                        Ok((r0, None)) => regs[0] = r0,
                        Ok((_, Some(stop))) => return (Ok(stop), count),
                        Err(f) => fault!(f),
                    }
                }
                Code::CallLocal => {
                    if METER && count > budget {
                        fault!(Fault::BudgetExhausted {
                            pc: here!(),
                            budget
                        });
                    }
                    if base + depth + 1 >= MAX_FRAMES {
                        fault!(Fault::CallDepthExceeded {
                            pc: here!(),
                            max: MAX_FRAMES
                        });
                    }
                    frames[depth].write(Frame {
                        return_pc: here!() + 1,
                        saved: [regs[6], regs[7], regs[8], regs[9]],
                    });
                    depth += 1;
                    regs[10] -= FRAME_SIZE as u64;
                    ip = start.wrapping_add(op.target());
                }
                Code::Exit => {
                    if depth == 0 {
                        return (Ok(regs[0]), count);
                    }
                    depth -= 1;
                    // SAFETY: `depth` was just decremented from a level entered by `CallLocal`,
                    // which wrote `frames[depth]` before raising `depth` past it.
                    let f = unsafe { frames[depth].assume_init() };
                    regs[6..10].copy_from_slice(&f.saved);
                    regs[10] += FRAME_SIZE as u64;
                    ip = start.wrapping_add(f.return_pc);
                }
                Code::Fault => {
                    fault!(Fault::Unsupported {
                        pc: here!(),
                        what: self.unsupported[op.imm as usize]
                    });
                }
            }
        }
    }

    /// Calls a helper with r1–r5, catching panics. Returns r0 and a stop request.
    #[inline(never)]
    pub(super) fn call_helper(
        &self,
        mem: &RegionTable<'_>,
        func: &HelperFn,
        id: u32,
        regs: &[u64; 16],
        pc: usize,
        cb: Option<&Callbacks<'_>>,
    ) -> Result<(u64, Option<u64>), Fault> {
        let mut ctx = HelperContext::new(mem);
        let args = [regs[1], regs[2], regs[3], regs[4], regs[5]];
        match catch_unwind(AssertUnwindSafe(|| func(&mut ctx, args))) {
            Ok(Ok(r0)) => Ok((r0, ctx.stop_requested())),
            Ok(Err(HelperError::CallbackFailed)) if cb.is_some() => {
                Err(cb.and_then(|c| c.fault.take()).unwrap_or(Fault::Helper {
                    pc,
                    id,
                    error: HelperError::CallbackFailed,
                }))
            }
            Ok(Err(error)) => Err(Fault::Helper { pc, id, error }),
            Err(_) => Err(Fault::HelperPanicked { pc, id }),
        }
    }
}

/// Performs a 64-bit atomic operation (code from [`atomic_code`]) and returns the old value.
///
/// # Safety
/// `addr` must be 8-aligned and point to 8 writable bytes that are only accessed atomically or
/// by this run for the duration of the call.
pub(super) unsafe fn atomic64(addr: u64, code: u8, src: u64, r0: u64) -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
    // SAFETY: guaranteed by the caller (aligned, live, writable).
    let cell = unsafe { AtomicU64::from_ptr(addr as *mut u64) };
    match code & ATOMIC_OP {
        0 => cell.fetch_add(src, SeqCst),
        1 => cell.fetch_or(src, SeqCst),
        2 => cell.fetch_and(src, SeqCst),
        3 => cell.fetch_xor(src, SeqCst),
        4 => cell.swap(src, SeqCst),
        _ => cell
            .compare_exchange(r0, src, SeqCst, SeqCst)
            .unwrap_or_else(|v| v),
    }
}

/// Performs a 32-bit atomic operation and returns the old value.
///
/// # Safety
/// As [`atomic64`], with 4-byte alignment and size.
pub(super) unsafe fn atomic32(addr: u64, code: u8, src: u32, r0: u32) -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
    // SAFETY: guaranteed by the caller (aligned, live, writable).
    let cell = unsafe { AtomicU32::from_ptr(addr as *mut u32) };
    match code & ATOMIC_OP {
        0 => cell.fetch_add(src, SeqCst),
        1 => cell.fetch_or(src, SeqCst),
        2 => cell.fetch_and(src, SeqCst),
        3 => cell.fetch_xor(src, SeqCst),
        4 => cell.swap(src, SeqCst),
        _ => cell
            .compare_exchange(r0, src, SeqCst, SeqCst)
            .unwrap_or_else(|v| v),
    }
}
