/* A flow table (a BPF hash map kept in the input, as a map value would be): per packet a hash
 * lookup and update. The input is a 512-entry open-addressing table (16-byte entries: key,
 * packet count; cleared at the start of every run) followed by 16-byte flow records (IPv4
 * 5-tuple: saddr, daddr, sport, dport, proto, padding); each record's key is hashed, probed
 * linearly (at most 16 probes) and its count incremented or a new entry inserted. Returns the
 * number of flows, of lookups that hit, and of packets dropped for a full probe window. */
#include "bench.h"

#define ENTRIES 512
#define TABLE_BYTES (ENTRIES * 16)

PROG(flow_table)
{
    if (len < TABLE_BYTES)
        return 0;
    u64 *table = (u64 *)mem;
    for (u64 i = 0; i < 2 * ENTRIES; i++) {
        table[i] = 0;
        __asm__ __volatile__("" ::: "memory"); /* a loop, not a memset call */
    }
    u64 records = (len - TABLE_BYTES) / 16;
    if (records > 4096)
        records = 4096;
    u64 flows = 0, hits = 0, dropped = 0;
    for (u64 r = 0; r < records; r++) {
        const u8 *p = mem + TABLE_BYTES + 16 * r;
        u64 a = *(const u64 *)p, b = *(const u64 *)(p + 8);
        u64 key = (a ^ (b * 0x9e3779b97f4a7c15ULL)) | 1; /* 0 marks an empty slot */
        u64 h = (key * 0xff51afd7ed558ccdULL) >> 55;      /* 9 bits: 512 slots */
        u64 k;
        for (k = 0; k < 16; k++) {
            u64 slot = ((h + k) & (ENTRIES - 1)) * 2;
            u64 cur = table[slot];
            if (cur == key) {
                table[slot + 1]++;
                hits++;
                break;
            }
            if (cur == 0) {
                table[slot] = key;
                table[slot + 1] = 1;
                flows++;
                break;
            }
        }
        if (k == 16)
            dropped++;
    }
    return (flows << 40) | (hits << 16) | dropped;
}
