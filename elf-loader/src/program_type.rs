//! Program types, guessed from the section name as libbpf and the older `bpf_load.c` samples
//! do. The type decides the context layout and helper set a verifier applies, so an unknown
//! prefix stays [`ProgramType::Unspecified`] rather than being guessed.

/// A program type (Linux `enum bpf_prog_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProgramType {
    Unspecified,
    SocketFilter,
    Kprobe,
    SchedCls,
    SchedAct,
    Tracepoint,
    Xdp,
    PerfEvent,
    CgroupSkb,
    CgroupSock,
    LwtIn,
    LwtOut,
    LwtXmit,
    SockOps,
    SkSkb,
    CgroupDevice,
    SkMsg,
    RawTracepoint,
    CgroupSockAddr,
    LwtSeg6local,
    LircMode2,
    SkReuseport,
    FlowDissector,
    CgroupSysctl,
    RawTracepointWritable,
    CgroupSockopt,
    Tracing,
    StructOps,
    Ext,
    Lsm,
    SkLookup,
    Syscall,
    Netfilter,
}

/// Section-name prefixes, most specific first (the first match wins).
const PREFIXES: &[(&str, ProgramType)] = &[
    ("socket", ProgramType::SocketFilter),
    ("sk_reuseport", ProgramType::SkReuseport),
    ("sk_skb", ProgramType::SkSkb),
    ("sk_msg", ProgramType::SkMsg),
    ("sk_lookup", ProgramType::SkLookup),
    ("kprobe", ProgramType::Kprobe),
    ("kretprobe", ProgramType::Kprobe),
    ("uprobe", ProgramType::Kprobe),
    ("uretprobe", ProgramType::Kprobe),
    ("ksyscall", ProgramType::Kprobe),
    ("kretsyscall", ProgramType::Kprobe),
    ("usdt", ProgramType::Kprobe),
    ("tracepoint", ProgramType::Tracepoint),
    ("tp_btf", ProgramType::Tracing),
    ("tp/", ProgramType::Tracepoint),
    ("raw_tracepoint.w", ProgramType::RawTracepointWritable),
    ("raw_tp.w", ProgramType::RawTracepointWritable),
    ("raw_tracepoint", ProgramType::RawTracepoint),
    ("raw_tp", ProgramType::RawTracepoint),
    ("fentry", ProgramType::Tracing),
    ("fexit", ProgramType::Tracing),
    ("fmod_ret", ProgramType::Tracing),
    ("iter", ProgramType::Tracing),
    ("freplace", ProgramType::Ext),
    ("lsm", ProgramType::Lsm),
    ("xdp", ProgramType::Xdp),
    ("perf_event", ProgramType::PerfEvent),
    ("classifier", ProgramType::SchedCls),
    ("action", ProgramType::SchedAct),
    ("tcx", ProgramType::SchedCls),
    ("tc", ProgramType::SchedCls),
    ("cgroup_skb", ProgramType::CgroupSkb),
    ("cgroup/skb", ProgramType::CgroupSkb),
    ("cgroup/dev", ProgramType::CgroupDevice),
    ("cgroup/sysctl", ProgramType::CgroupSysctl),
    ("cgroup/getsockopt", ProgramType::CgroupSockopt),
    ("cgroup/setsockopt", ProgramType::CgroupSockopt),
    ("cgroup/bind", ProgramType::CgroupSockAddr),
    ("cgroup/connect", ProgramType::CgroupSockAddr),
    ("cgroup/sendmsg", ProgramType::CgroupSockAddr),
    ("cgroup/recvmsg", ProgramType::CgroupSockAddr),
    ("cgroup/getpeername", ProgramType::CgroupSockAddr),
    ("cgroup/getsockname", ProgramType::CgroupSockAddr),
    ("cgroup/sock", ProgramType::CgroupSock),
    ("cgroup/post_bind", ProgramType::CgroupSock),
    ("sockops", ProgramType::SockOps),
    ("lwt_in", ProgramType::LwtIn),
    ("lwt_out", ProgramType::LwtOut),
    ("lwt_xmit", ProgramType::LwtXmit),
    ("lwt_seg6local", ProgramType::LwtSeg6local),
    ("lirc_mode2", ProgramType::LircMode2),
    ("flow_dissector", ProgramType::FlowDissector),
    ("struct_ops", ProgramType::StructOps),
    ("syscall", ProgramType::Syscall),
    ("netfilter", ProgramType::Netfilter),
];

impl ProgramType {
    /// The type a section name implies.
    #[must_use]
    pub fn from_section(name: &str) -> Self {
        PREFIXES
            .iter()
            .find(|(prefix, _)| name.starts_with(prefix))
            .map_or(ProgramType::Unspecified, |&(_, t)| t)
    }

    /// The Linux `enum bpf_prog_type` value.
    #[must_use]
    pub const fn linux_id(self) -> u32 {
        match self {
            ProgramType::Unspecified => 0,
            ProgramType::SocketFilter => 1,
            ProgramType::Kprobe => 2,
            ProgramType::SchedCls => 3,
            ProgramType::SchedAct => 4,
            ProgramType::Tracepoint => 5,
            ProgramType::Xdp => 6,
            ProgramType::PerfEvent => 7,
            ProgramType::CgroupSkb => 8,
            ProgramType::CgroupSock => 9,
            ProgramType::LwtIn => 10,
            ProgramType::LwtOut => 11,
            ProgramType::LwtXmit => 12,
            ProgramType::SockOps => 13,
            ProgramType::SkSkb => 14,
            ProgramType::CgroupDevice => 15,
            ProgramType::SkMsg => 16,
            ProgramType::RawTracepoint => 17,
            ProgramType::CgroupSockAddr => 18,
            ProgramType::LwtSeg6local => 19,
            ProgramType::LircMode2 => 20,
            ProgramType::SkReuseport => 21,
            ProgramType::FlowDissector => 22,
            ProgramType::CgroupSysctl => 23,
            ProgramType::RawTracepointWritable => 24,
            ProgramType::CgroupSockopt => 25,
            ProgramType::Tracing => 26,
            ProgramType::StructOps => 27,
            ProgramType::Ext => 28,
            ProgramType::Lsm => 29,
            ProgramType::SkLookup => 30,
            ProgramType::Syscall => 31,
            ProgramType::Netfilter => 32,
        }
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
    }
}
