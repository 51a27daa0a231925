#!/bin/sh
# Rebuilds the plugin host's eBPF plugins from their C sources (clang, no libbpf needed).
set -eu
cd "$(dirname "$0")"
CLANG=${CLANG:-$(command -v clang || command -v clang-14)}
for src in proto_counter port_guard greedy; do
    "$CLANG" -target bpf -O2 -g -mcpu=v3 -c "$src.c" -o "$src.o"
done
