//! The official bpf_conformance suite (313 files in ../shared, never copied into the repo):
//! every test must pass on the interpreter, callx included, and on all engines cross-checked.

mod common;

use apiary_conformance::runner::RunReport;
use apiary_conformance::{EngineKind, EngineSelection};
use common::not_passed;

fn run(selection: EngineSelection) -> Option<RunReport> {
    common::run(common::official(), selection)
}

fn failures(report: &RunReport) -> String {
    not_passed(report).join("\n")
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

/// Every official and own file parses with the strict parser (memory tokens of exactly two hex
/// digits): the strictness refuses typos, not anything the suites write.
#[test]
fn every_suite_file_parses_strictly() {
    use apiary_conformance::data::{parse_file, Parsed};
    let mut parsed = 0;
    let official = common::official();
    for dir in official.iter().cloned().chain(common::own()) {
        let files = apiary_conformance::runner::list_tests(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for path in files {
            match parse_file(&path) {
                Ok(Parsed::Test(_)) => parsed += 1,
                other => panic!("{}: {other:?}", path.display()),
            }
        }
    }
    // The official suite's 313 files where it is present, and the project's own files always.
    let floor = if official.is_some() { 313 + 252 } else { 252 };
    assert!(
        parsed >= floor,
        "only {parsed} files parsed (expected at least {floor})"
    );
}
