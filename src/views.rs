//! Typed views of an instance's maps, like aya's: [`HashMap<K, V>`], [`Array<V>`],
//! [`PerCpuArray<V>`], [`PerCpuHashMap<K, V>`], [`RingBuf`] and [`ProgArray`], over
//! [`Pod`] keys and values (plain bytes: integers, arrays of them, `#[repr(C)]` structures
//! without padding). A view checks the map's kind and its key and value sizes once, when it is
//! made; its operations then copy values in and out of the map (unaligned: map memory has the
//! map's alignment, not the type's). Views are cheap handles (`Arc` of the instance's maps),
//! usable from any thread while programs run. Raw bytes stay available through
//! [`Instance::maps`].

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use apiary_vm::maps::{map_type, MapTable};
use bytemuck::Pod;

use crate::error::ObjectError;
use crate::instance::Instance;
use crate::module::{MapId, ProgramId};

/// The map a view reads: the instance's table and one index in it.
#[derive(Clone)]
struct Target {
    maps: Arc<MapTable>,
    index: usize,
    name: String,
}

impl Target {
    fn new(
        instance: &Instance,
        map: MapId,
        kinds: &[u32],
        wanted: &'static str,
    ) -> Result<(Self, u32, u32), ObjectError> {
        let maps = Arc::clone(instance.maps());
        let m = maps
            .get(map.index())
            .ok_or(ObjectError::NoMapIndex { index: map.index() })?;
        let spec = m.spec();
        let name = spec.name.clone();
        if !kinds.contains(&spec.map_type) {
            return Err(ObjectError::WrongMapKind { name, wanted });
        }
        let sizes = (spec.key_size, spec.value_size);
        Ok((
            Self {
                maps,
                index: map.index(),
                name,
            },
            sizes.0,
            sizes.1,
        ))
    }

    fn check(&self, what: &'static str, expected: u32, found: usize) -> Result<(), ObjectError> {
        if expected as usize == found {
            Ok(())
        } else {
            Err(ObjectError::WrongMapSize {
                name: self.name.clone(),
                what,
                expected: expected as usize,
                found,
            })
        }
    }
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "map {} {:?}", self.index, self.name)
    }
}

/// `value` as a `T` (sizes were checked when the view was made; a short value reads as
/// zero-padded rather than panicking).
fn read<T: Pod>(bytes: &[u8]) -> T {
    let mut v = T::zeroed();
    let dst = bytemuck::bytes_of_mut(&mut v);
    let n = dst.len().min(bytes.len());
    dst[..n].copy_from_slice(&bytes[..n]);
    v
}

/// Per-CPU values: one `T` per slot, each padded to 8 bytes.
fn read_slots<T: Pod>(bytes: &[u8]) -> Vec<T> {
    let stride = size_of::<T>().next_multiple_of(8).max(8);
    bytes.chunks(stride).map(read::<T>).collect()
}

/// Hash-like kinds a [`HashMap`] views.
const HASH_KINDS: &[u32] = &[map_type::HASH, map_type::LRU_HASH];

/// A hash map (`BPF_MAP_TYPE_HASH`, `LRU_HASH`) of `K` to `V`.
pub struct HashMap<K, V> {
    target: Target,
    _types: PhantomData<fn(K) -> V>,
}

impl<K, V> fmt::Debug for HashMap<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("HashMap").field(&self.target).finish()
    }
}

impl<K: Pod, V: Pod> HashMap<K, V> {
    /// The view of map `map` of `instance`.
    ///
    /// # Errors
    /// [`ObjectError::WrongMapKind`], [`ObjectError::WrongMapSize`].
    pub fn new(instance: &Instance, map: MapId) -> Result<Self, ObjectError> {
        let (target, k, v) = Target::new(instance, map, HASH_KINDS, "hash map")?;
        target.check("key", k, size_of::<K>())?;
        target.check("value", v, size_of::<V>())?;
        Ok(Self {
            target,
            _types: PhantomData,
        })
    }

    /// The value under `key`, if any.
    ///
    /// # Errors
    /// The map's error.
    pub fn get(&self, key: &K) -> Result<Option<V>, ObjectError> {
        let t = &self.target;
        Ok(t.maps
            .lookup(t.index, bytemuck::bytes_of(key))?
            .map(|v| read(&v)))
    }

    /// Sets `key` to `value` (`flags`: `BPF_ANY` 0, `BPF_NOEXIST` 1, `BPF_EXIST` 2).
    ///
    /// # Errors
    /// The Linux error (a full map, a flag the state contradicts).
    pub fn insert(&self, key: &K, value: &V, flags: u64) -> Result<(), ObjectError> {
        let t = &self.target;
        Ok(t.maps.update(
            t.index,
            bytemuck::bytes_of(key),
            bytemuck::bytes_of(value),
            flags,
        )?)
    }

