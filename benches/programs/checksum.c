/* The Internet checksum (RFC 1071) of the whole input (1500 bytes in the benchmark): 16-bit
 * big-endian words summed into 32 bits, an odd trailing byte padded, carries folded. */
#include "bench.h"

PROG(checksum)
{
    u32 sum = 0;
    u64 n = len > 65535 ? 65535 : len;
    u64 i = 0;
    for (; i + 1 < n; i += 2)
        sum += ((u32)mem[i] << 8) | mem[i + 1];
    if (i < n)
        sum += (u32)mem[i] << 8;
    for (int k = 0; k < 2; k++)
        sum = (sum & 0xffff) + (sum >> 16);
    return (u16)~sum;
}
