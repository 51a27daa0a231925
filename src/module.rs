//! [`Module`]: a program set parsed, decoded and verified once, independent of any engine.
//!
//! A module is made from an ELF object ([`Module::from_elf`]) or from raw bytecode or assembly
//! ([`Module::from_insns`], [`Module::from_asm`]) under one [`Config`], whose defaults are the
//! command line's. It holds, per program, its name, its context, the decoded [`Program`], and
//! the verifier's verdict bound to that very program ([`VerifiedProgram`]): computed at build
//! in verified mode, on first [`Module::verify`] otherwise, never twice. It holds no maps and
//! no compiled code: those belong to each [`crate::Instance`], so one module (shared by
//! `Arc`, it is `Send + Sync`) serves the interpreter and the JIT alike.

use std::fmt;
use std::sync::{Arc, OnceLock};

use apiary_elf::{
    ElfError, Kconfig, MapDef, MapKind as DefKind, Object, ParseOptions, ProgramSection,
    ProgramType as SectionType,
};
use apiary_engine::VerifiedProgram;
use apiary_verifier::platform::{CtxKind, HelperProto};
use apiary_verifier::{MapInfo, Options, Platform, ProgramType};
use apiary_vm::helpers::HelperResult;
use apiary_vm::instruction::{Instruction, Lddw};
use apiary_vm::linux::LinuxOptions;
use apiary_vm::maps::{MapOptions, MapSpec};
use apiary_vm::{Facts, HelperContext, HelperTable, Insn, LoadOptions, Program};

use crate::context::ContextKind;
use crate::error::{ObjectError, ProgramError, VerifyFailure};
use crate::platform::{inner_maps, map_infos, program_setting, TypeChoice};

/// Deepest map-of-maps nesting converted (deeper inner templates are dropped).
const MAX_INNER_DEPTH: usize = 4;

/// A program of a [`Module`] (and of every instance made from it): an index into the module's
/// programs, valid for the module that gave it out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(transparent)]
pub struct ProgramId(pub u32);

impl ProgramId {
    /// The index in the module's program list.
    #[must_use]
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

/// A map of a [`Module`] (the maps of every instance are made in the module's order): an
/// index, valid for the module that gave it out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(transparent)]
pub struct MapId(pub u32);

impl MapId {
    /// The index in the module's map list.
    #[must_use]
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

/// How to build modules and their instances: the one set of options for ELF objects and raw
/// programs alike. The defaults are `apiary run`'s: verified mode on, a budget of 100 million
/// instructions, kfunc calls accepted (libbpf objects hold dead weak ones).
#[derive(Clone, Debug)]
pub struct Config {
    /// Instruction budget per run (`None`: metering off).
    pub budget: Option<u64>,
    /// Host sinks of the Linux helpers (`bpf_trace_printk` output).
    pub linux: LinuxOptions,
    /// Per-CPU slots, perf ring sizes, and the [`apiary_vm::Limits`] on everything an object
    /// asks for (maps, global data sections, programs, instructions), checked before allocating.
    pub maps: MapOptions,
    /// Host helpers, registered over the Linux ones (same id: the host's wins, unverified only).
    pub helpers: HelperTable,
    /// Verifier prototypes of host helpers ([`Config::with_helper_prototype`]): in verified
    /// mode a program may call a host helper only if it has one here. The embedder vouches
    /// that the helper does what its prototype says (reads only the memory the prototype
    /// lets it read, writes only what it lets it write).
    pub prototypes: HostPrototypes,
    /// Instruction groups accepted.
    pub load: LoadOptions,
    /// Values of an object's `__kconfig` externs over the host's ([`crate::kconfig::host_with`]).
    pub kconfig: Kconfig,
    /// The target BTF that CO-RE relocations are resolved against
    /// ([`apiary_elf::TargetBtf::parse`]: raw BTF or an ELF file with `.BTF`); `None`: the
    /// running kernel's `/sys/kernel/btf/vmlinux` where it exists ([`host_btf`]), as libbpf does.
    pub target_btf: Option<Arc<apiary_elf::TargetBtf>>,
    /// The worker slot ("CPU") a store runs as unless told otherwise ([`crate::Store::with_slot`]).
    pub slot: u32,
    /// Forces one program type for every program, its context and the verifier's type
    /// together (`apiary run --type`, chosen by [`crate::platform::choose_type`]); else each
    /// follows its section name, and raw programs are [`TypeChoice::Mem`].
    pub program_type: Option<TypeChoice>,
    /// Forces one context for every program, under the type the context implies
    /// ([`ContextKind::verifier_type`]); `program_type` wins over it.
    pub context: Option<ContextKind>,
    /// Verified mode: every program is verified when the module is built, for its context's
    /// program type (Linux platform, the module's maps); a rejected program cannot run
    /// ([`ProgramError::Rejected`]) and an accepted one runs without the run-time checks the
    /// verifier proved redundant. Host helpers may then only add ids
    /// ([`ObjectError::HelperReplacesPrototype`]), and a prog array only holds programs of the
    /// context of the programs that tail-call through it ([`ObjectError::TailCallContext`]).
    pub verified: bool,
    /// Verified mode *without* the sandbox window, for programs the embedder trusts: proven
    /// accesses run unconfined, so a verifier bug can reach host memory. By default (`false`)
    /// verified instances are sandboxed: their maps, globals, context buffers and run stacks
    /// live in one window and unchecked accesses are confined to it ([`crate::sandbox`]).
    pub unsandboxed: bool,
    /// How many stores may hold a context buffer of one instance at once (packet programs
    /// only: each store leases one buffer below 4 GiB from its instance).
    pub stores: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            budget: Some(100_000_000),
            linux: LinuxOptions::default(),
            maps: MapOptions::default(),
            helpers: HelperTable::new(),
            prototypes: HostPrototypes::default(),
            load: crate::object::object_load_options(),
            kconfig: Kconfig::new(),
            target_btf: None,
            slot: 0,
            program_type: None,
            context: None,
            verified: true,
            unsandboxed: false,
            stores: 8,
        }
    }
}

