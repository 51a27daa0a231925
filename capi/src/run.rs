//! `apiary_instance` and `apiary_store`: a module on one engine, and one thread's runs.

use facade::{EngineKind, Fault, Instance, Store};

use crate::error::{apiary_error, APIARY_ERROR_BUFFER_TOO_SMALL, APIARY_ERROR_INVALID_ARGUMENT};
use crate::module::{apiary_module, program_id};
use crate::{arg, arg_mut, bytes_arg, guard, guard_value, put};

/// The interpreter.
pub const APIARY_ENGINE_INTERP: u32 = 0;
/// The JIT for this machine (x86-64 or arm64).
pub const APIARY_ENGINE_JIT: u32 = 1;

/// A module's maps, helpers and programs prepared for one engine. Thread-safe: any number of
/// threads may call [`apiary_run`] (each with its own store) and the map functions on one
/// instance at once. Free it with [`apiary_instance_free`] after every store of it.
#[derive(Debug)]
pub struct apiary_instance {
    pub(crate) instance: Instance,
}

/// One thread's execution state for runs on one instance. Use it from one thread at a time
/// (it may move between threads); free it with [`apiary_store_free`].
#[derive(Debug)]
pub struct apiary_store {
    store: Store,
}

/// Fault kinds of [`apiary_run_result`]. The run returned normally.
pub const APIARY_FAULT_NONE: u32 = 0;
/// A load, store or atomic outside the memory the program may access.
pub const APIARY_FAULT_OUT_OF_BOUNDS: u32 = 1;
/// An atomic on a misaligned address.
pub const APIARY_FAULT_MISALIGNED_ATOMIC: u32 = 2;
/// The instruction budget ran out.
pub const APIARY_FAULT_BUDGET_EXHAUSTED: u32 = 3;
/// Too many nested local calls.
pub const APIARY_FAULT_CALL_DEPTH: u32 = 4;
/// A call to a helper id nothing implements.
pub const APIARY_FAULT_UNKNOWN_HELPER: u32 = 5;
/// A helper failed (for host helpers: a memory argument outside the run's memory).
pub const APIARY_FAULT_HELPER: u32 = 6;
/// Anything else (an input of the wrong length for a program verified for one, an
/// instruction without meaning here).
pub const APIARY_FAULT_OTHER: u32 = 7;

/// The result of one run.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct apiary_run_result {
    /// `APIARY_FAULT_NONE` when the program returned, else the fault's kind.
    pub fault: u32,
    /// r0 (when it returned).
    pub r0: u64,
    /// The faulting instruction's slot.
    pub fault_pc: u64,
    /// The faulting address (out-of-bounds and misaligned accesses), else 0.
    pub fault_addr: u64,
    /// Whether `instructions` is known (metering on: a budget was set).
    pub counted: bool,
    /// Instructions executed, tail calls included.
    pub instructions: u64,
    /// Bytes of output data: the packet after the run (XDP, tc, socket programs), the context
    /// (structures) or the input memory (raw programs); copied up to the caller's capacity.
    pub data_len: usize,
}

fn fault_fields(fault: &Fault) -> (u32, u64) {
    match *fault {
        Fault::OutOfBounds { addr, .. } => (APIARY_FAULT_OUT_OF_BOUNDS, addr),
        Fault::MisalignedAtomic { addr, .. } => (APIARY_FAULT_MISALIGNED_ATOMIC, addr),
        Fault::BudgetExhausted { .. } => (APIARY_FAULT_BUDGET_EXHAUSTED, 0),
        Fault::CallDepthExceeded { .. } => (APIARY_FAULT_CALL_DEPTH, 0),
        Fault::UnknownHelper { .. } => (APIARY_FAULT_UNKNOWN_HELPER, 0),
        Fault::Helper { .. } | Fault::HelperPanicked { .. } => (APIARY_FAULT_HELPER, 0),
        _ => (APIARY_FAULT_OTHER, 0),
    }
}

/// Creates the module's maps and prepares every program for `engine`
/// (`APIARY_ENGINE_INTERP` or `APIARY_ENGINE_JIT`). A program that cannot run does not fail
/// this: running it returns its error.
///
/// # Safety
/// `module` NULL or live; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn apiary_instance_new(
    module: *const apiary_module,
    engine: u32,
    out: *mut *mut apiary_instance,
) -> *mut apiary_error {
    guard(|| {
        // SAFETY: the caller's contract.
        let module = unsafe { arg(module, "module")? };
        let engine = match engine {
            APIARY_ENGINE_INTERP => EngineKind::Interp,
            APIARY_ENGINE_JIT => EngineKind::Jit,
            other => {
                return Err(apiary_error::new(
                    APIARY_ERROR_INVALID_ARGUMENT,
                    format!("unknown engine {other} (0 = interpreter, 1 = JIT)"),
                ))
            }
        };
        let instance = Instance::new(std::sync::Arc::clone(&module.module), engine)?;
        let handle = Box::into_raw(Box::new(apiary_instance { instance }));
        // SAFETY: the caller's contract.
        unsafe { put(out, handle, "out") }.inspect_err(|_| {
            // SAFETY: just made by `Box::into_raw`, never shared.
            drop(unsafe { Box::from_raw(handle) });
        })
    })
}

