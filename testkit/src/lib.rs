//! Test support shared by every apiary crate. It depends on no apiary crate, so that each of
//! them (the vm included) can use it as a dev-dependency.
//!
//! - [`coverage`]: what a test suite really compared and what it skipped, and why, written to
//!   `target/apiary-coverage/` so that the counts are visible after `cargo test --workspace`
//!   (libtest shows the output of failed tests only);
//! - [`elf`]: hand-built ELF objects for loader and limit tests that must run without clang;
//! - [`packet`]: test packets (Ethernet, VLAN, IPv4/IPv6, TCP/UDP/ICMP) with their lengths and
//!   checksums;
//! - [`rng`]: the random program generators' seeded xorshift;
//! - [`shared`]: the one way tests find the test data in `../shared` (not part of the
//!   repository): missing data fails loudly under `CI=true` and is a recorded skip elsewhere.

pub mod coverage;
pub mod elf;
pub mod packet;
pub mod rng;
pub mod shared;

pub use coverage::Coverage;
pub use rng::Rng;

/// Whether this run is CI's (`CI=true` or `CI=1`, as CI services set it): there, anything a
/// test could not run is a failure, not a skip.
#[must_use]
pub fn is_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}
