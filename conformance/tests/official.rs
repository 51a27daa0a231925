//! The official bpf_conformance suite (313 files in ../shared, never copied into the repo):
//! every test must pass on the interpreter, callx included, and on all engines cross-checked.

use std::path::Path;

use apiary_conformance::runner::{run_directory, RunConfig, RunReport, Verdict};
use apiary_conformance::{EngineKind, EngineSelection};

const OFFICIAL: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/bpf_conformance/tests"
);

fn run(selection: EngineSelection) -> Option<RunReport> {
    let dir = Path::new(OFFICIAL);
    if !dir.is_dir() {
        eprintln!("NOTICE: ../shared/bpf_conformance not found; official suite not run");
        return None;
    }
    match run_directory(dir, &RunConfig::with_engines(selection)) {
        Ok(r) => Some(r),
        Err(e) => panic!("{e}"),
    }
}

fn failures(report: &RunReport) -> String {
    report
        .tests
        .iter()
        .filter(|t| t.verdict != Verdict::Passed)
        .map(|t| format!("{}: {}", t.name, t.verdict))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn official_suite_passes_on_the_interpreter() {
    let Some(report) = run(EngineSelection::One(EngineKind::Interp)) else {
        return;
    };
    let s = report.summary();
    eprintln!("{s}");
    assert_eq!(report.tests.len(), 313, "the suite has 313 files");
    assert_eq!(
        (s.passed, s.ran()),
        (313, 313),
        "failures:\n{}",
        failures(&report)
    );
}

#[test]
fn official_suite_engines_agree() {
    let Some(report) = run(EngineSelection::All) else {
        return;
    };
    assert!(report.all_passed(), "failures:\n{}", failures(&report));
    assert_eq!(report.summary().passed, 313);
}
