//! Real programs end to end: an ELF object loaded into a runnable set.
//!
//! [`LoadedObject::load`] parses the object ([`apiary_elf::Object::parse`]), creates one map
//! per definition in the object's order (so `lddw` map indices stay valid: `.rodata` read-only
//! for programs, `.data` with its initial bytes, `.bss` zeroed, map-of-maps with their inner
//! templates), binds every program to the maps, builds the Linux helper environment (plus the
//! packet buffer region of [`crate::context`]), prepares every program on the chosen engine and
//! puts the prepared programs in a [`ProgramSet`] for tail calls.
//!
//! The host then fills prog arrays by program name ([`LoadedObject::set_tail_call`]), runs a
//! program on an input ([`LoadedObject::run`]: the input becomes the program type's context),
//! and reads or writes maps by name ([`LoadedObject::lookup`], [`LoadedObject::entries`],
//! [`LoadedObject::ringbuf_records`], [`LoadedObject::dump_maps`]).
//!
//! A program that cannot be prepared (a helper apiary lacks, a feature the engine lacks) does
//! not fail the load: its error is kept and returned when it is run or placed in a prog array.
//! Every engine runs everything an object needs (tail calls, callbacks, legacy packet loads on
//! the socket buffer's packet); the kernel is not one of them: it runs objects only in the
//! comparison tests.

use std::fmt;
use std::io;
use std::sync::Arc;

use apiary_elf::{
    ElfError, Kconfig, MapDef, MapKind as DefKind, Object, ParseOptions, ProgramSection,
};
use apiary_engine::{prepare, prepare_verified, EngineKind, PrepareError, VerifiedProgram};
use apiary_verifier::platform::CtxKind;
use apiary_verifier::{verify_with, MapInfo, Options, Platform, ProgramType, Rejection, Verified};
use apiary_vm::instruction::{Instruction, Lddw};
use apiary_vm::linux::{self, LinuxOptions};
use apiary_vm::maps::{
    bind, map_type, BindError, MapError, MapKind, MapOptions, MapSpec, MapTable,
};
use apiary_vm::{
    Environment, ExecConfig, ExecState, Executable, Facts, HelperTable, LoadError, LoadOptions,
    Outcome, Program, ProgramSet, Redirect, Region,
};
use thiserror::Error;

use crate::context::{struct_context, ContextBuffer, ContextError, ContextKind};
use crate::platform::{inner_maps, map_infos};

/// Deepest map-of-maps nesting converted (deeper inner templates are dropped).
const MAX_INNER_DEPTH: usize = 4;

/// How to load an object.
#[derive(Clone, Debug)]
pub struct ObjectOptions {
    /// The engine every program is prepared for.
    pub engine: EngineKind,
    /// Instruction budget per run (`None`: metering off).
    pub budget: Option<u64>,
    /// Host sinks of the Linux helpers (`bpf_trace_printk` output).
    pub linux: LinuxOptions,
    /// Per-CPU slots, perf ring sizes, and the [`apiary_vm::Limits`] on everything the object
    /// asks for (maps, global data sections, programs, instructions), checked before allocating.
    pub maps: MapOptions,
    /// Host helpers, registered over the Linux ones (same id: the host's wins).
    pub helpers: HelperTable,
    /// Instruction groups accepted. Kfunc calls are accepted by default: libbpf objects
    /// hold them (a weak kfunc apiary lacks becomes one, dead behind its `bpf_ksym_exists()`
    /// guard); the verifier refuses a reachable one and engines fault on one.
    pub load: LoadOptions,
    /// Values of the object's `__kconfig` externs (`CONFIG_*`, `LINUX_KERNEL_VERSION`, ...),
    /// over the host's ([`crate::kconfig::host_with`]).
    pub kconfig: Kconfig,
    /// The target BTF that CO-RE relocations are resolved against
    /// ([`apiary_elf::TargetBtf::parse`]: raw BTF or an ELF file with `.BTF`); `None`: the
    /// running kernel's `/sys/kernel/btf/vmlinux` where it exists ([`host_btf`]), as libbpf does.
    pub target_btf: Option<Arc<apiary_elf::TargetBtf>>,
    /// The worker slot ("CPU") runs use.
    pub slot: u32,
    /// Forces one context for every program (else it follows each section name).
    pub context: Option<ContextKind>,
    /// Verified mode: every program is verified at load for its context's program type
    /// (Linux platform, the object's maps); a rejected program cannot run
    /// ([`ProgramError::Rejected`]), and an accepted one runs without the run-time checks the
    /// verifier proved redundant. Host helpers may then only add new ids, not replace a Linux
    /// helper the proof assumed ([`ObjectError::HelperReplacesPrototype`]), and a prog array
    /// only holds programs with the context of the programs that tail-call through it
    /// ([`ObjectError::TailCallContext`]), as in Linux.
    pub verified: bool,
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
            context: None,
            verified: false,
        }
    }
}

/// The instruction groups ELF objects may use by default: the defaults plus kfunc calls (see
/// [`ObjectOptions::load`]).
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
    Object::parse_options(
        bytes,
        &ParseOptions {
            limits: options.maps.limits,
            kconfig: crate::kconfig::host_with(&options.kconfig),
            target_btf: options.target_btf.clone(),
            default_target_btf: Some(host_btf),
        },
    )
}

