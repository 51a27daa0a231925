/* (e) A bounded loop: the number of set bits in the first 256 bytes of the packet, counted bit
 * by bit (two nested loops the compiler keeps as loops), stored in a global; the packet passes
 * when the count is even and is dropped otherwise. */
#include "apiary_bpf.h"

__u32 bits_seen; /* .bss */

SEC("xdp")
int popcount(struct xdp_md *ctx)
{
    __u8 *data = (void *)(long)ctx->data;
    __u8 *data_end = (void *)(long)ctx->data_end;
    __u32 bits = 0;
#pragma clang loop unroll(disable)
    for (__u32 i = 0; i < 256; i++) {
        if (data + i + 1 > data_end)
            break;
        __u8 b = data[i];
#pragma clang loop unroll(disable)
        for (int j = 0; j < 8; j++) {
            bits += b & 1;
            b >>= 1;
        }
    }
    bits_seen = bits;
    return (bits & 1) ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
