//! Program types (Linux `enum bpf_prog_type`) and libbpf's section table ([`SECTION_DEFS`]),
//! with the prefix rules of libbpf 0.x for the names older objects use. The type decides the
//! context layout and helper set a verifier applies, so a name the table does not know stays
//! [`ProgramType::Unspecified`] rather than being guessed (never from a file name).

/// A program type (Linux `enum bpf_prog_type`; the discriminant is the Linux id).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum ProgramType {
    Unspecified = 0,
    SocketFilter = 1,
    Kprobe = 2,
    SchedCls = 3,
    SchedAct = 4,
    Tracepoint = 5,
    Xdp = 6,
    PerfEvent = 7,
    CgroupSkb = 8,
    CgroupSock = 9,
    LwtIn = 10,
    LwtOut = 11,
    LwtXmit = 12,
    SockOps = 13,
    SkSkb = 14,
    CgroupDevice = 15,
    SkMsg = 16,
    RawTracepoint = 17,
    CgroupSockAddr = 18,
    LwtSeg6local = 19,
    LircMode2 = 20,
    SkReuseport = 21,
    FlowDissector = 22,
    CgroupSysctl = 23,
    RawTracepointWritable = 24,
    CgroupSockopt = 25,
    Tracing = 26,
    StructOps = 27,
    Ext = 28,
    Lsm = 29,
    SkLookup = 30,
    Syscall = 31,
    Netfilter = 32,
}

/// How a [`SectionDef`] pattern matches a section name (libbpf's `sec_def_matches`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Match {
    /// The name equals the pattern (`SEC("syscall")`).
    Exact,
    /// The name equals the pattern or continues with `/` (libbpf's `"kprobe+"`:
    /// `SEC("kprobe")`, `SEC("kprobe/do_sys_open")`, but not `SEC("kprobe_x")`).
    Plus,
    /// The name continues the pattern, which ends with `/` (`"tc/"`-style definitions).
    Slash,
}

/// One row of libbpf's section table (`section_defs[]` in `libbpf.c`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SectionDef {
    /// The pattern, without libbpf's trailing `+`.
    pub pattern: &'static str,
    /// How the pattern matches.
    pub matching: Match,
    /// The program type.
    pub program_type: ProgramType,
    /// Whether the program may sleep (`.s` variants, `syscall`).
    pub sleepable: bool,
    /// libbpf before 1.0 (`SEC_SLOPPY_PFX`) also took any name starting with the pattern
    /// (`xdp_prog/0`, `socket1`, `tc_mark`, `cgroup/sock1`): objects built for `bpf_load.c`,
    /// iproute2 and old libbpf use such names, so they are matched when nothing matches
    /// exactly.
    pub sloppy: bool,
}

const fn def(pattern: &'static str, matching: Match, t: ProgramType) -> SectionDef {
    SectionDef {
        pattern,
        matching,
        program_type: t,
        sleepable: false,
        sloppy: false,
    }
}

const fn sleepable(d: SectionDef) -> SectionDef {
    SectionDef {
        sleepable: true,
        ..d
    }
}

const fn sloppy(d: SectionDef) -> SectionDef {
    SectionDef { sloppy: true, ..d }
}

use Match::{Exact as E, Plus as P};
use ProgramType as T;