/// The running kernel's BTF (`/sys/kernel/btf/vmlinux`), parsed once per process: the default
/// CO-RE target, as for libbpf. `None` where the kernel has no BTF (the objects then keep their
/// compile-time layout).
#[must_use]
pub fn host_btf() -> Option<Arc<apiary_elf::TargetBtf>> {
    static HOST: std::sync::OnceLock<Option<Arc<apiary_elf::TargetBtf>>> =
        std::sync::OnceLock::new();
    HOST.get_or_init(|| {
        let bytes = std::fs::read("/sys/kernel/btf/vmlinux").ok()?;
        apiary_elf::TargetBtf::parse(bytes.into())
            .ok()
            .map(Arc::new)
    })
    .clone()
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
}

/// Why one program of an object cannot run.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum ProgramError {
    /// The program uses a symbol that cannot be linked (the object's other programs load).
    #[error("link: {source}")]
    Link { source: Box<ElfError> },
    /// The relocated slots fail the load-time checks.
    #[error("load: {source}")]
    Load { source: LoadError },
    /// The program names a map the object lacks, or a map value out of range.
    #[error("bind: {source}")]
    Bind { source: BindError },
    /// The engine refused the program (for example a helper apiary does not implement).
    #[error("{source}")]
    Prepare { source: PrepareError },
    /// Verified mode: the verifier did not accept the program.
    #[error("verifier: {failure}")]
    Rejected { failure: Box<VerifyFailure> },
    /// Verified mode: the context apiary builds for the program is smaller than the one the
    /// verifier assumes for its program type, so the proof would not hold.
    #[error(
        "verified mode: the {program_type} context is {needs} bytes but this program's \
         context has {has}"
    )]
    ContextTooSmall {
        program_type: &'static str,
        needs: u32,
        has: usize,
    },
}

/// Errors of loading and running objects.
#[derive(Debug, Error)]
pub enum ObjectError {
    /// The ELF object is malformed or unsupported.
    #[error("{source}")]
    Elf { source: ElfError },
    /// A map could not be created (the source names the map: `map "big": ...`).
    #[error("{source}")]
    Map {
        index: usize,
        name: String,
        source: MapError,
    },
    /// No memory below 4 GiB for packet contexts.
    #[error("packet buffer below 4 GiB: {source}")]
    LowMemory { source: io::Error },
    /// No program has this name.
    #[error("no program {wanted:?}; the object has: {available}")]
    NoSuchProgram { wanted: String, available: String },
    /// No program has this index.
    #[error("no program with index {index}")]
    NoProgramIndex { index: usize },
    /// The program cannot run.
    #[error("program {program}: {source}")]
    Program {
        program: String,
        source: ProgramError,
    },
    /// No map has this name.
    #[error("no map named {name:?}")]
    NoSuchMap { name: String },
    /// A host map operation failed.
    #[error("{source}")]
    MapOp { source: MapError },
    /// The map is not of the kind the operation needs.
    #[error("map {name:?} is not a {wanted}")]
    WrongMapKind { name: String, wanted: &'static str },
    /// A prog-array slot could not be set.
    #[error("prog array {map:?}: slot {index}: {reason}")]
    ProgArraySlot {
        map: String,
        index: u32,
        reason: String,
    },
    /// The input does not fit the program's context.
    #[error("input: {source}")]
    Context { source: ContextError },
    /// Verified mode: a host helper has the id of a Linux helper whose prototype the verifier
    /// assumes (the host's function need not honour it).
    #[error(
        "verified mode: host helper {name:?} takes id {id}, a Linux helper the verifier \
         assumes; give it a new id or load unverified"
    )]
    HelperReplacesPrototype { id: u32, name: String },
    /// Verified mode: a program placed in a prog array has another context than a program
    /// that tail-calls through it (the callee's proof assumed its own context).
    #[error("{0}")]
    TailCallContext(Box<TailCallMismatch>),
}

/// A program refused for a prog array in verified mode (see [`ObjectError::TailCallContext`]).
#[derive(Clone, Debug, Error, PartialEq, Eq)]
#[error(
    "verified mode: prog array {map:?}: {program} has a {found} context, but {caller} \
     tail-calls through it with a {wanted} context"
)]
pub struct TailCallMismatch {
    /// The prog array.
    pub map: String,
    /// The program refused.
    pub program: String,
    /// Its program type.
    pub found: &'static str,
    /// A program that refers to the prog array.
    pub caller: String,
    /// The caller's program type.
    pub wanted: &'static str,
}

impl From<MapError> for ObjectError {
    fn from(source: MapError) -> Self {
        ObjectError::MapOp { source }
    }
}

/// One map element: key and value bytes.
pub type Entry = (Vec<u8>, Vec<u8>);

/// One program of the object and how it was prepared.
#[derive(Debug)]
struct ProgramEntry {
    section: String,
    function: String,
    context: ContextKind,
    /// Index in the program set, or why the program cannot run.
    prepared: Result<usize, ProgramError>,
    /// Verified mode: how many memory accesses run unchecked, of how many.
    proven: Option<(usize, usize)>,
    /// The maps the program's `lddw`s refer to (so may tail-call through), sorted.
    maps_referenced: Vec<usize>,
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

/// An ELF object with its maps created and its programs prepared for one engine.
///
/// Runs take `&mut self`: a loaded object owns one context buffer and one run state. Maps are
/// shared (`Arc<MapTable>`, safe to use from other threads while programs run).
pub struct LoadedObject {
    // Field order is drop order: the prepared programs (which hold the packet region) and the
    // state (which may hold the packet) go before the buffer they point into.
    set: ProgramSet,
    state: ExecState,
    entries: Vec<ProgramEntry>,
    object: Object,
    maps: Arc<MapTable>,
    engine: EngineKind,
    buffer: Option<ContextBuffer>,
    verified: bool,
    /// The instruction groups accepted ([`ObjectOptions::load`]), for [`LoadedObject::verify`].
    load: LoadOptions,
}

impl fmt::Debug for LoadedObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoadedObject")
            .field("engine", &self.engine)
            .field("programs", &self.entries)
            .field("maps", &self.maps.len())
            .finish_non_exhaustive()
    }
}

