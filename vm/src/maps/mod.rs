//! eBPF maps with Linux semantics, shared by the programs of one object and the host.
//!
//! Every map kind implements [`Map`] (object-safe, `Send + Sync`). A [`MapTable`] holds the maps
//! of an object, in definition order; programs name a map by an opaque *handle*
//! ([`map_handle`]: a tagged index) that helpers validate through the table before using it.
//! [`bind`] rewrites a program's `lddw` map pseudo forms into those handles (and into value
//! addresses for global data).
//!
//! **Memory.** Map memory a program can point into (array values, the hash value slab, the ring
//! buffer data area) is allocated once, zeroed and 8-byte aligned ([`MapMemory`]) and never moves
//! or shrinks while the map lives; [`Map::regions`] describes it as [`Region`]s for the
//! [`crate::Environment`]. Program loads, stores and host atomics reach it through raw pointers;
//! the host reads and writes it through raw copies, so concurrent non-atomic accesses may tear,
//! exactly as on Linux (where `bpf_map_lookup_elem` copies without a lock unless `BPF_F_LOCK`).
//!
//! **Synchronisation.** Index structures (hash buckets, queues, trie) use short, fine-grained
//! locks (sharded `RwLock`s for hashes); no lock is held while a program runs.

mod array;
mod bind;
mod cost;
mod hash;
mod lpm;
mod lru;
mod memory;
mod of_maps;
mod percpu;
mod perf;
mod prog_array;
mod queue;
mod ringbuf;
mod slots;

use std::fmt;
use std::sync::Arc;

use thiserror::Error;

use crate::limits::{LimitKind, Limits};
use crate::memory::Region;

pub use array::ArrayMap;
pub use bind::{bind, BindError, Bound};
pub use hash::HashMap;
pub use lpm::LpmTrie;
pub use lru::LruHashMap;
pub use memory::{AllocError, MapMemory};
pub use of_maps::{ArrayOfMaps, HashOfMaps};
pub use percpu::{PercpuArray, PercpuHash};
pub use perf::PerfEventArray;
pub use prog_array::ProgArray;
pub use queue::{QueueMap, QueueOrder};
pub use ringbuf::RingBuf;

/// Linux `enum bpf_map_type` ids, from the Linux catalogue ([`apiary_linux::map_types`]).
pub use apiary_linux::map_type;

/// `bpf_map_update_elem` flags.
pub mod update_flags {
    /// Create or update.
    pub const ANY: u64 = 0;
    /// Create only (`-EEXIST` if present).
    pub const NOEXIST: u64 = 1;
    /// Update only (`-ENOENT` if absent); for push: overwrite the oldest element when full.
    pub const EXIST: u64 = 2;
    /// Take the value's spin lock (accepted and ignored: updates of one element are serialised).
    pub const F_LOCK: u64 = 4;
}

/// Map creation flags (`map_flags`).
pub mod map_flags {
    /// `BPF_F_NO_PREALLOC` (required by LPM tries; accepted and ignored elsewhere).
    pub const NO_PREALLOC: u32 = 1;
    /// `BPF_F_RDONLY_PROG`: programs may read but not write the map (frozen `.rodata`).
    pub const RDONLY_PROG: u32 = 1 << 7;
}

