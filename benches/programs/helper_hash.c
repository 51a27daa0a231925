/* Helper-heavy: for each 32-byte record of the input (1,024 records) two calls of helper id 1
 * (five arguments, as bpf_csum_diff or a hashing helper takes) on the record's words, folded
 * into an accumulator between the calls. */
#include "bench.h"

PROG(helper_hash)
{
    u64 records = len / 32;
    if (records > 1024)
        records = 1024;
    u64 acc = 0x243f6a8885a308d3ULL;
    for (u64 r = 0; r < records; r++) {
        const u64 *w = (const u64 *)(mem + 32 * r);
        u64 h = helper(w[0], w[1], w[2], w[3], r);
        acc = helper(acc, h, acc >> 7, w[0] ^ w[3], 1) + (h & 0xff);
    }
    return acc;
}
