/* (d) Global data and bpf-to-bpf calls: a hash of the packet's first bytes computed by a
 * non-inlined function, with its seed and length in .rodata, a running total in .data and a
 * call count and the last hash in .bss. */
#include "apiary_bpf.h"

const volatile __u32 seed = 2166136261u; /* .rodata */
const volatile __u32 prefix = 16;        /* .rodata: bytes hashed */
__u64 total = 1000;                      /* .data */
__u64 calls;                             /* .bss */
__u32 last_hash;                         /* .bss */

static __noinline __u32 mix(__u32 h, __u32 byte)
{
    return (h ^ byte) * 16777619u;
}

static __noinline __u32 hash_prefix(__u8 *p, __u8 *end)
{
    __u32 h = seed;
    for (int i = 0; i < 64; i++) {
        if (i >= prefix || p + i + 1 > end)
            break;
        h = mix(h, p[i]);
    }
    return h;
}

SEC("xdp")
int hash_packet(struct xdp_md *ctx)
{
    __u8 *data = (void *)(long)ctx->data;
    __u8 *data_end = (void *)(long)ctx->data_end;
    __u32 h = hash_prefix(data, data_end);
    last_hash = h;
    calls += 1;
    total += h & 0xff;
    return (h & 1) ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