/// The vm definition of an ELF map definition.
#[must_use]
pub fn map_spec(def: &MapDef) -> MapSpec {
    spec_at_depth(def, 0)
}

fn spec_at_depth(def: &MapDef, depth: usize) -> MapSpec {
    MapSpec {
        name: def.name.clone(),
        map_type: def.map_type,
        key_size: def.key_size,
        value_size: def.value_size,
        max_entries: def.max_entries,
        flags: def.flags,
        initial: def.initial.clone(),
        read_only: matches!(def.kind, DefKind::Rodata { .. }),
        inner: def
            .inner
            .as_deref()
            .filter(|_| depth < MAX_INNER_DEPTH)
            .map(|inner| Box::new(spec_at_depth(inner, depth + 1))),
    }
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
        let mut table = MapTable::new(options.maps);
        for (index, def) in object.maps.iter().enumerate() {
            table
                .create(&map_spec(def))
                .map_err(|source| ObjectError::Map {
                    index,
                    name: def.name.clone(),
                    source,
                })?;
        }
        let maps = Arc::new(table);
        let context_of = |p: &ProgramSection| {
            options
                .context
                .unwrap_or_else(|| ContextKind::for_section_type(p.program_type))
        };
        let buffer = if object.programs.iter().any(|p| context_of(p).has_packet()) {
            Some(ContextBuffer::new().map_err(|source| ObjectError::LowMemory { source })?)
        } else {
            None
        };
        let mut helpers = linux::helpers(&maps, &options.linux);
        let platform = Platform::linux();
        for h in options.helpers.iter() {
            if options.verified && platform.helper(h.id).is_some() {
                return Err(ObjectError::HelperReplacesPrototype {
                    id: h.id,
                    name: h.name.clone(),
                });
            }
            let f = Arc::clone(&h.func);
            helpers.register(h.id, &h.name, move |ctx, args| f(ctx, args));
        }
        let mut regions: Vec<Region> = maps.regions();
        if let Some(r) = buffer.as_ref().and_then(ContextBuffer::packet_region) {
            regions.push(r);
        }
        let env = Environment {
            helpers: Arc::new(helpers),
            regions: Arc::from(regions),
            config: ExecConfig {
                budget: options.budget,
            },
        };
        let mut set = ProgramSet::default();
        let mut entries = Vec::with_capacity(object.programs.len());
        let infos = ObjectMaps::of(&object);
        for p in &object.programs {
            let context = context_of(p);
            let mut entry = ProgramEntry {
                section: p.section.clone(),
                function: p.function.clone(),
                context,
                prepared: Ok(0),
                proven: None,
                maps_referenced: Vec::new(),
            };
            if let Some(source) = &p.link_error {
                entry.prepared = Err(ProgramError::Link {
                    source: Box::new(source.clone()),
                });
                entries.push(entry);
                continue;
            }
            // Decoded once: the verifier proves, and the engines run, this very program.
            let program = match Program::new(p.insns.clone(), &options.load) {
                Ok(program) => Arc::new(program),
                Err(source) => {
                    entry.prepared = Err(ProgramError::Load { source });
                    entries.push(entry);
                    continue;
                }
            };
            entry.maps_referenced = maps_referenced(&program);
            let verified = if options.verified {
                let ty = context.verifier_type(p.program_type);
                match verify_for_context(&program, &ty, context, &platform, &infos) {
                    Ok(verified) => Some(verified),
                    Err(failure) => {
                        entry.prepared = Err(failure);
                        entries.push(entry);
                        continue;
                    }
                }
            } else {
                None
            };
            if let Some(verified) = &verified {
                entry.proven = Some(proven_accesses(&program, verified.facts()));
            }
            entry.prepared = prepare_one(&program, &maps, &env, options, verified.as_ref())
                .map(|exe| set.push(exe));
            if entry.prepared.is_err() {
                entry.proven = None;
            }
            entries.push(entry);
        }
        Ok(Self {
            set,
            state: ExecState::with_slot(options.slot),
            entries,
            object,
            maps,
            engine: options.engine,
            buffer,
            verified: options.verified,
            load: options.load,
        })
    }

    /// Whether the programs were loaded in verified mode ([`ObjectOptions::verified`]).
    #[must_use]
    pub const fn verified(&self) -> bool {
        self.verified
    }

    /// The parsed object.
    #[must_use]
    pub const fn object(&self) -> &Object {
        &self.object
    }

    /// The engine programs were prepared for.
    #[must_use]
    pub const fn engine(&self) -> EngineKind {
        self.engine
    }

    /// The maps, in the object's order (shareable with other threads).
    #[must_use]
    pub const fn maps(&self) -> &Arc<MapTable> {
        &self.maps
    }

    /// Number of programs.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the object has no program.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// `section:function` (or the section alone when they are equal) of program `index`.
    #[must_use]
    pub fn program_name(&self, index: usize) -> Option<String> {
        self.entries.get(index).map(|e| {
            if e.section == e.function {
                e.section.clone()
            } else {
                format!("{}:{}", e.section, e.function)
            }
        })
    }

    /// The context kind of program `index`.
    #[must_use]
    pub fn context(&self, index: usize) -> Option<ContextKind> {
        self.entries.get(index).map(|e| e.context)
    }

    /// Verified mode: `(proven, accesses)`, the loads, stores and atomics of program `index`
    /// that run without a run-time check because the verifier proved them in bounds, and all
    /// its loads, stores and atomics. `None` in checked mode or when the program cannot run.
    #[must_use]
    pub fn proven_accesses(&self, index: usize) -> Option<(usize, usize)> {
        self.entries.get(index)?.proven
    }

    /// Why program `index` cannot run, if it cannot.
    #[must_use]
    pub fn program_error(&self, index: usize) -> Option<&ProgramError> {
        self.entries.get(index)?.prepared.as_ref().err()
    }

    fn available(&self) -> String {
        (0..self.entries.len())
            .filter_map(|i| self.program_name(i))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The program named `name`: a function name, a section name (when it holds one program),
    /// or `section:function`.
    ///
    /// # Errors
    /// [`ObjectError::NoSuchProgram`] when none or several match.
    pub fn program(&self, name: &str) -> Result<usize, ObjectError> {
        let matches: Vec<usize> = self
            .entries
            .iter()
            .enumerate()
            .filter(|(_, e)| {
                e.function == name
                    || e.section == name
                    || name
                        .split_once(':')
                        .is_some_and(|(s, f)| e.section == s && e.function == f)
            })
            .map(|(i, _)| i)
            .collect();
        // A function name wins over a section of the same name.
        let by_function: Vec<usize> = matches
            .iter()
            .copied()
            .filter(|&i| self.entries[i].function == name)
            .collect();
        match (matches.as_slice(), by_function.as_slice()) {
            ([one], _) | (_, [one]) => Ok(*one),
            _ => Err(ObjectError::NoSuchProgram {
                wanted: name.to_owned(),
                available: self.available(),
            }),
        }
    }

    /// The program matching a section and/or function (either may be absent; with both
    /// absent, the object's only program).
    ///
    /// # Errors
    /// [`ObjectError::NoSuchProgram`] when none or several match.
    pub fn select(
        &self,
        section: Option<&str>,
        function: Option<&str>,
    ) -> Result<usize, ObjectError> {
        let matches: Vec<usize> = self
            .entries
            .iter()
            .enumerate()
            .filter(|(_, e)| section.is_none_or(|s| e.section == s))
            .filter(|(_, e)| function.is_none_or(|f| e.function == f))
            .map(|(i, _)| i)
            .collect();
        match matches.as_slice() {
            [one] => Ok(*one),
            _ => Err(ObjectError::NoSuchProgram {
                wanted: format!(
                    "{}{}",
                    section.unwrap_or("*"),
                    function.map(|f| format!(":{f}")).unwrap_or_default()
                ),
                available: self.available(),
            }),
        }
    }

    /// Verifies program `index` (as relocated, before binding) for its context's program type
    /// with the object's maps.
    ///
    /// # Errors
    /// [`ObjectError::NoProgramIndex`]; the verdict itself is the inner result.
    pub fn verify(&self, index: usize) -> Result<Result<Verified, VerifyFailure>, ObjectError> {
        let entry = self
            .entries
            .get(index)
            .ok_or(ObjectError::NoProgramIndex { index })?;
        let section = &self.object.programs[index];
        let ty = entry.context.verifier_type(section.program_type);
        Ok(verify_section(
            section,
            &self.load,
            &ty,
            &Platform::linux(),
            &ObjectMaps::of(&self.object),
        ))
    }

    fn prepared(&self, index: usize) -> Result<usize, ObjectError> {
        let entry = self
            .entries
            .get(index)
            .ok_or(ObjectError::NoProgramIndex { index })?;
        entry
            .prepared
            .clone()
            .map_err(|source| ObjectError::Program {
                program: self.program_name(index).unwrap_or_default(),
                source,
            })
    }

    /// Runs program `index` on `input` (the memory, the packet, or the context bytes: see
    /// [`ContextKind`]), following tail calls.
    ///
    /// # Errors
    /// The program cannot run, or the input does not fit its context. Faults are not errors:
    /// they are in [`RunOutput::outcome`].
    pub fn run(&mut self, index: usize, input: &[u8]) -> Result<RunOutput, ObjectError> {
        let entry = self.prepared(index)?;
        let context = self.entries[index].context;
        let state = &mut self.state;
        let set = &self.set;
        let run = |state: &mut ExecState, mem: &mut [u8]| {
            set.run(entry, state, mem).unwrap_or(Outcome {
                // Cannot happen: `entry` came from `set.push`.
                result: Ok(0),
                instructions: None,
            })
        };
        let mut redirect = None;
        let (outcome, data) = match (context, self.buffer.as_mut()) {
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
                // Cannot happen: the buffer exists when any program has a packet context.
                return Err(ObjectError::LowMemory {
                    source: io::Error::other("no packet buffer"),
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

    /// The index of the map named `name`.
    ///
    /// # Errors
    /// [`ObjectError::NoSuchMap`].
    pub fn map_index(&self, name: &str) -> Result<usize, ObjectError> {
        self.maps
            .index_of(name)
            .ok_or_else(|| ObjectError::NoSuchMap {
                name: name.to_owned(),
            })
    }

    /// Puts program `program` (a name as [`LoadedObject::program`] takes) in slot `index` of
    /// the prog array `map`.
    ///
    /// # Errors
    /// Unknown map or program, a map that is not a prog array, a program that cannot run, an
    /// index out of range.
    pub fn set_tail_call(&self, map: &str, index: u32, program: &str) -> Result<(), ObjectError> {
        let m = self.map_index(map)?;
        let target = self.program(program)?;
        let set_index = self.prepared(target)?;
        if self.verified {
            self.check_tail_call_context(map, m, target)?;
        }
        let array = self
            .maps
            .prog_array(m)
            .ok_or_else(|| ObjectError::WrongMapKind {
                name: map.to_owned(),
                wanted: "prog array",
            })?;
        let slot = u32::try_from(set_index).unwrap_or(u32::MAX);
        array
            .set(index, slot)
            .map_err(|e| ObjectError::ProgArraySlot {
                map: map.to_owned(),
                index,
                reason: e.to_string(),
            })
    }

    /// Verified mode: every program that refers to map `m` (and so may tail-call through it)
    /// must have `target`'s context, the one `target` was verified for (Linux ties a prog
    /// array to one program type the same way).
    fn check_tail_call_context(
        &self,
        map: &str,
        m: usize,
        target: usize,
    ) -> Result<(), ObjectError> {
        let type_name = |i: usize| {
            self.entries[i]
                .context
                .verifier_type(self.object.programs[i].program_type)
                .name
        };
        let found = self.entries[target].context;
        for (caller, e) in self.entries.iter().enumerate() {
            if e.context != found && e.maps_referenced.binary_search(&m).is_ok() {
                return Err(ObjectError::TailCallContext(Box::new(TailCallMismatch {
                    map: map.to_owned(),
                    program: self.program_name(target).unwrap_or_default(),
                    found: type_name(target),
                    caller: self.program_name(caller).unwrap_or_default(),
                    wanted: type_name(caller),
                })));
            }
        }
        Ok(())
    }

    /// A copy of the value under `key` in map `map` (per-CPU kinds: every slot, each padded to
    /// 8 bytes), or `None`.
    ///
    /// # Errors
    /// Unknown map, wrong key size.
    pub fn lookup(&self, map: &str, key: &[u8]) -> Result<Option<Vec<u8>>, ObjectError> {
        Ok(self.maps.lookup(self.map_index(map)?, key)?)
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
        Ok(self.maps.update(self.map_index(map)?, key, value, flags)?)
    }

    /// Deletes `key` from map `map`.
    ///
    /// # Errors
    /// Unknown map, wrong key size, or the Linux error.
    pub fn delete(&self, map: &str, key: &[u8]) -> Result<(), ObjectError> {
        Ok(self.maps.delete(self.map_index(map)?, key)?)
    }

    /// Every (key, value) of map `map`, in iteration order.
    ///
    /// # Errors
    /// Unknown map, or a kind without keys (ring buffers, queues).
    pub fn entries(&self, map: &str) -> Result<Vec<Entry>, ObjectError> {
        Ok(entries_of(&self.maps, self.map_index(map)?)?)
    }

    /// Consumes every record submitted to the ring buffer `map`.
    ///
    /// # Errors
    /// Unknown map, or not a ring buffer.
    pub fn ringbuf_records(&self, map: &str) -> Result<Vec<Vec<u8>>, ObjectError> {
        let m = self.map_index(map)?;
        let ring = self
            .maps
            .ringbuf(m)
            .ok_or_else(|| ObjectError::WrongMapKind {
                name: map.to_owned(),
                wanted: "ring buffer",
            })?;
        Ok(ring.drain())
    }

    /// Every map's contents (ring buffers and perf arrays are consumed).
    #[must_use]
    pub fn dump_maps(&self) -> Vec<MapDump> {
        (0..self.maps.len())
            .filter_map(|i| self.dump_map(i))
            .collect()
    }

    /// Writes map `index`'s contents exactly as [`LoadedObject::dump_maps`] lists them, one
    /// element at a time: arrays and key/value maps are walked twice (once to count, once to
    /// write) and nothing is collected, so a map of any size is listed in constant memory
    /// (`apiary run --dump-maps`). Returns `false` when there is no map `index`.
    ///
    /// # Errors
    /// The writer's.
    pub fn write_map_dump(&self, index: usize, out: &mut dyn io::Write) -> io::Result<bool> {
        let Some(map) = self.maps.get(index) else {
            return Ok(false);
        };
        let spec = map.spec();
        let streamed = matches!(map.kind(), MapKind::Plain | MapKind::OfMaps)
            && !matches!(spec.map_type, map_type::QUEUE | map_type::STACK);
        if !streamed {
            if let Some(d) = self.dump_map(index) {
                write!(out, "{d}")?;
            }
            return Ok(true);
        }
        let per_slot = matches!(
            spec.map_type,
            map_type::PERCPU_ARRAY | map_type::PERCPU_HASH
        );
        let array = matches!(spec.map_type, map_type::ARRAY | map_type::PERCPU_ARRAY);
        write!(out, "{}", MapHeader::new(index, spec))?;
        let mut listed = 0usize;
        let counted = self.visit_listed(index, array, &mut |_, _| {
            listed += 1;
            Ok(())
        });
        match counted {
            Ok(()) => {}
            Err(ListStop::Map(e)) => {
                writeln!(out, ": {e}")?;
                return Ok(true);
            }
            Err(ListStop::Write(e)) => return Err(e),
        }
        let elements = spec.max_entries as usize;
        if !array || listed == elements {
            writeln!(out, ": {} entries", if array { elements } else { listed })?;
        } else {
            writeln!(
                out,
                ": {elements} entries ({} all-zero not shown)",
                elements - listed
            )?;
        }
        let written = self.visit_listed(index, array, &mut |k, v| {
            write!(out, "{}", EntryLines::new(spec, per_slot, k, v))
        });
        match written {
            Ok(()) => {}
            Err(ListStop::Map(e)) => writeln!(out, "  (listing stopped: {e})")?,
            Err(ListStop::Write(e)) => return Err(e),
        }
        Ok(true)
    }

    /// Calls `each` with every listed (key, value) of map `index`, in listing order: an array's
    /// non-zero elements by index, or every key of a key/value map in iteration order (at most
    /// `max_entries` steps). Both passes of [`LoadedObject::write_map_dump`] see the same keys.
    fn visit_listed(
        &self,
        index: usize,
        array: bool,
        each: &mut EntrySink<'_>,
    ) -> Result<(), ListStop> {
        let max_entries = self.maps.get(index).map_or(0, |m| m.spec().max_entries);
        if array {
            for i in 0..max_entries {
                let key = i.to_le_bytes();
                if let Some(v) = self.maps.lookup(index, &key).map_err(ListStop::Map)? {
                    if v.iter().any(|&b| b != 0) {
                        each(&key, &v).map_err(ListStop::Write)?;
                    }
                }
            }
            return Ok(());
        }
        let mut key = self.maps.next_key(index, None).map_err(ListStop::Map)?;
        let mut steps = 0u64;
        while let Some(k) = key {
            if steps > u64::from(max_entries) {
                break;
            }
            steps += 1;
            if let Some(v) = self.maps.lookup(index, &k).map_err(ListStop::Map)? {
                each(&k, &v).map_err(ListStop::Write)?;
            }
            key = self.maps.next_key(index, Some(&k)).map_err(ListStop::Map)?;
        }
        Ok(())
    }

    /// The number of maps (indices for [`LoadedObject::write_map_dump`]).
    #[must_use]
    pub fn map_count(&self) -> usize {
        self.maps.len()
    }

    fn dump_map(&self, index: usize) -> Option<MapDump> {
        let map = self.maps.get(index)?;
        let spec = map.spec().clone();
        let contents = match map.kind() {
            MapKind::RingBuf(r) => MapContents::Records(r.drain()),
            MapKind::PerfEvents(p) => {
                MapContents::Records(p.drain_all().into_iter().map(|(_, r)| r).collect())
            }
            MapKind::ProgArray(p) => MapContents::Programs(
                (0..spec.max_entries)
                    .filter_map(|slot| {
                        let target = p.get(slot)? as usize;
                        let name = self
                            .entries
                            .iter()
                            .position(|e| e.prepared.as_ref().ok() == Some(&target))
                            .and_then(|i| self.program_name(i))
                            .unwrap_or_else(|| format!("#{target}"));
                        Some((slot, name))
                    })
                    .collect(),
            ),
            // Arrays hold max_entries elements, mostly zero: only the non-zero ones are kept
            // (a 128 MiB array is not copied into 16 Mi key/value vectors to print a few lines).
            _ if matches!(spec.map_type, map_type::ARRAY | map_type::PERCPU_ARRAY) => {
                let mut nonzero = Vec::new();
                for i in 0..spec.max_entries {
                    let key = i.to_le_bytes();
                    match self.maps.lookup(index, &key) {
                        Ok(Some(v)) if v.iter().any(|&b| b != 0) => nonzero.push((key.to_vec(), v)),
                        Ok(_) => {}
                        Err(e) => {
                            return Some(MapDump {
                                index,
                                per_slot: spec.map_type == map_type::PERCPU_ARRAY,
                                spec,
                                contents: MapContents::Error(e.to_string()),
                            })
                        }
                    }
                }
                MapContents::Array {
                    elements: spec.max_entries as usize,
                    nonzero,
                }
            }
            _ if matches!(spec.map_type, map_type::QUEUE | map_type::STACK) => MapContents::Opaque(
                "queue/stack contents are not listed (popping would change them)",
            ),
            _ => match entries_of(&self.maps, index) {
                Ok(e) => MapContents::Entries(e),
                Err(e) => MapContents::Error(e.to_string()),
            },
        };
        Some(MapDump {
            index,
            spec,
            per_slot: matches!(
                map.spec().map_type,
                map_type::PERCPU_ARRAY | map_type::PERCPU_HASH
            ),
            contents,
        })
    }
}

/// Why verification did not accept a program.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum VerifyFailure {
    /// The program uses a symbol that cannot be linked.
    #[error("link: {source}")]
    Link { source: Box<ElfError> },
    /// The slots fail the load-time checks.
    #[error("{source}")]
    Load { source: LoadError },
    /// The verifier rejected the program.
    #[error("rejected at instruction {}: {}", .rejection.pc, .rejection.reason)]
    Rejected { rejection: Rejection },
}

fn entries_of(maps: &MapTable, index: usize) -> Result<Vec<Entry>, MapError> {
    let mut out = Vec::new();
    for key in maps.keys(index)? {
        if let Some(value) = maps.lookup(index, &key)? {
            out.push((key, value));
        }
    }
    Ok(out)
}

/// The maps `program`'s `lddw`s load (the handle or a value address, by fd or by index),
/// sorted and without repeats.
fn maps_referenced(program: &Program) -> Vec<usize> {
    let mut maps: Vec<usize> = program
        .instructions()
        .iter()
        .filter_map(|i| match *i {
            Instruction::LoadImm64 { value, .. } => match value {
                Lddw::MapFd(n) | Lddw::MapIdx(n) => usize::try_from(n).ok(),
                Lddw::MapValue { map, .. } | Lddw::MapIdxValue { map, .. } => {
                    usize::try_from(map).ok()
                }
                Lddw::Imm(_) | Lddw::VarAddr(_) | Lddw::CodeAddr(_) => None,
            },
            _ => None,
        })
        .collect();
    maps.sort_unstable();
    maps.dedup();
    maps
}

/// `(proven, accesses)` of a verified program (see [`LoadedObject::proven_accesses`]).
fn proven_accesses(program: &Program, facts: &Facts) -> (usize, usize) {
    program
        .instructions()
        .iter()
        .enumerate()
        .filter(|(_, i)| {
            matches!(
                i,
                Instruction::Load { .. } | Instruction::Store { .. } | Instruction::Atomic { .. }
            )
        })
        .fold((0, 0), |(proven, all), (pc, _)| {
            (proven + usize::from(facts.access_proven(pc)), all + 1)
        })
}

/// The verifier's view of an object's maps: each map, and the maps its maps of maps hold
/// (without the latter a lookup through a map of maps is rejected). Loads in verified mode,
/// [`LoadedObject::verify`] and `apiary verify` all verify against both.
struct ObjectMaps {
    maps: Vec<MapInfo>,
    options: Options,
}

impl ObjectMaps {
    fn of(object: &Object) -> Self {
        Self {
            maps: map_infos(object),
            options: Options {
                inner_maps: inner_maps(object),
                ..Options::default()
            },
        }
    }

    fn verify(
        &self,
        program: &Program,
        platform: &Platform,
        ty: &ProgramType,
    ) -> Result<Verified, Rejection> {
        verify_with(program, platform, ty, &self.maps, &self.options).0
    }
}

/// Verifies one program section as `ty`.
fn verify_section(
    section: &ProgramSection,
    load: &LoadOptions,
    ty: &ProgramType,
    platform: &Platform,
    maps: &ObjectMaps,
) -> Result<Verified, VerifyFailure> {
    if let Some(source) = &section.link_error {
        return Err(VerifyFailure::Link {
            source: Box::new(source.clone()),
        });
    }
    let program = Program::new(section.insns.clone(), load)
        .map_err(|source| VerifyFailure::Load { source })?;
    maps.verify(&program, platform, ty)
        .map_err(|rejection| VerifyFailure::Rejected { rejection })
}

/// Verified mode: verifies `program` as `ty` (the type of `context`), after checking that the
/// context apiary builds is at least as large as the one the verifier assumes.
fn verify_for_context(
    program: &Arc<Program>,
    ty: &ProgramType,
    context: ContextKind,
    platform: &Platform,
    maps: &ObjectMaps,
) -> Result<VerifiedProgram, ProgramError> {
    if let (CtxKind::Struct(layout), ContextKind::Struct { size }) = (ty.ctx, context) {
        if usize::try_from(layout.size).map_or(true, |needs| size < needs) {
            return Err(ProgramError::ContextTooSmall {
                program_type: ty.name,
                needs: layout.size,
                has: size,
            });
        }
    }
    VerifiedProgram::verify_with(Arc::clone(program), platform, ty, &maps.maps, &maps.options)
        .map_err(|rejection| ProgramError::Rejected {
            failure: Box::new(VerifyFailure::Rejected {
                rejection: *rejection,
            }),
        })
}

fn prepare_one(
    program: &Program,
    maps: &MapTable,
    env: &Environment,
    options: &ObjectOptions,
    verified: Option<&VerifiedProgram>,
) -> Result<Arc<dyn Executable>, ProgramError> {
    let bind_err = |source| ProgramError::Bind { source };
    match verified {
        Some(verified) => {
            // Binding rewrites `lddw` immediates only: the slots the facts index are unchanged.
            let bound = verified.bind(maps).map_err(bind_err)?;
            // SAFETY: the world is the one the proof assumed: `env`'s helpers are the Linux
            // helpers, which implement `Platform::linux`'s prototypes, and in verified mode host
            // helpers may only add ids the platform lacks (`HelperReplacesPrototype`); the
            // program is bound to `maps`, made from the object's definitions in the object's
            // order, as the `MapInfo`s it was verified with, and every map region is in `env`;
            // runs get the context apiary builds for the program's context kind, which
            // `verify_for_context` checked is at least the size the type assumes, and prog
            // arrays only hold programs of their callers' context (`TailCallContext`).
            unsafe { prepare_verified(options.engine, &bound, env) }
        }
        None => {
            let bound = bind(program, maps).map_err(bind_err)?;
            prepare(options.engine, Arc::new(bound.program), env)
        }
    }
    .map(Arc::from)
    .map_err(|source| ProgramError::Prepare { source })
}

/// What a map listing pass does with each (key, value).
type EntrySink<'a> = dyn FnMut(&[u8], &[u8]) -> io::Result<()> + 'a;

/// Why a streamed map listing stopped: the map (listed as a message) or the writer (returned).
enum ListStop {
    Map(MapError),
    Write(io::Error),
}

/// One map's contents, for printing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapDump {
    /// Index in the object.
    pub index: usize,
    /// Definition.
    pub spec: MapSpec,
    /// Per-CPU kind: values hold one 8-byte-padded copy per slot.
    pub per_slot: bool,
    /// Contents.
    pub contents: MapContents,
}

/// What a map holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MapContents {
    /// Key/value pairs.
    Entries(Vec<Entry>),
    /// An array's `elements` elements, of which only the non-zero ones are listed.
    Array {
        /// Number of elements (`max_entries`).
        elements: usize,
        /// The elements with a non-zero value, in index order.
        nonzero: Vec<Entry>,
    },
    /// Ring buffer or perf records, oldest first.
    Records(Vec<Vec<u8>>),
    /// Prog array slots and the programs in them.
    Programs(Vec<(u32, String)>),
    /// Not listed, and why.
    Opaque(&'static str),
    /// Listing failed.
    Error(String),
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A readable name of a map type.
#[must_use]
pub fn map_type_name(t: u32) -> &'static str {
    match t {
        map_type::HASH => "hash",
        map_type::ARRAY => "array",
        map_type::PROG_ARRAY => "prog_array",
        map_type::PERF_EVENT_ARRAY => "perf_event_array",
        map_type::PERCPU_HASH => "percpu_hash",
        map_type::PERCPU_ARRAY => "percpu_array",
        map_type::LRU_HASH => "lru_hash",
        map_type::LPM_TRIE => "lpm_trie",
        map_type::ARRAY_OF_MAPS => "array_of_maps",
        map_type::HASH_OF_MAPS => "hash_of_maps",
        map_type::QUEUE => "queue",
        map_type::STACK => "stack",
        map_type::RINGBUF => "ringbuf",
        _ => "other",
    }
}

impl MapDump {
    fn write_entries(&self, f: &mut fmt::Formatter<'_>, entries: &[Entry]) -> fmt::Result {
        for (k, v) in entries {
            write!(f, "{}", EntryLines::new(&self.spec, self.per_slot, k, v))?;
        }
        Ok(())
    }
}

/// The first line of a map's listing, up to the colon: `map INDEX NAME (TYPE, key K B, value
/// V B, max N[, read-only])`. The one place this format is written (whole dumps and streamed
/// ones alike).
struct MapHeader<'a> {
    index: usize,
    spec: &'a MapSpec,
}

impl<'a> MapHeader<'a> {
    const fn new(index: usize, spec: &'a MapSpec) -> Self {
        Self { index, spec }
    }
}

impl fmt::Display for MapHeader<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.spec;
        write!(
            f,
            "map {} {} ({}, key {} B, value {} B, max {}{})",
            self.index,
            s.name,
            map_type_name(s.map_type),
            s.key_size,
            s.value_size,
            s.max_entries,
            if s.program_read_only() {
                ", read-only"
            } else {
                ""
            }
        )
    }
}

