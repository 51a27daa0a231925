//! `apiary_config`: how modules are loaded (verified or checked, budget, limits, kconfig
//! values, host helpers with their verifier prototypes).

use std::collections::BTreeSet;
use std::ffi::{c_char, c_void};
use std::sync::{Mutex, PoisonError};

use apiary_verifier::platform::{Arg, HelperProto, Ret};
use apiary_vm::{Access, HelperContext, HelperError, Limits};
use facade::Config;

use crate::error::{apiary_error, APIARY_ERROR_INVALID_ARGUMENT};
use crate::{arg, arg_mut, guard, guard_value, put, str_arg};

/// Loading options. Not thread-safe: configure it from one thread, then use it (read-only) to
/// load modules from any thread.
#[derive(Debug, Default)]
pub struct apiary_config {
    pub(crate) config: Config,
}

/// Limits on what an object may ask for, checked before anything is allocated (see
/// [`apiary_limits_default`] for the defaults).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct apiary_limits {
    /// Largest key of a hash-like map, bytes.
    pub max_key_size: u32,
    /// Largest value of a hash-like map, LPM trie, queue or stack, bytes.
    pub max_value_size: u32,
    /// Largest value of a per-CPU map, bytes.
    pub max_percpu_value_size: u32,
    /// Largest `max_entries` of a map (ring buffers excepted).
    pub max_entries: u32,
    /// Largest ring buffer, bytes.
    pub max_ringbuf_bytes: u32,
    /// Total map memory one object may reserve, bytes.
    pub max_map_memory: u64,
    /// Most maps in one object.
    pub max_maps: usize,
    /// Largest global data section (`.data`, `.rodata`, `.bss`), bytes.
    pub max_data_section: u64,
    /// Most programs in one object.
    pub max_programs: usize,
    /// Most instructions in one program.
    pub max_insns: usize,
}

impl From<Limits> for apiary_limits {
    fn from(l: Limits) -> Self {
        Self {
            max_key_size: l.max_key_size,
            max_value_size: l.max_value_size,
            max_percpu_value_size: l.max_percpu_value_size,
            max_entries: l.max_entries,
            max_ringbuf_bytes: l.max_ringbuf_bytes,
            max_map_memory: l.max_map_memory,
            max_maps: l.max_maps,
            max_data_section: l.max_data_section,
            max_programs: l.max_programs,
            max_insns: l.max_insns,
        }
    }
}

/// Helper argument kinds for [`apiary_helper_proto`] (the verifier's argument types).
/// Not passed.
pub const APIARY_ARG_NONE: u8 = 0;
/// Any number.
pub const APIARY_ARG_ANYTHING: u8 = 1;
/// A pointer to initialised memory the helper reads; its size is the next argument.
pub const APIARY_ARG_MEM: u8 = 2;
/// As `APIARY_ARG_MEM`, or NULL when the size is zero.
pub const APIARY_ARG_MEM_OR_NULL: u8 = 3;
/// A pointer to memory the helper writes; its size is the next argument.
pub const APIARY_ARG_MEM_OUT: u8 = 4;
/// A pointer to initialised memory the helper reads and writes; its size is the next argument.
pub const APIARY_ARG_MEM_IN_OUT: u8 = 5;
/// The size of the previous memory argument, `> 0`.
pub const APIARY_ARG_SIZE: u8 = 6;
/// The size of the previous memory argument, `>= 0`.
pub const APIARY_ARG_SIZE_OR_ZERO: u8 = 7;
/// The program's context pointer.
pub const APIARY_ARG_CTX: u8 = 8;

/// A host helper's prototype: what the verifier assumes of its arguments (r1–r5, the
/// `APIARY_ARG_*` kinds) and that it returns a number. Memory arguments are also checked at
/// run time against the run's memory before the helper is called, so the helper may
/// dereference them for the size given.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct apiary_helper_proto {
    /// r1–r5.
    pub args: [u8; 5],
}

/// A host helper: r1–r5 and the `user` pointer given at registration; returns r0.
pub type apiary_helper_fn =
    Option<unsafe extern "C" fn(u64, u64, u64, u64, u64, *mut c_void) -> u64>;

