//! [`KernelEngine`]: the running Linux kernel as an engine, through `BPF_PROG_LOAD` and
//! `BPF_PROG_TEST_RUN` (CONFORMANCE.md §3.4, §3.6).
//!
//! The test program is loaded as `BPF_PROG_TYPE_XDP`, as a bpf-to-bpf subprogram of a small
//! main program that stores its full 64-bit r0 into a 1-element ARRAY map:
//!
//! ```text
//!  0: call +5                 (src 1: the subprogram at 6)
//!  1: lddw r1, map_value      (src 2: BPF_PSEUDO_MAP_VALUE of the shared map, offset 0)
//!  3: stxdw [r1+0], r0
//!  4: mov r0, 2               (XDP_PASS: the packet is copied back)
//!  5: exit
//!  6: prologue (apiary's ABI), then the program's own slots, unchanged
//! ```
//!
//! The prologue turns the XDP context into apiary's ABI: r1 = packet start, r2 = input length N
//! as a constant, after proving `data + N <= data_end` so that the verifier lets the program
//! access `[r1, r1 + N)`; and r0, r3–r9 = 0 as in apiary's engines (so reading a register before
//! writing it means the same everywhere). With no input, r1 = r2 = 0. The packet is the input
//! zero-padded to 14 bytes (XDP's minimum); afterwards its first N bytes are copied back.
//!
//! Because r2 is a verified constant, a program is loaded once per input length (cached).
//! The kernel counts no instructions: outcomes carry `instructions: None`.

use std::collections::HashMap;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use apiary_vm::fault::Unsupported;
use apiary_vm::{ExecState, Executable, Fault, Insn, Outcome, Program};

use super::sys::{self, KernelMap, MapSpec, ProgSpec};
use super::KernelError;

/// XDP's minimum packet (ETH_HLEN).
pub const MIN_PACKET: usize = 14;
/// Largest input the oracle runs: a linear XDP test packet is one page less headroom (256)
/// and `skb_shared_info` (320).
pub const MAX_INPUT: usize = 3500;
/// Verifier log size when a load fails.
pub const LOG_SIZE: usize = 64 * 1024;
/// Slots of the main program before the subprogram.
const MAIN_SLOTS: i32 = 6;
/// The licence programs are loaded under: not GPL-compatible, so GPL-only helpers are refused.
const LICENSE: &std::ffi::CStr = c"MIT";

/// What every kernel run shares: the result map (created once per process) and the lock that
/// keeps one run's store and read of it together.
#[derive(Debug)]
pub struct Oracle {
    map: KernelMap,
    lock: Mutex<()>,
}

static ORACLE: OnceLock<Result<Oracle, KernelError>> = OnceLock::new();

/// The process's oracle: created on first use by making the map and loading and running a
/// trivial XDP program. Later calls return the same answer.
///
/// # Errors
/// [`KernelError::Unavailable`] when this process may not load or run BPF programs (not root,
/// no `CAP_BPF`, seccomp, a kernel without `bpf(2)`), or another error if the probe failed.
pub fn oracle() -> Result<&'static Oracle, KernelError> {
    ORACLE.get_or_init(probe).as_ref().map_err(Clone::clone)
}

/// Whether the kernel oracle can be used in this process (probed once).
#[must_use]
pub fn available() -> bool {
    oracle().is_ok()
}

fn unavailable(what: &str, e: &std::io::Error) -> KernelError {
    KernelError::Unavailable {
        reason: format!("{what}: {e}"),
    }
}

fn probe() -> Result<Oracle, KernelError> {
    let map = KernelMap::create(&MapSpec {
        map_type: sys::MAP_TYPE_ARRAY,
        key_size: 4,
        value_size: 8,
        max_entries: 1,
        flags: 0,
        name: "apiary_r0",
    })
    .map_err(|e| unavailable("cannot create a BPF map", &e))?;
    let oracle = Oracle {
        map,
        lock: Mutex::new(()),
    };
    let trivial = [Insn::new(0xb7, 0, 0, 0, 2), Insn::new(0x95, 0, 0, 0, 0)];
    let prog = sys::prog_load(&xdp(&trivial, "apiary_probe"), 0)
        .map_err(|f| unavailable("cannot load an XDP program", &f.error))?;
    let mut out = [0u8; MIN_PACKET];
    let run = sys::prog_test_run(&prog, &[0u8; MIN_PACKET], &mut out)
        .map_err(|e| unavailable("cannot test-run an XDP program", &e))?;
    if run.retval != 2 {
        return Err(KernelError::Unavailable {
            reason: format!("the probe program returned {} instead of 2", run.retval),
        });
    }
    Ok(oracle)
}

/// An XDP program to load under [`LICENSE`].
fn xdp<'a>(insns: &'a [Insn], name: &'a str) -> ProgSpec<'a> {
    ProgSpec {
        prog_type: sys::PROG_TYPE_XDP,
        expected_attach_type: sys::ATTACH_XDP,
        insns,
        license: LICENSE,
        name,
    }
}

/// The prologue for an input of `len` bytes (see the module documentation).
fn prologue(len: usize) -> Vec<Insn> {
    let mov = |dst, imm| Insn::new(0xb7, dst, 0, 0, imm);
    let mut p = Vec::with_capacity(16);
    if len == 0 {
        p.push(mov(1, 0));
        p.push(mov(2, 0));
    } else {
        let n = len as i32;
        p.extend([
            Insn::new(0x61, 2, 1, 4, 0), // ldxw r2, [r1+4]   data_end
            Insn::new(0x61, 1, 1, 0, 0), // ldxw r1, [r1+0]   data
            Insn::new(0xbf, 3, 1, 0, 0), // mov r3, r1
            Insn::new(0x07, 3, 0, 0, n), // add r3, N
            Insn::new(0xbd, 3, 2, 2, 0), // jle r3, r2, +2
            mov(0, -1),                  // (packet shorter than N: cannot happen)
            Insn::new(0x95, 0, 0, 0, 0), // exit
            mov(2, n),                   // r2 = N
        ]);
    }
    for r in [0, 3, 4, 5, 6, 7, 8, 9] {
        p.push(mov(r, 0));
    }
    p
}

