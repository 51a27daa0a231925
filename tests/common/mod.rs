//! Shared by the example tests: test packets and the examples' objects.
#![allow(dead_code)]

pub mod kernel;

use std::path::PathBuf;

/// IP protocol numbers.
pub const ICMP: u8 = 1;
pub const TCP: u8 = 6;
pub const UDP: u8 = 17;

/// An Ethernet + IPv4 frame with protocol `proto`, `payload` bytes after the IP header, source
/// 10.0.0.`src`, TTL 64.
#[must_use]
pub fn ipv4(proto: u8, src: u8, payload: usize) -> Vec<u8> {
    let mut f = vec![0xff; 6];
    f.extend_from_slice(&[0x00, 0x11, 0x22, 0x33, 0x44, 0x55]);
    f.extend_from_slice(&[0x08, 0x00]);
    let total = (20 + payload) as u16;
    f.extend_from_slice(&[0x45, 0x00]);
    f.extend_from_slice(&total.to_be_bytes());
    f.extend_from_slice(&[0x00, 0x01, 0x00, 0x00, 64, proto, 0x00, 0x00]);
    f.extend_from_slice(&[10, 0, 0, src, 10, 0, 0, 2]);
    f.extend((0..payload).map(|i| (i * 7 + 3) as u8));
    f
}

/// An ARP frame (not IPv4), 42 bytes.
#[must_use]
pub fn arp() -> Vec<u8> {
    let mut f = vec![0xff; 6];
    f.extend_from_slice(&[0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x08, 0x06]);
    f.extend(std::iter::repeat_n(0u8, 28));
    f
}

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
