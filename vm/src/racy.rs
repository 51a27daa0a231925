//! Racy-tolerant access to *guest memory*: memory eBPF programs can reach (map values, ring
//! buffer data, a run's stack, input and packet), which programs on other threads may read and
//! write at any time.
//!
//! # Why
//!
//! On Linux, programs on different CPUs share map memory without locks: a `bpf_map_lookup_elem`
//! value pointer is written by plain stores on one CPU while another CPU's program (or the
//! `bpf()` syscall copying it out) reads it, and a reader may see a *torn* value (some bytes old,
//! some new). apiary keeps that semantics, but in Rust a non-atomic access that races with a
//! write is a *data race*, which is undefined behaviour, as is a `&[u8]` / `&mut [u8]` to bytes
//! another thread writes (the compiler may assume they do not change, or that nobody else
//! reads them). So, as shared-memory WebAssembly runtimes do, the host touches guest memory only
//! through raw pointers, with the functions of this module, which are made of **relaxed atomic**
//! loads and stores: word-wise (`AtomicU64`) where the address is 8-aligned, with 4-, 2- and
//! 1-byte atomics at the unaligned edges. Relaxed atomics compile to the same plain `mov` /
//! `ldr` / `str` instructions as ordinary accesses on x86-64 and AArch64, so this costs nothing
//! beyond the alignment tests.
//!
//! What callers get: every byte read is a value some thread wrote (or the initial zero); a
//! multi-byte copy may mix bytes from concurrent writes (tearing, as on Linux); no ordering with
//! other memory is implied (use the map's own release/acquire points, such as the ring buffer's
//! header, for publication). The engines' program loads and stores use [`load_u64`] and
//! friends; JIT-compiled code uses machine loads and stores, which on x86-64 and AArch64 are
//! single-copy atomic for aligned accesses of up to 8 bytes, the same as these relaxed atomics.
//!
//! # Limits of the argument
//!
//! The Rust (C++20) model also forbids *mixed-size* races: two unsynchronised atomic accesses
//! that partially overlap with different sizes, one of them a write (a program's 8-byte store
//! racing with another thread's 1-byte load of the same word). Guest code can always cause such
//! a race, exactly as two wasm threads can; the hardware gives them the meaning above, and the
//! copies here avoid introducing any of their own when the guest's accesses are aligned (an
//! aligned 8-byte range is always accessed as one `AtomicU64`). No Rust reference to guest bytes
//! and no non-atomic access to them ever exists, which removes every race the compiler could
//! exploit.
//!
//! Relaxed atomic loads of up to 8 bytes are documented to be sound on read-only memory on the
//! 64-bit targets apiary supports (`core::sync::atomic`, "Atomic accesses to read-only
//! memory"), so read-only regions (frozen `.rodata`, a borrowed input) are read the same way.
//!
//! # Contract of every function
//!
//! `[ptr, ptr + len)` must be allocated, live memory for the whole call, writable for the
//! functions that write, and no Rust reference to those bytes may be used during the call
//! (other threads may access them, but only through this module, atomics, or JIT code).
//! Host-side buffers (`&[u8]`, `&mut [u8]` arguments) must not overlap guest memory.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicU16, AtomicU32, AtomicU64, AtomicU8};

/// Bytes per chunk of [`copy_within_guest`]'s bounce buffer.
const CHUNK: usize = 256;

// The primitive accesses. Each requires `p` aligned to its size, plus the module contract.

#[inline(always)]
unsafe fn ld8(p: *const u8) -> u8 {
    // SAFETY: `p` is valid for the access (module contract); `AtomicU8` has alignment 1.
    unsafe { AtomicU8::from_ptr(p.cast_mut()) }.load(Relaxed)
}

#[inline(always)]
unsafe fn ld16(p: *const u8) -> u16 {
    // SAFETY: `p` is valid for 2 bytes (module contract) and 2-aligned (caller).
    unsafe { AtomicU16::from_ptr(p.cast_mut().cast()) }.load(Relaxed)
}

