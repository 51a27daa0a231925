//! `BPF_MAP_TYPE_ARRAY_OF_MAPS` and `BPF_MAP_TYPE_HASH_OF_MAPS`: values are inner maps, named
//! by their index in the [`super::MapTable`] (the host's "fd"; the table checks it against the
//! inner template on update). A program's `bpf_map_lookup_elem` returns the inner map's handle
//! (or 0), which it passes to other map helpers. Programs cannot update these maps.

use std::collections::HashMap as StdHashMap;
use std::sync::Mutex;

use super::hash::lock;
use super::slots::Slots;
use super::{
    array_next_key, check_flags, index_key, update_flags, Errno, Map, MapError, MapKind, MapSpec,
};

const EMPTY: u32 = u32::MAX;

fn inner_value(value: &[u8], slot: Option<u32>) -> Result<u32, Errno> {
    if slot.is_some() {
        return Err(Errno::Invalid);
    }
    match index_key(value) {
        Some(v) if v != EMPTY => Ok(v),
        _ => Err(Errno::Invalid),
    }
}

/// An array of maps.
#[derive(Debug)]
pub struct ArrayOfMaps {
    spec: MapSpec,
    /// Lazily committed: memory only for the slots filled.
    slots: Slots,
}

impl ArrayOfMaps {
    /// Creates an array of `max_entries` empty slots.
    ///
    /// # Errors
    /// [`MapError::BadDefinition`] unless key and value sizes are 4.
    pub fn new(spec: MapSpec) -> Result<Self, MapError> {
        spec.require_key_size(4)?;
        if spec.value_size != 4 {
            return Err(spec.bad("map-of-maps value_size must be 4"));
        }
        Ok(Self {
            slots: Slots::new(spec.max_entries).map_err(|e| spec.oom(e))?,
            spec,
        })
    }
}

impl Map for ArrayOfMaps {
    fn spec(&self) -> &MapSpec {
        &self.spec
    }

    fn lookup(&self, _key: &[u8], _slot: u32) -> Option<u64> {
        None
    }

    fn update(&self, key: &[u8], value: &[u8], flags: u64, slot: Option<u32>) -> Result<(), Errno> {
        let flags = check_flags(flags)?;
        let inner = inner_value(value, slot)?;
        let index = index_key(key).ok_or(Errno::Invalid)?;
        if index >= self.spec.max_entries {
            return Err(Errno::TooBig);
        }
        if flags == update_flags::NOEXIST {
            return Err(Errno::Exists);
        }
        self.slots.set(index, inner);
        Ok(())
    }

    fn delete(&self, key: &[u8]) -> Result<(), Errno> {
        let index = index_key(key).ok_or(Errno::Invalid)?;
        match self.slots.take(index) {
            None => Err(Errno::TooBig),
            Some(None) => Err(Errno::NoEntry),
            Some(Some(_)) => Ok(()),
        }
    }

    fn next_key(&self, key: Option<&[u8]>) -> Result<Vec<u8>, Errno> {
        array_next_key(key, self.spec.max_entries)
    }

    fn read(&self, key: &[u8]) -> Result<Vec<u8>, Errno> {
        self.inner_map(key)
            .map(|v| v.to_le_bytes().to_vec())
            .ok_or(Errno::NoEntry)
    }

    fn kind(&self) -> MapKind<'_> {
        MapKind::OfMaps
    }

    fn inner_map(&self, key: &[u8]) -> Option<u32> {
        self.slots.get(index_key(key)?)
    }
}

/// A hash of maps.
#[derive(Debug)]
pub struct HashOfMaps {
    spec: MapSpec,
    entries: Mutex<StdHashMap<Box<[u8]>, u32>>,
}

impl HashOfMaps {
    /// Creates an empty hash of maps.
    ///
    /// # Errors
    /// [`MapError::BadDefinition`] for a zero key size or capacity, or a value size other than 4.
    pub fn new(spec: MapSpec) -> Result<Self, MapError> {
        if spec.key_size == 0 || spec.max_entries == 0 {
            return Err(spec.bad("key_size and max_entries must not be 0"));
        }
        if spec.value_size != 4 {
            return Err(spec.bad("map-of-maps value_size must be 4"));
        }
        Ok(Self {
            spec,
            entries: Mutex::new(StdHashMap::new()),
        })
    }
}

impl Map for HashOfMaps {
    fn spec(&self) -> &MapSpec {
        &self.spec
    }

    fn lookup(&self, _key: &[u8], _slot: u32) -> Option<u64> {
        None
    }

    fn update(&self, key: &[u8], value: &[u8], flags: u64, slot: Option<u32>) -> Result<(), Errno> {
        let flags = check_flags(flags)?;
        let inner = inner_value(value, slot)?;
        let mut entries = lock(&self.entries);
        let present = entries.contains_key(key);
        match flags {
            update_flags::NOEXIST if present => return Err(Errno::Exists),
            update_flags::EXIST if !present => return Err(Errno::NoEntry),
            _ => {}
        }
        if !present && entries.len() >= self.spec.max_entries as usize {
            return Err(Errno::TooBig);
        }
        entries.try_reserve(1).map_err(|_| Errno::NoMemory)?;
        entries.insert(key.into(), inner);
        Ok(())
    }

    fn delete(&self, key: &[u8]) -> Result<(), Errno> {
        lock(&self.entries)
            .remove(key)
            .map(|_| ())
            .ok_or(Errno::NoEntry)
    }

    fn next_key(&self, key: Option<&[u8]>) -> Result<Vec<u8>, Errno> {
        let entries = lock(&self.entries);
        let mut keys: Vec<&Box<[u8]>> = entries.keys().collect();
        keys.sort();
        let next = match key {
            Some(k) if entries.contains_key(k) => keys.into_iter().find(|x| &***x > k),
            _ => keys.into_iter().next(),
        };
        next.map(|k| k.to_vec()).ok_or(Errno::NoEntry)
    }

    fn read(&self, key: &[u8]) -> Result<Vec<u8>, Errno> {
        self.inner_map(key)
            .map(|v| v.to_le_bytes().to_vec())
            .ok_or(Errno::NoEntry)
    }

    fn kind(&self) -> MapKind<'_> {
        MapKind::OfMaps
    }

    fn inner_map(&self, key: &[u8]) -> Option<u32> {
        lock(&self.entries).get(key).copied()
    }
}
