//! The raw 8-byte instruction slot, exactly as it is encoded (RFC 9669 §3.1, little-endian).
//!
//! [`Insn`] holds the fields without interpreting them; [`crate::Program::new`] is what checks
//! them. Encoding and decoding here are total: every 8 bytes are some `Insn`.

use std::fmt;
use std::hash::{Hash, Hasher};

use crate::error::LoadError;

/// Size of one instruction slot in bytes.
pub const INSN_SIZE: usize = 8;

/// One raw instruction slot: `opcode:8 | dst:4 | src:4 | off:16 | imm:32` (little-endian).
///
/// The fields are laid out (`repr(C)`, in this order) so that the encoded slot rotated by 32
/// bits is already `imm, op, dst|src, off`: [`Insn::from_u64`] then writes a slot with one
/// 8-byte store plus `src`. `Debug` and `Hash` keep the encoding order of the fields.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
#[repr(C)]
pub struct Insn {
    /// Signed 32-bit immediate.
    pub imm: i32,
    /// The opcode byte.
    pub op: u8,
    /// Destination register field (low nibble of byte 1).
    pub dst: u8,
    /// Signed 16-bit offset.
    pub off: i16,
    /// Source register field (high nibble of byte 1).
    pub src: u8,
}

impl fmt::Debug for Insn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Insn")
            .field("op", &self.op)
            .field("dst", &self.dst)
            .field("src", &self.src)
            .field("off", &self.off)
            .field("imm", &self.imm)
            .finish()
    }
}

impl Hash for Insn {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.op.hash(state);
        self.dst.hash(state);
        self.src.hash(state);
        self.off.hash(state);
        self.imm.hash(state);
    }
}

impl Insn {
    /// Builds a slot from its fields; `dst` and `src` are truncated to four bits.
    #[must_use]
    pub const fn new(op: u8, dst: u8, src: u8, off: i16, imm: i32) -> Self {
        Self {
            op,
            dst: dst & 0x0f,
            src: src & 0x0f,
            off,
            imm,
        }
    }

    /// Decodes one little-endian slot.
    #[must_use]
    pub const fn from_bytes(b: [u8; INSN_SIZE]) -> Self {
        Self {
            op: b[0],
            dst: b[1] & 0x0f,
            src: b[1] >> 4,
            off: i16::from_le_bytes([b[2], b[3]]),
            imm: i32::from_le_bytes([b[4], b[5], b[6], b[7]]),
        }
    }

    /// Encodes the slot as 8 little-endian bytes.
    #[must_use]
    pub const fn to_bytes(self) -> [u8; INSN_SIZE] {
        let off = self.off.to_le_bytes();
        let imm = self.imm.to_le_bytes();
        [
            self.op,
            (self.dst & 0x0f) | (self.src << 4),
            off[0],
            off[1],
            imm[0],
            imm[1],
            imm[2],
            imm[3],
        ]
    }

    /// The slot as the little-endian `u64` used by `.data` `-- raw` sections.
    #[must_use]
    pub const fn to_u64(self) -> u64 {
        u64::from_le_bytes(self.to_bytes())
    }

    /// The slot from a little-endian `u64` (the `.data` `-- raw` form).
    #[must_use]
    pub const fn from_u64(v: u64) -> Self {
        // Clearing the src nibble first makes `imm, op, dst, off` plain truncations of one
        // value, which the compiler writes as a single (rotated) 8-byte store.
        let r = (v & !0xf000).rotate_right(32);
        Self {
            imm: r as u32 as i32,
            op: (r >> 32) as u8,
            dst: (r >> 40) as u8,
            off: (r >> 48) as u16 as i16,
            src: (v >> 12) as u8 & 0x0f,
        }
    }
}

/// Splits a byte string into instruction slots.
///
/// # Errors
/// [`LoadError::TrailingBytes`] when the length is not a multiple of 8, and
/// [`LoadError::Empty`] when there is no instruction at all.
pub fn insns_from_bytes(bytes: &[u8]) -> Result<Vec<Insn>, LoadError> {
    if bytes.is_empty() {
        return Err(LoadError::Empty);
    }
    let chunks = bytes.chunks_exact(INSN_SIZE);
    if !chunks.remainder().is_empty() {
        return Err(LoadError::TrailingBytes { len: bytes.len() });
    }
    // One 64-bit load per slot, split with shifts (the byte-array path costs twice as much).
    Ok(chunks
        .map(|c| Insn::from_u64(u64::from_le_bytes(c.try_into().unwrap_or([0; INSN_SIZE]))))
        .collect())
}

/// Encodes slots back into bytes.
#[must_use]
pub fn insns_to_bytes(insns: &[Insn]) -> Vec<u8> {
    insns.iter().flat_map(|i| i.to_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_layout_matches_rfc() {
        // lddw r0, 0x55667788 low half, as in bpf_conformance's lddw.data raw section.
        let i = Insn::from_u64(0x5566_7788_0000_0018);
        assert_eq!(i, Insn::new(0x18, 0, 0, 0, 0x5566_7788));
        let j = Insn::from_bytes([0xbf, 0x21, 0xfe, 0xff, 1, 0, 0, 0]);
        assert_eq!((j.dst, j.src, j.off, j.imm), (1, 2, -2, 1));
        assert_eq!(j.to_bytes(), [0xbf, 0x21, 0xfe, 0xff, 1, 0, 0, 0]);
    }

    #[test]
    fn rejects_partial_slot() {
        assert!(matches!(
            insns_from_bytes(&[0; 12]),
            Err(LoadError::TrailingBytes { len: 12 })
        ));
        assert!(matches!(insns_from_bytes(&[]), Err(LoadError::Empty)));
    }
}
