/* A helper-call loop: 10,000 calls of helper id 1 (five arguments, one result). */
#include "bench.h"

PROG(helper_loop)
{
    (void)mem;
    u64 acc = len;
    for (u64 i = 0; i < 10000; i++)
        acc = helper(acc, i, acc >> 3, i * 3, 7);
    return acc;
}