/// The `user` pointer of a helper, shared by every thread that runs programs.
#[derive(Clone, Copy)]
struct UserData(*mut c_void);
// SAFETY: the header makes the registering code promise that `user` may be used from any
// thread at once (the helper runs on the threads that run programs).
unsafe impl Send for UserData {}
// SAFETY: as above.
unsafe impl Sync for UserData {}

fn arg_kind(kind: u8, index: usize) -> Result<Arg, Box<apiary_error>> {
    Ok(match kind {
        APIARY_ARG_NONE => Arg::None,
        APIARY_ARG_ANYTHING => Arg::Anything,
        APIARY_ARG_MEM => Arg::Mem,
        APIARY_ARG_MEM_OR_NULL => Arg::MemOrNull,
        APIARY_ARG_MEM_OUT => Arg::MemOut,
        APIARY_ARG_MEM_IN_OUT => Arg::MemInOut,
        APIARY_ARG_SIZE => Arg::Size,
        APIARY_ARG_SIZE_OR_ZERO => Arg::SizeOrZero,
        APIARY_ARG_CTX => Arg::Ctx,
        other => {
            return Err(apiary_error::new(
                APIARY_ERROR_INVALID_ARGUMENT,
                format!(
                    "helper prototype: argument r{} has unknown kind {other}",
                    index + 1
                ),
            ))
        }
    })
}

/// The prototype's memory arguments must each be followed by a size: the run-time check
/// needs it.
fn check_proto(args: &[Arg; 5]) -> Result<(), Box<apiary_error>> {
    for (i, a) in args.iter().enumerate() {
        let is_mem = matches!(a, Arg::Mem | Arg::MemOrNull | Arg::MemOut | Arg::MemInOut);
        let next_is_size = matches!(args.get(i + 1), Some(Arg::Size | Arg::SizeOrZero));
        let is_size = matches!(a, Arg::Size | Arg::SizeOrZero);
        let prev_is_mem = i > 0
            && matches!(
                args[i - 1],
                Arg::Mem | Arg::MemOrNull | Arg::MemOut | Arg::MemInOut
            );
        if (is_mem && !next_is_size) || (is_size && !prev_is_mem) {
            return Err(apiary_error::new(
                APIARY_ERROR_INVALID_ARGUMENT,
                format!(
                    "helper prototype: r{} must pair a memory argument with the size after it",
                    i + 1
                ),
            ));
        }
    }
    Ok(())
}

/// Checks the prototype's memory arguments against the run's memory.
fn check_memory_args(
    ctx: &HelperContext<'_>,
    args: &[Arg; 5],
    values: [u64; 5],
) -> Result<(), HelperError> {
    for i in 0..4 {
        let (addr, len) = (values[i], values[i + 1]);
        let access: &[Access] = match args[i] {
            Arg::Mem => &[Access::Read],
            Arg::MemOrNull if len == 0 => &[],
            Arg::MemOrNull => &[Access::Read],
            Arg::MemOut => &[Access::Write],
            Arg::MemInOut => &[Access::Read, Access::Write],
            _ => &[],
        };
        for &a in access {
            ctx.check(addr, len, a)?;
        }
    }
    Ok(())
}

/// `name` with the `'static` lifetime the verifier's prototypes need: each distinct name is
/// allocated once per process and kept in a global set (so memory is bounded by the distinct
/// helper names registered, and stays reachable).
fn intern(name: &str) -> &'static str {
    static NAMES: Mutex<BTreeSet<&'static str>> = Mutex::new(BTreeSet::new());
    let mut names = NAMES.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(&known) = names.get(name) {
        return known;
    }
    let leaked: &'static str = Box::leak(name.to_owned().into_boxed_str());
    names.insert(leaked);
    leaked
}

/// A new configuration with the defaults of `apiary run`: verified mode, a budget of 10^8
/// instructions per run, the default limits, 8 stores per instance. Free it with
/// [`apiary_config_free`].
#[no_mangle]
pub extern "C" fn apiary_config_new() -> *mut apiary_config {
    guard_value(std::ptr::null_mut(), || Box::into_raw(Box::default()))
}

