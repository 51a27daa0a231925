//! Glue between the ELF loader's view of an object and the verifier's platform: map
//! definitions become `MapInfo`, sections become program types ([`choose_type`], the one way
//! `apiary verify` and `apiary run` choose them). This layer knows both
//! crates (the verifier does not depend on the ELF loader), so every place that verifies a
//! loaded object (the facade, the CLI, the corpus benches and tests) takes the conversion
//! from here: what makes a map read-only for programs is decided once.

use apiary_elf::maps::BPF_F_RDONLY_PROG;
use apiary_elf::{MapDef, MapKind, Object};
/// A Linux program type, from the catalogue ([`apiary_linux`]).
pub use apiary_linux::ProgramType as LinuxType;
use apiary_verifier::{MapInfo, ProgramType};

use crate::context::ContextKind;

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

/// A program type as a user names it (`--type`) and as both `apiary verify` and `apiary run`
/// choose it ([`choose_type`]): the plain memory type of raw programs, or a Linux type from
/// the catalogue, which gives both the verifier's type ([`TypeChoice::verifier_type`]) and
/// the context a run builds ([`TypeChoice::context`]), so the two always agree.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TypeChoice {
    /// r1 = the input memory, r2 = its length.
    Mem,
    /// A Linux program type.
    Linux(LinuxType),
}

impl TypeChoice {
    /// The type named `name`: `mem`, a Linux type by libbpf's name for it (`xdp`, `sched_cls`,
    /// `tracing`, `lsm`, ...) or a section name libbpf's table knows (`tc`, `socket`, `fentry`,
    /// `tp_btf`, ...), as [`apiary_linux::ProgramType::named`] reads it.
    #[must_use]
    pub fn named(name: &str) -> Option<Self> {
        if name == "mem" {
            return Some(TypeChoice::Mem);
        }
        LinuxType::named(name).map(TypeChoice::Linux)
    }

    /// The verifier's view of the type: its context layout, privilege and helper rules (the
    /// catalogue's).
    #[must_use]
    pub const fn verifier_type(self) -> ProgramType {
        match self {
            TypeChoice::Mem => ProgramType::mem(None),
            TypeChoice::Linux(t) => ProgramType::linux(t),
        }
    }

    /// The context a run of the type builds.
    #[must_use]
    pub const fn context(self) -> ContextKind {
        match self {
            TypeChoice::Mem => ContextKind::Mem,
            TypeChoice::Linux(t) => ContextKind::for_linux(t),
        }
    }

    /// The type's name (`mem`, or libbpf's name of the Linux type).
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            TypeChoice::Mem => "mem",
            TypeChoice::Linux(t) => t.name(),
        }
    }
}

/// The type of the program in section `section` of the object file `path`, the one way
/// `apiary verify` and `apiary run` choose it: the type the user forced (`--type`), else the
/// type libbpf's section table gives the section ([`apiary_linux::SECTION_DEFS`]).
///
/// A section libbpf's table does not know (iproute2 and Cilium sections such as
/// `from-netdev` or `2/1`, whose type their loader is told) is `unspec`, the `__sk_buff`
/// context of tc programs as iproute2's `tc` and PREVAIL load such sections; except that in an
/// object whose file name mentions `xdp` it is XDP. That last rule is PREVAIL's, by which the
/// ebpf-samples labels were made (Cilium's `bpf_xdp*.o`: `from-netdev` and its tail-call
/// sections); it never overrides a section libbpf knows or a `--type`.
#[must_use]
pub fn choose_type(path: &str, section: &str, forced: Option<TypeChoice>) -> TypeChoice {
    if let Some(t) = forced {
        return t;
    }
    let t = LinuxType::from_section(section);
    let file = path.rsplit('/').next().unwrap_or(path);
    if t == LinuxType::Unspecified && file.contains("xdp") {
        TypeChoice::Linux(LinuxType::Xdp)
    } else {
        TypeChoice::Linux(t)
    }
}

/// Names accepted by [`TypeChoice::named`] (besides section names), for messages.
pub const PROGRAM_TYPE_NAMES: &str = "mem, or a Linux program type (xdp, socket_filter, \
    sched_cls, sched_act, kprobe, tracepoint, raw_tracepoint, perf_event, tracing, lsm, \
    struct_ops, cgroup_skb, cgroup_sock, sock_ops, sk_skb, sk_msg, lwt_in, lwt_out, lwt_xmit, \
    flow_dissector, ...) or a section name libbpf knows (tc, socket, fentry, tp_btf, ...)";

/// The context and the verifier's type of a program whose section gives Linux type `section`,
/// under an object's options: a forced type gives both; else a forced context runs under the
/// type it implies ([`ContextKind::verifier_type`]); else the section's type gives both.
#[must_use]
pub fn program_setting(
    section: LinuxType,
    forced_type: Option<TypeChoice>,
    forced_context: Option<ContextKind>,
) -> (ContextKind, ProgramType) {
    match (forced_type, forced_context) {
        (Some(t), _) => (t.context(), t.verifier_type()),
        (None, Some(c)) => (c, c.verifier_type(section)),
        (None, None) => {
            let t = TypeChoice::Linux(section);
            (t.context(), t.verifier_type())
        }
    }
}
