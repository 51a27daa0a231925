//! Program types as the verifier sees them: the context each receives in r1 and whether it is
//! privileged. The layouts are the Linux catalogue's ([`apiary_linux::context`]).

use apiary_linux::ProgramType as LinuxType;

pub use apiary_linux::context::{
    CtxDescriptor, BPF_SOCK, NO_CONTEXT, PERF_EVENT, PT_REGS, RAW_TRACEPOINT, SK_BUFF, SOCK_OPS,
    TRACEPOINT, TRACING_ARGS, XDP_MD,
};

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

    /// A Linux program type, as the catalogue describes it ([`apiary_linux::ProgramType::info`]):
    /// libbpf's name for it, its context layout, privilege and legacy packet loads.
    #[must_use]
    pub const fn linux(t: LinuxType) -> Self {
        let info = t.info();
        Self::with_ctx(t.name(), info.context, info.privileged, info.legacy_packet)
    }

    /// XDP.
    #[must_use]
    pub const fn xdp() -> Self {
        Self::linux(LinuxType::Xdp)
    }

    /// Socket filter.
    #[must_use]
    pub const fn socket_filter() -> Self {
        Self::linux(LinuxType::SocketFilter)
    }

    /// tc classifier.
    #[must_use]
    pub const fn sched_cls() -> Self {
        Self::linux(LinuxType::SchedCls)
    }

    /// kprobe / uprobe.
    #[must_use]
    pub const fn kprobe() -> Self {
        Self::linux(LinuxType::Kprobe)
    }

    /// Tracepoint.
    #[must_use]
    pub const fn tracepoint() -> Self {
        Self::linux(LinuxType::Tracepoint)
    }

    /// Raw tracepoint.
    #[must_use]
    pub const fn raw_tracepoint() -> Self {
        Self::linux(LinuxType::RawTracepoint)
    }

    /// Perf event.
    #[must_use]
    pub const fn perf_event() -> Self {
        Self::linux(LinuxType::PerfEvent)
    }

    /// A type apiary has no context model for: r1 may not be read through, and only the
    /// helpers every type may call are allowed.
    #[must_use]
    pub const fn without_context(name: &'static str) -> Self {
        Self::with_ctx(name, NO_CONTEXT, false, false)
    }
}