#[inline(always)]
unsafe fn ld32(p: *const u8) -> u32 {
    // SAFETY: `p` is valid for 4 bytes (module contract) and 4-aligned (caller).
    unsafe { AtomicU32::from_ptr(p.cast_mut().cast()) }.load(Relaxed)
}

#[inline(always)]
unsafe fn ld64(p: *const u8) -> u64 {
    // SAFETY: `p` is valid for 8 bytes (module contract) and 8-aligned (caller).
    unsafe { AtomicU64::from_ptr(p.cast_mut().cast()) }.load(Relaxed)
}

#[inline(always)]
unsafe fn st8(p: *mut u8, v: u8) {
    // SAFETY: `p` is valid for writing (module contract); `AtomicU8` has alignment 1.
    unsafe { AtomicU8::from_ptr(p) }.store(v, Relaxed);
}

#[inline(always)]
unsafe fn st16(p: *mut u8, v: u16) {
    // SAFETY: `p` is valid for writing 2 bytes (module contract) and 2-aligned (caller).
    unsafe { AtomicU16::from_ptr(p.cast()) }.store(v, Relaxed);
}

#[inline(always)]
unsafe fn st32(p: *mut u8, v: u32) {
    // SAFETY: `p` is valid for writing 4 bytes (module contract) and 4-aligned (caller).
    unsafe { AtomicU32::from_ptr(p.cast()) }.store(v, Relaxed);
}

#[inline(always)]
unsafe fn st64(p: *mut u8, v: u64) {
    // SAFETY: `p` is valid for writing 8 bytes (module contract) and 8-aligned (caller).
    unsafe { AtomicU64::from_ptr(p.cast()) }.store(v, Relaxed);
}

/// The largest naturally aligned piece (8, 4, 2 or 1 bytes) at address `a` with `rem` bytes
/// left.
#[inline(always)]
const fn piece(a: usize, rem: usize) -> usize {
    if a & 7 == 0 && rem >= 8 {
        8
    } else if a & 3 == 0 && rem >= 4 {
        4
    } else if a & 1 == 0 && rem >= 2 {
        2
    } else {
        1
    }
}

/// Copies `dst.len()` bytes of guest memory at `src` into the host buffer `dst`.
///
/// # Safety
/// The module contract, for reading `[src, src + dst.len())`.
pub unsafe fn copy_from_guest(src: *const u8, dst: &mut [u8]) {
    let len = dst.len();
    let mut i = 0;
    while i < len {
        // SAFETY: `i < len`: inside the range the caller vouches for.
        let p = unsafe { src.add(i) };
        let n = piece(p as usize, len - i);
        let out = &mut dst[i..i + n];
        // SAFETY: `p` is aligned to `n` (`piece`) and `[p, p + n)` is in the range.
        unsafe {
            match n {
                8 => out.copy_from_slice(&ld64(p).to_ne_bytes()),
                4 => out.copy_from_slice(&ld32(p).to_ne_bytes()),
                2 => out.copy_from_slice(&ld16(p).to_ne_bytes()),
                _ => out[0] = ld8(p),
            }
        }
        i += n;
    }
}

/// Copies the host buffer `src` into guest memory at `dst`.
///
/// # Safety
/// The module contract, for writing `[dst, dst + src.len())`.
pub unsafe fn copy_to_guest(src: &[u8], dst: *mut u8) {
    let len = src.len();
    let mut i = 0;
    while i < len {
        // SAFETY: `i < len`: inside the range the caller vouches for.
        let p = unsafe { dst.add(i) };
        let n = piece(p as usize, len - i);
        let b = &src[i..i + n];
        // SAFETY: `p` is aligned to `n` (`piece`) and `[p, p + n)` is in the range. (The
        // `try_into`s cannot fail: `b.len() == n`.)
        unsafe {
            match n {
                8 => st64(p, u64::from_ne_bytes(b.try_into().unwrap_or_default())),
                4 => st32(p, u32::from_ne_bytes(b.try_into().unwrap_or_default())),
                2 => st16(p, u16::from_ne_bytes(b.try_into().unwrap_or_default())),
                _ => st8(p, b[0]),
            }
        }
        i += n;
    }
}

