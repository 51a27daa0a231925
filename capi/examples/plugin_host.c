/* A plugin host: loads untrusted packet-filter plugins (eBPF objects built with clang),
 * refuses those the verifier rejects (printing its diagnostic), runs the others on a stream
 * of packets, reads their counters from their maps and consumes their ring buffer events.
 *
 *   plugin_host [interp|jit] PLUGIN.o...
 *
 * The output depends only on the plugins and the packets, so the interpreter and the JIT
 * must print the same thing (capi/test.sh checks it). */
#include <apiary.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PLUGINS 8

struct plugin {
    const char *path;
    struct apiary_module *module;
    struct apiary_instance *instance;
    struct apiary_store *store;
    uint32_t program;
    unsigned dropped;
};

/* Exits with the error's message if `err` is set. */
static void check(struct apiary_error *err, const char *what)
{
    if (err) {
        fprintf(stderr, "plugin_host: %s: %s (code %u)\n", what, apiary_error_message(err),
                apiary_error_code(err));
        apiary_error_free(err);
        exit(1);
    }
}

/* The host helper plugins may call (id 10000): a made-up reputation score of an IPv4
 * source address; 10.66.0.0/16 is a known bad neighbourhood. */
static uint64_t host_reputation(uint64_t saddr, uint64_t a2, uint64_t a3, uint64_t a4,
                                uint64_t a5, void *user)
{
    (void)a2, (void)a3, (void)a4, (void)a5;
    unsigned *calls = user;
    __atomic_fetch_add(calls, 1, __ATOMIC_RELAXED);
    const uint8_t *b = (const uint8_t *)&saddr; /* network order in memory */
    return (b[0] == 10 && b[1] == 66) ? 250 : 10;
}

/* Ethernet + IPv4 + 4 bytes of ports (+ payload) frame. */
static size_t make_packet(uint8_t *f, uint8_t proto, const uint8_t src[4], uint16_t dport,
                          size_t payload)
{
    memset(f, 0, 64 + payload);
    memset(f, 0xaa, 12);
    f[12] = 0x08, f[13] = 0x00;                 /* IPv4 */
    uint8_t *ip = f + 14;
    size_t total = 20 + 8 + payload;
    ip[0] = 0x45, ip[2] = total >> 8, ip[3] = total & 0xff, ip[8] = 64, ip[9] = proto;
    memcpy(ip + 12, src, 4);
    ip[16] = 192, ip[17] = 0, ip[18] = 2, ip[19] = 1;
    uint8_t *l4 = ip + 20;
    l4[0] = 0x9c, l4[1] = 0x40;                 /* source port 40000 */
    l4[2] = dport >> 8, l4[3] = dport & 0xff;
    return 14 + total;
}

struct drop_event {
    uint32_t saddr;
    uint16_t port;
    uint8_t protocol;
    uint8_t reason;
};

