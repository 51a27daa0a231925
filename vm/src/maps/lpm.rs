//! `BPF_MAP_TYPE_LPM_TRIE`: longest-prefix match on keys `{u32 prefixlen; u8 data[]}`
//! (`prefixlen` little-endian, `data` compared most significant bit first, as for network
//! addresses). Requires `BPF_F_NO_PREALLOC`, as on Linux.
//!
//! Entries are stored in the slab-backed hash core under a normalised key (prefix length plus
//! the data with bits past the prefix cleared). A lookup tries the lengths that currently have
//! entries, longest first, up to the key's own prefix length: at most `8 * data_len + 1` probes,
//! usually a handful.

use std::sync::atomic::{AtomicU32, Ordering};

use super::hash::{Entry, HashCore};
use super::{check_flags, map_flags, Errno, Map, MapError, MapSpec};
use crate::memory::Region;

/// Largest data part of a key (Linux `LPM_DATA_SIZE_MAX`).
const MAX_DATA: u32 = 256;

/// An LPM trie.
#[derive(Debug)]
pub struct LpmTrie {
    spec: MapSpec,
    data_len: usize,
    core: HashCore,
    /// Entries per prefix length.
    lens: Box<[AtomicU32]>,
}

impl LpmTrie {
    /// Creates an empty trie.
    ///
    /// # Errors
    /// [`MapError::BadDefinition`] without `BPF_F_NO_PREALLOC`, or for a key size outside
    /// 5..=260 or zero value size or capacity.
    pub fn new(spec: MapSpec) -> Result<Self, MapError> {
        if spec.flags & map_flags::NO_PREALLOC == 0 {
            return Err(spec.bad("LPM trie requires BPF_F_NO_PREALLOC"));
        }
        if spec.key_size <= 4 || spec.key_size > 4 + MAX_DATA {
            return Err(spec.bad("LPM trie key_size must be 4 + 1..=256"));
        }
        let data_len = spec.key_size as usize - 4;
        let core = HashCore::new(&spec, spec.value_stride(), false)?;
        Ok(Self {
            lens: (0..=data_len * 8).map(|_| AtomicU32::new(0)).collect(),
            data_len,
            core,
            spec,
        })
    }

    fn max_bits(&self) -> u32 {
        (self.data_len * 8) as u32
    }

    /// The key's prefix length, if the key has the right size.
    fn prefix_len(&self, key: &[u8]) -> Option<u32> {
        if key.len() != self.data_len + 4 {
            return None;
        }
        let bytes: [u8; 4] = key[..4].try_into().ok()?;
        Some(u32::from_le_bytes(bytes))
    }

    /// Writes the normalised key for `len` bits of `key`'s data into `out`.
    fn normalise(key: &[u8], len: u32, out: &mut Vec<u8>) {
        out.clear();
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&key[4..]);
        let data = &mut out[4..];
        let full = (len / 8) as usize;
        let rem = len % 8;
        if full < data.len() {
            let keep = if rem == 0 { 0 } else { 0xffu8 << (8 - rem) };
            data[full] &= keep;
            data[full + 1..].fill(0);
        }
    }

    /// The slot of the longest prefix matching `key`.
    fn longest_match(&self, key: &[u8]) -> Option<u32> {
        let max = self.prefix_len(key)?.min(self.max_bits());
        let mut buf = Vec::with_capacity(key.len());
        for len in (0..=max).rev() {
            if self.lens[len as usize].load(Ordering::Acquire) == 0 {
                continue;
            }
            Self::normalise(key, len, &mut buf);
            if let Some(slot) = self.core.find(&buf) {
                return Some(slot);
            }
        }
        None
    }

    fn exact_key(&self, key: &[u8]) -> Result<Vec<u8>, Errno> {
        let len = self.prefix_len(key).ok_or(Errno::Invalid)?;
        if len > self.max_bits() {
            return Err(Errno::Invalid);
        }
        let mut buf = Vec::with_capacity(key.len());
        Self::normalise(key, len, &mut buf);
        Ok(buf)
    }
}

impl Map for LpmTrie {
    fn spec(&self) -> &MapSpec {
        &self.spec
    }

    fn lookup(&self, key: &[u8], _slot: u32) -> Option<u64> {
        let slot = self.longest_match(key)?;
        Some(self.core.slab().addr(self.core.offset(slot)))
    }

    fn update(
        &self,
        key: &[u8],
        value: &[u8],
        flags: u64,
        _slot: Option<u32>,
    ) -> Result<(), Errno> {
        let flags = check_flags(flags)?;
        if value.len() != self.spec.value_size as usize {
            return Err(Errno::Invalid);
        }
        let norm = self.exact_key(key)?;
        let len = self.prefix_len(key).unwrap_or(0) as usize;
        self.core.upsert(&norm, flags, |slab, offset, entry| {
            slab.write(offset, value);
            if entry == Entry::New {
                self.lens[len].fetch_add(1, Ordering::AcqRel);
            }
        })
    }

    fn delete(&self, key: &[u8]) -> Result<(), Errno> {
        let norm = self.exact_key(key).map_err(|_| Errno::NoEntry)?;
        self.core.delete(&norm)?;
        let len = self.prefix_len(key).unwrap_or(0) as usize;
        self.lens[len].fetch_sub(1, Ordering::AcqRel);
        Ok(())
    }

    fn next_key(&self, key: Option<&[u8]>) -> Result<Vec<u8>, Errno> {
        let norm = key.and_then(|k| self.exact_key(k).ok());
        self.core.next_key(norm.as_deref())
    }

    fn read(&self, key: &[u8]) -> Result<Vec<u8>, Errno> {
        let slot = self.longest_match(key).ok_or(Errno::NoEntry)?;
        Ok(self
            .core
            .slab()
            .to_vec(self.core.offset(slot), self.spec.value_size as usize))
    }

    fn regions(&self) -> Vec<Region> {
        vec![self.core.slab().region(true)]
    }
}