/// A Linux error number, as map operations and helpers report it (negated in r0).
#[derive(Clone, Copy, Debug, Error, PartialEq, Eq, Hash)]
pub enum Errno {
    /// `ENOENT` (2): no such element.
    #[error("ENOENT: no such element")]
    NoEntry,
    /// `EAGAIN` (11): try again (ring buffer full).
    #[error("EAGAIN: no room, try again")]
    Again,
    /// `E2BIG` (7): the map is full.
    #[error("E2BIG: the map is full")]
    TooBig,
    /// `EACCES` (13): permission denied (an XDP metadata length Linux refuses).
    #[error("EACCES: permission denied")]
    Access,
    /// `EFAULT` (14): bad address.
    #[error("EFAULT: bad address")]
    Fault,
    /// `EBUSY` (16): resource busy.
    #[error("EBUSY: busy")]
    Busy,
    /// `EEXIST` (17): the element exists.
    #[error("EEXIST: the element exists")]
    Exists,
    /// `EINVAL` (22): invalid argument or operation for this map kind.
    #[error("EINVAL: invalid argument")]
    Invalid,
    /// `ENOMEM` (12): the host could not allocate memory for the element.
    #[error("ENOMEM: out of memory")]
    NoMemory,
    /// `ENOSPC` (28): no space left (perf ring full).
    #[error("ENOSPC: no space left")]
    NoSpace,
    /// `EOPNOTSUPP` (95): the map kind does not support the operation.
    #[error("EOPNOTSUPP: operation not supported")]
    NotSupported,
}

impl Errno {
    /// The positive Linux error number.
    #[must_use]
    pub const fn code(self) -> i64 {
        match self {
            Errno::NoEntry => 2,
            Errno::TooBig => 7,
            Errno::Again => 11,
            Errno::NoMemory => 12,
            Errno::Access => 13,
            Errno::Fault => 14,
            Errno::Busy => 16,
            Errno::Exists => 17,
            Errno::Invalid => 22,
            Errno::NoSpace => 28,
            Errno::NotSupported => 95,
        }
    }

    /// The value a helper returns in r0: `-code` as a u64.
    #[must_use]
    pub const fn to_r0(self) -> u64 {
        (-self.code()) as u64
    }
}

/// Errors of the host-side map API and of map creation.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum MapError {
    /// A definition the map kind cannot accept.
    #[error("map {name}: {reason}")]
    BadDefinition { name: String, reason: String },
    /// A map type apiary does not implement.
    #[error("map {name}: map type {map_type} is not supported")]
    UnsupportedType { name: String, map_type: u32 },
    /// No map has this index.
    #[error("no map with index {index}")]
    NoSuchMap { index: usize },
    /// A key of the wrong size.
    #[error("map {name}: key of {got} bytes, expected {expected}")]
    KeySize {
        name: String,
        expected: usize,
        got: usize,
    },
    /// A value of the wrong size.
    #[error("map {name}: value of {got} bytes, expected {expected}")]
    ValueSize {
        name: String,
        expected: usize,
        got: usize,
    },
    /// The operation failed as it would on Linux.
    #[error("map {name}: {op} failed: {errno}")]
    Op {
        name: String,
        op: &'static str,
        errno: Errno,
    },
    /// The definition asks for more than a [`Limits`] field allows (checked before allocating):
    /// `what` is the request (`max_entries 4294967295 × value_size 8 = 34359738360 bytes`),
    /// `asked` its size, `limit` the bound of the [`LimitKind`] `kind`.
    #[error("map {name:?}: {what} exceeds the {} of {limit} {}", .kind.name(), .kind.unit())]
    TooLarge {
        name: String,
        what: Box<str>,
        asked: u64,
        limit: u64,
        kind: LimitKind,
    },
    /// The host could not allocate the map's memory (within the limits, but not available).
    #[error("map {name:?}: cannot allocate {bytes} bytes")]
    OutOfMemory { name: String, bytes: usize },
}

/// A map definition (what an object file declares, as produced by the ELF loader).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MapSpec {
    /// Name (for lookups by name and messages).
    pub name: String,
    /// Linux map type id ([`map_type`]).
    pub map_type: u32,
    /// Key size in bytes.
    pub key_size: u32,
    /// Value size in bytes.
    pub value_size: u32,
    /// Capacity (elements; bytes for a ring buffer).
    pub max_entries: u32,
    /// `map_flags` ([`map_flags`]).
    pub flags: u32,
    /// Initial bytes of element 0 (global data); at most `value_size` bytes, the rest is zero.
    pub initial: Vec<u8>,
    /// Programs may only read the map (frozen `.rodata`); the host may still write it.
    pub read_only: bool,
    /// The inner-map template of a map-of-maps.
    pub inner: Option<Box<MapSpec>>,
}

