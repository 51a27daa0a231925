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
    /// The `--mem` argument is neither an existing file nor hex bytes.
    #[error("--mem {arg:?}: neither an existing file nor hex bytes: {source}")]
    Mem {
        arg: String,
        source: apiary::source::SourceError,
    },
    /// The `--mem` argument names a file (it holds `/` or `.`, or starts with `@`) that does
    /// not exist.
    #[error("--mem {path}: no such file (`--mem @FILE` names a file, anything else without `/` or `.` is read as hex bytes)")]
    MemNoFile { path: PathBuf },
    /// `--mem -` with the program also read from standard input.
    #[error("--mem -: standard input already holds the program")]
    StdinTwice,
    /// An input is larger than what its use allows; `size` is `None` when it was read from a
    /// stream (which was read only up to the limit).
    #[error("{what}: {} the {max}-byte limit of {of}", match size {
        Some(n) => format!("{n} bytes is larger than"),
        None => "the stream goes past".to_owned(),
    })]
    TooLarge {
        what: String,
        size: Option<u64>,
        max: usize,
        of: String,
    },
    /// An option of ELF objects given with a program that is not one.
    #[error("{option}: applies to ELF objects only, and {path} is not one")]
    ObjectOnly { option: &'static str, path: PathBuf },
    /// An option of raw programs given with an ELF object (or an engine it does not apply to).
    #[error("{option}: applies to raw programs on apiary's engines only ({path})")]
    RawOnly { option: &'static str, path: PathBuf },
    /// `apiary conformance` found no test that could run.
    #[error("{path}: no test ran ({why})")]
    NoTests { path: PathBuf, why: String },
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
    /// `--engine kernel` with an ELF object: the kernel oracle runs raw programs only.
    #[error("{path}: --engine kernel: objects run on apiary's engines (interp, jit); the kernel comparison of objects lives in the tests")]
    KernelObject { path: PathBuf },
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
    /// The file holds no program.
    #[error("{path}: no program to verify")]
    NoPrograms { path: PathBuf },
    /// An ELF object could not be loaded, or its program run.
    #[error("{path}: {source}")]
    Object {
        path: PathBuf,
        source: apiary::ObjectError,
    },
    /// A malformed `--tail-call` argument.
    #[error("--tail-call {arg:?}: {why} (expected MAP:INDEX=PROGRAM, INDEX a 32-bit number)")]
    TailCallArg { arg: String, why: &'static str },
    /// The conformance runner failed before running tests (its error names the path).
    #[error("{source}")]
    Conformance {
        path: PathBuf,
        source: apiary_conformance::runner::RunError,
    },
}
