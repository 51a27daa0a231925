//! What the running kernel supports, asked of the kernel itself: kernels differ from host to
//! host (version, configuration, which helpers each program type may call), so a comparison
//! test asks before it compares, and counts a case the kernel cannot run as skipped with the
//! reason, never as a failure. A kernel that runs a case and disagrees is still a failure.
//!
//! The probes follow libbpf's (`libbpf_probe_bpf_prog_type`, `libbpf_probe_bpf_helper`):
//!
//! - a program type is supported when `r0 = 0; exit` of that type loads;
//! - a helper is allowed for a type when `call N; exit` of that type either loads or is refused
//!   for another reason than the helper itself. The verifier checks that a helper exists
//!   (`invalid func unknown#N`) and that the type may call it (`unknown func bpf_x#N` on older
//!   kernels, `program of this type cannot use helper bpf_x#N` on newer ones) before it checks
//!   the arguments, so a rejection naming the arguments (`R1 type=ctx expected=fp`) means the
//!   helper IS allowed;
//! - `BPF_PROG_TEST_RUN` works for a type when the trivial program runs on a 64-byte packet;
//! - a map type is supported when a small map of it can be created.
//!
//! Before any of that, [`usable`] tells whether this process may use `bpf(2)` at all (root or
//! `CAP_BPF`): when it may not, every answer is [`ProbeError::Unavailable`], which tests treat
//! as a failure under `APIARY_REQUIRE_KERNEL=1` and as a notice otherwise. The other answers
//! are [`ProbeError::Unsupported`]: a property of this kernel, a skip everywhere.
//!
//! Answers are cached for the process (the kernel does not change under a test run), so a
//! suite can ask per case.

use std::collections::HashMap;
use std::ffi::CStr;
use std::sync::{Mutex, OnceLock, PoisonError};

use apiary_vm::linux_helpers::helper_name;
use apiary_vm::Insn;
use thiserror::Error;

use super::sys::{self, KernelMap, MapSpec, ProgSpec};

/// `BPF_PROG_TYPE_SOCKET_FILTER`: the oldest program type, the one [`usable`] loads.
pub const PROG_TYPE_SOCKET_FILTER: u32 = 1;
/// `BPF_PROG_TYPE_SCHED_CLS` (tc).
pub const PROG_TYPE_SCHED_CLS: u32 = 3;
/// `BPF_PROG_TYPE_XDP`.
pub const PROG_TYPE_XDP: u32 = 6;

/// Program types the probes cannot load without a BTF attach target (libbpf refuses to probe
/// them too): tracing, extension, LSM and struct_ops.
const NEEDS_BTF_TARGET: [u32; 4] = [26, 28, 29, 27];

/// Log size for probe loads: the verifier's reason is in the first lines.
const PROBE_LOG: usize = 4096;

/// Why the kernel cannot run something.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum ProbeError {
    /// This process cannot use `bpf(2)` at all (not root, no `CAP_BPF`, seccomp, no syscall).
    #[error("kernel unavailable: {0}")]
    Unavailable(String),
    /// The kernel works but does not support this (a program type, a helper for a type, test
    /// runs of a type, a map type).
    #[error("{0}")]
    Unsupported(String),
}

impl ProbeError {
    /// Whether this is [`ProbeError::Unsupported`] (a skip on every host).
    #[must_use]
    pub fn is_unsupported(&self) -> bool {
        matches!(self, Self::Unsupported(_))
    }
}

/// One question to the kernel (the cache key).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Question {
    ProgType(u32),
    Helper(u32, u32),
    TestRun(u32),
    MapType(u32),
}

type Cache = Mutex<HashMap<Question, Result<(), ProbeError>>>;

static USABLE: OnceLock<Result<(), ProbeError>> = OnceLock::new();
static CACHE: OnceLock<Cache> = OnceLock::new();