impl MapSpec {
    /// A definition with no flags, no initial data, writable.
    #[must_use]
    pub fn new(
        name: &str,
        map_type: u32,
        key_size: u32,
        value_size: u32,
        max_entries: u32,
    ) -> Self {
        Self {
            name: name.to_owned(),
            map_type,
            key_size,
            value_size,
            max_entries,
            ..Self::default()
        }
    }

    /// With these `map_flags`.
    #[must_use]
    pub fn with_flags(mut self, flags: u32) -> Self {
        self.flags = flags;
        self
    }

    /// With initial data for element 0.
    #[must_use]
    pub fn with_initial(mut self, initial: Vec<u8>) -> Self {
        self.initial = initial;
        self
    }

    /// Read-only for programs.
    #[must_use]
    pub fn read_only(mut self) -> Self {
        self.read_only = true;
        self
    }

    /// With an inner-map template.
    #[must_use]
    pub fn with_inner(mut self, inner: MapSpec) -> Self {
        self.inner = Some(Box::new(inner));
        self
    }

    /// Whether programs may not write the map.
    #[must_use]
    pub fn program_read_only(&self) -> bool {
        self.read_only || self.flags & map_flags::RDONLY_PROG != 0
    }

    /// The error for a failed allocation of this map's memory.
    pub(crate) fn oom(&self, e: AllocError) -> MapError {
        MapError::OutOfMemory {
            name: self.name.clone(),
            bytes: e.bytes,
        }
    }

    pub(crate) fn bad(&self, reason: impl Into<String>) -> MapError {
        MapError::BadDefinition {
            name: self.name.clone(),
            reason: reason.into(),
        }
    }

    /// `value_size` rounded up to 8 (the per-element stride of arrays and per-slot values).
    #[must_use]
    pub fn value_stride(&self) -> usize {
        (self.value_size as usize).next_multiple_of(8)
    }

    pub(crate) fn require_key_size(&self, size: u32) -> Result<(), MapError> {
        if self.key_size == size {
            Ok(())
        } else {
            Err(self.bad(format!("key_size must be {size}, not {}", self.key_size)))
        }
    }

    pub(crate) fn require_value(&self) -> Result<(), MapError> {
        if self.value_size == 0 {
            return Err(self.bad("value_size must not be 0"));
        }
        if self.max_entries == 0 {
            return Err(self.bad("max_entries must not be 0"));
        }
        Ok(())
    }
}

