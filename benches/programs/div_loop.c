/* A division-heavy loop: 20,000 iterations of 64-bit and 32-bit unsigned division and modulo
 * by varying divisors (never zero). */
#include "bench.h"

PROG(div_loop)
{
    (void)mem;
    u64 x = 0xfedcba9876543210ULL ^ len;
    u64 acc = 0;
    for (u64 i = 1; i <= 20000; i++) {
        u64 d = (i * 2654435761ULL) | 1;
        acc += x / d;
        acc ^= x % (i + 7);
        u32 lo = (u32)acc;
        acc += lo / ((u32)i | 3);
        acc += lo % ((u32)(i >> 2) + 13);
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    }
    return acc;
}
