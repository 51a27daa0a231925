/* An XDP-style filter over a realistic packet mix: records as for parser.c (2-byte big-endian
 * length, then an Ethernet frame). Every frame gets an action as an XDP program returns one:
 * DROP (malformed, IPv4 TTL <= 1, non-first fragments, DNS to a blocked port range, TCP SYN to
 * a closed port), TX (ICMP/ICMPv6 echo requests: source and destination MAC swapped in place,
 * as a reflector writes the packet) or PASS. Returns per-action packet and byte counts. */
#include "bench.h"

#define XDP_DROP 1
#define XDP_PASS 2
#define XDP_TX 3

INLINE u32 be16(const u8 *p)
{
    return ((u32)p[0] << 8) | p[1];
}

INLINE u32 l4_action(u32 proto, u8 *p, u64 n)
{
    if (proto == 17) {
        if (n < 8)
            return XDP_DROP;
        u32 dport = be16(p + 2);
        if (dport == 53 && (p[1] & 0xf0) == 0) /* source ports below 16 (masked): blocked */
            return XDP_DROP;
        return XDP_PASS;
    }
    if (proto == 6) {
        if (n < 20)
            return XDP_DROP;
        u32 dport = be16(p + 2);
        if ((p[13] & 0x12) == 0x02 && dport != 443 && dport != 80)
            return XDP_DROP; /* SYN to a closed port */
        return XDP_PASS;
    }
    if (proto == 1 || proto == 58) {
        if (n < 4)
            return XDP_DROP;
        if (p[0] == 8 || p[0] == 128)
            return XDP_TX; /* echo request */
        return XDP_PASS;
    }
    return XDP_PASS;
}

PROG(xdp_filter)
{
    u64 packets[4] = {0}, bytes[4] = {0};
    u64 off = 0;
    for (int rec = 0; rec < 1024; rec++) {
        if (off + 2 > len)
            break;
        u64 n = be16(mem + off);
        u8 *p = mem + off + 2;
        off += 2 + n;
        if (off > len)
            break;
        u32 action = XDP_PASS;
        if (n < 14) {
            action = XDP_DROP;
            goto done;
        }
        u32 type = be16(p + 12);
        u64 l3 = 14;
        if (type == 0x8100) {
            if (n < 18) {
                action = XDP_DROP;
                goto done;
            }
            type = be16(p + 16);
            l3 = 18;
        }
        u8 *q = p + l3;
        u64 rest = n - l3;
        if (type == 0x0800) {
            if (rest < 20) {
                action = XDP_DROP;
                goto done;
            }
            u32 ihl = (q[0] & 15) * 4;
            u32 tot = be16(q + 2);
            if ((q[0] >> 4) != 4 || ihl < 20 || tot < ihl || tot > rest || q[8] <= 1 ||
                (be16(q + 6) & 0x1fff)) {
                action = XDP_DROP;
                goto done;
            }
            action = l4_action(q[9], q + ihl, tot - ihl);
        } else if (type == 0x86dd) {
            if (rest < 40 || (q[0] >> 4) != 6) {
                action = XDP_DROP;
                goto done;
            }
            u32 plen = be16(q + 4);
            if (plen > rest - 40) {
                action = XDP_DROP;
                goto done;
            }
            action = l4_action(q[6], q + 40, plen);
        }
        if (action == XDP_TX) {
            for (int i = 0; i < 6; i++) {
                u8 t = p[i];
                p[i] = p[6 + i];
                p[6 + i] = t;
            }
        }
    done:
        packets[action]++;
        bytes[action] += n;
    }
    u64 h = 0;
    for (int i = 1; i < 4; i++)
        h = (h ^ packets[i]) * 0x100000001b3ULL + bytes[i];
    return h;
}
