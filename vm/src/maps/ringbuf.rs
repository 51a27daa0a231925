//! `BPF_MAP_TYPE_RINGBUF`: a multi-producer, single-consumer byte ring shared by all workers.
//!
//! Layout as on Linux: `max_entries` data bytes (a power of two); each record starts with an
//! 8-byte header (`u32 len` with bit 31 = busy, bit 30 = discarded; `u32` = the header's offset
//! in the ring, used to validate submit/discard pointers), followed by the sample, padded to 8.
//! Linux maps the data area twice so a record may straddle the end; apiary has one mapping, so a
//! record that would straddle the end is preceded by a discarded padding record that fills the
//! rest of the ring, and every sample is contiguous in the one [`Region`].
//!
//! Producers (`reserve`) are serialised by a short lock; `submit`/`discard` clear the busy bit
//! with an atomic store (release); the host consumer walks records in order from the consumer
//! position, stopping at the first busy one. Programs can write anywhere in the data area, so the
//! consumer validates every header and treats a malformed one as the loss of what follows.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use super::hash::lock;
use super::{Errno, Map, MapError, MapKind, MapMemory, MapSpec};
use crate::memory::Region;

const HEADER: usize = 8;
const BUSY: u32 = 1 << 31;
const DISCARD: u32 = 1 << 30;
/// Largest sample length (the header's length field has 30 bits).
const MAX_SAMPLE: u64 = (1 << 30) - 1;

/// `bpf_ringbuf_query` flags.
pub mod query {
    /// Bytes submitted or reserved but not consumed.
    pub const AVAIL_DATA: u64 = 0;
    /// Size of the data area.
    pub const RING_SIZE: u64 = 1;
    /// Consumer position.
    pub const CONS_POS: u64 = 2;
    /// Producer position.
    pub const PROD_POS: u64 = 3;
}

/// A ring buffer.
#[derive(Debug)]
pub struct RingBuf {
    spec: MapSpec,
    size: usize,
    data: MapMemory,
    producer: Mutex<()>,
    consumer: Mutex<Vec<u8>>,
    prod: AtomicU64,
    cons: AtomicU64,
    lost: AtomicU64,
}

impl RingBuf {
    /// Creates a ring of `max_entries` bytes.
    ///
    /// # Errors
    /// [`MapError::BadDefinition`] unless `max_entries` is a power of two of at least 16 and the
    /// key and value sizes are 0.
    pub fn new(spec: MapSpec) -> Result<Self, MapError> {
        if spec.key_size != 0 || spec.value_size != 0 {
            return Err(spec.bad("ring buffer key_size and value_size must be 0"));
        }
        if !spec.max_entries.is_power_of_two() || spec.max_entries < 16 {
            return Err(spec.bad("ring buffer size must be a power of two of at least 16 bytes"));
        }
        let size = spec.max_entries as usize;
        Ok(Self {
            data: MapMemory::zeroed(size).map_err(|e| spec.oom(e))?,
            size,
            spec,
            producer: Mutex::new(()),
            consumer: Mutex::new(Vec::new()),
            prod: AtomicU64::new(0),
            cons: AtomicU64::new(0),
            lost: AtomicU64::new(0),
        })
    }

    /// Size of the data area in bytes.
    #[must_use]
    pub const fn size(&self) -> usize {
        self.size
    }

    /// Reserves `size` bytes; returns the sample's address (inside the ring's region), or `None`
    /// when there is no room.
    pub fn reserve(&self, size: u64) -> Option<u64> {
        if size > MAX_SAMPLE {
            return None;
        }
        let total = (size as usize + HEADER).next_multiple_of(8);
        if total > self.size {
            return None;
        }
        let _guard = lock(&self.producer);
        let prod = self.prod.load(Ordering::Relaxed);
        let cons = self.cons.load(Ordering::Acquire);
        let off = (prod % self.size as u64) as usize;
        let pad = if off + total > self.size {
            self.size - off
        } else {
            0
        };
        let used = prod.wrapping_sub(cons) as usize;
        if used + pad + total > self.size {
            return None;
        }
        if pad > 0 {
            self.write_header(off, (pad - HEADER) as u32 | DISCARD);
        }
        let at = (off + pad) % self.size;
        self.write_header(at, size as u32 | BUSY);
        self.prod
            .store(prod + (pad + total) as u64, Ordering::Release);
        Some(self.data.addr(at + HEADER))
    }

    fn write_header(&self, at: usize, len: u32) {
        self.data
            .atomic_u32(at + 4)
            .store(at as u32, Ordering::Relaxed);
        self.data.atomic_u32(at).store(len, Ordering::Release);
    }

