//! apiary-conformance: runs bpf_conformance `.data` tests against apiary's engines.
//!
//! - [`data`]: the `.data` parser, faithful to the official one;
//! - [`engine`]: engine selection and preparation: the library's engines plus the kernel;
//! - [`helpers`]: helpers 0–5 as uBPF's test plugin defines them (they live in
//!   `apiary-engine`, re-exported here);
//! - [`runner`]: runs tests on one or all engines, judges, cross-checks and summarises;
//! - [`plugin`]: the pieces of the `bpf-conformance-plugin` binary (argument and hex parsing),
//!   kept in the library so they are unit-tested;
//! - [`json`]: a minimal JSON writer for reports;
//! - [`kernel`]: the Linux kernel as an oracle engine, its documented exclusions, and a
//!   generator of kernel-verifiable random programs.

pub mod assemble;
pub mod data;
pub mod engine;
pub use apiary_engine::helpers;
pub mod json;
pub mod kernel;
pub mod plugin;
pub mod runner;

pub use data::{parse_file, parse_str, DataError, Expected, Parsed, Source, TestCase};
pub use engine::{prepare, EngineKind, EngineSelection, PrepareError};
pub use helpers::conformance_helpers;
pub use runner::{run_directory, run_files, RunConfig, RunReport, Summary, TestReport, Verdict};
