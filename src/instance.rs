//! [`Instance`]: a [`Module`] made ready to run on one engine.
//!
//! An instance creates the module's maps (one [`MapTable`], shared with every thread), builds
//! the Linux helper environment over them (plus the host's helpers), prepares every program
//! on its engine once, and owns the context buffers its stores lease for packet programs
//! (`ContextPool`): their regions are part of the environment the programs were prepared
//! with, so the memory a run may reach is the instance's, never a store's own mapping. (So a
//! checked-mode program may reach the packet of another store of the same instance; the host
//! copies packets with racy-tolerant copies, [`crate::lowmem`], and isolating stores is the job
//! of the per-instance memory window.)
//!
//! Everything here is immutable after [`Instance::new`] except through the maps, so
//! [`Instance::run`] takes `&self`: an instance is `Send + Sync` and cheap to clone (an `Arc`),
//! and any number of threads run its programs at once, each with its own [`Store`].

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use apiary_engine::{prepare, prepare_verified, prepare_verified_unsandboxed, EngineKind};
use apiary_vm::linux;
use apiary_vm::maps::{bind, MapTable};
use apiary_vm::window::Window;
use apiary_vm::{Environment, ExecConfig, Executable, ProgramSet, Region};

use crate::context::ContextBuffer;
use crate::error::{ObjectError, ProgramError, TailCallMismatch};
use crate::module::{MapId, Module, ProgramId, Runnable};
use crate::store::Store;

/// The context buffers (below 4 GiB) of one instance, leased to its stores one at a time.
/// Every buffer's packet region is registered in the environment the programs were prepared
/// with, so the pool lives as long as the prepared programs (both in [`InstanceInner`]).
pub(crate) struct ContextPool {
    free: Mutex<Vec<ContextBuffer>>,
    size: usize,
}

impl ContextPool {
    fn new(size: usize, window: Option<&Arc<Window>>) -> Result<(Self, Vec<Region>), ObjectError> {
        let mut buffers = Vec::with_capacity(size);
        let mut regions = Vec::with_capacity(size);
        for _ in 0..size {
            let buffer = ContextBuffer::new_in(window)
                .map_err(|source| ObjectError::LowMemory { source })?;
            regions.extend(buffer.packet_region());
            buffers.push(buffer);
        }
        Ok((
            Self {
                free: Mutex::new(buffers),
                size,
            },
            regions,
        ))
    }

    /// A free buffer.
    pub(crate) fn lease(&self) -> Result<ContextBuffer, ObjectError> {
        self.free
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop()
            .ok_or(ObjectError::NoFreeContext { stores: self.size })
    }

    /// Gives a leased buffer back. Never drops it: the prepared programs' environment names
    /// its region.
    pub(crate) fn give_back(&self, buffer: ContextBuffer) {
        self.free
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(buffer);
    }
}

/// What an instance holds; stores keep it alive by `Arc`.
pub(crate) struct InstanceInner {
    // Field order is drop order: the prepared programs (whose environment names the pool's
    // packet regions) go before the pool.
    pub(crate) set: ProgramSet,
    /// Per program of the module: its index in `set`, or why it cannot run.
    prepared: Vec<Result<usize, ProgramError>>,
    pub(crate) maps: Arc<MapTable>,
    pub(crate) pool: Option<ContextPool>,
    pub(crate) module: Arc<Module>,
    engine: EngineKind,
}

/// A module's maps, helpers and programs prepared for one engine (see the
/// [module documentation](self)). Cloning shares the same instance.
#[derive(Clone)]
pub struct Instance {
    pub(crate) inner: Arc<InstanceInner>,
}

impl fmt::Debug for Instance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Instance")
            .field("engine", &self.inner.engine)
            .field("module", &self.inner.module)
            .field("maps", &self.inner.maps.len())
            .finish_non_exhaustive()
    }
}

