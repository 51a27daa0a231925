//! `BPF_MAP_TYPE_HASH`, and the hash core shared with the LRU, per-CPU, LPM and of-maps kinds.
//!
//! Values live in a **slab** of `max_entries` entries reserved at creation that never moves, so
//! every value pointer handed to a program stays valid (and inside the map's one [`Region`]) for
//! the map's lifetime. The slab is zeroed memory the OS commits page by page as entries are
//! first written, so a large, sparsely used map costs little; everything else (the key index,
//! the slot → key list, the free list, LRU bits) grows with the number of entries ever used,
//! never with `max_entries`, and grows fallibly (`ENOMEM` for the insert, no abort). A deleted
//! entry's slot is reused by a later insert, as with Linux's preallocated hash maps. The key → slot index is sharded over [`SHARDS`] `RwLock`ed std hash
//! maps (lookups take one shard's read lock); slot allocation and the slot → key list take one
//! short `Mutex` on insert and delete only. Lock order: shard, then allocator.

use std::collections::hash_map::RandomState;
use std::collections::HashMap as StdHashMap;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock, RwLock, RwLockReadGuard, RwLockWriteGuard};

use super::{check_flags, update_flags, Errno, Map, MapError, MapMemory, MapSpec};
use crate::memory::Region;

/// Number of index shards.
pub(crate) const SHARDS: usize = 16;
/// How many evictions an LRU insert tries before giving up.
const EVICT_ATTEMPTS: usize = 64;
/// LRU "referenced" bits come in chunks of this many slots, allocated when the chunk's first
/// slot is first used.
const REF_CHUNK: usize = 1 << 12;

type Shard = StdHashMap<Box<[u8]>, u32>;
/// One chunk of LRU "referenced" bits, allocated on first use.
type RefChunk = OnceLock<Box<[AtomicBool]>>;

#[derive(Debug)]
struct Alloc {
    /// Released slots, reused first (last released, first reused). Its capacity is kept at
    /// least `keys.len()`, so releasing a slot never allocates.
    free: Vec<u32>,
    /// The key of every slot handed out so far (`None` once released); slots are handed out in
    /// order, so its length is the number of slots ever used.
    keys: Vec<Option<Box<[u8]>>>,
    hand: usize,
}

/// Whether an entry was created or already existed (for callers that initialise new entries).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Entry {
    New,
    Existing,
}

/// The slab-backed hash table.
#[derive(Debug)]
pub(crate) struct HashCore {
    entry_size: usize,
    max_entries: u32,
    slab: MapMemory,
    shards: Box<[RwLock<Shard>]>,
    alloc: Mutex<Alloc>,
    /// LRU "referenced" bits (clock algorithm), in lazily allocated chunks of [`REF_CHUNK`];
    /// `None` for non-LRU tables.
    referenced: Option<Box<[RefChunk]>>,
    hasher: RandomState,
}

