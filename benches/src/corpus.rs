//! The shared ebpf-samples corpus as the verifier benchmarks see it: where it is and which files
//! are objects (their maps' `MapInfo` comes from `apiary::platform`). Used by
//! the `verifier` bench and the `verify_corpus` tool.

use std::path::{Path, PathBuf};

/// `../shared/ebpf-samples` beside the workspace (or under `$APIARY_SHARED`), found the one
/// way every test finds the shared data (`apiary_testkit::shared`).
#[must_use]
pub fn default_root() -> PathBuf {
    apiary_testkit::shared::root().join("ebpf-samples")
}

/// The corpus where it exists; where it does not, a failure under `CI=true` and a NOTICE (and a
/// recorded skip) elsewhere, as for the tests.
#[must_use]
pub fn corpus_root() -> Option<PathBuf> {
    apiary_testkit::shared::corpus("ebpf-samples")
}

/// Whether `p` starts with the ELF magic (the corpus has objects without a `.o` suffix).
fn is_elf(p: &Path) -> bool {
    use std::io::Read;
    let mut magic = [0u8; 4];
    std::fs::File::open(p)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok()
        && magic == *b"\x7fELF"
}

/// Every ELF file under `dir`, relative to `root`, sorted; unreadable folders are skipped.
pub fn objects(root: &Path, dir: &Path, out: &mut Vec<String>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            objects(root, &p, out);
        } else if is_elf(&p) {
            if let Ok(rel) = p.strip_prefix(root) {
                out.push(rel.to_string_lossy().into_owned());
            }
        }
    }
}
