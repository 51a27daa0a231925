/* Byte-by-byte copy (a naive memcpy): copies the first half of the input (up to 16 KiB) over the
 * second half one byte at a time, then returns a rolling checksum of the copy. */
#include "bench.h"

PROG(byte_copy)
{
    u64 half = len / 2;
    if (half > 16384)
        half = 16384;
    u8 *src = mem, *dst = mem + half;
    for (u64 i = 0; i < half; i++)
        dst[i] = src[i];
    u64 sum = 0;
    for (u64 i = 0; i < half; i += 64)
        sum = sum * 31 + dst[i];
    return sum;
}
