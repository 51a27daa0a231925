/* What the plugin host offers its plugins: the packet filter context (struct xdp_md), the
 * actions, and the host's own helper. Plugins are built with clang alone (build.sh). */
#ifndef PLUGIN_H
#define PLUGIN_H

#include "../../../examples/apiary_bpf.h"

/* The host's helper (id 10000): a reputation score for an IPv4 source address (network
 * order), 0..255. The host registers it with a prototype, so verified plugins may call it. */
static __u64 (*host_reputation)(__u64 saddr) = (void *)10000;

#define IPPROTO_TCP 6
#define IPPROTO_UDP 17

struct l4ports {
    __u16 source;
    __u16 dest;
};

#endif
