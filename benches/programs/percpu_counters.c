/* Per-CPU counters (a BPF per-CPU array kept in the input): 4 CPUs x 64 classes of packet and
 * byte counters (4 KiB, cleared at the start of every run), then 8-byte event records (CPU,
 * class, length, flags). Each event adds to its CPU's counters, as a program running on that
 * CPU would, and the result folds the per-CPU values the way user space reads such a map. */
#include "bench.h"

#define CPUS 4
#define CLASSES 64
#define COUNTERS_BYTES (CPUS * CLASSES * 16)

PROG(percpu_counters)
{
    if (len < COUNTERS_BYTES)
        return 0;
    u64 *c = (u64 *)mem;
    for (u64 i = 0; i < CPUS * CLASSES * 2; i++) {
        c[i] = 0;
        __asm__ __volatile__("" ::: "memory"); /* a loop, not a memset call */
    }
    u64 events = (len - COUNTERS_BYTES) / 8;
    if (events > 8192)
        events = 8192;
    for (u64 e = 0; e < events; e++) {
        const u8 *p = mem + COUNTERS_BYTES + 8 * e;
        u64 cpu = p[0] & (CPUS - 1);
        u64 class = p[1] & (CLASSES - 1);
        u64 bytes = ((u64)p[2] << 8) | p[3];
        u64 *slot = c + (cpu * CLASSES + class) * 2;
        slot[0] += 1;
        slot[1] += bytes;
        if (p[4] & 1) /* an error event also counts in class 0 */
            c[cpu * CLASSES * 2] += 1;
    }
    u64 h = 0;
    for (u64 k = 0; k < CLASSES; k++) {
        u64 packets = 0, bytes = 0;
        for (u64 cpu = 0; cpu < CPUS; cpu++) {
            packets += c[(cpu * CLASSES + k) * 2];
            bytes += c[(cpu * CLASSES + k) * 2 + 1];
        }
        h = (h ^ packets) * 0x100000001b3ULL + bytes;
    }
    return h;
}
