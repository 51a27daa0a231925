//! The compatibility layer of the first object API: [`LoadedObject`] is one [`Instance`] and
//! one [`Store`], addressed by program index and map name as before. New code uses
//! [`crate::Module`], [`Instance`] and [`Store`] directly (a module verified once serves
//! every engine and every thread); this type remains for callers that run one object on one
//! engine from one thread.

use std::io;
use std::sync::Arc;

use apiary_elf::{ElfError, Kconfig, Object};
use apiary_engine::EngineKind;
use apiary_verifier::Verified;
use apiary_vm::linux::LinuxOptions;
use apiary_vm::maps::{MapOptions, MapTable};
use apiary_vm::{HelperTable, LoadOptions};

pub use crate::dump::{map_type_name, Entry, MapContents, MapDump};
pub use crate::error::{ObjectError, ProgramError, TailCallMismatch, VerifyFailure};
pub use crate::module::map_spec;
pub use crate::store::RunOutput;

use crate::context::ContextKind;
use crate::instance::Instance;
use crate::module::{Config, MapId, Module, ProgramId};
use crate::platform::TypeChoice;
use crate::store::Store;

/// How to load an object with [`LoadedObject`]: a [`Config`] plus the engine (see
/// [`Config`] for each field).
#[derive(Clone, Debug)]
pub struct ObjectOptions {
    /// The engine every program is prepared for.
    pub engine: EngineKind,
    /// Instruction budget per run (`None`: metering off).
    pub budget: Option<u64>,
    /// Host sinks of the Linux helpers.
    pub linux: LinuxOptions,
    /// Map options and limits.
    pub maps: MapOptions,
    /// Host helpers, registered over the Linux ones.
    pub helpers: HelperTable,
    /// Instruction groups accepted (kfunc calls by default: [`object_load_options`]).
    pub load: LoadOptions,
    /// Values of the object's `__kconfig` externs over the host's.
    pub kconfig: Kconfig,
    /// The CO-RE target ([`Config::target_btf`]).
    pub target_btf: Option<Arc<apiary_elf::TargetBtf>>,
    /// The worker slot ("CPU") runs use.
    pub slot: u32,
    /// Forces one program type for every program ([`Config::program_type`]).
    pub program_type: Option<TypeChoice>,
    /// Forces one context for every program ([`Config::context`]).
    pub context: Option<ContextKind>,
    /// Verified mode ([`Config::verified`]); off by default here.
    pub verified: bool,
    /// Verified mode without the sandbox window ([`Config::unsandboxed`]).
    pub unsandboxed: bool,
}

impl Default for ObjectOptions {
    fn default() -> Self {
        Self {
            engine: EngineKind::Interp,
            budget: Some(100_000_000),
            linux: LinuxOptions::default(),
            maps: MapOptions::default(),
            helpers: HelperTable::new(),
            load: object_load_options(),
            kconfig: Kconfig::new(),
            target_btf: None,
            slot: 0,
            program_type: None,
            context: None,
            verified: false,
            unsandboxed: false,
        }
    }
}

impl ObjectOptions {
    /// Default options for `engine`.
    #[must_use]
    pub fn for_engine(engine: EngineKind) -> Self {
        Self {
            engine,
            ..Self::default()
        }
    }

    /// The module configuration of these options (one store: one context buffer).
    #[must_use]
    pub fn config(&self) -> Config {
        Config {
            budget: self.budget,
            linux: self.linux.clone(),
            maps: self.maps.clone(),
            helpers: self.helpers.clone(),
            prototypes: crate::module::HostPrototypes::default(),
            load: self.load,
            kconfig: self.kconfig.clone(),
            target_btf: self.target_btf.clone(),
            slot: self.slot,
            program_type: self.program_type,
            context: self.context,
            verified: self.verified,
            unsandboxed: self.unsandboxed,
            stores: 1,
        }
    }
}

/// The instruction groups ELF objects may use by default: the defaults plus kfunc calls
/// (libbpf objects hold them: a weak kfunc apiary lacks becomes one, dead behind its
/// `bpf_ksym_exists()` guard; the verifier refuses a reachable one and engines fault on one).
#[must_use]
pub fn object_load_options() -> LoadOptions {
    LoadOptions {
        kfunc: true,
        ..LoadOptions::default()
    }
}

