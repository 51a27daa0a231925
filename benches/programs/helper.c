/* Native implementation of helper id 1 (the eBPF programs call it by id). Kept out of line (a
 * separate translation unit, noinline) so the native twin pays a real call like the engines. */
#include "bench.h"

__attribute__((noinline)) u64 apiary_bench_helper(u64 a, u64 b, u64 c, u64 d, u64 e)
{
    return (a ^ (b << 7)) * 0x9e3779b97f4a7c15ULL + c + (d ^ e);
}
