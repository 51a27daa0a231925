//! Coverage records: "suite: N compared, M skipped (reason: count, ...)".
//!
//! A comparison test that silently compares nothing passes just like one that compared
//! thousands of cases; and libtest hides the output of passing tests, so a printed count is
//! never seen. Each suite therefore writes its line to a file in
//! `<target dir>/apiary-coverage/` (one file per suite, overwritten on each run), and
//! `.ci/coverage-summary` prints them all: after `cargo test --workspace`, run
//! `.ci/coverage-summary` (or `cat target/apiary-coverage/*.txt`).
//!
//! [`Coverage::finish`] also fails a suite that was expected to compare something and neither
//! compared nor skipped anything for a stated reason: a silent no-op is a bug.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// What one suite compared and skipped.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Coverage {
    suite: String,
    compared: u64,
    skipped: BTreeMap<String, u64>,
    expect_some: bool,
}

impl Coverage {
    /// An empty record for `suite` (a file name: letters, digits, `_`, `-`, `.`, `:`; others
    /// become `_`).
    #[must_use]
    pub fn new(suite: &str) -> Self {
        Self {
            suite: suite.to_owned(),
            ..Self::default()
        }
    }

    /// Makes [`Coverage::finish`] fail when nothing was compared and no skip was recorded
    /// (set it where the oracle is available or required: there, comparing nothing without a
    /// reason means the suite is broken).
    #[must_use]
    pub fn expect_comparisons(mut self, expect: bool) -> Self {
        self.expect_some = expect;
        self
    }

    /// Counts one compared case.
    pub fn compared(&mut self) {
        self.compared += 1;
    }

    /// Counts `n` compared cases.
    pub fn add_compared(&mut self, n: u64) {
        self.compared += n;
    }

    /// Counts one skipped case, with the reason (cases with the same reason are counted
    /// together).
    pub fn skip(&mut self, reason: impl Into<String>) {
        *self.skipped.entry(reason.into()).or_default() += 1;
    }

    /// Counts `n` skipped cases with one reason.
    pub fn add_skipped(&mut self, reason: impl Into<String>, n: u64) {
        if n > 0 {
            *self.skipped.entry(reason.into()).or_default() += n;
        }
    }

    /// Cases compared so far.
    #[must_use]
    pub fn compared_count(&self) -> u64 {
        self.compared
    }

    /// Cases skipped so far.
    #[must_use]
    pub fn skipped_count(&self) -> u64 {
        self.skipped.values().sum()
    }

    /// Writes the record to `<target>/apiary-coverage/<suite>.txt` and returns its line.
    ///
    /// # Panics
    /// When [`Coverage::expect_comparisons`] was set and nothing was compared or skipped (the
    /// record is written first, so the summary shows it too).
    pub fn finish(self) -> String {
        let line = self.to_string();
        let path = dir().join(format!("{}.txt", file_name(&self.suite)));
        if let Err(e) =
            std::fs::create_dir_all(dir()).and_then(|()| std::fs::write(&path, format!("{line}\n")))
        {
            // Not a test failure: the counts are only less visible (read-only target dir).
            eprintln!("NOTICE: cannot write {}: {e}", path.display());
        }
        assert!(
            !(self.expect_some && self.compared == 0 && self.skipped.is_empty()),
            "{line}: nothing was compared and no skip was recorded"
        );
        line
    }
}

impl fmt::Display for Coverage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} compared, {} skipped",
            self.suite,
            self.compared,
            self.skipped_count()
        )?;
        if !self.skipped.is_empty() {
            let reasons: Vec<String> = self
                .skipped
                .iter()
                .map(|(reason, n)| format!("{reason}: {n}"))
                .collect();
            write!(f, " ({})", reasons.join("; "))?;
        }
        Ok(())
    }
}

/// `suite` as a file name.
fn file_name(suite: &str) -> String {
    suite
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Where the records go: `$APIARY_COVERAGE_DIR` (relative to the workspace), else `apiary-coverage/` in the Cargo target
/// directory this test binary was built in (the first ancestor of the executable holding
/// Cargo's `CACHEDIR.TAG`, which works with `--target` and `CARGO_TARGET_DIR` alike), else
/// in `$CARGO_TARGET_DIR` or the workspace's `target/`.
#[must_use]
pub fn dir() -> PathBuf {
    if let Some(d) = std::env::var_os("APIARY_COVERAGE_DIR") {
        // Relative to the workspace: cargo runs each crate's tests in that crate's folder.
        return crate::shared::workspace().join(d);
    }
    let from_exe = std::env::current_exe().ok().and_then(|exe| {
        exe.ancestors()
            .find(|a| a.join("CACHEDIR.TAG").is_file())
            .map(Path::to_path_buf)
    });
    let target = from_exe
        .or_else(|| std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from))
        .unwrap_or_else(|| crate::shared::workspace().join("target"));
    target.join("apiary-coverage")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_counts_reasons() {
        let mut c = Coverage::new("demo");
        c.compared();
        c.add_compared(2);
        c.skip("kernel refuses helper bpf_x#54 for xdp");
        c.skip("kernel refuses helper bpf_x#54 for xdp");
        c.add_skipped("other", 1);
        c.add_skipped("never", 0);
        assert_eq!(
            c.to_string(),
            "demo: 3 compared, 3 skipped (kernel refuses helper bpf_x#54 for xdp: 2; other: 1)"
        );
        assert_eq!(file_name("a/b c:d"), "a_b_c_d");
    }

    #[test]
    fn silent_no_op_fails_when_comparisons_are_expected() {
        let result = std::panic::catch_unwind(|| {
            Coverage::new("testkit-selftest-empty")
                .expect_comparisons(true)
                .finish()
        });
        let _ = std::fs::remove_file(dir().join("testkit-selftest-empty.txt"));
        let message = result
            .err()
            .and_then(|p| p.downcast_ref::<String>().cloned());
        assert!(
            message
                .as_deref()
                .is_some_and(|m| m.contains("nothing was compared")),
            "{message:?}"
        );
    }

    #[test]
    fn skips_with_reasons_are_not_a_failure() {
        let mut c = Coverage::new("testkit-selftest-skips").expect_comparisons(true);
        c.skip("kernel refuses xdp programs");
        let line = c.finish();
        assert!(line.ends_with("(kernel refuses xdp programs: 1)"), "{line}");
        let written = std::fs::read_to_string(dir().join("testkit-selftest-skips.txt"));
        let _ = std::fs::remove_file(dir().join("testkit-selftest-skips.txt"));
        assert_eq!(written.ok(), Some(format!("{line}\n")));
    }
}
