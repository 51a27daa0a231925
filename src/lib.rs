//! apiary: a userspace eBPF runtime — ELF loader, verifier, interpreter and JITs — for
//! embedding in Rust programs.
//!
//! # The embedding API
//!
//! Shaped like wasmtime's, in three layers:
//!
//! - [`Module`]: an ELF object (or a raw program) **parsed, decoded and verified once**,
//!   engine-independent and immutable (`Send + Sync`: share it by `Arc`). Built under one
//!   [`Config`], whose defaults are `apiary run`'s (verified mode, a budget of 10⁸
//!   instructions). Programs and maps are named by typed handles, [`ProgramId`] and
//!   [`MapId`].
//! - [`Instance`]: a module ready to run on one engine ([`EngineKind`]): its maps (one shared
//!   table), the Linux helpers plus the host's, every program prepared, tail-call slots set by
//!   handle. [`Instance::run`] takes `&self`: one instance serves any number of threads.
//! - [`Store`]: one thread's execution state (stack, worker slot, packet frame) and the
//!   context buffer it leases from its instance. `&mut` per run; one per thread.
//!
//! Maps are read and written from the host through typed views over [`bytemuck::Pod`] keys
//! and values ([`HashMap`], [`Array`], [`PerCpuArray`], [`PerCpuHashMap`], [`RingBuf`],
//! [`ProgArray`]) or as raw bytes ([`Instance::maps`]). Every fallible call returns one flat
//! error enum, [`ObjectError`], whose [`ObjectError::code`] is stable. Faults of the program
//! itself (an out-of-bounds access in checked mode, the budget exhausted) are not errors:
//! they are the run's [`Outcome`].
//!
//! ## Load an object, fill a map, run on a packet
//!
//! `examples/xdp_counter.o` counts IPv4 packets per protocol in a hash map of
//! `u32 → struct { u64 packets; u64 bytes; }`, and drops ICMP.
//!
//! ```
//! use std::sync::Arc;
//! use apiary::{Config, EngineKind, Instance, Module};
//!
//! /// An Ethernet + IPv4 frame of 54 bytes with protocol `proto`.
//! fn packet(proto: u8) -> Vec<u8> {
//!     let mut f = vec![0xff; 12];
//!     f.extend_from_slice(&[0x08, 0x00]); // EtherType IPv4
//!     f.extend_from_slice(&[0x45, 0, 0, 40, 0, 1, 0, 0, 64, proto, 0, 0]);
//!     f.extend_from_slice(&[10, 0, 0, 1, 10, 0, 0, 2]);
//!     f.resize(54, 0xab);
//!     f
//! }
//!
//! let bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/xdp_counter.o"))?;
//! let module = Arc::new(Module::from_elf(&Config::new(), &bytes)?);
//! let instance = Instance::new(Arc::clone(&module), EngineKind::Interp)?;
//!
//! // Fill a map: start TCP's counters at 10 packets, 1000 bytes.
//! let counts = instance.hash_map::<u32, [u64; 2]>(module.map("proto_counts")?)?;
//! counts.insert(&6, &[10, 1000], 0)?;
//!
//! // Run on a packet: the frame becomes the `xdp_md` context.
//! let prog = module.find("count_by_protocol")?;
//! let mut store = instance.store()?;
//! let out = instance.run(&mut store, prog, &packet(6))?;
//! assert_eq!(out.action(), Some("XDP_PASS"));
//! assert_eq!(instance.run(&mut store, prog, &packet(1))?.action(), Some("XDP_DROP"));
//! assert_eq!(counts.get(&6)?, Some([11, 1054]));
//! assert_eq!(counts.get(&1)?, Some([1, 54]));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The same module runs on the JIT: `Instance::new(Arc::clone(&module), EngineKind::Jit)`
//! prepares the programs again for that engine, but does not parse or verify them again.
//!
//! ## Read a ring buffer
//!
//! `examples/ringbuf_events.o` submits one `struct event` per IPv4 packet.
//!
//! ```
//! use apiary::{bytemuck, Config, EngineKind, Instance, Module};
//!
//! /// `struct event` of `ringbuf_events.c`, its trailing padding made explicit.
//! #[derive(Clone, Copy, Debug)]
//! #[repr(C)]
//! struct Event {
//!     seq: u64,
//!     len: u32,
//!     saddr: [u8; 4],
//!     protocol: u8,
//!     ttl: u8,
//!     pad: u16,
//!     tail: u32,
//! }
//! // SAFETY: integers only, no implicit padding, every bit pattern valid.
//! unsafe impl bytemuck::Zeroable for Event {}
//! // SAFETY: as above.
//! unsafe impl bytemuck::Pod for Event {}
//!
//! # fn packet(proto: u8) -> Vec<u8> {
//! #     let mut f = vec![0xff; 12];
//! #     f.extend_from_slice(&[0x08, 0x00, 0x45, 0, 0, 40, 0, 1, 0, 0, 64, proto, 0, 0]);
//! #     f.extend_from_slice(&[10, 0, 0, 1, 10, 0, 0, 2]);
//! #     f.resize(54, 0xab);
//! #     f
//! # }
//! let bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/ringbuf_events.o"))?;
//! let module = Module::from_elf(&Config::new(), &bytes)?;
//! let prog = module.find("produce_events")?;
//! let events = module.map("events")?;
//! let instance = Instance::new(module, EngineKind::Interp)?;
//! let mut store = instance.store()?;
//! for proto in [6, 17] {
//!     instance.run(&mut store, prog, &packet(proto))?;
//! }
//! let records: Vec<Event> = instance.ring_buf(events)?.drain_as();
//! assert_eq!(records.len(), 2);
//! assert_eq!((records[0].seq, records[0].protocol), (0, 6));
//! assert_eq!((records[1].seq, records[1].len, records[1].saddr), (1, 54, [10, 0, 0, 1]));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Register a host helper
//!
//! A host function under a new helper id. The verifier knows the prototypes of Linux's
//! helpers only, so a program calling the host's runs in checked mode (every access checked
//! at run time); in verified mode a host helper may not replace a Linux one
//! ([`ObjectError::HelperReplacesPrototype`]).
//!
//! ```
//! use apiary::{Config, EngineKind, Instance, Module};
//!
//! let config = Config::new()
//!     .with_verified(false)
//!     .with_helper(4096, "triple", |_ctx, args| Ok(args[0].wrapping_mul(3)));
//! let module = Module::from_asm(&config, "mov %r1, 14\ncall 4096\nexit")?;
//! let prog = module.find("main")?;
//! for &engine in EngineKind::ALL {
//!     let instance = Instance::new(Module::from_asm(&config, "mov %r1, 14\ncall 4096\nexit")?, engine)?;
//!     let out = instance.run(&mut instance.store()?, prog, &[])?;
//!     assert_eq!(out.r0(), Some(42), "{engine}");
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Tail calls by handle
//!
//! ```
//! use apiary::{Config, EngineKind, Instance, Module};
//! # fn packet(proto: u8) -> Vec<u8> {
//! #     let mut f = vec![0xff; 12];
//! #     f.extend_from_slice(&[0x08, 0x00, 0x45, 0, 0, 40, 0, 1, 0, 0, 64, proto, 0, 0]);
//! #     f.extend_from_slice(&[10, 0, 0, 1, 10, 0, 0, 2]);
//! #     f.resize(54, 0xab);
//! #     f
//! # }
//! let bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/tail_dispatch.o"))?;
//! let module = Module::from_elf(&Config::new(), &bytes)?;
//! let (dispatch, udp) = (module.find("dispatch")?, module.find("handle_udp")?);
//! let (handlers, hits) = (module.map("handlers")?, module.map("hits")?);
//! let instance = Instance::new(module, EngineKind::Interp)?;
//! instance.prog_array(handlers)?.set(17, udp)?; // UDP (17) goes to handle_udp
//! let mut store = instance.store()?;
//! assert_eq!(instance.run(&mut store, dispatch, &packet(17))?.action(), Some("XDP_DROP"));
//! // No program in slot 6: the tail call falls through, counted in hits[0].
//! assert_eq!(instance.run(&mut store, dispatch, &packet(6))?.action(), Some("XDP_PASS"));
//! let hits = instance.array::<u64>(hits)?;
//! assert_eq!((hits.get(0)?, hits.get(2)?), (Some(1), Some(1)));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Run from many threads
//!
//! One instance, one store per thread, the maps shared: the counters are the sum of every
//! thread's runs (the program updates them atomically).
//!
//! ```
//! use std::sync::Arc;
//! use apiary::{Config, EngineKind, Instance, Module, Store};
//! # fn packet(proto: u8) -> Vec<u8> {
//! #     let mut f = vec![0xff; 12];
//! #     f.extend_from_slice(&[0x08, 0x00, 0x45, 0, 0, 40, 0, 1, 0, 0, 64, proto, 0, 0]);
//! #     f.extend_from_slice(&[10, 0, 0, 1, 10, 0, 0, 2]);
//! #     f.resize(54, 0xab);
//! #     f
//! # }
//!
//! let bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/xdp_counter.o"))?;
//! let module = Arc::new(Module::from_elf(&Config::new(), &bytes)?);
//! let prog = module.find("count_by_protocol")?;
//! let instance = Instance::new(Arc::clone(&module), EngineKind::Jit)?;
//! let counts = instance.hash_map::<u32, [u64; 2]>(module.map("proto_counts")?)?;
//! counts.insert(&17, &[0, 0], 0)?; // created up front: the program's own insert may race
//!
//! std::thread::scope(|s| {
//!     for slot in 0..4 {
//!         let instance = &instance;
//!         s.spawn(move || {
//!             let mut store = Store::with_slot(instance, slot).expect("a context buffer");
//!             for _ in 0..100 {
//!                 let out = instance.run(&mut store, prog, &packet(17)).expect("runs");
//!                 assert_eq!(out.action(), Some("XDP_PASS"));
//!             }
//!         });
//!     }
//! });
//! assert_eq!(counts.get(&17)?, Some([400, 400 * 54]));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Single raw programs
//!
//! [`Module::from_insns`] and [`Module::from_asm`] make a module of one raw program (context
//! [`ContextKind::Mem`]: r1 = the input, r2 = its length). [`Runtime`] is the lower layer
//! for one program and one engine, giving an [`Executable`] directly (the conformance
//! runner's path):
//!
//! ```
//! use apiary::{Runtime, EngineKind};
//! let runtime = Runtime::new(EngineKind::Interp).with_budget(1_000_000);
//! let prog = runtime.load_asm("mov %r0, %r2\nexit").unwrap();
//! assert_eq!(prog.run_once(&mut [1, 2, 3]).result, Ok(3));
//! ```