impl Config {
    /// The defaults (see [`Config`]).
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the instruction budget (`None`: metering off).
    #[must_use]
    pub const fn with_budget(mut self, budget: Option<u64>) -> Self {
        self.budget = budget;
        self
    }

    /// Turns verified mode on or off.
    #[must_use]
    pub const fn with_verified(mut self, verified: bool) -> Self {
        self.verified = verified;
        self
    }

    /// Forces one program type for every program (its context and verifier type).
    #[must_use]
    pub const fn with_program_type(mut self, program_type: TypeChoice) -> Self {
        self.program_type = Some(program_type);
        self
    }

    /// Forces one context for every program.
    #[must_use]
    pub const fn with_context(mut self, context: ContextKind) -> Self {
        self.context = Some(context);
        self
    }

    /// Sets how many stores of one instance may run packet programs at once.
    #[must_use]
    pub const fn with_stores(mut self, stores: usize) -> Self {
        self.stores = stores;
        self
    }

    /// Sets the instruction groups accepted.
    #[must_use]
    pub const fn with_load_options(mut self, load: LoadOptions) -> Self {
        self.load = load;
        self
    }

    /// Registers a host helper under `id` (in verified mode, an id no Linux helper has).
    #[must_use]
    pub fn with_helper<F>(mut self, id: u32, name: &str, func: F) -> Self
    where
        F: Fn(&mut HelperContext<'_>, [u64; 5]) -> HelperResult + Send + Sync + 'static,
    {
        self.helpers.register(id, name, func);
        self
    }

    /// Gives host helper `id` a prototype the verifier uses (see [`Config::prototypes`]);
    /// register the helper itself with [`Config::with_helper`].
    ///
    /// # Safety
    /// Verified mode runs proven accesses without checks, trusting the prototype: the helper
    /// registered under `id` must read at most the memory its memory arguments describe,
    /// write only `MemOut`/`MemInOut`/`MapValueOut` memory within the sizes given, and return
    /// what `proto.ret` says (a pointer return only as the prototype allows). A helper that
    /// goes through [`HelperContext`]'s checked copies cannot touch memory outside the run's
    /// regions, but its results still feed the proof.
    #[must_use]
    pub unsafe fn with_helper_prototype(mut self, id: u32, proto: HelperProto) -> Self {
        self.prototypes.0.retain(|(i, _)| *i != id);
        self.prototypes.0.push((id, proto));
        self
    }

    /// The verifier's platform: Linux's helpers plus the host helpers' prototypes.
    #[must_use]
    pub fn platform(&self) -> Platform {
        let mut platform = Platform::linux();
        for (id, proto) in &self.prototypes.0 {
            platform.set_helper(*id, *proto);
        }
        platform
    }

    /// Parses an object under this configuration's limits, with the `__kconfig` externs taking
    /// the host's values and [`Config::kconfig`] over them.
    ///
    /// # Errors
    /// The [`ElfError`] naming the first problem found.
    pub fn parse_object(&self, bytes: &[u8]) -> Result<Object, ElfError> {
        Object::parse_options(
            bytes,
            &ParseOptions {
                limits: self.maps.limits,
                kconfig: crate::kconfig::host_with(&self.kconfig),
                target_btf: self.target_btf.clone(),
                default_target_btf: Some(host_btf),
            },
        )
    }
}

/// The running kernel's BTF (`/sys/kernel/btf/vmlinux`), parsed once per process and only for
/// objects with CO-RE relocations: the default CO-RE target, as for libbpf. `None` where the
/// kernel has no BTF (objects then keep their compile-time layout).
#[must_use]
pub fn host_btf() -> Option<Arc<apiary_elf::TargetBtf>> {
    static HOST: OnceLock<Option<Arc<apiary_elf::TargetBtf>>> = OnceLock::new();
    HOST.get_or_init(|| {
        let bytes = std::fs::read("/sys/kernel/btf/vmlinux").ok()?;
        apiary_elf::TargetBtf::parse(bytes.into())
            .ok()
            .map(Arc::new)
    })
    .clone()
}

/// The verifier prototypes of host helpers: filled only by the unsafe
/// [`Config::with_helper_prototype`] (the embedder vouches for each helper), so the field
/// that holds them can be public without letting safe code forge a promise.
#[derive(Clone, Debug, Default)]
pub struct HostPrototypes(Vec<(u32, HelperProto)>);

impl HostPrototypes {
    /// The helper ids that have a prototype.
    pub fn ids(&self) -> impl Iterator<Item = u32> + '_ {
        self.0.iter().map(|(id, _)| *id)
    }
}

