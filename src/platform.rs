//! Glue between the ELF loader's view of an object and the verifier's platform: map
//! definitions become `MapInfo`, section names become program types. This layer knows both
//! crates (the verifier does not depend on the ELF loader), so every place that verifies a
//! loaded object (the facade, the CLI, the corpus benches and tests) takes the conversion
//! from here: what makes a map read-only for programs is decided once.

use apiary_elf::maps::BPF_F_RDONLY_PROG;
use apiary_elf::ProgramType as LinuxType;
use apiary_elf::{MapDef, MapKind, Object};
use apiary_verifier::platform::types::{BPF_SOCK, SK_BUFF, SOCK_OPS, TRACING_ARGS};
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

/// The verifier's view of a Linux program type (as the ELF loader's section table,
/// [`apiary_elf::program_type::SECTION_DEFS`], gives it): its context layout, privilege
/// and helper rules. A section libbpf does not know is `unspec`: the `__sk_buff` context
/// of tc programs, as iproute2's `tc` and PREVAIL load such sections.
#[must_use]
pub const fn type_for_linux(t: LinuxType) -> ProgramType {
    match t {
        LinuxType::Unspecified => ProgramType::with_ctx("unspec", SK_BUFF, false, true),
        LinuxType::SocketFilter => ProgramType::socket_filter(),
        LinuxType::SchedCls | LinuxType::SchedAct => ProgramType::sched_cls(),
        LinuxType::Xdp => ProgramType::xdp(),
        LinuxType::Kprobe => ProgramType::kprobe(),
        LinuxType::Tracepoint => ProgramType::tracepoint(),
        LinuxType::RawTracepoint | LinuxType::RawTracepointWritable => {
            ProgramType::raw_tracepoint()
        }
        LinuxType::PerfEvent => ProgramType::perf_event(),
        LinuxType::CgroupSkb => ProgramType::with_ctx("cgroup_skb", SK_BUFF, false, true),
        LinuxType::SockOps => ProgramType::with_ctx("sock_ops", SOCK_OPS, false, false),
        LinuxType::CgroupSock => ProgramType::with_ctx("cgroup_sock", BPF_SOCK, false, false),
        LinuxType::SkSkb => ProgramType::with_ctx("sk_skb", SK_BUFF, false, false),
        LinuxType::LwtIn => ProgramType::with_ctx("lwt_in", SK_BUFF, false, false),
        LinuxType::LwtOut => ProgramType::with_ctx("lwt_out", SK_BUFF, false, false),
        LinuxType::LwtXmit => ProgramType::with_ctx("lwt_xmit", SK_BUFF, false, false),
        LinuxType::LwtSeg6local => ProgramType::with_ctx("lwt_seg6local", SK_BUFF, false, false),
        LinuxType::FlowDissector => ProgramType::with_ctx("flow_dissector", SK_BUFF, false, false),
        LinuxType::Tracing => ProgramType::with_ctx("tracing", TRACING_ARGS, true, false),
        LinuxType::Lsm => ProgramType::with_ctx("lsm", TRACING_ARGS, true, false),
        LinuxType::StructOps => ProgramType::with_ctx("struct_ops", TRACING_ARGS, true, false),
        LinuxType::Ext => ProgramType::with_ctx("ext", TRACING_ARGS, true, false),
        LinuxType::SkMsg => ProgramType::without_context("sk_msg"),
        LinuxType::CgroupDevice => ProgramType::without_context("cgroup_device"),
        LinuxType::CgroupSockAddr => ProgramType::without_context("cgroup_sock_addr"),
        LinuxType::LircMode2 => ProgramType::without_context("lirc_mode2"),
        LinuxType::SkReuseport => ProgramType::without_context("sk_reuseport"),
        LinuxType::CgroupSysctl => ProgramType::without_context("cgroup_sysctl"),
        LinuxType::CgroupSockopt => ProgramType::without_context("cgroup_sockopt"),
        LinuxType::SkLookup => ProgramType::without_context("sk_lookup"),
        LinuxType::Syscall => ProgramType::without_context("syscall"),
        LinuxType::Netfilter => ProgramType::without_context("netfilter"),
    }
}

/// The type of a program in section `section` of object file `path`: as
/// [`type_for_section`], except that a section libbpf's table does not know, in an
/// object whose name mentions `xdp`, is an XDP program. This is PREVAIL's rule, by which
/// the ebpf-samples labels were made (Cilium's `bpf_xdp*.o`: `from-netdev` and its
/// tail-call sections); a known section name always wins over it.
#[must_use]
pub fn type_for_object(path: &str, section: &str) -> ProgramType {
    let t = type_for_section(section);
    let file = path.rsplit('/').next().unwrap_or(path);
    if t.name == "unspec" && file.contains("xdp") {
        ProgramType::xdp()
    } else {
        t
    }
}

/// The type a Linux ELF section name implies: [`type_for_linux`] of the ELF
/// loader's section table entry.
#[must_use]
pub fn type_for_section(section: &str) -> ProgramType {
    type_for_linux(LinuxType::from_section(section))
}

/// A program type by its command-line name: `mem`, or a Linux type by libbpf's name for it
/// (`xdp`, `sched_cls`, `tracing`, `lsm`, ...) or by a section name libbpf's table knows
/// (`tc`, `socket`, `fentry`, `tp_btf`, ...), as [`apiary_elf::ProgramType::named`] reads it.
#[must_use]
pub fn program_type_named(name: &str) -> Option<ProgramType> {
    if name == "mem" {
        return Some(ProgramType::mem(None));
    }
    apiary_elf::ProgramType::named(name).map(type_for_linux)
}

/// Names accepted by [`program_type_named`] (besides section names).
pub const PROGRAM_TYPE_NAMES: &str = "mem, xdp, socket_filter, sched_cls, sched_act, kprobe, \
    tracepoint, raw_tracepoint, perf_event, tracing, lsm, struct_ops, cgroup_skb, cgroup_sock, \
    sock_ops, sk_skb, lwt_in, lwt_out, lwt_xmit, flow_dissector";
