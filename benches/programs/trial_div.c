/* Trial division: counts the primes below 6,000 (and sums them) by testing every odd divisor up
 * to the square root: a loop of 64-bit modulo operations with data-dependent exits. */
#include "bench.h"

PROG(trial_div)
{
    (void)mem;
    u64 limit = 6000 + (len & 1);
    u64 count = 1, sum = 2;
    for (u64 n = 3; n < limit; n += 2) {
        u64 prime = 1;
        for (u64 d = 3; d * d <= n; d += 2) {
            if (n % d == 0) {
                prime = 0;
                break;
            }
        }
        count += prime;
        sum += prime * n;
    }
    return (count << 32) | sum;
}
