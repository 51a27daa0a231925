//! Errors of the command-line tool: each names the file or argument it concerns.

use std::path::PathBuf;

use thiserror::Error;

/// What went wrong in a command.
#[derive(Debug, Error)]
pub enum CliError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A program could not be read.
    #[error("{path}: {source}")]
    Source {
        path: PathBuf,
        source: apiary::source::SourceError,
    },
    /// The `--mem` argument is neither a readable file nor hex bytes.
    #[error("--mem: {0}")]
    Mem(apiary::source::SourceError),
    /// The program failed its load-time checks.
    #[error("{path}: {source}")]
    Load {
        path: PathBuf,
        source: apiary::LoadError,
    },
    /// The engine could not prepare the program.
    #[error("{path}: {source}")]
    Prepare {
        path: PathBuf,
        source: apiary_conformance::engine::PrepareError,
    },
    /// The engine asked for is not built into this binary.
    #[error("--engine: {0}")]
    Engine(apiary_conformance::engine::UnknownEngine),
    /// The JIT could not compile the program.
    #[error("{path}: jit: {source}")]
    Jit {
        path: PathBuf,
        source: apiary_jit::JitError,
    },
    /// An unknown `--type`.
    #[error("--type: unknown program type {name:?} (available: {available})")]
    ProgramType {
        name: String,
        available: &'static str,
    },
    /// The file holds no program matching the selection.
    #[error("{path}: no program to verify")]
    NoPrograms { path: PathBuf },
    /// An ELF object could not be loaded, or its program run.
    #[error("{path}: {source}")]
    Object {
        path: PathBuf,
        source: apiary::ObjectError,
    },
    /// A malformed `--tail-call` argument.
    #[error("--tail-call {arg:?}: expected MAP:INDEX=PROGRAM")]
    TailCallArg { arg: String },
    /// The conformance runner failed before running tests.
    #[error("{path}: {source}")]
    Conformance {
        path: PathBuf,
        source: apiary_conformance::runner::RunError,
    },
}