#![deny(missing_docs)]

// The variant fields of `ContextKind` and `ContextError` are described by their variants; the
// module belongs to the Linux-catalogue work, which documents them field by field.
#[allow(missing_docs)]
pub mod context;
pub mod dump;
pub mod error;
pub mod instance;
pub mod kconfig;
pub mod lowmem;
pub mod module;
pub mod object;
pub mod platform;
pub mod sandbox;
pub mod source;
pub mod store;
pub mod verified_mode;
pub mod views;

use std::sync::Arc;

pub use apiary_engine::{
    prepare, prepare_verified, prepare_verified_unsandboxed, EngineKind, PrepareError,
    VerifiedProgram,
};
pub use apiary_vm::{
    Environment, ExecConfig, ExecState, Executable, Fault, HelperTable, Insn, LoadError,
    LoadOptions, Outcome, Program,
};
use thiserror::Error;

pub use bytemuck;
pub use context::ContextKind;
pub use error::{ObjectError, ProgramError, VerifyFailure};
pub use instance::Instance;
pub use module::{Config, HostPrototypes, MapId, Module, ProgramId};
pub use object::{LoadedObject, ObjectOptions};
pub use store::{RunOutput, Store};
pub use views::{Array, HashMap, PerCpuArray, PerCpuHashMap, ProgArray, RingBuf};

