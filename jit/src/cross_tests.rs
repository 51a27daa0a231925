//! Code generation for every backend on every host: no execution, but every encoding decision
//! (immediates, offsets, branch ranges) is exercised, so dynasm never sees an operand it
//! cannot encode and far branches always resolve. The host's own backend is also run by the
//! differential tests in `tests/`.
