//! `BPF_MAP_TYPE_PERCPU_ARRAY` and `BPF_MAP_TYPE_PERCPU_HASH`: one value per worker slot.
//!
//! An element holds `nr_slots` values of [`MapSpec::value_stride`] bytes each, contiguous; a
//! program sees its slot's copy (slot ids are taken modulo `nr_slots`), the host reads all of
//! them (Linux's `round_up(value_size, 8) * nr_cpus` layout).

use super::hash::{Entry, HashCore};
use super::{
    array_next_key, check_flags, index_key, update_flags, Errno, Map, MapError, MapMemory, MapSpec,
};
use crate::memory::Region;

/// Writes `value` into an element of `nr_slots` values: one slot (program update, zeroing the
/// others of a new element) or all of them (host update, with one value or every slot's value).
fn write_element(
    mem: &MapMemory,
    base: usize,
    spec: &MapSpec,
    nr_slots: u32,
    value: &[u8],
    slot: Option<u32>,
    entry: Entry,
) {
    let stride = spec.value_stride();
    let size = spec.value_size as usize;
    match slot {
        Some(s) => {
            if entry == Entry::New {
                mem.zero(base, stride * nr_slots as usize);
            }
            mem.write(base + (s % nr_slots) as usize * stride, &value[..size]);
        }
        None if value.len() == size => {
            for s in 0..nr_slots as usize {
                mem.write(base + s * stride, value);
            }
        }
        None => {
            for s in 0..nr_slots as usize {
                mem.write(base + s * stride, &value[s * stride..s * stride + size]);
            }
        }
    }
}

fn value_ok(spec: &MapSpec, nr_slots: u32, value: &[u8], slot: Option<u32>) -> bool {
    let size = spec.value_size as usize;
    value.len() == size
        || (slot.is_none() && value.len() == spec.value_stride() * nr_slots as usize)
}

/// A per-CPU array.
#[derive(Debug)]
pub struct PercpuArray {
    spec: MapSpec,
    nr_slots: u32,
    element: usize,
    mem: MapMemory,
}

impl PercpuArray {
    /// Creates the array with `nr_slots` copies of every value.
    ///
    /// # Errors
    /// [`MapError::BadDefinition`] for a key size other than 4 or zero sizes.
    pub fn new(spec: MapSpec, nr_slots: u32) -> Result<Self, MapError> {
        spec.require_key_size(4)?;
        spec.require_value()?;
        let nr_slots = nr_slots.max(1);
        let element = spec
            .value_stride()
            .checked_mul(nr_slots as usize)
            .ok_or_else(|| spec.bad("size overflows"))?;
        let total = element
            .checked_mul(spec.max_entries as usize)
            .ok_or_else(|| spec.bad("size overflows"))?;
        Ok(Self {
            mem: MapMemory::zeroed(total).map_err(|e| spec.oom(e))?,
            spec,
            nr_slots,
            element,
        })
    }

    fn base(&self, key: &[u8]) -> Option<usize> {
        let i = index_key(key)?;
        (i < self.spec.max_entries).then(|| i as usize * self.element)
    }
}

impl Map for PercpuArray {
    fn spec(&self) -> &MapSpec {
        &self.spec
    }

    fn lookup(&self, key: &[u8], slot: u32) -> Option<u64> {
        let base = self.base(key)?;
        Some(
            self.mem
                .addr(base + (slot % self.nr_slots) as usize * self.spec.value_stride()),
        )
    }

    fn update(&self, key: &[u8], value: &[u8], flags: u64, slot: Option<u32>) -> Result<(), Errno> {
        let flags = check_flags(flags)?;
        if !value_ok(&self.spec, self.nr_slots, value, slot) {
            return Err(Errno::Invalid);
        }
        let base = self.base(key).ok_or(Errno::TooBig)?;
        if flags == update_flags::NOEXIST {
            return Err(Errno::Exists);
        }
        write_element(
            &self.mem,
            base,
            &self.spec,
            self.nr_slots,
            value,
            slot,
            Entry::Existing,
        );
        Ok(())
    }

    fn delete(&self, _key: &[u8]) -> Result<(), Errno> {
        Err(Errno::Invalid)
    }

    fn next_key(&self, key: Option<&[u8]>) -> Result<Vec<u8>, Errno> {
        array_next_key(key, self.spec.max_entries)
    }

    fn read(&self, key: &[u8]) -> Result<Vec<u8>, Errno> {
        let base = self.base(key).ok_or(Errno::NoEntry)?;
        Ok(self.mem.to_vec(base, self.element))
    }

    fn regions(&self) -> Vec<Region> {
        vec![self.mem.region(true)]
    }
}

/// A per-CPU hash map.
#[derive(Debug)]
pub struct PercpuHash {
    spec: MapSpec,
    nr_slots: u32,
    element: usize,
    core: HashCore,
}

impl PercpuHash {
    /// Creates the map with `nr_slots` copies of every value.
    ///
    /// # Errors
    /// [`MapError::BadDefinition`] for zero sizes or capacity.
    pub fn new(spec: MapSpec, nr_slots: u32) -> Result<Self, MapError> {
        let nr_slots = nr_slots.max(1);
        let element = spec
            .value_stride()
            .checked_mul(nr_slots as usize)
            .ok_or_else(|| spec.bad("size overflows"))?;
        let core = HashCore::new(&spec, element, false)?;
        Ok(Self {
            spec,
            nr_slots,
            element,
            core,
        })
    }
}

impl Map for PercpuHash {
    fn spec(&self) -> &MapSpec {
        &self.spec
    }

    fn lookup(&self, key: &[u8], slot: u32) -> Option<u64> {
        let entry = self.core.find(key)?;
        let offset =
            self.core.offset(entry) + (slot % self.nr_slots) as usize * self.spec.value_stride();
        Some(self.core.slab().addr(offset))
    }

    fn update(&self, key: &[u8], value: &[u8], flags: u64, slot: Option<u32>) -> Result<(), Errno> {
        let flags = check_flags(flags)?;
        if !value_ok(&self.spec, self.nr_slots, value, slot) {
            return Err(Errno::Invalid);
        }
        self.core.upsert(key, flags, |mem, base, entry| {
            write_element(mem, base, &self.spec, self.nr_slots, value, slot, entry);
        })
    }

    fn delete(&self, key: &[u8]) -> Result<(), Errno> {
        self.core.delete(key)
    }

    fn next_key(&self, key: Option<&[u8]>) -> Result<Vec<u8>, Errno> {
        self.core.next_key(key)
    }

    fn read(&self, key: &[u8]) -> Result<Vec<u8>, Errno> {
        self.core
            .with_entry(key, |o| self.core.slab().to_vec(o, self.element))
            .ok_or(Errno::NoEntry)
    }

    fn regions(&self) -> Vec<Region> {
        vec![self.core.slab().region(true)]
    }
}
