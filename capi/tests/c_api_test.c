/* Tests of the C API from C: errors and NULL arguments, raw programs, host helpers with and
 * without prototypes, verification verdicts, runs and faults, maps, key iteration, buffers
 * too small. Run by capi/test.sh, also under valgrind and with ASan/UBSan.
 *
 *   c_api_test PLUGIN_DIR */
#include <apiary.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures, checks;

#define EXPECT(cond)                                                                   \
    do {                                                                               \
        checks++;                                                                      \
        if (!(cond)) {                                                                 \
            failures++;                                                                \
            fprintf(stderr, "%s:%d: expected %s\n", __FILE__, __LINE__, #cond);        \
        }                                                                              \
    } while (0)

/* Expects `err` to be an error with `code` whose message contains `part`; frees it. */
static void expect_error(struct apiary_error *err, uint32_t code, const char *part, int line)
{
    checks++;
    if (!err) {
        failures++;
        fprintf(stderr, "line %d: expected error %u, got success\n", line, code);
        return;
    }
    if (apiary_error_code(err) != code || !strstr(apiary_error_message(err), part)) {
        failures++;
        fprintf(stderr, "line %d: expected error %u containing \"%s\", got %u: %s\n", line,
                code, part, apiary_error_code(err), apiary_error_message(err));
    }
    apiary_error_free(err);
}
#define EXPECT_ERROR(call, code, part) expect_error((call), (code), (part), __LINE__)

static void expect_ok(struct apiary_error *err, int line)
{
    checks++;
    if (err) {
        failures++;
        fprintf(stderr, "line %d: unexpected error %u: %s\n", line, apiary_error_code(err),
                apiary_error_message(err));
        apiary_error_free(err);
    }
}
#define OK(call) expect_ok((call), __LINE__)

static uint64_t add_bytes(uint64_t ptr, uint64_t len, uint64_t a3, uint64_t a4, uint64_t a5,
                          void *user)
{
    (void)a3, (void)a4, (void)a5;
    const uint8_t *p = (const uint8_t *)(uintptr_t)ptr;
    uint64_t sum = *(uint64_t *)user;
    for (uint64_t i = 0; i < len; i++)
        sum += p[i];
    return sum;
}

static int count_records(const uint8_t *data, size_t len, void *user)
{
    (void)data, (void)len;
    return ++*(int *)user >= 1; /* stop after the first */
}

static void null_arguments(void)
{
    struct apiary_module *m = NULL;
    uint32_t id;
    EXPECT_ERROR(apiary_module_from_elf(NULL, NULL, 0, &m), APIARY_ERROR_NULL_ARGUMENT, "config");
    struct apiary_config *c = apiary_config_new();
    EXPECT_ERROR(apiary_module_from_elf(c, NULL, 8, &m), APIARY_ERROR_NULL_ARGUMENT, "bytes");
    EXPECT_ERROR(apiary_module_from_asm(c, "exit", NULL), APIARY_ERROR_NULL_ARGUMENT, "out");
    EXPECT_ERROR(apiary_module_find_program(NULL, "x", &id), APIARY_ERROR_NULL_ARGUMENT, "module");
    EXPECT_ERROR(apiary_run(NULL, NULL, 0, NULL, 0, NULL, 0, NULL), APIARY_ERROR_NULL_ARGUMENT,
                 "instance");
    EXPECT_ERROR(apiary_config_set_stores(c, 0), APIARY_ERROR_INVALID_ARGUMENT, "stores");
    EXPECT_ERROR(apiary_config_set_btf(c, "/nonexistent/vmlinux"), APIARY_ERROR_IO, "nonexistent");
    EXPECT_ERROR(apiary_config_set_btf(c, NULL), APIARY_ERROR_NULL_ARGUMENT, "path");
    EXPECT_ERROR(apiary_config_set_btf(c, "/dev/null"), 1, "/dev/null");
    FILE *vmlinux = fopen("/sys/kernel/btf/vmlinux", "rb");
    if (vmlinux) { /* the running kernel's BTF, where the host has it */
        fclose(vmlinux);
        OK(apiary_config_set_btf(c, "/sys/kernel/btf/vmlinux"));
    }
    EXPECT_ERROR(apiary_config_add_helper(c, 1, "h", NULL, NULL, NULL), APIARY_ERROR_NULL_ARGUMENT,
                 "func");
    struct apiary_helper_proto bad = {{APIARY_ARG_MEM, APIARY_ARG_ANYTHING}};
    EXPECT_ERROR(apiary_config_add_helper(c, 10001, "h", add_bytes, NULL, &bad),
                 APIARY_ERROR_INVALID_ARGUMENT, "size");
    struct apiary_helper_proto unknown = {{99}};
    EXPECT_ERROR(apiary_config_add_helper(c, 10001, "h", add_bytes, NULL, &unknown),
                 APIARY_ERROR_INVALID_ARGUMENT, "unknown kind");
    EXPECT(apiary_error_code(NULL) == APIARY_OK);
    EXPECT(strcmp(apiary_error_message(NULL), "") == 0);
    EXPECT(apiary_module_program_count(NULL) == 0);
    EXPECT(apiary_module_program_name(NULL, 0) == NULL);
    apiary_error_free(NULL);
    apiary_module_free(NULL);
    apiary_instance_free(NULL);
    apiary_store_free(NULL);
    apiary_config_free(NULL);
    apiary_config_free(c);
}

static void raw_programs(void)
{
    struct apiary_config *c = apiary_config_new();
    struct apiary_module *m = NULL;
    EXPECT_ERROR(apiary_module_from_asm(c, "mov %r0, \nexit", &m), 2, "1:1");
    EXPECT_ERROR(apiary_module_from_bytecode(c, (const uint8_t *)"\x95\0\0\0\0\0\0", 7, &m), 2, "");
    /* r0 = the input's length + 40 (verified: raw programs' input length is not known to the
     * verifier, so this one reads none). */
    OK(apiary_module_from_asm(c, "mov %r0, %r2\nadd %r0, 40\nexit", &m));
    EXPECT(apiary_module_program_count(m) == 1);
    EXPECT(strcmp(apiary_module_program_name(m, 0), "main") == 0);
    for (uint32_t engine = APIARY_ENGINE_INTERP; engine <= APIARY_ENGINE_JIT; engine++) {
        struct apiary_instance *inst = NULL;
        struct apiary_store *store = NULL;
        OK(apiary_instance_new(m, engine, &inst));
        OK(apiary_store_new(inst, 0, &store));
        uint8_t in[2] = {40, 2}, out[1];
        struct apiary_run_result r;
        OK(apiary_run(inst, store, 0, in, 2, out, sizeof out, &r));
        EXPECT(r.fault == APIARY_FAULT_NONE && r.r0 == 42 && r.data_len == 2 && out[0] == 40);
        EXPECT(r.counted && r.instructions == 3);
        EXPECT_ERROR(apiary_run(inst, store, 7, in, 2, NULL, 0, &r), APIARY_ERROR_INVALID_ARGUMENT,
                     "no program 7");
        EXPECT_ERROR(apiary_run(inst, store, 0, in, 2, NULL, 4, &r), APIARY_ERROR_NULL_ARGUMENT,
                     "out");
        EXPECT_ERROR(apiary_instance_new(m, 9, &inst), APIARY_ERROR_INVALID_ARGUMENT, "engine");
        apiary_store_free(store);
        apiary_instance_free(inst);
    }
    apiary_module_free(m);

    /* The unsandboxed variant, asked for by name, gives the same result. */
    OK(apiary_config_set_unsandboxed(c, true));
    OK(apiary_module_from_asm(c, "mov %r0, %r2\nadd %r0, 40\nexit", &m));
    {
        struct apiary_instance *inst = NULL;
        struct apiary_store *store = NULL;
        OK(apiary_instance_new(m, APIARY_ENGINE_JIT, &inst));
        OK(apiary_store_new(inst, 0, &store));
        uint8_t in[2] = {40, 2};
        struct apiary_run_result r;
        OK(apiary_run(inst, store, 0, in, 2, NULL, 0, &r));
        EXPECT(r.fault == APIARY_FAULT_NONE && r.r0 == 42);
        apiary_store_free(store);
        apiary_instance_free(inst);
    }
    apiary_module_free(m);
    OK(apiary_config_set_unsandboxed(c, false));

    /* Checked mode: an out-of-bounds read is a fault with its pc and address. The address is
     * a fixed low one (below mmap_min_addr), never inside a region: an offset from the heap
     * input could land in another region of the run (its stack is a heap allocation too), where
     * checked mode rightly allows the read. */
    OK(apiary_config_set_verified(c, false));
    OK(apiary_config_set_budget(c, 1000));
    OK(apiary_module_from_asm(c, "mov %r1, 4096\nldxdw %r0, [%r1+8]\nexit", &m));
    struct apiary_instance *inst = NULL;
    struct apiary_store *store = NULL;
    OK(apiary_instance_new(m, APIARY_ENGINE_JIT, &inst));
    OK(apiary_store_new(inst, 0, &store));
    uint8_t in[8] = {0};
    struct apiary_run_result r;
    OK(apiary_run(inst, store, 0, in, sizeof in, NULL, 0, &r));
    EXPECT(r.fault == APIARY_FAULT_OUT_OF_BOUNDS && r.fault_pc == 1 && r.fault_addr == 4104);
    if (r.fault != APIARY_FAULT_OUT_OF_BOUNDS)
        fprintf(stderr, "fault %u pc %llu addr %llx r0 %llx\n", r.fault,
                (unsigned long long)r.fault_pc, (unsigned long long)r.fault_addr,
                (unsigned long long)r.r0);
    apiary_store_free(store);
    apiary_instance_free(inst);
    apiary_module_free(m);

    /* A loop the budget stops. */
    OK(apiary_module_from_asm(c, "mov %r0, 0\nja -1\nexit", &m));
    OK(apiary_instance_new(m, APIARY_ENGINE_INTERP, &inst));
    OK(apiary_store_new(inst, 0, &store));
    OK(apiary_run(inst, store, 0, in, sizeof in, NULL, 0, &r));
    EXPECT(r.fault == APIARY_FAULT_BUDGET_EXHAUSTED);
    apiary_store_free(store);
    apiary_instance_free(inst);
    apiary_module_free(m);
    apiary_config_free(c);
}

static void host_helpers(void)
{
    /* sum(bytes) + *user, with a prototype: verified mode accepts the call. */
    uint64_t base = 1000;
    const char *prog = "mov %r6, %r1\nstxdw [%r10-8], %r6\nmov %r1, %r10\nadd %r1, -8\n"
                       "mov %r2, 8\ncall 10001\nexit";
    struct apiary_helper_proto proto = {{APIARY_ARG_MEM, APIARY_ARG_SIZE}};
    struct apiary_config *c = apiary_config_new();
    OK(apiary_config_add_helper(c, 10001, "add_bytes", add_bytes, &base, &proto));
    struct apiary_module *m = NULL;
    OK(apiary_module_from_asm(c, prog, &m));
    struct apiary_verdict v;
    OK(apiary_module_verify(m, 0, &v));
    EXPECT(v.accepted);
    OK(apiary_verdict_clear(&v));
    struct apiary_instance *inst = NULL;
    struct apiary_store *store = NULL;
    OK(apiary_instance_new(m, APIARY_ENGINE_JIT, &inst));
    OK(apiary_store_new(inst, 0, &store));
    uint8_t in[4] = {0};
    struct apiary_run_result r;
    OK(apiary_run(inst, store, 0, in, sizeof in, NULL, 0, &r));
    /* The stack holds the input's address: its bytes summed, plus 1000. */
    EXPECT(r.fault == APIARY_FAULT_NONE && r.r0 >= 1000);
    apiary_store_free(store);
    apiary_instance_free(inst);
    apiary_module_free(m);
    apiary_config_free(c);

    /* Without a prototype: verified mode rejects the call, with its diagnostic. */
    c = apiary_config_new();
    OK(apiary_config_add_helper(c, 10001, "add_bytes", add_bytes, &base, NULL));
    OK(apiary_module_from_asm(c, prog, &m));
    OK(apiary_module_verify(m, 0, &v));
    EXPECT(!v.accepted && v.pc == 5 && v.reason && v.message && v.instruction);
    OK(apiary_verdict_clear(&v));
    EXPECT(v.reason == NULL && v.message == NULL);
    OK(apiary_instance_new(m, APIARY_ENGINE_INTERP, &inst));
    OK(apiary_store_new(inst, 0, &store));
    EXPECT_ERROR(apiary_run(inst, store, 0, in, sizeof in, NULL, 0, &r), APIARY_ERROR_REJECTED,
                 "verifier");
    apiary_store_free(store);
    apiary_instance_free(inst);
    apiary_module_free(m);

    /* Checked mode runs it; a memory argument outside the run's memory is a helper fault. */
    OK(apiary_config_set_verified(c, false));
    apiary_config_free(c);
    c = apiary_config_new();
    OK(apiary_config_set_verified(c, false));
    OK(apiary_config_add_helper(c, 10001, "add_bytes", add_bytes, &base, &proto));
    OK(apiary_module_from_asm(c, "mov %r1, 4096\nmov %r2, 8\ncall 10001\nexit", &m));
    OK(apiary_instance_new(m, APIARY_ENGINE_INTERP, &inst));
    OK(apiary_store_new(inst, 0, &store));
    OK(apiary_run(inst, store, 0, in, sizeof in, NULL, 0, &r));
    EXPECT(r.fault == APIARY_FAULT_HELPER && r.fault_pc == 2);
    apiary_store_free(store);
    apiary_instance_free(inst);
    apiary_module_free(m);
    apiary_config_free(c);
}

static void objects(const char *dir)
{
    char path[4096];
    struct apiary_config *c = apiary_config_new();
    struct apiary_module *m = NULL;
    snprintf(path, sizeof path, "%s/does-not-exist.o", dir);
    EXPECT_ERROR(apiary_module_from_file(c, path, &m), APIARY_ERROR_IO, "does-not-exist.o");
    EXPECT_ERROR(apiary_module_from_elf(c, (const uint8_t *)"\x7f" "ELFjunk", 8, &m), 1, "");

    /* port_guard needs the host helper (prototype given) and has a hash map and a ring buffer. */
    struct apiary_helper_proto proto = {{APIARY_ARG_ANYTHING}};
    uint64_t unused = 0;
    OK(apiary_config_add_helper(c, 10000, "host_reputation", add_bytes, &unused, &proto));
    snprintf(path, sizeof path, "%s/port_guard.o", dir);
    OK(apiary_module_from_file(c, path, &m));
    uint32_t prog, ports, drops, none;
    OK(apiary_module_find_program(m, "guard_ports", &prog));
    EXPECT_ERROR(apiary_module_find_program(m, "nope", &none), 5, "nope");
    OK(apiary_module_find_map(m, "blocked_ports", &ports));
    OK(apiary_module_find_map(m, "drops", &drops));
    EXPECT_ERROR(apiary_module_find_map(m, "nope", &none), 7, "nope");
    struct apiary_instance *inst = NULL;
    OK(apiary_instance_new(m, APIARY_ENGINE_INTERP, &inst));
    struct apiary_map_info info;
    OK(apiary_map_info_get(inst, ports, &info));
    EXPECT(info.key_size == 2 && info.value_size == 1 && info.max_entries == 1024 &&
           info.lookup_size == 1 && info.map_type == 1);
    EXPECT_ERROR(apiary_map_info_get(inst, 99, &info), 8, "99");

    /* Insert three keys, iterate, look up, delete. */
    for (uint16_t port = 1; port <= 3; port++) {
        uint8_t v = (uint8_t)(port * 10);
        OK(apiary_map_update(inst, ports, (uint8_t *)&port, 2, &v, 1, 1 /* BPF_NOEXIST */));
    }
    uint16_t one = 1;
    uint8_t v = 0;
    EXPECT_ERROR(apiary_map_update(inst, ports, (uint8_t *)&one, 2, &v, 1, 1), 9, "EEXIST");
    EXPECT_ERROR(apiary_map_update(inst, ports, (uint8_t *)&one, 1, &v, 1, 0), 9, "");
    int seen = 0, sum = 0;
    uint16_t key, next;
    bool more;
    OK(apiary_map_next_key(inst, ports, NULL, 0, (uint8_t *)&next, 2, &more));
    while (more) {
        key = next;
        bool found;
        size_t len;
        OK(apiary_map_lookup(inst, ports, (uint8_t *)&key, 2, &v, 1, &len, &found));
        EXPECT(found && len == 1 && v == key * 10);
        seen++, sum += key;
        OK(apiary_map_next_key(inst, ports, (uint8_t *)&key, 2, (uint8_t *)&next, 2, &more));
    }
    EXPECT(seen == 3 && sum == 6);
    uint8_t small[1];
    EXPECT_ERROR(apiary_map_next_key(inst, ports, NULL, 0, small, 1, &more),
                 APIARY_ERROR_BUFFER_TOO_SMALL, "2 bytes");
    uint16_t two = 2;
    OK(apiary_map_delete(inst, ports, (uint8_t *)&two, 2));
    EXPECT_ERROR(apiary_map_delete(inst, ports, (uint8_t *)&two, 2), 9, "ENOENT");
    bool found = true;
    OK(apiary_map_lookup(inst, ports, (uint8_t *)&two, 2, &v, 1, NULL, &found));
    EXPECT(!found);

    /* Drops go to the ring buffer; the callback can stop early. */
    struct apiary_store *store = NULL;
    OK(apiary_store_new(inst, 0, &store));
    uint8_t frame[64] = {0};
    frame[12] = 0x08, frame[14] = 0x45, frame[14 + 9] = 17, frame[14 + 23] = 1; /* UDP port 1 */
    struct apiary_run_result r;
    for (int i = 0; i < 2; i++) {
        OK(apiary_run(inst, store, prog, frame, sizeof frame, NULL, 0, &r));
        EXPECT(r.fault == APIARY_FAULT_NONE && r.r0 == 1 /* XDP_DROP */);
    }
    int calls = 0;
    size_t consumed = 0;
    OK(apiary_ringbuf_consume(inst, drops, count_records, &calls, &consumed));
    EXPECT(calls == 1 && consumed == 1);
    calls = -100;
    OK(apiary_ringbuf_consume(inst, drops, count_records, &calls, &consumed));
    EXPECT(consumed == 1);
    EXPECT_ERROR(apiary_ringbuf_consume(inst, ports, count_records, &calls, &consumed),
                 APIARY_ERROR_INVALID_ARGUMENT, "ring buffer");
    EXPECT_ERROR(apiary_prog_array_set(inst, ports, 0, prog), 10, "prog array");
    apiary_store_free(store);
    apiary_instance_free(inst);
    apiary_module_free(m);

    /* The rejected plugin: a verdict with the diagnostic, and runs refuse it. */
    snprintf(path, sizeof path, "%s/greedy.o", dir);
    OK(apiary_module_from_file(c, path, &m));
    struct apiary_verdict verdict;
    OK(apiary_module_verify(m, 0, &verdict));
    EXPECT(!verdict.accepted && verdict.pc == 1 && strstr(verdict.reason, "packet access"));
    OK(apiary_verdict_clear(&verdict));
    EXPECT_ERROR(apiary_module_verify(m, 5, &verdict), 6, "");
    apiary_module_free(m);
    apiary_config_free(c);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s PLUGIN_DIR\n", argv[0]);
        return 2;
    }
    null_arguments();
    raw_programs();
    host_helpers();
    objects(argv[1]);
    printf("c_api_test: %d checks, %d failures\n", checks, failures);
    return failures == 0 && checks > 0 ? 0 : 1;
}
