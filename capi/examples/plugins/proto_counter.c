/* Plugin 1: counts packets and bytes per IPv4 protocol; passes everything. */
#include "plugin.h"

struct counter {
    __u64 packets;
    __u64 bytes;
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 256);
    __type(key, __u32);
    __type(value, struct counter);
} proto_counts SEC(".maps");

SEC("xdp")
int count_protocols(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    struct iphdr *ip = data + sizeof(*eth);
    if ((void *)(ip + 1) > data_end || eth->h_proto != ETH_P_IP_BE)
        return XDP_PASS;
    __u32 proto = ip->protocol;
    __u64 len = (long)data_end - (long)data;
    struct counter *c = bpf_map_lookup_elem(&proto_counts, &proto);
    if (c) {
        __sync_fetch_and_add(&c->packets, 1);
        __sync_fetch_and_add(&c->bytes, len);
    } else {
        struct counter fresh = {1, len};
        bpf_map_update_elem(&proto_counts, &proto, &fresh, BPF_NOEXIST);
    }
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
