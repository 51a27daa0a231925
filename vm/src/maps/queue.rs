//! `BPF_MAP_TYPE_QUEUE` (FIFO) and `BPF_MAP_TYPE_STACK` (LIFO): keyless maps used through
//! push / pop / peek. A push on a full map fails with `E2BIG` unless it passes `BPF_EXIST`,
//! which drops the oldest element to make room.

use std::collections::VecDeque;
use std::sync::Mutex;

use super::hash::lock;
use super::{update_flags, Errno, Map, MapError, MapSpec};

/// Which end pop takes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueueOrder {
    /// Queue: oldest first.
    Fifo,
    /// Stack: newest first.
    Lifo,
}

/// A queue or stack.
#[derive(Debug)]
pub struct QueueMap {
    spec: MapSpec,
    order: QueueOrder,
    items: Mutex<VecDeque<Box<[u8]>>>,
}

impl QueueMap {
    /// Creates an empty queue or stack.
    ///
    /// # Errors
    /// [`MapError::BadDefinition`] unless the key size is 0 and value size and capacity are not.
    pub fn new(spec: MapSpec, order: QueueOrder) -> Result<Self, MapError> {
        spec.require_key_size(0)?;
        spec.require_value()?;
        Ok(Self {
            spec,
            order,
            items: Mutex::new(VecDeque::new()),
        })
    }
}

impl Map for QueueMap {
    fn spec(&self) -> &MapSpec {
        &self.spec
    }

    fn lookup(&self, _key: &[u8], _slot: u32) -> Option<u64> {
        None
    }

    fn update(
        &self,
        _key: &[u8],
        value: &[u8],
        flags: u64,
        _slot: Option<u32>,
    ) -> Result<(), Errno> {
        self.push(value, flags)
    }

    fn delete(&self, _key: &[u8]) -> Result<(), Errno> {
        Err(Errno::Invalid)
    }

    fn next_key(&self, _key: Option<&[u8]>) -> Result<Vec<u8>, Errno> {
        Err(Errno::Invalid)
    }

    fn read(&self, _key: &[u8]) -> Result<Vec<u8>, Errno> {
        let mut out = vec![0; self.spec.value_size as usize];
        self.pop(&mut out, false)?;
        Ok(out)
    }

    fn push(&self, value: &[u8], flags: u64) -> Result<(), Errno> {
        if flags & !update_flags::EXIST != 0 || value.len() != self.spec.value_size as usize {
            return Err(Errno::Invalid);
        }
        let mut items = lock(&self.items);
        if items.len() >= self.spec.max_entries as usize {
            if flags != update_flags::EXIST {
                return Err(Errno::TooBig);
            }
            items.pop_front();
        }
        items.try_reserve(1).map_err(|_| Errno::NoMemory)?;
        items.push_back(value.into());
        Ok(())
    }

    fn pop(&self, out: &mut [u8], remove: bool) -> Result<(), Errno> {
        if out.len() != self.spec.value_size as usize {
            return Err(Errno::Invalid);
        }
        let mut items = lock(&self.items);
        let item = match (self.order, remove) {
            (QueueOrder::Fifo, true) => items.pop_front(),
            (QueueOrder::Lifo, true) => items.pop_back(),
            (QueueOrder::Fifo, false) => items.front().cloned(),
            (QueueOrder::Lifo, false) => items.back().cloned(),
        }
        .ok_or(Errno::NoEntry)?;
        out.copy_from_slice(&item);
        Ok(())
    }
}
