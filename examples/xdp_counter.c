/* (a) Packet counter keyed by IP protocol: an XDP program counting IPv4 packets and bytes per
 * protocol in a hash map. TCP and UDP pass, ICMP is dropped, everything else passes uncounted. */
#include "apiary_bpf.h"

struct counters {
    __u64 packets;
    __u64 bytes;
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 256);
    __type(key, __u32);
    __type(value, struct counters);
} proto_counts SEC(".maps");

SEC("xdp")
int count_by_protocol(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    struct iphdr *ip = data + sizeof(*eth);

    if ((void *)(ip + 1) > data_end)
        return XDP_PASS;
    if (eth->h_proto != ETH_P_IP_BE)
        return XDP_PASS;

    __u32 key = ip->protocol;
    __u64 len = data_end - data;
    struct counters *c = bpf_map_lookup_elem(&proto_counts, &key);
    if (c) {
        __sync_fetch_and_add(&c->packets, 1);
        __sync_fetch_and_add(&c->bytes, len);
    } else {
        struct counters fresh = {1, len};
        bpf_map_update_elem(&proto_counts, &key, &fresh, BPF_NOEXIST);
    }
    return key == IPPROTO_ICMP ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