/// The name of program type `t` for messages (its number where not known here).
#[must_use]
pub fn prog_type_name(t: u32) -> String {
    let name = match t {
        1 => "socket_filter",
        2 => "kprobe",
        3 => "sched_cls",
        4 => "sched_act",
        5 => "tracepoint",
        6 => "xdp",
        7 => "perf_event",
        8 => "cgroup_skb",
        9 => "cgroup_sock",
        10 => "lwt_in",
        11 => "lwt_out",
        12 => "lwt_xmit",
        13 => "sock_ops",
        14 => "sk_skb",
        15 => "cgroup_device",
        16 => "sk_msg",
        17 => "raw_tracepoint",
        18 => "cgroup_sock_addr",
        21 => "flow_dissector",
        26 => "tracing",
        27 => "struct_ops",
        28 => "ext",
        29 => "lsm",
        30 => "sk_lookup",
        31 => "syscall",
        _ => return format!("program type {t}"),
    };
    name.to_owned()
}

/// `name#id` of helper `id`, as the verifier names it.
fn helper_label(id: u32) -> String {
    format!("{}#{id}", helper_name(id).unwrap_or("unknown"))
}

/// The expected attach type a probe load of `prog_type` needs (libbpf's choices), 0 for none.
fn attach_type_for(prog_type: u32) -> u32 {
    match prog_type {
        18 => 10, // cgroup_sock_addr: BPF_CGROUP_INET4_CONNECT
        30 => 36, // sk_lookup: BPF_SK_LOOKUP
        6 => sys::ATTACH_XDP,
        _ => 0,
    }
}

/// Loads `insns` as a probe program of `prog_type` (GPL, so GPL-only helpers are not refused
/// for the licence).
fn load(prog_type: u32, insns: &[Insn]) -> Result<std::os::fd::OwnedFd, sys::LoadFailure> {
    const GPL: &CStr = c"GPL";
    sys::prog_load(
        &ProgSpec {
            prog_type,
            expected_attach_type: attach_type_for(prog_type),
            insns,
            license: GPL,
            name: "apiary_probe",
        },
        PROBE_LOG,
    )
}

const TRIVIAL: [Insn; 2] = [Insn::new(0xb7, 0, 0, 0, 0), Insn::new(0x95, 0, 0, 0, 0)];

/// Whether this process can use `bpf(2)` at all: a trivial socket filter loads (probed once).
///
/// # Errors
/// [`ProbeError::Unavailable`] with the errno.
pub fn usable() -> Result<(), ProbeError> {
    USABLE
        .get_or_init(|| {
            load(PROG_TYPE_SOCKET_FILTER, &TRIVIAL)
                .map(drop)
                .map_err(|f| {
                    ProbeError::Unavailable(format!(
                        "cannot load a trivial socket filter: {}",
                        f.error
                    ))
                })
        })
        .clone()
}

/// The cached answer to `q`, computed with `ask` the first time (after [`usable`]).
fn cached(q: Question, ask: impl FnOnce() -> Result<(), ProbeError>) -> Result<(), ProbeError> {
    usable()?;
    let cache = CACHE.get_or_init(Cache::default);
    if let Some(answer) = cache.lock().unwrap_or_else(PoisonError::into_inner).get(&q) {
        return answer.clone();
    }
    // Asked outside the lock: probes are independent, and a duplicate probe is harmless.
    let answer = ask();
    cache
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(q, answer.clone());
    answer
}

/// Whether the kernel supports program type `prog_type`.
///
/// # Errors
/// [`ProbeError::Unsupported`] when a trivial program of the type does not load;
/// [`ProbeError::Unavailable`] when `bpf(2)` cannot be used.
pub fn prog_type(prog_type: u32) -> Result<(), ProbeError> {
    cached(Question::ProgType(prog_type), || {
        if NEEDS_BTF_TARGET.contains(&prog_type) {
            return Err(ProbeError::Unsupported(format!(
                "{} programs need a BTF attach target; not probed",
                prog_type_name(prog_type)
            )));
        }
        load(prog_type, &TRIVIAL).map(drop).map_err(|f| {
            ProbeError::Unsupported(format!(
                "kernel refuses {} programs: {}",
                prog_type_name(prog_type),
                f.error
            ))
        })
    })
}