/// Frees a configuration (modules loaded with it keep their own copy). NULL is ignored.
///
/// # Safety
/// `config` is NULL or made by [`apiary_config_new`], freed once, not in use.
#[no_mangle]
pub unsafe extern "C" fn apiary_config_free(config: *mut apiary_config) {
    if !config.is_null() {
        // SAFETY: made by `Box::into_raw`, freed once by the caller's contract.
        guard_value((), || drop(unsafe { Box::from_raw(config) }));
    }
}

/// Verified mode (the default, `true`): programs are verified at load, a rejected program
/// cannot run, and proven accesses run without checks. `false`: checked mode, every access
/// checked at run time.
///
/// # Safety
/// `config` is NULL or a live configuration no other thread uses.
#[no_mangle]
pub unsafe extern "C" fn apiary_config_set_verified(
    config: *mut apiary_config,
    verified: bool,
) -> *mut apiary_error {
    guard(|| {
        // SAFETY: the caller's contract.
        unsafe { arg_mut(config, "config") }?.config.verified = verified;
        Ok(())
    })
}

/// Verified mode only: `true` asks, by name, for the *unsandboxed* variant, for programs the
/// embedder trusts (proven accesses then run unconfined at whatever address the program
/// computed). The default, `false`, keeps every program's memory in one reserved window per
/// instance and confines unchecked accesses to it, so a verifier bug cannot reach host memory.
///
/// # Safety
/// As [`apiary_config_set_verified`].
#[no_mangle]
pub unsafe extern "C" fn apiary_config_set_unsandboxed(
    config: *mut apiary_config,
    unsandboxed: bool,
) -> *mut apiary_error {
    guard(|| {
        // SAFETY: the caller's contract.
        unsafe { arg_mut(config, "config") }?.config.unsandboxed = unsandboxed;
        Ok(())
    })
}

/// Instruction budget per run; 0 turns metering off. A run that exceeds it ends with fault
/// `APIARY_FAULT_BUDGET_EXHAUSTED`.
///
/// # Safety
/// As [`apiary_config_set_verified`].
#[no_mangle]
pub unsafe extern "C" fn apiary_config_set_budget(
    config: *mut apiary_config,
    budget: u64,
) -> *mut apiary_error {
    guard(|| {
        // SAFETY: the caller's contract.
        unsafe { arg_mut(config, "config") }?.config.budget = (budget != 0).then_some(budget);
        Ok(())
    })
}

/// How many stores of one instance may exist at once when the module has packet programs
/// (each holds a packet buffer of the instance). At least 1.
///
/// # Safety
/// As [`apiary_config_set_verified`].
#[no_mangle]
pub unsafe extern "C" fn apiary_config_set_stores(
    config: *mut apiary_config,
    stores: usize,
) -> *mut apiary_error {
    guard(|| {
        if stores == 0 || stores > 4096 {
            return Err(apiary_error::new(
                APIARY_ERROR_INVALID_ARGUMENT,
                format!("stores must be 1..=4096, not {stores}"),
            ));
        }
        // SAFETY: the caller's contract.
        unsafe { arg_mut(config, "config") }?.config.stores = stores;
        Ok(())
    })
}

/// Sets the value of a `__kconfig` extern (`CONFIG_*` or `LINUX_*`), over the host's.
///
/// # Safety
/// As [`apiary_config_set_verified`]; `name` and `value` are NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn apiary_config_set_kconfig(
    config: *mut apiary_config,
    name: *const c_char,
    value: *const c_char,
) -> *mut apiary_error {
    guard(|| {
        // SAFETY: the caller's contract.
        let (config, name, value) = unsafe {
            (
                arg_mut(config, "config")?,
                str_arg(name, "name")?,
                str_arg(value, "value")?,
            )
        };
        config
            .config
            .kconfig
            .insert(name.to_owned(), value.to_owned());
        Ok(())
    })
}