/// One program of a module.
struct Entry {
    section: String,
    function: String,
    /// The verifier's type (with `context`, from [`program_setting`]).
    ty: ProgramType,
    context: ContextKind,
    /// The decoded program, or why it cannot be ([`VerifyFailure::Link`] or
    /// [`VerifyFailure::Load`]: the failures before verification).
    program: Result<Arc<Program>, VerifyFailure>,
    /// The maps the program's `lddw`s refer to (so may tail-call through), sorted.
    maps_referenced: Vec<usize>,
    /// The verifier's verdict, computed once.
    verdict: OnceLock<Result<VerifiedProgram, VerifyFailure>>,
    /// Verified mode: the context apiary builds is smaller than the type's.
    too_small: Option<ProgramError>,
}

impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Program")
            .field("section", &self.section)
            .field("function", &self.function)
            .field("context", &self.context)
            .field("ok", &self.program.is_ok())
            .finish_non_exhaustive()
    }
}

/// A parsed, decoded (and in verified mode verified) set of programs with its map
/// definitions; engine-independent and immutable (see the [module documentation](self)).
pub struct Module {
    config: Config,
    object: Object,
    specs: Vec<MapSpec>,
    map_infos: Vec<MapInfo>,
    verifier_options: Options,
    programs: Vec<Entry>,
}

impl fmt::Debug for Module {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Module")
            .field("programs", &self.programs)
            .field("maps", &self.specs.len())
            .field("verified", &self.config.verified)
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

impl Module {
    /// Parses an ELF object and builds its module.
    ///
    /// # Errors
    /// [`ObjectError::Elf`], or as [`Module::from_object`].
    pub fn from_elf(config: &Config, bytes: &[u8]) -> Result<Self, ObjectError> {
        let object = config
            .parse_object(bytes)
            .map_err(|source| ObjectError::Elf { source })?;
        Self::from_object(config, object)
    }

