//! Glue between the ELF loader's view of an object and the verifier's platform: map
//! definitions become `MapInfo`, section names become program types.

use apiary_elf::{MapDef, MapKind, Object};
use apiary_verifier::{MapInfo, ProgramType};

/// Linux `BPF_F_RDONLY_PROG`: the program may only read the map.
const BPF_F_RDONLY_PROG: u32 = 1 << 7;

/// The verifier's view of a map definition.
#[must_use]
pub fn map_info(m: &MapDef) -> MapInfo {
    MapInfo {
        map_type: m.map_type,
        key_size: m.key_size,
        value_size: m.value_size,
        max_entries: m.max_entries,
        flags: m.flags,
        readonly: matches!(m.kind, MapKind::Rodata { .. }) || m.flags & BPF_F_RDONLY_PROG != 0,
    }
}

/// The verifier's view of every map of an object, in the object's map order (the index an
/// `lddw` src 5/6 carries).
#[must_use]
pub fn map_infos(object: &Object) -> Vec<MapInfo> {
    object.maps.iter().map(map_info).collect()
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

/// For every map of maps of an object (by index in its map table), the description of the maps
/// it holds: what the verifier needs to type a lookup's result.
#[must_use]
pub fn inner_maps(object: &Object) -> Vec<(u32, MapInfo)> {
    object
        .maps
        .iter()
        .enumerate()
        .filter_map(|(i, m)| Some((u32::try_from(i).ok()?, map_info(m.inner.as_deref()?))))
        .collect()
}
