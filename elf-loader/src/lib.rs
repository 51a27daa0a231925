//! ELF loader for clang-built eBPF objects (in progress).
