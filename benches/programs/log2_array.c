/* Integer log2 of every u64 of the input (8,192 values, 64 KiB) by a branchy binary search over
 * the bit positions (no count-leading-zeros instruction in eBPF), summed. */
#include "bench.h"

INLINE u64 log2_u64(u64 v)
{
    u64 r = 0;
    if (v >> 32) { v >>= 32; r += 32; }
    if (v >> 16) { v >>= 16; r += 16; }
    if (v >> 8) { v >>= 8; r += 8; }
    if (v >> 4) { v >>= 4; r += 4; }
    if (v >> 2) { v >>= 2; r += 2; }
    if (v >> 1) { r += 1; }
    return r;
}

PROG(log2_array)
{
    u64 n = len / 8;
    if (n > 8192)
        n = 8192;
    u64 sum = 0;
    for (u64 i = 0; i < n; i++) {
        u64 v = *(u64 *)(mem + 8 * i);
        sum += log2_u64(v) * (i & 7) + (v != 0);
    }
    return sum;
}