/// Parses an object as [`LoadedObject::load`] does: under `options`' limits, with the
/// `__kconfig` externs taking the host's values and `options.kconfig` over them.
///
/// # Errors
/// The [`ElfError`] of the first problem found.
pub fn parse_object(bytes: &[u8], options: &ObjectOptions) -> Result<Object, ElfError> {
    options.config().parse_object(bytes)
}

/// An ELF object with its maps created and its programs prepared for one engine: one
/// [`Instance`] and one [`Store`]. Runs take `&mut self` (the store); the maps are shared
/// (`Arc<MapTable>`, safe to use from other threads while programs run).
#[derive(Debug)]
pub struct LoadedObject {
    store: Store,
    instance: Instance,
}

impl LoadedObject {
    /// Parses `bytes` and loads the object.
    ///
    /// # Errors
    /// [`ObjectError::Elf`], [`ObjectError::Map`], [`ObjectError::LowMemory`].
    pub fn load(bytes: &[u8], options: &ObjectOptions) -> Result<Self, ObjectError> {
        let object = parse_object(bytes, options).map_err(|source| ObjectError::Elf { source })?;
        Self::from_object(object, options)
    }

    /// Loads a parsed object.
    ///
    /// # Errors
    /// As [`LoadedObject::load`], without the parsing.
    pub fn from_object(object: Object, options: &ObjectOptions) -> Result<Self, ObjectError> {
        let module = Module::from_object(&options.config(), object)?;
        let instance = Instance::new(module, options.engine)?;
        let store = Store::new(&instance)?;
        Ok(Self { store, instance })
    }

    /// The instance (engine, maps, prepared programs).
    #[must_use]
    pub const fn instance(&self) -> &Instance {
        &self.instance
    }

    /// The module (programs, verdicts).
    #[must_use]
    pub fn module(&self) -> &Arc<Module> {
        self.instance.module()
    }

    /// Whether the programs were loaded in verified mode ([`ObjectOptions::verified`]).
    #[must_use]
    pub fn verified(&self) -> bool {
        self.module().verified()
    }

    /// The parsed object.
    #[must_use]
    pub fn object(&self) -> &Object {
        self.module().object()
    }

    /// The engine programs were prepared for.
    #[must_use]
    pub fn engine(&self) -> EngineKind {
        self.instance.engine()
    }

    /// The maps, in the object's order (shareable with other threads).
    #[must_use]
    pub fn maps(&self) -> &Arc<MapTable> {
        self.instance.maps()
    }

    /// Number of programs.
    #[must_use]
    pub fn len(&self) -> usize {
        self.module().len()
    }