    /// Removes `key`.
    ///
    /// # Errors
    /// The Linux error (`ENOENT` when absent).
    pub fn remove(&self, key: &K) -> Result<(), ObjectError> {
        let t = &self.target;
        Ok(t.maps.delete(t.index, bytemuck::bytes_of(key))?)
    }

    /// Every key, in iteration order.
    ///
    /// # Errors
    /// The map's error.
    pub fn keys(&self) -> Result<Vec<K>, ObjectError> {
        let t = &self.target;
        Ok(t.maps.keys(t.index)?.iter().map(|k| read(k)).collect())
    }

    /// Every (key, value), in iteration order.
    ///
    /// # Errors
    /// The map's error.
    pub fn entries(&self) -> Result<Vec<(K, V)>, ObjectError> {
        let mut out = Vec::new();
        for k in self.keys()? {
            if let Some(v) = self.get(&k)? {
                out.push((k, v));
            }
        }
        Ok(out)
    }
}

/// An array (`BPF_MAP_TYPE_ARRAY`) of `V`, indexed by `u32`.
pub struct Array<V> {
    target: Target,
    len: u32,
    _types: PhantomData<fn() -> V>,
}

impl<V> fmt::Debug for Array<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Array").field(&self.target).finish()
    }
}

impl<V: Pod> Array<V> {
    /// The view of map `map` of `instance`.
    ///
    /// # Errors
    /// [`ObjectError::WrongMapKind`], [`ObjectError::WrongMapSize`].
    pub fn new(instance: &Instance, map: MapId) -> Result<Self, ObjectError> {
        let (target, _, v) = Target::new(instance, map, &[map_type::ARRAY], "array")?;
        target.check("value", v, size_of::<V>())?;
        let len = instance
            .maps()
            .get(map.index())
            .map_or(0, |m| m.spec().max_entries);
        Ok(Self {
            target,
            len,
            _types: PhantomData,
        })
    }

    /// Number of elements (`max_entries`).
    #[must_use]
    pub const fn len(&self) -> u32 {
        self.len
    }

    /// Whether the array has no element.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Element `index` (`None` past the end).
    ///
    /// # Errors
    /// The map's error.
    pub fn get(&self, index: u32) -> Result<Option<V>, ObjectError> {
        let t = &self.target;
        Ok(t.maps
            .lookup(t.index, &index.to_le_bytes())?
            .map(|v| read(&v)))
    }

    /// Sets element `index`.
    ///
    /// # Errors
    /// The map's error (`index` out of range).
    pub fn set(&self, index: u32, value: &V) -> Result<(), ObjectError> {
        let t = &self.target;
        Ok(t.maps
            .update(t.index, &index.to_le_bytes(), bytemuck::bytes_of(value), 0)?)
    }
}

/// A per-CPU array (`BPF_MAP_TYPE_PERCPU_ARRAY`): one `V` per worker slot.
pub struct PerCpuArray<V> {
    target: Target,
    _types: PhantomData<fn() -> V>,
}

impl<V> fmt::Debug for PerCpuArray<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PerCpuArray").field(&self.target).finish()
    }
}

impl<V: Pod> PerCpuArray<V> {
    /// The view of map `map` of `instance`.
    ///
    /// # Errors
    /// [`ObjectError::WrongMapKind`], [`ObjectError::WrongMapSize`].
    pub fn new(instance: &Instance, map: MapId) -> Result<Self, ObjectError> {
        let (target, _, v) =
            Target::new(instance, map, &[map_type::PERCPU_ARRAY], "per-CPU array")?;
        target.check("value", v, size_of::<V>())?;
        Ok(Self {
            target,
            _types: PhantomData,
        })
    }

    /// Element `index` in every slot, slot 0 first.
    ///
    /// # Errors
    /// The map's error (`index` out of range).
    pub fn get(&self, index: u32) -> Result<Vec<V>, ObjectError> {
        let t = &self.target;
        Ok(t.maps
            .lookup(t.index, &index.to_le_bytes())?
            .map(|v| read_slots(&v))
            .unwrap_or_default())
    }
}

/// A per-CPU hash map (`BPF_MAP_TYPE_PERCPU_HASH`): one `V` per worker slot under each key.
pub struct PerCpuHashMap<K, V> {
    target: Target,
    _types: PhantomData<fn(K) -> V>,
}

impl<K, V> fmt::Debug for PerCpuHashMap<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PerCpuHashMap").field(&self.target).finish()
    }
}

impl<K: Pod, V: Pod> PerCpuHashMap<K, V> {
    /// The view of map `map` of `instance`.
    ///
    /// # Errors
    /// [`ObjectError::WrongMapKind`], [`ObjectError::WrongMapSize`].
    pub fn new(instance: &Instance, map: MapId) -> Result<Self, ObjectError> {
        let (target, k, v) =
            Target::new(instance, map, &[map_type::PERCPU_HASH], "per-CPU hash map")?;
        target.check("key", k, size_of::<K>())?;
        target.check("value", v, size_of::<V>())?;
        Ok(Self {
            target,
            _types: PhantomData,
        })
    }

