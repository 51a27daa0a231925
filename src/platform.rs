//! Glue between the ELF loader's view of an object and the verifier's platform: map
//! definitions become `MapInfo`, section names become program types.

use apiary_verifier::ProgramType;

/// The verifier's view of an object's maps and of the maps its maps of maps hold (the
/// conversion lives in the verifier, next to `MapInfo`; `MapInfo::from(&MapDef)` for one map).
pub use apiary_verifier::platform::object::{inner_maps, map_infos};

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