    /// Commits (or, with `discard`, drops) the sample at `addr` returned by
    /// [`RingBuf::reserve`].
    ///
    /// # Errors
    /// `EINVAL` when `addr` is not a pending sample of this ring.
    pub fn commit(&self, addr: u64, discard: bool) -> Result<(), Errno> {
        let base = self.data.addr(0);
        let rel = addr
            .checked_sub(base + HEADER as u64)
            .filter(|r| *r < self.size as u64 && r & 7 == 0)
            .ok_or(Errno::Invalid)? as usize;
        if self.data.load_u32(rel + 4) != rel as u32 {
            return Err(Errno::Invalid);
        }
        let header = self.data.atomic_u32(rel);
        let old = header.load(Ordering::Acquire);
        if old & BUSY == 0 {
            return Err(Errno::Invalid);
        }
        let new = (old & !BUSY) | if discard { DISCARD } else { 0 };
        header
            .compare_exchange(old, new, Ordering::Release, Ordering::Relaxed)
            .map(|_| ())
            .map_err(|_| Errno::Invalid)
    }

    /// Whether `addr..addr + len` lies in this ring's data area.
    #[must_use]
    pub fn contains(&self, addr: u64) -> bool {
        let base = self.data.addr(0);
        addr >= base && addr - base < self.size as u64
    }

    /// Copies `data` as one record (`bpf_ringbuf_output`).
    ///
    /// # Errors
    /// `EAGAIN` when there is no room.
    pub fn output(&self, data: &[u8]) -> Result<(), Errno> {
        let addr = self.reserve(data.len() as u64).ok_or(Errno::Again)?;
        let off = (addr - self.data.addr(0)) as usize;
        self.data.write(off, data);
        self.commit(addr, false)
    }

    /// `bpf_ringbuf_query`.
    #[must_use]
    pub fn query(&self, flags: u64) -> u64 {
        let prod = self.prod.load(Ordering::Acquire);
        let cons = self.cons.load(Ordering::Acquire);
        match flags {
            query::AVAIL_DATA => prod.wrapping_sub(cons),
            query::RING_SIZE => self.size as u64,
            query::CONS_POS => cons,
            query::PROD_POS => prod,
            _ => 0,
        }
    }

    /// Calls `f` on every submitted record in order, up to the first one still reserved, and
    /// frees their space. Returns the number of records passed to `f`.
    pub fn consume(&self, f: impl FnMut(&[u8])) -> usize {
        self.consume_max(usize::MAX, f)
    }

    /// As [`RingBuf::consume`], stopping after `max` records.
    pub fn consume_max(&self, max: usize, mut f: impl FnMut(&[u8])) -> usize {
        let mut buf = lock(&self.consumer);
        let mut cons = self.cons.load(Ordering::Relaxed);
        let mut n = 0;
        while n < max {
            let prod = self.prod.load(Ordering::Acquire);
            if cons >= prod {
                break;
            }
            let off = (cons % self.size as u64) as usize;
            let header = self.data.load_u32(off);
            if header & BUSY != 0 {
                break;
            }
            let len = (header & !(BUSY | DISCARD)) as usize;
            let total = (len + HEADER).next_multiple_of(8);
            if off + total > self.size || total as u64 > prod - cons {
                // A program overwrote a header: give up on everything produced so far.
                self.lost.fetch_add(1, Ordering::Relaxed);
                cons = prod;
                self.cons.store(cons, Ordering::Release);
                break;
            }
            if header & DISCARD == 0 {
                buf.resize(len, 0);
                self.data.read(off + HEADER, &mut buf);
                f(&buf);
                n += 1;
            }
            cons += total as u64;
            self.cons.store(cons, Ordering::Release);
        }
        n
    }

    /// Consumes every submitted record into a vector.
    #[must_use]
    pub fn drain(&self) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        self.consume(|r| out.push(r.to_vec()));
        out
    }

    /// Times the consumer met a malformed header and dropped the rest of the ring.
    #[must_use]
    pub fn corrupted(&self) -> u64 {
        self.lost.load(Ordering::Relaxed)
    }
}

impl Map for RingBuf {
    fn spec(&self) -> &MapSpec {
        &self.spec
    }

    fn lookup(&self, _key: &[u8], _slot: u32) -> Option<u64> {
        None
    }

    fn update(&self, _: &[u8], _: &[u8], _: u64, _: Option<u32>) -> Result<(), Errno> {
        Err(Errno::NotSupported)
    }

    fn delete(&self, _key: &[u8]) -> Result<(), Errno> {
        Err(Errno::NotSupported)
    }

    fn next_key(&self, _key: Option<&[u8]>) -> Result<Vec<u8>, Errno> {
        Err(Errno::NotSupported)
    }

    fn read(&self, _key: &[u8]) -> Result<Vec<u8>, Errno> {
        Err(Errno::NotSupported)
    }

    fn regions(&self) -> Vec<Region> {
        vec![self.data.region(true)]
    }

    fn kind(&self) -> MapKind<'_> {
        MapKind::RingBuf(self)
    }
}