/// The lines of one key/value entry (per-CPU kinds: one line per slot).
struct EntryLines<'a> {
    spec: &'a MapSpec,
    per_slot: bool,
    key: &'a [u8],
    value: &'a [u8],
}

impl<'a> EntryLines<'a> {
    const fn new(spec: &'a MapSpec, per_slot: bool, key: &'a [u8], value: &'a [u8]) -> Self {
        Self {
            spec,
            per_slot,
            key,
            value,
        }
    }
}

impl fmt::Display for EntryLines<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.per_slot {
            writeln!(f, "  {}:", hex(self.key))?;
            let stride = self.spec.value_stride().max(1);
            for (slot, chunk) in self.value.chunks(stride).enumerate() {
                let shown = &chunk[..(self.spec.value_size as usize).min(chunk.len())];
                writeln!(f, "    slot {slot}: {}", hex(shown))?;
            }
            Ok(())
        } else {
            writeln!(f, "  {}: {}", hex(self.key), hex(self.value))
        }
    }
}

impl fmt::Display for MapDump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", MapHeader::new(self.index, &self.spec))?;
        match &self.contents {
            MapContents::Entries(e) => {
                writeln!(f, ": {} entries", e.len())?;
                self.write_entries(f, e)?;
            }
            MapContents::Array { elements, nonzero } => {
                if nonzero.len() == *elements {
                    writeln!(f, ": {elements} entries")?;
                } else {
                    writeln!(
                        f,
                        ": {elements} entries ({} all-zero not shown)",
                        elements - nonzero.len()
                    )?;
                }
                self.write_entries(f, nonzero)?;
            }
            MapContents::Records(r) => {
                writeln!(f, ": {} records", r.len())?;
                for rec in r {
                    writeln!(f, "  {}", hex(rec))?;
                }
            }
            MapContents::Programs(p) => {
                writeln!(f, ": {} programs", p.len())?;
                for (slot, name) in p {
                    writeln!(f, "  {slot}: {name}")?;
                }
            }
            MapContents::Opaque(why) => writeln!(f, ": {why}")?,
            MapContents::Error(e) => writeln!(f, ": {e}")?,
        }
        Ok(())
    }
}