/// Typed access to the kinds with operations beyond lookup/update/delete.
#[derive(Clone, Copy, Debug)]
pub enum MapKind<'a> {
    /// A ring buffer (reserve/submit, host consumer).
    RingBuf(&'a RingBuf),
    /// A perf event array (host reader).
    PerfEvents(&'a PerfEventArray),
    /// A program array (tail calls).
    ProgArray(&'a ProgArray),
    /// A map of maps: values are inner map indices.
    OfMaps,
    /// Any other kind.
    Plain,
}

/// One map. Keys and values are byte strings of the definition's sizes (callers check sizes).
///
/// `slot` arguments are worker slots (the "CPU" of per-CPU kinds); others ignore them.
pub trait Map: Send + Sync + fmt::Debug {
    /// The definition the map was created from.
    fn spec(&self) -> &MapSpec;

    /// Program lookup: the address of the value (this slot's copy for per-CPU kinds), or `None`.
    fn lookup(&self, key: &[u8], slot: u32) -> Option<u64>;

    /// Update (or insert) `key` with `value` and flags ([`update_flags`]). `slot = Some(s)` is a
    /// program update (per-CPU kinds write slot `s` only, and zero the other slots of a new
    /// element); `None` is a host update (per-CPU kinds take either one value for every slot or
    /// `nr_slots` values of [`MapSpec::value_stride`] bytes each).
    ///
    /// # Errors
    /// Linux error numbers: `EEXIST`, `ENOENT`, `E2BIG`, `EINVAL`.
    fn update(&self, key: &[u8], value: &[u8], flags: u64, slot: Option<u32>) -> Result<(), Errno>;

    /// Delete `key`.
    ///
    /// # Errors
    /// `ENOENT` when absent; `EINVAL` for kinds without delete (arrays).
    fn delete(&self, key: &[u8]) -> Result<(), Errno>;

    /// The key after `key` in iteration order, or the first key when `key` is `None` or absent.
    ///
    /// # Errors
    /// `ENOENT` at the end of the iteration.
    fn next_key(&self, key: Option<&[u8]>) -> Result<Vec<u8>, Errno>;

    /// Host read of a value: a copy (for per-CPU kinds, every slot's value, each padded to
    /// [`MapSpec::value_stride`]).
    ///
    /// # Errors
    /// `ENOENT` when absent.
    fn read(&self, key: &[u8]) -> Result<Vec<u8>, Errno>;

    /// Push a value (queue, stack).
    ///
    /// # Errors
    /// `E2BIG` when full (without `BPF_EXIST`), `EINVAL` for other kinds.
    fn push(&self, value: &[u8], flags: u64) -> Result<(), Errno> {
        let _ = (value, flags);
        Err(Errno::Invalid)
    }

    /// Pop (`remove`) or peek the next value into `out` (queue, stack).
    ///
    /// # Errors
    /// `ENOENT` when empty, `EINVAL` for other kinds.
    fn pop(&self, out: &mut [u8], remove: bool) -> Result<(), Errno> {
        let _ = (out, remove);
        Err(Errno::Invalid)
    }

    /// Memory programs may point into. Valid for as long as the map lives.
    fn regions(&self) -> Vec<Region> {
        Vec::new()
    }

    /// Address of element `index`'s value (arrays only; for `lddw` src 2 / 6).
    fn value_addr(&self, index: u32) -> Option<u64> {
        let _ = index;
        None
    }

    /// Typed access to kind-specific operations.
    fn kind(&self) -> MapKind<'_> {
        MapKind::Plain
    }

    /// For maps of maps: the inner map index stored under `key`.
    fn inner_map(&self, key: &[u8]) -> Option<u32> {
        let _ = key;
        None
    }
}

/// Tag of map handles (the upper 16 bits).
pub const MAP_HANDLE_TAG: u64 = 0xA9A7_0000_0000_0000;
const HANDLE_TAG_MASK: u64 = 0xFFFF_0000_0000_0000;

/// The handle programs use for map `index` of a table.
#[must_use]
pub const fn map_handle(index: usize) -> u64 {
    MAP_HANDLE_TAG | (index as u64 & !HANDLE_TAG_MASK)
}

/// Settings shared by the maps of a table.
#[derive(Clone, Debug)]
pub struct MapOptions {
    /// Worker slots ("CPUs") of per-CPU maps and perf event arrays; slot ids are taken modulo this.
    pub nr_slots: u32,
    /// Capacity in bytes of each perf event ring.
    pub perf_ring_bytes: usize,
    /// Bounds on what definitions may ask for (checked before anything is allocated).
    pub limits: Limits,
    /// Allocation source of the memory programs can point into (array and hash values, per-CPU
    /// slots, ring buffer data): a sandbox window, so that verified code confined to the window
    /// still reaches its maps; `None`: the heap.
    pub window: Option<Arc<apiary_window::Window>>,
}

/// Options compare by value, and windows by identity.
impl PartialEq for MapOptions {
    fn eq(&self, o: &Self) -> bool {
        self.nr_slots == o.nr_slots
            && self.perf_ring_bytes == o.perf_ring_bytes
            && self.limits == o.limits
            && match (&self.window, &o.window) {
                (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                (a, b) => a.is_none() && b.is_none(),
            }
    }
}

impl Eq for MapOptions {}

impl Default for MapOptions {
    fn default() -> Self {
        Self {
            nr_slots: std::thread::available_parallelism()
                .map_or(1, |n| u32::try_from(n.get()).unwrap_or(u32::MAX)),
            perf_ring_bytes: 64 * 1024,
            limits: Limits::default(),
            window: None,
        }
    }
}

/// Creates one map from its definition, after checking it against [`MapOptions::limits`] (on
/// its own; a [`MapTable`] also checks the per-object total).
///
/// # Errors
/// [`MapError::UnsupportedType`], [`MapError::BadDefinition`], [`MapError::TooLarge`] (nothing
/// was allocated) or [`MapError::OutOfMemory`].
pub fn create_map(spec: &MapSpec, options: &MapOptions) -> Result<Arc<dyn Map>, MapError> {
    cost::map_cost(spec, options)?;
    create_unchecked(spec, options)
}

fn create_unchecked(spec: &MapSpec, options: &MapOptions) -> Result<Arc<dyn Map>, MapError> {
    memory::with_source(options.window.as_ref(), || create_in(spec, options))
}

fn create_in(spec: &MapSpec, options: &MapOptions) -> Result<Arc<dyn Map>, MapError> {
    let spec = spec.clone();
    let nr_slots = options.nr_slots.max(1);
    Ok(match spec.map_type {
        map_type::ARRAY => Arc::new(ArrayMap::new(spec)?),
        map_type::HASH => Arc::new(HashMap::new(spec)?),
        map_type::PERCPU_ARRAY => Arc::new(PercpuArray::new(spec, nr_slots)?),
        map_type::PERCPU_HASH => Arc::new(PercpuHash::new(spec, nr_slots)?),
        map_type::LRU_HASH => Arc::new(LruHashMap::new(spec)?),
        map_type::RINGBUF => Arc::new(RingBuf::new(spec)?),
        map_type::PERF_EVENT_ARRAY => Arc::new(PerfEventArray::new(
            spec,
            nr_slots,
            options.perf_ring_bytes,
        )?),
        map_type::PROG_ARRAY => Arc::new(ProgArray::new(spec)?),
        map_type::QUEUE => Arc::new(QueueMap::new(spec, QueueOrder::Fifo)?),
        map_type::STACK => Arc::new(QueueMap::new(spec, QueueOrder::Lifo)?),
        map_type::LPM_TRIE => Arc::new(LpmTrie::new(spec)?),
        map_type::ARRAY_OF_MAPS => Arc::new(ArrayOfMaps::new(spec)?),
        map_type::HASH_OF_MAPS => Arc::new(HashOfMaps::new(spec)?),
        other => {
            return Err(MapError::UnsupportedType {
                name: spec.name,
                map_type: other,
            })
        }
    })
}

/// Bytes of window a set of maps needs at most: each map's cost (what it may come to hold,
/// [`Limits`]-checked) plus room for its blocks' guards. For sizing a sandbox window before the
/// maps are created in it ([`MapOptions::window`]).
///
/// # Errors
/// As [`create_map`]'s limit checks ([`MapError::TooLarge`]).
pub fn window_bytes(specs: &[MapSpec], options: &MapOptions) -> Result<u64, MapError> {
    let mut total = 0u64;
    for spec in specs {
        let (cost, _) = cost::map_cost(spec, options)?;
        // A map makes at most a few blocks (values, per-slot copies, a slot index), each
        // grain-rounded with a guard after it.
        total = total
            .saturating_add(cost)
            .saturating_add(4 * 2 * apiary_window::GRAIN as u64);
    }
    Ok(total)
}

/// The maps of one object (or of any set of programs sharing them), by index.
#[derive(Debug, Default)]
pub struct MapTable {
    maps: Vec<Arc<dyn Map>>,
    options: MapOptions,
    /// Bytes the maps created here may hold ([`Limits::max_map_memory`] bounds the sum).
    reserved: u64,
}

impl MapTable {
    /// An empty table.
    #[must_use]
    pub fn new(options: MapOptions) -> Self {
        Self {
            maps: Vec::new(),
            options,
            reserved: 0,
        }
    }

    /// A table with one map per definition, indices in definition order.
    ///
    /// # Errors
    /// The first definition that cannot be created.
    pub fn from_specs(specs: &[MapSpec], options: MapOptions) -> Result<Self, MapError> {
        let mut table = Self::new(options);
        for spec in specs {
            table.create(spec)?;
        }
        Ok(table)
    }

    /// Creates a map and returns its index. The map's cost ([`Limits::max_map_memory`]) is
    /// checked, with the maps created before it, before anything is allocated.
    ///
    /// # Errors
    /// As [`create_map`]; [`MapError::TooLarge`] also when the table would pass the per-object
    /// map memory limit.
    pub fn create(&mut self, spec: &MapSpec) -> Result<usize, MapError> {
        let (cost, what) = cost::map_cost(spec, &self.options)?;
        cost::check_budget(spec, &self.options, cost, &what, self.reserved)?;
        let map = create_unchecked(spec, &self.options)?;
        self.maps
            .try_reserve(1)
            .map_err(|_| MapError::OutOfMemory {
                name: spec.name.clone(),
                bytes: size_of::<Arc<dyn Map>>(),
            })?;
        self.maps.push(map);
        self.reserved = self.reserved.saturating_add(cost);
        Ok(self.maps.len() - 1)
    }

    /// Bytes of map memory the maps created by this table may hold (see
    /// [`Limits::max_map_memory`]).
    #[must_use]
    pub const fn reserved(&self) -> u64 {
        self.reserved
    }

    /// Adds an existing map (e.g. shared with another table) and returns its index.
    pub fn insert(&mut self, map: Arc<dyn Map>) -> usize {
        self.maps.push(map);
        self.maps.len() - 1
    }

    /// The options maps were created with.
    #[must_use]
    pub const fn options(&self) -> &MapOptions {
        &self.options
    }

    /// Number of maps.
    #[must_use]
    pub fn len(&self) -> usize {
        self.maps.len()
    }

    /// Whether there is no map.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.maps.is_empty()
    }

    /// Map `index`.
    #[must_use]
    pub fn get(&self, index: usize) -> Option<&Arc<dyn Map>> {
        self.maps.get(index)
    }

    /// The index of the map named `name`.
    #[must_use]
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.maps.iter().position(|m| m.spec().name == name)
    }

    /// The handle of map `index` (what `lddw` map forms are rewritten to).
    #[must_use]
    pub const fn handle(index: usize) -> u64 {
        map_handle(index)
    }

    /// The map a handle names, validated: `None` for anything that is not a handle of this table.
    #[must_use]
    pub fn by_handle(&self, handle: u64) -> Option<(usize, &Arc<dyn Map>)> {
        if handle & HANDLE_TAG_MASK != MAP_HANDLE_TAG {
            return None;
        }
        let index = usize::try_from(handle & !HANDLE_TAG_MASK).ok()?;
        self.maps.get(index).map(|m| (index, m))
    }

    /// Every map's memory, for [`crate::Environment::regions`]. Valid while the maps live.
    #[must_use]
    pub fn regions(&self) -> Vec<Region> {
        self.maps.iter().flat_map(|m| m.regions()).collect()
    }

    fn map(&self, index: usize) -> Result<&Arc<dyn Map>, MapError> {
        self.maps.get(index).ok_or(MapError::NoSuchMap { index })
    }

    fn check_key(map: &dyn Map, key: &[u8]) -> Result<(), MapError> {
        let expected = map.spec().key_size as usize;
        if key.len() == expected {
            Ok(())
        } else {
            Err(MapError::KeySize {
                name: map.spec().name.clone(),
                expected,
                got: key.len(),
            })
        }
    }

    fn op_err<'m>(map: &'m dyn Map, op: &'static str) -> impl FnOnce(Errno) -> MapError + 'm {
        move |errno| MapError::Op {
            name: map.spec().name.clone(),
            op,
            errno,
        }
    }

    /// A copy of the value under `key` (per-CPU kinds: every slot, see [`Map::read`]), or
    /// `None` when absent.
    ///
    /// # Errors
    /// Unknown map, wrong key size, or an operation the kind does not support.
    pub fn lookup(&self, index: usize, key: &[u8]) -> Result<Option<Vec<u8>>, MapError> {
        let map = self.map(index)?;
        Self::check_key(&**map, key)?;
        match map.read(key) {
            Ok(v) => Ok(Some(v)),
            Err(Errno::NoEntry) => Ok(None),
            Err(e) => Err(Self::op_err(&**map, "lookup")(e)),
        }
    }

    /// Per-CPU kinds: the value of each slot, or `None` when absent.
    ///
    /// # Errors
    /// As [`MapTable::lookup`].
    pub fn lookup_per_slot(
        &self,
        index: usize,
        key: &[u8],
    ) -> Result<Option<Vec<Vec<u8>>>, MapError> {
        let Some(all) = self.lookup(index, key)? else {
            return Ok(None);
        };
        let spec = self.map(index)?.spec();
        let stride = spec.value_stride().max(1);
        Ok(Some(
            all.chunks(stride)
                .map(|c| c[..(spec.value_size as usize).min(c.len())].to_vec())
                .collect(),
        ))
    }

    /// Updates `key` (flags as [`update_flags`]). For maps of maps, `value` is the inner map's
    /// index in this table as a little-endian u32, checked against the inner template.
    ///
    /// # Errors
    /// Unknown map, wrong sizes, or the Linux error of the update.
    pub fn update(
        &self,
        index: usize,
        key: &[u8],
        value: &[u8],
        flags: u64,
    ) -> Result<(), MapError> {
        let map = self.map(index)?;
        Self::check_key(&**map, key)?;
        if matches!(map.kind(), MapKind::OfMaps) {
            self.check_inner(&**map, value)?;
        }
        map.update(key, value, flags, None)
            .map_err(Self::op_err(&**map, "update"))
    }

    fn check_inner(&self, outer: &dyn Map, value: &[u8]) -> Result<(), MapError> {
        let err = Self::op_err(outer, "update");
        let bytes: [u8; 4] = value.try_into().map_err(|_| MapError::ValueSize {
            name: outer.spec().name.clone(),
            expected: 4,
            got: value.len(),
        })?;
        let inner_index = u32::from_le_bytes(bytes) as usize;
        let inner = self.maps.get(inner_index).ok_or(err(Errno::Invalid))?;
        let s = inner.spec();
        if matches!(inner.kind(), MapKind::OfMaps) {
            return Err(Self::op_err(outer, "update")(Errno::Invalid));
        }
        if let Some(t) = &outer.spec().inner {
            if (t.map_type, t.key_size, t.value_size) != (s.map_type, s.key_size, s.value_size) {
                return Err(Self::op_err(outer, "update")(Errno::Invalid));
            }
        }
        Ok(())
    }

    /// Deletes `key`.
    ///
    /// # Errors
    /// Unknown map, wrong key size, or the Linux error (`ENOENT`, `EINVAL` for arrays).
    pub fn delete(&self, index: usize, key: &[u8]) -> Result<(), MapError> {
        let map = self.map(index)?;
        Self::check_key(&**map, key)?;
        map.delete(key).map_err(Self::op_err(&**map, "delete"))
    }

    /// The key after `key` (or the first key), `None` at the end.
    ///
    /// # Errors
    /// Unknown map or wrong key size.
    pub fn next_key(&self, index: usize, key: Option<&[u8]>) -> Result<Option<Vec<u8>>, MapError> {
        let map = self.map(index)?;
        if let Some(k) = key {
            Self::check_key(&**map, k)?;
        }
        match map.next_key(key) {
            Ok(k) => Ok(Some(k)),
            Err(Errno::NoEntry) => Ok(None),
            Err(e) => Err(Self::op_err(&**map, "get_next_key")(e)),
        }
    }

    /// Every key, in iteration order (bounded by `max_entries` steps).
    ///
    /// # Errors
    /// As [`MapTable::next_key`].
    pub fn keys(&self, index: usize) -> Result<Vec<Vec<u8>>, MapError> {
        let limit = self.map(index)?.spec().max_entries as usize;
        let mut keys = Vec::new();
        let mut cur = self.next_key(index, None)?;
        while let Some(k) = cur {
            if keys.len() > limit {
                break;
            }
            cur = self.next_key(index, Some(&k))?;
            keys.push(k);
        }
        Ok(keys)
    }

    /// Pushes onto a queue or stack.
    ///
    /// # Errors
    /// Unknown map, wrong size, `E2BIG` when full without [`update_flags::EXIST`].
    pub fn push(&self, index: usize, value: &[u8], flags: u64) -> Result<(), MapError> {
        let map = self.map(index)?;
        map.push(value, flags).map_err(Self::op_err(&**map, "push"))
    }

    /// Pops from a queue or stack; `None` when empty.
    ///
    /// # Errors
    /// Unknown map, or a kind without pop.
    pub fn pop(&self, index: usize) -> Result<Option<Vec<u8>>, MapError> {
        self.pop_or_peek(index, true)
    }

    /// Peeks at a queue or stack; `None` when empty.
    ///
    /// # Errors
    /// As [`MapTable::pop`].
    pub fn peek(&self, index: usize) -> Result<Option<Vec<u8>>, MapError> {
        self.pop_or_peek(index, false)
    }

    fn pop_or_peek(&self, index: usize, remove: bool) -> Result<Option<Vec<u8>>, MapError> {
        let map = self.map(index)?;
        let mut out = vec![0; map.spec().value_size as usize];
        match map.pop(&mut out, remove) {
            Ok(()) => Ok(Some(out)),
            Err(Errno::NoEntry) => Ok(None),
            Err(e) => Err(Self::op_err(&**map, if remove { "pop" } else { "peek" })(e)),
        }
    }

    /// Map `index` as a ring buffer.
    #[must_use]
    pub fn ringbuf(&self, index: usize) -> Option<&RingBuf> {
        match self.maps.get(index)?.kind() {
            MapKind::RingBuf(r) => Some(r),
            _ => None,
        }
    }

    /// Map `index` as a perf event array.
    #[must_use]
    pub fn perf_events(&self, index: usize) -> Option<&PerfEventArray> {
        match self.maps.get(index)?.kind() {
            MapKind::PerfEvents(p) => Some(p),
            _ => None,
        }
    }

    /// Map `index` as a program array.
    #[must_use]
    pub fn prog_array(&self, index: usize) -> Option<&ProgArray> {
        match self.maps.get(index)?.kind() {
            MapKind::ProgArray(p) => Some(p),
            _ => None,
        }
    }
}

/// Reads a little-endian u32 array index from a 4-byte key.
pub(crate) fn index_key(key: &[u8]) -> Option<u32> {
    let bytes: [u8; 4] = key.try_into().ok()?;
    Some(u32::from_le_bytes(bytes))
}

/// Next index key for array iteration: first when `key` is `None` or out of range.
pub(crate) fn array_next_key(key: Option<&[u8]>, max_entries: u32) -> Result<Vec<u8>, Errno> {
    let next = match key.and_then(index_key) {
        Some(i) if i < max_entries => i.checked_add(1).ok_or(Errno::NoEntry)?,
        _ => 0,
    };
    if next < max_entries {
        Ok(next.to_le_bytes().to_vec())
    } else {
        Err(Errno::NoEntry)
    }
}

/// Checks update flags: a known combination of ANY/NOEXIST/EXIST plus F_LOCK.
pub(crate) fn check_flags(flags: u64) -> Result<u64, Errno> {
    let f = flags & !update_flags::F_LOCK;
    if f > update_flags::EXIST {
        Err(Errno::Invalid)
    } else {
        Ok(f)
    }
}
