//! Our own table of Linux helper prototypes (written from the uapi descriptions of each helper's
//! arguments, not copied from any GPL table), and the conformance suite's helpers.

use super::helpers::{Arg, Arg::*, CallbackKind, HelperProto as P, Ret};
use super::map_type as mt;

const LOOKUP_MAPS: &[u32] = &[
    mt::HASH,
    mt::ARRAY,
    mt::PERCPU_HASH,
    mt::PERCPU_ARRAY,
    mt::LRU_HASH,
    mt::LRU_PERCPU_HASH,
    mt::LPM_TRIE,
    mt::SOCKMAP,
    mt::SOCKHASH,
    mt::DEVMAP,
    mt::DEVMAP_HASH,
    mt::CPUMAP,
    mt::XSKMAP,
];
/// Lookups also accept maps of maps (they return an inner map or null).
const LOOKUP_OR_OUTER_MAPS: &[u32] = &{
    let mut all = [mt::HASH_OF_MAPS; LOOKUP_MAPS.len() + 2];
    all[LOOKUP_MAPS.len()] = mt::ARRAY_OF_MAPS;
    let mut i = 0;
    while i < LOOKUP_MAPS.len() {
        all[i] = LOOKUP_MAPS[i];
        i += 1;
    }
    all
};
const PROG: &[u32] = &[mt::PROG_ARRAY];
const PERCPU_MAPS: &[u32] = &[mt::PERCPU_HASH, mt::PERCPU_ARRAY, mt::LRU_PERCPU_HASH];
const PERF: &[u32] = &[mt::PERF_EVENT_ARRAY];
const RING: &[u32] = &[mt::RINGBUF];
const QUEUES: &[u32] = &[mt::QUEUE, mt::STACK, mt::BLOOM_FILTER];
const REDIRECT: &[u32] = &[mt::DEVMAP, mt::DEVMAP_HASH, mt::CPUMAP, mt::XSKMAP];
const ANY_MAP: &[u32] = &[];
const A: Arg = Anything;

