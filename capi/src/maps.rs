//! Host access to an instance's maps: lookup, update, delete, key iteration, ring buffer
//! consumption, prog-array slots. Every function here may run concurrently with runs and
//! with each other on one instance (the maps are shared, as in Linux).

use std::ffi::c_void;

use facade::{MapId, ObjectError, ProgramId};

use crate::error::{apiary_error, APIARY_ERROR_INVALID_ARGUMENT};
use crate::run::{apiary_instance, copy_out};
use crate::{arg, bytes_arg, guard, put};

/// A map's shape.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct apiary_map_info {
    /// Linux's `BPF_MAP_TYPE_*` number.
    pub map_type: u32,
    /// Key size, bytes.
    pub key_size: u32,
    /// Value size, bytes (one slot's for per-CPU maps).
    pub value_size: u32,
    /// `max_entries` (bytes of data for ring buffers).
    pub max_entries: u32,
    /// Bytes [`apiary_map_lookup`] returns: `value_size`, or for per-CPU maps every slot's
    /// value, each rounded up to 8 bytes.
    pub lookup_size: usize,
}

fn map_id(instance: &apiary_instance, map: u32) -> Result<usize, Box<apiary_error>> {
    let index = map as usize;
    if index < instance.instance.maps().len() {
        Ok(index)
    } else {
        Err(ObjectError::NoMapIndex { index }.into())
    }
}

fn map_err(source: apiary_vm::maps::MapError) -> Box<apiary_error> {
    ObjectError::MapOp { source }.into()
}

/// Whether lookups of this map type return one value per worker slot.
fn per_cpu(map_type: u32) -> bool {
    use apiary_vm::maps::map_type::{PERCPU_ARRAY, PERCPU_HASH};
    matches!(map_type, PERCPU_ARRAY | PERCPU_HASH)
}

/// Fills `out` with map `map`'s shape.
///
/// # Safety
/// `instance` NULL or live; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn apiary_map_info_get(
    instance: *const apiary_instance,
    map: u32,
    out: *mut apiary_map_info,
) -> *mut apiary_error {
    guard(|| {
        // SAFETY: the caller's contract.
        let instance = unsafe { arg(instance, "instance")? };
        let index = map_id(instance, map)?;
        let maps = instance.instance.maps();
        let m = maps.get(index).ok_or(ObjectError::NoMapIndex { index })?;
        let spec = m.spec();
        let lookup_size = if per_cpu(spec.map_type) {
            spec.value_stride() * maps.options().nr_slots as usize
        } else {
            spec.value_size as usize
        };
        let info = apiary_map_info {
            map_type: spec.map_type,
            key_size: spec.key_size,
            value_size: spec.value_size,
            max_entries: spec.max_entries,
            lookup_size,
        };
        // SAFETY: the caller's contract.
        unsafe { put(out, info, "out") }
    })
}

/// Looks `key` up (`key_len` bytes, the map's key size). Found: copies the value (see
/// `apiary_map_info.lookup_size`) to `value` (capacity `value_cap`), sets `*found` true and
/// `*value_len` (if not NULL) to its size. Absent: `*found` false, nothing copied.
///
/// # Safety
/// `instance` NULL or live; `key` NULL or `key_len` readable bytes; `value` NULL or
/// `value_cap` writable bytes; `value_len` NULL or writable; `found` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn apiary_map_lookup(
    instance: *const apiary_instance,
    map: u32,
    key: *const u8,
    key_len: usize,
    value: *mut u8,
    value_cap: usize,
    value_len: *mut usize,
    found: *mut bool,
) -> *mut apiary_error {
    guard(|| {
        // SAFETY: the caller's contract.
        let (instance, key) =
            unsafe { (arg(instance, "instance")?, bytes_arg(key, key_len, "key")?) };
        if found.is_null() {
            return Err(crate::error::null_argument("found"));
        }
        let index = map_id(instance, map)?;
        let got = instance
            .instance
            .maps()
            .lookup(index, key)
            .map_err(map_err)?;
        // SAFETY: the caller's contract.
        unsafe { found.write(got.is_some()) };
        match got {
            // SAFETY: the caller's contract.
            Some(bytes) => unsafe { copy_out(&bytes, value, value_cap, value_len) },
            None => Ok(()),
        }
    })
}

/// Updates `key` to `value` with Linux's flags (`BPF_ANY` 0, `BPF_NOEXIST` 1, `BPF_EXIST` 2,
/// `BPF_F_LOCK` 4). For per-CPU maps `value` holds every slot's value (`lookup_size` bytes).
///
/// # Safety
/// `instance` NULL or live; `key`/`value` NULL or readable for their lengths.
#[no_mangle]
pub unsafe extern "C" fn apiary_map_update(
    instance: *const apiary_instance,
    map: u32,
    key: *const u8,
    key_len: usize,
    value: *const u8,
    value_len: usize,
    flags: u64,
) -> *mut apiary_error {
    guard(|| {
        // SAFETY: the caller's contract.
        let (instance, key, value) = unsafe {
            (
                arg(instance, "instance")?,
                bytes_arg(key, key_len, "key")?,
                bytes_arg(value, value_len, "value")?,
            )
        };
        let index = map_id(instance, map)?;
        instance
            .instance
            .maps()
            .update(index, key, value, flags)
            .map_err(map_err)
    })
}