impl Instance {
    /// Creates the module's maps, its helper environment and context buffers, and prepares
    /// every program for `engine`. A program that cannot be prepared does not fail the
    /// instance: its error is returned when it is run or placed in a prog array.
    ///
    /// # Errors
    /// [`ObjectError::Map`] (a map definition refused), [`ObjectError::LowMemory`].
    pub fn new(module: impl Into<Arc<Module>>, engine: EngineKind) -> Result<Self, ObjectError> {
        let module: Arc<Module> = module.into();
        let config = module.config();
        let packets = module
            .programs()
            .any(|id| module.context(id).is_some_and(|c| c.has_packet()));
        let buffers = if packets { config.stores.max(1) } else { 0 };
        // Sandboxed verified mode (the default): everything the programs can reach in one
        // window (below 4 GiB when there are packet contexts).
        let window = if config.verified && !config.unsandboxed {
            Some(
                crate::sandbox::object_window(module.map_specs(), &config.maps, buffers)
                    .map_err(|source| ObjectError::LowMemory { source })?,
            )
        } else {
            None
        };
        let mut table = MapTable::new(apiary_vm::maps::MapOptions {
            window: window.clone(),
            ..config.maps.clone()
        });
        for (index, spec) in module.map_specs().iter().enumerate() {
            table.create(spec).map_err(|source| ObjectError::Map {
                index,
                name: spec.name.clone(),
                source,
            })?;
        }
        let maps = Arc::new(table);
        let (pool, packet_regions) = if packets {
            let (pool, regions) = ContextPool::new(buffers, window.as_ref())?;
            (Some(pool), regions)
        } else {
            (None, Vec::new())
        };
        let mut helpers = linux::helpers(&maps, &config.linux);
        for h in config.helpers.iter() {
            let f = Arc::clone(&h.func);
            helpers.register(h.id, &h.name, move |ctx, args| f(ctx, args));
        }
        let mut regions: Vec<Region> = maps.regions();
        regions.extend(packet_regions);
        let env = Environment {
            window,
            helpers: Arc::new(helpers),
            regions: Arc::from(regions),
            config: ExecConfig {
                budget: config.budget,
            },
        };
        let mut set = ProgramSet::default();
        let prepared = module
            .programs()
            .map(|id| {
                let exe = prepare_one(&module, id, &maps, &env, engine)?;
                Ok(set.push(exe))
            })
            .collect();
        Ok(Self {
            inner: Arc::new(InstanceInner {
                set,
                prepared,
                maps,
                pool,
                module,
                engine,
            }),
        })
    }

    /// The module.
    #[must_use]
    pub fn module(&self) -> &Arc<Module> {
        &self.inner.module
    }

    /// The engine programs were prepared for.
    #[must_use]
    pub fn engine(&self) -> EngineKind {
        self.inner.engine
    }

    /// The maps, in the module's order (shareable with other threads; raw bytes).
    #[must_use]
    pub fn maps(&self) -> &Arc<MapTable> {
        &self.inner.maps
    }

    /// A store for this instance's runs on this thread (see [`Store::new`]).
    ///
    /// # Errors
    /// As [`Store::new`].
    pub fn store(&self) -> Result<Store, ObjectError> {
        Store::new(self)
    }

    /// Why program `id` cannot run here, if it cannot.
    #[must_use]
    pub fn program_error(&self, id: ProgramId) -> Option<&ProgramError> {
        self.inner.prepared.get(id.index())?.as_ref().err()
    }

    /// Verified mode: `(proven, accesses)`, the loads, stores and atomics of program `id`
    /// that run without a run-time check because the verifier proved them in bounds, and all
    /// of them. `None` in checked mode or when the program cannot run.
    #[must_use]
    pub fn proven_accesses(&self, id: ProgramId) -> Option<(usize, usize)> {
        self.inner.prepared.get(id.index())?.as_ref().ok()?;
        self.inner.module.proven_accesses(id)
    }

    /// The index in the program set of program `id`, or why it cannot run.
    pub(crate) fn prepared(&self, id: ProgramId) -> Result<usize, ObjectError> {
        let entry = self
            .inner
            .prepared
            .get(id.index())
            .ok_or(ObjectError::NoProgramIndex { index: id.index() })?;
        entry.clone().map_err(|source| ObjectError::Program {
            program: self.inner.module.name(id).unwrap_or_default(),
            source,
        })
    }

    /// The program in set slot `slot` (for listings of prog arrays).
    pub(crate) fn program_at_slot(&self, slot: usize) -> Option<ProgramId> {
        self.inner
            .prepared
            .iter()
            .position(|p| p.as_ref().ok() == Some(&slot))
            .map(|i| ProgramId(i as u32))
    }