fn read_lock<T>(l: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn write_lock<T>(l: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(std::sync::PoisonError::into_inner)
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl HashCore {
    /// A table of `max_entries` entries of `entry_size` bytes each.
    pub(crate) fn new(spec: &MapSpec, entry_size: usize, lru: bool) -> Result<Self, MapError> {
        if spec.key_size == 0 {
            return Err(spec.bad("key_size must not be 0"));
        }
        spec.require_value()?;
        let n = spec.max_entries as usize;
        let total = entry_size
            .checked_mul(n)
            .ok_or_else(|| spec.bad("size overflows"))?;
        Ok(Self {
            entry_size,
            max_entries: spec.max_entries,
            slab: MapMemory::zeroed(total).map_err(|e| spec.oom(e))?,
            shards: (0..SHARDS).map(|_| RwLock::new(Shard::new())).collect(),
            alloc: Mutex::new(Alloc {
                free: Vec::new(),
                keys: Vec::new(),
                hand: 0,
            }),
            referenced: lru.then(|| {
                (0..n.div_ceil(REF_CHUNK))
                    .map(|_| OnceLock::new())
                    .collect()
            }),
            hasher: RandomState::new(),
        })
    }

    /// The LRU bit of `slot`, once its chunk exists.
    fn ref_bit(&self, slot: usize) -> Option<&AtomicBool> {
        self.referenced
            .as_ref()?
            .get(slot / REF_CHUNK)?
            .get()?
            .get(slot % REF_CHUNK)
    }

    /// Takes a slot for `key`: a released one, else the next never-used one. `Ok(None)` when
    /// all `max_entries` are in use; `ENOMEM` when the index cannot grow.
    fn take_slot(&self, a: &mut Alloc, key: &[u8]) -> Result<Option<u32>, Errno> {
        if let Some(s) = a.free.pop() {
            a.keys[s as usize] = Some(key.into());
            return Ok(Some(s));
        }
        let s = a.keys.len();
        if s >= self.max_entries as usize {
            return Ok(None);
        }
        a.keys.try_reserve(1).map_err(|_| Errno::NoMemory)?;
        let room = (s + 1).saturating_sub(a.free.len());
        a.free.try_reserve(room).map_err(|_| Errno::NoMemory)?;
        if let Some(chunks) = &self.referenced {
            if let Some(chunk) = chunks.get(s / REF_CHUNK) {
                chunk.get_or_init(|| (0..REF_CHUNK).map(|_| AtomicBool::new(false)).collect());
            }
        }
        a.keys.push(Some(key.into()));
        Ok(Some(s as u32))
    }

    fn shard(&self, key: &[u8]) -> &RwLock<Shard> {
        let h = self.hasher.hash_one(key) as usize;
        &self.shards[h % SHARDS]
    }

    pub(crate) fn slab(&self) -> &MapMemory {
        &self.slab
    }

    pub(crate) fn offset(&self, slot: u32) -> usize {
        slot as usize * self.entry_size
    }

    fn touch(&self, slot: u32) {
        if let Some(bit) = self.ref_bit(slot as usize) {
            if !bit.load(Ordering::Relaxed) {
                bit.store(true, Ordering::Relaxed);
            }
        }
    }

    /// The slot holding `key` (and marks it recently used).
    pub(crate) fn find(&self, key: &[u8]) -> Option<u32> {
        let slot = read_lock(self.shard(key)).get(key).copied()?;
        self.touch(slot);
        Some(slot)
    }

    /// Runs `f` on `key`'s entry offset while its shard is locked, if present.
    pub(crate) fn with_entry<R>(&self, key: &[u8], f: impl FnOnce(usize) -> R) -> Option<R> {
        let shard = read_lock(self.shard(key));
        let slot = *shard.get(key)?;
        Some(f(self.offset(slot)))
    }

    /// Inserts or updates `key` per `flags` (already checked); `write` fills the entry at the
    /// given offset while the key's shard is locked.
    pub(crate) fn upsert(
        &self,
        key: &[u8],
        flags: u64,
        mut write: impl FnMut(&MapMemory, usize, Entry),
    ) -> Result<(), Errno> {
        for _ in 0..EVICT_ATTEMPTS {
            let mut shard = write_lock(self.shard(key));
            if let Some(&slot) = shard.get(key) {
                if flags == update_flags::NOEXIST {
                    return Err(Errno::Exists);
                }
                write(&self.slab, self.offset(slot), Entry::Existing);
                self.touch(slot);
                return Ok(());
            }
            if flags == update_flags::EXIST {
                return Err(Errno::NoEntry);
            }
            shard.try_reserve(1).map_err(|_| Errno::NoMemory)?;
            let slot = self.take_slot(&mut lock(&self.alloc), key)?;
            if let Some(slot) = slot {
                write(&self.slab, self.offset(slot), Entry::New);
                if let Some(bit) = self.ref_bit(slot as usize) {
                    // New entries start unreferenced (Linux's inactive list): only a later
                    // lookup or update protects them from the next sweep.
                    bit.store(false, Ordering::Relaxed);
                }
                shard.insert(key.into(), slot);
                return Ok(());
            }
            if self.referenced.is_none() {
                return Err(Errno::TooBig);
            }
            drop(shard);
            self.evict_one();
        }
        Err(Errno::TooBig)
    }

    /// Clock sweep: clears referenced bits until an unreferenced entry is found, then deletes it.
    fn evict_one(&self) {
        if self.referenced.is_none() {
            return;
        }
        let victim = {
            let mut a = lock(&self.alloc);
            let n = a.keys.len();
            let mut victim = None;
            for _ in 0..2 * n {
                let s = a.hand % n;
                a.hand = (s + 1) % n;
                if let Some(k) = &a.keys[s] {
                    if self
                        .ref_bit(s)
                        .is_some_and(|bit| bit.swap(false, Ordering::Relaxed))
                    {
                        continue;
                    }
                    victim = Some((s as u32, k.clone()));
                    break;
                }
            }
            victim
        };
        if let Some((slot, key)) = victim {
            let mut shard = write_lock(self.shard(&key));
            if shard.get(&key) == Some(&slot) {
                shard.remove(&key);
                self.release(slot);
            }
        }
    }

    fn release(&self, slot: u32) {
        let mut a = lock(&self.alloc);
        a.keys[slot as usize] = None;
        a.free.push(slot);
    }

    /// Removes `key`.
    pub(crate) fn delete(&self, key: &[u8]) -> Result<(), Errno> {
        let mut shard = write_lock(self.shard(key));
        let slot = shard.remove(key).ok_or(Errno::NoEntry)?;
        self.release(slot);
        Ok(())
    }

    /// The key after `key` in slot order (the first one when `key` is `None` or absent).
    pub(crate) fn next_key(&self, key: Option<&[u8]>) -> Result<Vec<u8>, Errno> {
        let start = key
            .and_then(|k| read_lock(self.shard(k)).get(k).copied())
            .map_or(0, |s| s as usize + 1);
        let a = lock(&self.alloc);
        a.keys
            .iter()
            .skip(start)
            .flatten()
            .next()
            .map(|k| k.to_vec())
            .ok_or(Errno::NoEntry)
    }

    /// Number of entries.
    pub(crate) fn len(&self) -> usize {
        let a = lock(&self.alloc);
        a.keys.len() - a.free.len()
    }
}

/// A hash map.
#[derive(Debug)]
pub struct HashMap {
    spec: MapSpec,
    core: HashCore,
}

impl HashMap {
    /// Creates the map with its value slab.
    ///
    /// # Errors
    /// [`MapError::BadDefinition`] for zero sizes or capacity.
    pub fn new(spec: MapSpec) -> Result<Self, MapError> {
        Self::with_lru(spec, false)
    }

    pub(crate) fn with_lru(spec: MapSpec, lru: bool) -> Result<Self, MapError> {
        let core = HashCore::new(&spec, spec.value_stride(), lru)?;
        Ok(Self { spec, core })
    }

    /// Number of elements.
    #[must_use]
    pub fn len(&self) -> usize {
        self.core.len()
    }

    /// Whether the map is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Map for HashMap {
    fn spec(&self) -> &MapSpec {
        &self.spec
    }

    fn lookup(&self, key: &[u8], _slot: u32) -> Option<u64> {
        let slot = self.core.find(key)?;
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
        self.core
            .upsert(key, flags, |slab, offset, _| slab.write(offset, value))
    }

    fn delete(&self, key: &[u8]) -> Result<(), Errno> {
        self.core.delete(key)
    }

    fn next_key(&self, key: Option<&[u8]>) -> Result<Vec<u8>, Errno> {
        self.core.next_key(key)
    }

    fn read(&self, key: &[u8]) -> Result<Vec<u8>, Errno> {
        let size = self.spec.value_size as usize;
        self.core
            .with_entry(key, |o| self.core.slab().to_vec(o, size))
            .ok_or(Errno::NoEntry)
    }

    fn regions(&self) -> Vec<Region> {
        vec![self.core.slab().region(true)]
    }
}
