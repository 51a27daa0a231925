//! Program types: the context each receives in r1 and whether it is privileged.

/// Layout of a context structure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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

/// What r1 holds at entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CtxKind {
    /// A context structure.
    Struct(CtxDescriptor),
    /// The `mem` type: r1 points to the input, r2 holds its length. With `Some(n)` the length is
    /// known to be `n`; with `None` r1 is treated as packet data of length r2.
    Mem(Option<u64>),
}

/// A program type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProgramType {
    /// Name (`xdp`, `kprobe`, ...).
    pub name: &'static str,
    /// The context.
    pub ctx: CtxKind,
    /// Privileged types may leak pointers (into maps, r0, helper arguments).
    pub privileged: bool,
    /// Whether legacy `LD_ABS`/`LD_IND` packet loads are allowed.
    pub legacy_packet: bool,
}

/// `struct xdp_md`: data 0, data_end 4, data_meta 8, ingress_ifindex 12, rx_queue_index 16,
/// egress_ifindex 20. Nothing is writable.
pub const XDP_MD: CtxDescriptor = CtxDescriptor {
    size: 24,
    data: Some(0),
    end: Some(4),
    meta: Some(8),
    writable: &[],
};

/// `struct __sk_buff` (size 192): data 76, data_end 80, data_meta 140. As in PREVAIL, every
/// field but the three packet pointers may be written (the host owns the structure).
pub const SK_BUFF: CtxDescriptor = CtxDescriptor {
    size: 192,
    data: Some(76),
    end: Some(80),
    meta: Some(140),
    writable: &[(0, 76), (84, 140), (144, 192)],
};

/// `struct pt_regs` on x86-64 (read-only).
pub const PT_REGS: CtxDescriptor = CtxDescriptor {
    size: 168,
    data: None,
    end: None,
    meta: None,
    writable: &[],
};

/// Tracepoint records: read-only; their layout is per tracepoint, bounded here by a page.
pub const TRACEPOINT: CtxDescriptor = CtxDescriptor {
    size: 4096,
    data: None,
    end: None,
    meta: None,
    writable: &[],
};

/// `struct bpf_raw_tracepoint_args`: up to 12 u64 arguments, read-only.
pub const RAW_TRACEPOINT: CtxDescriptor = CtxDescriptor {
    size: 96,
    data: None,
    end: None,
    meta: None,
    writable: &[],
};

/// `struct bpf_perf_event_data`: pt_regs, sample_period, addr (read-only).
pub const PERF_EVENT: CtxDescriptor = CtxDescriptor {
    size: 184,
    data: None,
    end: None,
    meta: None,
    writable: &[],
};

/// BTF-typed programs (`tp_btf`, `fentry`/`fexit`, `lsm`, `struct_ops`, `iter`): r1 points to
/// the traced function's arguments as u64s (at most 12, plus the return value for `fexit`),
/// read-only.
pub const TRACING_ARGS: CtxDescriptor = CtxDescriptor {
    size: 104,
    data: None,
    end: None,
    meta: None,
    writable: &[],
};

/// The context of a type apiary does not model: nothing may be read or written through r1.
pub const NO_CONTEXT: CtxDescriptor = CtxDescriptor {
    size: 0,
    data: None,
    end: None,
    meta: None,
    writable: &[],
};

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

impl ProgramType {
    /// The plain memory type (conformance suite, `apiary run`).
    #[must_use]
    pub const fn mem(size: Option<u64>) -> Self {
        Self {
            name: "mem",
            ctx: CtxKind::Mem(size),
            privileged: true,
            legacy_packet: true,
        }
    }

    /// A type from its context layout.
    #[must_use]
    pub const fn with_ctx(
        name: &'static str,
        ctx: CtxDescriptor,
        privileged: bool,
        legacy_packet: bool,
    ) -> Self {
        Self {
            name,
            ctx: CtxKind::Struct(ctx),
            privileged,
            legacy_packet,
        }
    }

    /// XDP.
    #[must_use]
    pub const fn xdp() -> Self {
        Self::with_ctx("xdp", XDP_MD, false, false)
    }

    /// Socket filter.
    #[must_use]
    pub const fn socket_filter() -> Self {
        Self::with_ctx("socket_filter", SK_BUFF, false, true)
    }

    /// tc classifier / action.
    #[must_use]
    pub const fn sched_cls() -> Self {
        Self::with_ctx("sched_cls", SK_BUFF, false, true)
    }

    /// kprobe / uprobe.
    #[must_use]
    pub const fn kprobe() -> Self {
        Self::with_ctx("kprobe", PT_REGS, true, false)
    }

    /// Tracepoint.
    #[must_use]
    pub const fn tracepoint() -> Self {
        Self::with_ctx("tracepoint", TRACEPOINT, true, false)
    }

    /// Raw tracepoint.
    #[must_use]
    pub const fn raw_tracepoint() -> Self {
        Self::with_ctx("raw_tracepoint", RAW_TRACEPOINT, true, false)
    }

    /// Perf event.
    #[must_use]
    pub const fn perf_event() -> Self {
        Self::with_ctx("perf_event", PERF_EVENT, true, false)
    }

    /// A type apiary has no context model for: r1 may not be read through, and only the
    /// helpers every type may call are allowed.
    #[must_use]
    pub const fn without_context(name: &'static str) -> Self {
        Self::with_ctx(name, NO_CONTEXT, false, false)
    }
}