/// Why a program could not be made ready to run.
#[derive(Debug, Error)]
pub enum Error {
    /// The program text or bytes could not be read.
    #[error(transparent)]
    Source(#[from] source::SourceError),
    /// The program failed its load-time checks, or the engine could not prepare it.
    #[error(transparent)]
    Prepare(#[from] PrepareError),
    /// The program failed its load-time checks.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// The verifier rejected the program.
    #[error("verifier: {0}")]
    Rejected(Box<apiary_verifier::Rejection>),
}

/// Loads programs for one engine with one set of helpers, options and budget.
#[derive(Clone, Debug)]
pub struct Runtime {
    engine: EngineKind,
    options: LoadOptions,
    helpers: HelperTable,
    config: ExecConfig,
}

impl Runtime {
    /// A runtime for `engine`, no helpers, default load options, no budget.
    #[must_use]
    pub fn new(engine: EngineKind) -> Self {
        Self {
            engine,
            options: LoadOptions::default(),
            helpers: HelperTable::new(),
            config: ExecConfig::default(),
        }
    }

    /// Sets the instruction budget (metering on).
    #[must_use]
    pub fn with_budget(mut self, budget: u64) -> Self {
        self.config.budget = Some(budget);
        self
    }

    /// Sets the helpers programs may call.
    #[must_use]
    pub fn with_helpers(mut self, helpers: HelperTable) -> Self {
        self.helpers = helpers;
        self
    }

    /// Sets the optional instruction groups accepted at load.
    #[must_use]
    pub fn with_options(mut self, options: LoadOptions) -> Self {
        self.options = options;
        self
    }

    /// Checks `insns` and prepares them for the engine.
    ///
    /// # Errors
    /// [`Error::Load`] or [`Error::Prepare`].
    pub fn load(&self, insns: Vec<Insn>) -> Result<Box<dyn Executable>, Error> {
        let program = Arc::new(Program::new(insns, &self.options)?);
        let env = Environment::new(self.helpers.clone(), self.config);
        Ok(prepare(self.engine, program, &env)?)
    }

    /// Assembles, checks and prepares a program.
    ///
    /// # Errors
    /// As [`Runtime::load`], plus assembly errors with line and column.
    pub fn load_asm(&self, text: &str) -> Result<Box<dyn Executable>, Error> {
        self.load(source::read_program(text.as_bytes(), source::Format::Asm)?)
    }

    /// Verifies `insns` as a `mem` program (r1 = input of any length, r2 = that length) on the
    /// conformance platform, then prepares it in verified mode: the accesses the verifier
    /// proved in bounds run without run-time checks. The helpers are the conformance helpers
    /// (ids 0–5), whose prototypes the verifier knows; this runtime's own helper table is not
    /// used, since the proof holds only for the prototypes it was made with.
    ///
    /// # Errors
    /// [`Error::Load`], [`Error::Rejected`] (with pc, instruction, reason and state), or
    /// [`Error::Prepare`].
    pub fn load_verified(&self, insns: Vec<Insn>) -> Result<Box<dyn Executable>, Error> {
        self.verify_and_prepare(insns, None)
    }

    /// As [`Runtime::load_verified`], for inputs of exactly `len` bytes: more programs are
    /// proven safe (accesses need no bounds check against r2), and runs with any other input
    /// length are refused with [`Fault::InputLength`].
    ///
    /// # Errors
    /// As [`Runtime::load_verified`].
    pub fn load_verified_for_len(
        &self,
        insns: Vec<Insn>,
        len: u64,
    ) -> Result<Box<dyn Executable>, Error> {
        // `prepare_verified` puts the length check in front of a program proven for one length.
        self.verify_and_prepare(insns, Some(len))
    }

    fn verify_and_prepare(
        &self,
        insns: Vec<Insn>,
        len: Option<u64>,
    ) -> Result<Box<dyn Executable>, Error> {
        let program = Arc::new(Program::new(insns, &self.options)?);
        let verified = VerifiedProgram::verify(
            program,
            &apiary_verifier::Platform::conformance(),
            &apiary_verifier::ProgramType::mem(len),
            &[],
        )
        .map_err(Error::Rejected)?;
        let env = Environment::new(apiary_engine::helpers::conformance_helpers(), self.config);
        // SAFETY: the environment is the one the proof assumed: the conformance helpers
        // implement `Platform::conformance`'s prototypes and are the only helpers; no maps and
        // no extra regions; a `mem` program's input is any buffer (its length, when the proof
        // is for one, is enforced by `prepare_verified`).
        Ok(unsafe { prepare_verified(self.engine, &verified, &env) }?)
    }
}
