//! Shared by the example tests: test packets and the examples' objects.
#![allow(dead_code)]

pub mod kernel;

use std::path::PathBuf;

/// The examples' test frames and IP protocol numbers, from the one packet builder.
// Each test binary uses a part of them.
#[allow(unused_imports)]
pub use apiary_testkit::packet::{
    arp_frame as arp, ipv4_frame as ipv4, IPPROTO_ICMP as ICMP, IPPROTO_TCP as TCP,
    IPPROTO_UDP as UDP,
};

/// The committed object of example `name`.
#[must_use]
pub fn object(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(format!("{name}.o"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `u64` little-endian.
#[must_use]
pub fn le64(b: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    w[..b.len().min(8)].copy_from_slice(&b[..b.len().min(8)]);
    u64::from_le_bytes(w)
}

/// The FNV-1a-style hash `examples/globals.c` computes over the first `prefix` bytes.
#[must_use]
pub fn globals_hash(seed: u32, prefix: u32, packet: &[u8]) -> u32 {
    packet
        .iter()
        .take(prefix.min(64) as usize)
        .fold(seed, |h, &b| (h ^ u32::from(b)).wrapping_mul(16_777_619))
}