/// Sets `len` bytes of guest memory at `dst` to `byte`.
///
/// # Safety
/// The module contract, for writing `[dst, dst + len)`.
pub unsafe fn fill_guest(dst: *mut u8, byte: u8, len: usize) {
    let word = u64::from_ne_bytes([byte; 8]);
    let mut i = 0;
    while i < len {
        // SAFETY: `i < len`: inside the range the caller vouches for.
        let p = unsafe { dst.add(i) };
        let n = piece(p as usize, len - i);
        // SAFETY: `p` is aligned to `n` (`piece`) and `[p, p + n)` is in the range.
        unsafe {
            match n {
                8 => st64(p, word),
                4 => st32(p, word as u32),
                2 => st16(p, word as u16),
                _ => st8(p, byte),
            }
        }
        i += n;
    }
}

/// Copies `len` bytes of guest memory from `src` to `dst`, which may overlap (`memmove`
/// semantics), through a small host buffer.
///
/// # Safety
/// The module contract, for reading `[src, src + len)` and writing `[dst, dst + len)`.
pub unsafe fn copy_within_guest(src: *const u8, dst: *mut u8, len: usize) {
    let mut buf = [0u8; CHUNK];
    // Chunks go in the direction that never overwrites source bytes not yet read: forwards
    // when the destination is below the source, backwards otherwise.
    let forwards = (dst as usize) <= (src as usize);
    let chunks = len.div_ceil(CHUNK);
    for k in 0..chunks {
        let k = if forwards { k } else { chunks - 1 - k };
        let at = k * CHUNK;
        let n = CHUNK.min(len - at);
        let b = &mut buf[..n];
        // SAFETY: `[at, at + n)` lies inside both ranges the caller vouches for; `buf` is a
        // host buffer.
        unsafe {
            copy_from_guest(src.add(at), b);
            copy_to_guest(b, dst.add(at));
        }
    }
}

/// The 1 byte at `p`.
///
/// # Safety
/// The module contract, for reading 1 byte at `p`.
#[inline(always)]
pub unsafe fn load_u8(p: *const u8) -> u8 {
    // SAFETY: the caller's contract.
    unsafe { ld8(p) }
}

/// The 2 bytes at `p` as a native-endian u16 (as `ptr::read_unaligned`).
///
/// # Safety
/// The module contract, for reading 2 bytes at `p`.
#[inline(always)]
pub unsafe fn load_u16(p: *const u8) -> u16 {
    if p as usize & 1 == 0 {
        // SAFETY: aligned; the caller's contract.
        unsafe { ld16(p) }
    } else {
        // SAFETY: the caller's contract.
        u16::from_ne_bytes(unsafe { load_unaligned(p) })
    }
}

/// The 4 bytes at `p` as a native-endian u32.
///
/// # Safety
/// The module contract, for reading 4 bytes at `p`.
#[inline(always)]
pub unsafe fn load_u32(p: *const u8) -> u32 {
    if p as usize & 3 == 0 {
        // SAFETY: aligned; the caller's contract.
        unsafe { ld32(p) }
    } else {
        // SAFETY: the caller's contract.
        u32::from_ne_bytes(unsafe { load_unaligned(p) })
    }
}

/// The 8 bytes at `p` as a native-endian u64.
///
/// # Safety
/// The module contract, for reading 8 bytes at `p`.
#[inline(always)]
pub unsafe fn load_u64(p: *const u8) -> u64 {
    if p as usize & 7 == 0 {
        // SAFETY: aligned; the caller's contract.
        unsafe { ld64(p) }
    } else {
        // SAFETY: the caller's contract.
        u64::from_ne_bytes(unsafe { load_unaligned(p) })
    }
}

/// Stores 1 byte at `p`.
///
/// # Safety
/// The module contract, for writing 1 byte at `p`.
#[inline(always)]
pub unsafe fn store_u8(p: *mut u8, v: u8) {
    // SAFETY: the caller's contract.
    unsafe { st8(p, v) }
}

