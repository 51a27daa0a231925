#!/usr/bin/env bash
# Regenerates the eBPF objects and raw bytecode of the benchmark programs from their C source.
# The outputs (<name>.o, <name>.bin) are committed: tests and benches use them and need no clang.
#
#   bash benches/programs/build.sh        (needs clang and llvm-objcopy/llvm-objdump, LLVM >= 14)
#
# Every program is one function in section "prog"; the script fails if a program has any
# relocation (no maps, no globals, no bpf-to-bpf calls) or another code section.
set -euo pipefail
cd "$(dirname "$0")"

CLANG=${CLANG:-clang}
OBJCOPY=${OBJCOPY:-llvm-objcopy}
OBJDUMP=${OBJDUMP:-llvm-objdump}
# Pinned flags: little-endian eBPF (what -target bpf means on x86-64 and arm64 hosts), ISA v3
# (alu32 + jmp32), -O2, no debug info (so the .o is reproducible and small).
CFLAGS=(-target bpfel -mcpu=v3 -O2 -g0 -fno-asynchronous-unwind-tables -Wall -Wextra -Werror)

echo "$("$CLANG" --version | head -1)"
for src in *.c; do
    name=${src%.c}
    [ "$name" = helper ] && continue # the native helper (build.rs), not a program
    "$CLANG" "${CFLAGS[@]}" -c "$src" -o "$name.o"
    if "$OBJDUMP" -r "$name.o" | grep -q 'RELOCATION RECORDS'; then
        "$OBJDUMP" -r "$name.o"
        echo "error: $name.o has relocations" >&2
        exit 1
    fi
    if "$OBJDUMP" -h "$name.o" | awk '$2 != "prog" && / TEXT/ && $3 !~ /^0+$/' | grep -q .; then
        "$OBJDUMP" -h "$name.o"
        echo "error: $name.o has code outside section prog" >&2
        exit 1
    fi
    "$OBJCOPY" -O binary --only-section=prog "$name.o" "$name.bin"
    echo "$name: $(($(stat -c %s "$name.bin") / 8)) slots"
done