/// libbpf's `section_defs[]` (libbpf 1.x, in its order: the first match wins), with the
/// `SEC_SLOPPY_PFX` marks of libbpf 0.x. This is the one table apiary chooses program types
/// from; the verifier and the context layer read the type it gives.
pub const SECTION_DEFS: &[SectionDef] = &[
    sloppy(def("socket", E, T::SocketFilter)),
    sloppy(def("sk_reuseport/migrate", E, T::SkReuseport)),
    sloppy(def("sk_reuseport", E, T::SkReuseport)),
    def("kprobe", P, T::Kprobe),
    def("uprobe", P, T::Kprobe),
    sleepable(def("uprobe.s", P, T::Kprobe)),
    def("kretprobe", P, T::Kprobe),
    def("uretprobe", P, T::Kprobe),
    sleepable(def("uretprobe.s", P, T::Kprobe)),
    def("kprobe.multi", P, T::Kprobe),
    def("kretprobe.multi", P, T::Kprobe),
    def("kprobe.session", P, T::Kprobe),
    def("uprobe.multi", P, T::Kprobe),
    def("uretprobe.multi", P, T::Kprobe),
    sleepable(def("uprobe.multi.s", P, T::Kprobe)),
    sleepable(def("uretprobe.multi.s", P, T::Kprobe)),
    def("ksyscall", P, T::Kprobe),
    def("kretsyscall", P, T::Kprobe),
    def("usdt", P, T::Kprobe),
    sleepable(def("usdt.s", P, T::Kprobe)),
    def("tc/ingress", E, T::SchedCls),
    def("tc/egress", E, T::SchedCls),
    def("tcx/ingress", E, T::SchedCls),
    def("tcx/egress", E, T::SchedCls),
    def("netkit/primary", E, T::SchedCls),
    def("netkit/peer", E, T::SchedCls),
    sloppy(def("tc", E, T::SchedCls)),
    sloppy(def("classifier", E, T::SchedCls)),
    sloppy(def("action", E, T::SchedAct)),
    def("tracepoint", P, T::Tracepoint),
    def("tp", P, T::Tracepoint),
    def("raw_tracepoint", P, T::RawTracepoint),
    def("raw_tp", P, T::RawTracepoint),
    def("raw_tracepoint.w", P, T::RawTracepointWritable),
    def("raw_tp.w", P, T::RawTracepointWritable),
    def("tp_btf", P, T::Tracing),
    def("fentry", P, T::Tracing),
    def("fmod_ret", P, T::Tracing),
    def("fexit", P, T::Tracing),
    sleepable(def("fentry.s", P, T::Tracing)),
    sleepable(def("fmod_ret.s", P, T::Tracing)),
    sleepable(def("fexit.s", P, T::Tracing)),
    def("freplace", P, T::Ext),
    def("lsm", P, T::Lsm),
    sleepable(def("lsm.s", P, T::Lsm)),
    def("lsm_cgroup", P, T::Lsm),
    def("iter", P, T::Tracing),
    sleepable(def("iter.s", P, T::Tracing)),
    sleepable(def("syscall", E, T::Syscall)),
    def("xdp.frags/devmap", E, T::Xdp),
    def("xdp/devmap", E, T::Xdp),
    def("xdp.frags/cpumap", E, T::Xdp),
    def("xdp/cpumap", E, T::Xdp),
    def("xdp.frags", E, T::Xdp),
    sloppy(def("xdp", E, T::Xdp)),
    sloppy(def("perf_event", E, T::PerfEvent)),
    sloppy(def("lwt_in", E, T::LwtIn)),
    sloppy(def("lwt_out", E, T::LwtOut)),
    sloppy(def("lwt_xmit", E, T::LwtXmit)),
    sloppy(def("lwt_seg6local", E, T::LwtSeg6local)),
    sloppy(def("sockops", E, T::SockOps)),
    sloppy(def("sk_skb/stream_parser", E, T::SkSkb)),
    sloppy(def("sk_skb/stream_verdict", E, T::SkSkb)),
    def("sk_skb/verdict", E, T::SkSkb),
    sloppy(def("sk_skb", E, T::SkSkb)),
    sloppy(def("sk_msg", E, T::SkMsg)),
    sloppy(def("lirc_mode2", E, T::LircMode2)),
    sloppy(def("flow_dissector", E, T::FlowDissector)),
    sloppy(def("cgroup_skb/ingress", E, T::CgroupSkb)),
    sloppy(def("cgroup_skb/egress", E, T::CgroupSkb)),
    sloppy(def("cgroup/skb", E, T::CgroupSkb)),
    def("cgroup/sock_create", E, T::CgroupSock),
    def("cgroup/sock_release", E, T::CgroupSock),
    sloppy(def("cgroup/sock", E, T::CgroupSock)),
    def("cgroup/post_bind4", E, T::CgroupSock),
    def("cgroup/post_bind6", E, T::CgroupSock),
    def("cgroup/bind4", E, T::CgroupSockAddr),
    def("cgroup/bind6", E, T::CgroupSockAddr),
    def("cgroup/connect4", E, T::CgroupSockAddr),
    def("cgroup/connect6", E, T::CgroupSockAddr),
    def("cgroup/connect_unix", E, T::CgroupSockAddr),
    def("cgroup/sendmsg4", E, T::CgroupSockAddr),
    def("cgroup/sendmsg6", E, T::CgroupSockAddr),
    def("cgroup/sendmsg_unix", E, T::CgroupSockAddr),
    def("cgroup/recvmsg4", E, T::CgroupSockAddr),
    def("cgroup/recvmsg6", E, T::CgroupSockAddr),
    def("cgroup/recvmsg_unix", E, T::CgroupSockAddr),
    def("cgroup/getpeername4", E, T::CgroupSockAddr),
    def("cgroup/getpeername6", E, T::CgroupSockAddr),
    def("cgroup/getpeername_unix", E, T::CgroupSockAddr),
    def("cgroup/getsockname4", E, T::CgroupSockAddr),
    def("cgroup/getsockname6", E, T::CgroupSockAddr),
    def("cgroup/getsockname_unix", E, T::CgroupSockAddr),
    def("cgroup/sysctl", E, T::CgroupSysctl),
    def("cgroup/getsockopt", E, T::CgroupSockopt),
    def("cgroup/setsockopt", E, T::CgroupSockopt),
    sloppy(def("cgroup/dev", E, T::CgroupDevice)),
    def("struct_ops", P, T::StructOps),
    sleepable(def("struct_ops.s", P, T::StructOps)),
    sloppy(def("sk_lookup", E, T::SkLookup)),
    def("netfilter", E, T::Netfilter),
];