    /// The name of map `id` (checked).
    pub(crate) fn map_name(&self, id: MapId) -> Result<&str, ObjectError> {
        self.inner
            .maps
            .get(id.index())
            .map(|m| m.spec().name.as_str())
            .ok_or(ObjectError::NoMapIndex { index: id.index() })
    }

    /// Puts program `program` in slot `index` of the prog array `map`: a tail call through
    /// that slot then runs it.
    ///
    /// # Errors
    /// A map that is not a prog array, a program that cannot run, an index out of range; in
    /// verified mode [`ObjectError::TailCallContext`].
    pub fn set_tail_call(
        &self,
        map: MapId,
        index: u32,
        program: ProgramId,
    ) -> Result<(), ObjectError> {
        let name = self.map_name(map)?;
        let set_index = self.prepared(program)?;
        if self.inner.module.verified() {
            self.check_tail_call_context(name, map, program)?;
        }
        let array =
            self.inner
                .maps
                .prog_array(map.index())
                .ok_or_else(|| ObjectError::WrongMapKind {
                    name: name.to_owned(),
                    wanted: "prog array",
                })?;
        let slot = u32::try_from(set_index).unwrap_or(u32::MAX);
        array
            .set(index, slot)
            .map_err(|e| ObjectError::ProgArraySlot {
                map: name.to_owned(),
                index,
                reason: e.to_string(),
            })
    }

    /// Verified mode: every program that refers to `map` (and so may tail-call through it)
    /// must have `target`'s context, the one `target` was verified for (Linux ties a prog
    /// array to one program type the same way).
    fn check_tail_call_context(
        &self,
        name: &str,
        map: MapId,
        target: ProgramId,
    ) -> Result<(), ObjectError> {
        let module = &self.inner.module;
        let type_name = |i: ProgramId| module.program_type(i).map_or("?", |t| t.name);
        let found = module.context(target);
        for caller in module.programs() {
            if module.context(caller) != found
                && module
                    .maps_referenced(caller)
                    .binary_search(&map.index())
                    .is_ok()
            {
                return Err(ObjectError::TailCallContext(Box::new(TailCallMismatch {
                    map: name.to_owned(),
                    program: module.name(target).unwrap_or_default(),
                    found: type_name(target),
                    caller: module.name(caller).unwrap_or_default(),
                    wanted: type_name(caller),
                })));
            }
        }
        Ok(())
    }
}

fn prepare_one(
    module: &Module,
    id: ProgramId,
    maps: &MapTable,
    env: &Environment,
    engine: EngineKind,
) -> Result<Arc<dyn Executable>, ProgramError> {
    let bind_err = |source| ProgramError::Bind { source };
    match module.runnable(id)? {
        Runnable::Verified(verified) => {
            // Binding rewrites `lddw` immediates only: the slots the facts index are unchanged.
            let bound = verified.bind(maps).map_err(bind_err)?;
            // SAFETY: the world is the one the proof assumed: `env`'s helpers are the Linux
            // helpers, which implement `Platform::linux`'s prototypes, plus host helpers whose
            // prototypes the embedder vouched for (`Config::with_helper_prototype` is unsafe),
            // and in verified mode host
            // helpers may only add ids the platform lacks (`Module::from_object` refuses
            // others); the program is bound to `maps`, made from the module's definitions in
            // the module's order, as the `MapInfo`s it was verified with, and every map region
            // is in `env`; runs get the context apiary builds for the program's context kind,
            // which the module checked is at least the size the type assumes (`too_small`),
            // and prog arrays only hold programs of their callers' context
            // (`check_tail_call_context`).
            unsafe {
                if module.config().unsandboxed {
                    prepare_verified_unsandboxed(engine, &bound, env)
                } else {
                    prepare_verified(engine, &bound, env)
                }
            }
        }
        Runnable::Checked(program) => {
            let bound = bind(program, maps).map_err(bind_err)?;
            prepare(engine, Arc::new(bound.program), env)
        }
    }
    .map(Arc::from)
    .map_err(|source| ProgramError::Prepare { source })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn instances_are_shareable() {
        assert_send_sync::<Instance>();
    }
}
