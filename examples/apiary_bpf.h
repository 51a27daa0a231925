/* A tiny stand-in for libbpf's headers: types, SEC/map macros and the helper declarations the
 * apiary examples use. Helpers are called by their Linux ids (include/uapi/linux/bpf.h). */
#ifndef APIARY_BPF_H
#define APIARY_BPF_H

typedef unsigned char __u8;
typedef unsigned short __u16;
typedef unsigned int __u32;
typedef unsigned long long __u64;
typedef signed int __s32;
typedef signed long long __s64;

#define SEC(name) __attribute__((section(name), used))
#define __noinline __attribute__((noinline))
#define __always_inline inline __attribute__((always_inline))

/* BTF-defined maps (libbpf's conventions). */
#define __uint(name, val) int (*name)[val]
#define __type(name, val) typeof(val) *name
#define __array(name, val) typeof(val) *name[]

/* enum bpf_map_type */
#define BPF_MAP_TYPE_HASH 1
#define BPF_MAP_TYPE_ARRAY 2
#define BPF_MAP_TYPE_PROG_ARRAY 3
#define BPF_MAP_TYPE_PERCPU_ARRAY 6
#define BPF_MAP_TYPE_RINGBUF 27

/* bpf_map_update_elem flags */
#define BPF_ANY 0
#define BPF_NOEXIST 1
#define BPF_EXIST 2

/* XDP actions */
#define XDP_ABORTED 0
#define XDP_DROP 1
#define XDP_PASS 2
#define XDP_TX 3

struct xdp_md {
    __u32 data;
    __u32 data_end;
    __u32 data_meta;
    __u32 ingress_ifindex;
    __u32 rx_queue_index;
    __u32 egress_ifindex;
};

/* struct __sk_buff up to data_end (offsets as in the kernel's uapi). */
struct __sk_buff {
    __u32 len;             /* 0 */
    __u32 pkt_type;        /* 4 */
    __u32 mark;            /* 8 */
    __u32 queue_mapping;   /* 12 */
    __u32 protocol;        /* 16 */
    __u32 vlan_present;    /* 20 */
    __u32 vlan_tci;        /* 24 */
    __u32 vlan_proto;      /* 28 */
    __u32 priority;        /* 32 */
    __u32 ingress_ifindex; /* 36 */
    __u32 ifindex;         /* 40 */
    __u32 tc_index;        /* 44 */
    __u32 cb[5];           /* 48 */
    __u32 hash;            /* 68 */
    __u32 tc_classid;      /* 72 */
    __u32 data;            /* 76 */
    __u32 data_end;        /* 80 */
};

struct ethhdr {
    __u8 h_dest[6];
    __u8 h_source[6];
    __u16 h_proto; /* network order */
};

struct iphdr {
    __u8 ihl_version;
    __u8 tos;
    __u16 tot_len;
    __u16 id;
    __u16 frag_off;
    __u8 ttl;
    __u8 protocol;
    __u16 check;
    __u32 saddr;
    __u32 daddr;
};

#define ETH_P_IP_BE 0x0008 /* htons(0x0800) on a little-endian target */
#define IPPROTO_ICMP 1
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17

/* Helpers, by Linux id. */
static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *)1;
static long (*bpf_map_update_elem)(void *map, const void *key, const void *value,
                                   __u64 flags) = (void *)2;
static long (*bpf_map_delete_elem)(void *map, const void *key) = (void *)3;
static __u64 (*bpf_ktime_get_ns)(void) = (void *)5;
static long (*bpf_trace_printk)(const char *fmt, __u32 fmt_size, ...) = (void *)6;
static long (*bpf_tail_call)(void *ctx, void *prog_array_map, __u32 index) = (void *)12;
static long (*bpf_ringbuf_output)(void *ringbuf, void *data, __u64 size,
                                  __u64 flags) = (void *)130;
static void *(*bpf_ringbuf_reserve)(void *ringbuf, __u64 size, __u64 flags) = (void *)131;
static void (*bpf_ringbuf_submit)(void *data, __u64 flags) = (void *)132;
static void (*bpf_ringbuf_discard)(void *data, __u64 flags) = (void *)133;

/* Legacy packet loads (LD_ABS), for socket filters. */
unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");
unsigned long long load_half(void *skb, unsigned long long off) asm("llvm.bpf.load.half");

#endif
