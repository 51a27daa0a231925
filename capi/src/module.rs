//! `apiary_module`: an object or raw program parsed, decoded and verified once.

use std::ffi::{c_char, CString};
use std::sync::Arc;

use facade::{Module, ObjectError, ProgramError, ProgramId, VerifyFailure};

use crate::config::apiary_config;
use crate::error::{apiary_error, APIARY_ERROR_INVALID_ARGUMENT, APIARY_ERROR_IO};
use crate::{arg, arg_mut, bytes_arg, guard, guard_value, put, str_arg};

/// A loaded module: immutable, shareable by every thread (all functions taking a
/// `const apiary_module *` may run concurrently). Free it with [`apiary_module_free`] once no
/// instance made from it is being created (instances keep what they need).
#[derive(Debug)]
pub struct apiary_module {
    pub(crate) module: Arc<Module>,
    /// Program names, NUL-terminated, by program id.
    names: Vec<CString>,
}

fn finish(module: Module, out: *mut *mut apiary_module) -> Result<(), Box<apiary_error>> {
    let names = module
        .programs()
        .map(|id| CString::new(module.name(id).unwrap_or_default()).unwrap_or_default())
        .collect();
    let handle = Box::new(apiary_module {
        module: Arc::new(module),
        names,
    });
    if out.is_null() {
        return Err(crate::error::null_argument("out"));
    }
    // SAFETY: `out` is non-null and writable by the caller's contract.
    unsafe { out.write(Box::into_raw(handle)) };
    Ok(())
}

/// Loads an ELF object from `len` bytes (copied). Programs that cannot be linked, decoded or
/// (in verified mode) verified do not fail the load: their error is returned when they are
/// run, and [`apiary_module_verify`] gives the diagnostic.
///
/// # Safety
/// `config` NULL or live; `bytes` NULL or `len` readable bytes; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn apiary_module_from_elf(
    config: *const apiary_config,
    bytes: *const u8,
    len: usize,
    out: *mut *mut apiary_module,
) -> *mut apiary_error {
    guard(|| {
        // SAFETY: the caller's contract.
        let (config, bytes) = unsafe { (arg(config, "config")?, bytes_arg(bytes, len, "bytes")?) };
        finish(Module::from_elf(&config.config, bytes)?, out)
    })
}

/// Loads an ELF object from a file.
///
/// # Safety
/// As [`apiary_module_from_elf`]; `path` NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn apiary_module_from_file(
    config: *const apiary_config,
    path: *const c_char,
    out: *mut *mut apiary_module,
) -> *mut apiary_error {
    guard(|| {
        // SAFETY: the caller's contract.
        let (config, path) = unsafe { (arg(config, "config")?, str_arg(path, "path")?) };
        let bytes = std::fs::read(path)
            .map_err(|e| apiary_error::new(APIARY_ERROR_IO, format!("{path}: {e}")))?;
        finish(Module::from_elf(&config.config, &bytes)?, out)
    })
}

/// A module of one raw program named `main`, given as little-endian 8-byte instruction slots
/// (`len` a multiple of 8). Its context is plain memory: r1 = the input, r2 = its length.
///
/// # Safety
/// As [`apiary_module_from_elf`].
#[no_mangle]
pub unsafe extern "C" fn apiary_module_from_bytecode(
    config: *const apiary_config,
    code: *const u8,
    len: usize,
    out: *mut *mut apiary_module,
) -> *mut apiary_error {
    guard(|| {
        // SAFETY: the caller's contract.
        let (config, code) = unsafe { (arg(config, "config")?, bytes_arg(code, len, "code")?) };
        let insns = facade::source::read_program(code, facade::source::Format::Raw)
            .map_err(|source| ObjectError::Source { source })?;
        finish(Module::from_insns(&config.config, "main", insns)?, out)
    })
}

/// A module of one program in apiary's assembly (the bpf_conformance syntax), named `main`.
///
/// # Safety
/// As [`apiary_module_from_elf`]; `text` NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn apiary_module_from_asm(
    config: *const apiary_config,
    text: *const c_char,
    out: *mut *mut apiary_module,
) -> *mut apiary_error {
    guard(|| {
        // SAFETY: the caller's contract.
        let (config, text) = unsafe { (arg(config, "config")?, str_arg(text, "text")?) };
        finish(Module::from_asm(&config.config, text)?, out)
    })
}

/// Frees a module. NULL is ignored. Instances made from it stay valid.
///
/// # Safety
/// `module` NULL or made by this library, freed once, not in use by another call.
#[no_mangle]
pub unsafe extern "C" fn apiary_module_free(module: *mut apiary_module) {
    if !module.is_null() {
        // SAFETY: made by `Box::into_raw`, freed once by the caller's contract.
        guard_value((), || drop(unsafe { Box::from_raw(module) }));
    }
}

/// Number of programs (their ids are 0 .. count-1). 0 for NULL.
///
/// # Safety
/// `module` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn apiary_module_program_count(module: *const apiary_module) -> u32 {
    guard_value(0, || {
        // SAFETY: the caller's contract.
        unsafe { module.as_ref() }.map_or(0, |m| m.names.len() as u32)
    })
}