/// The whole program loaded for an input of `len` bytes: main, prologue, `body`.
#[must_use]
pub fn wrap(body: &[Insn], len: usize, map_fd: i32) -> Vec<Insn> {
    let mut insns = vec![
        Insn::new(0x85, 0, 1, 0, MAIN_SLOTS - 1),
        Insn::new(0x18, 1, 2, 0, map_fd),
        Insn::new(0x00, 0, 0, 0, 0),
        Insn::new(0x7b, 1, 0, 0, 0),
        Insn::new(0xb7, 0, 0, 0, 2),
        Insn::new(0x95, 0, 0, 0, 0),
    ];
    insns.extend(prologue(len));
    insns.extend_from_slice(body);
    insns
}

/// A program prepared for the kernel (see the module documentation).
#[derive(Debug)]
pub struct KernelEngine {
    program: Arc<Program>,
    oracle: &'static Oracle,
    /// Loaded programs by input length.
    loaded: Mutex<HashMap<usize, Arc<OwnedFd>>>,
}

impl KernelEngine {
    /// Prepares `program`; with `input_len`, loads it for that input length now, so that a
    /// verifier rejection is reported here. Without it, loading waits for the first run.
    ///
    /// # Errors
    /// [`KernelError::Unavailable`], [`KernelError::Rejected`] (with the verifier log),
    /// [`KernelError::InputTooLarge`], or a failed syscall.
    pub fn new(program: Arc<Program>, input_len: Option<usize>) -> Result<Self, KernelError> {
        let engine = Self {
            program,
            oracle: oracle()?,
            loaded: Mutex::new(HashMap::new()),
        };
        if let Some(len) = input_len {
            engine.load_for(len)?;
        }
        Ok(engine)
    }

    /// The program loaded for inputs of `len` bytes (loaded on first use).
    ///
    /// # Errors
    /// As [`KernelEngine::new`].
    pub fn load_for(&self, len: usize) -> Result<Arc<OwnedFd>, KernelError> {
        if len > MAX_INPUT {
            return Err(KernelError::InputTooLarge {
                len,
                max: MAX_INPUT,
            });
        }
        let mut loaded = self.loaded.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(fd) = loaded.get(&len) {
            return Ok(Arc::clone(fd));
        }
        let insns = wrap(self.program.insns(), len, self.oracle.map.as_raw_fd());
        let fd = sys::prog_load(&xdp(&insns, "apiary_oracle"), LOG_SIZE).map_err(|f| {
            match f.error.raw_os_error() {
                Some(libc::EPERM) => unavailable("BPF_PROG_LOAD", &f.error),
                errno => KernelError::Rejected {
                    errno: errno.unwrap_or(0),
                    log: f.log,
                },
            }
        })?;
        let fd = Arc::new(fd);
        loaded.insert(len, Arc::clone(&fd));
        Ok(fd)
    }

    /// Runs the program on `input` (loading it for this length if needed).
    ///
    /// # Errors
    /// A load or syscall failure.
    pub fn try_run(&self, input: &mut [u8]) -> Result<u64, KernelError> {
        let fd = self.load_for(input.len())?;
        let size = input.len().max(MIN_PACKET);
        let mut packet = vec![0u8; size];
        packet[..input.len()].copy_from_slice(input);
        let mut out = vec![0u8; size];
        let mut value = [0u8; 8];
        {
            let _guard = self
                .oracle
                .lock
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            sys::prog_test_run(&fd, &packet, &mut out).map_err(|e| KernelError::Syscall {
                op: "BPF_PROG_TEST_RUN",
                message: e.to_string(),
            })?;
            self.oracle
                .map
                .lookup(&0u32.to_le_bytes(), &mut value)
                .map_err(|e| KernelError::Syscall {
                    op: "BPF_MAP_LOOKUP_ELEM",
                    message: e.to_string(),
                })?;
        }
        input.copy_from_slice(&out[..input.len()]);
        Ok(u64::from_le_bytes(value))
    }
}

impl Executable for KernelEngine {
    fn engine_name(&self) -> &'static str {
        "kernel"
    }

    fn program(&self) -> &Program {
        &self.program
    }

    /// Runs once in the kernel. `state` is not used (the kernel has its own stack).
    ///
    /// `vm::Fault` has no variant for "the kernel refused the program": when a run needs a load
    /// for a new input length and that load fails (prepare with the input length to get the
    /// refusal as a [`KernelError`] instead), the failure is printed to standard error and
    /// reported as [`Fault::Unsupported`] at pc 0.
    fn run(&self, _state: &mut ExecState, input: &mut [u8]) -> Outcome {
        match self.try_run(input) {
            Ok(r0) => Outcome {
                result: Ok(r0),
                instructions: None,
            },
            Err(e) => {
                eprintln!("kernel: {e}");
                Outcome {
                    result: Err(Fault::Unsupported {
                        pc: 0,
                        what: Unsupported::LddwPseudo { src: 0, imm: 0 },
                    }),
                    instructions: None,
                }
            }
        }
    }
}