/// Stores a native-endian u16 at `p` (as `ptr::write_unaligned`).
///
/// # Safety
/// The module contract, for writing 2 bytes at `p`.
#[inline(always)]
pub unsafe fn store_u16(p: *mut u8, v: u16) {
    if p as usize & 1 == 0 {
        // SAFETY: aligned; the caller's contract.
        unsafe { st16(p, v) }
    } else {
        // SAFETY: the caller's contract.
        unsafe { store_unaligned(p, &v.to_ne_bytes()) }
    }
}

/// Stores a native-endian u32 at `p`.
///
/// # Safety
/// The module contract, for writing 4 bytes at `p`.
#[inline(always)]
pub unsafe fn store_u32(p: *mut u8, v: u32) {
    if p as usize & 3 == 0 {
        // SAFETY: aligned; the caller's contract.
        unsafe { st32(p, v) }
    } else {
        // SAFETY: the caller's contract.
        unsafe { store_unaligned(p, &v.to_ne_bytes()) }
    }
}

/// Stores a native-endian u64 at `p`.
///
/// # Safety
/// The module contract, for writing 8 bytes at `p`.
#[inline(always)]
pub unsafe fn store_u64(p: *mut u8, v: u64) {
    if p as usize & 7 == 0 {
        // SAFETY: aligned; the caller's contract.
        unsafe { st64(p, v) }
    } else {
        // SAFETY: the caller's contract.
        unsafe { store_unaligned(p, &v.to_ne_bytes()) }
    }
}

/// The unaligned path of the loads, out of line.
#[cold]
#[inline(never)]
unsafe fn load_unaligned<const N: usize>(p: *const u8) -> [u8; N] {
    let mut b = [0u8; N];
    // SAFETY: the caller's contract, for `N` bytes.
    unsafe { copy_from_guest(p, &mut b) };
    b
}

