#!/bin/bash
# Builds the C API, checks the committed header, compiles the C and C++ examples and the C
# test program, runs them (expected outputs; interpreter and JIT identical), then runs the C
# test under valgrind memcheck and built with -fsanitize=address,undefined.
#
#   bash capi/test.sh        (from anywhere; installs valgrind and a C++ compiler if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=$root/target/capi-test
mkdir -p "$out"

need=()
command -v cc >/dev/null || need+=(gcc)
command -v c++ >/dev/null || need+=(g++)
command -v valgrind >/dev/null || need+=(valgrind)
command -v pkg-config >/dev/null || need+=(pkg-config)
if ((${#need[@]})); then
    echo "capi/test.sh: installing ${need[*]}"
    if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq "${need[@]}"
    else sudo apt-get update -qq && sudo apt-get install -y -qq "${need[@]}"; fi
fi

echo "== build libapiary and check the committed header"
cargo build --locked -p apiary-capi
cargo test --locked -p apiary-capi
lib=$root/target/debug
export LD_LIBRARY_PATH=$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}

echo "== pkg-config"
sed "s|@PREFIX@|$root|; s|@LIBDIR@|$lib|" capi/apiary.pc.in > "$out/apiary.pc"
cflags=$(PKG_CONFIG_PATH=$out pkg-config --cflags apiary)
libs=$(PKG_CONFIG_PATH=$out pkg-config --libs apiary)

echo "== compile (C11, C++17, warnings are errors)"
warn=(-Wall -Wextra -Werror)
cc -std=c11 "${warn[@]}" $cflags capi/examples/plugin_host.c $libs -o "$out/plugin_host"
c++ -std=c++17 "${warn[@]}" $cflags capi/examples/plugin_threads.cpp $libs -lpthread -o "$out/plugin_threads"
cc -std=c11 "${warn[@]}" -g $cflags capi/tests/c_api_test.c $libs -o "$out/c_api_test"
# The header alone, as C11 and as C++17.
echo '#include <apiary.h>' | cc -std=c11 "${warn[@]}" -pedantic $cflags -x c -c - -o /dev/null
echo '#include <apiary.h>' | c++ -std=c++17 "${warn[@]}" $cflags -x c++ -c - -o /dev/null

plugins=capi/examples/plugins
echo "== plugin host on both engines"
for engine in interp jit; do
    "$out/plugin_host" $engine $plugins/proto_counter.o $plugins/port_guard.o $plugins/greedy.o \
        > "$out/plugin_host.$engine.out"
    diff -u capi/examples/plugin_host.expected "$out/plugin_host.$engine.out"
    "$out/plugin_threads" $engine $plugins/proto_counter.o
done
echo "plugin host: interpreter and JIT output identical to capi/examples/plugin_host.expected"

echo "== C test"
"$out/c_api_test" $plugins

echo "== C test under valgrind memcheck"
valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
    --show-leak-kinds=definite,indirect --smc-check=all "$out/c_api_test" $plugins
valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
    --show-leak-kinds=definite,indirect --smc-check=all \
    "$out/plugin_host" jit $plugins/proto_counter.o $plugins/port_guard.o $plugins/greedy.o >/dev/null

echo "== C test with AddressSanitizer and UndefinedBehaviorSanitizer"
cc -std=c11 "${warn[@]}" -g -fsanitize=address,undefined -fno-sanitize-recover=all $cflags \
    capi/tests/c_api_test.c $libs -o "$out/c_api_test.asan"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
    "$out/c_api_test.asan" $plugins
echo "capi/test.sh: all passed"
