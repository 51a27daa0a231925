/* A memory loop: sums the 64-bit words of the input (64 KiB in the benchmark). */
#include "bench.h"

PROG(mem_loop)
{
    u64 sum = 0;
    u64 words = len / 8;
    if (words > 65536)
        words = 65536;
    for (u64 i = 0; i < words; i++)
        sum += *(u64 *)(mem + i * 8);
    return sum;
}
