//! Test frames for the example demos.
#![allow(dead_code)]

/// An Ethernet + IPv4 frame: protocol `proto`, source 10.0.0.`src`, `payload` bytes after the
/// IP header.
pub fn ipv4(proto: u8, src: u8, payload: usize) -> Vec<u8> {
    let mut f = vec![
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0x11, 0x22, 0x33, 0x44, 0x55, 8, 0,
    ];
    let total = (20 + payload) as u16;
    f.extend_from_slice(&[0x45, 0]);
    f.extend_from_slice(&total.to_be_bytes());
    f.extend_from_slice(&[0, 1, 0, 0, 64, proto, 0, 0, 10, 0, 0, src, 10, 0, 0, 2]);
    f.resize(f.len() + payload, 0xab);
    f
}

/// Little-endian u64 from up to 8 bytes.
pub fn le(b: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    let n = b.len().min(8);
    w[..n].copy_from_slice(&b[..n]);
    u64::from_le_bytes(w)
}
