//! [`Slots`]: an array of optional u32s (prog array programs, array-of-maps inner maps) in
//! zeroed map memory, so a large `max_entries` reserves address space but commits pages only
//! as slots are filled (an empty slot is a zero word, which the OS never has to materialise).

use std::sync::atomic::{AtomicU32, Ordering};

use super::memory::{AllocError, MapMemory};

/// `len` slots, each empty or holding a u32 other than `u32::MAX` (stored as value + 1).
#[derive(Debug)]
pub(crate) struct Slots {
    mem: MapMemory,
    len: u32,
}

impl Slots {
    /// `len` empty slots.
    pub(crate) fn new(len: u32) -> Result<Self, AllocError> {
        Ok(Self {
            mem: MapMemory::zeroed(len as usize * 4)?,
            len,
        })
    }

    fn cell(&self, index: u32) -> Option<&AtomicU32> {
        (index < self.len).then(|| self.mem.atomic_u32(index as usize * 4))
    }

    /// The value in slot `index`; `None` when empty or out of range.
    pub(crate) fn get(&self, index: u32) -> Option<u32> {
        self.cell(index)?.load(Ordering::Acquire).checked_sub(1)
    }

    /// Puts `value` (not `u32::MAX`, which callers refuse) in slot `index`; `false` when out of
    /// range.
    pub(crate) fn set(&self, index: u32, value: u32) -> bool {
        self.cell(index).is_some_and(|c| {
            c.store(value.wrapping_add(1), Ordering::Release);
            true
        })
    }

    /// Empties slot `index`: `None` when out of range, else what it held.
    pub(crate) fn take(&self, index: u32) -> Option<Option<u32>> {
        Some(self.cell(index)?.swap(0, Ordering::AcqRel).checked_sub(1))
    }
}
