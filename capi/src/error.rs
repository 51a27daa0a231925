//! `apiary_error`: one error type for every function, with a stable code and a message.

use std::ffi::{c_char, CString};

use facade::ObjectError;

/// Success (never the code of an `apiary_error`; functions return NULL instead).
pub const APIARY_OK: u32 = 0;
/// A required pointer or handle argument was NULL.
pub const APIARY_ERROR_NULL_ARGUMENT: u32 = 200;
/// An argument is out of range, or a string is not UTF-8.
pub const APIARY_ERROR_INVALID_ARGUMENT: u32 = 201;
/// A file could not be read.
pub const APIARY_ERROR_IO: u32 = 202;
/// A caller's buffer is smaller than the data (the required size is in the message and, where
/// the function has one, its size out-parameter).
pub const APIARY_ERROR_BUFFER_TOO_SMALL: u32 = 203;
/// apiary panicked (a bug); the handle involved is still safe to free.
pub const APIARY_ERROR_PANIC: u32 = 204;
/// A program was rejected by the verifier (also the code of `APIARY_ERROR_PROGRAM_*` below).
pub const APIARY_ERROR_REJECTED: u32 = 104;

/// An error: a code (the `APIARY_ERROR_*` constants, or the facade's
/// `ObjectError::code`: 1 = ELF, 2 = source, 3 = map, 5 = no such program, 7 = no such map,
/// 9 = map operation, 10 = wrong map kind, 11 = wrong size, 100–105 = a program that cannot
/// run: link, load, bind, prepare, rejected, context too small) and a message. Free it with
/// [`apiary_error_free`].
#[derive(Debug)]
pub struct apiary_error {
    code: u32,
    message: CString,
}

impl apiary_error {
    /// A boxed error (interior NULs in `message` are replaced).
    pub(crate) fn new(code: u32, message: impl Into<String>) -> Box<Self> {
        let message = message.into().replace('\0', "\\0");
        Box::new(Self {
            code,
            message: CString::new(message).unwrap_or_default(),
        })
    }
}

impl From<ObjectError> for Box<apiary_error> {
    fn from(e: ObjectError) -> Self {
        apiary_error::new(e.code(), e.to_string())
    }
}

/// A NULL-argument error naming the argument.
pub(crate) fn null_argument(what: &str) -> Box<apiary_error> {
    apiary_error::new(APIARY_ERROR_NULL_ARGUMENT, format!("{what} is NULL"))
}

/// The error's code (0 for a NULL error).
///
/// # Safety
/// `error` is NULL or an error returned by this library and not yet freed.
#[no_mangle]
pub unsafe extern "C" fn apiary_error_code(error: *const apiary_error) -> u32 {
    crate::guard_value(APIARY_OK, || {
        // SAFETY: the caller's contract.
        unsafe { error.as_ref() }.map_or(APIARY_OK, |e| e.code)
    })
}

/// The error's message, NUL-terminated UTF-8, owned by the error (valid until
/// [`apiary_error_free`]). `""` for a NULL error.
///
/// # Safety
/// `error` is NULL or an error returned by this library and not yet freed.
#[no_mangle]
pub unsafe extern "C" fn apiary_error_message(error: *const apiary_error) -> *const c_char {
    crate::guard_value(c"".as_ptr(), || {
        // SAFETY: the caller's contract.
        unsafe { error.as_ref() }.map_or(c"".as_ptr(), |e| e.message.as_ptr())
    })
}

/// Frees an error. NULL is ignored.
///
/// # Safety
/// `error` is NULL or an error returned by this library, freed once.
#[no_mangle]
pub unsafe extern "C" fn apiary_error_free(error: *mut apiary_error) {
    if !error.is_null() {
        // SAFETY: made by `Box::into_raw` in `guard`, freed once by the caller's contract.
        crate::guard_value((), || drop(unsafe { Box::from_raw(error) }));
    }
}
