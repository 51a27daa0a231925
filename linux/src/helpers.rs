//! Linux's whole helper list (`___BPF_FUNC_MAPPER` in uapi `linux/bpf.h`: ids 1..=211; the list
//! is closed, new kernel functions are kfuncs), with the program types the kernel lets call
//! each helper.
//!
//! Permissions follow the kernel's `*_func_proto` functions (`bpf_base_func_proto`,
//! `bpf_tracing_func_proto` and the per-type `get_func_proto` of `net/core/filter.c`,
//! `kernel/trace/bpf_trace.c`, `kernel/bpf/cgroup.c`, ...) by family, for a loader with
//! `CAP_BPF` and `CAP_PERFMON` (apiary loads what root may load). Where apiary is looser than
//! the kernel it is said at the family: the socket-buffer types share one set (section names
//! do not tell legacy socket filters and tc programs apart), and `struct_ops`/`ext` get the
//! tracing set. `tests` check the table against the kernel's own verdicts on the realworld
//! corpus (root crate, `tests/catalogue.rs`).

use crate::program_type::{ProgramType as T, TypeSet};

/// One Linux helper.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Helper {
    /// Its id (the `imm` of `call`).
    pub id: u32,
    /// Its name with the `bpf_` prefix, as C declares it.
    pub name: &'static str,
    /// The program types the kernel lets call it.
    pub allowed: TypeSet,
}

impl Helper {
    /// The name without the `bpf_` prefix (`map_lookup_elem`).
    #[must_use]
    pub fn short_name(&self) -> &'static str {
        self.name.strip_prefix("bpf_").unwrap_or(self.name)
    }

    /// Whether a program of type `t` may call it.
    #[must_use]
    pub const fn allowed_for(&self, t: T) -> bool {
        self.allowed.contains(t)
    }
}

const fn t(types: &[T]) -> TypeSet {
    TypeSet::of(types)
}

/// `bpf_base_func_proto`: every type (maps, time, random numbers, tail calls, ring buffers,
/// `bpf_loop`, spin locks, timers, dynptrs, and with `CAP_PERFMON` the probe reads and
/// `trace_printk`).
const ANY: TypeSet = TypeSet::ALL;
/// kprobes (`kprobe_prog_func_proto`).
const KPROBE: TypeSet = t(&[T::Kprobe]);
/// Tracepoints.
const TP: TypeSet = t(&[T::Tracepoint]);
/// Raw tracepoints.
const RAW_TP: TypeSet = t(&[T::RawTracepoint, T::RawTracepointWritable]);
/// Perf events.
const PERF: TypeSet = t(&[T::PerfEvent]);
/// BTF-typed programs (`tracing_prog_func_proto`; `lsm`, `struct_ops` and `ext` too).
const BTF: TypeSet = t(&[T::Tracing, T::Lsm, T::StructOps, T::Ext]);
/// LSM programs only.
const LSM: TypeSet = t(&[T::Lsm]);
/// Every tracing type (`bpf_tracing_func_proto`).
const TRACE: TypeSet = KPROBE.or(TP).or(RAW_TP).or(PERF).or(BTF);
/// tc (and `unspec`, apiary's type for sections loaded as tc).
const TC: TypeSet = t(&[T::SchedCls, T::SchedAct, T::Unspecified]);
/// Every `__sk_buff` type: one set, a superset of the kernel's per-type sets (see the module
/// documentation).
const SKB: TypeSet = TC.or(t(&[
    T::SocketFilter,
    T::CgroupSkb,
    T::LwtIn,
    T::LwtOut,
    T::LwtXmit,
    T::LwtSeg6local,
    T::SkSkb,
    T::FlowDissector,
]));
/// XDP.
const XDP: TypeSet = t(&[T::Xdp]);
/// `sock_ops`.
const SOCK_OPS: TypeSet = t(&[T::SockOps]);
/// `sk_msg`.
const SK_MSG: TypeSet = t(&[T::SkMsg]);
/// Socket lookups (`bpf_sk_lookup_tcp`, ...): tc, XDP, cgroup skb, sk_skb, cgroup sock_addr.
const SOCK_LOOKUP: TypeSet = TC
    .or(XDP)
    .or(t(&[T::CgroupSkb, T::SkSkb, T::CgroupSockAddr]));
