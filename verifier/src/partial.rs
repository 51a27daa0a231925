//! Partial proofs for checked mode: an analysis that never rejects a program for an access it
//! cannot prove.
//!
//! In checked mode every load, store and atomic is checked against the run's region table (and
//! atomics for alignment): an access that fails the check ends the run with a fault. So an
//! access the analysis cannot prove can stay a run-time check, and the analysis may go on from
//! the states in which that check *passed*. What it knows there is little: the address lay in
//! *some* region that permits the access — any region of the table, not necessarily the one the
//! pointer's type names (stack, input, packet and map regions are all reachable from an
//! out-of-bounds offset). So the post-state of an unproven access is the pre-state with:
//!
//! - a load: the destination register is any number;
//! - a store or atomic: every memory fact the state holds about memory the access may have
//!   written is forgotten ([`forget_memory`]): every live frame's stack becomes initialised
//!   bytes of unknown value (a spilled pointer or bound overwritten by the checked store must no
//!   longer be trusted), packet guards kept in spill slots are dropped, and the run's context is
//!   no longer trusted: its `data`/`data_end`/`data_meta` fields (the checked engines let a
//!   program write its whole context copy, it is the input region) then load as numbers, not as
//!   packet pointers ([`Mode::ctx_untrusted`], flow-insensitive: the analysis is run again with
//!   it when the first run saw an unproven write); an atomic's fetched register is any number.
//!
//! Map value, input, packet and ring-buffer *contents* are not tracked by the analysis (a load
//! from them is any number of its size), so nothing about them needs forgetting.
//!
//! Why this is sound: a proven access is one proven for every state that reaches it, and
//! these post-states include every concrete state a checked run can be in after the access
//! passes its check. Only the reasons [`runtime_checked`] lists become "unproven": each is a
//! property of the address (or, for atomics, its alignment) that the checked engines test
//! before the access. Every other reason (type errors the engines do not check, helper
//! arguments, unknown helpers, limits) still rejects the analysis, and the program then runs
//! fully checked, as without this mode. Termination is not required (the instruction budget
//! ends a run that does not stop), and the ascending iterations do not narrow pointers to the
//! accesses they check ([`crate::transfer::assume`]): the final pass, which no longer fails at
//! those accesses, would not re-check such an assumption.
//!
//! The facts are those of verified mode (`1`: proven inside a region that permits it) and are
//! run the same way: unchecked but confined to the sandbox window, so even a wrong proof stays
//! in the instance's memory.

use apiary_vm::instruction::Reg;

use crate::domain::pkt_guard::SLOTS_AT;
use crate::domain::stack::FRAME;
use crate::domain::{State, Val};
use crate::error::RejectReason;

/// The analysis mode of a partial verification.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Mode {
    /// The context may have been written by an unproven store: its packet fields load as
    /// numbers.
    pub ctx_untrusted: bool,
}

/// Whether a failed access check with `reason` is one the checked engines make at run time
/// (so the access can stay checked and the analysis go on).
#[must_use]
pub fn runtime_checked(reason: &RejectReason) -> bool {
    match reason {
        // The address: not a pointer, possibly null, outside its region, not writable, a
        // context offset the type does not define, a stale frame. The region table decides.
        RejectReason::UninitRegister { .. }
        | RejectReason::InvalidType { .. }
        | RejectReason::OutOfBounds { .. }
        | RejectReason::NullDereference { .. }
        | RejectReason::ReadOnly { .. }
        | RejectReason::CtxAccess { .. }
        // The bytes read are uninitialised: the address is checked, the value any number.
        | RejectReason::UninitStack { .. } => true,
        // Atomics: alignment and the region (the table's permission) are checked at run time;
        // an operand that is a pointer, or a width other than 4 or 8, is not.
        RejectReason::Atomic { detail } => {
            detail.starts_with("offset not naturally aligned") || detail.starts_with("atomic on")
        }
        _ => false,
    }
}

/// Whether `r`, the result of an access's checks, fails in a way a partial analysis leaves to
/// the run-time check.
#[must_use]
pub fn stays_checked<T>(env: &crate::transfer::Env<'_>, r: &Result<T, RejectReason>) -> bool {
    env.partial.is_some() && matches!(r, Err(e) if runtime_checked(e))
}

/// After a load that stays checked: `dst` is any number, related to nothing.
pub fn unproven_load(s: &mut State, dst: Reg) {
    s.regs[dst.index()] = Val::TOP;
    forget_register(s, dst);
}

/// Forgets every fact that ties register `r` to another place (relations, symbols, guards).
pub fn forget_register(s: &mut State, r: Reg) {
    let n = r.number();
    s.rels.retain(|x| x.a != n && x.b != n);
    s.syms[r.index()] = None;
    s.guards.retain(|g| g.at != u16::from(n));
}

/// After a store, atomic or helper write that stays checked and may have hit any memory of the
/// run: every live frame's stack is initialised bytes of unknown value, and no packet guard
/// lives in a spill slot.
pub fn forget_memory(s: &mut State) {
    for f in 0..s.frames.len() {
        if let Some(st) = u8::try_from(f).ok().and_then(|f| s.stack_mut(f)) {
            st.havoc(0, FRAME, FRAME);
        }
    }
    s.guards.retain(|g| g.at < SLOTS_AT);
}
