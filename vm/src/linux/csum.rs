//! Internet-checksum arithmetic as Linux does it (`include/net/checksum.h`, x86-64's
//! `csum_partial`), for `bpf_csum_diff` and `bpf_l3_csum_replace` / `bpf_l4_csum_replace`.
//!
//! Values are taken as they sit in memory, read as little-endian integers (the host order of
//! the machines apiary runs on, and how a program's `ldxh`/`ldxw` of a network-order field
//! sees it): one's-complement sums do not depend on byte order as long as every term is read
//! the same way.

/// `csum_add`: 32-bit one's-complement addition (end-around carry).
#[must_use]
pub const fn add(sum: u32, addend: u32) -> u32 {
    let (res, carry) = sum.overflowing_add(addend);
    res.wrapping_add(carry as u32)
}

/// `csum_sub`: adding the complement.
#[must_use]
pub const fn sub(sum: u32, addend: u32) -> u32 {
    add(sum, !addend)
}

/// `csum_fold`: folds a 32-bit partial sum to 16 bits and complements it.
#[must_use]
pub const fn fold(sum: u32) -> u16 {
    let s = (sum & 0xffff) + (sum >> 16);
    let s = (s & 0xffff) + (s >> 16);
    !(s as u16)
}

/// `csum_partial` of x86-64 over 32-bit words (the only lengths `bpf_csum_diff` passes): the
/// words and the seed summed in 64 bits, then folded to 32 bits with end-around carry. The
/// result is 0 only when every term is 0; otherwise it is the sum modulo `2^32 - 1` in
/// `1..=u32::MAX`.
#[must_use]
pub fn partial(words: &[u32], seed: u32) -> u32 {
    // At most 2^32 words of 2^32 - 1 each cannot overflow 64 bits with end-around carry folded
    // as we go.
    let mut acc: u64 = u64::from(seed);
    for &w in words {
        let (s, carry) = acc.overflowing_add(u64::from(w));
        acc = s + u64::from(carry);
    }
    let folded = (acc & 0xffff_ffff) + (acc >> 32);
    let folded = (folded & 0xffff_ffff) + (folded >> 32);
    folded as u32
}

/// `csum_from32to16`: folds a 32-bit sum to 16 bits (end-around carry, no complement).
#[must_use]
pub const fn from32to16(x: u32) -> u16 {
    let x = x.wrapping_add(x.rotate_right(16));
    (x >> 16) as u16
}

/// [`partial`] over bytes of any length: x86-64 loads a short tail zero-padded, which sums
/// like zero-padding the buffer to whole 32-bit words.
#[must_use]
pub fn partial_bytes(bytes: &[u8], seed: u32) -> u32 {
    let words: Vec<u32> = bytes
        .chunks(4)
        .map(|c| {
            let mut w = [0u8; 4];
            w[..c.len()].copy_from_slice(c);
            u32::from_le_bytes(w)
        })
        .collect();
    partial(&words, seed)
}

/// `bpf_csum_diff` as Linux 6.13 and later compute it (one 16-bit result on every
/// architecture, any sizes): `seed + sum(to) - sum(from)`, built from [`partial_bytes`] sums
/// the way the kernel combines them (which fixes the representation of zero), folded with
/// [`from32to16`]. Kernels before 6.13 refused sizes that are not multiples of 4 or total
/// more than 512 bytes, and returned x86-64's unfolded 32-bit sum (which folds to the same
/// checksum).
#[must_use]
pub fn diff(from: &[u8], to: &[u8], seed: u32) -> u16 {
    let ret = match (from.is_empty(), to.is_empty()) {
        (false, false) => sub(partial_bytes(to, seed), partial_bytes(from, 0)),
        (true, false) => partial_bytes(to, seed),
        (false, true) => !partial_bytes(from, !seed),
        (true, true) => seed,
    };
    from32to16(ret)
}

/// `csum_replace4`: the new 16-bit checksum field after a 32-bit word changed `from` → `to`.
#[must_use]
pub const fn replace4(check: u16, from: u32, to: u32) -> u16 {
    let tmp = sub(!(check as u32), from);
    fold(add(tmp, to))
}

/// `csum_replace2`: as [`replace4`] for a 16-bit field (Linux's 16-bit arithmetic).
#[must_use]
pub const fn replace2(check: u16, from: u16, to: u16) -> u16 {
    !add16(add16(!check, !from), to)
}

/// `csum_replace_by_diff`: applies a 32-bit difference (from `bpf_csum_diff`).
#[must_use]
pub const fn replace_by_diff(check: u16, diff: u32) -> u16 {
    fold(add(diff, !(check as u32)))
}

/// `csum16_add`: 16-bit one's-complement addition.
const fn add16(sum: u16, addend: u16) -> u16 {
    let (res, carry) = sum.overflowing_add(addend);
    res.wrapping_add(carry as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The checksum of 16-bit words, computed from scratch.
    fn full(words: &[u16]) -> u16 {
        let mut s: u32 = 0;
        for &w in words {
            s += u32::from(w);
        }
        fold(s)
    }

    #[test]
    fn replacing_matches_recomputing() {
        let mut hdr = [
            0x4500u16, 0x0054, 0x1c46, 0x4000, 0x4001, 0, 0xac10, 0x0a63, 0xac10, 0x0a0c,
        ];
        hdr[5] = full(&hdr);
        assert_eq!(full(&hdr), 0);
        let check = hdr[5];
        // Change the TTL/protocol word with the 2-byte form.
        let old = hdr[4];
        hdr[4] = 0x3f01;
        let c2 = replace2(check, old, hdr[4]);
        hdr[5] = 0;
        assert_eq!(c2, full(&hdr));
        // Change an address (two words) with the 4-byte form.
        let from = u32::from(hdr[6]) | u32::from(hdr[7]) << 16;
        hdr[6] = 0x0a00;
        hdr[7] = 0x0001;
        let to = u32::from(hdr[6]) | u32::from(hdr[7]) << 16;
        let c4 = replace4(c2, from, to);
        hdr[5] = 0;
        assert_eq!(c4, full(&hdr));
        // The same change through a difference.
        assert_eq!(replace_by_diff(c2, partial(&[!from, to], 0)), c4);
        let d = diff(&from.to_le_bytes(), &to.to_le_bytes(), 0);
        assert_eq!(replace_by_diff(c2, u32::from(d)), c4);
    }

    #[test]
    fn partial_has_the_x86_representation() {
        assert_eq!(partial(&[], 0), 0);
        assert_eq!(partial(&[], 7), 7);
        assert_eq!(partial(&[0, 0], 0), 0);
        assert_eq!(partial(&[u32::MAX], 0), u32::MAX);
        assert_eq!(partial(&[u32::MAX, 1], 0), 1);
        assert_eq!(partial(&[0x8000_0000, 0x8000_0000], 0), 1);
        assert_eq!(partial(&[!5, 5], 0), u32::MAX);
        assert_eq!(from32to16(0xf5fe_ffff), 0xf5fe);
        assert_eq!(from32to16(0), 0);
        assert_eq!(diff(&[], &[], 5), 5);
        assert_eq!(partial_bytes(&[1, 2, 3], 0), 0x0003_0201);
    }
}
