//! Which Linux helpers each program type may call (Linux's `*_func_proto` rules, by group):
//! every type gets the base helpers (maps, time, random numbers, tail calls, ring buffers,
//! `bpf_loop`, ...); tracing types get the `probe_*` and task helpers; `__sk_buff` types the
//! `skb_*` helpers; XDP the `xdp_*` helpers. Types without rules (`mem`, types named by the
//! embedder) may call every helper of the platform.

/// Helpers every program type may call.
const BASE: &[u32] = &[
    1, 2, 3, // map lookup / update / delete
    5, 6, 7, 8,  // ktime_get_ns, trace_printk, get_prandom_u32, get_smp_processor_id
    12, // tail_call
    42, // get_numa_node_id
    87, 88, 89, // queue / stack maps
    118, 125, 160, // jiffies64, ktime_get_boot_ns, ktime_get_coarse_ns
    130, 131, 132, 133, 134, // ring buffers
    164, 165, 177, 181, 182, // for_each_map_elem, snprintf, trace_vprintk, loop, strncmp
];

/// Tracing: kernel and user memory reads, the current task, stacks, perf events.
const TRACING: &[u32] = &[
    4, 14, 15, 16, 22, 25, 27, 35, 36, 37, 45, 55, 56, 58, 67, 80, 112, 113, 114, 115,
    // get_ns_current_pid_tgid, get_current_task_btf, get_task_stack (`bpf_tracing_func_proto`)
    120, 158, 141,
];

/// kprobes, tracepoints and perf events also get `get_attach_cookie` (174), and kprobes
/// `get_func_ip` (173).
const PROBE_EXTRA: &[u32] = &[173, 174];

/// BTF-typed tracing programs (`tracing_prog_func_proto`) also get `get_func_ip` (173),
/// `get_attach_cookie` (174), `get_socket_cookie` (46) of a socket given as a BTF pointer
/// (its prototype there: `linux::btf_typed_table`), socket local storage (107, 108) and the
/// `iter` programs' `seq_printf`/`seq_write` (126, 127).
const BTF_TRACING: &[u32] = &[173, 174, 46, 107, 108, 126, 127];

/// `__sk_buff` programs (socket filters, tc, cgroup skb). Socket filters get the tc set too:
/// section names do not tell them apart reliably (legacy tc samples use `filter`).
const SKB: &[u32] = &[
    9, 10, 11, 13, 17, 18, 19, 20, 21, 23, 24, 25, 26, 28, 29, 30, 31, 32, 33, 34, 38, 39, 40, 41,
    43, 46, 47, 48, 50, 66, 68, 69, 152,
];

/// XDP.
const XDP: &[u32] = &[23, 25, 28, 44, 51, 54, 65, 69, 189];

/// `sock_ops`.
const SOCK_OPS: &[u32] = &[25, 46, 49, 53, 57, 59, 70, 107, 108, 142, 143, 144];

/// `cgroup/sock`: the current task's ids.
const CGROUP_SOCK: &[u32] = &[14, 15, 16, 46, 80];

/// The helper groups of the program type named `ptype`, or `None` when it has no rules.
fn groups(ptype: &str) -> Option<&'static [&'static [u32]]> {
    Some(match ptype {
        "kprobe" | "tracepoint" | "perf_event" => &[BASE, TRACING, PROBE_EXTRA],
        "raw_tracepoint" => &[BASE, TRACING],
        "tracing" | "lsm" | "struct_ops" | "ext" => &[BASE, TRACING, BTF_TRACING],
        "socket_filter" | "sched_cls" | "cgroup_skb" | "unspec" | "sk_skb" | "lwt_in"
        | "lwt_out" | "lwt_xmit" | "lwt_seg6local" | "flow_dissector" => &[BASE, SKB],
        "sk_msg" | "cgroup_device" | "cgroup_sock_addr" | "lirc_mode2" | "sk_reuseport"
        | "cgroup_sysctl" | "cgroup_sockopt" | "sk_lookup" | "syscall" | "netfilter" => &[BASE],
        "xdp" => &[BASE, XDP],
        "sock_ops" => &[BASE, SOCK_OPS],
        "cgroup_sock" => &[BASE, CGROUP_SOCK],
        _ => return None,
    })
}

/// Whether a program of type `ptype` may call Linux helper `id`.
#[must_use]
pub fn allowed(ptype: &str, id: u32) -> bool {
    groups(ptype).is_none_or(|gs| gs.iter().any(|g| g.contains(&id)))
}
