/* (c) Dispatcher using tail calls: the entry program jumps to a handler chosen by the IP
 * protocol through a prog array the host fills (slot = protocol). A protocol without a handler
 * falls through (the tail call fails) and is counted as "unhandled". */
#include "apiary_bpf.h"

struct {
    __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
    __uint(max_entries, 256);
    __type(key, __u32);
    __type(value, __u32);
} handlers SEC(".maps");

/* hits[0] = unhandled, hits[1] = tcp, hits[2] = udp, hits[3] = icmp */
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, __u64);
} hits SEC(".maps");

static __always_inline void count(__u32 slot)
{
    __u64 *n = bpf_map_lookup_elem(&hits, &slot);
    if (n)
        __sync_fetch_and_add(n, 1);
}

static __always_inline int protocol_of(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    struct iphdr *ip = data + sizeof(*eth);
    if ((void *)(ip + 1) > data_end || eth->h_proto != ETH_P_IP_BE)
        return -1;
    return ip->protocol;
}

SEC("xdp")
int dispatch(struct xdp_md *ctx)
{
    int proto = protocol_of(ctx);
    if (proto < 0)
        return XDP_PASS;
    bpf_tail_call(ctx, &handlers, proto);
    count(0);
    return XDP_PASS;
}

SEC("xdp")
int handle_tcp(struct xdp_md *ctx)
{
    count(1);
    return XDP_PASS;
}

SEC("xdp")
int handle_udp(struct xdp_md *ctx)
{
    count(2);
    return XDP_DROP;
}

SEC("xdp")
int handle_icmp(struct xdp_md *ctx)
{
    count(3);
    return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
