//! `BPF_MAP_TYPE_ARRAY`: preallocated, zeroed values indexed by a u32 key; also backs global
//! data (`.data`, `.rodata`, `.bss`).

use super::{
    array_next_key, check_flags, index_key, update_flags, Errno, Map, MapError, MapMemory, MapSpec,
};
use crate::memory::Region;

/// An array map. Element `i`'s value lives at `i * value_stride` in one block.
#[derive(Debug)]
pub struct ArrayMap {
    spec: MapSpec,
    stride: usize,
    mem: MapMemory,
}

impl ArrayMap {
    /// Creates the array; element 0 starts with `spec.initial`.
    ///
    /// # Errors
    /// [`MapError::BadDefinition`] for a key size other than 4, a zero value size or capacity,
    /// or initial data longer than the value.
    pub fn new(spec: MapSpec) -> Result<Self, MapError> {
        spec.require_key_size(4)?;
        spec.require_value()?;
        if spec.initial.len() > spec.value_size as usize {
            return Err(spec.bad("initial data is longer than value_size"));
        }
        let stride = spec.value_stride();
        let total = stride
            .checked_mul(spec.max_entries as usize)
            .ok_or_else(|| spec.bad("size overflows"))?;
        let mem = MapMemory::zeroed(total).map_err(|e| spec.oom(e))?;
        mem.write(0, &spec.initial);
        Ok(Self { spec, stride, mem })
    }

    fn offset(&self, key: &[u8]) -> Option<usize> {
        let i = index_key(key)?;
        (i < self.spec.max_entries).then(|| i as usize * self.stride)
    }

    /// The memory block (for tests and hosts reading global data in place).
    #[must_use]
    pub fn memory(&self) -> &MapMemory {
        &self.mem
    }
}

impl Map for ArrayMap {
    fn spec(&self) -> &MapSpec {
        &self.spec
    }

    fn lookup(&self, key: &[u8], _slot: u32) -> Option<u64> {
        self.offset(key).map(|o| self.mem.addr(o))
    }

    fn update(&self, key: &[u8], value: &[u8], flags: u64, slot: Option<u32>) -> Result<(), Errno> {
        let flags = check_flags(flags)?;
        if value.len() != self.spec.value_size as usize
            || (slot.is_some() && self.spec.program_read_only())
        {
            return Err(Errno::Invalid);
        }
        let offset = self.offset(key).ok_or(Errno::TooBig)?;
        if flags == update_flags::NOEXIST {
            return Err(Errno::Exists);
        }
        self.mem.write(offset, value);
        Ok(())
    }

    fn delete(&self, _key: &[u8]) -> Result<(), Errno> {
        Err(Errno::Invalid)
    }

    fn next_key(&self, key: Option<&[u8]>) -> Result<Vec<u8>, Errno> {
        array_next_key(key, self.spec.max_entries)
    }

    fn read(&self, key: &[u8]) -> Result<Vec<u8>, Errno> {
        let offset = self.offset(key).ok_or(Errno::NoEntry)?;
        Ok(self.mem.to_vec(offset, self.spec.value_size as usize))
    }

    fn regions(&self) -> Vec<Region> {
        vec![self.mem.region(!self.spec.program_read_only())]
    }

    fn value_addr(&self, index: u32) -> Option<u64> {
        (index < self.spec.max_entries).then(|| self.mem.addr(index as usize * self.stride))
    }
}
