//! Shared by the tests that run whole suites (the official one, the project's own `.data`
//! tests, both through the kernel too): where the suites are, running one, and what did not pass.

#![allow(dead_code)]

use std::path::Path;

use apiary_conformance::runner::{run_directory, RunConfig, RunReport, Verdict};
use apiary_conformance::EngineSelection;

/// The official bpf_conformance suite (in ../shared, never copied into the repo).
pub const OFFICIAL: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/bpf_conformance/tests"
);

/// The project's own `.data` tests.
pub const OWN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");

/// Runs every test under `dir` on `selection`; `None`, with a NOTICE, where the folder is
/// absent (../shared is not part of the repository).
pub fn run(dir: &str, selection: EngineSelection) -> Option<RunReport> {
    let dir = Path::new(dir);
    if !dir.is_dir() {
        eprintln!("NOTICE: {} not found; not run", dir.display());
        return None;
    }
    match run_directory(dir, &RunConfig::with_engines(selection)) {
        Ok(r) => Some(r),
        Err(e) => panic!("{e}"),
    }
}

/// `name: verdict` for every test whose combined verdict is not a pass.
pub fn not_passed(report: &RunReport) -> Vec<String> {
    report
        .tests
        .iter()
        .filter(|t| t.verdict != Verdict::Passed)
        .map(|t| format!("{}: {}", t.name, t.verdict))
        .collect()
}