/// Linux helpers by id.
#[must_use]
pub fn helper_table() -> Vec<(u32, P)> {
    let u32r = Ret::Range(0, u64::from(u32::MAX));
    vec![
        (
            1,
            P::new("map_lookup_elem", &[Map(LOOKUP_OR_OUTER_MAPS), MapKey])
                .returns(Ret::MapValueOrNull),
        ),
        (
            2,
            P::new("map_update_elem", &[Map(LOOKUP_MAPS), MapKey, MapValue, A]),
        ),
        (3, P::new("map_delete_elem", &[Map(LOOKUP_MAPS), MapKey])),
        (4, P::new("probe_read", &[MemOut, SizeOrZero, A])),
        (5, P::new("ktime_get_ns", &[])),
        (6, P::new("trace_printk", &[Mem, Size])),
        (7, P::new("get_prandom_u32", &[]).returns(u32r)),
        (8, P::new("get_smp_processor_id", &[]).returns(u32r)),
        (
            9,
            P::new("skb_store_bytes", &[Ctx, A, Mem, Size, A]).reallocates(),
        ),
        (
            10,
            P::new("l3_csum_replace", &[Ctx, A, A, A, A]).reallocates(),
        ),
        (
            11,
            P::new("l4_csum_replace", &[Ctx, A, A, A, A]).reallocates(),
        ),
        (12, P::new("tail_call", &[Ctx, Map(PROG), A])),
        (13, P::new("clone_redirect", &[Ctx, A, A]).reallocates()),
        (14, P::new("get_current_pid_tgid", &[])),
        (15, P::new("get_current_uid_gid", &[])),
        (16, P::new("get_current_comm", &[MemOut, Size])),
        (17, P::new("get_cgroup_classid", &[Ctx])),
        (18, P::new("skb_vlan_push", &[Ctx, A, A]).reallocates()),
        (19, P::new("skb_vlan_pop", &[Ctx]).reallocates()),
        (20, P::new("skb_get_tunnel_key", &[Ctx, MemOut, Size, A])),
        (21, P::new("skb_set_tunnel_key", &[Ctx, Mem, Size, A])),
        (22, P::new("perf_event_read", &[Map(PERF), A])),
        (23, P::new("redirect", &[A, A])),
        (24, P::new("get_route_realm", &[Ctx])),
        (
            25,
            P::new("perf_event_output", &[Ctx, Map(PERF), A, Mem, SizeOrZero]),
        ),
        (26, P::new("skb_load_bytes", &[Ctx, A, MemOut, Size])),
        (
            27,
            P::new("get_stackid", &[Ctx, Map(&[mt::STACK_TRACE]), A]),
        ),
        (
            28,
            P::new(
                "csum_diff",
                &[MemOrNull, SizeOrZero, MemOrNull, SizeOrZero, A],
            ),
        ),
        (29, P::new("skb_get_tunnel_opt", &[Ctx, MemOut, Size])),
        (30, P::new("skb_set_tunnel_opt", &[Ctx, Mem, Size])),
        (31, P::new("skb_change_proto", &[Ctx, A, A]).reallocates()),
        (32, P::new("skb_change_type", &[Ctx, A])),
        (
            33,
            P::new("skb_under_cgroup", &[Ctx, Map(&[mt::CGROUP_ARRAY]), A]),
        ),
        (34, P::new("get_hash_recalc", &[Ctx])),
        (35, P::new("get_current_task", &[])),
        (36, P::new("probe_write_user", &[A, Mem, Size])),
        (
            37,
            P::new("current_task_under_cgroup", &[Map(&[mt::CGROUP_ARRAY]), A]),
        ),
        (38, P::new("skb_change_tail", &[Ctx, A, A]).reallocates()),
        (39, P::new("skb_pull_data", &[Ctx, A]).reallocates()),
        (40, P::new("csum_update", &[Ctx, A])),
        (41, P::new("set_hash_invalid", &[Ctx])),
        (42, P::new("get_numa_node_id", &[])),
        (43, P::new("skb_change_head", &[Ctx, A, A]).reallocates()),
        (44, P::new("xdp_adjust_head", &[Ctx, A]).reallocates()),
        (45, P::new("probe_read_str", &[MemOut, SizeOrZero, A])),
        (46, P::new("get_socket_cookie", &[Ctx])),
        (47, P::new("get_socket_uid", &[Ctx])),
        (48, P::new("set_hash", &[Ctx, A])),
        (49, P::new("setsockopt", &[Ctx, A, A, Mem, Size])),
        (50, P::new("skb_adjust_room", &[Ctx, A, A, A]).reallocates()),
        (51, P::new("redirect_map", &[Map(REDIRECT), A, A])),
        (
            52,
            P::new("sk_redirect_map", &[Ctx, Map(&[mt::SOCKMAP]), A, A]),
        ),
        (
            53,
            P::new("sock_map_update", &[Ctx, Map(&[mt::SOCKMAP]), MapKey, A]),
        ),
        (54, P::new("xdp_adjust_meta", &[Ctx, A]).reallocates()),
        (
            55,
            P::new("perf_event_read_value", &[Map(PERF), A, MemOut, Size]),
        ),
        (56, P::new("perf_prog_read_value", &[Ctx, MemOut, Size])),
        (57, P::new("getsockopt", &[Ctx, A, A, MemOut, Size])),
        (58, P::new("override_return", &[Ctx, A])),
        (59, P::new("sock_ops_cb_flags_set", &[Ctx, A])),
        (
            60,
            P::new("msg_redirect_map", &[Ctx, Map(&[mt::SOCKMAP]), A, A]),
        ),
        (61, P::new("msg_apply_bytes", &[Ctx, A])),
        (62, P::new("msg_cork_bytes", &[Ctx, A])),
        (63, P::new("msg_pull_data", &[Ctx, A, A, A]).reallocates()),
        (64, P::new("bind", &[Ctx, Mem, Size])),
        (65, P::new("xdp_adjust_tail", &[Ctx, A]).reallocates()),
        (66, P::new("skb_get_xfrm_state", &[Ctx, A, MemOut, Size, A])),
        (67, P::new("get_stack", &[Ctx, MemOut, SizeOrZero, A])),
        (
            68,
            P::new("skb_load_bytes_relative", &[Ctx, A, MemOut, Size, A]),
        ),
        (69, P::new("fib_lookup", &[Ctx, MemInOut, Size, A])),
        (
            70,
            P::new("sock_hash_update", &[Ctx, Map(&[mt::SOCKHASH]), MapKey, A]),
        ),
        (
            71,
            P::new("msg_redirect_hash", &[Ctx, Map(&[mt::SOCKHASH]), MapKey, A]),
        ),
        (
            72,
            P::new("sk_redirect_hash", &[Ctx, Map(&[mt::SOCKHASH]), MapKey, A]),
        ),
        (80, P::new("get_current_cgroup_id", &[])),
        (87, P::new("map_push_elem", &[Map(QUEUES), MapValue, A])),
        (88, P::new("map_pop_elem", &[Map(QUEUES), MapValueOut])),
        (89, P::new("map_peek_elem", &[Map(QUEUES), MapValueOut])),
        (112, P::new("probe_read_user", &[MemOut, SizeOrZero, A])),
        (113, P::new("probe_read_kernel", &[MemOut, SizeOrZero, A])),
        (114, P::new("probe_read_user_str", &[MemOut, SizeOrZero, A])),
        (
            115,
            P::new("probe_read_kernel_str", &[MemOut, SizeOrZero, A]),
        ),
        (118, P::new("jiffies64", &[])),
        (125, P::new("ktime_get_boot_ns", &[])),
        (
            130,
            P::new("ringbuf_output", &[Map(RING), Mem, SizeOrZero, A]),
        ),
        (
            131,
            P::new("ringbuf_reserve", &[Map(RING), A, A]).returns(Ret::RingbufOrNull),
        ),
        (132, P::new("ringbuf_submit", &[RingbufRecord, A])),
        (133, P::new("ringbuf_discard", &[RingbufRecord, A])),
        (134, P::new("ringbuf_query", &[Map(RING), A])),
        (160, P::new("ktime_get_coarse_ns", &[])),
        (
            164,
            P::new(
                "for_each_map_elem",
                &[Map(ANY_MAP), Callback, AnyPointer, A],
            )
            .with_callback(CallbackKind::ForEachMapElem),
        ),
        (
            165,
            P::new("snprintf", &[MemOut, Size, ConstStr, MemOrNull, SizeOrZero]),
        ),
        (
            177,
            P::new("trace_vprintk", &[Mem, Size, MemOrNull, SizeOrZero]),
        ),
        (
            181,
            P::new("loop", &[A, Callback, AnyPointer, A]).with_callback(CallbackKind::Loop),
        ),
        (182, P::new("strncmp", &[Mem, Size, ConstStr])),
        // Entries added for the helpers libbpf-tools and libbpf-bootstrap call (issue 14).
        // `bpf_get_ns_current_pid_tgid(dev, ino, struct bpf_pidns_info *, size)`.
        (
            120,
            P::new("get_ns_current_pid_tgid", &[A, A, MemOut, Size]),
        ),
        // `bpf_redirect_neigh(ifindex, params, plen, flags)`: a tc action code.
        (
            152,
            P::new("redirect_neigh", &[A, MemOrNull, SizeOrZero, A]),
        ),
        // The current task as a BTF pointer: a number that loads may go through (probe reads,
        // checked at run time), see `Ret::BtfPtr`.
        (
            158,
            P::new("get_current_task_btf", &[]).returns(Ret::BtfPtr),
        ),
        (173, P::new("get_func_ip", &[Ctx])),
        (174, P::new("get_attach_cookie", &[Ctx])),
        // TCP header options of `sock_ops` programs: `bpf_load_hdr_opt(skops, buf, len,
        // flags)` reads and writes `buf` (it holds the option kind to search for),
        // `bpf_store_hdr_opt(skops, from, len, flags)`, `bpf_reserve_hdr_opt(skops, len, flags)`.
        (142, P::new("load_hdr_opt", &[Ctx, MemInOut, Size, A])),
        (143, P::new("store_hdr_opt", &[Ctx, Mem, Size, A])),
        (144, P::new("reserve_hdr_opt", &[Ctx, A, A])),
        // Socket local storage: `bpf_sk_storage_get(map, sk, value, flags)` and
        // `bpf_sk_storage_delete(map, sk)`, the socket a BTF pointer (`Arg::BtfPtr`: a
        // `tp_btf`/`fentry` argument, `bpf_sock_ops.sk`).
        (
            107,
            P::new(
                "sk_storage_get",
                &[Map(&[mt::SK_STORAGE]), BtfPtr, MapValueOrNull, A],
            )
            .returns(Ret::MapValueOrNull),
        ),
        (
            108,
            P::new("sk_storage_delete", &[Map(&[mt::SK_STORAGE]), BtfPtr]),
        ),
        // `iter` programs write to their `seq_file` (a BTF pointer, `ctx->meta->seq`):
        // `bpf_seq_printf(seq, fmt, fmt_size, data, data_len)`, `bpf_seq_write(seq, data, len)`.
        (
            126,
            P::new("seq_printf", &[BtfPtr, Mem, Size, MemOrNull, SizeOrZero]),
        ),
        (127, P::new("seq_write", &[BtfPtr, Mem, SizeOrZero])),
        // `bpf_get_task_stack(task, buf, size, flags)`: the task a BTF pointer.
        (
            141,
            P::new("get_task_stack", &[BtfPtr, MemOut, SizeOrZero, A]),
        ),
        // `bpf_xdp_load_bytes(xdp_md, offset, buf, len)`.
        (189, P::new("xdp_load_bytes", &[Ctx, A, MemOut, Size])),
        // Helpers whose arguments are all numbers, the context, or memory with its size,
        // stated from their uapi descriptions (the catalogue's list, issue 12).
        (79, P::new("skb_cgroup_id", &[Ctx])),
        (83, P::new("skb_ancestor_cgroup_id", &[Ctx, A])),
        (97, P::new("skb_ecn_set_ce", &[Ctx])),
        (109, P::new("send_signal", &[A])),
        (117, P::new("send_signal_thread", &[A])),
        (123, P::new("get_current_ancestor_cgroup_id", &[A])),
        (135, P::new("csum_level", &[Ctx, A])),
        (151, P::new("skb_cgroup_classid", &[Ctx])),
        (155, P::new("redirect_peer", &[A, A])),
        (166, P::new("sys_bpf", &[A, Mem, Size])),
        (168, P::new("sys_close", &[A])),
        (176, P::new("get_branch_snapshot", &[MemOut, SizeOrZero, A])),
        (185, P::new("get_func_arg_cnt", &[Ctx])),
        (186, P::new("get_retval", &[])),
        (187, P::new("set_retval", &[A])),
        (188, P::new("xdp_get_buff_len", &[Ctx])),
        // `bpf_xdp_store_bytes(xdp_md, offset, buf, len)`: reads `buf`; the packet's bytes
        // change in place (its bounds do not move).
        (190, P::new("xdp_store_bytes", &[Ctx, A, Mem, Size])),
        (
            195,
            P::new("map_lookup_percpu_elem", &[Map(PERCPU_MAPS), MapKey, A])
                .returns(Ret::MapValueOrNull),
        ),
        (208, P::new("ktime_get_tai_ns", &[])),
    ]
}