    /// A module of one raw program named `name` (no maps; context [`ContextKind::Mem`] unless
    /// [`Config::context`] forces another).
    ///
    /// # Errors
    /// As [`Module::from_object`].
    pub fn from_insns(config: &Config, name: &str, insns: Vec<Insn>) -> Result<Self, ObjectError> {
        // A raw program has no section to choose its type: plain memory unless told otherwise.
        let raw;
        let config = if config.program_type.is_none() && config.context.is_none() {
            raw = Config {
                program_type: Some(TypeChoice::Mem),
                ..config.clone()
            };
            &raw
        } else {
            config
        };
        let object = Object {
            programs: vec![ProgramSection {
                section: name.to_owned(),
                function: name.to_owned(),
                program_type: SectionType::Unspecified,
                insns,
                maps_used: Vec::new(),
                link_error: None,
            }],
            maps: Vec::new(),
            license: None,
        };
        Self::from_object(config, object)
    }

    /// A module of one program in apiary's assembly, named `main`.
    ///
    /// # Errors
    /// [`ObjectError::Source`] with line and column, or as [`Module::from_object`].
    pub fn from_asm(config: &Config, text: &str) -> Result<Self, ObjectError> {
        let insns = crate::source::read_program(text.as_bytes(), crate::source::Format::Asm)
            .map_err(|source| ObjectError::Source { source })?;
        Self::from_insns(config, "main", insns)
    }

    /// Builds the module of a parsed object: decodes every program once and, in verified
    /// mode, verifies it. A program that cannot be decoded or is rejected does not fail the
    /// module: its error is kept and returned when it is run or placed in a prog array.
    ///
    /// # Errors
    /// [`ObjectError::HelperReplacesPrototype`] in verified mode.
    pub fn from_object(config: &Config, object: Object) -> Result<Self, ObjectError> {
        if config.verified {
            let platform = Platform::linux();
            if let Some(h) = config
                .helpers
                .iter()
                .find(|h| platform.helper(h.id).is_some())
            {
                return Err(ObjectError::HelperReplacesPrototype {
                    id: h.id,
                    name: h.name.clone(),
                });
            }
        }
        let programs = object
            .programs
            .iter()
            .map(|p| {
                let (context, ty) =
                    program_setting(p.program_type, config.program_type, config.context);
                let program = match &p.link_error {
                    Some(source) => Err(VerifyFailure::Link {
                        source: Box::new(source.clone()),
                    }),
                    None => Program::new(p.insns.clone(), &config.load)
                        .map(Arc::new)
                        .map_err(|source| VerifyFailure::Load { source }),
                };
                Entry {
                    section: p.section.clone(),
                    function: p.function.clone(),
                    ty,
                    context,
                    maps_referenced: program.as_deref().map(maps_referenced).unwrap_or_default(),
                    program,
                    verdict: OnceLock::new(),
                    too_small: None,
                }
            })
            .collect();
        let mut module = Self {
            config: config.clone(),
            specs: object.maps.iter().map(map_spec).collect(),
            map_infos: map_infos(&object),
            verifier_options: Options {
                inner_maps: inner_maps(&object),
                ..Options::default()
            },
            object,
            programs,
        };
        if config.verified {
            for e in &mut module.programs {
                e.too_small = context_too_small(&e.verifier_type(), e.context);
            }
            for i in 0..module.programs.len() {
                if module.programs[i].program.is_ok() && module.programs[i].too_small.is_none() {
                    module.verdict_at(i);
                }
            }
        }
        Ok(module)
    }

    /// The configuration the module was built with (its instances use it too).
    #[must_use]
    pub const fn config(&self) -> &Config {
        &self.config
    }

    /// Whether the module is in verified mode ([`Config::verified`]).
    #[must_use]
    pub const fn verified(&self) -> bool {
        self.config.verified
    }

    /// The parsed object (for raw programs, one made up of the single program).
    #[must_use]
    pub const fn object(&self) -> &Object {
        &self.object
    }

    /// The map definitions, in the module's order (every instance's maps follow it).
    #[must_use]
    pub fn map_specs(&self) -> &[MapSpec] {
        &self.specs
    }

    /// Number of programs.
    #[must_use]
    pub fn len(&self) -> usize {
        self.programs.len()
    }

    /// Whether the module has no program.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.programs.is_empty()
    }