impl SectionDef {
    /// Whether `name` matches this definition exactly as libbpf 1.x matches.
    #[must_use]
    pub fn matches(&self, name: &str) -> bool {
        match self.matching {
            Match::Exact => name == self.pattern,
            Match::Plus => name
                .strip_prefix(self.pattern)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/')),
            Match::Slash => name.starts_with(self.pattern),
        }
    }

    /// The definition libbpf picks for section `name`: the first exact match in table order,
    /// else the first `SEC_SLOPPY_PFX` prefix match (libbpf 0.x), else `None`.
    #[must_use]
    pub fn find(name: &str) -> Option<&'static SectionDef> {
        SECTION_DEFS.iter().find(|d| d.matches(name)).or_else(|| {
            SECTION_DEFS
                .iter()
                .find(|d| d.sloppy && name.starts_with(d.pattern))
        })
    }
}

impl ProgramType {
    /// The type a section name implies ([`SectionDef::find`]); [`ProgramType::Unspecified`]
    /// when libbpf's table has no match (iproute2 and Cilium sections such as `from-netdev`
    /// or `2/1`, whose type their loader is told).
    #[must_use]
    pub fn from_section(name: &str) -> Self {
        SectionDef::find(name).map_or(ProgramType::Unspecified, |d| d.program_type)
    }