/// Cgroup-attached types (`cgroup_current_func_proto`, local storage, retval).
const CGROUP: TypeSet = t(&[
    T::CgroupSkb,
    T::CgroupSock,
    T::CgroupSockAddr,
    T::CgroupDevice,
    T::CgroupSysctl,
    T::CgroupSockopt,
    T::SockOps,
    T::Lsm,
]);
/// Networking types that know a network namespace (`bpf_get_netns_cookie`).
const NET: TypeSet = TC.or(t(&[
    T::CgroupSkb,
    T::CgroupSock,
    T::CgroupSockAddr,
    T::CgroupSockopt,
    T::SockOps,
    T::SkMsg,
]));

macro_rules! helpers {
    ($($id:literal $konst:ident $name:literal ($allowed:expr);)*) => {
        /// Helper ids by name (`id::MAP_LOOKUP_ELEM` = 1).
        pub mod id {
            $(
                #[doc = concat!("`bpf_", $name, "`.")]
                pub const $konst: u32 = $id;
            )*
        }

        /// Every Linux helper, in id order (entry `i` is helper `i + 1`).
        pub static HELPERS: &[Helper] = &[
            $(Helper { id: $id, name: concat!("bpf_", $name), allowed: $allowed },)*
        ];
    };
}

helpers! {
    1 MAP_LOOKUP_ELEM "map_lookup_elem" (ANY);
    2 MAP_UPDATE_ELEM "map_update_elem" (ANY);
    3 MAP_DELETE_ELEM "map_delete_elem" (ANY);
    4 PROBE_READ "probe_read" (TRACE);
    5 KTIME_GET_NS "ktime_get_ns" (ANY);
    6 TRACE_PRINTK "trace_printk" (ANY);
    7 GET_PRANDOM_U32 "get_prandom_u32" (ANY);
    8 GET_SMP_PROCESSOR_ID "get_smp_processor_id" (ANY);
    9 SKB_STORE_BYTES "skb_store_bytes" (SKB);
    10 L3_CSUM_REPLACE "l3_csum_replace" (SKB);
    11 L4_CSUM_REPLACE "l4_csum_replace" (SKB);
    12 TAIL_CALL "tail_call" (ANY);
    13 CLONE_REDIRECT "clone_redirect" (SKB);
    14 GET_CURRENT_PID_TGID "get_current_pid_tgid" (TRACE.or(t(&[T::CgroupSock, T::CgroupSockAddr, T::CgroupSockopt])));
    15 GET_CURRENT_UID_GID "get_current_uid_gid" (TRACE.or(t(&[T::CgroupSock, T::CgroupSockAddr, T::CgroupSockopt])));
    16 GET_CURRENT_COMM "get_current_comm" (TRACE.or(t(&[T::CgroupSock, T::CgroupSockAddr, T::CgroupSockopt])));
    17 GET_CGROUP_CLASSID "get_cgroup_classid" (SKB);
    18 SKB_VLAN_PUSH "skb_vlan_push" (SKB);
    19 SKB_VLAN_POP "skb_vlan_pop" (SKB);
    20 SKB_GET_TUNNEL_KEY "skb_get_tunnel_key" (SKB);
    21 SKB_SET_TUNNEL_KEY "skb_set_tunnel_key" (SKB);
    22 PERF_EVENT_READ "perf_event_read" (TRACE);
    23 REDIRECT "redirect" (SKB.or(XDP));
    24 GET_ROUTE_REALM "get_route_realm" (SKB);
    25 PERF_EVENT_OUTPUT "perf_event_output" (TRACE.or(SKB).or(XDP).or(SOCK_OPS).or(SK_MSG));
    26 SKB_LOAD_BYTES "skb_load_bytes" (SKB);
    27 GET_STACKID "get_stackid" (TRACE);
    28 CSUM_DIFF "csum_diff" (SKB.or(XDP));
    29 SKB_GET_TUNNEL_OPT "skb_get_tunnel_opt" (SKB);
    30 SKB_SET_TUNNEL_OPT "skb_set_tunnel_opt" (SKB);
    31 SKB_CHANGE_PROTO "skb_change_proto" (SKB);
    32 SKB_CHANGE_TYPE "skb_change_type" (SKB);
    33 SKB_UNDER_CGROUP "skb_under_cgroup" (SKB);
    34 GET_HASH_RECALC "get_hash_recalc" (SKB);
    35 GET_CURRENT_TASK "get_current_task" (ANY);
    36 PROBE_WRITE_USER "probe_write_user" (TRACE);
    37 CURRENT_TASK_UNDER_CGROUP "current_task_under_cgroup" (TRACE);
    38 SKB_CHANGE_TAIL "skb_change_tail" (SKB);
    39 SKB_PULL_DATA "skb_pull_data" (SKB);
    40 CSUM_UPDATE "csum_update" (SKB);
    41 SET_HASH_INVALID "set_hash_invalid" (SKB);
    42 GET_NUMA_NODE_ID "get_numa_node_id" (ANY);
    43 SKB_CHANGE_HEAD "skb_change_head" (SKB);
    44 XDP_ADJUST_HEAD "xdp_adjust_head" (XDP);
    45 PROBE_READ_STR "probe_read_str" (TRACE);
    46 GET_SOCKET_COOKIE "get_socket_cookie" (SKB.or(t(&[T::SockOps, T::CgroupSock, T::CgroupSockAddr, T::SkMsg])).or(BTF));
    47 GET_SOCKET_UID "get_socket_uid" (SKB);
    48 SET_HASH "set_hash" (SKB);
    49 SETSOCKOPT "setsockopt" (SOCK_OPS.or(t(&[T::CgroupSockAddr, T::CgroupSockopt])));
    50 SKB_ADJUST_ROOM "skb_adjust_room" (SKB);
    51 REDIRECT_MAP "redirect_map" (XDP);
    52 SK_REDIRECT_MAP "sk_redirect_map" (t(&[T::SkSkb]));
    53 SOCK_MAP_UPDATE "sock_map_update" (SOCK_OPS);
    54 XDP_ADJUST_META "xdp_adjust_meta" (XDP);
    55 PERF_EVENT_READ_VALUE "perf_event_read_value" (TRACE);
    56 PERF_PROG_READ_VALUE "perf_prog_read_value" (PERF);
    57 GETSOCKOPT "getsockopt" (SOCK_OPS.or(t(&[T::CgroupSockAddr, T::CgroupSockopt])));
    58 OVERRIDE_RETURN "override_return" (KPROBE);
    59 SOCK_OPS_CB_FLAGS_SET "sock_ops_cb_flags_set" (SOCK_OPS);
    60 MSG_REDIRECT_MAP "msg_redirect_map" (SK_MSG);
    61 MSG_APPLY_BYTES "msg_apply_bytes" (SK_MSG);
    62 MSG_CORK_BYTES "msg_cork_bytes" (SK_MSG);
    63 MSG_PULL_DATA "msg_pull_data" (SK_MSG);
    64 BIND "bind" (t(&[T::CgroupSockAddr]));
    65 XDP_ADJUST_TAIL "xdp_adjust_tail" (XDP);
    66 SKB_GET_XFRM_STATE "skb_get_xfrm_state" (SKB);
    67 GET_STACK "get_stack" (TRACE);
    68 SKB_LOAD_BYTES_RELATIVE "skb_load_bytes_relative" (SKB);
    69 FIB_LOOKUP "fib_lookup" (SKB.or(XDP));
    70 SOCK_HASH_UPDATE "sock_hash_update" (SOCK_OPS);
    71 MSG_REDIRECT_HASH "msg_redirect_hash" (SK_MSG);
    72 SK_REDIRECT_HASH "sk_redirect_hash" (t(&[T::SkSkb]));
    73 LWT_PUSH_ENCAP "lwt_push_encap" (t(&[T::LwtIn, T::LwtXmit]));
    74 LWT_SEG6_STORE_BYTES "lwt_seg6_store_bytes" (t(&[T::LwtSeg6local]));
    75 LWT_SEG6_ADJUST_SRH "lwt_seg6_adjust_srh" (t(&[T::LwtSeg6local]));
    76 LWT_SEG6_ACTION "lwt_seg6_action" (t(&[T::LwtSeg6local]));
    77 RC_REPEAT "rc_repeat" (t(&[T::LircMode2]));
    78 RC_KEYDOWN "rc_keydown" (t(&[T::LircMode2]));
    79 SKB_CGROUP_ID "skb_cgroup_id" (SKB);
    80 GET_CURRENT_CGROUP_ID "get_current_cgroup_id" (TRACE.or(t(&[T::CgroupSock, T::CgroupSockAddr, T::CgroupSockopt, T::CgroupSkb, T::SockOps])));
    81 GET_LOCAL_STORAGE "get_local_storage" (CGROUP);
    82 SK_SELECT_REUSEPORT "sk_select_reuseport" (t(&[T::SkReuseport]));
    83 SKB_ANCESTOR_CGROUP_ID "skb_ancestor_cgroup_id" (SKB);
    84 SK_LOOKUP_TCP "sk_lookup_tcp" (SOCK_LOOKUP);
    85 SK_LOOKUP_UDP "sk_lookup_udp" (SOCK_LOOKUP);
    86 SK_RELEASE "sk_release" (SOCK_LOOKUP.or(t(&[T::SkLookup])));
    87 MAP_PUSH_ELEM "map_push_elem" (ANY);
    88 MAP_POP_ELEM "map_pop_elem" (ANY);
    89 MAP_PEEK_ELEM "map_peek_elem" (ANY);
    90 MSG_PUSH_DATA "msg_push_data" (SK_MSG);
    91 MSG_POP_DATA "msg_pop_data" (SK_MSG);
    92 RC_POINTER_REL "rc_pointer_rel" (t(&[T::LircMode2]));
    93 SPIN_LOCK "spin_lock" (ANY);
    94 SPIN_UNLOCK "spin_unlock" (ANY);
    95 SK_FULLSOCK "sk_fullsock" (TC.or(t(&[T::CgroupSkb, T::SockOps, T::CgroupSockopt])));
    96 TCP_SOCK "tcp_sock" (TC.or(t(&[T::CgroupSkb, T::SockOps, T::CgroupSockopt])));
    97 SKB_ECN_SET_CE "skb_ecn_set_ce" (TC.or(t(&[T::CgroupSkb])));
    98 GET_LISTENER_SOCK "get_listener_sock" (TC.or(t(&[T::CgroupSkb, T::SockOps, T::CgroupSockopt])));
    99 SKC_LOOKUP_TCP "skc_lookup_tcp" (SOCK_LOOKUP);
    100 TCP_CHECK_SYNCOOKIE "tcp_check_syncookie" (TC.or(XDP));
    101 SYSCTL_GET_NAME "sysctl_get_name" (t(&[T::CgroupSysctl]));
    102 SYSCTL_GET_CURRENT_VALUE "sysctl_get_current_value" (t(&[T::CgroupSysctl]));
    103 SYSCTL_GET_NEW_VALUE "sysctl_get_new_value" (t(&[T::CgroupSysctl]));
    104 SYSCTL_SET_NEW_VALUE "sysctl_set_new_value" (t(&[T::CgroupSysctl]));
    105 STRTOL "strtol" (t(&[T::CgroupSysctl]));
    106 STRTOUL "strtoul" (t(&[T::CgroupSysctl]));
    107 SK_STORAGE_GET "sk_storage_get" (SKB.or(t(&[T::SockOps, T::SkMsg, T::CgroupSock, T::CgroupSockAddr, T::CgroupSockopt])).or(BTF));
    108 SK_STORAGE_DELETE "sk_storage_delete" (SKB.or(t(&[T::SockOps, T::SkMsg, T::CgroupSock, T::CgroupSockAddr, T::CgroupSockopt])).or(BTF));
    109 SEND_SIGNAL "send_signal" (TRACE);
    110 TCP_GEN_SYNCOOKIE "tcp_gen_syncookie" (TC.or(XDP));
    111 SKB_OUTPUT "skb_output" (BTF);
    112 PROBE_READ_USER "probe_read_user" (ANY);
    113 PROBE_READ_KERNEL "probe_read_kernel" (ANY);
    114 PROBE_READ_USER_STR "probe_read_user_str" (ANY);
    115 PROBE_READ_KERNEL_STR "probe_read_kernel_str" (ANY);
    116 TCP_SEND_ACK "tcp_send_ack" (t(&[T::StructOps]));
    117 SEND_SIGNAL_THREAD "send_signal_thread" (TRACE);
    118 JIFFIES64 "jiffies64" (ANY);
    119 READ_BRANCH_RECORDS "read_branch_records" (PERF);
    120 GET_NS_CURRENT_PID_TGID "get_ns_current_pid_tgid" (TRACE);
    121 XDP_OUTPUT "xdp_output" (XDP.or(BTF));
    122 GET_NETNS_COOKIE "get_netns_cookie" (NET);
    123 GET_CURRENT_ANCESTOR_CGROUP_ID "get_current_ancestor_cgroup_id" (TRACE.or(CGROUP));
    124 SK_ASSIGN "sk_assign" (TC.or(t(&[T::SkLookup])));
    125 KTIME_GET_BOOT_NS "ktime_get_boot_ns" (ANY);
    126 SEQ_PRINTF "seq_printf" (BTF);
    127 SEQ_WRITE "seq_write" (BTF);
    128 SK_CGROUP_ID "sk_cgroup_id" (SKB);
    129 SK_ANCESTOR_CGROUP_ID "sk_ancestor_cgroup_id" (SKB);
    130 RINGBUF_OUTPUT "ringbuf_output" (ANY);
    131 RINGBUF_RESERVE "ringbuf_reserve" (ANY);
    132 RINGBUF_SUBMIT "ringbuf_submit" (ANY);
    133 RINGBUF_DISCARD "ringbuf_discard" (ANY);
    134 RINGBUF_QUERY "ringbuf_query" (ANY);
    135 CSUM_LEVEL "csum_level" (TC);
    136 SKC_TO_TCP6_SOCK "skc_to_tcp6_sock" (ANY);
    137 SKC_TO_TCP_SOCK "skc_to_tcp_sock" (ANY);
    138 SKC_TO_TCP_TIMEWAIT_SOCK "skc_to_tcp_timewait_sock" (ANY);
    139 SKC_TO_TCP_REQUEST_SOCK "skc_to_tcp_request_sock" (ANY);
    140 SKC_TO_UDP6_SOCK "skc_to_udp6_sock" (ANY);
    141 GET_TASK_STACK "get_task_stack" (TRACE);
    142 LOAD_HDR_OPT "load_hdr_opt" (SOCK_OPS);
    143 STORE_HDR_OPT "store_hdr_opt" (SOCK_OPS);
    144 RESERVE_HDR_OPT "reserve_hdr_opt" (SOCK_OPS);
    145 INODE_STORAGE_GET "inode_storage_get" (LSM);
    146 INODE_STORAGE_DELETE "inode_storage_delete" (LSM);
    147 D_PATH "d_path" (BTF);
    148 COPY_FROM_USER "copy_from_user" (TRACE);
    149 SNPRINTF_BTF "snprintf_btf" (ANY);
    150 SEQ_PRINTF_BTF "seq_printf_btf" (BTF);
    151 SKB_CGROUP_CLASSID "skb_cgroup_classid" (TC);
    152 REDIRECT_NEIGH "redirect_neigh" (SKB);
    153 PER_CPU_PTR "per_cpu_ptr" (ANY);
    154 THIS_CPU_PTR "this_cpu_ptr" (ANY);
    155 REDIRECT_PEER "redirect_peer" (TC);
    156 TASK_STORAGE_GET "task_storage_get" (TRACE);
    157 TASK_STORAGE_DELETE "task_storage_delete" (TRACE);
    158 GET_CURRENT_TASK_BTF "get_current_task_btf" (ANY);
    159 BPRM_OPTS_SET "bprm_opts_set" (LSM);
    160 KTIME_GET_COARSE_NS "ktime_get_coarse_ns" (ANY);
    161 IMA_INODE_HASH "ima_inode_hash" (LSM);
    162 SOCK_FROM_FILE "sock_from_file" (BTF);
    163 CHECK_MTU "check_mtu" (TC.or(XDP));
    164 FOR_EACH_MAP_ELEM "for_each_map_elem" (ANY);
    165 SNPRINTF "snprintf" (ANY);
    166 SYS_BPF "sys_bpf" (t(&[T::Syscall]));
    167 BTF_FIND_BY_NAME_KIND "btf_find_by_name_kind" (t(&[T::Syscall]));
    168 SYS_CLOSE "sys_close" (t(&[T::Syscall]));
    169 TIMER_INIT "timer_init" (ANY);
    170 TIMER_SET_CALLBACK "timer_set_callback" (ANY);
    171 TIMER_START "timer_start" (ANY);
    172 TIMER_CANCEL "timer_cancel" (ANY);
    173 GET_FUNC_IP "get_func_ip" (KPROBE.or(BTF));
    174 GET_ATTACH_COOKIE "get_attach_cookie" (KPROBE.or(TP).or(PERF).or(RAW_TP).or(BTF));
    175 TASK_PT_REGS "task_pt_regs" (ANY);
    176 GET_BRANCH_SNAPSHOT "get_branch_snapshot" (TRACE);
    177 TRACE_VPRINTK "trace_vprintk" (ANY);
    178 SKC_TO_UNIX_SOCK "skc_to_unix_sock" (ANY);
    179 KALLSYMS_LOOKUP_NAME "kallsyms_lookup_name" (t(&[T::Syscall]));
    180 FIND_VMA "find_vma" (TRACE);
    181 LOOP "loop" (ANY);
    182 STRNCMP "strncmp" (ANY);
    183 GET_FUNC_ARG "get_func_arg" (BTF);
    184 GET_FUNC_RET "get_func_ret" (BTF);
    185 GET_FUNC_ARG_CNT "get_func_arg_cnt" (BTF);
    186 GET_RETVAL "get_retval" (CGROUP);
    187 SET_RETVAL "set_retval" (CGROUP);
    188 XDP_GET_BUFF_LEN "xdp_get_buff_len" (XDP);
    189 XDP_LOAD_BYTES "xdp_load_bytes" (XDP);
    190 XDP_STORE_BYTES "xdp_store_bytes" (XDP);
    191 COPY_FROM_USER_TASK "copy_from_user_task" (TRACE);
    192 SKB_SET_TSTAMP "skb_set_tstamp" (TC);
    193 IMA_FILE_HASH "ima_file_hash" (LSM);
    194 KPTR_XCHG "kptr_xchg" (ANY);
    195 MAP_LOOKUP_PERCPU_ELEM "map_lookup_percpu_elem" (ANY);
    196 SKC_TO_MPTCP_SOCK "skc_to_mptcp_sock" (ANY);
    197 DYNPTR_FROM_MEM "dynptr_from_mem" (ANY);
    198 RINGBUF_RESERVE_DYNPTR "ringbuf_reserve_dynptr" (ANY);
    199 RINGBUF_SUBMIT_DYNPTR "ringbuf_submit_dynptr" (ANY);
    200 RINGBUF_DISCARD_DYNPTR "ringbuf_discard_dynptr" (ANY);
    201 DYNPTR_READ "dynptr_read" (ANY);
    202 DYNPTR_WRITE "dynptr_write" (ANY);
    203 DYNPTR_DATA "dynptr_data" (ANY);
    204 TCP_RAW_GEN_SYNCOOKIE_IPV4 "tcp_raw_gen_syncookie_ipv4" (TC.or(XDP));
    205 TCP_RAW_GEN_SYNCOOKIE_IPV6 "tcp_raw_gen_syncookie_ipv6" (TC.or(XDP));
    206 TCP_RAW_CHECK_SYNCOOKIE_IPV4 "tcp_raw_check_syncookie_ipv4" (TC.or(XDP));
    207 TCP_RAW_CHECK_SYNCOOKIE_IPV6 "tcp_raw_check_syncookie_ipv6" (TC.or(XDP));
    208 KTIME_GET_TAI_NS "ktime_get_tai_ns" (ANY);
    209 USER_RINGBUF_DRAIN "user_ringbuf_drain" (ANY);
    210 CGRP_STORAGE_GET "cgrp_storage_get" (ANY);
    211 CGRP_STORAGE_DELETE "cgrp_storage_delete" (ANY);
}