/// The unaligned path of the stores, out of line.
#[cold]
#[inline(never)]
unsafe fn store_unaligned(p: *mut u8, b: &[u8]) {
    // SAFETY: the caller's contract, for `b.len()` bytes.
    unsafe { copy_to_guest(b, p) }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An 8-aligned guest block of `words` words, accessed through a raw pointer only.
    struct Block {
        words: Vec<u64>,
    }

    impl Block {
        fn new(words: usize) -> Self {
            Self {
                words: vec![0; words],
            }
        }
        fn ptr(&mut self) -> *mut u8 {
            self.words.as_mut_ptr().cast()
        }
        fn len(&self) -> usize {
            self.words.len() * 8
        }
        fn bytes(&mut self) -> Vec<u8> {
            let mut out = vec![0; self.len()];
            let p = self.ptr();
            // SAFETY: the block is live and only this thread touches it.
            unsafe { copy_from_guest(p, &mut out) };
            out
        }
    }

    fn pattern(n: usize, seed: u8) -> Vec<u8> {
        (0..n)
            .map(|i| (i as u8).wrapping_mul(7).wrapping_add(seed))
            .collect()
    }

    #[test]
    fn copies_match_plain_copies_at_every_alignment() {
        let lens: &[usize] = if cfg!(miri) {
            &[0, 1, 3, 8, 13, 24]
        } else {
            &[0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 40]
        };
        for off in 0..9 {
            for &len in lens {
                let mut b = Block::new(8);
                let data = pattern(len, off as u8);
                let p = b.ptr();
                // SAFETY: `off + len <= 49 < 64` bytes, inside the block.
                unsafe { copy_to_guest(&data, p.add(off)) };
                let mut expect = vec![0u8; b.len()];
                expect[off..off + len].copy_from_slice(&data);
                assert_eq!(b.bytes(), expect, "to_guest off {off} len {len}");
                let mut back = vec![0u8; len];
                // SAFETY: as above.
                unsafe { copy_from_guest(p.add(off), &mut back) };
                assert_eq!(back, data, "from_guest off {off} len {len}");
            }
        }
    }

    #[test]
    fn fill_sets_exactly_the_range() {
        for off in 0..9 {
            for len in [0, 1, 2, 5, 8, 11, 23] {
                let mut b = Block::new(6);
                let p = b.ptr();
                // SAFETY: `off + len <= 31 < 48`.
                unsafe { fill_guest(p.add(off), 0xA5, len) };
                let mut expect = vec![0u8; b.len()];
                expect[off..off + len].fill(0xA5);
                assert_eq!(b.bytes(), expect, "off {off} len {len}");
            }
        }
    }

    #[test]
    fn copy_within_is_memmove() {
        let n = if cfg!(miri) { 80 } else { 700 };
        let cases: &[(usize, usize, usize)] = &[
            (0, 3, 50),
            (3, 0, 50),
            (1, 9, 300),
            (9, 1, 300),
            (0, 0, 64),
            (5, 300, 260),
            (300, 5, 260),
            (2, 5, 600),
            (5, 2, 600),
        ];
        for &(src, dst, len) in cases {
            if src.max(dst) + len > n {
                continue;
            }
            let mut b = Block::new(n.div_ceil(8));
            let init = pattern(b.len(), 1);
            let p = b.ptr();
            // SAFETY: the whole block.
            unsafe { copy_to_guest(&init, p) };
            let mut expect = init.clone();
            expect.copy_within(src..src + len, dst);
            // SAFETY: both ranges are inside the block.
            unsafe { copy_within_guest(p.add(src), p.add(dst), len) };
            assert_eq!(b.bytes(), expect, "src {src} dst {dst} len {len}");
        }
    }

    #[test]
    fn scalar_loads_and_stores_at_every_alignment() {
        for off in 0..9 {
            let mut b = Block::new(4);
            let p = b.ptr();
            let mut expect = vec![0u8; b.len()];
            // SAFETY: `off + 8 <= 16 < 32`, inside the block.
            unsafe {
                let a = p.add(off);
                store_u64(a, 0x0102_0304_0506_0708);
                assert_eq!(load_u64(a), 0x0102_0304_0506_0708);
                store_u32(a, 0xA1B2_C3D4);
                assert_eq!(load_u32(a), 0xA1B2_C3D4);
                store_u16(a, 0xBEEF);
                assert_eq!(load_u16(a), 0xBEEF);
                store_u8(a, 0x5A);
                assert_eq!(load_u8(a), 0x5A);
            }
            expect[off..off + 8].copy_from_slice(&0x0102_0304_0506_0708u64.to_ne_bytes());
            expect[off..off + 4].copy_from_slice(&0xA1B2_C3D4u32.to_ne_bytes());
            expect[off..off + 2].copy_from_slice(&0xBEEFu16.to_ne_bytes());
            expect[off] = 0x5A;
            assert_eq!(b.bytes(), expect, "off {off}");
        }
    }

    /// Writers store whole aligned words while readers copy them out: no data race (Miri checks
    /// this), and since all accesses are same-size aligned words, no word is ever torn.
    #[test]
    fn concurrent_aligned_copies_never_tear_words() {
        let rounds = if cfg!(miri) { 20 } else { 20_000 };
        let mut b = Block::new(4);
        let addr = b.ptr() as usize;
        std::thread::scope(|s| {
            for t in 1..=2u8 {
                s.spawn(move || {
                    let data = [t; 32];
                    for _ in 0..rounds {
                        // SAFETY: the block outlives the scope; all access is racy-tolerant.
                        unsafe { copy_to_guest(&data, addr as *mut u8) };
                    }
                });
            }
            s.spawn(move || {
                let mut out = [0u8; 32];
                for _ in 0..rounds {
                    // SAFETY: as above.
                    unsafe { copy_from_guest(addr as *const u8, &mut out) };
                    for w in out.chunks_exact(8) {
                        assert!(w.iter().all(|&x| x == w[0]), "torn word {w:?}");
                    }
                }
            });
        });
        let bytes = b.bytes();
        assert!(bytes.iter().all(|&x| x == 1 || x == 2));
    }
}
