#!/usr/bin/env bash
# Repeatable cost per run: host instructions (valgrind callgrind "Ir") for one program on every
# engine, unaffected by other load on the machine.
#
#   bash benches/callgrind.sh [PROGRAM] [RUNS]      (default: alu_loop 10; needs valgrind)
#   bash benches/callgrind.sh compile [RUNS]         (JIT compile: instructions per 1,000 slots)
#
# Each engine is run twice, with 1 and 1 + RUNS runs; the difference divided by RUNS is the
# cost of one run without preparation (JIT compile, VM creation) or process start-up.
# Set FEATURES= to leave out the peers (rbpf, uBPF).
set -euo pipefail
cd "$(dirname "$0")/.."

PROGRAM=${1:-alu_loop}
RUNS=${2:-10}
FEATURES=${FEATURES-peers}
feature_args=()
[ -n "$FEATURES" ] && feature_args=(--features "$FEATURES")

if [ "$PROGRAM" = compile ]; then
    # Bytecode -> Program::new -> Jit::new of the generated program of benches/engines.rs's
    # jit_compile group, at 256 and 10,000 slots; `decode` stops after Program::new.
    cargo build --release --quiet -p apiary-benches --bin compileone
    bin=${CARGO_TARGET_DIR:-target}/release/compileone
    printf '| slots | stage | instructions per 1,000 slots |\n| ---: | --- | ---: |\n'
    for slots in 256 10000; do
        for stage in jit decode; do
            ir=()
            for n in 1 $((RUNS + 1)); do
                out=$(mktemp)
                valgrind --tool=callgrind --callgrind-out-file="$out" "$bin" "$slots" "$n" "$stage" >/dev/null 2>&1
                ir+=("$(awk '/^summary:/ { print $2 }' "$out")")
                rm -f "$out"
            done
            printf '| %s | %s | %s |\n' "$slots" "$( [ $stage = jit ] && echo 'Program::new + Jit::new' || echo 'Program::new')" "$(((ir[1] - ir[0]) * 1000 / RUNS / slots))"
        done
    done
    exit 0
fi

cargo build --release --quiet -p apiary-benches "${feature_args[@]}" --bin runone
bin=${CARGO_TARGET_DIR:-target}/release/runone

irs() { # PROGRAM ENGINE RUNS -> total Ir
    local out
    out=$(mktemp)
    valgrind --tool=callgrind --callgrind-out-file="$out" "$bin" "$1" "$2" "$3" >/dev/null 2>&1 || {
        rm -f "$out"
        return 1
    }
    awk '/^summary:/ { print $2 }' "$out"
    rm -f "$out"
}

printf '| engine | %s: instructions per run |\n| --- | ---: |\n' "$PROGRAM"
for engine in apiary_interp apiary_jit rbpf_interp rbpf_jit ubpf_interp ubpf_jit native; do
    if ! one=$(irs "$PROGRAM" "$engine" 1) || ! many=$(irs "$PROGRAM" "$engine" $((RUNS + 1))); then
        printf '| %s | n/a |\n' "$engine"
        continue
    fi
    printf '| %s | %s |\n' "$engine" "$(((many - one) / RUNS))"
done
