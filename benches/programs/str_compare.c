/* Byte-wise string compare over a large buffer: the input is two equal-length halves that
 * agree up to a late difference (as strcmp/memcmp of long keys or payload matching does);
 * compares them byte by byte to the first difference, then again from just after it to the
 * end, and returns both difference positions and the number of equal bytes. */
#include "bench.h"

PROG(str_compare)
{
    u64 half = len / 2;
    if (half > 32768)
        half = 32768;
    u8 *a = mem, *b = mem + half;
    u64 i = 0;
    while (i < half && a[i] == b[i])
        i++;
    u64 first = i;
    u64 equal = i;
    for (i = first + 1; i < half; i++)
        equal += a[i] == b[i];
    return (first << 32) ^ equal;
}
