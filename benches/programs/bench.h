/* Shared header of the benchmark programs: each program is one C file compiled twice, for eBPF
 * (clang -target bpfel, see build.sh) and for the host (the bench crate's build.rs), so the
 * native twin runs exactly the same source.
 *
 * Entry convention: u64 prog(u8 *mem, u64 len): r1 = input address, r2 = input length.
 * PROG(name) defines the entry: in the eBPF build a function in section "prog" (the only code
 * section, so every program is one function: helpers below are always inlined); in the native
 * build an ordinary function apiary_bench_<name>.
 *
 * helper(a, b, c, d, e) is helper id 1 in eBPF (a call through a constant function pointer, so no
 * relocation) and apiary_bench_helper (helper.c, a real out-of-line call) natively. Its
 * semantics are defined in helper.c and mirrored in benches/src/lib.rs (`helper`). */
#ifndef APIARY_BENCH_H
#define APIARY_BENCH_H

typedef unsigned long long u64;
typedef unsigned int u32;
typedef unsigned short u16;
typedef unsigned char u8;
typedef long long s64;
typedef int s32;

#define INLINE static inline __attribute__((always_inline))

#ifdef __bpf__
#define PROG(name) __attribute__((section("prog"), used)) u64 name(u8 *mem, u64 len)
static u64 (*helper)(u64, u64, u64, u64, u64) = (void *)1;
#else
#define PROG(name) u64 apiary_bench_##name(u8 *mem, u64 len)
u64 apiary_bench_helper(u64 a, u64 b, u64 c, u64 d, u64 e);
#define helper apiary_bench_helper
#endif

#endif