    /// Every program, in the object's order.
    pub fn programs(&self) -> impl Iterator<Item = ProgramId> + '_ {
        (0..self.programs.len()).map(|i| ProgramId(i as u32))
    }

    fn entry(&self, id: ProgramId) -> Result<&Entry, ObjectError> {
        self.programs
            .get(id.index())
            .ok_or(ObjectError::NoProgramIndex { index: id.index() })
    }

    /// `section:function` (or the section alone when they are equal).
    #[must_use]
    pub fn name(&self, id: ProgramId) -> Option<String> {
        self.programs.get(id.index()).map(|e| {
            if e.section == e.function {
                e.section.clone()
            } else {
                format!("{}:{}", e.section, e.function)
            }
        })
    }

    /// The program's context.
    #[must_use]
    pub fn context(&self, id: ProgramId) -> Option<ContextKind> {
        self.programs.get(id.index()).map(|e| e.context)
    }

    /// The verifier's program type the program is (or would be) verified as.
    #[must_use]
    pub fn program_type(&self, id: ProgramId) -> Option<ProgramType> {
        self.programs.get(id.index()).map(Entry::verifier_type)
    }

    /// The decoded program (before binding to any instance's maps).
    ///
    /// # Errors
    /// [`ObjectError::NoProgramIndex`], or [`ObjectError::Program`] with the link or load error.
    pub fn program(&self, id: ProgramId) -> Result<&Arc<Program>, ObjectError> {
        let e = self.entry(id)?;
        e.program.as_ref().map_err(|failure| ObjectError::Program {
            program: self.name(id).unwrap_or_default(),
            source: program_error(failure),
        })
    }

    /// The maps program `id` refers to (and so may tail-call through), sorted.
    #[must_use]
    pub fn maps_referenced(&self, id: ProgramId) -> &[usize] {
        self.programs
            .get(id.index())
            .map_or(&[], |e| &e.maps_referenced)
    }

    fn available(&self) -> String {
        self.programs()
            .filter_map(|i| self.name(i))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The program named `name`: a function name, a section name (when it holds one program),
    /// or `section:function`.
    ///
    /// # Errors
    /// [`ObjectError::NoSuchProgram`] when none or several match.
    pub fn find(&self, name: &str) -> Result<ProgramId, ObjectError> {
        let matches: Vec<usize> = self
            .programs
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
            .filter(|&i| self.programs[i].function == name)
            .collect();
        match (matches.as_slice(), by_function.as_slice()) {
            ([one], _) | (_, [one]) => Ok(ProgramId(*one as u32)),
            _ => Err(ObjectError::NoSuchProgram {
                wanted: name.to_owned(),
                available: self.available(),
            }),
        }
    }

    /// The program matching a section and/or function (either may be absent; with both
    /// absent, the module's only program).
    ///
    /// # Errors
    /// [`ObjectError::NoSuchProgram`] when none or several match.
    pub fn select(
        &self,
        section: Option<&str>,
        function: Option<&str>,
    ) -> Result<ProgramId, ObjectError> {
        let matches: Vec<usize> = self
            .programs
            .iter()
            .enumerate()
            .filter(|(_, e)| section.is_none_or(|s| e.section == s))
            .filter(|(_, e)| function.is_none_or(|f| e.function == f))
            .map(|(i, _)| i)
            .collect();
        match matches.as_slice() {
            [one] => Ok(ProgramId(*one as u32)),
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

    /// The map named `name`.
    ///
    /// # Errors
    /// [`ObjectError::NoSuchMap`].
    pub fn map(&self, name: &str) -> Result<MapId, ObjectError> {
        self.specs
            .iter()
            .position(|s| s.name == name)
            .map(|i| MapId(i as u32))
            .ok_or_else(|| ObjectError::NoSuchMap {
                name: name.to_owned(),
            })
    }

    /// The definition of map `id`.
    ///
    /// # Errors
    /// [`ObjectError::NoMapIndex`].
    pub fn map_spec(&self, id: MapId) -> Result<&MapSpec, ObjectError> {
        self.specs
            .get(id.index())
            .ok_or(ObjectError::NoMapIndex { index: id.index() })
    }

    fn verdict_at(&self, index: usize) -> &Result<VerifiedProgram, VerifyFailure> {
        let e = &self.programs[index];
        e.verdict.get_or_init(|| match &e.program {
            Err(failure) => Err(failure.clone()),
            Ok(program) => VerifiedProgram::verify_with(
                Arc::clone(program),
                &self.config.platform(),
                &e.verifier_type(),
                &self.map_infos,
                &self.verifier_options,
            )
            .map_err(|rejection| VerifyFailure::Rejected {
                rejection: *rejection,
            }),
        })
    }

    /// The verifier's verdict on program `id` (as decoded, before binding) for its context's
    /// program type with the module's maps: computed once, at build in verified mode.
    ///
    /// # Errors
    /// [`ObjectError::NoProgramIndex`], or [`ObjectError::Program`] with
    /// [`ProgramError::Link`], [`ProgramError::Load`] or [`ProgramError::Rejected`].
    pub fn verify(&self, id: ProgramId) -> Result<&VerifiedProgram, ObjectError> {
        self.entry(id)?;
        self.verdict_at(id.index())
            .as_ref()
            .map_err(|failure| ObjectError::Program {
                program: self.name(id).unwrap_or_default(),
                source: program_error(failure),
            })
    }

    /// The verdict, for [`crate::LoadedObject::verify`]'s nested form.
    pub(crate) fn verdict(
        &self,
        id: ProgramId,
    ) -> Result<Result<&VerifiedProgram, &VerifyFailure>, ObjectError> {
        self.entry(id)?;
        Ok(self.verdict_at(id.index()).as_ref())
    }

    /// What instances prepare for program `id`: in verified mode the verified program (or why
    /// it cannot run), else the decoded one.
    pub(crate) fn runnable(&self, id: ProgramId) -> Result<Runnable<'_>, ProgramError> {
        let e = &self.programs[id.index()];
        let program = e.program.as_ref().map_err(program_error)?;
        if !self.config.verified {
            return Ok(Runnable::Checked(program));
        }
        if let Some(too_small) = &e.too_small {
            return Err(too_small.clone());
        }
        self.verdict_at(id.index())
            .as_ref()
            .map(Runnable::Verified)
            .map_err(program_error)
    }

    /// Verified mode: `(proven, accesses)` of program `id` (see
    /// [`crate::Instance::proven_accesses`]); `None` in checked mode or when rejected.
    #[must_use]
    pub fn proven_accesses(&self, id: ProgramId) -> Option<(usize, usize)> {
        match self.runnable(id).ok()? {
            Runnable::Verified(v) => Some(proven_accesses(v.program(), v.facts())),
            Runnable::Checked(_) => None,
        }
    }
}

/// The program an instance prepares.
pub(crate) enum Runnable<'a> {
    /// Checked mode.
    Checked(&'a Arc<Program>),
    /// Verified mode.
    Verified(&'a VerifiedProgram),
}

/// Why a program cannot run, for a verification failure: link and load errors are the
/// program's own, a rejection is the verifier's.
fn program_error(failure: &VerifyFailure) -> ProgramError {
    match failure {
        VerifyFailure::Link { source } => ProgramError::Link {
            source: source.clone(),
        },
        VerifyFailure::Load { source } => ProgramError::Load {
            source: source.clone(),
        },
        VerifyFailure::Rejected { .. } => ProgramError::Rejected {
            failure: Box::new(failure.clone()),
        },
    }
}

impl Entry {
    fn verifier_type(&self) -> ProgramType {
        self.ty
    }
}

/// Verified mode: whether the context apiary builds for `context` is smaller than the one the
/// verifier assumes for `ty` (then the proof would not hold).
fn context_too_small(ty: &ProgramType, context: ContextKind) -> Option<ProgramError> {
    if let (CtxKind::Struct(layout), ContextKind::Struct { size }) = (ty.ctx, context) {
        if usize::try_from(layout.size).map_or(true, |needs| size < needs) {
            return Some(ProgramError::ContextTooSmall {
                program_type: ty.name,
                needs: layout.size,
                has: size,
            });
        }
    }
    None
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

/// `(proven, accesses)` of a verified program.
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

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn modules_are_shareable() {
        assert_send_sync::<Module>();
        assert_send_sync::<Arc<Module>>();
    }
}