/// Whether a verifier log says the helper itself is refused (unknown to this kernel, or not
/// allowed for the program type), as opposed to its arguments.
#[must_use]
pub fn log_refuses_helper(log: &str) -> bool {
    ["invalid func ", "unknown func ", "cannot use helper "]
        .iter()
        .any(|m| log.contains(m))
}

/// Whether programs of type `prog_type` may call helper `id` on this kernel.
///
/// # Errors
/// [`ProbeError::Unsupported`] when the type is not supported or the verifier refuses the
/// helper itself; [`ProbeError::Unavailable`] when `bpf(2)` cannot be used.
pub fn helper(prog_type: u32, id: u32) -> Result<(), ProbeError> {
    self::prog_type(prog_type)?;
    cached(Question::Helper(prog_type, id), || {
        let insns = [
            Insn::new(0x85, 0, 0, 0, id as i32),
            Insn::new(0x95, 0, 0, 0, 0),
        ];
        match load(prog_type, &insns) {
            Ok(_) => Ok(()),
            Err(f) if log_refuses_helper(&f.log) => Err(ProbeError::Unsupported(format!(
                "kernel refuses helper {} for {}",
                helper_label(id),
                prog_type_name(prog_type)
            ))),
            // An empty log with an error: the load failed before the verifier ran (e.g.
            // ENOMEM); assume supported, as libbpf does, and let the real load tell.
            Err(_) => Ok(()),
        }
    })
}

/// Whether `BPF_PROG_TEST_RUN` works for programs of type `prog_type`.
///
/// # Errors
/// [`ProbeError::Unsupported`] when the type is not supported or a trivial program of it
/// cannot be test-run; [`ProbeError::Unavailable`] when `bpf(2)` cannot be used.
pub fn test_run(prog_type: u32) -> Result<(), ProbeError> {
    self::prog_type(prog_type)?;
    cached(Question::TestRun(prog_type), || {
        let prog = load(prog_type, &TRIVIAL).map_err(|f| {
            ProbeError::Unsupported(format!(
                "kernel refuses {} programs: {}",
                prog_type_name(prog_type),
                f.error
            ))
        })?;
        // An Ethernet-sized packet is enough for every type that takes one.
        let packet = [0u8; 64];
        let mut out = [0u8; 64 + 256];
        sys::prog_test_run(&prog, &packet, &mut out)
            .map(drop)
            .map_err(|e| {
                ProbeError::Unsupported(format!(
                    "kernel cannot test-run {} programs: {e}",
                    prog_type_name(prog_type)
                ))
            })
    })
}

/// Whether the kernel supports map type `map_type` (a small map of it is created; sizes as
/// libbpf's probe picks them for the types apiary knows).
///
/// # Errors
/// [`ProbeError::Unsupported`] when the map cannot be created; [`ProbeError::Unavailable`]
/// when `bpf(2)` cannot be used.
pub fn map_type(map_type: u32) -> Result<(), ProbeError> {
    cached(Question::MapType(map_type), || {
        // SAFETY: sysconf has no memory-safety preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(4096) as u32;
        let (key_size, value_size, max_entries, flags) = match map_type {
            7 => (4, 8, 1, 0),       // stack_trace
            11 => (8, 8, 1, 1),      // lpm_trie (BPF_F_NO_PREALLOC)
            22 | 23 => (0, 4, 1, 0), // queue, stack
            27 => (0, 0, page, 0),   // ringbuf
            31 => (0, 0, page, 0),   // user_ringbuf
            _ => (4, 4, 1, 0),
        };
        KernelMap::create(&MapSpec {
            map_type,
            key_size,
            value_size,
            max_entries,
            flags,
            name: "apiary_probe",
        })
        .map(drop)
        .map_err(|e| ProbeError::Unsupported(format!("kernel refuses map type {map_type}: {e}")))
    })
}

