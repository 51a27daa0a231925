//! Random programs the kernel verifier accepts, for differential runs (see the module docs).
