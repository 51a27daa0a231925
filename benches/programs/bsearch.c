/* Binary search: the input is a sorted array of little-endian u32 (4096 entries in the
 * benchmark); 1,000 keys from a linear congruential generator are looked up (about half hit).
 * Returns a hash of the positions found and the keys missed. */
#include "bench.h"

PROG(bsearch)
{
    const u32 *arr = (const u32 *)mem;
    u32 n = (u32)(len / 4);
    if (n == 0)
        return 0;
    u32 range = arr[n - 1] + 1;
    u32 key = 12345;
    u64 acc = 0;
    for (u32 q = 0; q < 1000; q++) {
        key = key * 1103515245u + 12345u;
        u32 k = (key >> 8) % range;
        u32 lo = 0, hi = n;
        for (int step = 0; step < 32 && lo < hi; step++) {
            u32 mid = (lo + hi) >> 1;
            if (arr[mid] < k)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo < n && arr[lo] == k)
            acc += lo;
        else
            acc = (acc ^ k) * 31;
    }
    return acc;
}