/// Frees an instance. NULL is ignored.
///
/// # Safety
/// `instance` NULL or live, freed once, no call on it in progress; its stores freed first.
#[no_mangle]
pub unsafe extern "C" fn apiary_instance_free(instance: *mut apiary_instance) {
    if !instance.is_null() {
        // SAFETY: made by `Box::into_raw`, freed once by the caller's contract.
        guard_value((), || drop(unsafe { Box::from_raw(instance) }));
    }
}

/// A store for runs on `instance`, running as worker slot `slot` (the "CPU" of per-CPU maps
/// and `bpf_get_smp_processor_id`). Fails when the module has packet programs and every
/// packet buffer of the instance is held by another store (see
/// `apiary_config_set_stores`).
///
/// # Safety
/// `instance` NULL or live; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn apiary_store_new(
    instance: *const apiary_instance,
    slot: u32,
    out: *mut *mut apiary_store,
) -> *mut apiary_error {
    guard(|| {
        // SAFETY: the caller's contract.
        let instance = unsafe { arg(instance, "instance")? };
        let store = Store::with_slot(&instance.instance, slot)?;
        let handle = Box::into_raw(Box::new(apiary_store { store }));
        // SAFETY: the caller's contract.
        unsafe { put(out, handle, "out") }.inspect_err(|_| {
            // SAFETY: just made by `Box::into_raw`, never shared.
            drop(unsafe { Box::from_raw(handle) });
        })
    })
}

/// Frees a store. NULL is ignored.
///
/// # Safety
/// `store` NULL or live, freed once, not in use.
#[no_mangle]
pub unsafe extern "C" fn apiary_store_free(store: *mut apiary_store) {
    if !store.is_null() {
        // SAFETY: made by `Box::into_raw`, freed once by the caller's contract.
        guard_value((), || drop(unsafe { Box::from_raw(store) }));
    }
}

/// Runs program `program` on `input` (`len` bytes, copied: the packet for XDP/tc/socket
/// programs, the context structure for kprobe/tracepoint-like programs, the memory for raw
/// programs) with `store`'s state, following tail calls. Fills `result`; copies up to
/// `out_cap` bytes of output data to `out` (NULL when `out_cap` is 0) — `result->data_len`
/// is the full length. A fault of the program is a result, not an error.
///
/// Thread safety: concurrent calls on one instance are fine with distinct stores.
///
/// # Safety
/// `instance` NULL or live; `store` NULL or a live store of that instance used by no other
/// thread; `input` NULL or `len` readable bytes; `out` NULL or `out_cap` writable bytes;
/// `result` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn apiary_run(
    instance: *const apiary_instance,
    store: *mut apiary_store,
    program: u32,
    input: *const u8,
    len: usize,
    out: *mut u8,
    out_cap: usize,
    result: *mut apiary_run_result,
) -> *mut apiary_error {
    guard(|| {
        // SAFETY: the caller's contract.
        let (instance, store, input) = unsafe {
            (
                arg(instance, "instance")?,
                arg_mut(store, "store")?,
                bytes_arg(input, len, "input")?,
            )
        };
        if result.is_null() {
            return Err(crate::error::null_argument("result"));
        }
        if out.is_null() && out_cap != 0 {
            return Err(crate::error::null_argument("out"));
        }
        let id = program_id(instance.instance.module(), program)?;
        let output = instance.instance.run(&mut store.store, id, input)?;
        let mut r = apiary_run_result {
            counted: output.outcome.instructions.is_some(),
            instructions: output.outcome.instructions.unwrap_or(0),
            data_len: output.data.len(),
            ..apiary_run_result::default()
        };
        match &output.outcome.result {
            Ok(r0) => r.r0 = *r0,
            Err(fault) => {
                (r.fault, r.fault_addr) = fault_fields(fault);
                r.fault_pc = fault.pc() as u64;
            }
        }
        let n = output.data.len().min(out_cap);
        if n > 0 {
            // SAFETY: `out` is non-null with `out_cap >= n` writable bytes (caller's
            // contract), and cannot overlap the freshly allocated `output.data`.
            unsafe { std::ptr::copy_nonoverlapping(output.data.as_ptr(), out, n) };
        }
        // SAFETY: non-null and writable by the caller's contract.
        unsafe { result.write(r) };
        Ok(())
    })
}

/// Writes `data` to `out` (capacity `cap`) and its length to `len_out`; a buffer-too-small
/// error when it does not fit.
///
/// # Safety
/// `out` NULL or `cap` writable bytes; `len_out` NULL or writable.
pub(crate) unsafe fn copy_out(
    data: &[u8],
    out: *mut u8,
    cap: usize,
    len_out: *mut usize,
) -> Result<(), Box<apiary_error>> {
    if !len_out.is_null() {
        // SAFETY: the caller's contract.
        unsafe { len_out.write(data.len()) };
    }
    if data.len() > cap {
        return Err(apiary_error::new(
            APIARY_ERROR_BUFFER_TOO_SMALL,
            format!("{} bytes do not fit in a buffer of {cap}", data.len()),
        ));
    }
    if !data.is_empty() {
        if out.is_null() {
            return Err(crate::error::null_argument("out"));
        }
        // SAFETY: `out` has `cap >= data.len()` writable bytes by the caller's contract.
        unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), out, data.len()) };
    }
    Ok(())
}