/// Prototypes that differ in BTF-typed program types (`tp_btf`, `fentry`/`fexit`, `iter`,
/// `lsm`: Linux's `tracing_prog_func_proto`), where the helper takes a kernel object as a BTF
/// pointer instead of the context: `bpf_get_socket_cookie(struct sock *)`
/// (`bpf_get_socket_ptr_cookie_proto`).
#[must_use]
pub fn btf_typed_table() -> Vec<(u32, P)> {
    vec![(46, P::new("get_socket_cookie", &[BtfPtr]))]
}

/// The bpf_conformance helpers (uBPF numbering). They access memory through checked helper
/// contexts, so their pointer arguments only need to be pointers.
#[must_use]
pub fn conformance_table() -> Vec<(u32, P)> {
    let mut unwind = P::new("unwind", &[A]);
    unwind.stops_with = Some(0);
    vec![
        (0, P::new("gather_bytes", &[A, A, A, A, A])),
        (1, P::new("memfrob", &[MemInOut, SizeOrZero])),
        (2, P::new("no_op", &[])),
        (3, P::new("sqrti", &[A])),
        (4, P::new("strcmp_ext", &[Str, Str])),
        (5, unwind),
    ]
}

#[cfg(test)]
mod tests {
    /// Prototypes are keyed by the Linux catalogue's ids: each names the catalogue's helper.
    #[test]
    fn prototypes_name_the_catalogued_helper() {
        for (id, proto) in super::helper_table() {
            let helper = apiary_linux::helper(id).unwrap_or_else(|| panic!("{id} not catalogued"));
            assert_eq!(proto.name, helper.short_name(), "helper {id}");
        }
    }
}
