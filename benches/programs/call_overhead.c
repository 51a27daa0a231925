/* The smallest program (r0 = 1; exit): the per-call cost of entering and leaving an engine. */
#include "bench.h"

PROG(call_overhead)
{
    (void)mem;
    (void)len;
    return 1;
}