    /// libbpf's name of the type (`libbpf_bpf_prog_type_str`): `xdp`, `sched_cls`, `kprobe`,
    /// `tracing`, ...
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            ProgramType::Unspecified => "unspec",
            ProgramType::SocketFilter => "socket_filter",
            ProgramType::Kprobe => "kprobe",
            ProgramType::SchedCls => "sched_cls",
            ProgramType::SchedAct => "sched_act",
            ProgramType::Tracepoint => "tracepoint",
            ProgramType::Xdp => "xdp",
            ProgramType::PerfEvent => "perf_event",
            ProgramType::CgroupSkb => "cgroup_skb",
            ProgramType::CgroupSock => "cgroup_sock",
            ProgramType::LwtIn => "lwt_in",
            ProgramType::LwtOut => "lwt_out",
            ProgramType::LwtXmit => "lwt_xmit",
            ProgramType::SockOps => "sock_ops",
            ProgramType::SkSkb => "sk_skb",
            ProgramType::CgroupDevice => "cgroup_device",
            ProgramType::SkMsg => "sk_msg",
            ProgramType::RawTracepoint => "raw_tracepoint",
            ProgramType::CgroupSockAddr => "cgroup_sock_addr",
            ProgramType::LwtSeg6local => "lwt_seg6local",
            ProgramType::LircMode2 => "lirc_mode2",
            ProgramType::SkReuseport => "sk_reuseport",
            ProgramType::FlowDissector => "flow_dissector",
            ProgramType::CgroupSysctl => "cgroup_sysctl",
            ProgramType::RawTracepointWritable => "raw_tracepoint_writable",
            ProgramType::CgroupSockopt => "cgroup_sockopt",
            ProgramType::Tracing => "tracing",
            ProgramType::StructOps => "struct_ops",
            ProgramType::Ext => "ext",
            ProgramType::Lsm => "lsm",
            ProgramType::SkLookup => "sk_lookup",
            ProgramType::Syscall => "syscall",
            ProgramType::Netfilter => "netfilter",
        }
    }

    /// Every type, in Linux id order.
    pub const ALL: [ProgramType; 33] = [
        ProgramType::Unspecified,
        ProgramType::SocketFilter,
        ProgramType::Kprobe,
        ProgramType::SchedCls,
        ProgramType::SchedAct,
        ProgramType::Tracepoint,
        ProgramType::Xdp,
        ProgramType::PerfEvent,
        ProgramType::CgroupSkb,
        ProgramType::CgroupSock,
        ProgramType::LwtIn,
        ProgramType::LwtOut,
        ProgramType::LwtXmit,
        ProgramType::SockOps,
        ProgramType::SkSkb,
        ProgramType::CgroupDevice,
        ProgramType::SkMsg,
        ProgramType::RawTracepoint,
        ProgramType::CgroupSockAddr,
        ProgramType::LwtSeg6local,
        ProgramType::LircMode2,
        ProgramType::SkReuseport,
        ProgramType::FlowDissector,
        ProgramType::CgroupSysctl,
        ProgramType::RawTracepointWritable,
        ProgramType::CgroupSockopt,
        ProgramType::Tracing,
        ProgramType::StructOps,
        ProgramType::Ext,
        ProgramType::Lsm,
        ProgramType::SkLookup,
        ProgramType::Syscall,
        ProgramType::Netfilter,
    ];

    /// The type named `name`: libbpf's type name ([`ProgramType::name`]) or a section name
    /// libbpf's table knows (`tc`, `socket`, `tp_btf`, `fentry/f`).
    #[must_use]
    pub fn named(name: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|t| t.name() == name && *t != ProgramType::Unspecified)
            .or_else(|| SectionDef::find(name).map(|d| d.program_type))
    }

    /// The type with Linux `enum bpf_prog_type` value `id`.
    #[must_use]
    pub fn from_id(id: u32) -> Option<Self> {
        Self::ALL.get(usize::try_from(id).ok()?).copied()
    }

    /// The type whose libbpf name ([`ProgramType::name`]) is `name` (no section names).
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|t| t.name() == name)
    }

    /// The Linux `enum bpf_prog_type` value.
    #[must_use]
    pub const fn linux_id(self) -> u32 {
        self as u32
    }
}

/// A set of program types (one bit per Linux type id): which types may call a helper.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct TypeSet(u64);

impl TypeSet {
    /// No type.
    pub const EMPTY: Self = Self(0);
    /// Every type.
    pub const ALL: Self = Self::of(&ProgramType::ALL);

    /// The set of `types`.
    #[must_use]
    pub const fn of(types: &[ProgramType]) -> Self {
        let mut bits = 0u64;
        let mut i = 0;
        while i < types.len() {
            bits |= 1 << types[i].linux_id();
            i += 1;
        }
        Self(bits)
    }