/// Helper `id`, if Linux has one.
#[must_use]
pub fn helper(id: u32) -> Option<&'static Helper> {
    // The table is dense and sorted: entry i holds id i + 1.
    let index = usize::try_from(id).ok()?.checked_sub(1)?;
    HELPERS.get(index)
}

/// The Linux helper id for `name`, with or without the `bpf_` prefix.
#[must_use]
pub fn helper_id(name: &str) -> Option<u32> {
    let short = name.strip_prefix("bpf_").unwrap_or(name);
    HELPERS
        .iter()
        .find(|h| h.short_name() == short)
        .map(|h| h.id)
}

/// The `bpf_`-prefixed Linux name of helper `id`.
#[must_use]
pub fn helper_name(id: u32) -> Option<&'static str> {
    helper(id).map(|h| h.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_dense_and_sorted() {
        for (i, h) in HELPERS.iter().enumerate() {
            assert_eq!(h.id as usize, i + 1, "{}", h.name);
            assert!(h.name.starts_with("bpf_"));
            assert!(h.allowed != TypeSet::EMPTY, "{}", h.name);
        }
        assert_eq!(HELPERS.len(), 211);
    }

    #[test]
    fn well_known_ids() {
        for (id, name) in [
            (1, "bpf_map_lookup_elem"),
            (12, "bpf_tail_call"),
            (25, "bpf_perf_event_output"),
            (112, "bpf_probe_read_user"),
            (130, "bpf_ringbuf_output"),
            (164, "bpf_for_each_map_elem"),
            (181, "bpf_loop"),
            (201, "bpf_dynptr_read"),
            (208, "bpf_ktime_get_tai_ns"),
            (211, "bpf_cgrp_storage_delete"),
        ] {
            assert_eq!(helper_id(name), Some(id));
            assert_eq!(helper_name(id), Some(name));
        }
        assert_eq!(id::XDP_ADJUST_HEAD, 44);
        assert_eq!(helper_id("map_lookup_elem"), Some(1));
        assert_eq!(helper_id("ebpf_map_update_elem"), None);
        assert_eq!(helper_name(0), None);
        assert_eq!(helper_name(212), None);
    }

    #[test]
    fn families_follow_the_kernel() {
        let may = |id: u32, ty: T| helper(id).is_some_and(|h| h.allowed_for(ty));
        // Base helpers everywhere; packet helpers only where there is that packet.
        assert!(may(id::MAP_LOOKUP_ELEM, T::Netfilter));
        assert!(may(id::XDP_ADJUST_HEAD, T::Xdp) && !may(id::XDP_ADJUST_HEAD, T::SchedCls));
        assert!(may(id::SKB_LOAD_BYTES, T::SchedCls) && !may(id::SKB_LOAD_BYTES, T::Xdp));
        assert!(!may(id::PROBE_READ, T::Xdp) && may(id::PROBE_READ, T::Kprobe));
        assert!(may(id::OVERRIDE_RETURN, T::Kprobe) && !may(id::OVERRIDE_RETURN, T::Tracepoint));
        assert!(may(id::SYS_BPF, T::Syscall) && !may(id::SYS_BPF, T::Kprobe));
        assert!(may(id::GET_FUNC_ARG, T::Tracing) && !may(id::GET_FUNC_ARG, T::Kprobe));
    }
}