static int print_drop(const uint8_t *data, size_t len, void *user)
{
    (void)user;
    struct drop_event e;
    if (len != sizeof e) {
        printf("  event of %zu bytes?\n", len);
        return 0;
    }
    memcpy(&e, data, sizeof e);
    const uint8_t *s = (const uint8_t *)&e.saddr;
    printf("  drop: %u.%u.%u.%u -> port %u proto %u (%s)\n", s[0], s[1], s[2], s[3], e.port,
           e.protocol, e.reason == 1 ? "blocked port" : "bad reputation");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3 || (strcmp(argv[1], "interp") && strcmp(argv[1], "jit"))) {
        fprintf(stderr, "usage: %s interp|jit PLUGIN.o...\n", argv[0]);
        return 2;
    }
    uint32_t engine = strcmp(argv[1], "jit") ? APIARY_ENGINE_INTERP : APIARY_ENGINE_JIT;

    static unsigned reputation_calls;
    struct apiary_config *config = apiary_config_new();
    check(apiary_config_set_verified(config, true), "verified mode");
    check(apiary_config_set_budget(config, 100000), "budget");
    struct apiary_helper_proto proto = {{APIARY_ARG_ANYTHING}};
    check(apiary_config_add_helper(config, 10000, "host_reputation", host_reputation,
                                   &reputation_calls, &proto),
          "helper");

    struct plugin plugins[MAX_PLUGINS];
    int n = 0;
    for (int i = 2; i < argc && n < MAX_PLUGINS; i++) {
        struct plugin p = {.path = argv[i]};
        const char *base = strrchr(p.path, '/') ? strrchr(p.path, '/') + 1 : p.path;
        check(apiary_module_from_file(config, p.path, &p.module), base);
        if (apiary_module_program_count(p.module) != 1) {
            printf("%s: refused: a plugin has exactly one program\n", base);
            apiary_module_free(p.module);
            continue;
        }
        p.program = 0;
        struct apiary_verdict verdict;
        check(apiary_module_verify(p.module, p.program, &verdict), base);
        if (!verdict.accepted) {
            printf("%s: refused by the verifier at instruction %lld (%s): %s\n", base,
                   (long long)verdict.pc, verdict.instruction ? verdict.instruction : "-",
                   verdict.reason);
            check(apiary_verdict_clear(&verdict), "verdict");
            apiary_module_free(p.module);
            continue;
        }
        check(apiary_verdict_clear(&verdict), "verdict");
        check(apiary_instance_new(p.module, engine, &p.instance), base);
        check(apiary_store_new(p.instance, 0, &p.store), base);
        printf("%s: loaded %s\n", base, apiary_module_program_name(p.module, p.program));
        plugins[n++] = p;
    }
    apiary_config_free(config);

    /* The host's configuration of its plugins: block port 23 where a plugin has the map. */
    for (int i = 0; i < n; i++) {
        uint32_t map;
        struct apiary_error *err = apiary_module_find_map(plugins[i].module, "blocked_ports", &map);
        if (err) {
            apiary_error_free(err);
            continue;
        }
        uint16_t port = 23;
        uint8_t yes = 1;
        check(apiary_map_update(plugins[i].instance, map, (uint8_t *)&port, sizeof port, &yes, 1, 0),
              "blocked_ports");
    }

    /* The traffic. */
    static const uint8_t good[4] = {198, 51, 100, 7}, bad[4] = {10, 66, 3, 4};
    struct { uint8_t proto; const uint8_t *src; uint16_t port; size_t payload; } traffic[] = {
        {6, good, 80, 100},  {17, good, 53, 40}, {6, good, 23, 0},  {1, good, 0, 56},
        {6, bad, 443, 200},  {17, bad, 123, 48}, {6, good, 443, 1000}, {17, good, 23, 10},
        {47, good, 0, 60},   {6, good, 22, 0},
    };
    uint8_t frame[2048], out[2048];
    for (size_t t = 0; t < sizeof traffic / sizeof traffic[0]; t++) {
        size_t len = make_packet(frame, traffic[t].proto, traffic[t].src, traffic[t].port,
                                 traffic[t].payload);
        printf("packet %zu (proto %u, port %u, %zu bytes):", t, traffic[t].proto,
               traffic[t].port, len);
        for (int i = 0; i < n; i++) {
            struct apiary_run_result r;
            check(apiary_run(plugins[i].instance, plugins[i].store, plugins[i].program, frame,
                             len, out, sizeof out, &r),
                  "run");
            if (r.fault != APIARY_FAULT_NONE) {
                printf(" fault %u at %llu", r.fault, (unsigned long long)r.fault_pc);
                continue;
            }
            printf(" %s", r.r0 == 1 ? "DROP" : r.r0 == 2 ? "PASS" : "OTHER");
            plugins[i].dropped += r.r0 == 1;
        }
        printf("\n");
    }

    /* What the plugins recorded. */
    for (int i = 0; i < n; i++) {
        const char *name = apiary_module_program_name(plugins[i].module, plugins[i].program);
        printf("%s: dropped %u\n", name, plugins[i].dropped);
        uint32_t map;
        struct apiary_error *err = apiary_module_find_map(plugins[i].module, "proto_counts", &map);
        if (!err) {
            uint32_t key, next;
            bool more;
            check(apiary_map_next_key(plugins[i].instance, map, NULL, 0, (uint8_t *)&next,
                                      sizeof next, &more),
                  "next_key");
            /* Hash order is not sorted: collect, then print in protocol order. */
            uint64_t counts[256][2] = {{0}};
            while (more) {
                key = next;
                uint64_t value[2];
                bool found;
                size_t vlen;
                check(apiary_map_lookup(plugins[i].instance, map, (uint8_t *)&key, sizeof key,
                                        (uint8_t *)value, sizeof value, &vlen, &found),
                      "lookup");
                if (found && key < 256)
                    counts[key][0] = value[0], counts[key][1] = value[1];
                check(apiary_map_next_key(plugins[i].instance, map, (uint8_t *)&key, sizeof key,
                                          (uint8_t *)&next, sizeof next, &more),
                      "next_key");
            }
            for (int p = 0; p < 256; p++)
                if (counts[p][0])
                    printf("  protocol %d: %llu packets, %llu bytes\n", p,
                           (unsigned long long)counts[p][0], (unsigned long long)counts[p][1]);
        } else {
            apiary_error_free(err);
        }
        err = apiary_module_find_map(plugins[i].module, "drops", &map);
        if (!err) {
            size_t consumed;
            check(apiary_ringbuf_consume(plugins[i].instance, map, print_drop, NULL, &consumed),
                  "ring buffer");
            printf("  %zu drop events\n", consumed);
        } else {
            apiary_error_free(err);
        }
    }
    printf("host_reputation called %u times\n", reputation_calls);

    for (int i = 0; i < n; i++) {
        apiary_store_free(plugins[i].store);
        apiary_instance_free(plugins[i].instance);
        apiary_module_free(plugins[i].module);
    }
    return 0;
}