/// The name of program `id` (owned by the module, valid until it is freed), or NULL.
///
/// # Safety
/// `module` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn apiary_module_program_name(
    module: *const apiary_module,
    id: u32,
) -> *const c_char {
    guard_value(std::ptr::null(), || {
        // SAFETY: the caller's contract.
        unsafe { module.as_ref() }
            .and_then(|m| m.names.get(id as usize))
            .map_or(std::ptr::null(), |n| n.as_ptr())
    })
}

/// Finds a program by its function name, `section/function` or section name.
///
/// # Safety
/// `module` NULL or live; `name` NUL-terminated; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn apiary_module_find_program(
    module: *const apiary_module,
    name: *const c_char,
    out: *mut u32,
) -> *mut apiary_error {
    guard(|| {
        // SAFETY: the caller's contract.
        let (module, name) = unsafe { (arg(module, "module")?, str_arg(name, "name")?) };
        let id = module.module.find(name)?;
        // SAFETY: the caller's contract.
        unsafe { put(out, id.0, "out") }
    })
}

/// Finds a map by name (the same id in every instance of the module).
///
/// # Safety
/// As [`apiary_module_find_program`].
#[no_mangle]
pub unsafe extern "C" fn apiary_module_find_map(
    module: *const apiary_module,
    name: *const c_char,
    out: *mut u32,
) -> *mut apiary_error {
    guard(|| {
        // SAFETY: the caller's contract.
        let (module, name) = unsafe { (arg(module, "module")?, str_arg(name, "name")?) };
        let id = module.module.map(name)?;
        // SAFETY: the caller's contract.
        unsafe { put(out, id.0, "out") }
    })
}

/// The verifier's verdict on one program. Strings are owned by the verdict: release them
/// with [`apiary_verdict_clear`].
#[repr(C)]
#[derive(Debug)]
pub struct apiary_verdict {
    /// Whether the verifier accepted the program.
    pub accepted: bool,
    /// Rejected by the verifier: the instruction slot where it stopped (else -1: the program
    /// could not be linked or decoded, see `message`).
    pub pc: i64,
    /// The rejected instruction's text, or NULL.
    pub instruction: *mut c_char,
    /// Why (the verifier's reason), or NULL when accepted.
    pub reason: *mut c_char,
    /// One line: where and why, with the abstract state; NULL when accepted.
    pub message: *mut c_char,
}

fn c_string(s: &str) -> *mut c_char {
    CString::new(s.replace('\0', "\\0"))
        .unwrap_or_default()
        .into_raw()
}

/// Verifies program `id` (once per module: in verified mode it was verified at load) and
/// fills `out`. A rejection is a verdict, not an error: the function returns NULL and
/// `out->accepted` is false. Errors: no such program.
///
/// # Safety
/// `module` NULL or live; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn apiary_module_verify(
    module: *const apiary_module,
    id: u32,
    out: *mut apiary_verdict,
) -> *mut apiary_error {
    guard(|| {
        // SAFETY: the caller's contract.
        let module = unsafe { arg(module, "module")? };
        if out.is_null() {
            return Err(crate::error::null_argument("out"));
        }
        let verdict = match module.module.verify(ProgramId(id)) {
            Ok(_) => apiary_verdict {
                accepted: true,
                pc: -1,
                instruction: std::ptr::null_mut(),
                reason: std::ptr::null_mut(),
                message: std::ptr::null_mut(),
            },
            Err(ObjectError::Program { program, source }) => {
                let (pc, instruction, reason) = match &source {
                    ProgramError::Rejected { failure } => match failure.as_ref() {
                        VerifyFailure::Rejected { rejection } => (
                            rejection.pc as i64,
                            c_string(&rejection.instruction),
                            c_string(&rejection.reason.to_string()),
                        ),
                        other => (-1, std::ptr::null_mut(), c_string(&other.to_string())),
                    },
                    other => (-1, std::ptr::null_mut(), c_string(&other.to_string())),
                };
                apiary_verdict {
                    accepted: false,
                    pc,
                    instruction,
                    reason,
                    message: c_string(&format!("{program}: {source}")),
                }
            }
            Err(e) => return Err(e.into()),
        };
        // SAFETY: non-null and writable by the caller's contract.
        unsafe { out.write(verdict) };
        Ok(())
    })
}

/// Frees a verdict's strings and sets them to NULL (the struct itself is the caller's).
///
/// # Safety
/// `verdict` NULL or filled by [`apiary_module_verify`] (or already cleared).
#[no_mangle]
pub unsafe extern "C" fn apiary_verdict_clear(verdict: *mut apiary_verdict) -> *mut apiary_error {
    guard(|| {
        // SAFETY: the caller's contract.
        let v = unsafe { arg_mut(verdict, "verdict")? };
        for s in [&mut v.instruction, &mut v.reason, &mut v.message] {
            if !s.is_null() {
                // SAFETY: made by `CString::into_raw` in `c_string`, freed once (set to NULL).
                drop(unsafe { CString::from_raw(*s) });
                *s = std::ptr::null_mut();
            }
        }
        Ok(())
    })
}

/// Checks a program id against the module (for functions that take one).
pub(crate) fn program_id(module: &Module, id: u32) -> Result<ProgramId, Box<apiary_error>> {
    if (id as usize) < module.len() {
        Ok(ProgramId(id))
    } else {
        Err(apiary_error::new(
            APIARY_ERROR_INVALID_ARGUMENT,
            format!("no program {id}: the module has {}", module.len()),
        ))
    }
}
