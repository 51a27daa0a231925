//! What each program type receives in r1: the context structure's layout (what the verifier
//! lets a program read and write) and how a userspace run builds it ([`RunContext`]). The
//! verifier and the runtime read both from [`ProgramType::info`], so a type verified with one
//! context is run with the same one.

use crate::program_type::ProgramType;

/// Layout of a context structure, as the verifier checks accesses to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CtxDescriptor {
    /// Size in bytes.
    pub size: u32,
    /// Offset of the 32-bit `data` field (packet start), if any.
    pub data: Option<u32>,
    /// Offset of `data_end`.
    pub end: Option<u32>,
    /// Offset of `data_meta`.
    pub meta: Option<u32>,
    /// Byte ranges `[start, end)` the program may write.
    pub writable: &'static [(u32, u32)],
}

/// `struct xdp_md` field offsets (uapi `linux/bpf.h`).
pub mod xdp_md {
    /// `data`: the packet start (a 32-bit address).
    pub const DATA: u32 = 0;
    /// `data_end`.
    pub const DATA_END: u32 = 4;
    /// `data_meta`.
    pub const DATA_META: u32 = 8;
    /// `ingress_ifindex`.
    pub const INGRESS_IFINDEX: u32 = 12;
    /// `rx_queue_index`.
    pub const RX_QUEUE_INDEX: u32 = 16;
    /// `egress_ifindex`.
    pub const EGRESS_IFINDEX: u32 = 20;
    /// The structure's size.
    pub const SIZE: u32 = 24;
}

/// `struct __sk_buff` field offsets (uapi `linux/bpf.h`; the fields apiary reads or fills).
pub mod sk_buff {
    /// `len`.
    pub const LEN: u32 = 0;
    /// `protocol`.
    pub const PROTOCOL: u32 = 16;
    /// `ifindex`.
    pub const IFINDEX: u32 = 40;
    /// `hash`.
    pub const HASH: u32 = 68;
    /// `data`: the packet start (a 32-bit address).
    pub const DATA: u32 = 76;
    /// `data_end`.
    pub const DATA_END: u32 = 80;
    /// `data_meta`.
    pub const DATA_META: u32 = 140;
    /// `wire_len`.
    pub const WIRE_LEN: u32 = 160;
    /// The structure's size.
    pub const SIZE: u32 = 192;
}

/// `struct xdp_md`: data, data_end, data_meta, ingress_ifindex, rx_queue_index,
/// egress_ifindex. Nothing is writable.
pub const XDP_MD: CtxDescriptor = CtxDescriptor {
    size: xdp_md::SIZE,
    data: Some(xdp_md::DATA),
    end: Some(xdp_md::DATA_END),
    meta: Some(xdp_md::DATA_META),
    writable: &[],
};

/// `struct __sk_buff`: as in PREVAIL, every field but the three packet pointers may be
/// written (the host owns the structure).
pub const SK_BUFF: CtxDescriptor = CtxDescriptor {
    size: sk_buff::SIZE,
    data: Some(sk_buff::DATA),
    end: Some(sk_buff::DATA_END),
    meta: Some(sk_buff::DATA_META),
    writable: &[(0, 76), (84, 140), (144, 192)],
};

/// A read-only structure of `size` bytes with no packet pointers.
const fn read_only(size: u32) -> CtxDescriptor {
    CtxDescriptor {
        size,
        data: None,
        end: None,
        meta: None,
        writable: &[],
    }
}

/// `struct pt_regs` on x86-64 (read-only).
pub const PT_REGS: CtxDescriptor = read_only(168);

/// Tracepoint records: read-only; their layout is per tracepoint, bounded here by a page.
pub const TRACEPOINT: CtxDescriptor = read_only(4096);

/// `struct bpf_raw_tracepoint_args`: up to 12 u64 arguments, read-only.
pub const RAW_TRACEPOINT: CtxDescriptor = read_only(96);

/// `struct bpf_perf_event_data`: pt_regs, sample_period, addr (read-only).
pub const PERF_EVENT: CtxDescriptor = read_only(184);

/// BTF-typed programs (`tp_btf`, `fentry`/`fexit`, `lsm`, `struct_ops`, `iter`): r1 points to
/// the traced function's arguments as u64s (at most 12, plus the return value for `fexit`),
/// read-only.
pub const TRACING_ARGS: CtxDescriptor = read_only(104);

/// The context of a type apiary does not model: nothing may be read or written through r1.
pub const NO_CONTEXT: CtxDescriptor = read_only(0);

/// `struct bpf_sock_ops` (uapi, 224 bytes through `skb_hwtstamp`): `reply`/`replylong` (4..20)
/// and `sk_txhash` (164) are writable, as `sock_ops_is_valid_access` allows. The pointer fields
/// (`sk` 184, `skb_data` 192, `skb_data_end` 200) read as numbers here.
pub const SOCK_OPS: CtxDescriptor = CtxDescriptor {
    size: 224,
    data: None,
    end: None,
    meta: None,
    writable: &[(4, 20), (164, 168)],
};

