//! `BPF_MAP_TYPE_PROG_ARRAY`: slots holding program indices, used by `bpf_tail_call`. The host
//! fills them (value = the index of a program in the [`crate::ProgramSet`], a little-endian u32);
//! programs cannot read or write them.

use super::slots::Slots;
use super::{
    array_next_key, check_flags, index_key, update_flags, Errno, Map, MapError, MapKind, MapSpec,
};

const EMPTY: u32 = u32::MAX;

/// A program array.
#[derive(Debug)]
pub struct ProgArray {
    spec: MapSpec,
    /// Lazily committed: a prog array costs memory only for the slots filled.
    slots: Slots,
}

impl ProgArray {
    /// Creates an array of `max_entries` empty slots.
    ///
    /// # Errors
    /// [`MapError::BadDefinition`] unless key and value sizes are 4.
    pub fn new(spec: MapSpec) -> Result<Self, MapError> {
        spec.require_key_size(4)?;
        if spec.value_size != 4 {
            return Err(spec.bad("prog array value_size must be 4"));
        }
        Ok(Self {
            slots: Slots::new(spec.max_entries).map_err(|e| spec.oom(e))?,
            spec,
        })
    }

    /// The program in slot `index`, if any.
    #[must_use]
    pub fn get(&self, index: u32) -> Option<u32> {
        self.slots.get(index)
    }

    /// Puts program `program` in slot `index`.
    ///
    /// # Errors
    /// `E2BIG` for an index out of range, `EINVAL` for the reserved value `u32::MAX`.
    pub fn set(&self, index: u32, program: u32) -> Result<(), Errno> {
        if program == EMPTY {
            return Err(Errno::Invalid);
        }
        if self.slots.set(index, program) {
            Ok(())
        } else {
            Err(Errno::TooBig)
        }
    }

    /// Empties slot `index`.
    ///
    /// # Errors
    /// `ENOENT` when out of range or already empty.
    pub fn clear(&self, index: u32) -> Result<(), Errno> {
        match self.slots.take(index) {
            Some(Some(_)) => Ok(()),
            _ => Err(Errno::NoEntry),
        }
    }
}

impl Map for ProgArray {
    fn spec(&self) -> &MapSpec {
        &self.spec
    }

    fn lookup(&self, _key: &[u8], _slot: u32) -> Option<u64> {
        None
    }

    fn update(&self, key: &[u8], value: &[u8], flags: u64, slot: Option<u32>) -> Result<(), Errno> {
        let flags = check_flags(flags)?;
        if slot.is_some() {
            return Err(Errno::Invalid);
        }
        let index = index_key(key).ok_or(Errno::Invalid)?;
        let program = index_key(value).ok_or(Errno::Invalid)?;
        if index >= self.spec.max_entries {
            return Err(Errno::TooBig);
        }
        let present = self.get(index).is_some();
        match flags {
            update_flags::NOEXIST if present => Err(Errno::Exists),
            update_flags::EXIST if !present => Err(Errno::NoEntry),
            _ => self.set(index, program),
        }
    }

    fn delete(&self, key: &[u8]) -> Result<(), Errno> {
        self.clear(index_key(key).ok_or(Errno::Invalid)?)
    }

    fn next_key(&self, key: Option<&[u8]>) -> Result<Vec<u8>, Errno> {
        array_next_key(key, self.spec.max_entries)
    }

    fn read(&self, key: &[u8]) -> Result<Vec<u8>, Errno> {
        let index = index_key(key).ok_or(Errno::NoEntry)?;
        self.get(index)
            .map(|p| p.to_le_bytes().to_vec())
            .ok_or(Errno::NoEntry)
    }

    fn kind(&self) -> MapKind<'_> {
        MapKind::ProgArray(self)
    }
}