    /// Whether the object has no program.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.module().is_empty()
    }

    /// `section:function` (or the section alone when they are equal) of program `index`.
    #[must_use]
    pub fn program_name(&self, index: usize) -> Option<String> {
        self.module().name(id(index))
    }

    /// The context kind of program `index`.
    #[must_use]
    pub fn context(&self, index: usize) -> Option<ContextKind> {
        self.module().context(id(index))
    }

    /// See [`Instance::proven_accesses`].
    #[must_use]
    pub fn proven_accesses(&self, index: usize) -> Option<(usize, usize)> {
        self.instance.proven_accesses(id(index))
    }

    /// Why program `index` cannot run, if it cannot.
    #[must_use]
    pub fn program_error(&self, index: usize) -> Option<&ProgramError> {
        self.instance.program_error(id(index))
    }

    /// The program named `name` (see [`Module::find`]).
    ///
    /// # Errors
    /// [`ObjectError::NoSuchProgram`] when none or several match.
    pub fn program(&self, name: &str) -> Result<usize, ObjectError> {
        self.module().find(name).map(ProgramId::index)
    }

    /// The program matching a section and/or function (see [`Module::select`]).
    ///
    /// # Errors
    /// [`ObjectError::NoSuchProgram`] when none or several match.
    pub fn select(
        &self,
        section: Option<&str>,
        function: Option<&str>,
    ) -> Result<usize, ObjectError> {
        self.module()
            .select(section, function)
            .map(ProgramId::index)
    }

    /// The verifier's verdict on program `index` (see [`Module::verify`]; computed once).
    ///
    /// # Errors
    /// [`ObjectError::NoProgramIndex`]; the verdict itself is the inner result.
    pub fn verify(&self, index: usize) -> Result<Result<Verified, VerifyFailure>, ObjectError> {
        Ok(self
            .module()
            .verdict(id(index))?
            .map(|v| v.verified().clone())
            .map_err(Clone::clone))
    }

    /// Runs program `index` on `input` (see [`Instance::run`]).
    ///
    /// # Errors
    /// The program cannot run, or the input does not fit its context.
    pub fn run(&mut self, index: usize, input: &[u8]) -> Result<RunOutput, ObjectError> {
        self.instance.run(&mut self.store, id(index), input)
    }

    /// The index of the map named `name`.
    ///
    /// # Errors
    /// [`ObjectError::NoSuchMap`].
    pub fn map_index(&self, name: &str) -> Result<usize, ObjectError> {
        self.module().map(name).map(MapId::index)
    }

    /// Puts program `program` (a name as [`LoadedObject::program`] takes) in slot `index` of
    /// the prog array `map` (see [`Instance::set_tail_call`]).
    ///
    /// # Errors
    /// As [`Instance::set_tail_call`], plus unknown names.
    pub fn set_tail_call(&self, map: &str, index: u32, program: &str) -> Result<(), ObjectError> {
        let m = self.module().map(map)?;
        let target = self.module().find(program)?;
        self.instance.set_tail_call(m, index, target)
    }

    /// A copy of the value under `key` in map `map` (per-CPU kinds: every slot, each padded to
    /// 8 bytes), or `None`.
    ///
    /// # Errors
    /// Unknown map, wrong key size.
    pub fn lookup(&self, map: &str, key: &[u8]) -> Result<Option<Vec<u8>>, ObjectError> {
        Ok(self.maps().lookup(self.map_index(map)?, key)?)
    }

    /// Updates `key` in map `map` (flags `BPF_ANY`/`BPF_NOEXIST`/`BPF_EXIST`).
    ///
    /// # Errors
    /// Unknown map, wrong sizes, or the Linux error.
    pub fn update(
        &self,
        map: &str,
        key: &[u8],
        value: &[u8],
        flags: u64,
    ) -> Result<(), ObjectError> {
        Ok(self
            .maps()
            .update(self.map_index(map)?, key, value, flags)?)
    }

    /// Deletes `key` from map `map`.
    ///
    /// # Errors
    /// Unknown map, wrong key size, or the Linux error.
    pub fn delete(&self, map: &str, key: &[u8]) -> Result<(), ObjectError> {
        Ok(self.maps().delete(self.map_index(map)?, key)?)
    }

    /// Every (key, value) of map `map`, in iteration order.
    ///
    /// # Errors
    /// Unknown map, or a kind without keys (ring buffers, queues).
    pub fn entries(&self, map: &str) -> Result<Vec<Entry>, ObjectError> {
        Ok(crate::dump::entries_of(self.maps(), self.map_index(map)?)?)
    }

    /// Consumes every record submitted to the ring buffer `map`.
    ///
    /// # Errors
    /// Unknown map, or not a ring buffer.
    pub fn ringbuf_records(&self, map: &str) -> Result<Vec<Vec<u8>>, ObjectError> {
        Ok(self.instance.ring_buf(self.module().map(map)?)?.drain())
    }

    /// Every map's contents (see [`Instance::dump_maps`]).
    #[must_use]
    pub fn dump_maps(&self) -> Vec<MapDump> {
        self.instance.dump_maps()
    }

    /// See [`Instance::write_map_dump`].
    ///
    /// # Errors
    /// The writer's.
    pub fn write_map_dump(&self, index: usize, out: &mut dyn io::Write) -> io::Result<bool> {
        self.instance.write_map_dump(index, out)
    }

    /// The number of maps.
    #[must_use]
    pub fn map_count(&self) -> usize {
        self.maps().len()
    }
}

/// The handle of program `index` (an index past `u32` names no program).
fn id(index: usize) -> ProgramId {
    ProgramId(u32::try_from(index).unwrap_or(u32::MAX))
}
