//! `BPF_MAP_TYPE_PERF_EVENT_ARRAY`: `bpf_perf_event_output` appends records to one ring per
//! worker slot (or to the ring an index names); the host drains them. A full ring drops the
//! record and counts it as lost, as Linux's perf buffer does.

use std::collections::VecDeque;
use std::sync::Mutex;

use super::hash::lock;
use super::{Errno, Map, MapError, MapKind, MapSpec};

/// `BPF_F_CURRENT_CPU`: the index meaning "this worker's ring".
pub const CURRENT_CPU: u64 = 0xffff_ffff;
/// `BPF_F_CTXLEN_MASK`: context bytes to append (accepted; apiary appends none).
const CTXLEN_MASK: u64 = 0xf_ffff << 32;

#[derive(Debug, Default)]
struct Ring {
    records: VecDeque<Vec<u8>>,
    bytes: usize,
    lost: u64,
}

/// A perf event array.
#[derive(Debug)]
pub struct PerfEventArray {
    spec: MapSpec,
    rings: Box<[Mutex<Ring>]>,
    capacity: usize,
}

impl PerfEventArray {
    /// One ring per entry (`max_entries`, or `nr_slots` when it is 0), `capacity` bytes each.
    /// Rings start empty; records are allocated as they are written, up to `capacity`.
    ///
    /// # Errors
    /// [`MapError::OutOfMemory`] when the ring headers cannot be allocated.
    pub fn new(spec: MapSpec, nr_slots: u32, capacity: usize) -> Result<Self, MapError> {
        let n = if spec.max_entries == 0 {
            nr_slots.max(1)
        } else {
            spec.max_entries
        } as usize;
        let mut rings = Vec::new();
        rings
            .try_reserve_exact(n)
            .map_err(|_| MapError::OutOfMemory {
                name: spec.name.clone(),
                bytes: n.saturating_mul(size_of::<Mutex<Ring>>()),
            })?;
        rings.extend((0..n).map(|_| Mutex::new(Ring::default())));
        Ok(Self {
            rings: rings.into_boxed_slice(),
            spec,
            capacity,
        })
    }

    /// Number of rings.
    #[must_use]
    pub fn rings(&self) -> usize {
        self.rings.len()
    }

    /// `bpf_perf_event_output`: appends `data` to the ring `flags` names (its low 32 bits:
    /// an index, or `CURRENT_CPU` for the ring of worker `slot`).
    ///
    /// # Errors
    /// `EINVAL` for unknown flag bits, `E2BIG` for an index out of range, `ENOSPC` when the
    /// ring is full (the record is counted as lost).
    pub fn output(&self, flags: u64, slot: u32, data: &[u8]) -> Result<(), Errno> {
        if flags & !(CURRENT_CPU | CTXLEN_MASK) != 0 {
            return Err(Errno::Invalid);
        }
        let index = flags & CURRENT_CPU;
        let n = self.rings.len() as u64;
        let index = if index == CURRENT_CPU {
            u64::from(slot) % n
        } else if index < n {
            index
        } else {
            return Err(Errno::TooBig);
        };
        let mut ring = lock(&self.rings[index as usize]);
        if ring.bytes + data.len() > self.capacity {
            ring.lost += 1;
            return Err(Errno::NoSpace);
        }
        ring.bytes += data.len();
        ring.records.push_back(data.to_vec());
        Ok(())
    }

    /// Takes every record of ring `index`, oldest first.
    #[must_use]
    pub fn drain(&self, index: usize) -> Vec<Vec<u8>> {
        self.rings.get(index).map_or_else(Vec::new, |r| {
            let mut ring = lock(r);
            ring.bytes = 0;
            ring.records.drain(..).collect()
        })
    }

    /// Takes every record of every ring, as (ring, record), ring by ring.
    #[must_use]
    pub fn drain_all(&self) -> Vec<(usize, Vec<u8>)> {
        (0..self.rings.len())
            .flat_map(|i| self.drain(i).into_iter().map(move |r| (i, r)))
            .collect()
    }

    /// Records dropped because ring `index` was full.
    #[must_use]
    pub fn lost(&self, index: usize) -> u64 {
        self.rings.get(index).map_or(0, |r| lock(r).lost)
    }
}

impl Map for PerfEventArray {
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

    fn kind(&self) -> MapKind<'_> {
        MapKind::PerfEvents(self)
    }
}
