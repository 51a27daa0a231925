#!/usr/bin/env bash
# Miri: the shared-memory layer under Rust's undefined-behaviour checker, data-race detector
# included. Installs a nightly toolchain with miri and rust-src when missing (never skips),
# then runs:
#   - apiary-vm unit tests of the racy-tolerant guest-memory copies (`racy`), map memory
#     (`maps`) and the helper context's copies (`helpers`), some of them on several threads;
#   - vm/tests/maps.rs: every map kind through the host API, concurrent producers and updates;
#   - vm/tests/linux_helpers.rs: the interpreter running map, ring buffer and per-CPU
#     programs, on several threads at once for two of them.
# The JIT (executable mappings) and the root package (mmap below 4 GiB) cannot run under
# Miri; tests size their loops down under `cfg(miri)`.
#
# Flags: `-Zmiri-disable-weak-memory-emulation` because Miri's store-buffer emulation does not
# support mixed-size atomic accesses to one location (it ICEs), which guest memory has by
# design (see vm/src/racy.rs); data races are still detected. `-Zmiri-permissive-provenance`
# because guest addresses are integers (programs see host addresses), turned back into
# pointers after the region check.
set -euo pipefail
cd "$(dirname "$0")/.."

TOOLCHAIN="${MIRI_TOOLCHAIN:-nightly}"

step() { printf '\n==> miri: %s\n' "$*"; }

step "toolchain ($TOOLCHAIN with miri and rust-src)"
command -v rustup >/dev/null 2>&1 || { echo "miri: rustup is required" >&2; exit 1; }
if ! rustup run "$TOOLCHAIN" rustc --version >/dev/null 2>&1; then
    rustup toolchain install "$TOOLCHAIN" --profile minimal
fi
installed=$(rustup +"$TOOLCHAIN" component list --installed 2>/dev/null || true)
for c in miri rust-src; do
    if ! grep -q "^$c" <<<"$installed"; then
        rustup +"$TOOLCHAIN" component add "$c"
    fi
done
cargo +"$TOOLCHAIN" miri --version
cargo +"$TOOLCHAIN" miri setup

export MIRIFLAGS="${MIRIFLAGS:-} -Zmiri-disable-weak-memory-emulation -Zmiri-permissive-provenance"

step "apiary-vm unit tests: racy, maps, helpers"
cargo +"$TOOLCHAIN" miri test --locked -p apiary-vm --lib -- racy maps helpers

step "vm/tests/maps.rs"
cargo +"$TOOLCHAIN" miri test --locked -p apiary-vm --test maps

step "vm/tests/linux_helpers.rs"
cargo +"$TOOLCHAIN" miri test --locked -p apiary-vm --test linux_helpers

echo
echo "miri passed"
