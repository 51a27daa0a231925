//! `BPF_MAP_TYPE_LRU_HASH`: a hash map that never fails with `E2BIG`; when full, an insert
//! evicts an approximately least recently used entry (clock algorithm: lookups and updates set a
//! per-entry "referenced" bit without any global lock; the eviction sweep clears bits until it
//! finds an unreferenced entry).

use super::hash::HashMap;
use super::{Errno, Map, MapError, MapSpec};
use crate::memory::Region;

/// An LRU hash map.
#[derive(Debug)]
pub struct LruHashMap {
    inner: HashMap,
}

impl LruHashMap {
    /// Creates the map with its value slab.
    ///
    /// # Errors
    /// [`MapError::BadDefinition`] for zero sizes or capacity.
    pub fn new(spec: MapSpec) -> Result<Self, MapError> {
        Ok(Self {
            inner: HashMap::with_lru(spec, true)?,
        })
    }

    /// Number of elements.
    #[must_use]
    pub fn len(&self) -> usize {
        self.inner.len()
    }

    /// Whether the map is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }
}

impl Map for LruHashMap {
    fn spec(&self) -> &MapSpec {
        self.inner.spec()
    }

    fn lookup(&self, key: &[u8], slot: u32) -> Option<u64> {
        self.inner.lookup(key, slot)
    }

    fn update(&self, key: &[u8], value: &[u8], flags: u64, slot: Option<u32>) -> Result<(), Errno> {
        self.inner.update(key, value, flags, slot)
    }

    fn delete(&self, key: &[u8]) -> Result<(), Errno> {
        self.inner.delete(key)
    }

    fn next_key(&self, key: Option<&[u8]>) -> Result<Vec<u8>, Errno> {
        self.inner.next_key(key)
    }

    fn read(&self, key: &[u8]) -> Result<Vec<u8>, Errno> {
        self.inner.read(key)
    }

    fn regions(&self) -> Vec<Region> {
        self.inner.regions()
    }
}
