/* (f) A socket filter using legacy packet loads (LD_ABS) on the __sk_buff context: counts
 * packets per IP protocol in an array map and keeps only TCP (returning the length to keep). */
#include "apiary_bpf.h"

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 256);
    __type(key, __u32);
    __type(value, __u64);
} seen SEC(".maps");

SEC("socket")
int keep_tcp(struct __sk_buff *skb)
{
    /* Socket filters see the packet from the network header: the protocol is byte 9. */
    __u32 proto = load_byte(skb, 9);
    __u64 *n = bpf_map_lookup_elem(&seen, &proto);
    if (n)
        __sync_fetch_and_add(n, 1);
    return proto == IPPROTO_TCP ? skb->len : 0;
}

char LICENSE[] SEC("license") = "GPL";
