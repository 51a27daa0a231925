//! x86-64 and arm64 JIT compilers (work in progress).
