/* Plugin 2: drops TCP/UDP packets to a port the host blocked (the `blocked_ports` map) or
 * from a source the host's reputation helper scores above 200, and reports each drop to the
 * host in the `drops` ring buffer. */
#include "plugin.h"

struct drop_event {
    __u32 saddr;   /* network order */
    __u16 port;    /* destination port, host order */
    __u8 protocol;
    __u8 reason;   /* 1 = blocked port, 2 = bad reputation */
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 1024);
    __type(key, __u16);
    __type(value, __u8);
} blocked_ports SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 4096);
} drops SEC(".maps");

SEC("xdp")
int guard_ports(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    struct iphdr *ip = data + sizeof(*eth);
    if ((void *)(ip + 1) > data_end || eth->h_proto != ETH_P_IP_BE)
        return XDP_PASS;
    if (ip->protocol != IPPROTO_TCP && ip->protocol != IPPROTO_UDP)
        return XDP_PASS;
    struct l4ports *l4 = (void *)(ip + 1); /* no IP options in this host's traffic */
    if ((void *)(l4 + 1) > data_end)
        return XDP_PASS;
    __u16 port = __builtin_bswap16(l4->dest);
    __u8 reason = 0;
    if (bpf_map_lookup_elem(&blocked_ports, &port))
        reason = 1;
    else if (host_reputation(ip->saddr) > 200)
        reason = 2;
    if (!reason)
        return XDP_PASS;
    struct drop_event *e = bpf_ringbuf_reserve(&drops, sizeof(*e), 0);
    if (e) {
        e->saddr = ip->saddr;
        e->port = port;
        e->protocol = ip->protocol;
        e->reason = reason;
        bpf_ringbuf_submit(e, 0);
    }
    return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
