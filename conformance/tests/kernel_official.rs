//! The official bpf_conformance suite through the Linux kernel (the oracle engine), inside
//! apiary's runner: on every test not under a documented exclusion the kernel must pass and
//! agree with the interpreter and the JIT.
//!
//! Where the kernel oracle is unavailable (not root, no CAP_BPF) the tests print a NOTICE and
//! pass, unless `APIARY_REQUIRE_KERNEL=1` (CI) makes that a failure; where the kernel lacks
//! what the oracle needs (XDP test runs, array maps) they record a skip with the reason. Each
//! test records its kernel counts in `target/apiary-coverage/` (`.ci/coverage-summary`).

mod common;

use apiary_conformance::kernel;
use apiary_conformance::runner::{RunReport, Verdict};
use apiary_conformance::{EngineKind, EngineSelection};
use common::{kernel_coverage, not_passed, official, own, record_kernel, run};

/// Per-engine verdicts of `kind` other than pass and skip.
fn bad(report: &RunReport, kind: EngineKind) -> Vec<String> {
    report
        .tests
        .iter()
        .filter_map(|t| {
            let v = t
                .per_engine
                .iter()
                .find(|(k, _)| *k == kind)
                .map(|(_, v)| v)?;
            (!matches!(v, Verdict::Passed | Verdict::Skipped { .. }))
                .then(|| format!("{}: {v}", t.name))
        })
        .collect()
}

#[test]
fn kernel_official_suite_agrees_except_documented_exclusions() {
    let Some(mut coverage) = kernel_coverage("kernel_official.all_engines") else {
        return;
    };
    let Some(report) = run(official(), EngineSelection::All) else {
        coverage.skip("official suite missing");
        coverage.finish();
        return;
    };
    record_kernel(&mut coverage, &report);
    let engines = report.selection.engines();
    assert!(engines.contains(&EngineKind::Kernel), "{engines:?}");
    let combined = not_passed(&report);
    assert!(
        combined.is_empty(),
        "official suite, all engines with the kernel:\n{}",
        combined.join("\n")
    );
    let kernel_bad = bad(&report, EngineKind::Kernel);
    assert!(
        kernel_bad.is_empty(),
        "kernel failures:\n{}",
        kernel_bad.join("\n")
    );
    let summaries = report.engine_summaries();
    let Some(k) = summaries.iter().find(|s| s.engine == "kernel") else {
        panic!("no kernel summary");
    };
    for t in &report.tests {
        if let Some((_, Verdict::Skipped { reason })) =
            t.per_engine.iter().find(|(k, _)| *k == EngineKind::Kernel)
        {
            eprintln!("kernel skipped {}: {reason}", t.name);
        }
    }
    eprintln!("{k}");
    // 313 files: 13 known divergences (12 constant shifts, callx) plus the helper call.
    assert!(k.passed >= 295, "{k}");
    assert!(k.skipped <= 18, "{k}");
    assert_eq!(k.passed + k.skipped, report.tests.len(), "{k}");
    coverage.finish();
}

#[test]
fn kernel_alone_on_the_official_suite() {
    let Some(mut coverage) = kernel_coverage("kernel_official.kernel_alone") else {
        return;
    };
    let Some(report) = run(official(), EngineSelection::One(EngineKind::Kernel)) else {
        coverage.skip("official suite missing");
        coverage.finish();
        return;
    };
    record_kernel(&mut coverage, &report);
    assert!(report.all_passed(), "{}", report.to_text());
    let s = report.summary();
    assert!(s.passed >= 295, "{s}");
    coverage.finish();
}

#[test]
fn kernel_agrees_on_own_tests() {
    let Some(mut coverage) = kernel_coverage("kernel_official.own_tests") else {
        return;
    };
    let Some(report) = run(own(), EngineSelection::All) else {
        panic!("the own tests are part of the repository");
    };
    record_kernel(&mut coverage, &report);
    let combined = not_passed(&report);
    assert!(
        combined.is_empty(),
        "own tests, all engines with the kernel:\n{}",
        combined.join("\n")
    );
    let summaries = report.engine_summaries();
    eprintln!(
        "{}",
        summaries
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    );
    coverage.finish();
}

#[test]
fn unavailable_kernel_is_a_distinct_prepare_error() {
    use apiary_conformance::engine::{prepare, PrepareError};
    use apiary_vm::{Environment, Insn, LoadOptions, Program};
    let exit = [Insn::new(0xb7, 0, 0, 0, 7), Insn::new(0x95, 0, 0, 0, 0)];
    let program = match Program::new(exit.to_vec(), &LoadOptions::default()) {
        Ok(p) => std::sync::Arc::new(p),
        Err(e) => panic!("{e}"),
    };
    match prepare(EngineKind::Kernel, program, &Environment::default()) {
        Ok(exe) => {
            assert!(kernel::available());
            assert_eq!(exe.run_once(&mut []).result, Ok(7));
        }
        Err(PrepareError::Kernel {
            error: kernel::KernelError::Unavailable { reason },
        }) => {
            assert!(!kernel::available(), "{reason}");
            // Unavailable under APIARY_REQUIRE_KERNEL=1 only where the kernel works but lacks
            // what the oracle needs (a host difference, not a failure).
            let host_lacks = kernel::probe::oracle_needs().is_err_and(|e| e.is_unsupported());
            assert!(!kernel::required() || host_lacks, "{reason}");
        }
        Err(e) => panic!("{e}"),
    }
}
