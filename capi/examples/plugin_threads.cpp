// The C API from C++: RAII handles over apiary.h, one instance shared by four threads (one
// store each), and a check that the plugin's shared counters equal the sum of every run.
//
//   plugin_threads interp|jit proto_counter.o
#include <apiary.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

// Throws the error's message (and frees it).
void check(apiary_error *err) {
    if (err) {
        std::string msg = apiary_error_message(err);
        apiary_error_free(err);
        throw std::runtime_error(msg);
    }
}

template <typename T, void (*Free)(T *)> struct Deleter {
    void operator()(T *p) const { Free(p); }
};
using Config = std::unique_ptr<apiary_config, Deleter<apiary_config, apiary_config_free>>;
using Module = std::unique_ptr<apiary_module, Deleter<apiary_module, apiary_module_free>>;
using Instance =
    std::unique_ptr<apiary_instance, Deleter<apiary_instance, apiary_instance_free>>;
using Store = std::unique_ptr<apiary_store, Deleter<apiary_store, apiary_store_free>>;

std::vector<uint8_t> packet(uint8_t proto, size_t payload) {
    std::vector<uint8_t> f(14 + 20 + 8 + payload, 0);
    f[12] = 0x08;
    f[14] = 0x45;
    f[14 + 9] = proto;
    return f;
}

}  // namespace

int main(int argc, char **argv) try {
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s interp|jit proto_counter.o\n", argv[0]);
        return 2;
    }
    uint32_t engine = std::strcmp(argv[1], "jit") == 0 ? APIARY_ENGINE_JIT : APIARY_ENGINE_INTERP;
    Config config(apiary_config_new());
    check(apiary_config_set_stores(config.get(), 4));
    apiary_module *m = nullptr;
    check(apiary_module_from_file(config.get(), argv[2], &m));
    Module module(m);
    uint32_t prog = 0, map = 0;
    check(apiary_module_find_program(module.get(), "count_protocols", &prog));
    check(apiary_module_find_map(module.get(), "proto_counts", &map));
    apiary_instance *i = nullptr;
    check(apiary_instance_new(module.get(), engine, &i));
    Instance instance(i);

    // Create the entries up front: the plugin's own first insert may race between threads.
    for (uint32_t proto : {6u, 17u}) {
        uint64_t zero[2] = {0, 0};
        check(apiary_map_update(instance.get(), map, reinterpret_cast<uint8_t *>(&proto),
                                sizeof proto, reinterpret_cast<uint8_t *>(zero), sizeof zero, 0));
    }

    constexpr int kThreads = 4, kRuns = 500;
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; t++) {
        threads.emplace_back([&, t] {
            try {
                apiary_store *s = nullptr;
                check(apiary_store_new(instance.get(), static_cast<uint32_t>(t), &s));
                Store store(s);
                for (int r = 0; r < kRuns; r++) {
                    auto p = packet(r % 2 ? 17 : 6, static_cast<size_t>(r % 64));
                    apiary_run_result result{};
                    check(apiary_run(instance.get(), store.get(), prog, p.data(), p.size(),
                                     nullptr, 0, &result));
                    if (result.fault != APIARY_FAULT_NONE || result.r0 != 2) failures++;
                }
            } catch (const std::exception &e) {
                std::fprintf(stderr, "thread %d: %s\n", t, e.what());
                failures++;
            }
        });
    }
    for (auto &t : threads) t.join();

    uint64_t expect_packets = kThreads * kRuns / 2;
    bool ok = failures == 0;
    for (uint32_t proto : {6u, 17u}) {
        uint64_t bytes = 0;
        for (int r = 0; r < kRuns; r++)
            if ((r % 2 ? 17u : 6u) == proto) bytes += 14 + 20 + 8 + r % 64;
        uint64_t value[2] = {0, 0};
        size_t len = 0;
        bool found = false;
        check(apiary_map_lookup(instance.get(), map, reinterpret_cast<uint8_t *>(&proto),
                                sizeof proto, reinterpret_cast<uint8_t *>(value), sizeof value,
                                &len, &found));
        std::printf("protocol %u: %llu packets, %llu bytes\n", proto,
                    static_cast<unsigned long long>(value[0]),
                    static_cast<unsigned long long>(value[1]));
        ok = ok && found && value[0] == expect_packets && value[1] == bytes * kThreads;
    }
    std::printf("%s\n", ok ? "threads agree" : "MISMATCH");
    return ok ? 0 : 1;
} catch (const std::exception &e) {
    std::fprintf(stderr, "plugin_threads: %s\n", e.what());
    return 1;
}
