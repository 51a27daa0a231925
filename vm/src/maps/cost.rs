//! What a map definition costs, checked against [`Limits`] before anything is allocated.
//!
//! The cost is the memory the map may come to hold: what it reserves at creation (array values,
//! the hash value slab, the ring) plus what its index grows to when full. Sizes are computed in
//! `u128`, so no definition can overflow the arithmetic.

use super::{map_type, MapError, MapOptions, MapSpec};
use crate::limits::{LimitKind, Limits};

/// Index overhead counted per hash-like entry: the size of Linux's `struct htab_elem` (apiary's
/// boxed key, shard entry and key-list slot cost about as much).
pub(crate) const HASH_ENTRY_OVERHEAD: u64 = 48;
/// Bytes counted per perf ring besides its records: its header (lock, queue, counters).
pub(crate) const PERF_RING_OVERHEAD: u64 = 64;

fn too_large(spec: &MapSpec, what: String, asked: u64, limit: u64, kind: LimitKind) -> MapError {
    MapError::TooLarge {
        name: spec.name.clone(),
        what: what.into_boxed_str(),
        asked,
        limit,
        kind,
    }
}

fn check_size(
    spec: &MapSpec,
    field: &'static str,
    asked: u32,
    limit: u32,
    kind: LimitKind,
) -> Result<(), MapError> {
    if asked > limit {
        return Err(too_large(
            spec,
            format!("{field} {asked}"),
            u64::from(asked),
            u64::from(limit),
            kind,
        ));
    }
    Ok(())
}

fn saturate(v: u128) -> u64 {
    u64::try_from(v).unwrap_or(u64::MAX)
}

/// The bytes `spec` may come to hold under `options`, with a description of the product
/// (`max_entries 4294967295 × value_size 8`), after checking the per-field limits.
///
/// # Errors
/// [`MapError::TooLarge`] when a key or value size, `max_entries` or a ring size is above its
/// limit, or the cost alone is above [`Limits::max_map_memory`].
pub(crate) fn map_cost(spec: &MapSpec, options: &MapOptions) -> Result<(u64, String), MapError> {
    let limits: &Limits = &options.limits;
    let n = u128::from(spec.max_entries);
    let value = spec.value_size;
    let stride = u128::from(value).next_multiple_of(8);
    let key8 = u128::from(spec.key_size).next_multiple_of(8);
    let slots = u128::from(options.nr_slots.max(1));
    let overhead = u128::from(HASH_ENTRY_OVERHEAD);
    let values = |what: &str| {
        if stride == u128::from(value) {
            format!("max_entries {n} × {what} {value}")
        } else {
            format!("max_entries {n} × {what} {value} (padded to {stride})")
        }
    };
    let hash_like = matches!(
        spec.map_type,
        map_type::HASH
            | map_type::LRU_HASH
            | map_type::PERCPU_HASH
            | map_type::HASH_OF_MAPS
            | map_type::LPM_TRIE
    );
    let percpu = matches!(
        spec.map_type,
        map_type::PERCPU_ARRAY | map_type::PERCPU_HASH
    );
    if hash_like && spec.map_type != map_type::LPM_TRIE {
        check_size(
            spec,
            "key_size",
            spec.key_size,
            limits.max_key_size,
            LimitKind::KeySize,
        )?;
    }
    if percpu {
        let padded = u32::try_from(stride).unwrap_or(u32::MAX);
        check_size(
            spec,
            "value_size",
            padded,
            limits.max_percpu_value_size,
            LimitKind::PercpuValueSize,
        )?;
    } else if hash_like || matches!(spec.map_type, map_type::QUEUE | map_type::STACK) {
        check_size(
            spec,
            "value_size",
            value,
            limits.max_value_size,
            LimitKind::ValueSize,
        )?;
    }
    let (bytes, what): (u128, String) = match spec.map_type {
        map_type::ARRAY => (n * stride, values("value_size")),
        map_type::PERCPU_ARRAY => (
            n * stride * slots,
            format!("{} × {slots} slots", values("value_size")),
        ),
        map_type::HASH | map_type::LRU_HASH | map_type::LPM_TRIE => (
            n * (stride + key8 + overhead),
            format!(
                "max_entries {n} × {} bytes per entry (value_size {value} + key_size {} + \
                 {overhead} bytes of index, each padded to 8)",
                stride + key8 + overhead,
                spec.key_size,
            ),
        ),
        map_type::PERCPU_HASH => (
            n * (stride * slots + key8 + overhead),
            format!(
                "max_entries {n} × {} bytes per entry (value_size {value} × {slots} slots + \
                 key_size {} + {overhead} bytes of index, each padded to 8)",
                stride * slots + key8 + overhead,
                spec.key_size,
            ),
        ),
        map_type::HASH_OF_MAPS => (
            n * (key8 + 8 + overhead),
            format!(
                "max_entries {n} × (key_size {} + {} bytes of index)",
                spec.key_size,
                8 + overhead
            ),
        ),
        map_type::PROG_ARRAY | map_type::ARRAY_OF_MAPS => {
            (n * 4, format!("max_entries {n} × 4 bytes per slot"))
        }
        map_type::QUEUE | map_type::STACK => (
            n * (u128::from(value) + 16),
            format!("max_entries {n} × (value_size {value} + 16 bytes of index)"),
        ),
        map_type::RINGBUF => {
            check_size(
                spec,
                "ring buffer size (max_entries)",
                spec.max_entries,
                limits.max_ringbuf_bytes,
                LimitKind::RingBuf,
            )?;
            (n, format!("ring buffer of {n} bytes"))
        }
        map_type::PERF_EVENT_ARRAY => {
            let rings = if n == 0 { slots } else { n };
            let ring = options.perf_ring_bytes as u128;
            let head = u128::from(PERF_RING_OVERHEAD);
            (
                rings * (ring + head),
                format!("{rings} perf rings × ({ring} bytes of records + {head} bytes of header)"),
            )
        }
        // Unknown kinds are refused by `create_map`; they reserve nothing.
        _ => (0, String::new()),
    };
    let bytes = saturate(bytes);
    if bytes > limits.max_map_memory {
        return Err(too_large(
            spec,
            format!("{what} = {bytes} bytes"),
            bytes,
            limits.max_map_memory,
            LimitKind::MapMemory,
        ));
    }
    if spec.map_type != map_type::RINGBUF && spec.max_entries > limits.max_entries {
        return Err(too_large(
            spec,
            format!("max_entries {}", spec.max_entries),
            u64::from(spec.max_entries),
            u64::from(limits.max_entries),
            LimitKind::Entries,
        ));
    }
    Ok((bytes, what))
}

/// Checks that `cost` more bytes fit the per-object budget next to `reserved` bytes of earlier
/// maps.
///
/// # Errors
/// [`MapError::TooLarge`] naming the map, its cost, the earlier maps' and the limit.
pub(crate) fn check_budget(
    spec: &MapSpec,
    options: &MapOptions,
    cost: u64,
    what: &str,
    reserved: u64,
) -> Result<(), MapError> {
    let limit = options.limits.max_map_memory;
    if reserved.saturating_add(cost) > limit {
        return Err(too_large(
            spec,
            format!("{what} = {cost} bytes, on top of {reserved} bytes of earlier maps,"),
            cost,
            limit,
            LimitKind::MapMemory,
        ));
    }
    Ok(())
}