    /// The values under `key` in every slot, slot 0 first; `None` when absent.
    ///
    /// # Errors
    /// The map's error.
    pub fn get(&self, key: &K) -> Result<Option<Vec<V>>, ObjectError> {
        let t = &self.target;
        Ok(t.maps
            .lookup(t.index, bytemuck::bytes_of(key))?
            .map(|v| read_slots(&v)))
    }
}

/// A ring buffer (`BPF_MAP_TYPE_RINGBUF`) reader.
#[derive(Debug)]
pub struct RingBuf {
    target: Target,
}

impl RingBuf {
    /// The reader of map `map` of `instance`.
    ///
    /// # Errors
    /// [`ObjectError::WrongMapKind`].
    pub fn new(instance: &Instance, map: MapId) -> Result<Self, ObjectError> {
        let (target, _, _) = Target::new(instance, map, &[map_type::RINGBUF], "ring buffer")?;
        Ok(Self { target })
    }

    /// Consumes every submitted record, oldest first.
    #[must_use]
    pub fn drain(&self) -> Vec<Vec<u8>> {
        self.target
            .maps
            .ringbuf(self.target.index)
            .map(apiary_vm::maps::RingBuf::drain)
            .unwrap_or_default()
    }

    /// Consumes every submitted record as a `T` (records shorter than `T` are zero-padded,
    /// longer ones cut).
    #[must_use]
    pub fn drain_as<T: Pod>(&self) -> Vec<T> {
        self.drain().iter().map(|r| read(r)).collect()
    }
}

/// A prog array (`BPF_MAP_TYPE_PROG_ARRAY`): the tail-call targets, set by program handle.
#[derive(Debug)]
pub struct ProgArray {
    instance: Instance,
    map: MapId,
}

impl ProgArray {
    /// The view of map `map` of `instance`.
    ///
    /// # Errors
    /// [`ObjectError::WrongMapKind`].
    pub fn new(instance: &Instance, map: MapId) -> Result<Self, ObjectError> {
        Target::new(instance, map, &[map_type::PROG_ARRAY], "prog array")?;
        Ok(Self {
            instance: instance.clone(),
            map,
        })
    }

    /// Puts `program` in slot `index` (see [`Instance::set_tail_call`]).
    ///
    /// # Errors
    /// As [`Instance::set_tail_call`].
    pub fn set(&self, index: u32, program: ProgramId) -> Result<(), ObjectError> {
        self.instance.set_tail_call(self.map, index, program)
    }

    /// The program in slot `index`, if any.
    #[must_use]
    pub fn get(&self, index: u32) -> Option<ProgramId> {
        let slot = self
            .instance
            .maps()
            .prog_array(self.map.index())?
            .get(index)?;
        self.instance.program_at_slot(slot as usize)
    }
}

impl Instance {
    /// The typed view of hash map `map` (see [`HashMap`]).
    ///
    /// # Errors
    /// As [`HashMap::new`].
    pub fn hash_map<K: Pod, V: Pod>(&self, map: MapId) -> Result<HashMap<K, V>, ObjectError> {
        HashMap::new(self, map)
    }

    /// The typed view of array `map` (see [`Array`]).
    ///
    /// # Errors
    /// As [`Array::new`].
    pub fn array<V: Pod>(&self, map: MapId) -> Result<Array<V>, ObjectError> {
        Array::new(self, map)
    }

    /// The typed view of per-CPU array `map` (see [`PerCpuArray`]).
    ///
    /// # Errors
    /// As [`PerCpuArray::new`].
    pub fn per_cpu_array<V: Pod>(&self, map: MapId) -> Result<PerCpuArray<V>, ObjectError> {
        PerCpuArray::new(self, map)
    }

    /// The typed view of per-CPU hash map `map` (see [`PerCpuHashMap`]).
    ///
    /// # Errors
    /// As [`PerCpuHashMap::new`].
    pub fn per_cpu_hash_map<K: Pod, V: Pod>(
        &self,
        map: MapId,
    ) -> Result<PerCpuHashMap<K, V>, ObjectError> {
        PerCpuHashMap::new(self, map)
    }

    /// The reader of ring buffer `map` (see [`RingBuf`]).
    ///
    /// # Errors
    /// As [`RingBuf::new`].
    pub fn ring_buf(&self, map: MapId) -> Result<RingBuf, ObjectError> {
        RingBuf::new(self, map)
    }

    /// The view of prog array `map` (see [`ProgArray`]).
    ///
    /// # Errors
    /// As [`ProgArray::new`].
    pub fn prog_array(&self, map: MapId) -> Result<ProgArray, ObjectError> {
        ProgArray::new(self, map)
    }
}