    /// Both sets together.
    #[must_use]
    pub const fn or(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// Whether `t` is in the set.
    #[must_use]
    pub const fn contains(self, t: ProgramType) -> bool {
        self.0 & (1 << t.linux_id()) != 0
    }

    /// The types in the set, in id order.
    pub fn iter(self) -> impl Iterator<Item = ProgramType> {
        ProgramType::ALL
            .into_iter()
            .filter(move |t| self.contains(*t))
    }
}

#[cfg(test)]
mod tests {
    use super::ProgramType as T;

    #[test]
    fn corpus_section_names() {
        for (name, ty) in [
            ("xdp", T::Xdp),
            ("xdp_prog/0", T::Xdp),
            ("socket1", T::SocketFilter),
            ("socket_filter", T::SocketFilter),
            ("kprobe/sys_write", T::Kprobe),
            ("kretprobe/kmem_cache_alloc_node", T::Kprobe),
            ("tracepoint/xdp/xdp_redirect", T::Tracepoint),
            ("tp/syscalls/sys_enter_open", T::Tracepoint),
            ("raw_tracepoint/task_rename", T::RawTracepoint),
            ("classifier", T::SchedCls),
            ("tc_mark", T::SchedCls),
            ("tc", T::SchedCls),
            ("tcx/ingress", T::SchedCls),
            ("tp_btf/sched_switch", T::Tracing),
            ("fentry/do_unlinkat", T::Tracing),
            ("fexit/do_unlinkat", T::Tracing),
            ("iter/task", T::Tracing),
            ("lsm/bprm_committed_creds", T::Lsm),
            ("struct_ops/dctcp_init", T::StructOps),
            ("raw_tp/block_rq_insert", T::RawTracepoint),
            ("ksyscall/tgkill", T::Kprobe),
            ("usdt/libc.so.6:libc:setjmp", T::Kprobe),
            ("usdt", T::Kprobe),
            ("uprobe//proc/self/exe:uprobed_sub", T::Kprobe),
            ("uretprobe.s/x", T::Kprobe),
            ("sk_msg", T::SkMsg),
            ("sk_skb/stream_verdict", T::SkSkb),
            ("cgroup/sock_create", T::CgroupSock),
            ("xdp.frags", T::Xdp),
            ("flow_dissector", T::FlowDissector),
            ("sk_lookup", T::SkLookup),
            ("netfilter", T::Netfilter),
            ("syscall", T::Syscall),
            // `+` definitions need the exact name or a `/`; these are not libbpf sections.
            ("kprobe_x", T::Unspecified),
            ("tp_x", T::Unspecified),
            ("syscall/x", T::Unspecified),
            ("filter", T::Unspecified),
            ("cgroup/skb", T::CgroupSkb),
            ("cgroup/sock1", T::CgroupSock),
            ("cgroup/connect4", T::CgroupSockAddr),
            ("sockops", T::SockOps),
            ("perf_event", T::PerfEvent),
            ("lwt_xmit", T::LwtXmit),
            ("2/1", T::Unspecified),
            ("from-netdev", T::Unspecified),
            (".text", T::Unspecified),
        ] {
            assert_eq!(T::from_section(name), ty, "{name}");
        }
        assert_eq!(T::Xdp.linux_id(), 6);
        for (i, t) in T::ALL.iter().enumerate() {
            assert_eq!(t.linux_id() as usize, i, "{t:?}");
            if *t != T::Unspecified {
                assert_eq!(T::named(t.name()), Some(*t));
            }
        }
        assert_eq!(T::named("tc"), Some(T::SchedCls));
        assert_eq!(T::from_id(6), Some(T::Xdp));
        assert_eq!(T::from_id(33), None);
        assert_eq!(T::from_name("sched_cls"), Some(T::SchedCls));
        assert_eq!(T::from_name("tc"), None);
        let set = super::TypeSet::of(&[T::Xdp, T::Netfilter]);
        assert!(set.contains(T::Xdp) && set.contains(T::Netfilter) && !set.contains(T::Kprobe));
        assert_eq!(set.iter().count(), 2);
        assert_eq!(super::TypeSet::ALL.iter().count(), T::ALL.len());
        assert_eq!(T::named("nonsense"), None);
    }
}
