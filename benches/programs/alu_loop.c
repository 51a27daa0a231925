/* A tight 64-bit ALU loop: 100,000 iterations of add, xor, shifts, multiply, seeded from the
 * input length so nothing folds at compile time. */
#include "bench.h"

PROG(alu_loop)
{
    (void)mem;
    u64 acc = len;
    for (u64 i = 100000; i != 0; i--) {
        acc += i;
        acc ^= 0x5a5a;
        acc = (acc << 1) >> 1;
        acc *= 3;
    }
    return acc;
}
