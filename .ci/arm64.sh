#!/usr/bin/env bash
# arm64 (aarch64) tests under qemu-user: installs the cross linker, the arm64 C library and
# qemu-user, adds the Rust target, then runs the vm, jit and conformance test suites for
# aarch64-unknown-linux-gnu (the cargo runner in .cargo/config.toml starts every test binary
# under `qemu-aarch64 -L /usr/aarch64-linux-gnu`), and the official conformance suite through
# the CLI on every engine. Anything missing is a failure, never a skip.
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET=aarch64-unknown-linux-gnu
# Release: the test binaries run several times faster under emulation than debug builds, which
# more than pays for the longer compile (measured: see the jit crate's docs).
PROFILE_FLAGS=(--release)

step() { printf '\n==> arm64: %s\n' "$*"; }

step "cross toolchain and qemu-user"
missing=()
command -v aarch64-linux-gnu-gcc >/dev/null 2>&1 || missing+=(gcc-aarch64-linux-gnu)
[ -e /usr/aarch64-linux-gnu/lib/libc.so.6 ] || missing+=(libc6-dev-arm64-cross)
command -v qemu-aarch64 >/dev/null 2>&1 || missing+=(qemu-user)
if [ "${#missing[@]}" -gt 0 ]; then
    sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if ! rustup target list --installed 2>/dev/null | grep -qx "$TARGET"; then
    rustup target add "$TARGET"
fi
for tool in aarch64-linux-gnu-gcc qemu-aarch64; do
    command -v "$tool" >/dev/null 2>&1 || { echo "arm64: $tool is missing" >&2; exit 1; }
done
[ -e /usr/aarch64-linux-gnu/lib/libc.so.6 ] || { echo "arm64: no arm64 libc" >&2; exit 1; }
rustup target list --installed | grep -qx "$TARGET" || { echo "arm64: no $TARGET std" >&2; exit 1; }
qemu-aarch64 --version | head -1

# Coverage records of the emulated runs go to their own folder, beside the native ones.
export APIARY_COVERAGE_DIR=${APIARY_COVERAGE_DIR:-$PWD/target/apiary-coverage-arm64}
rm -rf "$APIARY_COVERAGE_DIR"

step "window, vm and jit tests (qemu-aarch64)"
# The window's tests include tests/resident.rs: resident memory stays bounded over many windows,
# which is where qemu-user differs from the kernel (see the window crate's `pool`).
cargo test --locked "${PROFILE_FLAGS[@]}" --target "$TARGET" -p apiary-window -p apiary-vm \
    -p apiary-jit

step "conformance tests (qemu-aarch64)"
# Every test target of the conformance crate except plugin_e2e, which spawns the plugin
# binary as a child process: an arm64 executable the host kernel cannot exec without a
# binfmt_misc registration of qemu (a machine-wide setting this script does not make).
conformance_tests=()
for f in conformance/tests/*.rs; do
    name=$(basename "$f" .rs)
    [ "$name" = plugin_e2e ] && continue
    conformance_tests+=(--test "$name")
done
cargo test --locked "${PROFILE_FLAGS[@]}" --target "$TARGET" -p apiary-conformance \
    --lib --bins "${conformance_tests[@]}"

step "objects end to end, checked and verified, examples and ebpf-samples (qemu-aarch64)"
# The CLI's tests (crate apiary-cli) start the apiary binary directly, which needs binfmt_misc
# for an arm64 executable: they run natively on x86-64 only.
cargo test --locked "${PROFILE_FLAGS[@]}" --target "$TARGET" -p apiary \
    --test examples --test verified_objects --test samples_verified --test sandbox_objects

step "forged proofs stay in the sandbox window: 2x10^5 wild programs (qemu-aarch64)"
# 50,000 programs per setup (maps and raw environments x interpreter and aarch64 JIT): 10^5 on
# the aarch64 JIT, 2x10^5 in all. Measured on the 2-core CI machine: ~250 s, qemu-aarch64 at
# ~180 MB resident, flat (before the window pool reused reservations, each raw program's fresh
# 64 MiB window cost qemu ~770 KiB of page bookkeeping: 24 GB and an OOM kill at 10^5).
APIARY_SANDBOX_PROGRAMS=50000 cargo test --locked "${PROFILE_FLAGS[@]}" --target "$TARGET" \
    -p apiary --test sandbox_forged

step "real-world packet programs (Katran, libbpf-bootstrap tc) on both engines (qemu-aarch64)"
# The kernel side is a recorded skip under qemu-user; the aarch64 JIT is compared with the
# interpreter on every packet and map.
APIARY_REQUIRE_KERNEL=0 cargo test --locked "${PROFILE_FLAGS[@]}" --target "$TARGET" -p apiary \
    --test realworld_e2e
step "official suite through the CLI, every engine (qemu-aarch64)"
shared=${APIARY_SHARED:-../shared}
if [ -d "$shared/bpf_conformance/tests" ]; then
    cargo run --locked "${PROFILE_FLAGS[@]}" --target "$TARGET" --quiet -- \
        conformance "$shared/bpf_conformance/tests" --engine all
elif [ "${CI:-}" = true ]; then
    echo "arm64: $shared/bpf_conformance not found; CI=true requires it" >&2
    exit 1
else
    echo "NOTICE: $shared/bpf_conformance not found; the official suite will not run"
fi

step "coverage under qemu (the kernel oracle is not reachable through qemu-user)"
bash .ci/coverage-summary
