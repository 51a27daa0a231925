//! Glue between the ELF loader's view of an object and the verifier's platform: map
//! definitions become `MapInfo`, section names become program types.

use apiary_verifier::ProgramType;

/// The verifier's view of an object's maps and of the maps its maps of maps hold (the
/// conversion lives in the verifier, next to `MapInfo`; `MapInfo::from(&MapDef)` for one map).
pub use apiary_verifier::platform::object::{inner_maps, map_infos};

/// A program type by its command-line name: `mem`, or a Linux type by libbpf's name for it
/// (`xdp`, `sched_cls`, `tracing`, `lsm`, ...) or by a section name libbpf's table knows
/// (`tc`, `socket`, `fentry`, `tp_btf`, ...), as [`apiary_elf::ProgramType::named`] reads it.
#[must_use]
pub fn program_type_named(name: &str) -> Option<ProgramType> {
    if name == "mem" {
        return Some(ProgramType::mem(None));
    }
    apiary_elf::ProgramType::named(name).map(ProgramType::for_linux)
}

/// Names accepted by [`program_type_named`] (besides section names).
pub const PROGRAM_TYPE_NAMES: &str = "mem, xdp, socket_filter, sched_cls, sched_act, kprobe, \
    tracepoint, raw_tracepoint, perf_event, tracing, lsm, struct_ops, cgroup_skb, cgroup_sock, \
    sock_ops, sk_skb, lwt_in, lwt_out, lwt_xmit, flow_dissector";