/// `struct bpf_sock`: readable, some fields writable (bound_dev_if 0, mark 4, priority 8).
pub const BPF_SOCK: CtxDescriptor = CtxDescriptor {
    size: 80,
    data: None,
    end: None,
    meta: None,
    writable: &[(0, 12)],
};

/// How a userspace run builds a type's context from the run's input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RunContext {
    /// r1 = the input memory, r2 = its length (types apiary has no context model for).
    Mem,
    /// `struct xdp_md` over the input packet.
    Xdp,
    /// `struct __sk_buff` over the input packet. `l2`: the packet data starts at the Ethernet
    /// header (tc); otherwise at the network header, as `BPF_PROG_TEST_RUN` gives socket
    /// filters, cgroup skb and lwt programs.
    SkBuff {
        /// Whether the data starts at the Ethernet header.
        l2: bool,
    },
    /// The input, zero-padded to the context structure's size (read-only structures).
    Struct {
        /// The structure's size.
        size: u32,
    },
}

/// What apiary knows of one program type's context and privilege.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TypeInfo {
    /// The layout the verifier checks r1's accesses against.
    pub context: CtxDescriptor,
    /// How a run builds it.
    pub run: RunContext,
    /// Privileged (tracing) types may leak pointers (into maps, r0, helper arguments).
    pub privileged: bool,
    /// Whether legacy `LD_ABS`/`LD_IND` packet loads are allowed (socket buffer types the
    /// kernel gives `bpf_skb_load_bytes`-backed legacy loads).
    pub legacy_packet: bool,
}

const fn info(
    context: CtxDescriptor,
    run: RunContext,
    privileged: bool,
    legacy_packet: bool,
) -> TypeInfo {
    TypeInfo {
        context,
        run,
        privileged,
        legacy_packet,
    }
}

impl ProgramType {
    /// The context and privilege of this type. [`ProgramType::Unspecified`] is what iproute2's
    /// `tc` and PREVAIL make of a section they are told to load: a tc classifier's
    /// `__sk_buff`.
    #[must_use]
    pub const fn info(self) -> TypeInfo {
        use ProgramType as T;
        use RunContext as R;
        let skb_l3 = R::SkBuff { l2: false };
        let skb_l2 = R::SkBuff { l2: true };
        let args = R::Struct {
            size: TRACING_ARGS.size,
        };
        match self {
            T::Unspecified | T::SchedCls | T::SchedAct => info(SK_BUFF, skb_l2, false, true),
            T::SocketFilter | T::CgroupSkb => info(SK_BUFF, skb_l3, false, true),
            T::SkSkb | T::LwtIn | T::LwtOut | T::LwtXmit | T::LwtSeg6local | T::FlowDissector => {
                info(SK_BUFF, skb_l3, false, false)
            }
            T::Xdp => info(XDP_MD, R::Xdp, false, false),
            T::Kprobe => info(PT_REGS, R::Struct { size: PT_REGS.size }, true, false),
            T::Tracepoint => info(
                TRACEPOINT,
                R::Struct {
                    size: TRACEPOINT.size,
                },
                true,
                false,
            ),
            T::RawTracepoint | T::RawTracepointWritable => info(
                RAW_TRACEPOINT,
                R::Struct {
                    size: RAW_TRACEPOINT.size,
                },
                true,
                false,
            ),
            T::PerfEvent => info(
                PERF_EVENT,
                R::Struct {
                    size: PERF_EVENT.size,
                },
                true,
                false,
            ),
            T::Tracing | T::Lsm | T::StructOps | T::Ext => info(TRACING_ARGS, args, true, false),
            T::SockOps => info(
                SOCK_OPS,
                R::Struct {
                    size: SOCK_OPS.size,
                },
                false,
                false,
            ),
            T::CgroupSock => info(
                BPF_SOCK,
                R::Struct {
                    size: BPF_SOCK.size,
                },
                false,
                false,
            ),
            T::SkMsg
            | T::CgroupDevice
            | T::CgroupSockAddr
            | T::LircMode2
            | T::SkReuseport
            | T::CgroupSysctl
            | T::CgroupSockopt
            | T::SkLookup
            | T::Syscall
            | T::Netfilter => info(NO_CONTEXT, R::Mem, false, false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packet_types_point_into_their_packets_and_structs_run_at_their_size() {
        for t in ProgramType::ALL {
            let i = t.info();
            match i.run {
                RunContext::Xdp => assert_eq!(i.context, XDP_MD, "{t:?}"),
                RunContext::SkBuff { .. } => assert_eq!(i.context, SK_BUFF, "{t:?}"),
                RunContext::Struct { size } => {
                    assert_eq!(size, i.context.size, "{t:?}");
                    assert!(i.context.data.is_none(), "{t:?}");
                }
                RunContext::Mem => assert_eq!(i.context, NO_CONTEXT, "{t:?}"),
            }
            for &(a, b) in i.context.writable {
                assert!(a < b && b <= i.context.size, "{t:?}");
            }
        }
    }
}
