//! Glue between the ELF loader's view of an object and the verifier's platform: map
//! definitions become `MapInfo`, section names become program types. This layer knows both
//! crates (the verifier does not depend on the ELF loader), so every place that verifies a
//! loaded object (the facade, the CLI, the corpus benches and tests) takes the conversion
//! from here: what makes a map read-only for programs is decided once.

use apiary_elf::maps::BPF_F_RDONLY_PROG;
use apiary_elf::{MapDef, MapKind, Object};
use apiary_verifier::{MapInfo, ProgramType};

/// A map definition as the verifier sees it: `.rodata` sections and maps with
/// `BPF_F_RDONLY_PROG` are read-only; a `.rodata` section's bytes are known (constant
/// strings may point into it).
#[must_use]
pub fn map_info(m: &MapDef) -> MapInfo {
    let rodata = matches!(m.kind, MapKind::Rodata { .. });
    MapInfo {
        map_type: m.map_type,
        key_size: m.key_size,
        value_size: m.value_size,
        max_entries: m.max_entries,
        flags: m.flags,
        readonly: rodata || m.flags & BPF_F_RDONLY_PROG != 0,
        last_nul: if rodata && m.max_entries == 1 {
            // Section bytes past the file's data are zero.
            let n = m.value_size as usize;
            if m.initial.len() < n {
                Some(m.value_size - 1)
            } else {
                m.initial[..n]
                    .iter()
                    .rposition(|&b| b == 0)
                    .map(|i| i as u32)
            }
        } else {
            None
        },
    }
}

/// Every map of an object, in the object's map order (the index an `lddw` src 5/6 carries).
#[must_use]
pub fn map_infos(object: &Object) -> Vec<MapInfo> {
    object.maps.iter().map(map_info).collect()
}

/// For every map of maps of an object (by index in its map table), the description of the maps
/// it holds: what the verifier needs to type a lookup's result (`Options::inner_maps`).
#[must_use]
pub fn inner_maps(object: &Object) -> Vec<(u32, MapInfo)> {
    object
        .maps
        .iter()
        .enumerate()
        .filter_map(|(i, m)| Some((u32::try_from(i).ok()?, map_info(m.inner.as_deref()?))))
        .collect()
}

/// A program type by its command-line name.
#[must_use]
pub fn program_type_named(name: &str) -> Option<ProgramType> {
    Some(match name {
        "mem" => ProgramType::mem(None),
        "xdp" => ProgramType::xdp(),
        "socket" | "socket_filter" => ProgramType::socket_filter(),
        "tc" | "sched_cls" | "classifier" => ProgramType::sched_cls(),
        "kprobe" => ProgramType::kprobe(),
        "tracepoint" => ProgramType::tracepoint(),
        "raw_tracepoint" => ProgramType::raw_tracepoint(),
        "perf_event" => ProgramType::perf_event(),
        _ => return None,
    })
}

/// Names accepted by [`program_type_named`].
pub const PROGRAM_TYPE_NAMES: &str =
    "mem, xdp, socket_filter, sched_cls, kprobe, tracepoint, raw_tracepoint, perf_event";
