//! The C API of apiary (`apiary.h`, generated from this crate by cbindgen and committed).
//!
//! Handles are opaque pointers made by `*_new` / `*_from_*` functions and released by their
//! own `*_free` function. Every fallible function returns an `apiary_error *`: `NULL` on
//! success, otherwise an error the caller frees with [`apiary_error_free`]. A `NULL` handle or
//! pointer argument is an error (`APIARY_ERROR_NULL_ARGUMENT`), never a crash, and no Rust
//! panic crosses the boundary: every entry point catches it and returns
//! `APIARY_ERROR_PANIC`.
//!
//! Layers mirror the Rust facade ([`facade::Module`], [`facade::Instance`],
//! [`facade::Store`]): an `apiary_config` says how to load; an `apiary_module` is the object
//! parsed, decoded and verified once (immutable, shareable across threads); an
//! `apiary_instance` is the module on one engine with its maps (shareable across threads);
//! an `apiary_store` is one thread's execution state.

#![allow(
    non_camel_case_types,
    reason = "C names: the header is what users read, and C types are snake_case"
)]

mod config;
mod error;
mod maps;
mod module;
mod run;

pub use config::*;
pub use error::*;
pub use maps::*;
pub use module::*;
pub use run::*;

use std::ffi::{c_char, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Runs `body`, turning its error or panic into an `apiary_error *` (NULL on success).
fn guard(body: impl FnOnce() -> Result<(), Box<apiary_error>>) -> *mut apiary_error {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => std::ptr::null_mut(),
        Ok(Err(e)) => Box::into_raw(e),
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_owned());
            Box::into_raw(apiary_error::new(
                APIARY_ERROR_PANIC,
                format!("internal error (a bug in apiary): {what}"),
            ))
        }
    }
}

/// Runs `body` for a function that cannot report an error (getters, frees): a panic yields
/// `fallback`.
fn guard_value<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(fallback)
}

/// `ptr` as a shared reference, or a NULL-argument error naming `what`.
///
/// # Safety
/// `ptr` is NULL or points to a live `T` not mutated for `'a`.
unsafe fn arg<'a, T>(ptr: *const T, what: &str) -> Result<&'a T, Box<apiary_error>> {
    // SAFETY: the caller's contract.
    unsafe { ptr.as_ref() }.ok_or_else(|| null_argument(what))
}

/// `ptr` as an exclusive reference, or a NULL-argument error naming `what`.
///
/// # Safety
/// `ptr` is NULL or points to a live `T` nothing else uses for `'a`.
unsafe fn arg_mut<'a, T>(ptr: *mut T, what: &str) -> Result<&'a mut T, Box<apiary_error>> {
    // SAFETY: the caller's contract.
    unsafe { ptr.as_mut() }.ok_or_else(|| null_argument(what))
}

/// A NUL-terminated UTF-8 string argument.
///
/// # Safety
/// `ptr` is NULL or points to a NUL-terminated string readable for `'a`.
unsafe fn str_arg<'a>(ptr: *const c_char, what: &str) -> Result<&'a str, Box<apiary_error>> {
    if ptr.is_null() {
        return Err(null_argument(what));
    }
    // SAFETY: non-null, and NUL-terminated by the caller's contract.
    let s = unsafe { CStr::from_ptr(ptr) };
    s.to_str().map_err(|_| {
        apiary_error::new(
            APIARY_ERROR_INVALID_ARGUMENT,
            format!("{what} is not valid UTF-8"),
        )
    })
}

/// A byte buffer argument: `len` bytes at `ptr` (`ptr` may be NULL only when `len` is 0).
///
/// # Safety
/// `ptr` is NULL or points to `len` readable bytes that stay valid and unmodified for `'a`.
unsafe fn bytes_arg<'a>(
    ptr: *const u8,
    len: usize,
    what: &str,
) -> Result<&'a [u8], Box<apiary_error>> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(null_argument(what));
    }
    // SAFETY: non-null, `len` readable bytes by the caller's contract.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// Writes `value` through an out-pointer, or a NULL-argument error.
///
/// # Safety
/// `out` is NULL or valid for a write of `T`.
unsafe fn put<T>(out: *mut T, value: T, what: &str) -> Result<(), Box<apiary_error>> {
    if out.is_null() {
        return Err(null_argument(what));
    }
    // SAFETY: non-null and writable by the caller's contract.
    unsafe { out.write(value) };
    Ok(())
}

#[cfg(test)]
mod header_test;
