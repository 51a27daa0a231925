//! The errors of the embedding API ([`crate::Module`], [`crate::Instance`], [`crate::Store`]
//! and the map views): flat enums, each variant naming what failed and where, each with a
//! stable numeric [`ObjectError::code`] so that a C API can hand them across without strings.

use std::io;

use apiary_elf::ElfError;
use apiary_engine::PrepareError;
use apiary_verifier::Rejection;
use apiary_vm::maps::{BindError, MapError};
use apiary_vm::LoadError;
use thiserror::Error;

use crate::context::ContextError;

/// Why one program of a module cannot run on an instance.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum ProgramError {
    /// The program uses a symbol that cannot be linked (the object's other programs load).
    #[error("link: {source}")]
    Link {
        /// The loader's error.
        source: Box<ElfError>,
    },
    /// The relocated slots fail the load-time checks.
    #[error("load: {source}")]
    Load {
        /// The decoder's error.
        source: LoadError,
    },
    /// The program names a map the object lacks, or a map value out of range.
    #[error("bind: {source}")]
    Bind {
        /// The binder's error.
        source: BindError,
    },
    /// The engine refused the program (for example a helper apiary does not implement).
    #[error("{source}")]
    Prepare {
        /// The engine's error.
        source: PrepareError,
    },
    /// Verified mode: the verifier did not accept the program.
    #[error("verifier: {failure}")]
    Rejected {
        /// Why.
        failure: Box<VerifyFailure>,
    },
    /// Verified mode: the context apiary builds for the program is smaller than the one the
    /// verifier assumes for its program type, so the proof would not hold.
    #[error(
        "verified mode: the {program_type} context is {needs} bytes but this program's \
         context has {has}"
    )]
    ContextTooSmall {
        /// The verifier's program type.
        program_type: &'static str,
        /// The size it assumes.
        needs: u32,
        /// The size apiary builds.
        has: usize,
    },
}

/// Why verification did not accept a program.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum VerifyFailure {
    /// The program uses a symbol that cannot be linked.
    #[error("link: {source}")]
    Link {
        /// The loader's error.
        source: Box<ElfError>,
    },
    /// The slots fail the load-time checks.
    #[error("{source}")]
    Load {
        /// The decoder's error.
        source: LoadError,
    },
    /// The verifier rejected the program.
    #[error("rejected at instruction {}: {}", .rejection.pc, .rejection.reason)]
    Rejected {
        /// Where and why, with the abstract state there.
        rejection: Rejection,
    },
}

/// Errors of loading and running modules (one flat enum for every operation of the API).
#[derive(Debug, Error)]
pub enum ObjectError {
    /// The ELF object is malformed or unsupported.
    #[error("{source}")]
    Elf {
        /// The loader's error.
        source: ElfError,
    },
    /// The program text or bytes of a raw program could not be read.
    #[error("{source}")]
    Source {
        /// The reader's error.
        source: crate::source::SourceError,
    },
    /// A map could not be created (the source names the map: `map "big": ...`).
    #[error("{source}")]
    Map {
        /// The map's index in the module.
        index: usize,
        /// Its name.
        name: String,
        /// Why.
        source: MapError,
    },
    /// No memory below 4 GiB for packet contexts.
    #[error("packet buffer below 4 GiB: {source}")]
    LowMemory {
        /// The `mmap` error.
        source: io::Error,
    },
    /// No program has this name.
    #[error("no program {wanted:?}; the object has: {available}")]
    NoSuchProgram {
        /// The name asked for.
        wanted: String,
        /// The programs there are.
        available: String,
    },
    /// No program has this index (a handle from another module).
    #[error("no program with index {index}")]
    NoProgramIndex {
        /// The index asked for.
        index: usize,
    },
    /// The program cannot run.
    #[error("program {program}: {source}")]
    Program {
        /// `section:function`.
        program: String,
        /// Why.
        source: ProgramError,
    },
    /// No map has this name.
    #[error("no map named {name:?}")]
    NoSuchMap {
        /// The name asked for.
        name: String,
    },
    /// No map has this index (a handle from another module).
    #[error("no map with index {index}")]
    NoMapIndex {
        /// The index asked for.
        index: usize,
    },
    /// A host map operation failed.
    #[error("{source}")]
    MapOp {
        /// The map's error.
        source: MapError,
    },
    /// The map is not of the kind the operation needs.
    #[error("map {name:?} is not a {wanted}")]
    WrongMapKind {
        /// The map.
        name: String,
        /// The kind needed.
        wanted: &'static str,
    },
    /// A typed view's key or value type does not have the map's size.
    #[error("map {name:?}: {what} is {expected} bytes, the view's type has {found}")]
    WrongMapSize {
        /// The map.
        name: String,
        /// `key` or `value`.
        what: &'static str,
        /// The map's size.
        expected: usize,
        /// The type's size.
        found: usize,
    },
    /// A prog-array slot could not be set.
    #[error("prog array {map:?}: slot {index}: {reason}")]
    ProgArraySlot {
        /// The prog array.
        map: String,
        /// The slot.
        index: u32,
        /// Why.
        reason: String,
    },
    /// The input does not fit the program's context.
    #[error("input: {source}")]
    Context {
        /// Why.
        source: ContextError,
    },
    /// Every context buffer of the instance is held by a store ([`crate::Config::stores`]).
    #[error("all {stores} context buffers of the instance are in use by other stores")]
    NoFreeContext {
        /// How many the instance has.
        stores: usize,
    },
    /// The store was made for another instance.
    #[error("the store belongs to another instance")]
    WrongStore,
    /// Verified mode: a host helper has the id of a Linux helper whose prototype the verifier
    /// assumes (the host's function need not honour it).
    #[error(
        "verified mode: host helper {name:?} takes id {id}, a Linux helper the verifier \
         assumes; give it a new id or load unverified"
    )]
    HelperReplacesPrototype {
        /// The helper id.
        id: u32,
        /// The host helper's name.
        name: String,
    },
    /// Verified mode: a program placed in a prog array has another context than a program
    /// that tail-calls through it (the callee's proof assumed its own context).
    #[error("{0}")]
    TailCallContext(Box<TailCallMismatch>),
}

impl ObjectError {
    /// A stable number for the kind of error (for bindings in other languages): never 0,
    /// never reused; new variants take new numbers.
    #[must_use]
    pub const fn code(&self) -> u32 {
        match self {
            ObjectError::Elf { .. } => 1,
            ObjectError::Source { .. } => 2,
            ObjectError::Map { .. } => 3,
            ObjectError::LowMemory { .. } => 4,
            ObjectError::NoSuchProgram { .. } => 5,
            ObjectError::NoProgramIndex { .. } => 6,
            ObjectError::Program { source, .. } => match source {
                ProgramError::Link { .. } => 100,
                ProgramError::Load { .. } => 101,
                ProgramError::Bind { .. } => 102,
                ProgramError::Prepare { .. } => 103,
                ProgramError::Rejected { .. } => 104,
                ProgramError::ContextTooSmall { .. } => 105,
            },
            ObjectError::NoSuchMap { .. } => 7,
            ObjectError::NoMapIndex { .. } => 8,
            ObjectError::MapOp { .. } => 9,
            ObjectError::WrongMapKind { .. } => 10,
            ObjectError::WrongMapSize { .. } => 11,
            ObjectError::ProgArraySlot { .. } => 12,
            ObjectError::Context { .. } => 13,
            ObjectError::NoFreeContext { .. } => 14,
            ObjectError::WrongStore => 15,
            ObjectError::HelperReplacesPrototype { .. } => 16,
            ObjectError::TailCallContext(_) => 17,
        }
    }
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
