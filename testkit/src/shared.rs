//! The test data in `../shared` (beside the repository, never copied into it): the official
//! bpf_conformance suite, the ebpf-samples objects, real-world programs.
//!
//! Every test that reads it finds it through [`corpus`], so that a missing folder is handled
//! the same way everywhere: under `CI=true` the test fails with a message naming the folder
//! (CI must not pass by running less), elsewhere it prints a NOTICE and records the skip in
//! the coverage summary (`.ci/coverage-summary`), so a user without the data sees what did not
//! run. `APIARY_SHARED` points at another location of the data.

use std::path::{Path, PathBuf};

use crate::Coverage;

/// The workspace root (this crate is one of its members).
#[must_use]
pub fn workspace() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.parent().unwrap_or(here).to_path_buf()
}

/// Where the shared data is: `$APIARY_SHARED`, else `../shared` beside the workspace.
#[must_use]
pub fn root() -> PathBuf {
    std::env::var_os("APIARY_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("../shared"))
}

/// The test (libtest names each test's thread after it) and binary asking, for messages.
fn caller() -> String {
    let test = std::thread::current().name().unwrap_or("main").to_owned();
    let binary = std::env::current_exe()
        .ok()
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .map(|s| match s.rsplit_once('-') {
            // Cargo's test binaries end in `-<16 hex digits>`.
            Some((name, hash)) if hash.len() == 16 => name.to_owned(),
            _ => s,
        })
        .unwrap_or_default();
    format!("{binary}::{test}")
}

/// `rel` (e.g. `"bpf_conformance/tests"`) inside the shared data, if it exists.
///
/// When it does not: under `CI=true` this panics (the test needing it fails); elsewhere it
/// prints a NOTICE, records a skip in the coverage summary and returns `None` (the caller
/// skips what needs the data).
///
/// # Panics
/// Under `CI=true` when the folder or file is missing.
#[must_use]
pub fn corpus(rel: &str) -> Option<PathBuf> {
    let path = root().join(rel);
    if path.exists() {
        return Some(path);
    }
    let who = caller();
    let message = format!(
        "shared test data {rel} not found at {} (needed by {who}; the data lives beside the \
         repository in ../shared, or where APIARY_SHARED points)",
        path.display()
    );
    assert!(!crate::is_ci(), "CI=true: {message}");
    println!("NOTICE: {message}; skipped");
    let mut c = Coverage::new(&format!("missing-shared.{who}"));
    c.skip(format!("shared data {rel} missing"));
    c.finish();
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_is_beside_the_workspace_or_overridden() {
        if std::env::var_os("APIARY_SHARED").is_none() {
            assert!(root().ends_with("../shared"), "{}", root().display());
        }
        assert!(workspace().join("Cargo.toml").is_file());
        assert!(caller().contains("root_is_beside"), "{}", caller());
    }
}
