#!/usr/bin/env bash
# The Linux kernel as an oracle, and a smoke run of every fuzz target. Called by .ci/run.
#   - kernel comparisons: the official suite and apiary's own tests through the kernel inside
#     apiary's runner (documented exclusions skipped), and the random kernel differential
#     (>= 5,000 generated programs on interp, JIT and kernel). APIARY_REQUIRE_KERNEL=1 makes an
#     unavailable kernel (not root, no CAP_BPF) a failure: CI runs as root.
#   - fuzz: installs cargo-fuzz if missing, then runs each target for FUZZ_RUNS executions
#     (default 200,000: 5–40 s each) with a fixed seed from its committed seed corpus (new inputs go to a
#     scratch folder, not the repository). A fixed seed and count make the smoke run
#     reproducible: CI does not pass or fail by luck; long exploratory runs are done by hand.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "kernel oracle: official suite, own tests, random differential"
APIARY_REQUIRE_KERNEL=1 cargo test --release --locked -p apiary-conformance \
    --test kernel_official --test kernel_random -- --nocapture
APIARY_REQUIRE_KERNEL=1 cargo test --release --locked -p apiary-conformance --lib kernel

step "official suite through the CLI with the kernel (exclusions shown)"
if [ -d ../shared/bpf_conformance/tests ]; then
    # `--engine all` includes the kernel where it is available (its row counts the excluded
    # tests as skipped; kernel_official above lists each exclusion with its reason).
    cargo run --release --locked --quiet -- conformance ../shared/bpf_conformance/tests --engine all
fi

step "fuzz smoke runs"
FUZZ_RUNS=${FUZZ_RUNS:-200000}
FUZZ_SEED=${FUZZ_SEED:-1}
if ! command -v cargo-fuzz >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi
if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "NOTICE: no nightly toolchain; fuzz smoke runs skipped"
    exit 0
fi
known_failing() { grep -qE "^$1( |$)" fuzz/known-failing 2>/dev/null; }
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failed=0
(cd fuzz && cargo +nightly fuzz build)
for target in $(cd fuzz && cargo +nightly fuzz list); do
    mkdir -p "$scratch/$target"
    echo "--- $target ($FUZZ_RUNS runs, seed $FUZZ_SEED)"
    if (cd fuzz && cargo +nightly fuzz run "$target" "$scratch/$target" "corpus/$target" -- \
            -runs="$FUZZ_RUNS" -seed="$FUZZ_SEED" -max_total_time=120 -rss_limit_mb=2048 \
            -print_final_stats=1 \
            >"$scratch/$target.log" 2>&1); then
        grep -E '^#[0-9]+[[:space:]]+DONE|^Done [0-9]+ runs' "$scratch/$target.log" | tail -2 || true
    elif known_failing "$target"; then
        echo "KNOWN FAILURE ($target, see fuzz/known-failing):"
        grep -E 'panicked|SUMMARY' "$scratch/$target.log" | head -3 || true
    else
        echo "FAILED: $target"
        grep -E -A12 'panicked|ERROR' "$scratch/$target.log" | head -40 || true
        failed=1
    fi
done
exit "$failed"
