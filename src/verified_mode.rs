//! Verified mode: preparing a program for an engine with the verifier's facts, so that proven
//! accesses run without run-time checks. The factory is the engine layer's
//! ([`apiary_engine::prepare_verified`]): it takes the facts only from a [`VerifiedProgram`],
//! the verifier's result bound to its own program.

pub use apiary_engine::{prepare_verified, ForInputLength, VerifiedProgram};
