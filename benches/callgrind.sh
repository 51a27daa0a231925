#!/usr/bin/env bash
# Repeatable cost per run: host instructions (valgrind callgrind "Ir") for one program on every
# engine, unaffected by other load on the machine.
#
#   bash benches/callgrind.sh [PROGRAM] [RUNS]      (default: alu_loop 10; needs valgrind)
#   bash benches/callgrind.sh compile [RUNS]         (JIT compile: instructions per 1,000 slots)
#   bash benches/callgrind.sh sandbox [RUNS] [PROGRAMS...]
#       (the sandbox's cost: every program, or those named, on apiary's interpreter and JIT,
#        checked, verified sandboxed and verified unsandboxed; instructions per run;
#        SANDBOX_ENGINES=jit for the JIT alone)
# RUNONE=PATH uses that runone binary instead of building one (to compare before and after).
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

if [ "$PROGRAM" = sandbox ]; then
    FEATURES=
    feature_args=()
fi
if [ -n "${RUNONE-}" ]; then
    bin=$RUNONE # a runone built earlier (e.g. the "before" of a comparison)
else
    cargo build --release --quiet -p apiary-benches "${feature_args[@]}" --bin runone
    bin=${CARGO_TARGET_DIR:-target}/release/runone
fi

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

per_run() { # PROGRAM ENGINE -> instructions per run, or n/a
    local one many
    if ! one=$(irs "$1" "$2" 1) || ! many=$(irs "$1" "$2" $((RUNS + 1))); then
        echo n/a
        return
    fi
    echo $(((many - one) / RUNS))
}

if [ "$PROGRAM" = sandbox ]; then
    # The sandbox's cost: sandboxed / unsandboxed per engine (the target is about 1.00), and the
    # checked engines for scale (sandboxed must never be slower than checked).
    shift $(($# < 2 ? $# : 2))
    programs=("$@")
    if [ ${#programs[@]} -eq 0 ]; then
        mapfile -t programs < <("$bin" 2>&1 | awk '/programs:/ { for (i = 2; i <= NF; i++) print $i }')
    fi
    ratio() { # A B -> A / B, or n/a
        if [[ $1 =~ ^[0-9]+$ && $2 =~ ^[0-9]+$ && $2 -gt 0 ]]; then
            awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'
        else
            echo n/a
        fi
    }
    # "in window": the input lies in the program's window (runone's ENGINE@window), as for an
    # embedder that allocates its buffers there; "copied": a heap input, copied in and out of
    # the window every run.
    printf '| program | engine | checked | sandboxed, copied | sandboxed, in window | unsandboxed | copied / unsandboxed | in window / unsandboxed |\n'
    printf '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n'
    for p in "${programs[@]}"; do
        for e in ${SANDBOX_ENGINES:-interp jit}; do
            c=$(per_run "$p" "apiary_$e")
            s=$(per_run "$p" "apiary_${e}_verified")
            w=$(per_run "$p" "apiary_${e}_verified@window")
            u=$(per_run "$p" "apiary_${e}_unsandboxed")
            printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$p" "$e" "$c" "$s" "$w" "$u" "$(ratio "$s" "$u")" "$(ratio "$w" "$u")"
        done
    done
    exit 0
fi

printf '| engine | %s: instructions per run |\n| --- | ---: |\n' "$PROGRAM"
for engine in apiary_interp apiary_jit rbpf_interp rbpf_jit ubpf_interp ubpf_jit native; do
    if ! one=$(irs "$PROGRAM" "$engine" 1) || ! many=$(irs "$PROGRAM" "$engine" $((RUNS + 1))); then
        printf '| %s | n/a |\n' "$engine"
        continue
    fi
    printf '| %s | %s |\n' "$engine" "$(((many - one) / RUNS))"
done