/// Writes the default limits to `out`.
///
/// # Safety
/// `out` is NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn apiary_limits_default(out: *mut apiary_limits) -> *mut apiary_error {
    // SAFETY: the caller's contract.
    guard(|| unsafe { put(out, Limits::default().into(), "out") })
}

/// Sets the limits on what objects may ask for.
///
/// # Safety
/// As [`apiary_config_set_verified`]; `limits` is NULL or readable.
#[no_mangle]
pub unsafe extern "C" fn apiary_config_set_limits(
    config: *mut apiary_config,
    limits: *const apiary_limits,
) -> *mut apiary_error {
    guard(|| {
        // SAFETY: the caller's contract.
        let (config, l) = unsafe { (arg_mut(config, "config")?, *arg(limits, "limits")?) };
        config.config.maps.limits = Limits {
            max_key_size: l.max_key_size,
            max_value_size: l.max_value_size,
            max_percpu_value_size: l.max_percpu_value_size,
            max_entries: l.max_entries,
            max_ringbuf_bytes: l.max_ringbuf_bytes,
            max_map_memory: l.max_map_memory,
            max_maps: l.max_maps,
            max_data_section: l.max_data_section,
            max_programs: l.max_programs,
            max_insns: l.max_insns,
        };
        Ok(())
    })
}

/// Registers host helper `func` under `id` (an id no Linux helper has, e.g. from 10000 up,
/// in verified mode) with its `user` pointer. With a prototype (`proto` not NULL) the verifier
/// accepts calls to it in verified mode; without one, programs that call it can only run in
/// checked mode. Memory arguments of the prototype are checked against the run's memory
/// before every call (a failed check ends the run with `APIARY_FAULT_HELPER`).
///
/// The helper runs on whichever thread runs the program, possibly several at once: `func`
/// and `user` must be safe to use concurrently. It must not unwind (C++ exceptions) or
/// `longjmp` out. `name` is copied (and kept for the process's lifetime when a prototype is
/// given: the verifier's messages name it).
///
/// # Safety
/// As [`apiary_config_set_verified`]; `name` NUL-terminated; `proto` NULL or readable. With a
/// prototype, verified mode trusts `func` to read and write only the memory its arguments
/// describe, for the sizes given.
#[no_mangle]
pub unsafe extern "C" fn apiary_config_add_helper(
    config: *mut apiary_config,
    id: u32,
    name: *const c_char,
    func: apiary_helper_fn,
    user: *mut c_void,
    proto: *const apiary_helper_proto,
) -> *mut apiary_error {
    guard(|| {
        // SAFETY: the caller's contract.
        let (config, name) = unsafe { (arg_mut(config, "config")?, str_arg(name, "name")?) };
        let func = func.ok_or_else(|| crate::error::null_argument("func"))?;
        // SAFETY: the caller's contract.
        let proto = unsafe { proto.as_ref() };
        let args = match proto {
            Some(p) => {
                let mut args = [Arg::None; 5];
                for (i, &k) in p.args.iter().enumerate() {
                    args[i] = arg_kind(k, i)?;
                }
                check_proto(&args)?;
                args
            }
            None => [Arg::None; 5],
        };
        let user = UserData(user);
        let config = &mut config.config;
        let cfg = std::mem::take(config).with_helper(id, name, move |ctx, values| {
            check_memory_args(ctx, &args, values)?;
            let user = user;
            // SAFETY: `func` is the registered C helper; its memory arguments were checked
            // against the run's regions just above, and the registering code vouched for the
            // rest (the header's contract).
            Ok(unsafe {
                func(
                    values[0], values[1], values[2], values[3], values[4], user.0,
                )
            })
        });
        *config = match proto {
            Some(_) => {
                let proto = HelperProto {
                    name: intern(name),
                    args,
                    ret: Ret::Scalar,
                    reallocates_packet: false,
                    stops_with: None,
                    callback: None,
                };
                // SAFETY: the header's contract: with a prototype, the C helper reads and
                // writes only the memory its arguments describe; the memory arguments are
                // also checked at run time before each call.
                unsafe { cfg.with_helper_prototype(id, proto) }
            }
            None => cfg,
        };
        Ok(())
    })
}
