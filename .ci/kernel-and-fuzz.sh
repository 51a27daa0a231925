#!/usr/bin/env bash
# The Linux kernel as an oracle, and a smoke run of every fuzz target. Called by .ci/run.
#   - kernel comparisons: the official suite and apiary's own tests through the kernel inside
#     apiary's runner (documented exclusions skipped), the random kernel differential
#     (>= 5,000 generated programs on interp, JIT and kernel), the packet helpers and the map
#     examples against the kernel. APIARY_REQUIRE_KERNEL=1 makes an unusable kernel (not root,
#     no CAP_BPF) a failure: CI runs as root. What this kernel does not support (a program type,
#     a helper for a type) is skipped with the reason and counted (.ci/coverage-summary).
#   - fuzz: installs the nightly toolchain and cargo-fuzz if missing, then runs each target for
#     FUZZ_RUNS executions (default 200,000: 5-40 s each; object_load: FUZZ_RUNS_OBJECT_LOAD,
#     default 20,000) with a fixed seed from its committed seed corpus (new inputs go to a
#     scratch folder, not the repository), and checks from libFuzzer's final line that the
#     count was reached. A fixed seed and count make the smoke run reproducible: CI does not
#     pass or fail by luck; long exploratory runs are done by hand. Nothing is skipped: a
#     missing tool is installed, and an install that fails fails the script.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "kernel oracle: official suite, own tests, random differential"
APIARY_REQUIRE_KERNEL=1 cargo test --release --locked -p apiary-conformance \
    --test kernel_official --test kernel_random -- --nocapture
APIARY_REQUIRE_KERNEL=1 cargo test --release --locked -p apiary-conformance --lib kernel
APIARY_REQUIRE_KERNEL=1 cargo test --release --locked -p apiary \
    --test kernel_packet_helpers --test kernel_examples --test realworld_e2e
bash .ci/coverage-summary

step "official suite through the CLI with the kernel (exclusions shown)"
shared=${APIARY_SHARED:-../shared}
if [ -d "$shared/bpf_conformance/tests" ]; then
    # `--engine all` includes the kernel where it is available (its row counts the excluded
    # tests as skipped; kernel_official above lists each exclusion with its reason).
    cargo run --release --locked --quiet -- conformance "$shared/bpf_conformance/tests" --engine all
elif [ "${CI:-}" = true ]; then
    echo "ERROR: $shared/bpf_conformance not found; CI=true requires it" >&2
    exit 1
else
    echo "NOTICE: $shared/bpf_conformance not found; not run"
fi

step "fuzz smoke runs"
FUZZ_RUNS=${FUZZ_RUNS:-200000}
FUZZ_RUNS_OBJECT_LOAD=${FUZZ_RUNS_OBJECT_LOAD:-20000}
FUZZ_SEED=${FUZZ_SEED:-1}
if ! cargo +nightly --version >/dev/null 2>&1; then
    rustup toolchain install nightly --profile minimal
fi
if ! command -v cargo-fuzz >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi
cargo +nightly --version
known_failing() { grep -qE "^$1( |$)" fuzz/known-failing 2>/dev/null; }
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failed=0
(cd fuzz && cargo +nightly fuzz build)
targets=$(cd fuzz && cargo +nightly fuzz list)
[ -n "$targets" ] || { echo "FAILED: no fuzz targets listed" >&2; exit 1; }
for target in $targets; do
    runs=$FUZZ_RUNS
    [ "$target" = object_load ] && runs=$FUZZ_RUNS_OBJECT_LOAD
    mkdir -p "$scratch/$target"
    echo "--- $target ($runs runs, seed $FUZZ_SEED)"
    # -max_total_time only guards against a hang: stopping on it leaves the count short, which
    # fails below.
    if (cd fuzz && cargo +nightly fuzz run "$target" "$scratch/$target" "corpus/$target" -- \
            -runs="$runs" -seed="$FUZZ_SEED" -max_total_time=900 -rss_limit_mb=2048 \
            -print_final_stats=1 \
            >"$scratch/$target.log" 2>&1); then
        # libFuzzer ends with "Done N runs in T second(s)"; N counts the seed inputs too.
        done_runs=$(sed -nE 's/^Done ([0-9]+) runs.*/\1/p' "$scratch/$target.log" | tail -1)
        if [ -n "$done_runs" ] && [ "$done_runs" -ge "$runs" ]; then
            echo "ok: $done_runs runs"
        else
            echo "FAILED: $target stopped after ${done_runs:-no} runs of $runs"
            tail -5 "$scratch/$target.log"
            failed=1
        fi
    elif known_failing "$target"; then
        echo "KNOWN FAILURE ($target, see fuzz/known-failing):"
        grep -E 'panicked|SUMMARY|out-of-memory' "$scratch/$target.log" | head -3 || true
    else
        echo "FAILED: $target"
        grep -E -A12 'panicked|ERROR|out-of-memory' "$scratch/$target.log" | head -40 || true
        failed=1
    fi
done
exit "$failed"
