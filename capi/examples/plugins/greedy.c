/* Plugin 3, untrusted and wrong: reads the IPv4 header without checking the packet is long
 * enough. The verifier rejects it, and the host refuses to load it. */
#include "plugin.h"

SEC("xdp")
int peek_ttl(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    struct iphdr *ip = data + sizeof(struct ethhdr);
    return ip->ttl > 1 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
