/* (b) Event producer: one ring buffer record per IPv4 packet (sequence number, length,
 * protocol, source address), read by the host. Frames too short for an IPv4 header reserve a
 * record and discard it. */
#include "apiary_bpf.h"

struct event {
    __u64 seq;
    __u32 len;
    __u32 saddr;
    __u8 protocol;
    __u8 ttl;
    __u16 pad;
};

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 4096);
} events SEC(".maps");

__u64 next_seq; /* .bss */

SEC("xdp")
int produce_events(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    struct iphdr *ip = data + sizeof(*eth);

    struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
    if (!e)
        return XDP_ABORTED;
    if ((void *)(ip + 1) > data_end || eth->h_proto != ETH_P_IP_BE) {
        bpf_ringbuf_discard(e, 0);
        return XDP_PASS;
    }
    e->seq = __sync_fetch_and_add(&next_seq, 1);
    __u64 len = (long)data_end - (long)data;
    asm volatile("" : "+r"(len)); /* keep the pointer difference 64-bit (no 32-bit pointer ALU) */
    e->len = len;
    e->saddr = ip->saddr;
    e->protocol = ip->protocol;
    e->ttl = ip->ttl;
    e->pad = 0;
    bpf_ringbuf_submit(e, 0);
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