/// Everything a case needs: its program type, test runs of it, and every helper it calls.
///
/// # Errors
/// The first [`ProbeError`] among them.
pub fn case(prog_type: u32, helpers: &[u32]) -> Result<(), ProbeError> {
    test_run(prog_type)?;
    helpers.iter().try_for_each(|&id| helper(prog_type, id))
}

/// What the kernel oracle ([`super::KernelEngine`]) needs: XDP programs and test runs of them,
/// and array maps (its result map). Where this holds and the oracle still cannot start, that is
/// a failure of the oracle, not of the host.
///
/// # Errors
/// The first [`ProbeError`] among them.
pub fn oracle_needs() -> Result<(), ProbeError> {
    test_run(PROG_TYPE_XDP)?;
    map_type(sys::MAP_TYPE_ARRAY)
}

/// The helper ids `insns` calls (`call` with src 0), sorted and without repeats.
#[must_use]
pub fn helpers_called(insns: &[Insn]) -> Vec<u32> {
    let mut ids: Vec<u32> = insns
        .iter()
        .filter(|i| i.op == 0x85 && i.src == 0)
        .map(|i| i.imm as u32)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `f` where the kernel is usable; elsewhere checks that unavailability is reported as
    /// such (and fails under `APIARY_REQUIRE_KERNEL=1`).
    fn with_kernel(f: impl FnOnce()) {
        match usable() {
            Ok(()) => f(),
            Err(e) => {
                assert!(!super::super::required(), "{e}");
                assert!(!e.is_unsupported(), "{e}");
                assert_eq!(prog_type(PROG_TYPE_XDP), Err(e));
            }
        }
    }

    #[test]
    fn xdp_may_look_up_maps() {
        with_kernel(|| {
            assert_eq!(prog_type(PROG_TYPE_XDP), Ok(()));
            assert_eq!(test_run(PROG_TYPE_XDP), Ok(()));
            // map_lookup_elem with a context pointer as the map: refused for its arguments,
            // which means the helper is allowed.
            assert_eq!(helper(PROG_TYPE_XDP, 1), Ok(()));
            assert_eq!(case(PROG_TYPE_SCHED_CLS, &[1, 26]), Ok(()));
        });
    }

    #[test]
    fn bogus_helper_and_type_are_refused() {
        with_kernel(|| {
            let e = helper(PROG_TYPE_XDP, 100_000);
            assert!(e.as_ref().is_err_and(ProbeError::is_unsupported), "{e:?}");
            let e = e.err().map(|e| e.to_string()).unwrap_or_default();
            assert!(e.contains("unknown#100000") && e.contains("xdp"), "{e}");
            // Socket filters may not redirect packets (a tc/XDP helper).
            assert!(helper(PROG_TYPE_SOCKET_FILTER, 23).is_err());
            assert!(prog_type(10_000).is_err_and(|e| e.is_unsupported()));
            // Cached: the same answer again.
            assert!(helper(PROG_TYPE_XDP, 100_000).is_err());
        });
    }

    #[test]
    fn array_maps_exist() {
        with_kernel(|| {
            assert_eq!(map_type(sys::MAP_TYPE_ARRAY), Ok(()));
            assert!(map_type(100_000).is_err_and(|e| e.is_unsupported()));
        });
    }

    #[test]
    fn helper_refusals_are_told_from_argument_errors() {
        assert!(log_refuses_helper(
            "0: (85) call unknown#100000\ninvalid func unknown#100000"
        ));
        assert!(log_refuses_helper("unknown func bpf_sys_bpf#166"));
        assert!(log_refuses_helper(
            "program of this type cannot use helper bpf_xdp_adjust_meta#54"
        ));
        assert!(!log_refuses_helper("R1 type=ctx expected=fp"));
        let calls = [
            Insn::new(0x85, 0, 0, 0, 54),
            Insn::new(0x85, 0, 1, 0, 3),
            Insn::new(0x85, 0, 0, 0, 1),
            Insn::new(0x85, 0, 0, 0, 54),
        ];
        assert_eq!(helpers_called(&calls), vec![1, 54]);
    }
}
