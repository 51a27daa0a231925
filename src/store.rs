//! [`Store`]: the per-thread state of runs on one [`Instance`].
//!
//! A store holds what a run mutates: the [`ExecState`] (stack, worker slot, packet frame,
//! tail-call bookkeeping) and, for packet programs, a context buffer leased from the instance
//! (see [`crate::instance`]; it goes back to the instance when the store is dropped). A store
//! is `Send` (move it to the thread that runs) and used by one run at a time (`&mut`); the
//! instance it came from is shared.

use std::fmt;
use std::sync::Arc;

use apiary_vm::{ExecState, Outcome, Redirect};

use crate::context::{struct_context, ContextBuffer, ContextKind};
use crate::error::ObjectError;
use crate::instance::{Instance, InstanceInner};
use crate::module::ProgramId;

/// The execution state of one thread's runs on one instance.
pub struct Store {
    state: ExecState,
    buffer: Option<ContextBuffer>,
    // Last: keeps the instance (and the pool the buffer returns to) alive.
    instance: Arc<InstanceInner>,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("slot", &self.state.control().slot())
            .field("context_buffer", &self.buffer.is_some())
            .finish_non_exhaustive()
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        if let (Some(buffer), Some(pool)) = (self.buffer.take(), self.instance.pool.as_ref()) {
            pool.give_back(buffer);
        }
    }
}

impl Store {
    /// A store for `instance`, running as the configured worker slot ([`crate::Config::slot`]).
    ///
    /// # Errors
    /// [`ObjectError::NoFreeContext`] when the module has packet programs and every context
    /// buffer of the instance is held by another store ([`crate::Config::stores`]).
    pub fn new(instance: &Instance) -> Result<Self, ObjectError> {
        Self::with_slot(instance, instance.module().config().slot)
    }

    /// A store running as worker slot `slot` (the "CPU" of per-CPU maps and
    /// `bpf_get_smp_processor_id`).
    ///
    /// # Errors
    /// As [`Store::new`].
    pub fn with_slot(instance: &Instance, slot: u32) -> Result<Self, ObjectError> {
        let buffer = match &instance.inner.pool {
            Some(pool) => Some(pool.lease()?),
            None => None,
        };
        Ok(Self {
            state: ExecState::with_slot(slot),
            buffer,
            instance: Arc::clone(&instance.inner),
        })
    }

    /// Runs program `id` (see [`Instance::run`]) on this store's instance.
    ///
    /// # Errors
    /// As [`Instance::run`].
    pub fn run(&mut self, id: ProgramId, input: &[u8]) -> Result<RunOutput, ObjectError> {
        let instance = Instance {
            inner: Arc::clone(&self.instance),
        };
        instance.run(self, id, input)
    }
}

/// The result of one run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunOutput {
    /// r0 or the fault, and the instruction count (summed over tail calls).
    pub outcome: Outcome,
    /// The program's context kind.
    pub context: ContextKind,
    /// The memory after the run: the input (mem), the packet (xdp, socket buffers: from
    /// `data` to `data_end` as the run left them, so after `bpf_xdp_adjust_head` / `_tail` the
    /// adjusted packet, without XDP metadata), or the context bytes (structures).
    pub data: Vec<u8>,
    /// Where `bpf_redirect` / `bpf_redirect_map` sent the packet (the last call of the run), as
    /// Linux's `bpf_redirect_info` would hold it for the driver.
    pub redirect: Option<Redirect>,
}

impl RunOutput {
    /// r0, if the run ended normally.
    #[must_use]
    pub fn r0(&self) -> Option<u64> {
        self.outcome.result.ok()
    }

    /// The action r0 stands for (XDP, tc), if any.
    #[must_use]
    pub fn action(&self) -> Option<&'static str> {
        self.r0().and_then(|r0| self.context.action_name(r0))
    }
}

impl Instance {
    /// Runs program `id` on `input` (the memory, the packet, or the context bytes: see
    /// [`ContextKind`]) with `store`'s state, following tail calls. Takes `&self`: threads
    /// share the instance, each with its own store.
    ///
    /// # Errors
    /// [`ObjectError::WrongStore`], a program that cannot run, an input that does not fit its
    /// context. Faults are not errors: they are in [`RunOutput::outcome`].
    pub fn run(
        &self,
        store: &mut Store,
        id: ProgramId,
        input: &[u8],
    ) -> Result<RunOutput, ObjectError> {
        if !Arc::ptr_eq(&self.inner, &store.instance) {
            return Err(ObjectError::WrongStore);
        }
        let entry = self.prepared(id)?;
        let context = self.module().context(id).unwrap_or(ContextKind::Mem);
        let set = &self.inner.set;
        let run = |state: &mut ExecState, mem: &mut [u8]| {
            set.run(entry, state, mem).unwrap_or(Outcome {
                // Cannot happen: `entry` came from `set.push`.
                result: Ok(0),
                instructions: None,
            })
        };
        let state = &mut store.state;
        let mut redirect = None;
        let (outcome, data) = match (context, store.buffer.as_mut()) {
            (ContextKind::Mem, _) => {
                let mut mem = input.to_vec();
                (run(state, &mut mem), mem)
            }
            (ContextKind::Struct { size }, _) => {
                let mut ctx = struct_context(size, input);
                (run(state, &mut ctx), ctx)
            }
            (ContextKind::Xdp | ContextKind::SkBuff { .. }, Some(buffer)) => {
                let (len, place) = buffer
                    .prepare(context, input, state)
                    .map_err(|source| ObjectError::Context { source })?;
                let outcome = run(state, buffer.context(len));
                let data = place.map(|p| buffer.packet(p, state)).unwrap_or_default();
                redirect = ContextBuffer::redirect(state);
                buffer.finish(state);
                (outcome, data)
            }
            (ContextKind::Xdp | ContextKind::SkBuff { .. }, None) => {
                // Cannot happen: the instance has a pool when any program has a packet
                // context, and every store of it leases a buffer.
                return Err(ObjectError::LowMemory {
                    source: std::io::Error::other("no packet buffer"),
                });
            }
        };
        Ok(RunOutput {
            outcome,
            context,
            data,
            redirect,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>() {}

    #[test]
    fn stores_move_between_threads() {
        assert_send::<Store>();
    }
}
