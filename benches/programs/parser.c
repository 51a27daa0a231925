/* A branchy packet parser. The input is a sequence of records, each a 2-byte big-endian length
 * followed by that many bytes of an Ethernet frame. Every frame is parsed (Ethernet, optional
 * 802.1Q tag, IPv4 with options and fragments, IPv6, ARP; then UDP, TCP or ICMP), every field
 * bounds-checked against the record, and a hash of the fields seen plus per-kind counters is
 * returned. At most 1024 records. */
#include "bench.h"

INLINE u32 be16(const u8 *p)
{
    return ((u32)p[0] << 8) | p[1];
}

INLINE u32 be32(const u8 *p)
{
    return ((u32)p[0] << 24) | ((u32)p[1] << 16) | ((u32)p[2] << 8) | p[3];
}

INLINE u64 mix(u64 h, u64 v)
{
    return (h ^ v) * 0x100000001b3ULL;
}

/* Parses the L4 header at p (n bytes available). Returns the updated hash. */
INLINE u64 l4(u64 h, u32 proto, const u8 *p, u64 n, u64 *counts)
{
    if (proto == 17) {
        if (n < 8) {
            counts[3]++;
            return h;
        }
        u32 sport = be16(p), dport = be16(p + 2), ulen = be16(p + 4);
        if (ulen < 8 || ulen > n) {
            counts[3]++;
            return h;
        }
        if (dport == 53 || sport == 53)
            counts[4]++;
        else if (dport == 4789)
            counts[5]++;
        h = mix(h, (sport << 16) | dport);
        return mix(h, ulen);
    }
    if (proto == 6) {
        if (n < 20) {
            counts[3]++;
            return h;
        }
        u32 off = (u32)(p[12] >> 4) * 4;
        u32 flags = p[13];
        if (off < 20 || off > n) {
            counts[3]++;
            return h;
        }
        if (flags & 0x02)
            counts[6]++; /* SYN */
        if (flags & 0x01)
            counts[7]++; /* FIN */
        if ((flags & 0x04) && (flags & 0x10))
            counts[3]++; /* RST+ACK */
        h = mix(h, (be16(p) << 16) | be16(p + 2));
        return mix(h, be32(p + 4) ^ flags);
    }
    if (proto == 1 || proto == 58) {
        if (n < 4) {
            counts[3]++;
            return h;
        }
        counts[8]++;
        return mix(h, (p[0] << 8) | p[1]);
    }
    counts[9]++;
    return mix(h, proto);
}

PROG(parser)
{
    u64 counts[10] = {0};
    u64 h = 0xcbf29ce484222325ULL;
    u64 off = 0;
    for (int rec = 0; rec < 1024; rec++) {
        if (off + 2 > len)
            break;
        u64 n = be16(mem + off);
        const u8 *p = mem + off + 2;
        off += 2 + n;
        if (off > len)
            break;
        if (n < 14) {
            counts[0]++;
            continue;
        }
        u32 type = be16(p + 12);
        u64 l3 = 14;
        if (type == 0x8100) {
            if (n < 18) {
                counts[0]++;
                continue;
            }
            h = mix(h, be16(p + 14) & 0xfff);
            type = be16(p + 16);
            l3 = 18;
        }
        const u8 *q = p + l3;
        u64 rest = n - l3;
        u32 proto;
        const u8 *l4p;
        u64 l4n;
        if (type == 0x0800) {
            if (rest < 20) {
                counts[0]++;
                continue;
            }
            u32 vihl = q[0];
            u32 ihl = (vihl & 15) * 4;
            u32 tot = be16(q + 2);
            if ((vihl >> 4) != 4 || ihl < 20 || tot < ihl || tot > rest) {
                counts[0]++;
                continue;
            }
            u32 frag = be16(q + 6);
            h = mix(h, be32(q + 12));
            h = mix(h, be32(q + 16));
            if (q[8] <= 1)
                counts[2]++; /* TTL expiring */
            if (frag & 0x1fff) {
                counts[1]++; /* non-first fragment: no L4 header */
                continue;
            }
            proto = q[9];
            l4p = q + ihl;
            l4n = tot - ihl;
        } else if (type == 0x86dd) {
            if (rest < 40) {
                counts[0]++;
                continue;
            }
            if ((q[0] >> 4) != 6) {
                counts[0]++;
                continue;
            }
            u32 plen = be16(q + 4);
            if (plen > rest - 40) {
                counts[0]++;
                continue;
            }
            h = mix(h, be32(q + 20) ^ be32(q + 36));
            proto = q[6];
            l4p = q + 40;
            l4n = plen;
        } else if (type == 0x0806) {
            if (rest < 28) {
                counts[0]++;
                continue;
            }
            u32 op = be16(q + 6);
            if (op == 1)
                counts[4]++;
            else if (op == 2)
                counts[5]++;
            else
                counts[0]++;
            h = mix(h, be32(q + 24));
            continue;
        } else {
            counts[9]++;
            continue;
        }
        h = l4(h, proto, l4p, l4n, counts);
    }
    for (int i = 0; i < 10; i++)
        h = mix(h, counts[i]);
    return h;
}
