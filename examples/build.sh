#!/bin/sh
# Rebuilds the eBPF objects of the examples from their C sources (clang, no libbpf needed).
set -eu
cd "$(dirname "$0")"
for src in xdp_counter ringbuf_events tail_dispatch globals bounded_loop socket_filter; do
    clang -target bpf -O2 -g -mcpu=v3 -c "$src.c" -o "$src.o"
done