/// Deletes `key` (an error naming `ENOENT` when absent).
///
/// # Safety
/// `instance` NULL or live; `key` NULL or `key_len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn apiary_map_delete(
    instance: *const apiary_instance,
    map: u32,
    key: *const u8,
    key_len: usize,
) -> *mut apiary_error {
    guard(|| {
        // SAFETY: the caller's contract.
        let (instance, key) =
            unsafe { (arg(instance, "instance")?, bytes_arg(key, key_len, "key")?) };
        let index = map_id(instance, map)?;
        instance.instance.maps().delete(index, key).map_err(map_err)
    })
}

/// Key iteration, as `BPF_MAP_GET_NEXT_KEY`: the key after `key` (`key` NULL: the first
/// key) is copied to `next` (capacity `next_cap`, at least the key size) and `*has_next` set;
/// at the end `*has_next` is false. Keys deleted meanwhile restart the walk as in Linux.
///
/// # Safety
/// `instance` NULL or live; `key` NULL or `key_len` readable bytes; `next` NULL or
/// `next_cap` writable bytes; `has_next` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn apiary_map_next_key(
    instance: *const apiary_instance,
    map: u32,
    key: *const u8,
    key_len: usize,
    next: *mut u8,
    next_cap: usize,
    has_next: *mut bool,
) -> *mut apiary_error {
    guard(|| {
        // SAFETY: the caller's contract.
        let instance = unsafe { arg(instance, "instance")? };
        let key = if key.is_null() {
            None
        } else {
            // SAFETY: the caller's contract.
            Some(unsafe { bytes_arg(key, key_len, "key")? })
        };
        if has_next.is_null() {
            return Err(crate::error::null_argument("has_next"));
        }
        let index = map_id(instance, map)?;
        let got = instance
            .instance
            .maps()
            .next_key(index, key)
            .map_err(map_err)?;
        // SAFETY: the caller's contract.
        unsafe { has_next.write(got.is_some()) };
        match got {
            // SAFETY: the caller's contract.
            Some(k) => unsafe { copy_out(&k, next, next_cap, std::ptr::null_mut()) },
            None => Ok(()),
        }
    })
}

/// Called once per ring buffer record with its bytes (valid only during the call) and the
/// `user` pointer; return 0 to continue, non-zero to stop after this record.
pub type apiary_ringbuf_fn = Option<unsafe extern "C" fn(*const u8, usize, *mut c_void) -> i32>;

/// Consumes the ring buffer `map`'s records in order, calling `callback` for each until it
/// returns non-zero or none is left; `*consumed` (if not NULL) counts the records delivered.
/// One consumer at a time per ring buffer (concurrent calls on the same map serialise).
///
/// # Safety
/// `instance` NULL or live; `callback` must not call back into this ring buffer; `consumed`
/// NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn apiary_ringbuf_consume(
    instance: *const apiary_instance,
    map: u32,
    callback: apiary_ringbuf_fn,
    user: *mut c_void,
    consumed: *mut usize,
) -> *mut apiary_error {
    guard(|| {
        // SAFETY: the caller's contract.
        let instance = unsafe { arg(instance, "instance")? };
        let callback = callback.ok_or_else(|| crate::error::null_argument("callback"))?;
        let index = map_id(instance, map)?;
        let ring = instance.instance.maps().ringbuf(index).ok_or_else(|| {
            apiary_error::new(
                APIARY_ERROR_INVALID_ARGUMENT,
                format!("map {map} is not a ring buffer"),
            )
        })?;
        let mut count = 0usize;
        let mut stop = false;
        while !stop {
            let n = ring.consume_max(1, |record| {
                count += 1;
                // SAFETY: `record` is a live slice for the call; the callback's contract is
                // the header's.
                stop = unsafe { callback(record.as_ptr(), record.len(), user) } != 0;
            });
            if n == 0 {
                break;
            }
        }
        if !consumed.is_null() {
            // SAFETY: the caller's contract.
            unsafe { consumed.write(count) };
        }
        Ok(())
    })
}

/// Puts program `program` in slot `index` of prog array `map`: a tail call through that slot
/// runs it. In verified mode the program must have the context of the programs that
/// tail-call through the map.
///
/// # Safety
/// `instance` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn apiary_prog_array_set(
    instance: *const apiary_instance,
    map: u32,
    index: u32,
    program: u32,
) -> *mut apiary_error {
    guard(|| {
        // SAFETY: the caller's contract.
        let instance = unsafe { arg(instance, "instance")? };
        let id = crate::module::program_id(instance.instance.module(), program)?;
        Ok(instance
            .instance
            .set_tail_call(MapId(map), index, ProgramId(id.0))?)
    })
}
