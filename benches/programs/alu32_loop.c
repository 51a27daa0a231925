/* A 32-bit-heavy loop: 50,000 iterations of 32-bit add, xor, rotate, multiply, shifts and
 * compares (alu32 and jmp32 instructions under -mcpu=v3). */
#include "bench.h"

PROG(alu32_loop)
{
    (void)mem;
    u32 a = (u32)len + 0x12345678u;
    u32 b = 0x9abcdef0u;
    u32 c = 0;
    for (u32 i = 0; i < 50000; i++) {
        a += b ^ i;
        b = (b << 5) | (b >> 27);
        b ^= a * 0x2545f491u;
        if ((s32)a < 0)
            c += a >> 3;
        else
            c -= (u32)((s32)b >> 2);
    }
    return (u64)(a ^ b ^ c);
}
