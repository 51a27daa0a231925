//! Shared by the tests that run whole suites (the official one, the project's own `.data`
//! tests, both through the kernel too): where the suites are, running one, and what did not pass.

#![allow(dead_code)]

use std::path::PathBuf;

use apiary_conformance::runner::{run_directory, RunConfig, RunReport, Verdict};
use apiary_conformance::EngineSelection;

/// The official bpf_conformance suite (in ../shared, never copied into the repo): `None` where
/// it is absent (a recorded skip; a failure under `CI=true`, see `apiary_testkit::shared`).
pub fn official() -> Option<PathBuf> {
    apiary_testkit::shared::corpus("bpf_conformance/tests")
}

/// The project's own `.data` tests.
pub const OWN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");

/// The project's own `.data` tests (always there: they are in the repository).
pub fn own() -> Option<PathBuf> {
    Some(PathBuf::from(OWN))
}

/// Runs every test under `dir` on `selection`; `None` where the suite is absent.
pub fn run(dir: Option<PathBuf>, selection: EngineSelection) -> Option<RunReport> {
    let dir = dir?;
    match run_directory(&dir, &RunConfig::with_engines(selection)) {
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

/// The coverage record of kernel suite `suite` where the kernel oracle can run here; `None`
/// where it cannot, after recording why (a NOTICE and a recorded skip).
///
/// # Panics
/// Under `APIARY_REQUIRE_KERNEL=1` when this process cannot use the kernel at all, and
/// everywhere when the kernel supports everything the oracle needs (XDP test runs, array
/// maps) yet the oracle does not start: those are failures, not host differences.
pub fn kernel_coverage(suite: &str) -> Option<apiary_testkit::Coverage> {
    use apiary_conformance::kernel::{self, probe, probe::ProbeError};
    let mut coverage = apiary_testkit::Coverage::new(suite);
    match probe::oracle_needs() {
        Ok(()) => {
            if let Err(e) = kernel::oracle() {
                panic!(
                    "the kernel supports XDP test runs and array maps, yet the oracle fails: {e}"
                );
            }
            Some(coverage.expect_comparisons(true))
        }
        Err(e @ ProbeError::Unavailable(_)) if kernel::required() => {
            panic!("APIARY_REQUIRE_KERNEL=1 but {e}")
        }
        Err(e) => {
            eprintln!("NOTICE: {suite}: kernel oracle not run: {e}");
            coverage.skip(e.to_string());
            coverage.finish();
            None
        }
    }
}

/// Records the kernel's verdicts of `report` in `coverage`: passes as compared, skips with
/// their reasons.
pub fn record_kernel(coverage: &mut apiary_testkit::Coverage, report: &RunReport) {
    use apiary_conformance::EngineKind;
    for t in &report.tests {
        match t.per_engine.iter().find(|(k, _)| *k == EngineKind::Kernel) {
            Some((_, Verdict::Passed)) => coverage.compared(),
            Some((_, Verdict::Skipped { reason })) => coverage.skip(reason.clone()),
            _ => {}
        }
    }
}
